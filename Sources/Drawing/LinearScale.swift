import Foundation

/// A linear scale: fraction = (x − lower) / (upper − lower).
public struct LinearScale: Scale, Equatable {
    public let lower: Double
    public let upper: Double

    /// A scale over `lower`…`upper`; an empty or reversed domain is widened
    /// to a unit around its middle, so that every scale can be drawn.
    public init(lower: Double, upper: Double) {
        if lower.isFinite, upper.isFinite, upper > lower {
            self.lower = lower; self.upper = upper
        } else {
            let middle = lower.isFinite ? lower : (upper.isFinite ? upper : 0)
            let half = middle == 0 ? 1 : abs(middle) / 2
            self.lower = middle - half; self.upper = middle + half
        }
    }

    /// A scale covering every finite value of `values` (and of `including`),
    /// widened by `padding` of the span on each side, never below `floor`.
    public static func covering(_ values: [Double], including: [Double] = [], padding: Double = 0.04,
                                floor: Double? = nil) -> LinearScale {
        let finite = (values + including).filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return LinearScale(lower: 0, upper: 1) }
        let span = high > low ? high - low : max(abs(low), 1)
        var lower = low - padding * span
        if let floor { lower = max(lower, floor) }
        return LinearScale(lower: lower, upper: high + padding * span)
    }

    public func fraction(_ value: Double) -> Double { (value - lower) / (upper - lower) }

    /// Multiples of a step of 1, 2 or 5 × 10ᵏ, the step that gives the number
    /// of ticks nearest `count` (Heckbert 1990, "Nice numbers for graph
    /// labels", Graphics Gems).
    public func ticks(count: Int) -> [Double] {
        let step = LinearScale.step(span: upper - lower, count: max(count, 2))
        let first = (lower / step).rounded(.up), last = (upper / step).rounded(.down)
        guard first <= last else { return [] }
        // Multiples of the step, computed as k × step so that errors do not
        // accumulate; -0 becomes 0.
        return stride(from: first, through: last, by: 1).map { k in
            let value = k * step
            return value == 0 ? 0 : value
        }
    }

    /// The round step nearest span / count among 1, 2, 5 × 10ᵏ.
    static func step(span: Double, count: Int) -> Double {
        let raw = span / Double(count)
        let power = pow(10, (log10(raw)).rounded(.down))
        let mantissa = raw / power
        let nice: Double = mantissa < 1.5 ? 1 : mantissa < 3.5 ? 2 : mantissa < 7.5 ? 5 : 10
        return nice * power
    }

    /// As many decimals as the step between ticks needs, a minus sign for
    /// negative values.
    public func label(_ tick: Double, among ticks: [Double]) -> String {
        let step = ticks.count >= 2 ? abs(ticks[1] - ticks[0]) : abs(tick)
        let decimals = step > 0 ? max(0, Int((-log10(step) - 1e-9).rounded(.up))) : 0
        return NumberText.fixed(tick, decimals: min(decimals, 12))
    }
}
