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
    /// Uniform on σ ∈ (0, upper).
    case uniform(upper: Double)
    /// Exponential on σ with `rate` (rstanarm's default for a single SD).
    case exponential(rate: Double)

    public static let standard = ScalePrior.halfT(degrees: 3, scale: 2.5)

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
        case let .uniform(upper): return s < upper ? 0 : -.infinity
        case let .exponential(rate): return -rate * s
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
        case let .uniform(upper): return "uniform(0, \(f(upper)))"
        case let .exponential(rate): return "exponential(\(f(rate)))"
        }
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

    public init() {}

    public func fixed(_ name: String) -> NormalPrior {
        if let p = coefficient[name] { return p }
        return name == "(Intercept)" ? intercept : coefficients
    }

    public func scale(_ term: String) -> ScalePrior { standardDeviation[term] ?? standardDeviations }
}
