import Foundation

/// The data behind each level of a random term: how many Bernoulli trials
/// (observations) fall on it and how many of them are successes — the
/// columns of a shrinkage table, which sets every effect beside the raw
/// evidence it was estimated from.
public struct LevelCounts: Sendable, Equatable {
    /// The term, as the design names it ("client", "client:stylist").
    public let term: String
    /// Level names, in the design's order.
    public let levels: [String]
    /// Trials per level: Σ nᵢ over the cells i of the level.
    public let observations: [Int]
    /// Successes per level: Σ yᵢ over the cells i of the level.
    public let successes: [Int]

    public init(term: String, levels: [String], observations: [Int], successes: [Int]) {
        precondition(levels.count == observations.count && levels.count == successes.count,
                     "one count per level")
        self.term = term
        self.levels = levels
        self.observations = observations
        self.successes = successes
    }

    /// The counts of `term`, summed over the binomial cells of `design`.
    public init(term: RandomEffect, design: Design) {
        var observations = [Int](repeating: 0, count: term.levelCount)
        var successes = [Int](repeating: 0, count: term.levelCount)
        for cell in 0..<design.cellCount {
            let level = Int(term.levelOfCell[cell])
            observations[level] += Int(design.trials[cell])
            successes[level] += Int(design.successes[cell])
        }
        self.init(term: term.name, levels: term.levels, observations: observations, successes: successes)
    }

    /// The counts of every random term of `design`, in formula order.
    public static func of(_ design: Design) -> [LevelCounts] {
        design.randomTerms.map { LevelCounts(term: $0, design: design) }
    }

    /// All trials and successes of the data: every trial falls on exactly
    /// one level of each term, so any term's totals are the data's.
    public var totalObservations: Int { observations.reduce(0, +) }
    public var totalSuccesses: Int { successes.reduce(0, +) }

    /// The raw observed log-odds of every level, on the scale of its effect:
    ///
    ///     raw = log((s + ½) / (n − s + ½)) − log((S + ½) / (N − S + ½))
    ///
    /// the empirical logit of the level's s successes in n trials (Cox 1970,
    /// *The Analysis of Binary Data*, §3.2: the ½ keeps 0 and n finite) less
    /// the empirical logit of the overall rate, S successes in N trials. It
    /// is the effect a level would get with no pooling at all and no
    /// covariates — what the EB modes and the posterior means shrink towards
    /// zero. Fixed effects other than the intercept are ignored.
    public var rawLogOdds: [Double] {
        let overall = LevelCounts.empiricalLogit(successes: totalSuccesses, trials: totalObservations)
        return zip(successes, observations).map {
            LevelCounts.empiricalLogit(successes: $0, trials: $1) - overall
        }
    }

    /// log((s + ½) / (n − s + ½)).
    public static func empiricalLogit(successes: Int, trials: Int) -> Double {
        log((Double(successes) + 0.5) / (Double(trials - successes) + 0.5))
    }
}
