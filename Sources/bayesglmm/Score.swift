import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm score`: posterior predictive match scores for candidate pairs.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score candidate pairings from a fit's posterior, with intervals and rankings.",
        discussion: """
            RUN_DIR is the --out directory of `bayesglmm fit`. CANDIDATES.csv
            has the model's grouping factors (e.g. client, stylist) and its
            covariates, one candidate per row; a categorical covariate by
            level name, one of the levels the fit saw (the response and
            --trials columns are allowed and ignored). For each row, over
            the posterior draws t:
            p(t) = F(linear predictor at draw t), F the fit's inverse link;
            mean = the posterior predictive success probability (mean of
            p(t)), q5, q50, q95 its quantiles, p_exceeds = the fraction of
            draws with p(t) > --threshold.

            A client, stylist or pair the fit never saw (new_TERM says
            which) enters as --new-levels says:
              sample (the default, as rstanarm's posterior_predict): at each
                draw an effect drawn from N(0, sd(t)^2) with that draw's SD
                (the population distribution); the draws of a new level
                depend only on --seed, the term and the level's name;
              marginal: the population average, p(t) = the mean of F over
                that distribution (integrated numerically, to 1e-9);
                mean as sample's, a narrower interval — the
                success rate over all new clients like this one;
              typical: the effect set to 0 (lme4's re.form = NA) — the
                median new client, farther from 0.5 than the average. A term with slopes, (1 + x | client), adds each
            client's intercept plus x times its slope (x from the candidate
            row; for a categorical f in (1 + f | client), the effect of the
            candidate's level of f), and a new client's vector is drawn from
            N(0, Sigma(t)), that draw's covariance.

            --rank-by client ranks each client's candidates by mean and adds
            p_best (the fraction of draws in which the row has the highest
            p(t) among its client's candidates, ties split; sums to 1 per
            client) and expected_regret (the mean over draws of the best
            candidate's p(t) less this row's). --thompson adds thompson = 1
            for one choice per client: the best candidate at one posterior
            draw chosen at random (reproducible by --seed).

            Draws are read from RUN_DIR/draws.npy a chunk of rows at a time,
            so the draws in memory stay below threads x (random terms x
            rows-per-chunk + fixed effects + SDs) x draws x 8 bytes (the
            draws of the parameters a chunk needs), plus, with --rank-by,
            one group's p values.
            """)

    @Argument(help: ArgumentHelp("The output directory of `bayesglmm fit`.", valueName: "run-dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp("The candidate rows (CSV).", valueName: "candidates.csv"))
    var pairs: String

    // Numeric options take the next word whatever it starts with, so that a
    // negative value reaches validate() (NumericOptions).
    @Option(parsing: .unconditional, help: "The threshold of p_exceeds = P(p > threshold).") var threshold = 0.5

    @Option(name: .customLong("rank-by"), help: ArgumentHelp(
        "Rank candidates within each level of this grouping factor (e.g. client).", valueName: "factor"))
    var rankBy: String?

    @Flag(help: "One Thompson-sampling choice per --rank-by group.") var thompson = false

    @Option(parsing: .unconditional, help: "The seed of new levels' effects and of the Thompson draws.",
            transform: NumericOptions.seed)
    var seed: UInt64 = 1

    @Option(name: .customLong("new-levels"), help: ArgumentHelp(
        "How levels the fit never saw enter: sample, marginal or typical (see above).", valueName: "kind"))
    var newLevels: Scoring.NewLevels = .sample

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the table here instead of standard output.",
                                                   valueName: "scores.csv"))
    var out: String?

    @Option(name: .customLong("rows-per-chunk"), parsing: .unconditional,
            help: "Candidate rows scored together (memory per thread).")
    var rowsPerChunk = 2000

    func validate() throws {
        guard threshold >= 0 && threshold <= 1 else {
            throw ValidationError("--threshold must be in [0, 1], got \(threshold)")
        }
        guard rowsPerChunk >= 1 else { throw ValidationError("--rows-per-chunk must be at least 1, got \(rowsPerChunk)") }
        if thompson && rankBy == nil {
            throw ValidationError("--thompson makes one choice per group: give --rank-by too (e.g. --rank-by client)")
        }
    }

    func run() throws {
        let scoring = try Scoring(path: runDirectory)
        let candidates = try scoring.candidates(Frame.read(csvFile: pairs))
        let options = Scoring.Options(threshold: threshold, seed: seed, rankBy: rankBy, thompson: thompson,
                                      rowsPerChunk: rowsPerChunk, newLevels: newLevels)
        let scores = try scoring.score(candidates, options: options)
        let csv = scoring.csv(candidates, scores: scores)
        if let out {
            try Output.write(Data(csv.utf8), to: out, setting: "output")
            let fresh = (0..<scoring.terms.count).map { k in candidates.isNew[k].filter { $0 }.count }
            let counts = zip(scoring.terms.map(\.name), fresh).map { "\($1) new \($0)" }.joined(separator: ", ")
            FileHandle.standardError.write(Data(("wrote \(out): \(candidates.count) rows scored over "
                + "\(scoring.drawCount) draws (link \(scoring.link); \(counts))\n").utf8))
        } else {
            print(csv, terminator: "")
        }
        for note in scoring.run.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
    }
}

extension Scoring.NewLevels: ExpressibleByArgument {}
