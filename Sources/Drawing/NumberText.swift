import Foundation

/// Numbers as text, the same on every machine (no locale): fixed decimals
/// for labels, short coordinates for SVG.
public enum NumberText {
    /// `value` with `decimals` decimals, "−" (U+2212) for negative values,
    /// never "−0".
    public static func fixed(_ value: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", value)
        if text.hasPrefix("-") {
            let rest = text.dropFirst()
            text = rest.allSatisfy { $0 == "0" || $0 == "." } ? String(rest) : "\u{2212}" + rest
        }
        return text
    }

    /// A coordinate for SVG: two decimals, trailing zeros removed ("12.5", "3").
    public static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}
