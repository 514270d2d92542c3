import Drawing
import Foundation

extension Figure {
    /// Partial pooling, level by level: for each level of a term, its raw
    /// observed log-odds (`LevelCounts.rawLogOdds`: the empirical logit of
    /// its successes less the overall one — no pooling), its EB conditional
    /// mode (pooled with the SD fixed at its estimate) and its posterior
    /// mean (pooled with the SD's uncertainty averaged over), joined by a
    /// line and plotted against the level's number of observations on a
    /// log axis. Levels with few observations are pulled hardest towards 0;
    /// with many, all three agree.
    ///
    /// A term with more than `maxLevels` levels shows `maxLevels` of them,
    /// evenly spaced in the order of observations (caption says so); the
    /// x positions are spread by up to ±0.06 decades, deterministically, so
    /// that levels with the same count do not hide each other (the table has
    /// the true counts). The table has a row per level shown: term, level,
    /// observations, successes, raw_log_odds, eb_mode, eb_sd,
    /// posterior_mean, posterior_sd.
    ///
    /// `counts` replaces the per-level counts recorded in fit.json (see
    /// `counts(of:dataPath:formula:)`). Throws `InputError` when the EB fit
    /// has no effects of the term, or no counts are available.
    ///
    /// A term with slopes is drawn in two dimensions (`slopeShrinkage`),
    /// its own-data estimates from the data at `dataPath` — or, without it,
    /// at the path fit.json records, when that file is there.
    public static func shrinkage(_ run: RunDirectory, term name: String?, eb: EmpiricalBayesReport, ebPath: String,
                                 counts: LevelCounts? = nil, dataPath: String? = nil, maxLevels: Int = 200)
        throws(InputError) -> Figure {
        try eb.checkComparable(with: run, path: ebPath)
        var term = try Figure.term(run, name)
        if let slopes = run.terms.filter({ $0.name == term.name && $0.columns.count > 1 }).first {
            var design: Design?
            if let path = dataPath ?? (FileManager.default.fileExists(atPath: run.data) ? run.data : nil) {
                let formula: ModelFormula
                do { formula = try ModelFormula.parse(run.formula) } catch {
                    throw InputError(.malformedCSV, "the fit's formula does not parse: \(error)", file: path)
                }
                let read = try Design(formula: formula, frame: Frame.read(csvFile: path),
                                      options: run.manifest.designOptions)
                // The data fit.json names may have changed since: used only if it still has the run's rows.
                if read.rowsUsed == run.rowsUsed { design = read } else if dataPath != nil {
                    throw InputError(.badOption, "these data have \(read.rowsUsed) rows used, the fit \(run.rowsUsed): "
                                     + "are they the data of the fit?", file: path, setting: "data")
                }
            }
            return try slopeShrinkage(run, term: slopes, eb: eb, ebPath: ebPath, design: design, maxLevels: maxLevels)
        }
        if let counts { term = RunDirectory.Term(name: term.name, levels: term.levels, counts: counts) }
        guard term.counts != nil else {
            throw InputError(.badOption, "fit.json has no per-level counts (a fit older than `compare`)",
                             file: run.path, advice: "give the data with \(setting: "data", value: "DATA.csv")")
        }
        guard eb.effects.contains(where: { $0.term == term.name }) else {
            throw InputError(.badOption, "the empirical-Bayes fit has no effects of \(term.name)", file: ebPath,
                             setting: "eb")
        }
        let comparison = try Comparison(
            eb: eb, ebPath: ebPath, formula: run.formula, fixedNames: [], terms: [term],
            hasParameter: { run.parameterIndex($0) != nil }) { requests throws(InputError) in
            try PosteriorSummary.of(run.store, parameters: requests.compactMap { run.parameterIndex($0.parameter) },
                                    thresholds: requests.map(\.threshold), first: run.drawsPerChain)
        }
        let effects = comparison.effects.filter { $0.term == term.name && $0.observations != nil }
        guard !effects.isEmpty else {
            throw InputError(.badOption, "no level of \(term.name) is both in the empirical-Bayes fit and in the "
                             + "run's draws", file: ebPath, setting: "eb",
                             advice: "refit with \(setting: "save", value: "all")?")
        }
        let order = effects.indices.sorted {
            effects[$0].observations! < effects[$1].observations!
                || (effects[$0].observations! == effects[$1].observations! && $0 < $1)
        }
        let shown = evenlySpaced(order.count, count: max(1, maxLevels)).map { effects[order[$0]] }

        var lines: [Mark] = [], raw: [Point] = [], modes: [Point] = [], means: [Point] = []
        var rows: [[String]] = []
        for (k, effect) in shown.enumerated() {
            // Golden-ratio spread: deterministic, even, with no two neighbours alike.
            let spread = (Double(k) * 0.6180339887498949).truncatingRemainder(dividingBy: 1) - 0.5
            let x = Double(effect.observations!) * pow(10, 0.12 * spread)
            let mean = effect.posterior.mean ?? .nan
            let rawValue = effect.rawLogOdds ?? .nan
            lines.append(.line([Point(x, rawValue), Point(x, effect.ebMode), Point(x, mean)],
                               Stroke(Color.gray, width: 0.8, opacity: 0.5)))
            raw.append(Point(x, rawValue)); modes.append(Point(x, effect.ebMode)); means.append(Point(x, mean))
            rows.append([effect.term, effect.level, String(effect.observations!), effect.successes.map(String.init) ?? "NA"]
                        + fields([effect.rawLogOdds, effect.ebMode, effect.ebSD, effect.posterior.mean,
                                  effect.posterior.standardDeviation]))
        }
        let marks: [Mark] = [.horizontalRule(0, Stroke(Color.ink, width: 1))] + lines + [
            .points(raw, radius: 2.4, fill: Palette.orange, opacity: 0.7),
            .points(modes, radius: 2.8, fill: Palette.bluishGreen, opacity: 0.9),
            .points(means, radius: 1.8, fill: Palette.blue, opacity: 1),
        ]
        let ys = (raw + modes + means).map(\.y)
        let panel = Panel(x: Axis(LogScale.covering(raw.map(\.x), padding: 0.03),
                                  title: "observations of the level (log scale)"),
                          y: Axis(LinearScale.covering(ys, including: [0], padding: 0.03),
                                  title: "effect of \(term.name) (log-odds)"),
                          marks: marks)
        let subset: Wording? = shown.count < effects.count
            ? "Showing \(shown.count) of \(effects.count) levels, evenly spaced in the order of observations "
                + "(\(setting: "maxLevels") to change)."
            : nil
        return Figure(chart: Chart(title: "Shrinkage of the effects of \(term.name)",
                                   caption: "Each level: raw log-odds (its empirical logit less the overall one, no "
                                   + "pooling) → empirical-Bayes mode (\(eb.program), SD fixed at its estimate) → "
                                   + "posterior mean (\(drawsText(run))), joined by a grey line. Levels with few "
                                   + "observations are pulled hardest towards 0. Positions spread by up to "
                                   + "±0.06 decades so that equal counts do not overlap.",
                                   panels: [panel], panelWidth: 600, panelHeight: 340,
                                   legend: [LegendEntry("raw log-odds", .point(Palette.orange)),
                                            LegendEntry("empirical-Bayes mode", .point(Palette.bluishGreen)),
                                            LegendEntry("posterior mean", .point(Palette.blue))]),
                      note: subset,
                      header: ["term", "level", "observations", "successes", "raw_log_odds", "eb_mode", "eb_sd",
                               "posterior_mean", "posterior_sd"],
                      rows: rows)
    }

    /// The trials and successes of each level of `term`, counted again from
    /// the data file of the fit (for fits whose fit.json predates the
    /// recorded counts), aligned with the term's levels. Throws `InputError`
    /// naming the file when it does not fit the formula or lacks a level.
    public static func counts(of term: RunDirectory.Term, dataPath: String, formula text: String,
                              options: DesignOptions = DesignOptions()) throws(InputError) -> LevelCounts {
        let formula: ModelFormula
        do { formula = try ModelFormula.parse(text) } catch {
            throw InputError(.malformedCSV, "the fit's formula does not parse: \(error)", file: dataPath)
        }
        let design = try Design(formula: formula, frame: Frame.read(csvFile: dataPath), options: options)
        guard let random = design.randomTerms.first(where: { $0.name == term.name }) else {
            throw InputError(.badOption, "the model on these data has no term \(term.name)", file: dataPath,
                             setting: "data")
        }
        let counted = LevelCounts(term: random, design: design)
        let position = Dictionary(counted.levels.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var observations: [Int] = [], successes: [Int] = []
        for level in term.levels {
            guard let k = position[level] else {
                throw InputError(.badOption, "no level \(level) of \(term.name) in these data: are they the data "
                                 + "of the fit?", file: dataPath, setting: "data")
            }
            observations.append(counted.observations[k]); successes.append(counted.successes[k])
        }
        return LevelCounts(term: term.name, levels: term.levels, observations: observations, successes: successes)
    }
}
