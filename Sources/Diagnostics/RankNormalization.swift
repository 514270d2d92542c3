/// Average ranks (1-based) of `values`, ties sharing the mean of their
/// positions, as R's `rank(x, ties.method = "average")`. No NaN.
func averageRanks(_ values: [Double]) -> [Double] {
    var ranks = [Double](repeating: 0, count: values.count)
    forEachTieGroup(ascendingOrder(values), values: values, include: { _ in true }) { group, rank in
        for index in group { ranks[index] = rank }
    }
    return ranks
}

/// Rank normalisation of the split chains (Vehtari et al. 2021, eq. 14):
/// with r the average rank of a cell among all S cells of
/// `splitChains(draws)`, z = Phi^-1((r - 3/8) / (S + 1/4)) (Blom's offset
/// c = 3/8, as posterior's `z_scale(.split_chains(x))`).
///
/// - Parameters:
///   - draws: gives the shape (iterations x chains).
///   - values: the values to rank, in the layout of `draws` (the draws
///     themselves, or the folded draws); no NaN.
///   - order: the indices of `values` in ascending order of value.
/// - Returns: the z-scores, laid out as `splitChains(draws)`.
func rankNormalizedSplit(_ draws: Draws, values: [Double], order: [Int32]) -> Draws {
    let n = draws.iterations, m = draws.chains
    let length = n == 1 ? 1 : n / 2
    let secondStart = n == 1 ? 1 : Int((Double(n) / 2 + 1).rounded(.up)) - 1
    let splitChainCount = n == 1 ? m : 2 * m
    // Where draw `index` lands in the split matrix; -1 for the dropped middle draw.
    @inline(__always) func position(_ index: Int) -> Int {
        if n == 1 { return index }
        let (chain, iteration) = index.quotientAndRemainder(dividingBy: n)
        if iteration < length { return chain * length + iteration }
        if iteration >= secondStart { return (m + chain) * length + (iteration - secondStart) }
        return -1
    }
    let cells = length * splitChainCount
    let c = 3.0 / 8.0
    let denominator = Double(cells) - 2 * c + 1
    var z = [Double](repeating: 0, count: cells)
    z.withUnsafeMutableBufferPointer { out in
        values.withUnsafeBufferPointer { v in
            order.withUnsafeBufferPointer { o in
                let count = o.count
                var start = 0
                var seen = 0  // cells ranked so far
                while start < count {
                    // The run start..<end of equal values; the dropped draws in it do not count.
                    let value = v[Int(o[start])]
                    var end = start + 1
                    while end < count, v[Int(o[end])] == value { end += 1 }
                    var kept = 0
                    for k in start..<end where position(Int(o[k])) >= 0 { kept += 1 }
                    if kept > 0 {
                        // Average of the 1-based ranks seen + 1 ... seen + kept.
                        let rank = Double(2 * seen + kept + 1) / 2
                        let score = GSL.normalQuantile((rank - c) / denominator)
                        for k in start..<end {
                            let p = position(Int(o[k]))
                            if p >= 0 { out[p] = score }
                        }
                        seen += kept
                    }
                    start = end
                }
            }
        }
    }
    return Draws(unchecked: z, iterations: length, chains: splitChainCount)
}

/// Walks `order` (ascending by `values`), skipping indices not included, and
/// calls `body` once per run of equal values with the run's indices and
/// their average rank (start + end + 2) / 2 among the included indices.
func forEachTieGroup(
    _ order: [Int32], values: [Double], include: (Int) -> Bool, _ body: ([Int], Double) -> Void
) {
    var group: [Int] = []
    var groupValue = 0.0
    var seen = 0
    func flush() {
        guard !group.isEmpty else { return }
        let rank = Double(2 * seen + group.count + 1) / 2
        body(group, rank)
        seen += group.count
        group.removeAll(keepingCapacity: true)
    }
    values.withUnsafeBufferPointer { v in
        for entry in order {
            let index = Int(entry)
            guard include(index) else { continue }
            if !group.isEmpty, v[index] != groupValue { flush() }
            if group.isEmpty { groupValue = v[index] }
            group.append(index)
        }
    }
    flush()
}

/// Folding (Vehtari et al. 2021, sec. 4.2): |x - median(x)| with the median
/// of all draws, so that R-hat of the folded draws detects differences in
/// scale. `nil` when the median is not available (NaN in the draws).
func folded(_ draws: Draws) -> Draws? {
    guard let centre = median(draws) else { return nil }
    return draws.map { abs($0 - centre) }
}
