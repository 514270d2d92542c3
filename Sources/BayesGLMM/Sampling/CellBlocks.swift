import Foundation
import Variates

/// The per-cell draws of a sweep (step 1's ωᵢ, or Albert–Chib's latent
/// sums), made in fixed blocks of cells, each from a random stream of its
/// own, so that the threads sharing a chain's sweep never change its draws:
/// the same seed gives the same draws at any number of threads.
///
/// Block b holds the cells [4096·b, min(4096·(b + 1), n)) — a partition of
/// the cells alone, never of the threads — and draws from the stream
/// `(key, 0, b)` (`Generator(seed:chain:stream:)`), where the key is one
/// 64-bit word the chain's own generator gives each sweep. So the blocks'
/// streams differ between sweeps and chains and follow from the seed; the
/// threads only choose who draws which block (block b falls to thread
/// b mod t).
struct CellBlocks: Sendable {
    /// Cells per block: enough that making a block's generator (≈1 µs) is
    /// lost in its draws (≈0.3 ms), few enough that 2–16 threads share the
    /// blocks of 10⁵ cells evenly.
    static let cellsPerBlock = 4096

    /// The number of cells.
    let count: Int
    /// How many threads share the blocks (at least 1).
    let threads: Int

    var blockCount: Int { (count + CellBlocks.cellsPerBlock - 1) / CellBlocks.cellsPerBlock }

    /// Calls `body(cells, generator)` for every block, each block's cells
    /// with its own generator, on up to `threads` threads; `body` must only
    /// write what belongs to its cells. Takes the sweep's key from
    /// `generator` (two 32-bit words) even when there are no cells. Returns
    /// a failure (a block's generator could not be made) or nil.
    func forEach(using generator: Generator,
                 _ body: @Sendable (Range<Int>, Generator) -> Void) -> String? {
        let key = UInt64(generator.next32()) << 32 | UInt64(generator.next32())
        let blocks = blockCount, count = self.count, size = CellBlocks.cellsPerBlock
        let workers = min(max(threads, 1), blocks)
        let failure = Protected<String?>(nil)
        @Sendable func work(_ worker: Int) {
            for b in stride(from: worker, to: blocks, by: max(workers, 1)) {
                let blockGenerator: Generator
                do {
                    blockGenerator = try Generator(seed: key, chain: 0, stream: UInt64(b))
                } catch {
                    failure.withLock { $0 = $0 ?? "the random stream of a block of cells could not be made: \(error)" }
                    return
                }
                body((b * size)..<min((b + 1) * size, count), blockGenerator)
            }
        }
        if workers <= 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
        return failure.withLock { $0 }
    }
}

/// Two arrays of doubles written by the blocks of `CellBlocks`, each block
/// its own cells only, so no two threads write one element.
struct CellOutputs: @unchecked Sendable {
    let first: UnsafeMutableBufferPointer<Double>
    let second: UnsafeMutableBufferPointer<Double>
}
