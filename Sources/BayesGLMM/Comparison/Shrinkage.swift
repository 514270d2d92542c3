import Foundation

/// The shrinkage table summarised by how much data each level has: for the
/// levels of a term whose number of observations falls in a bin, the mean
/// absolute raw log-odds, EB mode and posterior mean, and the mean ratio of
/// interval widths. Levels with little data are shrunk hardest towards 0;
/// that is where EB's fixed SDs matter most and where the posterior
/// intervals widen most.
public struct ShrinkageBin: Sendable, Equatable {
    public let term: String
    /// Observations (trials) per level: `lowest` … `highest`, no upper end when nil.
    public let lowest: Int
    public let highest: Int?
    /// Levels in the bin.
    public let levels: Int
    /// Means over the levels of |raw log-odds|, |EB mode|, |posterior mean|
    /// and the width ratio (over the levels where each is available).
    public let meanAbsoluteRaw: Double?
    public let meanAbsoluteEB: Double?
    public let meanAbsolutePosterior: Double?
    public let meanWidthRatio: Double?

    /// "1", "3-4", "100+".
    public var label: String {
        guard let highest else { return "\(lowest)+" }
        return highest == lowest ? "\(lowest)" : "\(lowest)-\(highest)"
    }

    /// The lower ends of the bins: 0, 1, 2, 3–4, 5–9, 10–19, 20–49, 50–99, 100+.
    public static let lowerEnds = [0, 1, 2, 3, 5, 10, 20, 50, 100]

    /// The bins of every term of `effects` (terms in order of appearance),
    /// leaving out empty bins; effects without counts are not binned.
    public static func bins(_ effects: [Comparison.Effect]) -> [ShrinkageBin] {
        var result: [ShrinkageBin] = []
        for (term, effects) in byTerm(effects.filter { $0.observations != nil }) {
            for (k, lowest) in lowerEnds.enumerated() {
                let highest = k + 1 < lowerEnds.count ? lowerEnds[k + 1] - 1 : nil
                let members = effects.filter {
                    $0.observations! >= lowest && (highest == nil || $0.observations! <= highest!)
                }
                guard !members.isEmpty else { continue }
                result.append(ShrinkageBin(
                    term: term, lowest: lowest, highest: highest, levels: members.count,
                    meanAbsoluteRaw: average(members.compactMap { $0.rawLogOdds.map(abs) }),
                    meanAbsoluteEB: average(members.map { abs($0.ebMode) }),
                    meanAbsolutePosterior: average(members.compactMap { $0.posterior.mean.map(abs) }),
                    meanWidthRatio: average(members.compactMap(\.widthRatio))))
            }
        }
        return result
    }
}

/// The effects of one term in brief: how many levels were compared, how the
/// interval widths compare, and the levels where the posterior mean is
/// farthest from the EB mode.
public struct TermEffectsSummary: Sendable, Equatable {
    public let term: String
    public let levels: Int
    /// Median of the width ratios.
    public let medianWidthRatio: Double?
    /// Mean of |posterior mean − EB mode| over the levels.
    public let meanAbsoluteDifference: Double?
    /// The `count` levels with the largest |posterior mean − EB mode|, largest first.
    public let largestDifferences: [Comparison.Effect]

    /// One summary per term of `effects`, terms in order of appearance.
    public static func summaries(_ effects: [Comparison.Effect], largest count: Int = 5) -> [TermEffectsSummary] {
        byTerm(effects).map { term, members in
            func difference(_ effect: Comparison.Effect) -> Double? { effect.posterior.mean.map { abs($0 - effect.ebMode) } }
            let ratios = members.compactMap(\.widthRatio).sorted()
            let median = ratios.isEmpty ? nil
                : ratios.count % 2 == 1 ? ratios[ratios.count / 2]
                : (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2
            let ranked = members.filter { difference($0) != nil }.sorted { difference($0)! > difference($1)! }
            return TermEffectsSummary(term: term, levels: members.count, medianWidthRatio: median,
                                      meanAbsoluteDifference: average(members.compactMap(difference)),
                                      largestDifferences: Array(ranked.prefix(count)))
        }
    }
}

/// The effects grouped by term — by term and column for a term with
/// slopes, "client[x1]" — in order of first appearance.
func byTerm(_ effects: [Comparison.Effect]) -> [(term: String, effects: [Comparison.Effect])] {
    var groups: [(term: String, effects: [Comparison.Effect])] = []
    var position: [String: Int] = [:]
    for effect in effects {
        let key = effect.column == "(Intercept)" ? effect.term : "\(effect.term)[\(effect.column)]"
        if let k = position[key] {
            groups[k].effects.append(effect)
        } else {
            position[key] = groups.count
            groups.append((key, [effect]))
        }
    }
    return groups
}

/// The arithmetic mean, nil for no values.
func average(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
}
