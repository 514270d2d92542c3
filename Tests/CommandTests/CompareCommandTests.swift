import Foundation
import Testing

/// `bayesglmm compare` end to end: a short fit of the pairings example set
/// beside glmer's fit of the same model (Validation/lme4/fit_glmer.R).
@Suite(.serialized) struct CompareCommandTests {
    /// The repository root, for examples/ and the glmer fixtures.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let glmer = root.appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb/pairings.json").path
    static let formula = "y ~ (1|client) + (1|stylist) + (1|client:stylist)"

    /// glmer's SD estimates and number of effects, read from the fixture
    /// (JSONDecoder reads its 17-digit numbers back exactly).
    static func glmerFit() throws -> (sd: [String: Double], effects: Int) {
        struct Fixture: Decodable {
            struct SD: Decodable { let term: String; let estimate: Double }
            struct Effect: Decodable { let term: String }
            let sd: [SD]
            let effects: [Effect]
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: glmer)))
        return (Dictionary(uniqueKeysWithValues: fixture.sd.map { ($0.term, $0.estimate) }), fixture.effects.count)
    }

    /// A short fit of examples/pairings.csv, made once for the suite.
    static let run: Result<String, any Error> = Result {
        let out = CommandTests.temporary("compare-run")
        let fit = try CommandTests.run(["fit", root.appendingPathComponent("examples/pairings.csv").path,
                                        "--formula", formula, "--out", out, "--chains", "2", "--warmup", "100",
                                        "--draws", "100", "--seed", "3", "--quiet"])
        guard fit.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": fit.error]) }
        return out
    }

    @Test func reportAndTablesAgainstGlmer() throws {
        let run = try CompareCommandTests.run.get()
        let glmer = try CompareCommandTests.glmerFit()
        let prefix = CommandTests.temporary("compare-tables")
        let result = try CommandTests.run(["compare", run, "--eb", CompareCommandTests.glmer, "--out", prefix])
        #expect(result.status == 0, "\(result.error)")
        for section in ["Standard deviations", "Fixed effects", "Shrinkage by number of observations",
                        "Effects of client:", "Effects of stylist:", "Effects of client:stylist:"] {
            #expect(result.output.contains(section), "no \(section)")
        }
        // glmer and our design name every term and level alike: nothing is left over.
        #expect(!result.output.contains("Notes"), "\(result.output)")

        // The SD table: each posterior median within a factor of 1.5 of glmer's estimate
        // (a 200-draw run; glmer's pair SD sits low in its posterior), P(sd < EB) a probability.
        let sd = try CompareCommandTests.table(prefix + "-sd.csv")
        #expect(sd.header == ["term", "eb_estimate", "posterior_mean", "posterior_median", "q5", "q95",
                              "probability_below_eb"])
        #expect(Set(sd.rows.map { $0[0] }) == Set(glmer.sd.keys))
        for row in sd.rows {
            let eb = try #require(Double(row[1])), median = try #require(Double(row[3]))
            let q5 = try #require(Double(row[4])), q95 = try #require(Double(row[5]))
            let below = try #require(Double(row[6]))
            #expect(eb == glmer.sd[row[0]])
            #expect(median > eb / 1.5 && median < eb * 1.5, "\(row)")
            #expect(q5 < median && median < q95 && (0...1).contains(below), "\(row)")
        }
        let fixed = try CompareCommandTests.table(prefix + "-fixed.csv")
        #expect(fixed.rows.map { $0[0] } == ["(Intercept)"])

        // The effects table: every level of every term, twelve columns.
        let effects = try CompareCommandTests.table(prefix + "-effects.csv")
        #expect(effects.header == ["term", "level", "observations", "successes", "raw_log_odds", "eb_mode", "eb_sd",
                                   "posterior_mean", "posterior_sd", "q5", "q95", "width_ratio"])
        #expect(effects.rows.count == glmer.effects)
        #expect(effects.rows.allSatisfy { $0.count == 12 && Int($0[2])! >= 1 && Double($0[11]) != nil })
        // Every trial falls on one client: the clients' observations add up to the rows.
        #expect(effects.rows.filter { $0[0] == "client" }.map { Int($0[2])! }.reduce(0, +) == 27_037)
        let shrinkage = try CompareCommandTests.table(prefix + "-shrinkage.csv")
        #expect(shrinkage.rows.filter { $0[0] == "client:stylist" }.map { Int($0[2])! }.reduce(0, +)
                == effects.rows.filter { $0[0] == "client:stylist" }.count)

        // --format csv: the effects table on standard output, the same as the file.
        let csv = try CommandTests.run(["compare", run, "--eb", CompareCommandTests.glmer, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.error)")
        #expect(csv.output == (try String(contentsOfFile: prefix + "-effects.csv", encoding: .utf8)))
    }

    @Test func badInputExitsWithTwoNamingTheFile() throws {
        let run = try CompareCommandTests.run.get()
        let fixtures = CompareCommandTests.root.appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb").path
        let empty = CommandTests.temporary("compare-empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let noDraws = CommandTests.temporary("compare-no-draws")
        try FileManager.default.createDirectory(atPath: noDraws, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: noDraws + "/fit.json")
        try FileManager.default.copyItem(atPath: run + "/fit.json", toPath: noDraws + "/fit.json")
        let notSchema = CommandTests.temporary("compare-not-eb.json")
        try #"{"program": "x", "sd": []}"#.write(toFile: notSchema, atomically: true, encoding: .utf8)

        let cases: [([String], String)] = [
            (["compare", "/nonexistent/run", "--eb", CompareCommandTests.glmer], "/nonexistent/run"),
            (["compare", empty, "--eb", CompareCommandTests.glmer], "fit.json"),
            (["compare", noDraws, "--eb", CompareCommandTests.glmer], "draws.npy"),
            (["compare", run, "--eb", notSchema], "compare-not-eb.json"),
            (["compare", run, "--eb", "/nonexistent/eb.json"], "/nonexistent/eb.json"),
            (["compare", run, "--eb", fixtures + "/verbagg.json"], "responses differ"),
            (["compare", run, "--eb", CompareCommandTests.glmer, "--format", "pdf"], "--format"),
            (["compare", run], "--eb"),
        ]
        for (arguments, mention) in cases {
            let result = try CommandTests.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains(mention), "\(arguments): \(result.error)")
        }
    }

    /// A CSV file's header and rows (the tables have no quoted fields).
    static func table(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let split = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (split.first ?? [], Array(split.dropFirst()))
    }
}
