/// Quantiles by selection rather than sorting: a row's scores need three
/// quantiles of its T draws, and Hoare's selection finds an order statistic
/// in expected O(T) where a sort takes O(T log T).
enum OrderStatistics {
    /// R's `quantile(x, p, type = 7)` for each probability, as the
    /// `posterior` package (and `Diagnostics.quantile`) computes it: with
    /// index = 1 + (n − 1)p, lo = ⌊index⌋, hi = ⌈index⌉ and x₍ₖ₎ the k-th
    /// smallest, x₍lo₎ moved towards x₍hi₎ by h = index − lo, as
    /// (1 − h)x₍lo₎ + h x₍hi₎, only when index > lo and x₍hi₎ ≠ x₍lo₎.
    /// Reorders `values`, which must be non-empty and finite.
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
        // A lone rank at an end of the range (the second of an adjacent pair
        // of ranks, as type 7 asks for) is the range's least or greatest
        // value: one scan instead of a selection.
        if ranks.count == 1 && (ranks.first == left || ranks.first == right) {
            var extreme = left
            if ranks.first == left {
                for i in (left + 1)...right where values[i] < values[extreme] { extreme = i }
            } else {
                for i in (left + 1)...right where values[i] >= values[extreme] { extreme = i }
            }
            values.swapAt(extreme, ranks.first!)
            return
        }
        let k = ranks[ranks.startIndex + ranks.count / 2]
        let band = select(values, k, left: left, right: right)
        select(values, left, band.lowerBound - 1, ranks: ranks.prefix { $0 < band.lowerBound })
        select(values, band.upperBound + 1, right, ranks: ranks.drop { $0 <= band.upperBound })
    }

    /// Puts the k-th smallest (0-based) of values[start…end] at position k,
    /// with nothing larger before it and nothing smaller after it:
    /// quickselect with a median-of-three pivot P and a branch-free Lomuto
    /// partition (values < P to the front), whose only data-dependent step is
    /// an increment by the sign bit of x − P (x < P exactly when x − P is
    /// negative: for finite doubles x − P is 0 only when x = P, and then +0),
    /// so that random draws cost no branch mispredictions. Values must be
    /// finite.
    /// When no value is below P (P is the least, say a run of probabilities
    /// of exactly 1), a second pass puts the values equal to P next, so every
    /// pass makes progress.
    ///
    /// Returns the band of positions, around k, that holds values equal to
    /// the k-th smallest and beyond which the range is partitioned: nothing
    /// before the band is larger, nothing after it smaller.
    @discardableResult
    static func select(_ values: UnsafeMutableBufferPointer<Double>, _ k: Int, left start: Int, right end: Int)
        -> ClosedRange<Int> {
        guard let a = values.baseAddress else { return k...k }
        var left = start, right = end
        while left < right {
            let first = a[left], middle = a[left + (right - left) / 2], last = a[right]
            let pivot = max(min(first, middle), min(max(first, middle), last))
            // a[left..<store] < pivot ≤ a[store..<i].
            var store = left
            for i in left...right {
                let x = a[i]
                a[i] = a[store]
                a[store] = x
                store &+= Int((x - pivot).bitPattern >> 63)      // 1 when x < pivot
            }
            if k < store {
                right = store - 1
                continue
            }
            if store > left {
                left = store
                continue
            }
            // Nothing below the pivot: a[left..<equal] == pivot < a[equal…right].
            var equal = left
            for i in left...right {
                let x = a[i]
                a[i] = a[equal]
                a[equal] = x
                equal &+= 1 - Int((pivot - x).bitPattern >> 63)  // 1 when x ≤ pivot
            }
            if k < equal { return left...(equal - 1) }
            left = equal
        }
        return k...k
    }
}
