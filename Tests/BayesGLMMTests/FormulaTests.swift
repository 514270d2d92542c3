import Foundation
import Testing
@testable import BayesGLMM

@Suite("FormulaTests")
struct FormulaTests {
    // MARK: - Structure of parsed formulas

    @Test func salonModel() throws {
        let text = "y ~ x + (1|client) + (1|stylist) + (1|client:stylist)"
        let formula = try ModelFormula.parse(text)
        #expect(formula.response == .column("y"))
        #expect(formula.hasIntercept)
        #expect(formula.fixedTerms == [FixedTerm(columns: ["x"])])
        #expect(formula.randomTerms == [
            RandomTerm(factors: ["client"]),
            RandomTerm(factors: ["stylist"]),
            RandomTerm(factors: ["client", "stylist"]),
        ])
        #expect(formula.text == text)
        #expect(formula.description == "y ~ 1 + x + (1 | client) + (1 | stylist) + (1 | client:stylist)")
    }

    @Test func cbindResponse() throws {
        let formula = try ModelFormula.parse("cbind(booked, declined) ~ price + (1 | client)")
        #expect(formula.response == .successesAndFailures(successes: "booked", failures: "declined"))
        #expect(formula.fixedTerms == [FixedTerm(columns: ["price"])])
        #expect(formula.randomTerms == [RandomTerm(factors: ["client"])])
        #expect(formula.description == "cbind(booked, declined) ~ 1 + price + (1 | client)")
    }

    @Test func interceptOnly() throws {
        let formula = try ModelFormula.parse("y ~ 1")
        #expect(formula.hasIntercept)
        #expect(formula.fixedTerms.isEmpty)
        #expect(formula.randomTerms.isEmpty)
        #expect(formula.description == "y ~ 1")
    }

    @Test func noInterceptWithRandomTermsOnly() throws {
        let formula = try ModelFormula.parse("y ~ 0 + (1 | g)")
        #expect(!formula.hasIntercept)
        #expect(formula.fixedTerms.isEmpty)
        #expect(formula.randomTerms == [RandomTerm(factors: ["g"])])
    }

    @Test func crossingOfThree() throws {
        let formula = try ModelFormula.parse("y ~ a*b*c")
        #expect(formula.fixedTerms.map(\.columns) == [
            ["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["b", "c"], ["a", "b", "c"],
        ])
    }

    @Test func nestedGroupingOfThree() throws {
        let formula = try ModelFormula.parse("y ~ (1 | region/salon/stylist)")
        #expect(formula.randomTerms.map(\.factors) == [
            ["region"], ["region", "salon"], ["region", "salon", "stylist"],
        ])
    }

    @Test func backquotedNames() throws {
        let formula = try ModelFormula.parse("`booked?` ~ `hair length` + `a\\`b` + (1 | `client id`)")
        #expect(formula.response == .column("booked?"))
        #expect(formula.fixedTerms.map(\.columns) == [["hair length"], ["a`b"]])
        #expect(formula.randomTerms.map(\.factors) == [["client id"]])
    }

    @Test func errorDescriptionHasCaretUnderColumn() {
        #expect(throws: FormulaError(message: "unclosed parenthesis", column: 5,
                                     formula: "y ~ (1|client + (1|stylist)")) {
            try ModelFormula.parse("y ~ (1|client + (1|stylist)")
        }
        do {
            _ = try ModelFormula.parse("y ~ x $ z")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "unexpected character '$' at column 7\n  y ~ x $ z\n        ^")
        }
    }

    // MARK: - Valid formulas and their canonical forms

    struct Valid: Sendable, CustomTestStringConvertible {
        let formula: String
        let canonical: String
        init(_ formula: String, _ canonical: String) {
            self.formula = formula
            self.canonical = canonical
        }
        var testDescription: String { formula }
    }

    static let valid: [Valid] = [
        // Responses and plain terms.
        Valid("y ~ x", "y ~ 1 + x"),
        Valid("y~x", "y ~ 1 + x"),
        Valid("  y   ~   x  ", "y ~ 1 + x"),
        Valid("y ~\n  x +\n  (1 | g)", "y ~ 1 + x + (1 | g)"),
        Valid("y\t~\tx", "y ~ 1 + x"),
        Valid("y ~ 1 + x", "y ~ 1 + x"),
        Valid("y ~ x + z + w", "y ~ 1 + x + z + w"),
        Valid("booked.2 ~ .price + price_log + x.y.z", "booked.2 ~ 1 + .price + price_log + x.y.z"),
        Valid("cbind(s, f) ~ x", "cbind(s, f) ~ 1 + x"),
        Valid("cbind( s ,f ) ~ x", "cbind(s, f) ~ 1 + x"),
        Valid("cbind(`s s`, f) ~ x", "cbind(s s, f) ~ 1 + x"),
        Valid("y ~ (1|g)", "y ~ 1 + (1 | g)"),
        Valid("y ~ ( 1 | g )", "y ~ 1 + (1 | g)"),
        // Intercept removal and restoration (the last of 1, 0, -1 wins).
        Valid("y ~ 0 + x", "y ~ 0 + x"),
        Valid("y ~ x + 0", "y ~ 0 + x"),
        Valid("y ~ x - 1", "y ~ 0 + x"),
        Valid("y ~ -1 + x", "y ~ 0 + x"),
        Valid("y ~ - 1 + x", "y ~ 0 + x"),
        Valid("y ~ x + -1", "y ~ 0 + x"),
        Valid("y ~ x - 1 + (1 | g)", "y ~ 0 + x + (1 | g)"),
        Valid("y ~ 0 + x + 1", "y ~ 1 + x"),
        Valid("y ~ x - 0", "y ~ 1 + x"),
        Valid("y ~ 1", "y ~ 1"),
        Valid("y ~ 1 + (1 | g)", "y ~ 1 + (1 | g)"),
        Valid("y ~ -1 + (1 | g)", "y ~ 0 + (1 | g)"),
        // Interactions and crossing.
        Valid("y ~ a:b", "y ~ 1 + a:b"),
        Valid("y ~ a:b:c", "y ~ 1 + a:b:c"),
        Valid("y ~ a * b", "y ~ 1 + a + b + a:b"),
        Valid("y ~ a*b*c", "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c"),
        Valid("y ~ a*b*c*d",
              "y ~ 1 + a + b + c + d + a:b + a:c + b:c + a:d + b:d + c:d + a:b:c + a:b:d + a:c:d + b:c:d + a:b:c:d"),
        Valid("y ~ a*b + c", "y ~ 1 + a + b + c + a:b"),
        Valid("y ~ a:b + c", "y ~ 1 + c + a:b"),
        Valid("y ~ (a + b):c", "y ~ 1 + a:c + b:c"),
        Valid("y ~ (a + b)*c", "y ~ 1 + a + b + c + a:c + b:c"),
        Valid("y ~ a*(b + c)", "y ~ 1 + a + b + c + a:b + a:c"),
        Valid("y ~ a/b", "y ~ 1 + a + a:b"),
        Valid("y ~ a*b - a:b", "y ~ 1 + a + b"),
        Valid("y ~ a*b - a", "y ~ 1 + b + a:b"),
        Valid("y ~ a + b - a", "y ~ 1 + b"),
        Valid("y ~ (x)", "y ~ 1 + x"),
        Valid("y ~ ((x + z))", "y ~ 1 + x + z"),
        Valid("y ~ x + (z + (1 | g))", "y ~ 1 + x + z + (1 | g)"),
        Valid("y ~ ((1 | g))", "y ~ 1 + (1 | g)"),
        Valid("y ~ + x", "y ~ 1 + x"),
        // Duplicates are kept once, at their first position; interactions
        // compare as sets and take the columns in order of first appearance.
        Valid("y ~ x + x", "y ~ 1 + x"),
        Valid("y ~ x + z + x", "y ~ 1 + x + z"),
        Valid("y ~ a:b + b:a", "y ~ 1 + a:b"),
        Valid("y ~ a + b + b:a", "y ~ 1 + a + b + a:b"),
        Valid("y ~ b + a + a:b", "y ~ 1 + b + a + b:a"),
        Valid("y ~ a:a", "y ~ 1 + a"),
        Valid("y ~ a*b + a:b", "y ~ 1 + a + b + a:b"),
        Valid("y ~ (1|g) + (1|g)", "y ~ 1 + (1 | g)"),
        Valid("y ~ (1|a:b) + (1|b:a)", "y ~ 1 + (1 | a:b)"),
        Valid("y ~ (1|a/b) + (1|a) + (1|a:b)", "y ~ 1 + (1 | a) + (1 | a:b)"),
        // Random intercepts and nesting.
        Valid("y ~ x + (1|client) + (1|stylist) + (1|client:stylist)",
              "y ~ 1 + x + (1 | client) + (1 | stylist) + (1 | client:stylist)"),
        Valid("y ~ (1|g1/g2)", "y ~ 1 + (1 | g1) + (1 | g1:g2)"),
        Valid("y ~ (1 | g1 / g2 / g3)", "y ~ 1 + (1 | g1) + (1 | g1:g2) + (1 | g1:g2:g3)"),
        Valid("y ~ (1 | a:b/c)", "y ~ 1 + (1 | a:b) + (1 | a:b:c)"),
        Valid("y ~ (1 | a/b:c)", "y ~ 1 + (1 | a) + (1 | a:b:c)"),
        Valid("y ~ (1 | g:g)", "y ~ 1 + (1 | g)"),
        Valid("y ~ (1 | stylist) + x + (1 | client)", "y ~ 1 + x + (1 | stylist) + (1 | client)"),
        Valid("y ~ x + (1 | x)", "y ~ 1 + x + (1 | x)"),
        // Random slopes (lme4's reading: Fixtures/formula/random_terms.json).
        Valid("y ~ (1 + x|g)", "y ~ 1 + (1 + x | g)"),
        Valid("y ~ x + (x | client)", "y ~ 1 + x + (1 + x | client)"),
        Valid("y ~ (0 + x | g)", "y ~ 1 + (0 + x | g)"),
        Valid("y ~ (x - 1 | g1/g2)", "y ~ 1 + (0 + x | g1) + (0 + x | g1:g2)"),
        Valid("y ~ (1 + x + z | g)", "y ~ 1 + (1 + x + z | g)"),
        Valid("y ~ (x*z | g)", "y ~ 1 + (1 + x + z + x:z | g)"),
        Valid("y ~ (z:x + x | g)", "y ~ 1 + (1 + x + z:x | g)"),
        Valid("y ~ b:a + (a:b | g)", "y ~ 1 + b:a + (1 + a:b | g)"),
        Valid("y ~ (1 + x | g) + (1 | g)", "y ~ 1 + (1 + x | g) + (1 | g)"),
        Valid("y ~ (1 + x | g) + (x | g)", "y ~ 1 + (1 + x | g)"),
        Valid("y ~ (x || g)", "y ~ 1 + (1 | g) + (0 + x | g)"),
        Valid("y ~ (1 + x + z || g)", "y ~ 1 + (1 | g) + (0 + x | g) + (0 + z | g)"),
        Valid("y ~ (0 + x || g)", "y ~ 1 + (0 + x | g)"),
        Valid("y ~ (x || a/b)", "y ~ 1 + (1 | a) + (1 | a:b) + (0 + x | a) + (0 + x | a:b)"),
        Valid("y ~ (1 | g) + (x || g)", "y ~ 1 + (1 | g) + (0 + x | g)"),
        Valid("y ~ (1 | g) + (1 + x | h)", "y ~ 1 + (1 | g) + (1 + x | h)"),
        // Backquotes.
        Valid("y ~ `x`", "y ~ 1 + x"),
        Valid("y ~ `my col` + (1 | `the group`)", "y ~ 1 + my col + (1 | the group)"),
        Valid("y ~ `1x`:`_z`", "y ~ 1 + 1x:_z"),
        // Transformed variables, named by R's deparse (model.matrix's column names).
        Valid("y ~ log(x)", "y ~ 1 + log(x)"),
        Valid("y ~ x + I(x*x)", "y ~ 1 + x + I(x * x)"),
        Valid("y ~ I(2*x+z^2-1) + I(x/2) + I(-x) + I(x^-1)", "y ~ 1 + I(2 * x + z^2 - 1) + I(x/2) + I(-x) + I(x^-1)"),
        Valid("y ~ sqrt(abs(x-2)) + I((x+1)^2) + I(x*2.50)", "y ~ 1 + sqrt(abs(x - 2)) + I((x + 1)^2) + I(x * 2.5)"),
        Valid("y ~ factor(code) * log1p(z)", "y ~ 1 + factor(code) + log1p(z) + factor(code):log1p(z)"),
        Valid("y ~ exp(x) + (1 + log(x) | g)", "y ~ 1 + exp(x) + (1 + log(x) | g)"),
        Valid("cbind(s, n-s) ~ x", "cbind(s, n - s) ~ 1 + x"),
        // Powers of terms: every interaction up to the power.
        Valid("y ~ (a + b + c)^2", "y ~ 1 + a + b + c + a:b + a:c + b:c"),
        Valid("y ~ (a + b)^3 + x", "y ~ 1 + a + b + x + a:b"),
        // Powers beyond the number of terms add nothing, and take no time.
        Valid("y ~ (a + b)^99999999", "y ~ 1 + a + b + a:b"),
        Valid("y ~ (a + b + c)^1", "y ~ 1 + a + b + c"),
        // Non-ASCII letters are letters.
        Valid("réservé ~ durée + (1 | coiffeur)", "réservé ~ 1 + durée + (1 | coiffeur)"),
    ]

    @Test(arguments: valid)
    func parsesToCanonicalForm(_ example: Valid) throws {
        let formula = try ModelFormula.parse(example.formula)
        #expect(formula.description == example.canonical)
        #expect(formula.text == example.formula)
    }

    /// The canonical form parses back to the same terms. (The columns inside
    /// an interaction may come back in another order: as in R, they follow
    /// the order in which the columns first appear, so `a:c + b:c` gives
    /// `a:c + c:b`; likewise in a random term's effects.)
    @Test(arguments: valid.filter { !$0.formula.contains("`") })
    func canonicalFormRoundTrips(_ example: Valid) throws {
        let formula = try ModelFormula.parse(example.formula)
        let again = try ModelFormula.parse(formula.description)
        #expect(again.response == formula.response)
        #expect(again.hasIntercept == formula.hasIntercept)
        #expect(again.fixedTerms.map { Set($0.columns) } == formula.fixedTerms.map { Set($0.columns) })
        #expect(again.randomTerms.map { [$0.factors, [String($0.hasIntercept)]] }
                == formula.randomTerms.map { [$0.factors, [String($0.hasIntercept)]] })
        #expect(again.randomTerms.map { $0.slopes.map { Set($0.columns) } }
                == formula.randomTerms.map { $0.slopes.map { Set($0.columns) } })
    }

    @Test func interactionColumnsFollowFirstAppearance() throws {
        let formula = try ModelFormula.parse("y ~ a:c + b:c")
        #expect(formula.fixedTerms.map(\.columns) == [["a", "c"], ["c", "b"]])
    }

    // MARK: - Invalid formulas: message and column

    struct Invalid: Sendable, CustomTestStringConvertible {
        let formula: String
        let message: String
        let column: Int
        init(_ formula: String, _ message: String, at column: Int) {
            self.formula = formula
            self.message = message
            self.column = column
        }
        var testDescription: String { formula }
    }

    static let invalid: [Invalid] = [
        // Parentheses.
        Invalid("y ~ (1|client + (1|stylist)", "unclosed parenthesis", at: 5),
        Invalid("y ~ x + (1|client + (1|stylist)", "unclosed parenthesis", at: 9),
        Invalid("y ~ (x", "unclosed parenthesis", at: 5),
        Invalid("y ~ x)", "unmatched ')'", at: 6),
        Invalid("y ~ ()", "empty parentheses", at: 5),
        // Characters.
        Invalid("y ~ x $ z", "unexpected character '$'", at: 7),
        Invalid("y ~ x + z == 1", "unexpected '='", at: 11),
        Invalid("y ~ durée € 2", "unexpected character '€'", at: 11),
        Invalid("y ~ x\t$", "unexpected character '$'", at: 7),
        Invalid("y ~ \"x\"", "unexpected character '\"'", at: 5),
        Invalid("y ~ x^2", "x^2 in a formula is x itself (R's formula algebra); for the power write I(x^2)", at: 6),
        Invalid("y ~ log(x)^2", "log(x)^2 in a formula is log(x) itself (R's formula algebra); for the power write "
                + "I(log(x)^2)", at: 11),
        Invalid("y ~ (a + b)^x", "a power of terms takes a whole number of at least 1, as (a + b + c)^2", at: 13),
        Invalid("y ~ (a + b)^", "a power of terms takes a whole number of at least 1, as (a + b + c)^2", at: 12),
        Invalid("y ~ ((1 | g) + x)^2", "random terms cannot be raised to a power", at: 18),
        Invalid("y ~ (a + b)^2^2", "unexpected '^': a power applies once, to a parenthesised sum of terms, as "
                + "(a + b)^2 (a power of a column is I(x^2))", at: 14),
        Invalid("y ~ x + (1 + . | g)", "'.' (all other columns) stands for fixed effects only, not inside a random "
                + "term", at: 14),
        Invalid("y ~ log(.) + (1 | g)", "'.' (all other columns) cannot be part of an expression", at: 9),
        Invalid("y ~ _id", "names cannot start with '_'; backquote the name: `_id`", at: 5),
        Invalid("y ~ `x", "unclosed backquote", at: 5),
        Invalid("y ~ ``", "empty backquoted name", at: 5),
        // Response and '~'.
        Invalid("", "the formula is empty", at: 1),
        Invalid("   ", "the formula is empty", at: 4),
        Invalid("~ x", "missing response before '~'", at: 1),
        Invalid("  ~ x", "missing response before '~'", at: 3),
        Invalid("y", "expected '~' after the response", at: 2),
        Invalid("y x", "expected '~' after the response", at: 3),
        Invalid("y = x", "expected '~' after the response", at: 3),
        Invalid("a:b ~ x", "the response must be one column name or cbind(successes, failures)", at: 2),
        Invalid("y + z ~ x", "the response must be one column name or cbind(successes, failures)", at: 3),
        Invalid("1 ~ x", "the response must be one column name or cbind(successes, failures)", at: 1),
        Invalid("(y) ~ x", "the response must be one column name or cbind(successes, failures)", at: 1),
        Invalid("y ~ x ~ z", "a formula has only one '~'", at: 7),
        Invalid("y ~ (x ~ z)", "a formula has only one '~'", at: 8),
        Invalid("log(y) ~ x", "the response is a column or cbind(successes, failures), not a function of columns "
                + "(log(y)); add the transformed column to the data", at: 1),
        // cbind.
        Invalid("cbind(s) ~ x", "cbind needs two columns, cbind(successes, failures), not 1", at: 1),
        Invalid("cbind(a, b, c) ~ x", "cbind needs two columns, cbind(successes, failures), not 3", at: 1),
        Invalid("cbind() ~ x", "cbind needs two columns, cbind(successes, failures), not 0", at: 1),
        Invalid("cbind(s, ) ~ x", "expected a column name in cbind", at: 10),
        Invalid("cbind(s, n:s) ~ x",
                "cbind takes columns or arithmetic of columns (+ - * / ^), as cbind(s, n - s); unexpected ':'", at: 11),
        Invalid("y ~ cbind(a, b)", "cbind(successes, failures) can only be the response", at: 5),
        // Right-hand side.
        Invalid("y ~", "missing right-hand side after '~'", at: 3),
        Invalid("y ~   ", "missing right-hand side after '~'", at: 3),
        Invalid("y ~ x +", "expected a term after '+'", at: 7),
        Invalid("y ~ x + ", "expected a term after '+'", at: 7),
        Invalid("y ~ x -", "expected a term after '-'", at: 7),
        Invalid("y ~ a:", "expected a term after ':'", at: 6),
        Invalid("y ~ a*", "expected a term after '*'", at: 6),
        Invalid("y ~ (x + ) + z", "expected a term after '+'", at: 8),
        Invalid("y ~ * x", "expected a term before '*'", at: 5),
        Invalid("y ~ x + : z", "expected a term before ':'", at: 9),
        Invalid("y ~ x z", "missing operator before 'z'", at: 7),
        Invalid("y ~ x (1 | g)", "missing operator before '('", at: 7),
        Invalid("y ~ x (z)", "x in x (z) is not a function a formula can use (those are I, abs, exp, log, log1p, sqrt, factor, scale, poly and ns); add a transformed column to the data", at: 5),
        Invalid("y ~ x, z", "unexpected ','", at: 6),
        Invalid("y ~ 0", "the model has no terms", at: 5),
        Invalid("y ~ -1", "the model has no terms", at: 5),
        Invalid("y ~ 0 + x - x", "the model has no terms", at: 5),
        Invalid("y ~ 2 + x", "unexpected number '2'; only 1 (intercept) and 0 (no intercept) can be terms", at: 5),
        Invalid("y ~ x:1", "the intercept (1 or 0) cannot be part of an interaction", at: 6),
        Invalid("y ~ poly(x)", "poly() needs a degree, as poly(x, 2)", at: 5),
        Invalid("y ~ x %o% z", "%o% is not an operator of formulas (%in% is)", at: 7),
        Invalid("y ~ log(x, 2)", "log takes one argument here (no base or other options)", at: 10),
        Invalid("y ~ factor(x + 1)", "factor() takes one column name, as factor(code)", at: 5),
        Invalid("y ~ I()", "I() needs an argument", at: 5),
        Invalid("y ~ I(x +)", "expected a value", at: 10),
        Invalid("y ~ I(x y)", "missing operator before 'y'", at: 9),
        Invalid("y ~ I(x:z)", "':' cannot be part of an expression in I(); an expression takes + - * / ^ and "
                + "parentheses", at: 8),
        Invalid("y ~ I(*x)", "expected a column, a number or '(' in an expression, not '*'", at: 7),
        Invalid("y ~ log(y)", "the response 'y' also appears on the right-hand side", at: 9),
        Invalid("y ~ I(2 * factor(g))", "factor() cannot be part of an expression", at: 11),
        Invalid("y ~ x + y", "the response 'y' also appears on the right-hand side", at: 9),
        Invalid("cbind(s, f) ~ x + f", "the response 'f' also appears on the right-hand side", at: 19),
        // Random terms.
        Invalid("y ~ (1|)", "missing grouping factor after '|'", at: 7),
        Invalid("y ~ (1 | )", "missing grouping factor after '|'", at: 8),
        Invalid("y ~ (|g)", "missing the effects before '|'; random intercepts are written (1 | g), "
                + "random slopes (1 + x | g)", at: 6),
        Invalid("y ~ (||g)", "missing the effects before '||'; random intercepts are written (1 | g), "
                + "random slopes (1 + x | g)", at: 6),
        Invalid("y ~ (1 | g/)", "expected a grouping factor after '/'", at: 11),
        Invalid("y ~ (1 | g:)", "expected a grouping factor after ':'", at: 11),
        Invalid("y ~ (1 | 2)", "expected a grouping factor, not '2'", at: 10),
        Invalid("y ~ (1 | a + b)",
                "unexpected '+' in a grouping factor; combine factors with ':' or '/'", at: 12),
        Invalid("y ~ (1 | a b)",
                "unexpected 'b' in a grouping factor; combine factors with ':' or '/'", at: 12),
        Invalid("y ~ (1 | factor(g))", "a grouping factor is a column, not a function of columns (factor(g)); add "
                + "the column to the data (any values make a factor: numbers, dates, words)", at: 10),
        Invalid("y ~ (1 | y)", "the response 'y' also appears on the right-hand side", at: 10),
        Invalid("y ~ x || g", "random terms must be in parentheses, e.g. (1 | g)", at: 7),
        Invalid("y ~ x + 1 | g", "random terms must be in parentheses, e.g. (1 | g)", at: 11),
        Invalid("y ~ (0 | g)", "(0 | g) has no random effects; use random intercepts (1 | g)", at: 5),
        Invalid("y ~ (x - 1 - x | g)", "(x - 1 - x | g) has no random effects; use random intercepts (1 | g)", at: 5),
        Invalid("y ~ (1 + y | g)", "the response 'y' also appears on the right-hand side", at: 10),
        Invalid("y ~ (1 + (1 | h) | g)", "random terms cannot be nested inside other random terms", at: 10),
        Invalid("y ~ ((1 | h) | g)", "random terms cannot be nested inside other random terms", at: 6),
        Invalid("y ~ (1 | g/(1 | h))", "random terms cannot be nested inside other random terms", at: 12),
        Invalid("y ~ (1 | g) : x", "random terms can only be added with '+'", at: 13),
        Invalid("y ~ x * (1 | g)", "random terms can only be added with '+'", at: 7),
        Invalid("y ~ x - (1 | g)", "random terms cannot be removed with '-'", at: 7),
    ]

    @Test(arguments: invalid)
    func rejectsWithMessageAndColumn(_ example: Invalid) {
        #expect(throws: FormulaError(message: example.message, column: example.column,
                                     formula: example.formula)) {
            try ModelFormula.parse(example.formula)
        }
    }

    /// Every error's column points into the formula (or just past its end).
    @Test(arguments: invalid)
    func errorColumnsAreInRange(_ example: Invalid) {
        #expect(example.column >= 1 && example.column <= example.formula.count + 1)
    }

    // MARK: - Inputs from fuzzing (Fuzz/Targets/FuzzFormula)

    /// 2,000 nested parentheses overflowed the stack (the parser recurses
    /// once per level); more than 100 levels are now refused at the 101st.
    @Test func refusesParenthesesNestedTooDeep() {
        let deep = "y ~ " + String(repeating: "(", count: 2000) + "x" + String(repeating: ")", count: 2000)
        #expect(throws: FormulaError(message: "parentheses nested more than 100 deep", column: 105, formula: deep)) {
            try ModelFormula.parse(deep)
        }
        let fine = "y ~ " + String(repeating: "(", count: 100) + "x" + String(repeating: ")", count: 100)
        #expect(throws: Never.self) { try ModelFormula.parse(fine) }
    }

    /// A long run of signs is read in a loop, not by recursion, with the
    /// meaning a short run has: each '-' removes what follows it from nothing.
    @Test func longRunsOfSignsParse() throws {
        let long = try ModelFormula.parse("y ~ " + String(repeating: "- + -", count: 10_000) + " x + z")
        let short = try ModelFormula.parse("y ~ - - x + z")
        #expect(short.fixedTerms.map(\.columns) == [["z"]])
        #expect(long.fixedTerms == short.fixedTerms && long.hasIntercept == short.hasIntercept)
    }

    /// Each column crossed with '*' doubles the terms: 14 columns took 33 s
    /// to expand to 16,383 terms. More than 1,000 fixed terms are refused at
    /// the operator that makes them.
    @Test func refusesFormulasThatExpandToTooManyTerms() throws {
        let columns = (1...14).map { "x\($0)" }
        let crossed = "y ~ " + columns.joined(separator: "*")
        // x1*…*x10 has 1,023 terms: refused at the '*' before x10, column 4 + 9 × 3.
        #expect(throws: FormulaError(message: "the formula expands to more than 1000 fixed-effect terms",
                                     column: 31, formula: crossed)) {
            try ModelFormula.parse(crossed)
        }
        let nine = try ModelFormula.parse("y ~ " + columns.prefix(9).joined(separator: "*"))
        #expect(nine.fixedTerms.count == 511)
    }

    /// `(1 | g1/g2/…/g1000)` took minutes (each of its terms compared with
    /// every other as a set); more than 100 random terms are refused.
    @Test func refusesFormulasWithTooManyRandomTerms() throws {
        let chain = "y ~ (1|" + (0..<1000).map { "a\($0)" }.joined(separator: "/") + ")"
        let problem = #expect(throws: FormulaError.self) { try ModelFormula.parse(chain) }
        #expect(problem?.message == "the formula has more than 100 random terms")
        let sum = "y ~ " + (0..<101).map { "(1|g\($0))" }.joined(separator: " + ")
        #expect(throws: FormulaError.self) { try ModelFormula.parse(sum) }
        let hundred = try ModelFormula.parse("y ~ (1|" + (0..<100).map { "a\($0)" }.joined(separator: "/") + ")")
        #expect(hundred.randomTerms.count == 100)
    }
}

/// Random terms as lme4 reads them: every formula of
/// `Fixtures/formula/random_terms.json` (Validation/design/random_terms.R:
/// `findbars(expandDoubleVerts(formula))` and the term labels of each
/// term's `~ effects`) gives the same terms here — the same grouping
/// factors, intercept and slopes in R's order, up to the order of the terms
/// (lme4 writes `a/b` as `b:a` before `a`) — and, where every column is
/// numeric, glFormula's number of covariance parameters, Σ q(q + 1)/2.
@Suite struct RandomTermsAgreeWithLME4 {
    struct Fixture: Decodable {
        struct Term: Decodable {
            var grouping: String
            var intercept: Bool
            var slopes: [String]
        }
        struct Matrix: Decodable {
            var grouping: String
            var columns: [String]
            /// Row-major, rows × columns.
            var values: [Double]
        }
        struct Case: Decodable {
            var formula: String
            var terms: [Term]
            var matrices: [Matrix]
            var theta: Int
        }
        var cases: [Case]
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("formula")

    static func cases() throws -> [Fixture.Case] {
        let url = directory.appendingPathComponent("random_terms.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases
    }

    /// Each random term's columns (lme4's `cnms`, categorical columns by
    /// their contrasts) and their values at every row (through the row's
    /// cell) equal lme4's model matrix of the term's `~ effects`, exactly;
    /// terms matched by grouping factors and columns.
    @Test func designColumnsAndValuesMatchLME4() throws {
        let frame = try Frame.read(csvFile: RandomTermsAgreeWithLME4.directory
            .appendingPathComponent("random_terms.csv").path)
        var compared = 0, slopeValues = 0
        for example in try RandomTermsAgreeWithLME4.cases() {
            let design = try Design(formula: try ModelFormula.parse(example.formula), frame: frame,
                                    options: DesignOptions(), admittingSlopes: true)
            #expect(design.usedRows.count == frame.rowCount)
            var unmatched = example.matrices
            for term in design.randomTerms {
                let grouping = Set(term.factors)
                guard let index = unmatched.firstIndex(where: {
                    Set($0.grouping.split(separator: ":").map(String.init)) == grouping && $0.columns == term.columns
                }) else {
                    Issue.record("\(example.formula): no lme4 term \(term.name) with columns \(term.columns)")
                    continue
                }
                let reference = unmatched.remove(at: index), q = term.columns.count
                #expect(term.values.isEmpty == (term.columns == ["(Intercept)"]))
                var mismatches = 0
                for row in 0..<frame.rowCount {
                    let cell = Int(design.cellOfRow[row])
                    for j in 0..<q {
                        let ours = term.values.isEmpty ? 1 : term.values[cell * q + j]
                        if ours != reference.values[row * q + j] { mismatches += 1 }
                        compared += 1
                        if reference.columns[j] != "(Intercept)" { slopeValues += 1 }
                    }
                }
                #expect(mismatches == 0, "\(example.formula): \(term.name) \(term.columns)")
            }
            #expect(unmatched.isEmpty, "\(example.formula): lme4 terms left over")
        }
        #expect(compared == 4_480 && slopeValues == 2_720, "\(compared) values, \(slopeValues) of slopes")
    }

    @Test func everyFormulaGivesLME4sTerms() throws {
        let cases = try RandomTermsAgreeWithLME4.cases()
        #expect(cases.count >= 20)
        for example in cases {
            let parsed = try ModelFormula.parse(example.formula).randomTerms
            func key(factors: [String], intercept: Bool, slopes: [String]) -> String {
                "\(factors.sorted().joined(separator: ":")) \(intercept) [\(slopes.joined(separator: ", "))]"
            }
            let ours = parsed.map { key(factors: $0.factors, intercept: $0.hasIntercept, slopes: $0.slopes.map(\.name)) }
            let theirs = example.terms.map {
                key(factors: $0.grouping.split(separator: ":").map(String.init), intercept: $0.intercept,
                    slopes: $0.slopes)
            }
            #expect(ours.sorted() == theirs.sorted(), "\(example.formula)")
            // Every column numeric (no f): q = intercept + one column per slope term.
            if !example.formula.contains("f") {
                let theta = parsed.reduce(0) { sum, term in
                    let q = (term.hasIntercept ? 1 : 0) + term.slopes.count
                    return sum + q * (q + 1) / 2
                }
                #expect(theta == example.theta, "\(example.formula)")
            }
        }
    }
}
