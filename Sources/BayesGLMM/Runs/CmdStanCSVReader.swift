import Foundation

/// One chain's output CSV as CmdStan writes it (and as `CmdStanCSVWriter`
/// writes it): comment lines starting with `#` anywhere in the file, a
/// header of column names, and one line of numbers per draw.
///
/// This is not general CSV: there is no quoting, names contain no commas
/// and every field of a draw is a number (`nan`, `inf` and `-inf` in any
/// case are accepted).
public struct CmdStanCSV: Sendable, Equatable {
    /// The file read.
    public let path: String
    /// The comment lines in file order, without the `#` and the one space
    /// that usually follows it (`# num_warmup = 1000` gives `num_warmup = 1000`).
    public let comments: [String]
    /// The column names from the header, e.g. `lp__`, `accept_stat__`,
    /// `beta[1]`, `sd(client)`.
    public let names: [String]
    /// The draws, one row per draw and one value per column of `names`,
    /// without the warm-up draws (see `droppedWarmupDraws`).
    public let rows: [[Double]]
    /// How many leading draws were dropped as warm-up: ceil(num_warmup / thin)
    /// when the comments say `save_warmup = 1` (or `true`), else 0.
    public let droppedWarmupDraws: Int

    /// A value built in memory (for tests and writers).
    public init(path: String, comments: [String], names: [String], rows: [[Double]], droppedWarmupDraws: Int = 0) {
        self.path = path
        self.comments = comments
        self.names = names
        self.rows = rows
        self.droppedWarmupDraws = droppedWarmupDraws
    }

    /// The draws of column `index`, in order.
    public func column(_ index: Int) -> [Double] {
        rows.map { $0[index] }
    }

    /// Reads a CmdStan output CSV file.
    ///
    /// - Throws: `InputError` naming the file and, where there is one, the
    ///   1-based line and the column: the file cannot be read, has no header,
    ///   has an empty or repeated column name, a draw with the wrong number of
    ///   fields or a field that is not a number, or no draws (after dropping
    ///   saved warm-up draws).
    public static func read(path: String) throws(InputError) -> CmdStanCSV {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw InputError(.unreadableFile, reason, file: path)
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses the text of a CmdStan output CSV file; `path` is used in
    /// errors. See `read(path:)`.
    public static func parse(_ text: String, path: String) throws(InputError) -> CmdStanCSV {
        var comments: [String] = []
        var names: [String]?
        var headerLine = 0
        var rows: [[Double]] = []
        var lineNumber = 0
        let newline = UInt8(ascii: "\n"), comma = UInt8(ascii: ",")

        for lineBytes in text.utf8.split(separator: newline, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(lineBytes)
            if line.utf8.last == UInt8(ascii: "\r") { line = Substring(line.utf8.dropLast()) }
            let trimmed = line.trimmingSpacesAndTabs()
            if trimmed.hasPrefix("#") {
                var comment = trimmed.dropFirst()
                if comment.hasPrefix(" ") { comment = comment.dropFirst() }
                comments.append(String(comment))
                continue
            }
            if trimmed.isEmpty { continue }

            guard let columns = names else {
                let header = trimmed.utf8.split(separator: comma, omittingEmptySubsequences: false)
                    .map { String(Substring($0).trimmingSpacesAndTabs()) }
                if let empty = header.firstIndex(of: "") {
                    throw InputError(.malformedCSV, "the header has an empty column name (field \(empty + 1))",
                                     file: path, line: lineNumber)
                }
                var seen = Set<String>()
                for name in header where !seen.insert(name).inserted {
                    throw InputError(.duplicateColumn, "the header names this column twice",
                                     file: path, line: lineNumber, column: name)
                }
                names = header
                headerLine = lineNumber
                continue
            }

            let fields = trimmed.utf8.reduce(1) { $1 == comma ? $0 + 1 : $0 }
            guard fields == columns.count else {
                throw InputError(.malformedCSV,
                                 "expected \(columns.count) fields (one per column of the header), found \(fields)",
                                 file: path, line: lineNumber)
            }
            var row: [Double] = []
            row.reserveCapacity(columns.count)
            // A loop over the bytes rather than `split`, which would make an
            // array of every line's fields first.
            let bytes = trimmed.utf8
            var fieldStart = bytes.startIndex, index = fieldStart
            while true {
                guard index == bytes.endIndex || bytes[index] == comma else {
                    index = bytes.index(after: index)
                    continue
                }
                let field = Substring(bytes[fieldStart..<index]).trimmingSpacesAndTabs()
                guard let value = number(field) else {
                    let shown = field.isEmpty ? "an empty field" : "\"\(field)\""
                    throw InputError(.nonNumeric, "expected a number, found \(shown)",
                                     file: path, line: lineNumber, column: columns[row.count])
                }
                row.append(value)
                guard index != bytes.endIndex else { break }
                index = bytes.index(after: index)
                fieldStart = index
            }
            rows.append(row)
        }

        guard let names else {
            throw InputError(.emptyData, "no header: the file has no line that is not a comment",
                             file: path, line: max(lineNumber, 1))
        }
        let warmup = savedWarmupDraws(comments)
        guard rows.count > warmup else {
            let detail = warmup > 0
                ? "no draws after the \(warmup) saved warm-up draws (save_warmup is on)" : "no draws after the header"
            throw InputError(.emptyData, detail, file: path, line: headerLine)
        }
        return CmdStanCSV(path: path, comments: comments, names: names, rows: Array(rows.dropFirst(warmup)),
                          droppedWarmupDraws: warmup)
    }

    /// A field as a number: decimal or scientific notation, or `nan`, `inf`,
    /// `-inf` (also `+inf`, `infinity`) in any case.
    static func number(_ field: Substring) -> Double? {
        guard !field.isEmpty else { return nil }
        // Swift's parser also takes hexadecimal and "nan(…)"; CmdStan writes
        // neither, so insist on the characters of a decimal number.
        if field.utf8.allSatisfy({ byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
        }) {
            return Double(field)
        }
        switch field.lowercased() {
        case "nan", "-nan", "+nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }

    /// The number of warm-up draws at the top of the file: ceil(num_warmup /
    /// thin) when the settings in the comments say `save_warmup = 1` or
    /// `true`, else 0.
    static func savedWarmupDraws(_ comments: [String]) -> Int {
        var settings: [String: String] = [:]
        for comment in comments {
            let parts = comment.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = String(parts[0].trimmingSpacesAndTabs())
            // "num_warmup = 1000 (Default)": the first word is the value.
            guard let value = parts[1].split(separator: " ").first, settings[key] == nil else { continue }
            settings[key] = String(value)
        }
        guard let save = settings["save_warmup"]?.lowercased(), save == "1" || save == "true",
              let warmup = settings["num_warmup"].flatMap({ Int($0) }), warmup > 0 else { return 0 }
        let thin = max(settings["thin"].flatMap { Int($0) } ?? 1, 1)
        // Rounded up without forming warmup + thin - 1, which overflows for
        // num_warmup near Int.max.
        return warmup / thin + (warmup % thin == 0 ? 0 : 1)
    }
}

fileprivate extension Substring {
    /// Without leading and trailing spaces and tabs (compared as bytes, which
    /// is much faster than comparing characters).
    func trimmingSpacesAndTabs() -> Substring {
        let bytes = utf8
        func blank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, blank(bytes[start]) { start = bytes.index(after: start) }
        while start < end {
            let before = bytes.index(before: end)
            guard blank(bytes[before]) else { break }
            end = before
        }
        return self[start..<end]
    }
}
