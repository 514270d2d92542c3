import CCHOLMOD
import Foundation

/// The Cholesky factorisation P A Pᵀ = L Lᵀ of a sparse symmetric
/// positive-definite matrix by SuiteSparse CHOLMOD (Chen, Davis, Hager &
/// Rajamanickam 2008), the engine lme4 uses through R's Matrix package.
///
/// The fill-reducing ordering P and symbolic factorisation are computed
/// once for a sparsity pattern (`init`), and the matrix is kept already
/// permuted, as the upper triangle of P A Pᵀ, so that `factorize(values:)`
/// refactorises numerically for new values on the same pattern without
/// CHOLMOD permuting (transposing) A each time — the shape of the
/// empirical-Bayes fitter's inner loop, which refactorises
/// Λᵀ Zᵀ W Z Λ + I at every evaluation of the Laplace approximation.
/// Values are passed, and the sparse inverse subset returned, in that
/// storage order: entry e of the pattern given to `init` is at
/// `storagePosition[e]`.
/// A reference type because it owns CHOLMOD's workspace and factor.
public final class SparseCholesky {
    public let size: Int
    private let common: UnsafeMutablePointer<cholmod_common>
    /// The upper triangle of P A Pᵀ (CHOLMOD's stype 1), analysed in its
    /// own (natural) order.
    private let matrix: UnsafeMutablePointer<cholmod_sparse>
    private var factor: UnsafeMutablePointer<cholmod_factor>?
    private let entries: Int
    /// The fill-reducing ordering: row j of P A Pᵀ is row `permutation[j]`
    /// of A (CHOLMOD's Perm).
    private let permutation: [Int32]
    /// For each entry of the pattern given to `init`, its index among the
    /// values `factorize(values:)` takes and `inverseOnPattern()` returns.
    public let storagePosition: [Int32]

    /// Analyses the pattern of the lower triangle (including the diagonal) of
    /// an n×n symmetric matrix in compressed-column form: column j's rows are
    /// `rowIndices[columnStarts[j] ..< columnStarts[j + 1]]`, sorted, all ≥ j.
    ///
    /// Throws `NumericalFailure` when the pattern is inconsistent (a caller's
    /// error: n < 1, or starts that do not match the rows) or CHOLMOD cannot
    /// allocate or analyse the matrix.
    public init(size n: Int, columnStarts: [Int32], rowIndices: [Int32]) throws(NumericalFailure) {
        guard n > 0, columnStarts.count == n + 1, Int(columnStarts[n]) == rowIndices.count else {
            throw NumericalFailure("the sparse Cholesky factorisation was given an inconsistent pattern "
                                   + "(\(n) columns, \(columnStarts.count) column starts, \(rowIndices.count) entries)")
        }
        size = n
        let count = rowIndices.count
        entries = count
        let common = UnsafeMutablePointer<cholmod_common>.allocate(capacity: 1)
        self.common = common
        cholmod_start(common)
        common.pointee.supernodal = ccholmod_simplicial()
        common.pointee.final_ll = 1
        func allocate(stype: Int32) -> UnsafeMutablePointer<cholmod_sparse>? {
            cholmod_allocate_sparse(n, n, count, 1, 1, stype, ccholmod_real(), common)
        }
        // The ordering, from A's lower triangle by CHOLMOD's default choice
        // (AMD, or METIS where AMD fills in much), postordered.
        guard let lower = allocate(stype: -1) else {
            cholmod_finish(common)
            common.deallocate()
            throw SparseCholesky.outOfMemory(n, count)
        }
        do {
            let p = lower.pointee.p.assumingMemoryBound(to: Int32.self)
            let i = lower.pointee.i.assumingMemoryBound(to: Int32.self)
            for (k, v) in columnStarts.enumerated() { p[k] = v }
            for (k, v) in rowIndices.enumerated() { i[k] = v }
        }
        var ordering = cholmod_analyze(lower, common)
        var optionalLower: UnsafeMutablePointer<cholmod_sparse>? = lower
        cholmod_free_sparse(&optionalLower, common)
        guard let ordered = ordering else {
            cholmod_finish(common)
            common.deallocate()
            throw SparseCholesky.unordered(n, common)
        }
        let perm = ordered.pointee.Perm.assumingMemoryBound(to: Int32.self)
        permutation = (0..<n).map { perm[$0] }
        cholmod_free_factor(&ordering, common)
        var inverse = [Int32](repeating: 0, count: n)
        for j in 0..<n { inverse[Int(permutation[j])] = Int32(j) }

        // P A Pᵀ's upper triangle: A's entry (i, j) is at row min(π(i), π(j))
        // of column max(π(i), π(j)), π the inverse permutation; each
        // column's rows ascending.
        guard let upper = allocate(stype: 1) else {
            cholmod_finish(common)
            common.deallocate()
            throw SparseCholesky.outOfMemory(n, count)
        }
        matrix = upper
        let starts = upper.pointee.p.assumingMemoryBound(to: Int32.self)
        let rows = upper.pointee.i.assumingMemoryBound(to: Int32.self)
        var columnOf = [Int32](repeating: 0, count: count), rowOf = [Int32](repeating: 0, count: count)
        var lengths = [Int32](repeating: 0, count: n + 1)
        for j in 0..<n {
            for e in Int(columnStarts[j])..<Int(columnStarts[j + 1]) {
                let a = inverse[Int(rowIndices[e])], b = inverse[j]
                columnOf[e] = max(a, b); rowOf[e] = min(a, b)
                lengths[Int(columnOf[e]) + 1] += 1
            }
        }
        for j in 0..<n { lengths[j + 1] += lengths[j] }
        for j in 0...n { starts[j] = lengths[j] }
        // Entries sorted by (column, row), a counting sort on each key.
        var byRow = [Int32](repeating: 0, count: count)
        do {
            var next = [Int32](repeating: 0, count: n + 1)
            for e in 0..<count { next[Int(rowOf[e]) + 1] += 1 }
            for j in 0..<n { next[j + 1] += next[j] }
            for e in 0..<count { byRow[Int(next[Int(rowOf[e])])] = Int32(e); next[Int(rowOf[e])] += 1 }
        }
        var position = [Int32](repeating: 0, count: count)
        var fill = lengths
        for e in byRow {
            let slot = fill[Int(columnOf[Int(e)])]
            fill[Int(columnOf[Int(e)])] += 1
            rows[Int(slot)] = rowOf[Int(e)]
            position[Int(e)] = slot
        }
        storagePosition = position
        // Analysed as it stands: the natural ordering, not postordered again
        // (P already is).
        ccholmod_use_natural_ordering(common)
        factor = cholmod_analyze(upper, common)
        guard factor != nil else {
            // deinit frees the matrix and the workspace.
            throw SparseCholesky.unordered(n, common)
        }
    }

    deinit {
        if factor != nil { cholmod_free_factor(&factor, common) }
        var a: UnsafeMutablePointer<cholmod_sparse>? = matrix
        cholmod_free_sparse(&a, common)
        cholmod_finish(common)
        common.deallocate()
    }

    private static func outOfMemory(_ n: Int, _ entries: Int) -> NumericalFailure {
        NumericalFailure("CHOLMOD could not allocate a sparse \(n) × \(n) matrix with \(entries) "
                         + "entries (out of memory?)", remedies: [.simplerModel])
    }

    private static func unordered(_ n: Int, _ common: UnsafeMutablePointer<cholmod_common>) -> NumericalFailure {
        NumericalFailure("CHOLMOD could not order the sparse \(n) × \(n) matrix for its factorisation "
                         + "(\(SparseCholesky.status(common)))", remedies: [.simplerModel])
    }

    /// The values in storage order of pattern values in the order given to
    /// `init`.
    public func stored(_ patternValues: [Double]) -> [Double] {
        precondition(patternValues.count == entries, "one value per pattern entry")
        var values = [Double](repeating: 0, count: entries)
        for (e, v) in patternValues.enumerated() { values[Int(storagePosition[e])] = v }
        return values
    }

    /// Factorises the matrix with these values of the pattern's entries, in
    /// storage order (entry e of the pattern at `storagePosition[e]`).
    /// Throws `NumericalFailure` if the matrix is not positive definite
    /// (saying at which column of the permuted matrix the factorisation
    /// stopped) or CHOLMOD fails otherwise; the caller says which matrix it is.
    public func factorize(values: [Double]) throws(NumericalFailure) {
        precondition(values.count == entries, "one value per pattern entry")
        let x = matrix.pointee.x.assumingMemoryBound(to: Double.self)
        values.withUnsafeBufferPointer { x.update(from: $0.baseAddress!, count: entries) }
        cholmod_factorize(matrix, factor, common)
        guard common.pointee.status == ccholmod_ok() else {
            if common.pointee.status == ccholmod_not_positive_definite() {
                let column = factor.map { Int($0.pointee.minor) } ?? 0
                let finite = values.allSatisfy(\.isFinite)
                throw NumericalFailure("the matrix is not positive definite (the factorisation stopped at column "
                                       + "\(column + 1) of \(size)\(finite ? "" : "; some of its entries are not finite"))")
            }
            throw NumericalFailure("CHOLMOD's factorisation failed (\(SparseCholesky.status(common)))",
                                   remedies: [.simplerModel])
        }
        // `logDeterminant` and `inverseDiagonal()` read a simplicial LLᵀ,
        // which the settings in `init` ask for; should CHOLMOD still return
        // LDLᵀ or a supernodal factor, convert it (real, LLᵀ, simplicial,
        // packed, monotonic).
        if let f = factor, f.pointee.is_ll == 0 || f.pointee.is_super != 0 {
            guard cholmod_change_factor(ccholmod_real(), 1, 0, 1, 1, f, common) != 0,
                  common.pointee.status == ccholmod_ok() else {
                throw NumericalFailure("CHOLMOD could not convert its factor to simplicial LLᵀ "
                                       + "(\(SparseCholesky.status(common)))")
            }
        }
    }

    /// CHOLMOD's status, for messages: "status -2: out of memory".
    private static func status(_ common: UnsafeMutablePointer<cholmod_common>) -> String {
        let status = common.pointee.status
        return "status \(status)" + (status == ccholmod_out_of_memory() ? ": out of memory" : "")
    }

    /// log det A = 2 Σⱼ log Lⱼⱼ (the ordering does not change it).
    public var logDeterminant: Double {
        guard let f = factor else { return .nan }
        let p = f.pointee.p.assumingMemoryBound(to: Int32.self)
        let x = f.pointee.x.assumingMemoryBound(to: Double.self)
        var sum = 0.0
        for j in 0..<size { sum += log(x[Int(p[j])]) }    // simplicial LLᵀ: diagonal first in each column
        return 2 * sum
    }

    /// The number of entries stored for L (its nonzero pattern, diagonal
    /// included), or 0 before a numeric factorisation: the fill, for reports.
    public var factorEntryCount: Int {
        guard let f = factor, f.pointee.xtype == ccholmod_real(), f.pointee.is_super == 0 else { return 0 }
        let count = f.pointee.nz.assumingMemoryBound(to: Int32.self)
        return (0..<size).reduce(0) { $0 + Int(count[$1]) }
    }

    /// A⁻¹ b: y = (P A Pᵀ)⁻¹ P b, then A⁻¹ b = Pᵀ y.
    public func solve(_ b: [Double]) -> [Double] {
        precondition(b.count == size)
        guard let rhs = cholmod_allocate_dense(size, 1, size, ccholmod_real(), common) else { return [] }
        var rhsOptional: UnsafeMutablePointer<cholmod_dense>? = rhs
        defer { cholmod_free_dense(&rhsOptional, common) }
        let bx = rhs.pointee.x.assumingMemoryBound(to: Double.self)
        for j in 0..<size { bx[j] = b[Int(permutation[j])] }
        guard let solution = cholmod_solve(ccholmod_solve_a(), factor, rhs, common) else { return [] }
        var solutionOptional: UnsafeMutablePointer<cholmod_dense>? = solution
        defer { cholmod_free_dense(&solutionOptional, common) }
        let sx = solution.pointee.x.assumingMemoryBound(to: Double.self)
        var result = [Double](repeating: 0, count: size)
        for j in 0..<size { result[Int(permutation[j])] = sx[j] }
        return result
    }

    /// The diagonal of A⁻¹, in A's own (unpermuted) order: the conditional
    /// variances of the spherical random effects that lme4's `condVar`
    /// reports, without forming A⁻¹. diag(A⁻¹)[Perm[j]] = Zⱼⱼ, with Z the
    /// sparse inverse subset of `withInverseOnFactorPattern(_:)`.
    ///
    /// Call after `factorize(values:)` has succeeded; without a numeric
    /// factor the result is all NaN.
    public func inverseDiagonal() -> [Double] {
        withInverseOnFactorPattern { z in
            var diagonal = [Double](repeating: 0, count: size)
            for j in 0..<size { diagonal[Int(permutation[j])] = z.inverse[z.start[j]] }
            return diagonal
        } ?? [Double](repeating: .nan, count: size)
    }

    /// The entries of A⁻¹ on A's own pattern, in storage order (the order
    /// of the values given to `factorize(values:)`: entry e of the pattern
    /// given to `init`, (A⁻¹)ᵢⱼ with i = `rowIndices[e]` and j its column,
    /// is at `storagePosition[e]`). These are all that Jacobi's formula
    /// d log det A = tr(A⁻¹ dA) = Σᵢⱼ (A⁻¹)ᵢⱼ dAᵢⱼ needs for a dA on the
    /// same pattern: the exact gradient of the log det term of the Laplace
    /// approximation (Bates, Mächler, Bolker & Walker 2015, J. Stat. Softw.
    /// 67(1)) without forming A⁻¹.
    ///
    /// The stored entry (r, c), r ≤ c, of P A Pᵀ is (A⁻¹)ᵢⱼ = Z_{c r}, an
    /// entry of P A Pᵀ, whose pattern lies inside that of L + Lᵀ
    /// (elimination only adds fill; George & Liu 1981, Computer Solution of
    /// Large Sparse Positive Definite Systems). So each entry is a lookup of
    /// row c in the sorted column r of that sparse inverse subset:
    /// O(nnz(A) log n) beyond the recursion.
    ///
    /// Call after `factorize(values:)` has succeeded; without a numeric
    /// factor the result is all NaN.
    public func inverseOnPattern() -> [Double] {
        withInverseOnFactorPattern { z in
            let columnStart = matrix.pointee.p.assumingMemoryBound(to: Int32.self)
            let rowIndex = matrix.pointee.i.assumingMemoryBound(to: Int32.self)
            var result = [Double](repeating: 0, count: entries)
            for c in 0..<size {
                for e in Int(columnStart[c])..<Int(columnStart[c + 1]) {
                    let r = Int(rowIndex[e])
                    let q = SparseCholesky.position(of: Int32(c), in: z.row, from: z.start[r], to: z.start[r + 1])
                    result[e] = z.inverse[q]
                }
            }
            return result
        } ?? [Double](repeating: .nan, count: entries)
    }

    /// Z = (P A Pᵀ)⁻¹ on the pattern of L, packed: column j's entries are
    /// `start[j] ..< start[j + 1]`, rows ascending with the diagonal first,
    /// row indices in `row` and values of Z in `inverse`. Valid only
    /// inside the body of `withInverseOnFactorPattern(_:)`.
    private struct FactorPatternInverse {
        let start: UnsafeMutableBufferPointer<Int>
        let row: UnsafeMutableBufferPointer<Int32>
        let inverse: UnsafeMutableBufferPointer<Double>
    }

    /// Computes Z = (P A Pᵀ)⁻¹ on the pattern of L and passes it to `body`;
    /// nil without a numeric factor.
    ///
    /// With P A Pᵀ = L Lᵀ and Z = (L Lᵀ)⁻¹, the identity Z L = L⁻ᵀ (upper
    /// triangular with diagonal 1/Lⱼⱼ) read column by column, from the last
    /// to the first, gives the Takahashi recursion (Takahashi, Fagan & Chin
    /// 1973; Erisman & Tinney 1975, Commun. ACM 18(3), 177–179):
    ///
    ///     Zᵢⱼ = −(1/Lⱼⱼ) Σₖ Lₖⱼ Zᵢₖ                for i > j with Lᵢⱼ ≠ 0,
    ///     Zⱼⱼ =  (1/Lⱼⱼ) (1/Lⱼⱼ − Σₖ Lₖⱼ Zₖⱼ),
    ///
    /// the sums over k > j with Lₖⱼ ≠ 0, and Zᵢₖ = Zₖᵢ. The pattern of L is
    /// a filled, hence chordal, graph (Rose 1970, J. Math. Anal. Appl. 32):
    /// if rows i > k > j are both in column j then Lᵢₖ ≠ 0, so every Zᵢₖ the
    /// recursion needs is itself on the pattern of L + Lᵀ — the sparse
    /// inverse subset (Campbell & Davis 1995; Rue & Martino 2007, J. Stat.
    /// Plan. Inference 137(10), 3177–3192, for marginal variances). So Z is
    /// computed on the entries of L alone, at O(Σⱼ |column j of L|²) cost —
    /// that of the factorisation itself, not of n solves.
    private func withInverseOnFactorPattern<Result>(_ body: (FactorPatternInverse) -> Result) -> Result? {
        guard let f = factor, f.pointee.xtype == ccholmod_real(), f.pointee.minor == size else { return nil }
        precondition(f.pointee.is_ll != 0 && f.pointee.is_super == 0, "factorize(values:) leaves a simplicial LLᵀ")
        let n = size
        let factorStart = f.pointee.p.assumingMemoryBound(to: Int32.self)
        let factorCount = f.pointee.nz.assumingMemoryBound(to: Int32.self)
        let factorRow = f.pointee.i.assumingMemoryBound(to: Int32.self)
        let factorValue = f.pointee.x.assumingMemoryBound(to: Double.self)

        // A packed copy of L with each column's rows ascending (diagonal
        // first): CHOLMOD's simplicial columns need not be packed or in
        // column order, and the lookups below walk rows in order.
        let start = UnsafeMutableBufferPointer<Int>.allocate(capacity: n + 1)
        defer { start.deallocate() }
        start[0] = 0
        var longest = 0
        for j in 0..<n {
            start[j + 1] = start[j] + Int(factorCount[j])
            longest = max(longest, Int(factorCount[j]))
        }
        let total = start[n]
        let row = UnsafeMutableBufferPointer<Int32>.allocate(capacity: total)
        let value = UnsafeMutableBufferPointer<Double>.allocate(capacity: total)
        // Z on the pattern of L, and Σₖ Lₖⱼ Zᵢₖ for the rows i of column j.
        let inverse = UnsafeMutableBufferPointer<Double>.allocate(capacity: total)
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: longest)
        defer { row.deallocate(); value.deallocate(); inverse.deallocate(); sums.deallocate() }
        for j in 0..<n {
            let from = Int(factorStart[j]), to = start[j], count = start[j + 1] - to
            var ascending = true
            for e in 0..<count {
                row[to + e] = factorRow[from + e]
                value[to + e] = factorValue[from + e]
                if e > 0 && row[to + e] <= row[to + e - 1] { ascending = false }
            }
            if !ascending {
                let sorted = (0..<count).map { (row[to + $0], value[to + $0]) }.sorted { $0.0 < $1.0 }
                for (e, entry) in sorted.enumerated() { row[to + e] = entry.0; value[to + e] = entry.1 }
            }
            precondition(count > 0 && row[to] == Int32(j), "the diagonal is the first entry of its column")
        }

        for j in stride(from: n - 1, through: 0, by: -1) {
            let first = start[j], count = start[j + 1] - first
            for a in 1..<count { sums[a] = 0 }
            // Each k = row a of column j adds Lₖⱼ Zᵢₖ to the sum of every
            // later row i = row b, and by symmetry Lᵢⱼ Zᵢₖ to its own; Zᵢₖ
            // (i > k) is in column k, whose rows include all of column j's
            // rows after k — so once what is left of the two columns has
            // the same length, it is the same rows, and the rest is dense.
            for a in 1..<count {
                let k = Int(row[first + a]), lkj = value[first + a]
                let kEnd = start[k + 1]
                var own = lkj * inverse[start[k]]
                var q = start[k] + 1
                var b = a + 1
                while b < count {
                    if kEnd - q == count - b {
                        own += SparseCholesky.accumulate(into: sums.baseAddress! + b, scale: lkj,
                                                         column: inverse.baseAddress! + q,
                                                         weights: value.baseAddress! + first + b, count: count - b)
                        break
                    }
                    let target = row[first + b]
                    if q == kEnd || row[q] != target {
                        q = SparseCholesky.position(of: target, in: row, from: q, to: kEnd)
                    }
                    let zik = inverse[q]
                    sums[b] += lkj * zik
                    own += value[first + b] * zik
                    q += 1
                    b += 1
                }
                sums[a] += own
            }
            let ljj = value[first]
            var correction = 0.0
            for a in 1..<count {
                let zij = -sums[a] / ljj
                inverse[first + a] = zij
                correction += value[first + a] * zij
            }
            inverse[first] = (1 / ljj - correction) / ljj
        }
        return body(FactorPatternInverse(start: start, row: row, inverse: inverse))
    }

    /// sums[t] += scale · column[t] for t < count, returning
    /// Σₜ weights[t] · column[t] (four partial sums, for speed): one column
    /// k's share of a dense stretch of the recursion.
    @inline(__always)
    private static func accumulate(into sums: UnsafeMutablePointer<Double>, scale: Double,
                                   column: UnsafeMutablePointer<Double>, weights: UnsafeMutablePointer<Double>,
                                   count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var t = 0
        while t + 4 <= count {
            let z0 = column[t], z1 = column[t + 1], z2 = column[t + 2], z3 = column[t + 3]
            sums[t] += scale * z0; sums[t + 1] += scale * z1; sums[t + 2] += scale * z2; sums[t + 3] += scale * z3
            s0 += weights[t] * z0; s1 += weights[t + 1] * z1; s2 += weights[t + 2] * z2; s3 += weights[t + 3] * z3
            t += 4
        }
        while t < count {
            sums[t] += scale * column[t]
            s0 += weights[t] * column[t]
            t += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// The index of `target` in the ascending `row[from ..< end]`, by
    /// galloping (doubling) then bisection: O(log d) for a target d places
    /// ahead, so O(1) where column k's rows match column j's one for one.
    /// The target is on the pattern of L: in the recursion by the
    /// filled-graph property, for an entry of P A Pᵀ because L's pattern
    /// contains it.
    @inline(__always)
    private static func position(of target: Int32, in row: UnsafeMutableBufferPointer<Int32>,
                                 from: Int, to end: Int) -> Int {
        // Invariant: every row before `low` is below the target, and
        // row[high] is not (or high is past the column).
        var low = from, high = from, step = 1
        while high < end && row[high] < target { low = high + 1; high += step; step *= 2 }
        high = min(high, end - 1)
        while low < high {
            let middle = (low + high) / 2
            if row[middle] < target { low = middle + 1 } else { high = middle }
        }
        precondition(low < end && row[low] == target, "the row is not on the pattern of L")
        return low
    }
}
