import Foundation

/// The first derivative of a cell's log-likelihood and its Fisher
/// information, for Gaussian approximations of conditionals (the
/// `MetropolisWithinGibbs` kernel's partially non-centred σ step).
extension Link {
    /// ℓ′(η) = f(η)·(y/F(η) − (n − y)/(1 − F(η))), f = F′:
    ///
    /// - logit: y − nF;
    /// - probit: y·φ(η)/Φ(η) − (n − y)·φ(η)/Φ(−η), each ratio (the inverse
    ///   Mills ratio) as exp(log φ − log Φ), finite in both tails;
    /// - cloglog, m = e^η: y·m/(eᵐ − 1) − (n − y)·m, with m/(eᵐ − 1) as
    ///   m·e^(−m)/(1 − e^(−m)) above m = 1; η is capped at 700 (where
    ///   eᵐ would overflow), which only a proposal's centre could reach.
    @inline(__always)
    public func score(successes y: Double, trials n: Double, linearPredictor eta: Double) -> Double {
        switch self {
        case .logit:
            return y - n / (1 + exp(-eta))
        case .probit:
            let logDensity = -0.5 * eta * eta - 0.9189385332046728
            var sum = 0.0
            if y > 0 { sum += y * exp(logDensity - Link.logNormalCDF(eta)) }
            if n > y { sum -= (n - y) * exp(logDensity - Link.logNormalCDF(-eta)) }
            return sum
        case .cloglog:
            let m = exp(min(eta, 700))
            return y * Link.ratioOverExpm1(m) - (n - y) * m
        }
    }

    /// The Fisher information of a cell, n·f(η)²/(F(η)(1 − F(η))):
    ///
    /// - logit: nF(1 − F);
    /// - probit: n·exp(2 log φ(η) − log Φ(η) − log Φ(−η));
    /// - cloglog, m = e^η: n·m²/(eᵐ − 1).
    @inline(__always)
    public func information(trials n: Double, linearPredictor eta: Double) -> Double {
        switch self {
        case .logit:
            let p = 1 / (1 + exp(-eta))
            return n * p * (1 - p)
        case .probit:
            let logDensity = -0.5 * eta * eta - 0.9189385332046728
            return n * exp(2 * logDensity - Link.logNormalCDF(eta) - Link.logNormalCDF(-eta))
        case .cloglog:
            let m = exp(min(eta, 700))
            return n * m * Link.ratioOverExpm1(m)
        }
    }

    /// m/(eᵐ − 1) for m > 0, without overflow: m·e^(−m)/(1 − e^(−m)) above 1.
    @inline(__always)
    static func ratioOverExpm1(_ m: Double) -> Double {
        m > 1 ? m * exp(-m) / -expm1(-m) : (m > 0 ? m / expm1(m) : 1)
    }
}
