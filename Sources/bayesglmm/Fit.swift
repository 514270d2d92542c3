import ArgumentParser
import BayesGLMM
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
            ones, into the run directory DIR: CmdStan-style CSV files
            (DIR/chain-1.csv, …, the parameters --save selects), every draw of
            every parameter in DIR/draws.npy (NumPy: np.load(path, mmap_mode="r"),
            shape chains x draws x parameters, names in fit.json),
            DIR/fit.json describing the model, priors, levels, settings, seeds,
            timings and how each chain ended, and DIR/summary.csv (the
            posterior summary of the fixed effects and SDs). The seed fixes
            every draw, whatever the number of threads.

            Everything is checked before anything is written. The run is
            written into DIR.partial-XXXXXX beside DIR and renamed to DIR when
            it ends, so DIR never holds a half-written run. A DIR that holds a
            run is replaced only with --force, and only once the new run is
            complete; any other non-empty DIR is refused.

            Sampling until it is good enough (--until-ess N): after the
            warm-up and a first block of --draws draws, all chains go on in
            blocks until every bulk-ESS of the intercept, the fixed effects
            and the SDs is at least N and every R-hat of theirs at most 1.01
            (rank-normalised, as summary computes them), or until --max-time
            (seconds, or 90s, 5m, 1.5h; counted from the start of the chains)
            or --max-draws per chain (default 10 times --draws, at least
            10000, or as many as half the output's free disk space holds
            when that is fewer, with a warning) runs out. Each block aims 10% beyond the draws the ESS so
            far asks for, at least a tenth more and at most double the draws.
            fit.json says what stopped it (stopped_because: ess_reached,
            time_limit or draw_limit), what was reached and the check after
            each block; the run holds the draws made (a time limit that stops
            a block keeps the draws every chain made). The blocks depend only
            on the draws, so the same seed gives the same draws, those of a
            fit with --draws set to the draws made; a run the time limit
            stopped is reproducible up to where it stopped. The space for
            --max-draws draws is checked before the run begins.

            Every fit ends with a verdict on standard error: converged (no
            chain failed, every bulk-ESS of the intercept, fixed effects and
            SDs at least 400, every R-hat at most 1.01) or not, the weakest
            parameter and what to try (with the time a longer fit would take:
            this fit's wall time in proportion to the sweeps), e.g.
              verdict: not converged — sd(client:stylist) has bulk-ESS 67 and
              R-hat 1.04; try --until-ess 400 (or --draws 6000: about 70 s at
              this fit's speed).

            Ctrl-C (SIGINT) or SIGTERM stops cleanly: every running chain
            finishes its sweep, chains not yet begun are recorded as not
            started, every completed draw is kept (within an --until-ess
            block too), and fit.json says "interrupted". Every reader
            (summary, score, plot, compare) reads such a run and says which
            draws it used.

            Exit status: 0 complete (an --until-ess fit stopped by a limit
            too: the verdict says whether it converged); 1 a numerical
            failure (a chain drew a value that is not finite: the message
            names the chain, the parameter and the sweep, and what to try)
            or a write that failed (a full disk), the failed run kept in
            DIR.partial-XXXXXX; 2 bad input or option; 130 interrupted.

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

            Updates of the Gibbs sampler (--updates): augmented draws every
            parameter given the augmentation; exact moves them on the exact
            likelihood instead (Newton-proposal Metropolis-Hastings for the
            effects and fixed effects, centring shifts, and slice steps for
            each SD that move the effects and the intercept with it), which
            keeps the chains moving where successes (or failures) are rare,
            where the augmented conditionals are far narrower than the
            posterior. auto (the default) takes exact when the overall
            success rate is below about 15% or above 85%, augmented otherwise
            (Validation/RESULTS.md, "Rare successes", has the measurements).
            calibrated adds to the augmented sweep a calibrated-augmentation
            update of the fixed effects (Duan, Johndrow & Dunson 2018; logit
            only), the published remedy, kept for comparison.

            Then: bayesglmm summary DIR
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "The run directory to write (made, with its parents, if missing).",
        discussion: "It must not exist, or be empty, unless --force is given."))
    var out: String

    @Flag(help: ArgumentHelp(
        "Replace the run already in --out, once the new fit is complete.",
        discussion: "The earlier run stays whole until the new one completes; then the two are swapped "
            + "atomically and the earlier one removed. A new fit that is interrupted or fails leaves it as it "
            + "was. Only a run directory (one with a fit.json) is ever replaced."))
    var force = false

    @Option(parsing: .unconditional, help: "Number of chains.") var chains = 4
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Run chain K of --chains only, as a job of its own (1-based).",
        discussion: "It draws from the stream chain K has in a fit of all --chains chains, so its draws are "
            + "that chain's; bayesglmm merge puts the jobs' run directories together into the run a single "
            + "fit would have written, draws byte for byte. GNU parallel and Slurm job arrays: README, \"Chains "
            + "as jobs\", and Validation/jobs/slurm-array.sh.",
        valueName: "K"))
    var chain: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "How many chains run at once (default: one per core).",
        discussion: "As cmdstanr's parallel_chains; the draws are the same whatever it is."))
    var parallelChains: Int?
    @Option(name: [.customLong("threads-per-chain"), .customLong("threads")], parsing: .unconditional,
            help: ArgumentHelp(
        "Threads per chain, for its per-cell draws (default: the cores the chains running at once leave).",
        discussion: "As cmdstanr's threads_per_chain; the draws are the same whatever it is: the cells are drawn "
            + "in fixed blocks, each from a random stream of its own. With 4 chains on 2 cores it is 1; "
            + "a single chain, or a job of one chain (--chain), gets every core."))
    var threadsPerChain: Int?
    @Option(parsing: .unconditional, help: "Warm-up sweeps per chain (discarded).") var warmup = 1000
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Kept draws per chain (with --until-ess: the first block).")) var draws = 1000
    @Option(parsing: .unconditional, help: "Keep every thin-th sweep.") var thin = 1
    @Option(parsing: .unconditional, help: "The seed; the same seed gives the same draws.",
            transform: NumericOptions.seed)
    var seed: UInt64 = 1
    @Option(name: .customLong("prior"), help: "A prior, e.g. 'sd(client) ~ half_t(3, 0, 1)' (repeatable).")
    var priorSpecifications: [String] = []
    @Option(help: ArgumentHelp(
        "Which parameters the chain files carry: a comma list of fixed, sd, effects, interactions, all.",
        discussion: "Default fixed,sd: the intercept and coefficients and the standard deviations (and "
            + "correlations), what summary shows by default; 'effects' adds the level effects of single-factor "
            + "terms and 'interactions' those of terms like client:stylist, as CmdStan users choose what to "
            + "read. Every parameter is in draws.npy whatever this is, once, and every reader (summary "
            + "--variables, compare, score, plot, loo) takes the level effects from there."))
    var save = "fixed,sd"
    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Add the pointwise log-likelihood to the chain files as log_lik.1, log_lik.2, … columns (CmdStan's names for the elements of log_lik).",
        discussion: "CmdStan's convention, for R's loo::extract_log_lik, cmdstanr and ArviZ's from_cmdstan: one "
            + "column per binomial cell (--log-lik-unit row: per row of the data). Default: on when there are at "
            + "most \(LogLikelihoodColumns.defaultLimit) observations. bayesglmm loo needs none of them: it "
            + "computes them from the draw store."))
    var logLik: Bool?
    @Option(help: "The observations of the log_lik columns: cell (binomial cells) or row (rows of the data).")
    var logLikUnit: PointwiseLogLikelihood.Unit = .cell
    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Where chains start: eb (around an empirical-Bayes fit) or prior.",
        discussion: "Default eb; an EB fit that fails when --init eb was not given falls back to prior."))
    var initialization: Initialization?
    @Option(help: "The sampler: gibbs, metropolis or auto (gibbs for logit and probit, metropolis for cloglog).")
    var sampler = SamplerChoice.auto
    @Option(help: "The link: logit, probit or cloglog.") var link = LinkChoice.logit
    @Option(help: "The Gibbs sampler's updates: augmented, exact, calibrated (for comparison) or auto (exact where successes or failures are rare).")
    var updates = UpdatesChoice.auto
    @Flag(help: "No progress on standard error.") var quiet = false
    @Option(name: .customLong("until-ess"), parsing: .unconditional, help: ArgumentHelp(
        "Sample on in blocks until every bulk-ESS of the intercept, fixed effects and SDs is at least this, and "
            + "every R-hat at most 1.01.",
        discussion: "The first block is --draws; see the discussion above.", valueName: "ess"))
    var untilESS: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "With --until-ess: the time limit, in seconds or with a unit (90, 90s, 5m, 1.5h).",
        discussion: "Counted from the start of the chains; the warm-up and the first block are always made.",
        valueName: "time"), transform: NumericOptions.duration)
    var maxTime: Double?
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "With --until-ess: kept draws per chain at most (default 10 times --draws, and at least 10000; fewer if half the free disk space holds fewer).",
        valueName: "draws"))
    var maxDraws: Int?

    /// `--sampler`.
    enum SamplerChoice: String, ExpressibleByArgument, CaseIterable {
        case gibbs, metropolis, auto
        var sampler: RunRequest.Sampler? { RunRequest.Sampler(rawValue: rawValue) }
    }
    /// `--updates`.
    enum UpdatesChoice: String, ExpressibleByArgument, CaseIterable {
        case augmented, exact, calibrated, auto
        var updates: Updates? { Updates(rawValue: rawValue) }
    }
    /// `--link`.
    enum LinkChoice: String, ExpressibleByArgument, CaseIterable {
        case logit, probit, cloglog
        var link: Link { Link(rawValue: rawValue)! }
    }
    /// `--init`.
    enum Initialization: String, ExpressibleByArgument, CaseIterable {
        case prior, eb
        var start: RunRequest.Start { self == .eb ? .empiricalBayes : .prior }
    }

    /// `--save` as the library's groups.
    func savedGroups() throws -> Set<RunRequest.Saved> {
        var groups: Set<RunRequest.Saved> = []
        for word in save.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let group = RunRequest.Saved(rawValue: word) else {
                throw ValidationError("--save takes fixed, sd, effects, interactions or all, got '\(word)'")
            }
            groups.insert(group)
        }
        return groups
    }

    func validate() throws {
        _ = try savedGroups()
        if updates != .auto && (sampler == .metropolis || (sampler == .auto && link == .cloglog)) {
            throw ValidationError("--updates chooses the Gibbs sampler's updates; the \(link == .cloglog && sampler == .auto ? "cloglog link is sampled by the Metropolis sampler" : "Metropolis sampler has none")")
        }
        if updates == .calibrated && link != .logit {
            throw ValidationError("--updates calibrated calibrates the Pólya–Gamma augmentation of the logit; use --link logit")
        }
        if untilESS == nil {
            if maxTime != nil { throw ValidationError("--max-time limits an --until-ess fit; give --until-ess N too") }
            if maxDraws != nil { throw ValidationError("--max-draws limits an --until-ess fit; give --until-ess N too") }
        }
    }

    func run() throws {
        // Everything is checked, and the EB start fitted, before anything is written.
        let design = try model.design()
        let priors = try Priors(specifications: priorSpecifications, terms: design.randomTerms.map(\.name),
                                fixed: design.fixedNames)
        let request = RunRequest(
            design: design, priors: priors, link: link.link, sampler: sampler.sampler,
            settings: ChainSettings(chains: chains, warmup: warmup, draws: draws, thin: thin, seed: seed,
                                    parallelChains: parallelChains, threadsPerChain: threadsPerChain,
                                    selection: chain.map { [$0 - 1] }),
            saved: try savedGroups(), start: initialization?.start, output: out, replacesExisting: force,
            untilESS: untilESS.map { UntilESS(target: $0, maxSeconds: maxTime, maxDraws: maxDraws) },
            updates: updates.updates,
            logLikelihood: LogLikelihoodColumns.wanted(logLik, unit: logLikUnit, design: design) ? logLikUnit : nil)
        let prepared = try Run.prepare(request)
        for note in prepared.notes { FileHandle.standardError.write(Data("warning: \(note)\n".utf8)) }
        if !quiet, let eb = prepared.start.empiricalBayes {
            let sds = design.randomTerms.map { term in
                "\(term.name) " + ((eb.sd[term.name] ?? nil).map { String(format: "%.3g", $0) } ?? "NA")
            }
            FileHandle.standardError.write(Data(String(format: "EB fit for --init eb: %.2f s (sd: %@%@)\n",
                eb.seconds, sds.joined(separator: ", "), eb.singular ? "; boundary fit" : "").utf8))
        }

        // SIGINT (Ctrl-C) and SIGTERM (Slurm's time limit, kill): every
        // running chain finishes its sweep, the run records how far each got.
        let stop = StopRequest()
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.request() }
            source.resume()
            return source
        }
        // A file-size limit makes a write fail (and the run fail cleanly) instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        defer { for source in sources { source.cancel() } }

        let progress = SamplingProgress(chains: chains, sweepsPerChain: prepared.sweepsPerChain)
        let reporter = quiet ? nil : ProgressReporter(progress: progress)
        reporter?.start()
        let result = try prepared.execute(stop: stop, progress: progress)
        reporter?.finish()
        for note in result.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let place = result.directory
        let verdict = "verdict: " + Verdict(result).text.rendered(naming: BayesGLMMCommand.flag) + "\n"
        switch result.status {
        case .complete:
            let replaced = result.replacedPrevious ? " (replacing the earlier run)" : ""
            let made = result.manifest.draws ?? draws
            if let line = Fit.untilESSLine(result.manifest) { FileHandle.standardError.write(Data(line.utf8)) }
            if let chain {
                FileHandle.standardError.write(Data(String(format: "wrote %@%@: chain %d of %d x %d draws in %.1f s; "
                    + "when every chain's job has ended: bayesglmm merge DIR1 … DIR%d --out RUN\n", place, replaced,
                    chain, chains, made, result.seconds, chains).utf8))
            } else {
                FileHandle.standardError.write(Data(String(format: "wrote %@%@: %d chain%@ x %d draws in %.1f s; next: "
                    + "bayesglmm summary %@\n", place, replaced, chains, chains == 1 ? "" : "s", made, result.seconds,
                    place).utf8))
            }
            FileHandle.standardError.write(Data(verdict.utf8))
        case .interrupted:
            let usable = result.manifest.usableDraws
            FileHandle.standardError.write(Data((RunDirectory.describe(result.manifest, usable: usable)
                + " The run is in \(place) (fit.json says \"interrupted\"; draws.npy keeps every completed draw).\n").utf8))
            FileHandle.standardError.write(Data(verdict.utf8))
            throw ExitCode(130)
        default:
            let message: String
            switch result.failure?.error {
            case let failure as NumericalFailure: message = failure.described(naming: BayesGLMMCommand.remedy)
            case let error?: message = "\(error)"
            case nil: message = result.manifest.failure ?? "the run failed"
            }
            FileHandle.standardError.write(Data(("error: \(message)\nThe failed run is in \(place) (fit.json says "
                + "\"failed\"; the completed draws of every chain are kept).\n").utf8))
            FileHandle.standardError.write(Data(verdict.utf8))
            throw ExitCode(1)
        }
    }

    /// What ended an --until-ess fit, e.g. `--until-ess 400: reached after 3
    /// blocks (2300 draws per chain): min bulk-ESS 412 (sd(client)), max
    /// R-hat 1.004.`; nil for a fit of fixed length.
    static func untilESSLine(_ manifest: RunManifest) -> String? {
        guard let target = manifest.untilEss, let reason = manifest.stoppedBecause else { return nil }
        let blocks = manifest.blocks?.count ?? 0
        let how: String
        switch reason {
        case .essReached:
            how = "reached after \(blocks) block\(blocks == 1 ? "" : "s")"
        case .timeLimit:
            how = "not reached: the time limit (--max-time " + String(format: "%g", manifest.maxTime ?? 0)
                + " s) came first"
        case .drawLimit:
            how = "not reached: the draw limit (--max-draws \(manifest.maxDraws ?? 0)) came first"
        }
        var line = "--until-ess \(target): \(how) (\(manifest.draws ?? 0) draws per chain)"
        if let achieved = manifest.achieved {
            line += ": min bulk-ESS \(Verdict.ess(achieved.minBulkESS)) (\(achieved.minBulkESSVariable ?? "")), "
                + "max R-hat \(Verdict.rhat(achieved.maxRhat)) (\(achieved.maxRhatVariable ?? ""))"
        }
        return line + ".\n"
    }
}
