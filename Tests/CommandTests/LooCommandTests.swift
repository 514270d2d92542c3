import Foundation
import Testing

/// `bayesglmm loo`: two fits of the same data, their reports and the
/// comparison; fits of other data refused.
@Suite(.serialized) struct LooCommandTests {
    @Test func comparesTwoFitsOfTheSameData() throws {
        let data = CompareCommandTests.root.appendingPathComponent("Validation/lme4/data/offsets.csv").path
        var runs: [String] = []
        for (name, formula) in [("with-x", "y ~ x + offset(log(exposure)) + (1|group)"),
                                ("without-x", "y ~ 1 + offset(log(exposure)) + (1|group)")] {
            let out = CommandTests.temporary("loo-" + name)
            let fit = try CommandTests.run(["fit", data, "--formula", formula, "--out", out, "--seed", "3",
                                            "--draws", "300", "--warmup", "300", "--quiet"])
            #expect(fit.status == 0, "\(fit.error)")
            runs.append(out)
        }
        let result = try CommandTests.run(["loo"] + runs)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Computed from 1200 by 600 log-likelihood matrix (one row per observation)"))
        #expect(result.output.contains("elpd_loo") && result.output.contains("Pareto k diagnostic values"))
        // The model with x fits these data (simulated with x) better: it comes first.
        let table = result.output.components(separatedBy: "elpd_diff se_diff").last ?? ""
        let rows = table.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix(runs[0]) == true && rows.first?.contains("0.0") == true, "\(table)")
        let cells = try CommandTests.run(["loo", runs[0], "--unit", "cell"])
        #expect(cells.status == 0 && cells.output.contains("(one cell per observation)"), "\(cells.error)")

        // JSON: loo's names, every pointwise figure, the comparison best first.
        let json = try CommandTests.run(["loo"] + runs + ["--format", "json"])
        #expect(json.status == 0, "\(json.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let fits = try #require(report["fits"] as? [[String: Any]])
        #expect(fits.count == 2 && fits[0]["observations"] as? Int == 600 && fits[0]["draws"] as? Int == 1200)
        let elpd = try #require(fits[0]["elpd_loo"] as? [String: Double])
        #expect(result.output.contains("elpd_loo  " + String(format: "%10.1f %7.1f", elpd["estimate"]!, elpd["se"]!)))
        let pointwise = try #require(fits[0]["pointwise"] as? [String: [Double]])
        #expect(pointwise["influence_pareto_k"]?.count == 600 && pointwise["elpd_loo"]?.count == 600)
        #expect(abs(pointwise["elpd_loo"]!.reduce(0, +) - elpd["estimate"]!) < 1e-8)
        let compare = try #require(report["compare"] as? [[String: Any]])
        #expect(compare.map { $0["run"] as? String } == runs && compare[0]["elpd_diff"] as? Double == 0)

        // 600 cells: the chain files have log_lik columns by default, and none with --no-log-lik.
        let header = try String(contentsOfFile: runs[0] + "/chain-1.csv", encoding: .utf8)
            .split(separator: "\n").first { !$0.hasPrefix("#") }!.split(separator: ",")
        #expect(header.last == "log_lik.600" && header.filter { $0.hasPrefix("log_lik.") }.count == 600)
        let plain = CommandTests.temporary("loo-no-log-lik")
        let fit = try CommandTests.run(["fit", data, "--formula", "y ~ x + (1|group)", "--out", plain, "--seed", "3",
                                        "--draws", "20", "--warmup", "20", "--quiet", "--no-log-lik"])
        #expect(fit.status == 0, "\(fit.error)")
        #expect(!(try String(contentsOfFile: plain + "/chain-1.csv", encoding: .utf8)).contains("log_lik"))

        // Leave-one-group-out: a level of group per observation, both fits compared.
        let logo = try CommandTests.run(["loo"] + runs + ["--group", "group"])
        #expect(logo.status == 0, "\(logo.error)")
        #expect(logo.output.contains("log-likelihood matrix (one level of group per observation)")
                && logo.output.contains("elpd_diff se_diff"))
        let noTerm = try CommandTests.run(["loo", runs[0], "--group", "client"])
        #expect(noTerm.status == 2 && noTerm.error.contains("--group"), "\(noTerm.error)")

        // Posterior predictive checks of the same fit: the table, its CSV and the figure.
        let check = try CommandTests.run(["check", runs[0], "--term", "group", "--draws", "200", "--max-levels", "3"])
        #expect(check.status == 0, "\(check.error)")
        #expect(check.output.contains("600 cells, 600 trials; 200 replicated data sets")
                && check.output.contains("success rate") && check.output.contains("k = 1")
                && !check.output.contains("all or none") && check.output.contains("Success rate by group"))
        let csv = try CommandTests.run(["check", runs[0], "--draws", "200", "--format", "csv"])
        #expect(csv.status == 0 && csv.output.split(separator: "\n").count == 4, "\(csv.output)")
        let figure = CommandTests.temporary("ppc.svg")
        let plot = try CommandTests.run(["plot", runs[0], "--kind", "ppc", "--term", "group", "--max-levels", "4",
                                         "--draws", "100", "--out", figure])
        #expect(plot.status == 0, "\(plot.error)")
        let svg = try String(contentsOfFile: figure, encoding: .utf8)
        #expect(svg.contains("Posterior predictive checks") && svg.contains("ppc_bars")
                && svg.contains("ppc_stat_grouped") && !svg.contains("all or none"))
        let unknown = try CommandTests.run(["check", runs[0], "--term", "nobody"])
        #expect(unknown.status == 2 && unknown.error.contains("--term"), "\(unknown.error)")

        let other = CommandTests.temporary("loo-other")
        let weighted = CompareCommandTests.root.appendingPathComponent("Validation/lme4/data/weighted.csv").path
        _ = try CommandTests.run(["fit", weighted, "--formula", "p ~ x + (1|group)", "--weights", "w", "--out", other,
                                  "--seed", "3", "--draws", "100", "--warmup", "100", "--quiet"])
        let refused = try CommandTests.run(["loo", runs[0], other])
        #expect(refused.status == 2 && refused.error.contains("not the same observations"), "\(refused.error)")
    }
}
