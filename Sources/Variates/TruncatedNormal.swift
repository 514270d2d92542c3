import Foundation

/// The normal distribution N(mean, standardDeviation²) restricted to
/// [lower, upper]; either bound may be infinite.
///
/// Drawn exactly by the rejection samplers of Robert (1995), "Simulation of
/// truncated normal variables", Statistics and Computing 5: for an interval
/// that holds 0, normal proposals when it is wider than sqrt(2π) and uniform
/// proposals otherwise; for an interval in one tail, the translated
/// exponential proposal with the optimal rate (a + sqrt(a² + 4))/2, or uniform
/// proposals when the interval is narrower than Robert's bound (his Prop. 2.3).
public struct TruncatedNormal: Distribution {
    public let mean: Double
    public let standardDeviation: Double
    public let lower: Double
    public let upper: Double

    /// Standardised bounds, a = (lower − mean)/sd and b = (upper − mean)/sd.
    let a: Double
    let b: Double
    let kind: Kind

    enum Kind: Sendable {
        case normal              // a ≤ 0 ≤ b, b − a ≥ sqrt(2π)
        case uniformAroundZero   // a ≤ 0 ≤ b, b − a < sqrt(2π)
        case exponentialTail(rate: Double, mirrored: Bool)
        case uniformTail(mirrored: Bool)
    }

    public init(mean: Double, standardDeviation: Double,
                lower: Double = -.infinity, upper: Double = .infinity) throws(VariatesError) {
        try Check.finite(mean, "mean", in: "TruncatedNormal")
        try Check.positive(standardDeviation, "standardDeviation", in: "TruncatedNormal")
        guard !lower.isNaN, lower < .infinity else {
            throw .invalidParameter(distribution: "TruncatedNormal", name: "lower", value: lower,
                                    requirement: "a number below +infinity")
        }
        guard !upper.isNaN, upper > lower else {
            throw .invalidParameter(distribution: "TruncatedNormal", name: "upper", value: upper,
                                    requirement: "greater than lower (\(lower))")
        }
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.lower = lower
        self.upper = upper
        let a = (lower - mean) / standardDeviation
        let b = (upper - mean) / standardDeviation
        guard b > a else {
            throw .invalidParameter(distribution: "TruncatedNormal", name: "upper", value: upper,
                                    requirement: "far enough above lower for the standardised interval to be non-empty")
        }
        self.a = a
        self.b = b
        if a <= 0 && b >= 0 {
            kind = b - a >= (2 * Double.pi).squareRoot() ? .normal : .uniformAroundZero
        } else {
            // Work in the right tail: mirror an interval below zero.
            let mirrored = b < 0
            let (lo, hi) = mirrored ? (-b, -a) : (a, b)
            let root = (lo * lo + 4).squareRoot()
            let rate = (lo + root) / 2
            // Robert (1995), Prop. 2.3: uniform proposals win on narrow intervals.
            let bound = 2 * exp(0.5) / (lo + root) * exp((lo * lo - lo * root) / 4)
            kind = hi - lo < bound ? .uniformTail(mirrored: mirrored) : .exponentialTail(rate: rate, mirrored: mirrored)
        }
    }

    public func sample(using generator: Generator) -> Double {
        mean + standardDeviation * standardDraw(using: generator)
    }

    /// A draw of the standard normal restricted to [a, b].
    func standardDraw(using generator: Generator) -> Double {
        switch kind {
        case .normal:
            while true {
                let z = generator.normal()
                if z >= a && z <= b { return z }
            }
        case .uniformAroundZero:
            while true {
                let z = a + (b - a) * generator.uniform()
                if generator.uniform() <= exp(-0.5 * z * z) { return z }
            }
        case let .exponentialTail(rate, mirrored):
            let (lo, hi) = mirrored ? (-b, -a) : (a, b)
            while true {
                let z = lo + generator.exponential() / rate
                if z > hi { continue }
                let d = z - rate
                if generator.uniform() <= exp(-0.5 * d * d) { return mirrored ? -z : z }
            }
        case let .uniformTail(mirrored):
            let (lo, hi) = mirrored ? (-b, -a) : (a, b)
            while true {
                let z = lo + (hi - lo) * generator.uniform()
                if generator.uniform() <= exp(0.5 * (lo * lo - z * z)) { return mirrored ? -z : z }
            }
        }
    }
}
