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

    /// Client slopes on x1: their SD and their correlation with the client
    /// effects match the settings (z < 4, Fisher's z for the correlation),
    /// the outcomes follow the linear predictor with the slope in it, and
    /// everything but the outcomes is what the same seed gives without
    /// slopes (the slopes draw from a stream of their own).
    @Test func clientSlopesMatchTheirSettings() throws {
        var simulation = Simulation()
        simulation.clients = 6000
        simulation.stylistsPerClient = 1...2
        simulation.observationsPerPair = 1...3
        simulation.coefficients = [0.7]
        simulation.sdClientSlope = 0.5
        simulation.corClientSlope = 0.6
        simulation.seed = 12
        let out = try simulation.run()
        #expect(out.clientSlopes.count == 6000)
        #expect(abs(SimulationTests.sdZ(out.clientSlopes, sd: 0.5)) < 4)
        let n = Double(out.clientSlopes.count)
        let ma = out.clientEffects.reduce(0, +) / n, mb = out.clientSlopes.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (a, b) in zip(out.clientEffects, out.clientSlopes) {
            sab += (a - ma) * (b - mb); saa += (a - ma) * (a - ma); sbb += (b - mb) * (b - mb)
        }
        let r = sab / (saa * sbb).squareRoot()
        #expect(abs((atanh(r) - atanh(0.6)) * (n - 3).squareRoot()) < 4, "r = \(r)")

        var pairEffect: [String: Double] = [:]
        for (pair, effect) in out.pairEffects { pairEffect[pair] = effect }
        var expected = 0.0, variance = 0.0, successes = 0.0
        for i in 0..<out.rowCount {
            let c = Int(out.client[i]), s = Int(out.stylist[i]), x = out.covariates[0][i]
            let eta = -0.5 + (0.7 + out.clientSlopes[c - 1]) * x + out.clientEffects[c - 1]
                + out.stylistEffects[s - 1] + pairEffect["\(c):\(s)"]!
            let p = 1 / (1 + exp(-eta))
            expected += p
            variance += p * (1 - p)
            successes += Double(out.y[i])
        }
        #expect(abs((successes - expected) / variance.squareRoot()) < 4)

        var plain = simulation
        plain.sdClientSlope = 0
        plain.corClientSlope = 0
        let without = try plain.run()
        #expect(without.clientSlopes.isEmpty)
        #expect(without.clientEffects == out.clientEffects && without.stylistEffects == out.stylistEffects)
        #expect(without.covariates == out.covariates && without.client == out.client)
        #expect(without.pairEffects.map(\.effect) == out.pairEffects.map(\.effect))
        #expect(without.y != out.y)
        let truth = try JSONSerialization.jsonObject(with: simulation.truthJSON(out)) as? [String: Any]
        #expect(truth?["formula"] as? String == "y ~ x1 + (1 + x1|client) + (1|stylist) + (1|client:stylist)")
        #expect(truth?["sd_client_slope"] as? Double == 0.5 && truth?["cor_client_slope"] as? Double == 0.6)
        #expect((truth?["client_slopes"] as? [Double])?.count == 6000)
    }

    /// Where every other effect is 0, a strong slope alone decides the
    /// outcomes: y = 1 mostly where slope · x1 > 0 (half the time if the
    /// slope were left out of the linear predictor).
    @Test func theSlopeEntersTheLinearPredictor() throws {
        var simulation = Simulation()
        simulation.clients = 500
        simulation.intercept = 0
        simulation.sdClient = 0
        simulation.sdStylist = 0
        simulation.sdPair = 0
        simulation.coefficients = [0]
        simulation.sdClientSlope = 4
        simulation.seed = 3
        let out = try simulation.run()
        var agree = 0
        for i in 0..<out.rowCount where (out.clientSlopes[Int(out.client[i]) - 1] * out.covariates[0][i] > 0) == (out.y[i] == 1) {
            agree += 1
        }
        #expect(Double(agree) / Double(out.rowCount) > 0.75, "\(agree) of \(out.rowCount)")
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
        s = Simulation()
        s.sdClientSlope = 0.5                            // no x1
        #expect { try s.validate() } throws: { ($0 as? InputError)?.setting == "sdClientSlope" }
        s.coefficients = [0]
        s.corClientSlope = 1.5
        #expect { try s.validate() } throws: { ($0 as? InputError)?.setting == "corClientSlope" }
        s.corClientSlope = -1
        #expect(throws: Never.self) { try s.validate() }
        s.sdClientSlope = 0                              // a correlation without slopes
        #expect { try s.validate() } throws: { ($0 as? InputError)?.setting == "corClientSlope" }
    }
}
