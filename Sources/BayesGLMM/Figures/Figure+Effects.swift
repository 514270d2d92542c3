import Diagnostics
import Drawing
import Foundation

extension Figure {
    /// One level's posterior, as the caterpillar plot draws it.
    struct LevelInterval {
        let level: String
        let mean: Double
        /// 5%, 25%, 50%, 75% and 95% quantiles (R's type 7).
        let quantiles: [Double]
    }

    /// A caterpillar plot: the effects of a term's levels, sorted by
    /// posterior mean, each with its 50% (thick) and 90% (thin) central
    /// interval and its mean (dot). Shows which levels the data separate
    /// from 0 and from each other, and how much uncertainty remains.
    ///
    /// A term with more than `maxLevels` levels shows `maxLevels` of them,
    /// evenly spaced in the order of posterior mean (the extremes included),
    /// and the caption says so. The table has a row per level shown:
    /// term, level, its rank among all levels by posterior mean,
    /// observations, mean, q5, q25, q50, q75, q95.
    public static func caterpillar(_ run: RunDirectory, term name: String?, maxLevels: Int = 50) throws(InputError)
        -> Figure {
        let term = try Figure.term(run, name)
        try RunDirectory.refuseSlopes(of: term, in: run, for: "the caterpillar plot")
        let parameters = term.levels.map { "r(\(term.name))[\($0)]" }
        if let missing = parameters.first(where: { run.parameterIndex($0) == nil }) {
            throw InputError(.unsupported, "the draw store has no draws of \(missing)", file: run.path,
                             advice: "refit with \(setting: "save", value: "all") to plot the effects of \(term.name)")
        }
        var intervals: [LevelInterval] = []
        let block = 512
        var start = 0
        while start < parameters.count {
            let end = min(start + block, parameters.count)
            let draws = try Figure.draws(run, Array(parameters[start..<end]))
            for (k, variable) in draws.enumerated() {
                let quantiles = (try? Diagnostics.quantiles(variable, probabilities: [0.05, 0.25, 0.5, 0.75, 0.95]))
                    ?? nil
                intervals.append(LevelInterval(level: term.levels[start + k], mean: Diagnostics.mean(variable) ?? .nan,
                                               quantiles: quantiles ?? [Double](repeating: .nan, count: 5)))
            }
            start = end
        }
        let order = intervals.indices.sorted {
            intervals[$0].mean < intervals[$1].mean || (intervals[$0].mean == intervals[$1].mean && $0 < $1)
        }
        let shown = evenlySpaced(order.count, count: max(1, maxLevels)).map { (rank: $0 + 1, index: order[$0]) }
        let observations = term.counts?.observations

        var marks: [Mark] = [.verticalRule(0, Stroke(Color.gray, width: 1))]
        var ticks: [Tick] = [], rows: [[String]] = [], xs: [Double] = [0]
        for (position, item) in shown.enumerated() {
            let interval = intervals[item.index], y = Double(position + 1), q = interval.quantiles
            marks.append(.segment(Point(q[0], y), Point(q[4], y), Stroke(Palette.blue, width: 1.2)))
            marks.append(.segment(Point(q[1], y), Point(q[3], y), Stroke(Palette.blue, width: 4)))
            ticks.append(Tick(value: y, label: interval.level))
            xs += [q[0], q[4]]
            rows.append([term.name, interval.level, String(item.rank),
                         observations.map { String($0[item.index]) } ?? "NA"]
                        + fields([interval.mean] + q.map { Optional($0) }))
        }
        marks.append(.points(shown.enumerated().map { Point(intervals[$0.element.index].mean, Double($0.offset + 1)) },
                             radius: 2.6, fill: Palette.vermillion, opacity: 1))
        let panel = Panel(x: Axis(LinearScale.covering(xs, padding: 0.03), title: "effect of \(term.name) (log-odds)"),
                          y: Axis(LinearScale(lower: 0.3, upper: Double(shown.count) + 0.7), title: term.name,
                                  ticks: ticks, grid: false),
                          marks: marks)
        let subset: Wording? = shown.count < order.count
            ? "Showing \(shown.count) of \(order.count) levels, evenly spaced in the order of posterior mean "
                + "(the lowest and highest included; \(setting: "maxLevels") to change)."
            : nil
        return Figure(chart: Chart(title: "Effects of \(term.name)",
                                   caption: "Posterior mean (dot), 50% (thick) and 90% (thin) central intervals of "
                                   + "each level's effect, sorted by posterior mean (\(drawsText(run))).",
                                   panels: [panel], panelWidth: 520, panelHeight: max(160, 13 * Double(shown.count)),
                                   legend: [LegendEntry("posterior mean", .point(Palette.vermillion)),
                                            LegendEntry("50% interval", .line(Stroke(Palette.blue, width: 4))),
                                            LegendEntry("90% interval", .line(Stroke(Palette.blue, width: 1.2)))]),
                      note: subset,
                      header: ["term", "level", "rank", "observations", "mean", "q5", "q25", "q50", "q75", "q95"],
                      rows: rows)
    }
}
