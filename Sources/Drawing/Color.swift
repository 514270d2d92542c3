/// A colour as SVG writes it: `#RRGGBB`.
public struct Color: Sendable, Hashable, CustomStringConvertible {
    /// `#RRGGBB`, upper-case hexadecimal.
    public let hex: String

    /// A colour from its red, green and blue components, 0…255 each.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        func digits(_ value: UInt8) -> String {
            let text = String(value, radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }
        hex = "#" + digits(red) + digits(green) + digits(blue)
    }

    public var description: String { hex }

    public static let black = Color(red: 0, green: 0, blue: 0)
    public static let white = Color(red: 255, green: 255, blue: 255)
    /// Axis lines, tick labels and captions.
    public static let ink = Color(red: 0x33, green: 0x33, blue: 0x33)
    /// Grid lines.
    public static let grid = Color(red: 0xE5, green: 0xE5, blue: 0xE5)
    public static let gray = Color(red: 0x88, green: 0x88, blue: 0x88)
}

/// The colour-blind-safe palette of Okabe & Ito (2008, "Color Universal
/// Design", https://jfly.uni-koeln.de/color/): eight colours that stay
/// distinguishable under the common colour-vision deficiencies.
public enum Palette {
    public static let orange = Color(red: 0xE6, green: 0x9F, blue: 0x00)
    public static let skyBlue = Color(red: 0x56, green: 0xB4, blue: 0xE9)
    public static let bluishGreen = Color(red: 0x00, green: 0x9E, blue: 0x73)
    public static let yellow = Color(red: 0xF0, green: 0xE4, blue: 0x42)
    public static let blue = Color(red: 0x00, green: 0x72, blue: 0xB2)
    public static let vermillion = Color(red: 0xD5, green: 0x5E, blue: 0x00)
    public static let reddishPurple = Color(red: 0xCC, green: 0x79, blue: 0xA7)

    /// The order in which series take colours: the strongest contrasts on
    /// white first, yellow (faint on white) and black last.
    public static let series: [Color] = [blue, orange, bluishGreen, vermillion, reddishPurple, skyBlue, Color.black,
                                         yellow]

    /// The colour of the `index`-th series (cycling after eight).
    public static func color(_ index: Int) -> Color { series[((index % series.count) + series.count) % series.count] }
}
