import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// Chains started around an empirical-Bayes fit (`InitialValues.around`).
@Suite struct InitialValuesTests {
    /// 20 clients × 8 stylists, two rows each, a covariate, simulated with
    /// σ_client = 1, σ_stylist = 0.8: small enough for the EB fit to take a
    /// moment in a debug build, with both SDs well away from 0.
    static func design() throws -> Design {
        let generator = try Generator(seed: 42)
        let clients = (0..<20).map { _ in generator.normal() }
        let stylists = (0..<8).map { _ in 0.8 * generator.normal() }
        var y: [String] = [], x: [String] = [], client: [String] = [], stylist: [String] = []
        for c in 0..<20 {
            for s in 0..<8 {
                for _ in 0..<2 {
                    let v = generator.normal()
                    let p = 1 / (1 + exp(-(-0.3 + 0.5 * v + clients[c] + stylists[s])))
                    client.append("c\(c)")
                    stylist.append("s\(s)")
                    x.append(String(v))
                    y.append(generator.uniform() < p ? "1" : "0")
                }
            }
        }
        let frame = DesignTests.frame([("y", y), ("x", x), ("client", client), ("stylist", stylist)])
        return try Design(formula: ModelFormula.parse("y ~ x + (1|client) + (1|stylist)"), frame: frame)
    }

    static func starts(_ kernel: PolyaGammaGibbs, count: Int) throws -> [PolyaGammaGibbs.State] {
        try (0..<count).map { c in
            kernel.initialState(using: try Generator(seed: 11, chain: UInt64(c), stream: 0))
        }
    }

    /// The inverse links' slopes against central differences, and each link
    /// against its inverse.
    @Test(arguments: Link.allCases)
    func linkInverseAndSlope(link: Link) {
        for eta in [-6.0, -2, -0.5, 0, 0.3, 1.5, 3] {
            let p = link.probability(eta)
            // p carries a rounding error of half an ulp, which the inverse
            // magnifies by dη/dp = 1/F′(η): large in a tail (cloglog at η = 3).
            let conditioning = 2 * p.ulp / link.slope(eta)
            #expect(abs(link.linearPredictor(probability: p) - eta) < 1e-12 + conditioning, "\(link) at \(eta)")
            let h = 1e-5
            let difference = (link.probability(eta + h) - link.probability(eta - h)) / (2 * h)
            #expect(abs(link.slope(eta) - difference) < 1e-8 * max(1, difference), "\(link) slope at \(eta)")
        }
    }

    /// A probit or cloglog chain starts from the logit EB fit carried over
    /// at the overall rate p̄: intercept η̄′ + s(β₀ − logit p̄), the rest × s,
    /// s = p̄(1 − p̄)/F′(η̄′); the prior start's intercept is centred at
    /// F⁻¹(p̄). A logit start is the fit's own.
    @Test func startsOfOtherLinksAreCarriedOverFromTheLogitFit() throws {
        let design = try InitialValuesTests.design()
        let fit = try EmpiricalBayesFit.fit(design)
        let rate = InitialValues.overallRate(design)
        #expect(InitialValues.fromLogit(fit, design: design, link: .logit).coefficients.enumerated().allSatisfy {
            abs($1 - fit.coefficients[$0]) < 1e-12
        })
        for link in [Link.probit, .cloglog] {
            let centre = link.linearPredictor(probability: rate)
            let s = rate * (1 - rate) / link.slope(centre)
            let carried = InitialValues.fromLogit(fit, design: design, link: link)
            #expect(abs(carried.coefficients[0] - (centre + s * (fit.coefficients[0] - log(rate / (1 - rate))))) < 1e-12)
            #expect(abs(carried.coefficients[1] - s * fit.coefficients[1]) < 1e-12)
            #expect(zip(carried.standardDeviations, fit.standardDeviations).allSatisfy { abs($0 - s * $1) < 1e-12 })
            #expect(abs(carried.modes[0][3] - s * fit.modes[0][3]) < 1e-12)
            if link == .probit {
                // Near p̄ = ½ the probit's scale is about 1/1.6 of the logit's (Amemiya 1981).
                #expect(s > 0.55 && s < 0.65, "\(s) at p̄ = \(rate)")
            }
            // Started around the carried fit: the intercepts' mean is its intercept.
            var kernel = MetropolisWithinGibbs(design: design, link: link)
            kernel.initialValues = .around(fit)
            let n = 2000
            let intercepts = try (0..<n).map { c in
                kernel.initialState(using: try Generator(seed: 11, chain: UInt64(c), stream: 0)).coefficients[0]
            }
            let mean = intercepts.reduce(0, +) / Double(n)
            #expect(abs(mean - carried.coefficients[0]) < 4 * 2 * carried.standardErrors[0] / Double(n).squareRoot())
            // The prior start: intercept F⁻¹(p̄) + N(0, 1).
            kernel.initialValues = .prior
            let priorMean = try (0..<n).map { c in
                kernel.initialState(using: try Generator(seed: 12, chain: UInt64(c), stream: 0)).coefficients[0]
            }.reduce(0, +) / Double(n)
            #expect(abs(priorMean - centre) < 4 / Double(n).squareRoot(), "\(link): \(priorMean) against \(centre)")
        }
    }

    @Test func centredOnTheEmpiricalBayesFit() throws {
        let design = try InitialValuesTests.design()
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.standardDeviations.allSatisfy { $0 > EmpiricalBayesFit.singularTolerance })
        var kernel = PolyaGammaGibbs(design: design)
        kernel.initialValues = .around(fit)
        let n = 4000
        let starts = try InitialValuesTests.starts(kernel, count: n)
        // Coefficients: β̂ + 2·SE·z, so the mean is within 4 of its SDs (2·SE/√n).
        for j in 0..<design.fixedCount {
            let mean = starts.map { $0.coefficients[j] }.reduce(0, +) / Double(n)
            #expect(abs(mean - fit.coefficients[j]) < 4 * 2 * fit.standardErrors[j] / Double(n).squareRoot())
            let sd = (starts.map { pow($0.coefficients[j] - mean, 2) }.reduce(0, +) / Double(n - 1)).squareRoot()
            #expect(abs(sd / (2 * fit.standardErrors[j]) - 1) < 0.06)
        }
        for k in 0..<design.randomTerms.count {
            // log σ = log σ̂ + N(0, 0.5²).
            let logs = starts.map { log($0.standardDeviations[k] / fit.standardDeviations[k]) }
            let mean = logs.reduce(0, +) / Double(n)
            #expect(abs(mean) < 4 * 0.5 / Double(n).squareRoot())
            let sd = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
            #expect(abs(sd - 0.5) < 0.03)
            // Effects: (σ̂/σ)·u = mode + conditional SD·z.
            for l in 0..<design.randomTerms[k].levelCount {
                let scaled = starts.map { $0.effects[k][l] * fit.standardDeviations[k] / $0.standardDeviations[k] }
                let m = scaled.reduce(0, +) / Double(n)
                let spread = fit.conditionalStandardDeviations[k][l]
                #expect(abs(m - fit.modes[k][l]) < 4 * spread / Double(n).squareRoot())
            }
        }
    }

    @Test func boundaryFitStartsAwayFromZero() throws {
        let design = try InitialValuesTests.design()
        var fit = try EmpiricalBayesFit.fit(design)
        // As a boundary (singular) fit reports sd(stylist): 0, its modes and conditional SDs 0.
        fit.standardDeviations[1] = 0
        fit.modes[1] = fit.modes[1].map { _ in 0 }
        fit.conditionalStandardDeviations[1] = fit.conditionalStandardDeviations[1].map { _ in 0 }
        var kernel = PolyaGammaGibbs(design: design)
        kernel.initialValues = .around(fit)
        let starts = try InitialValuesTests.starts(kernel, count: 2000)
        let floor = max(0.05, 0.1 * fit.standardDeviations[0])
        let sigmas = starts.map { $0.standardDeviations[1] }
        #expect(sigmas.allSatisfy { $0 > 0 && $0.isFinite })
        let medianLog = sigmas.map { log($0) }.sorted()[sigmas.count / 2]
        #expect(abs(medianLog - log(floor)) < 0.05)
        // Its effects are N(0, σ²): not all zero, centred.
        for state in starts.prefix(20) { #expect(state.effects[1].contains { $0 != 0 }) }
        let eta = starts.flatMap { s in s.effects[1].map { $0 / s.standardDeviations[1] } }
        let mean = eta.reduce(0, +) / Double(eta.count)
        let variance = eta.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(eta.count - 1)
        #expect(abs(mean) < 0.05 && abs(variance - 1) < 0.05)
        // And a chain runs from there.
        var state = starts[0]
        let generator = try Generator(seed: 3)
        for _ in 0..<5 { state = kernel.step(state, using: generator).0 }
        #expect(state.standardDeviations.allSatisfy { $0 > 0 && $0.isFinite })
    }

    @Test func reproducibleBySeedAndChain() throws {
        let design = try InitialValuesTests.design()
        var kernel = PolyaGammaGibbs(design: design)
        kernel.initialValues = .around(try EmpiricalBayesFit.fit(design))
        func start(seed: UInt64, chain: UInt64) throws -> PolyaGammaGibbs.State {
            kernel.initialState(using: try Generator(seed: seed, chain: chain, stream: 0))
        }
        #expect(try start(seed: 5, chain: 2) == start(seed: 5, chain: 2))
        #expect(try start(seed: 5, chain: 2) != start(seed: 5, chain: 3))
        #expect(try start(seed: 5, chain: 2) != start(seed: 6, chain: 2))
        // The driver gives chain c the stream (seed, c, 0): runs agree whether
        // chains run in parallel or one after the other.
        let settings = ChainSettings(chains: 3, warmup: 0, draws: 2, seed: 5)
        let parallel = try Chains.run(kernel, settings: settings, parallel: true)
        let serial = try Chains.run(kernel, settings: settings, parallel: false)
        #expect(parallel.values == serial.values)
    }

    @Test func priorStartIsTheDefault() throws {
        let design = try InitialValuesTests.design()
        let kernel = PolyaGammaGibbs(design: design)
        var explicit = kernel
        explicit.initialValues = .prior
        let a = kernel.initialState(using: try Generator(seed: 9))
        let b = explicit.initialState(using: try Generator(seed: 9))
        #expect(a == b)
        #expect(a.standardDeviations.allSatisfy { $0 > 0.2 && $0 < 2 })
    }

    /// With random slopes, both slope kernels start around the EB fit: each
    /// column's SD log-normal around glmer's, the correlation 0.8 of the
    /// fit's, every level's effect vector around its conditional mode, the
    /// covariance positive definite — and the boundary fit (a correlation
    /// of −1) starts inside.
    @Test(arguments: ["slopes_small", "slopes_singular"])
    func slopeKernelsStartAroundTheEmpiricalBayesFit(name: String) throws {
        let (design, _) = try EmpiricalBayesTests.design(name)
        let fit = try EmpiricalBayesFit.fit(design)
        var gibbs = try RandomSlopeGibbs(design: design)
        gibbs.initialValues = .around(fit)
        var metropolis = try RandomSlopeMetropolis(design: design)
        metropolis.initialValues = .around(fit)
        let n = 2000
        let client = try #require(design.randomTerms.firstIndex { $0.name == "client" })
        let sd = design.randomTerms[..<client].reduce(0) { $0 + $1.dimension }
        var logRatios = [[Double]](repeating: [], count: 2), correlations: [Double] = []
        for c in 0..<n {
            let generator = try Generator(seed: 11, chain: UInt64(c), stream: 0)
            let state = gibbs.initialState(using: generator)
            let other = metropolis.initialState(using: try Generator(seed: 11, chain: UInt64(c), stream: 0))
            #expect(other.coefficients == state.coefficients && other.covariances == state.covariances
                    && other.effects == state.effects)
            let sigma = state.covariances[client]
            #expect(SmallCholesky(sigma, size: 2) != nil)
            // The intercept's SD floored as for random intercepts (slopes_singular's
            // x1 SD, 0.11, is above the boundary and not floored).
            let centres = [InitialValues.centre(of: fit.standardDeviations, term: sd), fit.standardDeviations[sd + 1]]
            for j in 0..<2 { logRatios[j].append(log(sigma[j * 2 + j].squareRoot() / centres[j])) }
            correlations.append(sigma[1] / (sigma[0] * sigma[3]).squareRoot())
        }
        for j in 0..<2 {
            let mean = logRatios[j].reduce(0, +) / Double(n)
            #expect(abs(mean) < 4 * 0.5 / Double(n).squareRoot(), "log SD ratio \(j): \(mean)")
        }
        #expect(correlations.allSatisfy { abs($0 - 0.8 * fit.correlations[0]) < 1e-12 })
        // Effects: the scaled draws average to the conditional modes.
        let starts = try (0..<n).map { c in gibbs.initialState(using: try Generator(seed: 11, chain: UInt64(c), stream: 0)) }
        for e in 0..<20 {
            let j = e % 2
            let scaled = starts.map { $0.effects[client][e] * fit.standardDeviations[sd + j]
                / $0.covariances[client][j * 2 + j].squareRoot() }
            let mean = scaled.reduce(0, +) / Double(n)
            let spread = fit.conditionalStandardDeviations[client][e]
            #expect(abs(mean - fit.modes[client][e]) < 4 * spread / Double(n).squareRoot(), "effect \(e)")
        }
    }
}
