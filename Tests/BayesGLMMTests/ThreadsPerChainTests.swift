import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// A sweep's per-cell draws in fixed blocks, each from its own stream
/// (`CellBlocks`): the same seed gives the same draws at any number of
/// threads per chain.
@Suite struct ThreadsPerChainTests {
    /// Simulated crossed data with a covariate: about 16,000 cells, so
    /// four blocks of 4,096 and a partial one.
    static func design(_ formula: String, slope: Double = 0) throws -> Design {
        var simulation = Simulation()
        simulation.clients = 1200
        simulation.stylists = 40
        simulation.coefficients = [0.5]
        simulation.sdClientSlope = slope
        simulation.seed = 11
        let out = try simulation.run()
        let frame = DesignTests.frame([
            ("y", out.y.map { String($0) }), ("x1", out.covariates[0].map { String($0) }),
            ("client", out.client.map { "c\($0)" }), ("stylist", out.stylist.map { "s\($0)" }),
        ])
        return try Design(formula: ModelFormula.parse(formula), frame: frame)
    }

    static let settings = ChainSettings(chains: 2, warmup: 5, draws: 10, seed: 3)

    @Test func blocksCoverEveryCellOnceEachWithItsOwnStream() throws {
        for count in [0, 1, 4095, 4096, 4097, 20_000] {
            for threads in [1, 2, 3, 8] {
                let blocks = CellBlocks(count: count, threads: threads)
                let seen = Protected([Int](repeating: 0, count: count))
                let keys = Protected([Int: UInt64]())
                let generator = try Generator(seed: 9)
                let failure = blocks.forEach(using: generator) { cells, blockGenerator in
                    seen.withLock { for i in cells { $0[i] += 1 } }
                    keys.withLock { $0[cells.lowerBound / CellBlocks.cellsPerBlock] = blockGenerator.key }
                }
                #expect(failure == nil)
                #expect(seen.withLock { $0 }.allSatisfy { $0 == 1 }, "\(count) cells, \(threads) threads")
                let streams = keys.withLock { $0 }
                #expect(streams.count == blocks.blockCount && Set(streams.values).count == streams.count)
                // The sweep's key takes two words of the chain's stream, whatever the cells and threads.
                let reference = try Generator(seed: 9)
                _ = (reference.next32(), reference.next32())
                #expect(generator.next32() == reference.next32())
            }
        }
    }

    /// Chains of each Gibbs kernel that draws per cell, at 1 to 5 threads per chain.
    @Test(arguments: ["logit", "probit", "slopes"])
    func sameDrawsAtAnyNumberOfThreads(_ kind: String) throws {
        func draws(_ threads: Int) throws -> [[[Double]]] {
            switch kind {
            case "slopes":
                var kernel = try RandomSlopeGibbs(
                    design: ThreadsPerChainTests.design("y ~ x1 + (1 + x1|client) + (1|stylist)", slope: 0.4))
                kernel.threadsPerChain = threads
                return try Chains.run(kernel, settings: ThreadsPerChainTests.settings).values
            default:
                var kernel = PolyaGammaGibbs(
                    design: try ThreadsPerChainTests.design("y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"),
                    augmentation: kind == "probit" ? .albertChib : .polyaGamma)
                kernel.threadsPerChain = threads
                return try Chains.run(kernel, settings: ThreadsPerChainTests.settings).values
            }
        }
        let one = try draws(1)
        #expect(one.count == 2 && one.allSatisfy { $0.count == 10 })
        #expect(one[0] != one[1])
        for threads in [2, 3, 5] {
            #expect(try draws(threads) == one, "\(kind): \(threads) threads")
        }
    }

    @Test func threadsPerChainDefaultsToTheCoresTheChainsLeave() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(ChainSettings(chains: 1).resolvedThreadsPerChain == cores)
        #expect(ChainSettings(chains: 4 * cores).resolvedThreadsPerChain == 1)
        #expect(ChainSettings(chains: 4, parallelChains: 1).resolvedThreadsPerChain == cores)
        #expect(ChainSettings(chains: 4, selection: [2]).resolvedThreadsPerChain == cores)
        #expect(ChainSettings(chains: 4, threadsPerChain: 3).resolvedThreadsPerChain == 3)
    }
}
