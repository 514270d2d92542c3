import Diagnostics
import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// Match scoring: scores against a direct computation from the draws, new
/// levels against numerical integration of F over N(μ, s²), rankings and
/// Thompson choices, and bad input.
@Suite struct ScoringTests {
    // MARK: Hand-made run directories

    /// A run directory whose draws the test chooses: fit.json as `bayesglmm
    /// fit` writes it (the fields `RunDirectory` and `Scoring` read) and
    /// draws.npy.
    struct Run {
        var formula = "y ~ 1 + x + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        var fixed = ["(Intercept)", "x"]
        var terms: [(name: String, levels: [String])] = [
            ("client", ["a", "b", "c"]), ("stylist", ["s1", "s2"]), ("client:stylist", ["a:s1", "a:s2", "b:s1"]),
        ]
        var chains = 2
        var draws = 300
        var link: String? = "logit"
        /// Parameters left out of the store.
        var omitted: Set<String> = []
        /// More fields of fit.json ("fixed_coding", "categorical_levels", "trials").
        var extra: [String: Any] = [:]
        /// The columns of terms with slopes, by term name.
        var columns: [String: [String]] = [:]
        /// Their coding (fit.json's "coding" of a random term), by term name.
        var codings: [String: [[String: Any]]] = [:]

        var names: [String] {
            func columnsOf(_ term: String) -> [String] { columns[term] ?? ["(Intercept)"] }
            return (fixed + terms.flatMap { ParameterNaming.covariance(term: $0.name, columns: columnsOf($0.name)) }
                + terms.flatMap { ParameterNaming.effects(term: $0.name, levels: $0.levels, columns: columnsOf($0.name)) })
                .filter { !omitted.contains($0) }
        }

        /// Writes the run; `value(name, chain, draw)` gives every draw.
        func write(_ value: (String, Int, Int) -> Double) throws -> String {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("scoring-tests-\(getpid())-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let names = self.names
            let store = try DrawStore(path: directory.appendingPathComponent("draws.npy").path,
                                      chains: chains, draws: draws, parameters: names.count)
            for c in 0..<chains {
                for d in 0..<draws { try store.write(chain: c, draw: d, names.map { value($0, c, d) }) }
            }
            try store.synchronize()
            var record: [String: Any] = [
                "status": "complete", "formula": formula, "data": "d.csv", "rows_used": 100, "fixed": fixed,
                "random": terms.map { term -> [String: Any] in
                    var entry: [String: Any] = ["term": term.name, "levels": term.levels]
                    if let columns = columns[term.name] { entry["columns"] = columns }
                    if let coding = codings[term.name] { entry["coding"] = coding }
                    return entry
                },
                "store": ["file": "draws.npy", "dtype": "<f8", "order": "C", "shape": [chains, draws, names.count],
                          "names": names] as [String: Any],
                "outcomes": (0..<chains).map { ["chain": $0 + 1, "draws": draws, "interrupted": false] },
            ]
            if let link { record["link"] = link }
            record.merge(extra) { _, new in new }
            try JSONSerialization.data(withJSONObject: record).write(to: directory.appendingPathComponent("fit.json"))
            return directory.path
        }

        /// Writes the run with pseudo-random draws: SDs in (0.2, 1.7),
        /// everything else N(0, 0.8²) (the intercept centred at −0.3).
        func writeRandom(seed: UInt64 = 11) throws -> String {
            let names = self.names
            var values: [String: [Double]] = [:]
            for (j, name) in names.enumerated() {
                let generator = try Generator(seed: seed, chain: 0, stream: UInt64(j))
                values[name] = (0..<(chains * draws)).map { _ in
                    name.hasPrefix("sd(") ? 0.2 + 1.5 * generator.uniform()
                        : name.hasPrefix("cor(") ? -0.9 + 1.8 * generator.uniform()
                        : (name == "(Intercept)" ? -0.3 : 0) + 0.8 * generator.normal()
                }
            }
            return try write { name, c, d in values[name]![c * draws + d] }
        }
    }

    static func candidates(_ text: String, _ scoring: Scoring) throws -> Scoring.Candidates {
        try scoring.candidates(Frame.read(csvText: text, source: "candidates.csv"))
    }

    /// Every parameter's draws, pooled over chains (chain 1's, then chain 2's…).
    static func pooled(_ run: RunDirectory) throws -> [String: [Double]] {
        let draws = try run.store.draws(of: Array(run.parameterNames.indices), first: run.drawsPerChain)
        return Dictionary(uniqueKeysWithValues: zip(run.parameterNames, draws.map(\.values)))
    }

    static func logistic(_ eta: Double) -> Double { 1 / (1 + exp(-eta)) }

    /// The mean over the draws of F(fixed(t) + client + stylist +
    /// client:stylist effects), for a seen client and stylist.
    static func meanProbability(_ draws: [String: [Double]], count: Int, client: String, stylist: String,
                                fixed: (Int) -> Double) -> Double {
        (0..<count).map { t -> Double in
            var eta = fixed(t)
            for (term, level) in [("client", client), ("stylist", stylist), ("client:stylist", client + ":" + stylist)] {
                eta += draws["r(\(term))[\(level)]"]![t]
            }
            return logistic(eta)
        }.reduce(0, +) / Double(count)
    }

    // MARK: Scores from the draws

    static let mixed = """
        client,stylist,x
        a,s1,0.5
        a,s2,-1
        b,s2,2
        c,s1,0
        d,s1,1
        a,s3,0.25
        d,s1,1
        """

    @Test func scoresMatchADirectComputationFromTheDraws() throws {
        let path = try Run().writeRandom()
        let scoring = try Scoring(path: path)
        let candidates = try ScoringTests.candidates(ScoringTests.mixed, scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.4, seed: 7))
        let draws = try ScoringTests.pooled(scoring.run)
        let total = scoring.drawCount
        #expect(total == 600 && scoring.link == .logit)

        let rows: [(client: String, stylist: String, x: Double)] = [
            ("a", "s1", 0.5), ("a", "s2", -1), ("b", "s2", 2), ("c", "s1", 0), ("d", "s1", 1), ("a", "s3", 0.25),
            ("d", "s1", 1),
        ]
        let terms = ["client", "stylist", "client:stylist"]
        for (i, row) in rows.enumerated() {
            let levels = [row.client, row.stylist, row.client + ":" + row.stylist]
            var eta = (0..<total).map { draws["(Intercept)"]![$0] + row.x * draws["x"]![$0] }
            for (k, term) in terms.enumerated() {
                if let effect = draws["r(\(term))[\(levels[k])]"] {
                    for t in 0..<total { eta[t] += effect[t] }
                    #expect(!candidates.isNew[k][i])
                } else {
                    // A new level: σ⁽ᵗ⁾ z⁽ᵗ⁾ with the level's own stream.
                    #expect(candidates.isNew[k][i])
                    let generator = try Generator(seed: 7, chain: UInt64(k) + 1, stream: Scoring.hash(levels[k]))
                    let sigma = draws["sd(\(term))"]!
                    for t in 0..<total { eta[t] += sigma[t] * generator.normal() }
                }
            }
            let p = eta.map(ScoringTests.logistic)
            let pooled = try Draws(chain: p)
            let expected = Scoring.Score(
                mean: p.reduce(0, +) / Double(total),
                q5: try #require(try quantile(pooled, probability: 0.05)),
                q50: try #require(try quantile(pooled, probability: 0.5)),
                q95: try #require(try quantile(pooled, probability: 0.95)),
                probabilityAboveThreshold: Double(p.filter { $0 > 0.4 }.count) / Double(total))
            let score = scores[i]
            for (a, b) in [(score.mean, expected.mean), (score.q5, expected.q5), (score.q50, expected.q50),
                           (score.q95, expected.q95)] {
                #expect(abs(a - b) <= 1e-13, "row \(i): \(score) against \(expected)")
            }
            #expect(score.probabilityAboveThreshold == expected.probabilityAboveThreshold)
            #expect(score.rank == nil && score.probabilityBest == nil && score.thompsonChoice == nil)
        }
        // The same new level gets the same draws in every row that names it.
        #expect(scores[4] == scores[6])
        #expect(candidates.isNew.map { $0.filter { $0 }.count } == [2, 1, 5])
    }

    /// A term with slopes, `(1 + x | client)`: a seen client adds
    /// r[c][(Intercept)] + x·r[c][x]; a new one z'Lε per draw, L the
    /// Cholesky factor of the draw's Σ (from its SDs and correlation) and ε
    /// two normals per draw from the level's own stream.
    @Test func slopesScoreFromTheirEffectVectors() throws {
        var run = Run()
        run.formula = "y ~ 1 + x + (1 + x | client) + (1 | stylist)"
        run.terms = [("client", ["a", "b", "c"]), ("stylist", ["s1", "s2"])]
        run.columns = ["client": ["(Intercept)", "x"]]
        let path = try run.writeRandom()
        let scoring = try Scoring(path: path)
        #expect(scoring.covariates == ["x"])
        let text = "client,stylist,x\na,s1,0.5\nb,s2,-2\nd,s1,1.5\nd,s9,0\n"
        let candidates = try ScoringTests.candidates(text, scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.4, seed: 3))
        let draws = try ScoringTests.pooled(scoring.run)
        let total = scoring.drawCount
        let rows: [(client: String, stylist: String, x: Double)] = [("a", "s1", 0.5), ("b", "s2", -2), ("d", "s1", 1.5),
                                                                    ("d", "s9", 0)]
        for (i, row) in rows.enumerated() {
            var eta = (0..<total).map { draws["(Intercept)"]![$0] + row.x * draws["x"]![$0] }
            if let intercept = draws["r(client)[\(row.client)][(Intercept)]"], let slope = draws["r(client)[\(row.client)][x]"] {
                for t in 0..<total { eta[t] += intercept[t] + row.x * slope[t] }
            } else {
                let generator = try Generator(seed: 3, chain: 1, stream: Scoring.hash(row.client))
                let s0 = draws["sd(client)[(Intercept)]"]!, s1 = draws["sd(client)[x]"]!
                let rho = draws["cor(client)[(Intercept)][x]"]!
                for t in 0..<total {
                    let e0 = generator.normal(), e1 = generator.normal()
                    let u0 = s0[t] * e0, u1 = s1[t] * (rho[t] * e0 + (1 - rho[t] * rho[t]).squareRoot() * e1)
                    eta[t] += u0 + row.x * u1
                }
            }
            if let stylist = draws["r(stylist)[\(row.stylist)]"] {
                for t in 0..<total { eta[t] += stylist[t] }
            } else {
                let generator = try Generator(seed: 3, chain: 2, stream: Scoring.hash(row.stylist))
                let sigma = draws["sd(stylist)"]!
                for t in 0..<total { eta[t] += sigma[t] * generator.normal() }
            }
            let p = eta.map(ScoringTests.logistic)
            let mean = p.reduce(0, +) / Double(total)
            #expect(abs(scores[i].mean - mean) <= 1e-12, "row \(i): \(scores[i].mean) against \(mean)")
            #expect(scores[i].probabilityAboveThreshold == Double(p.filter { $0 > 0.4 }.count) / Double(total))
        }
        #expect(candidates.isNew[0] == [false, false, true, true])
        // A slope on a categorical column: refused for a fit that did not
        // record its coding, scored from it otherwise.
        var categorical = Run()
        categorical.formula = "y ~ 1 + (1 + g | client)"
        categorical.fixed = ["(Intercept)"]
        categorical.terms = [("client", ["a", "b"])]
        categorical.columns = ["client": ["(Intercept)", "gq", "gr"]]
        #expect(throws: InputError.self) { try Scoring(path: try categorical.writeRandom()) }
        categorical.codings = ["client": [
            ["name": "(Intercept)", "numeric": [String]()],
            ["name": "gq", "numeric": [String](), "categorical": "g", "level": "q"],
            ["name": "gr", "numeric": [String](), "categorical": "g", "level": "r"],
        ]]
        categorical.extra = ["categorical_levels": ["g": ["p", "q", "r"]]]
        let coded = try Scoring(path: try categorical.writeRandom())
        #expect(coded.categoricals == ["g"] && coded.covariates.isEmpty)
        let levelRows = try ScoringTests.candidates("client,g\na,p\na,q\nb,r\n", coded)
        let levelScores = try coded.score(levelRows, options: .init(threshold: 0.5, seed: 3))
        let levelDraws = try ScoringTests.pooled(coded.run)
        for (i, row) in [("a", "p"), ("a", "q"), ("b", "r")].enumerated() {
            let p = (0..<coded.drawCount).map { t in
                var eta = levelDraws["(Intercept)"]![t] + levelDraws["r(client)[\(row.0)][(Intercept)]"]![t]
                if row.1 != "p" { eta += levelDraws["r(client)[\(row.0)][g\(row.1)]"]![t] }
                return ScoringTests.logistic(eta)
            }
            let mean = p.reduce(0, +) / Double(coded.drawCount)
            #expect(abs(levelScores[i].mean - mean) <= 1e-12, "row \(i): \(levelScores[i].mean) against \(mean)")
        }
        #expect(throws: InputError.self) { try ScoringTests.candidates("client,g\na,s\n", coded) }
    }

    /// A fit of y ~ x * g with g categorical (levels p, q, r; p the
    /// baseline) and successes out of the trials column n.
    static var categoricalRun: Run {
        var run = Run()
        run.formula = "y ~ 1 + x + g + x:g + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.fixed = ["(Intercept)", "x", "gq", "gr", "x:gq", "x:gr"]
        run.extra = [
            "fixed_coding": [
                ["name": "(Intercept)", "numeric": [String]()], ["name": "x", "numeric": ["x"]],
                ["name": "gq", "numeric": [String](), "categorical": "g", "level": "q"],
                ["name": "gr", "numeric": [String](), "categorical": "g", "level": "r"],
                ["name": "x:gq", "numeric": ["x"], "categorical": "g", "level": "q"],
                ["name": "x:gr", "numeric": ["x"], "categorical": "g", "level": "r"],
            ] as [[String: Any]],
            "categorical_levels": ["g": ["p", "q", "r"]],
            "trials": "n",
        ]
        return run
    }

    @Test func categoricalCovariatesAreCodedAsTheFitCodedThem() throws {
        let scoring = try Scoring(path: ScoringTests.categoricalRun.writeRandom())
        #expect(scoring.covariates == ["x"] && scoring.categoricals == ["g"])
        // The response and the trials column are allowed and echoed.
        let candidates = try ScoringTests.candidates("""
            client,stylist,x,g,n,y
            a,s1,0.5,p,3,1
            a,s2,-1,q,3,2
            b,s1,2,r,1,0
            b,s1,2,q,1,0
            """, scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        let rows: [(client: String, stylist: String, x: Double, g: String)] = [
            ("a", "s1", 0.5, "p"), ("a", "s2", -1, "q"), ("b", "s1", 2, "r"), ("b", "s1", 2, "q"),
        ]
        for (i, row) in rows.enumerated() {
            let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: row.client,
                                                    stylist: row.stylist) { t in
                var eta = draws["(Intercept)"]![t] + row.x * draws["x"]![t]
                if row.g != "p" { eta += draws["g" + row.g]![t] + row.x * draws["x:g" + row.g]![t] }
                return eta
            }
            #expect(abs(scores[i].mean - mean) <= 1e-13, "row \(i): \(scores[i].mean) against \(mean)")
        }
        #expect(scoring.header(candidates, scores: scores).prefix(6) == ["client", "stylist", "x", "g", "n", "y"])

        // A level the fit never saw has no coefficient: refused, naming line and column.
        let unseen = try #require(ScoringTests.error("client,stylist,x,g\na,s1,1,p\na,s1,1,s\n", scoring))
        #expect(unseen.line == 3 && unseen.column == "g" && unseen.message.contains("p, q, r"))
        let absent = try #require(ScoringTests.error("client,stylist,x\na,s1,1\n", scoring))
        #expect(absent.column == "g" && absent.message.contains("categorical"))

        // A fit that predates "fixed_coding" cannot code g: a clear refusal.
        var old = ScoringTests.categoricalRun
        old.extra = [:]
        #expect(throws: InputError.self) { try Scoring(path: old.writeRandom()) }
    }

    /// An interaction of two categorical columns, `g * h` (R's coding:
    /// "gq:hv" is 1 when g = q and h = v): each candidate's score adds the
    /// coefficient of its cell of g × h.
    @Test func categoricalInteractionsAreScoredByBothLevels() throws {
        var run = Run()
        run.formula = "y ~ 1 + g + h + g:h + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.fixed = ["(Intercept)", "gq", "gr", "hv", "gq:hv", "gr:hv"]
        func indicator(_ name: String, _ g: String?, _ h: String?) -> [String: Any] {
            var entry: [String: Any] = ["name": name, "numeric": [String]()]
            if let g { entry["categorical"] = "g"; entry["level"] = g }
            if let h {
                if g == nil { entry["categorical"] = "h"; entry["level"] = h } else {
                    entry["also"] = [["categorical": "h", "level": h]]
                }
            }
            return entry
        }
        run.extra = [
            "fixed_coding": [indicator("(Intercept)", nil, nil), indicator("gq", "q", nil), indicator("gr", "r", nil),
                             indicator("hv", nil, "v"), indicator("gq:hv", "q", "v"), indicator("gr:hv", "r", "v")],
            "categorical_levels": ["g": ["p", "q", "r"], "h": ["u", "v"]],
        ]
        let scoring = try Scoring(path: run.writeRandom())
        #expect(Set(scoring.categoricals) == ["g", "h"])
        let candidates = try ScoringTests.candidates("""
            client,stylist,g,h
            a,s1,p,u
            a,s2,q,v
            b,s1,r,v
            b,s1,r,u
            """, scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        let rows: [(client: String, stylist: String, g: String, h: String)] = [
            ("a", "s1", "p", "u"), ("a", "s2", "q", "v"), ("b", "s1", "r", "v"), ("b", "s1", "r", "u"),
        ]
        for (i, row) in rows.enumerated() {
            let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: row.client,
                                                    stylist: row.stylist) { t in
                var eta = draws["(Intercept)"]![t]
                if row.g != "p" { eta += draws["g" + row.g]![t] }
                if row.h == "v" { eta += draws["hv"]![t] }
                if row.g != "p" && row.h == "v" { eta += draws["g" + row.g + ":hv"]![t] }
                return eta
            }
            #expect(abs(scores[i].mean - mean) <= 1e-13, "row \(i): \(scores[i].mean) against \(mean)")
        }
    }

    /// Sum contrasts (`--contrasts sum`): g1 and g2 are 1 at their level
    /// and −1 at the last, r.
    @Test func sumContrastsAreScoredAgainstTheLastLevel() throws {
        var run = Run()
        run.formula = "y ~ 1 + g + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.fixed = ["(Intercept)", "g1", "g2"]
        run.extra = [
            "fixed_coding": [["name": "(Intercept)", "numeric": [String]()],
                             ["name": "g1", "numeric": [String](), "categorical": "g", "level": "p", "against": "r"],
                             ["name": "g2", "numeric": [String](), "categorical": "g", "level": "q", "against": "r"]]
                as [[String: Any]],
            "categorical_levels": ["g": ["p", "q", "r"]],
        ]
        let scoring = try Scoring(path: run.writeRandom())
        let candidates = try ScoringTests.candidates("client,stylist,g\na,s1,p\na,s1,q\nb,s1,r\n", scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        for (i, row) in [("a", "p"), ("a", "q"), ("b", "r")].enumerated() {
            let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: row.0, stylist: "s1") { t in
                let g1 = draws["g1"]![t], g2 = draws["g2"]![t]
                return draws["(Intercept)"]![t] + (row.1 == "p" ? g1 : row.1 == "q" ? g2 : -g1 - g2)
            }
            #expect(abs(scores[i].mean - mean) <= 1e-13, "row \(i): \(scores[i].mean) against \(mean)")
        }
    }

    /// A transformed covariate, log(x) and I(x^2): the candidate table gives
    /// x, and each score uses the transformation of it (the table's own
    /// columns are echoed); a value outside the transformation's domain is
    /// refused naming the line and column.
    @Test func transformedCovariatesAreComputedFromTheirColumns() throws {
        var run = Run()
        run.formula = "y ~ 1 + log(x) + I(x^2) + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.fixed = ["(Intercept)", "log(x)", "I(x^2)"]
        run.extra = ["fixed_coding": [["name": "(Intercept)", "numeric": [String]()],
                                      ["name": "log(x)", "numeric": ["log(x)"]],
                                      ["name": "I(x^2)", "numeric": ["I(x^2)"]]] as [[String: Any]]]
        let scoring = try Scoring(path: run.writeRandom())
        let candidates = try ScoringTests.candidates("client,stylist,x\na,s1,0.5\nb,s1,3\n", scoring)
        #expect(candidates.columns == ["client", "stylist", "x"])
        let scores = try scoring.score(candidates, options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        for (i, row) in [("a", "s1", 0.5), ("b", "s1", 3.0)].enumerated() {
            let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: row.0, stylist: row.1) { t in
                draws["(Intercept)"]![t] + log(row.2) * draws["log(x)"]![t] + row.2 * row.2 * draws["I(x^2)"]![t]
            }
            #expect(abs(scores[i].mean - mean) <= 1e-13, "row \(i): \(scores[i].mean) against \(mean)")
        }
        let negative = try #require(ScoringTests.error("client,stylist,x\na,s1,1\na,s1,-2\n", scoring))
        #expect(negative.line == 3 && negative.column == "x" && negative.message.contains("log(x) is NaN"))
        let lacking = try #require(ScoringTests.error("client,stylist\na,s1\n", scoring))
        #expect(lacking.column == "x")
    }

    @Test func resultsDoNotDependOnChunksOrThreads() throws {
        let path = try Run().writeRandom()
        let scoring = try Scoring(path: path)
        let candidates = try ScoringTests.candidates(ScoringTests.mixed, scoring)
        for rankBy in [nil, "client"] as [String?] {
            let reference = try scoring.score(candidates, options: .init(seed: 5, rankBy: rankBy,
                                                                         thompson: rankBy != nil,
                                                                         rowsPerChunk: 100, threads: 1))
            for (rows, threads) in [(1, 1), (1, 2), (2, 2), (3, 4)] {
                let other = try scoring.score(candidates, options: .init(seed: 5, rankBy: rankBy,
                                                                         thompson: rankBy != nil,
                                                                         rowsPerChunk: rows, threads: threads))
                #expect(other == reference, "rows per chunk \(rows), threads \(threads)")
            }
        }
    }

    @Test func interruptedAndLinkRecordsAreRead() throws {
        // No "link" in fit.json (fits before --link): logit. A probit fit's scores use Φ.
        var run = Run()
        run.link = nil
        #expect(try Scoring(path: run.writeRandom()).link == .logit)
        run.link = "probit"
        let scoring = try Scoring(path: run.writeRandom())
        #expect(scoring.link == .probit)
        let scores = try scoring.score(ScoringTests.candidates("client,stylist,x\na,s1,0\n", scoring))
        let draws = try ScoringTests.pooled(scoring.run)
        let direct = (0..<scoring.drawCount).map { t in
            Link.probit.probability(draws["(Intercept)"]![t] + draws["r(client)[a]"]![t] + draws["r(stylist)[s1]"]![t]
                                    + draws["r(client:stylist)[a:s1]"]![t])
        }.reduce(0, +) / Double(scoring.drawCount)
        #expect(abs(scores[0].mean - direct) <= 1e-13)
        run.link = "loglog"
        #expect(throws: InputError.self) { try Scoring(path: run.writeRandom()) }
    }

    // MARK: New levels against numerical integration

    /// ∫ g(F(μ + s z)) φ(z) dz by the trapezoid rule on [−12, 12] with step
    /// 1/256: for an integrand this smooth and this light-tailed the rule's
    /// error is far below 1e-12.
    static func normalIntegral(_ g: (Double) -> Double) -> Double {
        let h = 1.0 / 256, n = 24 * 256
        var sum = 0.0
        for i in 0...n {
            let z = -12 + Double(i) * h
            let weight = (i == 0 || i == n) ? 0.5 : 1
            sum += weight * g(z) * exp(-0.5 * z * z)
        }
        return sum * h / (2 * Double.pi).squareRoot()
    }

    @Test(arguments: ["logit", "probit"])
    func newLevelsIntegrateOverThePopulation(link: String) throws {
        // Constant draws: intercept 0.4, σ_client 1.3, σ_stylist 0.6, σ_pair 0.5,
        // stylist s1's effect −0.2. One chain of 40,000 draws.
        var run = Run()
        run.fixed = ["(Intercept)"]
        run.formula = "y ~ 1 + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.chains = 1
        run.draws = 40_000
        run.link = link
        let constants: [String: Double] = [
            "(Intercept)": 0.4, "sd(client)": 1.3, "sd(stylist)": 0.6, "sd(client:stylist)": 0.5,
            "r(stylist)[s1]": -0.2,
        ]
        let path = try run.write { name, _, _ in constants[name] ?? 0.05 }
        let scoring = try Scoring(path: path)
        let candidates = try ScoringTests.candidates("client,stylist\nnew,s1\nnew,s9\n", scoring)
        let scores = try scoring.score(candidates, options: .init(seed: 3))
        let F = Link(rawValue: link)!
        // η ~ N(μ, s²): a new client and pair with s1; a new client, stylist and pair.
        let cases: [(mu: Double, s: Double)] = [
            (0.4 - 0.2, (1.3 * 1.3 + 0.5 * 0.5).squareRoot()),
            (0.4, (1.3 * 1.3 + 0.6 * 0.6 + 0.5 * 0.5).squareRoot()),
        ]
        for (i, c) in cases.enumerated() {
            let mean = ScoringTests.normalIntegral { F.probability(c.mu + c.s * $0) }
            let second = ScoringTests.normalIntegral { pow(F.probability(c.mu + c.s * $0), 2) }
            if F == .probit {
                // E Φ(μ + sZ) = Φ(μ / √(1 + s²)): the integrator checked.
                #expect(abs(mean - F.probability(c.mu / (1 + c.s * c.s).squareRoot())) < 1e-12)
            }
            // The draws of p are independent: the Monte Carlo standard error is sd(p)/√T.
            let error = ((second - mean * mean) / Double(scoring.drawCount)).squareRoot()
            #expect(abs(scores[i].mean - mean) < 4 * error, "\(link) row \(i): \(scores[i].mean) vs \(mean) ± \(error)")
            // Quantiles: the level-q quantile of p is F(μ + s Φ⁻¹(q)), so the
            // normal probability below F⁻¹(q̂) is q within the binomial error.
            if F == .logit {
                for (q, estimate) in [(0.05, scores[i].q5), (0.5, scores[i].q50), (0.95, scores[i].q95)] {
                    let z = (log(estimate / (1 - estimate)) - c.mu) / c.s
                    let below = Link.probit.probability(z)
                    let binomial = (q * (1 - q) / Double(scoring.drawCount)).squareRoot()
                    #expect(abs(below - q) < 4 * binomial, "q\(q): \(below)")
                }
            }
        }
        #expect(candidates.isNew[0] == [true, true] && candidates.isNew[1] == [false, true])
    }

    /// `marginal` integrates the new levels' effects out at each draw, and
    /// `typical` sets them to 0: with constant draws every pᵢ⁽ᵗ⁾ is the
    /// integral (or F(μ)), to the quadrature's accuracy.
    @Test(arguments: ["logit", "probit", "cloglog"])
    func marginalAndTypicalNewLevels(link: String) throws {
        var run = Run()
        run.fixed = ["(Intercept)"]
        run.formula = "y ~ 1 + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.chains = 2
        run.draws = 50
        run.link = link
        let constants: [String: Double] = [
            "(Intercept)": 0.4, "sd(client)": 2.6, "sd(stylist)": 0.6, "sd(client:stylist)": 0.5,
            "r(stylist)[s1]": -0.2, "r(client)[c]": 0.7,
        ]
        let path = try run.write { name, _, _ in constants[name] ?? 0.05 }
        let scoring = try Scoring(path: path)
        let candidates = try ScoringTests.candidates("client,stylist\nnew,s1\nnew,s9\nc,s1\n", scoring)
        let F = Link(rawValue: link)!
        let cases: [(mu: Double, s: Double)] = [
            (0.4 - 0.2, (2.6 * 2.6 + 0.5 * 0.5).squareRoot()),
            (0.4, (2.6 * 2.6 + 0.6 * 0.6 + 0.5 * 0.5).squareRoot()),
            (0.4 - 0.2 + 0.7, 0.5),   // a seen client and stylist, a new pair
        ]
        let marginal = try scoring.score(candidates, options: .init(seed: 3, newLevels: .marginal))
        let typical = try scoring.score(candidates, options: .init(seed: 3, newLevels: .typical))
        for (i, c) in cases.enumerated() {
            let integral = ScoringTests.normalIntegral { F.probability(c.mu + c.s * $0) }
            for value in [marginal[i].mean, marginal[i].q5, marginal[i].q95] {
                #expect(abs(value - integral) < 1e-9, "\(link) row \(i): \(value) vs \(integral)")
            }
            #expect(abs(typical[i].mean - F.probability(c.mu)) < 1e-14 && typical[i].q5 == typical[i].q95)
        }
        // The marginal and typical probabilities differ (F is not linear): the
        // spread pulls the average towards ½, so at μ > 0 the typical is above it.
        if F == .logit { #expect(typical[0].mean > marginal[0].mean) }
        // The seed plays no part in them.
        let again = try scoring.score(candidates, options: .init(seed: 99, newLevels: .marginal))
        #expect(again == marginal)
    }

    /// The quadrature against the trapezoid rule over the range of spreads
    /// a fit meets.
    @Test func marginalProbabilityIsTheIntegral() {
        for link in Link.allCases {
            for eta in [-6.0, -2, 0, 0.7, 3] {
                for s in [0.05, 0.5, 1, 2, 4, 10] {
                    let integral = ScoringTests.normalIntegral { link.probability(eta + s * $0) }
                    let value = Scoring.marginalProbability(link, eta, standardDeviation: s)
                    #expect(abs(value - integral) < 1e-9, "\(link) η \(eta) s \(s): \(value) vs \(integral)")
                }
            }
        }
    }

    // MARK: Ranking and Thompson sampling

    static let ranked = """
        client,stylist,x
        a,s1,0
        a,s2,0
        a,s3,0
        b,s1,1
        b,s1,1
        c,s2,-1
        """

    @Test func probabilityOfBestAndRegretFromTheDraws() throws {
        let path = try Run().writeRandom()
        let scoring = try Scoring(path: path)
        let candidates = try ScoringTests.candidates(ScoringTests.ranked, scoring)
        let plain = try scoring.score(candidates, options: .init(seed: 2))
        let scores = try scoring.score(candidates, options: .init(seed: 2, rankBy: "client", rowsPerChunk: 2))
        // The same scores, plus the ranking.
        for (a, b) in zip(plain, scores) {
            #expect(a.mean == b.mean && a.q5 == b.q5 && a.q95 == b.q95)
        }
        // Sums to 1 over each client's candidates.
        for group in [[0, 1, 2], [3, 4], [5]] {
            let sum = group.map { scores[$0].probabilityBest! }.reduce(0, +)
            #expect(abs(sum - 1) < 1e-12, "\(group): \(sum)")
        }
        // Client b's two rows are one candidate twice: every draw ties, split evenly.
        #expect(scores[3].probabilityBest == 0.5 && scores[4].probabilityBest == 0.5)
        #expect(scores[3].expectedRegret == 0 && scores[5].expectedRegret == 0 && scores[5].probabilityBest == 1)
        // Client a, directly: p of each candidate at each draw (s3 and the pairs are new,
        // drawn from their own streams).
        let draws = try ScoringTests.pooled(scoring.run)
        let total = scoring.drawCount
        var p: [[Double]] = []
        for stylist in ["s1", "s2", "s3"] {
            var eta = (0..<total).map { draws["(Intercept)"]![$0] + draws["r(client)[a]"]![$0] }
            for (k, term, level) in [(1, "stylist", stylist), (2, "client:stylist", "a:" + stylist)] {
                if let effect = draws["r(\(term))[\(level)]"] {
                    for t in 0..<total { eta[t] += effect[t] }
                } else {
                    let generator = try Generator(seed: 2, chain: UInt64(k) + 1, stream: Scoring.hash(level))
                    for t in 0..<total { eta[t] += draws["sd(\(term))"]![t] * generator.normal() }
                }
            }
            p.append(eta.map(ScoringTests.logistic))
        }
        for i in 0..<3 {
            let best = (0..<total).filter { t in p[i][t] == p.map { $0[t] }.max()! }.count
            let regret = (0..<total).map { t in p.map { $0[t] }.max()! - p[i][t] }.reduce(0, +) / Double(total)
            #expect(scores[i].probabilityBest == Double(best) / Double(total))
            #expect(abs(scores[i].expectedRegret! - regret) < 1e-14)
        }
        // Ranks follow the posterior means.
        let order = [0, 1, 2].sorted { scores[$0].mean > scores[$1].mean }
        #expect(order.map { scores[$0].rank! } == [1, 2, 3])
    }

    @Test func thompsonChoicesAreReproducibleAndChooseWithTheProbabilityOfBest() throws {
        let path = try Run().writeRandom()
        let scoring = try Scoring(path: path)
        let candidates = try ScoringTests.candidates(ScoringTests.ranked, scoring)
        func choices(seed: UInt64, threads: Int = 2, rows: Int = 2000) throws -> [Bool] {
            try scoring.score(candidates, options: .init(seed: seed, rankBy: "client", thompson: true,
                                                         rowsPerChunk: rows, threads: threads))
                .map { $0.thompsonChoice! }
        }
        let first = try choices(seed: 9)
        #expect(try choices(seed: 9) == first)
        #expect(try choices(seed: 9, threads: 1, rows: 1) == first)
        // One choice per client; a tie goes to the first row.
        #expect(first[0...2].filter { $0 }.count == 1 && first[3] && !first[4] && first[5])

        // Over seeds, candidate i of client a is chosen with probability P(best)
        // (Thompson sampling's defining property): binomial error, 400 seeds.
        // The seed also moves the new levels' draws, so P(best) is recomputed per seed.
        var chosen = [0.0, 0, 0], best = [0.0, 0, 0]
        let seeds = 400
        for seed in 1...seeds {
            let scores = try scoring.score(candidates, options: .init(seed: UInt64(seed), rankBy: "client",
                                                                      thompson: true))
            for i in 0..<3 {
                if scores[i].thompsonChoice! { chosen[i] += 1 }
                best[i] += scores[i].probabilityBest!
            }
        }
        for i in 0..<3 {
            let probability = best[i] / Double(seeds)
            let error = (probability * (1 - probability) / Double(seeds)).squareRoot()
            #expect(abs(chosen[i] / Double(seeds) - probability) < 4 * error,
                    "candidate \(i): chosen \(chosen[i]) of \(seeds), P(best) \(probability)")
        }
    }

    // MARK: Quantiles by selection

    @Test func selectionQuantilesMatchSortedTypeSeven() throws {
        let generator = try Generator(seed: 4)
        let probabilities = [0.05, 0.5, 0.95, 0, 1, 0.01, 0.25, 0.75, 0.5]
        for n in [1, 2, 3, 10, 101, 1000, 4000] {
            for ties in [false, true] {
                var values = (0..<n).map { _ in ties ? (generator.uniform() * 4).rounded() : generator.normal() }
                let draws = try Draws(chain: values)
                let expected = try probabilities.map { try quantile(draws, probability: $0)! }
                let got = values.withUnsafeMutableBufferPointer {
                    OrderStatistics.typeSevenQuantiles($0, probabilities: probabilities)
                }
                #expect(got == expected, "n \(n), ties \(ties)")
                #expect(Array(got.prefix(3)) == values.withUnsafeMutableBufferPointer {
                    OrderStatistics.typeSevenQuantiles($0, probabilities: [0.05, 0.5, 0.95])
                })
            }
        }
    }

    // MARK: Bad input

    static func error(_ text: String, _ scoring: Scoring) -> InputError? {
        do { _ = try candidates(text, scoring) } catch let error as InputError { return error } catch { return nil }
        return nil
    }

    @Test func badCandidateTablesAreRefusedNamingTheFileLineAndColumn() throws {
        let scoring = try Scoring(path: Run().writeRandom())
        let unknown = try #require(ScoringTests.error("client,stylist,x,colour\na,s1,1,red\n", scoring))
        #expect(unknown.kind == .unknownColumn && unknown.column == "colour" && unknown.file == "candidates.csv")
        let noCovariate = try #require(ScoringTests.error("client,stylist\na,s1\n", scoring))
        #expect(noCovariate.kind == .unknownColumn && noCovariate.column == "x")
        #expect(noCovariate.description.contains("covariate"))
        let noFactor = try #require(ScoringTests.error("client,x\na,1\n", scoring))
        #expect(noFactor.kind == .unknownColumn && noFactor.column == "stylist")
        let text = try #require(ScoringTests.error("client,stylist,x\na,s1,1\na,s2,high\n", scoring))
        #expect(text.kind == .nonNumeric && text.line == 3 && text.column == "x")
        #expect(text.description == "candidates.csv, line 3, column \"x\": expected a number (a covariate of the "
                + "fixed effects), found \"high\"")
        let missing = try #require(ScoringTests.error("client,stylist,x\na,s1,1\n,s2,1\n", scoring))
        #expect(missing.kind == .missingValues && missing.line == 3 && missing.column == "client")
        let infinite = try #require(ScoringTests.error("client,stylist,x\na,s1,Inf\n", scoring))
        #expect(infinite.kind == .nonNumeric && infinite.line == 2)
        // The response is allowed (held-out rows score as they are).
        #expect(ScoringTests.error("client,stylist,x,y\na,s1,1,0\n", scoring) == nil)
        // An empty table is refused when read.
        #expect(throws: InputError.self) { try Frame.read(csvText: "client,stylist,x\n", source: "c.csv") }
    }

    @Test func badOptionsAndMissingDrawsAreRefused() throws {
        let scoring = try Scoring(path: Run().writeRandom())
        let candidates = try ScoringTests.candidates(ScoringTests.ranked, scoring)
        for options in [Scoring.Options(rankBy: "x"), Scoring.Options(rankBy: "client:stylist"),
                        Scoring.Options(thompson: true), Scoring.Options(threshold: 1.5)] {
            #expect(throws: InputError.self) { try scoring.score(candidates, options: options) }
        }
        // A store without an SD: the fit cannot score new levels; refit.
        var run = Run()
        run.omitted = ["sd(stylist)"]
        #expect { try Scoring(path: run.writeRandom()) } throws: { error in
            (error as? InputError)?.message.contains("sd(stylist)") == true
                && (error as? InputError)?.advice?.settings.contains(Setting("save", value: "all")) == true
        }
        // Without a seen level's effect.
        run.omitted = ["r(client)[b]"]
        let partial = try Scoring(path: run.writeRandom())
        let error = try #require(ScoringTests.error("client,stylist,x\nb,s1,0\n", partial))
        #expect(error.description.contains("r(client)[b]") && error.advice?.settings == [Setting("save", value: "all")])
        // Numeric level names: "07" in the candidates is the fit's level "7".
        var numeric = Run()
        numeric.terms = [("client", ["7", "12"]), ("stylist", ["1", "2"]), ("client:stylist", ["7:1"])]
        let numbered = try Scoring(path: numeric.writeRandom())
        let table = try ScoringTests.candidates("client,stylist,x\n07,1,0\n12,3,0\n", numbered)
        #expect(table.isNew[0] == [false, false] && table.isNew[1] == [false, true] && table.isNew[2] == [false, true])
    }
}
