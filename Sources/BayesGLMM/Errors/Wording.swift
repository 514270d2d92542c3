/// A setting of the library, by its library name ("missing", "maxLevels",
/// "rankBy"), and the value a message suggests for it, if any ("drop").
///
/// The library's messages speak of its settings, never of a front end's
/// flags; a front end names a setting as its user sets it (the command-line
/// tool: `--na drop`, `--max-levels`, `--rank-by client`).
public struct Setting: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String?

    public init(_ name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }

    /// In the library's words: "the setting 'missing'", "the setting 'missing' = drop".
    public var description: String { "the setting '\(name)'" + (value.map { " = \($0)" } ?? "") }
}

/// Words that may name settings: advice such as "drop them with
/// \(setting: "missing", value: "drop")", or a figure's note "(\(setting:
/// "maxLevels") to change)". The settings are kept apart from the words, so
/// that a front end renders them as its user sets them
/// (`rendered(naming:)`), while `description` says them in the library's
/// words. Written as a string literal with `\(setting:value:)`
/// interpolations; any other interpolation becomes words.
public struct Wording: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public enum Part: Hashable, Sendable {
        case words(String)
        case setting(Setting)
    }

    public var parts: [Part]

    public init(_ parts: [Part]) { self.parts = parts }

    public init(stringLiteral value: String) { parts = [.words(value)] }

    public init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    public struct Interpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) { appendWords(literal) }

        public mutating func appendInterpolation<Value>(_ value: Value) { appendWords("\(value)") }

        public mutating func appendInterpolation(setting name: String, value: String? = nil) {
            parts.append(.setting(Setting(name, value: value)))
        }

        /// Words next to words are one part, so that equal texts are equal values.
        mutating func appendWords(_ words: String) {
            guard !words.isEmpty else { return }
            if case let .words(previous) = parts.last {
                parts[parts.count - 1] = .words(previous + words)
            } else {
                parts.append(.words(words))
            }
        }
    }

    /// The words of `left` followed by those of `right`, for texts too long for one literal.
    public static func + (left: Wording, right: Wording) -> Wording {
        var joined = Interpolation(literalCapacity: 0, interpolationCount: 0)
        joined.parts = left.parts
        for part in right.parts {
            switch part {
            case let .words(words): joined.appendWords(words)
            case .setting: joined.parts.append(part)
            }
        }
        return Wording(joined.parts)
    }

    /// The settings named, in order.
    public var settings: [Setting] {
        parts.compactMap { if case let .setting(setting) = $0 { setting } else { nil } }
    }

    /// The text with each setting named by `name` (a front end's flag, say).
    public func rendered(naming name: (Setting) -> String) -> String {
        parts.map { part in
            switch part {
            case let .words(words): words
            case let .setting(setting): name(setting)
            }
        }.joined()
    }

    /// The text in the library's words (`Setting.description`).
    public var description: String { rendered(naming: \.description) }
}
