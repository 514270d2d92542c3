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
        try forEachChunk(unit, cellsPerChunk: cellsPerChunk) { chunk in
            for cell in chunk.cells {
                for (indices, ll) in try chunk.observations(cell) { try body(indices, ll) }
            }
        }
    }

    /// The draws one chunk of cells needs, read from the store at once.
    struct Chunk {
        /// The cells, in the order the batch gave them.
        let cells: [Int]
        let unit: Unit
        let design: Design
        let link: Link
        /// Column-major: the draws of needed parameter j at [j · total ..< (j + 1) · total].
        let draws: [Double]
        /// Per cell of the chunk (by position in `cells`), per effect column
        /// of its levels: the parameter's place in `draws` and its column
        /// (−1: an intercept).
        let effects: [[(slot: Int, column: Int)]]
        /// Each cell's position in `cells`.
        let position: [Int: Int]
        let rowsOfCell: [[Int]]
        let iterations: Int, chains: Int
        let storePath: String

        /// ψᵢ⁽ᵗ⁾ of a cell of the chunk at every draw (chains one after
        /// another); without the effects of the random terms `excluding`.
        func linearPredictor(_ cell: Int, excluding: Set<Int> = []) -> [Double] {
            let total = iterations * chains
            var eta = [Double](repeating: design.offset(cell), count: total)
            let terms = PointwiseLogLikelihood.linearTerms(of: cell, design: design,
                                                           fixedPlaces: Array(0..<design.fixedCount),
                                                           effects: effects[position[cell]!], excluding: excluding)
            draws.withUnsafeBufferPointer { draws in
                for (s, value) in terms {
                    for t in 0..<total { eta[t] += value * draws[s * total + t] }
                }
            }
            return eta
        }

        /// The observations of a cell: its rows grouped by their counts
        /// (`Unit.row`), or the cell itself, each with its log-likelihood draws.
        func observations(_ cell: Int) throws(InputError) -> [([Int], Draws)] {
            let eta = linearPredictor(cell)
            return try PointwiseLogLikelihood.observations(of: cell, unit: unit, design: design, rowsOfCell: rowsOfCell)
                .map { observation throws(InputError) in
                    let values = eta.map { observation.logLikelihood(link, linearPredictor: $0) }
                    do {
                        return (observation.indices, try Draws(columnMajor: values, iterations: iterations, chains: chains))
                    } catch {
                        throw InputError(.malformedCSV, "the draws do not form chains: \(error)", file: storePath)
                    }
                }
        }
    }

    /// The cell's linear predictor without its offset as Σ value · θ[place]:
    /// each fixed effect's column value xᵢⱼ, then each effect column's zᵢₖ
    /// (1 for an intercept), in that order, zeros left out — the order
    /// both `Chunk` and `LogLikelihoodColumns` sum them in.
    static func linearTerms(of cell: Int, design: Design, fixedPlaces: [Int],
                            effects: [(slot: Int, column: Int)], excluding: Set<Int> = []) -> [(place: Int, value: Double)] {
        let p = design.fixedCount
        var terms: [(place: Int, value: Double)] = []
        for j in 0..<p where design.fixed[cell * p + j] != 0 {
            terms.append((fixedPlaces[j], design.fixed[cell * p + j]))
        }
        var k = 0
        for (index, term) in design.randomTerms.enumerated() {
            for _ in term.columns {
                let (place, column) = effects[k]
                k += 1
                guard !excluding.contains(index) else { continue }
                let z = column < 0 ? 1 : term.value(cell: cell, column: column)
                if z != 0 { terms.append((place, z)) }
            }
        }
        return terms
    }

    /// Observations of one cell that share their counts, and so their
    /// log-likelihood: the cell itself (`Unit.cell`), or its rows with the
    /// same successes and trials (`Unit.row`).
    struct Observation {
        let successes: Double, trials: Double
        /// log C(n, y).
        let constant: Double
        /// The cell, or the rows (indices among the used rows).
        var indices: [Int]

        /// log C(n, y) + log p(y | n, ψ) under `link`.
        func logLikelihood(_ link: Link, linearPredictor psi: Double) -> Double {
            constant + link.logLikelihood(successes: successes, trials: trials, linearPredictor: psi)
        }
    }

    /// The observations of `cell`; `rowsOfCell` (the used rows of each
    /// cell) is needed for `Unit.row` only.
    static func observations(of cell: Int, unit: Unit, design: Design, rowsOfCell: [[Int]]) -> [Observation] {
        if unit == .cell {
            return [Observation(successes: design.successes[cell], trials: design.trials[cell],
                                constant: design.logBinomialCoefficients[cell], indices: [cell])]
        }
        var groups: [Observation] = []
        for r in rowsOfCell[cell] {
            let y = design.rowSuccesses[r], n = design.rowTrials[r]
            if let g = groups.firstIndex(where: { $0.successes == y && $0.trials == n }) {
                groups[g].indices.append(r)
            } else {
                groups.append(Observation(successes: y, trials: n,
                                          constant: n > 1 ? lgamma(n + 1) - lgamma(y + 1) - lgamma(n - y + 1) : 0,
                                          indices: [r]))
            }
        }
        return groups
    }

    /// The used rows of each cell, in file order.
    static func rowsOfCells(_ design: Design) -> [[Int]] {
        var rowsOfCell = [[Int]](repeating: [], count: design.cellCount)
        for (r, cell) in design.cellOfRow.enumerated() { rowsOfCell[Int(cell)].append(r) }
        return rowsOfCell
    }

    /// Calls `body` with each chunk of `cellsPerChunk` cells in turn.
    func forEachChunk(_ unit: Unit, cellsPerChunk: Int, _ body: (Chunk) throws -> Void) throws {
        let batches = stride(from: 0, to: design.cellCount, by: cellsPerChunk).lazy.map {
            Array($0..<min($0 + cellsPerChunk, self.design.cellCount))
        }
        try forEachChunk(unit, batches: batches, body)
    }

    /// Calls `body` with a chunk of each batch of cells in turn.
    func forEachChunk<Batches: Sequence<[Int]>>(_ unit: Unit, batches: Batches, _ body: (Chunk) throws -> Void)
        throws {
        let chains = run.chainNumbers.count, perChain = run.drawsPerChain
        let fixedIndices = try design.fixedNames.map { name throws(InputError) -> Int in
            guard let index = run.parameterIndex(name) else {
                throw InputError(.unsupported, "the draw store has no draws of \(name)", file: run.store.path)
            }
            return index
        }
        let rowsOfCell = unit == .row ? PointwiseLogLikelihood.rowsOfCells(design) : []
        for cells in batches {
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
            try body(Chunk(cells: cells, unit: unit, design: design, link: run.link, draws: draws, effects: effects,
                           position: Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($1, $0) }),
                           rowsOfCell: rowsOfCell, iterations: perChain, chains: chains, storePath: run.store.path))
        }
    }

    /// PSIS-LOO and WAIC over the observations of `unit`, the cells of a
    /// chunk on every processor (each observation's figures depend on its
    /// draws alone, so they are the same whatever the number of threads).
    public func criteria(_ unit: Unit) throws -> (loo: LeaveOneOut, waic: WidelyApplicableCriterion) {
        let n = count(unit)
        var points = [LeaveOneOut.Pointwise?](repeating: nil, count: n)
        var elpd = [Double](repeating: 0, count: n), parameters = [Double](repeating: 0, count: n)
        let workers = ProcessInfo.processInfo.activeProcessorCount
        try points.withUnsafeMutableBufferPointer { points in
            try elpd.withUnsafeMutableBufferPointer { elpd in
                try parameters.withUnsafeMutableBufferPointer { parameters in
                    // Each observation index belongs to one cell, so workers write apart.
                    let output = UncheckedOutput(points: points, elpd: elpd, parameters: parameters)
                    try forEachChunk(unit, cellsPerChunk: 1024) { chunk in
                        let failures = FailureList()
                        DispatchQueue.concurrentPerform(iterations: min(workers, chunk.cells.count)) { worker in
                            let transforms = FourierTransforms()
                            for place in stride(from: worker, to: chunk.cells.count, by: workers) {
                                let cell = chunk.cells[place]
                                do throws(InputError) {
                                    for (indices, ll) in try chunk.observations(cell) {
                                        let loo = LeaveOneOut.pointwise(ll, transforms: transforms)
                                        let waic = WidelyApplicableCriterion.pointwise(
                                            ll, logPredictiveDensity: loo.logPredictiveDensity)
                                        for index in indices {
                                            output.points[index] = loo
                                            (output.elpd[index], output.parameters[index]) = waic
                                        }
                                    }
                                } catch { failures.add(error) }
                            }
                        }
                        if let error = failures.first { throw error }
                    }
                }
            }
        }
        return (LeaveOneOut(pointwise: points.map { $0! }, draws: run.chainNumbers.count * run.drawsPerChain),
                WidelyApplicableCriterion(elpd: elpd, effectiveParameters: parameters))
    }
}

/// The output buffers of `criteria`, written by workers at distinct indices.
private struct UncheckedOutput: @unchecked Sendable {
    let points: UnsafeMutableBufferPointer<LeaveOneOut.Pointwise?>
    let elpd: UnsafeMutableBufferPointer<Double>
    let parameters: UnsafeMutableBufferPointer<Double>
}

/// Errors thrown by workers; one is reported.
private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [InputError] = []
    func add(_ error: InputError) { lock.lock(); errors.append(error); lock.unlock() }
    var first: InputError? { lock.lock(); defer { lock.unlock() }; return errors.first }
}
