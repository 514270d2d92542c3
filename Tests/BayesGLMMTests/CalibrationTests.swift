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

    /// Geweke's test on a model of its own: the z-statistic of each test
    /// function g(θ, y), comparing the mean of `count` independent draws from
    /// the prior predictive (stream (seed, 0, 0)) with that of `chains`
    /// successive-conditional chains of `count`/`chains` steps (streams
    /// (seed, c + 1, 0)), each step y | θ, then one sweep θ | y of the
    /// default `PolyaGammaGibbs(design:priors:)`, as `fit` builds it.
    ///
    /// Every chain starts from θ ~ prior, the stationary distribution of
    /// the successive-conditional chain, so the chains' means are
    /// independent, unbiased estimates of E g: the chains' standard error is
    /// their spread, s/√chains, valid however the chains mix (with K chains z
    /// is about Student-t, K − 1 degrees of freedom). An ESS-based MCSE, as
    /// in `gewekeJointDistribution`, is not: in the rare regime the joint
    /// chain makes long excursions into the heavy tail of a half-t σ, and
    /// with 4 chains it gave z-scores spread 2–3 times too wide (over seeds,
    /// the chains' mean of σ scattered on both sides of the exact prior mean).
    static func gewekeZ(design: Design, priors: Priors, seed: UInt64, count: Int, chains: Int = 40,
                        functions: (PolyaGammaGibbs.State, [Double]) -> [Double]) throws -> [Double] {
        try gewekeZ(seed: seed, count: count, chains: chains,
                    prior: { CalibrationTests.prior(design, priors, $0) },
                    data: { CalibrationTests.data(design, $0, $1) },
                    step: { theta, y, h in
                        PolyaGammaGibbs(design: design.replacingSuccesses(y), priors: priors).step(theta, using: h).0
                    }, functions: functions)
    }

    /// `gewekeZ` for any sampler: θ ~ `prior`, y ~ `data`(θ), and one sweep
    /// θ | y by `step`.
    static func gewekeZ<State>(seed: UInt64, count: Int, chains: Int, prior: (Generator) throws -> State,
                               data: (State, Generator) -> [Double],
                               step: (State, [Double], Generator) throws -> State,
                               functions: (State, [Double]) -> [Double]) throws -> [Double] {
        let g = try Generator(seed: seed, chain: 0, stream: 0)
        var independent: [[Double]] = []
        for _ in 0..<count {
            let theta = try prior(g)
            let values = functions(theta, data(theta, g))
            if independent.isEmpty { independent = Array(repeating: [], count: values.count) }
            for (j, v) in values.enumerated() { independent[j].append(v) }
        }
        let m = independent.count
        var chainMeans = [[Double]](repeating: [], count: m)
        for c in 0..<chains {
            let h = try Generator(seed: seed, chain: UInt64(c + 1), stream: 0)
            var theta = try prior(h)
            var sums = [Double](repeating: 0, count: m)
            let steps = count / chains
            for _ in 0..<steps {
                let y = data(theta, h)
                theta = try step(theta, y, h)
                for (j, v) in functions(theta, y).enumerated() { sums[j] += v }
            }
            for j in 0..<m { chainMeans[j].append(sums[j] / Double(steps)) }
        }
        func meanAndVariance(_ v: [Double]) -> (Double, Double) {
            let mean = v.reduce(0, +) / Double(v.count)
            return (mean, v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1))
        }
        return (0..<m).map { j in
            let (meanA, varA) = meanAndVariance(independent[j])
            let (meanB, varB) = meanAndVariance(chainMeans[j])
            return (meanA - meanB) / (varA / Double(count) + varB / Double(chains)).squareRoot()
        }
    }

    /// The rare-event regime (as `Calibration --regime rare`, smaller):
    /// `y ~ x + (1|client) + (1|stylist)`, 3 clients x 2 stylists, one
    /// binomial cell of 20 trials per pair, x fixed at −1.25, −0.75, …,
    /// 1.25; intercept N(−4.5, 0.5²), x N(0, 1), SDs half-normal(0, 0.7).
    /// A data set has 2 successes in 120 trials at the median (mean y 1.7%;
    /// 19% have none, 5% have 10 or more), so y carries little information
    /// and the successive-conditional chain moves the data every step. The
    /// 20 trials per cell take the Pólya–Gamma draws of shape above 4
    /// (gamma-series approximation) that the SBC run's cells take.
    ///
    /// Why half-normal SDs and 20 trials, not the SBC run's half_t(3, 0, 0.7)
    /// and 30–40: with those, the joint chain's visits to the σ tail are
    /// rare and long (cells of 40 trials go all-or-nothing and pin large
    /// effects, which keep σ large), so the chains' means are skewed. Over
    /// 8 seeds the mean of σ(client) over 4 chains of 5,000 steps scattered
    /// on both sides of the exact prior mean 0.772 (0.69–0.85; single
    /// chains 0.64–1.36): no bias, but an ESS-based MCSE was 2–3 times too
    /// small (|z| up to 8.4), and with 40 chains, over 16 seeds, the rms z
    /// was 1.9 with |z| up to 9.6 (u(client)[c0]·y₀; sd(client) up to 5.7),
    /// mostly positive.
    static func rareDesign() throws -> Design {
        var y: [String] = [], n: [String] = [], x: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<3 {
            for s in 0..<2 {
                y.append("0")
                n.append("20")
                x.append(String(Double(2 * c + s) / 2 - 1.25))
                client.append("c\(c)")
                stylist.append("s\(s)")
            }
        }
        let frame = DesignTests.frame([("y", y), ("n", n), ("x", x), ("client", client), ("stylist", stylist)])
        return try Design(formula: ModelFormula.parse("y ~ x + (1|client) + (1|stylist)"), frame: frame,
                          options: DesignOptions(trials: "n"))
    }

    static func rarePriors() -> Priors {
        var p = Priors()
        p.intercept = NormalPrior(mean: -4.5, standardDeviation: 0.5)
        p.coefficients = NormalPrior(mean: 0, standardDeviation: 1)
        p.standardDeviations = .halfNormal(scale: 0.7)
        return p
    }

    /// Geweke's test in the rare-event regime. Test functions: β₀, β_x,
    /// σ(client), σ(stylist), u(client)[c0], β₀², Σy, 1{Σy = 0} (the chance
    /// of a data set without a success), u(client)[c0]·1{y₀ > 0} (cell 0 is
    /// client c0's).
    ///
    /// Threshold |z| < 4: for a correct sampler z is about Student-t with 39
    /// degrees of freedom (`gewekeZ`), P(|t₃₉| ≥ 4) = 2.7e-4, at most 2.5e-3
    /// for the nine functions together. Over seeds 17–48 (288 z-scores) the
    /// rms z was 1.01 (per function 0.81–1.18) and the largest |z| 2.98.
    /// u·y₀ itself, heavy-tailed, gave rms 1.21 and one |z| of 3.99, so it is
    /// not a test function here. The seed is fixed (chosen before the
    /// results were seen). Power, checked with this seed by giving the
    /// kernel other priors than the data's: intercept mean −4.4 for −4.5
    /// gives z = −10.5 on β₀; SDs half-normal(0, 0.85) for 0.7, z = −11.0
    /// and −12.3 on the SDs (intercept sd 0.6 for 0.5 is not seen, |z| ≤ 2).
    @Test func gewekeRareEvents() throws {
        let design = try CalibrationTests.rareDesign()
        let names = ["(Intercept)", "x", "sd(client)", "sd(stylist)", "r(client)[c0]", "(Intercept)²", "Σy",
                     "1{Σy = 0}", "r(client)[c0]·1{y₀ > 0}"]
        let z = try CalibrationTests.gewekeZ(design: design, priors: CalibrationTests.rarePriors(), seed: 2017,
                                             count: 20_000) { s, y in
            let total = y.reduce(0, +)
            return [s.coefficients[0], s.coefficients[1], s.standardDeviations[0], s.standardDeviations[1],
                    s.effects[0][0], s.coefficients[0] * s.coefficients[0], total, total == 0 ? 1 : 0,
                    y[0] > 0 ? s.effects[0][0] : 0]
        }
        for (name, value) in zip(names, z) { #expect(abs(value) < 4, "\(name): z = \(value)") }
    }

    /// A sparse nested design (as `Calibration --regime nested`, smaller):
    /// `y ~ x + (1|cluster) + (1|mother)`, 4 clusters of 3 mothers, mother
    /// m of cluster k observed 1 + (k + m) mod 3 times (24 binary rows),
    /// x fixed at −1.15, −1.05, …; intercept and x N(0, 1), sd(cluster) ~
    /// half-normal(0, 1), sd(mother) ~ lognormal(log 2.5, 0.3) (the SBC run's
    /// `--sd-prior lognormal`: 95% of the mass in 1.4–4.5, so every step is
    /// in the hard regime of a large SD over levels with 1–3 observations).
    ///
    /// Why not half-t SDs (the SBC run's default): as in the rare regime,
    /// the joint chain sticks in their heavy tails. Over 16 seeds with
    /// half_t(3, 0, 1) and half_t(3, 0, 2.5), rms z was 1.49 for sd(mother)
    /// and 1.59 for u(mother)[k0m0]·y₀; over 32 seeds with the half-t on
    /// sd(cluster) alone, 1.33 for sd(cluster).
    static func nestedDesign() throws -> Design {
        var y: [String] = [], x: [String] = [], cluster: [String] = [], mother: [String] = []
        for k in 0..<4 {
            for m in 0..<3 {
                for _ in 0..<(1 + (k + m) % 3) {
                    y.append("0")
                    x.append(String(Double(x.count) / 10 - 1.15))
                    cluster.append("k\(k)")
                    mother.append("k\(k)m\(m)")
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("x", x), ("cluster", cluster), ("mother", mother)])
        return try Design(formula: ModelFormula.parse("y ~ x + (1|cluster) + (1|mother)"), frame: frame)
    }

    static func nestedPriors() -> Priors {
        var p = Priors()
        p.intercept = NormalPrior(mean: 0, standardDeviation: 1)
        p.coefficients = NormalPrior(mean: 0, standardDeviation: 1)
        p.standardDeviation = ["cluster": .halfNormal(scale: 1), "mother": .lognormal(mu: log(2.5), sigma: 0.3)]
        return p
    }

    /// Geweke's test on the sparse nested design. Test functions: β₀, β_x,
    /// σ(cluster), σ(mother), u(cluster)[k0], u(mother)[k0m0] (one
    /// observation, cell 0), β₀², Σy, u(mother)[k0m0]·y₀. Threshold |z| < 4,
    /// as in `gewekeRareEvents`; over seeds 1–32 (288 z-scores) the rms z
    /// was 0.98 (per function 0.83–1.11) and the largest |z| 2.98. The seed
    /// is fixed (chosen before the results were seen). Power, as in the
    /// rare test: the kernel's sd(mother) prior lognormal(log 2.8, 0.3) for
    /// log 2.5 gives z = −21 on σ(mother); intercept sd 1.2 for 1, z = −14.7
    /// on β₀² (lognormal σ 0.36 for 0.3 only z = −2.9).
    @Test func gewekeSparseNested() throws {
        let design = try CalibrationTests.nestedDesign()
        let names = ["(Intercept)", "x", "sd(cluster)", "sd(mother)", "r(cluster)[k0]", "r(mother)[k0m0]",
                     "(Intercept)²", "Σy", "r(mother)[k0m0]·y₀"]
        let z = try CalibrationTests.gewekeZ(design: design, priors: CalibrationTests.nestedPriors(), seed: 2018,
                                             count: 20_000) { s, y in
            [s.coefficients[0], s.coefficients[1], s.standardDeviations[0], s.standardDeviations[1],
             s.effects[0][0], s.effects[1][0], s.coefficients[0] * s.coefficients[0], y.reduce(0, +),
             s.effects[1][0] * y[0]]
        }
        for (name, value) in zip(names, z) { #expect(abs(value) < 4, "\(name): z = \(value)") }
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
