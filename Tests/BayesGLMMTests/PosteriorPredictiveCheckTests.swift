import Foundation
import Testing
@testable import BayesGLMM

/// Posterior predictive checks: the replicates' statistics against their
/// expectations computed from the draws (binomial probabilities summed over
/// cells), within Monte Carlo error; reproducible by seed.
@Suite struct PosteriorPredictiveCheckTests {
    /// 40 groups of 5 binary rows (40 cells of 5 trials), y ~ (1 | g).
    static let fitted: Result<(PointwiseLogLikelihood, [String: [Double]]), any Error> = Result {
        let generator = try Generator(seed: 9)
        var text = "y,g\n"
        for j in 0..<40 {
            let p = 1 / (1 + exp(-(-0.3 + 1.2 * generator.normal())))
            for _ in 0..<5 { text += "\(generator.uniform() < p ? 1 : 0),g\(j)\n" }
        }
        let folder = try RunTests.folder("ppc")
        try text.write(toFile: folder + "/data.csv", atomically: true, encoding: .utf8)
        let design = try Design(formula: ModelFormula.parse("y ~ (1 | g)"), frame: Frame.read(csvFile: folder + "/data.csv"))
        let request = RunRequest(design: design, settings: ChainSettings(chains: 2, warmup: 100, draws: 200, seed: 3),
                                 start: .prior, output: folder + "/run")
        _ = try Run.prepare(request).execute(stop: StopRequest())
        let run = try RunDirectory.read(folder + "/run")
        return (try PointwiseLogLikelihood(run: run), try ScoringTests.pooled(run))
    }

    static func binomial(_ k: Int, _ n: Int, _ p: Double) -> Double {
        exp(lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))) * pow(p, Double(k))
            * pow(1 - p, Double(n - k))
    }

    @Test func replicatesHaveTheirExpectedStatistics() throws {
        let (source, draws) = try PosteriorPredictiveCheckTests.fitted.get()
        let check = try PosteriorPredictiveCheck(source, drawCount: 400, seed: 5, factor: "g")
        let s = 400
        #expect(check.draws == Array(0..<400) && check.cells == 40 && check.trials == 200)
        // p of each cell (group) at each draw.
        let p = (0..<40).map { j in
            (0..<s).map { t in ScoringTests.logistic(draws["(Intercept)"]![t] + draws["r(g)[g\(j)]"]![t]) }
        }
        // A statistic Σᵢ fᵢ(t) (over cells, then averaged over draws) against
        // its replicates' mean: within 4 standard errors of the mean of S
        // independent sums with variances Σᵢ vᵢ(t).
        func agrees(_ statistic: PosteriorPredictiveCheck.Statistic, scale: Double = 1,
                    _ each: (Double) -> (mean: Double, variance: Double)) -> Bool {
            var expected = 0.0, variance = 0.0
            for t in 0..<s {
                for j in 0..<40 {
                    let (m, v) = each(p[j][t])
                    expected += m / scale
                    variance += v / (scale * scale)
                }
            }
            expected /= Double(s)
            let error = (variance / Double(s * s)).squareRoot()
            let ok = abs(statistic.mean - expected) < 4 * error
            if !ok { Issue.record("\(statistic.name): \(statistic.mean) vs \(expected) ± \(error)") }
            return ok
        }
        #expect(agrees(check.rate, scale: 200) { (5 * $0, 5 * $0 * (1 - $0)) })
        for k in 0...5 {
            #expect(agrees(check.bars[k]) { let q = PosteriorPredictiveCheckTests.binomial(k, 5, $0); return (q, q * (1 - q)) })
        }
        let allOrNone = try #require(check.allOrNone)
        #expect(agrees(allOrNone) { let q = pow($0, 5) + pow(1 - $0, 5); return (q, q * (1 - q)) })
        // Per level: the rate of group j alone.
        for j in [0, 17, 39] {
            let level = try #require(check.grouped.first { $0.name == "g\(j)" })
            let expected = p[j].reduce(0, +) / Double(s)
            let error = (p[j].map { 5 * $0 * (1 - $0) }.reduce(0, +) / 25 / Double(s * s)).squareRoot()
            #expect(abs(level.mean - expected) < 4 * error, "g\(j): \(level.mean) vs \(expected)")
        }
        // The observed statistics are the data's; the p-value is P(T_rep ≥ T).
        #expect(check.bars.map(\.observed).reduce(0, +) == 40)
        let rate = check.rate
        #expect(rate.pValue == Double(rate.replicated.filter { $0 >= rate.observed }.count) / Double(s))
        #expect(check.csv.hasPrefix("statistic,name,observed,mean,q5,q95,p_value\nrate,success rate,"))
    }

    @Test func reproducibleBySeedAndEvenlySpacedDraws() throws {
        let (source, _) = try PosteriorPredictiveCheckTests.fitted.get()
        let a = try PosteriorPredictiveCheck(source, drawCount: 50, seed: 5)
        let b = try PosteriorPredictiveCheck(source, drawCount: 50, seed: 5)
        let c = try PosteriorPredictiveCheck(source, drawCount: 50, seed: 6)
        #expect(a.rate == b.rate && a.bars == b.bars && a.rate != c.rate)
        #expect(a.draws.count == 50 && a.draws.first == 0 && a.draws.last == 399 && a.grouped.isEmpty)
        #expect(throws: InputError.self) { try PosteriorPredictiveCheck(source, factor: "h") }
    }
}
