/// One axis of a panel: its scale, its title, and either the scale's round
/// ticks or explicit ones (such as level names on a categorical axis).
public struct Axis: Sendable {
    public var scale: any Scale
    public var title: String
    /// Explicit ticks; nil for about `tickCount` ticks from the scale.
    public var ticks: [Tick]?
    public var tickCount: Int
    /// Whether grid lines are drawn at the ticks.
    public var grid: Bool

    public init(_ scale: any Scale, title: String, ticks: [Tick]? = nil, tickCount: Int = 5, grid: Bool = true) {
        self.scale = scale; self.title = title; self.ticks = ticks; self.tickCount = tickCount; self.grid = grid
    }

    /// The ticks drawn, inside the domain.
    public var drawnTicks: [Tick] {
        let all = ticks ?? scale.labelledTicks(count: tickCount)
        return all.filter { (-1e-9...1 + 1e-9).contains(scale.fraction($0.value)) }
    }
}

/// A plot area with two axes and the marks drawn in it.
public struct Panel: Sendable {
    public var title: String?
    public var x: Axis
    public var y: Axis
    public var marks: [Mark]

    public init(title: String? = nil, x: Axis, y: Axis, marks: [Mark]) {
        self.title = title; self.x = x; self.y = y; self.marks = marks
    }
}

/// An entry of a chart's legend: a swatch in the style of a series and its label.
public struct LegendEntry: Sendable, Equatable {
    public enum Swatch: Sendable, Equatable {
        case line(Stroke)
        case point(Color)
        case box(Color, opacity: Double)
    }
    public var label: String
    public var swatch: Swatch
    public init(_ label: String, _ swatch: Swatch) { self.label = label; self.swatch = swatch }
}
