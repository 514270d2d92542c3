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

        let other = CommandTests.temporary("loo-other")
        let weighted = CompareCommandTests.root.appendingPathComponent("Validation/lme4/data/weighted.csv").path
        _ = try CommandTests.run(["fit", weighted, "--formula", "p ~ x + (1|group)", "--weights", "w", "--out", other,
                                  "--seed", "3", "--draws", "100", "--warmup", "100", "--quiet"])
        let refused = try CommandTests.run(["loo", runs[0], other])
        #expect(refused.status == 2 && refused.error.contains("not the same observations"), "\(refused.error)")
    }
}
