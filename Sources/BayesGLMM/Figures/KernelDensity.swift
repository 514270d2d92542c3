import Diagnostics
import Foundation

/// A Gaussian kernel density estimate of draws, evaluated on a grid:
///
///     f̂(x) = 1/(S h) Σₛ φ((x − θₛ)/h)
///
/// with Silverman's rule-of-thumb bandwidth h = 0.9 min(sd, IQR/1.34) S^(−1/5)
/// (Silverman 1986, *Density Estimation*, eq. 3.31; R's `bw.nrd0`). For a
/// parameter bounded below (a standard deviation, bound 0) the kernel mass
/// that would fall below the bound is reflected back above it (Silverman
/// 1986, §2.10): f̂(x) + the same at 2·bound − x, for x ≥ bound, so the
/// estimate integrates to 1 on the support instead of leaking below it.
public struct KernelDensity: Sendable, Equatable {
    /// Grid points, ascending, and the density at each.
    public let x: [Double]
    public let density: [Double]
    public let bandwidth: Double

    /// The estimate of `draws` (finite values only) on `points` equally
    /// spaced points from 3 bandwidths below the smallest draw (or from the
    /// bound) to 3 bandwidths above the largest. Nil without two distinct
    /// finite draws.
    public init?(_ draws: [Double], lowerBound: Double? = nil, points: Int = 256) {
        let values = draws.filter(\.isFinite).sorted()
        guard values.count >= 2, let low = values.first, let high = values.last, high > low else { return nil }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let quartiles = (try? Diagnostics.quantiles(Draws(chain: values), probabilities: [0.25, 0.75])) ?? nil
        let iqr = quartiles.map { $0[1] - $0[0] } ?? 0
        let spread = iqr > 0 ? min(sd, iqr / 1.34) : sd
        let h = 0.9 * spread * pow(n, -0.2)
        bandwidth = h
        var start = low - 3 * h
        if let lowerBound { start = max(start, lowerBound) }
        let end = high + 3 * h
        let grid = (0..<points).map { start + (end - start) * Double($0) / Double(points - 1) }
        x = grid
        let scale = 1 / (n * h * (2 * Double.pi).squareRoot())
        density = grid.map { point in
            // Only draws within 8 bandwidths contribute (φ(8) ≈ 5e-15).
            var sum = 0.0
            var k = KernelDensity.firstIndex(values, atLeast: point - 8 * h)
            while k < values.count, values[k] <= point + 8 * h {
                let z = (point - values[k]) / h
                sum += exp(-0.5 * z * z)
                k += 1
            }
            if let lowerBound {
                let mirror = 2 * lowerBound - point
                var k = KernelDensity.firstIndex(values, atLeast: mirror - 8 * h)
                while k < values.count, values[k] <= mirror + 8 * h {
                    let z = (mirror - values[k]) / h
                    sum += exp(-0.5 * z * z)
                    k += 1
                }
            }
            return sum * scale
        }
    }

    /// The first index of sorted `values` whose value is ≥ `bound`.
    static func firstIndex(_ values: [Double], atLeast bound: Double) -> Int {
        var low = 0, high = values.count
        while low < high {
            let middle = (low + high) / 2
            if values[middle] < bound { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
