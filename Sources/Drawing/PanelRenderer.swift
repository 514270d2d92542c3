/// Draws one panel into its frame: grid, axes with ticks and titles, then
/// the marks clipped to the plot area (text marks unclipped, on top).
struct PanelRenderer {
    let panel: Panel
    let frame: Frame
    let layout: Layout
    let clipID: String

    /// Pixel positions of data values.
    func x(_ value: Double) -> Double { frame.x + panel.x.scale.fraction(value) * frame.width }
    func y(_ value: Double) -> Double { frame.y + (1 - panel.y.scale.fraction(value)) * frame.height }

    func draw(into svg: inout SVGWriter) {
        let c = NumberText.coordinate
        svg.open("g", [("class", "panel")])
        svg.open("clipPath", [("id", clipID)])
        svg.element("rect", [("x", c(frame.x)), ("y", c(frame.y)), ("width", c(frame.width)),
                             ("height", c(frame.height))])
        svg.close("clipPath")
        if let title = panel.title {
            svg.element("text", [("class", "panel-title"), ("x", c(frame.x)), ("y", c(frame.y - 8)),
                                 ("font-size", c(Typography.axisTitle)), ("font-weight", "bold"),
                                 ("fill", Color.ink.hex)], text: title)
        }
        drawAxes(into: &svg)
        svg.open("g", [("class", "marks"), ("clip-path", "url(#\(clipID))")])
        for mark in panel.marks {
            if case .text = mark { continue }
            draw(mark, into: &svg)
        }
        svg.close("g")
        for mark in panel.marks {
            if case .text = mark { draw(mark, into: &svg) }
        }
        svg.close("g")
    }

    private func drawAxes(into svg: inout SVGWriter) {
        let c = NumberText.coordinate
        let xTicks = panel.x.drawnTicks, yTicks = panel.y.drawnTicks
        let bottom = frame.y + frame.height, right = frame.x + frame.width
        svg.open("g", [("class", "grid"), ("stroke", Color.grid.hex), ("stroke-width", "1")])
        if panel.x.grid {
            for tick in xTicks {
                svg.element("line", [("x1", c(x(tick.value))), ("y1", c(frame.y)), ("x2", c(x(tick.value))),
                                     ("y2", c(bottom))])
            }
        }
        if panel.y.grid {
            for tick in yTicks {
                svg.element("line", [("x1", c(frame.x)), ("y1", c(y(tick.value))), ("x2", c(right)),
                                     ("y2", c(y(tick.value)))])
            }
        }
        svg.close("g")
        svg.open("g", [("class", "axes"), ("stroke", Color.ink.hex), ("stroke-width", "1")])
        svg.element("line", [("x1", c(frame.x)), ("y1", c(bottom)), ("x2", c(right)), ("y2", c(bottom))])
        svg.element("line", [("x1", c(frame.x)), ("y1", c(frame.y)), ("x2", c(frame.x)), ("y2", c(bottom))])
        for tick in xTicks {
            svg.element("line", [("x1", c(x(tick.value))), ("y1", c(bottom)), ("x2", c(x(tick.value))),
                                 ("y2", c(bottom + 4))])
        }
        for tick in yTicks {
            svg.element("line", [("x1", c(frame.x - 4)), ("y1", c(y(tick.value))), ("x2", c(frame.x)),
                                 ("y2", c(y(tick.value)))])
        }
        svg.close("g")
        svg.open("g", [("class", "tick-labels"), ("font-size", c(Typography.tick)), ("fill", Color.ink.hex)])
        for tick in xTicks {
            svg.element("text", [("x", c(x(tick.value))), ("y", c(bottom + 6 + Typography.tick)),
                                 ("text-anchor", "middle")], text: tick.label)
        }
        for tick in yTicks {
            svg.element("text", [("x", c(frame.x - 7)), ("y", c(y(tick.value) + Typography.tick / 3)),
                                 ("text-anchor", "end")], text: tick.label)
        }
        svg.close("g")
        if !panel.x.title.isEmpty {
            svg.element("text", [("class", "axis-title"), ("x", c(frame.x + frame.width / 2)),
                                 ("y", c(bottom + 10 + Typography.tick + Typography.axisTitle)),
                                 ("text-anchor", "middle"), ("font-size", c(Typography.axisTitle)),
                                 ("fill", Color.ink.hex)], text: panel.x.title)
        }
        if !panel.y.title.isEmpty {
            let titleX = frame.x - layout.left + 6 + Typography.axisTitle, titleY = frame.y + frame.height / 2
            svg.element("text", [("class", "axis-title"), ("x", c(titleX)), ("y", c(titleY)),
                                 ("transform", "rotate(-90 \(c(titleX)) \(c(titleY)))"), ("text-anchor", "middle"),
                                 ("font-size", c(Typography.axisTitle)), ("fill", Color.ink.hex)],
                        text: panel.y.title)
        }
    }

    /// The SVG attributes of a stroke.
    static func strokeAttributes(_ stroke: Stroke) -> [(String, String)] {
        var attributes = [("stroke", stroke.color.hex), ("stroke-width", NumberText.coordinate(stroke.width))]
        if !stroke.dash.isEmpty {
            attributes.append(("stroke-dasharray", stroke.dash.map(NumberText.coordinate).joined(separator: " ")))
        }
        if stroke.opacity < 1 { attributes.append(("stroke-opacity", NumberText.coordinate(stroke.opacity))) }
        return attributes
    }

    /// An SVG path through the points, a new subpath after each non-finite point.
    private func path(_ points: [Point]) -> String {
        var parts: [String] = []
        var pen = false
        for point in points {
            guard point.x.isFinite, point.y.isFinite else { pen = false; continue }
            parts.append((pen ? "L" : "M") + NumberText.coordinate(x(point.x)) + " " + NumberText.coordinate(y(point.y)))
            pen = true
        }
        return parts.joined(separator: " ")
    }

    private func draw(_ mark: Mark, into svg: inout SVGWriter) {
        let c = NumberText.coordinate
        let kind = [("class", mark.kind)]
        switch mark {
        case let .line(points, stroke):
            svg.element("path", kind + [("d", path(points)), ("fill", "none"), ("stroke-linejoin", "round")]
                        + PanelRenderer.strokeAttributes(stroke))
        case let .area(points, baseline, fill, opacity):
            let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
            guard let first = finite.first, let last = finite.last else { return }
            let outline = path([Point(first.x, baseline)] + finite + [Point(last.x, baseline)]) + " Z"
            svg.element("path", kind + [("d", outline), ("fill", fill.hex), ("fill-opacity", c(opacity)),
                                        ("stroke", "none")])
        case let .points(points, radius, fill, opacity):
            svg.open("g", kind + [("fill", fill.hex), ("fill-opacity", c(opacity))])
            for point in points where point.x.isFinite && point.y.isFinite {
                svg.element("circle", [("cx", c(x(point.x))), ("cy", c(y(point.y))), ("r", c(radius))])
            }
            svg.close("g")
        case let .verticalRule(value, stroke):
            svg.element("line", kind + [("x1", c(x(value))), ("y1", c(frame.y)), ("x2", c(x(value))),
                                        ("y2", c(frame.y + frame.height))] + PanelRenderer.strokeAttributes(stroke))
        case let .horizontalRule(value, stroke):
            svg.element("line", kind + [("x1", c(frame.x)), ("y1", c(y(value))), ("x2", c(frame.x + frame.width)),
                                        ("y2", c(y(value)))] + PanelRenderer.strokeAttributes(stroke))
        case let .segment(from, to, stroke):
            svg.element("line", kind + [("x1", c(x(from.x))), ("y1", c(y(from.y))), ("x2", c(x(to.x))),
                                        ("y2", c(y(to.y))), ("stroke-linecap", "butt")]
                        + PanelRenderer.strokeAttributes(stroke))
        case let .rect(from, to, fill, opacity):
            let left = min(x(from.x), x(to.x)), top = min(y(from.y), y(to.y))
            svg.element("rect", kind + [("x", c(left)), ("y", c(top)), ("width", c(abs(x(to.x) - x(from.x)))),
                                        ("height", c(abs(y(to.y) - y(from.y)))), ("fill", fill.hex),
                                        ("fill-opacity", c(opacity))])
        case let .text(text, point, anchor, dx, dy, color):
            svg.element("text", kind + [("x", c(x(point.x) + dx)), ("y", c(y(point.y) + dy)),
                                        ("text-anchor", anchor.rawValue), ("font-size", c(Typography.tick)),
                                        ("fill", color.hex)], text: text)
        }
    }
}
