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

    /// The scores as RFC 4180 CSV (`header` and `rows`).
    public func csv(_ candidates: Candidates, scores: [Score]) -> String {
        Comparison.csv(header: header(candidates, scores: scores), rows: rows(candidates, scores: scores))
    }
}
