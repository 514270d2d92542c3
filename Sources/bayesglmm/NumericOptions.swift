import ArgumentParser
import Foundation

/// Numeric options and negative values.
///
/// ArgumentParser reads a value that starts with "-" as the next option, so
/// `--warmup -5` would fail with "Missing value for '--warmup'" before any
/// check could say what the value must be, and a negative value that is
/// valid (`--alpha -1`, `--beta -0.5`) could only be written `--alpha=-1`.
/// Numeric options are therefore declared with `parsing: .unconditional`
/// (`.unconditionalSingleValue` for repeated ones): the word after the flag
/// is its value, whatever it starts with, and `validate()` says what it must
/// be.
enum NumericOptions {
    /// A seed: a whole number from 0 to 2⁶⁴ − 1 (ArgumentParser reports
    /// "The value '-1' is invalid for '--seed <seed>': " and this message).
    static func seed(_ text: String) throws -> UInt64 {
        guard let value = UInt64(text) else {
            throw ValidationError("a seed is a whole number from 0 to \(UInt64.max)")
        }
        return value
    }

    /// A time limit in seconds: a positive number of seconds, or of
    /// seconds, minutes or hours with the unit after it (`90`, `90s`, `5m`,
    /// `1.5h`).
    static func duration(_ text: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(text.trimmingCharacters(in: .whitespaces))
        var scale = 1.0
        if let last = number.last, let unit = units[last] {
            scale = unit
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0, (value * scale).isFinite else {
            throw ValidationError("a time limit is a positive number of seconds, or of minutes or hours with m or h "
                                  + "(90, 90s, 5m, 1.5h)")
        }
        return value * scale
    }
}
