// Parsing of lme4-style model formulas into `ModelFormula`: a tokenizer and a
// recursive-descent parser following R's formula semantics (`terms.formula`)
// and lme4's random-effect syntax.

extension ModelFormula {
    /// Parses an lme4-style formula for the binomial family, e.g.
    /// `y ~ x + (1 | client) + (1 | stylist) + (1 | client:stylist)`.
    ///
    /// The grammar, with R's semantics:
    ///
    /// - `response ~ right-hand side`, with exactly one `~`.
    /// - The response is a column name `y`, or `cbind(successes, failures)`
    ///   with two column names.
    /// - Names are R syntactic names (letters, digits, `.` and `_`, not
    ///   starting with a digit, `_` or `.` followed by a digit) or backquoted
    ///   names such as `` `my column` `` (with `` \` `` for a backquote inside).
    /// - Right-hand-side terms are joined with `+`. A term is a column `x`,
    ///   an interaction `a:b` (of any number of columns), a crossing `a*b`
    ///   (`a + b + a:b`; `a*b*c` gives all main effects and interactions), a
    ///   nesting `a/b` (`a + a:b`), or a parenthesised group of terms, which
    ///   distributes: `(a + b):c` is `a:c + b:c`.
    /// - `1` keeps the intercept, `0` or `- 1` removes it; the last of them
    ///   wins, as in R. `- term` removes an earlier fixed term.
    /// - Random intercepts are `(1 | g)`, `(1 | g1:g2)` (one level per
    ///   combination), and `(1 | g1/g2)`, which expands to
    ///   `(1 | g1) + (1 | g1:g2)` (and `g1/g2/g3` to `g1`, `g1:g2`,
    ///   `g1:g2:g3`). Random terms are joined to the rest with `+` only.
    /// - Random slopes as lme4 writes them: `(1 + x | g)` and `(x | g)`
    ///   (correlated with the intercept), `(0 + x | g)` and `(x - 1 | g)`
    ///   (no intercept), several terms `(1 + x + z | g)`, crossings and
    ///   interactions `(x*z | g)`, any grouping above (`(1 + x | a/b)` is
    ///   `(1 + x | a) + (1 + x | a:b)`); `||` splits the effects into
    ///   independent blocks, `(1 + x || g)` being `(1 | g) + (0 + x | g)`.
    ///   Which columns are categorical (and so stand for their contrasts) is
    ///   decided by the data.
    /// - Whitespace (including newlines) may appear between any tokens.
    ///
    /// The result is canonical: fixed terms ordered as R orders them (main
    /// effects, then two-way interactions, then three-way, each group in
    /// order of first appearance; the columns inside an interaction in
    /// order of first appearance in the formula), random terms in order of
    /// appearance, each term once (interactions compare as sets, so `b:a`
    /// repeats `a:b`; several terms on one grouping factor, such as
    /// `(1 | g) + (0 + x | g)`, stay separate, as in lme4).
    ///
    /// Rejected, with a message and the 1-based column of the offending
    /// character: random terms without effects, `(0 | g)`; random terms
    /// nested in random terms or used
    /// in interactions; functions of columns such as `log(x)`; powers `^`;
    /// `.` for all other columns; the response on the right-hand side; a
    /// model with no terms at all (`y ~ 0`); and any syntax error.
    ///
    /// Only syntax is checked: whether the columns exist, and their types,
    /// is checked against the data when the design is built.
    public static func parse(_ text: String) throws(FormulaError) -> ModelFormula {
        var parser = try FormulaParser(text: text)
        return try parser.parseFormula()
    }
}

// MARK: - Tokens

/// One token of a formula, with its position in the original text.
struct FormulaToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case name(String)
        case number(String)
        case tilde, plus, minus, star, colon, slash, caret, equals
        /// `%in%`: `a %in% b` is `a:b` (R's formula algebra).
        case within
        case bar, doubleBar
        case openParenthesis, closeParenthesis, comma
        case end
    }

    var kind: Kind
    /// 1-based column of the token's first character.
    var column: Int
    /// Length in characters as written (for quoting the original text).
    var length: Int

    /// The token as it would be written in a canonical formula.
    var spelling: String {
        switch kind {
        case let .name(name): return FormulaToken.quoted(name)
        case let .number(text): return text
        case .tilde: return "~"
        case .plus: return "+"
        case .minus: return "-"
        case .star: return "*"
        case .colon: return ":"
        case .slash: return "/"
        case .caret: return "^"
        case .bar: return "|"
        case .doubleBar: return "||"
        case .openParenthesis: return "("
        case .closeParenthesis: return ")"
        case .comma: return ","
        case .equals: return "="
        case .within: return "%in%"
        case .end: return "end of formula"
        }
    }

    /// Whether the token is a binary operator of the right-hand side.
    var isOperator: Bool {
        switch kind {
        case .plus, .minus, .star, .colon, .slash, .within: return true
        default: return false
        }
    }

    /// `name` as written in R: bare when syntactic, else backquoted.
    static func quoted(_ name: String) -> String {
        FormulaTokenizer.isSyntacticName(name) ? name : FormulaTokenizer.backquoted(name)
    }
}

/// Splits formula text into tokens; rejects characters that cannot start a
/// token.
enum FormulaTokenizer {
    static func isDigit(_ character: Character) -> Bool {
        character.isASCII && character.isNumber
    }

    static func isNameCharacter(_ character: Character) -> Bool {
        character.isLetter || isDigit(character) || character == "." || character == "_"
    }

    /// R's syntactic names: letters, digits, `.` and `_`; starting with a
    /// letter, or with `.` not followed by a digit.
    static func isSyntacticName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "." else { return false }
        if first == ".", name.count > 1, isDigit(name[name.index(after: name.startIndex)]) {
            return false
        }
        return name.allSatisfy(isNameCharacter)
    }

    /// `name` in backquotes, with `` \` `` and `\\` escaped inside.
    static func backquoted(_ name: String) -> String {
        var escaped = ""
        for character in name {
            if character == "`" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "`\(escaped)`"
    }

    /// The name between the backquote at `start` and the next unescaped
    /// backquote (`\` escapes the character after it), and the index just
    /// past the closing backquote; nil when the backquote is not closed.
    /// Shared by the formula and prior tokenizers.
    static func backquotedName(_ characters: [Character], from start: Int) -> (name: String, end: Int)? {
        var name = ""
        var cursor = start + 1
        while cursor < characters.count {
            if characters[cursor] == "`" { return (name, cursor + 1) }
            if characters[cursor] == "\\", cursor + 1 < characters.count { cursor += 1 }
            name.append(characters[cursor])
            cursor += 1
        }
        return nil
    }

    /// The index just past the run of name characters that starts at `start`.
    static func nameEnd(_ characters: [Character], from start: Int) -> Int {
        var cursor = start
        while cursor < characters.count, isNameCharacter(characters[cursor]) { cursor += 1 }
        return cursor
    }

    static func tokens(of text: String) throws(FormulaError) -> [FormulaToken] {
        let characters = Array(text)
        var tokens: [FormulaToken] = []
        var index = 0

        func fail(_ message: String, at index: Int) -> FormulaError {
            FormulaError(message: message, column: index + 1, formula: text)
        }

        while index < characters.count {
            let character = characters[index]
            let start = index
            func add(_ kind: FormulaToken.Kind, length: Int = 1) {
                tokens.append(FormulaToken(kind: kind, column: start + 1, length: length))
                index = start + length
            }
            switch character {
            case _ where character.isWhitespace:
                index += 1
            case "~": add(.tilde)
            case "+": add(.plus)
            case "-": add(.minus)
            case "*": add(.star)
            case ":": add(.colon)
            case "/": add(.slash)
            case "(": add(.openParenthesis)
            case ")": add(.closeParenthesis)
            case ",": add(.comma)
            case "=": add(.equals)
            case "%":
                var cursor = index + 1
                while cursor < characters.count, characters[cursor] != "%" { cursor += 1 }
                guard cursor < characters.count else { throw fail("unclosed operator '%'", at: index) }
                let op = String(characters[index...cursor])
                guard op == "%in%" else {
                    throw fail("\(op) is not an operator of formulas (%in% is)", at: index)
                }
                add(.within, length: cursor - start + 1)
            case "|":
                if index + 1 < characters.count, characters[index + 1] == "|" {
                    add(.doubleBar, length: 2)
                } else {
                    add(.bar)
                }
            case "^": add(.caret)
            case "`":
                guard let (name, end) = backquotedName(characters, from: index) else {
                    throw fail("unclosed backquote", at: index)
                }
                guard !name.isEmpty else { throw fail("empty backquoted name", at: index) }
                add(.name(name), length: end - start)
            case _ where isDigit(character)
                || (character == "." && index + 1 < characters.count && isDigit(characters[index + 1])):
                var cursor = index
                while cursor < characters.count, isDigit(characters[cursor]) || characters[cursor] == "." {
                    cursor += 1
                }
                add(.number(String(characters[index..<cursor])), length: cursor - start)
            case _ where character.isLetter || character == ".":
                let cursor = nameEnd(characters, from: index)
                let name = String(characters[index..<cursor])
                add(.name(name), length: cursor - start)
            case "_":
                let name = String(characters[index..<nameEnd(characters, from: index)])
                throw fail("names cannot start with '_'; backquote the name: `\(name)`", at: index)
            default:
                throw fail("unexpected character '\(character)'", at: index)
            }
        }
        tokens.append(FormulaToken(kind: .end, column: characters.count + 1, length: 0))
        return tokens
    }
}

// MARK: - Parser

/// Terms produced by part of a right-hand side, combined with R's formula
/// algebra (`+` unites, `:` multiplies out, `-` removes).
struct FormulaTerms {
    /// Fixed terms, each a sorted list of variable numbers (order of first
    /// appearance), in order of appearance, without duplicates.
    private(set) var fixed: [[Int]] = []
    /// The terms of `fixed`, so that adding or removing one does not search
    /// them all: `a*b*c*…` doubles the terms with each column.
    private var fixedSet: Set<[Int]> = []
    /// Random terms in order of appearance, without duplicates.
    var random: [RandomTerm] = []
    /// Whether the last `1`, `0` or `- 1` in this part asks for an
    /// intercept; nil when it has none of them.
    var intercept: Bool?
    /// The variables of `offset(…)` terms, in order of appearance, without
    /// duplicates.
    var offsets: [String] = []

    init(fixed: [[Int]] = [], intercept: Bool? = nil) {
        for term in fixed { add(fixed: term) }
        self.intercept = intercept
    }

    mutating func add(fixed term: [Int]) {
        if fixedSet.insert(term).inserted { fixed.append(term) }
    }

    /// Removes the fixed terms of `other`.
    mutating func remove(fixedTermsOf other: FormulaTerms) {
        fixed.removeAll { other.fixedSet.contains($0) }
        fixedSet.subtract(other.fixedSet)
    }

    /// Adds a random term unless the same one is there: the same grouping
    /// factors (as a set), intercept and slopes (each as a set of columns).
    mutating func add(random term: RandomTerm) {
        func key(_ t: RandomTerm) -> (Set<String>, Bool, Set<Set<String>>) {
            (Set(t.factors), t.hasIntercept, Set(t.slopes.map { Set($0.columns) }))
        }
        let (factors, intercept, slopes) = key(term)
        if !random.contains(where: { key($0) == (factors, intercept, slopes) }) { random.append(term) }
    }

    static func + (left: FormulaTerms, right: FormulaTerms) -> FormulaTerms {
        var sum = left
        for term in right.fixed { sum.add(fixed: term) }
        for term in right.random { sum.add(random: term) }
        for offset in right.offsets where !sum.offsets.contains(offset) { sum.offsets.append(offset) }
        sum.intercept = right.intercept ?? left.intercept
        return sum
    }

    /// `left:right`: every term of `left` times every term of `right`; nil
    /// as soon as that makes more than `limit` terms.
    static func interaction(_ left: FormulaTerms, _ right: FormulaTerms, limit: Int) -> FormulaTerms? {
        var product = FormulaTerms()
        for a in left.fixed {
            for b in right.fixed {
                product.add(fixed: Array(Set(a + b)).sorted())
                if product.fixed.count > limit { return nil }
            }
        }
        return product
    }
}

/// Recursive-descent parser over the tokens of one formula.
///
///     formula     = response "~" sum
///     response    = name | "cbind" "(" name "," name ")"
///     sum         = signed { ("+" | "-") signed }
///     signed      = { "+" | "-" } product
///     product     = within { ("*" | "/") within }
///     within      = interaction { "%in%" interaction }
///     interaction = primary { ":" primary }
///     primary     = name | "0" | "1" | "(" sum ")" | random
///     random      = "(" sum ("|" | "||") grouping ")"  -- no random terms in the sum
///     grouping    = factors { "/" factors }
///     factors     = name { ":" name }
struct FormulaParser {
    let text: String
    let characters: [Character]
    let tokens: [FormulaToken]
    /// Index of the matching `)` for each `(`.
    let matchingClose: [Int: Int]
    var position = 0
    /// Index of the token that ends the part being parsed (a `)`, a `|` or
    /// the end token).
    var limit: Int
    var insideRandomTerm = false
    var responseNames: Set<String> = []
    /// Fixed-effect variables in order of first appearance.
    var variables: [String] = []
    /// The transformed variables (`log(x)`, `I(x^2)`, `factor(g)`) by name.
    var expressions: [String: FormulaExpression] = [:]
    /// The tokens that are `.` in the fixed part.
    var dots: [Int] = []
    var variableNumbers: [String: Int] = [:]

    /// The deepest nesting of parentheses accepted. The parser recurses once
    /// per level, so a deeper nesting could exhaust the stack (2,000 levels
    /// did, under AddressSanitizer); no model needs more than a few.
    static let maximumDepth = 100

    /// The most fixed terms a formula may expand to. Each column crossed
    /// with `*` doubles the terms (`a*b*…*n` has 2^14 - 1), and expanding
    /// them takes time and memory to match; no model this package fits has
    /// anywhere near as many coefficients.
    static let maximumFixedTerms = 1000

    /// The most random terms a formula may have. `(1 | g1/g2/…/gn)` has n
    /// terms of up to n factors each, and comparing them as sets costs n³;
    /// 1,000 levels of nesting took minutes.
    static let maximumRandomTerms = 100

    /// The most tokens one function call of a transformed variable may span.
    static let maximumExpressionTokens = 1000

    init(text: String) throws(FormulaError) {
        self.text = text
        self.characters = Array(text)
        self.tokens = try FormulaTokenizer.tokens(of: text)
        self.limit = tokens.count - 1
        var open: [Int] = []
        var matching: [Int: Int] = [:]
        for (index, token) in tokens.enumerated() {
            switch token.kind {
            case .openParenthesis:
                guard open.count < FormulaParser.maximumDepth else {
                    throw FormulaError(message: "parentheses nested more than \(FormulaParser.maximumDepth) deep",
                                       column: token.column, formula: text)
                }
                open.append(index)
            case .closeParenthesis:
                guard let opening = open.popLast() else {
                    throw FormulaError(message: "unmatched ')'", column: token.column, formula: text)
                }
                matching[opening] = index
            default:
                break
            }
        }
        if let unclosed = open.first {
            throw FormulaError(message: "unclosed parenthesis", column: tokens[unclosed].column, formula: text)
        }
        self.matchingClose = matching
    }

    // MARK: Helpers

    var current: FormulaToken { tokens[position] }
    var atLimit: Bool { position >= limit }

    func error(_ message: String, at token: FormulaToken) -> FormulaError {
        FormulaError(message: message, column: token.column, formula: text)
    }

    /// The original text from token `first` through token `last`.
    func originalText(from first: Int, through last: Int) -> String {
        let start = tokens[first].column - 1
        let end = tokens[last].column - 1 + tokens[last].length
        return String(characters[start..<end])
    }

    /// Tokens `range` written canonically, e.g. `1 + x` or `g1/g2`.
    func rendered(_ range: Range<Int>) -> String {
        var result = ""
        for token in tokens[range] {
            switch token.kind {
            case .plus, .minus, .star, .tilde, .bar, .doubleBar:
                result += " \(token.spelling) "
            case .comma:
                result += ", "
            default:
                result += token.spelling
            }
        }
        return result.split(separator: " ").joined(separator: " ")
    }

    /// An error for a token where the grammar has no place for it.
    func unexpected(_ token: FormulaToken) -> FormulaError {
        switch token.kind {
        case .tilde:
            return error("a formula has only one '~'", at: token)
        case .bar, .doubleBar:
            return error("random terms must be in parentheses, e.g. (1 | g)", at: token)
        case .name, .number, .openParenthesis:
            return error("missing operator before '\(token.spelling)'", at: token)
        case .caret:
            return error("unexpected '^': a power applies once, to a parenthesised sum of terms, as (a + b)^2 "
                         + "(a power of a column is I(x^2))", at: token)
        default:
            return error("unexpected '\(token.spelling)'", at: token)
        }
    }

    /// The index of the top-level `|` or `||` inside the parentheses opened
    /// at `open`, if any: such parentheses hold a random term.
    func barIndex(inParenthesesAt open: Int) -> Int? {
        guard let close = matchingClose[open] else { return nil }
        var index = open + 1
        while index < close {
            switch tokens[index].kind {
            case .bar, .doubleBar: return index
            case .openParenthesis: index = matchingClose[index]! + 1
            default: index += 1
            }
        }
        return nil
    }

    func functionError(nameAt index: Int) -> FormulaError {
        let close = matchingClose[index + 1]!
        let call = originalText(from: index, through: close)
        if case .name("cbind") = tokens[index].kind {
            return error("cbind(successes, failures) can only be the response", at: tokens[index])
        }
        guard case let .name(function) = tokens[index].kind else { return unexpected(tokens[index]) }
        if FormulaParser.trainedFunctions.contains(function) {
            return error("\(function)() makes a term of its own, and cannot be part of an expression (\(call))",
                         at: tokens[index])
        }
        return error("\(function) in \(call) is not a function a formula can use (those are "
                     + FormulaExpression.functions.sorted().joined(separator: ", ") + ", factor, scale, poly and ns); "
                     + "add a transformed column to the data", at: tokens[index])
    }

    /// A name followed by `(`, as in `log(x)`; not `x (1 | g)`, where the
    /// parentheses hold a random term and only the `+` is missing.
    func isFunctionCall(at index: Int) -> Bool {
        guard case .name = tokens[index].kind, index + 1 < tokens.count,
              tokens[index + 1].kind == .openParenthesis else { return false }
        return barIndex(inParenthesesAt: index + 1) == nil
    }

    /// A call of a supported function at `index` (its `(` at index + 1, its
    /// `)` at `close`): `factor(column)`, or log, log1p, exp, sqrt, abs or I
    /// of one arithmetic expression of columns and numbers with `+ - * / ^`
    /// and parentheses (R's precedence: `^` first, right to left, then
    /// unary minus, then `* /`, then `+ -`).
    func parseCall(at index: Int, close: Int) throws(FormulaError) -> FormulaExpression {
        guard case let .name(function) = tokens[index].kind else { throw unexpected(tokens[index]) }
        if function == "factor" {
            guard close == index + 3, case let .name(column) = tokens[index + 2].kind else {
                throw error("factor() takes one column name, as factor(code)", at: tokens[index])
            }
            try checkNotResponse(column, at: tokens[index + 2])
            return .factor(column)
        }
        guard FormulaExpression.functions.contains(function) else { throw functionError(nameAt: index) }
        if close == index + 2 { throw error("\(function)() needs an argument", at: tokens[index]) }
        // Evaluating and naming an expression recurse over it; no model
        // needs one of more than a few dozen tokens.
        guard close - index <= FormulaParser.maximumExpressionTokens else {
            throw error("the expression in \(function)() is longer than \(FormulaParser.maximumExpressionTokens) "
                        + "tokens; add the transformed column to the data", at: tokens[index])
        }
        var cursor = index + 2
        let argument = try parseArithmetic(&cursor, end: close)
        guard cursor == close else {
            if tokens[cursor].kind == .comma {
                throw error("\(function) takes one argument here (no base or other options)", at: tokens[cursor])
            }
            if tokens[cursor].kind == .colon || tokens[cursor].kind == .bar || tokens[cursor].kind == .doubleBar
                || tokens[cursor].kind == .tilde {
                throw error("'\(tokens[cursor].spelling)' cannot be part of an expression in \(function)(); "
                            + "an expression takes + - * / ^ and parentheses", at: tokens[cursor])
            }
            throw unexpected(tokens[cursor])
        }
        return .call(function, argument)
    }

    /// `a + b`, `a - b` (left to right).
    func parseArithmetic(_ cursor: inout Int, end: Int) throws(FormulaError) -> FormulaExpression {
        var left = try parseArithmeticProduct(&cursor, end: end)
        while cursor < end, tokens[cursor].kind == .plus || tokens[cursor].kind == .minus {
            let op: Character = tokens[cursor].kind == .plus ? "+" : "-"
            cursor += 1
            left = .binary(op, left, try parseArithmeticProduct(&cursor, end: end))
        }
        return left
    }

    /// `a * b`, `a / b` (left to right).
    func parseArithmeticProduct(_ cursor: inout Int, end: Int) throws(FormulaError) -> FormulaExpression {
        var left = try parseArithmeticUnary(&cursor, end: end)
        while cursor < end, tokens[cursor].kind == .star || tokens[cursor].kind == .slash {
            let op: Character = tokens[cursor].kind == .star ? "*" : "/"
            cursor += 1
            left = .binary(op, left, try parseArithmeticUnary(&cursor, end: end))
        }
        return left
    }

    /// `-a`, `+a`, then a power.
    func parseArithmeticUnary(_ cursor: inout Int, end: Int) throws(FormulaError) -> FormulaExpression {
        guard cursor < end else { throw error("expected a value", at: tokens[cursor]) }
        if tokens[cursor].kind == .minus {
            cursor += 1
            return .negate(try parseArithmeticUnary(&cursor, end: end))
        }
        if tokens[cursor].kind == .plus {
            cursor += 1
            return try parseArithmeticUnary(&cursor, end: end)
        }
        return try parseArithmeticPower(&cursor, end: end)
    }

    /// `a ^ b` (right to left; the exponent may carry a sign, as x^-1).
    func parseArithmeticPower(_ cursor: inout Int, end: Int) throws(FormulaError) -> FormulaExpression {
        let base = try parseArithmeticAtom(&cursor, end: end)
        guard cursor < end, tokens[cursor].kind == .caret else { return base }
        cursor += 1
        return .binary("^", base, try parseArithmeticUnary(&cursor, end: end))
    }

    /// A column, a number, a parenthesised expression or a nested call.
    func parseArithmeticAtom(_ cursor: inout Int, end: Int) throws(FormulaError) -> FormulaExpression {
        guard cursor < end else { throw error("expected a value", at: tokens[cursor]) }
        let token = tokens[cursor]
        switch token.kind {
        case let .name(name):
            if isFunctionCall(at: cursor) {
                let close = matchingClose[cursor + 1]!
                let inner = try parseCall(at: cursor, close: close)
                if inner.isFactor { throw error("factor() cannot be part of an expression", at: token) }
                cursor = close + 1
                return inner
            }
            if name == "." { throw error("'.' (all other columns) cannot be part of an expression", at: token) }
            try checkNotResponse(name, at: token)
            cursor += 1
            return .column(name)
        case let .number(text):
            guard let value = Double(text) else { throw error("'\(text)' is not a number", at: token) }
            cursor += 1
            let text = Levels.rName(value)
            return .number(text, Double(text) ?? value)
        case .openParenthesis:
            let close = matchingClose[cursor]!
            if close == cursor + 1 { throw error("empty parentheses", at: token) }
            var inner = cursor + 1
            let expression = try parseArithmetic(&inner, end: close)
            guard inner == close else { throw unexpected(tokens[inner]) }
            cursor = close + 1
            return .parenthesized(expression)
        default:
            throw error("expected a column, a number or '(' in an expression, not '\(token.spelling)'", at: token)
        }
    }

    func checkNotResponse(_ name: String, at token: FormulaToken) throws(FormulaError) {
        if responseNames.contains(name) {
            throw error("the response '\(name)' also appears on the right-hand side", at: token)
        }
    }

    mutating func variableNumber(_ name: String) -> Int {
        if let number = variableNumbers[name] { return number }
        variables.append(name)
        variableNumbers[name] = variables.count - 1
        return variables.count - 1
    }

    // MARK: Formula

    mutating func parseFormula() throws(FormulaError) -> ModelFormula {
        let response = try parseResponse()
        let tilde = current
        guard tilde.kind == .tilde else {
            switch tilde.kind {
            case .colon, .plus, .minus, .star, .slash, .bar, .doubleBar, .comma, .within:
                throw error("the response must be one column name or cbind(successes, failures)", at: tilde)
            default:
                throw error("expected '~' after the response", at: tilde)
            }
        }
        position += 1
        if current.kind == .end {
            throw error("missing right-hand side after '~'", at: tilde)
        }
        let firstTerm = current
        let terms = try parseSum()
        if current.kind != .end { throw unexpected(current) }

        let hasIntercept = terms.intercept ?? true
        if terms.fixed.isEmpty, terms.random.isEmpty, !hasIntercept {
            throw error("the model has no terms", at: firstTerm)
        }
        // R orders terms by degree (stably): main effects, then two-way
        // interactions, and so on.
        let ordered = terms.fixed.enumerated().sorted {
            ($0.element.count, $0.offset) < ($1.element.count, $1.offset)
        }
        let fixedTerms = ordered.map { FixedTerm(columns: $0.element.map { variables[$0] }) }
        var formula = ModelFormula(response: response, hasIntercept: hasIntercept, fixedTerms: fixedTerms,
                                   randomTerms: terms.random, text: text)
        formula.expressions = expressions
        formula.offsets = terms.offsets
        formula.dots = dots.map { tokens[$0].column }
        return formula
    }

    mutating func parseResponse() throws(FormulaError) -> ModelFormula.Response {
        let first = current
        switch first.kind {
        case .end:
            throw error("the formula is empty", at: first)
        case .tilde:
            throw error("missing response before '~'", at: first)
        case let .name(name):
            if isFunctionCall(at: position) {
                guard name == "cbind" else {
                    let call = originalText(from: position, through: matchingClose[position + 1]!)
                    throw error("the response is a column or cbind(successes, failures), not a function of "
                                + "columns (\(call)); add the transformed column to the data", at: tokens[position])
                }
                return try parseCbind()
            }
            position += 1
            responseNames = [name]
            _ = variableNumber(name)
            return .column(name)
        default:
            throw error("the response must be one column name or cbind(successes, failures)", at: first)
        }
    }

    /// `cbind(successes, failures)` with the cursor on `cbind`.
    mutating func parseCbind() throws(FormulaError) -> ModelFormula.Response {
        let cbind = current
        let open = position + 1
        let close = matchingClose[open]!
        var arguments: [Range<Int>] = []
        var start = open + 1
        var index = open + 1
        while index <= close {
            switch tokens[index].kind {
            case .openParenthesis:
                index = matchingClose[index]! + 1
            case .comma, .closeParenthesis:
                arguments.append(start..<index)
                start = index + 1
                index += 1
            default:
                index += 1
            }
        }
        if arguments.count == 1, arguments[0].isEmpty { arguments = [] }
        guard arguments.count == 2 else {
            throw error("cbind needs two columns, cbind(successes, failures), not \(arguments.count)", at: cbind)
        }
        var names: [String] = []
        for argument in arguments {
            guard !argument.isEmpty else {
                throw error("expected a column name in cbind", at: tokens[argument.lowerBound])
            }
            if argument.count == 1, case let .name(name) = tokens[argument.lowerBound].kind {
                names.append(name)
                continue
            }
            // An expression of columns, as cbind(s, n - s): a transformed
            // variable named as R deparses it.
            guard argument.count <= FormulaParser.maximumExpressionTokens else {
                throw error("the expression in cbind is longer than \(FormulaParser.maximumExpressionTokens) "
                            + "tokens; add the column to the data", at: tokens[argument.lowerBound])
            }
            var cursor = argument.lowerBound
            let expression = try parseArithmetic(&cursor, end: argument.upperBound)
            guard cursor == argument.upperBound else {
                throw error("cbind takes columns or arithmetic of columns (+ - * / ^), as cbind(s, n - s); "
                            + "unexpected '\(tokens[cursor].spelling)'", at: tokens[cursor])
            }
            let variable = expression.text
            expressions[variable] = expression
            names.append(variable)
        }
        position = close + 1
        responseNames = Set(names)
        for name in names { _ = variableNumber(name) }
        return .successesAndFailures(successes: names[0], failures: names[1])
    }

    // MARK: Right-hand side

    mutating func parseSum() throws(FormulaError) -> FormulaTerms {
        var terms = try parseSigned()
        while !atLimit {
            let operation = current
            switch operation.kind {
            case .plus:
                position += 1
                terms = terms + (try parseSigned())
                try checkSize(terms, at: operation)
            case .minus:
                position += 1
                terms = try removing(try parseSigned(), from: terms, at: operation)
            default:
                return terms
            }
        }
        return terms
    }

    /// A product with any number of unary `+` and `-` signs before it. The
    /// signs are read in a loop, not by recursion, so that a long run of
    /// them cannot exhaust the stack; each `-` applies to what follows it,
    /// the innermost first.
    mutating func parseSigned() throws(FormulaError) -> FormulaTerms {
        var minuses: [FormulaToken] = []
        while !atLimit, current.kind == .plus || current.kind == .minus {
            if current.kind == .minus { minuses.append(current) }
            position += 1
        }
        var terms = try parseProduct()
        for sign in minuses.reversed() {
            terms = try removing(terms, from: FormulaTerms(), at: sign)
        }
        return terms
    }

    /// `terms - removed`, as in R: removes fixed terms and flips `1` and `0`.
    func removing(_ removed: FormulaTerms, from terms: FormulaTerms,
                  at operation: FormulaToken) throws(FormulaError) -> FormulaTerms {
        guard removed.random.isEmpty else {
            throw error("random terms cannot be removed with '-'", at: operation)
        }
        guard removed.offsets.isEmpty else {
            throw error("an offset cannot be removed with '-'; leave offset(…) out of the formula", at: operation)
        }
        var result = terms
        result.remove(fixedTermsOf: removed)
        if let intercept = removed.intercept { result.intercept = !intercept }
        return result
    }

    mutating func parseProduct() throws(FormulaError) -> FormulaTerms {
        var terms = try parseWithin()
        // The left's variables, kept as terms are added (a chain a/b/c/…
        // would otherwise gather them again at each step).
        var variables = Set(terms.fixed.joined())
        while !atLimit, current.kind == .star || current.kind == .slash {
            let operation = current
            position += 1
            let right = try parseWithin()
            try checkFixedOnly(terms, right, at: operation)
            // a*b = a + b + a:b; a/b = a + a:b, where a is all of the left's variables.
            let left = operation.kind == .star ? terms : FormulaTerms(fixed: [variables.sorted()])
            variables.formUnion(right.fixed.joined())
            let product = try interaction(left, right, at: operation)
            terms = operation.kind == .star ? terms + right + product : terms + product
            try checkSize(terms, at: operation)
        }
        return terms
    }

    /// `a %in% b`: as `a:b` (R binds `%in%` looser than `:`, tighter than `*`).
    mutating func parseWithin() throws(FormulaError) -> FormulaTerms {
        try parseInteractions(joinedBy: .within) { parser throws(FormulaError) in try parser.parseInteraction() }
    }

    mutating func parseInteraction() throws(FormulaError) -> FormulaTerms {
        try parseInteractions(joinedBy: .colon) { parser throws(FormulaError) in try parser.parsePower() }
    }

    /// Operands joined by `operator` (`:` or `%in%`), multiplied out left to right.
    mutating func parseInteractions(joinedBy operator: FormulaToken.Kind,
                                    operand: (inout FormulaParser) throws(FormulaError) -> FormulaTerms)
        throws(FormulaError) -> FormulaTerms {
        var terms = try operand(&self)
        while !atLimit, current.kind == `operator` {
            let operation = current
            position += 1
            let right = try operand(&self)
            try checkFixedOnly(terms, right, at: operation)
            terms = try interaction(terms, right, at: operation)
        }
        return terms
    }

    /// `left:right`, refused when it has too many terms (`maximumFixedTerms`).
    func interaction(_ left: FormulaTerms, _ right: FormulaTerms,
                     at operation: FormulaToken) throws(FormulaError) -> FormulaTerms {
        guard let product = FormulaTerms.interaction(left, right, limit: FormulaParser.maximumFixedTerms) else {
            throw tooManyTerms(at: operation)
        }
        return product
    }

    /// Refuses `terms` when they are more than `maximumFixedTerms` fixed or
    /// `maximumRandomTerms` random terms.
    func checkSize(_ terms: FormulaTerms, at operation: FormulaToken) throws(FormulaError) {
        if terms.fixed.count > FormulaParser.maximumFixedTerms { throw tooManyTerms(at: operation) }
        if terms.random.count > FormulaParser.maximumRandomTerms { throw tooManyRandomTerms(at: operation) }
    }

    func tooManyRandomTerms(at token: FormulaToken) -> FormulaError {
        error("the formula has more than \(FormulaParser.maximumRandomTerms) random terms", at: token)
    }

    func tooManyTerms(at operation: FormulaToken) -> FormulaError {
        error("the formula expands to more than \(FormulaParser.maximumFixedTerms) fixed-effect terms", at: operation)
    }

    /// Operands of `:`, `*` and `/` must be fixed terms only.
    func checkFixedOnly(_ left: FormulaTerms, _ right: FormulaTerms,
                        at operation: FormulaToken) throws(FormulaError) {
        if !left.random.isEmpty || !right.random.isEmpty {
            throw error("random terms can only be added with '+'", at: operation)
        }
        if left.intercept != nil || right.intercept != nil {
            throw error("the intercept (1 or 0) cannot be part of an interaction", at: operation)
        }
        if !left.offsets.isEmpty || !right.offsets.isEmpty {
            throw error("an offset cannot be part of an interaction; add it with '+'", at: operation)
        }
    }

    /// `(a + b + c)^n`: every interaction of up to n of the terms (R's
    /// formula power: `(a + b)^2` is `a + b + a:b`). A single column raised
    /// to a power is refused: in R's formula algebra `x^2` is x itself,
    /// which is never what is meant; the square is I(x^2).
    mutating func parsePower() throws(FormulaError) -> FormulaTerms {
        let first = current, start = position
        let base = try parsePrimary()
        let baseText = originalText(from: start, through: position - 1)
        guard !atLimit, current.kind == .caret else { return base }
        let caret = current
        position += 1
        guard !atLimit, case let .number(text) = current.kind, let n = Int(text), n >= 1 else {
            throw error("a power of terms takes a whole number of at least 1, as (a + b + c)^2",
                        at: atLimit ? caret : current)
        }
        position += 1
        if !base.random.isEmpty { throw error("random terms cannot be raised to a power", at: caret) }
        if base.intercept != nil { throw error("the intercept (1 or 0) cannot be raised to a power", at: caret) }
        // `.^2` is the power of the sum `.` stands for (expanded with the data).
        if first.kind != .openParenthesis && first.kind != .name(".") {
            throw error("\(baseText)^\(n) in a formula is \(baseText) itself (R's formula algebra); for the power "
                        + "write I(\(baseText)^\(n))", at: caret)
        }
        // A product of more than `base.fixed.count` of the terms repeats one
        // of them (a:a is a), so higher powers add nothing: (a + b)^9 is
        // (a + b)^2. Stopping there keeps a power like ^99999999 instant.
        var result = base
        for _ in 1..<min(n, max(base.fixed.count, 1)) {
            result = result + (try interaction(result, base, at: caret))
            try checkSize(result, at: caret)
        }
        return result
    }

    mutating func parsePrimary() throws(FormulaError) -> FormulaTerms {
        guard !atLimit else {
            let previous = tokens[position - 1]
            throw error("expected a term after '\(previous.spelling)'", at: previous)
        }
        let token = current
        switch token.kind {
        case let .name(name):
            if name == "offset", isFunctionCall(at: position) {
                return try parseOffset()
            }
            if FormulaParser.trainedFunctions.contains(name), isFunctionCall(at: position) {
                let close = matchingClose[position + 1]!
                let transform = try parseTrained(at: position, close: close)
                position = close + 1
                var terms = FormulaTerms()
                for j in 1...transform.columnCount {
                    let expression = FormulaExpression.trained(transform, column: j)
                    let variable = expression.text
                    if let earlier = expressions[variable], earlier != expression {
                        throw error("\(variable) names two different expressions", at: token)
                    }
                    expressions[variable] = expression
                    terms.add(fixed: [variableNumber(variable)])
                }
                return terms
            }
            if isFunctionCall(at: position) {
                let close = matchingClose[position + 1]!
                let expression = try parseCall(at: position, close: close)
                position = close + 1
                let variable = expression.text
                if let earlier = expressions[variable], earlier != expression {
                    throw error("\(variable) names two different expressions", at: token)
                }
                expressions[variable] = expression
                return FormulaTerms(fixed: [[variableNumber(variable)]])
            }
            if name == "." {
                // All other columns: expanded against the data (`ModelFormula.expandingDot`).
                if insideRandomTerm {
                    throw error("'.' (all other columns) stands for fixed effects only, not inside a random term",
                                at: token)
                }
                dots.append(position)
            }
            try checkNotResponse(name, at: token)
            position += 1
            return FormulaTerms(fixed: [[variableNumber(name)]])
        case let .number(number):
            position += 1
            switch Double(number) ?? -1 {
            case 1: return FormulaTerms(intercept: true)
            case 0: return FormulaTerms(intercept: false)
            default:
                throw error("unexpected number '\(number)'; only 1 (intercept) and 0 (no intercept) can be terms",
                            at: token)
            }
        case .openParenthesis:
            let open = position
            let close = matchingClose[open]!
            if let bar = barIndex(inParenthesesAt: open) {
                return try parseRandom(open: open, bar: bar, close: close)
            }
            if close == open + 1 { throw error("empty parentheses", at: token) }
            let outerLimit = limit
            limit = close
            position += 1
            let terms = try parseSum()
            if position != close { throw unexpected(current) }
            limit = outerLimit
            position = close + 1
            return terms
        case .star, .colon, .slash:
            throw error("expected a term before '\(token.spelling)'", at: token)
        default:
            throw unexpected(token)
        }
    }

    /// `offset(expression)` with the cursor on `offset`: a column, or an
    /// expression of columns as in `I()` (`offset(log(n))`, `offset(2 * t)`),
    /// added to the linear predictor with coefficient 1 (R's `offset()`).
    mutating func parseOffset() throws(FormulaError) -> FormulaTerms {
        let token = current
        if insideRandomTerm {
            throw error("offset() belongs to the fixed part of the formula, not inside a random term", at: token)
        }
        let close = matchingClose[position + 1]!
        if close == position + 2 { throw error("offset() needs an argument, as offset(log(n))", at: token) }
        guard close - position <= FormulaParser.maximumExpressionTokens else {
            throw error("the expression in offset() is longer than \(FormulaParser.maximumExpressionTokens) "
                        + "tokens; add the column to the data", at: token)
        }
        var cursor = position + 2
        let expression = try parseArithmetic(&cursor, end: close)
        guard cursor == close else {
            if tokens[cursor].kind == .comma {
                throw error("offset takes one argument", at: tokens[cursor])
            }
            throw error("offset takes a column or arithmetic of columns (+ - * / ^ and functions), as "
                        + "offset(log(n)); unexpected '\(tokens[cursor].spelling)'", at: tokens[cursor])
        }
        position = close + 1
        var terms = FormulaTerms()
        if case let .column(name) = expression {
            terms.offsets = [name]
        } else {
            let variable = expression.text
            if let earlier = expressions[variable], earlier != expression {
                throw error("\(variable) names two different expressions", at: token)
            }
            expressions[variable] = expression
            terms.offsets = [variable]
        }
        return terms
    }

    /// The functions whose constants come from the data (`TrainedTransform`).
    static let trainedFunctions: Set<String> = ["scale", "poly", "ns"]

    /// `scale(x)`, `poly(x, k)`, `poly(x, k, raw = TRUE)`, `ns(x, df = k)`
    /// (or `ns(x, k)`) at `index` (`(` at index + 1, `)` at `close`); the
    /// first argument a column or an expression of columns as in `I()`.
    func parseTrained(at index: Int, close: Int) throws(FormulaError) -> TrainedTransform {
        guard case let .name(function) = tokens[index].kind else { throw unexpected(tokens[index]) }
        guard close - index <= FormulaParser.maximumExpressionTokens else {
            throw error("the call \(function)() is longer than \(FormulaParser.maximumExpressionTokens) tokens; add "
                        + "the transformed column to the data", at: tokens[index])
        }
        // The arguments: token ranges between top-level commas.
        var arguments: [Range<Int>] = []
        var start = index + 2, cursor = index + 2
        while cursor < close {
            if tokens[cursor].kind == .openParenthesis { cursor = matchingClose[cursor]! + 1; continue }
            if tokens[cursor].kind == .comma { arguments.append(start..<cursor); start = cursor + 1 }
            cursor += 1
        }
        arguments.append(start..<close)
        if arguments[0].isEmpty { throw error("\(function)() needs a column, as \(function)(x)", at: tokens[index]) }
        var position = arguments[0].lowerBound
        let argument = try parseArithmetic(&position, end: arguments[0].upperBound)
        guard position == arguments[0].upperBound else { throw unexpected(tokens[position]) }
        if argument.isFactor { throw error("factor() cannot be part of an expression", at: tokens[index]) }
        // The other arguments: `name = value` or a value, as "text" and value.
        var named: [(name: String?, value: String, at: FormulaToken)] = []
        for range in arguments.dropFirst() {
            guard !range.isEmpty else { throw error("an empty argument of \(function)()", at: tokens[range.lowerBound]) }
            if range.count == 3, case let .name(name) = tokens[range.lowerBound].kind,
               tokens[range.lowerBound + 1].kind == .equals {
                let value = tokens[range.lowerBound + 2]
                named.append((name, value.spelling, value))
            } else if range.count == 1 {
                named.append((nil, tokens[range.lowerBound].spelling, tokens[range.lowerBound]))
            } else {
                throw error("\(function)() takes a column, then whole numbers or TRUE/FALSE (as poly(x, 2, raw = TRUE))",
                            at: tokens[range.lowerBound])
            }
        }
        func whole(_ entry: (name: String?, value: String, at: FormulaToken), _ what: String) throws(FormulaError) -> Int {
            guard case .number = entry.at.kind, let k = Int(entry.value), k >= 1 else {
                throw error("\(what) of \(function)() is a whole number of at least 1, not '\(entry.value)'", at: entry.at)
            }
            return k
        }
        let rendered = named.map { ($0.name.map { "\($0) = " } ?? "") + $0.value }
        let text = "\(function)(" + ([argument.text] + rendered).joined(separator: ", ") + ")"
        switch function {
        case "scale":
            guard named.isEmpty else {
                throw error("scale() takes the column alone here (R's centring and n − 1 scaling)", at: named[0].at)
            }
            return TrainedTransform(kind: .scale, argument: argument, text: text)
        case "poly":
            var degree: Int?, raw = false
            for (position, entry) in named.enumerated() {
                switch entry.name {
                case nil where position == 0, "degree"?: degree = try whole(entry, "the degree")
                case "raw"?:
                    guard ["TRUE", "FALSE", "T", "F"].contains(entry.value) else {
                        throw error("raw = takes TRUE or FALSE", at: entry.at)
                    }
                    raw = entry.value.hasPrefix("T")
                default:
                    throw error("poly() takes a column, the degree and raw = TRUE or FALSE here", at: entry.at)
                }
            }
            guard let degree else { throw error("poly() needs a degree, as poly(x, 2)", at: tokens[index]) }
            return TrainedTransform(kind: .polynomial(degree: degree, raw: raw), argument: argument, text: text)
        default:
            guard named.count == 1, named[0].name == nil || named[0].name == "df" else {
                throw error("ns() takes a column and its degrees of freedom here, as ns(x, df = 3)",
                            at: named.first?.at ?? tokens[index])
            }
            return TrainedTransform(kind: .naturalSpline(df: try whole(named[0], "df")), argument: argument, text: text)
        }
    }

    // MARK: Random terms

    /// `( effects | grouping )` or `( effects || grouping )`, as lme4 reads
    /// them (`findbars`, `expandDoubleVerts`). The effects are a formula of
    /// their own (lme4 builds their model matrix from `~ effects`): `1`
    /// implied unless `0` or `- 1` removes it, terms combined as in the fixed
    /// part, columns numbered apart from the fixed part's (so that they do not
    /// change the order of its interactions' columns). `||` makes each term
    /// its own block: `(1 + x + z || g)` is `(1 | g) + (0 + x | g) +
    /// (0 + z | g)`. A grouping `a/b` repeats every block for `a` and `a:b`.
    mutating func parseRandom(open: Int, bar: Int, close: Int) throws(FormulaError) -> FormulaTerms {
        if insideRandomTerm {
            throw error("random terms cannot be nested inside other random terms", at: tokens[open])
        }
        let grouping = rendered(bar + 1..<close)
        if bar == open + 1 {
            throw error("missing the effects before '\(tokens[bar].spelling)'; random intercepts are written (1 | g), "
                        + "random slopes (1 + x | g)", at: tokens[bar])
        }
        let outerLimit = limit
        insideRandomTerm = true
        defer { insideRandomTerm = false }

        let fixedVariables = (variables, variableNumbers)
        variables = []
        variableNumbers = [:]
        limit = bar
        position = open + 1
        let effects = try parseSum()
        if position != bar { throw unexpected(current) }
        let effectVariables = variables
        (variables, variableNumbers) = fixedVariables

        limit = close
        position = bar + 1
        let groups = try parseGrouping()
        limit = outerLimit
        position = close + 1

        let hasIntercept = effects.intercept ?? true
        // As R orders a formula's terms: by degree, then first appearance.
        let slopes = effects.fixed.enumerated()
            .sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }
            .map { FixedTerm(columns: $0.element.map { effectVariables[$0] }) }
        if !hasIntercept && slopes.isEmpty {
            throw error("(\(rendered(open + 1..<bar)) | \(grouping)) has no random effects; "
                        + "use random intercepts (1 | \(grouping))", at: tokens[open])
        }
        var blocks: [(intercept: Bool, slopes: [FixedTerm])] = [(hasIntercept, slopes)]
        if tokens[bar].kind == .doubleBar {
            blocks = (hasIntercept ? [(true, [])] : []) + slopes.map { (false, [$0]) }
        }
        var terms = FormulaTerms()
        for block in blocks {
            for group in groups {
                terms.add(random: RandomTerm(factors: group, hasIntercept: block.intercept, slopes: block.slopes))
            }
        }
        try checkSize(terms, at: tokens[bar])
        return terms
    }

    /// `g`, `g1:g2`, `g1/g2` (and longer chains) between `|` and `)`;
    /// returns the grouping factors of each random term, with `/` expanded.
    mutating func parseGrouping() throws(FormulaError) -> [[String]] {
        var expanded: [[String]] = []
        var factors: [String] = []
        while true {
            guard !atLimit else {
                let previous = tokens[position - 1]
                if previous.kind == .bar {
                    throw error("missing grouping factor after '|'", at: previous)
                }
                throw error("expected a grouping factor after '\(previous.spelling)'", at: previous)
            }
            let token = current
            guard case let .name(name) = token.kind else {
                if token.kind == .openParenthesis, barIndex(inParenthesesAt: position) != nil {
                    throw error("random terms cannot be nested inside other random terms", at: token)
                }
                throw error("expected a grouping factor, not '\(token.spelling)'", at: token)
            }
            if isFunctionCall(at: position) {
                let call = originalText(from: position, through: matchingClose[position + 1]!)
                throw error("a grouping factor is a column, not a function of columns (\(call)); add the "
                            + "column to the data (any values make a factor: numbers, dates, words)", at: token)
            }
            try checkNotResponse(name, at: token)
            position += 1
            if !factors.contains(name) { factors.append(name) }
            if atLimit {
                expanded.append(factors)
                return expanded
            }
            switch current.kind {
            case .colon:
                position += 1
            case .slash:
                expanded.append(factors)
                // At least one more term follows the '/'.
                if expanded.count >= FormulaParser.maximumRandomTerms { throw tooManyRandomTerms(at: current) }
                position += 1
            default:
                throw error("unexpected '\(current.spelling)' in a grouping factor; combine factors with ':' or '/'",
                            at: current)
            }
        }
    }
}
