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
            Validation/lme4/fit_glmer.R, in one schema.

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
    var eb: String

    @Option(help: "The output format: text (the report) or csv (the effects table).")
    var format: Format = .text

    @Option(name: .shortAndLong, help: ArgumentHelp("Also write the tables to PREFIX-sd.csv, PREFIX-fixed.csv, "
        + "PREFIX-effects.csv and PREFIX-shrinkage.csv.", valueName: "prefix"))
    var out: String?

    func run() throws {
        let report = try EmpiricalBayesReport.read(path: eb)
        let directory = try RunDirectory.read(runDirectory)
        let comparison = try Comparison(eb: report, ebPath: eb, run: directory)
        if let out {
            for table in Comparison.Table.allCases {
                let path = "\(out)-\(table.rawValue).csv"
                do {
                    try Data(comparison.csv(table).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    throw InputError(.unreadableFile, "--out: cannot write the file: \(error.localizedDescription)",
                                     file: path)
                }
            }
        }
        switch format {
        case .text:
            let heading = [
                "Empirical Bayes: \(report.program), \(eb) (\(report.formula); \(report.rows_used) rows)",
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
