import Foundation

/// Posterior predictive match scores from a fit's draws.
///
/// For a candidate row i (a level of every grouping factor, and the
/// covariates of the fixed part) and posterior draw t, the linear predictor is
///
///     ηᵢ⁽ᵗ⁾ = oᵢ + xᵢ′β⁽ᵗ⁾ + Σₖ uₖ⁽ᵗ⁾[levelₖ(i)]
///
/// with oᵢ the row's offset, if the model has one (computed from the
/// candidate's columns as the fit computed it from its data),
/// with xᵢ the row coded as the fit coded its data (fit.json's
/// "fixed_coding": products of numeric columns, treatment contrasts of
/// categorical ones against the fit's baseline level)
///
/// and the success probability pᵢ⁽ᵗ⁾ = F(ηᵢ⁽ᵗ⁾), F the inverse of the fit's
/// link (`Link.probability`). The score of the row is the posterior
/// predictive probability p̄ᵢ = (1/T) Σₜ pᵢ⁽ᵗ⁾ (the probability that one more
/// trial of the pair succeeds), with the 5, 50 and 95% quantiles of
/// {pᵢ⁽ᵗ⁾} (R's type 7, as `posterior` computes them) and the posterior
/// probability (1/T) #{t : pᵢ⁽ᵗ⁾ > threshold}.
///
/// A term with slopes (`(1 + x | client)`) adds zₖᵢ'uₖ[levelₖ(i)], zₖᵢ the
/// row's values of the term's columns (1 for the intercept, the candidate's
/// x, products of numeric columns, and a categorical column's contrasts —
/// 1 where the candidate has that level — as the fit coded them).
///
/// A level the fit never saw (a new client, stylist or pair) has no draws.
/// As `NewLevels` says, it is integrated out (`marginal`), set to 0
/// (`typical`), or — by default — its effect is drawn from the population
/// distribution, draw by draw:
/// uₖ⁽ᵗ⁾ = σₖ⁽ᵗ⁾ zₖ⁽ᵗ⁾ with zₖ⁽ᵗ⁾ ~ N(0, 1) (for a term with slopes the
/// vector uₖ⁽ᵗ⁾ = Lₖ⁽ᵗ⁾zₖ⁽ᵗ⁾ ~ N(0, Σₖ⁽ᵗ⁾), Lₖ⁽ᵗ⁾ the Cholesky factor of the
/// draw's covariance, from its SDs and correlations), so that the score
/// integrates over both the unknown effect and the uncertainty in σₖ (Σₖ)
/// — never a silent 0. The
/// normals of a new level come from its own stream of the `Generator`,
/// keyed by the seed, the term and the level's name
/// (`Scoring.newLevelStream`): the same new level gets the same draws in
/// every row that names it, whatever the chunking, the number of threads or
/// the other rows of the file.
///
/// Draws are read from the draw store (positioned reads, `StoredDraws`) a
/// chunk of candidate rows at a time (`Scoring+Computation.swift`), so memory
/// is O(rows per chunk × draws) per thread, never O(rows × draws).
public struct Scoring: Sendable {
    /// The fit being scored from.
    public let run: RunDirectory
    /// The fit's link (fit.json "link"; logit for fits that predate it).
    public let link: Link
    /// The fit's formula, parsed again from fit.json.
    public let formula: ModelFormula
    /// The grouping columns the candidate table must have, in formula order.
    public let factors: [String]
    /// The numeric columns of the fixed part the candidate table must have.
    public let covariates: [String]
    /// The categorical columns of the fixed part the candidate table must
    /// have, and each one's levels in the fit (a candidate's level must be
    /// one of them).
    public let categoricals: [String]
    public let categoricalLevels: [[String]]
    /// The response column(s), the trials column (the setting `trials`) and
    /// the weights column: allowed in a candidate table (echoed, ignored).
    public private(set) var responseColumns: [String]
    /// The variables whose sum is the offset (the formula's `offset(…)`
    /// terms, then the fit's offset column): computed from the candidate's
    /// columns and added to its linear predictor; empty without an offset.
    public let offsetVariables: [String]
    /// The random terms in the fit's order, with the candidate columns each
    /// is made of (`client:stylist` → ["client", "stylist"]).
    public let terms: [(name: String, factors: [String])]

    /// Per fixed-effect name (`run.fixedNames`): the indices into
    /// `covariates` whose product is that column ([] for the intercept),
    /// and for an indicator or contrast column, for each of its categorical
    /// columns, the index into `categoricals` and of the level in
    /// `categoricalLevels` it is 1 at ([] for none).
    let fixedProducts: [[Int]]
    let fixedIndicators: [[Indicator]]
    /// A categorical column's indicator in a candidate row's codes: the
    /// indices into `categoricals` and into its levels of the level where it
    /// is 1 and, for a sum contrast, of the one where it is −1.
    typealias Indicator = (categorical: Int, level: Int, against: Int?)
    /// Store indices of the fixed effects, and per term of its SDs and
    /// correlations (`RunDirectory.Term.covarianceNames`: sd(term) alone for
    /// a random intercept).
    let fixedIndices: [Int]
    let covarianceIndices: [[Int]]
    /// Per term with slopes, per column: the indices into `covariates`
    /// whose product is the column ([] for the intercept), and for a
    /// categorical column's contrast, per categorical column, the index
    /// into `categoricals` and of the level it is 1 at; nil for a random
    /// intercept.
    let slopeProducts: [[(product: [Int], indicators: [Indicator])]?]
    /// Per term: level name → its position in the term's level list.
    let levelPositions: [[String: Int]]

    /// Reads the run directory at `path` (as `RunDirectory.read`) and
    /// prepares it for scoring.
    public init(path: String) throws(InputError) {
        try self.init(run: RunDirectory.read(path))
    }

    /// Prepares a run for scoring (its link is `RunDirectory.link`). Throws
    /// `InputError` when the formula no longer parses, a
    /// fixed effect codes a categorical column in a fit that predates
    /// fit.json's "fixed_coding", or the store lacks the draws of a fixed
    /// effect or an SD.
    public init(run: RunDirectory) throws(InputError) {
        let recordPath = URL(fileURLWithPath: run.path).appendingPathComponent(RunManifest.fileName).path
        self.run = run
        self.link = run.link
        let formula: ModelFormula
        do { formula = try ModelFormula.parse(run.formula) } catch {
            throw InputError(.malformedCSV, "the recorded formula does not parse: \(error)", file: recordPath)
        }
        self.formula = formula
        switch formula.response {
        case let .column(y): responseColumns = [y] + (run.trialsColumn.map { [$0] } ?? [])
        case let .successesAndFailures(s, f):
            // cbind(s, n - s): the columns the expression reads are the response's too.
            responseColumns = [s, f] + [s, f].flatMap { formula.expressions[$0]?.columns ?? [] }
        }
        responseColumns += run.manifest.weights.map { [$0] } ?? []
        offsetVariables = formula.offsets + (run.manifest.offset.map { [$0] } ?? [])

        // Grouping columns and terms, in the fit's order of terms.
        var factors: [String] = []
        var terms: [(name: String, factors: [String])] = []
        var slopeTerms: [RandomTerm?] = []
        // How each slope column is made (fit.json's "coding" of the term;
        // runs written before it have numeric slope columns named by their
        // formula terms, matched below).
        let recordedCoding = run.manifest.random.map(\.coding)
        for (k, term) in run.terms.enumerated() {
            // A term's columns name it among terms on the same factors ((x || g)).
            let matching = formula.randomTerms.first { random in
                random.name == term.name
                    && (random.hasIntercept ? ["(Intercept)"] : []) + random.slopes.map(\.name) == term.columns
            }
            if !term.isInterceptOnly && matching == nil && (k >= recordedCoding.count || recordedCoding[k] == nil) {
                throw InputError(.unsupported, "the columns \(term.columns.joined(separator: ", ")) of \(term.name) "
                                 + "code a categorical column, and this fit predates the record of their coding "
                                 + "(\"random\"'s \"coding\"); fit again to score it", file: recordPath)
            }
            slopeTerms.append(matching)
            guard let random = matching ?? formula.randomTerms.first(where: { $0.name == term.name }) else {
                throw InputError(.malformedCSV, "the random term \(term.name) is not in the recorded formula "
                                 + "\(run.formula)", file: recordPath)
            }
            terms.append((term.name, random.factors))
            for factor in random.factors where !factors.contains(factor) { factors.append(factor) }
        }
        self.factors = factors
        self.terms = terms

        // The fixed part: each column a product of numeric columns, times a
        // categorical column's indicator (fit.json's "fixed_coding"; fits
        // that predate it had numeric products only, named by their terms).
        var coding: [FixedColumn] = []
        if let recorded = run.fixedCoding {
            guard recorded.map(\.name) == run.fixedNames else {
                throw InputError(.malformedCSV, "\"fixed_coding\" does not match \"fixed\"", file: recordPath)
            }
            coding = recorded
        } else {
            for name in run.fixedNames {
                if name == "(Intercept)" { coding.append(FixedColumn(name: name, numeric: [])); continue }
                guard let term = formula.fixedTerms.first(where: { $0.name == name }) else {
                    throw InputError(.unsupported, "the fixed effect \"\(name)\" codes a categorical column, and "
                                     + "this fit predates the record of its coding (\"fixed_coding\"); fit again to "
                                     + "score it", file: recordPath)
                }
                coding.append(FixedColumn(name: name, numeric: term.columns))
            }
        }
        var covariates: [String] = [], categoricals: [String] = [], categoricalLevels: [[String]] = []
        // A column's numeric covariates (indices into `covariates`) and its
        // categorical column's indicator (indices into `categoricals` and
        // its levels), registering each the first time it is seen.
        func covariate(_ name: String) -> Int {
            if let k = covariates.firstIndex(of: name) { return k }
            covariates.append(name)
            return covariates.count - 1
        }
        func indicators(_ column: FixedColumn) throws(InputError) -> [Indicator] {
            var found: [Indicator] = []
            for indicator in column.indicators {
                let categorical = indicator.categorical, level = indicator.level
                if !categoricals.contains(categorical) {
                    guard let levels = run.categoricalLevels?[categorical] else {
                        throw InputError(.malformedCSV, "\"categorical_levels\" lacks \(categorical)", file: recordPath)
                    }
                    categoricals.append(categorical)
                    categoricalLevels.append(levels)
                }
                let c = categoricals.firstIndex(of: categorical)!
                var positions: [Int] = []
                for name in [level] + (indicator.against.map { [$0] } ?? []) {
                    guard let l = categoricalLevels[c].firstIndex(of: name) else {
                        throw InputError(.malformedCSV, "the level \(name) of \(column.name) is not among "
                                         + "\"categorical_levels\" of \(categorical)", file: recordPath)
                    }
                    positions.append(l)
                }
                found.append((c, positions[0], positions.count > 1 ? positions[1] : nil))
            }
            return found
        }
        var products: [[Int]] = [], fixedIndicators: [[Indicator]] = []
        for column in coding {
            products.append(column.numeric.map(covariate))
            fixedIndicators.append(try indicators(column))
        }
        // The slope columns: products of numeric covariates, each times a
        // categorical column's indicator (as the fixed part's).
        var slopes: [[(product: [Int], indicators: [Indicator])]?] = []
        for (k, term) in run.terms.enumerated() {
            guard !term.isInterceptOnly else { slopes.append(nil); continue }
            if k < recordedCoding.count, let coding = recordedCoding[k] {
                guard coding.map(\.name) == term.columns else {
                    throw InputError(.malformedCSV, "the coding of \(term.name) does not match its columns",
                                     file: recordPath)
                }
                var columns: [(product: [Int], indicators: [Indicator])] = []
                for column in coding { columns.append((column.numeric.map(covariate), try indicators(column))) }
                slopes.append(columns)
            } else if let random = slopeTerms[k] {
                var columns: [(product: [Int], indicators: [Indicator])] =
                    random.hasIntercept ? [([], [])] : []
                for slope in random.slopes { columns.append((slope.columns.map(covariate), [])) }
                slopes.append(columns)
            } else {
                slopes.append(nil)
            }
        }
        self.slopeProducts = slopes
        self.covariates = covariates
        self.categoricals = categoricals
        self.categoricalLevels = categoricalLevels
        self.fixedProducts = products
        self.fixedIndicators = fixedIndicators

        func index(_ name: String, group: String) throws(InputError) -> Int {
            guard let i = run.parameterIndex(name) else {
                throw InputError(.unsupported, "the draw store has no draws of \(name)", file: run.store.path,
                                 advice: "refit with \(setting: "save", value: "all") "
                                    + "(or \(setting: "save", value: group))")
            }
            return i
        }
        var fixedIndices: [Int] = []
        for name in run.fixedNames { fixedIndices.append(try index(name, group: "fixed")) }
        var covarianceIndices: [[Int]] = []
        for term in run.terms {
            var indices: [Int] = []
            for name in term.covarianceNames { indices.append(try index(name, group: "sd")) }
            covarianceIndices.append(indices)
        }
        self.fixedIndices = fixedIndices
        self.covarianceIndices = covarianceIndices
        levelPositions = run.terms.map { term in
            Dictionary(term.levels.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Posterior draws per parameter: chains × completed draws per chain.
    public var drawCount: Int { run.store.chains * run.drawsPerChain }

    /// How a level the fit never saw (a new client, stylist or pair) enters a
    /// candidate's pᵢ⁽ᵗ⁾ — the two predictions users ask for (lme4#281,
    /// brms#956, rstanarm#461) and the draw rstanarm's `posterior_predict`
    /// makes.
    public enum NewLevels: String, Sendable, CaseIterable {
        /// One effect drawn per posterior draw from the population
        /// distribution, uₖ⁽ᵗ⁾ ~ N(0, Σₖ⁽ᵗ⁾) (rstanarm's, and brms's
        /// `sample_new_levels = "gaussian"`): pᵢ⁽ᵗ⁾ = F(η⁽ᵗ⁾ + zᵢ'uₖ⁽ᵗ⁾). The
        /// mean is the population average; the interval also holds the
        /// spread of the unknown level's effect.
        case sample
        /// The population average at each draw: the effect integrated out,
        /// pᵢ⁽ᵗ⁾ = ∫ F(η⁽ᵗ⁾ + s⁽ᵗ⁾z) φ(z) dz, s⁽ᵗ⁾² = Σₖ zᵢₖ'Σₖ⁽ᵗ⁾zᵢₖ over the
        /// new terms (`marginalProbability`): the success rate over all
        /// new clients like this one, with an interval for that rate.
        case marginal
        /// The typical new level: its effect set to 0 (lme4's and brms's
        /// `re.form = NA` for that term), pᵢ⁽ᵗ⁾ = F(η⁽ᵗ⁾) — the median new
        /// client, whose probability is farther from ½ than the average
        /// over clients (which the spread of effects pulls towards ½).
        case typical
    }

    /// ∫ F(η + s z) φ(z) dz for the inverse link F and z ~ N(0, 1): exactly
    /// Φ(η/√(1 + s²)) for the probit; otherwise by the trapezoid rule in z
    /// on [−9, 9] (the normal mass beyond is 2e-19) with step h ≤ min(¼,
    /// c/s). For an integrand analytic in a strip |Im z| < d the rule's
    /// error falls as e^(−2πd/h) (Trefethen & Weideman 2014, "The
    /// exponentially convergent trapezoidal rule", SIAM Review 56(3)). The
    /// logistic's poles at η = ±iπ put d at π/s: with c = 0.6 the error is
    /// below e^(−2π²/0.6) ≈ 5e-15 whatever s. The complementary log-log
    /// grows doubly exponentially beyond |Im η| = π/2, so d is π/(2s) and
    /// c = 0.2. (Gauss–Hermite with 64 points, tried first, was 4e-4 off at
    /// s = 4: its nodes are too sparse there.)
    static func marginalProbability(_ link: Link, _ eta: Double, standardDeviation s: Double) -> Double {
        guard s > 0 else { return link.probability(eta) }
        if link == .probit { return link.probability(eta / (1 + s * s).squareRoot()) }
        let c = link == .cloglog ? 0.2 : 0.6
        let n = Int((9 / min(0.25, c / s)).rounded(.up)), step = 9 / Double(n)
        var sum = link.probability(eta)
        for i in 1...n {
            let z = Double(i) * step
            sum += exp(-0.5 * z * z) * (link.probability(eta + s * z) + link.probability(eta - s * z))
        }
        return sum * step / (2 * Double.pi).squareRoot()
    }

    /// The stream of the standard normals of a new level: the `Generator`
    /// stream (seed, chain: 1 + term index, stream: FNV-1a hash of the
    /// level's name), so a level's draws depend on nothing but the seed, the
    /// term and its name.
    static func newLevelStream(term: Int, level: String) -> (chain: UInt64, stream: UInt64) {
        (UInt64(term) + 1, hash(level))
    }

    /// The stream Thompson sampling draws a group's posterior draw from:
    /// chain 0, stream the FNV-1a hash of the group's level name.
    static func thompsonStream(group: String) -> (chain: UInt64, stream: UInt64) {
        (0, hash(group))
    }

    /// 64-bit FNV-1a of the UTF-8 bytes (`DataHash`: a fixed,
    /// platform-independent hash, unlike Swift's seeded `Hasher`).
    static func hash(_ text: String) -> UInt64 { DataHash.of(text) }
}
