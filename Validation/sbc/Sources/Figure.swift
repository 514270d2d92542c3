import Foundation

/// One panel of the figure: the ECDF difference F̂(zᵢ) − zᵢ and its band.
struct Panel {
    let title: String
    let z: [Double]
    let difference: [Double]
    let lower: [Double]
    let upper: [Double]
    let inside: Bool
}

/// Hand-written SVG: one small panel per quantity, the band as a shaded
/// step area, the ECDF difference as a step line (red where the panel's
/// quantity leaves the band), zero as a dashed line.
func ecdfFigure(_ panels: [Panel], columns: Int, caption: String) -> String {
    let width = 270.0, height = 190.0, left = 44.0, right = 10.0, top = 26.0, bottom = 30.0
    let rows = (panels.count + columns - 1) / columns
    let totalWidth = Double(columns) * width, totalHeight = Double(rows) * height + 30
    // A common vertical scale, symmetric about 0.
    let extent = panels.flatMap { $0.difference.map(abs) + $0.lower.map(abs) + $0.upper.map(abs) }.max() ?? 0.1
    let ymax = (extent * 1.15 * 100).rounded(.up) / 100
    func f(_ v: Double) -> String { String(format: "%.2f", v) }
    var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(totalWidth))" height="\(Int(totalHeight))" \
    viewBox="0 0 \(Int(totalWidth)) \(Int(totalHeight))" font-family="Helvetica, Arial, sans-serif">
    <rect width="100%" height="100%" fill="white"/>

    """
    for (index, panel) in panels.enumerated() {
        let ox = Double(index % columns) * width, oy = Double(index / columns) * height
        let pw = width - left - right, ph = height - top - bottom
        func px(_ z: Double) -> Double { ox + left + z * pw }
        func py(_ d: Double) -> Double { oy + top + (ymax - d) / (2 * ymax) * ph }
        // Step paths over [0, 1]: value vᵢ on [zᵢ, zᵢ₊₁), 0 at both ends.
        func steps(_ v: [Double]) -> [(Double, Double)] {
            var points: [(Double, Double)] = [(0, 0), (panel.z[0], 0)]
            for i in v.indices {
                let next = i + 1 < panel.z.count ? panel.z[i + 1] : 1
                points.append((panel.z[i], v[i]))
                points.append((next, v[i]))
            }
            points.append((1, 0))
            return points
        }
        let upperPoints = steps(panel.upper), lowerPoints = steps(panel.lower)
        let area = (upperPoints + lowerPoints.reversed()).map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        let line = steps(panel.difference).map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        svg += """
        <g>
          <rect x="\(f(ox + left))" y="\(f(oy + top))" width="\(f(pw))" height="\(f(ph))" fill="none" stroke="#888" stroke-width="0.6"/>
          <polygon points="\(area)" fill="#9ecae1" fill-opacity="0.6" stroke="none"/>
          <line x1="\(f(px(0)))" y1="\(f(py(0)))" x2="\(f(px(1)))" y2="\(f(py(0)))" stroke="#555" stroke-width="0.6" stroke-dasharray="3,3"/>
          <polyline points="\(line)" fill="none" stroke="\(panel.inside ? "#08306b" : "#cb181d")" stroke-width="1.2"/>
          <text x="\(f(ox + width / 2))" y="\(f(oy + 17))" font-size="11" text-anchor="middle">\(escape(panel.title))</text>
          <text x="\(f(ox + left - 4))" y="\(f(py(ymax) + 4))" font-size="9" text-anchor="end">\(f(ymax))</text>
          <text x="\(f(ox + left - 4))" y="\(f(py(0) + 3))" font-size="9" text-anchor="end">0</text>
          <text x="\(f(ox + left - 4))" y="\(f(py(-ymax)))" font-size="9" text-anchor="end">\(f(-ymax))</text>
          <text x="\(f(px(0)))" y="\(f(oy + top + ph + 12))" font-size="9" text-anchor="middle">0</text>
          <text x="\(f(px(0.5)))" y="\(f(oy + top + ph + 12))" font-size="9" text-anchor="middle">0.5</text>
          <text x="\(f(px(1)))" y="\(f(oy + top + ph + 12))" font-size="9" text-anchor="middle">1</text>
          <text x="\(f(px(0.5)))" y="\(f(oy + top + ph + 24))" font-size="9" text-anchor="middle" fill="#444">fractional rank z</text>
        </g>

        """
    }
    svg += """
    <text x="8" y="\(f(totalHeight - 10))" font-size="10" fill="#444">\(escape(caption))</text>
    </svg>

    """
    return svg
}

private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
}
