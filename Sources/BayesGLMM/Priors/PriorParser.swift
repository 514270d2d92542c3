// The tokenizer and parser behind `PriorSpecification.parse`.

// MARK: - Tokens

/// One token of a prior specification, with its position in the text.
struct PriorToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// A name; `quoted` when it was backquoted (so `` `Inf` `` is a name,
        /// not a number).
        case name(String, quoted: Bool)
        case number(Double, text: String)
        case tilde, plus, minus, colon, comma
        case openParenthesis, closeParenthesis
        case end
    }

    var kind: Kind
    /// 1-based column of the token's first character.
    var column: Int

    /// The token as written, for messages.
    var spelling: String {
        switch kind {
        case let .name(name, quoted): return quoted ? PriorToken.backquoted(name) : name
        case let .number(_, text): return text
        case .tilde: return "~"
        case .plus: return "+"
        case .minus: return "-"
        case .colon: return ":"
        case .comma: return ","
        case .openParenthesis: return "("
        case .closeParenthesis: return ")"
        case .end: return "end of text"
        }
    }

    /// The bare name, when the token is one that was not backquoted.
    var bareName: String? {
        if case let .name(name, false) = kind { return name }
        return nil
    }

    // R names are recognised and written as the formula parser does.
    static func isDigit(_ character: Character) -> Bool { FormulaTokenizer.isDigit(character) }
    static func isNameCharacter(_ character: Character) -> Bool { FormulaTokenizer.isNameCharacter(character) }
    static func quoted(_ name: String) -> String { FormulaToken.quoted(name) }
    static func backquoted(_ name: String) -> String { FormulaTokenizer.backquoted(name) }

    /// Splits `text` into tokens; rejects characters that cannot start a
    /// token, unclosed backquotes and malformed numbers.
    static func tokens(of text: String) throws(PriorError) -> [PriorToken] {
        let characters = Array(text)
        var tokens: [PriorToken] = []
        var index = 0

        func fail(_ message: String, at index: Int) -> PriorError {
            PriorError(message: message, column: index + 1, text: text)
        }

        while index < characters.count {
            let character = characters[index]
            let start = index
            func add(_ kind: Kind, length: Int = 1) {
                tokens.append(PriorToken(kind: kind, column: start + 1))
                index = start + length
            }
            switch character {
            case _ where character.isWhitespace:
                index += 1
            case "~": add(.tilde)
            case "+": add(.plus)
            case "-": add(.minus)
            case ":": add(.colon)
            case ",": add(.comma)
            case "(": add(.openParenthesis)
            case ")": add(.closeParenthesis)
            case "`":
                guard let (name, end) = FormulaTokenizer.backquotedName(characters, from: index) else {
                    throw fail("unclosed backquote", at: index)
                }
                guard !name.isEmpty else { throw fail("empty backquoted name", at: index) }
                add(.name(name, quoted: true), length: end - start)
            case _ where isDigit(character)
                || (character == "." && index + 1 < characters.count && isDigit(characters[index + 1])):
                // R's decimal numbers: digits with at most one '.', then an
                // optional exponent.
                var cursor = index
                while cursor < characters.count, isDigit(characters[cursor]) || characters[cursor] == "." {
                    cursor += 1
                }
                if cursor < characters.count, characters[cursor] == "e" || characters[cursor] == "E" {
                    cursor += 1
                    if cursor < characters.count, characters[cursor] == "+" || characters[cursor] == "-" {
                        cursor += 1
                    }
                    while cursor < characters.count, isDigit(characters[cursor]) { cursor += 1 }
                }
                // Letters run on ("1L", "2x", "0x1F") make the number malformed.
                let numberEnd = cursor
                cursor = FormulaTokenizer.nameEnd(characters, from: cursor)
                let written = String(characters[index..<cursor])
                guard cursor == numberEnd, let value = Double(written) else {
                    throw fail("malformed number '\(written)'", at: index)
                }
                add(.number(value, text: written), length: cursor - start)
            case _ where character.isLetter || character == "." || character == "_":
                let cursor = FormulaTokenizer.nameEnd(characters, from: index)
                add(.name(String(characters[index..<cursor]), quoted: false), length: cursor - start)
            default:
                throw fail("unexpected character '\(character)'", at: index)
            }
        }
        tokens.append(PriorToken(kind: .end, column: characters.count + 1))
        return tokens
    }
}

// MARK: - Distributions

/// A distribution a specification can name, with its arguments.
struct PriorFamily: Sendable {
    /// What an argument must be.
    enum Constraint: Sendable {
        case any, positive, nonNegative, zero
    }

    var name: String
    var arguments: [(name: String, constraint: Constraint)]
    /// Whether it is a prior on a standard deviation (else on a coefficient
    /// or, with `isCovariance`, on a covariance).
    var isScale: Bool
    var isCovariance = false
    var isCorrelation = false
    /// The prior from arguments that satisfy the constraints.
    var make: @Sendable ([Double]) -> PriorSpecification.Distribution
    /// A check across arguments that each satisfy their constraint: the
    /// index of the argument to point at and the message, or nil when they fit.
    var check: @Sendable ([Double]) -> (argument: Int, message: String)? = { _ in nil }

    static let all: [PriorFamily] = [
        PriorFamily(name: "half_t",
                    arguments: [("degrees", .positive), ("location", .zero), ("scale", .positive)],
                    isScale: true) { .scale(.halfT(degrees: $0[0], scale: $0[2])) },
        PriorFamily(name: "half_cauchy", arguments: [("location", .zero), ("scale", .positive)],
                    isScale: true) { .scale(.halfCauchy(scale: $0[1])) },
        PriorFamily(name: "half_normal", arguments: [("location", .zero), ("scale", .positive)],
                    isScale: true) { .scale(.halfNormal(scale: $0[1])) },
        PriorFamily(name: "inv_gamma", arguments: [("shape", .positive), ("scale", .positive)],
                    isScale: true) { .scale(.inverseGamma(shape: $0[0], scale: $0[1])) },
        PriorFamily(name: "uniform", arguments: [("lower bound", .nonNegative), ("upper bound", .positive)],
                    isScale: true, make: { .scale(.uniform(lower: $0[0], upper: $0[1])) },
                    check: { $0[0] < $0[1] ? nil : (0, "lower bound must be below its upper bound") }),
        PriorFamily(name: "exponential", arguments: [("rate", .positive)],
                    isScale: true) { .scale(.exponential(rate: $0[0])) },
        PriorFamily(name: "lognormal", arguments: [("mu", .any), ("sigma", .positive)],
                    isScale: true) { .scale(.lognormal(mu: $0[0], sigma: $0[1])) },
        PriorFamily(name: "normal", arguments: [("mean", .any), ("sd", .positive)],
                    isScale: false) { .normal(NormalPrior(mean: $0[0], standardDeviation: $0[1])) },
        PriorFamily(name: "huang_wand", arguments: [("degrees", .positive), ("scale", .positive)],
                    isScale: false, isCovariance: true) {
            .covariance(CovariancePrior(degrees: $0[0], scale: $0[1]))
        },
        PriorFamily(name: "lkj", arguments: [("eta", .positive)], isScale: false, isCorrelation: true) { .lkj($0[0]) },
    ]

    /// "half_t, half_cauchy, half_normal, inv_gamma, uniform, exponential or lognormal".
    static func list(_ families: [PriorFamily], conjunction: String) -> String {
        let names = families.map(\.name)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " \(conjunction) " + names.last!
    }

    /// Known distributions from other tools, by the name to use here.
    static let alternatives: [String: String] = [
        "student_t": "half_t", "half_student_t": "half_t", "halft": "half_t",
        "cauchy": "half_cauchy", "halfcauchy": "half_cauchy",
        "halfnormal": "half_normal",
        "inverse_gamma": "inv_gamma", "invgamma": "inv_gamma", "inv_gamma_variance": "inv_gamma",
        "exp": "exponential", "unif": "uniform", "gaussian": "normal", "norm": "normal",
        "log_normal": "lognormal", "lnorm": "lognormal",
    ]
}

// MARK: - Parser

/// Recursive-descent parser over the tokens of one specification (grammar on
/// `PriorSpecification`).
struct PriorParser {
    let text: String
    let tokens: [PriorToken]
    var position = 0

    init(text: String) throws(PriorError) {
        self.text = text
        self.tokens = try PriorToken.tokens(of: text)
    }

    var current: PriorToken { tokens[position] }

    func error(_ message: String, at token: PriorToken) -> PriorError {
        PriorError(message: message, column: token.column, text: text)
    }

    static let example = "e.g. sd ~ half_t(3, 0, 2.5) or b(x) ~ normal(0, 1)"
    static let classes = "sd, sd(term), Intercept, b, b(column), cov(term) or cor(term)"

    mutating func parseSpecification() throws(PriorError) -> PriorSpecification {
        guard current.kind != .end else {
            throw error("empty prior specification; write a parameter, '~' and a distribution, \(PriorParser.example)",
                        at: current)
        }
        let (parameter, nameColumn) = try parseParameter()

        guard current.kind == .tilde else {
            if current.kind == .end {
                throw error("missing '~' and a distribution after '\(parameter.written)'; \(PriorParser.example)",
                            at: current)
            }
            throw error("expected '~' after '\(parameter.written)', not '\(current.spelling)'", at: current)
        }
        position += 1

        let distribution = try parseDistribution(for: parameter)
        guard current.kind == .end else {
            throw error("unexpected '\(current.spelling)' after the distribution", at: current)
        }
        return PriorSpecification(parameter: parameter, distribution: distribution, text: text,
                                  nameColumn: nameColumn)
    }

    /// `sd`, `sd(name)`, `Intercept`, `b` or `b(name)`; returns the column of
    /// the name (or of the class when there is none).
    mutating func parseParameter() throws(PriorError) -> (PriorSpecification.Parameter, Int) {
        let first = current
        guard let word = first.bareName else {
            if first.kind == .tilde {
                throw error("missing the parameter before '~' (\(PriorParser.classes))", at: first)
            }
            throw error("expected a parameter (\(PriorParser.classes)), not '\(first.spelling)'", at: first)
        }
        switch word {
        case "sd", "b", "cov", "cor":
            position += 1
            guard current.kind == .openParenthesis else {
                if word == "cov" {
                    throw error("cov takes a random term's name, as in cov(client) ~ huang_wand(2, 2.5)",
                                at: current)
                }
                if word == "cor" {
                    throw error("cor takes a random term's name, as in cor(client) ~ lkj(2)", at: current)
                }
                return (word == "sd" ? .standardDeviations : .coefficients, first.column)
            }
            let (name, column) = try parseName(in: word)
            if word == "sd" { return (.standardDeviation(name), column) }
            if word == "cov" { return (.covariance(name), column) }
            if word == "cor" { return (.correlation(name), column) }
            return (name == "(Intercept)" ? .intercept : .coefficient(name), column)
        case "Intercept":
            position += 1
            if current.kind == .openParenthesis {
                throw error("Intercept takes no name; write Intercept ~ normal(mean, sd)", at: current)
            }
            return (.intercept, first.column)
        default:
            var message = "unknown parameter class '\(word)'; use \(PriorParser.classes)"
            if let known = ["sd", "Intercept", "b", "cov", "cor"].first(where: { $0.lowercased() == word.lowercased() }) {
                message += " (did you mean \(known)?)"
            } else if PriorFamily.all.contains(where: { $0.name == word }) || PriorFamily.alternatives[word] != nil {
                message += " before '~' (\(PriorParser.example))"
            }
            throw error(message, at: first)
        }
    }

    /// `( word { ":" word } )` after `sd` or `b`, with the cursor on `(`.
    mutating func parseName(in parameterClass: String) throws(PriorError) -> (String, Int) {
        let open = current
        let what = parameterClass == "b" ? "a coefficient" : "a random term"
        position += 1
        if current.kind == .closeParenthesis {
            let general = parameterClass == "sd" ? "sd for every term"
                : parameterClass == "cov" ? "cov(term) for one term's covariance"
                : parameterClass == "cor" ? "cor(term) for one term's correlations" : "b for every coefficient"
            throw error("empty parentheses; write \(general), or name \(what) as in \(parameterClass)(name)",
                        at: current)
        }
        let column = current.column
        var parts: [String] = []
        while true {
            guard case let .name(part, _) = current.kind else {
                if current.kind == .end { throw error("unclosed parenthesis", at: open) }
                throw error("expected \(what) name in \(parameterClass)(...), not '\(current.spelling)'", at: current)
            }
            parts.append(part)
            position += 1
            switch current.kind {
            case .colon:
                position += 1
            case .closeParenthesis:
                position += 1
                return (parts.joined(separator: ":"), column)
            case .end:
                throw error("unclosed parenthesis", at: open)
            default:
                throw error("expected ':' or ')' after '\(parts.joined(separator: ":"))', not '\(current.spelling)'; "
                            + "backquote names with other characters", at: current)
            }
        }
    }

    /// `word ( number, ... )` after `~`, checked against the parameter.
    mutating func parseDistribution(for parameter: PriorSpecification.Parameter)
        throws(PriorError) -> PriorSpecification.Distribution {
        let nameToken = current
        guard let name = nameToken.bareName else {
            if nameToken.kind == .end {
                throw error("expected a distribution after '~', \(PriorParser.example)", at: nameToken)
            }
            throw error("expected a distribution after '~', not '\(nameToken.spelling)'", at: nameToken)
        }
        let scales = PriorFamily.all.filter(\.isScale)
        let normals = PriorFamily.all.filter { !$0.isScale && !$0.isCovariance && !$0.isCorrelation }
        let covariances = PriorFamily.all.filter(\.isCovariance)
        guard let family = PriorFamily.all.first(where: { $0.name == name }) else {
            var message = "unknown distribution '\(name)'; the known ones are "
                + PriorFamily.list(PriorFamily.all, conjunction: "and")
            if let known = PriorFamily.all.first(where: { $0.name == name.lowercased() }) {
                message += " (did you mean \(known.name)?)"
            } else if let alternative = PriorFamily.alternatives[name.lowercased()] {
                message += " (did you mean \(alternative)?)"
            }
            throw error(message, at: nameToken)
        }
        if parameter.isStandardDeviation && !family.isScale && !family.isCovariance && !family.isCorrelation {
            throw error("sd takes \(PriorFamily.list(scales, conjunction: "or"))"
                        + (family.name == "normal" ? " (for a half-normal on σ write half_normal(0, scale))" : ""),
                        at: nameToken)
        }
        if case .correlation = parameter {
            if !family.isCorrelation {
                throw error("cor takes lkj (LKJ's prior on a correlation matrix)", at: nameToken)
            }
        } else if family.isCorrelation {
            throw error("lkj is a prior on a correlation matrix: write cor(term) ~ lkj(eta)", at: nameToken)
        } else if case .covariance = parameter {
            if !family.isCovariance {
                throw error("cov takes \(PriorFamily.list(covariances, conjunction: "or")) (Huang & Wand's prior; "
                            + "a prior on one SD is written sd(term) ~ …)", at: nameToken)
            }
        } else if family.isCovariance {
            throw error("huang_wand is a prior on a covariance: write cov(term) ~ huang_wand(degrees, scale)",
                        at: nameToken)
        } else if !parameter.isStandardDeviation && family.isScale {
            let subject = parameter == .intercept ? "Intercept takes" : "coefficients take"
            throw error("\(subject) \(PriorFamily.list(normals, conjunction: "or"))", at: nameToken)
        }
        position += 1

        guard current.kind == .openParenthesis else {
            throw error("expected '(' after '\(name)'", at: current)
        }
        let open = current
        position += 1
        var arguments: [(value: Double, token: PriorToken)] = []
        if current.kind == .closeParenthesis {
            position += 1
        } else {
            while true {
                arguments.append(try parseArgument(open: open))
                switch current.kind {
                case .comma:
                    position += 1
                case .closeParenthesis:
                    position += 1
                case .end:
                    throw error("unclosed parenthesis", at: open)
                case .number, .name, .plus, .minus:
                    throw error("expected ',' between the arguments of \(name)", at: current)
                default:
                    throw error("expected ',' or ')' in the arguments of \(name), not '\(current.spelling)'",
                                at: current)
                }
                if tokens[position - 1].kind == .closeParenthesis { break }
            }
        }
        let close = tokens[position - 1]

        let expected = family.arguments.count
        if arguments.count != expected {
            let names = family.arguments.map(\.name).joined(separator: ", ")
            let count = expected == 1 ? "1 argument" : "\(expected) arguments"
            let message = "\(name) takes \(count) (\(names)), not \(arguments.count)"
            throw error(message, at: arguments.count > expected ? arguments[expected].token : close)
        }
        for (argument, specification) in zip(arguments, family.arguments) {
            let value = argument.value
            let what = "\(name)'s \(specification.name)"
            let written = PriorSpecification.written(number: value.isFinite ? value : 0)
            guard value.isFinite else {
                throw error("\(what) must be finite, not \(value.isNaN ? "NaN" : value > 0 ? "Inf" : "-Inf")",
                            at: argument.token)
            }
            switch specification.constraint {
            case .any:
                break
            case .positive:
                if !(value > 0) { throw error("\(what) must be positive, not \(written)", at: argument.token) }
            case .nonNegative:
                if value < 0 { throw error("\(what) must be at least 0, not \(written)", at: argument.token) }
            case .zero:
                if value != 0 {
                    throw error("\(what) must be 0, not \(written)", at: argument.token)
                }
            }
        }
        let values = arguments.map(\.value)
        if let (index, message) = family.check(values) {
            let written = values.map { PriorSpecification.written(number: $0) }.joined(separator: ", ")
            throw error("\(name)'s \(message), not \(name)(\(written))", at: arguments[index].token)
        }
        return family.make(values)
    }

    /// An optionally signed number, `Inf` or `NaN`; returns its value and its
    /// first token (the sign, if any).
    mutating func parseArgument(open: PriorToken) throws(PriorError) -> (value: Double, token: PriorToken) {
        let first = current
        var sign = 1.0
        if first.kind == .minus || first.kind == .plus {
            if first.kind == .minus { sign = -1 }
            position += 1
        }
        let token = current
        switch token.kind {
        case let .number(value, _):
            position += 1
            return (sign * value, first)
        case let .name(word, quoted: false) where word == "Inf" || word == "NaN":
            position += 1
            return (sign * (word == "Inf" ? Double.infinity : Double.nan), first)
        case .end:
            throw error("unclosed parenthesis", at: open)
        case .comma, .closeParenthesis:
            throw error("expected a number", at: token)
        default:
            throw error("arguments must be numbers, not '\(token.spelling)'", at: token)
        }
    }
}
