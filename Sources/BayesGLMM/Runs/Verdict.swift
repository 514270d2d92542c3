import Diagnostics
import Foundation

/// A fit's verdict in one line: converged or not, the weakest parameter,
/// and what to try — what `fit` says last, so that nobody has to read the
/// summary's warnings to know whether the draws can be used.
///
/// A fit has converged when no chain failed and, over the intercept, the
/// fixed effects and the standard deviations (the rows of `summary.csv`),
/// every bulk-ESS is at least `minimumBulkESS` and every R-hat at most
/// `maximumRhat` — the thresholds at which `summary` warns, after Vehtari,
/// Gelman, Simpson, Carpenter & Bürkner (2021). The weakest parameter is the
/// one with the lowest bulk-ESS when an ESS falls short, else the one with
/// the highest R-hat. The text names settings as `Setting`s, so that a front
/// end names them as its user sets them (`--until-ess 400`).
///
///     converged — min bulk-ESS 812 (sd(stylist)), max R-hat 1.003.
///     not converged — sd(client:stylist) has bulk-ESS 67 and R-hat 1.04; try
///         untilEss = 400 (or draws = 6000).
public struct Verdict: Sendable, Equatable, CustomStringConvertible {
    /// Bulk-ESS every parameter needs.
    public static let minimumBulkESS = 400.0
    /// R-hat no parameter may exceed.
    public static let maximumRhat = UntilESS.maximumRhat

    /// What the verdict needs to know of the run besides its summary, to
    /// say what to try.
    public struct Context: Sendable, Equatable {
        /// Kept draws per chain in the summary.
        public var draws: Int
        /// Warm-up sweeps per chain.
        public var warmup: Int
        /// The `--until-ess` request, if the fit had one.
        public var untilESS: UntilESS?
        /// Why it stopped sampling, if it was an `--until-ess` fit that ended.
        public var stoppedBecause: UntilESS.StopReason?
        /// The Gibbs sampler's updates, if it ran: after the augmented ones
        /// a slow SD is worth trying with the exact moves (on guPrenat,
        /// where most mothers are separated, they take the IAT of sd(mom)
        /// from about 100 sweeps to 30).
        public var updates: Updates?
        /// Wall-clock seconds the chains took (warm-up and sampling), and
        /// the thinning, for the time a longer fit would take; nil when not
        /// known.
        public var seconds: Double?
        public var thin: Int

        public init(draws: Int, warmup: Int, untilESS: UntilESS? = nil, stoppedBecause: UntilESS.StopReason? = nil,
                    updates: Updates? = nil, seconds: Double? = nil, thin: Int = 1) {
            self.draws = draws
            self.warmup = warmup
            self.untilESS = untilESS
            self.stoppedBecause = stoppedBecause
            self.updates = updates
            self.seconds = seconds
            self.thin = thin
        }

        /// The seconds a fit like this one with `draws` kept draws per chain
        /// would take: this one's, in proportion to the sweeps; nil when
        /// this one's are not known.
        public func projectedSeconds(draws newDraws: Int) -> Double? {
            guard let seconds, seconds > 0 else { return nil }
            let sweeps = Double(warmup) + Double(draws) * Double(max(thin, 1))
            guard sweeps > 0 else { return nil }
            return seconds * (Double(warmup) + Double(newDraws) * Double(max(thin, 1))) / sweeps
        }
    }

    /// `40 s`, `3.5 min`, `2.1 h`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 100 { return String(format: "%.0f s", max(1, seconds.rounded(.up))) }
        if seconds < 6000 { return String(format: "%.1f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    public var converged: Bool
    /// The lowest bulk-ESS and highest R-hat; nil when there was nothing to
    /// summarise.
    public var check: ConvergenceCheck?
    /// The parameter the verdict names, if any.
    public var weakest: String?
    /// The verdict, without the word "verdict".
    public var text: Wording

    public var description: String { text.description }

    /// The verdict on `summary` (the intercept, fixed effects and SDs over
    /// the draws readers use; nil when there are none) with the 1-based
    /// numbers of the chains that failed.
    public init(summary: Summary?, failedChains: [Int] = [], chains: Int, context: Context) {
        let check = summary.map { ConvergenceCheck(summary: $0, draws: context.draws, chains: chains) }
        self.check = check
        if let first = failedChains.first {
            converged = false
            let list = failedChains.map(String.init).joined(separator: ", ")
            text = "not converged — chain\(failedChains.count == 1 ? "" : "s") \(list) failed; try what the error "
                + "says for chain \(first), then fit again."
            return
        }
        guard let summary, !summary.rows.isEmpty, let check else {
            converged = false
            text = "not converged — there are no draws to judge; fit again and let the chains run."
            return
        }
        let essShort = check.minBulkESS.map { $0 < Verdict.minimumBulkESS } ?? true
        let rhatHigh = check.maxRhat.map { $0 > Verdict.maximumRhat } ?? true
        guard essShort || rhatHigh else {
            converged = true
            weakest = check.minBulkESSVariable
            text = "converged — min bulk-ESS \(Verdict.ess(check.minBulkESS)) (\(check.minBulkESSVariable ?? "")), "
                + "max R-hat \(Verdict.rhat(check.maxRhat))."
            return
        }
        converged = false
        let name = (essShort ? check.minBulkESSVariable : check.maxRhatVariable) ?? ""
        weakest = name
        let row = summary.rows.first { $0.variable == name }
        let measures = essShort
            ? "has \(Verdict.essPhrase(row?.essBulk)) and \(Verdict.rhatPhrase(row?.rhat))"
            : "has \(Verdict.rhatPhrase(row?.rhat)) (\(Verdict.essPhrase(row?.essBulk)))"
        text = "not converged — \(name) \(measures); "
            + (essShort ? Verdict.moreDraws(ess: row?.essBulk, context: context)
                        : Verdict.longerWarmup(context: context))
        if context.updates == .augmented && name.hasPrefix("sd(") {
            text = text + " The exact moves may mix better for it: try \(setting: "updates", value: "exact")."
        }
    }

    /// What to try when a bulk-ESS falls short.
    static func moreDraws(ess: Double?, context: Context) -> Wording {
        let suggested = suggestedDraws(draws: context.draws, ess: ess)
        let draws = String(suggested)
        let target = String(Int(minimumBulkESS))
        guard let until = context.untilESS else {
            let time = context.projectedSeconds(draws: suggested).map { ": about \(duration($0)) at this fit's speed" }
            return "try \(setting: "untilEss", value: target) (or \(setting: "draws", value: draws)\(time ?? ""))."
        }
        switch context.stoppedBecause {
        case .timeLimit?:
            return "the time limit came first: try a longer \(setting: "maxTime")"
                + (until.target < Int(minimumBulkESS) ? " with \(setting: "untilEss", value: target)." : ".")
        case .drawLimit?:
            return "the draw limit came first: try \(setting: "maxDraws", value: draws)"
                + (until.target < Int(minimumBulkESS) ? " with \(setting: "untilEss", value: target)." : ".")
        default:
            return "try \(setting: "untilEss", value: target)."
        }
    }

    /// What to try when an R-hat is too high but the ESS is not short: the
    /// chains have not forgotten their starts, so a longer warm-up first.
    static func longerWarmup(context: Context) -> Wording {
        let warmup = String(max(2 * context.warmup, 1000))
        let limited = context.stoppedBecause == .timeLimit || context.stoppedBecause == .drawLimit
        if context.untilESS == nil {
            return "try \(setting: "warmup", value: warmup) (or \(setting: "untilEss", value: "400"), which also "
                + "waits for R-hat ≤ 1.01)."
        }
        return "try \(setting: "warmup", value: warmup)"
            + (limited ? " (the \(context.stoppedBecause == .timeLimit ? "time" : "draw") limit came first)." : ".")
    }

    /// Draws per chain that would bring a bulk-ESS of `ess` after `draws`
    /// to `minimumBulkESS` (ESS grows in proportion to the draws), rounded
    /// up to two significant digits; four times the draws when the ESS is
    /// not available.
    public static func suggestedDraws(draws: Int, ess: Double?) -> Int {
        let wanted: Double
        if let ess, ess > 0 {
            wanted = max(Double(draws) * minimumBulkESS / ess, Double(draws) + 1)
        } else {
            wanted = 4 * Double(max(draws, 1))
        }
        guard wanted < 1e15 else { return Int(1e15) }
        let unit = pow(10, max(0, floor(log10(wanted)) - 1))
        return Int((wanted / unit).rounded(.up) * unit)
    }

    /// `812`, or `NA`.
    public static func ess(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "NA" }

    /// `1.003`, `1.04`, `1.00`: three decimals, trailing zeros dropped down to two.
    public static func rhat(_ value: Double?) -> String {
        guard let value else { return "NA" }
        guard value.isFinite else { return value > 0 ? "Inf" : "NA" }
        var text = String(format: "%.3f", value)
        if text.hasSuffix("0") { text.removeLast() }
        return text
    }

    static func essPhrase(_ value: Double?) -> String {
        value.map { "bulk-ESS " + ess($0) } ?? "no bulk-ESS (too few draws)"
    }

    static func rhatPhrase(_ value: Double?) -> String {
        value.map { "R-hat " + rhat($0) } ?? "no R-hat (too few draws)"
    }
}

extension Verdict {
    /// The verdict on a run that has ended: its summary (nil for a failed
    /// run or one without draws), the chains that failed, and the run's
    /// `--until-ess` request and outcome from its manifest.
    public init(_ result: RunResult) {
        self.init(manifest: result.manifest, summary: result.summary)
    }

    /// The verdict on the run `manifest` describes, whose summary is
    /// `summary`.
    public init(manifest: RunManifest, summary: Summary?) {
        let usable = manifest.usableDraws
        let failed = manifest.outcomes.filter { $0.ended == .failed }.map(\.chain)
        let untilESS = manifest.untilEss.map {
            UntilESS(target: $0, maxSeconds: manifest.maxTime, maxDraws: manifest.maxDraws)
        }
        self.init(summary: summary, failedChains: failed, chains: usable.chains.count,
                  context: Context(draws: usable.draws, warmup: manifest.warmup ?? 0, untilESS: untilESS,
                                   stoppedBecause: manifest.stoppedBecause,
                                   // The exact moves do not take random slopes: no such advice there.
                                   updates: manifest.random.contains { $0.columns != nil } ? nil
                                       : manifest.updates.flatMap(Updates.init(rawValue:)),
                                   seconds: manifest.seconds, thin: manifest.thin ?? 1))
    }
}
