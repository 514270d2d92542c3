import Drawing
import Foundation
import SVGTestSupport
import Testing

/// Charts are well-formed, self-contained SVG with one element per mark.
@Suite struct ChartTests {
    static func example() -> Chart {
        let points = (0..<20).map { Point(Double($0), Double($0 * $0) / 10) }
        let panel = Panel(title: "Squares & <things>", x: Axis(LinearScale(lower: 0, upper: 19), title: "x \"value\""),
                          y: Axis(LinearScale.covering(points.map(\.y)), title: "y"),
                          marks: [.line(points, Stroke(Palette.color(0))),
                                  .points(points, radius: 3, fill: Palette.color(1), opacity: 0.8),
                                  .verticalRule(5, Stroke(Palette.vermillion, dash: [4, 3])),
                                  .segment(Point(1, 1), Point(2, 30), Stroke(Color.gray)),
                                  .rect(from: Point(3, 0), to: Point(4, 10), fill: Palette.skyBlue, opacity: 0.5),
                                  .text("a < b", at: Point(10, 10), anchor: .start, dx: 4, dy: 0, color: Color.ink)])
        return Chart(title: "Title with 'quotes' & ampersands", caption: String(repeating: "A long caption. ", count: 30),
                     panels: [panel, panel], columns: 2, legend: [LegendEntry("chain 1", .line(Stroke(Palette.blue)))])
    }

    @Test func svgParsesWithItsMarksAndEscapedText() throws {
        let svg = ChartTests.example().svg()
        let elements = try SVGElements.parse(svg)
        #expect(elements.names.first == "svg")
        #expect(elements.count("g", class: "points") == 2)
        #expect(elements.count("circle") == 2 * 20 + 0)
        #expect(elements.count("line", class: "rule") == 2 && elements.count("rect", class: "bar") == 2)
        #expect(elements.count("text", class: "label") == 2)
        #expect(elements.text.contains("Squares & <things>") && elements.text.contains("a < b"))
        #expect(elements.text.contains("Title with 'quotes' & ampersands"))
        #expect(elements.count("text", class: "caption") > 1, "the caption is wrapped")
        // Self-contained: no scripts, no external references.
        #expect(!svg.contains("<script") && !svg.contains("href") && !svg.contains("@import"))
        // Every coordinate inside the document.
        let root = elements.attributes[0]
        let width = try #require(Double(root["width"] ?? "")), height = try #require(Double(root["height"] ?? ""))
        for (name, attributes) in zip(elements.names, elements.attributes) where name == "text" {
            let x = try #require(Double(attributes["x"] ?? "")), y = try #require(Double(attributes["y"] ?? ""))
            #expect(x >= 0 && x <= width && y >= 0 && y <= height, "\(attributes)")
        }
    }

    @Test func outputIsTheSameEveryTime() {
        #expect(ChartTests.example().svg() == ChartTests.example().svg())
    }

    @Test func escapingCoversTheXMLSpecialCharacters() {
        #expect(SVGWriter.escape("a&b<c>d\"e'f\u{1}") == "a&amp;b&lt;c&gt;d&quot;e&apos;f")
    }

    @Test func okabeItoColours() {
        #expect(Palette.series.count == 8 && Set(Palette.series).count == 8)
        #expect(Palette.blue.hex == "#0072B2" && Palette.orange.hex == "#E69F00")
        #expect(Palette.color(8) == Palette.color(0) && Palette.color(-1) == Palette.series.last)
    }
}
