import Foundation
import Variates

/// Small statistics for the tests: sample moments, z-scores and
/// Kolmogorov–Smirnov statistics. Tolerances in the tests are z-scores
/// (|z| < 4, a two-sided 6e-5 false-alarm rate per check) or KS critical values
/// at α = 1e-4, all at fixed seeds.
enum Sample {
    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

    static func variance(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    static func skewness(_ x: [Double]) -> Double {
        let m = mean(x)
        let n = Double(x.count)
        let m2 = x.reduce(0) { $0 + pow($1 - m, 2) } / n
        let m3 = x.reduce(0) { $0 + pow($1 - m, 3) } / n
        return m3 / pow(m2, 1.5)
    }

    /// z-score of the sample mean against `mean`, with the exact variance.
    static func meanZ(_ x: [Double], mean: Double, variance: Double) -> Double {
        (Sample.mean(x) - mean) / (variance / Double(x.count)).squareRoot()
    }

    /// z-score of the sample variance: Var(s²) ≈ (κ₄ + 2κ₂²)/n.
    static func varianceZ(_ x: [Double], variance: Double, fourthCumulant: Double) -> Double {
        (Sample.variance(x) - variance) / ((fourthCumulant + 2 * variance * variance) / Double(x.count)).squareRoot()
    }

    /// One-sample KS statistic sup |F_n − F| (F continuous). Where `cdf`
    /// cannot be evaluated (it returns nil: the far upper tail of a CDF that
    /// refuses inaccurate values), F is only known to lie between the last
    /// value it gave and 1, and the larger of the two distances is used, so
    /// the statistic returned is an upper bound of the true one.
    static func kolmogorovSmirnov(_ x: [Double], cdf: (Double) -> Double?) -> Double {
        let sorted = x.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        var lastKnown = 0.0
        for (i, v) in sorted.enumerated() {
            let below = Double(i) / n, above = Double(i + 1) / n
            if let f = cdf(v) {
                lastKnown = f
                d = max(d, abs(f - below), abs(above - f))
            } else {
                d = max(d, abs(lastKnown - below), abs(above - lastKnown), abs(1 - below))
            }
        }
        return d
    }

    /// Two-sample KS statistic.
    static func kolmogorovSmirnov(_ x: [Double], _ y: [Double]) -> Double {
        let a = x.sorted(), b = y.sorted()
        var i = 0, j = 0, d = 0.0
        while i < a.count && j < b.count {
            let v = min(a[i], b[j])
            while i < a.count && a[i] <= v { i += 1 }
            while j < b.count && b[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
        }
        return d
    }

    /// Critical value c with P(√(n_eff) D > c) ≈ α under the null, from the
    /// Kolmogorov distribution's tail 2 e^(−2c²): α = 1e-4 gives c = 2.225.
    static let kolmogorovCritical = (log(2 / 1e-4) / 2).squareRoot()
}
