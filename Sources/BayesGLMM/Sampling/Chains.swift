import Foundation
import Synchronization
import Variates

/// How many chains, how long, and from which seed.
public struct ChainSettings: Sendable, Equatable {
    public var chains = 4
    public var warmup = 1000
    public var draws = 1000
    public var thin = 1
    public var seed: UInt64 = 1
    /// How many chains run at once (cmdstanr's `parallel_chains`); nil: one
    /// per core. The draws do not depend on it.
    public var parallelChains: Int?
    /// How many threads share each chain's sweeps (cmdstanr's
    /// `threads_per_chain`; `CellBlocks`); nil: the cores the chains running
    /// at once leave, at least one. The draws do not depend on it.
    public var threadsPerChain: Int?
    /// The chains to run (0-based, ascending), when not all `chains` of
    /// them: a chain run as a job of its own (`fit --chain K`) runs one.
    /// Each runs from the stream it has among all `chains`, so its draws
    /// are those it makes when every chain runs together.
    public var selection: [Int]?
    public init(chains: Int = 4, warmup: Int = 1000, draws: Int = 1000, thin: Int = 1, seed: UInt64 = 1,
                parallelChains: Int? = nil, threadsPerChain: Int? = nil, selection: [Int]? = nil) {
        self.chains = chains
        self.warmup = warmup
        self.draws = draws
        self.thin = thin
        self.seed = seed
        self.parallelChains = parallelChains
        self.threadsPerChain = threadsPerChain
        self.selection = selection
    }

    /// `threadsPerChain`, or the cores left to each of the chains that run
    /// at once (one thread when they are at least as many as the cores).
    public var resolvedThreadsPerChain: Int {
        if let threadsPerChain { return threadsPerChain }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let atOnce = max(1, min(selectedChains.count, parallelChains ?? cores))
        return max(1, cores / atOnce)
    }

    /// The chains run (0-based, ascending): `selection`, or all of them.
    public var selectedChains: [Int] { selection ?? Array(0..<chains) }

    /// Sweeps per chain: the warm-up and `draws × thin` sampling sweeps.
    /// Nil when the count does not fit in an `Int`.
    public var sweepsPerChain: Int? {
        let (sampling, overflow) = draws.multipliedReportingOverflow(by: thin)
        let (total, overflowTotal) = warmup.addingReportingOverflow(sampling)
        return overflow || overflowTotal ? nil : total
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

/// Where one chain's kept draws go: made on the chain's own thread when the
/// chain begins (`Chains.stream`), used only there, in order, and finished
/// there when the chain ends — or, when the chains go on in blocks, used by
/// one thread at a time, each block's, and finished after the last block.
public protocol ChainSink: SendableMetatype {
    /// One kept draw: the values of the kernel's parameters, all finite.
    mutating func write(_ values: [Double]) throws
    /// The chain has ended (`outcome` says how): write what is buffered and
    /// close.
    mutating func finish(_ outcome: Chains.Outcome) throws
    /// How many draws are written in full (after a failed write, the
    /// draws before it).
    var written: Int { get }
}

/// Runs chains of a kernel, in parallel when asked. Chain c uses the stream
/// (seed, chain: c, stream: 0), so the draws are the same whatever the number
/// of threads.
///
/// The driver checks every sweep: a value that is not finite, or a step that
/// reports a failure (`SamplingKernel.failure(of:)`), stops that chain as
/// failed — its draws before are kept — and asks the others to stop.
public enum Chains {
    /// Runs the chains and keeps their draws in memory (the parameters
    /// `keep` selects). Throws the first failure of any chain.
    public static func run<K: SamplingKernel>(_ kernel: K, settings: ChainSettings, parallel: Bool = true,
                                             keep: ((String) -> Bool)? = nil) throws -> ChainDraws {
        let names = kernel.parameterNames
        let kept = names.indices.filter { keep?(names[$0]) ?? true }
        let results = Protected<[[[Double]]]>(Array(repeating: [], count: settings.chains))
        let outcomes = stream(kernel, settings: settings, parallel: parallel, stop: StopRequest(),
                              progress: nil) { chain in
            MemorySink(chain: chain, keep: kept, results: results)
        }
        if let failed = outcomes.first(where: { $0.failure != nil }), let failure = failed.failure {
            throw failure.error
        }
        return ChainDraws(names: kept.map { names[$0] },
                          values: results.withLock { all in settings.selectedChains.map { all[$0] } })
    }

    /// Keeps one chain's draws in memory, handing them over when it ends.
    private struct MemorySink: ChainSink {
        let chain: Int
        let keep: [Int]
        /// Every chain's draws, each set once by its chain's sink.
        let results: Protected<[[[Double]]]>
        var draws: [[Double]] = []

        var written: Int { draws.count }

        mutating func write(_ values: [Double]) { draws.append(keep.map { values[$0] }) }

        mutating func finish(_ outcome: Chains.Outcome) {
            let made = draws
            results.withLock { $0[chain] = made }
        }
    }
}

/// A flag that a signal handler or another thread sets to ask running chains
/// to stop after their current sweep.
public final class StopRequest: Sendable {
    private let stopped = Atomic<Bool>(false)
    /// A request this one follows: when it stands, so does this one.
    private let parent: StopRequest?
    /// `DispatchTime` uptime in nanoseconds from which this request stands;
    /// `UInt64.max` for none.
    private let deadline = Atomic<UInt64>(.max)
    public init() { parent = nil }
    /// A request that stands whenever `parent` does (an interrupt), and also
    /// on its own: a run's time limit asks the chains to stop without
    /// saying that the user interrupted them.
    public init(following parent: StopRequest) { self.parent = parent }
    public func request() { stopped.store(true, ordering: .releasing) }
    /// Stands from `seconds` from now on (a time limit).
    public func request(after seconds: Double) {
        let nanoseconds = seconds * 1e9
        let now = DispatchTime.now().uptimeNanoseconds
        deadline.store(nanoseconds >= Double(UInt64.max - now) ? .max - 1 : now + UInt64(max(0, nanoseconds)),
                       ordering: .releasing)
    }
    public var isRequested: Bool {
        if stopped.load(ordering: .acquiring) || parent?.isRequested == true { return true }
        let due = deadline.load(ordering: .acquiring)
        return due != .max && DispatchTime.now().uptimeNanoseconds >= due
    }
}

/// Per-chain progress counters, read by a progress reporter.
public final class SamplingProgress: Sendable {
    private let done: Protected<[Int]>
    private let sweepsPerChain: Atomic<Int>
    public init(chains: Int, sweepsPerChain: Int) {
        done = Protected(Array(repeating: 0, count: chains))
        self.sweepsPerChain = Atomic(sweepsPerChain)
    }
    /// Sweeps of all chains to make: grows when the driver extends the chains.
    public var total: Int { done.withLock { $0.count } * sweepsPerChain.load(ordering: .relaxed) }
    public func set(chain: Int, sweeps: Int) { done.withLock { $0[chain] = sweeps } }
    /// The chains now end after `sweeps` sweeps each (another block of draws).
    public func extend(sweepsPerChain sweeps: Int) { sweepsPerChain.store(sweeps, ordering: .relaxed) }
    public var completed: Int { done.withLock { $0.reduce(0, +) } }
}

extension Chains {
    /// Why a chain stopped before its end: the sampler failed (a value that
    /// is not finite, a factorisation that failed) or its draws could not be
    /// written.
    public struct Failure: Sendable {
        public enum Cause: Sendable { case numerical, output }
        public var cause: Cause
        public var message: String
        public var error: any Error
    }

    /// How a chain ended.
    public struct Outcome: Sendable {
        /// 0-based.
        public var chain: Int
        public var status: RunManifest.Status
        /// Kept draws written in full (`ChainSink.finish`).
        public var draws: Int
        /// Sweeps made, warm-up included.
        public var sweeps: Int
        public var warmupSeconds: Double
        public var samplingSeconds: Double
        /// The kernel's `rates` averaged over the sampling sweeps.
        public var rates: [String: Double] = [:]
        public var failure: Failure?

        /// Version 1's flag: stopped before its end on request.
        public var interrupted: Bool { status == .interrupted || status == .notStarted }
    }

    /// Runs the chains (`settings.selectedChains`) and hands every kept
    /// draw to the chain's sink as it is made; the outcomes are in the
    /// order of `selectedChains`. `makeSink(c)` is called on chain c's thread when it begins
    /// (not for a chain that never begins); the chain writes to it in order
    /// and finishes it when it ends. When `stop` is requested, each running
    /// chain stops after its current sweep and the chains not yet begun
    /// never begin (`notStarted`). A chain that fails — a non-finite value,
    /// a failed step, a sink that throws — requests `stop` for the others.
    /// At most `settings.parallelChains` chains run at once (one per core
    /// when nil; one when `parallel` is false), in order of their number.
    ///
    /// `extend`, when given, lengthens the chains block by block: once every
    /// chain has made its `draws` kept draws (`settings.draws` first), none
    /// has failed and no stop is requested, it is called on the calling
    /// thread with `draws` and returns how many kept draws each chain makes
    /// in all — more to go on with another block, `draws` or fewer to end.
    /// Each chain then carries on from its state and its generator's stream,
    /// so its draws are the ones a single longer block would have made. A
    /// chain's sink is then used by one thread at a time (each block's
    /// worker, in turn) and finished when the last block is over.
    public static func stream<K: SamplingKernel, Sink: ChainSink>(
        _ kernel: K, settings: ChainSettings, parallel: Bool = true, stop: StopRequest,
        progress: SamplingProgress?, extend: ((Int) -> Int)? = nil,
        makeSink: @escaping @Sendable (Int) throws -> Sink
    ) -> [Outcome] {
        let names = kernel.parameterNames
        let chains = settings.selectedChains.map {
            ChainInProgress<K, Sink>(chain: $0, kernel: kernel, names: names, settings: settings)
        }
        let workers = parallel
            ? max(1, min(chains.count, settings.parallelChains ?? ProcessInfo.processInfo.activeProcessorCount))
            : 1
        /// Runs `work` on every chain, each worker taking the next chain not yet taken.
        func each(_ work: @Sendable (ChainInProgress<K, Sink>) -> Void) {
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard c < chains.count else { return }
                    work(chains[c])
                    if chains[c].failure != nil || chains[c].outcome.failure != nil { stop.request() }
                }
            }
        }
        let blocks = extend != nil
        each { chain in
            chain.begin(stop: stop, progress: progress, makeSink: makeSink)
            chain.sample(upTo: settings.draws, stop: stop, progress: progress)
            if !blocks { chain.end() }
        }
        if let extend {
            var target = settings.draws
            while !stop.isRequested && chains.allSatisfy({ $0.hasMade(target) }) {
                let next = extend(target)
                guard next > target else { break }
                target = next
                progress?.extend(sweepsPerChain: settings.warmup + next * settings.thin)
                each { chain in chain.sample(upTo: next, stop: stop, progress: progress) }
            }
            each { chain in chain.end() }
        }
        return chains.map(\.outcome)
    }

    /// One chain between its blocks: its sink, generator and state, and
    /// what it has done. Used by one thread at a time — the worker running
    /// its block; `stream` hands it on between blocks, after every worker
    /// of the block has returned.
    private final class ChainInProgress<K: SamplingKernel, Sink: ChainSink>: @unchecked Sendable {
        let kernel: K
        let names: [String]
        let settings: ChainSettings
        var outcome: Outcome
        var sink: Sink?
        var generator: Generator?
        var state: K.State?
        /// Kept draws handed to the sink.
        var made = 0
        /// Sampling sweeps made (after warm-up).
        var iterations = 0
        var rateSums: [String: Double] = [:]
        var failure: Failure?
        /// Stopped on request before its end.
        var stopped = false

        init(chain: Int, kernel: K, names: [String], settings: ChainSettings) {
            self.kernel = kernel
            self.names = names
            self.settings = settings
            outcome = Outcome(chain: chain, status: .notStarted, draws: 0, sweeps: 0, warmupSeconds: 0,
                              samplingSeconds: 0)
        }

        /// Made `draws` kept draws, and may go on.
        func hasMade(_ draws: Int) -> Bool { sink != nil && failure == nil && !stopped && made >= draws }

        /// Checks a sweep; nil when it is fine.
        func check(_ values: [Double], _ problem: String?, _ place: String) -> Failure? {
            let what: String
            if let problem {
                what = problem
            } else if let bad = values.firstIndex(where: { !$0.isFinite }) {
                what = "drew \(values[bad]) for \(names[bad])"
            } else {
                return nil
            }
            let numerical = NumericalFailure("chain \(outcome.chain + 1) failed at \(place): \(what)",
                                             remedies: [.longerWarmup, .anotherStart, .strongerPrior,
                                                        .rescaledCovariates])
            return Failure(cause: .numerical, message: numerical.message, error: numerical)
        }

        /// Makes the sink and the generator, the start and the warm-up; does
        /// nothing when `stop` stands already (the chain never begins).
        func begin(stop: StopRequest, progress: SamplingProgress?,
                   makeSink: (Int) throws -> Sink) {
            let c = outcome.chain
            if stop.isRequested { return }
            do {
                sink = try makeSink(c)
                generator = try Generator(seed: settings.seed, chain: UInt64(c), stream: 0)
            } catch {
                sink = nil
                failure = Failure(cause: .output, message: "\(error)", error: error)
                outcome.status = .failed
                outcome.failure = failure
                return
            }
            guard let generator else { return }
            let clock = ContinuousClock()
            var state = kernel.initialState(using: generator)
            let warmupStart = clock.now
            failure = check(kernel.values(of: state), nil, "its start")
            if failure == nil {
                for sweep in 0..<settings.warmup {
                    if stop.isRequested { stopped = true; break }
                    let info: K.Info
                    (state, info) = kernel.step(state, using: generator)
                    outcome.sweeps += 1
                    progress?.set(chain: c, sweeps: outcome.sweeps)
                    if let found = check(kernel.values(of: state), kernel.failure(of: info),
                                         "warm-up sweep \(sweep + 1)") {
                        failure = found
                        break
                    }
                }
            }
            outcome.warmupSeconds = seconds(clock.now - warmupStart)
            self.state = kernel.endWarmup(state)
        }

        /// Samples until `target` kept draws are made, the chain fails, or
        /// `stop` stands.
        func sample(upTo target: Int, stop: StopRequest, progress: SamplingProgress?) {
            guard var sink, let generator, var state, failure == nil, !stopped else { return }
            let c = outcome.chain
            let clock = ContinuousClock()
            let samplingStart = clock.now
            while made < target {
                if stop.isRequested { stopped = true; break }
                let info: K.Info
                (state, info) = kernel.step(state, using: generator)
                outcome.sweeps += 1
                iterations += 1
                rateSums.merge(kernel.rates(of: info), uniquingKeysWith: +)
                progress?.set(chain: c, sweeps: outcome.sweeps)
                let values = kernel.values(of: state)
                if let found = check(values, kernel.failure(of: info),
                                     "sampling sweep \(iterations) (after \(made) kept draws)") {
                    failure = found
                    break
                }
                if iterations % settings.thin == 0 {
                    do {
                        try sink.write(values)
                    } catch {
                        failure = Failure(cause: .output, message: "\(error)", error: error)
                        break
                    }
                    made += 1
                }
            }
            outcome.samplingSeconds += seconds(clock.now - samplingStart)
            self.sink = sink
            self.state = state
        }

        /// Records how the chain ended and finishes its sink.
        func end() {
            guard var sink else { return }     // never began, or no sink to finish
            if iterations > 0 { outcome.rates = rateSums.mapValues { $0 / Double(iterations) } }
            outcome.status = failure != nil ? .failed : stopped ? .interrupted : .complete
            outcome.failure = failure
            outcome.draws = made
            do {
                try sink.finish(outcome)
            } catch {
                outcome.status = .failed
                outcome.failure = outcome.failure ?? Failure(cause: .output, message: "\(error)", error: error)
            }
            outcome.draws = min(made, sink.written)
            self.sink = sink
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
