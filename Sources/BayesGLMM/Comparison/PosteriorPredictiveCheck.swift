import Diagnostics
import Foundation
import Variates

/// Posterior predictive checks (Gelman, Meng & Stern 1996, "Posterior
/// predictive assessment of model fitness via realized discrepancies",
/// Statistica Sinica 6; the displays of Gabry et al. 2019, "Visualization in
/// Bayesian workflow", JRSS A 182, as bayesplot draws them): at each of S
/// posterior draws t (evenly spaced over the chains), a replicated data set
/// of the fit's cells,
///
///     yᵢʳᵉᵖ⁽ᵗ⁾ ~ Binomial(nᵢ, F(ψᵢ⁽ᵗ⁾)),   ψᵢ⁽ᵗ⁾ = oᵢ + xᵢ'β⁽ᵗ⁾ + Σₖ zᵢₖ'uₖ⁽ᵗ⁾[levelₖ(i)],
///
/// and statistics T of the data against their replicated distribution
/// {T(yʳᵉᵖ⁽ᵗ⁾)}: the overall success rate Σyᵢ/Σnᵢ (bayesplot's
/// `ppc_stat`), the number of cells of two or more trials with none or all
/// successful (a discrepancy for over-dispersion), the success rate of each level of a grouping factor
/// (`ppc_stat_grouped`), and the number of cells with k successes for each
/// k (`ppc_bars`) — which shows the over-dispersion a missing term leaves:
/// too many cells with all or none of their trials successful. The
/// posterior predictive p-value of T is P(T(yʳᵉᵖ) ≥ T(y)) over the draws.
///
/// Cell i's variates come from its own stream of the `Generator` (keyed by
/// the seed and i), so the replicates do not depend on the chunking or the
/// number of threads.
public struct PosteriorPredictiveCheck: Sendable {
    /// A statistic of the data and its replicated values.
    public struct Statistic: Sendable, Equatable {
        public var name: String
        public var observed: Double
        /// T(yʳᵉᵖ⁽ᵗ⁾), one per draw used.
        public var replicated: [Double]

        /// P(T(yʳᵉᵖ) ≥ T(y)): the fraction of draws at or above the data.
        public var pValue: Double {
            Double(replicated.filter { $0 >= observed }.count) / Double(max(replicated.count, 1))
        }
        /// The mean and the 5% and 95% quantiles (R's type 7) of the replicates.
        public var mean: Double { replicated.reduce(0, +) / Double(max(replicated.count, 1)) }
        public var interval: (lower: Double, upper: Double) {
            let sorted = replicated.sorted()
            guard !sorted.isEmpty else { return (.nan, .nan) }
            return (typeSevenQuantile(sorted: sorted, probability: 0.05),
                    typeSevenQuantile(sorted: sorted, probability: 0.95))
        }
    }

    /// The draws used (indices into the chains' draws, chains one after another).
    public let draws: [Int]
    /// The overall success rate.
    public let rate: Statistic
    /// The number of cells of two or more trials with none or all of them
    /// successful: a measure of over-dispersion between cells, which a
    /// missing term (an unmodelled client:stylist effect) leaves too low in
    /// the replicates. Nil when no cell has two trials.
    public let allOrNone: Statistic?
    /// The grouping factor of `grouped` (a random term's name), if asked.
    public let factor: String?
    /// The success rate of each level of `factor`, named by the level.
    public let grouped: [Statistic]
    /// The number of cells with k successes, k = 0 … the most trials of a
    /// cell (named "k"); empty when a cell has more than `maximumBarTrials`.
    public let bars: [Statistic]
    /// Cells and trials checked.
    public let cells: Int
    public let trials: Double

    /// Bars are drawn for cells of at most this many trials.
    public static let maximumBarTrials = 50

    /// Replicates the data of `source` (a fit and its data) at `drawCount`
    /// draws evenly spaced over all of them (all when there are fewer).
    /// Throws `InputError` for a fit whose cells have fractional counts
    /// (prior weights): a binomial replicate needs whole trials.
    public init(_ source: PointwiseLogLikelihood, drawCount: Int = 1000, seed: UInt64 = 1,
                factor: String? = nil) throws {
        let design = source.design, run = source.run
        if let cell = design.trials.indices.first(where: {
            design.trials[$0] != design.trials[$0].rounded() || design.successes[$0] != design.successes[$0].rounded()
        }) {
            throw InputError(.unsupported, "cell \(cell + 1) has \(design.successes[cell]) successes in "
                             + "\(design.trials[cell]) trials (weighted rows): posterior predictive replicates need "
                             + "whole counts", file: run.path)
        }
        var term: RandomEffect?
        if let factor {
            guard let found = design.randomTerms.first(where: { $0.name == factor }) else {
                throw InputError(.badOption, "the fit has no random term \"\(factor)\" (its terms: "
                                 + design.randomTerms.map(\.name).joined(separator: ", ") + ")",
                                 file: run.path, setting: "term")
            }
            term = found
        }
        let total = run.chainNumbers.count * run.drawsPerChain
        let used = evenlySpaced(total, count: max(1, drawCount))
        let s = used.count
        let largest = Int(design.trials.max() ?? 0)
        let barCount = largest <= PosteriorPredictiveCheck.maximumBarTrials ? largest + 1 : 0

        // Per draw used: successes overall, per level, and cells per count.
        var successes = [Double](repeating: 0, count: s)
        let levels = term?.levels.count ?? 0
        var levelSuccesses = [Double](repeating: 0, count: levels * s)
        var levelTrials = [Double](repeating: 0, count: levels)
        var levelObserved = [Double](repeating: 0, count: levels)
        var counts = [Double](repeating: 0, count: barCount * s)
        var extremes = [Double](repeating: 0, count: s), observedExtremes = 0.0
        var observedCounts = [Double](repeating: 0, count: barCount)
        let link = run.link
        try source.forEachChunk(.cell, cellsPerChunk: 1024) { chunk in
            for cell in chunk.cells {
                let eta = chunk.linearPredictor(cell)
                let n = design.trials[cell]
                let generator = try Generator(seed: seed, chain: 0x5050_4300, stream: UInt64(cell))
                let level = term.map { Int($0.levelOfCell[cell]) }
                if let level {
                    levelTrials[level] += n
                    levelObserved[level] += design.successes[cell]
                }
                if barCount > 0 { observedCounts[Int(design.successes[cell])] += 1 }
                let observedY = design.successes[cell]
                if n >= 2 && (observedY == 0 || observedY == n) { observedExtremes += 1 }
                for (j, t) in used.enumerated() {
                    let y = Double(generator.binomial(trials: UInt32(n), probability: link.probability(eta[t])))
                    successes[j] += y
                    if n >= 2 && (y == 0 || y == n) { extremes[j] += 1 }
                    if let level { levelSuccesses[level * s + j] += y }
                    if barCount > 0 { counts[Int(y) * s + j] += 1 }
                }
            }
        }
        let trials = design.trials.reduce(0, +)
        draws = used
        cells = design.cellCount
        self.trials = trials
        rate = Statistic(name: "success rate", observed: design.successes.reduce(0, +) / trials,
                         replicated: successes.map { $0 / trials })
        allOrNone = design.trials.contains { $0 >= 2 }
            ? Statistic(name: "cells all or none", observed: observedExtremes, replicated: extremes) : nil
        self.factor = factor
        grouped = (0..<levels).map { level in
            Statistic(name: term!.levels[level], observed: levelObserved[level] / levelTrials[level],
                      replicated: (0..<s).map { levelSuccesses[level * s + $0] / levelTrials[level] })
        }
        bars = (0..<barCount).map { k in
            Statistic(name: String(k), observed: observedCounts[k], replicated: Array(counts[(k * s)..<((k + 1) * s)]))
        }
    }

    /// The statistics as CSV, a row each: statistic ("rate",
    /// "cells_all_or_none", "cells_with_successes", "rate_by_TERM"), name (the k or the level),
    /// observed, mean, q5, q95, p_value.
    public var csv: String {
        var rows: [[String]] = []
        func add(_ kind: String, _ statistic: Statistic) {
            let (lower, upper) = statistic.interval
            rows.append([kind, statistic.name] + Comparison.fields([statistic.observed, statistic.mean, lower, upper,
                                                                    statistic.pValue]))
        }
        add("rate", rate)
        if let allOrNone { add("cells_all_or_none", allOrNone) }
        for bar in bars { add("cells_with_successes", bar) }
        for level in grouped { add("rate_by_\(factor!)", level) }
        return Comparison.csv(header: ["statistic", "name", "observed", "mean", "q5", "q95", "p_value"], rows: rows)
    }
}
