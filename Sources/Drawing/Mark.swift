/// A point in data coordinates (the panel's scales place it).
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// How a line is drawn: colour, width in pixels, optional dash pattern
/// (pixels on, off, …) and opacity.
public struct Stroke: Sendable, Equatable {
    public var color: Color
    public var width: Double
    public var dash: [Double]
    public var opacity: Double
    public init(_ color: Color, width: Double = 1.5, dash: [Double] = [], opacity: Double = 1) {
        self.color = color; self.width = width; self.dash = dash; self.opacity = opacity
    }
}

/// Where a text mark sits relative to its point.
public enum TextAnchor: String, Sendable {
    case start, middle, end
}

/// One thing drawn in a panel, in data coordinates. Every mark becomes one
/// SVG element (a group for `points`) with the mark's kind as its class,
/// so that a figure's marks can be counted in its SVG.
public enum Mark: Sendable, Equatable {
    /// A polyline through the points; a non-finite point breaks it.
    case line([Point], Stroke)
    /// The region between a polyline and the horizontal line y = `baseline`.
    case area([Point], baseline: Double, fill: Color, opacity: Double)
    /// A circle of `radius` pixels at each point.
    case points([Point], radius: Double, fill: Color, opacity: Double)
    /// A line across the whole panel at x = `value`.
    case verticalRule(Double, Stroke)
    /// A line across the whole panel at y = `value`.
    case horizontalRule(Double, Stroke)
    /// A straight line from one point to another.
    case segment(Point, Point, Stroke)
    /// The rectangle with opposite corners `from` and `to` (a bar).
    case rect(from: Point, to: Point, fill: Color, opacity: Double)
    /// Text at a point, shifted by `dx`, `dy` pixels; not clipped to the panel.
    case text(String, at: Point, anchor: TextAnchor, dx: Double, dy: Double, color: Color)

    /// The SVG class of the mark's element.
    public var kind: String {
        switch self {
        case .line: "line"
        case .area: "area"
        case .points: "points"
        case .verticalRule, .horizontalRule: "rule"
        case .segment: "segment"
        case .rect: "bar"
        case .text: "label"
        }
    }
}
