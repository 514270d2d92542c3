import Foundation

/// A run directory as `Run` writes it, read back for every reader
/// (summary, comparison, scoring, figures): `fit.json` (`RunManifest`: the
/// model, the levels of every term with their counts, the names of the
/// stored parameters, how the chains ended) and `draws.npy` (every draw of
/// every parameter), narrowed to the draws readers use.
///
/// Parameter names are those of the sampler: the fixed-effect names,
/// `sd(term)` and `r(term)[level]` for every level of every term.
public struct RunDirectory: Sendable {
    /// A random term of the fit: its levels and, when fit.json records them
    /// (fits since the comparison was added), the data counts per level.
    public struct Term: Sendable, Equatable {
        public let name: String
        public let levels: [String]
        public let counts: LevelCounts?
        /// The term's columns (lme4's cnms): `(Intercept)` alone for a
        /// random intercept.
        public let columns: [String]
        public init(name: String, levels: [String], counts: LevelCounts?, columns: [String] = ["(Intercept)"]) {
            self.name = name; self.levels = levels; self.counts = counts; self.columns = columns
        }
        /// Whether the term is a random intercept alone.
        public var isInterceptOnly: Bool { columns == ["(Intercept)"] }
        /// Its SDs and correlations (`ParameterNaming.covariance`).
        public var covarianceNames: [String] { ParameterNaming.covariance(term: name, columns: columns) }
    }

    /// Whether some term of the run has a column besides the intercept.
    public var hasSlopes: Bool { terms.contains { !$0.isInterceptOnly } }

    /// Throws `InputError` (`.unsupported`) when `term` has slopes, which
    /// `what` (a reader of random intercepts) does not take yet.
    static func refuseSlopes(of term: Term, in run: RunDirectory, for what: String) throws(InputError) {
        guard !term.isInterceptOnly else { return }
        throw InputError(.unsupported,
                         "\(what) takes random intercepts only so far, not the slopes of "
                            + "(\(term.columns.joined(separator: " + ")) | \(term.name)); summary, score, trace, rank and "
                            + "density read every parameter of such a run", file: run.path)
    }

    public let path: String
    /// The run's manifest (fit.json).
    public let manifest: RunManifest
    /// How the run ended: complete, interrupted or failed.
    public var status: String { manifest.status.rawValue }
    /// The formula in canonical form.
    public var formula: String { manifest.formula }
    /// The data file and the number of rows the fit used.
    public var data: String { manifest.data }
    public var rowsUsed: Int { manifest.rowsUsed }
    public var fixedNames: [String] { manifest.fixed }
    public let terms: [Term]
    /// The link of the fit (fit.json "link"; logit for fits that predate it).
    public let link: Link
    /// How each fixed column was coded from the data, the levels of each
    /// categorical column, and the trials column (fit.json "fixed_coding",
    /// "categorical_levels", "trials"; nil in fits that predate them).
    public var fixedCoding: [FixedColumn]? { manifest.fixedCoding }
    public var categoricalLevels: [String: [String]]? { manifest.categoricalLevels }
    public var trialsColumn: String? { manifest.trials }
    /// The names along the last axis of `store`.
    public var parameterNames: [String] { manifest.store.names }
    /// The draws readers use: the store narrowed to `chainNumbers`.
    public let store: StoredDraws
    /// The chains read, 1-based (all of them for a complete run).
    public let chainNumbers: [Int]
    /// Draws per chain read: all of them for a complete run; for an
    /// interrupted one, the length of the chains read (`RunManifest.usableDraws`).
    public let drawsPerChain: Int
    /// Facts the reader should know (an interrupted fit and the draws used,
    /// missing counts).
    public let notes: [String]

    /// The position of each parameter name in the store.
    private let index: [String: Int]

    public func parameterIndex(_ name: String) -> Int? { index[name] }

    /// Reads and checks the directory. Throws `InputError` naming the
    /// directory or file for: no such directory; no or unreadable fit.json;
    /// a fit.json without the fields readers need; a fit that is still
    /// running (or whose process died before it ended); a draws.npy that is
    /// missing, truncated, or whose shape or dtype disagrees with fit.json;
    /// no completed draws.
    ///
    /// An interrupted or failed run is read: the draws of the chains that
    /// ended complete or interrupted, cut to one length as
    /// `RunManifest.usableDraws` chooses, and `notes` says which.
    public static func read(_ path: String) throws(InputError) -> RunDirectory {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(.unreadableFile, "no such directory (give the output directory of a fit)", file: path)
        }
        let directory = URL(fileURLWithPath: path)
        let recordPath = directory.appendingPathComponent(RunManifest.fileName).path
        let record = try RunManifest.read(recordPath)
        if record.status == .running || record.status == .notStarted {
            let writer = record.writer.map { " (process \($0.pid) on \($0.host))" } ?? ""
            let alive = record.writer?.isAlive ?? false
            throw InputError(.emptyData, alive
                ? "the fit is still running\(writer); read it when it has ended"
                : "the fit did not finish and did not record how its chains ended (status \"running\"\(writer), "
                    + "the process is gone); its chain files hold the draws written before it stopped",
                file: recordPath)
        }
        let storePath = directory.appendingPathComponent(record.store.file).path
        guard FileManager.default.fileExists(atPath: storePath) else {
            throw InputError(.unreadableFile, "missing: fit.json names it as the draw store", file: storePath)
        }
        guard record.store.dtype == "<f8", record.store.order == "C" else {
            throw InputError(.malformedCSV, "store: dtype \(record.store.dtype), order \(record.store.order); "
                             + "expected <f8 in C order", file: recordPath)
        }
        let file = try StoredDraws(path: storePath)
        let shape = [file.storedChains, file.draws, file.parameters]
        guard shape == record.store.shape, record.store.names.count == file.parameters else {
            throw InputError(.malformedCSV, "the shape \(shape) does not match fit.json's store (shape "
                             + "\(record.store.shape), \(record.store.names.count) names)", file: storePath)
        }
        if let ids = record.chainIds {
            let total = record.chains ?? Int.max
            guard ids.count == file.storedChains, zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }),
                  ids.allSatisfy({ $0 >= 1 && $0 <= total }) else {
                throw InputError(.malformedCSV, "chain_ids \(ids) do not name the \(file.storedChains) chains of the "
                                 + "store, ascending, among \(record.chains.map(String.init) ?? "the") chains",
                                 file: recordPath)
            }
        }
        let usable = record.usableDraws
        var notes: [String] = []
        if record.status != .complete {
            notes.append(RunDirectory.describe(record, usable: usable))
        }
        guard usable.draws >= 1 else {
            throw InputError(.emptyData, "no chain has a completed draw (" + record.outcomes.map {
                "chain \($0.chain): \($0.ended.rawValue.replacingOccurrences(of: "_", with: " "))"
            }.joined(separator: ", ") + ")", file: storePath)
        }
        var terms: [Term] = []
        for random in record.random {
            var counts: LevelCounts?
            if let observations = random.observations, let successes = random.successes {
                guard observations.count == random.levels.count, successes.count == random.levels.count else {
                    throw InputError(.malformedCSV, "random term \(random.term): \(random.levels.count) levels but "
                                     + "\(observations.count) observations and \(successes.count) successes",
                                     file: recordPath)
                }
                counts = LevelCounts(term: random.term, levels: random.levels, observations: observations,
                                     successes: successes)
            }
            terms.append(Term(name: random.term, levels: random.levels, counts: counts,
                              columns: random.columns ?? ["(Intercept)"]))
        }
        if terms.contains(where: { $0.counts == nil }) {
            notes.append("fit.json has no per-level counts (it was written before `compare` existed); "
                         + "observations and raw log-odds are not available. Fit again to get them.")
        }
        var link = Link.logit
        if let name = record.link {
            guard let known = Link(rawValue: name) else {
                throw InputError(.unsupported, "unknown link \"\(name)\" (known: "
                                 + Link.allCases.map(\.rawValue).joined(separator: ", ") + ")", file: recordPath)
            }
            link = known
        }
        return RunDirectory(path: path, manifest: record, terms: terms, link: link,
                            store: file.selecting(chains: usable.chains), chainNumbers: usable.chains.map(record.chainNumber(at:)),
                            drawsPerChain: usable.draws, notes: notes,
                            index: Dictionary(record.store.names.enumerated().map { ($1, $0) },
                                              uniquingKeysWith: { first, _ in first }))
    }

    /// `The fit was interrupted: chain 1 made 1000, chain 2 made 1000, chain
    /// 3 made 37, chain 4 did not start; using chains 1 and 2, the first 1000
    /// draws of each (2000 of 2037 draws).`
    public static func describe(_ record: RunManifest, usable: (chains: [Int], draws: Int)) -> String {
        let how = record.status == .failed ? "failed" + (record.failure.map { " (\($0))" } ?? "") : "was interrupted"
        let chains = record.outcomes.map { outcome -> String in
            switch outcome.ended {
            case .notStarted: "chain \(outcome.chain) did not start"
            case .failed: "chain \(outcome.chain) failed after \(outcome.draws) draws"
            default: "chain \(outcome.chain) made \(outcome.draws)"
            }
        }
        let total = record.outcomes.filter { $0.ended != .failed }.map(\.draws).reduce(0, &+)
        let used = usable.chains.count &* usable.draws
        let list = usable.chains.map { String(record.chainNumber(at: $0)) }
        guard let last = list.last else { return "The fit \(how): " + chains.joined(separator: ", ") + "." }
        let named = list.count == 1 ? "chain " + last : "chains " + list.dropLast().joined(separator: ", ") + " and " + last
        return "The fit \(how): " + chains.joined(separator: ", ")
            + "; using \(named), the first \(usable.draws) draws of each (\(used) of \(total) draws)."
    }
}
