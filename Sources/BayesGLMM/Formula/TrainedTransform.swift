/// A transformation of a formula variable whose constants come from the
/// data it is fitted to — `scale(x)`, `poly(x, k)`, `poly(x, k, raw = TRUE)`,
/// `ns(x, df = k)` — as R's model frame computes them. A fit keeps the
/// constants (`TransformConstants`, in fit.json) and applies them to new
/// rows rather than computing them again: R's "safe prediction" (the
/// `predvars` of a model's terms), which `predict(fit, newdata)` uses.
public struct TrainedTransform: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// (x − centre)/scale with the mean and the SD (n − 1) of x: one column.
        case scale
        /// R's orthogonal polynomials of degrees 1…k (`poly`), or the raw
        /// powers x, x², …, xᵏ (`raw = TRUE`): k columns.
        case polynomial(degree: Int, raw: Bool)
        /// `splines::ns`: a natural cubic spline basis of `df` columns, its
        /// df − 1 interior knots at quantiles of x and its boundary knots at
        /// x's range, without the intercept.
        case naturalSpline(df: Int)
    }

    public var kind: Kind
    /// The variable transformed: a column or an expression of columns.
    public var argument: FormulaExpression
    /// R's deparse of the call, as written: `poly(x, 2)`, `ns(x, df = 3)`.
    public var text: String

    public init(kind: Kind, argument: FormulaExpression, text: String) {
        self.kind = kind
        self.argument = argument
        self.text = text
    }

    /// How many model-matrix columns it makes.
    public var columnCount: Int {
        switch kind {
        case .scale: 1
        case let .polynomial(degree, _): degree
        case let .naturalSpline(df): df
        }
    }

    /// The name of column j (1-based) as R's `model.matrix` names it:
    /// `scale(x)` for the one column of scale, `poly(x, 2)1`, `ns(x, df = 3)2`.
    public func columnName(_ j: Int) -> String {
        if case .scale = kind { return text }
        return text + String(j)
    }
}

/// The training constants of one `TrainedTransform` (fit.json's
/// "transforms", by the call's text).
public struct TransformConstants: Codable, Equatable, Sendable {
    /// scale: the mean and the SD.
    public var center: Double?
    public var scale: Double?
    /// poly: the recurrence coefficients αⱼ (k of them) and the squared norms
    /// (1, ‖Z₀‖², …, ‖Zₖ‖²), R's `attr(, "coefs")`.
    public var alpha: [Double]?
    public var norm2: [Double]?
    /// ns: the interior knots and the two boundary knots.
    public var knots: [Double]?
    public var boundary: [Double]?

    public init(center: Double? = nil, scale: Double? = nil, alpha: [Double]? = nil, norm2: [Double]? = nil,
                knots: [Double]? = nil, boundary: [Double]? = nil) {
        self.center = center
        self.scale = scale
        self.alpha = alpha
        self.norm2 = norm2
        self.knots = knots
        self.boundary = boundary
    }
}
