/// The nonzero entries of each row of a row-major n × p matrix, as
/// compressed sparse rows (columns ascending): the design's fixed-effect
/// columns, where most columns are dummy columns of factors, so that a row
/// has few nonzero entries (guPrenat: 7–9 of 19). Products with X and
/// Σωᵢxᵢxᵢ' then cost the nonzero entries of a row, not p. Every sum adds
/// the same nonzero terms in the same order as the dense loops (which add
/// zeros besides), so the results are the dense ones exactly.
///
/// Without `values` (`patterns(groupedBy:count:)`), the columns alone: for
/// each group of rows (the cells of each level of a term), the columns in
/// which some row of the group is nonzero — where a weighted sum of the
/// group's rows, such as a level's Σωᵢxᵢ, can be nonzero.
struct SparseRows: Sendable {
    /// Row i's entries are `offsets[i] ..< offsets[i + 1]`.
    let offsets: [Int]
    let columns: [Int32]
    let values: [Double]
    let columnCount: Int

    var rowCount: Int { offsets.count - 1 }

    init(_ x: [Double], rows n: Int, columns p: Int) {
        precondition(x.count == n * p)
        var offsets = [0], columns: [Int32] = [], values: [Double] = []
        offsets.reserveCapacity(n + 1)
        for i in 0..<n {
            for j in 0..<p where x[i * p + j] != 0 {
                columns.append(Int32(j))
                values.append(x[i * p + j])
            }
            offsets.append(columns.count)
        }
        self.offsets = offsets
        self.columns = columns
        self.values = values
        columnCount = p
    }

    private init(offsets: [Int], columns: [Int32], columnCount: Int) {
        self.offsets = offsets
        self.columns = columns
        values = []
        self.columnCount = columnCount
    }

    /// For each group g < `count`, the columns (ascending) nonzero in some
    /// row i with `group[i] == g`.
    func patterns(groupedBy group: [Int32], count: Int) -> SparseRows {
        precondition(group.count == rowCount)
        var seen = [[Bool]](repeating: [Bool](repeating: false, count: columnCount), count: count)
        for i in 0..<rowCount {
            let g = Int(group[i])
            for e in offsets[i]..<offsets[i + 1] { seen[g][Int(columns[e])] = true }
        }
        var offsets = [0], columns: [Int32] = []
        for g in 0..<count {
            for j in 0..<columnCount where seen[g][j] { columns.append(Int32(j)) }
            offsets.append(columns.count)
        }
        return SparseRows(offsets: offsets, columns: columns, columnCount: columnCount)
    }

    /// The row offsets, columns and values, unchecked.
    @inline(__always)
    private func withEntries<R>(
        _ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Double>) -> R
    ) -> R {
        offsets.withUnsafeBufferPointer { ob in
            columns.withUnsafeBufferPointer { cb in
                values.withUnsafeBufferPointer { xb in body(ob, cb, xb) }
            }
        }
    }

    /// Xv: one entry per row.
    func product(_ v: [Double]) -> [Double] {
        precondition(v.count == columnCount)
        var result = [Double](repeating: 0, count: rowCount)
        withEntries { ob, cb, xb in
            for i in 0..<rowCount {
                var sum = 0.0
                for e in ob[i]..<ob[i + 1] { sum += xb[e] * v[Int(cb[e])] }
                result[i] = sum
            }
        }
        return result
    }

    /// Xᵀr: one entry per column.
    func transposedProduct(_ r: [Double]) -> [Double] {
        precondition(r.count == rowCount)
        var result = [Double](repeating: 0, count: columnCount)
        withEntries { ob, cb, xb in
            for i in 0..<rowCount where r[i] != 0 {
                let ri = r[i]
                for e in ob[i]..<ob[i + 1] { result[Int(cb[e])] += xb[e] * ri }
            }
        }
        return result
    }

    /// Σᵢ wᵢ·xᵢxᵢᵀ (upper triangle, row-major p × p) over the rows, a zero
    /// weight skipping its row.
    func weightedGram(weights w: [Double]) -> [Double] {
        var upper = [Double](repeating: 0, count: columnCount * columnCount)
        addWeightedGram(weights: w, to: &upper)
        return upper
    }

    /// `upper` += Σᵢ wᵢ·xᵢxᵢᵀ, row by row (as `weightedGram`).
    func addWeightedGram(weights w: [Double], to upper: inout [Double]) {
        precondition(w.count == rowCount && upper.count == columnCount * columnCount)
        let p = columnCount
        withEntries { ob, cb, xb in
            upper.withUnsafeMutableBufferPointer { ub in
                for i in 0..<rowCount where w[i] != 0 {
                    let (start, end) = (ob[i], ob[i + 1])
                    for e in start..<end {
                        let wa = w[i] * xb[e], row = Int(cb[e]) * p
                        for f in e..<end { ub[row + Int(cb[f])] += wa * xb[f] }
                    }
                }
            }
        }
    }

    /// Σᵢ wᵢ·xᵢ over the rows of each group g, added to
    /// `sums[g·p ..< (g + 1)·p]` (a level's Σωᵢxᵢ over its cells).
    func accumulate(weights w: [Double], groupedBy group: [Int32], into sums: inout [Double]) {
        precondition(w.count == rowCount && group.count == rowCount)
        let p = columnCount
        withEntries { ob, cb, xb in
            sums.withUnsafeMutableBufferPointer { sb in
                for i in 0..<rowCount {
                    let base = Int(group[i]) * p, wi = w[i]
                    for e in ob[i]..<ob[i + 1] { sb[base + Int(cb[e])] += wi * xb[e] }
                }
            }
        }
    }
}
