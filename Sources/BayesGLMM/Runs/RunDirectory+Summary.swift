import Diagnostics

extension RunDirectory {
    /// The posterior summary of the parameters `names` (as `summarize`), read
    /// from the draw store a block of `blockSize` parameters at a time: the
    /// memory held is that of one block's draws (blockSize × chains × draws
    /// doubles), whatever the number of parameters, and a few parameters of
    /// a large run cost a few reads per draw. Throws `InputError` for a name
    /// the store does not hold or a store that cannot be read.
    public func summary(of names: [String], monteCarloStandardErrors: Bool = false,
                        blockSize: Int = 512) throws(InputError) -> Summary {
        var indices: [Int] = []
        indices.reserveCapacity(names.count)
        for name in names {
            guard let index = parameterIndex(name) else {
                throw InputError(.unknownColumn, "the draw store has no parameter \"\(name)\"", file: path)
            }
            indices.append(index)
        }
        var rows: [SummaryRow] = []
        rows.reserveCapacity(names.count)
        var columns = SummaryColumn.defaults
        var start = 0
        while start < names.count {
            let end = min(names.count, start + max(1, blockSize))
            let draws = try store.draws(of: Array(indices[start..<end]), first: drawsPerChain)
            let block = summarize(Array(zip(names[start..<end], draws)).map { (name: $0.0, draws: $0.1) },
                                  monteCarloStandardErrors: monteCarloStandardErrors)
            columns = block.columns
            rows += block.rows
            start = end
        }
        return Summary(columns: columns, rows: rows)
    }
}
