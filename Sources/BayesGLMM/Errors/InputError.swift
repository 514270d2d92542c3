/// Bad input — a data file, a formula that does not fit the data, a bad
/// setting — described so that the user can find and fix it: the file, the
/// 1-based line, the column name, the setting, and what was expected.
///
/// The library speaks of the model, the data and its own settings (`setting`
/// names one, as "draws" or "output"); the command-line tool names the flag
/// that sets it and exits with status 2.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unreadableFile, emptyData, malformedCSV, duplicateColumn, unknownColumn
        case nonNumeric, notBinary, negativeCount, successesExceedTrials, notWholeNumber
        case missingValues, singleLevel, rankDeficient, wrongColumnType, unsupported, badOption
        /// The response does not vary (all successes or all failures), so a
        /// maximum-likelihood fit does not exist.
        case noVariation
        /// A fixed-effect column separates successes from failures (complete
        /// or quasi-complete separation), so a maximum-likelihood fit does
        /// not exist.
        case separation
        /// A number that is not finite (`Inf`, or a value beyond double
        /// precision such as `1e309`) where a finite one is needed.
        case notFinite
        /// An output that exists and may not be replaced.
        case outputExists
    }

    public var kind: Kind
    public var message: String
    /// The file the problem is in, if any.
    public var file: String?
    /// 1-based line in `file` (the header is line 1).
    public var line: Int?
    /// The column (variable) the problem is in.
    public var column: String?
    /// The setting the problem is in, by its library name ("draws",
    /// "output", "prior"); a front end names it as its user sets it.
    public var setting: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: String? = nil,
                setting: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.setting = setting
    }

    /// `data.csv, line 17, column "y": expected 0 or 1, found "2"`.
    public var description: String { described(setting: setting.map { "the setting '\($0)'" }) }

    /// The description with the setting named as `setting` (a front end's
    /// flag, say), before the place in the file.
    public func described(setting name: String?) -> String {
        var place: [String] = []
        if let name { place.append(name) }
        if let file { place.append(file) }
        if let line { place.append("line \(line)") }
        if let column { place.append("column \"\(column)\"") }
        return place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
    }
}
