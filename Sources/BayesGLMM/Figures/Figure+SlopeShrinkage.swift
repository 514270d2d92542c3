import Drawing
import Foundation

extension Figure {
    /// Partial pooling in two dimensions, for a term with slopes: each
    /// level's (intercept, slope) — the term's first two columns — at its
    /// own-data estimate (`OwnDataEstimates`: no pooling, the rest of the
    /// model held at the EB fit), its EB conditional mode (pooled with Σ
    /// fixed at its estimate) and its posterior mean (pooled with Σ's
    /// uncertainty averaged over), joined by grey then blue segments: the
    /// classic picture of levels drawn towards the population's centre,
    /// most where they have least data, and along the covariance's long
    /// axis. The 90% contours of N(0, Σ) at the EB estimate and at the
    /// posterior means of the SDs and correlation are drawn around 0.
    ///
    /// Without the data (`design` nil) the own-data estimates are left out,
    /// which the caption says. Own-data estimates beyond the axes (levels
    /// whose own data nearly separate) are drawn at the edge. The table:
    /// term, level, observations, then own, EB and posterior coordinates.
    public static func slopeShrinkage(_ run: RunDirectory, term: RunDirectory.Term, eb: EmpiricalBayesReport,
                                      ebPath: String, design: Design?, maxLevels: Int = 200) throws(InputError)
        -> Figure {
        // The term's first two columns (the intercept and the first slope).
        let columns = Array(term.columns.prefix(2))
        guard columns.count == 2 else {
            throw InputError(.badOption, "the term (\(term.columns.joined(separator: " + ")) | \(term.name)) has one "
                             + "column: its shrinkage is drawn in one dimension", setting: "term")
        }
        let comparison = try Comparison(
            eb: eb, ebPath: ebPath, formula: run.formula, fixedNames: [], terms: [term],
            hasParameter: { run.parameterIndex($0) != nil }) { requests throws(InputError) in
            try PosteriorSummary.of(run.store, parameters: requests.compactMap { run.parameterIndex($0.parameter) },
                                    thresholds: requests.map(\.threshold), first: run.drawsPerChain)
        }
        var byLevel: [String: [String: Comparison.Effect]] = [:]
        for effect in comparison.effects where columns.contains(effect.column) {
            byLevel[effect.level, default: [:]][effect.column] = effect
        }
        let levels = term.levels.filter { byLevel[$0]?.count == 2 }
        guard !levels.isEmpty else {
            throw InputError(.badOption, "no level of \(term.name) has both \(columns[0]) and \(columns[1]) in the "
                             + "empirical-Bayes fit and in the run's draws", file: ebPath, setting: "eb",
                             advice: "refit with \(setting: "save", value: "all")?")
        }
        // Own-data estimates, aligned with the run's levels.
        var own: [String: Point] = [:]
        if let design, let k = design.randomTerms.firstIndex(where: { $0.name == term.name && $0.columns == term.columns }),
           let estimates = OwnDataEstimates.estimate(design: design, term: k, eb: eb) {
            let random = design.randomTerms[k], q = random.dimension
            let first = random.columns.firstIndex(of: columns[0])!, second = random.columns.firstIndex(of: columns[1])!
            for (l, level) in random.levels.enumerated() {
                own[level] = Point(estimates[l * q + first], estimates[l * q + second])
            }
        }
        let shown = evenlySpaced(levels.count, count: max(1, maxLevels)).map { levels[$0] }
        var eb2: [Point] = [], posterior: [Point] = [], ownPoints: [Point] = [], rows: [[String]] = []
        for level in shown {
            let pair = byLevel[level]!
            let a = pair[columns[0]]!, b = pair[columns[1]]!
            eb2.append(Point(a.ebMode, b.ebMode))
            posterior.append(Point(a.posterior.mean ?? .nan, b.posterior.mean ?? .nan))
            let mine = own[level] ?? Point(.nan, .nan)
            ownPoints.append(mine)
            rows.append([term.name, level, a.observations.map(String.init) ?? "NA"]
                        + fields([mine.x, mine.y, a.ebMode, b.ebMode, a.posterior.mean, b.posterior.mean]))
        }
        // The axes cover the pooled positions and the own-data ones within
        // 1.5 spans of them.
        let pooled = eb2 + posterior
        func range(_ values: [Double]) -> (Double, Double) {
            let finite = values.filter(\.isFinite)
            let low = finite.min() ?? -1, high = finite.max() ?? 1
            let span = max(high - low, 1e-3)
            return (low - 1.5 * span, high + 1.5 * span)
        }
        let (xLow, xHigh) = range(pooled.map(\.x)), (yLow, yHigh) = range(pooled.map(\.y))
        let clamped = ownPoints.map { Point(min(max($0.x, xLow), xHigh), min(max($0.y, yLow), yHigh)) }
        // N(0, Σ)'s 90% contour: radius √χ²₂(0.9) = √(−2 log 0.1).
        func contour(_ sd: (Double, Double), _ rho: Double) -> [Point] {
            let radius = (-2 * log(0.1)).squareRoot()
            let r = min(max(rho, -1), 1)
            return (0...96).map { t in
                let angle = 2 * Double.pi * Double(t) / 96
                let u = cos(angle), v = sin(angle)
                // Σ^{1/2}-like map by the Cholesky factor of [[1, ρ], [ρ, 1]].
                return Point(radius * sd.0 * u, radius * sd.1 * (r * u + (1 - r * r).squareRoot() * v))
            }
        }
        // The two columns' SDs and correlation from a table by parameter name.
        let names = ParameterNaming.covariance(term: term.name, columns: term.columns)
        let q = term.columns.count, a = 0, b = 1
        let correlationName = names[q + a * (2 * q - a - 1) / 2 + (b - a - 1)]
        func covariance(_ values: [String: Double]) -> ((Double, Double), Double)? {
            guard let x = values[names[a]], let y = values[names[b]], let r = values[correlationName] else { return nil }
            return ((x, y), r)
        }
        var ebValues: [String: Double] = [:], posteriorValues: [String: Double] = [:]
        for sd in comparison.standardDeviations {
            ebValues[sd.parameter] = sd.eb
            posteriorValues[sd.parameter] = sd.posterior.mean
        }
        var marks: [Mark] = [.horizontalRule(0, Stroke(Color.gray, width: 0.8)), .verticalRule(0, Stroke(Color.gray, width: 0.8))]
        if let (sd, r) = covariance(ebValues) {
            marks.append(.line(contour(sd, r), Stroke(Palette.bluishGreen, width: 1.2, dash: [5, 3])))
        }
        if let (sd, r) = covariance(posteriorValues) {
            marks.append(.line(contour(sd, r), Stroke(Palette.blue, width: 1.2, dash: [2, 2])))
        }
        for index in shown.indices {
            if clamped[index].x.isFinite {
                marks.append(.segment(clamped[index], eb2[index], Stroke(Color.gray, width: 0.7, opacity: 0.5)))
            }
            marks.append(.segment(eb2[index], posterior[index], Stroke(Palette.blue, width: 0.7, opacity: 0.6)))
        }
        let hasOwn = clamped.contains { $0.x.isFinite }
        if hasOwn { marks.append(.points(clamped.filter { $0.x.isFinite }, radius: 2.2, fill: Palette.orange, opacity: 0.7)) }
        marks += [.points(eb2, radius: 2.6, fill: Palette.bluishGreen, opacity: 0.9),
                  .points(posterior, radius: 1.8, fill: Palette.blue, opacity: 1)]
        let panel = Panel(x: Axis(LinearScale(lower: xLow, upper: xHigh), title: "\(columns[0]) of \(term.name) (log-odds)"),
                          y: Axis(LinearScale(lower: yLow, upper: yHigh), title: "\(columns[1]) of \(term.name) (log-odds per unit)"),
                          marks: marks)
        let subset: Wording? = shown.count < levels.count
            ? "Showing \(shown.count) of \(levels.count) levels, evenly spaced in the order of the levels "
                + "(\(setting: "maxLevels") to change)."
            : nil
        let ownText = hasOwn
            ? "own-data estimate (the level's own likelihood with the rest of the model at the EB fit and a N(0, 10²) "
                + "ridge; beyond the axes, at the edge) → "
            : "(no own-data estimates: give the fit's data with --data) "
        var legend: [LegendEntry] = []
        if hasOwn { legend.append(LegendEntry("own data", .point(Palette.orange))) }
        legend += [LegendEntry("empirical-Bayes mode", .point(Palette.bluishGreen)),
                   LegendEntry("posterior mean", .point(Palette.blue)),
                   LegendEntry("90% of N(0, Σ), EB", .line(Stroke(Palette.bluishGreen, width: 1.2, dash: [5, 3]))),
                   LegendEntry("90% of N(0, Σ), posterior means", .line(Stroke(Palette.blue, width: 1.2, dash: [2, 2])))]
        return Figure(chart: Chart(title: "Shrinkage of the effects of \(term.name) in two dimensions",
                                   caption: "Each level: " + ownText + "empirical-Bayes mode (\(eb.program), Σ fixed "
                                   + "at its estimate) → posterior mean (\(drawsText(run))). Levels are drawn towards "
                                   + "0, most where they have least data, and along the long axis of Σ.",
                                   panels: [panel], panelWidth: 520, panelHeight: 440, legend: legend),
                      note: subset,
                      header: ["term", "level", "observations", "own_\(columns[0])", "own_\(columns[1])",
                               "eb_\(columns[0])", "eb_\(columns[1])", "posterior_\(columns[0])",
                               "posterior_\(columns[1])"],
                      rows: rows)
    }
}
