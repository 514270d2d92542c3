import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// Leave-one-group-out: each level's marginal log-likelihood against
/// numerical integration, and PSIS-LOGO against exact refits without the
/// level.
@Suite(.serialized) struct LeaveOneGroupOutTests {
    /// 40 groups of 6 rows with x; group effects of SD 0.9.
    static func data() throws -> String {
        let generator = try Generator(seed: 21)
        var text = "y,x,g,h\n"
        for j in 0..<40 {
            let u = 0.9 * generator.normal()
            for r in 0..<6 {
                let x = generator.normal()
                let p = 1 / (1 + exp(-(-0.4 + 0.7 * x + u)))
                text += "\(generator.uniform() < p ? 1 : 0),\(x),g\(j),h\(r % 3)\n"
            }
        }
        return text
    }

    static func fit(_ text: String, formula: String, name: String, draws: Int = 500) throws -> PointwiseLogLikelihood {
        let folder = try RunTests.folder(name)
        try text.write(toFile: folder + "/data.csv", atomically: true, encoding: .utf8)
        let design = try Design(formula: ModelFormula.parse(formula), frame: Frame.read(csvFile: folder + "/data.csv"))
        let request = RunRequest(design: design, settings: ChainSettings(chains: 2, warmup: 300, draws: draws, seed: 4),
                                 output: folder + "/run")
        _ = try Run.prepare(request).execute(stop: StopRequest())
        return try PointwiseLogLikelihood(run: RunDirectory.read(folder + "/run"))
    }

    /// ℓⱼ⁽ᵗ⁾ = log ∫ φ(u) Πᵢ∈ⱼ p(yᵢ | α + βxᵢ + v_h(i) + σu) du, by the
    /// trapezoid rule, at a few levels and draws (a crossed term h kept at
    /// its draws).
    @Test func levelLogLikelihoodIsTheIntegral() throws {
        let text = try LeaveOneGroupOutTests.data()
        let source = try LeaveOneGroupOutTests.fit(text, formula: "y ~ x + (1|g) + (1|h)", name: "logo-integral",
                                                   draws: 50)
        let logo = try GroupLogLikelihood(source, term: "g")
        let draws = try ScoringTests.pooled(source.run)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        var checked = 0
        try logo.forEach { level, ll in
            guard level % 13 == 0 else { return }
            let name = logo.levels[level]
            let mine = rows.filter { $0[2] == name }
            for t in [0, 37, 99] {
                let integral = ScoringTests.normalIntegral { u in
                    var product = 1.0
                    for row in mine {
                        let eta = draws["(Intercept)"]![t] + draws["x"]![t] * Double(row[1])!
                            + draws["r(h)[\(row[3])]"]![t] + draws["sd(g)"]![t] * u
                        let p = 1 / (1 + exp(-eta))
                        product *= row[0] == "1" ? p : 1 - p
                    }
                    return product
                }
                #expect(abs(ll.values[t] - log(integral)) < 1e-8, "\(name) draw \(t): \(ll.values[t]) vs \(log(integral))")
            }
            checked += 1
        }
        #expect(checked == 4)
        #expect(throws: InputError.self) { try GroupLogLikelihood(source, term: "nobody") }
    }

    /// With a term nested in the one left out (g:h in g), each of the
    /// level's nested levels has its effect integrated inside the level's:
    /// against the trapezoid rule in two dimensions (step 1/32 on [−10, 10]).
    @Test func nestedEffectsAreIntegratedInside() throws {
        let text = try LeaveOneGroupOutTests.data()
        let source = try LeaveOneGroupOutTests.fit(text, formula: "y ~ x + (1|g) + (1|g:h)", name: "logo-nested",
                                                   draws: 20)
        let logo = try GroupLogLikelihood(source, term: "g")
        #expect(logo.nested == 1)
        let draws = try ScoringTests.pooled(source.run)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        func trapezoid(_ g: (Double) -> Double) -> Double {
            let h = 1.0 / 32, n = 20 * 32
            var sum = 0.0
            for i in 0...n {
                let z = -10 + Double(i) * h
                sum += g(z) * exp(-0.5 * z * z)
            }
            return sum * h / (2 * Double.pi).squareRoot()
        }
        var checked = 0
        try logo.forEach { level, ll in
            guard level % 17 == 0 else { return }
            let mine = rows.filter { $0[2] == logo.levels[level] }
            for t in [3, 31] {
                let base = mine.map { draws["(Intercept)"]![t] + draws["x"]![t] * Double($0[1])! }
                let integral = trapezoid { u in
                    var product = 1.0
                    for pair in ["h0", "h1", "h2"] {
                        product *= trapezoid { w in
                            var inner = 1.0
                            for (i, row) in mine.enumerated() where row[3] == pair {
                                let p = 1 / (1 + exp(-(base[i] + draws["sd(g)"]![t] * u + draws["sd(g:h)"]![t] * w)))
                                inner *= row[0] == "1" ? p : 1 - p
                            }
                            return inner
                        }
                    }
                    return product
                }
                #expect(abs(ll.values[t] - log(integral)) < 1e-6, "\(logo.levels[level]) draw \(t): \(ll.values[t]) vs \(log(integral))")
            }
            checked += 1
        }
        #expect(checked == 3)
    }

    /// Two terms nested in the one left out are refused.
    @Test func twoNestedTermsAreRefused() throws {
        let text = try LeaveOneGroupOutTests.data()
        let source = try LeaveOneGroupOutTests.fit(text, formula: "y ~ (1|g) + (1|g:h) + (1|g:x)", name: "logo-two",
                                                   draws: 20)
        #expect(throws: InputError.self) { try GroupLogLikelihood(source, term: "g") }
    }

    /// PSIS-LOGO against brute force: for 10 groups, refit without the
    /// group and compute log p(y_j | y_−j) = log mean exp ℓⱼ⁽ᵗ⁾ over the
    /// refit's draws. Where Pareto k < 0.7 the two agree within 4 combined
    /// Monte Carlo SEs (PSIS's MCSE and the refit's, from its r_eff).
    @Test func psisAgreesWithExactRefits() throws {
        let text = try LeaveOneGroupOutTests.data()
        let formula = "y ~ x + (1|g)"
        let logo = try GroupLogLikelihood(LeaveOneGroupOutTests.fit(text, formula: formula, name: "logo-full",
                                                                    draws: 1000), term: "g")
        let full = try logo.criteria().loo
        let lines = text.split(separator: "\n").map(String.init)
        var compared = 0
        for j in stride(from: 0, to: 40, by: 4) {
            let name = "g\(j)"
            let kept = [lines[0]] + lines.dropFirst().filter { $0.split(separator: ",")[2] != name }
            #expect(kept.count == 241 - 6)
            let refit = try LeaveOneGroupOutTests.fit(kept.joined(separator: "\n") + "\n", formula: formula,
                                                      name: "logo-refit-\(j)", draws: 1000)
            let draws = try ScoringTests.pooled(refit.run)
            let held = lines.dropFirst().filter { $0.split(separator: ",")[2] == name }
                .map { $0.split(separator: ",").map { String($0) } }
            let (nodes, weights) = AdaptiveQuadrature.hermiteRule(GroupLogLikelihood.points)
            let s = draws["sd(g)"]!.count
            let values = try (0..<s).map { t throws -> Double in
                let a = held.map { draws["(Intercept)"]![t] + draws["x"]![t] * Double($0[1])! }
                return try #require(AdaptiveQuadrature.logIntegral(
                    offsets: a, slopes: [Double](repeating: draws["sd(g)"]![t], count: a.count),
                    successes: held.map { Double($0[0])! }, trials: [Double](repeating: 1, count: a.count),
                    logChoose: [Double](repeating: 0, count: a.count), nodes: nodes, weights: weights)).value
            }
            let exact = LeaveOneOut.pointwise(try Draws(columnMajor: values, iterations: 1000, chains: 2))
            let w = values.map { exp($0 - values.max()!) }
            let mean = w.reduce(0, +) / Double(s)
            let sd = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(s - 1)).squareRoot()
            let exactError = sd / mean / (Double(s) * exact.relativeEfficiency).squareRoot()
            let level = full.pointwise[try #require(logo.levels.firstIndex(of: name))]
            guard level.paretoK < 0.7 else { continue }
            let error = (level.mcse * level.mcse + exactError * exactError).squareRoot()
            #expect(abs(level.elpd - exact.logPredictiveDensity) < 4 * error,
                    "\(name): PSIS \(level.elpd) (k \(level.paretoK)) vs exact \(exact.logPredictiveDensity) ± \(error)")
            compared += 1
        }
        #expect(compared >= 8)
    }
}
