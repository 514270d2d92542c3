import Diagnostics
import Foundation
import SystemPackage
import Variates

/// A fit, checked whole and ready to run, and the driver that runs it into
/// a run directory.
///
/// `prepare` checks everything before anything is written: the settings,
/// the sampler for the link, the output (a directory that holds a run is
/// replaced only on request, anything else non-empty never), the space its
/// files need, the empirical-Bayes start and every chain's starting point.
/// `execute` then writes the run into a temporary sibling of the output
/// (`NAME.partial-XXXXXX`), runs the chains, records how each ended in the
/// manifest, and renames the directory into place only when the manifest
/// says what it holds:
///
/// - complete: into the output; a run already there (replacement asked
///   for) is swapped out atomically (`renameat2(RENAME_EXCHANGE)`) and only
///   then removed, so the output always holds one whole run;
/// - interrupted: into the output if nothing is there, else it stays at the
///   temporary path and the earlier run is untouched;
/// - failed: it stays at the temporary path, for inspection; the output is
///   untouched.
///
/// Interrupts (`StopRequest`) let each running chain finish its sweep; a
/// chain that never began is recorded as not started. Every completed draw
/// is kept in the draw store, whose other entries are set to NaN; the chain
/// files of an interrupted run hold the draws readers use
/// (`RunManifest.usableDraws`), so that ArviZ and `bayesglmm summary`
/// read the same draws.
public struct Run: Sendable {
    /// What the manifest says of the start.
    public struct StartRecord: Sendable {
        /// "eb" or "prior".
        public var kind: String
        /// Why the start is not the one asked for, if it is not.
        public var note: String?
        public var empiricalBayes: RunManifest.EmpiricalBayesStart?
    }

    /// What is at the output path now.
    public enum Existing: Sendable, Equatable {
        case absent
        case emptyDirectory
        /// A run directory, with the status its manifest gives.
        case run(RunManifest.Status)
    }

    public let request: RunRequest
    public let initialValues: InitialValues
    public let start: StartRecord
    /// What the user should know before the run begins (a fallback start).
    public let notes: [String]
    /// The output path, without trailing slashes.
    public let output: String
    public let existing: Existing
    /// The data file's hash (`DataHash.file`), for the manifest.
    public let dataHash: String?

    /// Checks `request` whole (see the type's discussion), fitting the EB
    /// start if there is one. Throws `InputError` for a bad setting or
    /// output (naming the setting), `NumericalFailure` for an EB start or a
    /// chain start that fails; writes nothing.
    public static func prepare(_ request: RunRequest) throws -> Run {
        try checkSettings(request)
        let (output, existing) = try checkOutput(request.output, replacing: request.replacesExisting)
        var notes: [String] = []
        let request = limitedToSpace(request, output: output, notes: &notes)
        try checkSpace(request, output: output)
        let (initialValues, start) = try startingPoint(request, notes: &notes)
        switch request.resolvedSampler {
        case .gibbs where request.design.hasSlopes:
            try checkStarts(try slopeKernel(request, initialValues), settings: request.settings)
        case .gibbs:
            try checkStarts(try gibbsKernel(request, initialValues), settings: request.settings)
        case .metropolis where request.design.hasSlopes:
            try checkStarts(try slopeMetropolisKernel(request, initialValues), settings: request.settings)
        case .metropolis:
            try checkStarts(metropolisKernel(request, initialValues), settings: request.settings)
        }
        return Run(request: request, initialValues: initialValues, start: start, notes: notes, output: output,
                   existing: existing, dataHash: DataHash.file(request.design.source))
    }

    /// The sweeps of every chain, for a progress display.
    public var sweepsPerChain: Int { request.settings.sweepsPerChain ?? 0 }
}

// MARK: - Checks

extension Run {
    static func checkSettings(_ request: RunRequest) throws(InputError) {
        let settings = request.settings
        guard (1...1024).contains(settings.chains) else {
            throw InputError(.badOption, "the number of chains must be between 1 and 1024, got \(settings.chains)",
                             setting: "chains")
        }
        if let parallel = settings.parallelChains, parallel < 1 {
            throw InputError(.badOption, "the number of chains run at once must be at least 1, got \(parallel)",
                             setting: "parallelChains")
        }
        if let threads = settings.threadsPerChain, !(1...1024).contains(threads) {
            throw InputError(.badOption, "the threads per chain must be between 1 and 1024, got \(threads)",
                             setting: "threadsPerChain")
        }
        guard settings.warmup >= 0 else {
            throw InputError(.badOption, "the warm-up must be 0 or more sweeps, got \(settings.warmup)",
                             setting: "warmup")
        }
        guard settings.draws >= 1 else {
            throw InputError(.badOption, "the number of kept draws per chain must be at least 1, got \(settings.draws)",
                             setting: "draws")
        }
        guard settings.thin >= 1 else {
            throw InputError(.badOption, "the thinning interval must be at least 1, got \(settings.thin)",
                             setting: "thin")
        }
        guard settings.sweepsPerChain != nil else {
            throw InputError(.badOption, "\(settings.warmup) warm-up sweeps and \(settings.draws) draws thinned by "
                             + "\(settings.thin) are more sweeps than can be counted", setting: "draws")
        }
        if let selection = settings.selection {
            guard !selection.isEmpty, zip(selection, selection.dropFirst()).allSatisfy({ $0 < $1 }),
                  selection.allSatisfy({ (0..<settings.chains).contains($0) }) else {
                throw InputError(.badOption, "the chain to run must be one of chains 1 to \(settings.chains), got "
                                 + selection.map { String($0 + 1) }.joined(separator: ", "), setting: "chain")
            }
            if request.untilESS != nil {
                throw InputError(.badOption, "a chain run as a job of its own cannot decide when to stop: the rule "
                                 + "of an until-ESS fit looks at every chain's draws together", setting: "chain",
                                 advice: "run every chain in one fit with \(setting: "untilEss"), or give the jobs "
                                     + "\(setting: "draws")")
            }
        }
        if let rule = request.untilESS { try checkUntilESS(rule, settings: settings) }
        for term in request.design.randomTerms where term.dimension == 1 && request.priors.covariance[term.name] != nil {
            throw InputError(.badOption, "cov(\(term.name)) is a prior on the covariance of a term with slopes, but "
                             + "the term \(term.name) has a single \(term.isInterceptOnly ? "SD" : "column"); "
                             + "write sd(\(term.name)) ~ half_t(3, 0, 2.5) or the like", setting: "prior")
        }
        if request.design.hasSlopes {
            let term = request.design.randomTerms.first { !$0.isInterceptOnly }!
            let described = "(\(term.columns.joined(separator: " + ")) | \(term.name))"
            if let updates = request.updates, updates != .augmented {
                throw InputError(.unsupported, "the \(updates.rawValue) updates do not fit random slopes "
                                 + "\(described) yet; the augmented ones do", setting: "updates")
            }
        }
        if request.resolvedSampler == .gibbs && PolyaGammaGibbs.Augmentation(link: request.link) == .albertChib
            && !request.design.hasWholeCounts {
            throw InputError(.unsupported, "the weights make fractional successes or trials, and the Albert–Chib "
                             + "augmentation of the probit link draws one latent value per trial; use whole-number "
                             + "weights, or the Metropolis sampler", setting: "weights")
        }
        if request.sampler == .gibbs && PolyaGammaGibbs.Augmentation(link: request.link) == nil {
            throw InputError(.badOption, "the Gibbs sampler has a data augmentation for the logit and probit links "
                             + "only (Pólya–Gamma, Albert–Chib), not for the \(request.link.rawValue) link; the "
                             + "Metropolis sampler takes any link", setting: "sampler")
        }
    }

    /// An until-ESS request: a target of at least 1, a time limit that is a
    /// positive number of seconds, a draw limit no smaller than the first
    /// block and whose sweeps can be counted.
    static func checkUntilESS(_ rule: UntilESS, settings: ChainSettings) throws(InputError) {
        guard rule.target >= 1 else {
            throw InputError(.badOption, "the bulk-ESS to reach must be at least 1, got \(rule.target)",
                             setting: "untilEss")
        }
        if let seconds = rule.maxSeconds, !(seconds > 0 && seconds.isFinite) {
            throw InputError(.badOption, "the time limit must be a positive number of seconds, got \(seconds)",
                             setting: "maxTime")
        }
        let limit = rule.drawLimit(firstBlock: settings.draws)
        guard limit >= settings.draws else {
            throw InputError(.badOption, "the draw limit (\(limit) per chain) is below the first block of "
                             + "\(settings.draws) draws", setting: "maxDraws",
                             advice: "allow at least as many draws as \(setting: "draws") keeps")
        }
        var longest = settings
        longest.draws = limit
        guard longest.sweepsPerChain != nil else {
            throw InputError(.badOption, "\(settings.warmup) warm-up sweeps and \(limit) draws thinned by "
                             + "\(settings.thin) are more sweeps than can be counted", setting: "maxDraws")
        }
    }

    /// The output path without trailing slashes, and what is there. Refuses
    /// a path with no name, an existing file, a non-empty directory that is
    /// not a run, a run when replacing was not asked for, a run another
    /// process is writing, and a parent that cannot be written.
    static func checkOutput(_ path: String, replacing: Bool) throws(InputError) -> (String, Existing) {
        // FilePath, not NSString: Foundation's deletingLastPathComponent
        // traps on a one-letter name ("r") on Linux (Swift 6.3.1).
        let output = FilePath(path).string
        let name = FilePath(path).lastComponent?.string
        guard !output.isEmpty, let name, name != ".", name != ".." else {
            throw InputError(.badOption, "give the run directory a name of its own (got \"\(path)\")",
                             setting: "output")
        }
        var status = stat()
        guard lstat(output, &status) == 0 else {
            guard errno == ENOENT || errno == ENOTDIR else {
                throw InputError(.unreadableFile, "cannot look at the output: " + String(cString: strerror(errno)),
                                 file: output, setting: "output")
            }
            try checkParent(of: output)
            return (output, .absent)
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            let what = status.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "a file"
            throw InputError(.badOption, "is \(what), not a run directory; a fit writes a directory of its own",
                             file: output, setting: "output")
        }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: output) } catch {
            throw InputError(.unreadableFile, "cannot list the output directory", file: output, setting: "output")
        }
        try checkParent(of: output)
        if entries.isEmpty { return (output, .emptyDirectory) }
        let manifestPath = (output as NSString).appendingPathComponent(RunManifest.fileName)
        guard entries.contains(RunManifest.fileName), let manifest = try? RunManifest.read(manifestPath) else {
            throw InputError(.badOption, "the directory is not empty and holds no run (no readable "
                             + "\(RunManifest.fileName)); a fit writes a new directory or replaces a run, "
                             + "never other files", file: output, setting: "output")
        }
        if manifest.status == .running, let writer = manifest.writer, writer.isAlive {
            throw InputError(.badOption, "another fit (process \(writer.pid)) is writing this run",
                             file: output, setting: "output")
        }
        guard replacing else {
            throw InputError(.outputExists, "the directory holds a fit (\(manifest.shortDescription)); "
                             + "a run is replaced only on request", file: output, setting: "output",
                             advice: "give another \(setting: "output"), or \(setting: "force") to replace it once "
                                 + "the new fit is complete")
        }
        return (output, .run(manifest.status))
    }

    /// The nearest existing ancestor of `path` must be a writable directory.
    static func checkParent(of path: String) throws(InputError) {
        let ancestor = existingAncestor(of: FilePath(path).removingLastComponent())
        var status = stat()
        guard stat(ancestor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw InputError(.badOption, "\(ancestor) is not a directory, so the run directory cannot be made",
                             file: path, setting: "output")
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw InputError(.badOption, "the directory \(ancestor) is not writable", file: path, setting: "output")
        }
    }

    /// The bytes a run of `request` with `draws` draws per chain needs: the
    /// draw store (twice for an until-ESS run: at the end the draws made are
    /// copied into a store of their size, which then replaces the one with
    /// room for the limit), about 24 bytes a value in the CSV files, and a
    /// margin of 64 MB; nil for more values than a file can hold.
    static func spaceNeeded(_ request: RunRequest, draws: Int) -> Double? {
        let settings = request.settings
        guard let store = DrawStore.size(chains: settings.chains, draws: draws,
                                         parameters: request.parameterNames.count),
              Double(store) < 0x1p62 else { return nil }
        let columns = request.savedIndices.count + (request.logLikelihood.map {
            $0 == .row ? request.design.rowsUsed : request.design.cellCount
        } ?? 0)
        let csv = Double(settings.chains) * Double(draws) * Double(columns) * 24
        return Double(store) * (request.untilESS != nil ? 2 : 1) + csv + 64e6
    }

    /// The bytes free on the file system of `output` (its nearest existing
    /// ancestor), or nil if they cannot be read.
    static func freeSpace(_ output: String) -> (bytes: Double, directory: String)? {
        let ancestor = existingAncestor(of: FilePath(output))
        var status = statvfs()
        guard statvfs(ancestor, &status) == 0 else { return nil }
        return (Double(status.f_bavail) * Double(status.f_frsize), ancestor)
    }

    /// An until-ESS run without `--max-draws` whose default draw limit
    /// (`UntilESS.defaultMaxDraws`) would need more than half the free
    /// space of the output's file system is limited instead to the draws
    /// per chain that half holds — the default scales with the run (10⁶
    /// rows have 350,000 parameters: 10,000 draws of 4 chains would need
    /// 224 GB) — with a note; as long as that is at least the first block
    /// (--draws). Otherwise the request is left as it is, for
    /// `checkSpace` to judge.
    static func limitedToSpace(_ request: RunRequest, output: String, notes: inout [String]) -> RunRequest {
        guard let free = freeSpace(output) else { return request }
        return limited(request, toSpace: free, notes: &notes)
    }

    /// `limitedToSpace` for a file system with `free.bytes` free.
    static func limited(_ request: RunRequest, toSpace free: (bytes: Double, directory: String),
                        notes: inout [String]) -> RunRequest {
        guard var rule = request.untilESS, rule.maxDraws == nil else { return request }
        let wanted = rule.drawLimit(firstBlock: request.settings.draws)
        guard let none = spaceNeeded(request, draws: 0), let one = spaceNeeded(request, draws: 1) else { return request }
        let half = free.bytes / 2
        if let need = spaceNeeded(request, draws: wanted), need <= half { return request }
        let fitting = ((half - none) / max(one - none, 1)).rounded(.down)
        guard fitting >= Double(request.settings.draws) else { return request }
        let limit = Int(min(fitting, Double(wanted)))
        rule.maxDraws = limit
        var limited = request
        limited.untilESS = rule
        let defaultNeed: String = spaceNeeded(request, draws: wanted).map(bytesText) ?? "more than a file can hold"
        let space: String = bytesText(free.bytes)
        var note = "the draw limit is \(limit) draws per chain, as many as half the space free on \(free.directory) "
        note += "(\(space)) holds; the default, \(wanted), would need \(defaultNeed) (a draw limit given to the "
        note += "run replaces it)"
        notes.append(note)
        return limited
    }

    /// The chain files and the draw store must fit in the space the output's
    /// file system has free (with a margin), counted without overflow
    /// (`spaceNeeded`).
    static func checkSpace(_ request: RunRequest, output: String) throws(InputError) {
        let settings = request.settings
        let parameters = request.parameterNames.count
        let draws = request.storedDraws
        let limited = request.untilESS != nil
        let setting = limited ? "maxDraws" : "draws"
        let counts = "\(settings.chains) chain\(settings.chains == 1 ? "" : "s") × \(draws) draws of "
            + "\(parameters) parameters"
        guard let need = spaceNeeded(request, draws: draws) else {
            throw InputError(.badOption, "\(counts) are more values than a file can hold", setting: setting,
                             advice: "keep fewer draws (\(setting: setting))")
        }
        guard let free = freeSpace(output) else { return }
        guard need <= free.bytes else {
            throw InputError(.badOption, "\(counts) need \(bytesText(need)) (the draw store"
                             + (limited ? " twice, to cut it to the draws made at the end," : "") + " and the chain "
                             + "files) but the file system of \(free.directory) has \(bytesText(free.bytes)) free",
                             setting: setting, advice: "keep fewer draws (\(setting: setting)) or thin them "
                                 + "(\(setting: "thin"))")
        }
    }

    /// The nearest of `path` and its ancestors that exists ("." for a
    /// relative path none of whose ancestors exists).
    static func existingAncestor(of path: FilePath) -> String {
        var candidate = path
        var status = stat()
        while !candidate.isEmpty && lstat(candidate.string, &status) != 0 {
            let up = candidate.removingLastComponent()
            if up == candidate { break }
            candidate = up
        }
        return candidate.isEmpty ? "." : candidate.string
    }

    /// `1.2 GB`, `7136.0 GB`, `453.8 TB`.
    static func bytesText(_ bytes: Double) -> String {
        bytes >= 1e13 ? String(format: "%.1f TB", bytes / 1e12) : String(format: "%.1f GB", bytes / 1e9)
    }

    /// Where the chains start: around the EB fit when asked (or by default
    /// for the logit link), else from the prior.
    static func startingPoint(_ request: RunRequest, notes: inout [String]) throws
        -> (InitialValues, StartRecord) {
        let design = request.design
        let choice = request.start ?? (request.link == .logit ? .empiricalBayes : .prior)
        guard choice == .empiricalBayes else { return (.prior, StartRecord(kind: "prior")) }
        guard !design.randomTerms.isEmpty else {
            if request.start == .empiricalBayes {
                throw InputError(.badOption, "the model has no random terms, so there is no empirical-Bayes fit to "
                                 + "start from", setting: "start", advice: "start from the prior (\(setting: "start", value: "prior"))")
            }
            return (.prior, StartRecord(kind: "prior", note: "the model has no random terms: no EB fit to start from"))
        }
        let clock = ContinuousClock()
        let begin = clock.now
        let fit: EmpiricalBayesFit
        do {
            fit = try EmpiricalBayesFit.fit(design)
        } catch {
            if request.start == .empiricalBayes { throw error }
            notes.append("the EB fit for the chains' start failed (\(error)); starting from the prior")
            return (.prior, StartRecord(kind: "prior", note: "EB fit failed: \(error)"))
        }
        let seconds = Chains.seconds(clock.now - begin)
        if let runaway = fit.messages.first(where: { $0.hasPrefix("the Laplace likelihood keeps rising") }) {
            if request.start == .empiricalBayes {
                throw NumericalFailure("there is no empirical-Bayes fit to start from: " + runaway,
                                       remedies: [.anotherStart])
            }
            let note = "the EB fit does not exist (an SD runs away), so chains start from the prior"
            notes.append(note)
            return (.prior, StartRecord(kind: "prior", note: note))
        }
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        func table(_ names: [String], _ values: [Double]) -> [String: Double?] {
            Dictionary(zip(names, values.map(finite)), uniquingKeysWith: { first, _ in first })
        }
        // Keyed by term for random intercepts ({"client": 0.8}); with slopes
        // by the parameters' names ({"sd(client)[x1]": 0.57, "cor(client)[(Intercept)][x1]": 0.48}).
        let covariance = design.hasSlopes
            ? table(design.randomTerms.flatMap(\.covarianceNames), fit.covarianceValues(design))
            : table(design.randomTerms.map(\.name), fit.standardDeviations)
        let record = RunManifest.EmpiricalBayesStart(
            seconds: seconds, fixed: table(design.fixedNames, fit.coefficients),
            stdErrors: table(design.fixedNames, fit.standardErrors), sd: covariance,
            logLikelihood: finite(fit.logLikelihood), converged: fit.converged, singular: fit.singular)
        return (.around(fit), StartRecord(kind: "eb", empiricalBayes: record))
    }

    static func gibbsKernel(_ request: RunRequest, _ start: InitialValues) throws(InputError) -> PolyaGammaGibbs {
        guard let augmentation = PolyaGammaGibbs.Augmentation(link: request.link) else {
            throw InputError(.badOption, "no augmentation for the \(request.link.rawValue) link", setting: "sampler")
        }
        var kernel = PolyaGammaGibbs(design: request.design, priors: request.priors, augmentation: augmentation)
        kernel.initialValues = start
        kernel.threadsPerChain = request.settings.resolvedThreadsPerChain
        if let updates = request.updates { kernel.updates = updates }
        return kernel
    }

    /// The Gibbs kernel for a design with random slopes (`RandomSlopeGibbs`).
    static func slopeKernel(_ request: RunRequest, _ start: InitialValues) throws(InputError) -> RandomSlopeGibbs {
        guard let augmentation = PolyaGammaGibbs.Augmentation(link: request.link) else {
            throw InputError(.badOption, "the Gibbs sampler has no data augmentation for the "
                             + "\(request.link.rawValue) link", setting: "sampler")
        }
        var kernel = try RandomSlopeGibbs(design: request.design, priors: request.priors, augmentation: augmentation)
        kernel.initialValues = start
        kernel.threadsPerChain = request.settings.resolvedThreadsPerChain
        return kernel
    }

    /// The Metropolis kernel for a design with random slopes
    /// (`RandomSlopeMetropolis`).
    static func slopeMetropolisKernel(_ request: RunRequest, _ start: InitialValues) throws(InputError)
        -> RandomSlopeMetropolis {
        var kernel = try RandomSlopeMetropolis(design: request.design, priors: request.priors, link: request.link)
        kernel.initialValues = start
        return kernel
    }

    static func metropolisKernel(_ request: RunRequest, _ start: InitialValues) -> MetropolisWithinGibbs {
        var kernel = MetropolisWithinGibbs(design: request.design, priors: request.priors, link: request.link)
        kernel.initialValues = start
        return kernel
    }

    /// Every chain's start, drawn as the chain will draw it (its own
    /// stream), must be finite.
    static func checkStarts<K: SamplingKernel>(_ kernel: K, settings: ChainSettings) throws {
        let names = kernel.parameterNames
        for chain in settings.selectedChains {
            let generator = try Generator(seed: settings.seed, chain: UInt64(chain), stream: 0)
            let values = kernel.values(of: kernel.initialState(using: generator))
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw NumericalFailure("the start of chain \(chain + 1) has \(values[bad]) for \(names[bad])",
                                       remedies: [.anotherStart, .rescaledCovariates])
            }
        }
    }
}

extension RunManifest.Writer {
    /// The process that wrote the manifest, here, is still running.
    var isAlive: Bool {
        host == ProcessInfo.processInfo.hostName && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// This process.
    static var current: RunManifest.Writer {
        RunManifest.Writer(pid: getpid(), host: ProcessInfo.processInfo.hostName)
    }
}

extension RunManifest {
    /// `complete, 4 chains × 1000 draws, finished 2026-12-06T10:00:00Z`.
    var shortDescription: String {
        var parts = [status.rawValue]
        if let chains, let draws { parts.append("\(chains) chain\(chains == 1 ? "" : "s") × \(draws) draws") }
        if let finished { parts.append("finished \(finished)") }
        return parts.joined(separator: ", ")
    }
}
