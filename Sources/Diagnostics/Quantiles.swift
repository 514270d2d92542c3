// Location and scale summaries of all draws pooled, as base R computes them
// (`mean`, `median`, `sd`, `mad`, `quantile(type = 7)`). `nil` is R's NA
// (which includes NaN, e.g. the mean of +Inf and -Inf).

/// The mean of all draws, accumulated as R's `mean` (a wide sum and a
/// correcting second pass).
public func mean(_ draws: Draws) -> Double? {
    RArithmetic.mean(draws.values).available
}

/// The standard deviation of all draws, denominator S - 1 (R's `sd`);
/// not available for a single draw or with non-finite draws.
public func standardDeviation(_ draws: Draws) -> Double? {
    RArithmetic.variance(draws.values).squareRoot().available
}

/// The median of all draws (the mean of the two middle values for an even count).
public func median(_ draws: Draws) -> Double? {
    guard !containsNaN(draws.values) else { return nil }
    return medianOfSorted(sortedValues(draws.values))
}

/// The median absolute deviation about the median, scaled by 1.4826 to be
/// consistent for the normal standard deviation (R's `mad`).
public func medianAbsoluteDeviation(_ draws: Draws) -> Double? {
    guard !containsNaN(draws.values), let centre = median(draws) else { return nil }
    return medianAbsoluteDeviation(draws.values, centre: centre)
}

func medianAbsoluteDeviation(_ values: [Double], centre: Double) -> Double? {
    (1.4826 * medianOfSorted(sortedValues(values.map { abs($0 - centre) }))).available
}

/// The type-7 quantile of all draws (Hyndman & Fan 1996; R's default):
/// with h = (S - 1) p, x_(floor(h)+1) + (h - floor(h)) (x_(floor(h)+2) - x_(floor(h)+1))
/// on the sorted draws, evaluated as R does.
///
/// - Returns: `nil` when any draw is NaN (as posterior's `quantile2`).
/// - Throws: `DiagnosticsError.probabilityOutOfRange` unless 0 <= p <= 1.
public func quantile(_ draws: Draws, probability: Double) throws(DiagnosticsError) -> Double? {
    try checkProbability(probability)
    guard !containsNaN(draws.values) else { return nil }
    return typeSevenQuantile(sorted: sortedValues(draws.values), probability: probability).available
}

/// Type-7 quantiles of all draws at several probabilities, sorting the
/// draws once (each value as `quantile(_:probability:)` gives it).
///
/// - Returns: `nil` when any draw is NaN.
/// - Throws: `DiagnosticsError.probabilityOutOfRange` unless every 0 <= p <= 1.
public func quantiles(_ draws: Draws, probabilities: [Double]) throws(DiagnosticsError) -> [Double]? {
    for p in probabilities { try checkProbability(p) }
    guard !containsNaN(draws.values) else { return nil }
    let sorted = sortedValues(draws.values)
    return probabilities.map { typeSevenQuantile(sorted: sorted, probability: $0) }
}

/// R's `median` of sorted values: the middle one, or R's `mean` of the two middle ones.
func medianOfSorted(_ sorted: [Double]) -> Double {
    let n = sorted.count
    let half = (n + 1) / 2
    if n % 2 == 1 { return sorted[half - 1] }
    return RArithmetic.mean(sorted[(half - 1)...half])
}

/// R's `quantile(x, p, type = 7)` on sorted values (src/library/stats/R/quantile.R):
/// index = 1 + (n - 1) p, lo = floor(index), hi = ceiling(index);
/// x[lo], moved towards x[hi] by h = index - lo only when index > lo and
/// x[hi] != x[lo], as (1 - h) x[lo] + h x[hi].
public func typeSevenQuantile(sorted: [Double], probability p: Double) -> Double {
    let n = sorted.count
    let index = 1 + Double(max(n - 1, 0)) * p
    let lo = index.rounded(.down)
    let hi = index.rounded(.up)
    let low = sorted[Int(lo) - 1], high = sorted[Int(hi) - 1]
    guard index > lo, high != low else { return low }
    let h = index - lo
    return (1 - h) * low + h * high
}
