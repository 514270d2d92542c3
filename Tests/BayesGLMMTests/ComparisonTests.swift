import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// The comparison of a run's posterior with an empirical-Bayes fit: per-level
/// counts, the run directory reader, the statistics and the matching of
/// terms and levels, each against a direct computation.
@Suite struct ComparisonTests {
    /// The repository root, for examples/.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    // MARK: Per-level counts

    @Test func levelCountsMatchADirectCountOfTheCSV() throws {
        let path = ComparisonTests.root.appendingPathComponent("examples/pairings.csv").path
        let design = try Design(formula: ModelFormula.parse("y ~ (1|client) + (1|stylist) + (1|client:stylist)"),
                                frame: Frame.read(csvFile: path))
        // Count the rows of the file directly: column positions from the header.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        let client = try #require(header.firstIndex(of: "client")), stylist = try #require(header.firstIndex(of: "stylist"))
        let y = try #require(header.firstIndex(of: "y"))
        var rows: [String: [String: (Int, Int)]] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let success = Int(fields[y])!
            for (term, level) in [("client", fields[client]), ("stylist", fields[stylist]),
                                  ("client:stylist", fields[client] + ":" + fields[stylist])] {
                let (n, s) = rows[term]?[level] ?? (0, 0)
                rows[term, default: [:]][level] = (n + 1, s + success)
            }
        }
        let counts = LevelCounts.of(design)
        #expect(counts.map(\.term) == ["client", "stylist", "client:stylist"])
        for term in counts {
            let direct = try #require(rows[term.term])
            #expect(term.levels.count == direct.count)
            for (k, level) in term.levels.enumerated() {
                let (n, s) = try #require(direct[level], "\(term.term) level \(level)")
                #expect(term.observations[k] == n && term.successes[k] == s, "\(term.term)[\(level)]")
            }
            #expect(term.totalObservations == lines.count - 1)
        }
    }

    @Test func levelCountsSumTrialsOfBinomialRows() throws {
        let frame = try Frame.read(csvText: "s,f,g\n2,1,a\n0,4,b\n1,0,a\n3,3,b\n")
        let design = try Design(formula: ModelFormula.parse("cbind(s, f) ~ (1|g)"), frame: frame)
        let counts = try #require(LevelCounts.of(design).first)
        #expect(counts.levels == ["a", "b"])
        #expect(counts.observations == [4, 10] && counts.successes == [3, 3])
        // log((s + ½)/(n − s + ½)) less the same of 6 successes in 14 trials.
        let overall = log(6.5 / 8.5)
        #expect(abs(counts.rawLogOdds[0] - (log(3.5 / 1.5) - overall)) < 1e-15)
        #expect(abs(counts.rawLogOdds[1] - (log(3.5 / 7.5) - overall)) < 1e-15)
    }

    // MARK: A hand-made run directory

    /// Parameters of the hand-made run: an intercept, two SDs and the
    /// effects of "g" (levels a, b, c) and "g:h" (levels a:x, b:y).
    static let names = ["(Intercept)", "sd(g)", "sd(g:h)", "r(g)[a]", "r(g)[b]", "r(g)[c]", "r(g:h)[a:x]", "r(g:h)[b:y]"]

    /// Draw d of chain c of parameter j: distinct, unsorted values, so that
    /// every statistic depends on all of them.
    static func value(chain c: Int, draw d: Int, parameter j: Int) -> Double {
        let x = Double((7 * d + 3 * c + 5 * j) % 11) / 10 + Double(j) * 0.01 + Double(c) * 0.001
        return j == 1 || j == 2 ? x + 0.05 : x - 0.5     // SDs positive
    }

    /// Writes fit.json and draws.npy of a run with `chains` × `draws`.
    static func writeRun(status: String = "complete", chains: Int = 2, draws: Int = 10, made: [Int]? = nil,
                         counts: Bool = true, link: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("comparison-tests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try DrawStore(path: directory.appendingPathComponent("draws.npy").path,
                                  chains: chains, draws: draws, parameters: names.count)
        let made = made ?? Array(repeating: draws, count: chains)
        for c in 0..<chains {
            for d in 0..<made[c] {
                try store.write(chain: c, draw: d, names.indices.map { value(chain: c, draw: d, parameter: $0) })
            }
        }
        try store.synchronize()
        var g: [String: Any] = ["term": "g", "levels": ["a", "b", "c"]]
        var gh: [String: Any] = ["term": "g:h", "levels": ["a:x", "b:y"]]
        if counts {
            g["observations"] = [1, 4, 30]; g["successes"] = [1, 1, 10]
            gh["observations"] = [2, 33]; gh["successes"] = [0, 12]
        }
        var record: [String: Any] = [
            "status": status, "formula": "y ~ 1 + (1 | g) + (1 | g:h)", "data": "d.csv", "rows_used": 35,
            "fixed": ["(Intercept)"], "random": [g, gh],
            "store": ["file": "draws.npy", "dtype": "<f8", "order": "C", "shape": [chains, draws, names.count],
                      "names": names] as [String: Any],
            "outcomes": made.enumerated().map { ["chain": $0 + 1, "draws": $1, "interrupted": $1 < draws] },
        ]
        if let link { record["link"] = link }
        try JSONSerialization.data(withJSONObject: record).write(to: directory.appendingPathComponent("fit.json"))
        return directory.path
    }

    static func report(formula: String = "y ~ (1|g) + (1|g:h)", sd: [(String, Double)] = [("g", 0.55), ("g:h", 0.3)],
                       effects: [(String, String, Double, Double)] = [("g", "a", 0.1, 0.4), ("g", "b", -0.2, 0.3),
                                                                       ("g", "c", 0.05, 0.1), ("g:h", "a:x", 0.0, 0.25),
                                                                       ("g:h", "b:y", 0.3, 0.2)],
                       fixed: [String] = ["(Intercept)"]) -> EmpiricalBayesReport {
        EmpiricalBayesReport(
            program: "test", case: "test", formula: formula, data: "d.csv", rows_used: 35,
            fixed: fixed.map { .init(name: $0, estimate: -0.1, std_error: 0.2) },
            sd: sd.map { .init(term: $0.0, estimate: $0.1) },
            effects: effects.map { .init(term: $0.0, level: $0.1, mode: $0.2, sd: $0.3) },
            log_likelihood: -1, aic: 1, bic: 1, deviance: 1, singular: false, converged: true, messages: [], seconds: 0)
    }

    /// The draws of parameter j, first `count` of each chain, all chains pooled.
    static func pooled(parameter j: Int, chains: Int = 2, count: Int = 10) -> [Double] {
        (0..<chains).flatMap { c in (0..<count).map { value(chain: c, draw: $0, parameter: j) } }
    }

    /// R's quantile(type = 7), computed directly.
    static func typeSeven(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted(), h = Double(sorted.count - 1) * p
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    static func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) <= 1e-12 * max(1, abs(b)) } ?? false }

    // MARK: Statistics

    @Test func statisticsMatchADirectComputation() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        let comparison = try Comparison(eb: ComparisonTests.report(), ebPath: "eb.json", run: run)
        #expect(comparison.notes.isEmpty, "\(comparison.notes)")
        #expect(comparison.standardDeviations.map(\.term) == ["g", "g:h"])
        #expect(comparison.fixed.map(\.name) == ["(Intercept)"])
        #expect(comparison.effects.map { "\($0.term)[\($0.level)]" } == ["g[a]", "g[b]", "g[c]", "g:h[a:x]", "g:h[b:y]"])

        func check(_ summary: PosteriorSummary, parameter j: Int) {
            let x = ComparisonTests.pooled(parameter: j)
            let mean = x.reduce(0, +) / Double(x.count)
            let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
            #expect(ComparisonTests.close(summary.mean, mean), "mean of \(j)")
            #expect(ComparisonTests.close(summary.standardDeviation, sd), "sd of \(j)")
            #expect(ComparisonTests.close(summary.median, ComparisonTests.typeSeven(x, 0.5)), "median of \(j)")
            #expect(ComparisonTests.close(summary.q5, ComparisonTests.typeSeven(x, 0.05)), "q5 of \(j)")
            #expect(ComparisonTests.close(summary.q95, ComparisonTests.typeSeven(x, 0.95)), "q95 of \(j)")
        }
        check(comparison.fixed[0].posterior, parameter: 0)
        check(comparison.standardDeviations[0].posterior, parameter: 1)
        for (k, effect) in comparison.effects.enumerated() {
            check(effect.posterior, parameter: 3 + k)
            let x = ComparisonTests.pooled(parameter: 3 + k)
            let width = ComparisonTests.typeSeven(x, 0.95) - ComparisonTests.typeSeven(x, 0.05)
            #expect(ComparisonTests.close(effect.widthRatio, width / (2 * 1.6448536269514722 * effect.ebSD)))
        }
        // P(sd < EB): the fraction of draws strictly below.
        for (j, sd) in zip([1, 2], comparison.standardDeviations) {
            let x = ComparisonTests.pooled(parameter: j)
            #expect(sd.probabilityBelowEB == Double(x.filter { $0 < sd.eb }.count) / Double(x.count))
        }
        // Counts and raw log-odds come from fit.json.
        let c = comparison.effects[2]
        #expect(c.observations == 30 && c.successes == 10)
        #expect(ComparisonTests.close(c.rawLogOdds, log(10.5 / 20.5) - log(12.5 / 23.5)))
    }

    @Test func probabilityBelowIsExactOnConstructedDraws() throws {
        // 20 draws 0.05, 0.10, …, 1.00: 7 of them lie below 0.375, none below 0.05, all below 1.01.
        let draws = try Draws(chains: [(1...10).map { Double($0) * 0.05 }, (11...20).map { Double($0) * 0.05 }])
        #expect(PosteriorSummary(draws, below: 0.375).fractionBelow == 7.0 / 20)
        #expect(PosteriorSummary(draws, below: 0.05).fractionBelow == 0)
        #expect(PosteriorSummary(draws, below: 1.01).fractionBelow == 1)
        #expect(PosteriorSummary(draws).fractionBelow == nil)
    }

    @Test func interruptedRunUsesTheDrawsEveryChainMade() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun(status: "interrupted", made: [4, 7]))
        #expect(run.drawsPerChain == 4)
        #expect(run.notes.contains { $0.contains("interrupted") })
        let comparison = try Comparison(eb: ComparisonTests.report(), ebPath: "eb.json", run: run)
        let x = ComparisonTests.pooled(parameter: 1, count: 4)
        #expect(ComparisonTests.close(comparison.standardDeviations[0].posterior.mean, x.reduce(0, +) / 8))
    }

    // MARK: Matching

    @Test func levelsOnOneSideAreNotedNotFatal() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        let eb = ComparisonTests.report(
            formula: "y ~ 1 + (1|g:h) + (1|g)",
            effects: [("g", "a", 0.1, 0.4), ("g", "z", 0.2, 0.3), ("g:h", "a:x", 0, 1), ("g:h", "b:y", 0, 1)])
        let comparison = try Comparison(eb: eb, ebPath: "eb.json", run: run)
        #expect(comparison.standardDeviations.map(\.term) == ["g", "g:h"])
        #expect(comparison.effects.map(\.level) == ["a", "a:x", "b:y"])
        let notes = comparison.notes.joined(separator: "\n")
        #expect(notes.contains("g: 2 levels only in the run (b, c)"))
        #expect(notes.contains("g: 1 level only in the empirical-Bayes fit (z)"))
        // Another order of terms is the same model, written differently.
        #expect(notes.contains("The formulas differ"))
        #expect(!notes.contains("Only in"))
    }

    @Test func differentModelsAreRefusedNamingBoth() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        func refusal(_ eb: EmpiricalBayesReport) -> InputError? {
            do { _ = try Comparison(eb: eb, ebPath: "other.json", run: run); return nil } catch { return error }
        }
        // Random terms: one more, one fewer.
        let terms = try #require(refusal(ComparisonTests.report(
            formula: "y ~ (1|g) + (1|k)", sd: [("g", 0.5), ("k", 0.2)],
            effects: [("g", "a", 0.1, 0.4), ("k", "1", 0, 1)])))
        #expect(terms.file == "other.json" && terms.kind == .badOption)
        #expect(terms.message.hasPrefix("the empirical-Bayes fit is not of the run's model and data: empirical "
                                        + "Bayes 'y ~ (1|g) + (1|k)' (random terms g, k; fixed effects (Intercept); "
                                        + "35 rows), the run 'y ~ 1 + (1 | g) + (1 | g:h)' (random terms g, g:h; "
                                        + "fixed effects (Intercept); 35 rows): "), "\(terms.message)")
        #expect(terms.message.contains("random terms only in the empirical-Bayes fit: k; random terms only in the run: g:h"))
        // Fixed effects: a covariate the run does not have.
        let fixed = try #require(refusal(ComparisonTests.report(formula: "y ~ x + (1|g) + (1|g:h)",
                                                                fixed: ["(Intercept)", "x"])))
        #expect(fixed.message.hasSuffix(": fixed effects only in the empirical-Bayes fit: x"), "\(fixed.message)")
        // Another response; other data (rows used).
        let response = try #require(refusal(ComparisonTests.report(formula: "r2 ~ (1|g) + (1|g:h)")))
        #expect(response.message.hasSuffix(": the responses differ (r2 and y)"), "\(response.message)")
        var otherData = ComparisonTests.report()
        otherData.rows_used = 34
        let rows = try #require(refusal(otherData))
        #expect(rows.message.hasSuffix(": the numbers of rows used differ (34 and 35)"), "\(rows.message)")
        // Nothing in common at all, through the comparison of given terms.
        do {
            _ = try Comparison(eb: ComparisonTests.report(formula: "y ~ (1|k)", sd: [("k", 1)], effects: [],
                                                          fixed: ["x"]),
                               ebPath: "other.json", formula: run.formula, fixedNames: run.fixedNames, terms: run.terms,
                               hasParameter: { _ in true }) { _ throws(InputError) in [] }
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "other.json" && error.message.contains("nothing in common"))
        }
    }

    @Test func effectsOnlyMayListFewerTermsButNoOthers() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        // An lme4 ranef table of g alone: no SDs, fixed effects or rows.
        let ranef = ComparisonTests.report(sd: [], effects: [("g", "a", 0.1, 0.4), ("g", "b", -0.2, 0.3)], fixed: [])
        let comparison = try Comparison(eb: ranef, ebPath: "ranef.csv", run: run)
        #expect(comparison.effects.map(\.level) == ["a", "b"])
        #expect(comparison.notes.joined(separator: "\n").contains("Only in the run: random term g:h"))
        let other = ComparisonTests.report(sd: [], effects: [("g", "a", 0.1, 0.4), ("k", "1", 0, 1)], fixed: [])
        do {
            _ = try Comparison(eb: other, ebPath: "ranef.csv", run: run)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("'y ~ (1|g) + (1|g:h)' (random terms g, k), the run"), "\(error.message)")
            #expect(error.message.hasSuffix(": random terms only in the empirical-Bayes fit: k"))
        }
        // lme4 names the interaction of (1|g/h) "h:g": the same term as the run's g:h.
        let nested = ComparisonTests.report(sd: [("g", 0.5), ("h:g", 0.3)], effects: [("g", "a", 0.1, 0.4)])
        #expect(throws: Never.self) { try Comparison(eb: nested, ebPath: "eb.json", run: run) }
    }

    @Test func interactionLevelsMatchLme4Names() throws {
        // glmer names the levels of client:stylist "client:stylist" as "12:7";
        // so does the design.
        let frame = try Frame.read(csvText: "y,client,stylist\n1,12,7\n0,3,7\n1,12,10\n0,3,10\n1,3,7\n")
        let design = try Design(formula: ModelFormula.parse("y ~ (1|client:stylist)"), frame: frame)
        #expect(design.randomTerms[0].name == "client:stylist")
        #expect(design.randomTerms[0].levels == ["3:7", "3:10", "12:7", "12:10"])
    }

    // MARK: Reading a run directory

    @Test func badRunDirectoriesNameTheFile() throws {
        func message(_ path: String) -> InputError? {
            do { _ = try RunDirectory.read(path); return nil } catch { return error }
        }
        #expect(message("/nonexistent/run")?.file == "/nonexistent/run")
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("comparison-empty-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(message(empty.path)?.file?.hasSuffix("fit.json") == true)

        let missing = try ComparisonTests.writeRun()
        try FileManager.default.removeItem(atPath: missing + "/draws.npy")
        #expect(message(missing)?.file?.hasSuffix("draws.npy") == true)

        let truncated = try ComparisonTests.writeRun()
        let handle = try #require(FileHandle(forWritingAtPath: truncated + "/draws.npy"))
        try handle.truncate(atOffset: 200)
        try handle.close()
        let error = message(truncated)
        #expect(error?.file?.hasSuffix("draws.npy") == true && error?.message.contains("truncated") == true)

        let mismatched = try ComparisonTests.writeRun()
        _ = try DrawStore(path: mismatched + "/draws.npy", chains: 2, draws: 10, parameters: 3)
        #expect(message(mismatched)?.message.contains("does not match") == true)

        let running = try ComparisonTests.writeRun(status: "running")
        #expect(message(running)?.message.contains("did not finish") == true)
    }

    @Test func scatteredParametersAreReadInRunsExactly() throws {
        // 3 chains × 7 draws × 1,500 parameters, each value naming its place;
        // requests in any order, repeated, and far enough apart (more than
        // `StoredDraws.gap`) to be read in several runs.
        let (chains, draws, parameters) = (3, 7, 1500)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stored-\(UUID().uuidString).npy").path
        let store = try DrawStore(path: path, chains: chains, draws: draws, parameters: parameters)
        func value(_ c: Int, _ d: Int, _ p: Int) -> Double { Double(c * 1_000_000 + d * 10_000 + p) + 0.25 }
        for c in 0..<chains {
            for d in 0..<draws { try store.write(chain: c, draw: d, (0..<parameters).map { value(c, d, $0) }) }
        }
        try store.synchronize()
        let stored = try StoredDraws(path: path)
        let requests = [1499, 3, 700, 4, 3, 0, 1200, 520]
        let count = 5
        let matrix = try stored.matrix(of: requests, first: count)
        #expect(matrix.count == requests.count * chains * count)
        for (k, p) in requests.enumerated() {
            for c in 0..<chains {
                for d in 0..<count {
                    #expect(matrix[k * chains * count + c * count + d] == value(c, d, p), "parameter \(p)")
                }
            }
        }
        let blocks = try stored.draws(of: requests, first: count)
        #expect(blocks.map(\.values) == requests.indices.map {
            Array(matrix[($0 * chains * count)..<(($0 + 1) * chains * count)])
        })
        #expect(try stored.matrix(of: [], first: count).isEmpty)
        #expect(throws: InputError.self) { try stored.matrix(of: [1], first: draws + 1) }
    }

    /// A logit EB fit beside a probit run would compare numbers on two
    /// scales: refused, naming the EB file, by compare and by the figures.
    @Test func fitsOfDifferentLinksAreRefused() throws {
        let probit = try RunDirectory.read(ComparisonTests.writeRun(link: "probit"))
        #expect(probit.link == .probit)
        let report = ComparisonTests.report()
        #expect(report.linkName == "logit")
        func expectRefused(_ what: String, _ attempt: () throws -> Void) {
            do {
                try attempt()
                Issue.record("\(what): a probit run was set beside a logit EB fit")
            } catch let error as InputError {
                #expect(error.file == "eb.json" && error.message.contains("probit"), "\(what): \(error)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        expectRefused("compare") { _ = try Comparison(eb: report, ebPath: "eb.json", run: probit) }
        expectRefused("sd") { _ = try Figure.standardDeviations(probit, eb: report, ebPath: "eb.json") }
        expectRefused("density") { _ = try Figure.density(probit, variable: "sd(g)", eb: report, ebPath: "eb.json") }
        expectRefused("shrinkage") { _ = try Figure.shrinkage(probit, term: "g", eb: report, ebPath: "eb.json") }
        // The same report said to be probit is accepted; a logit run (fit.json
        // without "link") against a report without "link" too.
        var probitReport = report
        probitReport.link = "probit"
        _ = try Comparison(eb: probitReport, ebPath: "eb.json", run: probit)
        _ = try Comparison(eb: report, ebPath: "eb.json", run: RunDirectory.read(ComparisonTests.writeRun()))
        #expect(throws: InputError.self) { try RunDirectory.read(ComparisonTests.writeRun(link: "loglog")) }
    }

    /// lme4's ranef table read as effects only: levels by name (numeric
    /// ones as R prints them), the run's formula and link; bad rows refused
    /// naming line and column.
    @Test func lme4RanefTableIsReadAsEffects() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        func read(_ text: String) throws -> EmpiricalBayesReport {
            try EmpiricalBayesReport.fromRanef(Frame.read(csvText: text, source: "ranef.csv"), beside: run)
        }
        let report = try read("""
            "grpvar","term","grp","condval","condsd"
            "g","(Intercept)","a",0.25,0.5
            "g:h","(Intercept)","b:y",-0.125,0.75
            """)
        #expect(report.effects == [.init(term: "g", level: "a", mode: 0.25, sd: 0.5),
                                   .init(term: "g:h", level: "b:y", mode: -0.125, sd: 0.75)])
        #expect(report.sd.isEmpty && report.fixed.isEmpty && report.formula == run.formula && report.linkName == "logit")
        let numeric = try read("grpvar,term,grp,condval,condsd\nid,(Intercept),7,0.1,0.2\nid,(Intercept),1e+05,0.1,0.2\n")
        #expect(numeric.effects.map(\.level) == ["7", "1e+05"])
        let comparison = try Comparison(eb: report, ebPath: "ranef.csv", run: run)
        #expect(comparison.standardDeviations.isEmpty && comparison.effects.count == 2)
        #expect(comparison.notes.contains { $0.contains("effects only") })

        func refusal(_ text: String) -> InputError? {
            do { _ = try read(text); return nil } catch let error as InputError { return error } catch { return nil }
        }
        let twice = refusal("grpvar,term,grp,condval,condsd\ng,(Intercept),a,0.1,0.2\ng,(Intercept),a,0.3,0.2\n")
        #expect(twice?.line == 3 && twice?.column == "grp")
        let negative = refusal("grpvar,term,grp,condval,condsd\ng,(Intercept),a,0.1,-0.2\n")
        #expect(negative?.line == 2 && negative?.column == "condsd")
        let text = refusal("grpvar,term,grp,condval,condsd\ng,(Intercept),a,big,0.2\n")
        #expect(text?.line == 2 && text?.column == "condval")
        // Inf is a number that is not finite, not a missing value; NA is missing.
        let infinite = refusal("grpvar,term,grp,condval,condsd\ng,(Intercept),a,0.1,0.2\ng,(Intercept),b,-Inf,0.2\n")
        #expect(infinite?.kind == .notFinite && infinite?.line == 3 && infinite?.column == "condval")
        #expect(infinite?.message == "expected a finite number, found -Inf")
        let missing = refusal("grpvar,term,grp,condval,condsd\ng,(Intercept),a,0.1,NA\n")
        #expect(missing?.kind == .missingValues && missing?.column == "condsd")
    }

    @Test func runWithoutCountsStillCompares() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun(counts: false))
        let comparison = try Comparison(eb: ComparisonTests.report(), ebPath: "eb.json", run: run)
        #expect(comparison.effects.count == 5 && comparison.effects.allSatisfy { $0.observations == nil })
        #expect(comparison.notes.contains { $0.contains("no per-level counts") })
        #expect(ShrinkageBin.bins(comparison.effects).isEmpty)
    }

    // MARK: Shrinkage summaries

    @Test func binsAverageTheirLevels() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        let comparison = try Comparison(eb: ComparisonTests.report(), ebPath: "eb.json", run: run)
        let bins = ShrinkageBin.bins(comparison.effects)
        // g: 1, 4, 30 observations; g:h: 2, 33.
        #expect(bins.map { "\($0.term) \($0.label)" } == ["g 1", "g 3-4", "g 20-49", "g:h 2", "g:h 20-49"])
        #expect(bins.allSatisfy { $0.levels == 1 })
        let e = comparison.effects[1]
        #expect(bins[1].meanAbsoluteRaw == abs(e.rawLogOdds!) && bins[1].meanAbsoluteEB == abs(e.ebMode))
        #expect(bins[1].meanAbsolutePosterior == abs(e.posterior.mean!) && bins[1].meanWidthRatio == e.widthRatio)

        let two = Comparison(standardDeviations: [], fixed: [], effects: [comparison.effects[0], comparison.effects[1]]
            .map { Comparison.Effect(term: "t", level: $0.level, observations: 150, successes: 3,
                                     rawLogOdds: $0.rawLogOdds, ebMode: $0.ebMode, ebSD: $0.ebSD,
                                     posterior: $0.posterior) }, notes: [])
        let merged = ShrinkageBin.bins(two.effects)
        #expect(merged.count == 1 && merged[0].label == "100+" && merged[0].levels == 2)
        let ratios = two.effects.compactMap(\.widthRatio)
        #expect(ComparisonTests.close(merged[0].meanWidthRatio, (ratios[0] + ratios[1]) / 2))

        let summaries = TermEffectsSummary.summaries(comparison.effects, largest: 2)
        #expect(summaries.map(\.term) == ["g", "g:h"] && summaries[0].levels == 3)
        let differences = comparison.effects.prefix(3).map { abs($0.posterior.mean! - $0.ebMode) }
        #expect(summaries[0].largestDifferences.count == 2)
        #expect(abs(summaries[0].largestDifferences[0].posterior.mean! - summaries[0].largestDifferences[0].ebMode)
                == differences.max())
    }

    @Test func csvTablesHaveAHeaderAndOneRowPerItem() throws {
        let run = try RunDirectory.read(ComparisonTests.writeRun())
        let comparison = try Comparison(eb: ComparisonTests.report(), ebPath: "eb.json", run: run)
        let effects = comparison.csv(.effects).split(separator: "\n")
        #expect(effects.count == 6)
        #expect(effects[0] == "term,level,observations,successes,raw_log_odds,eb_mode,eb_sd,posterior_mean,"
                + "posterior_sd,q5,q95,width_ratio,column")
        #expect(effects[1].hasPrefix("g,a,1,1,"))
        #expect(comparison.csv(.sd).split(separator: "\n").count == 3)
        #expect(comparison.csv(.fixed).split(separator: "\n").count == 2)
        #expect(Comparison.csv(header: ["a", "b"], rows: [["x,y", "say \"hi\""]]) == "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n")
        let text = comparison.text()
        #expect(text.contains("Standard deviations") && text.contains("Fixed effects")
                && text.contains("Shrinkage by number of observations") && text.contains("Effects of g:h"))
    }
}
