import Diagnostics
import Drawing
import Foundation

extension Figure {
    /// One bin of a calibration plot.
    struct CalibrationBin {
        var rows = 0, trials = 0, successes = 0
        var predictedSum = 0.0, lowest = Double.infinity, highest = -Double.infinity
    }

    /// Calibration of match scores on held-out data: the rows of a
    /// `bayesglmm score` table, whose candidate columns include the observed
    /// outcome, are sorted by predicted success probability (`mean`) and cut
    /// into ten bins of (nearly) equal numbers of rows (deciles); each bin's
    /// observed success rate is plotted against its mean predicted
    /// probability (both weighted by trials), with the exact (Clopper &
    /// Pearson 1934) 90% binomial interval of the observed rate. Calibrated
    /// scores lie on the diagonal within their intervals.
    ///
    /// `response` names the outcome: one 0/1 column, or two count columns
    /// (successes, failures) as a `cbind(s, f)` model writes them. The table
    /// has a row per bin: bin, rows, trials, successes, lowest and highest
    /// predicted probability, mean predicted, observed rate, lower and upper
    /// interval ends. Throws `InputError` naming the file (and line and
    /// column) for a missing `mean` or response column, a missing or bad
    /// value, or no rows.
    public static func calibration(scores frame: Frame, response: [String], bins requested: Int = 10)
        throws(InputError) -> Figure {
        let source = frame.source
        let predicted = try Figure.numericColumn(frame, "mean", role: "the predicted probability that `bayesglmm "
                                                 + "score` writes")
        precondition(response.count == 1 || response.count == 2, "one 0/1 column or successes and failures")
        var outcome: [[Double]] = []
        for name in response {
            outcome.append(try Figure.numericColumn(frame, name, role: "the observed outcome (score the held-out rows "
                                                    + "with their response column: score echoes it)"))
        }
        var trials = [Int](repeating: 1, count: frame.rowCount), successes = [Int](repeating: 0, count: frame.rowCount)
        for row in 0..<frame.rowCount {
            let line = Int(frame.lines[row])
            guard (0...1).contains(predicted[row]) else {
                throw InputError(.badOption, "expected a probability in [0, 1], found \(predicted[row])",
                                 file: source, line: line, column: "mean")
            }
            if response.count == 1 {
                let y = outcome[0][row]
                guard y == 0 || y == 1 else {
                    throw InputError(.notBinary, "expected 0 or 1, found \(Scoring.echo(y))", file: source,
                                     line: line, column: response[0])
                }
                successes[row] = Int(y)
            } else {
                for (k, name) in response.enumerated() where outcome[k][row] < 0 || outcome[k][row] != outcome[k][row].rounded() {
                    throw InputError(.notWholeNumber, "expected a count, found \(Scoring.echo(outcome[k][row]))",
                                     file: source, line: line, column: name)
                }
                successes[row] = Int(outcome[0][row])
                trials[row] = Int(outcome[0][row] + outcome[1][row])
            }
        }
        let order = predicted.indices.sorted { predicted[$0] < predicted[$1] || (predicted[$0] == predicted[$1] && $0 < $1) }
        let count = max(1, min(requested, order.count))
        var bins = [CalibrationBin](repeating: CalibrationBin(), count: count)
        for (position, row) in order.enumerated() {
            let b = position * count / order.count
            bins[b].rows += 1
            bins[b].trials += trials[row]
            bins[b].successes += successes[row]
            bins[b].predictedSum += predicted[row] * Double(trials[row])
            bins[b].lowest = min(bins[b].lowest, predicted[row])
            bins[b].highest = max(bins[b].highest, predicted[row])
        }
        bins = bins.filter { $0.trials > 0 }
        guard !bins.isEmpty else { throw InputError(.emptyData, "no trials to compare predictions with", file: source) }

        var points: [Point] = [], marks: [Mark] = [], rows: [[String]] = [], extent: [Double] = []
        for (k, bin) in bins.enumerated() {
            let meanPredicted = bin.predictedSum / Double(bin.trials)
            let observed = Double(bin.successes) / Double(bin.trials)
            let interval = Figure.clopperPearson(successes: bin.successes, trials: bin.trials, level: 0.9)
            marks.append(.segment(Point(meanPredicted, interval.lower), Point(meanPredicted, interval.upper),
                                  Stroke(Palette.blue, width: 1.5)))
            points.append(Point(meanPredicted, observed))
            extent += [meanPredicted, interval.lower, interval.upper]
            rows.append([String(k + 1), String(bin.rows), String(bin.trials), String(bin.successes)]
                        + fields([bin.lowest, bin.highest, meanPredicted, observed, interval.lower, interval.upper]))
        }
        let scale = LinearScale.covering(extent, padding: 0.05, floor: 0)
        let bounded = LinearScale(lower: scale.lower, upper: min(scale.upper, 1))
        marks.insert(.line([Point(bounded.lower, bounded.lower), Point(bounded.upper, bounded.upper)],
                           Stroke(Color.gray, width: 1.2, dash: [5, 4])), at: 0)
        marks.append(.points(points, radius: 3.5, fill: Palette.vermillion, opacity: 1))
        let total = bins.map(\.trials).reduce(0, +)
        let panel = Panel(x: Axis(bounded, title: "mean predicted success probability"),
                          y: Axis(bounded, title: "observed success rate"), marks: marks)
        return Figure(chart: Chart(title: "Calibration of the match scores",
                                   caption: "\(frame.rowCount) scored rows (\(total) trials) of \(source) in "
                                   + "\(bins.count) bins of equal numbers of rows by predicted probability; observed "
                                   + "rate with its exact 90% binomial interval against the mean prediction. The "
                                   + "dashed diagonal is perfect calibration.",
                                   panels: [panel], panelWidth: 380, panelHeight: 380,
                                   legend: [LegendEntry("observed rate in a bin", .point(Palette.vermillion)),
                                            LegendEntry("90% interval", .line(Stroke(Palette.blue, width: 1.5))),
                                            LegendEntry("perfect calibration", .line(Stroke(Color.gray, width: 1.2,
                                                                                            dash: [5, 4])))]),
                      header: ["bin", "rows", "trials", "successes", "lowest_predicted", "highest_predicted",
                               "mean_predicted", "observed", "lower", "upper"],
                      rows: rows)
    }

    /// The Clopper–Pearson interval of a binomial proportion: the
    /// (1 − level)/2 quantile of Beta(s, n − s + 1) and the (1 + level)/2
    /// quantile of Beta(s + 1, n − s), 0 and 1 at the ends. The quantiles
    /// are the Diagnostics module's, which solve the CDF where GSL's own
    /// inverse gives up (NaN at Beta(9500, 501), 0.05: 9,500 successes in
    /// 10,000 trials).
    static func clopperPearson(successes s: Int, trials n: Int, level: Double) -> (lower: Double, upper: Double) {
        let tail = (1 - level) / 2
        let lower = s == 0 ? 0 : GSL.betaQuantile(tail, Double(s), Double(n - s + 1))
        let upper = s == n ? 1 : GSL.betaQuantile(1 - tail, Double(s + 1), Double(n - s))
        return (lower, upper)
    }

    /// A numeric column of `frame` without missing values; throws naming
    /// the file, line and column.
    static func numericColumn(_ frame: Frame, _ name: String, role: String) throws(InputError) -> [Double] {
        guard let column = frame.columns[name] else {
            throw InputError(.unknownColumn, "no column \"\(name)\", \(role) (columns: "
                             + frame.names.joined(separator: ", ") + ")", file: frame.source)
        }
        guard case let .numeric(values) = column else {
            throw InputError(.nonNumeric, "expected numbers (\(role))", file: frame.source, column: name)
        }
        if let row = values.firstIndex(where: { !$0.isFinite }) {
            throw InputError(.missingValues, "expected a finite number", file: frame.source,
                             line: Int(frame.lines[row]), column: name)
        }
        return values
    }
}
