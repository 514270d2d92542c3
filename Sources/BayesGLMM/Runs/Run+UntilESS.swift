import Diagnostics
import Foundation

// How `Run` samples "until ESS" (`RunRequest.untilESS`, `UntilESS`):
//
// - the draw store is made for the draw limit (`RunRequest.storedDraws`;
//   `Run.prepare` checks the space that needs), so a block never has to
//   move what is written;
// - every chain's sink also hands the monitored parameters' draws to a
//   `DrawMonitor`, and `Chains.stream` calls `BlockSchedule.extend` each
//   time all chains have ended a block: it checks the draws so far and
//   says how many each chain makes in all, or that sampling is over;
// - the time limit is a `StopRequest` following the user's: it stops a
//   running block after the current sweep, without it being an interrupt;
// - at the end (`settleBlocks`) the chains a time limit stopped are cut to
//   the draws every chain made, and the store to the draws made, before
//   `finish` records the run as every run is recorded.

/// The monitored parameters' draws of every chain, as the chains make them
/// (one chain's sink writes its own chain; the driver reads between
/// blocks).
final class DrawMonitor: Sendable {
    /// The monitored parameters, as indices into the kernel's parameters.
    let indices: [Int]
    let names: [String]
    /// Per chain, draw after draw, the values of `indices`.
    private let draws: [Protected<[Double]>]

    init(indices: [Int], names: [String], chains: Int) {
        self.indices = indices
        self.names = indices.map { names[$0] }
        draws = (0..<chains).map { _ in Protected([]) }
    }

    /// One kept draw of `chain`: the values of all the kernel's parameters.
    func record(chain: Int, _ values: [Double]) {
        let kept = indices.map { values[$0] }
        draws[chain].withLock { $0.append(contentsOf: kept) }
    }

    /// The summary of the monitored parameters over the first `count` draws
    /// of every chain (each must have made that many), as `summary`
    /// computes it.
    func summary(draws count: Int) -> Summary {
        let k = indices.count
        let chains = draws.map { chain in chain.withLock { Array($0.prefix(count * k)) } }
        let variables = names.indices.compactMap { j -> (name: String, draws: Draws)? in
            let columns = chains.map { values in stride(from: j, to: count * k, by: k).map { values[$0] } }
            guard let series = try? Draws(chains: columns) else { return nil }
            return (name: names[j], draws: series)
        }
        return summarize(variables)
    }
}

/// The decisions of an `UntilESS` run between its blocks, on the thread
/// that runs `Chains.stream`.
final class BlockSchedule {
    let rule: UntilESS
    /// Kept draws per chain at most.
    let limit: Int
    let monitor: DrawMonitor
    let chains: Int
    /// The chains' stop: the user's, and the time limit once a block beyond
    /// the first begins.
    let chainStop: StopRequest
    let clock = ContinuousClock()
    let begin: ContinuousClock.Instant
    /// Every check, in order.
    private(set) var checks: [ConvergenceCheck] = []
    /// Why sampling stopped, once the rule decided.
    private(set) var reason: UntilESS.StopReason?
    private var timerSet = false

    /// `begin`: when the chains began (of `ContinuousClock`), from which
    /// the time limit counts.
    init(rule: UntilESS, limit: Int, monitor: DrawMonitor, chains: Int, chainStop: StopRequest,
         begin: ContinuousClock.Instant) {
        self.rule = rule
        self.limit = limit
        self.monitor = monitor
        self.chains = chains
        self.chainStop = chainStop
        self.begin = begin
    }

    var elapsed: Double { Chains.seconds(clock.now - begin) }

    /// The check of the first `draws` draws of every chain.
    func check(draws: Int) -> ConvergenceCheck {
        ConvergenceCheck(summary: monitor.summary(draws: draws), draws: draws, chains: chains, seconds: elapsed)
    }

    /// `Chains.stream`'s `extend`: every chain has made `draws`; returns the
    /// draws each makes in all, `draws` when the rule says stop.
    func extend(_ draws: Int) -> Int {
        let check = check(draws: draws)
        checks.append(check)
        if rule.isMet(by: check) { reason = .essReached; return draws }
        if draws >= limit { reason = .drawLimit; return draws }
        if let seconds = rule.maxSeconds {
            let left = seconds - check.seconds!
            if left <= 0 { reason = .timeLimit; return draws }
            if !timerSet {
                chainStop.request(after: left)
                timerSet = true
            }
        }
        return UntilESS.nextDraws(after: check, target: rule.target, limit: limit)
    }
}

extension Run {
    /// After the chains of an `UntilESS` run, before `finish`: records why
    /// sampling stopped and what it reached; when the time limit stopped a
    /// block, every chain is cut to the draws all of them made (their files
    /// cut and closed as complete files are; the draws beyond are not kept:
    /// the run ends as one of that length would have); a run the user
    /// interrupted before the rule decided is interrupted, whatever its
    /// chains had done. Then the store is cut to the most draws a chain made
    /// (`DrawStore.cut`), the manifest saying its new shape.
    func settleBlocks(_ outcomes: inout [Chains.Outcome], schedule: BlockSchedule, interrupted: Bool,
                      directory: String, store: inout DrawStore, manifest: inout RunManifest,
                      notes: inout [String]) {
        let failed = outcomes.contains { $0.failure != nil }
        manifest.blocks = schedule.checks
        if !failed && schedule.reason == nil {
            if interrupted {
                // Stopped by the user between or within blocks: an interrupted run.
                for k in outcomes.indices where outcomes[k].status == .complete { outcomes[k].status = .interrupted }
            } else {
                // The time limit stopped a block.
                let length = outcomes.map(\.draws).min() ?? 0
                for k in outcomes.indices {
                    let outcome = outcomes[k]
                    let path = (directory as NSString).appendingPathComponent(Run.chainFile(outcome.chain + 1))
                    if outcome.draws > length || outcome.status != .complete {
                        do {
                            if outcome.draws > length { try CmdStanCSVWriter.cut(path: path, toDraws: length) }
                            try CmdStanCSVWriter.appendComments(path: path, CmdStanCSVWriter.timing(
                                warmup: outcome.warmupSeconds, sampling: outcome.samplingSeconds))
                        } catch {
                            notes.append("could not cut \(Run.chainFile(outcome.chain + 1)) to \(length) draws: \(error)")
                        }
                    }
                    outcomes[k].draws = length
                    outcomes[k].status = .complete
                }
                manifest.stoppedBecause = .timeLimit
                manifest.achieved = schedule.checks.last.flatMap { $0.draws == length ? $0 : nil }
                    ?? schedule.check(draws: length)
            }
        } else if !failed {
            manifest.stoppedBecause = schedule.reason
            manifest.achieved = schedule.checks.last
        }
        let most = outcomes.map(\.draws).max() ?? 0
        if most < store.draws {
            do {
                store = try store.cut(toDraws: most, made: outcomes.map(\.draws))
            } catch {
                notes.append("draws.npy keeps room for \(store.draws) draws per chain (it could not be cut to the "
                             + "\(most) made: \(error)); the draws not made are NaN")
            }
        }
        manifest.draws = store.draws
        manifest.store.shape = [store.chains, store.draws, store.parameters]
    }

    /// The chain files' `num_samples` comment says the draws each holds
    /// (written with room for any count: `CmdStanCSVWriter.paddedComment`).
    func recordDrawCounts(_ manifest: RunManifest, directory: String, notes: inout [String]) {
        for outcome in manifest.outcomes {
            guard let file = outcome.file else { continue }
            do {
                try CmdStanCSVWriter.setComment(path: (directory as NSString).appendingPathComponent(file),
                                                key: "num_samples", value: String(outcome.fileDraws ?? outcome.draws))
            } catch {
                notes.append("\(file): num_samples not updated (\(error))")
            }
        }
    }
}
