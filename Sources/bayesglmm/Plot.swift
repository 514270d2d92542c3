import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm plot`: a figure of a fit as SVG, with its data as CSV.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a figure of a fit (SVG) and write the data behind it (CSV).",
        discussion: """
            Writes FILE.svg (self-contained: no scripts, fonts or links) and
            FILE.csv beside it (same stem): the numbers the figure shows, a row
            per plotted item. The same inputs give the same bytes.

            Kinds:
              trace        draws by iteration, a line per chain (--variables)
              rank         rank histograms per chain, ranks over all chains
                           pooled (Vehtari et al. 2021), with the uniform
                           expectation (--variables)
              density      posterior density of one variable (--variables NAME),
                           with the EB estimate if --eb is given
              caterpillar  effects of a term's levels (--term) sorted by mean,
                           50% and 90% intervals (at most --max-levels, 50)
              shrinkage    per level of --term: raw log-odds, EB mode, posterior
                           mean against the level's observations (needs --eb;
                           at most --max-levels, 200); for a term with slopes,
                           each level's (intercept, slope) moving from its
                           own-data estimate (from --data, or the data fit.json
                           names) to its EB mode and posterior mean
              sd           posterior densities of the SDs, EB estimates marked
                           if --eb is given
              calibration  observed against predicted success rates in deciles
                           of `bayesglmm score` output on held-out rows
                           (--scores; RUN_DIR optional)
              ppc          posterior predictive checks, as bayesplot's
                           ppc_stat (success rate) and ppc_bars (cells with k
                           successes); with --term, ppc_stat_grouped for the
                           levels with the most extreme p-values (at most
                           --max-levels, 12); --draws replicates, --seed
                           (see `bayesglmm check`)

            --variables defaults to the intercept and the SDs. --eb reads the
            JSON of `bayesglmm eb --out` or Validation/lme4/fit_glmer.R.
            Shrinkage uses the per-level counts in fit.json, or counts them
            again from --data. Calibration's outcome is the fit's response
            column when RUN_DIR is given, else --response (default y).
            """)

    @Argument(help: ArgumentHelp("The output directory of `bayesglmm fit` (optional for calibration).",
                                 valueName: "run-dir"))
    var runDirectory: String?

    @Option(help: "The figure: \(Figure.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: Figure.Kind

    @Option(name: .shortAndLong, help: ArgumentHelp("The SVG to write; the CSV goes beside it (FILE.csv).",
                                                   valueName: "file.svg"))
    var out: String

    @Option(help: ArgumentHelp("Variables, comma-separated, e.g. 'sd(client),(Intercept)' (trace, rank, density).",
                               valueName: "list"))
    var variables: String?

    @Option(help: ArgumentHelp("The random term (caterpillar, shrinkage), e.g. client.", valueName: "name"))
    var term: String?

    @Option(help: ArgumentHelp("An empirical-Bayes fit (JSON) to mark (density, sd; required for shrinkage).",
                               valueName: "eb.json"))
    var eb: String?

    @Option(help: ArgumentHelp("lme4's random effects, as.data.frame(ranef(fit, condVar = TRUE)) written as CSV "
                               + "(shrinkage; as compare --lme4).", valueName: "ranef.csv"))
    var lme4: String?

    @Option(help: ArgumentHelp("The data of the fit, to count observations per level, or for a term with slopes its "
                               + "levels' own-data estimates (shrinkage).",
                               valueName: "data.csv"))
    var data: String?

    @Option(help: ArgumentHelp("The output of `bayesglmm score` on held-out rows (calibration).",
                               valueName: "scores.csv"))
    var scores: String?

    @Option(help: ArgumentHelp("The outcome column of --scores when no RUN_DIR is given (calibration).",
                               valueName: "column"))
    var response: String = "y"

    // Takes the next word whatever it starts with, so that a negative value
    // reaches validate() (NumericOptions).
    @Option(name: .customLong("max-levels"), parsing: .unconditional, help: ArgumentHelp(
        "Levels shown at most (caterpillar 50, shrinkage 200 by default), evenly spaced in sorted order.",
        valueName: "n"))
    var maxLevels: Int?

    @Option(parsing: .unconditional, help: "Replicated data sets (ppc).") var draws: Int?

    @Option(parsing: .unconditional, help: "The seed of the replicates (ppc).", transform: NumericOptions.seed)
    var seed: UInt64?

    func validate() throws {
        if let draws, draws < 1 { throw ValidationError("--draws must be at least 1, got \(draws)") }
        guard out.hasSuffix(".svg") else { throw ValidationError("--out must name an .svg file, got '\(out)'") }
        if let maxLevels, maxLevels < 1 { throw ValidationError("--max-levels must be at least 1, got \(maxLevels)") }
        let used: [(String, Bool, Set<Figure.Kind>)] = [
            ("--variables", variables != nil, [.trace, .rank, .density]),
            ("--term", term != nil, [.caterpillar, .shrinkage, .ppc]),
            ("--draws", draws != nil, [.ppc]),
            ("--seed", seed != nil, [.ppc]),
            ("--eb", eb != nil, [.density, .shrinkage, .sd]),
            ("--lme4", lme4 != nil, [.shrinkage]),
            ("--data", data != nil, [.shrinkage, .ppc]),
            ("--scores", scores != nil, [.calibration]),
            ("--max-levels", maxLevels != nil, [.caterpillar, .shrinkage, .ppc]),
        ]
        for (option, given, kinds) in used where given && !kinds.contains(kind) {
            throw ValidationError("\(option) does not apply to --kind \(kind.rawValue) (it applies to "
                                  + kinds.map(\.rawValue).sorted().joined(separator: ", ") + ")")
        }
        switch kind {
        case .calibration:
            if scores == nil { throw ValidationError("--kind calibration needs --scores SCORES.csv") }
        default:
            if runDirectory == nil { throw ValidationError("--kind \(kind.rawValue) needs RUN_DIR, the --out directory "
                                                           + "of bayesglmm fit") }
        }
        if kind == .shrinkage && (eb == nil) == (lme4 == nil) {
            throw ValidationError("--kind shrinkage needs one of --eb EB.json and --lme4 RANEF.csv (the "
                                  + "empirical-Bayes fit to set beside the posterior)")
        }
        if kind == .caterpillar || kind == .shrinkage, term == nil {
            throw ValidationError("--kind \(kind.rawValue) needs --term, the random term to show (e.g. --term client)")
        }
    }

    func run() throws {
        let figure = try draw()
        let csvPath = String(out.dropLast(".svg".count)) + ".csv"
        // Both files are made in memory first; each is written to a
        // temporary file and renamed, so neither is ever left half-written.
        let svg = Data(figure.svg(naming: BayesGLMMCommand.flag).utf8), csv = Data(figure.csv.utf8)
        for (path, data) in [(csvPath, csv), (out, svg)] {
            try Output.write(data, to: path, setting: "output")
        }
        // On standard error, as every command reports what it wrote.
        FileHandle.standardError.write(Data("wrote \(out) and \(csvPath)\n".utf8))
    }

    func draw() throws -> Figure {
        let report = try eb.map { path throws(InputError) in try EmpiricalBayesReport.read(path: path) }
        if kind == .calibration {
            var columns = [response]
            if let runDirectory {
                columns = try Scoring(path: runDirectory).responseColumns
            }
            return try Figure.calibration(scores: Frame.read(csvFile: scores!), response: columns)
        }
        let run = try RunDirectory.read(runDirectory!)
        for note in run.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let names = variables.map {
            $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } ?? Figure.defaultVariables(run)
        switch kind {
        case .trace: return try Figure.trace(run, variables: names)
        case .rank: return try Figure.rank(run, variables: names)
        case .density:
            guard names.count == 1 else {
                throw ValidationError("--kind density draws one variable: give --variables NAME (e.g. 'sd(client)')")
            }
            return try Figure.density(run, variable: names[0], eb: report, ebPath: eb ?? "")
        case .caterpillar: return try Figure.caterpillar(run, term: term, maxLevels: maxLevels ?? 50)
        case .shrinkage:
            var counts: LevelCounts?
            let chosen = try Figure.term(run, term)
            if let data, chosen.isInterceptOnly {
                counts = try Figure.counts(of: chosen, dataPath: data, formula: run.formula,
                                           options: run.manifest.designOptions)
            }
            let source = try report ?? EmpiricalBayesReport.fromRanef(Frame.read(csvFile: lme4!), beside: run)
            do {
                return try Figure.shrinkage(run, term: term, eb: source, ebPath: eb ?? lme4!, counts: counts,
                                            dataPath: data, maxLevels: maxLevels ?? 200)
            } catch {
                // The library's empirical-Bayes fit is lme4's here, given with --lme4.
                guard error.setting == "eb", eb == nil else { throw error }
                var renamed = error
                renamed.setting = "lme4"
                throw renamed
            }
        case .sd: return try Figure.standardDeviations(run, eb: report, ebPath: eb ?? "")
        case .ppc:
            let check = try PosteriorPredictiveCheck(PointwiseLogLikelihood(run: run, dataPath: data),
                                                     drawCount: draws ?? 1000, seed: seed ?? 1, factor: term)
            return Figure.posteriorPredictive(check, run: runDirectory!, maxLevels: maxLevels ?? 12).figure
        case .calibration: fatalError("handled above")
        }
    }
}

extension Figure.Kind: ExpressibleByArgument {}
