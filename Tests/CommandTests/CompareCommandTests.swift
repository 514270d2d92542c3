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
                              "probability_below_eb", "parameter"])
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

        // The effects table: every level of every term, thirteen columns.
        let effects = try CompareCommandTests.table(prefix + "-effects.csv")
        #expect(effects.header == ["term", "level", "observations", "successes", "raw_log_odds", "eb_mode", "eb_sd",
                                   "posterior_mean", "posterior_sd", "q5", "q95", "width_ratio", "column"])
        #expect(effects.rows.count == glmer.effects)
        #expect(effects.rows.allSatisfy { $0.count == 13 && Int($0[2])! >= 1 && Double($0[11]) != nil
                                          && $0[12] == "(Intercept)" })
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

    /// glmer's fit of the pairings example changed by `change`, written to `name`.
    static func changedGlmerFit(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: glmer))) as? [String: Any])
        change(&object)
        let path = CommandTests.temporary(name)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func empiricalBayesFitOfAnotherModelIsRefusedNamingBoth() throws {
        let run = try CompareCommandTests.run.get()
        // glmer's fit without the pair term: another model of the same data.
        let fewer = try CompareCommandTests.changedGlmerFit("compare-two-terms.json") { object in
            object["formula"] = "y ~ (1|client) + (1|stylist)"
            object["sd"] = (object["sd"] as! [[String: Any]]).filter { $0["term"] as? String != "client:stylist" }
            object["effects"] = (object["effects"] as! [[String: Any]]).filter { $0["term"] as? String != "client:stylist" }
        }
        let terms = try CommandTests.run(["compare", run, "--eb", fewer])
        #expect(terms.status == 2, "\(terms.error)")
        let expected: String = "error: " + fewer + ": the empirical-Bayes fit is not of the run's model and data: "
            + "empirical Bayes 'y ~ (1|client) + (1|stylist)' (random terms client, stylist; fixed effects "
            + "(Intercept); 27037 rows), the run 'y ~ 1 + (1 | client) + (1 | stylist) + (1 | client:stylist)' "
            + "(random terms client, stylist, client:stylist; fixed effects (Intercept); 27037 rows): "
            + "random terms only in the run: client:stylist"
        #expect(terms.error.contains(expected), "\(terms.error)")
        #expect(terms.output.isEmpty)
        // A fixed effect the run does not have, and other data.
        let covariate = try CompareCommandTests.changedGlmerFit("compare-covariate.json") { object in
            object["formula"] = "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"
            object["fixed"] = (object["fixed"] as! [[String: Any]]) + [["name": "x1", "estimate": 0.4, "std_error": 0.1]]
        }
        let fixed = try CommandTests.run(["compare", run, "--eb", covariate, "--format", "csv"])
        #expect(fixed.status == 2 && fixed.error.contains("fixed effects only in the empirical-Bayes fit: x1"),
                "\(fixed.error)")
        let rows = try CompareCommandTests.changedGlmerFit("compare-rows.json") { $0["rows_used"] = 20000 }
        let data = try CommandTests.run(["compare", run, "--eb", rows])
        #expect(data.status == 2 && data.error.contains("the numbers of rows used differ (20000 and 27037)"),
                "\(data.error)")
        // The unchanged fit is compared.
        let same = try CompareCommandTests.changedGlmerFit("compare-same.json") { _ in }
        #expect(try CommandTests.run(["compare", run, "--eb", same]).status == 0)
    }

    /// A CSV file's header and rows (the tables have no quoted fields).
    static func table(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let split = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (split.first ?? [], Array(split.dropFirst()))
    }

    /// The same glmer fit as lme4 users export it (Validation/lme4/ranef_csv.R:
    /// as.data.frame(ranef(fit, condVar = TRUE)) by write.csv) gives the
    /// effects table of fit_glmer.R's JSON, to write.csv's 15 digits.
    @Test func lme4RanefTableGivesTheEffectsOfTheJSON() throws {
        let run = try CompareCommandTests.run.get()
        let ranef = CompareCommandTests.root.appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb/pairings-ranef.csv").path
        let json = CommandTests.temporary("compare-json"), csv = CommandTests.temporary("compare-ranef")
        let fromJSON = try CommandTests.run(["compare", run, "--eb", CompareCommandTests.glmer, "--out", json])
        let fromRanef = try CommandTests.run(["compare", run, "--lme4", ranef, "--out", csv])
        #expect(fromJSON.status == 0 && fromRanef.status == 0, "\(fromRanef.error)")
        #expect(fromRanef.output.contains("lme4 ranef, \(ranef) (effects only)"))
        #expect(fromRanef.output.contains("Shrinkage by number of observations")
                && !fromRanef.output.contains("Standard deviations") && fromRanef.output.contains("effects only"))
        let a = try CompareCommandTests.table(json + "-effects.csv"), b = try CompareCommandTests.table(csv + "-effects.csv")
        #expect(a.header == b.header && a.rows.count == b.rows.count && a.rows.count > 0)
        let mode = try #require(a.header.firstIndex(of: "eb_mode")), sd = try #require(a.header.firstIndex(of: "eb_sd"))
        let ratio = try #require(a.header.firstIndex(of: "width_ratio"))
        for (x, y) in zip(a.rows, b.rows) {
            #expect(x[0] == y[0] && x[1] == y[1], "\(x) against \(y)")
            for column in [mode, sd, ratio] {
                let u = try #require(Double(x[column])), v = try #require(Double(y[column]))
                #expect(abs(u - v) <= 1e-13 * max(abs(u), 1e-3), "\(x[0]) \(x[1]) \(a.header[column]): \(u) against \(v)")
            }
            // The posterior columns come from the same draws.
            #expect(Array(x[2..<mode]) == Array(y[2..<mode]) && Array(x[(sd + 1)..<ratio]) == Array(y[(sd + 1)..<ratio]))
        }

        // One source, not both or neither; a ranef table of slopes is refused naming line and column.
        let both = try CommandTests.run(["compare", run, "--eb", CompareCommandTests.glmer, "--lme4", ranef])
        let neither = try CommandTests.run(["compare", run])
        #expect(both.status == 2 && neither.status == 2 && both.error.contains("--lme4"))
        let slopes = CommandTests.temporary("ranef-slopes.csv")
        try "grpvar,term,grp,condval,condsd\nclient,(Intercept),1,0.1,0.2\nclient,x1,1,0.3,0.1\n"
            .write(toFile: slopes, atomically: true, encoding: .utf8)
        let refused = try CommandTests.run(["compare", run, "--lme4", slopes])
        #expect(refused.status == 2 && refused.error.contains("line 3, column \"term\""), "\(refused.error)")
        let noSD = CommandTests.temporary("ranef-nosd.csv")
        try "grpvar,term,grp,condval\nclient,(Intercept),1,0.1\n".write(toFile: noSD, atomically: true, encoding: .utf8)
        let noColumn = try CommandTests.run(["compare", run, "--lme4", noSD])
        #expect(noColumn.status == 2 && noColumn.error.contains("condsd") && noColumn.error.contains("condVar = TRUE"))
        let rowNames = CommandTests.temporary("ranef-rownames.csv")
        try "\"\",\"grpvar\",\"term\",\"grp\",\"condval\",\"condsd\"\n\"1\",\"client\",\"(Intercept)\",\"1\",0.1,0.2\n"
            .write(toFile: rowNames, atomically: true, encoding: .utf8)
        let unnamed = try CommandTests.run(["compare", run, "--lme4", rowNames])
        #expect(unnamed.status == 2 && unnamed.error.contains("row.names = FALSE"), "\(unnamed.error)")
    }

    /// A run with a correlated random slope beside its EB fit (ours, and
    /// glmer's): every SD and the correlation, and both coordinates of every
    /// client's effects, are compared; the shrinkage figure is drawn in two
    /// dimensions, with each level's own-data estimate when the data are at
    /// hand and without it (said in the caption) when they are not.
    @Test func slopeRunAgainstEmpiricalBayesInTwoDimensions() throws {
        let data = CommandTests.temporary("compare-slopes.csv")
        try FileManager.default.copyItem(
            atPath: CompareCommandTests.root.appendingPathComponent("Validation/lme4/data/slopes_small.csv").path,
            toPath: data)
        let formula = "y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist)"
        let run = CommandTests.temporary("compare-slope-run"), eb = CommandTests.temporary("compare-slope-eb.json")
        let fit = try CommandTests.run(["fit", data, "--formula", formula, "--out", run, "--chains", "2", "--warmup",
                                        "100", "--draws", "100", "--seed", "5", "--quiet"])
        #expect(fit.status == 0, "\(fit.error)")
        #expect(try CommandTests.run(["eb", data, "--formula", formula, "--out", eb]).status == 0)
        let glmer = CompareCommandTests.root.appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb/slopes_small.json").path
        for source in [eb, glmer] {
            let prefix = CommandTests.temporary("compare-slope")
            let result = try CommandTests.run(["compare", run, "--eb", source, "--out", prefix])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("sd(client)[x1]") && result.output.contains("cor(client)[(Intercept)][x1]")
                    && result.output.contains("client[x1]"), "\(result.output)")
            let sd = try CompareCommandTests.table(prefix + "-sd.csv")
            #expect(sd.rows.map { $0[7] } == ["sd(client)[(Intercept)]", "sd(client)[x1]", "cor(client)[(Intercept)][x1]",
                                              "sd(stylist)", "sd(client:stylist)"])
            let effects = try CompareCommandTests.table(prefix + "-effects.csv")
            let slopes = effects.rows.filter { $0[0] == "client" && $0[12] == "x1" }
            #expect(slopes.count == 150 && effects.rows.filter { $0[0] == "client" }.count == 300)
            // The raw log-odds are the intercept's own-data estimate: none for the slope.
            #expect(slopes.allSatisfy { $0[4] == "NA" && Double($0[5]) != nil && Double($0[7]) != nil })
        }
        let figure = CommandTests.temporary("compare-slope.svg")
        let plot = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--eb", eb,
                                         "--out", figure])
        #expect(plot.status == 0, "\(plot.error)")
        let svg = try String(contentsOfFile: figure, encoding: .utf8)
        #expect(svg.contains("in two dimensions") && svg.contains("own data"))
        let table = try CompareCommandTests.table(figure.replacingOccurrences(of: ".svg", with: ".csv"))
        #expect(table.header.prefix(5) == ["term", "level", "observations", "own_(Intercept)", "own_x1"])
        #expect(table.rows.count == 150 && table.rows.allSatisfy { Double($0[3])!.isFinite && Double($0[4])!.isFinite })
        // Without the data (moved away), the figure is drawn without own-data estimates.
        try FileManager.default.moveItem(atPath: data, toPath: data + ".moved")
        let without = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--eb", eb,
                                            "--out", figure])
        #expect(without.status == 0, "\(without.error)")
        #expect(try String(contentsOfFile: figure, encoding: .utf8).contains("no own-data estimates"))
        let explicit = try CommandTests.run(["plot", run, "--kind", "shrinkage", "--term", "client", "--eb", eb,
                                             "--data", data + ".moved", "--out", figure])
        let drawn = try String(contentsOfFile: figure, encoding: .utf8)
        #expect(explicit.status == 0 && drawn.contains("own data"))
    }
}
