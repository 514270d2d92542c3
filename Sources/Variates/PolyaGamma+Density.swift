import Foundation

/// Density and distribution function of PG(b, z) by the alternating series
/// of J*(b, c), c = |z|/2, X = J*/4 (Polson, Scott & Windle 2013, §2;
/// Windle, Polson & Scott 2014, Eq. 5):
///
///     f_J(x) = Σₙ (−1)ⁿ wₙ (2n + b)/√(2πx³) exp(−((2n + b) − cx)²/(2x)),
///     F_J(x) = Σₙ (−1)ⁿ wₙ F_IG(x; (2n + b)/c, (2n + b)²),
///     wₙ = (1 + e^(−2c))^b Γ(n + b) / (Γ(b) Γ(n + 1)) e^(−2nc),
///
/// where the tilt cosh^b(c) e^(−c²x/2) has been folded into each term (each
/// term is a first-passage-time density of Brownian motion to level 2n + b,
/// exponentially tilted), F_IG is the inverse Gaussian CDF (the Lévy CDF
/// erfc((2n + b)/√(2x)) when c = 0), and
/// F_IG = Φ((cx − a)/√x) + exp(−(cx − a)²/(2x)) · e^(v²/2)Φ(−v), v = (cx + a)/√x,
/// which neither overflows nor underflows.
///
/// The terms alternate in sign and can be much larger than the sum when b is
/// large, so the rounding error is tracked (about ε Σ |termₙ| (|log termₙ| + 8))
/// and the result is refused with `VariatesError.inaccurate` when that bound
/// exceeds `PolyaGamma.seriesTolerance` — in practice for b beyond ~100.
extension PolyaGamma {
    /// Largest acceptable estimated absolute rounding error of the density
    /// (relative to max(f, 1)) and of the CDF.
    public static let seriesTolerance = 1e-8

    /// The density of PG(shape, tilt) at x (0 for x ≤ 0).
    public func density(_ x: Double) throws(VariatesError) -> Double {
        guard !x.isNaN else {
            throw .invalidParameter(distribution: "PolyaGamma.density", name: "x", value: x, requirement: "a number")
        }
        if x <= 0 || x == .infinity { return 0 }
        return 4 * (try PolyaGamma.jacobiSeries(at: 4 * x, shape: shape, c: 0.5 * abs(tilt), cumulative: false))
    }

    /// P(X ≤ x) for X ~ PG(shape, tilt).
    public func cdf(_ x: Double) throws(VariatesError) -> Double {
        guard !x.isNaN else {
            throw .invalidParameter(distribution: "PolyaGamma.cdf", name: "x", value: x, requirement: "a number")
        }
        if x <= 0 { return 0 }
        if x == .infinity { return 1 }
        let p = try PolyaGamma.jacobiSeries(at: 4 * x, shape: shape, c: 0.5 * abs(tilt), cumulative: true)
        return min(max(p, 0), 1)
    }

    /// The series for the J*(b, c) density (cumulative = false) or CDF,
    /// summed in 80-bit extended precision (11 more bits than double, which is
    /// what keeps b = 40 accurate in the upper tail).
    static func jacobiSeries(at xDouble: Double, shape bDouble: Double, c cDouble: Double,
                             cumulative: Bool) throws(VariatesError) -> Double {
        typealias R = Float80
        let x = R(xDouble), b = R(bDouble), c = R(cDouble)
        let logTilt = b * log1p(exp(-2 * c))          // log (1 + e^(−2c))^b
        let rootX = x.squareRoot()
        let halfLogTwoPi = R(0.5) * log(2 * R.pi)
        var sum: R = 0, roundingBound: R = 0
        var n: R = 0
        var previousMagnitude = -R.infinity
        var pastPeak = false
        var logWeight = logTilt   // log wₙ, updated by wₙ/wₙ₋₁ = (n − 1 + b)/n · e^(−2c)
        while n < 1_000_000 {
            let a = 2 * n + b
            if n > 0 { logWeight += log((n - 1 + b) / n) - 2 * c }
            let logTerm: R
            if cumulative {
                let value: R
                if c == 0 {
                    value = erfc(a / (2 * x).squareRoot())
                } else {
                    let d = c * x - a
                    value = ExtendedNormal.cdf(d / rootX) + exp(-d * d / (2 * x)) * ExtendedNormal.scaledTail((c * x + a) / rootX)
                }
                logTerm = logWeight + log(value)
            } else {
                let d = a - c * x
                logTerm = logWeight + log(a) - halfLogTwoPi - R(1.5) * log(x) - d * d / (2 * x)
            }
            let term = exp(logTerm)
            sum += n.truncatingRemainder(dividingBy: 2) == 0 ? term : -term
            roundingBound += term * (abs(logTerm) + 8)
            if logTerm < previousMagnitude { pastPeak = true }
            previousMagnitude = logTerm
            if pastPeak && (term <= R(1e-21) * abs(sum) || term == 0) { break }
            n += 1
        }
        let error = Double(R.ulpOfOne * roundingBound)
        let result = Double(sum)
        let scale = cumulative ? 1.0 : max(abs(result), 1)
        guard error <= PolyaGamma.seriesTolerance * scale, result.isFinite else {
            throw .inaccurate(function: cumulative ? "PolyaGamma.cdf" : "PolyaGamma.density",
                              detail: "the alternating series for b = \(bDouble) at J* = \(xDouble) cancels too much "
                                + "for extended precision (estimated error \(error)); use b ≤ ~80 or a smaller argument")
        }
        return result
    }
}

/// The standard normal CDF and scaled tail in 80-bit precision (glibc's
/// erfcl), for the series above.
enum ExtendedNormal {
    static func cdf(_ x: Float80) -> Float80 { 0.5 * erfc(-x * 0.70710678118654752440) }

    /// e^(v²/2) Φ(−v) for v ≥ 0; the asymptotic series
    /// (1/(v√(2π))) (1 − 1/v² + 3/v⁴ − 15/v⁶ + 105/v⁸) beyond v = 60, where
    /// its error is below 1e-19.
    static func scaledTail(_ v: Float80) -> Float80 {
        if v < 60 { return 0.5 * exp(0.5 * v * v) * erfc(v * 0.70710678118654752440) }
        let w = 1 / (v * v)
        return (1 - w * (1 - w * (3 - w * (15 - 105 * w)))) / (v * (2 * Float80.pi).squareRoot())
    }
}
