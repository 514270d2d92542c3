import ArgumentParser
import BayesGLMM
import Diagnostics
import Foundation

/// `bayesglmm fit`: the full posterior by the Gibbs sampler (Pólya–Gamma
/// augmentation for the logit, Albert–Chib for the probit) or the
/// Metropolis-within-Gibbs fallback.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample the posterior of a logistic (or probit, cloglog) mixed model.",
        discussion: """
            Runs --chains chains of the sampler in parallel
            (one per core), each with --warmup discarded sweeps and --draws kept
            ones, and streams the draws to DIR as CmdStan-style CSV files
            (DIR/chain-1.csv, …, the parameters --save selects), every draw of
            every parameter to DIR/draws.npy (NumPy: np.load(path, mmap_mode="r"),
            shape chains x draws x parameters, names in fit.json), and
            DIR/fit.json describing the model, priors, levels, settings, seeds,
            timings and status, and DIR/summary.csv (the posterior summary
            of the fixed effects and SDs). The seed fixes every
            draw, whatever the number of threads. Ctrl-C stops cleanly: the
            draws made so far are kept and fit.json says "interrupted".

            Priors (repeat --prior): sd ~ half_t(3, 0, 2.5) is the default for
            every standard deviation; e.g. --prior 'sd(client) ~ half_cauchy(0, 1)',
            --prior 'b ~ normal(0, 1)', --prior 'Intercept ~ normal(0, 5)'.

            Starts (--init): eb (the default) first fits the model by
            empirical Bayes (the Laplace approximation, as `bayesglmm eb`) and
            starts each chain overdispersed around that fit: coefficients at
            the estimate ± 2 standard errors, each SD times exp(N(0, 0.5²))
            (floored away from 0 for a boundary fit), effects from their
            conditional modes and SDs rescaled to the drawn SD. prior skips the
            EB fit: intercept near the logit of the overall rate ± 1, other
            coefficients N(0, 1) (far off for an unscaled covariate), SDs
            uniform on (0.2, 2), effects N(0, SD²). Either way the seed fixes
            every start. Validation/RESULTS.md (Initial values) has the
            mixing measured.

            Samplers (--sampler): gibbs is the Gibbs sampler with collapsed
            blocks and interweaving, through Pólya–Gamma augmentation for
            --link logit and Albert–Chib (truncated-normal) augmentation for
            --link probit; it has none for cloglog. metropolis is the adaptive
            random-walk Metropolis-within-Gibbs sampler on the exact likelihood
            (any link; its proposal scales adapt during warm-up and are frozen
            after). auto (the default) takes gibbs for logit and probit and
            metropolis for cloglog (Validation/RESULTS.md, "Albert–Chib for
            probit", has the probit measurements). --link probit or cloglog
            starts from the prior unless --init eb is given (the EB fit is of
            the logit model).

            Then: bayesglmm summary DIR
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "The output directory (created if missing).")
    var out: String

    @Option(help: "Number of chains.") var chains = 4
    @Option(help: "Warm-up sweeps per chain (discarded).") var warmup = 1000
    @Option(help: "Kept draws per chain.") var draws = 1000
    @Option(help: "Keep every thin-th sweep.") var thin = 1
    @Option(help: "The seed; the same seed gives the same draws.") var seed: UInt64 = 1
    @Option(name: .customLong("prior"), help: "A prior, e.g. 'sd(client) ~ half_t(3, 0, 1)' (repeatable).")
    var priorSpecifications: [String] = []
    @Option(help: ArgumentHelp(
        "Which parameters to write: a comma list of fixed, sd, effects, interactions, all.",
        discussion: "Default fixed,sd,effects: the intercept and coefficients, the standard deviations and the "
            + "effects of single-factor terms; 'interactions' adds the effects of terms like client:stylist."))
    var save = "fixed,sd,effects"
    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Where chains start: eb (around an empirical-Bayes fit) or prior.",
        discussion: "Default eb; an EB fit that fails when --init eb was not given falls back to prior."))
    var initialization: Initialization?
    @Option(help: "The sampler: gibbs, metropolis or auto (gibbs for logit and probit, metropolis for cloglog).")
    var sampler = SamplerChoice.auto
    @Option(help: "The link: logit, probit or cloglog.") var link = LinkChoice.logit
    @Flag(help: "No progress on standard error.") var quiet = false

    /// `--sampler`.
    enum SamplerChoice: String, ExpressibleByArgument, CaseIterable {
        case gibbs, metropolis, auto
    }
    /// `--link`.
    enum LinkChoice: String, ExpressibleByArgument, CaseIterable {
        case logit, probit, cloglog
        var link: Link { Link(rawValue: rawValue)! }
    }
    /// The sampler `--sampler` and `--link` select: auto is Gibbs wherever
    /// an augmentation exists (logit, probit), else Metropolis.
    var resolvedSampler: SamplerChoice {
        sampler == .auto ? (PolyaGammaGibbs.Augmentation(link: link.link) != nil ? .gibbs : .metropolis) : sampler
    }

    /// `--init`.
    enum Initialization: String, ExpressibleByArgument, CaseIterable {
        case prior, eb
    }
    /// `--init` when not given.
    static let defaultInitialization = Initialization.eb

    func validate() throws {
        guard chains >= 1 && chains <= 256 else { throw ValidationError("--chains must be between 1 and 256, got \(chains)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        guard draws >= 1 else { throw ValidationError("--draws must be at least 1, got \(draws)") }
        guard thin >= 1 else { throw ValidationError("--thin must be at least 1, got \(thin)") }
        let groups = save.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let known: Set<String> = ["fixed", "sd", "effects", "interactions", "all"]
        if let bad = groups.first(where: { !known.contains($0) }) {
            throw ValidationError("--save takes fixed, sd, effects, interactions or all, got '\(bad)'")
        }
        if sampler == .gibbs && PolyaGammaGibbs.Augmentation(link: link.link) == nil {
            throw ValidationError("--sampler gibbs needs --link logit or probit (the Gibbs sampler has a data "
                + "augmentation for those two only: Pólya–Gamma, Albert–Chib); use --sampler metropolis or auto "
                + "for --link \(link.rawValue)")
        }
    }

    func run() throws {
        // Ctrl-C: from here on, stop after the current sweep.
        let stop = StopRequest()
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { stop.request() }
        interrupt.resume()
        defer { interrupt.cancel(); signal(SIGINT, SIG_DFL) }

        let design = try model.design()
        let termNames = design.randomTerms.map(\.name)
        let priors = try Priors(specifications: priorSpecifications, terms: termNames, fixed: design.fixedNames)
        switch resolvedSampler {
        case .metropolis:
            try sample(design: design, priors: priors, stop: stop) { start in
                var kernel = MetropolisWithinGibbs(design: design, priors: priors, link: link.link)
                kernel.initialValues = start
                return kernel
            }
        default:
            // validate() has ruled out gibbs for a link without augmentation.
            guard let augmentation = PolyaGammaGibbs.Augmentation(link: link.link) else {
                throw ValidationError("--sampler gibbs: no augmentation for --link \(link.rawValue)")
            }
            try sample(design: design, priors: priors, stop: stop) { start in
                var kernel = PolyaGammaGibbs(design: design, priors: priors, augmentation: augmentation)
                kernel.initialValues = start
                return kernel
            }
        }
    }

    /// Samples with the kernel `make` builds from a start, writing the
    /// draws and fit.json.
    func sample<K: SamplingKernel>(design: Design, priors: Priors, stop: StopRequest,
                                   make: (InitialValues) -> K) throws {
        // Which parameters to write.
        let groups = Set(save.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let all = groups.contains("all")
        let names = make(.prior).parameterNames
        let interactionTerms = Set(design.randomTerms.filter { $0.factors.count > 1 }.map(\.name))
        let keep = names.indices.filter { i in
            let name = names[i]
            if all { return true }
            if name.hasPrefix("sd(") { return groups.contains("sd") }
            if name.hasPrefix("r(") {
                let term = String(name.dropFirst(2).prefix { $0 != ")" })
                return groups.contains(interactionTerms.contains(term) ? "interactions" : "effects")
            }
            return groups.contains("fixed")
        }

        // The output directory and its files.
        let directory = URL(fileURLWithPath: out)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw InputError(.badOption, "--out: cannot create the directory \(out): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory.path) else {
            throw InputError(.badOption, "--out: the directory \(out) is not writable")
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where file.hasPrefix("chain-") && file.hasSuffix(".csv") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(file))
        }
        // Where chains start: with --init eb, the EB fit runs now.
        let origin = try startingPoint(design)
        let kernel = make(origin.values)
        let settings = ChainSettings(chains: chains, warmup: warmup, draws: draws, thin: thin, seed: seed)
        var method: [String: Any] = [
            "sampler": resolvedSampler.rawValue, "link": link.rawValue,
            "sampler_description": resolvedSampler == .metropolis
                ? "adaptive random-walk Metropolis-within-Gibbs (exact likelihood; scales adapted in warm-up, then frozen)"
                : link == .probit
                ? "Albert–Chib Gibbs (truncated-normal augmentation; collapsed fixed effects and SDs, interweaving)"
                : "Pólya–Gamma Gibbs (collapsed fixed effects and SDs, interweaving)",
        ]
        if resolvedSampler == .gibbs {
            method["augmentation"] = link == .probit ? "albert_chib" : "polya_gamma"
        }
        let record = FitRecord(design: design, priors: priors, settings: settings, saved: keep.map { names[$0] },
                               names: names, directory: directory,
                               initialization: origin.record.merging(method) { current, _ in current })
        try record.write(status: "running", outcomes: [], seconds: 0)

        let comments = [
            "BayesGLMM 0.1.0: " + (resolvedSampler == .metropolis
                                   ? "Metropolis-within-Gibbs sampler, link = \(link.rawValue)"
                                   : link == .probit ? "Albert–Chib Gibbs sampler, link = probit"
                                   : "Pólya–Gamma Gibbs sampler"),
            "model = \(design.formula)",
            "data = \(design.source)",
            "num_warmup = \(warmup)", "num_samples = \(draws)", "thin = \(thin)", "seed = \(seed)",
            "init = \(origin.record["init"] as? String ?? "prior")",
        ]
        var writers: [CmdStanCSVWriter] = []
        for c in 0..<chains {
            writers.append(try CmdStanCSVWriter(path: directory.appendingPathComponent("chain-\(c + 1).csv").path,
                                                comments: comments + ["chain = \(c + 1)"],
                                                names: keep.map { names[$0] }))
        }
        let bytes = DrawStore.size(chains: chains, draws: draws, parameters: names.count)
        let free = ((try? FileManager.default.attributesOfFileSystem(forPath: directory.path))?[.systemFreeSize]
            as? NSNumber)?.doubleValue ?? .infinity
        guard bytes * 1.1 + 1e8 < free else {
            throw InputError(.badOption, String(format: "--draws: %d chains x %d draws of %d parameters need %.1f GB "
                + "for draws.npy but %@ has %.1f GB free; keep fewer draws (--draws, --thin)",
                chains, draws, names.count, bytes / 1e9, out, free / 1e9))
        }
        let store = try DrawStore(path: directory.appendingPathComponent("draws.npy").path,
                                  chains: chains, draws: draws, parameters: names.count)
        let sinks = WriterBox(writers, store: store, keep: keep, chains: chains)

        let progress = SamplingProgress(chains: chains, sweepsPerChain: warmup + draws * thin)
        let reporter = quiet ? nil : ProgressReporter(progress: progress)
        reporter?.start()
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes: [Chains.Outcome]
        do {
            outcomes = try Chains.stream(kernel, settings: settings, keep: Array(names.indices), stop: stop,
                                         progress: progress) { c, values in
                try sinks.write(c, values)
            }
        } catch {
            // Never leave "running" behind: the files are incomplete.
            reporter?.finish()
            try? record.write(status: "failed", outcomes: [], seconds: 0)
            throw error
        }
        store.close()
        reporter?.finish()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let interrupted = outcomes.contains { $0.interrupted }
        for outcome in outcomes {
            if !outcome.interrupted {
                try writers[outcome.chain].comment([
                    "",
                    String(format: " Elapsed Time: %.3f seconds (Warm-up)", outcome.warmupSeconds),
                    String(format: "               %.3f seconds (Sampling)", outcome.samplingSeconds),
                    String(format: "               %.3f seconds (Total)", outcome.warmupSeconds + outcome.samplingSeconds),
                ])
            }
            try writers[outcome.chain].close()
        }
        try record.write(status: interrupted ? "interrupted" : "complete", outcomes: outcomes, seconds: seconds)
        do {
            try Fit.writeSummary(of: out)
        } catch {
            FileHandle.standardError.write(Data("note: summary.csv not written: \(error)\n".utf8))
        }
        let kept = outcomes.map(\.draws).reduce(0, +)
        let message = interrupted
            ? "interrupted: kept \(kept) draws in \(out) (fit.json says \"interrupted\")"
            : String(format: "wrote %@: %d chains x %d draws in %.1f s; next: bayesglmm summary %@",
                     out, chains, draws, seconds, out)
        FileHandle.standardError.write(Data((message + "\n").utf8))
        if interrupted { throw ExitCode(130) }
    }
}

extension Fit {
    /// DIR/summary.csv: the posterior summary of the fixed effects and the
    /// SDs over the completed draws, the table `bayesglmm summary DIR
    /// --variables … --format csv` prints for them (the chain files and
    /// draws.npy hold the same numbers).
    static func writeSummary(of directory: String) throws {
        let run = try RunDirectory.read(directory)
        let names = (run.fixedNames + run.terms.map { "sd(\($0.name))" }).filter { run.parameterIndex($0) != nil }
        let draws = try run.store.draws(of: names.map { run.parameterIndex($0)! }, first: run.drawsPerChain)
        let summary = summarize(Array(zip(names, draws)).map { (name: $0.0, draws: $0.1) })
        try Output.write(Data(summary.csv().utf8), to: URL(fileURLWithPath: directory)
            .appendingPathComponent("summary.csv").path)
    }
}

extension Fit {
    /// The chains' start and what fit.json says of it. With `--init eb` (the
    /// default) the EB fit runs first, its time on standard error.
    func startingPoint(_ design: Design) throws -> (values: InitialValues, record: [String: Any]) {
        let choice = initialization ?? Fit.defaultInitialization
        guard choice == .eb, !design.randomTerms.isEmpty else { return (.prior, ["init": "prior"]) }
        // The EB fit is of the logit model: for another link only on request.
        guard link == .logit || initialization == .eb else {
            return (.prior, ["init": "prior", "init_note": "--link \(link.rawValue): the EB start is only on request"])
        }
        let clock = ContinuousClock()
        let begin = clock.now
        let fit: EmpiricalBayesFit
        do {
            fit = try EmpiricalBayesFit.fit(design)
        } catch {
            if initialization == .eb { throw error }
            FileHandle.standardError.write(Data("warning: the EB fit for --init eb failed (\(error)); starting from the prior\n".utf8))
            return (.prior, ["init": "prior", "init_note": "EB fit failed: \(error)"])
        }
        let elapsed = clock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let terms = design.randomTerms.map(\.name)
        let sds = terms.indices.map { String(format: "%.3g", fit.standardDeviations[$0]) }
        if !quiet {
            FileHandle.standardError.write(Data(String(format: "EB fit for --init eb: %.2f s (sd: %@%@)\n", seconds,
                zip(terms, sds).map { "\($0) \($1)" }.joined(separator: ", "),
                fit.singular ? "; boundary fit" : "").utf8))
        }
        // JSON has no NaN: a missing standard error is null.
        func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        func table(_ names: [String], _ values: [Double]) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: zip(names, values.map(number)))
        }
        let eb: [String: Any] = [
            "seconds": seconds,
            "fixed": table(design.fixedNames, fit.coefficients),
            "std_errors": table(design.fixedNames, fit.standardErrors),
            "sd": table(terms, fit.standardDeviations),
            "log_likelihood": number(fit.logLikelihood),
            "converged": fit.converged,
            "singular": fit.singular,
        ]
        return (.around(fit), ["init": "eb", "init_eb": eb])
    }
}

/// The chains' writers, each used only by its own chain's thread: the CSV
/// gets the saved parameters, the store every parameter.
final class WriterBox: @unchecked Sendable {
    let writers: [CmdStanCSVWriter]
    let store: DrawStore
    let keep: [Int]
    var counts: [Int]
    init(_ writers: [CmdStanCSVWriter], store: DrawStore, keep: [Int], chains: Int) {
        self.writers = writers
        self.store = store
        self.keep = keep
        counts = Array(repeating: 0, count: chains)
    }
    func write(_ chain: Int, _ values: [Double]) throws {
        try writers[chain].write(keep.map { values[$0] })
        try store.write(chain: chain, draw: counts[chain], values)
        counts[chain] += 1
    }
}

/// fit.json: what was fitted, how, and how it ended.
struct FitRecord {
    let design: Design
    let priors: Priors
    let settings: ChainSettings
    let saved: [String]
    let names: [String]
    let directory: URL
    /// "init" and, for an EB start, "init_eb" (the fit's estimates and
    /// time); "sampler", "link", "sampler_description" and, for Gibbs,
    /// "augmentation" (polya_gamma or albert_chib).
    let initialization: [String: Any]

    func write(status: String, outcomes: [Chains.Outcome], seconds: Double) throws {
        let terms = design.randomTerms.map(\.name)
        var object: [String: Any] = [
            "program": "bayesglmm 0.1.0",
            "status": status,
            "formula": design.formula.description,
            "formula_as_written": design.formula.text,
            "data": design.source,
            "rows_read": design.rowsRead, "rows_used": design.rowsUsed, "rows_dropped": design.rowsDropped,
            "cells": design.cellCount,
            "fixed": design.fixedNames,
            // How to code new rows (`score`): each fixed column as a product
            // of numeric columns times a categorical column's indicator.
            "fixed_coding": design.fixedCoding.map { column -> [String: Any] in
                var entry: [String: Any] = ["name": column.name, "numeric": column.numeric]
                if let categorical = column.categorical, let level = column.level {
                    entry["categorical"] = categorical
                    entry["level"] = level
                }
                return entry
            },
            "categorical_levels": design.categoricalLevels,
            // Trials and successes per level, aligned with "levels", for `compare`'s shrinkage table.
            "random": LevelCounts.of(design).map {
                ["term": $0.term, "levels": $0.levels, "observations": $0.observations,
                 "successes": $0.successes] as [String: Any]
            },
            "priors": priors.describe(terms: terms, fixed: design.fixedNames),
            "chains": settings.chains, "warmup": settings.warmup, "draws": settings.draws, "thin": settings.thin,
            "seed": settings.seed,
            "streams": (0..<settings.chains).map { ["chain": $0 + 1, "seed": settings.seed, "stream": 0] },
            "files": (0..<settings.chains).map { "chain-\($0 + 1).csv" },
            "saved_parameters": saved,
            "store": [
                "file": "draws.npy", "dtype": "<f8", "order": "C",
                "shape": [settings.chains, settings.draws, names.count], "axes": ["chain", "draw", "parameter"],
                "names": names, "missing": "0 (sparse) beyond outcomes[].draws for an interrupted chain",
            ] as [String: Any],
            "seconds": seconds,
            "outcomes": outcomes.map {
                var outcome: [String: Any] = [
                    "chain": $0.chain + 1, "draws": $0.draws, "warmup_seconds": $0.warmupSeconds,
                    "sampling_seconds": $0.samplingSeconds, "interrupted": $0.interrupted,
                ]
                // Mean acceptance per step after warm-up (Metropolis only).
                if !$0.rates.isEmpty { outcome["acceptance"] = $0.rates }
                return outcome
            },
        ]
        if let trials = design.trialsColumn { object["trials"] = trials }
        object.merge(initialization) { current, _ in current }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try Output.write(data, to: directory.appendingPathComponent("fit.json").path)
    }
}

/// Progress on standard error: a bar with sweeps/s and ETA on a terminal,
/// a plain line every 10 seconds otherwise.
final class ProgressReporter: @unchecked Sendable {
    let progress: SamplingProgress
    let terminal = isatty(STDERR_FILENO) != 0
    let timer = DispatchSource.makeTimerSource(queue: .global())
    let started = Date()

    init(progress: SamplingProgress) { self.progress = progress }

    func start() {
        timer.schedule(deadline: .now() + 1, repeating: terminal ? 0.5 : 10)
        timer.setEventHandler { [self] in report(final: false) }
        timer.resume()
    }

    func finish() {
        timer.cancel()
        report(final: true)
    }

    func report(final: Bool) {
        let done = progress.completed, total = max(progress.total, 1)
        let elapsed = Date().timeIntervalSince(started)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let fraction = Double(done) / Double(total)
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = String(format: "\r[%@] %3.0f%%  %.0f sweeps/s  ETA %.0f s ", bar, 100 * fraction, rate, eta)
            FileHandle.standardError.write(Data((line + (final ? "\n" : "")).utf8))
        } else if !final || done > 0 {
            let line = String(format: "%d/%d sweeps (%.0f%%), %.0f sweeps/s, ETA %.0f s\n",
                              done, total, 100 * fraction, rate, eta)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
