import CGSL
import Foundation
import Variates

/// Pearson's χ² test of uniformity of ranks in 0…L on `bins` equal bins
/// ((L + 1) divisible by `bins`); p-value from GSL's χ² upper tail with
/// bins − 1 degrees of freedom.
func chiSquareTest(ranks: [Int], kept: Int, bins: Int) -> (statistic: Double, p: Double, counts: [Int]) {
    precondition((kept + 1) % bins == 0, "L + 1 must be divisible by the number of bins")
    var counts = [Int](repeating: 0, count: bins)
    for r in ranks { counts[r * bins / (kept + 1)] += 1 }
    let expected = Double(ranks.count) / Double(bins)
    let statistic = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
    return (statistic, gsl_cdf_chisq_Q(statistic, Double(bins - 1)), counts)
}

/// The simultaneous (1 − α) band for the ECDF difference F̂(zᵢ) − zᵢ at
/// zᵢ = i/K, i = 1 … K − 1, of Säilynoja, Bürkner & Vehtari (2022), with
/// the adjusted level γ found by their simulation method: for each of
/// `simulations` uniform samples of size N, the smallest over zᵢ of the
/// two-sided binomial tail probability 2·min(P(X ≤ kᵢ), P(X ≥ kᵢ)) of the
/// count kᵢ below zᵢ, X ~ Binomial(N, zᵢ); γ is the α-quantile of those
/// minima. The band at zᵢ is the Binomial(N, zᵢ) quantiles γ/2 and 1 − γ/2,
/// over N, minus zᵢ.
struct ECDFBand {
    let sampleSize: Int
    let points: Int
    let gamma: Double
    let z: [Double]
    let lower: [Double]
    let upper: [Double]
    /// cdf[i][k] = P(X ≤ k) for X ~ Binomial(N, z[i]).
    private let cdf: [[Double]]

    init(sampleSize n: Int, points k: Int, alpha: Double, simulations: Int, generator g: Generator) {
        sampleSize = n
        points = k
        z = (1..<k).map { Double($0) / Double(k) }
        cdf = z.map { zi in (0...n).map { gsl_cdf_binomial_P(UInt32($0), zi, UInt32(n)) } }
        var minima = [Double](repeating: 0, count: simulations)
        var below = [Int](repeating: 0, count: k)
        for m in 0..<simulations {
            for i in below.indices { below[i] = 0 }
            // Uniform u falls below zᵢ = i/K exactly when floor(u·K) < i.
            for _ in 0..<n { below[min(Int(g.uniform() * Double(k)), k - 1)] += 1 }
            var running = 0, smallest = 1.0
            for i in 0..<(k - 1) {
                running += below[i]
                smallest = min(smallest, ECDFBand.tail(cdf[i], running))
            }
            minima[m] = smallest
        }
        minima.sort()
        // The α-quantile of the minima (type 7, as R's quantile()).
        let h = alpha * Double(simulations - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, simulations - 1)
        let gamma = minima[lo] + (h - Double(lo)) * (minima[hi] - minima[lo])
        self.gamma = gamma
        var lower: [Double] = [], upper: [Double] = []
        for (i, zi) in z.enumerated() {
            lower.append(Double(ECDFBand.quantile(cdf[i], gamma / 2)) / Double(n) - zi)
            upper.append(Double(ECDFBand.quantile(cdf[i], 1 - gamma / 2)) / Double(n) - zi)
        }
        self.lower = lower
        self.upper = upper
    }

    /// 2·min(P(X ≤ k), P(X ≥ k)), capped at 1.
    static func tail(_ cdf: [Double], _ k: Int) -> Double {
        let upperTail = k == 0 ? 1 : 1 - cdf[k - 1]
        return min(1, 2 * min(cdf[k], upperTail))
    }

    /// The smallest k with P(X ≤ k) ≥ p (binary search on the CDF table).
    static func quantile(_ cdf: [Double], _ p: Double) -> Int {
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] >= p { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// F̂(zᵢ) − zᵢ for ranks in 0…L: with K = L + 1 the fractional rank
    /// r/(L+1) is below zᵢ = i/K exactly when r < i·(L+1)/K.
    func difference(ranks: [Int], kept: Int) -> [Double] {
        let values = ranks.count
        var count = [Int](repeating: 0, count: kept + 2)
        for r in ranks { count[r + 1] += 1 }
        for r in 1..<count.count { count[r] += count[r - 1] }   // count[r] = #{rank < r}
        return z.enumerated().map { index, zi in
            // #{rank < c} with c = ceil(i(L + 1)/K), in integers.
            let i = index + 1
            let c = (i * (kept + 1) + points - 1) / points
            return Double(count[c]) / Double(values) - zi
        }
    }
}
