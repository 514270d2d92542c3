import CGSL
import Foundation

/// Small special functions used by the Pólya–Gamma code, all in double
/// precision and all from GSL or libm.
enum Special {
    static let halfLogTwoPi = 0.5 * log(2 * Double.pi)
    static let piSquaredOverEight = Double.pi * Double.pi / 8

    /// log Φ(x), accurate far into the lower tail: log(erfc(−x/√2)/2).
    @inline(__always) static func logNormalCDF(_ x: Double) -> Double {
        gsl_sf_log_erfc(-x * 0.7071067811865476) - M_LN2
    }

    /// Mills' ratio scaled to stay finite: e^(v²/2) Φ(−v) for v ≥ 0, which is
    /// 1/(√(2π) h(v)) with GSL's hazard function h = φ/Q.
    @inline(__always) static func scaledNormalTail(_ v: Double) -> Double {
        1 / ((2 * Double.pi).squareRoot() * gsl_sf_hazard(v))
    }

    @inline(__always) static func logGamma(_ x: Double) -> Double { gsl_sf_lngamma(x) }

    /// log of the regularised upper incomplete gamma function Q(a, x).
    static func logUpperGamma(_ a: Double, _ x: Double) -> Double {
        if x < 500 {
            let q = gsl_sf_gamma_inc_Q(a, x)
            if q > 1e-300 { return log(q) }
        }
        // Large x: Q(a, x) = x^(a−1) e^(−x) / Γ(a) · (1 + (a−1)/x + (a−1)(a−2)/x² + …),
        // an asymptotic series whose terms are tiny here (only used where Q < 1e-300,
        // where the piece it weighs is negligible anyway).
        var sum = 1.0, term = 1.0
        for k in 1...8 {
            term *= (a - Double(k)) / x
            sum += term
            if abs(term) < 1e-17 { break }
        }
        return (a - 1) * log(x) - x - logGamma(a) + log(sum)
    }

    /// log(e^a + e^b) without overflow.
    @inline(__always) static func logAddExp(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        let m = max(a, b)
        return m + log1p(exp(-abs(a - b)))
    }
}
