/// Average ranks (1-based) of `values`, ties sharing the mean of their
/// positions, as R's `rank(x, ties.method = "average")`. The values must not
/// be NaN (±Inf are ranked last/first as usual).
func averageRanks(_ values: [Double]) -> [Double] {
    let count = values.count
    var order = [Int32](unsafeUninitializedCapacity: count) { buffer, initialised in
        for i in 0..<count { buffer[i] = Int32(truncatingIfNeeded: i) }
        initialised = count
    }
    values.withUnsafeBufferPointer { v in
        order.sort { v[Int($0)] < v[Int($1)] }
    }
    var ranks = [Double](repeating: 0, count: count)
    values.withUnsafeBufferPointer { v in
        var start = 0
        while start < count {
            var end = start
            let value = v[Int(order[start])]
            while end + 1 < count, v[Int(order[end + 1])] == value { end += 1 }
            // Positions start...end (0-based) share the rank (start + end + 2) / 2.
            let rank = Double(start + end + 2) / 2
            for k in start...end { ranks[Int(order[k])] = rank }
            start = end + 1
        }
    }
    return ranks
}

/// Rank normalisation (Vehtari et al. 2021, eq. 14): with r the average
/// rank of a draw among all S draws of the matrix,
/// z = Phi^-1((r - 3/8) / (S + 1/4)) (Blom's offset c = 3/8, as posterior's
/// `z_scale`). The input must not contain NaN.
func rankNormalized(_ draws: Draws) -> Draws {
    let ranks = averageRanks(draws.values)
    let c = 3.0 / 8.0
    let denominator = Double(draws.count) - 2 * c + 1
    return Draws(
        unchecked: ranks.map { GSL.normalQuantile(($0 - c) / denominator) },
        iterations: draws.iterations, chains: draws.chains)
}

/// Folding (Vehtari et al. 2021, sec. 4.2): |x - median(x)| with the median
/// of all draws, so that R-hat of the folded draws detects differences in
/// scale. `nil` when the median is not available (NaN in the draws).
func folded(_ draws: Draws) -> Draws? {
    guard let centre = median(draws) else { return nil }
    return draws.map { abs($0 - centre) }
}
