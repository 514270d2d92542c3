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
            let name = ParameterNaming.effects(term: term.name, levels: [term.levels[0]], columns: term.columns)[0]
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

    /// Calls `body` with observations' indices (used rows, in file order,
    /// or a cell) and their log-likelihood draws (the chains readers use),
    /// `cellsPerChunk` cells' worth at a time: once per cell and counts, with
    /// every row of the cell that has those counts (whose draws are the same).
    public func forEach(_ unit: Unit, cellsPerChunk: Int = 256,
                        _ body: ([Int], Draws) throws -> Void) throws {
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
                    let names = ParameterNaming.effects(term: term.name, levels: [level], columns: term.columns)
                    for (j, name) in names.enumerated() {
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
                // The observations of the cell, grouped by their counts.
                var groups: [(successes: Double, trials: Double, constant: Double, indices: [Int])] = []
                if unit == .cell {
                    groups = [(design.successes[cell], design.trials[cell], design.logBinomialCoefficients[cell], [cell])]
                } else {
                    for r in rowsOfCell[cell] {
                        let y = design.rowSuccesses[r], n = design.rowTrials[r]
                        if let g = groups.firstIndex(where: { $0.successes == y && $0.trials == n }) {
                            groups[g].indices.append(r)
                        } else {
                            groups.append((y, n, n > 1 ? lgamma(n + 1) - lgamma(y + 1) - lgamma(n - y + 1) : 0, [r]))
                        }
                    }
                }
                for group in groups {
                    let values = eta.map {
                        group.constant + run.link.logLikelihood(successes: group.successes, trials: group.trials,
                                                                linearPredictor: $0)
                    }
                    let ll: Draws
                    do { ll = try Draws(columnMajor: values, iterations: perChain, chains: chains) } catch {
                        throw InputError(.malformedCSV, "the draws do not form chains: \(error)", file: run.store.path)
                    }
                    try body(group.indices, ll)
                }
            }
        }
    }

    /// PSIS-LOO and WAIC over the observations of `unit`.
    public func criteria(_ unit: Unit) throws -> (loo: LeaveOneOut, waic: WidelyApplicableCriterion) {
        let n = count(unit)
        var points = [LeaveOneOut.Pointwise?](repeating: nil, count: n)
        var elpd = [Double](repeating: 0, count: n), parameters = [Double](repeating: 0, count: n)
        try forEach(unit) { indices, ll in
            let loo = LeaveOneOut.pointwise(ll), waic = WidelyApplicableCriterion.pointwise(ll)
            for index in indices {
                points[index] = loo
                (elpd[index], parameters[index]) = waic
            }
        }
        return (LeaveOneOut(pointwise: points.map { $0! }, draws: run.chainNumbers.count * run.drawsPerChain),
                WidelyApplicableCriterion(elpd: elpd, effectiveParameters: parameters))
    }
}
