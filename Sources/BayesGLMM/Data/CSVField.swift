/// How one CSV field reads: as R's `read.csv` would type it.
enum CSVField {
    /// A field read as a number.
    enum Number: Equatable {
        /// A number, possibly infinite.
        case value(Double)
        /// Missing: empty or blank, `NA`, or `NaN` (`isNotANumber`).
        case missing(isNotANumber: Bool)
        /// Not a number: the column is a factor.
        case text
    }

    /// Whether a field is missing in a factor column: empty or exactly `NA`.
    static func isMissingText(_ field: String) -> Bool {
        field.isEmpty || field == "NA"
    }

    /// Reads a field as R's `type.convert` reads a number.
    ///
    /// Leading and trailing white space is ignored. Accepted: decimal numbers
    /// with an optional sign, fraction and exponent (`1`, `-2.5`, `.5`, `5.`,
    /// `1e3`, `+1E-3`), hexadecimal numbers (`0x1A`, `0x1p-2`), and, in any
    /// case, `Inf` and `Infinity` with an optional sign. Missing: an empty or
    /// blank field, `NA`, and `NaN` (any case, optional sign).
    static func number(_ field: String) -> Number {
        var field = field
        return field.withUTF8 { number(bytes: $0) }
    }

    /// The number of line breaks in a field (LF, CRLF or a lone CR), which
    /// only a quoted field can hold.
    static func lineBreaks(in field: String) -> Int {
        var count = 0
        var previous: UInt8 = 0
        for byte in field.utf8 {
            if byte == 0x0A {
                if previous != 0x0D { count += 1 }
            } else if byte == 0x0D {
                count += 1
            }
            previous = byte
        }
        return count
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10
    }

    /// Whether `bytes` spell `word` in any case (`word` in lower case).
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>.SubSequence, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let letters = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (byte, letter) in zip(bytes, letters) where byte | 0x20 != letter {
            return false
        }
        return true
    }

    /// Exact powers of ten for the fast path.
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var power = 1.0
        for _ in 0..<exponent { power *= 10 }
        return power
    }

    private static func number(bytes all: UnsafeBufferPointer<UInt8>) -> Number {
        var start = all.startIndex
        var end = all.endIndex
        while start < end && isSpace(all[start]) { start += 1 }
        while end > start && isSpace(all[end - 1]) { end -= 1 }
        if start == end { return .missing(isNotANumber: false) }
        let trimmed = all[start..<end]
        if trimmed.count == 2 && trimmed[start] == UInt8(ascii: "N") && trimmed[start + 1] == UInt8(ascii: "A") {
            return .missing(isNotANumber: false)
        }

        var position = start
        var negative = false
        if all[position] == UInt8(ascii: "-") || all[position] == UInt8(ascii: "+") {
            negative = all[position] == UInt8(ascii: "-")
            position += 1
        }
        guard position < end else { return .text }
        let unsigned = all[position..<end]

        // Words: NaN, Inf, Infinity.
        let first = all[position] | 0x20
        if first == UInt8(ascii: "n") {
            return matches(unsigned, "nan") ? .missing(isNotANumber: true) : .text
        }
        if first == UInt8(ascii: "i") {
            guard matches(unsigned, "inf") || matches(unsigned, "infinity") else { return .text }
            return .value(negative ? -.infinity : .infinity)
        }

        // Hexadecimal: let the C library check and convert it.
        if end - position > 2 && all[position] == UInt8(ascii: "0") && all[position + 1] | 0x20 == UInt8(ascii: "x") {
            for byte in all[(position + 2)..<end] {
                let isHex = isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
                guard isHex || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "p")
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                else { return .text }
            }
            guard let value = Double(String(decoding: trimmed, as: UTF8.self)) else { return .text }
            return .value(value)
        }

        // Decimal: digits [. digits] [e [sign] digits], at least one digit
        // in the mantissa. Up to 19 significant digits are gathered exactly.
        var significand: UInt64 = 0
        var significantDigits = 0
        var mantissaDigits = 0
        var fractionDigits = 0
        var dropped = false
        while position < end && isDigit(all[position]) {
            if significantDigits < 19 {
                significand = significand * 10 + UInt64(all[position] - 0x30)
                if significand != 0 { significantDigits += 1 }
            } else {
                dropped = true
                fractionDigits -= 1  // the digit counts as a power of ten
            }
            mantissaDigits += 1
            position += 1
        }
        if position < end && all[position] == UInt8(ascii: ".") {
            position += 1
            while position < end && isDigit(all[position]) {
                if significantDigits < 19 {
                    significand = significand * 10 + UInt64(all[position] - 0x30)
                    if significand != 0 { significantDigits += 1 }
                    fractionDigits += 1
                } else {
                    dropped = true
                }
                mantissaDigits += 1
                position += 1
            }
        }
        guard mantissaDigits > 0 else { return .text }
        var exponent = 0
        if position < end && all[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var exponentNegative = false
            if position < end && (all[position] == UInt8(ascii: "-") || all[position] == UInt8(ascii: "+")) {
                exponentNegative = all[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < end else { return .text }
            while position < end && isDigit(all[position]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(all[position] - 0x30) }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        guard position == end else { return .text }

        // Clinger's fast path: an exact significand below 2^53 times or over
        // an exact power of ten rounds correctly in one operation.
        let scale = exponent - fractionDigits
        if !dropped && significand < (1 << 53) && scale >= -22 && scale <= 22 {
            var value = Double(significand)
            if scale < 0 { value /= powersOfTen[-scale] } else { value *= powersOfTen[scale] }
            return .value(negative ? -value : value)
        }
        guard let value = Double(String(decoding: trimmed, as: UTF8.self)) else { return .text }
        return .value(value)
    }
}
