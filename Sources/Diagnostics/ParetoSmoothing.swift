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
    let profile: [Double] = theta.map { (t: Double) -> Double in
        let a: Double = -t
        let k: Double = RArithmetic.mean(x.map { (v: Double) -> Double in log1p(a * v) })
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
    guard let (top, index) = x.enumerated().max(by: { $0.element < $1.element }).map({ ($0.element, $0.offset) }),
          top.isFinite else {
        return x.max() ?? -.infinity
    }
    var sum = 0.0
    for (i, value) in x.enumerated() where i != index { sum += exp(value - top) }
    return top + log1p(sum)
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
        let order = weights.indices.sorted { weights[$0] < weights[$1] }
        let tailIndices = order[(s - tail)...]
        let tailValues = tailIndices.map { weights[$0] }
        if abs(tailValues.last! - tailValues.first!) >= Double.ulpOfOne / 100 {
            let cutoff = weights[order[s - tail - 1]]
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
