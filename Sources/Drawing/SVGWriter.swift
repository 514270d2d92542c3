/// Writes SVG markup line by line: elements with attributes in the order
/// given (so the output is the same byte for byte every time), text and
/// attribute values escaped for XML.
public struct SVGWriter: Sendable {
    public private(set) var lines: [String] = []
    private var depth = 0

    public init() {}

    /// `<name a="v" …/>`, or `<name …>text</name>` when `text` is given.
    public mutating func element(_ name: String, _ attributes: [(String, String)], text: String? = nil) {
        let opening = "<" + name + SVGWriter.attributeText(attributes)
        if let text {
            append(opening + ">" + SVGWriter.escape(text) + "</" + name + ">")
        } else {
            append(opening + "/>")
        }
    }

    /// `<name …>`; the matching `close(name)` follows the content.
    public mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        append("<" + name + SVGWriter.attributeText(attributes) + ">")
        depth += 1
    }

    public mutating func close(_ name: String) {
        depth -= 1
        append("</" + name + ">")
    }

    /// The document: the lines joined, ending in a newline.
    public var text: String { lines.joined(separator: "\n") + "\n" }

    private mutating func append(_ line: String) {
        lines.append(String(repeating: " ", count: 2 * max(depth, 0)) + line)
    }

    private static func attributeText(_ attributes: [(String, String)]) -> String {
        attributes.map { " " + $0.0 + "=\"" + escape($0.1) + "\"" }.joined()
    }

    /// `text` with the five XML special characters as entities, and the
    /// control characters XML 1.0 forbids dropped.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
