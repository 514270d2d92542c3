import Foundation
import Testing

/// End-to-end tests of `bayesglmm summary` on hand-made CmdStan CSV files:
/// the table's header and values, CSV and JSON output, warnings for badly
/// mixed chains, and exit status 2 for bad input.
@Suite(.serialized) struct SummaryCommandTests {
    /// A fresh empty directory.
    static func directory(_ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bayesglmm-summary-tests-\(getpid())")
            .appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Draw `t` of `alpha` in chain `chain`: an AR(1) recursion driven by a
    /// deterministic, quickly varying input, so the chains mix well.
    static func alpha(_ chain: Int, count: Int) -> [Double] {
        var x = 0.0
        return (0..<count).map { t in
            x = 0.3 * x + sin(Double(t) * 2.39 + Double(chain) * 0.7)
            return x - 0.5
        }
    }

    /// A badly mixed variable: each chain stays near its own level.
    static func stuck(_ chain: Int, count: Int) -> [Double] {
        (0..<count).map { t in Double(chain) * 5 + 0.01 * sin(Double(t)) }
    }

    /// Writes a CmdStan-style file for `chain` with `count` draws of lp__,
    /// two sampler columns, alpha and stuck.
    static func writeChain(_ chain: Int, count: Int, to path: String, header: String? = nil,
                           warmup: Int = 0) throws {
        let a = alpha(chain, count: count), s = stuck(chain, count: count)
        var text = "# model = test\n#   num_warmup = \(warmup)\n#   save_warmup = \(warmup > 0 ? 1 : 0)\n"
        text += (header ?? "lp__,accept_stat__,divergent__,alpha,stuck") + "\n"
        text += (0..<warmup).map { _ in "0,1,0,1000,1000\n" }.joined()
        if warmup > 0 { text += "# Adaptation terminated\n" }
        for t in 0..<count {
            text += "\(-a[t] * a[t]),0.9,0,\(a[t]),\(s[t])\n"
        }
        text += "# \n#  Elapsed Time: 0.1 seconds (Total)\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A fit directory with two chains of `count` draws.
    static func fitDirectory(_ name: String, count: Int = 500) throws -> String {
        let directory = try SummaryCommandTests.directory(name)
        for chain in 1...2 {
            try writeChain(chain, count: count, to: directory + "/chain-\(chain).csv")
        }
        return directory
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    @Test func textTableOfAFitDirectory() throws {
        let directory = try SummaryCommandTests.fitDirectory("text")
        let result = try CommandTests.run(["summary", directory])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "2 chains of 500 draws each, 3 variables.")
        let header = try #require(lines.first { $0.hasPrefix("variable") })
        #expect(header.split(separator: " ") == ["variable", "mean", "median", "sd", "mad", "q5", "q95", "rhat",
                                                 "ess_bulk", "ess_tail"])
        // The sampler's columns are dropped, lp__ is kept.
        #expect(!result.output.contains("accept_stat__") && !result.output.contains("divergent__"))
        let alphaLine = try #require(lines.first { $0.hasPrefix("alpha ") })
        let alphaCells = alphaLine.split(separator: " ").map(String.init)
        let draws = SummaryCommandTests.alpha(1, count: 500) + SummaryCommandTests.alpha(2, count: 500)
        #expect(alphaCells[1] == String(format: "%.3g", SummaryCommandTests.mean(draws)))
        #expect(lines.contains { $0.hasPrefix("lp__ ") })
        let stuckLine = try #require(lines.first { $0.hasPrefix("stuck ") })
        #expect(stuckLine.split(separator: " ")[1] == "7.5")

        // Stan-style warnings after the table, for the stuck variable only.
        #expect(result.output.contains("Warning: 1 of 3 variables had R-hat > 1.01: stuck"))
        #expect(result.output.contains("Warning: 1 of 3 variables had bulk-ESS < 400: stuck"))
        #expect(!result.output.contains("All 3 variables"))
    }

    @Test func filesGivenOneByOneAndAllPassed() throws {
        let directory = try SummaryCommandTests.fitDirectory("files", count: 1000)
        let result = try CommandTests.run(["summary", directory + "/chain-1.csv", directory + "/chain-2.csv",
                                           "--variables", "alpha,lp__"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("2 chains of 1000 draws each, 2 variables."))
        #expect(!result.output.contains("stuck"))
        #expect(result.output.contains("All 2 variables had R-hat ≤ 1.01, bulk-ESS ≥ 400 and tail-ESS ≥ 400."))
        // --variables keeps the order given.
        let alpha = try #require(result.output.range(of: "\nalpha "))
        let lp = try #require(result.output.range(of: "\nlp__ "))
        #expect(alpha.lowerBound < lp.lowerBound)

        let matched = try CommandTests.run(["summary", directory, "--match", "tuc"])
        #expect(matched.status == 0)
        #expect(matched.output.contains("\nstuck ") && !matched.output.contains("\nalpha "))
    }

    @Test func variablesSelectIndexedElementsByBaseName() throws {
        let directory = try SummaryCommandTests.directory("indexed")
        for chain in 1...2 {
            let a = SummaryCommandTests.alpha(chain, count: 1000)
            var text = "lp__,r(client)[1],r(client)[2],r(client)[10],sd(client),r(client:stylist)[1]\n"
            for t in a.indices {
                text += "\(-a[t]),\(a[t]),\(2 * a[t]),\(3 * a[t]),\(a[t] + 2),\(a[t] - 1)\n"
            }
            try text.write(toFile: directory + "/chain-\(chain).csv", atomically: true, encoding: .utf8)
        }
        let elements = try CommandTests.run(["summary", directory, "--variables", "r(client)", "--format", "csv"])
        #expect(elements.status == 0, "\(elements.error)")
        #expect(elements.output.split(separator: "\n").compactMap { $0.split(separator: ",").first }
            == ["variable", "r(client)[1]", "r(client)[2]", "r(client)[10]"])
        let one = try CommandTests.run(["summary", directory, "--variables", "sd(client)"])
        #expect(one.status == 0, "\(one.error)")
        #expect(one.output.contains("1 variable."))
        #expect(one.output.contains("The variable had R-hat ≤ 1.01, bulk-ESS ≥ 400 and tail-ESS ≥ 400."))
    }

    @Test func csvOutput() throws {
        let directory = try SummaryCommandTests.fitDirectory("csv")
        let result = try CommandTests.run(["summary", directory, "--format", "csv", "--mcse"])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(lines.count == 4)
        #expect(lines[0] == ["variable", "mean", "median", "sd", "mad", "q5", "q95", "rhat", "ess_bulk", "ess_tail",
                             "mcse_mean", "mcse_median", "mcse_sd", "mcse_q5", "mcse_q95"])
        #expect(lines.map { $0.first } == ["variable", "lp__", "alpha", "stuck"])
        #expect(lines.dropFirst().allSatisfy { $0.count == 15 && $0.dropFirst().allSatisfy { Double($0) != nil } })
        let draws = SummaryCommandTests.alpha(1, count: 500) + SummaryCommandTests.alpha(2, count: 500)
        let mean = try #require(Double(lines[2][1]))
        #expect(abs(mean - SummaryCommandTests.mean(draws)) <= 1e-12 * max(1, abs(mean)))
        // Notes and warnings go to standard error, leaving the CSV clean.
        #expect(result.error.contains("Warning: 1 of 3 variables had R-hat > 1.01: stuck"))
    }

    @Test func jsonOutput() throws {
        let directory = try SummaryCommandTests.fitDirectory("json")
        let result = try CommandTests.run(["summary", directory, "--format", "json"])
        #expect(result.status == 0, "\(result.error)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        #expect(objects.map { $0["variable"] as? String } == ["lp__", "alpha", "stuck"])
        #expect(objects[0]["mcse_mean"] == nil)
        let stuck = objects[2]
        #expect(abs((stuck["mean"] as? Double ?? 0) - 7.5) < 1e-3)
        #expect((stuck["rhat"] as? Double ?? 0) > 1.5)
        #expect((stuck["ess_bulk"] as? Double ?? 1e9) < 10)
        let draws = SummaryCommandTests.alpha(1, count: 500) + SummaryCommandTests.alpha(2, count: 500)
        let mean = try #require(objects[1]["mean"] as? Double)
        #expect(abs(mean - SummaryCommandTests.mean(draws)) <= 1e-12 * max(1, abs(mean)))
    }

    @Test func chainsOfDifferentLengthsInChainOrder() throws {
        let directory = try SummaryCommandTests.directory("ragged")
        // chain-10 sorts after chain-2 by number, not by name.
        try SummaryCommandTests.writeChain(1, count: 300, to: directory + "/chain-1.csv")
        try SummaryCommandTests.writeChain(2, count: 200, to: directory + "/chain-2.csv")
        try SummaryCommandTests.writeChain(10, count: 250, to: directory + "/chain-10.csv")
        try "not a chain".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
        let result = try CommandTests.run(["summary", directory, "--format", "json"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("3 chains of 200 draws each"))
        #expect(result.error.contains("different numbers of draws (300, 200, 250); using the first 200 of each"))
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        let draws = [1, 2, 10].flatMap { SummaryCommandTests.alpha($0, count: 200) }
        let mean = try #require(objects[1]["mean"] as? Double)
        #expect(abs(mean - SummaryCommandTests.mean(draws)) <= 1e-12)
    }

    @Test func savedWarmupIsDropped() throws {
        let directory = try SummaryCommandTests.directory("warmup")
        for chain in 1...2 {
            try SummaryCommandTests.writeChain(chain, count: 100, to: directory + "/chain-\(chain).csv", warmup: 20)
        }
        let result = try CommandTests.run(["summary", directory, "--variables", "alpha", "--format", "json"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("Dropped the saved warm-up draws (20 per chain)."))
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        let draws = SummaryCommandTests.alpha(1, count: 100) + SummaryCommandTests.alpha(2, count: 100)
        #expect(abs((objects[0]["mean"] as? Double ?? 0) - SummaryCommandTests.mean(draws)) <= 1e-12)
    }

    /// A minimal run manifest (fit.json, layout 2) for chain files of
    /// lp__, alpha and stuck: `outcomes` are JSON objects.
    static func manifest(status: String, draws: Int, outcomes: [String]) -> String {
        """
        {"schema_version": 2, "program": "test", "status": "\(status)", "formula": "y ~ 1", "data": "d.csv",
         "rows_used": 10, "fixed": ["(Intercept)"], "random": [],
         "store": {"file": "draws.npy", "dtype": "<f8", "order": "C", "shape": [\(outcomes.count), \(draws), 3],
                   "names": ["lp__", "alpha", "stuck"]},
         "outcomes": [\(outcomes.joined(separator: ", "))]}
        """
    }

    @Test func unfinishedFitIsReported() throws {
        // Still running (or its process died): the chain files as they are, with a warning.
        let running = try SummaryCommandTests.fitDirectory("unfinished-running", count: 50)
        try SummaryCommandTests.manifest(status: "running", draws: 50, outcomes: []).write(
            toFile: running + "/fit.json", atomically: true, encoding: .utf8)
        let result = try CommandTests.run(["summary", running])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Warning: the fit has not finished (fit.json says \"running\")"))

        // Interrupted: chain 3 never began and has no file; chain 2 made 30 draws
        // (its file has more rows here, as a file not yet cut would): the first 30 of chains 1 and 2.
        let interrupted = try SummaryCommandTests.fitDirectory("unfinished-interrupted", count: 50)
        try SummaryCommandTests.manifest(status: "interrupted", draws: 50, outcomes: [
            #"{"chain": 1, "status": "interrupted", "draws": 50, "file": "chain-1.csv"}"#,
            #"{"chain": 2, "status": "interrupted", "draws": 30, "file": "chain-2.csv"}"#,
            #"{"chain": 3, "status": "not_started", "draws": 0}"#,
        ]).write(toFile: interrupted + "/fit.json", atomically: true, encoding: .utf8)
        let cut = try CommandTests.run(["summary", interrupted, "--format", "json"])
        #expect(cut.status == 0, "\(cut.error)")
        #expect(cut.error.contains("The fit was interrupted: chain 1 made 50, chain 2 made 30, chain 3 did not "
                                   + "start; using chains 1 and 2, the first 30 draws of each (60 of 80 draws)."))
        #expect(cut.error.contains("2 chains of 30 draws each"), "\(cut.error)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(cut.output.utf8)) as? [[String: Any]])
        let draws = SummaryCommandTests.alpha(1, count: 30) + SummaryCommandTests.alpha(2, count: 30)
        #expect(abs((objects[1]["mean"] as? Double ?? 0) - SummaryCommandTests.mean(draws)) <= 1e-12)

        // A fit.json that is not a run's record: the chain files as they are, said so.
        let other = try SummaryCommandTests.fitDirectory("not-a-record", count: 50)
        try "{\"status\": \"finished\"}".write(toFile: other + "/fit.json", atomically: true, encoding: .utf8)
        let plain = try CommandTests.run(["summary", other])
        #expect(plain.status == 0 && !plain.output.contains("not finished"))
        #expect(plain.output.contains("not a fit record") && plain.output.contains("reading the chain files as they are"))
    }

    // MARK: Bad input: exit status 2 and a message that says where

    @Test func metropolisAcceptanceFromFitRecord() throws {
        let directory = try SummaryCommandTests.fitDirectory("acceptance", count: 50)
        try SummaryCommandTests.manifest(status: "complete", draws: 50, outcomes: [
            #"{"chain": 1, "draws": 50, "file": "chain-1.csv", "acceptance": {"fixed": 0.25, "r(g)": 0.44, "sd(g)": 0.50}}"#,
            #"{"chain": 2, "draws": 50, "file": "chain-2.csv", "acceptance": {"fixed": 0.27, "r(g)": 0.44, "sd(g)": 0.40}}"#,
        ]).write(toFile: directory + "/fit.json", atomically: true, encoding: .utf8)
        let result = try CommandTests.run(["summary", directory])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains(
            "Metropolis acceptance after warm-up (mean over 2 chains): fixed 0.26 (0.25–0.27), r(g) 0.44, sd(g) 0.45 (0.40–0.50)."))
        // A Gibbs fit's record has no acceptance, and no such line.
        try SummaryCommandTests.manifest(status: "complete", draws: 50, outcomes: [
            #"{"chain": 1, "draws": 50, "file": "chain-1.csv"}"#, #"{"chain": 2, "draws": 50, "file": "chain-2.csv"}"#,
        ]).write(toFile: directory + "/fit.json", atomically: true, encoding: .utf8)
        #expect(!(try CommandTests.run(["summary", directory])).output.contains("acceptance"))
    }

    @Test func missingFileOrDirectory() throws {
        let directory = try SummaryCommandTests.fitDirectory("missing", count: 20)
        let missing = try CommandTests.run(["summary", directory + "/chain-1.csv", directory + "/chain-9.csv"])
        #expect(missing.status == 2)
        #expect(missing.error.contains("chain-9.csv: no such file"))

        let empty = try SummaryCommandTests.directory("empty")
        let none = try CommandTests.run(["summary", empty])
        #expect(none.status == 2)
        #expect(none.error.contains("no chain-*.csv files in the directory"))

        let noArguments = try CommandTests.run(["summary"])
        #expect(noArguments.status == 2)
    }

    @Test func mismatchedHeaders() throws {
        let directory = try SummaryCommandTests.directory("mismatch")
        try SummaryCommandTests.writeChain(1, count: 20, to: directory + "/chain-1.csv")
        try SummaryCommandTests.writeChain(2, count: 20, to: directory + "/chain-2.csv")
        try SummaryCommandTests.writeChain(3, count: 20, to: directory + "/chain-3.csv",
                                           header: "lp__,accept_stat__,divergent__,beta,stuck")
        let result = try CommandTests.run(["summary", directory])
        #expect(result.status == 2)
        #expect(result.error.contains("chain-3.csv: the columns differ from those of"))
        #expect(result.error.contains("column 4 is \"beta\" where it has \"alpha\""))
    }

    @Test func garbageLines() throws {
        let directory = try SummaryCommandTests.fitDirectory("garbage", count: 20)
        var text = try String(contentsOfFile: directory + "/chain-2.csv", encoding: .utf8)
        text += "-1,0.9,0,oops,2\n"
        try text.write(toFile: directory + "/chain-2.csv", atomically: true, encoding: .utf8)
        let result = try CommandTests.run(["summary", directory])
        #expect(result.status == 2)
        // 3 comments, the header, 20 draws, 2 comments: the bad line is 27.
        #expect(result.error.contains("chain-2.csv, line 27, column \"alpha\": expected a number, found \"oops\""))

        try "lp__,x\n1,2\nhello world\n".write(toFile: directory + "/chain-1.csv", atomically: true, encoding: .utf8)
        let short = try CommandTests.run(["summary", directory + "/chain-1.csv"])
        #expect(short.status == 2)
        #expect(short.error.contains("chain-1.csv, line 3: expected 2 fields"))
    }

    @Test func unknownVariable() throws {
        let directory = try SummaryCommandTests.fitDirectory("unknown", count: 20)
        let result = try CommandTests.run(["summary", directory, "--variables", "alpha,gamma"])
        #expect(result.status == 2)
        #expect(result.error.contains("no variable named \"gamma\""))
        let format = try CommandTests.run(["summary", directory, "--format", "xml"])
        #expect(format.status == 2)
    }
}
