import Foundation

extension Scoring {
    /// The output table's header: the candidate table's columns, then
    /// mean, q5, q50, q95, p_exceeds, one `new_TERM` flag (1 = the level was
    /// not in the fit's data, its effect drawn from N(0, σ²)) per random term,
    /// and with ranking rank, p_best, expected_regret (and thompson, 1 for
    /// the group's Thompson choice).
    public func header(_ candidates: Candidates, scores: [Score]) -> [String] {
        var header = candidates.columns + ["mean", "q5", "q50", "q95", "p_exceeds"]
        header += terms.map { "new_" + $0.name }
        if scores.first?.rank != nil { header += ["rank", "p_best", "expected_regret"] }
        if scores.first?.thompsonChoice != nil { header.append("thompson") }
        return header
    }

    /// One row of fields per candidate, aligned with `header`; numbers in
    /// Swift's shortest form that reads back exactly.
    public func rows(_ candidates: Candidates, scores: [Score]) -> [[String]] {
        precondition(scores.count == candidates.count, "one score per candidate row")
        return scores.indices.map { row in
            let score = scores[row]
            var fields = candidates.fields[row]
            fields += [score.mean, score.q5, score.q50, score.q95, score.probabilityAboveThreshold].map { "\($0)" }
            fields += terms.indices.map { candidates.isNew[$0][row] ? "1" : "0" }
            if let rank = score.rank, let best = score.probabilityBest, let regret = score.expectedRegret {
                fields += [String(rank), "\(best)", "\(regret)"]
            }
            if let choice = score.thompsonChoice { fields.append(choice ? "1" : "0") }
            return fields
        }
    }

    /// The scores as RFC 4180 CSV (`header` and `rows`), the layout
    /// `Comparison.csv` writes with CSV.swift's writer. Written here because
    /// that writer was a fifth of the time of scoring 10⁵ rows
    /// (Validation/RESULTS.md, "Match scoring (issue 8)"): it searches every
    /// field through Foundation's string bridge, where this scans the UTF-8
    /// bytes of the few fields that are text.
    public func csv(_ candidates: Candidates, scores: [Score]) -> String {
        var text = ""
        text.reserveCapacity((candidates.count + 1) * 160)
        for (number, fields) in ([header(candidates, scores: scores)] + rows(candidates, scores: scores)).enumerated() {
            if number > 0 { text += "\n" }
            for (column, field) in fields.enumerated() {
                if column > 0 { text += "," }
                Scoring.appendField(field, to: &text)
            }
        }
        return text + "\n"
    }

    /// Appends a field, in double quotes (inner quotes doubled) when it holds
    /// a comma, a quote, a carriage return or a line feed.
    static func appendField(_ field: String, to text: inout String) {
        let special = field.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"")
                                            || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
        guard special else {
            text += field
            return
        }
        text += "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
