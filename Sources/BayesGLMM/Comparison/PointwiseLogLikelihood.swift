import Diagnostics
import Foundation

/// A fit's pointwise log-likelihood on its data, observation by observation,
/// for PSIS-LOO and WAIC (`LeaveOneOut`, `WidelyApplicableCriterion`): at
/// draw t, for a row r of cell i with yᵣ successes in nᵣ trials,
///
///     ℓᵣ⁽ᵗ⁾ = log C(nᵣ, yᵣ) + yᵣ log F(ψᵢ⁽ᵗ⁾) + (nᵣ − yᵣ) log(1 − F(ψᵢ⁽ᵗ⁾)),
///     ψᵢ⁽ᵗ⁾ = oᵢ + xᵢ'β⁽ᵗ⁾ + Σₖ zᵢₖ'uₖ⁽ᵗ⁾[levelₖ(i)],
///
/// F the fit's inverse link — as rstanarm's and brms's `log_lik` give it for
/// a binomial model, one value per row of the data; or per binomial cell
/// (`Unit.cell`: the cell's rows together, as one observation). Computed a
/// chunk of cells at a time from the draw store, so that memory is bounded
/// by the chunk, not the data.
public struct PointwiseLogLikelihood: Sendable {
    /// What one observation is.
    public enum Unit: String, Sendable, CaseIterable {
        /// A row of the data (rstanarm's and brms's observations).
        case row
        /// A binomial cell: rows with the same design row, together.
        case cell
    }

    public let run: RunDirectory
    public let design: Design

    /// The fit's design rebuilt from its data (`dataPath`, or the file
    /// fit.json names). Throws `InputError` when the data cannot be read,
    /// do not give the fit's model (other rows used or fixed effects), or
    /// the store lacks the draws of an effect (a fit with `save` other than
    /// all).
    public init(run: RunDirectory, dataPath: String? = nil) throws(InputError) {
        let path = dataPath ?? run.data
        let formula: ModelFormula
        do { formula = try ModelFormula.parse(run.formula) } catch {
            throw InputError(.malformedCSV, "the fit's formula does not parse: \(error)", file: run.path)
        }
        let design = try Design(formula: formula, frame: Frame.read(csvFile: path), options: run.manifest.designOptions)
        guard design.rowsUsed == run.rowsUsed, design.fixedNames == run.fixedNames,
              design.randomTerms.map(\.name) == run.terms.map(\.name) else {
            throw InputError(.badOption, "these data give \(design.rowsUsed) rows used and fixed effects "
                             + design.fixedNames.joined(separator: ", ") + ", the fit \(run.rowsUsed) and "
                             + run.fixedNames.joined(separator: ", ") + ": are they the data of the fit?",
                             file: path, setting: "data")
        }
        for term in design.randomTerms {
            let name = term.isInterceptOnly ? "r(\(term.name))[\(term.levels[0])]"
                : "r(\(term.name))[\(term.levels[0])][\(term.columns[0])]"
            guard run.parameterIndex(name) != nil else {
                throw InputError(.unsupported, "the draw store has no draws of \(name), which the pointwise "
                                 + "log-likelihood needs", file: run.store.path,
                                 advice: "refit with \(setting: "save", value: "all")")
            }
        }
        self.run = run
        self.design = design
    }

    /// The number of observations of `unit`.
    public func count(_ unit: Unit) -> Int { unit == .row ? design.rowsUsed : design.cellCount }

    /// Calls `body` with each observation's index (a used row, in file
    /// order, or a cell) and its log-likelihood draws (the chains readers
    /// use), `cellsPerChunk` cells' worth at a time. Rows of one cell with
    /// the same counts have the same draws; `body` is called for each.
    public func forEach(_ unit: Unit, cellsPerChunk: Int = 256,
                        _ body: (Int, Draws) throws -> Void) throws {
        let chains = run.chainNumbers.count, perChain = run.drawsPerChain, total = chains * perChain
        let p = design.fixedCount
        let fixedIndices = try design.fixedNames.map { name throws(InputError) -> Int in
            guard let index = run.parameterIndex(name) else {
                throw InputError(.unsupported, "the draw store has no draws of \(name)", file: run.store.path)
            }
            return index
        }
        // Rows by cell.
        var rowsOfCell = [[Int]](repeating: [], count: design.cellCount)
        if unit == .row { for (r, cell) in design.cellOfRow.enumerated() { rowsOfCell[Int(cell)].append(r) } }
        var start = 0
        while start < design.cellCount {
            let cells = start..<min(start + cellsPerChunk, design.cellCount)
            start = cells.upperBound
            // The parameters these cells need: β, and each level's effects.
            var needed = fixedIndices, slot: [Int: Int] = [:]
            var effects = [[(slot: Int, column: Int)]](repeating: [], count: cells.count)
            for (c, cell) in cells.enumerated() {
                for term in design.randomTerms {
                    let level = term.levels[Int(term.levelOfCell[cell])]
                    for (j, column) in term.columns.enumerated() {
                        let name = term.isInterceptOnly ? "r(\(term.name))[\(level)]" : "r(\(term.name))[\(level)][\(column)]"
                        guard let index = run.parameterIndex(name) else {
                            throw InputError(.unsupported, "the draw store has no draws of \(name)", file: run.store.path)
                        }
                        if slot[index] == nil { slot[index] = needed.count; needed.append(index) }
                        effects[c].append((slot[index]!, term.isInterceptOnly ? -1 : j))
                    }
                }
            }
            let draws = try run.store.matrix(of: needed, first: perChain)
            for (c, cell) in cells.enumerated() {
                var eta = [Double](repeating: design.offset(cell), count: total)
                for j in 0..<p {
                    let x = design.fixed[cell * p + j]
                    guard x != 0 else { continue }
                    for t in 0..<total { eta[t] += x * draws[j * total + t] }
                }
                var k = 0
                for term in design.randomTerms {
                    for _ in term.columns {
                        let (s, column) = effects[c][k]
                        k += 1
                        let z = column < 0 ? 1 : term.value(cell: cell, column: column)
                        guard z != 0 else { continue }
                        for t in 0..<total { eta[t] += z * draws[s * total + t] }
                    }
                }
                let observations: [(index: Int, successes: Double, trials: Double, constant: Double)]
                if unit == .cell {
                    observations = [(cell, design.successes[cell], design.trials[cell],
                                     design.logBinomialCoefficients[cell])]
                } else {
                    observations = rowsOfCell[cell].map { r in
                        let y = design.rowSuccesses[r], n = design.rowTrials[r]
                        return (r, y, n, n > 1 ? lgamma(n + 1) - lgamma(y + 1) - lgamma(n - y + 1) : 0)
                    }
                }
                var computed: [String: Draws] = [:]
                for observation in observations {
                    let key = "\(observation.successes)/\(observation.trials)"
                    if let done = computed[key] { try body(observation.index, done); continue }
                    let values = eta.map {
                        observation.constant + run.link.logLikelihood(successes: observation.successes,
                                                                       trials: observation.trials, linearPredictor: $0)
                    }
                    let ll: Draws
                    do { ll = try Draws(columnMajor: values, iterations: perChain, chains: chains) } catch {
                        throw InputError(.malformedCSV, "the draws do not form chains: \(error)", file: run.store.path)
                    }
                    computed[key] = ll
                    try body(observation.index, ll)
                }
            }
        }
    }

    /// PSIS-LOO and WAIC over the observations of `unit`.
    public func criteria(_ unit: Unit) throws -> (loo: LeaveOneOut, waic: WidelyApplicableCriterion) {
        let n = count(unit)
        var points = [LeaveOneOut.Pointwise?](repeating: nil, count: n)
        var elpd = [Double](repeating: 0, count: n), parameters = [Double](repeating: 0, count: n)
        // Rows of a cell with the same counts share their draws: their
        // figures are computed once (the few of the cell at hand kept).
        var recent: [(ll: Draws, loo: LeaveOneOut.Pointwise, waic: (elpd: Double, effectiveParameters: Double))] = []
        try forEach(unit) { index, ll in
            let figures = recent.first { $0.ll == ll }
                ?? (ll, LeaveOneOut.pointwise(ll), WidelyApplicableCriterion.pointwise(ll))
            if !recent.contains(where: { $0.ll == ll }) {
                recent.append(figures)
                if recent.count > 4 { recent.removeFirst() }
            }
            points[index] = figures.loo
            (elpd[index], parameters[index]) = figures.waic
        }
        return (LeaveOneOut(pointwise: points.map { $0! }, draws: run.chainNumbers.count * run.drawsPerChain),
                WidelyApplicableCriterion(elpd: elpd, effectiveParameters: parameters))
    }
}
