/// A data set read from CSV: named, typed columns of equal length.
///
/// Made by `Frame.read(csvFile:)` or `Frame.read(csvText:source:)`
/// (Data/Frame+CSV.swift, which gives the rules in full). A column whose
/// every non-missing entry parses as a number is numeric; any other column is
/// a factor whose levels keep their names (in first-appearance order as
/// read; the design orders them as R does).
public struct Frame: Sendable {
    /// Where the data came from, for messages (a file path or "<memory>").
    public var source: String
    /// Column names in file order.
    public var names: [String]
    /// The columns, by name.
    public var columns: [String: Column]
    public var rowCount: Int
    /// 1-based line in `source` of each row (the header is line 1), for messages.
    public var lines: [Int32]

    public init(source: String, names: [String], columns: [String: Column], rowCount: Int, lines: [Int32]) {
        self.source = source
        self.names = names
        self.columns = columns
        self.rowCount = rowCount
        self.lines = lines
    }
}

/// One column of a `Frame`.
public enum Column: Sendable, Equatable {
    /// Numbers; a missing value (empty, `NA`, `NaN`) is `Double.nan`.
    case numeric([Double])
    /// Codes into `levels`; a missing value (empty or `NA`) is −1. `levels` are
    /// the distinct strings in order of first appearance.
    case factor(codes: [Int32], levels: [String])
}
