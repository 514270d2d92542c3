import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// The random-slope sampler (`RandomSlopeGibbs`): its prior, its names, and
/// Geweke's joint-distribution test of the whole sweep.
@Suite struct RandomSlopeTests {
    /// 5 clients x 3 stylists, each pair at x = −1 and x = 1, 3 trials per
    /// cell: `y ~ x + (1 + x | client) + (1 | stylist)`.
    /// With `w`, a second covariate w = ±0.5 (alternating by stylist).
    static func design(formula: String = "y ~ x + (1 + x | client) + (1 | stylist)") throws -> Design {
        var y: [String] = [], x: [String] = [], w: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<5 {
            for s in 0..<3 {
                for v in [-1.0, 1.0] {
                    for r in 0..<3 {
                        y.append(r == 0 ? "1" : "0")
                        x.append(String(v))
                        w.append(String((s + r) % 2 == 0 ? 0.5 : -0.5))
                        client.append("c\(c)")
                        stylist.append("s\(s)")
                    }
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("x", x), ("w", w), ("client", client), ("stylist", stylist)])
        return try Design(formula: ModelFormula.parse(formula), frame: frame, options: DesignOptions(),
                          admittingSlopes: true)
    }

    static func priors() -> Priors {
        var p = Priors()
        p.intercept = NormalPrior(mean: 0, standardDeviation: 1)
        p.coefficients = NormalPrior(mean: 0, standardDeviation: 1)
        p.standardDeviations = .halfT(degrees: 3, scale: 0.7)
        return p
    }

    @Test func namesFollowBrmsOrderAndKeepIntercepts() throws {
        let design = try RandomSlopeTests.design()
        let names = design.parameterNames
        #expect(Array(names.prefix(6)) == ["(Intercept)", "x", "sd(client)[(Intercept)]", "sd(client)[x]",
                                           "cor(client)[(Intercept)][x]", "sd(stylist)"])
        #expect(Array(names[6..<8]) == ["r(client)[c0][(Intercept)]", "r(client)[c0][x]"])
        #expect(names.last == "r(stylist)[s2]")
        #expect(names.count == 2 + 4 + 5 * 2 + 3)
        let split = try RandomSlopeTests.design(formula: "y ~ x + (x || client)")
        #expect(split.parameterNames.prefix(4) == ["(Intercept)", "x", "sd(client)", "sd(client)[x]"])
        #expect(split.parameterNames.contains("r(client)[c3][x]"))
        #expect(split.parameterNames.contains("r(client)[c3]"))
    }

    /// The Huang–Wand prior's marginals (Huang & Wand 2013, their eqs. 3–4):
    /// each SD half-t(ν, A), so that its median is A·t_ν(0.75); for ν = 2
    /// each correlation uniform on (−1, 1): E ρ² = 1/3, P(|ρ| < ½) = ½.
    /// Tolerances: 4 binomial or sample standard errors of 40,000 draws.
    @Test func huangWandMarginals() throws {
        let g = try Generator(seed: 13, chain: 0, stream: 0)
        for (nu, quantile) in [(2.0, 0.816496580927726), (3.0, 0.764892328404345)] {
            let prior = RandomSlopeGibbs.HuangWand(degrees: nu, scales: [0.7, 2.5, 1.0])
            let count = 40_000
            var below = [0, 0, 0], squares = 0.0, inside = 0
            for _ in 0..<count {
                let sigma = prior.draw(using: g)
                for j in 0..<3 where sigma[j * 3 + j].squareRoot() < prior.scales[j] * quantile { below[j] += 1 }
                let rho = sigma[1] / (sigma[0] * sigma[4]).squareRoot()
                squares += rho * rho
                if abs(rho) < 0.5 { inside += 1 }
            }
            let binomial = 4 * (0.25 / Double(count)).squareRoot()
            for j in 0..<3 { #expect(abs(Double(below[j]) / Double(count) - 0.5) < binomial, "ν \(nu), SD \(j)") }
            if nu == 2 {
                // Var ρ² for uniform ρ: 1/5 − 1/9.
                #expect(abs(squares / Double(count) - 1.0 / 3) < 4 * ((0.2 - 1.0 / 9) / Double(count)).squareRoot())
                #expect(abs(Double(inside) / Double(count) - 0.5) < binomial)
            }
        }
    }

    /// Geweke (2004) for the whole sweep: means of g(θ, y) under independent
    /// prior-predictive draws against 40 successive-conditional chains (y | θ,
    /// then one sweep θ | y), each started from the prior, z from the
    /// chains' spread (as `CalibrationTests.gewekeZ`; about Student-t with
    /// 39 degrees of freedom). Threshold |z| < 4.
    @Test func gewekeJointDistribution() throws {
        let design = try RandomSlopeTests.design()
        let priors = RandomSlopeTests.priors()
        let z = try RandomSlopeTests.gewekeZ(design: design, priors: priors, seed: 2013, count: 24_000) { s, y in
            let values = RandomSlopeGibbs.standardDeviationsAndCorrelations(s.covariances[0], size: 2)
            let stylist = s.covariances[1][0].squareRoot()
            return [s.coefficients[0], s.coefficients[1], values[0], values[1], values[2], values[2] * values[2],
                    stylist, s.effects[0][0], s.effects[0][1], s.effects[1][2], y.reduce(0, +),
                    s.coefficients[1] * (y[1] - y[0])]
        }
        for (j, value) in z.enumerated() { #expect(abs(value) < 4, "test function \(j): z = \(value)") }
    }

    /// θ ↦ Σ(θ) ↦ θ is the identity, and Σ(θ) is a covariance with the
    /// SDs e^θ and unit-diagonal correlations.
    @Test func metropolisCoordinatesRoundTrip() throws {
        let g = try Generator(seed: 5, chain: 0, stream: 0)
        for q in 1...4 {
            for _ in 0..<50 {
                let theta = (0..<(q + q * (q - 1) / 2)).map { _ in 1.5 * g.normal() }
                let sigma = RandomSlopeMetropolis.covariance(from: theta, size: q)
                #expect(SmallCholesky(sigma, size: q) != nil)
                for j in 0..<q { #expect(abs(sigma[j * q + j].squareRoot() - exp(theta[j])) < 1e-12 * exp(theta[j])) }
                let back = RandomSlopeMetropolis.coordinates(of: sigma, size: q)
                for (a, b) in zip(theta, back) { #expect(abs(a - b) < 1e-8, "q \(q): \(theta) → \(back)") }
            }
        }
    }

    /// LKJ(η)'s prior draws (the C-vine in `PriorPredictive.slopeParameters`):
    /// every correlation of a q × q LKJ(η) matrix has the marginal
    /// Beta(η − 1 + q/2, same) on (−1, 1) (LKJ 2009), so E ρ² = 1/(2η + q − 1):
    /// 1/4 for q = 3, η = 1 and 1/6 for q = 3, η = 2 — the first-level
    /// correlations and the one drawn as a partial correlation alike.
    /// Tolerance: 4 standard errors of 20,000 draws.
    @Test func lkjPriorMarginals() throws {
        let design = try RandomSlopeTests.design(formula: "y ~ x + (1 + x + w | client)")
        let g = try Generator(seed: 17, chain: 0, stream: 0)
        for eta in [1.0, 2.0] {
            var priors = RandomSlopeTests.priors()
            priors.correlation["client"] = eta
            let count = 20_000
            var squares = [[Double]](repeating: [], count: 3)
            for _ in 0..<count {
                let sigma = try PriorPredictive.slopeParameters(design, priors, using: g).covariances[0]
                let values = RandomSlopeGibbs.standardDeviationsAndCorrelations(sigma, size: 3)
                for c in 0..<3 { squares[c].append(values[3 + c] * values[3 + c]) }
            }
            let expected = 1 / (2 * eta + 2)
            for c in 0..<3 {
                let mean = squares[c].reduce(0, +) / Double(count)
                let variance = squares[c].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
                #expect(abs(mean - expected) < 4 * (variance / Double(count)).squareRoot(), "η \(eta), correlation \(c)")
            }
        }
    }

    /// Geweke for `RandomSlopeMetropolis`: Huang & Wand's prior with q = 2
    /// (logit), LKJ(2) with q = 3 (logit) and LKJ(1.5) with q = 2 under the
    /// cloglog link. The kernel adapts through the successive-conditional
    /// chain (it is never told the warm-up is over), which is not a fixed
    /// Markov kernel; so each chain adapts for 300 steps first (`endWarmup`
    /// after them) — from a prior draw, as every chain starts — and only
    /// the steps after are averaged.
    @Test(arguments: [("huang_wand", "y ~ x + (1 + x | client) + (1 | stylist)", Link.logit),
                      ("lkj3", "y ~ x + (1 + x + w | client)", Link.logit),
                      ("lkj_cloglog", "y ~ x + (1 + x | client) + (1 | stylist)", Link.cloglog)])
    func metropolisGeweke(_ form: String, _ formula: String, _ link: Link) throws {
        let design = try RandomSlopeTests.design(formula: formula)
        var priors = RandomSlopeTests.priors()
        if form == "lkj3" { priors.correlation["client"] = 2 }
        if form == "lkj_cloglog" { priors.correlation["client"] = 1.5 }
        let kernel = try RandomSlopeMetropolis(design: design, priors: priors, link: link)
        var adapted = kernel.initialState(using: try Generator(seed: 99, chain: 0, stream: 0))
        let h = try Generator(seed: 99, chain: 0, stream: 1)
        for _ in 0..<300 {
            let theta = try PriorPredictive.slopeParameters(design, priors, using: h)
            let y = PriorPredictive.successes(design, link: link, coefficients: theta.coefficients,
                                              effects: theta.effects, using: h)
            adapted.coefficients = theta.coefficients
            adapted.effects = theta.effects
            adapted.covariances = theta.covariances
            adapted = try RandomSlopeMetropolis(design: design.replacingSuccesses(y), priors: priors, link: link)
                .step(adapted, using: h).0
        }
        let tuning = kernel.endWarmup(adapted).adaptation
        let q = design.randomTerms[0].dimension
        let z = try CalibrationTests.gewekeZ(
            seed: 7, count: 16_000, chains: 40,
            prior: { g in
                let theta = try PriorPredictive.slopeParameters(design, priors, using: g)
                return RandomSlopeMetropolis.State(coefficients: theta.coefficients, effects: theta.effects,
                                                   covariances: theta.covariances, adaptation: tuning)
            },
            data: { PriorPredictive.successes(design, link: link, coefficients: $0.coefficients, effects: $0.effects,
                                              using: $1) },
            step: { theta, y, g in
                try RandomSlopeMetropolis(design: design.replacingSuccesses(y), priors: priors, link: link)
                    .step(theta, using: g).0
            },
            functions: { s, y in
                let values = RandomSlopeGibbs.standardDeviationsAndCorrelations(s.covariances[0], size: q)
                return [s.coefficients[0], s.coefficients[1], values[0], values[1], values[q], values[q] * values[q],
                        s.effects[0][0], s.effects[0][1], y.reduce(0, +)]
            })
        for (j, value) in z.enumerated() { #expect(abs(value) < 4, "\(form), test function \(j): z = \(value)") }
    }

    static func gewekeZ(design: Design, priors: Priors, seed: UInt64, count: Int, chains: Int = 40,
                        functions: (RandomSlopeGibbs.State, [Double]) -> [Double]) throws -> [Double] {
        try CalibrationTests.gewekeZ(
            seed: seed, count: count, chains: chains,
            prior: { try PriorPredictive.slopeParameters(design, priors, using: $0) },
            data: { PriorPredictive.successes(design, coefficients: $0.coefficients, effects: $0.effects, using: $1) },
            step: { theta, y, h in
                let (next, info) = try RandomSlopeGibbs(design: design.replacingSuccesses(y), priors: priors)
                    .step(theta, using: h)
                #expect(info.failure == nil)
                return next
            }, functions: functions)
    }
}
