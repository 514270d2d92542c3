import Foundation
import Variates

extension Scoring {
    /// What to compute beyond the scores.
    public struct Options: Sendable {
        /// The threshold of P(p > threshold).
        public var threshold: Double
        /// The seed of the new levels' effects and of the Thompson draws.
        public var seed: UInt64
        /// A grouping column (say "client"): rank each group's candidate rows
        /// by posterior mean, with P(best) and expected regret.
        public var rankBy: String?
        /// One Thompson-sampling choice per group of `rankBy`.
        public var thompson: Bool
        /// Candidate rows scored together (with ranking, whole groups are
        /// kept together, so a chunk may hold more). Memory per thread is
        /// about the draws of the parameters a chunk needs (the fixed effects,
        /// the SDs and at most one effect per term and row), 8 bytes each,
        /// plus one rank-by group's p values.
        public var rowsPerChunk: Int
        /// Threads working on chunks at once (results never depend on it).
        public var threads: Int
        /// How a level the fit never saw enters pᵢ⁽ᵗ⁾ (`NewLevels`).
        public var newLevels: NewLevels

        public init(threshold: Double = 0.5, seed: UInt64 = 1, rankBy: String? = nil, thompson: Bool = false,
                    rowsPerChunk: Int = 2000, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    newLevels: NewLevels = .sample) {
            self.newLevels = newLevels
            self.threshold = threshold
            self.seed = seed
            self.rankBy = rankBy
            self.thompson = thompson
            self.rowsPerChunk = rowsPerChunk
            self.threads = threads
        }
    }

    /// The score of one candidate row.
    public struct Score: Sendable, Equatable {
        /// Posterior predictive success probability, (1/T) Σₜ pᵢ⁽ᵗ⁾.
        public var mean: Double
        /// 5, 50 and 95% quantiles of the draws pᵢ⁽ᵗ⁾ (R's type 7).
        public var q5: Double
        public var q50: Double
        public var q95: Double
        /// (1/T) #{t : pᵢ⁽ᵗ⁾ > threshold}.
        public var probabilityAboveThreshold: Double
        /// With `rankBy`: 1 for the highest posterior mean in the row's group.
        public var rank: Int?
        /// With `rankBy`: (1/T) Σₜ 1{pᵢ⁽ᵗ⁾ = maxⱼ pⱼ⁽ᵗ⁾} / #{j : pⱼ⁽ᵗ⁾ = maxⱼ pⱼ⁽ᵗ⁾}
        /// over the group's rows j (ties split evenly), so it sums to 1 over a group.
        public var probabilityBest: Double?
        /// With `rankBy`: (1/T) Σₜ (maxⱼ pⱼ⁽ᵗ⁾ − pᵢ⁽ᵗ⁾), the expected loss in
        /// success probability from choosing this row over the group's best.
        public var expectedRegret: Double?
        /// With `thompson`: whether this row is its group's Thompson choice,
        /// argmaxⱼ pⱼ⁽ᵗ*⁾ at one posterior draw t* drawn uniformly (first row on a tie).
        public var thompsonChoice: Bool?
    }

    /// Scores every candidate row (see `Scoring` for the mathematics).
    ///
    /// Throws `InputError` for a `rankBy` that is not a grouping column of the
    /// model, a threshold outside [0, 1], or a draw store that cannot be read.
    public func score(_ candidates: Candidates, options: Options = Options()) throws(InputError) -> [Score] {
        guard options.threshold >= 0 && options.threshold <= 1 else {
            throw InputError(.badOption, "must be a probability in [0, 1], got \(options.threshold)",
                             setting: "threshold")
        }
        guard options.rowsPerChunk >= 1, options.threads >= 1 else {
            throw InputError(.badOption, "rows per chunk and threads must be at least 1")
        }
        if options.thompson && options.rankBy == nil {
            throw InputError(.badOption, "Thompson sampling chooses one row per group", setting: "thompson",
                             advice: "give \(setting: "rankBy") "
                                + "(e.g. \(setting: "rankBy", value: factors.first ?? "client"))")
        }
        // Groups of rows: by the rank-by column, else each row alone.
        var groups: [[Int]] = []
        var groupNames: [String] = []
        if let rankBy = options.rankBy {
            guard let k = terms.firstIndex(where: { $0.factors == [rankBy] }) else {
                throw InputError(.badOption, "\(rankBy) is not a grouping factor of the model with a term of its "
                                 + "own (the model's: " + terms.filter { $0.factors.count == 1 }.map(\.name)
                                    .joined(separator: ", ") + ")", setting: "rankBy")
            }
            var position: [String: Int] = [:]
            for row in 0..<candidates.count {
                let name = candidates.levels[k][row]
                if let g = position[name] { groups[g].append(row) } else {
                    position[name] = groups.count
                    groups.append([row])
                    groupNames.append(name)
                }
            }
        } else {
            groups = (0..<candidates.count).map { [$0] }
        }
        // Chunks of whole groups, of at least rowsPerChunk rows but the last,
        // with the groups in the order of their rows' effects in the store
        // (new levels last), so that a chunk's effects are near neighbours in
        // each draw's row of the store and a chunk reads few of its pages.
        // The results do not depend on the order (see `Scoring`).
        let keys = groups.map { group in
            candidates.effectIndices.map { $0[group[0]] < 0 ? Int.max : $0[group[0]] }
        }
        let order = groups.indices.sorted { a, b in
            keys[a].lexicographicallyPrecedes(keys[b]) || (keys[a] == keys[b] && a < b)
        }
        var chunks: [[Int]] = []
        var current: [Int] = [], rowsInCurrent = 0
        for g in order {
            current.append(g)
            rowsInCurrent += groups[g].count
            if rowsInCurrent >= options.rowsPerChunk {
                chunks.append(current)
                current = []
                rowsInCurrent = 0
            }
        }
        if !current.isEmpty { chunks.append(current) }

        let results = ResultBuffer(count: candidates.count)
        let (chunkList, groupList, groupNameList) = (chunks, groups, groupNames)
        let threads = min(options.threads, max(chunks.count, 1))
        // Each thread takes the next chunk not yet taken (chunks of new
        // levels, sorted last, cost more than others).
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while !results.failed, let c = results.claimChunk(below: chunkList.count) {
                do {
                    try scoreChunk(groups: chunkList[c].map { groupList[$0] },
                                   names: options.rankBy == nil ? nil : chunkList[c].map { groupNameList[$0] },
                                   candidates: candidates, options: options, into: results)
                } catch let error as InputError {
                    results.fail(error)
                    return
                } catch {
                    results.fail(InputError(.unsupported, "\(error)"))
                    return
                }
            }
        }
        if let error = results.error { throw error }
        return (0..<candidates.count).map { results[$0]! }
    }

    /// Scores one chunk: reads the draws of the parameters its rows need,
    /// computes pᵢ⁽ᵗ⁾ for every row and draw, and summarises.
    private func scoreChunk(groups: [[Int]], names: [String]?, candidates: Candidates, options: Options,
                            into results: ResultBuffer) throws(InputError) {
        let rows = groups.flatMap { $0 }
        let perChain = run.drawsPerChain, total = drawCount
        // The parameters needed, each read once.
        var needed = fixedIndices
        var covarianceSlots: [[Int]] = []
        for indices in covarianceIndices {
            covarianceSlots.append(indices.indices.map { needed.count + $0 })
            needed += indices
        }
        var slot: [Int: Int] = [:]
        for (k, _) in terms.enumerated() {
            let q = slopeProducts[k]?.count ?? 1
            for row in rows {
                let first = candidates.effectIndices[k][row]
                guard first >= 0 else { continue }
                for index in first..<(first + q) where slot[index] == nil {
                    slot[index] = needed.count
                    needed.append(index)
                }
            }
        }
        // Parameter-major: parameter k's draws are draws[k·total ..< (k + 1)·total].
        let draws = try run.store.matrix(of: needed, first: perChain)

        // p of each row of a group at every draw, a group at a time.
        let largest = groups.map(\.count).max() ?? 0
        var probabilities = [Double](repeating: 0, count: largest * total)
        var scratch = [Double](repeating: 0, count: total)
        for (g, group) in groups.enumerated() {
            let m = group.count
            for (i, row) in group.enumerated() {
                // Each new level's standard normals, from its own stream.
                var normals: [(k: Int, generator: Generator)] = []
                let newTerms = terms.indices.filter { candidates.effectIndices[$0][row] < 0 }
                for k in newTerms where options.newLevels == .sample {
                    let key = Scoring.newLevelStream(term: k, level: candidates.levels[k][row])
                    do {
                        normals.append((k, try Generator(seed: options.seed, chain: key.chain, stream: key.stream)))
                    } catch {
                        throw InputError(.unsupported, "cannot make a random number generator: \(error)")
                    }
                }
                let covariates = zip(fixedProducts, fixedIndicators).map { product, indicators in
                    Scoring.indicatorValue(indicators, row, candidates)
                        * product.reduce(1.0) { $0 * candidates.covariateValues[$1][row] }
                }
                // Per seen level: the slot of each column's effect and the
                // row's value of the column (1 for a random intercept).
                var effects: [(slot: Int, value: Double)] = []
                for k in terms.indices where candidates.effectIndices[k][row] >= 0 {
                    let first = candidates.effectIndices[k][row]
                    for (j, value) in slopeValues(k, row, candidates).enumerated() {
                        effects.append((slot[first + j]!, value))
                    }
                }
                let (sum, above) = probabilities.withUnsafeMutableBufferPointer { p in
                    draws.withUnsafeBufferPointer { d in
                        // η = o + Σⱼ xⱼβⱼ + the seen effects + σₖ z for the new levels.
                        let eta = p.baseAddress! + i * total, draw = d.baseAddress!
                        eta.update(repeating: candidates.offsets.isEmpty ? 0 : candidates.offsets[row], count: total)
                        for (j, x) in covariates.enumerated() where x != 0 {
                            let beta = draw + j * total
                            for t in 0..<total { eta[t] += x * beta[t] }
                        }
                        for (parameter, value) in effects where value != 0 {
                            let effect = draw + parameter * total
                            if value == 1 {
                                for t in 0..<total { eta[t] += effect[t] }
                            } else {
                                for t in 0..<total { eta[t] += value * effect[t] }
                            }
                        }
                        for (k, generator) in normals {
                            let slots = covarianceSlots[k]
                            guard slopeProducts[k] != nil else {
                                let sigma = draw + slots[0] * total
                                for t in 0..<total { eta[t] += sigma[t] * generator.normal() }
                                continue
                            }
                            // u = Lz ~ N(0, Σ) per draw, z'u = Σⱼ zⱼ(Lz)ⱼ.
                            let values = slopeValues(k, row, candidates), q = values.count
                            var sigma = [Double](repeating: 0, count: q * q), normal = [Double](repeating: 0, count: q)
                            for t in 0..<total {
                                var c = q
                                for a in 0..<q {
                                    let sa = draw[slots[a] * total + t]
                                    sigma[a * q + a] = sa * sa
                                    for b in (a + 1)..<q {
                                        let value = draw[slots[c] * total + t] * sa * draw[slots[b] * total + t]
                                        sigma[a * q + b] = value
                                        sigma[b * q + a] = value
                                        c += 1
                                    }
                                }
                                for a in 0..<q { normal[a] = generator.normal() }
                                // Σ's lower triangle becomes L in place (no allocation per draw).
                                let factored = sigma.withUnsafeMutableBufferPointer {
                                    SmallCholesky.factorInPlace($0.baseAddress!, size: q)
                                }
                                guard factored else { continue }
                                for a in 0..<q {
                                    var u = 0.0
                                    for b in 0...a { u += sigma[a * q + b] * normal[b] }
                                    eta[t] += values[a] * u
                                }
                            }
                        }
                        // Marginal: the new levels' effects together, z'u summed over
                        // their terms, are N(0, s²) at a draw, s² = Σₖ zₖ'Σₖzₖ.
                        var spread: [Double] = []
                        if options.newLevels == .marginal && !newTerms.isEmpty {
                            spread = [Double](repeating: 0, count: total)
                            for k in newTerms {
                                let slots = covarianceSlots[k]
                                let values = slopeProducts[k] == nil ? [1.0] : slopeValues(k, row, candidates)
                                let q = values.count
                                for t in 0..<total {
                                    var c = q, variance = 0.0
                                    for a in 0..<q {
                                        let sa = draw[slots[a] * total + t]
                                        variance += values[a] * values[a] * sa * sa
                                        for b in (a + 1)..<q {
                                            variance += 2 * values[a] * values[b] * draw[slots[c] * total + t] * sa
                                                * draw[slots[b] * total + t]
                                            c += 1
                                        }
                                    }
                                    spread[t] += variance
                                }
                            }
                        }
                        var sum = 0.0, above = 0
                        for t in 0..<total {
                            let probability = spread.isEmpty ? link.probability(eta[t])
                                : Scoring.marginalProbability(link, eta[t], standardDeviation: spread[t].squareRoot())
                            eta[t] = probability
                            sum += probability
                            if probability > options.threshold { above += 1 }
                        }
                        return (sum, above)
                    }
                }
                scratch.withUnsafeMutableBufferPointer { buffer in
                    probabilities.withUnsafeBufferPointer { p in
                        _ = buffer.update(fromContentsOf: p[(i * total)..<((i + 1) * total)])
                    }
                    let q = OrderStatistics.typeSevenQuantiles(buffer, probabilities: [0.05, 0.5, 0.95])
                    results.set(row, Score(mean: sum / Double(total), q5: q[0], q50: q[1], q95: q[2],
                                           probabilityAboveThreshold: Double(above) / Double(total)))
                }
            }
            guard let names else { continue }

            // Ranking within the group: P(best), expected regret, rank, Thompson.
            var best = [Double](repeating: 0, count: m), regret = [Double](repeating: 0, count: m)
            for t in 0..<total {
                var top = -Double.infinity, ties = 0
                for i in 0..<m {
                    let value = probabilities[i * total + t]
                    if value > top { top = value; ties = 1 } else if value == top { ties += 1 }
                }
                let share = 1 / Double(ties)
                for i in 0..<m {
                    let value = probabilities[i * total + t]
                    if value == top { best[i] += share }
                    regret[i] += top - value
                }
            }
            var chosen: Int?
            if options.thompson {
                let key = Scoring.thompsonStream(group: names[g])
                let generator: Generator
                do { generator = try Generator(seed: options.seed, chain: key.chain, stream: key.stream) } catch {
                    throw InputError(.unsupported, "cannot make a random number generator: \(error)")
                }
                let t = min(Int(generator.uniform() * Double(total)), total - 1)
                var top = -Double.infinity
                for i in 0..<m where probabilities[i * total + t] > top {
                    top = probabilities[i * total + t]
                    chosen = i
                }
            }
            let means = group.map { results[$0]!.mean }
            let order = (0..<m).sorted { means[$0] > means[$1] || (means[$0] == means[$1] && $0 < $1) }
            for (rank, i) in order.enumerated() {
                var score = results[group[i]]!
                score.rank = rank + 1
                score.probabilityBest = best[i] / Double(total)
                score.expectedRegret = regret[i] / Double(total)
                if options.thompson { score.thompsonChoice = chosen == i }
                results.set(group[i], score)
            }
        }
    }
}

/// The scores as chunks finish them, on several threads: each chunk is
/// claimed by one thread, each row written by the thread that scores its
/// chunk; the first error stops the rest.
private final class ResultBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var firstError: InputError?
    private var claimed = 0
    private let buffer: UnsafeMutableBufferPointer<Scoring.Score?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }
    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    var error: InputError? { lock.withLock { firstError } }
    var failed: Bool { error != nil }
    /// The next chunk no thread has taken, or nil when all `count` are taken.
    func claimChunk(below count: Int) -> Int? {
        lock.withLock {
            guard claimed < count else { return nil }
            claimed += 1
            return claimed - 1
        }
    }
    func fail(_ error: InputError) { lock.withLock { if firstError == nil { firstError = error } } }
    subscript(row: Int) -> Scoring.Score? { buffer[row] }
    func set(_ row: Int, _ score: Scoring.Score) { buffer[row] = score }
}

extension Scoring {
    /// The product of a column's categorical indicators at a candidate row:
    /// 1 at each one's level, −1 at a sum contrast's `against` level, else 0
    /// (1 for a column with none).
    static func indicatorValue(_ indicators: [Indicator], _ row: Int, _ candidates: Candidates) -> Double {
        var value = 1.0
        for indicator in indicators {
            let code = candidates.categoryCodes[indicator.categorical][row]
            value *= code == indicator.level ? 1 : code == indicator.against ? -1 : 0
        }
        return value
    }

    /// The row's values of term k's columns: [1] for a random intercept;
    /// for a term with slopes, each column's product of covariates (1 for
    /// the intercept).
    func slopeValues(_ k: Int, _ row: Int, _ candidates: Candidates) -> [Double] {
        guard let columns = slopeProducts[k] else { return [1] }
        return columns.map { column in
            Scoring.indicatorValue(column.indicators, row, candidates)
                * column.product.reduce(1.0) { $0 * candidates.covariateValues[$1][row] }
        }
    }
}
