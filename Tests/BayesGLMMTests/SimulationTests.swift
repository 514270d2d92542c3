import Foundation
import Testing
@testable import BayesGLMM

/// The simulator's empirical moments match its parameters (z-scores below 4
/// at a fixed seed), and the same seed gives the same data.
@Suite struct SimulationTests {
    static func sdZ(_ x: [Double], sd: Double) -> Double {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let s = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        return (s - sd) / (sd / (2 * (n - 1)).squareRoot())     // SE of a normal sample's sd
    }

    @Test func momentsMatchParameters() throws {
        var simulation = Simulation()
        simulation.coefficients = [0.7]
        simulation.seed = 11
        let out = try simulation.run()
        #expect(abs(SimulationTests.sdZ(out.clientEffects, sd: 0.8)) < 4)
        #expect(abs(SimulationTests.sdZ(out.stylistEffects, sd: 0.4)) < 4)
        #expect(abs(SimulationTests.sdZ(out.pairEffects.map(\.effect), sd: 0.3)) < 4)
        #expect(abs(SimulationTests.sdZ(out.covariates[0], sd: 1)) < 4)
        // Rows: 2,000 clients × E[stylists] 2.5 × E[observations] 5.5, with
        // variance per client 2.5·8.25 + 1.25·5.5² (a random sum).
        let expectedRows = 2000 * 2.5 * 5.5, sdRows = (2000 * (2.5 * 8.25 + 1.25 * 5.5 * 5.5)).squareRoot()
        #expect(abs((Double(out.rowCount) - expectedRows) / sdRows) < 4)
        #expect(abs((Double(out.pairEffects.count) - 5000) / (2000 * 1.25).squareRoot()) < 4)
        // Outcomes: the number of successes against the sum of the true
        // probabilities (a sum of independent Bernoullis).
        var pairEffect: [String: Double] = [:]
        for (pair, effect) in out.pairEffects { pairEffect[pair] = effect }
        var expected = 0.0, variance = 0.0, successes = 0.0
        for i in 0..<out.rowCount {
            let c = Int(out.client[i]), s = Int(out.stylist[i])
            let eta = -0.5 + 0.7 * out.covariates[0][i] + out.clientEffects[c - 1] + out.stylistEffects[s - 1]
                + pairEffect["\(c):\(s)"]!
            let p = 1 / (1 + exp(-eta))
            expected += p
            variance += p * (1 - p)
            successes += Double(out.y[i])
        }
        #expect(abs((successes - expected) / variance.squareRoot()) < 4)
        // Each client's stylists are distinct and within range.
        var seen = Set<String>()
        for (pair, _) in out.pairEffects { #expect(seen.insert(pair).inserted) }
    }

    @Test func sameSeedSameData() throws {
        var a = Simulation()
        a.clients = 50
        a.seed = 4
        var b = a
        #expect(a.csv(try a.run()) == b.csv(try b.run()))
        b.seed = 5
        #expect(a.csv(try a.run()) != b.csv(try b.run()))
    }

    @Test func invalidSettingsNameTheOption() {
        var s = Simulation()
        s.clients = 1
        #expect(throws: InputError.self) { try s.validate() }
        s = Simulation()
        s.stylistsPerClient = 1...500
        #expect { try s.validate() } throws: { ($0 as? InputError)?.setting == "stylistsPerClient" }
        s = Simulation()
        s.sdPair = -1
        #expect { try s.validate() } throws: { ($0 as? InputError)?.setting == "sdPair" }
    }
}
