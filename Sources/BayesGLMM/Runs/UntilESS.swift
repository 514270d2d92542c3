import Diagnostics
import Foundation

/// "Sample until it is good enough" (`fit --until-ess N`): after the
/// warm-up and a first block of `ChainSettings.draws` kept draws per chain,
/// every chain goes on in blocks until the slowest of the parameters a
/// reader judges a fit by — the intercept, the other fixed effects and the
/// standard deviations (`monitored`) — has a bulk-ESS of at least `target`
/// and the largest R-hat among them is at most `maximumRhat` (both
/// rank-normalised, as `summary` and R's posterior compute them), or until
/// the time or the draws allowed run out. `StopReason` says which came
/// first.
///
/// Same seed, same draws: the blocks are decided from the draws alone
/// (`nextDraws(after:target:limit:)`), and each chain carries on its own
/// random stream across blocks, so a run that stops at D draws per chain
/// holds exactly the draws of a fixed run of D draws, whatever the number
/// of threads. Only the time limit depends on the clock: a run it stops is
/// reproducible in the draws it kept — a rerun with the same seed makes the
/// same draws up to that point, and then possibly more.
public struct UntilESS: Sendable, Equatable {
    /// The largest R-hat a monitored parameter may have for the run to stop
    /// (the threshold above which `summary` warns).
    public static let maximumRhat = 1.01

    /// The smallest bulk-ESS of the monitored parameters to reach.
    public var target: Int
    /// Wall-clock seconds from the start of the chains after which no new
    /// block begins and a running block stops after its current sweep (the
    /// chains then kept cut to the draws every chain made). The warm-up and
    /// the first block are always made in full. Nil: no time limit.
    public var maxSeconds: Double?
    /// Kept draws per chain at most; nil: `defaultMaxDraws(firstBlock:)`.
    /// The draw store is sized for this many before the run begins.
    public var maxDraws: Int?

    public init(target: Int, maxSeconds: Double? = nil, maxDraws: Int? = nil) {
        self.target = target
        self.maxSeconds = maxSeconds
        self.maxDraws = maxDraws
    }

    /// Why sampling stopped.
    public enum StopReason: String, Codable, Sendable, CaseIterable {
        /// The bulk-ESS target and the R-hat bound were both reached.
        case essReached = "ess_reached"
        /// The time limit (`maxSeconds`) came first.
        case timeLimit = "time_limit"
        /// The draw limit (`maxDraws`) came first.
        case drawLimit = "draw_limit"
    }

    /// The draw limit when none is given: ten first blocks, and at least
    /// 10 000 draws per chain — enough for a bulk-ESS of 400 over 4 chains
    /// at 1% efficiency (an ESS of 0.01 per draw, the slowest SDs the
    /// benchmarks show), and a store of a size `Run.prepare` can check.
    public static func defaultMaxDraws(firstBlock: Int) -> Int {
        let (ten, overflow) = firstBlock.multipliedReportingOverflow(by: 10)
        return overflow ? Int.max : max(10_000, ten)
    }

    /// The draw limit for a first block of `firstBlock` draws.
    public func drawLimit(firstBlock: Int) -> Int { maxDraws ?? UntilESS.defaultMaxDraws(firstBlock: firstBlock) }

    /// The parameters the rule watches, by name: the fixed effects
    /// (intercept included), every `sd(term)` and every correlation
    /// `cor(term)[a,b]`, in the store's order.
    public static func monitored(_ names: [String], fixed: [String]) -> [Int] {
        let fixedNames = Set(fixed)
        return names.indices.filter { fixedNames.contains(names[$0]) || ParameterNaming.isCovariance(names[$0]) }
    }

    /// Whether a check meets the target: bulk-ESS at least `target` and
    /// R-hat at most `maximumRhat` for every monitored parameter (a value
    /// that is not available meets neither).
    public func isMet(by check: ConvergenceCheck) -> Bool {
        check.meets(bulkESS: Double(target), rhat: UntilESS.maximumRhat)
    }

    /// Kept draws per chain after the next block, from `check` of the
    /// `check.draws` made so far, within `limit`.
    ///
    /// ESS grows in proportion to the draws once the chains have mixed, so
    /// the draws the target needs are about `draws × target / ESS`; the
    /// block aims 10% beyond that, because the ESS estimated from one run is
    /// itself uncertain (its relative error is of order 1/√ESS, several
    /// percent here), and a block that falls just short costs a whole further
    /// block of synchronisation. The growth is bounded:
    ///
    /// - at least `max(draws / 10, 50)` more draws, so that a target within
    ///   reach is not approached by many tiny blocks, each ending in a wait
    ///   for the slowest chain and a check;
    /// - at most double the draws, because an early ESS is biased low while
    ///   the chains are still moving apart from their starts (R-hat high):
    ///   trusting it could ask for many times the draws needed. Doubling
    ///   keeps the overshoot below twice what is needed and still reaches
    ///   any limit in log₂(limit / first block) blocks (about 3.3 for the
    ///   default limit of ten first blocks).
    ///
    /// When the ESS is reached but R-hat is not, the chains disagree more
    /// than their draws say, and only more draws (or a longer warm-up) tell
    /// whether they will agree: the block grows by half. A bulk-ESS that is
    /// not available (too few draws) doubles the draws.
    public static func nextDraws(after check: ConvergenceCheck, target: Int, limit: Int) -> Int {
        let draws = Double(check.draws)
        let wanted: Double
        if let ess = check.minBulkESS, ess > 0 {
            wanted = ess >= Double(target) ? 1.5 * draws : 1.1 * draws * Double(target) / ess
        } else {
            wanted = 2 * draws
        }
        let lower = draws + max((draws / 10).rounded(.up), 50)
        let upper = max(2 * draws, lower)
        let next = min(max(wanted.rounded(.up), lower), upper)
        return next >= Double(limit) ? limit : Int(next)
    }
}

/// The slowest of a set of parameters, as `summary` measures them (R's
/// posterior: rank-normalised split R-hat, bulk-ESS): the lowest bulk-ESS
/// and the highest R-hat, and which parameters have them. A value that is
/// not available (posterior's NA: too few draws, a constant chain) is the
/// worst there is: the parameter is named and the value left out.
public struct ConvergenceCheck: Codable, Sendable, Equatable {
    /// Kept draws per chain judged.
    public var draws: Int
    /// Chains judged.
    public var chains: Int
    public var minBulkESS: Double?
    public var minBulkESSVariable: String?
    public var maxRhat: Double?
    public var maxRhatVariable: String?
    /// Seconds since the chains began, when the check was made.
    public var seconds: Double?

    enum CodingKeys: String, CodingKey {
        case draws, chains, minBulkESS = "min_bulk_ess", minBulkESSVariable = "min_bulk_ess_variable"
        case maxRhat = "max_rhat", maxRhatVariable = "max_rhat_variable", seconds
    }

    public init(draws: Int, chains: Int, minBulkESS: Double?, minBulkESSVariable: String?, maxRhat: Double?,
                maxRhatVariable: String?, seconds: Double? = nil) {
        self.draws = draws
        self.chains = chains
        self.minBulkESS = minBulkESS
        self.minBulkESSVariable = minBulkESSVariable
        self.maxRhat = maxRhat
        self.maxRhatVariable = maxRhatVariable
        self.seconds = seconds
    }

    /// The extremes of `summary`'s rows (its `essBulk` and `rhat` columns).
    public init(summary: Summary, draws: Int, chains: Int, seconds: Double? = nil) {
        self.init(draws: draws, chains: chains, minBulkESS: nil, minBulkESSVariable: nil, maxRhat: nil,
                  maxRhatVariable: nil, seconds: seconds)
        if let weakest = ConvergenceCheck.lowestBulkESS(summary.rows) {
            minBulkESSVariable = weakest.variable
            minBulkESS = weakest.essBulk
        }
        if let worst = ConvergenceCheck.highestRhat(summary.rows) {
            maxRhatVariable = worst.variable
            maxRhat = worst.rhat
        }
    }

    /// The row with the lowest bulk-ESS (the first without one, if any).
    static func lowestBulkESS(_ rows: [SummaryRow]) -> SummaryRow? {
        rows.first { $0.essBulk == nil } ?? rows.min { $0.essBulk! < $1.essBulk! }
    }

    /// The row with the highest R-hat (the first without one, if any).
    static func highestRhat(_ rows: [SummaryRow]) -> SummaryRow? {
        rows.first { $0.rhat == nil } ?? rows.max { $0.rhat! < $1.rhat! }
    }

    /// Every parameter has a bulk-ESS of at least `bulkESS` and an R-hat
    /// of at most `rhat`.
    public func meets(bulkESS: Double, rhat: Double) -> Bool {
        guard let ess = minBulkESS, let worst = maxRhat else { return false }
        return ess >= bulkESS && worst <= rhat
    }
}
