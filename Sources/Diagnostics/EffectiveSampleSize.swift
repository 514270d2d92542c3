import Foundation

// Effective sample sizes (Geyer 1992; Vehtari, Gelman, Simpson, Carpenter &
// Bürkner 2021, "Rank-normalization, folding, and localization: an improved
// R-hat", Bayesian Analysis 16(2), sec. 3.2 and appendix A), computed as R's
// `posterior` 1.4.0 computes them. `nil` is posterior's NA.

/// The ESS of the matrix as given (posterior's internal `.ess`).
///
/// With n iterations, m chains and S = nm draws: gamma_j(k) is chain j's
/// autocovariance (`autocovariance(_:)`), gamma(k) its mean over chains,
/// W = gamma(0) n/(n-1), var+ = W (n-1)/n + var(chain means) (the second
/// term only when m > 1), and rho(k) = 1 - (W - gamma(k)) / var+.
/// Geyer's initial positive sequence truncates the sum of the rho at the
/// first pair of lags whose sum is negative, the initial monotone sequence
/// makes the pair sums non-increasing, and
/// tau = -1 + 2 sum_{k < t} rho(k) + rho(t) with t the truncation lag.
/// As in posterior, when t = 0 the sum is taken as rho(0) = 1, so tau = 2
/// and ESS = S/2 (this happens with 3 to 5 iterations per split chain).
/// tau is bounded below by 1/log10(S), so ESS <= S log10(S); ESS = S/tau.
///
/// Not available with fewer than 3 iterations or when
/// `shouldReturnNotAvailable` holds for the matrix. `transforms` lets
/// callers that compute several ESS of one shape reuse GSL's wavetables.
///
/// `unchecked` leaves out posterior's checks for constant or non-finite
/// draws, as loo's `ess_rfun` (the relative efficiency of PSIS) does.
func effectiveSampleSize(_ x: Draws, transforms: FourierTransforms = FourierTransforms(),
                         unchecked: Bool = false) -> Double? {
    let n = x.iterations, m = x.chains
    guard n >= 3, unchecked || !shouldReturnNotAvailable(x.values) else { return nil }

    let gamma = meanAutocovariance(x, transforms: transforms)
    // matrixStats' colMeans2, for var(chain means).
    let chainMeans = (0..<m).map { RArithmetic.plainMean(x.chain($0)) }

    let meanVariance = gamma[0] * Double(n) / Double(n - 1)
    var variancePlus = meanVariance * Double(n - 1) / Double(n)
    if m > 1 { variancePlus += RArithmetic.variance(chainMeans) }
    func rho(_ k: Int) -> Double { 1 - (meanVariance - gamma[k]) / variancePlus }

    // Geyer's initial positive sequence, on pairs of lags.
    var rhoHat = [Double](repeating: 0, count: n)
    var t = 0
    var even = 1.0
    var odd = rho(1)
    rhoHat[0] = even
    rhoHat[1] = odd
    while t < n - 5, !(even + odd).isNaN, even + odd > 0 {
        t += 2
        even = rho(t)
        odd = rho(t + 1)
        if even + odd >= 0 {
            rhoHat[t] = even
            rhoHat[t + 1] = odd
        }
    }
    let maxT = t
    // The improved estimate keeps the last positive even lag.
    if even > 0 { rhoHat[maxT] = even }

    // Geyer's initial monotone sequence.
    t = 0
    while t <= maxT - 4 {
        t += 2
        if rhoHat[t] + rhoHat[t + 1] > rhoHat[t - 2] + rhoHat[t - 1] {
            rhoHat[t] = (rhoHat[t - 2] + rhoHat[t - 1]) / 2
            rhoHat[t + 1] = rhoHat[t]
        }
    }

    let draws = Double(n * m)
    // R's `sum(rho_hat_t[1:max_t])`: for max_t = 0, `1:0` selects rho(0) alone.
    let head = maxT == 0 ? rhoHat[0] : RArithmetic.sum(rhoHat[0..<maxT])
    var tau = -1 + 2 * head + rhoHat[maxT]
    let bound = 1 / log10(draws)
    if tau < bound { tau = bound }
    return draws / tau
}

/// Basic ESS: `effectiveSampleSize` of the split chains (or the chains as
/// they are with `split: false`), as posterior's `ess_basic`.
public func essBasic(_ draws: Draws, split: Bool = true) -> Double? {
    effectiveSampleSize(split ? splitChains(draws) : draws)
}

/// ESS for the mean: the basic ESS of the split chains (posterior's `ess_mean`).
public func essMean(_ draws: Draws) -> Double? {
    effectiveSampleSize(splitChains(draws))
}

/// Bulk ESS (Vehtari et al. 2021, sec. 4.3): the ESS of the rank-normalised
/// split chains.
public func essBulk(_ draws: Draws) -> Double? {
    guard !containsNaN(draws.values) else { return nil }
    return effectiveSampleSize(rankNormalizedSplit(draws, values: draws.values, order: ascendingOrder(draws.values)))
}

/// ESS for the standard deviation: the ESS of the split chains of
/// |x - mean(x)|.
///
/// posterior 1.4.0 (the Debian bookworm package this module is checked
/// against) uses |x - mean(x)|; posterior 1.7 (stan-dev/posterior b962b63, Dec 2024) uses (x - mean(x))^2.
public func essSd(_ draws: Draws) -> Double? {
    let centre = RArithmetic.mean(draws.values)
    return effectiveSampleSize(splitChains(draws.map { abs($0 - centre) }))
}

/// ESS of the quantile at `probability` (Vehtari et al. 2021, sec. 4.3):
/// the ESS of the split chains of the indicator I(x <= q), q the type-7
/// quantile of all draws. A probability of 1 is replaced by (S - 1/2)/S.
/// Not available under the rule of `shouldReturnNotAvailable`, or when the
/// indicator is constant.
///
/// - Throws: `DiagnosticsError.probabilityOutOfRange` unless 0 <= p <= 1.
public func essQuantile(_ draws: Draws, probability: Double) throws(DiagnosticsError) -> Double? {
    try checkProbability(probability)
    guard !shouldReturnNotAvailable(draws.values) else { return nil }
    let sorted = sortedValues(draws.values)
    return quantileEffectiveSampleSize(draws, sorted: sorted, probability: probability)
}

/// `essQuantile` given the sorted draws (no validation).
func quantileEffectiveSampleSize(
    _ draws: Draws, sorted: [Double], probability: Double, transforms: FourierTransforms = FourierTransforms()
) -> Double? {
    var p = probability
    if p == 1 {
        let s = Double(sorted.count)
        p = (s - 0.5) / s
    }
    let q = typeSevenQuantile(sorted: sorted, probability: p)
    return effectiveSampleSize(splitChains(draws.map { $0 <= q ? 1 : 0 }), transforms: transforms)
}

/// ESS of the median, `essQuantile(draws, probability: 0.5)`.
public func essMedian(_ draws: Draws) -> Double? {
    guard !shouldReturnNotAvailable(draws.values) else { return nil }
    return quantileEffectiveSampleSize(draws, sorted: sortedValues(draws.values), probability: 0.5)
}

/// Tail ESS (Vehtari et al. 2021, sec. 4.3): the smaller of the ESS of the
/// 5% and 95% quantiles; not available if either is.
public func essTail(_ draws: Draws) -> Double? {
    guard !shouldReturnNotAvailable(draws.values) else { return nil }
    let sorted = sortedValues(draws.values)
    return tailEffectiveSampleSize(draws, sorted: sorted)
}

func tailEffectiveSampleSize(
    _ draws: Draws, sorted: [Double], transforms: FourierTransforms = FourierTransforms()
) -> Double? {
    guard let lower = quantileEffectiveSampleSize(draws, sorted: sorted, probability: 0.05, transforms: transforms),
          let upper = quantileEffectiveSampleSize(draws, sorted: sorted, probability: 0.95, transforms: transforms)
    else { return nil }
    return min(lower, upper)
}
