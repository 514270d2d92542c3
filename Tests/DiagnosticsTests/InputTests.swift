import Foundation
import Testing
@testable import Diagnostics

@Suite("Bad input is a thrown error")
struct InputTests {
    @Test func emptyDraws() {
        #expect(throws: DiagnosticsError.noDraws) { try Draws(chains: []) }
        #expect(throws: DiagnosticsError.noDraws) { try Draws(chains: [[], []]) }
        #expect(throws: DiagnosticsError.noDraws) { try Draws(columnMajor: [], iterations: 0, chains: 3) }
        #expect(throws: DiagnosticsError.noDraws) { try autocovariance([]) }
    }

    @Test func raggedChains() {
        #expect(throws: DiagnosticsError.raggedChains(chain: 2, count: 2, expected: 3)) {
            try Draws(chains: [[1, 2, 3], [4, 5, 6], [7, 8]])
        }
        #expect(throws: DiagnosticsError.shapeMismatch(values: 5, iterations: 2, chains: 3)) {
            try Draws(columnMajor: [1, 2, 3, 4, 5], iterations: 2, chains: 3)
        }
    }

    @Test(arguments: [-0.01, 1.0000001, Double.nan, -Double.infinity])
    func probabilityOutOfRange(_ p: Double) throws {
        let draws = try Draws(chains: [[1, 2, 3, 4, 5, 6], [2, 3, 1, 5, 4, 6]])
        #expect(throws: DiagnosticsError.self) { try quantile(draws, probability: p) }
        #expect(throws: DiagnosticsError.self) { try essQuantile(draws, probability: p) }
        #expect(throws: DiagnosticsError.self) { try mcseQuantile(draws, probability: p) }
    }

    @Test func superchains() throws {
        let draws = try Draws(chains: [[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 7]])
        #expect(throws: DiagnosticsError.superchainLabelCount(labels: 3, chains: 4)) {
            try rhatNested(draws, superchains: [1, 1, 2])
        }
        #expect(throws: DiagnosticsError.unequalSuperchains(sizes: [3, 1])) {
            try rhatNested(draws, superchains: ["a", "a", "a", "b"])
        }
        #expect(try rhatNested(draws, superchains: [1, 1, 1, 1]) == nil)  // one superchain: NA
        #expect(try rhatNested(draws, superchains: [1, 1, 2, 2]) != nil)
    }

    @Test func messagesNameTheProblem() {
        #expect(DiagnosticsError.raggedChains(chain: 2, count: 2, expected: 3).description.contains("chain 3 has 2 draws"))
        #expect(DiagnosticsError.probabilityOutOfRange(1.5).description.contains("outside [0, 1]"))
    }
}

@Suite("Edge cases of the specification")
struct EdgeCaseTests {
    /// With 2 or 3 draws per chain the split chains have one draw each:
    /// R-hat and ESS are not available (the spec; posterior 1.4.0 returns
    /// numbers here because R drops the matrix shape, see Split.swift).
    @Test(arguments: [2, 3])
    func tooShortToSplit(_ n: Int) throws {
        let draws = try Draws(chains: (0..<4).map { j in (0..<n).map { Double($0 * 7 + j * 3 % 5) } })
        #expect(rhat(draws) == nil)
        #expect(rhatBasic(draws) == nil)
        #expect(essBulk(draws) == nil)
        #expect(essTail(draws) == nil)
        #expect(mean(draws) != nil)
    }

    /// 6 to 11 draws per chain: the split chains have 3 to 5 draws, Geyer's
    /// loop never runs, tau = 2 and ESS = S/2 (S the draws after splitting).
    @Test(arguments: [6, 7, 8, 9, 10, 11])
    func halfTheDrawsQuirk(_ n: Int) throws {
        let chains = (0..<4).map { AutocovarianceTests.series(n, phi: 0.3, seed: UInt64(n * 10 + $0)) }
        let draws = try Draws(chains: chains)
        let s = Double(4 * 2 * (n / 2))
        #expect(essBulk(draws) == s / 2)
        #expect(essMean(draws) == s / 2)
    }

    @Test func constantDrawsAreNotAvailable() throws {
        let draws = try Draws(chains: [[Double](repeating: 2.5, count: 20), [Double](repeating: 2.5, count: 20)])
        #expect(rhat(draws) == nil && rhatBasic(draws) == nil)
        #expect(essBulk(draws) == nil && essTail(draws) == nil && essMean(draws) == nil && essSd(draws) == nil)
        #expect(mcseMean(draws) == nil && mcseSd(draws) == nil && mcseMedian(draws) == nil)
        #expect(mean(draws) == 2.5 && standardDeviation(draws) == 0)
    }

    /// Equal numbers of 0s and 1s: the folded draws are all 1/2, so the tail
    /// R-hat, and with it R-hat, is not available.
    @Test func balancedBinaryHasNoRhat() throws {
        let draws = try Draws(chains: (0..<4).map { j in (0..<50).map { Double(($0 + j) % 2) } })
        #expect(rhat(draws) == nil)
        #expect(rhatBasic(draws) != nil)
    }

    /// Bulk ESS depends on the draws only through their ranks.
    @Test func bulkEffectiveSampleSizeIsRankBased() throws {
        let chains = (0..<4).map { AutocovarianceTests.series(300, phi: 0.7, seed: UInt64(40 + $0)) }
        let draws = try Draws(chains: chains)
        let transformed = try Draws(chains: chains.map { $0.map { exp(3 * $0) - 2 } })
        #expect(essBulk(draws) == essBulk(transformed))
    }

    @Test func infinitiesLeaveRankDiagnostics() throws {
        var chains = (0..<4).map { AutocovarianceTests.series(100, phi: 0.2, seed: UInt64(70 + $0)) }
        chains[1][10] = .infinity
        let draws = try Draws(chains: chains)
        #expect(rhat(draws) != nil && essBulk(draws) != nil)
        #expect(essTail(draws) == nil && mcseMean(draws) == nil && mcseSd(draws) == nil)
        #expect(mean(draws) == .infinity && standardDeviation(draws) == nil)
    }

    @Test func splitDropsTheMiddleDrawOfOddChains() throws {
        let draws = try Draws(chains: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
        let split = splitChains(draws)
        #expect(split.iterations == 2 && split.chains == 4)
        #expect(split.values == [1, 2, 6, 7, 4, 5, 9, 10])
        let one = try Draws(chains: [[1], [2]])
        #expect(splitChains(one) == one)
    }

    @Test func averageRanksShareTies() {
        #expect(averageRanks([3, 1, 3, 2, 3]) == [4, 1, 4, 2, 4])
        #expect(averageRanks([-Double.infinity, 0, .infinity, 0]) == [1, 2.5, 4, 2.5])
    }

    @Test func typeSevenQuantiles() {
        let sorted: [Double] = [1, 2, 4, 8]
        #expect(typeSevenQuantile(sorted: sorted, probability: 0) == 1)
        #expect(typeSevenQuantile(sorted: sorted, probability: 1) == 8)
        #expect(typeSevenQuantile(sorted: sorted, probability: 0.5) == 3)
        #expect(typeSevenQuantile(sorted: [5], probability: 0.3) == 5)
    }
}
