import Foundation

/// A base-10 logarithmic scale, for positive values spanning orders of
/// magnitude (such as the number of observations of a level).
public struct LogScale: Scale, Equatable {
    public let lower: Double
    public let upper: Double

    /// A scale over `lower`…`upper` (both positive); a bad domain becomes 1…10.
    public init(lower: Double, upper: Double) {
        if lower > 0, upper > lower, upper.isFinite {
            self.lower = lower; self.upper = upper
        } else if lower > 0, lower.isFinite {
            self.lower = lower / 2; self.upper = lower * 2
        } else {
            self.lower = 1; self.upper = 10
        }
    }

    /// A scale covering the positive finite `values`, widened by `padding`
    /// of the span in logarithms on each side.
    public static func covering(_ values: [Double], padding: Double = 0.04) -> LogScale {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        guard let low = positive.min(), let high = positive.max() else { return LogScale(lower: 1, upper: 10) }
        let span = high > low ? log10(high) - log10(low) : 1
        return LogScale(lower: pow(10, log10(low) - padding * span), upper: pow(10, log10(high) + padding * span))
    }

    public func fraction(_ value: Double) -> Double {
        (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
    }

    /// Powers of ten inside the domain; with 1, 2 and 5 times them as well
    /// when there are fewer than `count` / 2 powers, and with 1, 2, 3 and 5
    /// times them inside a single decade.
    public func ticks(count: Int) -> [Double] {
        let first = Int(log10(lower).rounded(.down)), last = Int(log10(upper).rounded(.up))
        let powers = (first...last).map { pow(10, Double($0)) }.filter(inside)
        let multiples: [Double] = powers.count * 2 >= count ? [1]
            : powers.count >= 2 ? [1, 2, 5] : [1, 2, 3, 5]
        return (first...last).flatMap { k in multiples.map { $0 * pow(10, Double(k)) } }.filter(inside)
    }

    private func inside(_ value: Double) -> Bool {
        value >= lower * (1 - 1e-12) && value <= upper * (1 + 1e-12)
    }

    /// Whole numbers without decimals; below 1, the decimals the value needs.
    public func label(_ tick: Double, among ticks: [Double]) -> String {
        if tick >= 1 { return NumberText.fixed(tick, decimals: 0) }
        let decimals = Int((-log10(tick) - 1e-9).rounded(.up))
        return NumberText.fixed(tick, decimals: max(decimals, 1))
    }
}
