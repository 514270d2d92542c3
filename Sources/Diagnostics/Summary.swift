import Dispatch

/// A column of the summary table, named as in posterior's `summarise_draws`.
public enum SummaryColumn: String, CaseIterable, Sendable, Hashable {
    case mean, median, sd, mad, q5, q95, rhat
    case essBulk = "ess_bulk"
    case essTail = "ess_tail"
    case mcseMean = "mcse_mean"
    case mcseMedian = "mcse_median"
    case mcseSd = "mcse_sd"
    case mcseQ5 = "mcse_q5"
    case mcseQ95 = "mcse_q95"

    /// posterior's default columns: mean, median, sd, mad, q5, q95, rhat,
    /// ess_bulk, ess_tail.
    public static let defaults: [SummaryColumn] = [.mean, .median, .sd, .mad, .q5, .q95, .rhat, .essBulk, .essTail]
    /// posterior's `default_mcse_measures()`: mcse_mean, mcse_median, mcse_sd,
    /// mcse_q5, mcse_q95.
    public static let monteCarloStandardErrors: [SummaryColumn] = [.mcseMean, .mcseMedian, .mcseSd, .mcseQ5, .mcseQ95]
}

/// One variable's row of the summary; `nil` is "not available" (R's NA).
public struct SummaryRow: Sendable, Hashable {
    public let variable: String
    public var mean: Double?
    public var median: Double?
    public var sd: Double?
    public var mad: Double?
    public var q5: Double?
    public var q95: Double?
    public var rhat: Double?
    public var essBulk: Double?
    public var essTail: Double?
    public var mcseMean: Double?
    public var mcseMedian: Double?
    public var mcseSd: Double?
    public var mcseQ5: Double?
    public var mcseQ95: Double?

    public init(variable: String) { self.variable = variable }

    public subscript(column: SummaryColumn) -> Double? {
        switch column {
        case .mean: mean
        case .median: median
        case .sd: sd
        case .mad: mad
        case .q5: q5
        case .q95: q95
        case .rhat: rhat
        case .essBulk: essBulk
        case .essTail: essTail
        case .mcseMean: mcseMean
        case .mcseMedian: mcseMedian
        case .mcseSd: mcseSd
        case .mcseQ5: mcseQ5
        case .mcseQ95: mcseQ95
        }
    }
}

/// The summary of many variables: the columns of posterior's
/// `summarise_draws` (and its MCSE columns on request), one row per
/// variable in the order given. Renderings are in `Summary+Rendering.swift`.
public struct Summary: Sendable, Hashable {
    /// The columns computed, in display order.
    public let columns: [SummaryColumn]
    public let rows: [SummaryRow]

    /// A summary table from rows computed elsewhere (or a subset of another's).
    public init(columns: [SummaryColumn], rows: [SummaryRow]) {
        self.columns = columns
        self.rows = rows
    }
}

/// Summarises many variables at once, as posterior's `summarise_draws`
/// with its default measures (mean, median, sd, mad, q5, q95, rhat,
/// ess_bulk, ess_tail) and, if `monteCarloStandardErrors`, its
/// `default_mcse_measures()` (mcse_mean, mcse_median, mcse_sd, mcse_q5, mcse_q95).
///
/// Variables may differ in shape. They are processed in parallel when
/// `parallel` is true; each row depends only on its own draws, so the
/// result is the same either way.
public func summarize(
    _ variables: [(name: String, draws: Draws)],
    monteCarloStandardErrors: Bool = false,
    parallel: Bool = true
) -> Summary {
    let columns = SummaryColumn.defaults + (monteCarloStandardErrors ? SummaryColumn.monteCarloStandardErrors : [])
    var rows = [SummaryRow?](repeating: nil, count: variables.count)
    rows.withUnsafeMutableBufferPointer { output in
        let output = UncheckedSendable(output)
        let work: @Sendable (Int) -> Void = { index in
            output.value[index] = summarizeVariable(
                variables[index].name, variables[index].draws, monteCarloStandardErrors: monteCarloStandardErrors)
        }
        if parallel, variables.count > 1 {
            DispatchQueue.concurrentPerform(iterations: variables.count, execute: work)
        } else {
            for index in variables.indices { work(index) }
        }
    }
    return Summary(columns: columns, rows: rows.map { $0! })
}

/// Lets each worker write its own, distinct element of the output buffer.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One row, sharing the sorted draws and the rank-normalised split chains
/// between the columns that need them. Each value is what the function of
/// the same name returns.
func summarizeVariable(_ name: String, _ draws: Draws, monteCarloStandardErrors: Bool) -> SummaryRow {
    var row = SummaryRow(variable: name)
    let values = draws.values
    let variance = RArithmetic.variance(values)
    row.mean = RArithmetic.mean(values).available
    row.sd = variance.squareRoot().available
    guard !containsNaN(values) else {
        return row  // every other column is NA, as in posterior
    }
    // One argsort serves the quantiles, the ranks of the draws, and (by a
    // merge) the order of the folded draws for the MAD and the tail R-hat.
    let order = ascendingOrder(values)
    let sorted = values.withUnsafeBufferPointer { v in order.map { v[Int($0)] } }
    let centre = medianOfSorted(sorted)
    row.median = centre.available
    row.q5 = typeSevenQuantile(sorted: sorted, probability: 0.05).available
    row.q95 = typeSevenQuantile(sorted: sorted, probability: 0.95).available

    let transforms = FourierTransforms()
    let bulk = rankNormalizedSplit(draws, values: values, order: order)
    row.essBulk = effectiveSampleSize(bulk, transforms: transforms)
    let fold = values.map { abs($0 - centre) }
    if !containsNaN(fold) {
        let foldOrder = foldedOrder(values, ascending: order, centre: centre)
        let sortedFold = fold.withUnsafeBufferPointer { f in foldOrder.map { f[Int($0)] } }
        row.mad = (1.4826 * medianOfSorted(sortedFold)).available
        if let bulkRhat = potentialScaleReduction(bulk),
           let tailRhat = potentialScaleReduction(rankNormalizedSplit(draws, values: fold, order: foldOrder)) {
            row.rhat = max(bulkRhat, tailRhat)
        }
    }
    let notAvailable = shouldReturnNotAvailable(values)
    var ess05: Double?, ess95: Double?
    if !notAvailable {
        ess05 = quantileEffectiveSampleSize(draws, sorted: sorted, probability: 0.05, transforms: transforms)
        ess95 = quantileEffectiveSampleSize(draws, sorted: sorted, probability: 0.95, transforms: transforms)
        if let ess05, let ess95 { row.essTail = min(ess05, ess95) }
    }
    if monteCarloStandardErrors {
        if let ess = effectiveSampleSize(splitChains(draws), transforms: transforms) {
            row.mcseMean = (variance.squareRoot() / ess.squareRoot()).available
        }
        row.mcseSd = mcseSd(draws)
        if !notAvailable {
            row.mcseMedian = quantileStandardError(draws, sorted: sorted, probability: 0.5, transforms: transforms)
            row.mcseQ5 = quantileStandardError(sorted: sorted, probability: 0.05, effectiveSampleSize: ess05)
            row.mcseQ95 = quantileStandardError(sorted: sorted, probability: 0.95, effectiveSampleSize: ess95)
        }
    }
    return row
}
