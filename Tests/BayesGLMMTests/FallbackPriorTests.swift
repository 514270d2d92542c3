import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// SD priors without a conjugate update (lognormal, bounded uniform,
/// exponential): the Gibbs sampler's slice steps against quadrature, and the
/// support of a bounded uniform respected from the start.
@Suite struct FallbackPriorTests {
    /// The one-factor model of `GibbsTests` with σ ~ `prior`.
    static func kernel(_ prior: ScalePrior) throws -> PolyaGammaGibbs {
        var priors = Priors()
        priors.standardDeviations = prior
        return PolyaGammaGibbs(design: try GibbsTests.design(), priors: priors)
    }

    /// Each prior with the σ range of its quadrature: the support, cut where
    /// the prior's mass beyond is below e⁻²⁰ (so that the grid stays short).
    static let cases: [(ScalePrior, ClosedRange<Double>)] = [
        (.lognormal(mu: 0, sigma: 0.5), 1e-3...20),
        (.uniform(lower: 0.5, upper: 2.5), 0.5...2.5),
        (.exponential(rate: 1), 1e-3...25),
    ]

    @Test(arguments: cases.indices)
    func posteriorMatchesQuadrature(index: Int) throws {
        let (prior, sigmas) = FallbackPriorTests.cases[index]
        let draws = try Chains.run(try FallbackPriorTests.kernel(prior),
                                   settings: ChainSettings(chains: 4, warmup: 300, draws: 3000, seed: 11))
        let exact = GibbsTests.quadrature(logPrior: { prior.logDensity(standardDeviation: $0) }, sigmas: sigmas)
        try GibbsTests.expectMeans(of: draws, ["(Intercept)": exact.alpha, "sd(g)": exact.sigma], "\(prior)")
        let (lower, upper) = prior.support
        let sigmaDraws = try #require(draws.series("sd(g)")).joined()
        #expect(sigmaDraws.allSatisfy { $0 > lower && $0 < upper })
    }

    /// With every σ update (collapsed, centred σ | u, non-centred) and a
    /// support that the default start (σ uniform on (0.2, 2)) misses
    /// entirely, every draw of σ stays in (2.5, 3).
    @Test(arguments: [true, false])
    func boundedUniformDrawsStayInTheSupport(collapsed: Bool) throws {
        let prior = ScalePrior.uniform(lower: 2.5, upper: 3)
        var kernel = try FallbackPriorTests.kernel(prior)
        kernel.collapsesScale = collapsed
        let draws = try Chains.run(kernel, settings: ChainSettings(chains: 4, warmup: 0, draws: 500, seed: 5))
        let sigmas = try #require(draws.series("sd(g)")).joined()
        #expect(sigmas.allSatisfy { $0 > 2.5 && $0 < 3 })
        // And σ moves: the slice steps do not stick at the clamped start.
        #expect(Set(sigmas).count > 450)
    }

    @Test func initialStateIsMovedInsideTheSupport() throws {
        let unbounded = try FallbackPriorTests.kernel(.exponential(rate: 1))
        let bounded = try FallbackPriorTests.kernel(.uniform(lower: 2.5, upper: 3))
        for seed in 0..<20 as Range<UInt64> {
            let start = unbounded.initialState(using: try Generator(seed: seed))
            let moved = bounded.initialState(using: try Generator(seed: seed))
            let sigma = start.standardDeviations[0], inside = moved.standardDeviations[0]
            #expect(abs(inside - 2.505) < 1e-12)
            // The effects are scaled with σ: u/σ is the same.
            for (u, v) in zip(start.effects[0], moved.effects[0]) {
                #expect(abs(u / sigma - v / inside) < 1e-12)
            }
            #expect(start.coefficients == moved.coefficients)
        }
    }

    /// fit.json's priors section (`Priors.describe`) shows the new priors in
    /// the syntax `--prior` reads back.
    @Test func describedAndParsedBack() throws {
        let priors = try Priors(specifications: ["sd ~ lognormal(-0.5, 0.25)", "sd(b) ~ uniform(0.5, 2)"],
                                terms: ["a", "b"], fixed: [])
        let lines = priors.describe(terms: ["a", "b"], fixed: [])
        #expect(lines == ["sd(a) ~ lognormal(-0.5, 0.25)  (from sd)", "sd(b) ~ uniform(0.5, 2)"])
        #expect(priors.scale("a") == .lognormal(mu: -0.5, sigma: 0.25))
        #expect(priors.scale("b") == .uniform(lower: 0.5, upper: 2))
    }
}

extension GibbsTests {
    /// Checks that the posterior mean of each parameter named in `truths`
    /// is within 4 MCSE of its exact value, and that its R-hat is below 1.01.
    static func expectMeans(of draws: ChainDraws, _ truths: [String: Double], _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (name, truth) in truths.sorted(by: { $0.key < $1.key }) {
            let d = try Draws(chains: try #require(draws.series(name), sourceLocation: sourceLocation))
            let meanValue: Double? = Diagnostics.mean(d)
            let mean = try #require(meanValue, sourceLocation: sourceLocation)
            let mcse = try #require(mcseMean(d), sourceLocation: sourceLocation)
            let z = (mean - truth) / mcse
            #expect(abs(z) < 4, "\(label) \(name): MCMC \(mean) ± \(mcse), quadrature \(truth), z = \(z)",
                    sourceLocation: sourceLocation)
            #expect(try #require(rhat(d), sourceLocation: sourceLocation) < 1.01, "\(label) \(name) R-hat",
                    sourceLocation: sourceLocation)
        }
    }
}
