import Foundation

/// A prior on a standard deviation σ > 0 of a random-effect term.
///
/// The default is half-t(3, 0, 2.5) (brms's default for group-level SDs; weakly
/// informative on the logit scale: half its mass below 1.9, 95% below 7.9).
public enum ScalePrior: Sendable, Equatable, CustomStringConvertible {
    /// Half-Student-t on σ with `degrees` ν and `scale` A: density ∝
    /// (1 + σ²/(νA²))^(−(ν+1)/2). Conjugate through Wand et al.'s (2011)
    /// mixture: σ² | a ~ IG(ν/2, ν/a), a ~ IG(1/2, 1/A²).
    case halfT(degrees: Double, scale: Double)
    /// Half-Cauchy on σ (half-t with ν = 1), Gelman (2006).
    case halfCauchy(scale: Double)
    /// Half-normal on σ with standard deviation `scale`.
    case halfNormal(scale: Double)
    /// Inverse-gamma on the variance σ²: density ∝ (σ²)^(−shape−1) e^(−scale/σ²).
    case inverseGamma(shape: Double, scale: Double)
    /// Uniform on σ ∈ (lower, upper), 0 ≤ lower < upper.
    case uniform(lower: Double, upper: Double)
    /// Exponential on σ with `rate` (rstanarm's default for a single SD).
    case exponential(rate: Double)
    /// Log-normal on σ: log σ ~ N(`mu`, `sigma`²).
    case lognormal(mu: Double, sigma: Double)

    public static let standard = ScalePrior.halfT(degrees: 3, scale: 2.5)

    /// Uniform on σ ∈ (0, upper).
    public static func uniform(upper: Double) -> ScalePrior { .uniform(lower: 0, upper: upper) }

    /// The interval outside which the density is 0: (0, ∞) but for a
    /// uniform prior's (lower, upper).
    public var support: (lower: Double, upper: Double) {
        if case let .uniform(lower, upper) = self { return (lower, upper) }
        return (0, .infinity)
    }

    /// `s` moved inside the support when it is not strictly within it: to
    /// the nearer end pulled in by 1% of the width of the support (a
    /// starting value must have a finite log density for a slice step to
    /// move from it).
    public func clamped(_ s: Double) -> Double {
        let (lower, upper) = support
        guard upper.isFinite else { return s > 0 ? s : Double.leastNormalMagnitude }
        let margin = 0.01 * (upper - lower)
        return min(max(s, lower + margin), upper - margin)
    }

    /// log p(σ) up to a constant (−∞ outside the support).
    public func logDensity(standardDeviation s: Double) -> Double {
        guard s > 0 else { return -.infinity }
        switch self {
        case let .halfT(nu, a): return -(nu + 1) / 2 * log1p(s * s / (nu * a * a))
        case let .halfCauchy(a): return -log1p(s * s / (a * a))
        case let .halfNormal(a): return -s * s / (2 * a * a)
        case let .inverseGamma(shape, scale):
            // Density of σ from that of σ² (Jacobian 2σ).
            return -(shape + 1) * log(s * s) - scale / (s * s) + log(s)
        case let .uniform(lower, upper): return s > lower && s < upper ? 0 : -.infinity
        case let .exponential(rate): return -rate * s
        case let .lognormal(mu, sigma):
            let z = (log(s) - mu) / sigma
            return -log(s) - z * z / 2
        }
    }

    /// In the syntax `--prior` accepts, e.g. "half_t(3, 0, 2.5)".
    public var description: String {
        func f(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
        switch self {
        case let .halfT(nu, a): return "half_t(\(f(nu)), 0, \(f(a)))"
        case let .halfCauchy(a): return "half_cauchy(0, \(f(a)))"
        case let .halfNormal(a): return "half_normal(0, \(f(a)))"
        case let .inverseGamma(shape, scale): return "inv_gamma(\(f(shape)), \(f(scale)))"
        case let .uniform(lower, upper): return "uniform(\(f(lower)), \(f(upper)))"
        case let .exponential(rate): return "exponential(\(f(rate)))"
        case let .lognormal(mu, sigma): return "lognormal(\(f(mu)), \(f(sigma)))"
        }
    }
}

/// Huang & Wand's (2013, Bayesian Analysis 8:439–452) prior on the q × q
/// covariance Σ of a random term with slopes:
///
///     Σ | a ~ IW(ν + q − 1, 2ν diag(1/a₁, …, 1/a_q)),   aⱼ ~ IG(½, 1/A²),
///
/// whose marginals are half-t(ν, 0, A) on each standard deviation and, for
/// ν = 2, uniform on each correlation (density ∝ (1 − ρ²)^(ν/2 − 1) in
/// general). Written `cov(client) ~ huang_wand(ν, A)`; without one, a term
/// with slopes takes it from its SD prior, half-t(ν, 0, A) (or
/// half-Cauchy(0, A): ν = 1).
public struct CovariancePrior: Sendable, Equatable, CustomStringConvertible {
    public var degrees: Double
    public var scale: Double
    public init(degrees: Double, scale: Double) {
        self.degrees = degrees
        self.scale = scale
    }
    /// In the syntax `--prior` accepts: "huang_wand(2, 2.5)".
    public var description: String {
        "huang_wand(\(PriorSpecification.written(number: degrees)), \(PriorSpecification.written(number: scale)))"
    }
}

/// A normal prior N(mean, sd²) on a fixed-effect coefficient.
public struct NormalPrior: Sendable, Equatable, CustomStringConvertible {
    public var mean: Double
    public var standardDeviation: Double
    public init(mean: Double, standardDeviation: Double) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }
    public var description: String { "normal(\(mean), \(standardDeviation))" }
}

/// The priors of a model: normal on the intercept and on each coefficient,
/// a scale prior on each random term's standard deviation.
///
/// Defaults: intercept and coefficients N(0, 2.5²) (rstanarm's scale, on the
/// data's own units: no autoscaling), SDs half-t(3, 0, 2.5).
public struct Priors: Sendable, Equatable {
    public var intercept = NormalPrior(mean: 0, standardDeviation: 2.5)
    public var coefficients = NormalPrior(mean: 0, standardDeviation: 2.5)
    /// Coefficient priors by fixed-effect column name (overriding `coefficients`).
    public var coefficient: [String: NormalPrior] = [:]
    public var standardDeviations = ScalePrior.standard
    /// SD priors by random term name ("client", "client:stylist").
    public var standardDeviation: [String: ScalePrior] = [:]
    /// Covariance priors of terms with slopes, by term name.
    public var covariance: [String: CovariancePrior] = [:]
    /// LKJ(η) priors on the correlation matrices of terms with slopes, by
    /// term name (each column's SD then under the term's SD prior): η.
    public var correlation: [String: Double] = [:]

    public init() {}

    public func fixed(_ name: String) -> NormalPrior {
        if let p = coefficient[name] { return p }
        return name == "(Intercept)" ? intercept : coefficients
    }

    public func scale(_ term: String) -> ScalePrior { standardDeviation[term] ?? standardDeviations }
}
