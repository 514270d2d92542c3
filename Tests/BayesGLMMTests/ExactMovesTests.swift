import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// The exact-likelihood moves of `PolyaGammaGibbs` (`ExactMoves`): each one
/// must leave the posterior invariant, which Geweke's (2004)
/// joint-distribution test checks move by move, and the automatic choice
/// between them and the augmentation follows the overall success rate.
@Suite struct ExactMovesTests {
    /// 4 clients x 3 stylists, 3 trials per pair, a covariate per cell.
    static func design(formula: String = "y ~ x + (1|client) + (1|stylist)") throws -> Design {
        var y: [String] = [], x: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<4 {
            for s in 0..<3 {
                for r in 0..<3 {
                    y.append(r == 0 ? "1" : "0")
                    x.append(String(Double((c * 3 + s) % 5) / 2 - 1))
                    client.append("c\(c)")
                    stylist.append("s\(s)")
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("x", x), ("client", client), ("stylist", stylist)])
        return try Design(formula: ModelFormula.parse(formula), frame: frame)
    }

    static func priors(interceptMean: Double = 0) -> Priors {
        var p = Priors()
        p.intercept = NormalPrior(mean: interceptMean, standardDeviation: 1)
        p.coefficients = NormalPrior(mean: 0, standardDeviation: 1)
        p.standardDeviations = .halfT(degrees: 3, scale: 0.7)
        return p
    }

    /// Test functions of (θ, y), each with a finite variance (under a
    /// half-t(3) prior σ² and u² have none, so they are tested through
    /// indicators): the parameters, β₀², P(σ₀ < ½), P(|u| < ½), and the
    /// data with them.
    static func functions(_ s: PolyaGammaGibbs.State, _ y: [Double]) -> [Double] {
        let beta = s.coefficients
        return beta + [beta[0] * beta[0], s.standardDeviations[0], s.standardDeviations[1],
                       s.standardDeviations[0] < 0.5 ? 1 : 0,
                       s.effects[0][0], s.effects[1][2], abs(s.effects[0][1]) < 0.5 ? 1 : 0,
                       y.reduce(0, +), s.effects[0][1] * y[3]]
    }

    /// |z| per test function between 20,000 independent prior-predictive
    /// draws and 40 successive-conditional chains of 500 (y | θ, then one
    /// sweep θ | y of the kernel `configure` makes), each started from the
    /// prior — the joint chain's stationary distribution — so that the
    /// chains' means are independent and their spread is the standard
    /// error however the chains mix (as `CalibrationTests.gewekeZ`; an
    /// ESS-based standard error is too small where the joint chain makes
    /// long excursions into a half-t tail). z is about Student-t with 39
    /// degrees of freedom: P(|z| ≥ 4) = 2.7e-4 per function.
    static func gewekeScores(design: Design, priors: Priors, link: Link = .logit, seed: UInt64,
                             configure: (Design) -> PolyaGammaGibbs) throws -> [Double] {
        let count = 20_000, chains = 40
        let g = try Generator(seed: seed, chain: 0, stream: 0)
        var independent: [[Double]] = []
        for _ in 0..<count {
            let theta = PriorPredictive.parameters(design, priors, using: g)
            let y = PriorPredictive.successes(design, link: link, coefficients: theta.coefficients,
                                              effects: theta.effects, using: g)
            let f = functions(theta, y)
            if independent.isEmpty { independent = Array(repeating: [], count: f.count) }
            for (j, v) in f.enumerated() { independent[j].append(v) }
        }
        var chainMeans = [[Double]](repeating: [], count: independent.count)
        for c in 0..<chains {
            let h = try Generator(seed: seed, chain: UInt64(c + 1), stream: 0)
            var theta = PriorPredictive.parameters(design, priors, using: h)
            var sums = [Double](repeating: 0, count: independent.count)
            for _ in 0..<(count / chains) {
                let y = PriorPredictive.successes(design, link: link, coefficients: theta.coefficients,
                                                  effects: theta.effects, using: h)
                theta = configure(design.replacingSuccesses(y)).step(theta, using: h).0
                for (j, v) in functions(theta, y).enumerated() { sums[j] += v }
            }
            for j in sums.indices { chainMeans[j].append(sums[j] / Double(count / chains)) }
        }
        func meanAndVariance(_ v: [Double]) -> (Double, Double) {
            let mean = v.reduce(0, +) / Double(v.count)
            return (mean, v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1))
        }
        return independent.indices.map { j in
            let (meanA, varA) = meanAndVariance(independent[j])
            let (meanB, varB) = meanAndVariance(chainMeans[j])
            return abs(meanA - meanB) / (varA / Double(count) + varB / Double(chains)).squareRoot()
        }
    }

    /// The exact moves without the centring, the dilation alone, all but
    /// the attenuation (`standard`) and with the attenuating scale step too
    /// (`all`) (levels,
    /// coefficients and scales are each needed for the chain to reach every
    /// parameter). With 11 test functions, |z| < 4 for all has probability
    /// 0.997 under a correct kernel (for `all`, over seeds 1–3 at intercept means 0 and
    /// −3 the largest of 66 was 3.6); dropping the attenuating step's Jacobian
    /// g(σ)^p gives |z| up to 18, dropping the dilation's λ^(p + K) up to 86. (Dropping the levels' reverse proposal
    /// density, a small asymmetry where the conditionals are near Gaussian,
    /// was not detected: the Newton steps' correctness rests on
    /// `newtonGaussian` and the agreement with Stan.)
    @Test(arguments: ["levels,coefficients,scales", "dilation", "standard", "all"])
    func gewekeEachMove(moves: String) throws {
        let design = try ExactMovesTests.design()
        let priors = ExactMovesTests.priors()
        let exact = try #require(ExactMoves(names: moves))
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, seed: 2017) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors)
            kernel.updates = .exact
            kernel.exactMoves = exact
            return kernel
        }
        for (j, z) in scores.enumerated() {
            #expect(z < 4, "\(moves): test function \(j), |z| = \(z)")
        }
    }

    /// The augmented sweep with its step 4 (nested centring and dilation)
    /// and with the attenuation too, on a design with pairs nested in
    /// clients (`Nesting`), so that the nested centring runs.
    @Test(arguments: ["standard", "all"])
    func gewekeAugmentedNested(moves: String) throws {
        let design = try ExactMovesTests.design(formula: "y ~ x + (1|client) + (1|client:stylist)")
        let priors = ExactMovesTests.priors()
        let exact = try #require(ExactMoves(names: moves))
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, seed: 2031) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors)
            kernel.updates = .augmented
            kernel.augmentedExactMoves = exact
            #expect(!kernel.nestings.isEmpty)
            return kernel
        }
        for (j, z) in scores.enumerated() { #expect(z < 4, "\(moves): test function \(j), |z| = \(z)") }
    }

    /// The augmented sweep alone (no step 4) with a term and the term
    /// nested in it drawn as one block (`NestedBlock`): pairs in clients,
    /// written coarse first and fine first, with stylists crossed, and
    /// without fixed effects other than the intercept.
    @Test(arguments: ["y ~ x + (1|client) + (1|client:stylist)", "y ~ x + (1|client:stylist) + (1|client)",
                      "y ~ 1 + (1|client) + (1|stylist) + (1|client:stylist)"])
    func gewekeNestedBlock(formula: String) throws {
        let design = try ExactMovesTests.design(formula: formula)
        let priors = ExactMovesTests.priors()
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, seed: 2039) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors)
            kernel.updates = .augmented
            kernel.augmentedExactMoves = []
            #expect(kernel.nestedBlocks.count == 1)
            return kernel
        }
        for (j, z) in scores.enumerated() { #expect(z < 4, "\(formula): test function \(j), |z| = \(z)") }
    }

    /// The nested block under the probit's Albert–Chib augmentation, whose
    /// κ is drawn every sweep.
    @Test func gewekeNestedBlockProbit() throws {
        let design = try ExactMovesTests.design(formula: "y ~ x + (1|client) + (1|client:stylist)")
        let priors = ExactMovesTests.priors()
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, link: .probit,
                                                      seed: 2041) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors, augmentation: .albertChib)
            kernel.updates = .augmented
            kernel.augmentedExactMoves = []
            #expect(kernel.nestedBlocks.count == 1)
            return kernel
        }
        for (j, z) in scores.enumerated() { #expect(z < 4, "probit: test function \(j), |z| = \(z)") }
    }

    /// `Updates.calibrated`: the augmented sweep and the calibrated
    /// augmentation's Metropolis–Hastings update of the fixed effects, at
    /// about 33% and 7% successes (the rarer calibrates rᵢ < nᵢ). Dropping
    /// the correction (accepting every proposal) gives |z| up to 32.
    @Test(arguments: [0.0, -3.0])
    func gewekeCalibrated(interceptMean: Double) throws {
        let design = try ExactMovesTests.design()
        let priors = ExactMovesTests.priors(interceptMean: interceptMean)
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, seed: 2033) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors)
            kernel.updates = .calibrated
            return kernel
        }
        for (j, z) in scores.enumerated() { #expect(z < 4, "\(interceptMean): test function \(j), |z| = \(z)") }
    }

    /// A calibrated cell keeps the chance of no success and carries the
    /// likelihood's information; where the plain augmentation is no more
    /// precise than the likelihood (η = 0), or successes are not rare, it is
    /// left alone.
    @Test func calibratedCell() {
        for (eta, n) in [(-4.5, 1.0), (-2.0, 3.0), (-7.0, 20.0)] {
            let (r, b) = Calibration.cell(eta: eta, trials: n)
            #expect(r < n && r > 0, "η = \(eta)")
            let softplus = { (t: Double) in max(t, 0) + log1p(exp(-abs(t))) }
            #expect(abs(r * softplus(eta + b) - n * softplus(eta)) < 1e-10 * n * softplus(eta), "η = \(eta)")
            let c = eta + b, f = 1 / (1 + exp(-eta))
            let omega = r * tanh(c / 2) / (2 * c)
            #expect(abs(omega / (n * f * (1 - f)) - 1) < 1e-3, "η = \(eta): E ω = \(omega)")
        }
        for eta in [0.0, 3.5] {
            let (r, b) = Calibration.cell(eta: eta, trials: 4)
            #expect(r == 4 && b == 0)
        }
    }

    /// The rare-event regime, exact moves alone: for the logit the
    /// intercept's prior N(−3, 1) (about 7% successes), for the probit
    /// N(−1.5, 1) (Φ(−1.5) = 6.7%).
    @Test(arguments: [(Link.logit, -3.0), (.probit, -1.5)])
    func gewekeRare(link: Link, interceptMean: Double) throws {
        let design = try ExactMovesTests.design()
        let priors = ExactMovesTests.priors(interceptMean: interceptMean)
        let augmentation = try #require(PolyaGammaGibbs.Augmentation(link: link))
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, link: link, seed: 2019) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors, augmentation: augmentation)
            kernel.updates = .exact
            return kernel
        }
        for (j, z) in scores.enumerated() { #expect(z < 4, "\(link): test function \(j), |z| = \(z)") }
    }

    /// Without an intercept there is no centring and σ moves without the
    /// intercept's compensation.
    @Test func gewekeWithoutIntercept() throws {
        let design = try ExactMovesTests.design(formula: "y ~ 0 + x + (1|client) + (1|stylist)")
        var priors = ExactMovesTests.priors()
        priors.coefficients = NormalPrior(mean: -1, standardDeviation: 1)
        let scores = try ExactMovesTests.gewekeScores(design: design, priors: priors, seed: 2020) { d in
            var kernel = PolyaGammaGibbs(design: d, priors: priors)
            kernel.updates = .exact
            #expect(kernel.interceptIndex == nil)
            return kernel
        }
        for (j, z) in scores.enumerated() { #expect(z < 4, "test function \(j), |z| = \(z)") }
    }

    /// The ratio of the augmentation's precision to the likelihood's: 1 at
    /// p = ½ for the logit, π/2 for the probit, growing in both tails; and
    /// the automatic choice it makes.
    @Test func automaticChoice() {
        #expect(abs(Updates.imprecision(0.5, .polyaGamma) - 1) < 1e-12)
        #expect(abs(Updates.imprecision(0.5, .albertChib) - Double.pi / 2) < 1e-12)
        // p = 0.1: ψ = −log 9, tanh(ψ/2) = −0.8, E ω = 0.8/(4 log 9).
        #expect(abs(Updates.imprecision(0.1, .polyaGamma) - 0.8 / (2 * log(9.0)) / 0.09) < 1e-12)
        #expect(abs(Updates.imprecision(0.1, .polyaGamma) - Updates.imprecision(0.9, .polyaGamma)) < 1e-12)
        for (rate, expected) in [(0.4, Updates.augmented), (0.2, .augmented), (0.5, .augmented),
                                 (0.1, .exact), (0.017, .exact), (0.95, .exact), (0, .exact)] {
            #expect(Updates.automatic(successRate: rate, augmentation: .polyaGamma) == expected, "\(rate)")
        }
        #expect(Updates.automatic(successRate: 0.4, augmentation: .albertChib) == .augmented)
        #expect(Updates.automatic(successRate: 0.02, augmentation: .albertChib) == .exact)
    }

    /// The kernel takes its default from the data: the 1-in-3 successes of
    /// the test design are not rare.
    @Test func kernelDefault() throws {
        let design = try ExactMovesTests.design()
        #expect(PolyaGammaGibbs(design: design).updates == .augmented)
        let rare = design.replacingSuccesses(design.successes.enumerated().map { $0.offset == 0 ? 1 : 0 })
        #expect(PolyaGammaGibbs(design: rare).updates == .exact)
    }

    /// The augmented sweep's step 4 runs where some term has most of its
    /// levels separated: not on the test design (one success in three
    /// trials per pair), but once every other pair has none and the rest
    /// nothing but successes.
    @Test func augmentedMovesFollowSeparation() throws {
        let design = try ExactMovesTests.design(formula: "y ~ x + (1|client) + (1|client:stylist)")
        #expect(!design.mostlySeparated)
        #expect(PolyaGammaGibbs(design: design).augmentedExactMoves == [])
        let separated = design.replacingSuccesses(design.trials.enumerated().map { $0.offset % 2 == 0 ? 0 : $0.element })
        #expect(separated.mostlySeparated)
        #expect(PolyaGammaGibbs(design: separated).augmentedExactMoves == [.centring, .dilation])
    }

    /// Names of move sets, as the benchmarks take them.
    @Test func moveNames() {
        #expect(ExactMoves(names: "levels,scales") == [.levels, .scales])
        #expect(ExactMoves(names: "all") == .all && ExactMoves.all.contains(.attenuation))
        #expect(ExactMoves(names: "standard") == .standard && !ExactMoves.standard.contains(.attenuation))
        #expect(ExactMoves.standard.contains(.dilation) && ExactMoves(names: "dilation") == .dilation)
        #expect(ExactMoves(names: "none") == [])
        #expect(ExactMoves(names: "levels,sideways") == nil)
    }

    /// The Newton proposal's density is the Gaussian's: log N(x; μ, H⁻¹) at
    /// its mean is ½ log det H, and a draw's sample moments match.
    @Test func newtonGaussian() throws {
        let h = [4.0, 1.0, 0.0, 3.0]    // upper triangle of [[4, 1], [1, 3]]
        let gaussian = try #require(NewtonGaussian(at: [0, 0], gradient: [1, 2], curvature: h))
        // mean = H⁻¹g = [[3, −1], [−1, 4]]/11 · [1, 2] = [1/11, 7/11]
        #expect(abs(gaussian.mean[0] - 1.0 / 11) < 1e-12 && abs(gaussian.mean[1] - 7.0 / 11) < 1e-12)
        #expect(abs(gaussian.logDensity(gaussian.mean) - 0.5 * log(11)) < 1e-12)
        #expect(abs(gaussian.logDensity([gaussian.mean[0] + 1, gaussian.mean[1]]) - (0.5 * log(11) - 2)) < 1e-12)
        let g = try Generator(seed: 3, chain: 0, stream: 0)
        var sum = [0.0, 0.0], cross = 0.0
        let count = 40_000
        for _ in 0..<count {
            let d = gaussian.draw(using: g)
            sum[0] += d[0] - gaussian.mean[0]; sum[1] += d[1] - gaussian.mean[1]
            cross += (d[0] - gaussian.mean[0]) * (d[1] - gaussian.mean[1])
        }
        // Cov = H⁻¹: off-diagonal −1/11; the sample covariance's SE ≈ 0.3/√40000.
        #expect(abs(cross / Double(count) + 1.0 / 11) < 0.006)
        #expect(abs(sum[0] / Double(count)) < 0.01)
    }
}
