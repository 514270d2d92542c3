import ArgumentParser
import BayesGLMM
import Diagnostics
import Foundation

/// `bayesglmm loo`: PSIS-LOO and WAIC of fits, and their comparison, as R's
/// loo package prints them.
struct LooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loo",
        abstract: "Leave-one-out cross-validation (PSIS-LOO) and WAIC of fits, and their comparison.",
        discussion: """
            For each fit: elpd_loo, p_loo and looic with standard errors, the
            Monte Carlo SE of elpd_loo, the Pareto k diagnostic table and WAIC,
            computed as R's loo package computes them (Pareto-smoothed
            importance sampling; Vehtari, Gelman & Gabry 2017) from the
            pointwise log-likelihood of every draw on the fit's data — one
            observation per row of the data, as rstanarm and brms count
            them, or per binomial cell with --unit cell. With several fits of
            the same data, a table as loo_compare prints it: elpd_diff and
            se_diff against the best fit, which comes first.

            --group client makes each client one observation, all its
            outcomes left out at once (leave-one-group-out: how well a new
            client is predicted): its effect, and those of its levels of a
            term nested in it such as client:stylist, integrated out at each
            draw by adaptive Gauss-Hermite quadrature (logit, random
            intercepts).

            The fit's data are read again (the file fit.json names, or
            --data) and the draws of every parameter from its draw store.
            """)

    @Argument(help: ArgumentHelp("Fits' output directories.", valueName: "run"))
    var runs: [String]

    @Option(help: "The data file, if not the one the fit names (for one fit).")
    var data: String?

    @Option(help: "One observation per row of the data, or per binomial cell.")
    var unit: PointwiseLogLikelihood.Unit = .row

    @Option(help: ArgumentHelp(
        "Leave out a level of this random term at a time (leave-one-group-out), its effect integrated out.",
        valueName: "term"))
    var group: String?

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: ArgumentHelp(
        "The output format: text, or json (totals, every pointwise figure and the comparison).",
        discussion: "JSON names the figures as loo does (elpd_loo, p_loo, looic, influence_pareto_k, n_eff, "
            + "r_eff, elpd_waic, p_waic; elpd_diff and se_diff)."))
    var format: Format = .text

    func validate() throws {
        if data != nil && runs.count > 1 { throw ValidationError("--data names the data of one fit; give one run") }
    }

    func run() throws {
        var results: [(name: String, loo: LeaveOneOut)] = []
        var first: PointwiseLogLikelihood?
        var fits: [LooReport.Fit] = []
        // What one observation is: a row, a cell, or a level of --group.
        let observation = group.map { "level of \($0)" } ?? unit.rawValue
        for path in runs {
            let pointwise = try PointwiseLogLikelihood(run: RunDirectory.read(path), dataPath: data)
            if let first {
                // The same observations: the same data file and rows.
                guard pointwise.design.source == first.design.source, pointwise.design.usedRows == first.design.usedRows,
                      unit == .row || pointwise.design.cellOfRow == first.design.cellOfRow else {
                    throw InputError(.badOption, "not the same observations as \(runs[0]) (other data, other rows "
                                     + (unit == .cell ? "or other cells; compare by row" : "")
                                     + "used): loo compares fits of the same data", file: path)
                }
            } else {
                first = pointwise
            }
            let (loo, waic) = try group.map { try GroupLogLikelihood(pointwise, term: $0).criteria() }
                ?? pointwise.criteria(unit)
            results.append((path, loo))
            if format == .text {
                print(LooCommand.report(loo, waic: waic, name: path, observation: observation, runs: runs.count))
            } else {
                fits.append(LooReport.Fit(run: path, observation: observation, loo: loo, waic: waic))
            }
        }
        if format == .json {
            let data = try LooReport(fits: fits, models: results.map(\.loo)).json()
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else if results.count > 1 {
            print(LooCommand.comparison(results))
        }
    }

    /// One fit's report, in loo's layout.
    static func report(_ loo: LeaveOneOut, waic: WidelyApplicableCriterion, name: String,
                       observation: String, runs: Int) -> String {
        var lines: [String] = []
        if runs > 1 { lines.append("== \(name)") }
        lines.append("Computed from \(loo.draws) by \(loo.pointwise.count) log-likelihood matrix "
                     + "(one \(observation) per observation)")
        lines.append("")
        func row(_ label: String, _ e: LeaveOneOut.Estimate) -> String {
            label.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: "%10.1f %7.1f", e.value, e.standardError)
        }
        lines.append("            Estimate      SE")
        lines.append(row("elpd_loo", loo.elpd))
        lines.append(row("p_loo", loo.effectiveParameters))
        lines.append(row("looic", loo.looic))
        let w = waic.totals
        lines.append(row("elpd_waic", w.elpd))
        lines.append(row("p_waic", w.effectiveParameters))
        lines.append(row("waic", w.waic))
        lines.append("------")
        if let mcse = loo.mcse {
            lines.append(String(format: "Monte Carlo SE of elpd_loo is %.1f.", mcse))
        } else {
            lines.append("Monte Carlo SE of elpd_loo is NA (some Pareto k are above 0.7).")
        }
        lines.append("")
        lines.append("Pareto k diagnostic values:")
        lines.append("                         Count  Pct.    Min. n_eff")
        let labels: [LeaveOneOut.ParetoClass: String] = [.good: "good", .ok: "ok", .bad: "bad", .veryBad: "very bad"]
        for kind in LeaveOneOut.ParetoClass.allCases {
            let members = loo.pointwise.filter { LeaveOneOut.ParetoClass($0.paretoK) == kind }
            let share = loo.pointwise.isEmpty ? 0 : 100 * Double(members.count) / Double(loo.pointwise.count)
            let minimum = members.map(\.effectiveDraws).min().map { String(format: "%.0f", $0) } ?? "<NA>"
            let label = kind.rawValue.leftPadded(to: 11) + "   " + "(\(labels[kind]!))".padding(toLength: 10, withPad: " ", startingAt: 0)
            lines.append(label + String(members.count).leftPadded(to: 6) + String(format: " %5.1f%%", share)
                         + "  " + minimum)
        }
        let bad = loo.pointwise.filter { $0.paretoK > 0.7 }.count
        lines.append(bad == 0 ? (loo.pointwise.allSatisfy { $0.paretoK <= 0.5 }
                                 ? "\nAll Pareto k estimates are good (k < 0.5)."
                                 : "\nAll Pareto k estimates are ok (k < 0.7).")
                     : "\n\(bad) Pareto k above 0.7: elpd_loo is unreliable for those observations.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// loo_compare's table.
    static func comparison(_ results: [(name: String, loo: LeaveOneOut)]) -> String {
        let table = LeaveOneOut.compare(results.map(\.loo))
        let width = max(results.map(\.name.count).max() ?? 0, 4)
        var lines = ["".padding(toLength: width, withPad: " ", startingAt: 0) + "  elpd_diff se_diff"]
        for row in table {
            lines.append(results[row.model].name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: "  %9.1f %7.1f", row.difference, row.standardError))
        }
        return lines.joined(separator: "\n")
    }
}

extension PointwiseLogLikelihood.Unit: ExpressibleByArgument {}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
