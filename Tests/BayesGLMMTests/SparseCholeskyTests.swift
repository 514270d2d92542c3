import CGSL
import Foundation
import Testing
@testable import BayesGLMM

/// CHOLMOD's factor against a dense Cholesky (GSL) on the same matrix.
@Suite struct SparseCholeskyTests {
    /// A sparse symmetric positive-definite matrix shaped like an
    /// empirical-Bayes system: I + Λ Zᵀ W Z Λ for a random crossed design.
    static func matrix(size n: Int, seed: UInt64) throws -> [[Double]] {
        let g = try Generator(seed: seed)
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { a[i][i] = 1 }
        for _ in 0..<(3 * n) {
            let i = Int(g.uniform() * Double(n)), j = Int(g.uniform() * Double(n))
            let w = 0.1 + g.uniform()
            // Adds w (eᵢ + eⱼ)(eᵢ + eⱼ)ᵀ: keeps the matrix positive definite.
            a[i][i] += w; a[j][j] += w
            if i != j { a[i][j] += w; a[j][i] += w }
        }
        return a
    }

    /// A crossed-effects system A = Λ Zᵀ W Z Λ + I shaped like the
    /// empirical-Bayes fitter's: levels of client, stylist and client:stylist
    /// in that order, each client paired with a few distinct stylists and a
    /// few observations per pair, W = diag nᵢ μᵢ (1 − μᵢ).
    static func crossedMatrix(clients: Int, stylists: Int, seed: UInt64) throws -> [[Double]] {
        let g = try Generator(seed: seed)
        let sigma = [1.5, 2.0, 0.7]
        var pairs: [(client: Int, stylist: Int)] = []
        for c in 0..<clients {
            var pool = Array(0..<stylists)
            let k = min(stylists, 1 + Int(g.uniform() * 5))
            for i in 0..<k { pool.swapAt(i, i + Int(g.uniform() * Double(stylists - i))) }
            for s in pool[0..<k] { pairs.append((c, s)) }
        }
        let n = clients + stylists + pairs.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { a[i][i] = 1 }
        for (p, pair) in pairs.enumerated() {
            let levels = [pair.client, clients + pair.stylist, clients + stylists + p]
            for _ in 0..<(1 + Int(g.uniform() * 4)) {
                let mu = g.uniform()
                let w = mu * (1 - mu)
                for x in 0..<3 { for y in 0..<3 { a[levels[x]][levels[y]] += sigma[x] * w * sigma[y] } }
            }
        }
        return a
    }

    /// A tridiagonal matrix, diagonally dominant: Aᵢᵢ ∈ (2, 3), Aᵢ,ᵢ₊₁ ∈ (−1, 0).
    static func tridiagonalMatrix(size n: Int, seed: UInt64) throws -> [[Double]] {
        let g = try Generator(seed: seed)
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { a[i][i] = 2 + g.uniform() }
        for i in 1..<n { a[i][i - 1] = -g.uniform(); a[i - 1][i] = a[i][i - 1] }
        return a
    }

    /// `SparseCholesky` on the nonzero pattern of a's lower triangle,
    /// factorised, with the pattern's values.
    static func factorized(_ a: [[Double]]) throws -> (SparseCholesky, [Double]) {
        let n = a.count
        var starts: [Int32] = [0], rows: [Int32] = [], values: [Double] = []
        for j in 0..<n {
            for i in j..<n where a[i][j] != 0 {
                rows.append(Int32(i))
                values.append(a[i][j])
            }
            starts.append(Int32(rows.count))
        }
        let cholesky = try SparseCholesky(size: n, columnStarts: starts, rowIndices: rows)
        try cholesky.factorize(values: cholesky.stored(values))
        return (cholesky, values)
    }

    /// diag(A⁻¹) by GSL's dense Cholesky decomposition and inverse.
    static func denseInverseDiagonal(_ a: [[Double]]) -> [Double] {
        denseInverse(a).enumerated().map { i, row in row[i] }
    }

    /// The Takahashi diagonal against the dense inverse, then again after
    /// refactorising 2A on the same pattern (diag((2A)⁻¹) = diag(A⁻¹)/2).
    static func expectInverseDiagonalMatchesDense(_ a: [[Double]]) throws {
        let (cholesky, values) = try factorized(a)
        let expected = denseInverseDiagonal(a)
        var worst = 0.0
        for (z, e) in zip(cholesky.inverseDiagonal(), expected) { worst = max(worst, abs(z - e) / abs(e)) }
        #expect(worst < 1e-10, "largest relative error \(worst) for n = \(a.count)")
        try cholesky.factorize(values: cholesky.stored(values.map { 2 * $0 }))
        worst = 0
        for (z, e) in zip(cholesky.inverseDiagonal(), expected) { worst = max(worst, abs(2 * z - e) / abs(e)) }
        #expect(worst < 1e-10, "after refactorising: largest relative error \(worst) for n = \(a.count)")
    }

    /// A⁻¹ by GSL's dense Cholesky decomposition and inverse.
    static func denseInverse(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        var dense = a.flatMap { $0 }
        return dense.withUnsafeMutableBufferPointer { d in
            var m = gsl_matrix_view_array(d.baseAddress, n, n)
            _ = gsl_linalg_cholesky_decomp1(&m.matrix)
            _ = gsl_linalg_cholesky_invert(&m.matrix)
            return (0..<n).map { i in (0..<n).map { j in gsl_matrix_get(&m.matrix, i, j) } }
        }
    }

    /// A⁻¹ on A's lower-triangle pattern against the dense inverse (relative
    /// 1e-10, or absolute 1e-12 for tiny entries), its diagonal entries equal
    /// to `inverseDiagonal()`, then again after refactorising 2A.
    static func expectInverseOnPatternMatchesDense(_ a: [[Double]]) throws {
        let n = a.count
        let (cholesky, values) = try factorized(a)
        // The pattern in `factorized`'s order: (row, column) of each value.
        var pattern: [(row: Int, column: Int)] = []
        for j in 0..<n { for i in j..<n where a[i][j] != 0 { pattern.append((i, j)) } }
        let expected = denseInverse(a)
        for scale in [1.0, 2.0] {
            if scale != 1 { try cholesky.factorize(values: cholesky.stored(values.map { scale * $0 })) }
            // Back from storage order to the pattern's.
            let stored = cholesky.inverseOnPattern()
            let onPattern = cholesky.storagePosition.map { stored[Int($0)] }
            #expect(onPattern.count == pattern.count)
            var worst = 0.0
            for (z, entry) in zip(onPattern, pattern) {
                let e = expected[entry.row][entry.column], error = abs(scale * z - e)
                if error > 1e-12 { worst = max(worst, error / abs(e)) }
            }
            #expect(worst < 1e-10, "scale \(scale): largest relative error \(worst) for n = \(n)")
            let diagonal = cholesky.inverseDiagonal()
            for (z, entry) in zip(onPattern, pattern) where entry.row == entry.column {
                #expect(z == diagonal[entry.row])
            }
        }
    }

    /// Both selected inverses, `inverseDiagonal()` and `inverseOnPattern()`.
    static func expectInversesMatchDense(_ a: [[Double]]) throws {
        try expectInverseDiagonalMatchesDense(a)
        try expectInverseOnPatternMatchesDense(a)
    }

    @Test(arguments: [1, 5, 40, 200])
    func inversesMatchDense(size n: Int) throws {
        try SparseCholeskyTests.expectInversesMatchDense(SparseCholeskyTests.matrix(size: n, seed: UInt64(n)))
    }

    @Test(arguments: [(12, 4), (60, 12), (150, 30)])
    func inversesMatchDenseForCrossedEffects(clients: Int, stylists: Int) throws {
        let a = try SparseCholeskyTests.crossedMatrix(clients: clients, stylists: stylists, seed: UInt64(clients))
        try SparseCholeskyTests.expectInversesMatchDense(a)
    }

    @Test(arguments: [2, 30, 300])
    func inversesMatchDenseForTridiagonal(size n: Int) throws {
        try SparseCholeskyTests.expectInversesMatchDense(
            SparseCholeskyTests.tridiagonalMatrix(size: n, seed: UInt64(n)))
    }

    @Test func inversesBeforeFactorisingAreNotANumbers() throws {
        let cholesky = try SparseCholesky(size: 2, columnStarts: [0, 2, 3], rowIndices: [0, 1, 1])
        #expect(cholesky.inverseDiagonal().allSatisfy { $0.isNaN })
        #expect(cholesky.inverseOnPattern().count == 3 && cholesky.inverseOnPattern().allSatisfy { $0.isNaN })
    }

    @Test(arguments: [5, 40, 200])
    func logDeterminantAndSolveMatchDense(size n: Int) throws {
        let a = try SparseCholeskyTests.matrix(size: n, seed: UInt64(n))
        let (cholesky, values) = try SparseCholeskyTests.factorized(a)

        // Dense reference.
        var dense = a.flatMap { $0 }
        var logDet = 0.0
        let b = (0..<n).map { Double($0 % 7) - 3 }
        var x = b
        dense.withUnsafeMutableBufferPointer { d in
            x.withUnsafeMutableBufferPointer { xb in
                var m = gsl_matrix_view_array(d.baseAddress, n, n)
                _ = gsl_linalg_cholesky_decomp1(&m.matrix)
                for i in 0..<n { logDet += 2 * log(gsl_matrix_get(&m.matrix, i, i)) }
                var v = gsl_vector_view_array(xb.baseAddress, n)
                _ = gsl_linalg_cholesky_svx(&m.matrix, &v.vector)
            }
        }
        #expect(abs(cholesky.logDeterminant - logDet) < 1e-10 * max(1, abs(logDet)))
        let solution = cholesky.solve(b)
        for i in 0..<n { #expect(abs(solution[i] - x[i]) < 1e-10 * max(1, abs(x[i]))) }

        // Refactorising with new values on the same pattern.
        try cholesky.factorize(values: cholesky.stored(values.map { $0 * 2 }))
        #expect(abs(cholesky.logDeterminant - (logDet + Double(n) * log(2))) < 1e-9 * max(1, abs(logDet)))
    }

    @Test func notPositiveDefiniteThrows() throws {
        let cholesky = try SparseCholesky(size: 2, columnStarts: [0, 2, 3], rowIndices: [0, 1, 1])
        #expect(throws: NumericalFailure.self) { try cholesky.factorize(values: [1, 2, 1]) }   // det = 1 − 4 < 0
        #expect(throws: NumericalFailure.self) { try SparseCholesky(size: 2, columnStarts: [0, 1], rowIndices: [0]) }
    }
}
