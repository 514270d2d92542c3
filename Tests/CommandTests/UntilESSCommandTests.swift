import Foundation
import Testing

/// `bayesglmm fit --until-ess N [--max-time T] [--max-draws M]` and the
/// verdict every fit ends with, end to end on the small data of
/// `FitCommandTests`.
@Suite(.serialized) struct UntilESSCommandTests {
    static func fit(_ data: String, _ out: String, _ extra: [String]) throws -> CommandTests.Result {
        try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula, "--out", out, "--chains", "2",
                              "--warmup", "30", "--draws", "40", "--seed", "5", "--quiet"] + extra)
    }

    static func manifest(_ out: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/fit.json")))
            as? [String: Any])
    }

    @Test func fitUntilESSSaysWhatStoppedItAndRecordsIt() throws {
        let data = try FitCommandTests.simulate()
        // The target and R-hat <= 1.01 are reached, in blocks after the first 40 draws.
        let out = CommandTests.temporary("until-ess-reached")
        let reached = try UntilESSCommandTests.fit(data, out, ["--until-ess", "30"])
        #expect(reached.status == 0, "\(reached.error)")
        let record = try UntilESSCommandTests.manifest(out)
        #expect(record["stopped_because"] as? String == "ess_reached" && record["until_ess"] as? Int == 30)
        let draws = try #require(record["draws"] as? Int)
        let achieved = try #require(record["achieved"] as? [String: Any])
        #expect(draws > 40 && achieved["draws"] as? Int == draws)
        #expect(try #require(achieved["min_bulk_ess"] as? Double) >= 30)
        #expect(try #require(achieved["max_rhat"] as? Double) <= 1.01)
        #expect(reached.error.contains("--until-ess 30: reached after"), "\(reached.error)")
        #expect(reached.error.contains("wrote \(out): 2 chains x \(draws) draws"), "\(reached.error)")
        #expect(reached.error.split(separator: "\n").last?.hasPrefix("verdict: ") == true, "\(reached.error)")
        // summary reads it as any run.
        let summary = try CommandTests.run(["summary", out, "--variables", "sd(client)"])
        #expect(summary.status == 0 && summary.output.contains("2 chains of \(draws) draws each"), "\(summary.output)")

        // Out of reach: the draw limit.
        let limited = CommandTests.temporary("until-ess-limit")
        let limit = try UntilESSCommandTests.fit(data, limited, ["--until-ess", "100000", "--max-draws", "90"])
        #expect(limit.status == 0, "\(limit.error)")
        let limitRecord = try UntilESSCommandTests.manifest(limited)
        #expect(limitRecord["stopped_because"] as? String == "draw_limit" && limitRecord["draws"] as? Int == 90)
        #expect(limit.error.contains("the draw limit (--max-draws 90) came first"), "\(limit.error)")
        #expect(limit.error.contains("verdict: not converged — ") && limit.error.contains("try --max-draws "),
                "\(limit.error)")

        // The time limit: the first block is always made, then time is up.
        let timed = CommandTests.temporary("until-ess-time")
        let time = try UntilESSCommandTests.fit(data, timed, ["--until-ess", "100000", "--max-time", "0.001s"])
        #expect(time.status == 0, "\(time.error)")
        let timeRecord = try UntilESSCommandTests.manifest(timed)
        #expect(timeRecord["stopped_because"] as? String == "time_limit" && timeRecord["max_time"] as? Double == 0.001)
        #expect(timeRecord["draws"] as? Int == 40)
        #expect(time.error.contains("the time limit (--max-time 0.001 s) came first"), "\(time.error)")

        // A fit of fixed length ends with its verdict too, and records no until-ESS fields.
        let plain = CommandTests.temporary("until-ess-plain")
        let fixed = try UntilESSCommandTests.fit(data, plain, [])
        #expect(fixed.status == 0 && fixed.error.contains("verdict: not converged — "), "\(fixed.error)")
        #expect(fixed.error.contains("try --until-ess 400 (or --draws "), "\(fixed.error)")
        let plainRecord = try UntilESSCommandTests.manifest(plain)
        #expect(plainRecord["until_ess"] == nil && plainRecord["stopped_because"] == nil)
    }

    @Test func badUntilESSOptionsExitWithTwoNamingTheOption() throws {
        let data = try FitCommandTests.simulate()
        let cases: [([String], String)] = [
            (["--until-ess", "0"], "--until-ess"),
            (["--until-ess", "-5"], "--until-ess"),
            (["--until-ess", "many"], "--until-ess"),
            (["--until-ess", "400", "--max-time", "0"], "--max-time"),
            (["--until-ess", "400", "--max-time", "-3m"], "--max-time"),
            (["--until-ess", "400", "--max-time", "soon"], "--max-time"),
            (["--until-ess", "400", "--max-time", "5d"], "--max-time"),
            (["--until-ess", "400", "--max-time", "inf"], "--max-time"),
            (["--max-time", "5m"], "--until-ess"),
            (["--max-draws", "5000"], "--until-ess"),
            (["--until-ess", "400", "--max-draws", "10"], "--max-draws"),
        ]
        for (extra, mention) in cases {
            let out = CommandTests.temporary("bad-until-ess")
            let result = try UntilESSCommandTests.fit(data, out, extra)
            #expect(result.status == 2, "\(extra): \(result.error)")
            #expect(result.error.contains(mention), "\(extra): \(result.error)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(extra): nothing written")
        }
        let help = try CommandTests.run(["help", "fit"])
        #expect(help.output.contains("--until-ess") && help.output.contains("--max-time")
                && help.output.contains("--max-draws"))
    }
}
