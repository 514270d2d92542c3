import CGSL
import Foundation

/// The link of a binomial model: pᵢ = F(ηᵢ) for the linear predictor ηᵢ,
/// with F the inverse link (a distribution function).
///
/// The logit has the Pólya–Gamma augmentation (Polson, Scott & Windle
/// 2013) and the probit Albert & Chib's (1993) truncated-normal one, both
/// sampled by `PolyaGammaGibbs` (`PolyaGammaGibbs.Augmentation`); any link,
/// cloglog included, is sampled by `MetropolisWithinGibbs` on the exact
/// likelihood.
public enum Link: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// F(η) = 1/(1 + e^(−η)), the logistic distribution function.
    case logit
    /// F(η) = Φ(η), the standard normal distribution function.
    case probit
    /// F(η) = 1 − exp(−e^η), the complementary log-log link (the Gumbel
    /// distribution of the minimum).
    case cloglog

    public var description: String { rawValue }

    /// The binomial log-likelihood of one cell up to its binomial
    /// coefficient: ℓ(η) = y log F(η) + (n − y) log(1 − F(η)), with a term
    /// whose count is zero left out (so a cell with y = 0 or y = n is finite
    /// for every finite η). Each form is stable for every finite η:
    ///
    /// - logit: log F = −softplus(−η), log(1 − F) = −softplus(η), with
    ///   softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)) (each
    ///   term in relative precision, unlike yη − n·softplus(η), which
    ///   cancels when F(η) is near 1);
    /// - probit: log(1 − Φ(η)) = log Φ(−η), and log Φ as `logNormalCDF`;
    /// - cloglog: with m = e^η, log(1 − F) = −m and log F = log(−expm1(−m))
    ///   for F ≤ ½ (m ≤ log 2), log1p(−e^(−m)) above (relative precision as
    ///   F → 1), and below η = −30 η − m/2 (the series of
    ///   log((1 − e^(−m))/m) to within m²/24 < 10⁻²⁷, and no underflow of
    ///   m). Above η ≈ 709 e^η overflows: a cell with a failure then has
    ///   ℓ = −∞, which a Metropolis step rejects.
    @inline(__always)
    public func logLikelihood(successes y: Double, trials n: Double, linearPredictor eta: Double) -> Double {
        switch self {
        case .logit:
            // softplus(±η) = max(±η, 0) + log1p(e^(−|η|)): one exp, one log1p.
            let shared = log1p(exp(-abs(eta)))
            return -y * (max(-eta, 0) + shared) - (n - y) * (max(eta, 0) + shared)
        case .probit:
            var sum = 0.0
            if y > 0 { sum += y * Link.logNormalCDF(eta) }
            if n > y { sum += (n - y) * Link.logNormalCDF(-eta) }
            return sum
        case .cloglog:
            let m = exp(eta)
            var sum = 0.0
            if y > 0 {
                sum += y * (eta < -30 ? eta - 0.5 * m : m > M_LN2 ? log1p(-exp(-m)) : log(-expm1(-m)))
            }
            if n > y { sum -= (n - y) * m }
            return sum
        }
    }

    /// The inverse link, the success probability F(η):
    ///
    /// - logit: 1/(1 + e^(−η)), as e^η/(1 + e^η) for η < 0 (no overflow of
    ///   e^(−η));
    /// - probit: Φ(η) = erfc(−η/√2)/2 (the C library's erfc, exact at 0 and
    ///   ±∞), in relative precision in the lower tail;
    /// - cloglog: 1 − exp(−e^η) = −expm1(−e^η), in relative precision for
    ///   small e^η.
    public func probability(_ eta: Double) -> Double {
        switch self {
        case .logit:
            // 1/(1 + e^−η) for η ≥ 0 and e^η/(1 + e^η) below, as one
            // division by 1 + e^−|η| (no branch on η's sign for the
            // processor to mispredict).
            let e = exp(-abs(eta))
            return (eta >= 0 ? 1 : e) / (1 + e)
        case .probit:
            return 0.5 * erfc(-eta * 0.7071067811865476)
        case .cloglog:
            return -expm1(-exp(eta))
        }
    }

    /// The link itself, F⁻¹(p), for 0 < p < 1: logit log(p/(1 − p)),
    /// probit Φ⁻¹(p) (GSL), cloglog log(−log(1 − p)).
    public func linearPredictor(probability p: Double) -> Double {
        switch self {
        case .logit: return log(p / (1 - p))
        case .probit: return gsl_cdf_ugaussian_Pinv(p)
        case .cloglog: return log(-log1p(-p))
        }
    }

    /// The slope of the inverse link, F′(η): logit F(1 − F), probit φ(η),
    /// cloglog exp(η − e^η).
    public func slope(_ eta: Double) -> Double {
        switch self {
        case .logit:
            let p = probability(eta)
            return p * (1 - p)
        case .probit: return exp(-eta * eta / 2) / (2 * Double.pi).squareRoot()
        case .cloglog: return exp(eta - exp(eta))
        }
    }

    /// Fisher information per trial at p = ½, f(F⁻¹(½))²/(½·½) with f = F′:
    /// logit ¼, probit 2/π, cloglog (½ log 2)²·4 = (log 2)². Starting
    /// proposal scales use it as the curvature of a cell's log-likelihood.
    public var unitInformation: Double {
        switch self {
        case .logit: return 0.25
        case .probit: return 2 / Double.pi
        case .cloglog: return M_LN2 * M_LN2
        }
    }

    /// softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)), in relative
    /// precision for every finite x.
    @inline(__always)
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }

    /// log Φ(x): for x < 0 as log(erfc(−x/√2)/2) through GSL's
    /// `gsl_sf_log_erfc`, exact far into the lower tail (where Φ(x) ~
    /// φ(x)/|x| underflows); for x ≥ 0 as log1p(−erfc(x/√2)/2), which keeps
    /// the relative precision of log Φ(x) ≈ −Φ(−x) in the upper tail.
    @inline(__always)
    static func logNormalCDF(_ x: Double) -> Double {
        x < 0 ? gsl_sf_log_erfc(-x * 0.7071067811865476) - M_LN2 : log1p(-0.5 * gsl_sf_erfc(x * 0.7071067811865476))
    }
}
