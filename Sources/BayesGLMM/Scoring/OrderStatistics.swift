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
        return probabilities.map { p in
            let index = 1 + Double(n - 1) * p
            let lo = index.rounded(.down), hi = index.rounded(.up)
            let low = select(values, Int(lo) - 1)
            guard index > lo else { return low }
            // After selection everything right of lo − 1 is at least x₍lo₎:
            // x₍hi₎ = x₍lo+1₎ is the least of them.
            var high = Double.infinity
            for k in Int(lo)..<n { high = min(high, values[k]) }
            _ = hi
            guard high != low else { return low }
            let h = index - lo
            return (1 - h) * low + h * high
        }
    }

    /// The k-th smallest (0-based) of `values`, leaving it at position k with
    /// nothing larger before it and nothing smaller after it: quickselect
    /// with a median-of-three pivot and a three-way partition (so that runs
    /// of equal values, such as probabilities of exactly 1, cost one pass).
    static func select(_ values: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        var left = 0, right = values.count - 1
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
            if k < less { right = less - 1 } else if k > greater { left = greater + 1 } else { return pivot }
        }
        return values[k]
    }
}
