/// Bad input to a diagnostic. Every function reports bad input by throwing
/// one of these; none traps.
public enum DiagnosticsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No draws at all (no chain, or chains of length zero).
    case noDraws
    /// Chain `chain` (zero-based) has `count` draws where the first has `expected`.
    case raggedChains(chain: Int, count: Int, expected: Int)
    /// A flat array whose length is not `iterations * chains`.
    case shapeMismatch(values: Int, iterations: Int, chains: Int)
    /// A probability outside [0, 1] (or NaN).
    case probabilityOutOfRange(Double)
    /// Nested R-hat: the superchain labels do not give one label per chain.
    case superchainLabelCount(labels: Int, chains: Int)
    /// Nested R-hat: superchains with different numbers of chains.
    case unequalSuperchains(sizes: [Int])

    public var description: String {
        switch self {
        case .noDraws:
            return "no draws: need at least one chain with at least one draw"
        case let .raggedChains(chain, count, expected):
            return "ragged chains: chain \(chain + 1) has \(count) draws but chain 1 has \(expected); all chains must have the same length"
        case let .shapeMismatch(values, iterations, chains):
            return "\(values) values cannot fill \(iterations) iterations x \(chains) chains (\(iterations * chains) needed)"
        case let .probabilityOutOfRange(p):
            return "probability \(p) is outside [0, 1]"
        case let .superchainLabelCount(labels, chains):
            return "nested R-hat needs one superchain label per chain: got \(labels) labels for \(chains) chains"
        case let .unequalSuperchains(sizes):
            return "nested R-hat needs superchains of equal size; sizes are \(sizes.map(String.init).joined(separator: ", "))"
        }
    }
}

/// Throws unless `p` is in [0, 1].
func checkProbability(_ p: Double) throws(DiagnosticsError) {
    guard p >= 0, p <= 1 else { throw .probabilityOutOfRange(p) }
}
