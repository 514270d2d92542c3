import Foundation

/// The first derivative of a cell's log-likelihood and its Fisher
/// information, for Gaussian approximations of conditionals (the
/// `MetropolisWithinGibbs` kernel's joint (σ, u) step).
extension Link {
    /// ℓ′(η) = f(η)·(y/F(η) − (n − y)/(1 − F(η))), f = F′, and the Fisher
    /// information n·f(η)²/(F(η)(1 − F(η))), together (they share the
    /// costly parts):
    ///
    /// - logit: y − nF and nF(1 − F);
    /// - probit: with the inverse Mills ratios λ₊ = φ(η)/Φ(η) and
    ///   λ₋ = φ(η)/Φ(−η), each as exp(log φ − log Φ) (finite in both
    ///   tails), y·λ₊ − (n − y)·λ₋ and n·λ₊λ₋;
    /// - cloglog, m = e^η and r = m/(eᵐ − 1) (as m·e^(−m)/(1 − e^(−m))
    ///   above m = 1): y·r − (n − y)·m and n·m·r; η is capped at 700, where
    ///   eᵐ would overflow.
    @inline(__always)
    public func scoreAndInformation(successes y: Double, trials n: Double,
                                    linearPredictor eta: Double) -> (score: Double, information: Double) {
        switch self {
        case .logit:
            let p = 1 / (1 + exp(-eta))
            return (y - n * p, n * p * (1 - p))
        case .probit:
            let logDensity = -0.5 * eta * eta - 0.9189385332046728    // log φ(η)
            let upper = exp(logDensity - Link.logNormalCDF(eta))
            let lower = exp(logDensity - Link.logNormalCDF(-eta))
            return (y * upper - (n - y) * lower, n * upper * lower)
        case .cloglog:
            let m = exp(min(eta, 700))
            let r = m > 1 ? m * exp(-m) / -expm1(-m) : (m > 0 ? m / expm1(m) : 1)
            return (y * r - (n - y) * m, n * m * r)
        }
    }

    /// The log-likelihood with its score and information, sharing the
    /// costly parts: for the logit one exp and one log1p, from
    /// e = exp(−|η|): softplus(±η) = max(±η, 0) + log1p(e), and
    /// F(η) = 1/(1 + e) for η ≥ 0, e/(1 + e) below.
    @inline(__always)
    public func logLikelihoodScoreAndInformation(successes y: Double, trials n: Double, linearPredictor eta: Double)
        -> (logLikelihood: Double, score: Double, information: Double) {
        switch self {
        case .logit:
            let e = exp(-abs(eta))
            let shared = log1p(e)
            let p = eta >= 0 ? 1 / (1 + e) : e / (1 + e)
            return (-y * (max(-eta, 0) + shared) - (n - y) * (max(eta, 0) + shared), y - n * p, n * p * (1 - p))
        case .probit, .cloglog:
            let (g, h) = scoreAndInformation(successes: y, trials: n, linearPredictor: eta)
            return (logLikelihood(successes: y, trials: n, linearPredictor: eta), g, h)
        }
    }
}
