import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm merge`: chains run as separate jobs, put together into one run.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put chains run as separate jobs (fit --chain K) together into one run.",
        discussion: """
            Each RUN is the run directory of a job, `bayesglmm fit … --chains N
            --chain K --out RUN` (or a merge of some of them). The jobs must be
            chains of one fit: the same bayesglmm, model, data (the file's
            hash: the path may differ), priors, sampler, settings and seed, and
            each chain once; anything else is refused with the field that
            differs. The merged run is the run `bayesglmm fit … --chains N`
            writes on one machine: its draws.npy is byte for byte the same, and
            so are the draws in its chain files (their timing comments are the
            jobs'). Merging some of the chains gives a run of those chains
            (fit.json lists them as chain_ids), which can be merged again
            with the rest.

            Like fit, merge writes into OUT.partial-XXXXXX beside OUT and
            renames it to OUT when it is whole; a run in OUT is replaced only
            with --force; the jobs are only read. A job still running, or one
            that failed, is refused; an interrupted job is merged with the
            draws it made, and the run says "interrupted".

            GNU parallel on one machine or several:
              parallel bayesglmm fit data.csv --formula 'y ~ …' --chains 4 \\
                --chain {} --seed 1 --out jobs/{} ::: 1 2 3 4
              bayesglmm merge jobs/1 jobs/2 jobs/3 jobs/4 --out run
            A Slurm job array: Validation/jobs/slurm-array.sh (README, "Chains
            as jobs").

            Exit status: 0 merged; 1 a write that failed; 2 bad input (a job
            that is not a chain of the same fit, running, failed or missing).
            """)

    @Argument(help: ArgumentHelp("The jobs' run directories.", valueName: "run"))
    var runs: [String]

    @Option(name: .shortAndLong, help: "The merged run's directory.")
    var out: String

    @Flag(help: "Replace the run already in --out, once the merged run is whole.")
    var force = false

    func run() throws {
        let result = try RunMerge.merge(runs, into: out, replacing: force)
        for note in result.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let total = result.manifest.chains ?? result.chains.count
        let chains = result.chains
        let which = chains == Array(1...max(1, total)) ? "all \(total) chains" : "chains "
            + chains.map(String.init).joined(separator: ", ") + " of \(total)"
        let replaced = result.replacedPrevious ? " (replacing the earlier run)" : ""
        FileHandle.standardError.write(Data(("merged \(which) (\(result.manifest.draws ?? 0) draws each) into "
            + "\(result.directory)\(replaced); next: bayesglmm summary \(result.directory)\n").utf8))
        let verdict = Verdict(manifest: result.manifest, summary: result.summary)
        FileHandle.standardError.write(Data(("verdict: " + verdict.text.rendered(naming: BayesGLMMCommand.flag)
            + "\n").utf8))
    }
}
