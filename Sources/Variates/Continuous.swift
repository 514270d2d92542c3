import CGSL

/// The standard normal distribution N(0, 1), drawn by GSL's ziggurat
/// (Marsaglia & Tsang 2000, `gsl_ran_gaussian_ziggurat`).
public struct StandardNormal: Distribution {
    public init() {}
    @inlinable
    public func sample(using generator: Generator) -> Double { generator.normal() }
}

/// The normal distribution N(mean, standardDeviation²).
public struct Normal: Distribution {
    public let mean: Double
    public let standardDeviation: Double

    public init(mean: Double, standardDeviation: Double) throws(VariatesError) {
        try Check.finite(mean, "mean", in: "Normal")
        try Check.positive(standardDeviation, "standardDeviation", in: "Normal")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    @inlinable
    public func sample(using generator: Generator) -> Double {
        mean + standardDeviation * generator.normal()
    }
}

/// The gamma distribution with density rate^shape x^(shape−1) e^(−rate x) / Γ(shape),
/// drawn by GSL's `gsl_ran_gamma` (Marsaglia & Tsang 2000; shape < 1 by
/// the boost X·U^(1/shape)).
public struct Gamma: Distribution {
    public let shape: Double
    public let rate: Double

    public init(shape: Double, rate: Double) throws(VariatesError) {
        try Check.positive(shape, "shape", in: "Gamma")
        try Check.positive(rate, "rate", in: "Gamma")
        self.shape = shape
        self.rate = rate
    }

    public init(shape: Double, scale: Double) throws(VariatesError) {
        try Check.positive(scale, "scale", in: "Gamma")
        try self.init(shape: shape, rate: 1 / scale)
    }

    public var mean: Double { shape / rate }
    public var variance: Double { shape / (rate * rate) }

    @inlinable
    public func sample(using generator: Generator) -> Double {
        gsl_ran_gamma(generator.pointer, shape, 1 / rate)
    }
}

/// The inverse-gamma distribution: X = 1/Y with Y ~ Gamma(shape, rate: scale);
/// density scale^shape x^(−shape−1) e^(−scale/x) / Γ(shape).
public struct InverseGamma: Distribution {
    public let shape: Double
    public let scale: Double

    public init(shape: Double, scale: Double) throws(VariatesError) {
        try Check.positive(shape, "shape", in: "InverseGamma")
        try Check.positive(scale, "scale", in: "InverseGamma")
        self.shape = shape
        self.scale = scale
    }

    /// scale / (shape − 1) for shape > 1, otherwise infinite.
    public var mean: Double { shape > 1 ? scale / (shape - 1) : .infinity }

    @inlinable
    public func sample(using generator: Generator) -> Double {
        scale / gsl_ran_gamma(generator.pointer, shape, 1)
    }
}

/// The exponential distribution with density rate e^(−rate x), x > 0.
public struct Exponential: Distribution {
    public let rate: Double

    public init(rate: Double) throws(VariatesError) {
        try Check.positive(rate, "rate", in: "Exponential")
        self.rate = rate
    }

    @inlinable
    public func sample(using generator: Generator) -> Double { generator.exponential() / rate }
}

/// The uniform distribution on [lower, upper).
public struct Uniform: Distribution {
    public let lower: Double
    public let upper: Double

    public init(lower: Double = 0, upper: Double = 1) throws(VariatesError) {
        try Check.finite(lower, "lower", in: "Uniform")
        try Check.finite(upper, "upper", in: "Uniform")
        guard upper > lower, (upper - lower).isFinite else {
            throw .invalidParameter(distribution: "Uniform", name: "upper", value: upper,
                                    requirement: "greater than lower (\(lower)) with a finite width")
        }
        self.lower = lower
        self.upper = upper
    }

    @inlinable
    public func sample(using generator: Generator) -> Double {
        lower + (upper - lower) * generator.uniform()
    }
}

/// The inverse Gaussian (Wald) distribution IG(mean μ, shape λ), density
/// sqrt(λ / (2π x³)) exp(−λ (x − μ)² / (2 μ² x)).
///
/// Drawn by the transformation with multiple roots of Michael, Schucany &
/// Haas (1976): with y = N², w = μy/(2λ), the smaller root is
/// x = μ / (1 + w + sqrt(w(w + 2))) (written so that it does not cancel), taken
/// with probability μ/(μ + x), else μ²/x.
public struct InverseGaussian: Distribution {
    public let mean: Double
    public let shape: Double

    public init(mean: Double, shape: Double) throws(VariatesError) {
        try Check.positive(mean, "mean", in: "InverseGaussian")
        try Check.positive(shape, "shape", in: "InverseGaussian")
        self.mean = mean
        self.shape = shape
    }

    public var variance: Double { mean * mean * mean / shape }

    @inlinable
    public func sample(using generator: Generator) -> Double {
        InverseGaussian.draw(mean: mean, shape: shape, using: generator)
    }

    @inlinable @inline(__always)
    static func draw(mean mu: Double, shape lambda: Double, using generator: Generator) -> Double {
        let n = generator.normal()
        let w = mu * n * n / (2 * lambda)
        let x = mu / (1 + w + (w * (w + 2)).squareRoot())
        return generator.uniform() * (mu + x) <= mu ? x : mu * (mu / x)
    }
}
