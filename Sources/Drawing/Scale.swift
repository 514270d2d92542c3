/// A map from data values (the domain, `lower`…`upper`) onto the unit
/// interval, with the tick values an axis labels. A panel turns fractions
/// into pixels; a scale knows nothing of pixels, marks or statistics.
public protocol Scale: Sendable {
    var lower: Double { get }
    var upper: Double { get }
    /// Where `value` falls: 0 at `lower`, 1 at `upper` (outside for values
    /// outside the domain).
    func fraction(_ value: Double) -> Double
    /// About `count` round values inside the domain, ascending.
    func ticks(count: Int) -> [Double]
    /// The label of `tick`, formatted alike for all of `ticks`.
    func label(_ tick: Double, among ticks: [Double]) -> String
}

/// A labelled position on an axis.
public struct Tick: Sendable, Equatable {
    public let value: Double
    public let label: String
    public init(value: Double, label: String) { self.value = value; self.label = label }
}

extension Scale {
    /// The ticks with their labels.
    public func labelledTicks(count: Int) -> [Tick] {
        let values = ticks(count: count)
        return values.map { Tick(value: $0, label: label($0, among: values)) }
    }
}
