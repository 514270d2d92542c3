import Foundation

/// One JSON schema for an empirical-Bayes fit, written by `bayesglmm eb` and
/// by `Validation/lme4/fit_glmer.R` (lme4's `glmer`), read by
/// `bayesglmm compare`. The fields and how glmer's are computed are listed
/// in Validation/lme4/README.md; numbers are written so that they read back
/// as the same doubles.
public struct EmpiricalBayesReport: Codable, Sendable, Equatable {
    /// A fixed-effect coefficient: its estimate and standard error.
    public struct Fixed: Codable, Sendable, Equatable {
        public var name: String
        public var estimate: Double
        public var std_error: Double
        public init(name: String, estimate: Double, std_error: Double) {
            self.name = name; self.estimate = estimate; self.std_error = std_error
        }
    }

    /// The estimated standard deviation of a random term's column: lme4's
    /// `VarCorr` row (grp, var1). `column` is absent for a random intercept
    /// alone, `(1 | g)`, as the parameter is then named `sd(g)`.
    public struct StandardDeviation: Codable, Sendable, Equatable {
        public var term: String
        public var estimate: Double
        public var column: String?
        public init(term: String, estimate: Double, column: String? = nil) {
            self.term = term; self.estimate = estimate; self.column = column
        }
        /// `sd(g)` or `sd(g)[c]` (`ParameterNaming`).
        public var parameterName: String { column.map { "sd(\(term))[\($0)]" } ?? "sd(\(term))" }
    }

    /// The estimated correlation of two columns of a random term: lme4's
    /// `VarCorr` row (grp, var1, var2).
    public struct Correlation: Codable, Sendable, Equatable {
        public var term: String
        public var column1: String
        public var column2: String
        public var estimate: Double
        public init(term: String, column1: String, column2: String, estimate: Double) {
            self.term = term; self.column1 = column1; self.column2 = column2; self.estimate = estimate
        }
        /// `cor(g)[a][b]` (`ParameterNaming`).
        public var parameterName: String { "cor(\(term))[\(column1)][\(column2)]" }
    }

    /// The conditional mode of one level's effect and its conditional SD;
    /// `column` as in `StandardDeviation`.
    public struct Effect: Codable, Sendable, Equatable {
        public var term: String
        public var level: String
        public var mode: Double
        public var sd: Double
        public var column: String?
        public init(term: String, level: String, mode: Double, sd: Double, column: String? = nil) {
            self.term = term; self.level = level; self.mode = mode; self.sd = sd; self.column = column
        }
        /// `r(g)[level]` or `r(g)[level][c]` (`ParameterNaming`).
        public var parameterName: String {
            column.map { "r(\(term))[\(level)][\($0)]" } ?? "r(\(term))[\(level)]"
        }
    }

    public var program: String
    public var `case`: String
    public var formula: String
    public var data: String
    public var rows_used: Int
    public var fixed: [Fixed]
    public var sd: [StandardDeviation]
    public var effects: [Effect]
    public var log_likelihood: Double
    public var aic: Double
    public var bic: Double
    public var deviance: Double
    public var singular: Bool
    public var converged: Bool
    public var messages: [String]
    public var seconds: Double
    /// The link of the binomial family ("logit"); absent in reports written
    /// before the field, all of which are logit fits (`bayesglmm eb` fits
    /// the logit only, and fit_glmer.R fitted family = binomial).
    public var link: String?
    /// The correlations of terms with several columns (absent in reports
    /// written before random slopes, which had none).
    public var correlations: [Correlation]?
    /// lme4's θ (absent in older reports).
    public var theta: [Double]?
    /// The approximation maximised: glmer's nAGQ, 1 for Laplace's (absent
    /// in reports written before adaptive quadrature, all of them Laplace
    /// fits).
    public var nagq: Int?
    /// The column of prior weights, and the offset column given apart from
    /// the formula (glmer's `weights =`, `offset =`), if any.
    public var weights: String?
    public var offset: String?

    /// The number of quadrature points, 1 (Laplace) when the report does not say.
    public var quadraturePoints: Int { nagq ?? 1 }

    /// The approximation in glmer's words: "Laplace Approximation",
    /// "Adaptive Gauss-Hermite Quadrature, nAGQ = n", or for nAGQ = 0
    /// (glmer's first stage alone) "Laplace Approximation, nAGQ = 0".
    public var approximation: String {
        switch quadraturePoints {
        case 0: "Laplace Approximation, nAGQ = 0: fixed effects inside PIRLS"
        case 1: "Laplace Approximation"
        default: "Adaptive Gauss-Hermite Quadrature, nAGQ = \(quadraturePoints)"
        }
    }

    /// The link, "logit" when the report does not say.
    public var linkName: String { link ?? Link.logit.rawValue }

    public init(program: String, case name: String, formula: String, data: String, rows_used: Int,
                fixed: [Fixed], sd: [StandardDeviation], effects: [Effect], log_likelihood: Double,
                aic: Double, bic: Double, deviance: Double, singular: Bool, converged: Bool,
                messages: [String], seconds: Double, link: String? = nil, correlations: [Correlation]? = nil,
                theta: [Double]? = nil, nagq: Int? = nil, weights: String? = nil, offset: String? = nil) {
        self.program = program; self.case = name; self.formula = formula; self.data = data
        self.rows_used = rows_used; self.fixed = fixed; self.sd = sd; self.effects = effects
        self.log_likelihood = log_likelihood; self.aic = aic; self.bic = bic; self.deviance = deviance
        self.singular = singular; self.converged = converged; self.messages = messages; self.seconds = seconds
        self.link = link; self.correlations = correlations; self.theta = theta; self.nagq = nagq
        self.weights = weights; self.offset = offset
    }

    /// Refuses to set this fit beside a run of another link: the effects and
    /// SDs of a logit and a probit fit are on different scales (by a factor
    /// of about 1.7), so every comparison of them would mislead.
    public func checkLink(of run: RunDirectory, path: String) throws(InputError) {
        guard linkName == run.link.rawValue else {
            throw InputError(.unsupported, "the empirical-Bayes fit is of the \(linkName) link and the run of the "
                             + "\(run.link.rawValue) link, whose effects and SDs are on another scale; compare fits "
                             + "of one link", file: path,
                             advice: "fit the run with \(setting: "link", value: linkName)")
        }
    }

    /// Refuses to set this fit beside a run it cannot be compared with: a
    /// run of another link (`checkLink`) or of another model or data
    /// (`checkModel`). Every comparison of an EB fit with a run (`compare`,
    /// the figures with `--eb`) checks this first.
    public func checkComparable(with run: RunDirectory, path: String) throws(InputError) {
        try checkLink(of: run, path: path)
        try checkModel(formula: run.formula, terms: run.terms.map(\.name), fixed: run.fixedNames,
                       rows: run.rowsUsed, path: path)
        // The same offset and weights: other ones make another likelihood.
        guard !fixed.isEmpty else { return }
        func offsets(_ formula: String, _ column: String?) -> [String] {
            ((try? ModelFormula.parse(formula))?.offsets ?? []) + (column.map { [$0] } ?? [])
        }
        let ours = offsets(self.formula, offset), theirs = offsets(run.formula, run.manifest.offset)
        if Set(ours) != Set(theirs) || weights != run.manifest.weights {
            func described(_ offsets: [String], _ weights: String?) -> String {
                (offsets.isEmpty ? "no offset" : "offset " + offsets.joined(separator: " + "))
                    + ", " + (weights.map { "weights \($0)" } ?? "no weights")
            }
            throw InputError(.badOption, "the empirical-Bayes fit is not of the run's model: empirical Bayes has "
                             + described(ours, weights) + ", the run " + described(theirs, run.manifest.weights),
                             file: path)
        }
    }

    /// Refuses an EB fit of another model or other data than a run's —
    /// whose SDs, coefficients and effects mean other things, so that
    /// setting them side by side would mislead — naming both models and what
    /// differs: the response (where both formulas can be read), the random
    /// terms, the fixed-effect columns (by R's names, so another coding or
    /// baseline differs too) or the number of rows used.
    ///
    /// A report with effects only (an lme4 `ranef` table, which has no SDs,
    /// fixed effects or row count, and may list fewer terms) is refused only
    /// for a term the run does not have. Formulas written differently for
    /// the same model (`(1|a/b)` and `(1|a) + (1|a:b)`, another order of
    /// terms) are the same model here.
    public func checkModel(formula: String, terms: [String], fixed: [String], rows: Int,
                           path: String) throws(InputError) {
        var ebTerms = sd.map(\.term)
        for effect in effects where !ebTerms.contains(effect.term) { ebTerms.append(effect.term) }
        let effectsOnly = sd.isEmpty && self.fixed.isEmpty
        var differences: [String] = []
        if let theirs = try? ModelFormula.parse(self.formula), let ours = try? ModelFormula.parse(formula),
           theirs.response != ours.response {
            differences.append("the responses differ (\(Self.text(theirs.response)) and \(Self.text(ours.response)))")
        }
        func only(_ a: [String], _ b: [String], _ what: String, _ side: String, by key: (String) -> String = { $0 }) {
            let keys = Set(b.map(key))
            let names = a.filter { !keys.contains(key($0)) }
            if !names.isEmpty { differences.append("\(what) only in \(side): " + Self.list(names)) }
        }
        // An interaction is the same term whatever the order of its factors:
        // lme4 names (1|a/b)'s "b:a", the design "a:b".
        let factors = { (term: String) in term.split(separator: ":").sorted().joined(separator: ":") }
        only(ebTerms, terms, "random terms", "the empirical-Bayes fit", by: factors)
        if !effectsOnly {
            only(terms, ebTerms, "random terms", "the run", by: factors)
            only(self.fixed.map(\.name), fixed, "fixed effects", "the empirical-Bayes fit")
            only(fixed, self.fixed.map(\.name), "fixed effects", "the run")
            if rows_used != rows { differences.append("the numbers of rows used differ (\(rows_used) and \(rows))") }
        }
        guard differences.isEmpty else {
            func model(_ formula: String, _ terms: [String], _ fixed: [String]?, _ rows: Int?) -> String {
                "'\(formula)' (random terms \(Self.list(terms))"
                    + (fixed.map { "; fixed effects \(Self.list($0))" } ?? "") + (rows.map { "; \($0) rows" } ?? "") + ")"
            }
            throw InputError(.badOption, "the empirical-Bayes fit is not of the run's model and data: empirical Bayes "
                             + model(self.formula, ebTerms, effectsOnly ? nil : self.fixed.map(\.name),
                                     effectsOnly ? nil : rows_used)
                             + ", the run " + model(formula, terms, fixed, rows) + ": "
                             + differences.joined(separator: "; "), file: path)
        }
    }

    /// A response as the formula writes it.
    private static func text(_ response: ModelFormula.Response) -> String {
        switch response {
        case let .column(y): y
        case let .successesAndFailures(s, f): "cbind(\(s), \(f))"
        }
    }

    /// "a, b, c", at most eight names and "…", or "none".
    private static func list(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")
    }

    /// Reads a report, naming the file and what is wrong with it.
    public static func read(path: String) throws(InputError) -> EmpiricalBayesReport {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputError(.unreadableFile, "cannot read the empirical-Bayes fit: \(error.localizedDescription)",
                             file: path)
        }
        // Numbers that are not finite as `json()` writes them (JSON has none).
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(EmpiricalBayesReport.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(.malformedCSV, "not an empirical-Bayes fit: no field '\(Self.path(context.codingPath + [key]))'",
                             file: path)
        } catch let DecodingError.typeMismatch(_, context) {
            throw InputError(.malformedCSV, "field '\(Self.path(context.codingPath))' has the wrong type: "
                             + context.debugDescription, file: path)
        } catch let DecodingError.valueNotFound(_, context) {
            throw InputError(.malformedCSV, "field '\(Self.path(context.codingPath))' is null", file: path)
        } catch {
            throw InputError(.malformedCSV, "not valid JSON: \(error.localizedDescription)", file: path)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
    }

    /// The report as pretty-printed JSON with sorted keys; doubles are
    /// written by Foundation's shortest round-tripping representation.
    public func json() throws -> Data {
        try JSONEncoder.report.encode(self)
    }
}

extension JSONEncoder {
    /// The encoder of the JSON reports (the EB fit, `LooReport`):
    /// pretty-printed, keys sorted, doubles in Foundation's shortest
    /// round-tripping form and non-finite ones as "Infinity", "-Infinity"
    /// and "NaN" (as jsonlite and Python's json read them back).
    static var report: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }
}
