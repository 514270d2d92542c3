/// Quantiles by selection rather than sorting: a row's scores need three
/// quantiles of its T draws, and Hoare's selection finds an order statistic
/// in expected O(T) where a sort takes O(T log T).
enum OrderStatistics {
    /// R's `quantile(x, p, type = 7)` for each probability, as the
    /// `posterior` package (and `Diagnostics.quantile`) computes it: with
    /// index = 1 + (n − 1)p, lo = ⌊index⌋, hi = ⌈index⌉ and x₍ₖ₎ the k-th
    /// smallest, x₍lo₎ moved towards x₍hi₎ by h = index − lo, as
    /// (1 − h)x₍lo₎ + h x₍hi₎, only when index > lo and x₍hi₎ ≠ x₍lo₎.
    /// Reorders `values`, which must be non-empty and free of NaN.
    static func typeSevenQuantiles(_ values: UnsafeMutableBufferPointer<Double>,
                                   probabilities: [Double]) -> [Double] {
        let n = values.count
        precondition(n >= 1, "quantiles of no values")
        let indices = probabilities.map { 1 + Double(n - 1) * $0 }
        // The 0-based ranks lo − 1 and, where index > lo, lo (= hi − 1).
        var ranks = Set<Int>()
        for index in indices {
            let lo = Int(index.rounded(.down))
            ranks.insert(lo - 1)
            if index > index.rounded(.down) { ranks.insert(lo) }
        }
        select(values, 0, n - 1, ranks: ranks.sorted()[...])
        return indices.map { index in
            let lo = index.rounded(.down)
            let low = values[Int(lo) - 1]
            guard index > lo else { return low }
            let high = values[Int(lo)]
            guard high != low else { return low }
            let h = index - lo
            return (1 - h) * low + h * high
        }
    }

    /// Puts the order statistics of every rank in `ranks` (sorted, 0-based,
    /// within left…right) in place: selects the middle rank, then the ranks
    /// on either side of it within the two sides (Hoare's multiple selection).
    static func select(_ values: UnsafeMutableBufferPointer<Double>, _ left: Int, _ right: Int,
                       ranks: ArraySlice<Int>) {
        guard !ranks.isEmpty, left < right else { return }
        let k = ranks[ranks.startIndex + ranks.count / 2]
        let band = select(values, k, left: left, right: right)
        select(values, left, band.lowerBound - 1, ranks: ranks.prefix { $0 < band.lowerBound })
        select(values, band.upperBound + 1, right, ranks: ranks.drop { $0 <= band.upperBound })
    }

    /// Puts the k-th smallest (0-based) of values[start…end] at position k,
    /// with nothing larger before it and nothing smaller after it: quickselect
    /// with a median-of-three pivot and a three-way partition (so that runs
    /// of equal values, such as probabilities of exactly 1, cost one pass).
    ///
    /// Returns the band of positions, around k, holding values equal to the
    /// k-th smallest: everything before the band is smaller and everything
    /// after it larger.
    @discardableResult
    static func select(_ values: UnsafeMutableBufferPointer<Double>, _ k: Int, left start: Int, right end: Int)
        -> ClosedRange<Int> {
        var left = start, right = end
        while left < right {
            let a = values[left], b = values[left + (right - left) / 2], c = values[right]
            let pivot = max(min(a, b), min(max(a, b), c))
            var less = left, i = left, greater = right
            while i <= greater {
                let x = values[i]
                if x < pivot {
                    values.swapAt(less, i)
                    less += 1
                    i += 1
                } else if x > pivot {
                    values.swapAt(i, greater)
                    greater -= 1
                } else {
                    i += 1
                }
            }
            if k < less { right = less - 1 } else if k > greater { left = greater + 1 } else { return less...greater }
        }
        return k...k
    }
}
