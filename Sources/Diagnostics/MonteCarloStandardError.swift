import Foundation

// Monte Carlo standard errors (Vehtari et al. 2021, sec. 4.4 and
// appendix; Kenney & Keeping 1951 for the variance of the variance), as
// posterior computes them. `nil` is posterior's NA.

/// MCSE of the mean: sd(x) / sqrt(ESS_mean), with sd over all draws
/// (denominator S - 1).
public func mcseMean(_ draws: Draws) -> Double? {
    guard let ess = essMean(draws) else { return nil }
    return (RArithmetic.variance(draws.values).squareRoot() / ess.squareRoot()).available
}

/// MCSE of the standard deviation: with c = x - mean(x),
/// E = mean(c^2) and the ESS of c^2 (`essMean`), Var(E) is estimated by
/// (mean(c^4) - E^2) / ESS and, to first order, MCSE(sd) = sqrt(Var(E) / (4E)).
public func mcseSd(_ draws: Draws) -> Double? {
    let centre = RArithmetic.mean(draws.values)
    let centred = draws.values.map { $0 - centre }
    let squares = centred.map { $0 * $0 }
    guard let ess = essMean(Draws(unchecked: squares, iterations: draws.iterations, chains: draws.chains))
    else { return nil }
    let expectation = RArithmetic.mean(squares)
    let fourth = RArithmetic.mean(centred.map { pow($0, 4) })
    let varianceOfVariance = (fourth - expectation * expectation) / ess
    return (varianceOfVariance / expectation / 4).squareRoot().available
}

/// MCSE of the quantile at `probability`: with ESS the quantile's ESS
/// (`essQuantile`), a1, a2 the 0.1586553 and 0.8413447 quantiles of
/// Beta(ESS p + 1, ESS (1 - p) + 1) (GSL's inverse incomplete beta) and the
/// S draws sorted, (x_(min(ceil(a2 S), S)) - x_(max(floor(a1 S), 1))) / 2,
/// half the width of a central ±1 sd interval for the quantile.
///
/// - Throws: `DiagnosticsError.probabilityOutOfRange` unless 0 <= p <= 1.
public func mcseQuantile(_ draws: Draws, probability: Double) throws(DiagnosticsError) -> Double? {
    try checkProbability(probability)
    guard !shouldReturnNotAvailable(draws.values) else { return nil }
    return quantileStandardError(draws, sorted: sortedValues(draws.values), probability: probability)
}

/// MCSE of the median, `mcseQuantile(draws, probability: 0.5)`.
public func mcseMedian(_ draws: Draws) -> Double? {
    guard !shouldReturnNotAvailable(draws.values) else { return nil }
    return quantileStandardError(draws, sorted: sortedValues(draws.values), probability: 0.5)
}

func quantileStandardError(
    _ draws: Draws, sorted: [Double], probability p: Double, transforms: FourierTransforms = FourierTransforms()
) -> Double? {
    let ess = quantileEffectiveSampleSize(draws, sorted: sorted, probability: p, transforms: transforms)
    return quantileStandardError(sorted: sorted, probability: p, effectiveSampleSize: ess)
}

/// The quantile MCSE given the quantile's ESS (not available if it is not).
func quantileStandardError(sorted: [Double], probability p: Double, effectiveSampleSize ess: Double?) -> Double? {
    guard let ess else { return nil }
    let a1 = GSL.betaQuantile(0.1586553, ess * p + 1, ess * (1 - p) + 1)
    let a2 = GSL.betaQuantile(0.8413447, ess * p + 1, ess * (1 - p) + 1)
    guard a1.isFinite, a2.isFinite else { return nil }
    let s = Double(sorted.count)
    let lower = Int(max((a1 * s).rounded(.down), 1))
    let upper = Int(min((a2 * s).rounded(.up), s))
    return ((sorted[upper - 1] - sorted[lower - 1]) / 2).available
}
