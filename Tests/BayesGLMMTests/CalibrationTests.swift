import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// Whole-sampler checks against the model's own joint distribution: Geweke's
/// (2004) joint-distribution test and simulation-based calibration (Talts et
/// al. 2018) on a small crossed model, with proper priors.
@Suite struct CalibrationTests {
    /// 4 clients x 3 stylists, every pair observed with 3 trials.
    static func design() throws -> Design {
        var y: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<4 {
            for s in 0..<3 {
                for r in 0..<3 {
                    y.append(r == 0 ? "1" : "0")
                    client.append("c\(c)")
                    stylist.append("s\(s)")
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("client", client), ("stylist", stylist)])
        return try Design(formula: ModelFormula.parse("y ~ (1|client) + (1|stylist)"), frame: frame)
    }

    static func priors() -> Priors {
        var p = Priors()
        p.intercept = NormalPrior(mean: 0, standardDeviation: 1)
        p.standardDeviations = .halfT(degrees: 3, scale: 0.7)
        return p
    }

    /// θ ~ prior (`PriorPredictive.parameters`).
    static func prior(_ design: Design, _ priors: Priors, _ g: Generator) -> PolyaGammaGibbs.State {
        PriorPredictive.parameters(design, priors, using: g)
    }

    /// y ~ p(y | θ): binomial successes per cell (`PriorPredictive.successes`).
    static func data(_ design: Design, _ s: PolyaGammaGibbs.State, _ g: Generator) -> [Double] {
        PriorPredictive.successes(design, coefficients: s.coefficients, effects: s.effects, using: g)
    }

    /// Test functions of (θ, y).
    static func functions(_ s: PolyaGammaGibbs.State, _ y: [Double]) -> [Double] {
        [s.coefficients[0], s.standardDeviations[0], s.standardDeviations[1],
         s.effects[0][0], s.effects[1][2], s.coefficients[0] * s.coefficients[0],
         y.reduce(0, +), s.effects[0][1] * y[3]]
    }

    /// Geweke (2004): moments of g(θ, y) from independent prior-predictive
    /// draws against those from the successive-conditional chain that
    /// alternates y | θ and one sweep θ | y. The chain's standard errors come
    /// from its effective sample size (Diagnostics.mcseMean).
    @Test func gewekeJointDistribution() throws {
        let design = try CalibrationTests.design()
        let priors = CalibrationTests.priors()
        let g = try Generator(seed: 2004, chain: 0, stream: 0)
        let count = 20_000
        var independent = [[Double]](repeating: [], count: 8)
        for _ in 0..<count {
            let theta = CalibrationTests.prior(design, priors, g)
            let y = CalibrationTests.data(design, theta, g)
            for (j, v) in CalibrationTests.functions(theta, y).enumerated() { independent[j].append(v) }
        }
        var chains: [[[Double]]] = Array(repeating: [], count: 8)
        for c in 0..<4 {
            let h = try Generator(seed: 2004, chain: UInt64(c + 1), stream: 0)
            var theta = CalibrationTests.prior(design, priors, h)
            var series = [[Double]](repeating: [], count: 8)
            for _ in 0..<(count / 4) {
                let y = CalibrationTests.data(design, theta, h)
                let kernel = PolyaGammaGibbs(design: design.replacingSuccesses(y), priors: priors)
                theta = kernel.step(theta, using: h).0
                for (j, v) in CalibrationTests.functions(theta, y).enumerated() { series[j].append(v) }
            }
            for j in 0..<8 { chains[j].append(series[j]) }
        }
        for j in 0..<8 {
            let a = independent[j]
            let meanA = a.reduce(0, +) / Double(a.count)
            let varA = a.reduce(0) { $0 + ($1 - meanA) * ($1 - meanA) } / Double(a.count - 1)
            let d = try Draws(chains: chains[j])
            let meanValue: Double? = Diagnostics.mean(d)
            let meanB = try #require(meanValue)
            let mcseValue: Double? = mcseMean(d)
            let mcseB = try #require(mcseValue)
            let z = (meanA - meanB) / (varA / Double(a.count) + mcseB * mcseB).squareRoot()
            #expect(abs(z) < 4, "test function \(j): prior \(meanA), chain \(meanB) ± \(mcseB), z = \(z)")
        }
    }

    /// Simulation-based calibration: for 240 data sets drawn from the prior
    /// predictive, the rank of the true value among 99 thinned posterior
    /// draws is uniform on 0…99 when the sampler is right. Chi-square test on
    /// 20 bins (expected 12 per bin), at the 1e-3 level per quantity.
    @Test func simulationBasedCalibration() throws {
        let design = try CalibrationTests.design()
        let priors = CalibrationTests.priors()
        let replications = 240, kept = 99, thin = 4, warmup = 100, bins = 20
        var ranks = [[Int]](repeating: [], count: 5)
        for r in 0..<replications {
            let g = try Generator(seed: 1818, chain: UInt64(r), stream: 0)
            let truth = CalibrationTests.prior(design, priors, g)
            let y = CalibrationTests.data(design, truth, g)
            let kernel = PolyaGammaGibbs(design: design.replacingSuccesses(y), priors: priors)
            var state = kernel.initialState(using: g)
            for _ in 0..<warmup { state = kernel.step(state, using: g).0 }
            let trueValues = [truth.coefficients[0], truth.standardDeviations[0], truth.standardDeviations[1],
                              truth.effects[0][0], truth.effects[1][1]]
            var below = [Int](repeating: 0, count: 5)
            for _ in 0..<kept {
                for _ in 0..<thin { state = kernel.step(state, using: g).0 }
                let values = [state.coefficients[0], state.standardDeviations[0], state.standardDeviations[1],
                              state.effects[0][0], state.effects[1][1]]
                for j in 0..<5 where values[j] < trueValues[j] { below[j] += 1 }
            }
            for j in 0..<5 { ranks[j].append(below[j]) }
        }
        // χ² with 19 degrees of freedom: P(χ² > 43.82) = 1e-3.
        let names = ["(Intercept)", "sd(client)", "sd(stylist)", "r(client)[c0]", "r(stylist)[s1]"]
        let expected = Double(replications) / Double(bins)
        for j in 0..<5 {
            var counts = [Double](repeating: 0, count: bins)
            for rank in ranks[j] { counts[rank * bins / (kept + 1)] += 1 }
            let chiSquare = counts.reduce(0) { $0 + ($1 - expected) * ($1 - expected) / expected }
            #expect(chiSquare < 43.82, "\(names[j]): χ² = \(chiSquare), counts \(counts)")
        }
    }
}
