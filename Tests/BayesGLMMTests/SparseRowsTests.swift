import Foundation
import Testing
@testable import BayesGLMM

/// `SparseRows` against the dense sums it replaces: the same terms in the
/// same order, so the same doubles.
@Suite struct SparseRowsTests {
    /// A 40 × 7 matrix of mostly zeros (dummy-like columns, a continuous
    /// one, an all-zero row and an all-zero column), weights with zeros, and
    /// rows in 6 groups.
    static func example() -> (x: [Double], n: Int, p: Int, w: [Double], group: [Int32]) {
        let n = 40, p = 7
        var x = [Double](repeating: 0, count: n * p)
        for i in 0..<n where i != 17 {
            x[i * p] = 1
            x[i * p + 1 + i % 3] = 1                       // a three-level factor
            if i % 5 == 0 { x[i * p + 4] = 1 }
            x[i * p + 6] = Double(i) * 0.37 - 5.1           // continuous; column 5 stays zero
        }
        var w = [Double](repeating: 0, count: n)
        for i in 0..<n where i % 7 != 3 { w[i] = 0.1 + 0.23 * Double(i % 11) }
        let group: [Int32] = (0..<n).map { i in Int32(i * 5 % 6) }
        return (x, n, p, w, group)
    }

    @Test func productsAndGramEqualTheDenseSums() {
        let (x, n, p, w, group) = SparseRowsTests.example()
        let rows = SparseRows(x, rows: n, columns: p)
        #expect(rows.rowCount == n && rows.columnCount == p)
        #expect(rows.values.count == x.filter { $0 != 0 }.count)
        let v = [0.3, -1.2, 2.5, 0.7, -0.4, 9.0, 1.1]
        let r: [Double] = (0..<n).map { i in i % 4 == 0 ? 0 : sin(Double(i)) }
        var xv = [Double](repeating: 0, count: n), xr = [Double](repeating: 0, count: p)
        var gram = [Double](repeating: 0, count: p * p), sums = [Double](repeating: 0, count: 6 * p)
        for i in 0..<n {
            for j in 0..<p { xv[i] += x[i * p + j] * v[j] }
            for j in 0..<p where r[i] != 0 { xr[j] += x[i * p + j] * r[i] }
            for a in 0..<p where w[i] * x[i * p + a] != 0 {
                for b in a..<p { gram[a * p + b] += w[i] * x[i * p + a] * x[i * p + b] }
            }
            for j in 0..<p { sums[Int(group[i]) * p + j] += w[i] * x[i * p + j] }
        }
        #expect(rows.product(v) == xv)
        #expect(rows.transposedProduct(r) == xr)
        #expect(rows.weightedGram(weights: w) == gram)
        // Added to what is there, row by row.
        var start = [Double](repeating: 1, count: p * p), reference = start
        for i in 0..<n {
            for a in 0..<p where w[i] * x[i * p + a] != 0 {
                for b in a..<p { reference[a * p + b] += w[i] * x[i * p + a] * x[i * p + b] }
            }
        }
        rows.addWeightedGram(weights: w, to: &start)
        #expect(start == reference)
        var accumulated = [Double](repeating: 0, count: 6 * p)
        rows.accumulate(weights: w, groupedBy: group, into: &accumulated)
        #expect(accumulated == sums)
    }

    /// Each group's pattern holds exactly the columns some row of it has,
    /// and a rank-one update over the pattern equals the dense one.
    @Test func patternsHoldEveryNonzeroColumnOfAGroup() {
        let (x, n, p, w, group) = SparseRowsTests.example()
        let rows = SparseRows(x, rows: n, columns: p)
        let patterns = rows.patterns(groupedBy: group, count: 7)      // group 6 has no rows
        #expect(patterns.rowCount == 7 && patterns.values.isEmpty)
        var sums = [Double](repeating: 0, count: 7 * p)
        rows.accumulate(weights: w, groupedBy: group, into: &sums)
        for g in 0..<7 {
            let expected = (0..<p).filter { j in (0..<n).contains { group[$0] == g && x[$0 * p + j] != 0 } }
            let columns = patterns.columns[patterns.offsets[g]..<patterns.offsets[g + 1]].map { Int($0) }
            #expect(columns == expected, "group \(g)")
            var dense = [Double](repeating: 0, count: p * p), sparse = dense
            for a in 0..<p where -0.7 * sums[g * p + a] != 0 {
                for b in a..<p { dense[a * p + b] += -0.7 * sums[g * p + a] * sums[g * p + b] }
            }
            sums.withUnsafeBufferPointer { sb in
                patterns.columns.withUnsafeBufferPointer { cb in
                    sparse.withUnsafeMutableBufferPointer {
                        RankOneUpdate.add(weight: -0.7, vector: sb, offset: g * p, columns: cb,
                                          patterns.offsets[g]..<patterns.offsets[g + 1], to: $0, size: p)
                    }
                }
            }
            #expect(dense == sparse, "group \(g)")
        }
    }
}
