import Diagnostics
import Foundation

/// What the comparison needs to know of one parameter's posterior, from
/// all its draws pooled over chains, with the definitions of R's
/// `posterior::summarise_draws` (the Diagnostics module): the mean, the
/// standard deviation (denominator S − 1), the median and the 5% and 95%
/// quantiles (R's type 7). `nil` where posterior says NA (a NaN draw).
public struct PosteriorSummary: Sendable, Equatable {
    public var mean: Double?
    public var standardDeviation: Double?
    public var median: Double?
    public var q5: Double?
    public var q95: Double?
    /// The fraction of draws strictly below `threshold`, when one was given:
    /// the Monte Carlo estimate of P(θ < threshold | data).
    public var fractionBelow: Double?

    public init(mean: Double?, standardDeviation: Double?, median: Double?, q5: Double?, q95: Double?,
                fractionBelow: Double? = nil) {
        self.mean = mean; self.standardDeviation = standardDeviation; self.median = median
        self.q5 = q5; self.q95 = q95; self.fractionBelow = fractionBelow
    }

    public init(_ draws: Draws, below threshold: Double? = nil) {
        self.init(mean: Diagnostics.mean(draws), standardDeviation: Diagnostics.standardDeviation(draws),
                  median: Diagnostics.median(draws),
                  q5: (try? Diagnostics.quantile(draws, probability: 0.05)) ?? nil,
                  q95: (try? Diagnostics.quantile(draws, probability: 0.95)) ?? nil,
                  fractionBelow: threshold.map { t in
                      Double(draws.values.reduce(0) { $0 + ($1 < t ? 1 : 0) }) / Double(draws.count)
                  })
    }

    /// The width of the central 90% interval, q95 − q5.
    public var intervalWidth: Double? {
        guard let q5, let q95 else { return nil }
        return q95 - q5
    }

    /// Summaries of the parameters `indices` of `store` (with a threshold
    /// for each, or nil), from the first `count` draws of every chain.
    /// Parameters are read in blocks of about 16 million draws, and each
    /// block is summarised in parallel; the result does not depend on the
    /// blocking.
    public static func of(_ store: StoredDraws, parameters indices: [Int], thresholds: [Double?], first count: Int)
        throws(InputError) -> [PosteriorSummary] {
        precondition(indices.count == thresholds.count, "one threshold (or nil) per parameter")
        let perBlock = max(1, 16_000_000 / max(1, store.chains * count))
        var result: [PosteriorSummary] = []
        result.reserveCapacity(indices.count)
        var start = 0
        while start < indices.count {
            let end = min(start + perBlock, indices.count)
            let block = try store.draws(of: Array(indices[start..<end]), first: count)
            let blockThresholds = Array(thresholds[start..<end])
            let summaries = SummaryBuffer(count: block.count)
            DispatchQueue.concurrentPerform(iterations: block.count) { k in
                summaries.store(PosteriorSummary(block[k], below: blockThresholds[k]), at: k)
            }
            result += summaries.values
            start = end
        }
        return result
    }
}

/// Summaries computed in parallel, each stored once by its own worker.
private final class SummaryBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [PosteriorSummary?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func store(_ summary: PosteriorSummary, at index: Int) { lock.withLock { storage[index] = summary } }
    var values: [PosteriorSummary] { lock.withLock { storage.compactMap { $0 } } }
}
