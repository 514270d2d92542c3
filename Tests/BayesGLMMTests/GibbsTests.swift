import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// The Pólya–Gamma Gibbs sampler against exact answers.
@Suite struct GibbsTests {
    /// A one-factor model: level j has yⱼ successes in nⱼ trials,
    /// logit pⱼ = α + uⱼ, uⱼ ~ N(0, σ²), α ~ N(0, 2.5²), σ ~ half-t(3, 0, 2.5).
    static let successes: [Double] = [2, 6, 9]
    static let trials: [Double] = [10, 10, 12]

    static func design() throws -> Design {
        var y: [String] = [], g: [String] = []
        for (j, (s, n)) in zip(successes, trials).enumerated() {
            for r in 0..<Int(n) { y.append(r < Int(s) ? "1" : "0"); g.append("g\(j)") }
        }
        let frame = DesignTests.frame([("y", y), ("g", g)])
        return try Design(formula: ModelFormula.parse("y ~ (1|g)"), frame: frame)
    }

    /// Posterior means of α and σ by quadrature: an (α, log σ) grid, and for
    /// each point the integral over each uⱼ = σt, t ~ N(0, 1), on a t grid fine
    /// enough for the binomial factor (step min(0.05, 0.1/σ) on [−8, 8]).
    /// `logPrior` is log p(σ) (by default half-t(3, 0, 2.5)); the log σ grid is
    /// the midpoints of cells about 0.1 wide spanning `sigmas`, so that a prior
    /// bounded at the range's ends is integrated to second order. `link`
    /// is F in pⱼ = F(α + uⱼ); the likelihood is written out here,
    /// independently of `Link.logLikelihood` (probit's Φ from erfc).
    ///
    /// `successes`, `trials` and `offsets` (oⱼ in pⱼ = F(oⱼ + α + uⱼ)) may
    /// be other than the model's (fractional counts included).
    static func quadrature(
        logPrior: (Double) -> Double = { ScalePrior.halfT(degrees: 3, scale: 2.5).logDensity(standardDeviation: $0) },
        sigmas: ClosedRange<Double> = 1e-3...60, link: Link = .logit,
        successes: [Double] = GibbsTests.successes, trials: [Double] = GibbsTests.trials, offsets: [Double]? = nil
    ) -> (alpha: Double, sigma: Double, sigmaSD: Double) {
        let offsets = offsets ?? [Double](repeating: 0, count: successes.count)
        func logBinomial(_ y: Double, _ n: Double, _ v: Double) -> Double {
            switch link {   // up to a constant
            case .logit: return y * v - n * log1p(exp(v))
            case .probit:
                let p = 0.5 * erfc(-v / 2.0.squareRoot()), q = 0.5 * erfc(v / 2.0.squareRoot())
                return (y > 0 ? y * log(p) : 0) + (n > y ? (n - y) * log(q) : 0)
            case .cloglog:
                return (y > 0 ? y * log(-expm1(-exp(v))) : 0) - (n - y) * exp(v)
            }
        }
        let alphas = stride(from: -5.0, through: 5.0, by: 0.05).map { $0 }
        let (low, high) = (log(sigmas.lowerBound), log(sigmas.upperBound))
        let cells = Int(((high - low) / 0.1).rounded(.up))
        let logSigmas = (0..<cells).map { low + (Double($0) + 0.5) * (high - low) / Double(cells) }
        var total = 0.0, alphaSum = 0.0, sigmaSum = 0.0, sigmaSquares = 0.0
        for ls in logSigmas {
            let sigma = exp(ls)
            let step = min(0.05, 0.1 / sigma)
            let ts = stride(from: -8.0, through: 8.0, by: step).map { $0 }
            let weights = ts.map { exp(-0.5 * $0 * $0) * step / (2 * Double.pi).squareRoot() }
            var logs = [Double](repeating: 0, count: ts.count)     // reused: the loop is hot
            for alpha in alphas {
                var logLikelihood = 0.0
                for j in 0..<successes.count {
                    // Shift by the maximum for stability.
                    var top = -Double.infinity
                    for m in ts.indices {
                        logs[m] = logBinomial(successes[j], trials[j], offsets[j] + alpha + sigma * ts[m])
                        top = max(top, logs[m])
                    }
                    var integral = 0.0
                    for m in ts.indices { integral += weights[m] * exp(logs[m] - top) }
                    logLikelihood += top + log(integral)
                }
                let logPosterior = logLikelihood - alpha * alpha / (2 * 6.25)
                    + logPrior(sigma) + ls       // dσ = σ d log σ
                let w = exp(logPosterior + 20)
                total += w
                alphaSum += w * alpha
                sigmaSum += w * sigma
                sigmaSquares += w * sigma * sigma
            }
        }
        let meanSigma = sigmaSum / total
        return (alphaSum / total, meanSigma, (sigmaSquares / total - meanSigma * meanSigma).squareRoot())
    }

    @Test func oneFactorPosteriorMatchesQuadrature() throws {
        let kernel = PolyaGammaGibbs(design: try GibbsTests.design())
        let draws = try Chains.run(kernel, settings: ChainSettings(chains: 4, warmup: 500, draws: 5000, seed: 9))
        let exact = GibbsTests.quadrature()
        for (name, truth) in [("(Intercept)", exact.alpha), ("sd(g)", exact.sigma)] {
            let series = try #require(draws.series(name))
            let d = try Draws(chains: series)
            let meanValue: Double? = Diagnostics.mean(d)
            let mean = try #require(meanValue)
            let mcse = try #require(mcseMean(d))
            let z = (mean - truth) / mcse
            #expect(abs(z) < 4, "\(name): MCMC \(mean) ± \(mcse), quadrature \(truth), z = \(z)")
            #expect(try #require(rhat(d)) < 1.01, "\(name) R-hat")
        }
    }

    @Test func sameSeedSameDrawsWhateverTheThreads() throws {
        try GibbsTests.expectReproducible(PolyaGammaGibbs(design: try GibbsTests.design()))
    }

    /// A kernel's draws depend on the seed alone: the same with and without
    /// threads, different for another seed.
    static func expectReproducible<K: SamplingKernel>(_ kernel: K) throws {
        let settings = ChainSettings(chains: 4, warmup: 20, draws: 50, seed: 3)
        let parallel = try Chains.run(kernel, settings: settings, parallel: true)
        let serial = try Chains.run(kernel, settings: settings, parallel: false)
        #expect(parallel.values == serial.values)
        let other = try Chains.run(kernel, settings: ChainSettings(chains: 4, warmup: 20, draws: 50, seed: 4))
        #expect(other.values != serial.values)
    }
}
