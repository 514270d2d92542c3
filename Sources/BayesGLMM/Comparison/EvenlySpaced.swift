/// Indices of `count` items evenly spaced through 0..<total, first and last
/// included (all of them when `count` ≥ `total`): the levels a figure shows,
/// the draws a posterior predictive check replicates.
func evenlySpaced(_ total: Int, count: Int) -> [Int] {
    guard count < total else { return Array(0..<total) }
    guard count > 1 else { return [0] }
    return (0..<count).map { Int((Double($0) * Double(total - 1) / Double(count - 1)).rounded()) }
}
