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
}
