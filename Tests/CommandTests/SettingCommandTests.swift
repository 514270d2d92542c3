import Foundation
import Testing

/// The library names its settings by their library names (BayesGLMMTests'
/// `SettingTests`); the command-line tool names each by its flag, in errors,
/// in their advice and in figures' captions.
@Suite(.serialized) struct SettingCommandTests {
    /// `bayesglmm describe` of `csv` with `formula`, and `options`.
    static func describe(_ csv: String, _ formula: String, _ options: [String] = []) throws -> CommandTests.Result {
        let data = CommandTests.temporary("setting-data.csv")
        try csv.write(toFile: data, atomically: true, encoding: .utf8)
        return try CommandTests.run(["describe", data, "--formula", formula] + options)
    }

    @Test func designErrorsAndTheirAdviceNameFlags() throws {
        let missing = try SettingCommandTests.describe("y,g\n1,a\nNA,b\n0,b\n", "y ~ (1|g)", ["--na", "fail"])
        #expect(missing.status == 2 && missing.error.contains(
            "setting-data.csv, line 3, column \"y\": missing value (1 rows have one in a used column); "
                + "drop them with --na drop\n"), "\(missing.error)")
        let unused = try SettingCommandTests.describe("y,g\n1,a\n0,b\n", "y ~ (1|g)", ["--levels", "colour=red,blue"])
        #expect(unused.status == 2 && unused.error.contains(
            "error: --levels, column \"colour\": a level order is given for a column the model does not use"),
                "\(unused.error)")
        let typo = try SettingCommandTests.describe("y,x,g\n1,1,a\n0,2,b\n1,abc,a\n0,4,b\n1,5,a\n", "y ~ x + (1|g)")
        #expect(typo.status == 2 && typo.error.contains(
            "fix the value or write NA, or give --levels x=… to treat the column as categorical"), "\(typo.error)")
        let counts = try SettingCommandTests.describe("y,g\n1,a\n2,b\n", "y ~ (1|g)")
        #expect(counts.status == 2 && counts.error.contains(
            "expected 0 or 1, found 2; for counts use cbind(successes, failures) or --trials, for proportions --weights"), "\(counts.error)")
    }

    @Test func simulationSettingsAreNamedByTheirFlags() throws {
        let cases: [([String], String)] = [
            (["--clients", "1"], "--clients: needs at least 2 clients, got 1"),
            (["--sd-pair=-1"], "--sd-pair: must be a finite number ≥ 0"),
            (["--alpha", "nan"], "--alpha: must be a finite number, got nan"),
            (["--beta", "0.5", "--beta", "inf"], "--beta: must be finite numbers"),
        ]
        for (arguments, mention) in cases {
            let result = try CommandTests.run(["simulate"] + arguments)
            #expect(result.status == 2 && result.error.contains(mention), "\(arguments): \(result.error)")
        }
    }

    /// The commands' own errors name their settings as the library's do.
    @Test func commandErrorsNameFlagsThroughTheSameMapping() throws {
        let unwritable = try CommandTests.run(["simulate", "--clients", "5", "--out", "/nonexistent/dir/data.csv"])
        #expect(unwritable.status == 2 && unwritable.error.contains(
            "error: --out, /nonexistent/dir/data.csv: cannot write the file"), "\(unwritable.error)")
        let truth = try CommandTests.run(["simulate", "--clients", "5", "--truth", "/nonexistent/dir/truth.json"])
        #expect(truth.status == 2 && truth.error.contains("error: --truth, /nonexistent/dir/truth.json: cannot write"),
                "\(truth.error)")
        let (run, _, _) = try PlotCommandTests.setup.get()
        let summary = try CommandTests.run(["summary", run, "--variables", "nothing"])
        #expect(summary.status == 2 && summary.error.contains("error: --variables: no variable named \"nothing\""),
                "\(summary.error)")
    }

    @Test func figureErrorsAndCaptionsNameFlags() throws {
        let (run, _, _) = try PlotCommandTests.setup.get()
        let out = CommandTests.temporary("setting-plot.svg")
        let variables = try CommandTests.run(["plot", run, "--kind", "trace", "--variables", "sd(nothing)",
                                              "--out", out])
        #expect(variables.status == 2 && variables.error.contains(
            "error: --variables, \(run): the run has no draws of \"sd(nothing)\""), "\(variables.error)")
        // The EB fit came from --lme4, so the error names --lme4.
        let ranef = CommandTests.temporary("setting-ranef.csv")
        try "\"grpvar\",\"term\",\"grp\",\"condval\",\"condsd\"\n\"stylist\",\"(Intercept)\",\"1\",0.1,0.2\n"
            .write(toFile: ranef, atomically: true, encoding: .utf8)
        let lme4 = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--lme4", ranef,
                                         "--out", out])
        #expect(lme4.status == 2 && lme4.error.contains(
            "error: --lme4, \(ranef): the empirical-Bayes fit has no effects of client"), "\(lme4.error)")
        // A capped caterpillar's caption says which flag changes the cap.
        let capped = try CommandTests.run(["plot", run, "--kind", "caterpillar", "--term", "client",
                                           "--max-levels", "5", "--out", out])
        #expect(capped.status == 0, "\(capped.error)")
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        #expect(svg.contains("Showing 5 of 60 levels") && svg.contains("included; --max-levels to change).")
                && !svg.contains("setting"))
    }
}
