// Reductions that accumulate the way R and matrixStats do.
//
// Most diagnostics are smooth in the data and agree with `posterior` to
// ~1e-15 whatever the summation order. A few are not: with each chain
// constant at a different value, R-hat is B/W with W a sum of rounding
// errors (posterior reports ~3e15, not +Inf), and then only the same
// rounding reproduces the number. So the reductions below copy R's choices:
//   * base R `mean`, `var`, `sum`, `colMeans` accumulate in `long double`
//     (80-bit on x86-64), `mean` and `var` with a second, correcting pass;
//   * matrixStats `colMeans2` / `rowMeans2` accumulate in `double`.
// On platforms without an 80-bit type the wide accumulator is `Double`.

#if (arch(x86_64) || arch(i386)) && !os(Windows) && !os(Android)
typealias Wide = Float80
#else
typealias Wide = Double
#endif

enum RArithmetic {
    /// R's `mean(x)`: wide sum / n, then (if finite) a correcting pass
    /// adding mean(x - s) (src/main/summary.c).
    static func mean<C: Collection>(_ x: C) -> Double where C.Element == Double {
        let n = Wide(x.count)
        var s: Wide = 0
        for v in x { s += Wide(v) }
        s /= n
        if Double(s).isFinite {
            var t: Wide = 0
            for v in x { t += Wide(v) - s }
            s += t / n
        }
        return Double(s)
    }

    /// R's `sum(x)`: a wide accumulator.
    static func sum<C: Collection>(_ x: C) -> Double where C.Element == Double {
        var s: Wide = 0
        for v in x { s += Wide(v) }
        return Double(s)
    }

    /// R's `var(x)` (denominator n - 1): the corrected wide mean, stored as a
    /// double, then a wide sum of squared deviations (src/library/stats/src/cov.c).
    /// NaN (R's NA) for fewer than two values.
    static func variance<C: Collection>(_ x: C) -> Double where C.Element == Double {
        guard x.count > 1 else { return .nan }
        let centre = Wide(mean(x))
        var s: Wide = 0
        for v in x {
            let d = Wide(v) - centre
            s += d * d
        }
        return Double(s / Wide(x.count - 1))
    }

    /// matrixStats `colMeans2` / `rowMeans2`: a plain double sum / n.
    static func plainMean<C: Collection>(_ x: C) -> Double where C.Element == Double {
        var s = 0.0
        for v in x { s += v }
        return s / Double(x.count)
    }

    /// matrixStats `colVars(x, center = colMeans2(x))` for one column:
    /// `colMeans((x - centre)^2) * (n / (n - 1))`, squares in double, the
    /// mean as base `colMeans` (wide sum / n, no correction). NaN for n < 2.
    static func centredVariance<C: Collection>(_ x: C, centre: Double) -> Double where C.Element == Double {
        let n = x.count
        guard n > 1 else { return .nan }
        var s: Wide = 0
        for v in x {
            let d = v - centre
            s += Wide(d * d)
        }
        let meanSquare = Double(s / Wide(n))
        return meanSquare * (Double(n) / Double(n - 1))
    }
}
