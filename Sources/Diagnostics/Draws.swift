/// The draws of one scalar quantity from an MCMC run: `iterations` draws in
/// each of `chains` chains.
///
/// Values are stored chain by chain (column-major, as an R matrix with
/// iterations in rows and chains in columns): draw `i` of chain `j` is
/// `values[j * iterations + i]`. Non-finite values are allowed; the
/// diagnostics report them as "not available" (`nil`) exactly where R's
/// `posterior` returns `NA`.
public struct Draws: Sendable, Hashable {
    /// Draws per chain (rows of the matrix).
    public let iterations: Int
    /// Number of chains (columns of the matrix).
    public let chains: Int
    /// All draws, chain after chain.
    public let values: [Double]

    /// Draws from one array per chain.
    ///
    /// - Throws: `DiagnosticsError.noDraws` when there is no chain or the
    ///   chains are empty; `.raggedChains` when chains differ in length.
    public init(chains: [[Double]]) throws(DiagnosticsError) {
        guard let first = chains.first, !first.isEmpty else { throw .noDraws }
        for (index, chain) in chains.enumerated() where chain.count != first.count {
            throw .raggedChains(chain: index, count: chain.count, expected: first.count)
        }
        self.init(unchecked: chains.flatMap { $0 }, iterations: first.count, chains: chains.count)
    }

    /// Draws from a single chain.
    public init(chain: [Double]) throws(DiagnosticsError) {
        try self.init(chains: [chain])
    }

    /// Draws from a flat column-major array (`iterations` draws of chain 1,
    /// then of chain 2, ...).
    ///
    /// - Throws: `.noDraws` for zero iterations or chains, `.shapeMismatch`
    ///   when `values.count != iterations * chains`.
    public init(columnMajor values: [Double], iterations: Int, chains: Int) throws(DiagnosticsError) {
        guard iterations > 0, chains > 0 else { throw .noDraws }
        guard values.count == iterations * chains else {
            throw .shapeMismatch(values: values.count, iterations: iterations, chains: chains)
        }
        self.init(unchecked: values, iterations: iterations, chains: chains)
    }

    /// For the module's own derived matrices, whose shape is right by construction.
    init(unchecked values: [Double], iterations: Int, chains: Int) {
        self.values = values
        self.iterations = iterations
        self.chains = chains
    }

    /// The number of draws, `iterations * chains`.
    public var count: Int { values.count }

    /// Draw `iteration` of chain `chain` (both zero-based).
    public subscript(iteration: Int, chain: Int) -> Double {
        values[chain * iterations + iteration]
    }

    /// The draws of one chain (zero-based).
    public func chain(_ index: Int) -> ArraySlice<Double> {
        values[(index * iterations)..<((index + 1) * iterations)]
    }

    /// The same shape with every value transformed.
    func map(_ transform: (Double) -> Double) -> Draws {
        Draws(unchecked: values.map(transform), iterations: iterations, chains: chains)
    }
}
