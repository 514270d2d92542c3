import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm compare`: a fit's full posterior beside an empirical-Bayes fit.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a fit's posterior with empirical-Bayes estimates (ours or lme4's glmer).",
        discussion: """
            RUN_DIR is the --out directory of `bayesglmm fit` (its fit.json and
            draws.npy are read; an interrupted fit's completed draws are used).
            EB.json is written by `bayesglmm eb` or by lme4's glmer through
            Validation/lme4/fit_glmer.R, in one schema. Or give lme4's random
            effects as its users export them, --lme4 ranef.csv, written in R by
              write.csv(as.data.frame(ranef(fit, condVar = TRUE)),
                        "ranef.csv", row.names = FALSE)
            (columns grpvar, term, grp, condval, condsd): the effects are
            compared; the file has no SDs or fixed effects.

            The EB fit must be of the run's model and data: another response,
            other random terms or fixed effects, or another number of rows
            is refused (exit status 2), naming both models.

            For each standard deviation: the EB estimate, the posterior median
            and 90% interval, and P(sd < EB), the fraction of draws below the EB
            estimate. For the fixed effects: EB estimate and standard error
            against the posterior mean and sd. For the effects: EB conditional
            mode and sd against the posterior mean and sd, and the ratio of
            interval widths (posterior q95 - q5 over EB's 2 x 1.645 sd), with
            each level's observations, successes and raw log-odds
            (log((s + 0.5)/(n - s + 0.5)) less the same of the overall rate),
            summarised by number of observations per level.

            --out PREFIX writes PREFIX-sd.csv, PREFIX-fixed.csv,
            PREFIX-effects.csv (every level) and PREFIX-shrinkage.csv.
            --format csv writes the effects table to standard output instead of
            the text report (notes go to standard error).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, csv
    }

    @Argument(help: ArgumentHelp("The output directory of `bayesglmm fit`.", valueName: "run-dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp("The empirical-Bayes fit (JSON).", valueName: "eb.json"))
    var eb: String?

    @Option(help: ArgumentHelp("lme4's random effects, as.data.frame(ranef(fit, condVar = TRUE)) written as CSV.",
                               valueName: "ranef.csv"))
    var lme4: String?

    @Option(help: "The output format: text (the report) or csv (the effects table).")
    var format: Format = .text

    @Option(name: .shortAndLong, help: ArgumentHelp("Also write the tables to PREFIX-sd.csv, PREFIX-fixed.csv, "
        + "PREFIX-effects.csv and PREFIX-shrinkage.csv.", valueName: "prefix"))
    var out: String?

    func validate() throws {
        guard (eb == nil) != (lme4 == nil) else {
            throw ValidationError("give the empirical-Bayes fit as --eb EB.json or as --lme4 RANEF.csv (one of them)")
        }
    }

    func run() throws {
        let directory = try RunDirectory.read(runDirectory)
        let source = eb ?? lme4!
        let report: EmpiricalBayesReport
        if let eb {
            report = try EmpiricalBayesReport.read(path: eb)
        } else {
            report = try EmpiricalBayesReport.fromRanef(Frame.read(csvFile: source), beside: directory)
        }
        let comparison = try Comparison(eb: report, ebPath: source, run: directory)
        if let out {
            for table in Comparison.Table.allCases {
                try Output.write(Data(comparison.csv(table).utf8), to: "\(out)-\(table.rawValue).csv",
                                 setting: "output")
            }
        }
        switch format {
        case .text:
            let heading = [
                "Empirical Bayes: \(report.program), \(source) "
                    + (lme4 == nil ? "(\(report.formula); \(report.rows_used) rows; \(report.approximation))"
                       : "(effects only)"),
                "Posterior:       \(runDirectory) (\(directory.formula); \(directory.rowsUsed) rows; "
                    + "\(directory.store.chains) chains x \(directory.drawsPerChain) draws, \(directory.status))",
            ]
            print(comparison.text(heading: heading), terminator: "")
        case .csv:
            print(comparison.csv(.effects), terminator: "")
            if !comparison.notes.isEmpty {
                FileHandle.standardError.write(Data(comparison.notes.map { "note: " + $0 + "\n" }.joined().utf8))
            }
        }
    }
}
