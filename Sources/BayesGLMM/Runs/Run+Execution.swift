import CLinux
import Diagnostics
import Foundation
import SystemPackage
import Variates

/// How a run ended and where it is.
public struct RunResult: Sendable {
    public let status: RunManifest.Status
    /// Where the run directory is now: the output asked for, or the
    /// temporary path when it could not take the output's place.
    public let directory: String
    /// The output asked for.
    public let output: String
    /// A run that was at the output was replaced.
    public let replacedPrevious: Bool
    public let outcomes: [Chains.Outcome]
    /// The first failure, for a failed run.
    public let failure: Chains.Failure?
    /// Wall-clock seconds of sampling.
    public let seconds: Double
    /// What the user should know (where the run is, what could not be done).
    public let notes: [String]
    /// The manifest written last.
    public let manifest: RunManifest
    /// The summary in summary.csv (the intercept, fixed effects and SDs over
    /// the draws readers use); nil for a failed run or one without draws.
    public let summary: Summary?

    /// The run is at the output asked for.
    public var isInPlace: Bool { directory == output }
}

extension Run {
    /// Runs the chains into the run directory (see the type's discussion)
    /// and returns how the run ended. Stops when `stop` is requested.
    /// Throws `WriteFailure` only when the run cannot begin (its directory
    /// or first files cannot be written); a failure after that is a failed
    /// run, returned.
    public func execute(stop: StopRequest, progress: SamplingProgress? = nil) throws -> RunResult {
        switch request.resolvedSampler {
        case .gibbs where request.design.hasSlopes:
            try execute(kernel: Run.slopeKernel(request, initialValues), stop: stop, progress: progress)
        case .gibbs: try execute(kernel: Run.gibbsKernel(request, initialValues), stop: stop, progress: progress)
        case .metropolis where request.design.hasSlopes:
            try execute(kernel: Run.slopeMetropolisKernel(request, initialValues), stop: stop, progress: progress)
        case .metropolis: try execute(kernel: Run.metropolisKernel(request, initialValues), stop: stop,
                                      progress: progress)
        }
    }

    /// The manifest of this run before it begins (status running).
    func manifest(names: [String]) -> RunManifest {
        let design = request.design
        let settings = request.settings
        let terms = design.randomTerms.map(\.name)
        let saved = request.savedIndices.map { names[$0] }
        let sampler = request.resolvedSampler
        return RunManifest(
            schemaVersion: RunManifest.currentSchemaVersion, program: "bayesglmm \(Release.version)",
            status: .running, failure: nil, writer: .current, started: Run.now(), finished: nil,
            formula: design.formula.description, formulaAsWritten: design.formula.text, data: design.source,
            dataHash: dataHash,
            rowsRead: design.rowsRead, rowsUsed: design.rowsUsed, rowsDropped: design.rowsDropped,
            cells: design.cellCount, trials: design.trialsColumn, weights: design.weightsColumn,
            offset: design.offsetColumn,
            contrasts: design.contrasts == .treatment ? nil : design.contrasts.rawValue, fixed: design.fixedNames,
            transforms: design.transformConstants.isEmpty ? nil : design.transformConstants,
            fixedCoding: design.fixedCoding, categoricalLevels: design.categoricalLevels,
            random: zip(LevelCounts.of(design), design.randomTerms).map { counts, term in
                RunManifest.Random(term: counts.term, levels: counts.levels, observations: counts.observations,
                                   successes: counts.successes, columns: term.isInterceptOnly ? nil : term.columns,
                                   coding: term.isInterceptOnly ? nil : term.coding)
            },
            priors: request.priors.describe(terms: terms, fixed: design.fixedNames),
            sampler: sampler.rawValue, samplerDescription: request.samplerDescription,
            augmentation: sampler == .gibbs && request.resolvedUpdates != .exact
                ? (request.link == .probit ? "albert_chib" : "polya_gamma") : nil,
            updates: request.resolvedUpdates?.rawValue,
            link: request.link.rawValue, init: start.kind, initNote: start.note, initEb: start.empiricalBayes,
            chains: settings.chains, warmup: settings.warmup, draws: request.storedDraws, thin: settings.thin,
            seed: settings.seed,
            streams: settings.selectedChains.map { RunManifest.Stream(chain: $0 + 1, seed: settings.seed, stream: 0) },
            chainIds: settings.selection.map { $0.map { $0 + 1 } },
            files: settings.selectedChains.map { Run.chainFile($0 + 1) }, savedParameters: saved,
            logLikelihood: request.logLikelihood?.rawValue,
            store: RunManifest.Store(file: "draws.npy", dtype: "<f8", order: "C",
                                     shape: [settings.selectedChains.count, request.storedDraws, names.count],
                                     axes: ["chain", "draw", "parameter"], names: names,
                                     missing: "NaN: the draws a chain did not make (outcomes[].draws says how many "
                                         + "it made)"),
            seconds: nil, outcomes: [], untilEss: request.untilESS?.target, maxTime: request.untilESS?.maxSeconds,
            maxDraws: request.untilESS.map { _ in request.storedDraws })
    }

    /// `chain-3.csv` for the 1-based chain 3.
    static func chainFile(_ chain: Int) -> String { "chain-\(chain).csv" }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    private func execute<K: SamplingKernel>(kernel: K, stop: StopRequest, progress: SamplingProgress?) throws
        -> RunResult {
        let names = kernel.parameterNames
        var manifest = manifest(names: names)
        let directory = try Run.makeTemporarySibling(of: output)
        let settings = request.settings
        var store: DrawStore
        let reserve = (directory as NSString).appendingPathComponent(".space-reserve")
        do {
            let initial = try manifest.encoded()
            try AtomicFile.write(initial, to: (directory as NSString).appendingPathComponent(RunManifest.fileName))
            // Room for the final manifest and summary should the disk fill up.
            try AtomicFile.reserve(bytes: 2 * initial.count + (1 << 16), at: reserve)
            store = try DrawStore(path: (directory as NSString).appendingPathComponent("draws.npy"),
                                  chains: settings.selectedChains.count, draws: request.storedDraws,
                                  parameters: names.count)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }

        // An until-ESS run's num_samples is known at the end: room is kept for it.
        let untilESS = request.untilESS
        let comments = [
            request.programLine,
            "model = \(request.design.formula)",
            "data = \(request.design.source)",
            "num_warmup = \(settings.warmup)",
            untilESS == nil ? "num_samples = \(settings.draws)"
                : CmdStanCSVWriter.paddedComment("num_samples", String(settings.draws)),
            "thin = \(settings.thin)", "seed = \(settings.seed)", "init = \(start.kind)",
        ] + (untilESS.map { rule in
            ["until_ess = \(rule.target) (blocks of draws until every bulk-ESS of the intercept, fixed effects and "
             + "SDs is at least \(rule.target) and every R-hat at most \(UntilESS.maximumRhat); first block "
             + "\(settings.draws), at most \(request.storedDraws) draws"
             + (rule.maxSeconds.map { String(format: ", at most %g s", $0) } ?? "") + ")"]
        } ?? [])
        let saved = request.savedIndices
        let columns = request.logLikelihood.flatMap {
            LogLikelihoodColumns(design: request.design, link: request.link, unit: $0, parameterNames: names)
        }
        if request.logLikelihood != nil {
            if columns == nil {
                try? FileManager.default.removeItem(atPath: directory)
                throw NumericalFailure("the sampler reports no draws of an effect of the model, so log_lik cannot "
                                       + "be computed; fit with --no-log-lik")
            }
        }
        let savedNames = saved.map { names[$0] } + (columns?.names ?? [])
        let monitor = untilESS.map { _ in
            DrawMonitor(indices: UntilESS.monitored(names, fixed: request.design.fixedNames), names: names,
                        chains: settings.chains)
        }
        // The chains stop on the user's request, and on the time limit of an until-ESS run.
        let chainStop = StopRequest(following: stop)
        let clock = ContinuousClock()
        let begin = clock.now
        let schedule = untilESS.map {
            BlockSchedule(rule: $0, limit: request.storedDraws, monitor: monitor!, chains: settings.chains,
                          chainStop: chainStop, begin: begin)
        }
        let files = store
        // Where each chain's draws go along the store's chain axis.
        let slots = Dictionary(uniqueKeysWithValues: settings.selectedChains.enumerated().map { ($1, $0) })
        var outcomes = Chains.stream(kernel, settings: settings, stop: chainStop, progress: progress,
                                     extend: schedule.map { schedule in { schedule.extend($0) } }) { chain in
            try ChainFiles(chain: chain, path: (directory as NSString).appendingPathComponent(Run.chainFile(chain + 1)),
                           comments: comments + ["chain = \(chain + 1)"], names: savedNames, saved: saved,
                           logLikelihood: columns, store: files, slot: slots[chain]!, monitor: monitor)
        }
        let seconds = Chains.seconds(clock.now - begin)
        var notes: [String] = []
        if let schedule {
            settleBlocks(&outcomes, schedule: schedule, interrupted: stop.isRequested, directory: directory,
                         store: &store, manifest: &manifest, notes: &notes)
        }
        return finish(manifest: &manifest, directory: directory, store: store, reserve: reserve,
                      outcomes: outcomes, seconds: seconds, notes: notes)
    }

    /// Records how the chains ended, makes the files say it, and moves the
    /// directory into place where the rules allow.
    private func finish(manifest: inout RunManifest, directory: String, store: DrawStore, reserve: String,
                        outcomes: [Chains.Outcome], seconds: Double, notes: [String]) -> RunResult {
        var notes = notes
        let failure = outcomes.compactMap(\.failure).first { $0.cause == .numerical }
            ?? outcomes.compactMap(\.failure).first
        let status: RunManifest.Status = failure != nil ? .failed
            : outcomes.allSatisfy { $0.status == .complete } ? .complete : .interrupted
        manifest.status = status
        manifest.failure = failure.map(\.message)
        manifest.finished = Run.now()
        manifest.seconds = seconds
        manifest.outcomes = outcomes.map { outcome in
            RunManifest.Chain(chain: outcome.chain + 1, status: outcome.status, draws: outcome.draws,
                              sweeps: outcome.sweeps, warmupSeconds: outcome.warmupSeconds,
                              samplingSeconds: outcome.samplingSeconds,
                              file: outcome.status == .notStarted ? nil : Run.chainFile(outcome.chain + 1),
                              failure: outcome.failure?.message,
                              acceptance: outcome.rates.isEmpty ? nil : outcome.rates)
        }
        if status != .complete { Run.cutChainFiles(&manifest, directory: directory, notes: &notes) }
        if request.untilESS != nil { recordDrawCounts(manifest, directory: directory, notes: &notes) }
        manifest.files = manifest.outcomes.compactMap(\.file)
        // The record first, in the room kept for it: a full disk must not
        // stop the record of what was done. Until the draws not made are
        // NaN, it says they are not.
        let manifestPath = (directory as NSString).appendingPathComponent(RunManifest.fileName)
        let missing = manifest.store.missing
        let incomplete = outcomes.contains { $0.draws < store.draws }
        if incomplete { manifest.store.missing = "unwritten: only the first outcomes[].draws of each chain are draws" }
        try? FileManager.default.removeItem(atPath: reserve)
        var recorded = true
        do { try AtomicFile.write(try manifest.encoded(), to: manifestPath) } catch {
            recorded = false
            notes.append("could not write the final \(RunManifest.fileName) (\(error)); it still says \"running\"")
        }
        // The draws no chain made read as NaN, never as draws.
        if incomplete {
            do {
                for (slot, outcome) in outcomes.enumerated() {
                    try store.fillUnwritten(chain: slot, after: outcome.draws)
                }
                try store.synchronize()
                manifest.store.missing = missing
                if recorded { try? AtomicFile.write(try manifest.encoded(), to: manifestPath) }
            } catch {
                notes.append("draws.npy: the entries of draws not made are not all NaN (\(error)); use only the "
                             + "first outcomes[].draws of each chain, as every bayesglmm command does")
            }
        } else {
            try? store.synchronize()
        }
        var summary: Summary?
        if status != .failed {
            do { summary = try Run.writeSummary(of: directory) } catch {
                notes.append("summary.csv not written: \(error)")
            }
        }
        Run.synchronizeDirectory(directory)
        // A directory whose record still says "running" does not take the output's place.
        let placed = recorded
            ? Run.place(directory, output: output, status: status, replacing: request.replacesExisting,
                        existing: existing, notes: &notes)
            : (path: directory, replaced: false)
        return RunResult(status: status, directory: placed.path, output: output, replacedPrevious: placed.replaced,
                         outcomes: outcomes, failure: failure, seconds: seconds, notes: notes, manifest: manifest,
                         summary: summary)
    }

    /// After an interrupt or a failure: chain files of chains that made no
    /// draw are removed, and (interrupted runs) each file is cut to the
    /// draws readers use (`usableDraws`), the files of chains outside them
    /// removed — ArviZ reads chains of one length. Every completed draw
    /// stays in draws.npy.
    static func cutChainFiles(_ manifest: inout RunManifest, directory: String, notes: inout [String]) {
        let usable = manifest.status == .interrupted ? manifest.usableDraws : nil
        for k in manifest.outcomes.indices {
            let outcome = manifest.outcomes[k]
            guard let file = outcome.file else { continue }
            let path = (directory as NSString).appendingPathComponent(file)
            let position = manifest.position(ofChain: outcome.chain)
            if outcome.draws == 0 || (usable.map { !$0.chains.contains(position ?? -1) } ?? false) {
                try? FileManager.default.removeItem(atPath: path)
                manifest.outcomes[k].file = nil
                manifest.outcomes[k].fileDraws = nil
                continue
            }
            manifest.outcomes[k].fileDraws = outcome.draws
            if let usable, outcome.draws > usable.draws {
                do {
                    try CmdStanCSVWriter.cut(path: path, toDraws: usable.draws)
                    manifest.outcomes[k].fileDraws = usable.draws
                } catch {
                    notes.append("could not cut \(file) to \(usable.draws) draws: \(error)")
                }
            }
        }
    }

    /// DIR/summary.csv: the posterior summary of the fixed effects and the
    /// SDs over the draws readers use, the table `bayesglmm summary DIR
    /// --variables … --format csv` prints for them.
    @discardableResult
    static func writeSummary(of directory: String) throws -> Summary {
        let run = try RunDirectory.read(directory)
        let names = (run.fixedNames + run.terms.flatMap(\.covarianceNames)).filter { run.parameterIndex($0) != nil }
        let draws = try run.store.draws(of: names.map { run.parameterIndex($0)! }, first: run.drawsPerChain)
        let summary = summarize(Array(zip(names, draws)).map { (name: $0.0, draws: $0.1) })
        try AtomicFile.write(Data(summary.csv().utf8), to: (directory as NSString).appendingPathComponent("summary.csv"))
        return summary
    }
}

// MARK: - The directory's place

extension Run {
    /// `NAME.partial-XXXXXX` beside `output`, its parents made first.
    static func makeTemporarySibling(of output: String) throws(WriteFailure) -> String {
        let parent = FilePath(output).removingLastComponent().string
        if !parent.isEmpty {
            do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
                throw WriteFailure(path: parent, action: "create the directory", reason: error.localizedDescription)
            }
        }
        var template = Array((output + ".partial-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw WriteFailure(path: output + ".partial-XXXXXX", action: "create the run's temporary directory")
        }
        let path = String(cString: made)
        _ = chmod(path, 0o755)
        return path
    }

    /// Moves the finished directory into `output` where the rules allow
    /// (see the type's discussion; `existing` is what `checkOutput` found
    /// there, `replacing` whether a run there may be replaced); returns
    /// where it is.
    static func place(_ directory: String, output: String, status: RunManifest.Status, replacing: Bool,
                      existing: Existing, notes: inout [String]) -> (path: String, replaced: Bool) {
        func stay(_ why: String) -> (path: String, replaced: Bool) {
            notes.append("the run is in \(directory): \(why)")
            return (directory, false)
        }
        // A failed run stays where it is, for inspection (the caller says where).
        guard status != .failed else { return (directory, false) }
        var info = stat()
        if lstat(output, &info) != 0 {
            if clinux_rename_no_replace(directory, output) == 0 { return (output, false) }
            if errno == EINVAL || errno == ENOSYS, lstat(output, &info) != 0, rename(directory, output) == 0 {
                return (output, false)
            }
            return stay("\(output) appeared while the fit ran and is left as it is")
        }
        let isEmptyDirectory = info.st_mode & S_IFMT == S_IFDIR
            && ((try? FileManager.default.contentsOfDirectory(atPath: output))?.isEmpty ?? false)
        if isEmptyDirectory {
            // rename(2) replaces an empty directory, atomically; it refuses a non-empty one.
            if rename(directory, output) == 0 { return (output, false) }
            return stay("\(output) is no longer empty and is left as it is")
        }
        guard replacing, case .run = existing, info.st_mode & S_IFMT == S_IFDIR else {
            return stay("\(output) holds another run, left as it is")
        }
        guard status == .complete else {
            return stay("an interrupted run does not replace the run in \(output), which is left as it is")
        }
        guard (try? RunManifest.read((output as NSString).appendingPathComponent(RunManifest.fileName))) != nil else {
            return stay("\(output) no longer holds a run and is left as it is")
        }
        if clinux_rename_exchange(directory, output) == 0 {
            // The earlier run is now at `directory`.
            do { try FileManager.default.removeItem(atPath: directory) } catch {
                notes.append("the earlier run is in \(directory): it could not be removed (\(error))")
            }
            return (output, true)
        }
        // A file system without RENAME_EXCHANGE: move the earlier run aside,
        // move the new one in, and only then remove the earlier one.
        let aside = directory + ".replaced"
        guard rename(output, aside) == 0 else { return stay("\(output) could not be moved aside") }
        guard rename(directory, output) == 0 else {
            _ = rename(aside, output)
            return stay("it could not be moved to \(output), which is left as it was")
        }
        do { try FileManager.default.removeItem(atPath: aside) } catch {
            notes.append("the earlier run is in \(aside): it could not be removed (\(error))")
        }
        return (output, true)
    }

    /// Flushes a directory's entries (the files made and renamed in it).
    static func synchronizeDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}

// MARK: - One chain's files

/// Chain c's files: its CSV (the saved parameters) and its slice of the draw
/// store (every parameter). Made on the chain's thread; used only there.
struct ChainFiles: ChainSink {
    let chain: Int
    let writer: CmdStanCSVWriter
    let store: DrawStore
    /// The chain's place along the store's chain axis: `chain`, unless the
    /// run holds some chains only (`ChainSettings.selection`).
    let slot: Int
    let saved: [Int]
    /// The `log_lik.i` columns after the saved parameters, if any.
    let logLikelihood: LogLikelihoodColumns?
    /// Sees every draw written, for an until-ESS run's checks.
    let monitor: DrawMonitor?
    private var stored = 0

    init(chain: Int, path: String, comments: [String], names: [String], saved: [Int],
         logLikelihood: LogLikelihoodColumns? = nil, store: DrawStore, slot: Int, monitor: DrawMonitor? = nil)
        throws(WriteFailure) {
        self.chain = chain
        self.slot = slot
        self.saved = saved
        self.logLikelihood = logLikelihood
        self.store = store
        self.monitor = monitor
        writer = try CmdStanCSVWriter(path: path, comments: comments, names: names)
    }

    var written: Int { min(stored, writer.written) }

    mutating func write(_ values: [Double]) throws {
        try store.write(chain: slot, draw: stored, values)
        stored += 1
        try writer.write(saved.map { values[$0] } + (logLikelihood?.values(values) ?? []))
        monitor?.record(chain: chain, values)
    }

    mutating func finish(_ outcome: Chains.Outcome) throws {
        if outcome.status == .complete {
            try writer.comment(CmdStanCSVWriter.timing(warmup: outcome.warmupSeconds,
                                                       sampling: outcome.samplingSeconds))
        }
        try writer.close()
    }
}

/// Files written whole: to a temporary file beside the target, flushed, then
/// renamed over it, so that a failure never leaves a partial file that looks
/// complete.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws(WriteFailure) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteFailure(path: path, action: "create the file") }
        var failure: WriteFailure?
        data.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let wrote = Foundation.write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if wrote > 0 { done += wrote; continue }
                if wrote < 0 && errno == EINTR { continue }
                failure = WriteFailure(path: path, action: "write the file")
                return
            }
            if fsync(descriptor) != 0 { failure = WriteFailure(path: path, action: "flush the file") }
        }
        close(descriptor)
        if failure == nil && rename(temporary, path) != 0 {
            failure = WriteFailure(path: path, action: "put the file in place")
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// A file of `bytes` zeros, written out (not sparse): space kept for the
    /// end of a run on a disk that fills up.
    static func reserve(bytes: Int, at path: String) throws(WriteFailure) {
        try write(Data(count: bytes), to: path)
    }
}
