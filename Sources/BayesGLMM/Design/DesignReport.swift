import Foundation

/// A plain-text description of a design, for `bayesglmm describe`.
public struct DesignReport: Sendable {
    public let text: String

    public init(_ d: Design) {
        var lines: [String] = []
        func number(_ x: Int) -> String {
            let f = NumberFormatter()
            f.numberStyle = .decimal
            f.groupingSeparator = ","
            return f.string(from: NSNumber(value: x)) ?? String(x)
        }
        lines.append("model:     \(d.formula)")
        lines.append("data:      \(d.source)")
        var rows = "rows:      \(number(d.rowsRead)) read, \(number(d.rowsUsed)) used"
        if d.rowsDropped > 0 { rows += ", \(number(d.rowsDropped)) dropped (missing values in used columns)" }
        lines.append(rows)
        let s = d.successes.reduce(0, +), n = d.trials.reduce(0, +)
        // Weights may make fractional counts.
        func count(_ x: Double) -> String { x == x.rounded() ? number(Int(x)) : Levels.rName(x) }
        lines.append(n > 0 ? String(format: "response:  %@ successes in %@ trials (%.1f%%)",
                                    count(s), count(n), 100 * s / n)
                           : "response:  no trials (every count is 0)")
        if let weights = d.weightsColumn { lines.append("weights:   \(weights) (each row counts w·y successes in w trials)") }
        if d.hasOffset {
            let low = d.offsets.min()!, high = d.offsets.max()!
            lines.append("offset:    " + d.offsetVariables.joined(separator: " + ")
                         + String(format: " (from %.3g to %.3g)", low, high))
        }
        lines.append("fixed:     \(d.fixedNames.isEmpty ? "(none)" : d.fixedNames.joined(separator: ", "))")
        lines.append("cells:     \(number(d.cellCount)) binomial cells (\(String(format: "%.2f", n / Double(d.cellCount))) trials per cell)")
        if d.randomTerms.isEmpty {
            lines.append("random intercepts: none (a logistic regression without random effects)")
        } else {
            lines.append(d.hasSlopes ? "random terms:" : "random intercepts:")
            let width = d.randomTerms.map(\.name.count).max()!
            for term in d.randomTerms {
                var trials = [Double](repeating: 0, count: term.levelCount)
                for (cell, level) in term.levelOfCell.enumerated() { trials[Int(level)] += d.trials[cell] }
                trials.sort()
                let median = trials.count % 2 == 1 ? trials[trials.count / 2]
                    : (trials[trials.count / 2 - 1] + trials[trials.count / 2]) / 2
                let name = term.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let effects = term.isInterceptOnly ? ""
                    : "; effects " + term.columns.joined(separator: ", ")
                        + (term.dimension > 1 ? " (correlated)" : "")
                lines.append("  \(name)  \(number(term.levelCount)) levels; trials per level: "
                             + "min \(Int(trials.first!)), median \(median.formatted()), max \(Int(trials.last!))"
                             + effects)
            }
            // Balance: how many of the possible combinations of two crossed
            // single-factor terms occur.
            let singles = d.randomTerms.filter { $0.factors.count == 1 }
            for i in 0..<singles.count {
                for j in (i + 1)..<singles.count {
                    var seen = Set<Int64>()
                    for c in 0..<d.cellCount {
                        seen.insert(Int64(singles[i].levelOfCell[c]) << 32 | Int64(singles[j].levelOfCell[c]))
                    }
                    let possible = singles[i].levelCount * singles[j].levelCount
                    lines.append(String(format: "  %@ x %@: %@ of %@ combinations observed (%.1f%%)",
                                        singles[i].name, singles[j].name, number(seen.count), number(possible),
                                        100 * Double(seen.count) / Double(possible)))
                }
            }
        }
        text = lines.joined(separator: "\n")
    }
}
