import CSV
import Foundation

// Reading a `Frame` from comma-separated text.
//
// The text is split into records by yaslab/CSV.swift (`CSVReader`), which
// streams a file through a fixed 64 KiB buffer, so memory grows with the
// typed columns only, not with the size of the file. This file adds what the
// library does not do: the header rules, the field-count check, the 1-based
// physical line of every record, the typing of columns as R's `read.csv`
// would type them, and errors that name the file, line and column.
//
// Rules, in brief:
// - The first line is the header. Names are trimmed of surrounding
//   whitespace; an empty or repeated name is an error.
// - A UTF-8 byte-order mark is skipped; LF, CRLF and CR line endings are
//   accepted; fields may be quoted (`"a, b"`, with `""` for a quote inside).
// - Blank lines are skipped wherever they are (as `read.csv` does with its
//   default `blank.lines.skip = TRUE`); every other record must have exactly
//   as many fields as the header.
// - A column is numeric when every entry is a number as R reads one or is
//   missing; otherwise it is a factor. See `CSVField`.
// - `Frame.lines` holds the physical line on which each data record starts.
//   Line breaks inside quoted fields are counted, so the numbers stay exact
//   after a multi-line field.
// - A column of numbers that meets text part way down becomes a factor whose
//   levels keep the numbers' spelling (`2.0` stays `2.0`). Only numbers are
//   kept on the first pass, so such a column costs a second pass over the
//   rows before its first text entry.
//
// Limits that come from the library:
// - It gives a blank line and a line holding only `""` alike, so in a
//   one-column file a `""` line is skipped as blank rather than read as a
//   missing value.
// - It ends a quoted field that is never closed at the end of the input
//   without complaint; `CSVLoader.checkClosingQuote` catches the case where
//   that swallows later lines.
// - It costs about 1.6 s of the 2 s that reading 10^6 rows of 5 columns
//   (23 MB) takes in a release build: it decodes byte by byte through
//   iterators and builds a `String` per field. Peak memory is about 60 MB.

extension Frame {
    /// Reads the CSV file at `path`.
    ///
    /// The file is streamed, so memory holds the typed columns rather than the
    /// text. See `read(csvText:source:)` for the rules; errors name `path` as
    /// their file.
    ///
    /// - Throws: `InputError` of kind `.unreadableFile` when the file is
    ///   missing, a directory, or cannot be read; otherwise as for
    ///   `read(csvText:source:)`.
    public static func read(csvFile path: String) throws(InputError) -> Frame {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(.unreadableFile, "no such file", file: path)
        }
        guard !isDirectory.boolValue else {
            throw InputError(.unreadableFile, "is a directory, not a CSV file", file: path)
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InputError(.unreadableFile, "permission denied", file: path)
        }
        let endsWithQuote = {
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            guard let size = try? handle.seekToEnd() else { return false }
            try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
            let tail = (try? handle.readToEnd()) ?? Data()
            return CSVLoader.endsWithQuote(tail)
        }
        return try CSVLoader(source: path, endsWithQuote: endsWithQuote) { () throws(InputError) -> CSVRecords in
            guard let stream = InputStream(fileAtPath: path) else {
                throw InputError(.unreadableFile, "cannot open the file", file: path)
            }
            do {
                let reader = try CSVReader(stream: stream, hasHeaderRow: false)
                return CSVRecords(reader: reader, source: path, stream: stream)
            } catch {
                throw CSVLoader.translate(error, source: path, line: nil)
            }
        }.load()
    }

    /// Reads CSV from a string.
    ///
    /// - Parameters:
    ///   - text: The CSV text. The first line is the header.
    ///   - source: What to call the text in error messages and in
    ///     `Frame.source`.
    /// - Throws: `InputError` of kind
    ///   - `.emptyData` when there is no header, or a header but no data rows;
    ///   - `.malformedCSV` when a header name is empty, a record has a
    ///     different number of fields from the header, or the text is not
    ///     UTF-8;
    ///   - `.duplicateColumn` when two header names are the same.
    public static func read(csvText text: String, source: String = "<memory>") throws(InputError) -> Frame {
        // The library skips a byte-order mark in a stream but not in a string.
        let body = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        return try CSVLoader(source: source, endsWithQuote: { CSVLoader.endsWithQuote(body.utf8) }) {
            () throws(InputError) -> CSVRecords in
            do {
                let reader = try CSVReader(string: body, hasHeaderRow: false)
                return CSVRecords(reader: reader, source: source, stream: nil)
            } catch {
                throw CSVLoader.translate(error, source: source, line: nil)
            }
        }.load()
    }
}

/// Records from a `CSVReader`, with the physical line on which each starts,
/// blank lines skipped and the library's deferred errors raised as
/// `InputError`s.
struct CSVRecords {
    private let reader: CSVReader
    private let source: String
    /// The file's stream, when reading a file.
    private let stream: InputStream?
    /// The physical line on which the next record starts.
    private(set) var nextLine = 1
    /// The number of line breaks inside the fields of the last record read.
    private(set) var lastInnerBreaks = 0
    /// The line on which the last record read starts.
    private(set) var lastLine = 1

    init(reader: CSVReader, source: String, stream: InputStream?) {
        self.reader = reader
        self.source = source
        self.stream = stream
    }

    /// The next record, blank or not, and its first line; nil at the end.
    mutating func nextRecord() throws(InputError) -> (fields: [String], line: Int)? {
        let line = nextLine
        let row = reader.next()
        // The library reports bad bytes and read failures by ending the input
        // early and keeping the error aside, so look at it after every record.
        if let error = reader.error, !isEndOfFile(error) {
            throw CSVLoader.translate(error, source: source, line: line)
        }
        guard let row else { return nil }
        var breaks = 0
        for field in row { breaks += CSVField.lineBreaks(in: field) }
        lastInnerBreaks = breaks
        lastLine = line
        nextLine += 1 + breaks
        return (row, line)
    }

    /// Whether the library's error only marks the end of a file.
    ///
    /// At the end of a file, Foundation's `InputStream.hasBytesAvailable`
    /// stays true on Linux until a read returns nothing, so the library asks
    /// for one more byte, gets none, and records `.cannotReadFile` although
    /// the whole file was read. A failed read would leave the stream in
    /// `.error`, not `.atEnd`.
    private func isEndOfFile(_ error: any Error) -> Bool {
        guard case .cannotReadFile? = error as? CSVError, let stream else { return false }
        return stream.streamStatus == .atEnd
    }

    /// The next record that is not a blank line, and its first line.
    mutating func nextDataRecord() throws(InputError) -> (fields: [String], line: Int)? {
        while let record = try nextRecord() {
            if record.fields.count == 1 && record.fields[0].isEmpty { continue }
            return record
        }
        return nil
    }
}

/// Reads one CSV source into a `Frame`.
struct CSVLoader {
    /// The file path or name used in messages.
    let source: String
    /// Whether the source's last character other than line breaks is a
    /// double quote.
    let endsWithQuote: () -> Bool
    /// Makes a reader positioned at the start of the source. Called a second
    /// time only when a column turns from numbers to text part way through.
    let open: () throws(InputError) -> CSVRecords

    /// Maps an error from the CSV library to an `InputError`.
    static func translate(_ error: any Error, source: String, line: Int?) -> InputError {
        guard let error = error as? CSVError else {
            return InputError(.unreadableFile, "cannot read the file: \(error)", file: source, line: line)
        }
        switch error {
        case .unicodeDecoding, .stringEncodingMismatch, .stringEndianMismatch:
            return InputError(.malformedCSV, "the text is not valid UTF-8", file: source, line: line)
        case .cannotReadHeaderRow:
            return InputError(.emptyData, "there is no header row", file: source)
        case .streamErrorHasOccurred(let cause):
            return InputError(.unreadableFile, "cannot read the file: \(cause.localizedDescription)", file: source, line: line)
        case .cannotOpenFile:
            return InputError(.unreadableFile, "cannot open the file", file: source)
        case .cannotReadFile, .cannotWriteStream:
            return InputError(.unreadableFile, "cannot read the file", file: source, line: line)
        }
    }

    /// Whether `bytes`, less trailing line breaks, end with a double quote.
    static func endsWithQuote<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.reversed().first { $0 != 0x0A && $0 != 0x0D } == UInt8(ascii: "\"")
    }

    func load() throws(InputError) -> Frame {
        var records = try open()
        let names = try readHeader(&records)
        let width = names.count
        let builders = names.map { _ in ColumnBuilder() }
        var lines: [Int32] = []
        var rowCount = 0

        while let (fields, line) = try records.nextDataRecord() {
            guard fields.count == width else {
                if records.lastInnerBreaks > 0, try records.nextRecord() == nil {
                    try checkClosingQuote(records)
                }
                throw InputError(
                    .malformedCSV, "expected \(width) field\(width == 1 ? "" : "s"), found \(fields.count)",
                    file: source, line: line)
            }
            guard let line32 = Int32(exactly: line) else {
                throw InputError(.unsupported, "files of more than \(Int32.max) lines are not supported", file: source, line: line)
            }
            lines.append(line32)
            for column in 0..<width {
                builders[column].append(fields[column], row: rowCount)
            }
            rowCount += 1
        }
        // The library ends a quoted field that is never closed at the end of
        // the input, silently, so an unmatched quote can swallow the rest of
        // the file into one field. Such a field holds line breaks and the
        // input then does not end with the closing quote.
        try checkClosingQuote(records)
        guard rowCount > 0 else {
            throw InputError(.emptyData, "there is a header but no data rows", file: source)
        }

        try rereadTextPrefixes(builders, rowCount: rowCount)

        var columns: [String: Column] = [:]
        columns.reserveCapacity(width)
        for (name, builder) in zip(names, builders) {
            columns[name] = builder.finish()
        }
        return Frame(source: source, names: names, columns: columns, rowCount: rowCount, lines: lines)
    }

    /// Throws when the last record read ends in a quoted field that is never
    /// closed; call at the end of the input.
    private func checkClosingQuote(_ records: CSVRecords) throws(InputError) {
        if records.lastInnerBreaks > 0 && !endsWithQuote() {
            throw InputError(
                .malformedCSV, "a quoted field is not closed (a \" is missing before the end of the file)",
                file: source, line: records.lastLine)
        }
    }

    /// Reads and checks the header: trimmed, non-empty, distinct names.
    private func readHeader(_ records: inout CSVRecords) throws(InputError) -> [String] {
        guard let (fields, line) = try records.nextRecord() else {
            throw InputError(.emptyData, "the file is empty; a header row is required", file: source)
        }
        if fields.count == 1 && fields[0].isEmpty {
            throw InputError(.malformedCSV, "the header row is blank", file: source, line: line)
        }
        var seen = Set<String>()
        var names: [String] = []
        names.reserveCapacity(fields.count)
        for (index, field) in fields.enumerated() {
            let name = field.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty else {
                // R's write.csv puts its row names in an unnamed first column.
                let hint = index == 0 ? " (R's write.csv writes row names there: write with row.names = FALSE)" : ""
                throw InputError(.malformedCSV, "column \(index + 1) of the header has no name" + hint, file: source,
                                 line: line)
            }
            guard seen.insert(name).inserted else {
                throw InputError(.duplicateColumn, "the column name appears more than once", file: source, line: line, column: name)
            }
            names.append(name)
        }
        return names
    }

    /// Second pass, for columns that held numbers before their first text
    /// entry: reads the source again up to the last such row, to recover the
    /// text of the numbers the first pass did not keep.
    private func rereadTextPrefixes(_ builders: [ColumnBuilder], rowCount: Int) throws(InputError) {
        let pending = builders.indices.filter { builders[$0].needsPrefixText }
        guard let end = pending.map({ builders[$0].textStart }).max() else { return }
        var records = try open()
        _ = try records.nextRecord()  // the header
        var prefixes = pending.map { _ in FactorBuilder() }
        var row = 0
        while row < end, let (fields, line) = try records.nextDataRecord() {
            guard fields.count == builders.count else {
                throw InputError(.unreadableFile, "the file changed while it was being read", file: source, line: line)
            }
            for (slot, column) in pending.enumerated() where row < builders[column].textStart {
                prefixes[slot].append(fields[column])
            }
            row += 1
        }
        guard row == end else {
            throw InputError(.unreadableFile, "the file changed while it was being read", file: source)
        }
        for (slot, column) in pending.enumerated() {
            builders[column].prependText(prefixes[slot])
        }
    }
}

/// Factor codes and levels in order of first appearance.
struct FactorBuilder {
    var codes: [Int32] = []
    var levels: [String] = []
    var index: [String: Int32] = [:]

    mutating func append(_ field: String) {
        codes.append(code(for: field))
    }

    mutating func appendMissing(count: Int) {
        codes.append(contentsOf: repeatElement(-1, count: count))
    }

    private mutating func code(for field: String) -> Int32 {
        if CSVField.isMissingText(field) { return -1 }
        if let code = index[field] { return code }
        let code = Int32(levels.count)
        levels.append(field)
        index[field] = code
        return code
    }
}

/// One column while it is read: numbers until the first entry that is not
/// one, then factor codes.
final class ColumnBuilder {
    private var numbers: [Double] = []
    private var isNumeric = true
    /// Whether an entry so far would be a level were the column text: any
    /// entry but an empty one or `NA` (so a number, or `NaN`).
    private var sawLevel = false
    private var factor = FactorBuilder()
    /// The first row stored as text; rows before it were numbers or missing.
    private(set) var textStart = 0
    /// Whether the rows before `textStart` must be read again as text.
    private(set) var needsPrefixText = false

    func append(_ field: String, row: Int) {
        if isNumeric {
            switch CSVField.number(field) {
            case .value(let value):
                numbers.append(value)
                sawLevel = true
                return
            case .missing(let isNotANumber):
                numbers.append(.nan)
                sawLevel = sawLevel || isNotANumber
                return
            case .text:
                isNumeric = false
                textStart = row
                needsPrefixText = sawLevel
                if !sawLevel { factor.appendMissing(count: row) }
                numbers = []
            }
        }
        factor.append(field)
    }

    /// Puts the text of the rows before `textStart` in front of the codes
    /// read after it, keeping levels in order of first appearance.
    func prependText(_ prefix: FactorBuilder) {
        precondition(prefix.codes.count == textStart)
        var merged = prefix
        let remap = factor.levels.map { level -> Int32 in
            if let code = merged.index[level] { return code }
            let code = Int32(merged.levels.count)
            merged.levels.append(level)
            merged.index[level] = code
            return code
        }
        merged.codes.reserveCapacity(prefix.codes.count + factor.codes.count)
        for code in factor.codes {
            merged.codes.append(code < 0 ? code : remap[Int(code)])
        }
        factor = merged
        needsPrefixText = false
    }

    func finish() -> Column {
        isNumeric ? .numeric(numbers) : .factor(codes: factor.codes, levels: factor.levels)
    }
}
