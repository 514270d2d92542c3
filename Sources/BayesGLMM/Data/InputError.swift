/// Bad input — a data file, a formula that does not fit the data, a bad
/// option value — described so that the user can find and fix it: the file,
/// the 1-based line, the column name, and what was expected.
///
/// The command-line tool prints `description` and exits with status 2.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unreadableFile, emptyData, malformedCSV, duplicateColumn, unknownColumn
        case nonNumeric, notBinary, negativeCount, successesExceedTrials, notWholeNumber
        case missingValues, singleLevel, rankDeficient, wrongColumnType, unsupported, badOption
    }

    public var kind: Kind
    public var message: String
    /// The file the problem is in, if any.
    public var file: String?
    /// 1-based line in `file` (the header is line 1).
    public var line: Int?
    /// The column (variable) the problem is in.
    public var column: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// `data.csv, line 17, column "y": expected 0 or 1, found "2"`.
    public var description: String {
        var place: [String] = []
        if let file { place.append(file) }
        if let line { place.append("line \(line)") }
        if let column { place.append("column \"\(column)\"") }
        return place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
    }
}
