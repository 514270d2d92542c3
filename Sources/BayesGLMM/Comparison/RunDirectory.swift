import Foundation

/// A fit's output directory as `bayesglmm fit` writes it, read back for
/// comparison: `fit.json` (the model, the levels of every term with their
/// counts, the names of the stored parameters, how the chains ended) and
/// `draws.npy` (every draw of every parameter).
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
        public init(name: String, levels: [String], counts: LevelCounts?) {
            self.name = name; self.levels = levels; self.counts = counts
        }
    }

    public let path: String
    /// "complete" or "interrupted".
    public let status: String
    /// The formula in canonical form.
    public let formula: String
    /// The data file and the number of rows the fit used.
    public let data: String
    public let rowsUsed: Int
    public let fixedNames: [String]
    public let terms: [Term]
    /// The link of the fit (fit.json "link"; logit for fits that predate it).
    public let link: Link
    /// How each fixed column was coded from the data, the levels of each
    /// categorical column, and the trials column (fit.json "fixed_coding",
    /// "categorical_levels", "trials"; nil in fits that predate them).
    public let fixedCoding: [FixedColumn]?
    public let categoricalLevels: [String: [String]]?
    public let trialsColumn: String?
    /// The names along the last axis of `store`.
    public let parameterNames: [String]
    public let store: StoredDraws
    /// Draws per chain that every chain completed: all of them for a
    /// complete fit, the fewest any chain made for an interrupted one.
    public let drawsPerChain: Int
    /// Facts the reader should know (an interrupted fit, missing counts).
    public let notes: [String]

    /// The position of each parameter name in the store.
    private let index: [String: Int]

    public func parameterIndex(_ name: String) -> Int? { index[name] }

    /// The layout of fit.json that the comparison reads (other fields are ignored).
    struct Record: Decodable {
        struct Random: Decodable {
            let term: String
            let levels: [String]
            let observations: [Int]?
            let successes: [Int]?
        }
        struct Store: Decodable {
            let file: String
            let dtype: String
            let order: String
            let shape: [Int]
            let names: [String]
        }
        struct Outcome: Decodable {
            let chain: Int
            let draws: Int
            let interrupted: Bool
        }
        let status: String
        let formula: String
        let data: String
        let rows_used: Int
        let fixed: [String]
        let random: [Random]
        let store: Store
        let outcomes: [Outcome]
        let link: String?
        let fixed_coding: [FixedColumn]?
        let categorical_levels: [String: [String]]?
        let trials: String?
    }

    /// Reads and checks the directory. Throws `InputError` naming the
    /// directory or file for: no such directory; no or unreadable fit.json;
    /// a fit.json without the fields above; a fit that is still running or
    /// failed; a draws.npy that is missing, truncated, or whose shape or
    /// dtype disagrees with fit.json; no completed draws.
    public static func read(_ path: String) throws(InputError) -> RunDirectory {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(.unreadableFile, "no such directory (give the --out directory of bayesglmm fit)",
                             file: path)
        }
        let directory = URL(fileURLWithPath: path)
        let recordPath = directory.appendingPathComponent("fit.json").path
        let record = try readRecord(recordPath)
        switch record.status {
        case "complete", "interrupted": break
        default:
            throw InputError(.emptyData, "the fit is not finished (status \"\(record.status)\"): "
                             + "no draws are known to be complete", file: recordPath)
        }
        let storePath = directory.appendingPathComponent(record.store.file).path
        guard FileManager.default.fileExists(atPath: storePath) else {
            throw InputError(.unreadableFile, "missing: fit.json names it as the draw store", file: storePath)
        }
        guard record.store.dtype == "<f8", record.store.order == "C" else {
            throw InputError(.malformedCSV, "store: dtype \(record.store.dtype), order \(record.store.order); "
                             + "expected <f8 in C order", file: recordPath)
        }
        let store = try StoredDraws(path: storePath)
        let shape = [store.chains, store.draws, store.parameters]
        guard shape == record.store.shape, record.store.names.count == store.parameters else {
            throw InputError(.malformedCSV, "the shape \(shape) does not match fit.json's store (shape "
                             + "\(record.store.shape), \(record.store.names.count) names)", file: storePath)
        }
        var notes: [String] = []
        var drawsPerChain = store.draws
        if record.status == "interrupted" {
            let made = (0..<store.chains).map { chain in
                record.outcomes.first { $0.chain == chain + 1 }?.draws ?? 0
            }
            drawsPerChain = made.min() ?? 0
            notes.append("The fit was interrupted (draws per chain: "
                         + made.map(String.init).joined(separator: ", ")
                         + "); using the first \(drawsPerChain) of each chain.")
        }
        guard drawsPerChain >= 1 else {
            throw InputError(.emptyData, "a chain has no completed draw, so there are no draws to compare "
                             + "(every chain is cut to the shortest)", file: storePath)
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
            terms.append(Term(name: random.term, levels: random.levels, counts: counts))
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
        return RunDirectory(path: path, status: record.status, formula: record.formula, data: record.data,
                            rowsUsed: record.rows_used, fixedNames: record.fixed,
                            terms: terms, link: link, fixedCoding: record.fixed_coding,
                            categoricalLevels: record.categorical_levels, trialsColumn: record.trials, parameterNames: record.store.names, store: store,
                            drawsPerChain: drawsPerChain, notes: notes,
                            index: Dictionary(record.store.names.enumerated().map { ($1, $0) },
                                              uniquingKeysWith: { first, _ in first }))
    }

    /// fit.json, decoded; errors name the file and the field.
    static func readRecord(_ path: String) throws(InputError) -> Record {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputError(.unreadableFile, "cannot read the fit's record (is this a directory written by "
                             + "bayesglmm fit?)", file: path)
        }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(.malformedCSV, "not a fit record: no field '"
                             + (context.codingPath + [key]).map(\.stringValue).joined(separator: ".") + "'", file: path)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw InputError(.malformedCSV, "not a fit record: field '"
                             + context.codingPath.map(\.stringValue).joined(separator: ".") + "' has the wrong type",
                             file: path)
        } catch {
            throw InputError(.malformedCSV, "not valid JSON", file: path)
        }
    }
}
