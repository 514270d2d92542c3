import Foundation

// Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman, Yao &
// Gabry 2024, "Pareto smoothed importance sampling", JMLR 25(72)), computed
// as R's `loo` 2.5.1 computes it (`psis`, `gpdfit`), so that its figures can
// be set beside loo's.

/// The generalized Pareto fit of Zhang & Stephens (2009, Technometrics
/// 51(3)) with loo's weakly informative prior on k: for the exceedances x
/// (sorted, ascending, positive), the profile likelihood over
/// θⱼ = 1/x₍N₎ + (1 − √(M/(j − ½)))/(3 x*), j = 1…M, M = 30 + ⌊√N⌋, x* the
/// first quartile x₍⌊N/4 + ½⌋₎; θ̂ its posterior mean, k = mean log(1 − θ̂x),
/// σ = −k/θ̂, and k shrunk towards ½ as if by 10 more observations:
/// k ← (Nk + 5)/(N + 10). k is infinite where the fit is NaN.
public func generalizedParetoFit(sorted x: [Double]) -> (k: Double, sigma: Double) {
    let n = x.count
    let m = 30 + Int(Double(n).squareRoot().rounded(.down))
    let xStar = x[Int((Double(n) / 4 + 0.5).rounded(.down)) - 1]
    let largest: Double = x[n - 1]
    let theta: [Double] = (1...m).map { (j: Int) -> Double in
        let shrink: Double = (Double(m) / (Double(j) - 0.5)).squareRoot()
        return 1 / largest + (1 - shrink) / 3 / xStar
    }
    // N · lx(θ): with a = −θ and k(a) = mean log(1 + a x), log(a/k) − k − 1.
    var logs = [Double](repeating: 0, count: n)
    let profile: [Double] = theta.map { (t: Double) -> Double in
        let a: Double = -t
        logs.withUnsafeMutableBufferPointer { logs in
            x.withUnsafeBufferPointer { x in
                for i in 0..<n { logs[i] = log1p(a * x[i]) }
            }
        }
        let k: Double = RArithmetic.mean(logs)
        return Double(n) * (log(a / k) - k - 1)
    }
    let top = logSumExp(profile)
    let weights = profile.map { exp($0 - top) }
    let thetaHat = RArithmetic.sum(zip(theta, weights).map { $0 * $1 })
    var k = RArithmetic.mean(x.map { log1p(-thetaHat * $0) })
    let sigma = -k / thetaHat
    k = k * Double(n) / Double(n + 10) + 10 * 0.5 / Double(n + 10)
    if k.isNaN { k = .infinity }
    return (k, sigma)
}

/// log Σ exp(xᵢ), as matrixStats' `logSumExp`: the maximum plus the log of
/// the sum of exp(xᵢ − max) over the others, through log1p.
public func logSumExp(_ x: [Double]) -> Double {
    x.withUnsafeBufferPointer { x in
        guard !x.isEmpty else { return -.infinity }
        var index = 0
        for i in 1..<x.count where x[i] > x[index] { index = i }
        let top = x[index]
        guard top.isFinite else { return x.max() ?? -.infinity }
        var sum = 0.0
        for i in 0..<x.count where i != index { sum += exp(x[i] - top) }
        return top + log1p(sum)
    }
}

/// Pareto smoothing of one set of log importance ratios (loo's
/// `do_psis_i`): the largest M ratios (M = ⌈min(0.2 S, 3√(S/r_eff))⌉ of S,
/// with r_eff the relative efficiency of the draws) are replaced by the
/// expected order statistics of the generalized Pareto fitted to their
/// exceedance of the next largest, F⁻¹((z − ½)/M), then every ratio is
/// truncated at the largest raw one. With fewer than 5 tail draws, or a
/// tail of equal values, nothing is smoothed and k is infinite.
///
/// - Returns: the smoothed log weights (not normalised) and the fitted k.
public func paretoSmoothed(logRatios: [Double], relativeEfficiency: Double) -> (logWeights: [Double], k: Double) {
    let s = logRatios.count
    let tail = Int((min(0.2 * Double(s), 3 * (Double(s) / relativeEfficiency).squareRoot())).rounded(.up))
    let largest = logRatios.max() ?? 0
    var weights = logRatios.map { $0 - largest }
    var k = Double.infinity
    if tail >= 5 && tail < s {
        // The tail and the draw below it, as the last tail + 1 of loo's
        // stable `order`: found by selection, not by sorting all S.
        let top = largestInOrder(weights, count: tail + 1)
        let tailIndices = top.dropFirst()
        let tailValues = tailIndices.map { weights[$0] }
        if abs(tailValues.last! - tailValues.first!) >= Double.ulpOfOne / 100 {
            let cutoff = weights[top[0]]
            let exceedance = exp(cutoff)
            let fit = generalizedParetoFit(sorted: tailValues.map { exp($0) - exceedance })
            k = fit.k
            if k.isFinite {
                for (z, index) in tailIndices.enumerated() {
                    let p = (Double(z + 1) - 0.5) / Double(tail)
                    // qgpd: σ expm1(−k log1p(−p))/k, NaN for σ ≤ 0.
                    let quantile = fit.sigma > 0 ? fit.sigma * expm1(-k * log1p(-p)) / k : .nan
                    weights[index] = log(quantile + exceedance)
                }
            }
        }
    }
    return (weights.map { ($0 > 0 ? 0 : $0) + largest }, k)
}

/// The positions of the `count` largest values, smallest first: the last
/// `count` of a stable ascending sort (equal values in order of position),
/// found by Hoare's selection (quickselect) on (value, position) — a strict
/// order, so the set is the sort's — and a sort of those alone, O(S + m log m).
func largestInOrder(_ values: [Double], count m: Int) -> [Int] {
    let n = values.count
    precondition(m >= 1 && m <= n)
    var keys = (0..<n).map { (value: values[$0], position: $0) }
    func precedes(_ a: (value: Double, position: Int), _ b: (value: Double, position: Int)) -> Bool {
        a.value < b.value || (a.value == b.value && a.position < b.position)
    }
    // Place the (n − m)th smallest at n − m, smaller ones before it and
    // larger ones after (Lomuto partitions, median-of-three pivots).
    let target = n - m
    var low = 0, high = n - 1
    while low < high {
        let middle = low + (high - low) / 2
        if precedes(keys[middle], keys[low]) { keys.swapAt(middle, low) }
        if precedes(keys[high], keys[low]) { keys.swapAt(high, low) }
        if precedes(keys[middle], keys[high]) { keys.swapAt(middle, high) }
        let pivot = keys[high]
        var store = low
        for i in low..<high where precedes(keys[i], pivot) {
            keys.swapAt(i, store)
            store += 1
        }
        keys.swapAt(store, high)
        if store == target { break }
        if store < target { low = store + 1 } else { high = store - 1 }
    }
    return keys[target...].sorted(by: precedes).map(\.position)
}
