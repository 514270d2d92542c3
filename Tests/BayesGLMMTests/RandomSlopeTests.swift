import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// The random-slope sampler (`RandomSlopeGibbs`): its prior, its names, and
/// Geweke's joint-distribution test of the whole sweep.
@Suite struct RandomSlopeTests {
    /// 5 clients x 3 stylists, each pair at x = −1 and x = 1, 3 trials per
    /// cell: `y ~ x + (1 + x | client) + (1 | stylist)`.
    static func design(formula: String = "y ~ x + (1 + x | client) + (1 | stylist)") throws -> Design {
        var y: [String] = [], x: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<5 {
            for s in 0..<3 {
                for v in [-1.0, 1.0] {
                    for r in 0..<3 {
                        y.append(r == 0 ? "1" : "0")
                        x.append(String(v))
                        client.append("c\(c)")
                        stylist.append("s\(s)")
                    }
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("x", x), ("client", client), ("stylist", stylist)])
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
