import Foundation
import SVGTestSupport
import Testing

/// `bayesglmm plot` end to end: every kind on a short fit of simulated data,
/// the same bytes twice, and bad input refused with status 2 and no files.
@Suite(.serialized) struct PlotCommandTests {
    static let formula = "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"

    /// Data, a short fit, its EB fit and scores of held-out rows, made once for the suite.
    static let setup: Result<(run: String, eb: String, scores: String), any Error> = Result {
        let data = CommandTests.temporary("plot-data.csv"), out = CommandTests.temporary("plot-run")
        let eb = CommandTests.temporary("plot-eb.json"), scores = CommandTests.temporary("plot-scores.csv")
        func check(_ result: CommandTests.Result) throws {
            guard result.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": result.error]) }
        }
        try check(CommandTests.run(["simulate", "--clients", "60", "--stylists", "8", "--seed", "5", "--beta", "0.5",
                                    "--out", data]))
        try check(CommandTests.run(["fit", data, "--formula", formula, "--out", out, "--chains", "2",
                                    "--warmup", "100", "--draws", "150", "--seed", "3", "--quiet"]))
        try check(CommandTests.run(["eb", data, "--formula", formula, "--out", eb]))
        // Scores of the fit's own rows stand in for held-out ones: the table has the response.
        try check(CommandTests.run(["score", out, "--pairs", data, "--out", scores]))
        return (out, eb, scores)
    }

    static let kinds: [(name: String, arguments: [String])] = [
        ("trace", []), ("rank", ["--variables", "sd(client),(Intercept)"]),
        ("density", ["--variables", "sd(stylist)", "--eb", "EB"]), ("caterpillar", ["--term", "client"]),
        ("shrinkage", ["--term", "client", "--eb", "EB", "--max-levels", "30"]), ("sd", ["--eb", "EB"]),
        ("calibration", ["--scores", "SCORES"]),
    ]

    @Test func everyKindWritesSVGAndCSVTheSameEveryTime() throws {
        let (run, eb, scores) = try PlotCommandTests.setup.get()
        for (kind, extra) in PlotCommandTests.kinds {
            let out = CommandTests.temporary("plot-\(kind).svg"), csv = CommandTests.temporary("plot-\(kind).csv")
            let arguments = (kind == "calibration" ? ["plot"] : ["plot", run]) + ["--kind", kind, "--out", out]
                + extra.map { $0 == "EB" ? eb : $0 == "SCORES" ? scores : $0 }
            let first = try CommandTests.run(arguments)
            #expect(first.status == 0, "\(kind): \(first.error)")
            #expect(first.output.isEmpty && first.error.contains("wrote \(out) and \(csv)\n"))
            let svg = try String(contentsOfFile: out, encoding: .utf8), table = try String(contentsOfFile: csv, encoding: .utf8)
            let elements = try SVGElements.parse(svg)
            #expect(elements.names.first == "svg" && elements.count("g", class: "panel") >= 1, "\(kind)")
            #expect(table.split(separator: "\n").count >= 2, "\(kind)")
            let second = try CommandTests.run(arguments)
            #expect(second.status == 0)
            #expect(try String(contentsOfFile: out, encoding: .utf8) == svg, "\(kind): SVG differs")
            #expect(try String(contentsOfFile: csv, encoding: .utf8) == table, "\(kind): CSV differs")
        }
        // The shrinkage cap, and calibration with RUN_DIR (the response from fit.json).
        let shrinkage = try String(contentsOfFile: CommandTests.temporary("plot-shrinkage.csv"), encoding: .utf8)
        #expect(shrinkage.split(separator: "\n").count == 31)
        let calibrated = CommandTests.temporary("plot-calibration-run.svg")
        let withRun = try CommandTests.run(["plot", run, "--kind", "calibration", "--scores", scores, "--out", calibrated])
        #expect(withRun.status == 0, "\(withRun.error)")
    }

    @Test func badInputExitsWithTwoAndWritesNothing() throws {
        let (run, eb, scores) = try PlotCommandTests.setup.get()
        let noResponse = CommandTests.temporary("plot-no-response.csv")
        try "client,stylist,x1,mean\n1,1,0,0.5\n".write(toFile: noResponse, atomically: true, encoding: .utf8)
        let out = CommandTests.temporary("plot-bad.svg")
        let cases: [([String], String)] = [
            (["plot", run, "--kind", "pie", "--out", out], "--kind"),
            (["plot", run, "--kind", "trace", "--variables", "sd(nothing)", "--out", out], "sd(nothing)"),
            (["plot", run, "--kind", "caterpillar", "--term", "nothing", "--out", out], "--term"),
            (["plot", run, "--kind", "caterpillar", "--out", out], "--term"),
            (["plot", run, "--kind", "shrinkage", "--term", "client", "--out", out], "--eb"),
            (["plot", "--kind", "calibration", "--out", out], "--scores"),
            (["plot", "--kind", "trace", "--out", out], "RUN_DIR"),
            (["plot", "/nonexistent/run", "--kind", "trace", "--out", out], "/nonexistent/run"),
            (["plot", run, "--kind", "sd", "--eb", "/nonexistent/eb.json", "--out", out], "/nonexistent/eb.json"),
            (["plot", run, "--kind", "density", "--variables", "sd(client),sd(stylist)", "--out", out], "one variable"),
            (["plot", "--kind", "calibration", "--scores", noResponse, "--out", out], "no column \"y\""),
            (["plot", "--kind", "calibration", "--scores", "/nonexistent/scores.csv", "--out", out],
             "/nonexistent/scores.csv"),
            (["plot", run, "--kind", "trace", "--out", CommandTests.temporary("plot-bad.png")], ".svg"),
            (["plot", run, "--kind", "trace", "--term", "client", "--out", out], "--term does not apply"),
            (["plot", run, "--kind", "caterpillar", "--term", "client", "--max-levels", "0", "--out", out],
             "--max-levels"),
            (["plot", run, "--kind", "trace", "--out", "/nonexistent/dir/fig.svg"], "/nonexistent/dir/fig"),
        ]
        _ = eb; _ = scores
        for (arguments, mention) in cases {
            let result = try CommandTests.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains(mention), "\(arguments): \(result.error)")
            #expect(result.output.isEmpty, "\(arguments)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) left \(out)")
            #expect(!FileManager.default.fileExists(atPath: CommandTests.temporary("plot-bad.csv")), "\(arguments)")
        }
    }
    /// A negative --max-levels reaches validation, which says what it must be.
    @Test func negativeMaxLevelsReachesValidation() throws {
        let result = try CommandTests.run(["plot", "/nonexistent/run", "--kind", "caterpillar", "--term", "client",
                                           "--max-levels", "-3", "--out", CommandTests.temporary("plot-negative.svg")])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("--max-levels must be at least 1, got -3") && !result.error.contains("Missing value"),
                "\(result.error)")
    }

    /// --eb of another model than the run's is refused as compare refuses it,
    /// for every kind that reads it.
    @Test func empiricalBayesFitOfAnotherModelIsRefused() throws {
        let (run, eb, _) = try PlotCommandTests.setup.get()
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: eb)))
            as? [String: Any])
        object["formula"] = "y ~ (1|client) + (1|stylist) + (1|client:stylist)"
        object["fixed"] = (object["fixed"] as! [[String: Any]]).filter { $0["name"] as? String != "x1" }
        let other = CommandTests.temporary("plot-eb-other.json")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: other))
        let out = CommandTests.temporary("plot-other.svg")
        for extra in [["--kind", "sd"], ["--kind", "density", "--variables", "sd(client)"],
                      ["--kind", "shrinkage", "--term", "client"]] {
            let result = try CommandTests.run(["plot", run, "--eb", other, "--out", out] + extra)
            #expect(result.status == 2, "\(extra): \(result.error)")
            #expect(result.error.contains("\(other): the empirical-Bayes fit is not of the run's model and data")
                    && result.error.contains("fixed effects only in the run: x1"), "\(extra): \(result.error)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(extra) wrote \(out)")
        }
    }

    /// Shrinkage beside lme4's ranef table (--lme4) is the figure beside the
    /// same effects as an EB JSON: the EB fit's effects written as R's
    /// as.data.frame(ranef(fit, condVar = TRUE)) give the same table.
    @Test func shrinkageFromAnLme4RanefTableMatchesTheJSON() throws {
        let (run, eb, _) = try PlotCommandTests.setup.get()
        struct Report: Decodable {
            struct Effect: Decodable { let term: String; let level: String; let mode: Double; let sd: Double }
            let effects: [Effect]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: eb)))
        let ranef = CommandTests.temporary("plot-ranef.csv")
        try (["\"grpvar\",\"term\",\"grp\",\"condval\",\"condsd\""] + report.effects.map {
            "\"\($0.term)\",\"(Intercept)\",\"\($0.level)\",\($0.mode),\($0.sd)"
        }).joined(separator: "\n").write(toFile: ranef, atomically: true, encoding: .utf8)
        let a = CommandTests.temporary("plot-shrinkage-eb.svg"), b = CommandTests.temporary("plot-shrinkage-lme4.svg")
        let fromJSON = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--eb", eb,
                                             "--out", a])
        let fromRanef = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--lme4", ranef,
                                              "--out", b])
        #expect(fromJSON.status == 0 && fromRanef.status == 0, "\(fromRanef.error)")
        let tableA = try String(contentsOfFile: CommandTests.temporary("plot-shrinkage-eb.csv"), encoding: .utf8)
        let tableB = try String(contentsOfFile: CommandTests.temporary("plot-shrinkage-lme4.csv"), encoding: .utf8)
        #expect(tableA == tableB && tableA.split(separator: "\n").count > 2)
        let both = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--eb", eb,
                                         "--lme4", ranef, "--out", b])
        let elsewhere = try CommandTests.run(["plot", run, "--kind", "sd", "--lme4", ranef, "--out", b])
        #expect(both.status == 2 && both.error.contains("--lme4") && elsewhere.status == 2
                && elsewhere.error.contains("--lme4 does not apply"), "\(both.error) \(elsewhere.error)")
    }
}

