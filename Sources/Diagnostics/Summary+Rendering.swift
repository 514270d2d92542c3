import Foundation

// Renderings of a computed `Summary`: a plain-text table for people, CSV and
// JSON for programs. Nothing here computes a diagnostic.

extension Summary {
    /// A plain-text table in the manner of posterior's printed summary:
    /// variables left-aligned, numbers right-aligned; locations, scales and
    /// MCSEs to `significantDigits` significant digits, R-hat to 2 decimals
    /// and ESS as whole numbers; "NA" where not available.
    public func textTable(significantDigits: Int = 3) -> String {
        let header = ["variable"] + columns.map(\.rawValue)
        let body = rows.map { row in
            [row.variable] + columns.map { Summary.display(row[$0], column: $0, significantDigits: significantDigits) }
        }
        let table = [header] + body
        let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.map { cells in
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// CSV with a header row, one row per variable; numbers in the shortest
    /// form that reads back to the same double; "NA", "Inf", "-Inf" as R
    /// writes them. Variable names are quoted when they need to be.
    public func csv() -> String {
        var lines = [(["variable"] + columns.map(\.rawValue)).joined(separator: ",")]
        for row in rows {
            let cells = [Summary.csvField(row.variable)] + columns.map { column -> String in
                guard let value = row[column] else { return "NA" }
                if value.isInfinite { return value > 0 ? "Inf" : "-Inf" }
                return "\(value)"
            }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JSON: an array with one object per variable, keys as the CSV header.
    /// Not available is `null`; infinities, which JSON numbers cannot hold,
    /// are the strings "Inf" and "-Inf".
    public func json() -> String {
        let objects = rows.map { row -> String in
            let fields = ["\"variable\": " + Summary.jsonString(row.variable)] + columns.map { column -> String in
                let value: String
                if let x = row[column] {
                    value = x.isInfinite ? (x > 0 ? "\"Inf\"" : "\"-Inf\"") : "\(x)"
                } else {
                    value = "null"
                }
                return "\"\(column.rawValue)\": \(value)"
            }
            return "  {" + fields.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    static func display(_ value: Double?, column: SummaryColumn, significantDigits: Int) -> String {
        guard let value else { return "NA" }
        if value.isInfinite { return value > 0 ? "Inf" : "-Inf" }
        switch column {
        case .rhat: return String(format: "%.2f", value)
        case .essBulk, .essTail: return String(format: "%.0f", value)
        default: return String(format: "%.\(max(significantDigits, 1))g", value)
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
