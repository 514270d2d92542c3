import CSV
import Foundation

// Renderings of a computed `Comparison`: text for people, CSV for programs
// (and for the figures of a later issue). Nothing here computes a statistic.

extension Comparison {
    /// The CSV tables, each with a header row and one row per item. Numbers
    /// are written in the shortest form that reads back to the same double;
    /// "NA" where a value is not available, "Inf"/"-Inf" as R writes them.
    public enum Table: String, CaseIterable, Sendable {
        /// One row per standard deviation.
        case sd
        /// One row per fixed effect.
        case fixed
        /// One row per level of every term: the shrinkage table.
        case effects
        /// One row per term and bin of observations.
        case shrinkage
    }

    /// A table as CSV text.
    public func csv(_ table: Table) -> String {
        switch table {
        case .sd:
            return Comparison.csv(
                header: ["term", "eb_estimate", "posterior_mean", "posterior_median", "q5", "q95", "probability_below_eb",
                         "parameter"],
                rows: standardDeviations.map {
                    [$0.term] + Comparison.fields([$0.eb, $0.posterior.mean, $0.posterior.median, $0.posterior.q5,
                                                   $0.posterior.q95, $0.probabilityBelowEB]) + [$0.parameter]
                })
        case .fixed:
            return Comparison.csv(
                header: ["name", "eb_estimate", "eb_std_error", "posterior_mean", "posterior_sd", "q5", "q95"],
                rows: fixed.map {
                    [$0.name] + Comparison.fields([$0.eb, $0.ebStandardError, $0.posterior.mean,
                                                   $0.posterior.standardDeviation, $0.posterior.q5, $0.posterior.q95])
                })
        case .effects:
            return Comparison.csv(
                header: ["term", "level", "observations", "successes", "raw_log_odds", "eb_mode", "eb_sd",
                         "posterior_mean", "posterior_sd", "q5", "q95", "width_ratio", "column"],
                rows: effects.map {
                    [$0.term, $0.level, $0.observations.map(String.init) ?? "NA", $0.successes.map(String.init) ?? "NA"]
                        + Comparison.fields([$0.rawLogOdds, $0.ebMode, $0.ebSD, $0.posterior.mean,
                                             $0.posterior.standardDeviation, $0.posterior.q5, $0.posterior.q95,
                                             $0.widthRatio]) + [$0.column]
                })
        case .shrinkage:
            return Comparison.csv(
                header: ["term", "observations", "levels", "mean_abs_raw_log_odds", "mean_abs_eb_mode",
                         "mean_abs_posterior_mean", "mean_width_ratio"],
                rows: ShrinkageBin.bins(effects).map {
                    [$0.term, $0.label, String($0.levels)]
                        + Comparison.fields([$0.meanAbsoluteRaw, $0.meanAbsoluteEB, $0.meanAbsolutePosterior,
                                             $0.meanWidthRatio])
                })
        }
    }

    /// The report for people: the SD table, the fixed effects, shrinkage by
    /// number of observations, each term's effects in brief (the levels with
    /// the largest differences, not every level), then the notes.
    public func text(heading: [String] = []) -> String {
        var sections: [String] = heading.isEmpty ? [] : [heading.joined(separator: "\n")]
        if !standardDeviations.isEmpty {
            sections.append("Standard deviations (P(sd < EB): fraction of draws below the EB estimate)\n" + TextTable(
                header: ["term", "EB", "median", "q5", "q95", "P(sd < EB)"], leftAligned: 1,
                rows: standardDeviations.map {
                    [$0.label] + [$0.eb, $0.posterior.median, $0.posterior.q5, $0.posterior.q95].map(TextTable.number)
                        + [$0.probabilityBelowEB.map { String(format: "%.3f", $0) } ?? "NA"]
                }).text)
        }
        if !fixed.isEmpty {
            sections.append("Fixed effects\n" + TextTable(
                header: ["name", "EB", "EB se", "mean", "sd", "q5", "q95"], leftAligned: 1,
                rows: fixed.map {
                    [$0.name] + [$0.eb, $0.ebStandardError, $0.posterior.mean, $0.posterior.standardDeviation,
                                 $0.posterior.q5, $0.posterior.q95].map(TextTable.number)
                }).text)
        }
        let bins = ShrinkageBin.bins(effects)
        if !bins.isEmpty {
            sections.append("Shrinkage by number of observations per level (means over the levels; raw: "
                + "empirical log-odds less the overall;\nwidth ratio: posterior 90% interval / EB's mode ± 1.645 sd)\n"
                + TextTable(header: ["term", "observations", "levels", "|raw|", "|EB mode|", "|posterior mean|",
                                     "width ratio"], leftAligned: 2,
                            rows: bins.map {
                                [$0.term, $0.label, String($0.levels)]
                                    + [$0.meanAbsoluteRaw, $0.meanAbsoluteEB, $0.meanAbsolutePosterior,
                                       $0.meanWidthRatio].map(TextTable.number)
                            }).text)
        }
        for summary in TermEffectsSummary.summaries(effects) {
            let line = "Effects of \(summary.term): \(summary.levels) levels compared; median width ratio "
                + TextTable.number(summary.medianWidthRatio) + "; mean |posterior mean - EB mode| "
                + TextTable.number(summary.meanAbsoluteDifference) + ". Largest differences:"
            sections.append(line + "\n" + TextTable(
                header: ["level", "observations", "successes", "raw", "EB mode", "EB sd", "mean", "sd",
                         "width ratio"], leftAligned: 1,
                rows: summary.largestDifferences.map {
                    [$0.level, $0.observations.map(String.init) ?? "NA", $0.successes.map(String.init) ?? "NA"]
                        + [$0.rawLogOdds, $0.ebMode, $0.ebSD, $0.posterior.mean, $0.posterior.standardDeviation,
                           $0.widthRatio].map(TextTable.number)
                }).text)
        }
        if !notes.isEmpty {
            sections.append("Notes\n" + notes.map { "- " + $0 }.joined(separator: "\n") + "\n")
        }
        return sections.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(separator: "\n")
    }

    /// Numbers as CSV fields.
    static func fields(_ values: [Double?]) -> [String] {
        values.map { value in
            guard let value, !value.isNaN else { return "NA" }
            if value.isInfinite { return value > 0 ? "Inf" : "-Inf" }
            return "\(value)"
        }
    }

    /// RFC 4180 CSV by yaslab/CSV.swift's writer (fields with commas, quotes
    /// or line breaks quoted), lines ending in "\n".
    static func csv(header: [String], rows: [[String]]) -> String {
        let stream = OutputStream.toMemory()
        stream.open()
        defer { stream.close() }
        // Writing to memory cannot fail.
        guard let writer = try? CSVWriter(stream: stream) else { return "" }
        for row in [header] + rows { try? writer.write(row: row) }
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// A plain-text table: the first `leftAligned` columns left-aligned, the
/// others (numbers) right-aligned, columns two spaces apart.
struct TextTable {
    let header: [String]
    let leftAligned: Int
    let rows: [[String]]

    var text: String {
        let table = [header] + rows
        let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.map { cells in
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c < leftAligned ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    /// Three significant digits; "NA" when not available.
    static func number(_ value: Double?) -> String {
        guard let value, !value.isNaN else { return "NA" }
        return String(format: "%.3g", value)
    }
}
