import Foundation
import Testing
import Variates

@Suite struct GeneratorTests {
    @Test func sameSeedSameDraws() throws {
        let a = try Generator(seed: 7, chain: 1, stream: 2)
        let b = try Generator(seed: 7, chain: 1, stream: 2)
        let pg = try PolyaGamma(shape: 1, tilt: 1.5)
        for _ in 0..<1000 {
            #expect(a.uniform() == b.uniform())
            #expect(a.normal() == b.normal())
            #expect(pg.sample(using: a) == pg.sample(using: b))
        }
    }

    @Test func differentStreamsDiffer() throws {
        let triples: [(UInt64, UInt64, UInt64)] = [(1, 0, 0), (1, 0, 1), (1, 1, 0), (2, 0, 0), (0, 0, 0)]
        var firsts = Set<UInt64>()
        for (s, c, k) in triples {
            let g = try Generator(seed: s, chain: c, stream: k)
            firsts.insert(UInt64(g.next32()) << 32 | UInt64(g.next32()))
            #expect(g.key == Generator.key(seed: s, chain: c, stream: k))
        }
        #expect(firsts.count == triples.count)
    }

    /// Streams do not overlap: no 64-bit window (two consecutive outputs) of
    /// one stream's first 2^18 outputs appears among another's first 2^18.
    @Test func streamsDoNotOverlap() throws {
        let count = 1 << 18
        func windows(_ g: Generator) -> [UInt64] {
            var previous = g.next32()
            return (0..<count).map { _ in
                let next = g.next32()
                defer { previous = next }
                return UInt64(previous) << 32 | UInt64(next)
            }
        }
        let base = Set(windows(try Generator(seed: 11, chain: 0, stream: 0)))
        for (c, k) in [(0, 1), (1, 0), (3, 7)] as [(UInt64, UInt64)] {
            let other = windows(try Generator(seed: 11, chain: c, stream: k))
            #expect(other.allSatisfy { !base.contains($0) })
        }
    }

    /// Results are the same whatever the number of threads: each unit of work
    /// owns its stream.
    @Test func reproducibleAcrossThreads() throws {
        let units = 8
        @Sendable func work(_ unit: Int) -> [Double] {
            let g = try! Generator(seed: 5, chain: UInt64(unit), stream: 0)
            let pg = try! PolyaGamma(shape: 2.5, tilt: Double(unit) - 3)
            return (0..<500).map { _ in pg.sample(using: g) }
        }
        let sequential = (0..<units).map(work)
        let results = ResultBox(count: units)
        DispatchQueue.concurrentPerform(iterations: units) { results.set($0, work($0)) }
        #expect(results.values == sequential)
    }

    @Test func uniformsAreInRange() throws {
        let g = try Generator(seed: 3)
        for _ in 0..<100_000 {
            let u = g.uniform()
            #expect(u >= 0 && u < 1)
            let p = g.uniformPositive()
            #expect(p > 0 && p < 1)
        }
    }
}

/// Collects per-unit results from concurrent work.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [[Double]]
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [Double]) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [[Double]] { lock.lock(); defer { lock.unlock() }; return storage }
}
