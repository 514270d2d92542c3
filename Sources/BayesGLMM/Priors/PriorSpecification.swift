// Parsing of `--prior` specifications (brms/Stan-like, e.g.
// `sd(client) ~ half_cauchy(0, 1)`) into `Priors`, checking them against a
// design's names, and describing the priors in effect.

// MARK: - Errors

/// A prior specification that does not parse, or that names a term or
/// column the model does not have, with the 1-based column of the offending
/// character.
///
/// Rendered like `FormulaError`:
///
///     expected ',' between the arguments of half_t at column 23
///       sd(client) ~ half_t(3 0, 2.5)
///                             ^
///
/// Errors found in a `Priors` value after parsing (`Priors.validate(terms:fixed:)`)
/// have no text to point into: their `column` is 0, their `text` empty, and
/// their description is the message alone.
public struct PriorError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// 1-based column in `text` (the character the error points at); 0 when
    /// there is no text.
    public var column: Int
    /// The specification as written.
    public var text: String

    public init(message: String, column: Int, text: String) {
        self.message = message
        self.column = column
        self.text = text
    }

    /// An error without a position in any text.
    public init(message: String) {
        self.init(message: message, column: 0, text: "")
    }

    /// "expected '~' after 'sd' at column 4", followed by the text and a
    /// caret under the column; the message alone when there is no text.
    public var description: String {
        guard column > 0 else { return message }
        return "\(message) at column \(column)\n  \(text)\n  \(String(repeating: " ", count: column - 1))^"
    }
}

// MARK: - One specification

/// One parsed `--prior` specification: which parameters it is about and
/// their prior.
///
/// The syntax, one specification per `--prior` option (whitespace may appear
/// between any tokens):
///
///     specification = parameter "~" distribution
///     parameter     = "sd" | "sd(" name ")"        -- every SD / one term's SD
///                   | "Intercept"                  -- the intercept
///                   | "b" | "b(" name ")"          -- every coefficient / one
///                   | "cov(" name ")"              -- a term with slopes' covariance
///                   | "cor(" name ")"              -- its correlation matrix
///     name          = word { ":" word }            -- client:stylist, x:z
///     distribution  = word "(" [ number { "," number } ] ")"
///
/// A word is an R name (letters, digits, `.` and `_`) or a backquoted name
/// such as `` `age 30+` `` (with `` \` `` for a backquote inside). Numbers
/// are written as in R: `2.5`, `.5`, `1e-3`, `-1`, and `Inf` (rejected
/// below, being infinite).
///
/// Standard deviations take
///
/// - `half_t(degrees, 0, scale)`: half-Student-t on σ;
/// - `half_cauchy(0, scale)`: half-Cauchy on σ;
/// - `half_normal(0, scale)`: half-normal on σ;
/// - `inv_gamma(shape, scale)`: inverse-gamma on the variance σ²;
/// - `uniform(lower, upper)`: uniform on σ ∈ (lower, upper);
/// - `exponential(rate)`: exponential on σ;
/// - `lognormal(mu, sigma)`: log-normal on σ (log σ ~ N(mu, sigma²));
///
/// the covariance of a term with slopes takes `huang_wand(degrees, scale)`
/// (`CovariancePrior`), its correlation matrix `lkj(eta)` (Lewandowski,
/// Kurowicka & Joe 2009: density ∝ det(R)^(η − 1); with it each column's SD
/// takes the term's SD prior; the Metropolis sampler only), and the
/// intercept and coefficients take
/// `normal(mean, sd)`. The location
/// of a half-distribution must be 0; `uniform`'s lower bound must be at
/// least 0 and below its upper bound; degrees, scales, shapes, the upper
/// bound, the rate, the log-normal's sigma and the normal's sd must be
/// positive; every number must be finite.
///
/// A coefficient is named as R's `model.matrix` names its column: `x1`,
/// `groupb` (level b of factor group), `x:z`. `` b(`(Intercept)`) `` is the
/// same as `Intercept`. Whether the names exist is not checked here but
/// against the design, with `validate(terms:fixed:)`.
public struct PriorSpecification: Equatable, Sendable, CustomStringConvertible {
    /// The parameters a specification sets the prior of.
    public enum Parameter: Hashable, Sendable {
        /// `sd`: the SD of every random term without a prior of its own.
        case standardDeviations
        /// `sd(term)`: the SD of one random term ("client", "client:stylist").
        case standardDeviation(String)
        /// `Intercept`.
        case intercept
        /// `b`: every coefficient without a prior of its own.
        case coefficients
        /// `b(column)`: one coefficient, by its `model.matrix` name.
        case coefficient(String)
        /// `cov(term)`: the covariance of one random term with slopes.
        case covariance(String)
        /// `cor(term)`: the correlation matrix of one random term with slopes.
        case correlation(String)

        /// As written in a specification: "sd(client)", "b(x:z)", "Intercept".
        public var written: String {
            switch self {
            case .standardDeviations: return "sd"
            case let .standardDeviation(term): return "sd(\(PriorSpecification.written(name: term)))"
            case .intercept: return "Intercept"
            case .coefficients: return "b"
            case let .coefficient(column): return "b(\(PriorSpecification.written(name: column)))"
            case let .covariance(term): return "cov(\(PriorSpecification.written(name: term)))"
            case let .correlation(term): return "cor(\(PriorSpecification.written(name: term)))"
            }
        }

        /// Whether the parameter is a standard deviation (takes a `ScalePrior`).
        public var isStandardDeviation: Bool {
            switch self {
            case .standardDeviations, .standardDeviation: return true
            case .intercept, .coefficients, .coefficient, .covariance, .correlation: return false
            }
        }
    }

    /// A prior: on a standard deviation, or normal on a coefficient.
    public enum Distribution: Equatable, Sendable, CustomStringConvertible {
        case scale(ScalePrior)
        case normal(NormalPrior)
        case covariance(CovariancePrior)
        /// LKJ(η) on a correlation matrix.
        case lkj(Double)

        /// In the syntax of a specification, e.g. "half_t(3, 0, 2.5)".
        public var description: String {
            switch self {
            case let .scale(prior): return prior.description
            case let .normal(prior): return prior.written
            case let .covariance(prior): return prior.description
            case let .lkj(eta): return "lkj(\(PriorSpecification.written(number: eta)))"
            }
        }
    }

    /// Set only by `parse`, so that the distribution always fits the parameter.
    public internal(set) var parameter: Parameter
    public internal(set) var distribution: Distribution
    /// The specification as written.
    public internal(set) var text: String
    /// 1-based column in `text` of the name inside `sd(...)` or `b(...)`, or
    /// of the parameter class when there is no name (for errors about the
    /// name found later, in `validate(terms:fixed:)`).
    public internal(set) var nameColumn: Int

    init(parameter: Parameter, distribution: Distribution, text: String, nameColumn: Int = 1) {
        self.parameter = parameter
        self.distribution = distribution
        self.text = text
        self.nameColumn = nameColumn
    }

    /// Canonical form, e.g. "sd(client) ~ half_cauchy(0, 1)".
    public var description: String { "\(parameter.written) ~ \(distribution)" }

    /// Parses one specification, e.g. `sd(client:stylist) ~ half_normal(0, 1)`
    /// (the syntax is described on the type).
    ///
    /// Rejected, with a message and the column of the offending character:
    /// empty text; an unknown parameter class (`foo ~ normal(0, 1)`); a
    /// missing `~`; an unknown distribution (the message lists the known
    /// ones); a distribution that does not fit the parameter (`sd ~
    /// normal(0, 1)`: "sd takes half_t, half_cauchy, half_normal, inv_gamma,
    /// uniform, exponential or lognormal"; `b ~ half_t(3, 0, 1)`: "coefficients take
    /// normal"); a wrong number of arguments (the message says how many the
    /// distribution takes; the column is that of the first surplus argument,
    /// or of the `)` when arguments are missing); an argument out of range
    /// (the message names the argument and says why); text after the
    /// distribution; and any syntax error.
    public static func parse(_ text: String) throws(PriorError) -> PriorSpecification {
        var parser = try PriorParser(text: text)
        return try parser.parseSpecification()
    }

    /// Checks that the term or column named exists in the model.
    ///
    /// - Parameters:
    ///   - terms: the model's random terms (`RandomEffect.name`: "client",
    ///     "client:stylist").
    ///   - fixed: the model's fixed-effect columns (`Design.fixedNames`:
    ///     "(Intercept)", "x", "groupb", "x:z").
    /// - Throws: for `sd(term)` naming no term and `b(column)` naming no
    ///   column (the message lists the valid names, and suggests the right
    ///   order for `stylist:client` when the model has `client:stylist`),
    ///   and for `Intercept` when `fixed` has no "(Intercept)". The column is
    ///   `nameColumn`. `sd` and `b` are always valid, even with no terms or
    ///   coefficients to apply to.
    public func validate(terms: [String], fixed: [String]) throws(PriorError) {
        if let message = PriorSpecification.problem(with: parameter, terms: terms, fixed: fixed) {
            throw PriorError(message: message, column: nameColumn, text: text)
        }
    }

    // MARK: Helpers

    /// The message for a parameter the model does not have, or nil.
    static func problem(with parameter: Parameter, terms: [String], fixed: [String]) -> String? {
        switch parameter {
        case .standardDeviations, .coefficients:
            return nil
        case .intercept:
            if fixed.contains("(Intercept)") { return nil }
            return "the model has no intercept (its formula has '0 +' or '- 1')"
        case let .standardDeviation(term), let .covariance(term), let .correlation(term):
            if terms.contains(term) { return nil }
            guard !terms.isEmpty else {
                return "sd(\(written(name: term))): the model has no random terms"
            }
            var message = "the model has no random term '\(term)'"
            if let match = reordering(of: term, in: terms) {
                message += " (did you mean sd(\(written(name: match)))?)"
            }
            return message + "; its random terms are " + terms.map { written(name: $0) }.joined(separator: ", ")
        case let .coefficient(column):
            if fixed.contains(column) { return nil }
            let columns = fixed.filter { $0 != "(Intercept)" }
            guard !columns.isEmpty else {
                return "b(\(written(name: column))): the model has no coefficients besides the intercept"
            }
            var message = "the model has no coefficient '\(column)'"
            if let match = reordering(of: column, in: columns) {
                message += " (did you mean b(\(written(name: match)))?)"
            }
            return message + "; its coefficients are " + columns.map { written(name: $0) }.joined(separator: ", ")
        }
    }

    /// A name in `names` with the same ':'-separated parts as `name` in
    /// another order ("client:stylist" for "stylist:client").
    static func reordering(of name: String, in names: [String]) -> String? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init).sorted()
        guard parts.count > 1 else { return nil }
        return names.first {
            $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init).sorted() == parts
        }
    }

    /// A term or column name as written inside `sd(...)` or `b(...)`: each
    /// ':'-separated part bare when it is an R name, else backquoted.
    static func written(name: String) -> String {
        name.split(separator: ":", omittingEmptySubsequences: false)
            .map { PriorToken.quoted(String($0)) }
            .joined(separator: ":")
    }

    /// A number as `ScalePrior.description` writes it: "3", "2.5", "1e-05".
    static func written(number x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

extension NormalPrior {
    /// In the syntax `--prior` accepts, e.g. "normal(0, 2.5)" (integers
    /// without ".0", unlike `description`).
    public var written: String {
        "normal(\(PriorSpecification.written(number: mean)), \(PriorSpecification.written(number: standardDeviation)))"
    }
}

// MARK: - Priors

extension Priors {
    /// Applies one `--prior` specification, e.g. `sd(client) ~ half_cauchy(0, 1)`
    /// (the syntax is described on `PriorSpecification`).
    ///
    /// Later specifications replace earlier ones for the same parameter. A
    /// prior on one term (`sd(client)`) or one coefficient (`b(x1)`) wins over
    /// the general `sd` or `b` whatever their order. Whether the names exist
    /// is not checked: see `validate(terms:fixed:)` and
    /// `init(specifications:terms:fixed:)`.
    public mutating func apply(_ specification: String) throws(PriorError) {
        apply(try PriorSpecification.parse(specification))
    }

    /// Applies a parsed specification.
    public mutating func apply(_ specification: PriorSpecification) {
        switch (specification.parameter, specification.distribution) {
        case let (.standardDeviations, .scale(prior)):
            standardDeviations = prior
        case let (.standardDeviation(term), .scale(prior)):
            standardDeviation[term] = prior
        case let (.intercept, .normal(prior)):
            intercept = prior
        case let (.coefficients, .normal(prior)):
            coefficients = prior
        case let (.coefficient(column), .normal(prior)):
            coefficient[column] = prior
        case let (.covariance(term), .covariance(prior)):
            covariance[term] = prior
        case let (.correlation(term), .lkj(eta)):
            correlation[term] = eta
        case (.standardDeviations, _), (.standardDeviation, _), (.intercept, _), (.coefficients, _),
             (.coefficient, _), (.covariance, _), (.correlation, _):
            // `PriorSpecification.parse`, the only way to make one, never makes these.
            preconditionFailure("\(specification.parameter.written) cannot take \(specification.distribution)")
        }
    }

    /// The default priors with `specifications` applied in order, each
    /// checked against the model's names (`PriorSpecification.validate`),
    /// so that an error points into the specification that named a missing
    /// term or column.
    ///
    /// - Parameters:
    ///   - terms: the random terms' names ("client", "client:stylist").
    ///   - fixed: the fixed-effect columns' names ("(Intercept)", "x", "groupb").
    public init(specifications: [String], terms: [String], fixed: [String]) throws(PriorError) {
        self.init()
        for text in specifications {
            let specification = try PriorSpecification.parse(text)
            try specification.validate(terms: terms, fixed: fixed)
            apply(specification)
        }
    }

    /// Checks that every term with an SD prior of its own is one of `terms`,
    /// and every coefficient with a prior of its own one of `fixed`.
    ///
    /// - Parameters:
    ///   - terms: the random terms' names (`RandomEffect.name`).
    ///   - fixed: the fixed-effect columns' names (`Design.fixedNames`,
    ///     with "(Intercept)" when the model has one).
    /// - Throws: the first unknown name in alphabetical order, terms first,
    ///   with the valid names. The error has no text to point into (its
    ///   column is 0); to point into the specifications, build the priors
    ///   with `init(specifications:terms:fixed:)`.
    public func validate(terms: [String], fixed: [String]) throws(PriorError) {
        for term in standardDeviation.keys.sorted() {
            let parameter = PriorSpecification.Parameter.standardDeviation(term)
            if let message = PriorSpecification.problem(with: parameter, terms: terms, fixed: fixed) {
                throw PriorError(message: "prior for \(parameter.written): \(message)")
            }
        }
        for term in correlation.keys.sorted() {
            let parameter = PriorSpecification.Parameter.correlation(term)
            if let message = PriorSpecification.problem(with: parameter, terms: terms, fixed: fixed) {
                throw PriorError(message: "prior for \(parameter.written): \(message)")
            }
        }
        for term in covariance.keys.sorted() {
            let parameter = PriorSpecification.Parameter.covariance(term)
            if let message = PriorSpecification.problem(with: parameter, terms: terms, fixed: fixed) {
                throw PriorError(message: "prior for \(parameter.written): \(message)")
            }
        }
        for column in coefficient.keys.sorted() {
            let parameter = PriorSpecification.Parameter.coefficient(column)
            if let message = PriorSpecification.problem(with: parameter, terms: terms, fixed: fixed) {
                throw PriorError(message: "prior for \(parameter.written): \(message)")
            }
        }
    }

    /// One line per parameter of a model, in the specification syntax and
    /// aligned at the `~`, saying where the prior comes from when it is not
    /// set for that parameter alone:
    ///
    ///     Intercept  ~ normal(0, 5)
    ///     b(x1)      ~ normal(0, 2)
    ///     b(groupb)  ~ normal(0, 2.5)     (default)
    ///     sd(client) ~ half_cauchy(0, 1)  (from sd)
    ///
    /// "(default)" marks the package default, "(from b)" or "(from sd)" the
    /// general prior set by a specification.
    ///
    /// - Parameters:
    ///   - terms: the random terms' names, in formula order.
    ///   - fixed: the fixed-effect columns' names, in order, with
    ///     "(Intercept)" when the model has one.
    public func describe(terms: [String], fixed: [String]) -> [String] {
        let defaults = Priors()
        var rows: [(parameter: String, prior: String, source: String)] = []
        for column in fixed {
            if let prior = coefficient[column] {
                let parameter: PriorSpecification.Parameter = column == "(Intercept)" ? .intercept : .coefficient(column)
                rows.append((parameter.written, prior.written, ""))
            } else if column == "(Intercept)" {
                rows.append(("Intercept", intercept.written, intercept == defaults.intercept ? "(default)" : ""))
            } else {
                rows.append((PriorSpecification.Parameter.coefficient(column).written, coefficients.written,
                             coefficients == defaults.coefficients ? "(default)" : "(from b)"))
            }
        }
        for term in terms {
            if let prior = covariance[term] {
                rows.append((PriorSpecification.Parameter.covariance(term).written, prior.description, ""))
            }
            if let eta = correlation[term] {
                rows.append((PriorSpecification.Parameter.correlation(term).written,
                             PriorSpecification.Distribution.lkj(eta).description, ""))
            }
            let parameter = PriorSpecification.Parameter.standardDeviation(term).written
            if let prior = standardDeviation[term] {
                rows.append((parameter, prior.description, ""))
            } else {
                rows.append((parameter, standardDeviations.description,
                             standardDeviations == defaults.standardDeviations ? "(default)" : "(from sd)"))
            }
        }
        let parameterWidth = rows.map(\.parameter.count).max() ?? 0
        let priorWidth = rows.map(\.prior.count).max() ?? 0
        return rows.map { row in
            let left = row.parameter.padding(to: parameterWidth) + " ~ "
            guard !row.source.isEmpty else { return left + row.prior }
            return left + row.prior.padding(to: priorWidth) + "  " + row.source
        }
    }
}

extension String {
    /// The string with spaces appended up to `width` characters.
    fileprivate func padding(to width: Int) -> String {
        self + String(repeating: " ", count: max(width - count, 0))
    }
}
