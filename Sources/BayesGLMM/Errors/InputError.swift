/// Bad input — a data file, a formula that does not fit the data, a bad
/// setting — described so that the user can find and fix it: the file, the
/// 1-based line, the column name, the setting, and what was expected.
///
/// The library speaks of the model, the data and its own settings (`setting`
/// names one, as "draws" or "output"; `advice` may name others, as
/// `Setting`s); the command-line tool names the flag that sets each and
/// exits with status 2.
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
        /// An output that holds a run, which is replaced only on request.
        case outputExists
        /// A prior weight that is not a finite number above 0.
        case badWeight
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
    /// What the user may do about it, after the message: "drop them with
    /// \(setting: "missing", value: "drop")". Its settings are named apart
    /// from its words, so that a front end names them as its user sets them.
    public var advice: Wording?

    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: String? = nil,
                setting: String? = nil, advice: Wording? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.setting = setting
        self.advice = advice
    }

    /// `data.csv, line 17, column "y": expected 0 or 1, found "2"`, with the
    /// settings in the library's words (`Setting.description`).
    public var description: String { described(naming: \.description) }

    /// The description with every setting — the one the problem is in, which
    /// comes before the place in the file, and those of the advice — named
    /// by `name` (a front end's flag, say).
    public func described(naming name: (Setting) -> String) -> String {
        var place: [String] = []
        if let setting { place.append(name(Setting(setting))) }
        if let file { place.append(file) }
        if let line { place.append("line \(line)") }
        if let column { place.append("column \"\(column)\"") }
        let text = message + (advice.map { "; " + $0.rendered(naming: name) } ?? "")
        return place.isEmpty ? text : place.joined(separator: ", ") + ": " + text
    }
}
