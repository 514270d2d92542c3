import Testing
@testable import Diagnostics

@Suite("Autocovariance by FFT")
struct AutocovarianceTests {
    /// A small deterministic AR(1) series (no dependency on Variates).
    static func series(_ n: Int, phi: Double, seed: UInt64) -> [Double] {
        var state = seed
        var x = 0.0
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(state >> 11) / Double(1 << 53) - 0.5
            x = phi * x + u
            return x
        }
    }

    @Test("FFT agrees with the direct sum", arguments: [2, 3, 7, 64, 97, 250, 1000, 1001])
    func agreesWithDirectSum(_ n: Int) throws {
        let chain = Self.series(n, phi: 0.8, seed: UInt64(n))
        let fft = try #require(try autocovariance(chain))
        let direct = directAutocovariance(chain)
        #expect(fft.count == n)
        let scale = direct[0]
        for k in 0..<n {
            #expect(abs(fft[k] - direct[k]) <= 1e-13 * scale, "lag \(k): \(fft[k]) vs \(direct[k])")
        }
    }

    @Test("the ESS's mean autocovariance over chains agrees with the direct sums", arguments: [3, 10, 333, 1000])
    func meanOverChainsAgreesWithDirectSums(_ n: Int) throws {
        var chains = (0..<4).map { Self.series(n, phi: 0.6, seed: UInt64(10 * n + $0)).map { $0 + 1e4 } }
        chains[2] = [Double](repeating: 7, count: n)  // a constant chain contributes zeros
        let draws = try Draws(chains: chains)
        let gamma = meanAutocovariance(draws)
        let perChain = chains.map { $0.allSatisfy { $0 == 7 } ? [Double](repeating: 0, count: n) : directAutocovariance($0) }
        let direct = (0..<n).map { k in perChain.map { $0[k] }.reduce(0, +) / 4 }
        for k in 0..<n {
            #expect(abs(gamma[k] - direct[k]) <= 1e-12 * direct[0], "lag \(k): \(gamma[k]) vs \(direct[k])")
        }
    }

    @Test func constantAndNonFiniteChains() throws {
        #expect(try autocovariance([2, 2, 2, 2]) == [0, 0, 0, 0])
        #expect(try autocorrelation([2, 2, 2, 2]) == nil)
        #expect(try autocovariance([1, .nan, 3]) == nil)
        #expect(try autocovariance([1, .infinity, 3]) == nil)
        #expect(try autocovariance([4]) == [0])
        let rho = try #require(try autocorrelation(Self.series(100, phi: 0.5, seed: 1)))
        #expect(rho[0] == 1)
    }

    @Test func fastSizes() {
        #expect(fastFourierSize(atLeast: 1) == 1)
        #expect(fastFourierSize(atLeast: 7) == 8)
        #expect(fastFourierSize(atLeast: 500) == 500)
        #expect(fastFourierSize(atLeast: 1001) == 1024)
        #expect(fastFourierSize(atLeast: 121) == 125)
    }
}
