import Foundation

/// A run's `fit.json`: what was fitted (the model, its data, its levels and
/// coding), how (sampler, priors, settings, seeds, start), what the run
/// directory holds (the chain files, the draw store and its layout) and how
/// every chain ended. One `Codable` type written by `RunWriter` and read by
/// `RunDirectory` and every command, in place of hand-built dictionaries.
///
/// The JSON keys are snake_case and sorted. `schema_version` says which
/// layout a file has: version 2 is this one; a file without it is version 1
/// (bayesglmm before the run driver moved into the library), which decodes
/// with the fields it lacks left nil. A later version is refused rather than
/// misread.
public struct RunManifest: Codable, Sendable, Equatable {
    /// The layout this type writes.
    public static let currentSchemaVersion = 2
    /// The name of the manifest in a run directory.
    public static let fileName = "fit.json"

    /// How a run (or one of its chains) ended, or that it is still running.
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Being written; nothing in it is known to be complete.
        case running
        /// Every chain made every draw.
        case complete
        /// Stopped on request (SIGINT or SIGTERM): each chain kept the draws
        /// it had completed.
        case interrupted
        /// A chain or a write failed; the completed draws of every chain are
        /// kept, and `failure` says what failed.
        case failed
        /// A chain that had not begun when the run stopped (per chain only).
        case notStarted = "not_started"
    }

    /// How one chain ended.
    public struct Chain: Codable, Sendable, Equatable {
        /// 1-based.
        public var chain: Int
        public var status: Status?
        /// Kept draws completed and written (the first `draws` of the chain
        /// in its CSV file and in the store are draws; the rest of its slice
        /// of the store is NaN).
        public var draws: Int
        /// Sweeps made, warm-up included.
        public var sweeps: Int?
        public var warmupSeconds: Double?
        public var samplingSeconds: Double?
        /// Version 1's flag; version 2 says it in `status`.
        public var interrupted: Bool?
        /// The chain's CSV file, nil when it has none (a chain that made no
        /// draw leaves no file, nor one outside the draws readers use).
        public var file: String?
        /// Draws in `file`: `draws`, except after an interrupt, when each
        /// file holds the draws readers use (`usableDraws`).
        public var fileDraws: Int?
        /// What failed, for a failed chain.
        public var failure: String?
        /// Mean acceptance per Metropolis step after warm-up.
        public var acceptance: [String: Double]?

        enum CodingKeys: String, CodingKey {
            case chain, status, draws, sweeps, warmupSeconds = "warmup_seconds"
            case samplingSeconds = "sampling_seconds", interrupted, file, fileDraws = "file_draws", failure, acceptance
        }

        public init(chain: Int, status: Status, draws: Int, sweeps: Int, warmupSeconds: Double,
                    samplingSeconds: Double, file: String?, failure: String? = nil,
                    acceptance: [String: Double]? = nil) {
            self.chain = chain
            self.status = status
            self.draws = draws
            self.sweeps = sweeps
            self.warmupSeconds = warmupSeconds
            self.samplingSeconds = samplingSeconds
            self.interrupted = status == .interrupted || status == .notStarted
            self.file = file
            self.fileDraws = file == nil ? nil : draws
            self.failure = failure
            self.acceptance = acceptance
        }

        /// The chain's status, read from version 1's `interrupted` flag when
        /// the file predates `status`.
        public var ended: Status {
            if let status { return status }
            if interrupted == true { return draws == 0 ? .notStarted : .interrupted }
            return .complete
        }
    }

    /// The draw store: every draw of every parameter in one NumPy file.
    public struct Store: Codable, Sendable, Equatable {
        public var file: String
        public var dtype: String
        public var order: String
        /// (chains, draws, parameters).
        public var shape: [Int]
        public var axes: [String]?
        /// The parameters along the last axis.
        public var names: [String]
        /// What the entries no chain wrote hold.
        public var missing: String?
    }

    /// A random term's levels and the data on each.
    public struct Random: Codable, Sendable, Equatable {
        public var term: String
        public var levels: [String]
        public var observations: [Int]?
        public var successes: [Int]?
        /// The term's columns (lme4's cnms) when it has slopes; absent for a
        /// random intercept alone.
        public var columns: [String]?
        /// How each of those columns is made from the data (as
        /// "fixed_coding"); absent for a random intercept alone and in runs
        /// written before it was recorded.
        public var coding: [FixedColumn]?
    }

    /// A chain's random stream, `Generator(seed:chain:stream:)`.
    public struct Stream: Codable, Sendable, Equatable {
        public var chain: Int
        public var seed: UInt64
        public var stream: UInt64
    }

    /// The empirical-Bayes fit chains started around (`--init eb`); a
    /// number JSON cannot hold (NaN) is null.
    public struct EmpiricalBayesStart: Codable, Sendable, Equatable {
        public var seconds: Double
        public var fixed: [String: Double?]
        public var stdErrors: [String: Double?]
        public var sd: [String: Double?]
        public var logLikelihood: Double?
        public var converged: Bool
        public var singular: Bool

        enum CodingKeys: String, CodingKey {
            case seconds, fixed, stdErrors = "std_errors", sd, logLikelihood = "log_likelihood", converged, singular
        }
    }

    /// The process writing a running run, so that a reader can tell a run
    /// in progress from one whose process died.
    public struct Writer: Codable, Sendable, Equatable {
        public var pid: Int32
        public var host: String
    }

    public var schemaVersion: Int?
    public var program: String?
    public var status: Status
    /// What failed, when `status` is failed.
    public var failure: String?
    public var writer: Writer?
    /// ISO 8601 times.
    public var started: String?
    public var finished: String?

    // The model and its data.
    public var formula: String
    public var formulaAsWritten: String?
    public var data: String
    /// The data file's bytes hashed (`DataHash`, "fnv1a64:" and 16 hex
    /// digits), so that runs of the same model can be told to have read the
    /// same data (`RunMerge`); absent when the data came from no file.
    public var dataHash: String?
    public var rowsRead: Int?
    public var rowsUsed: Int
    public var rowsDropped: Int?
    public var cells: Int?
    public var trials: String?
    /// The column of prior weights (`DesignOptions.weights`), if any.
    public var weights: String?
    /// The offset column given apart from the formula
    /// (`DesignOptions.offset`); the formula's `offset(…)` terms are in
    /// `formula`.
    public var offset: String?
    /// How categorical columns were coded, when not by treatment contrasts
    /// (`DesignOptions.contrasts`: "sum").
    public var contrasts: String?
    public var fixed: [String]
    /// The training constants of the formula's `scale`, `poly` and `ns`
    /// terms, by the call's text, applied to new rows by `score`.
    public var transforms: [String: TransformConstants]?
    public var fixedCoding: [FixedColumn]?
    public var categoricalLevels: [String: [String]]?
    public var random: [Random]
    public var priors: [String]?

    // How it was sampled.
    public var sampler: String?
    public var samplerDescription: String?
    /// The augmentation the Gibbs sampler used; absent for the Metropolis
    /// sampler and for the exact moves.
    public var augmentation: String?
    /// The Gibbs sampler's updates, `augmented` or `exact` (`Updates`);
    /// absent for the Metropolis sampler and in files written before it
    /// existed (which are `augmented`).
    public var updates: String?
    public var link: String?
    public var `init`: String?
    public var initNote: String?
    public var initEb: EmpiricalBayesStart?
    public var chains: Int?
    public var warmup: Int?
    public var draws: Int?
    public var thin: Int?
    public var seed: UInt64?
    public var streams: [Stream]?
    /// The chains along the store's chain axis, 1-based and ascending, when
    /// they are not 1 … `chains`: a chain run as a job of its own
    /// (`fit --chain K`) holds [K], and a merge of some of the jobs their
    /// chains. Absent when the run holds every chain.
    public var chainIds: [Int]?

    // What the directory holds and how the chains ended.
    public var files: [String]?
    public var savedParameters: [String]?
    /// The observations of the chain files' `log_lik.i` columns, after the
    /// saved parameters: "cell" or "row" (`LogLikelihoodColumns`); absent
    /// when they have none.
    public var logLikelihood: String? = nil
    public var store: Store
    public var seconds: Double?
    public var outcomes: [Chain]

    // `--until-ess` (`UntilESS`): the request and how it ended; absent for
    // a fit of fixed length and in files written before it existed. For
    // such a run `draws` and `store.shape` are the draws per chain made,
    // and the chain files hold them (num_samples says how many).
    /// The bulk-ESS asked for.
    public var untilEss: Int?
    /// The time limit in seconds, if any.
    public var maxTime: Double?
    /// The draw limit per chain.
    public var maxDraws: Int?
    /// Why sampling stopped; absent for a run that was interrupted or
    /// failed before the rule decided.
    public var stoppedBecause: UntilESS.StopReason?
    /// The lowest bulk-ESS and highest R-hat of the intercept, fixed
    /// effects and SDs over the draws kept.
    public var achieved: ConvergenceCheck?
    /// The check after each block, in order: what decided the next.
    public var blocks: [ConvergenceCheck]?

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", program, status, failure, writer, started, finished
        case formula, formulaAsWritten = "formula_as_written", data, dataHash = "data_hash", rowsRead = "rows_read"
        case rowsUsed = "rows_used"
        case rowsDropped = "rows_dropped", cells, trials, weights, offset, contrasts, fixed, transforms
        case fixedCoding = "fixed_coding"
        case categoricalLevels = "categorical_levels", random, priors
        case sampler, samplerDescription = "sampler_description", augmentation, updates, link, `init`
        case initNote = "init_note", initEb = "init_eb", chains, warmup, draws, thin, seed, streams
        case chainIds = "chain_ids"
        case files, savedParameters = "saved_parameters", logLikelihood = "log_lik", store, seconds, outcomes
        case untilEss = "until_ess", maxTime = "max_time", maxDraws = "max_draws", stoppedBecause = "stopped_because"
        case achieved, blocks
    }

    /// The layout version of this manifest (1 for files that predate the field).
    public var layout: Int { schemaVersion ?? 1 }

    /// The manifest as JSON: pretty-printed, keys sorted.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads and decodes the manifest at `path`. Errors name the file and,
    /// for a field that is missing or of the wrong type, the field.
    public static func read(_ path: String) throws(InputError) -> RunManifest {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputError(.unreadableFile, "cannot read the fit's record (is this a directory written by "
                             + "bayesglmm fit?)", file: path)
        }
        return try decode(data, path: path)
    }

    /// Decodes a manifest from its bytes; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws(InputError) -> RunManifest {
        let manifest: RunManifest
        do {
            manifest = try JSONDecoder().decode(RunManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(.malformedCSV, "not a fit record: no field '"
                             + (context.codingPath + [key]).map(\.stringValue).joined(separator: ".") + "'", file: path)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw InputError(.malformedCSV, "not a fit record: field '"
                             + context.codingPath.map(\.stringValue).joined(separator: ".") + "' has the wrong type",
                             file: path)
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw InputError(.malformedCSV, "not a fit record: field '"
                             + context.codingPath.map(\.stringValue).joined(separator: ".") + "' has a value it "
                             + "cannot take", file: path)
        } catch {
            throw InputError(.malformedCSV, "not valid JSON", file: path)
        }
        guard manifest.layout >= 1, manifest.layout <= currentSchemaVersion else {
            throw InputError(.unsupported, "written in layout \(manifest.layout) by \(manifest.program ?? "another program"); this "
                             + "bayesglmm (\(Release.version)) reads layouts 1 to \(currentSchemaVersion)", file: path)
        }
        return manifest
    }
}

extension RunManifest {
    /// The options the fit's design was built with, as far as the record
    /// keeps them — the trials, weights and offset columns, the contrasts,
    /// and the level orders of the categorical columns — for building the
    /// same design from the data again.
    public var designOptions: DesignOptions {
        DesignOptions(trials: trials, weights: weights, offset: offset, levels: categoricalLevels ?? [:],
                      contrasts: contrasts.flatMap(DesignOptions.Contrasts.init(rawValue:)) ?? .treatment)
    }
}

extension RunManifest {
    /// The draws every reader uses: the chains that ended complete or
    /// interrupted with at least one draw, each cut to the same number of
    /// draws (R-hat and ESS need chains of one length). Taking the k longest
    /// chains keeps k × (the k-th longest length) draws; the choice is the
    /// largest k that keeps at least half as many draws as the best k does —
    /// more chains for the diagnostics, unless that throws most draws away.
    /// All chains in full for a complete run. Chains are 0-based.
    ///
    /// Four chains interrupted at 503, 501, 502 and 500 draws give all four
    /// × 500; 76 and 33 give both × 33; two complete chains of 1000 and two
    /// that began late and made 37 and 35 give the two complete ones × 1000;
    /// a complete chain of 500 and one stopped at 10 (chains run one at a
    /// time) give the first × 500.
    ///
    /// The chains are positions along the store's chain axis (0-based);
    /// `chainNumber(at:)` names them.
    public var usableDraws: (chains: [Int], draws: Int) {
        let chainCount = store.shape.first ?? 0
        let perChain = store.shape.count == 3 ? store.shape[1] : 0
        if status == .complete && outcomes.isEmpty { return (Array(0..<chainCount), perChain) }
        let lengths = outcomes
            .filter { ($0.ended == .complete || $0.ended == .interrupted) && $0.draws > 0 }
            .compactMap { outcome in
                position(ofChain: outcome.chain).map { (chain: $0, draws: min(outcome.draws, perChain)) }
            }
        let descending = lengths.map(\.draws).sorted(by: >)
        // Totals in Double: a manifest's counts are its word, and their
        // products may not fit in an Int.
        let totals = descending.enumerated().map { Double($0.offset + 1) * Double($0.element) }
        guard let most = totals.max(), most > 0,
              let k = totals.lastIndex(where: { $0 >= most / 2 }) else { return ([], 0) }
        let length = descending[k]
        return (lengths.filter { $0.draws >= length }.map(\.chain).sorted(), length)
    }

    /// The 1-based number of the chain at `position` along the store's
    /// chain axis (position + 1 where `chain_ids` does not say, which
    /// `RunDirectory.read` refuses).
    public func chainNumber(at position: Int) -> Int {
        guard let chainIds, chainIds.indices.contains(position) else { return position &+ 1 }
        return chainIds[position]
    }

    /// Where chain `number` (1-based) is along the store's chain axis; nil
    /// when the store does not hold it.
    public func position(ofChain number: Int) -> Int? {
        if let chainIds { return chainIds.firstIndex(of: number) }
        let count = store.shape.first ?? 0
        return number >= 1 && number <= count ? number - 1 : nil
    }
}
