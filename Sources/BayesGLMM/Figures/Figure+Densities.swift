import Diagnostics
import Drawing
import Foundation

extension Figure {
    /// The posterior density of one parameter (all chains pooled), a
    /// Gaussian kernel density estimate (`KernelDensity`; reflected at 0 for
    /// a standard deviation), with the empirical-Bayes estimate as a dashed
    /// vertical line when an EB fit is given: where the point estimate that
    /// EB treats as known falls in the posterior.
    ///
    /// The table has a row per grid point (series "density": x, density)
    /// and, with an EB fit, one row for the estimate (series "eb": x, NA).
    /// Throws `InputError` in the setting "eb" when the EB fit has no
    /// estimate of the parameter.
    public static func density(_ run: RunDirectory, variable: String, eb: EmpiricalBayesReport?, ebPath: String = "")
        throws(InputError) -> Figure {
        let draws = try Figure.draws(run, [variable])[0]
        var estimate: Double?
        if let eb {
            try eb.checkComparable(with: run, path: ebPath)
            guard let value = Figure.estimate(eb, of: variable) else {
                throw InputError(.badOption, "the empirical-Bayes fit has no estimate of \(variable)",
                                 file: ebPath, setting: "eb")
            }
            estimate = value
        }
        let isScale = variable.hasPrefix("sd(")
        guard let density = KernelDensity(draws.values, lowerBound: isScale ? 0 : nil) else {
            throw InputError(.emptyData, "\(variable): the draws are all equal (or not finite); "
                             + "there is no density to draw", file: run.path)
        }
        var marks: [Mark] = [
            .area(zip(density.x, density.density).map { Point($0, $1) }, baseline: 0, fill: Palette.blue, opacity: 0.2),
            .line(zip(density.x, density.density).map { Point($0, $1) }, Stroke(Palette.blue, width: 2)),
        ]
        var rows = zip(density.x, density.density).map { [variable, "density"] + fields([$0, $1]) }
        var legend = [LegendEntry("posterior (\(drawsText(run)))", .line(Stroke(Palette.blue, width: 2)))]
        if let estimate {
            marks.append(.verticalRule(estimate, Figure.ebStroke(Palette.vermillion)))
            rows.append([variable, "eb"] + fields([estimate, nil]))
            let approximation = eb!.quadraturePoints == 1 ? "" : ", nAGQ = \(eb!.quadraturePoints)"
            legend.append(LegendEntry("empirical Bayes (\(eb!.program)\(approximation)): " + Figure.short(estimate),
                                      .line(Figure.ebStroke(Palette.vermillion))))
        }
        let top = (density.density.max() ?? 1) * 1.08
        let panel = Panel(x: Axis(LinearScale.covering(density.x, including: estimate.map { [$0] } ?? [], padding: 0.02,
                                                       floor: isScale ? 0 : nil), title: variable),
                          y: Axis(LinearScale(lower: 0, upper: top), title: "posterior density"), marks: marks)
        return Figure(chart: Chart(title: "Posterior of \(variable)",
                                   caption: "Kernel density estimate of the draws of all chains (Gaussian kernel, "
                                   + "Silverman's bandwidth " + Figure.short(density.bandwidth)
                                   + (isScale ? ", reflected at 0" : "") + ")"
                                   + (estimate == nil ? "." : "; the dashed line is the empirical-Bayes estimate."),
                                   panels: [panel], panelWidth: 560, panelHeight: 280, legend: legend),
                      header: ["variable", "series", "x", "density"], rows: rows)
    }

    /// The posterior densities of the standard deviations of every random
    /// term on one axis (so that the sizes of the variance components can be
    /// compared), each with its EB estimate as a dashed line of its colour
    /// when an EB fit is given. An SD near 0 whose EB estimate sits on the
    /// boundary (a singular fit) shows the posterior's mass away from 0.
    ///
    /// The table is that of `density`, a row per grid point of every SD and
    /// a row per EB estimate.
    public static func standardDeviations(_ run: RunDirectory, eb: EmpiricalBayesReport?, ebPath: String = "")
        throws(InputError) -> Figure {
        try eb?.checkComparable(with: run, path: ebPath)
        let names = run.terms.flatMap(\.covarianceNames).filter { $0.hasPrefix("sd(") && run.parameterIndex($0) != nil }
        guard !names.isEmpty else {
            throw InputError(.badOption, "the run has no draws of a standard deviation to draw", file: run.path,
                             setting: "kind")
        }
        let draws = try Figure.draws(run, names)
        var marks: [Mark] = [], rows: [[String]] = [], legend: [LegendEntry] = [], xs: [Double] = []
        var top = 0.0
        for (k, (name, variable)) in zip(names, draws).enumerated() {
            let color = Palette.color(k)
            guard let density = KernelDensity(variable.values, lowerBound: 0) else { continue }
            let points = zip(density.x, density.density).map { Point($0, $1) }
            marks.append(.area(points, baseline: 0, fill: color, opacity: 0.12))
            marks.append(.line(points, Stroke(color, width: 2)))
            rows += zip(density.x, density.density).map { [name, "density"] + fields([$0, $1]) }
            xs += density.x
            top = max(top, density.density.max() ?? 0)
            var label = name
            if let eb, let estimate = Figure.estimate(eb, of: name) {
                marks.append(.verticalRule(estimate, Figure.ebStroke(color)))
                rows.append([name, "eb"] + fields([estimate, nil]))
                xs.append(estimate)
                label += " (EB " + Figure.short(estimate) + ")"
            }
            legend.append(LegendEntry(label, .line(Stroke(color, width: 2))))
        }
        let panel = Panel(x: Axis(LinearScale.covering(xs, including: [0], padding: 0.02, floor: 0),
                                  title: "standard deviation"),
                          y: Axis(LinearScale(lower: 0, upper: max(top, 1e-12) * 1.08), title: "posterior density"),
                          marks: marks)
        let ebText = eb == nil ? "" : " Dashed lines: the empirical-Bayes estimates (\(eb!.program)), which EB "
            + "treats as known."
        return Figure(chart: Chart(title: "Standard deviations of the random effects",
                                   caption: "Posterior densities (kernel estimates reflected at 0; \(drawsText(run)))."
                                   + ebText, panels: [panel], panelWidth: 560, panelHeight: 280, legend: legend),
                      header: ["variable", "series", "x", "density"], rows: rows)
    }

    /// The dashed line of an EB estimate.
    static func ebStroke(_ color: Color) -> Stroke { Stroke(color, width: 2, dash: [6, 4]) }

    /// Three significant digits, for captions and legends.
    static func short(_ value: Double) -> String { String(format: "%.3g", value) }
}
