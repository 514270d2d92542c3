import CVectorMath
import Diagnostics
import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// The links' likelihoods and the adaptive Metropolis-within-Gibbs kernel
/// against exact answers and against the Pólya–Gamma Gibbs sampler.
@Suite struct MetropolisTests {
    // MARK: Links

    /// y log F + (n − y) log(1 − F) with F computed directly, where that is
    /// accurate (moderate η).
    static func direct(_ link: Link, _ y: Double, _ n: Double, _ eta: Double) -> Double {
        let p: Double
        switch link {
        case .logit: p = 1 / (1 + exp(-eta))
        case .probit: p = 0.5 * erfc(-eta / 2.0.squareRoot())
        case .cloglog: p = 1 - exp(-exp(eta))
        }
        return (y > 0 ? y * log(p) : 0) + (n > y ? (n - y) * log(1 - p) : 0)
    }

    @Test(arguments: Link.allCases)
    func likelihoodMatchesDirectFormula(_ link: Link) {
        // cloglog's direct 1 − F loses digits above η = 1.5 (F > 0.989).
        for eta in stride(from: -4.0, through: link == .cloglog ? 1.5 : 3.0, by: 0.25) {
            for (y, n) in [(0.0, 1.0), (1.0, 1.0), (3.0, 7.0), (0.0, 5.0), (5.0, 5.0), (2.5, 4.0)] {
                let value = link.logLikelihood(successes: y, trials: n, linearPredictor: eta)
                let truth = MetropolisTests.direct(link, y, n, eta)
                #expect(abs(value - truth) <= 1e-12 * max(1, abs(truth)), "\(link) y=\(y) n=\(n) η=\(eta): \(value) vs \(truth)")
            }
        }
    }

    /// Far tails, where the direct formulas under- or overflow, against
    /// asymptotic expansions.
    @Test func likelihoodTails() {
        func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-10) -> Bool {
            abs(a - b) <= tolerance * abs(b)
        }
        // logit: log F(η) = η − log1p(e^η) ≈ η for η → −∞; log(1 − F(η)) ≈ −η for η → ∞.
        #expect(close(Link.logit.logLikelihood(successes: 1, trials: 1, linearPredictor: -800), -800))
        #expect(close(Link.logit.logLikelihood(successes: 0, trials: 3, linearPredictor: 800), -2400))
        #expect(close(Link.logit.logLikelihood(successes: 1, trials: 1, linearPredictor: 40), -exp(-40.0)))
        // probit: log Φ(x) = −x²/2 − log(−x) − ½log 2π + log(1 − 1/x² + 3/x⁴ − 15/x⁶ …), x → −∞.
        for x in [-40.0, -200.0] {
            let series = 1 - 1 / (x * x) + 3 / pow(x, 4) - 15 / pow(x, 6) + 105 / pow(x, 8)
            let asymptotic = -x * x / 2 - log(-x) - 0.5 * log(2 * Double.pi) + log(series)
            #expect(close(Link.probit.logLikelihood(successes: 1, trials: 1, linearPredictor: x), asymptotic, 1e-12))
            #expect(close(Link.probit.logLikelihood(successes: 0, trials: 1, linearPredictor: -x), asymptotic, 1e-12))
        }
        // log Φ(10) ≈ −Φ(−10) = −erfc(10/√2)/2 ≈ −7.62e−24, in relative precision.
        #expect(close(Link.probit.logLikelihood(successes: 2, trials: 2, linearPredictor: 10),
                      -erfc(10 / 2.0.squareRoot())))
        // cloglog: log F(η) = log(1 − exp(−e^η)) ≈ η − e^η/2 for η → −∞, ≈ −exp(−e^η) for η → ∞.
        #expect(close(Link.cloglog.logLikelihood(successes: 1, trials: 1, linearPredictor: -50), -50))
        #expect(close(Link.cloglog.logLikelihood(successes: 1, trials: 1, linearPredictor: -800), -800))
        #expect(close(Link.cloglog.logLikelihood(successes: 1, trials: 1, linearPredictor: -20), -20 - exp(-20.0) / 2, 1e-14))
        #expect(close(Link.cloglog.logLikelihood(successes: 1, trials: 1, linearPredictor: 3), -exp(-exp(3.0)), 1e-8))
        #expect(close(Link.cloglog.logLikelihood(successes: 0, trials: 2, linearPredictor: 5), -2 * exp(5.0)))
        for link in Link.allCases {
            for eta in [-1e3, -40.0, 40, 1e3] {
                for (y, n) in [(0.0, 1.0), (1.0, 1.0), (1.0, 2.0)] {
                    let value = link.logLikelihood(successes: y, trials: n, linearPredictor: eta)
                    if link == .cloglog && eta == 1e3 && n > y {
                        #expect(value == -.infinity)    // −(n − y)e^η overflows
                    } else {
                        #expect(value.isFinite && value <= 0, "\(link) y=\(y) n=\(n) η=\(eta): \(value)")
                    }
                }
            }
        }
    }

    /// `Link.scoreAndInformation`: the score against central differences of
    /// the log-likelihood, the information against −E ℓ″: ℓ is linear in y, so the expected
    /// second derivative is ℓ″ at y = nF(η), also by differences.
    @Test(arguments: Link.allCases)
    func scoreAndInformationMatchDifferences(_ link: Link) {
        let h = 1e-4
        func l(_ y: Double, _ n: Double, _ eta: Double) -> Double {
            link.logLikelihood(successes: y, trials: n, linearPredictor: eta)
        }
        for eta in stride(from: -3.0, through: 2.0, by: 0.5) {
            let p = exp(MetropolisTests.direct(link, 1, 1, eta))
            for (y, n) in [(0.0, 1.0), (1.0, 1.0), (2.0, 5.0), (3.0, 3.0)] {
                let difference = (l(y, n, eta + h) - l(y, n, eta - h)) / (2 * h)
                let score = link.scoreAndInformation(successes: y, trials: n, linearPredictor: eta).score
                #expect(abs(score - difference) <= 1e-7 * max(1, abs(score)), "\(link) y=\(y) n=\(n) η=\(eta)")
                let expected = n * p
                let second = (l(expected, n, eta + h) - 2 * l(expected, n, eta) + l(expected, n, eta - h)) / (h * h)
                let information = link.scoreAndInformation(successes: y, trials: n, linearPredictor: eta).information
                #expect(abs(information + second) <= 1e-5 * max(1, information), "\(link) n=\(n) η=\(eta)")
            }
        }
        // Finite, and of the right sign, far into both tails.
        for eta in [-1e3, -40.0, 40, 1e3] {
            #expect(link.scoreAndInformation(successes: 1, trials: 2, linearPredictor: eta).information.isFinite)
            #expect(link.scoreAndInformation(successes: 1, trials: 1, linearPredictor: eta).score >= 0)
            #expect(link.scoreAndInformation(successes: 0, trials: 1, linearPredictor: eta).score <= 0)
        }
    }

    /// `Link.logLikelihoodScoreAndInformation` (the logit's shares one exp
    /// and one log1p) equals the separate evaluations, also far into the tails.
    @Test(arguments: Link.allCases)
    func fusedEvaluationMatchesSeparate(_ link: Link) {
        // Equal, or within 1e-12 relative (−∞ where the cloglog's failures are impossible).
        func close(_ a: Double, _ b: Double) -> Bool { a == b || abs(a - b) <= 1e-12 * max(1, abs(b)) }
        for eta in [-800.0, -40, -7.3, -2, -0.5, 0, 0.25, 3, 41, 750] {
            for (y, n) in [(0.0, 1.0), (1.0, 1.0), (2.0, 5.0), (3.0, 3.0)] {
                let fused = link.logLikelihoodScoreAndInformation(successes: y, trials: n, linearPredictor: eta)
                let l = link.logLikelihood(successes: y, trials: n, linearPredictor: eta)
                let (g, h) = link.scoreAndInformation(successes: y, trials: n, linearPredictor: eta)
                #expect(close(fused.logLikelihood, l), "\(link) y=\(y) n=\(n) η=\(eta)")
                #expect(close(fused.score, g), "\(link) y=\(y) n=\(n) η=\(eta)")
                #expect(close(fused.information, h), "\(link) y=\(y) n=\(n) η=\(eta)")
            }
        }
    }

    /// The vectorised sums and per-cell values of the logit
    /// (`CVectorMath`, every path this machine has: scalar and, with AVX2,
    /// four lanes) equal `Link`'s scalar values to within the vector functions'
    /// few ulp, with ψ from −800 to 750, 1 to 20 trials, and cell counts
    /// that leave a tail after the last full vector.
    @Test
    func vectorSumsMatchPerCellValues() {
        var eta: [Double] = [], y: [Double] = [], n: [Double] = []
        for e in [-800.0, -40, -7.3, -2, -0.5, 0, 0.25, 3, 41, 750] {
            for (s, t) in [(0.0, 1.0), (1.0, 1.0), (2.0, 5.0), (3.0, 3.0), (16.0, 16.0), (4.0, 20.0), (0.0, 0.0)] {
                eta.append(e); y.append(s); n.append(t)
            }
        }
        for _ in 0..<57 { eta.append(Double(eta.count % 23) * 0.37 - 6); y.append(Double(eta.count % 3)); n.append(3) }
        func close(_ a: Double, _ b: Double, _ scale: Double) -> Bool { a == b || abs(a - b) <= 1e-14 * max(1, scale) }
        let paths = (0...1).filter { vector_logit_log_likelihood_by(Int32($0), [0.5], [1], [2], 1).isFinite }
        #expect(paths.contains(0) && paths.contains(Int(vector_logit_path())))
        for count in [eta.count, eta.count - 1, eta.count - 2, eta.count - 3, 3, 1, 0] {
            let reference = (0..<count).map {
                Link.logit.logLikelihoodScoreAndInformation(successes: y[$0], trials: n[$0], linearPredictor: eta[$0])
            }
            let total = reference.reduce(0) { $0 + $1.logLikelihood }
            let magnitude = reference.reduce(0) { $0 + abs($1.logLikelihood) }
            for path in paths {
                let sum = vector_logit_log_likelihood_by(Int32(path), eta, y, n, count)
                #expect(abs(sum - total) <= Double(count + 1) * 1e-15 * max(1, magnitude), "path \(path), \(count) cells")
                var value = [Double](repeating: .nan, count: count), score = value, information = value
                #expect(vector_logit_cells_by(Int32(path), eta, y, n, count, &value, &score, &information) == 0)
                for i in 0..<count {
                    #expect(close(value[i], reference[i].logLikelihood, abs(reference[i].logLikelihood)), "path \(path), cell \(i)")
                    #expect(close(score[i], reference[i].score, n[i]), "path \(path), cell \(i)")
                    #expect(close(information[i], reference[i].information, n[i]), "path \(path), cell \(i)")
                }
            }
            // What the kernels call: the machine's own path.
            let cells = Array(0..<count)
            let sum = Link.logit.logLikelihood(successes: cells.map { y[$0] }, trials: cells.map { n[$0] },
                                               linearPredictors: cells.map { eta[$0] })
            #expect(abs(sum - total) <= Double(count + 1) * 1e-15 * max(1, magnitude))
        }
    }

    /// `LogOfProduct` keeps products far beyond the range of a double.
    @Test
    func logOfProductLeavesNoOverflow() {
        // Products far beyond the range of a double, both ways.
        var product = LogOfProduct(), small = LogOfProduct()
        for _ in 0..<2000 { product.multiply(by: 1e10); small.multiply(by: 1e-10) }
        product.multiply(by: .greatestFiniteMagnitude)
        small.multiply(by: .leastNonzeroMagnitude)
        #expect(abs(product.value - (2000 * log(1e10) + log(.greatestFiniteMagnitude))) < 1e-9 * product.value)
        #expect(abs(small.value - (2000 * log(1e-10) + log(.leastNonzeroMagnitude))) < 1e-9 * abs(small.value))
    }

    // MARK: The kernel

    /// Mean, its MCSE and R-hat of one parameter's draws.
    static func summary(_ draws: ChainDraws, _ name: String) throws -> (mean: Double, mcse: Double, rhat: Double) {
        let d = try Draws(chains: try #require(draws.series(name)))
        let mean: Double? = Diagnostics.mean(d)
        return (try #require(mean), try #require(mcseMean(d)), try #require(rhat(d)))
    }

    @Test(arguments: [Link.logit, .probit])
    func oneFactorPosteriorMatchesQuadrature(_ link: Link) throws {
        try MetropolisTests.expectOneFactorQuadrature(MetropolisWithinGibbs(design: try GibbsTests.design(), link: link),
                                                      link: link, warmup: 1000, label: "\(link)")
    }

    /// The one-factor model of `GibbsTests` sampled by `kernel` (4 chains,
    /// 5,000 draws, seed 9): the posterior means of the intercept and the SD
    /// within 4 MCSE of quadrature, R-hat below 1.01.
    static func expectOneFactorQuadrature<K: SamplingKernel>(_ kernel: K, link: Link, warmup: Int,
                                                             label: String) throws {
        let draws = try Chains.run(kernel, settings: ChainSettings(chains: 4, warmup: warmup, draws: 5000, seed: 9))
        let exact = GibbsTests.quadrature(link: link)
        for (name, truth) in [("(Intercept)", exact.alpha), ("sd(g)", exact.sigma)] {
            let s = try MetropolisTests.summary(draws, name)
            let z = (s.mean - truth) / s.mcse
            let line = "\(label) \(name): MCMC \(s.mean) ± \(s.mcse), quadrature \(truth), z = \(z), R-hat \(s.rhat)"
            print(line)
            #expect(abs(z) < 4, "\(line)")
            #expect(s.rhat < 1.01, "\(label) \(name) R-hat \(s.rhat)")
        }
    }

    /// A small crossed data set with a covariate: 40 clients, 8 stylists,
    /// α = −0.5, β = 0.7, σ_client = 0.8, σ_stylist = 0.4.
    static func crossed() throws -> Design {
        var simulation = Simulation()
        simulation.clients = 40
        simulation.stylists = 8
        simulation.coefficients = [0.7]
        simulation.seed = 5
        let out = try simulation.run()
        let frame = DesignTests.frame([
            ("y", out.y.map { String($0) }), ("x", out.covariates[0].map { String($0) }),
            ("client", out.client.map { "c\($0)" }), ("stylist", out.stylist.map { "s\($0)" }),
        ])
        return try Design(formula: ModelFormula.parse("y ~ x + (1|client) + (1|stylist)"), frame: frame)
    }

    @Test func agreesWithGibbsOnCrossedData() throws {
        let design = try MetropolisTests.crossed()
        let settings = ChainSettings(chains: 4, warmup: 1000, draws: 3000, seed: 21)
        let metropolis = try Chains.run(MetropolisWithinGibbs(design: design), settings: settings)
        let gibbs = try Chains.run(PolyaGammaGibbs(design: design), settings: settings)
        let names = ["(Intercept)", "x", "sd(client)", "sd(stylist)", "r(client)[c1]", "r(client)[c2]",
                     "r(client)[c3]", "r(stylist)[s1]", "r(stylist)[s2]"]
        for name in names {
            let a = try MetropolisTests.summary(metropolis, name), b = try MetropolisTests.summary(gibbs, name)
            let z = (a.mean - b.mean) / (a.mcse * a.mcse + b.mcse * b.mcse).squareRoot()
            let line = "\(name): Metropolis \(a.mean) ± \(a.mcse), Gibbs \(b.mean) ± \(b.mcse), z = \(z)"
            print(line)
            #expect(abs(z) < 4, "\(line)")
            #expect(a.rhat < 1.05, "\(name): Metropolis R-hat \(a.rhat)")
        }
    }

    /// After warm-up the acceptance rates are near their targets (0.234 for
    /// the β block, 0.44 for the univariate steps), and the tuning no longer
    /// changes.
    @Test func adaptsDuringWarmupOnlyTowardsTargets() throws {
        let kernel = MetropolisWithinGibbs(design: try MetropolisTests.crossed())
        let generator = try Generator(seed: 2, chain: 0, stream: 0)
        var state = kernel.initialState(using: generator)
        for _ in 0..<1000 { state = kernel.step(state, using: generator).0 }
        #expect(state.adaptation.sweeps == 1000 && state.adaptation.isAdapting)
        state = kernel.endWarmup(state)
        let frozen = state.adaptation
        var fixed = 0.0, effects = [0.0, 0.0], centred = [0.0, 0.0], joint = [0.0, 0.0]
        let sweeps = 1000
        for _ in 0..<sweeps {
            let (next, info) = kernel.step(state, using: generator)
            state = next
            #expect(state.adaptation == frozen)
            fixed += try #require(info.fixedAcceptance) / Double(sweeps)
            for k in 0..<2 {
                effects[k] += info.effectAcceptance[k] / Double(sweeps)
                centred[k] += info.scaleAcceptance[k] / Double(sweeps)
                joint[k] += info.jointScaleAcceptance[k] / Double(sweeps)
            }
        }
        let band = 0.15...0.6
        #expect(band.contains(fixed), "β block acceptance \(fixed)")
        for k in 0..<2 {
            #expect(band.contains(effects[k]), "term \(k) effects acceptance \(effects[k])")
            #expect(band.contains(centred[k]), "term \(k) centred log σ acceptance \(centred[k])")
            #expect(band.contains(joint[k]), "term \(k) joint log σ acceptance \(joint[k])")
        }
        print("acceptance: β \(fixed), effects \(effects), centred σ \(centred), joint σ \(joint)")
    }

    /// A bounded-uniform prior on σ that the default start (σ uniform on
    /// (0.2, 2)) misses: the start is moved inside, and every draw stays in.
    @Test func boundedPriorStartsAndStaysInside() throws {
        var priors = Priors()
        priors.standardDeviations = .uniform(lower: 2.5, upper: 3)
        let kernel = MetropolisWithinGibbs(design: try GibbsTests.design(), priors: priors, link: .probit)
        let draws = try Chains.run(kernel, settings: ChainSettings(chains: 2, warmup: 200, draws: 500, seed: 6))
        let sds = try #require(draws.series("sd(g)")).flatMap { $0 }
        #expect(sds.allSatisfy { $0 > 2.5 && $0 < 3 })
        #expect(Set(sds).count > 50)    // and it moves
    }

    @Test func sameSeedSameDrawsWhateverTheThreads() throws {
        try GibbsTests.expectReproducible(MetropolisWithinGibbs(design: try MetropolisTests.crossed(), link: .cloglog))
    }
}
