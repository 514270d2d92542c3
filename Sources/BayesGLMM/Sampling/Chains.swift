import Foundation
import Variates

/// How many chains, how long, and from which seed.
public struct ChainSettings: Sendable, Equatable {
    public var chains = 4
    public var warmup = 1000
    public var draws = 1000
    public var thin = 1
    public var seed: UInt64 = 1
    public init(chains: Int = 4, warmup: Int = 1000, draws: Int = 1000, thin: Int = 1, seed: UInt64 = 1) {
        self.chains = chains
        self.warmup = warmup
        self.draws = draws
        self.thin = thin
        self.seed = seed
    }
}

/// Draws kept in memory: `values[chain][draw]` is the parameter vector of
/// `names`, for the parameters selected when running.
public struct ChainDraws: Sendable {
    public var names: [String]
    public var values: [[[Double]]]

    /// One parameter's draws, iterations × chains, for the Diagnostics module.
    public func series(_ name: String) -> [[Double]]? {
        guard let j = names.firstIndex(of: name) else { return nil }
        return values.map { chain in chain.map { $0[j] } }
    }
}

/// Runs chains of a kernel, in parallel when asked. Chain c uses the stream
/// (seed, chain: c, stream: 0), so the draws are the same whatever the number
/// of threads.
public enum Chains {
    public static func run<K: SamplingKernel>(_ kernel: K, settings: ChainSettings, parallel: Bool = true,
                                             keep: ((String) -> Bool)? = nil) throws -> ChainDraws {
        let names = kernel.parameterNames
        let kept = names.indices.filter { keep?(names[$0]) ?? true }
        let box = ResultBox(count: settings.chains)
        let failure = ErrorBox()
        let work: @Sendable (Int) -> Void = { c in
            do {
                let generator = try Generator(seed: settings.seed, chain: UInt64(c), stream: 0)
                var state = kernel.initialState(using: generator)
                for _ in 0..<settings.warmup { state = kernel.step(state, using: generator).0 }
                state = kernel.endWarmup(state)
                var draws: [[Double]] = []
                draws.reserveCapacity(settings.draws)
                for iteration in 0..<(settings.draws * settings.thin) {
                    state = kernel.step(state, using: generator).0
                    if (iteration + 1) % settings.thin == 0 {
                        let all = kernel.values(of: state)
                        draws.append(kept.map { all[$0] })
                    }
                }
                box.set(c, draws)
            } catch {
                failure.set(error)
            }
        }
        if parallel && settings.chains > 1 {
            DispatchQueue.concurrentPerform(iterations: settings.chains, execute: work)
        } else {
            for c in 0..<settings.chains { work(c) }
        }
        if let error = failure.error { throw error }
        return ChainDraws(names: kept.map { names[$0] }, values: box.values)
    }
}

/// Per-chain results written from concurrent chains.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [[[Double]]]
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [[Double]]) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [[[Double]]] { lock.lock(); defer { lock.unlock() }; return storage }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ e: Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
}

/// A flag that a signal handler or another thread sets to ask running chains
/// to stop after their current sweep.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public func request() { lock.lock(); stopped = true; lock.unlock() }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
}

/// Per-chain progress counters, read by a progress reporter.
public final class SamplingProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var done: [Int]
    public let total: Int
    public init(chains: Int, sweepsPerChain: Int) {
        done = Array(repeating: 0, count: chains)
        total = chains * sweepsPerChain
    }
    public func set(chain: Int, sweeps: Int) { lock.lock(); done[chain] = sweeps; lock.unlock() }
    public var completed: Int { lock.lock(); defer { lock.unlock() }; return done.reduce(0, +) }
}

extension Chains {
    /// How a streamed chain ended.
    public struct Outcome: Sendable {
        public var chain: Int
        public var draws: Int
        public var warmupSeconds: Double
        public var samplingSeconds: Double
        public var interrupted: Bool
        /// The kernel's `rates` averaged over the sampling sweeps.
        public var rates: [String: Double] = [:]
    }

    /// Runs chains and hands every kept draw to `sink(chain, values)` as it is
    /// made (each chain calls its sink from its own thread, in order). Stops
    /// after the current sweep when `stop` is requested.
    public static func stream<K: SamplingKernel>(
        _ kernel: K, settings: ChainSettings, parallel: Bool = true, keep: [Int],
        stop: StopRequest, progress: SamplingProgress?,
        sink: @escaping @Sendable (Int, [Double]) throws -> Void
    ) throws -> [Outcome] {
        let outcomes = OutcomeBox(count: settings.chains)
        let failure = ErrorBox()
        let work: @Sendable (Int) -> Void = { c in
            do {
                let generator = try Generator(seed: settings.seed, chain: UInt64(c), stream: 0)
                var state = kernel.initialState(using: generator)
                let clock = ContinuousClock()
                var sweeps = 0
                var outcome = Outcome(chain: c, draws: 0, warmupSeconds: 0, samplingSeconds: 0, interrupted: false)
                let warmupStart = clock.now
                for _ in 0..<settings.warmup {
                    if stop.isRequested { outcome.interrupted = true; break }
                    state = kernel.step(state, using: generator).0
                    sweeps += 1
                    progress?.set(chain: c, sweeps: sweeps)
                }
                outcome.warmupSeconds = Chains.seconds(clock.now - warmupStart)
                state = kernel.endWarmup(state)
                let samplingStart = clock.now
                var rateSums: [String: Double] = [:]
                if !outcome.interrupted {
                    for iteration in 0..<(settings.draws * settings.thin) {
                        if stop.isRequested { outcome.interrupted = true; break }
                        let info: K.Info
                        (state, info) = kernel.step(state, using: generator)
                        sweeps += 1
                        rateSums.merge(kernel.rates(of: info), uniquingKeysWith: +)
                        progress?.set(chain: c, sweeps: sweeps)
                        if (iteration + 1) % settings.thin == 0 {
                            let all = kernel.values(of: state)
                            try sink(c, keep.map { all[$0] })
                            outcome.draws += 1
                        }
                    }
                }
                outcome.samplingSeconds = Chains.seconds(clock.now - samplingStart)
                let samplingSweeps = Double(sweeps - settings.warmup)
                if samplingSweeps > 0 { outcome.rates = rateSums.mapValues { $0 / samplingSweeps } }
                outcomes.set(c, outcome)
            } catch {
                failure.set(error)
                stop.request()
            }
        }
        if parallel && settings.chains > 1 {
            DispatchQueue.concurrentPerform(iterations: settings.chains, execute: work)
        } else {
            for c in 0..<settings.chains { work(c) }
        }
        if let error = failure.error { throw error }
        return outcomes.values
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Chains.Outcome?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Chains.Outcome) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [Chains.Outcome] { lock.lock(); defer { lock.unlock() }; return storage.compactMap { $0 } }
}
