import Drawing
import Foundation
import Testing

/// Scales map their domain onto [0, 1] and choose round ticks inside it.
@Suite struct ScaleTests {
    @Test func linearFractionsAndRoundTicks() {
        let scale = LinearScale(lower: -0.3, upper: 1.7)
        #expect(scale.fraction(-0.3) == 0 && scale.fraction(1.7) == 1)
        #expect(abs(scale.fraction(0.7) - 0.5) < 1e-15)
        #expect(scale.ticks(count: 5) == [0, 0.5, 1, 1.5])
        let ticks = scale.ticks(count: 5)
        #expect(ticks.map { scale.label($0, among: ticks) } == ["0.0", "0.5", "1.0", "1.5"])
        // A span of 0 to 1000 in about 5 steps: steps of 200.
        let wide = LinearScale(lower: 0, upper: 1000)
        #expect(wide.ticks(count: 5) == [0, 200, 400, 600, 800, 1000])
        #expect(wide.label(400, among: wide.ticks(count: 5)) == "400")
        // Negative ticks get a minus sign, zero never "−0".
        let symmetric = LinearScale(lower: -2.2, upper: 2.2)
        let labels = symmetric.labelledTicks(count: 4).map(\.label)
        #expect(labels == ["\u{2212}2", "\u{2212}1", "0", "1", "2"])
    }

    @Test func linearTicksStayInsideAndAreRound() {
        for (lower, upper) in [(0.0, 1.0), (-3.7, 12.9), (0.0012, 0.0047), (1e5, 3.3e5), (-1e-3, 0.0)] {
            let scale = LinearScale(lower: lower, upper: upper)
            let ticks = scale.ticks(count: 5)
            #expect(ticks.count >= 2 && ticks.count <= 11, "\(lower)…\(upper): \(ticks)")
            #expect(ticks.allSatisfy { $0 >= lower && $0 <= upper }, "\(ticks)")
            let step = ticks[1] - ticks[0]
            let mantissa = step / pow(10, log10(step).rounded(.down))
            #expect([1, 2, 5].contains { abs(mantissa - Double($0)) < 1e-9 }, "step \(step)")
        }
    }

    @Test func degenerateDomainsAreWidened() {
        let point = LinearScale(lower: 2, upper: 2)
        #expect(point.lower < 2 && point.upper > 2)
        let covering = LinearScale.covering([0.2, 0.1, .nan, 0.5], floor: 0.15)
        #expect(covering.lower == 0.15 && covering.upper > 0.5)
        #expect(LinearScale.covering([]).lower == 0)
    }

    @Test func logarithmicTicks() {
        let scale = LogScale(lower: 0.8, upper: 1200)
        #expect(abs(scale.fraction(0.8)) < 1e-12 && abs(scale.fraction(1200) - 1) < 1e-12)
        #expect(scale.ticks(count: 5) == [1, 10, 100, 1000])
        #expect(scale.labelledTicks(count: 5).map(\.label) == ["1", "10", "100", "1000"])
        // Within about one decade: 1, 2, 3, 5 times the powers.
        let narrow = LogScale(lower: 1, upper: 9)
        #expect(narrow.ticks(count: 5) == [1, 2, 3, 5])
        let small = LogScale(lower: 0.01, upper: 0.5)
        #expect(small.labelledTicks(count: 6).map(\.label) == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5"])
        #expect(LogScale(lower: -1, upper: 10) == LogScale(lower: 1, upper: 10))
    }

    @Test func numbersAreFormattedWithoutLocale() {
        #expect(NumberText.fixed(-0.0001, decimals: 2) == "0.00")
        #expect(NumberText.fixed(-1.25, decimals: 1) == "\u{2212}1.2" || NumberText.fixed(-1.25, decimals: 1) == "\u{2212}1.3")
        #expect(NumberText.coordinate(12.5) == "12.5" && NumberText.coordinate(3.0) == "3")
        #expect(NumberText.coordinate(-0.001) == "0" && NumberText.coordinate(.nan) == "0")
    }
}
