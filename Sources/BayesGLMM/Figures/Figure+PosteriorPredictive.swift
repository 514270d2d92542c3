import Diagnostics
import Drawing
import Foundation

extension Figure {
    /// Posterior predictive checks (`PosteriorPredictiveCheck`) drawn as
    /// bayesplot draws them: `ppc_stat` — a histogram of the replicated
    /// success rates with the observed rate as a vertical line, and the same
    /// for the cells with none or all of their trials successful; `ppc_bars` —
    /// the number of cells with k successes, observed as bars, replicated as
    /// the median with its 90% interval; and with a grouping term,
    /// `ppc_stat_grouped` — a histogram per level (the `maxLevels` with the
    /// most extreme p-values, in level order).
    ///
    /// The table has a row per histogram bin (series "rate", "all_or_none" or "rate:LEVEL":
    /// bin bounds and count, observed value) and per bar (series "bars": k,
    /// observed, replicated median, 5% and 95%).
    public static func posteriorPredictive(_ check: PosteriorPredictiveCheck, run: String, maxLevels: Int = 12)
        -> (figure: Figure, levelsShown: Int) {
        var panels: [Panel] = []
        var rows: [[String]] = []
        let observedStroke = Stroke(Color.black, width: 2)
        func histogram(_ statistic: PosteriorPredictiveCheck.Statistic, series: String, title: String,
                       xTitle: String) -> Panel {
            let values = statistic.replicated
            let low = min(values.min() ?? 0, statistic.observed), high = max(values.max() ?? 1, statistic.observed)
            let bins = 30
            let width = high > low ? (high - low) / Double(bins) : 1
            var counts = [Int](repeating: 0, count: bins)
            for v in values { counts[min(bins - 1, max(0, Int(((v - low) / width).rounded(.down))))] += 1 }
            var marks: [Mark] = []
            for (b, count) in counts.enumerated() {
                let from = low + Double(b) * width
                marks.append(.rect(from: Point(from, 0), to: Point(from + width, Double(count)), fill: Palette.skyBlue,
                                   opacity: 0.9))
                rows.append([series] + fields([from, from + width, Double(count), statistic.observed, nil, nil, nil]))
            }
            marks.append(.verticalRule(statistic.observed, observedStroke))
            let top = Double(counts.max() ?? 1) * 1.1
            return Panel(title: title + String(format: " (p = %.2f)", statistic.pValue),
                         x: Axis(LinearScale.covering([low, high + width], padding: 0.02), title: xTitle, tickCount: 4),
                         y: Axis(LinearScale(lower: 0, upper: top), title: "replicates", tickCount: 3), marks: marks)
        }
        panels.append(histogram(check.rate, series: "rate", title: "Success rate (ppc_stat)",
                                xTitle: "success rate"))
        if let allOrNone = check.allOrNone {
            panels.append(histogram(allOrNone, series: "all_or_none", title: "Cells all or none (ppc_stat)",
                                    xTitle: "cells of 2+ trials with none or all successful"))
        }
        if !check.bars.isEmpty {
            var marks: [Mark] = []
            var top = 1.0
            for bar in check.bars {
                let k = Double(bar.name)!
                let sorted = bar.replicated.sorted()
                let median = typeSevenQuantile(sorted: sorted, probability: 0.5)
                let (lower, upper) = bar.interval
                marks.append(.rect(from: Point(k - 0.4, 0), to: Point(k + 0.4, bar.observed), fill: Palette.skyBlue,
                                   opacity: 0.9))
                marks.append(.segment(Point(k, lower), Point(k, upper), Stroke(Palette.vermillion, width: 2)))
                marks.append(.points([Point(k, median)], radius: 3.5, fill: Palette.vermillion, opacity: 1))
                top = max(top, bar.observed, upper)
                rows.append(["bars"] + fields([k, k, nil, bar.observed, median, lower, upper]))
            }
            let last = Double(check.bars.count - 1)
            panels.append(Panel(title: "Cells with k successes (ppc_bars)",
                                x: Axis(LinearScale(lower: -0.6, upper: last + 0.6), title: "successes in a cell (k)",
                                        ticks: check.bars.map { Tick(value: Double($0.name)!, label: $0.name) }, grid: false),
                                y: Axis(LinearScale(lower: 0, upper: top * 1.08), title: "cells", tickCount: 4),
                                marks: marks))
        }
        var shown = 0
        if let factor = check.factor {
            let extreme = check.grouped.indices.sorted {
                abs(check.grouped[$0].pValue - 0.5) > abs(check.grouped[$1].pValue - 0.5)
                    || (abs(check.grouped[$0].pValue - 0.5) == abs(check.grouped[$1].pValue - 0.5) && $0 < $1)
            }.prefix(maxLevels).sorted()
            shown = extreme.count
            for i in extreme {
                let level = check.grouped[i]
                panels.append(histogram(level, series: "rate:" + level.name, title: "\(factor) \(level.name)",
                                        xTitle: "success rate"))
            }
        }
        let grouped = check.factor.map { factor in
            " Below, the success rate of the \(shown) of \(check.grouped.count) levels of \(factor) with the most "
                + "extreme p-values (ppc_stat_grouped)."
        } ?? ""
        let chart = Chart(title: "Posterior predictive checks",
                          caption: "\(check.draws.count) data sets replicated from the posterior of \(run) "
                          + "(\(check.cells) cells, \(Int(check.trials)) trials) against the data: the observed "
                          + "statistic (black line, blue bars) should look like a draw from the replicates (blue "
                          + "histogram; red: median and 90% interval); p = P(replicate ≥ observed)." + grouped,
                          panels: panels, columns: 3, panelWidth: 260,
                          panelHeight: 200,
                          legend: [LegendEntry("observed", .line(observedStroke)),
                                   LegendEntry("replicated", .box(Palette.skyBlue, opacity: 0.9)),
                                   LegendEntry("replicated median and 90% interval",
                                               .line(Stroke(Palette.vermillion, width: 2)))])
        return (Figure(chart: chart, header: ["series", "from", "to", "count", "observed", "median", "q5", "q95"],
                       rows: rows), shown)
    }
}
