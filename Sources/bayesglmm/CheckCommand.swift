import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm check`: posterior predictive checks of a fit, as numbers.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Posterior predictive checks of a fit: statistics of the data against replicated data.",
        discussion: """
            At --draws posterior draws (evenly spaced over the chains), the
            fit's cells are replicated, y_rep ~ Binomial(n, F(linear
            predictor at the draw)), and statistics of the data are set
            against their replicated distribution: the overall success rate
            (bayesplot's ppc_stat), the number of cells of two or more trials
            with none or all of them successful (over-dispersion), the number
            of cells with k successes for
            each k (ppc_bars; cells of at most 50 trials), and with --term
            the success rate of each level of a random term
            (ppc_stat_grouped). Each row gives the observed value, the
            replicates' mean and 90% interval, and the posterior predictive
            p-value P(T(y_rep) >= T(y)); '<' and '>' mark p-values below 0.05
            and above 0.95, where the data sit in a tail of what the model
            predicts. A missing term typically shows as too many cells with
            none or all of their trials successful.

            The replicates depend only on --seed and the fit.
            `bayesglmm plot RUN --kind ppc` draws them.
            """)

    @Argument(help: ArgumentHelp("The output directory of `bayesglmm fit`.", valueName: "run-dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp("Also check the success rate of each level of this random term, e.g. client.",
                               valueName: "name"))
    var term: String?

    @Option(parsing: .unconditional, help: "Replicated data sets (posterior draws used).") var draws = 1000

    @Option(parsing: .unconditional, help: "The seed of the replicates.", transform: NumericOptions.seed)
    var seed: UInt64 = 1

    @Option(help: "The data file, if not the one the fit names.") var data: String?

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, csv
    }

    @Option(help: "The output format: text, or csv (a row per statistic).") var format: Format = .text

    @Option(name: .customLong("max-levels"), parsing: .unconditional, help: ArgumentHelp(
        "With --term: levels listed in text, the most extreme p-values first.", valueName: "n"))
    var maxLevels = 10

    func validate() throws {
        guard draws >= 1 else { throw ValidationError("--draws must be at least 1, got \(draws)") }
        guard maxLevels >= 1 else { throw ValidationError("--max-levels must be at least 1, got \(maxLevels)") }
    }

    func run() throws {
        let source = try PointwiseLogLikelihood(run: RunDirectory.read(runDirectory), dataPath: data)
        let check = try PosteriorPredictiveCheck(source, drawCount: draws, seed: seed, factor: term)
        if format == .csv {
            print(check.csv, terminator: "")
        } else {
            print(CheckCommand.report(check, run: runDirectory, maxLevels: maxLevels))
        }
    }

    static func report(_ check: PosteriorPredictiveCheck, run: String, maxLevels: Int) -> String {
        func number(_ x: Double) -> String {
            abs(x) >= 100 || x == x.rounded() ? String(format: "%.0f", x) : String(format: "%.3f", x)
        }
        func row(_ label: String, _ statistic: PosteriorPredictiveCheck.Statistic) -> String {
            let (lower, upper) = statistic.interval
            let p = statistic.pValue
            let mark = p < 0.05 ? "  <" : p > 0.95 ? "  >" : ""
            return label.padding(toLength: 22, withPad: " ", startingAt: 0)
                + [statistic.observed, statistic.mean, lower, upper].map { number($0).leftPadded(to: 10) }.joined()
                + String(format: "%10.3f", p) + mark
        }
        let head = "".padding(toLength: 22, withPad: " ", startingAt: 0)
            + ["observed", "mean", "5%", "95%", "p-value"].map { $0.leftPadded(to: 10) }.joined()
        var lines = ["Posterior predictive check of \(run): \(check.cells) cells, \(number(check.trials)) trials; "
                     + "\(check.draws.count) replicated data sets", "", head, row("success rate", check.rate)]
        if let allOrNone = check.allOrNone { lines.append(row("cells all or none", allOrNone)) }
        if !check.bars.isEmpty {
            lines += ["", "Cells with k successes:"]
            lines += check.bars.map { row("  k = \($0.name)", $0) }
        } else {
            lines += ["", "(No counts of cells by successes: a cell has more than "
                      + "\(PosteriorPredictiveCheck.maximumBarTrials) trials.)"]
        }
        if let factor = check.factor {
            let low = check.grouped.filter { $0.pValue < 0.05 }.count
            let high = check.grouped.filter { $0.pValue > 0.95 }.count
            let expected: String = String(format: "%.1f", 0.05 * Double(check.grouped.count))
            let heading: String = "Success rate by \(factor) (\(check.grouped.count) levels): \(low) p-values below "
                + "0.05 and \(high) above 0.95, where about \(expected) each are expected by chance. The most extreme:"
            lines += ["", heading]
            let extreme = check.grouped.sorted { abs($0.pValue - 0.5) > abs($1.pValue - 0.5) }.prefix(maxLevels)
            lines += extreme.map { row("  \($0.name)", $0) }
        }
        return lines.joined(separator: "\n")
    }
}
