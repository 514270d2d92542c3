/// A probability distribution on the real line that can be sampled.
///
/// Distributions are values: their parameters are checked once, when they are
/// made (an invalid parameter throws `VariatesError.invalidParameter` naming
/// it), and drawing never fails, never allocates and never traps.
public protocol Distribution: Sendable {
    /// One draw, using (and advancing) `generator`.
    func sample(using generator: Generator) -> Double
}

extension Distribution {
    /// `count` independent draws.
    public func samples(_ count: Int, using generator: Generator) -> [Double] {
        precondition(count >= 0, "count must be non-negative")
        return (0..<count).map { _ in sample(using: generator) }
    }

    /// Fills `buffer` with independent draws.
    public func fill(_ buffer: UnsafeMutableBufferPointer<Double>, using generator: Generator) {
        for i in buffer.indices { buffer[i] = sample(using: generator) }
    }
}

/// Parameter checks shared by the distributions' initialisers.
enum Check {
    static func finite(_ value: Double, _ name: String, in distribution: String) throws(VariatesError) {
        guard value.isFinite else {
            throw .invalidParameter(distribution: distribution, name: name, value: value, requirement: "finite")
        }
    }

    static func positive(_ value: Double, _ name: String, in distribution: String) throws(VariatesError) {
        guard value.isFinite, value > 0 else {
            throw .invalidParameter(distribution: distribution, name: name, value: value,
                                    requirement: "finite and greater than 0")
        }
    }
}
