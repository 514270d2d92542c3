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

    @Test(arguments: [5, 40, 200])
    func logDeterminantAndSolveMatchDense(size n: Int) throws {
        let a = try SparseCholeskyTests.matrix(size: n, seed: UInt64(n))
        var starts: [Int32] = [0], rows: [Int32] = [], values: [Double] = []
        for j in 0..<n {
            for i in j..<n where a[i][j] != 0 {
                rows.append(Int32(i))
                values.append(a[i][j])
            }
            starts.append(Int32(rows.count))
        }
        let cholesky = try SparseCholesky(size: n, columnStarts: starts, rowIndices: rows)
        try cholesky.factorize(values: values)

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
        try cholesky.factorize(values: values.map { $0 * 2 })
        #expect(abs(cholesky.logDeterminant - (logDet + Double(n) * log(2))) < 1e-9 * max(1, abs(logDet)))
    }

    @Test func notPositiveDefiniteThrows() throws {
        let cholesky = try SparseCholesky(size: 2, columnStarts: [0, 2, 3], rowIndices: [0, 1, 1])
        #expect(throws: InputError.self) { try cholesky.factorize(values: [1, 2, 1]) }   // det = 1 − 4 < 0
        #expect(throws: InputError.self) { try SparseCholesky(size: 2, columnStarts: [0, 1], rowIndices: [0]) }
    }
}
