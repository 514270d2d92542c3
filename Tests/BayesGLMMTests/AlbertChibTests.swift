import Diagnostics
import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// The Gibbs sampler with Albert & Chib's (1993) probit augmentation, and
/// the links' inverse, against exact answers and simulated truth.
@Suite struct AlbertChibTests {
    // MARK: The inverse link

    @Test(arguments: Link.allCases)
    func probabilityMatchesDirectFormulaAndLikelihood(_ link: Link) {
        for eta in stride(from: -6.0, through: 3.0, by: 0.25) {
            let p = link.probability(eta)
            let direct: Double
            switch link {
            case .logit: direct = 1 / (1 + exp(-eta))
            case .probit: direct = 0.5 * erfc(-eta / 2.0.squareRoot())
            case .cloglog: direct = 1 - exp(-exp(eta))
            }
            #expect(abs(p - direct) <= 1e-13 * direct, "\(link) η = \(eta): \(p) vs \(direct)")
            // log F(η) is the likelihood of one success in one trial.
            let logF = link.logLikelihood(successes: 1, trials: 1, linearPredictor: eta)
            #expect(abs(log(p) - logF) <= 1e-12 * max(1, abs(logF)), "\(link) η = \(eta)")
        }
    }

    @Test func probabilityTails() {
        // Lower tails in relative precision: F(η) ≈ e^η (logit, cloglog), Φ(η) ≈ φ(η)/|η|(1 − 1/η²).
        #expect(abs(Link.logit.probability(-800) / exp(-800.0) - 1) < 1e-12 || Link.logit.probability(-800) == 0)
        #expect(abs(Link.logit.probability(-40) / exp(-40.0) - 1) < 1e-12)
        #expect(abs(Link.cloglog.probability(-40) / exp(-40.0) - 1) < 1e-12)
        let x = -30.0
        let mills = exp(-x * x / 2) / (2 * Double.pi).squareRoot() / -x
            * (1 - 1 / (x * x) + 3 / pow(x, 4) - 15 / pow(x, 6) + 105 / pow(x, 8))
        #expect(abs(Link.probit.probability(x) / mills - 1) < 1e-9)
        for link in Link.allCases {
            #expect(link.probability(800) == 1 && link.probability(-1e4) >= 0)
            #expect(link.probability(.infinity) == 1 && link.probability(-.infinity) == 0)
        }
        #expect(Link.probit.probability(0) == 0.5 && Link.logit.probability(0) == 0.5)
    }

    @Test func augmentationForEachLink() {
        #expect(PolyaGammaGibbs.Augmentation(link: .logit) == .polyaGamma)
        #expect(PolyaGammaGibbs.Augmentation(link: .probit) == .albertChib)
        #expect(PolyaGammaGibbs.Augmentation(link: .cloglog) == nil)
        for augmentation in PolyaGammaGibbs.Augmentation.allCases {
            #expect(PolyaGammaGibbs.Augmentation(link: augmentation.link) == augmentation)
        }
        #expect(PolyaGammaGibbs(design: try! GibbsTests.design()).link == .logit)
    }

    // MARK: The kernel

    /// The one-factor model of `GibbsTests`, probit, against quadrature
    /// (the same expected values as the Metropolis probit test).
    @Test func oneFactorPosteriorMatchesQuadrature() throws {
        try MetropolisTests.expectOneFactorQuadrature(
            PolyaGammaGibbs(design: try GibbsTests.design(), augmentation: .albertChib),
            link: .probit, warmup: 500, label: "Albert–Chib")
    }

    @Test func sameSeedSameDrawsWhateverTheThreads() throws {
        try GibbsTests.expectReproducible(
            PolyaGammaGibbs(design: try MetropolisTests.crossed(), augmentation: .albertChib))
    }

    /// The logit kernel is unchanged by the new option: its draws by default
    /// and with `.polyaGamma` are the same.
    @Test func polyaGammaIsTheDefault() throws {
        let design = try MetropolisTests.crossed()
        let settings = ChainSettings(chains: 2, warmup: 10, draws: 20, seed: 8)
        let a = try Chains.run(PolyaGammaGibbs(design: design), settings: settings)
        let b = try Chains.run(PolyaGammaGibbs(design: design, augmentation: .polyaGamma), settings: settings)
        #expect(a.values == b.values)
    }

    /// Truth for `simulated()`.
    static let truth = (alpha: -0.3, beta: 0.6, client: 0.7, stylist: 0.4)

    /// A crossed probit data set, y ~ x + (1|client) + (1|stylist): 80
    /// clients, each with 4 of 12 stylists and 1–6 trials per pair, x ~ N(0,
    /// 1) per row, y ~ Bernoulli(Φ(α + βx + u_client + u_stylist)) with the
    /// effects drawn from N(0, σ²) (`truth`); fixed seed.
    static func simulated() throws -> (design: Design, clientEffects: [Double]) {
        let g = try Generator(seed: 1993, chain: 0, stream: 7)
        let t = truth
        let clients = 80, stylists = 12
        let a = (0..<clients).map { _ in t.client * g.normal() }
        let b = (0..<stylists).map { _ in t.stylist * g.normal() }
        var y: [String] = [], x: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<clients {
            var chosen: Set<Int> = []
            while chosen.count < 4 { chosen.insert(Int(g.uniform() * Double(stylists))) }
            for s in chosen.sorted() {
                for _ in 0..<(1 + Int(g.uniform() * 6)) {
                    let xv = g.normal()
                    let p = Link.probit.probability(t.alpha + t.beta * xv + a[c] + b[s])
                    y.append(g.uniform() < p ? "1" : "0")
                    x.append(String(xv))
                    client.append("c\(c)")
                    stylist.append("s\(s)")
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("x", x), ("client", client), ("stylist", stylist)])
        let design = try Design(formula: ModelFormula.parse("y ~ x + (1|client) + (1|stylist)"), frame: frame)
        return (design, a)
    }

    /// Parameter recovery: each of α, β and the two SDs within 3 posterior
    /// SDs of the truth, and the client effects covered by their central 95%
    /// intervals at a rate a correct sampler reaches (at least 64 of 80;
    /// expected about 76).
    @Test func recoversSimulatedProbitParameters() throws {
        let (design, clientEffects) = try AlbertChibTests.simulated()
        let kernel = PolyaGammaGibbs(design: design, augmentation: .albertChib)
        let draws = try Chains.run(kernel, settings: ChainSettings(chains: 4, warmup: 300, draws: 1000, seed: 13))
        let t = AlbertChibTests.truth
        for (name, truth) in [("(Intercept)", t.alpha), ("x", t.beta), ("sd(client)", t.client),
                              ("sd(stylist)", t.stylist)] {
            let all = try #require(draws.series(name)).flatMap { $0 }
            let mean = all.reduce(0, +) / Double(all.count)
            let sd = (all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count - 1)).squareRoot()
            let s = try MetropolisTests.summary(draws, name)
            let line = "\(name): posterior \(mean) (sd \(sd)), truth \(truth), |d|/sd = \(abs(mean - truth) / sd), R-hat \(s.rhat)"
            print(line)
            #expect(abs(mean - truth) / sd < 3, "\(line)")
            #expect(s.rhat < 1.01, "\(line)")
        }
        var covered = 0
        for (c, truth) in clientEffects.enumerated() {
            let all = try #require(draws.series("r(client)[c\(c)]")).flatMap { $0 }.sorted()
            let low = all[Int(0.025 * Double(all.count))], high = all[Int(0.975 * Double(all.count)) - 1]
            if truth >= low && truth <= high { covered += 1 }
        }
        print("client effects inside their 95% intervals: \(covered) of \(clientEffects.count)")
        #expect(covered >= 64, "client effects covered: \(covered) of \(clientEffects.count)")
    }
}
