/// A parsed lme4-style model formula for the binomial family, e.g.
/// `y ~ x + group + (1|client) + (1|stylist) + (1|client:stylist)`.
///
/// Parsing (`ModelFormula.parse`, Formula/FormulaParser.swift) checks syntax
/// only; whether the named columns exist and what type they are is checked
/// against the data when the design is built.
public struct ModelFormula: Equatable, Sendable, CustomStringConvertible {
    /// The left-hand side.
    public enum Response: Equatable, Sendable {
        /// `y`: a 0/1 column, or the successes column when trials come from
        /// a separate column (`--trials n`, like glmer's weights).
        case column(String)
        /// `cbind(successes, failures)`.
        case successesAndFailures(successes: String, failures: String)
    }

    public var response: Response
    /// False after `0 +` or `- 1` on the right-hand side.
    public var hasIntercept: Bool
    /// Fixed-effect terms in the order they appear (after expanding `a*b` to
    /// `a + b + a:b`), without duplicates. As in R, main effects come
    /// first, then two-way interactions, and so on (`a:b + c` gives `c`,
    /// `a:b`); see `ModelFormula.parse`.
    public var fixedTerms: [FixedTerm]
    /// Random terms in order, after expanding `(1|g1/g2)` to
    /// `(1|g1) + (1|g1:g2)` and `(1 + x || g)` to `(1|g) + (0 + x|g)`,
    /// without duplicates.
    public var randomTerms: [RandomTerm]
    /// The formula as written.
    public var text: String
    /// The variables of its `offset(…)` terms: a column's name, or a
    /// transformed variable's (`log(n)`, in `expressions`); their sum enters
    /// the linear predictor with coefficient 1.
    public var offsets: [String] = []
    /// The 1-based columns in `text` of each `.` of the fixed part (all the
    /// data's other columns); empty when there is none.
    public var dots: [Int] = []
    /// The transformed variables of the fixed terms and slopes (`log(x)`,
    /// `I(x^2)`, `factor(code)`), by the name they have in the terms.
    public var expressions: [String: FormulaExpression] = [:]

    public init(response: Response, hasIntercept: Bool, fixedTerms: [FixedTerm],
                randomTerms: [RandomTerm], text: String) {
        self.response = response
        self.hasIntercept = hasIntercept
        self.fixedTerms = fixedTerms
        self.randomTerms = randomTerms
        self.text = text
    }

    /// The formula with each `.` replaced by the sum of `columns`, as R's
    /// `terms(formula, data = …)` expands it (`y ~ . + (1|g)` on columns y,
    /// a, b, g with g excluded is `y ~ (a + b) + (1|g)`; `.^2` all their
    /// two-way interactions); itself when it has no `.`. `text` stays as
    /// written. Throws when no column is left for a `.`.
    public func expandingDot(into columns: [String]) throws(FormulaError) -> ModelFormula {
        guard !dots.isEmpty else { return self }
        guard !columns.isEmpty else {
            throw FormulaError(message: "'.' stands for the data's other columns, and there are none",
                               column: dots[0], formula: text)
        }
        var characters = Array(text)
        let sum = "(" + columns.map(FormulaToken.quoted).joined(separator: " + ") + ")"
        for column in dots.sorted(by: >) {
            characters.replaceSubrange((column - 1)..<column, with: Array(sum))
        }
        var expanded = try ModelFormula.parse(String(characters))
        expanded.text = text
        return expanded
    }

    /// The canonical form, e.g. `y ~ 1 + x + (1 | client) + (1 | client:stylist)`.
    public var description: String {
        let lhs: String
        switch response {
        case let .column(name): lhs = name
        case let .successesAndFailures(s, f): lhs = "cbind(\(s), \(f))"
        }
        var parts = [hasIntercept ? "1" : "0"]
        parts += written(fixedTerms)
        parts += offsets.map { "offset(\($0))" }
        parts += randomTerms.map { term in
            "(" + ([term.hasIntercept ? "1" : "0"] + written(term.slopes)).joined(separator: " + ") + " | \(term.name))"
        }
        return "\(lhs) ~ \(parts.joined(separator: " + "))"
    }

    /// Terms as a formula writes them: the columns of one `scale`, `poly`
    /// or `ns` call (`poly(x, 2)1`, `poly(x, 2)2`) as the call, once.
    func written(_ terms: [FixedTerm]) -> [String] {
        var seen = Set<String>(), result: [String] = []
        for term in terms {
            let text = term.columns.map { column in
                if case let .trained(transform, _)? = expressions[column] { return transform.text }
                return column
            }.joined(separator: ":")
            if seen.insert(text).inserted { result.append(text) }
        }
        return result
    }
}

/// A fixed-effect term: one column (numeric, or categorical with treatment
/// contrasts — decided by the data), or a product `a:b` of columns.
public struct FixedTerm: Hashable, Sendable {
    /// One name for a main effect, two or more for an interaction `a:b`.
    public var columns: [String]
    public init(columns: [String]) { self.columns = columns }
    public var name: String { columns.joined(separator: ":") }
}

/// A random term `(effects | g)`: one level per distinct value
/// (combination of values) of the grouping factor(s) `g` or `g1:g2`, and
/// at each level a vector of effects, as lme4 reads the left-hand side — a
/// random intercept `(1 | g)`, correlated slopes `(1 + x | g)` (the
/// intercept implied: `(x | g)`), slopes alone `(0 + x | g)`.
public struct RandomTerm: Hashable, Sendable {
    public var factors: [String]
    /// False for `(0 + x | g)` and `(x - 1 | g)`.
    public var hasIntercept: Bool
    /// The terms of the left-hand side besides the intercept, ordered as R
    /// orders a formula's terms (main effects, then interactions); a
    /// categorical column stands for its contrasts, as in a fixed term.
    public var slopes: [FixedTerm]

    public init(factors: [String], hasIntercept: Bool = true, slopes: [FixedTerm] = []) {
        self.factors = factors
        self.hasIntercept = hasIntercept
        self.slopes = slopes
    }

    /// The grouping factor(s), e.g. `client` or `client:stylist`.
    public var name: String { factors.joined(separator: ":") }

    /// A random intercept and nothing else, `(1 | g)`.
    public var isInterceptOnly: Bool { hasIntercept && slopes.isEmpty }

    /// The left-hand side in canonical form: `1`, `1 + x`, `0 + x`.
    public var effectsDescription: String {
        ([hasIntercept ? "1" : "0"] + slopes.map(\.name)).joined(separator: " + ")
    }

    /// The term as written in canonical form, e.g. `(1 + x | client)`.
    public var description: String { "(\(effectsDescription) | \(name))" }
}

/// A formula that does not parse, with the 1-based column of the offending
/// character.
public struct FormulaError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// 1-based column in `formula` (the character the error points at).
    public var column: Int
    public var formula: String

    public init(message: String, column: Int, formula: String) {
        self.message = message
        self.column = column
        self.formula = formula
    }

    /// "unclosed parenthesis at column 6", followed by the formula and a caret.
    public var description: String {
        "\(message) at column \(column)\n  \(formula)\n  \(String(repeating: " ", count: max(column - 1, 0)))^"
    }
}
