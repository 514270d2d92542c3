import CGSL
import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// Draws from the model's joint distribution: every scale prior's draws
/// against its exact CDF, and the binomial successes against their means.
@Suite struct PriorPredictiveTests {
    /// P(σ ≤ s) in closed form (GSL's CDFs).
    static func cdf(_ prior: ScalePrior, _ s: Double) -> Double {
        switch prior {
        case let .halfT(nu, scale): 2 * gsl_cdf_tdist_P(s / scale, nu) - 1
        case let .halfCauchy(scale): 2 / Double.pi * atan(s / scale)
        case let .halfNormal(scale): erf(s / (scale * 2.0.squareRoot()))
        // σ² ~ IG(a, b) ⟺ 1/σ² ~ Gamma(a, rate b): P(σ ≤ s) = P(1/σ² ≥ 1/s²).
        case let .inverseGamma(shape, scale): gsl_cdf_gamma_Q(1 / (s * s), shape, 1 / scale)
        case let .uniform(lower, upper): min(max((s - lower) / (upper - lower), 0), 1)
        case let .exponential(rate): -expm1(-rate * s)
        case let .lognormal(mu, sigma): gsl_cdf_ugaussian_P((log(s) - mu) / sigma)
        }
    }

    /// At the empirical p-quantile q̂ of n draws, F(q̂) is p within a
    /// binomial standard error √(p(1 − p)/n); checked at p = 0.05, 0.1, …,
    /// 0.95 with z < 4.5 (a false alarm about once in 10⁴ runs of the suite).
    @Test(arguments: [
        ScalePrior.halfT(degrees: 3, scale: 0.7), .halfCauchy(scale: 2), .halfNormal(scale: 1.5),
        .inverseGamma(shape: 2, scale: 0.5), .uniform(lower: 0.1, upper: 3), .exponential(rate: 1 / 0.7),
        .lognormal(mu: -1, sigma: 0.5),
    ])
    func scalePriorDrawsFollowTheExactCDF(prior: ScalePrior) throws {
        let generator = try Generator(seed: 17)
        let n = 40_000
        let draws = (0..<n).map { _ in prior.draw(using: generator) }.sorted()
        #expect(draws.allSatisfy { $0 > prior.support.lower && $0 < prior.support.upper && $0.isFinite })
        for p in stride(from: 0.05, through: 0.951, by: 0.05) {
            let quantile = draws[Int(p * Double(n)) - 1]
            let z = (PriorPredictiveTests.cdf(prior, quantile) - p) / (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(z) < 4.5, "\(prior) at p = \(p): F(q̂) = \(PriorPredictiveTests.cdf(prior, quantile))")
        }
    }

    /// Coefficients from their normal priors and effects N(0, σ²): the
    /// sample means and SDs over many draws of θ, against the priors'.
    @Test func parametersFollowThePriors() throws {
        let design = try CalibrationTests.design()
        var priors = Priors()
        priors.intercept = NormalPrior(mean: -0.5, standardDeviation: 0.8)
        priors.standardDeviations = .exponential(rate: 2)
        priors.standardDeviation["stylist"] = .uniform(lower: 0.5, upper: 1.5)
        let generator = try Generator(seed: 3)
        let n = 20_000
        var intercepts: [Double] = [], sds: [[Double]] = [[], []], scaled: [Double] = []
        for _ in 0..<n {
            let theta = PriorPredictive.parameters(design, priors, using: generator)
            intercepts.append(theta.coefficients[0])
            for k in 0..<2 { sds[k].append(theta.standardDeviations[k]) }
            scaled.append(theta.effects[1][2] / theta.standardDeviations[1])   // u/σ ~ N(0, 1)
        }
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        func sd(_ x: [Double]) -> Double {
            let m = mean(x)
            return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
        }
        let root = Double(n).squareRoot()
        #expect(abs(mean(intercepts) + 0.5) < 4.5 * 0.8 / root)
        #expect(abs(sd(intercepts) - 0.8) < 4.5 * 0.8 / (2 * Double(n)).squareRoot())
        #expect(abs(mean(sds[0]) - 0.5) < 4.5 * 0.5 / root)                    // exponential(2): mean = sd = 1/2
        #expect(abs(mean(sds[1]) - 1) < 4.5 * (1 / 12.0).squareRoot() / root)  // uniform(0.5, 1.5)
        #expect(sds[1].allSatisfy { $0 > 0.5 && $0 < 1.5 })
        #expect(abs(mean(scaled)) < 4.5 / root && abs(sd(scaled) - 1) < 4.5 / (2 * Double(n)).squareRoot())
    }

    /// Successes of each cell given θ: Binomial(nᵢ, F(ψᵢ)), checked by their
    /// means over repeated draws, for the logit and the probit.
    @Test(arguments: [Link.logit, .probit])
    func successesHaveTheirBinomialMeans(link: Link) throws {
        let design = try CalibrationTests.design()
        let coefficients = [-0.3]
        let effects = [[0.5, -1, 0.2, 1.2], [-0.4, 0, 0.9]]
        let generator = try Generator(seed: 5)
        let repetitions = 20_000
        var totals = [Double](repeating: 0, count: design.cellCount)
        for _ in 0..<repetitions {
            let y = PriorPredictive.successes(design, link: link, coefficients: coefficients, effects: effects,
                                              using: generator)
            #expect(zip(y, design.trials).allSatisfy { $0 >= 0 && $0 <= $1 && $0 == $0.rounded() })
            for i in totals.indices { totals[i] += y[i] }
        }
        for i in 0..<design.cellCount {
            let psi = coefficients[0] + effects[0][Int(design.randomTerms[0].levelOfCell[i])]
                + effects[1][Int(design.randomTerms[1].levelOfCell[i])]
            let p = link.probability(psi), n = design.trials[i]
            let se = (n * p * (1 - p) / Double(repetitions)).squareRoot()
            #expect(abs(totals[i] / Double(repetitions) - n * p) < 4.5 * se, "cell \(i)")
        }
    }
}
