import Foundation
import Testing

/// `bayesglmm score` end to end: a short fit of simulated data, then scores,
/// rankings, Thompson choices and bad input.
@Suite(.serialized) struct ScoreCommandTests {
    static let formula = "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"

    /// A short fit of 60 simulated clients and 8 stylists, made once for the suite.
    static let run: Result<String, any Error> = Result {
        let data = CommandTests.temporary("score-data.csv"), out = CommandTests.temporary("score-run")
        let simulated = try CommandTests.run(["simulate", "--clients", "60", "--stylists", "8", "--seed", "5",
                                              "--beta", "0.5", "--out", data])
        guard simulated.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": simulated.error]) }
        let fit = try CommandTests.run(["fit", data, "--formula", formula, "--out", out, "--chains", "2",
                                        "--warmup", "100", "--draws", "150", "--seed", "3", "--quiet"])
        guard fit.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": fit.error]) }
        return out
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let path = CommandTests.temporary(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Header and rows of CSV without quoted fields.
    static func table(_ text: String) -> (header: [String], rows: [[String]]) {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines.first ?? [], Array(lines.dropFirst()))
    }

    /// Clients 1 and 2 with three stylists each (stylist 99 and client 1000 are new), client 1000 alone.
    static let candidates = """
        client,stylist,x1
        1,1,0
        1,2,0.5
        1,99,0
        2,3,-1
        2,4,0
        2,1,1
        1000,2,0
        """

    @Test func scoresRankingsAndThompsonChoices() throws {
        let run = try ScoreCommandTests.run.get()
        let pairs = try ScoreCommandTests.write(ScoreCommandTests.candidates, "score-candidates.csv")
        let plain = try CommandTests.run(["score", run, "--pairs", pairs, "--threshold", "0.3", "--seed", "4"])
        #expect(plain.status == 0, "\(plain.error)")
        let scores = ScoreCommandTests.table(plain.output)
        #expect(scores.header == ["client", "stylist", "x1", "mean", "q5", "q50", "q95", "p_exceeds", "new_client",
                                  "new_stylist", "new_client:stylist"])
        #expect(scores.rows.count == 7)
        for row in scores.rows {
            let numbers = row[3...7].compactMap(Double.init)
            #expect(numbers.count == 5 && numbers[0] > 0 && numbers[0] < 1, "\(row)")
            #expect(numbers[1] <= numbers[2] && numbers[2] <= numbers[3], "\(row)")
            #expect(numbers[1] < numbers[0] && numbers[0] < numbers[3], "\(row)")
            #expect((0...1).contains(numbers[4]))
        }
        #expect(scores.rows.map { $0[8] } == ["0", "0", "0", "0", "0", "0", "1"])
        #expect(scores.rows.map { $0[9] } == ["0", "0", "1", "0", "0", "0", "0"])
        #expect(scores.rows[2][10] == "1" && scores.rows[6][10] == "1")
        // A new client's interval is wider than a seen client's with the same stylist.
        let width = { (row: [String]) in Double(row[6])! - Double(row[4])! }
        #expect(width(scores.rows[6]) > width(scores.rows[1]))

        // Ranking and Thompson (same seed): the same scores, P(best) summing to 1 per client, one choice each.
        let ranked = try CommandTests.run(["score", run, "--pairs", pairs, "--threshold", "0.3", "--rank-by", "client",
                                           "--thompson", "--seed", "4"])
        #expect(ranked.status == 0, "\(ranked.error)")
        let table = ScoreCommandTests.table(ranked.output)
        #expect(table.header.suffix(4) == ["rank", "p_best", "expected_regret", "thompson"])
        #expect(table.rows.map { Array($0[0..<11]) } == scores.rows)
        for client in ["1", "2", "1000"] {
            let rows = table.rows.filter { $0[0] == client }
            let sum = rows.map { Double($0[12])! }.reduce(0, +)
            #expect(abs(sum - 1) < 1e-12, "client \(client): \(sum)")
            #expect(rows.filter { $0[14] == "1" }.count == 1)
            #expect(Set(rows.map { $0[11] }) == Set((1...rows.count).map(String.init)))
            #expect(rows.allSatisfy { Double($0[13])! >= 0 })
        }
        // Reproducible by seed; --out writes the same table.
        let scoresPath = CommandTests.temporary("scores.csv")
        let again = try CommandTests.run(["score", run, "--pairs", pairs, "--threshold", "0.3", "--rank-by", "client",
                                          "--thompson", "--seed", "4", "--out", scoresPath])
        #expect(again.status == 0 && again.output.isEmpty && again.error.contains("7 rows scored"))
        #expect(try String(contentsOfFile: scoresPath, encoding: .utf8) == ranked.output)

        // --new-levels: seen rows unchanged; the new client's (row 7) interval
        // narrower when integrated out than when sampled; typical differs.
        var byKind: [String: [[String]]] = [:]
        for kind in ["marginal", "typical"] {
            let result = try CommandTests.run(["score", run, "--pairs", pairs, "--threshold", "0.3", "--seed", "4",
                                               "--new-levels", kind])
            #expect(result.status == 0, "\(result.error)")
            byKind[kind] = ScoreCommandTests.table(result.output).rows
            let seen = scores.rows.indices.filter { scores.rows[$0][8...10].allSatisfy { $0 == "0" } }
            #expect(!seen.isEmpty && seen.allSatisfy { byKind[kind]![$0] == scores.rows[$0] })
        }
        #expect(width(byKind["marginal"]![6]) < width(scores.rows[6]))
        #expect(byKind["typical"]![6][3] != byKind["marginal"]![6][3])
        let bad = try CommandTests.run(["score", run, "--pairs", pairs, "--new-levels", "average"])
        #expect(bad.status == 2 && bad.error.contains("--new-levels"), "\(bad.error)")
    }

    /// A negative number after a numeric option reaches validation, which
    /// says what the value must be (before RUN_DIR is read).
    @Test func negativeNumbersReachValidation() throws {
        let cases: [([String], String)] = [
            (["--threshold", "-0.5"], "--threshold must be in [0, 1], got -0.5"),
            (["--rows-per-chunk", "-10"], "--rows-per-chunk must be at least 1, got -10"),
            (["--seed", "-3"], "invalid for '--seed <seed>': a seed is a whole number from 0 to"),
        ]
        for (arguments, message) in cases {
            let result = try CommandTests.run(["score", "/nonexistent/run", "--pairs", "c.csv"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains(message) && !result.error.contains("Missing value"),
                    "\(arguments): \(result.error)")
        }
    }

    @Test func badInputExitsWithTwoNamingTheFileLineAndColumn() throws {
        let run = try ScoreCommandTests.run.get()
        func score(_ text: String?, _ extra: [String] = []) throws -> CommandTests.Result {
            let path = try text.map { try ScoreCommandTests.write($0, "score-bad.csv") } ?? "/nonexistent/c.csv"
            return try CommandTests.run(["score", run, "--pairs", path] + extra)
        }
        let unknown = try score("client,stylist,x1,colour\n1,1,0,red\n")
        #expect(unknown.status == 2 && unknown.error.contains("score-bad.csv, line 1, column \"colour\""), "\(unknown.error)")
        let covariate = try score("client,stylist\n1,1\n")
        #expect(covariate.status == 2 && covariate.error.contains("column \"x1\"") && covariate.error.contains("covariate"))
        let empty = try score("client,stylist,x1\n")
        #expect(empty.status == 2 && empty.error.contains("score-bad.csv") && empty.error.contains("no data rows"))
        let text = try score("client,stylist,x1\n1,1,0\n1,2,lots\n")
        #expect(text.status == 2 && text.error.contains("score-bad.csv, line 3, column \"x1\""), "\(text.error)")
        let missingFile = try score(nil)
        #expect(missingFile.status == 2 && missingFile.error.contains("/nonexistent/c.csv"))
        let thompson = try score(ScoreCommandTests.candidates, ["--thompson"])
        #expect(thompson.status == 2 && thompson.error.contains("--rank-by"))
        let rankBy = try score(ScoreCommandTests.candidates, ["--rank-by", "x1"])
        #expect(rankBy.status == 2 && rankBy.error.contains("--rank-by: x1 is not a grouping factor"),
                "\(rankBy.error)")
        let noRun = try CommandTests.run(["score", "/nonexistent-run", "--pairs", "x.csv"])
        #expect(noRun.status == 2 && noRun.error.contains("/nonexistent-run"))
        for result in [unknown, covariate, empty, text, missingFile, thompson, rankBy, noRun] {
            #expect(result.output.isEmpty && !result.error.contains("Fatal error"))
        }
    }
    @Test func categoricalCovariatesAndTrialsColumnEndToEnd() throws {
        // 30 clients × 5 stylists, successes y of n = 2 trials, a categorical
        // tier per client (basic, gold, silver; "basic" the baseline).
        var rows = ["client,stylist,tier,x1,n,y"]
        for client in 1...30 {
            for stylist in 1...5 {
                let tier = ["basic", "gold", "silver"][client % 3]
                rows.append("c\(client),s\(stylist),\(tier),\(Double((client * 7 + stylist) % 11) / 10),2,"
                            + "\((client * 3 + stylist * 5) % 3 == 0 ? 0 : (client + stylist) % 2 + 1)")
            }
        }
        let data = try ScoreCommandTests.write(rows.joined(separator: "\n") + "\n", "score-tier-data.csv")
        let out = CommandTests.temporary("score-tier-run")
        let fit = try CommandTests.run(["fit", data, "--formula", "y ~ x1 * tier + (1|client) + (1|stylist)",
                                        "--trials", "n", "--out", out, "--chains", "1", "--warmup", "60",
                                        "--draws", "60", "--seed", "2", "--quiet"])
        #expect(fit.status == 0, "\(fit.error)")
        let record = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: out + "/fit.json"))) as? [String: Any])
        #expect(record["trials"] as? String == "n")
        #expect((record["categorical_levels"] as? [String: [String]])?["tier"] == ["basic", "gold", "silver"])
        #expect((record["fixed_coding"] as? [[String: Any]])?.count == (record["fixed"] as? [String])?.count)

        let candidates = try ScoreCommandTests.write("""
            client,stylist,tier,x1,n
            c1,s1,gold,0.5,2
            c1,s1,basic,0.5,2
            c99,s2,silver,0,1
            """, "score-tier-candidates.csv")
        let scored = try CommandTests.run(["score", out, "--pairs", candidates])
        #expect(scored.status == 0, "\(scored.error)")
        let table = ScoreCommandTests.table(scored.output)
        #expect(table.header.prefix(6) == ["client", "stylist", "tier", "x1", "n", "mean"] && table.rows.count == 3)
        // The same pair under another tier gets another score.
        #expect(table.rows.count == 3 && table.rows[0][5] != table.rows[1][5])

        let unseen = try ScoreCommandTests.write("client,stylist,tier,x1\nc1,s1,gold,0\nc1,s1,platinum,0\n",
                                                 "score-tier-bad.csv")
        let refused = try CommandTests.run(["score", out, "--pairs", unseen])
        #expect(refused.status == 2 && refused.error.contains("score-tier-bad.csv, line 3, column \"tier\"")
                && refused.error.contains("basic, gold, silver"), "\(refused.error)")
        #expect(refused.output.isEmpty)
    }
}

