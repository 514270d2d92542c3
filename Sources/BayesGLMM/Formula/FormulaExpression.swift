import Foundation

/// A transformed variable in a formula, as R evaluates it in a model frame:
/// `log(x)`, `I(x^2)`, `sqrt(z)`, `I(2 * x + z^2 - 1)`, `log(abs(x - 2))`,
/// or `factor(code)` (a categorical copy of a column). The variable's name
/// is R's deparse of the call (`I(x * z)`, `I(x/2)`, `log(x + 1)`), which
/// is the name R's `model.matrix` gives its column.
///
/// The functions are elementwise and need nothing from the data beyond the
/// row itself, so a fit's variables are computed the same way on new rows
/// (scoring) without training constants.
public indirect enum FormulaExpression: Hashable, Sendable {
    case column(String)
    /// A number as written, and its value.
    case number(String, Double)
    case negate(FormulaExpression)
    /// `+ - * / ^`.
    case binary(Character, FormulaExpression, FormulaExpression)
    /// Parentheses as written (R keeps them in the deparse).
    case parenthesized(FormulaExpression)
    /// `log`, `log1p`, `exp`, `sqrt`, `abs` or `I`.
    case call(String, FormulaExpression)
    /// `factor(column)`: the column as a categorical variable.
    case factor(String)
    /// Column `column` (1-based) of a transformation with training
    /// constants (`scale(x)`, `poly(x, 2)`, `ns(x, df = 3)`): not
    /// elementwise, so computed over the whole data (`Frame.deriving`).
    case trained(TrainedTransform, column: Int)

    /// The elementwise functions a formula may call.
    public static let functions: Set<String> = ["log", "log1p", "exp", "sqrt", "abs", "I"]

    /// R's deparse: spaces around binary `+ - *`, none around `/ ^`, none
    /// after a unary minus.
    public var text: String {
        switch self {
        case let .column(name): FormulaToken.quoted(name)
        case let .number(text, _): text
        case let .negate(e): "-" + e.text
        case let .binary(op, l, r): op == "/" || op == "^" ? "\(l.text)\(op)\(r.text)" : "\(l.text) \(op) \(r.text)"
        case let .parenthesized(e): "(" + e.text + ")"
        case let .call(name, e): "\(name)(\(e.text))"
        case let .factor(name): "factor(\(FormulaToken.quoted(name)))"
        case let .trained(transform, column): transform.columnName(column)
        }
    }

    /// The data columns the expression reads, in order of appearance.
    public var columns: [String] {
        var found: [String] = []
        func visit(_ e: FormulaExpression) {
            switch e {
            case let .column(name), let .factor(name): if !found.contains(name) { found.append(name) }
            case .number: break
            case let .negate(inner), let .parenthesized(inner), let .call(_, inner): visit(inner)
            case let .trained(transform, _): visit(transform.argument)
            case let .binary(_, l, r): visit(l); visit(r)
            }
        }
        visit(self)
        return found
    }

    /// The value at one row, `value(column)` giving each column's number
    /// there. Not finite where the arithmetic is not (log of 0, a division
    /// by 0, an overflow); the caller says so.
    public func evaluate(_ value: (String) -> Double) -> Double {
        switch self {
        case .trained: return .nan   // not elementwise: `Frame.deriving` computes it

        case let .column(name), let .factor(name): return value(name)
        case let .number(_, v): return v
        case let .negate(e): return -e.evaluate(value)
        case let .parenthesized(e): return e.evaluate(value)
        case let .binary(op, l, r):
            let a = l.evaluate(value), b = r.evaluate(value)
            switch op {
            case "+": return a + b
            case "-": return a - b
            case "*": return a * b
            case "/": return a / b
            default: return FormulaExpression.power(a, b)
            }
        case let .call(name, e):
            let a = e.evaluate(value)
            switch name {
            case "log": return log(a)
            case "log1p": return log1p(a)
            case "exp": return exp(a)
            case "sqrt": return sqrt(a)
            case "abs": return abs(a)
            default: return a
            }
        }
    }

    /// x^y as R computes it (`R_pow`): x·x for y = 2, 1 for x = 1 or y = 0,
    /// and otherwise the power in extended precision rounded to double (R
    /// uses `powl` on x86-64), so that a transformed column equals R's to
    /// the last bit.
    static func power(_ x: Double, _ y: Double) -> Double {
        if y == 2 { return x * x }
        if x == 1 || y == 0 { return 1 }
        #if arch(x86_64)
        if x.isFinite && y.isFinite { return Double(powl(Float80(x), Float80(y))) }
        #endif
        return pow(x, y)
    }

    /// Whether the expression is a column as it is.
    public var isColumn: Bool { if case .column = self { true } else { false } }

    /// Whether the variable is categorical (`factor(x)`).
    public var isFactor: Bool { if case .factor = self { true } else { false } }
}
