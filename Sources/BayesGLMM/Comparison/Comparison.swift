import Foundation

/// The full posterior of a fit set beside an empirical-Bayes (EB) fit of
/// the same model — ours (`bayesglmm eb`) or lme4's `glmer` — in the one
/// schema `EmpiricalBayesReport`.
///
/// EB treats the estimated standard deviations as known and reports each
/// effect's conditional mode and conditional SD given them; the posterior
/// averages over the SDs' uncertainty too. So the comparison asks, for each
/// SD, where the EB estimate falls in its posterior (P(σ < σ̂_EB | y), the
/// fraction of draws below it), and, for each effect, how the posterior mean
/// and SD differ from the EB mode and conditional SD and how much wider the
/// posterior 90% interval is than EB's normal one, mode ± z₀.₉₅ · sd.
///
/// Terms, fixed effects and levels are matched by name: terms as lme4 names
/// them ("client:stylist"), levels as strings ("12:7" for an interaction;
/// the design names levels as R's `as.character` does, so numeric levels
/// agree). What only one side has is listed in `notes`.
public struct Comparison: Sendable {
    /// z₀.₉₅ = Φ⁻¹(0.95): EB's 90% interval is mode ± z₀.₉₅ · sd.
    public static let normalQuantile95 = 1.6448536269514722

    /// One standard deviation (or, for a term with slopes, one SD or
    /// correlation): the EB estimate and the posterior, whose
    /// `fractionBelow` is P(σ < EB estimate | y).
    public struct StandardDeviation: Sendable, Equatable {
        public let term: String
        /// The parameter's name: `sd(g)`, `sd(g)[c]` or `cor(g)[a][b]`.
        public let parameter: String
        public let eb: Double
        public let posterior: PosteriorSummary
        public var probabilityBelowEB: Double? { posterior.fractionBelow }
        /// The term for a random intercept's SD (as the tables have always
        /// shown it), the parameter's name otherwise.
        public var label: String { parameter == "sd(\(term))" ? term : parameter }
        public init(term: String, parameter: String? = nil, eb: Double, posterior: PosteriorSummary) {
            self.term = term; self.parameter = parameter ?? "sd(\(term))"; self.eb = eb; self.posterior = posterior
        }
    }

    /// One fixed-effect coefficient: the EB estimate and standard error
    /// against the posterior.
    public struct Fixed: Sendable, Equatable {
        public let name: String
        public let eb: Double
        public let ebStandardError: Double
        public let posterior: PosteriorSummary
    }

    /// One level of one term (one column of it, for a term with slopes): a
    /// row of the shrinkage table.
    public struct Effect: Sendable, Equatable {
        public let term: String
        public let level: String
        /// The term's column: "(Intercept)" for a random intercept.
        public var column = "(Intercept)"
        /// Trials and successes on the level, and its raw log-odds
        /// (`LevelCounts.rawLogOdds`; for an intercept column only); nil when
        /// the fit did not record counts.
        public let observations: Int?
        public let successes: Int?
        public let rawLogOdds: Double?
        /// EB conditional mode and conditional SD.
        public let ebMode: Double
        public let ebSD: Double
        public let posterior: PosteriorSummary

        /// (q95 − q5) / (2 z₀.₉₅ · EB sd): how many times wider the posterior
        /// 90% interval is than EB's; nil when EB's sd is not positive.
        public var widthRatio: Double? {
            guard let width = posterior.intervalWidth, ebSD > 0, ebSD.isFinite else { return nil }
            return width / (2 * Comparison.normalQuantile95 * ebSD)
        }
    }

    /// A posterior quantity the comparison needs: a parameter by its store
    /// name, and the threshold whose below-probability is wanted.
    public struct Request: Sendable, Equatable {
        public let parameter: String
        public let threshold: Double?
    }

    public let standardDeviations: [StandardDeviation]
    public let fixed: [Fixed]
    /// Every level present on both sides, in the fit's order of terms and levels.
    public let effects: [Effect]
    /// What did not match, and other facts the reader should know.
    public let notes: [String]

    /// Compares an EB fit with the posterior of a fit whose terms and fixed
    /// names are given; `hasParameter` says which parameter names have draws
    /// and `summarise` returns the summaries of the requested parameters, in
    /// order.
    ///
    /// Throws `InputError` naming `ebPath` when the two are not fits of the
    /// same model: different responses, or no random term and no fixed
    /// effect in common.
    public init(eb: EmpiricalBayesReport, ebPath: String, formula: String, fixedNames: [String],
                terms: [RunDirectory.Term], hasParameter: (String) -> Bool,
                summarise: ([Request]) throws(InputError) -> [PosteriorSummary]) throws(InputError) {
        var notes: [String] = []
        try Comparison.checkResponse(eb: eb, ebPath: ebPath, formula: formula, notes: &notes)

        // Standard deviations.
        let termNames = terms.map(\.name)
        // The terms with an SD estimate, then those with effects only (an
        // lme4 ranef table has no SDs).
        var ebTerms = eb.sd.map(\.term)
        for effect in eb.effects where !ebTerms.contains(effect.term) { ebTerms.append(effect.term) }
        let commonTerms = termNames.filter { ebTerms.contains($0) }
        let ebFixedNames = eb.fixed.map(\.name)
        let commonFixed = fixedNames.filter { ebFixedNames.contains($0) }
        guard !commonTerms.isEmpty || !commonFixed.isEmpty else {
            throw InputError(.badOption, "the empirical-Bayes fit (terms \(Comparison.list(ebTerms)); fixed "
                             + "\(Comparison.list(ebFixedNames))) has nothing in common with the run (terms "
                             + "\(Comparison.list(termNames)); fixed \(Comparison.list(fixedNames))): "
                             + "not a fit of the same model", file: ebPath)
        }
        Comparison.noteOneSided("random term", ours: termNames, theirs: ebTerms, notes: &notes)
        if eb.fixed.isEmpty && eb.sd.isEmpty {
            notes.append("The empirical-Bayes source (\(eb.program), \(ebPath)) has effects only: no SDs or fixed "
                         + "effects to compare.")
        } else {
            Comparison.noteOneSided("fixed effect", ours: fixedNames, theirs: ebFixedNames, notes: &notes)
        }

        var sdRequests: [(term: String, eb: Double, request: Request)] = []
        // Each term's SDs (by column, for a term with slopes) and
        // correlations, by their parameter names.
        var ebCovariance: [String: Double] = [:]
        for sd in eb.sd where ebCovariance[sd.parameterName] == nil { ebCovariance[sd.parameterName] = sd.estimate }
        for correlation in eb.correlations ?? [] { ebCovariance[correlation.parameterName] = correlation.estimate }
        for term in terms where commonTerms.contains(term.name) {
            for parameter in term.covarianceNames {
                guard let estimate = ebCovariance[parameter] else { continue }
                if hasParameter(parameter) {
                    sdRequests.append((term.name, estimate, Request(parameter: parameter, threshold: estimate)))
                } else {
                    notes.append("The run's draws have no \(parameter).")
                }
            }
        }
        var fixedRequests: [(eb: EmpiricalBayesReport.Fixed, request: Request)] = []
        for name in commonFixed {
            if hasParameter(name) {
                fixedRequests.append((eb.fixed.first { $0.name == name }!, Request(parameter: name, threshold: nil)))
            } else {
                notes.append("The run's draws have no \(name).")
            }
        }

        // Effects, level by level.
        var effectRequests: [(eb: EmpiricalBayesReport.Effect, column: String, counts: (Int, Int, Double?)?,
                              request: Request)] = []
        // Keyed by term and column (nil for a random intercept alone, as the
        // report and the parameter names have it), then level.
        var ebEffects: [String: [String: EmpiricalBayesReport.Effect]] = [:]
        for effect in eb.effects {
            let key = effect.term + "\u{0}" + (effect.column ?? "")
            if ebEffects[key]?[effect.level] == nil { ebEffects[key, default: [:]][effect.level] = effect }
        }
        for term in terms where commonTerms.contains(term.name) {
            let columns: [String?] = term.isInterceptOnly ? [nil] : term.columns.map { $0 }
            let raw = term.counts?.rawLogOdds
            var missing: [String] = [], notStored: [String] = [], listed = Set<String>()
            for column in columns {
                guard let byLevel = ebEffects[term.name + "\u{0}" + (column ?? "")], !byLevel.isEmpty else {
                    notes.append("The empirical-Bayes fit lists no effects of \(term.name)"
                                 + (column.map { " [\($0)]" } ?? "") + ".")
                    continue
                }
                listed.formUnion(byLevel.keys)
                for (k, level) in term.levels.enumerated() {
                    guard let effect = byLevel[level] else {
                        if !missing.contains(level) { missing.append(level) }
                        continue
                    }
                    let parameter = "r(\(term.name))[\(level)]" + (column.map { "[\($0)]" } ?? "")
                    guard hasParameter(parameter) else {
                        if !notStored.contains(level) { notStored.append(level) }
                        continue
                    }
                    // The raw log-odds are the intercept's own-data estimate.
                    let intercept = (column ?? "(Intercept)") == "(Intercept)"
                    let counts = term.counts.map { c in
                        (c.observations[k], c.successes[k], intercept ? raw?[k] : nil)
                    }
                    effectRequests.append((effect, column ?? "(Intercept)", counts,
                                           Request(parameter: parameter, threshold: nil)))
                }
            }
            guard !listed.isEmpty else { continue }
            let byLevel = listed
            let ours = Set(term.levels)
            let extra = byLevel.filter { !ours.contains($0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            Comparison.noteLevels(missing, of: term.name, "only in the run", notes: &notes)
            Comparison.noteLevels(extra, of: term.name, "only in the empirical-Bayes fit", notes: &notes)
            Comparison.noteLevels(notStored, of: term.name, "without draws in the run", notes: &notes)
        }

        // One pass over the draws for everything.
        let requests = sdRequests.map(\.request) + fixedRequests.map(\.request) + effectRequests.map(\.request)
        let summaries = try summarise(requests)
        precondition(summaries.count == requests.count, "one summary per request")
        var next = summaries.makeIterator()
        standardDeviations = sdRequests.map {
            StandardDeviation(term: $0.term, parameter: $0.request.parameter, eb: $0.eb, posterior: next.next()!)
        }
        fixed = fixedRequests.map {
            Fixed(name: $0.eb.name, eb: $0.eb.estimate, ebStandardError: $0.eb.std_error, posterior: next.next()!)
        }
        effects = effectRequests.map {
            Effect(term: $0.eb.term, level: $0.eb.level, column: $0.column, observations: $0.counts?.0,
                   successes: $0.counts?.1, rawLogOdds: $0.counts?.2, ebMode: $0.eb.mode, ebSD: $0.eb.sd,
                   posterior: next.next()!)
        }
        if !eb.converged { notes.append("The empirical-Bayes fit did not converge: " + eb.messages.joined(separator: "; ")) }
        if eb.singular { notes.append("The empirical-Bayes fit is singular (an SD estimated at or near 0).") }
        self.notes = notes
    }

    /// Compares an EB fit with the draws of a run directory. Throws
    /// `InputError` naming `ebPath` for an EB fit of another link, model or
    /// data (`EmpiricalBayesReport.checkComparable`).
    public init(eb: EmpiricalBayesReport, ebPath: String, run: RunDirectory) throws(InputError) {
        try eb.checkComparable(with: run, path: ebPath)
        try self.init(eb: eb, ebPath: ebPath, formula: run.formula, fixedNames: run.fixedNames, terms: run.terms,
                      hasParameter: { run.parameterIndex($0) != nil }) { requests throws(InputError) in
            try PosteriorSummary.of(run.store, parameters: requests.compactMap { run.parameterIndex($0.parameter) },
                                    thresholds: requests.map(\.threshold), first: run.drawsPerChain)
        }
        self = Comparison(standardDeviations: standardDeviations, fixed: fixed, effects: effects,
                          notes: run.notes + self.notes)
    }

    public init(standardDeviations: [StandardDeviation], fixed: [Fixed], effects: [Effect], notes: [String]) {
        self.standardDeviations = standardDeviations
        self.fixed = fixed
        self.effects = effects
        self.notes = notes
    }

    /// Refuses fits of different responses (different data or models); notes
    /// other differences of formula.
    static func checkResponse(eb: EmpiricalBayesReport, ebPath: String, formula: String,
                              notes: inout [String]) throws(InputError) {
        guard let theirs = try? ModelFormula.parse(eb.formula), let ours = try? ModelFormula.parse(formula) else {
            notes.append("Could not compare the formulas ('\(eb.formula)' and '\(formula)').")
            return
        }
        guard theirs.response == ours.response else {
            throw InputError(.badOption, "the empirical-Bayes fit models '\(eb.formula)', the run '\(formula)': "
                             + "the responses differ", file: ebPath)
        }
        if theirs.description != ours.description {
            notes.append("The formulas differ: empirical Bayes '\(theirs)', the run '\(ours)'.")
        }
    }

    static func noteOneSided(_ kind: String, ours: [String], theirs: [String], notes: inout [String]) {
        let onlyOurs = ours.filter { !theirs.contains($0) }, onlyTheirs = theirs.filter { !ours.contains($0) }
        if !onlyOurs.isEmpty { notes.append("Only in the run: \(kind) \(list(onlyOurs)).") }
        if !onlyTheirs.isEmpty { notes.append("Only in the empirical-Bayes fit: \(kind) \(list(onlyTheirs)).") }
    }

    static func noteLevels(_ levels: [String], of term: String, _ side: String, notes: inout [String]) {
        guard !levels.isEmpty else { return }
        let shown = levels.prefix(3).joined(separator: ", ") + (levels.count > 3 ? ", …" : "")
        notes.append("\(term): \(levels.count) level\(levels.count == 1 ? "" : "s") \(side) (\(shown)).")
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
}
