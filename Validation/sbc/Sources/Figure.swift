import Drawing

/// One quantity's ECDF difference F̂(zᵢ) − zᵢ and its simultaneous band.
struct ECDFPanel {
    let title: String
    let z: [Double]
    let difference: [Double]
    let lower: [Double]
    let upper: [Double]
    let inside: Bool
}

/// The figure of an SBC run, drawn with the Drawing module: one panel per
/// quantity on a common vertical scale symmetric about 0, the band shaded
/// as step areas above and below 0 (it always contains 0), the ECDF
/// difference as a step line (vermillion where the quantity leaves the
/// band), 0 as a dashed rule.
func ecdfFigure(_ panels: [ECDFPanel], columns: Int, caption: String) -> String {
    let extent = panels.flatMap { $0.difference.map(abs) + $0.lower.map(abs) + $0.upper.map(abs) }.max() ?? 0.1
    let limit = (extent * 1.15 * 100).rounded(.up) / 100
    let band = Palette.skyBlue
    let drawn = panels.map { panel -> Panel in
        // Step paths over [0, 1]: value vᵢ on [zᵢ, zᵢ₊₁), 0 at both ends.
        func steps(_ v: [Double]) -> [Point] {
            var points = [Point(0, 0), Point(panel.z[0], 0)]
            for i in v.indices {
                points.append(Point(panel.z[i], v[i]))
                points.append(Point(i + 1 < panel.z.count ? panel.z[i + 1] : 1, v[i]))
            }
            points.append(Point(1, 0))
            return points
        }
        return Panel(
            title: panel.title,
            x: Axis(LinearScale(lower: 0, upper: 1), title: "fractional rank z", tickCount: 3),
            y: Axis(LinearScale(lower: -limit, upper: limit), title: "F̂(z) − z", tickCount: 3),
            marks: [
                .area(steps(panel.upper), baseline: 0, fill: band, opacity: 0.45),
                .area(steps(panel.lower), baseline: 0, fill: band, opacity: 0.45),
                .horizontalRule(0, Stroke(.gray, width: 0.8, dash: [3, 3])),
                .line(steps(panel.difference), Stroke(panel.inside ? Palette.blue : Palette.vermillion, width: 1.2)),
            ])
    }
    var legend = [LegendEntry("F̂(z) − z", .line(Stroke(Palette.blue, width: 1.2)))]
    if panels.contains(where: { !$0.inside }) {
        legend.append(LegendEntry("outside the band", .line(Stroke(Palette.vermillion, width: 1.2))))
    }
    legend.append(LegendEntry("simultaneous 95% band", .box(band, opacity: 0.45)))
    return Chart(title: "Simulation-based calibration: ECDF differences of the ranks", caption: caption,
                 panels: drawn, columns: columns, panelWidth: 190, panelHeight: 130, legend: legend).svg()
}
