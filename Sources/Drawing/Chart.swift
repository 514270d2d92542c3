import Foundation

/// A figure: a title, an optional legend, panels in a grid and a caption
/// beneath, drawn as one self-contained SVG document (no scripts, no
/// external fonts or style sheets; text in the viewer's sans-serif font).
public struct Chart: Sendable {
    public var title: String
    /// Wrapped to the figure's width under the panels.
    public var caption: String?
    public var panels: [Panel]
    /// Panels per row.
    public var columns: Int
    /// The size of each plot area in pixels (axes and labels come on top).
    public var panelWidth: Double
    public var panelHeight: Double
    public var legend: [LegendEntry]

    public init(title: String, caption: String? = nil, panels: [Panel], columns: Int = 1,
                panelWidth: Double = 560, panelHeight: Double = 300, legend: [LegendEntry] = []) {
        self.title = title; self.caption = caption; self.panels = panels; self.columns = max(1, columns)
        self.panelWidth = panelWidth; self.panelHeight = panelHeight; self.legend = legend
    }

    /// The SVG document.
    public func svg() -> String {
        let layout = Layout(self)
        var svg = SVGWriter()
        svg.open("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("width", NumberText.coordinate(layout.width)),
                         ("height", NumberText.coordinate(layout.height)),
                         ("viewBox", "0 0 \(NumberText.coordinate(layout.width)) \(NumberText.coordinate(layout.height))"),
                         ("font-family", Typography.family), ("role", "img")])
        svg.element("title", [], text: title)
        if let caption { svg.element("desc", [], text: caption) }
        svg.element("rect", [("width", "100%"), ("height", "100%"), ("fill", Color.white.hex)])
        svg.element("text", [("class", "title"), ("x", NumberText.coordinate(Layout.outer)),
                             ("y", NumberText.coordinate(Layout.outer + Typography.title)),
                             ("font-size", NumberText.coordinate(Typography.title)), ("font-weight", "bold"),
                             ("fill", Color.ink.hex)], text: title)
        drawLegend(layout, into: &svg)
        for (k, panel) in panels.enumerated() {
            let origin = layout.panelOrigin(k)
            PanelRenderer(panel: panel, frame: Frame(x: origin.x + layout.left, y: origin.y + layout.top,
                                                     width: panelWidth, height: panelHeight),
                          layout: layout, clipID: "clip-\(k + 1)").draw(into: &svg)
        }
        for (k, line) in layout.captionLines.enumerated() {
            svg.element("text", [("class", "caption"), ("x", NumberText.coordinate(Layout.outer)),
                                 ("y", NumberText.coordinate(layout.captionTop + Double(k + 1) * Typography.lineHeight)),
                                 ("font-size", NumberText.coordinate(Typography.caption)), ("fill", Color.ink.hex)],
                        text: line)
        }
        svg.close("svg")
        return svg.text
    }

    private func drawLegend(_ layout: Layout, into svg: inout SVGWriter) {
        guard !legend.isEmpty else { return }
        svg.open("g", [("class", "legend"), ("font-size", NumberText.coordinate(Typography.tick)),
                       ("fill", Color.ink.hex)])
        for (entry, place) in zip(legend, layout.legendPlaces) {
            let middle = place.y - Typography.tick / 3
            switch entry.swatch {
            case let .line(stroke):
                svg.element("line", [("x1", NumberText.coordinate(place.x)), ("y1", NumberText.coordinate(middle)),
                                     ("x2", NumberText.coordinate(place.x + 18)), ("y2", NumberText.coordinate(middle))]
                            + PanelRenderer.strokeAttributes(stroke))
            case let .point(color):
                svg.element("circle", [("cx", NumberText.coordinate(place.x + 9)), ("cy", NumberText.coordinate(middle)),
                                       ("r", "4"), ("fill", color.hex)])
            case let .box(color, opacity):
                svg.element("rect", [("x", NumberText.coordinate(place.x)), ("y", NumberText.coordinate(middle - 5)),
                                     ("width", "18"), ("height", "10"), ("fill", color.hex),
                                     ("fill-opacity", NumberText.coordinate(opacity))])
            }
            svg.element("text", [("x", NumberText.coordinate(place.x + 22)), ("y", NumberText.coordinate(place.y))],
                        text: entry.label)
        }
        svg.close("g")
    }
}

/// Font sizes in pixels and the estimate of text widths that the layout
/// uses (the SVG carries no font, so widths are estimated from the
/// average advance of sans-serif glyphs, about 0.6 em).
enum Typography {
    static let family = "Helvetica, Arial, 'DejaVu Sans', sans-serif"
    static let title = 15.0
    static let axisTitle = 12.0
    static let tick = 11.0
    static let caption = 11.0
    static let lineHeight = 15.0

    static func width(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }
}

/// A rectangle in pixels.
struct Frame {
    var x, y, width, height: Double
}

/// Where everything goes: margins shared by all panels (so that the grid
/// lines up), the legend's rows, the caption's lines.
struct Layout {
    static let outer = 12.0
    let left, right, top, bottom: Double
    let columns: Int
    let cellWidth, cellHeight: Double
    let headerHeight: Double
    let legendPlaces: [(x: Double, y: Double)]
    let captionLines: [String]
    let captionTop: Double
    let width, height: Double

    init(_ chart: Chart) {
        let ticks = chart.panels.map { ($0.x.drawnTicks, $0.y.drawnTicks) }
        let yLabelWidth = ticks.flatMap { $0.1.map { Typography.width($0.label, size: Typography.tick) } }.max() ?? 0
        let lastXLabel = ticks.compactMap { $0.0.last.map { Typography.width($0.label, size: Typography.tick) } }.max() ?? 0
        let hasYTitle = chart.panels.contains { !$0.y.title.isEmpty }
        let hasXTitle = chart.panels.contains { !$0.x.title.isEmpty }
        let hasPanelTitle = chart.panels.contains { $0.title != nil }
        left = 6 + (hasYTitle ? Typography.axisTitle + 8 : 0) + yLabelWidth + 8
        right = max(14, lastXLabel / 2 + 4)
        top = hasPanelTitle ? Typography.axisTitle + 12 : 8
        bottom = 6 + Typography.tick + 4 + (hasXTitle ? Typography.axisTitle + 10 : 0) + 6
        columns = min(chart.columns, max(chart.panels.count, 1))
        cellWidth = left + chart.panelWidth + right
        cellHeight = top + chart.panelHeight + bottom
        let contentWidth = Double(columns) * cellWidth
        width = 2 * Layout.outer + contentWidth

        // The legend's entries in rows under the title.
        var places: [(x: Double, y: Double)] = []
        var x = Layout.outer, row = 0
        let legendTop = Layout.outer + Typography.title + 10
        for entry in chart.legend {
            let entryWidth = 22 + Typography.width(entry.label, size: Typography.tick) + 18
            if x + entryWidth > width - Layout.outer, x > Layout.outer { x = Layout.outer; row += 1 }
            places.append((x, legendTop + Double(row) * Typography.lineHeight + Typography.tick))
            x += entryWidth
        }
        legendPlaces = places
        headerHeight = Layout.outer + Typography.title + 6
            + (chart.legend.isEmpty ? 0 : Double(row + 1) * Typography.lineHeight + 6)
        let rows = (chart.panels.count + columns - 1) / columns
        captionTop = headerHeight + Double(rows) * cellHeight
        // Captions are mostly lower-case: about 0.53 em a character.
        let perLine = max(20, Int((width - 2 * Layout.outer) / (Typography.caption * 0.53)))
        captionLines = chart.caption.map { Layout.wrap($0, width: perLine) } ?? []
        height = captionTop + Double(captionLines.count) * Typography.lineHeight + Layout.outer
    }

    /// The top-left corner of panel `k`'s cell.
    func panelOrigin(_ k: Int) -> (x: Double, y: Double) {
        (Layout.outer + Double(k % columns) * cellWidth, headerHeight + Double(k / columns) * cellHeight)
    }

    /// The words of `text` in lines of at most `width` characters (a longer
    /// word gets a line of its own); line breaks in `text` are kept.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if line.isEmpty {
                    line = String(word)
                } else if line.count + 1 + word.count <= width {
                    line += " " + word
                } else {
                    lines.append(line)
                    line = String(word)
                }
            }
            lines.append(line)
        }
        return lines
    }
}
