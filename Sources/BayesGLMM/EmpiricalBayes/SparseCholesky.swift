import CCHOLMOD
import Foundation

/// The Cholesky factorisation P A Pᵀ = L Lᵀ of a sparse symmetric
/// positive-definite matrix by SuiteSparse CHOLMOD (Chen, Davis, Hager &
/// Rajamanickam 2008), the engine lme4 uses through R's Matrix package.
///
/// The fill-reducing ordering and symbolic factorisation are computed once
/// for a sparsity pattern (`init`); `factorize(values:)` then refactorises
/// numerically for new values on the same pattern — the shape of the
/// empirical-Bayes fitter's inner loop, which refactorises
/// Λᵀ Zᵀ W Z Λ + I at every evaluation of the Laplace approximation.
/// A reference type because it owns CHOLMOD's workspace and factor.
public final class SparseCholesky {
    public let size: Int
    private let common: UnsafeMutablePointer<cholmod_common>
    private let matrix: UnsafeMutablePointer<cholmod_sparse>
    private var factor: UnsafeMutablePointer<cholmod_factor>?
    private let entries: Int

    /// Analyses the pattern of the lower triangle (including the diagonal) of
    /// an n×n symmetric matrix in compressed-column form: column j's rows are
    /// `rowIndices[columnStarts[j] ..< columnStarts[j + 1]]`, sorted, all ≥ j.
    public init(size n: Int, columnStarts: [Int32], rowIndices: [Int32]) throws(InputError) {
        guard n > 0, columnStarts.count == n + 1, Int(columnStarts[n]) == rowIndices.count else {
            throw InputError(.badOption, "SparseCholesky: inconsistent compressed-column pattern")
        }
        size = n
        entries = rowIndices.count
        common = .allocate(capacity: 1)
        cholmod_start(common)
        common.pointee.supernodal = ccholmod_simplicial()
        common.pointee.final_ll = 1
        guard let a = cholmod_allocate_sparse(n, n, rowIndices.count, 1, 1, -1, ccholmod_real(), common) else {
            cholmod_finish(common)
            common.deallocate()
            throw InputError(.badOption, "SparseCholesky: CHOLMOD could not allocate the matrix")
        }
        matrix = a
        let p = a.pointee.p.assumingMemoryBound(to: Int32.self)
        let i = a.pointee.i.assumingMemoryBound(to: Int32.self)
        for (k, v) in columnStarts.enumerated() { p[k] = v }
        for (k, v) in rowIndices.enumerated() { i[k] = v }
        factor = cholmod_analyze(a, common)
        guard factor != nil else {
            throw InputError(.badOption, "SparseCholesky: CHOLMOD's analysis failed (status \(common.pointee.status))")
        }
    }

    deinit {
        if factor != nil { cholmod_free_factor(&factor, common) }
        var a: UnsafeMutablePointer<cholmod_sparse>? = matrix
        cholmod_free_sparse(&a, common)
        cholmod_finish(common)
        common.deallocate()
    }

    /// Factorises the matrix with these values of the pattern's entries.
    /// Throws if the matrix is not positive definite.
    public func factorize(values: [Double]) throws(InputError) {
        precondition(values.count == entries, "one value per pattern entry")
        let x = matrix.pointee.x.assumingMemoryBound(to: Double.self)
        for (k, v) in values.enumerated() { x[k] = v }
        cholmod_factorize(matrix, factor, common)
        guard common.pointee.status == ccholmod_ok() else {
            throw InputError(.badOption, common.pointee.status == ccholmod_not_positive_definite()
                             ? "SparseCholesky: the matrix is not positive definite"
                             : "SparseCholesky: CHOLMOD's factorisation failed (status \(common.pointee.status))")
        }
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

    /// A⁻¹ b.
    public func solve(_ b: [Double]) -> [Double] {
        precondition(b.count == size)
        guard let rhs = cholmod_allocate_dense(size, 1, size, ccholmod_real(), common) else { return [] }
        var rhsOptional: UnsafeMutablePointer<cholmod_dense>? = rhs
        defer { cholmod_free_dense(&rhsOptional, common) }
        let bx = rhs.pointee.x.assumingMemoryBound(to: Double.self)
        for (k, v) in b.enumerated() { bx[k] = v }
        guard let solution = cholmod_solve(ccholmod_solve_a(), factor, rhs, common) else { return [] }
        var solutionOptional: UnsafeMutablePointer<cholmod_dense>? = solution
        defer { cholmod_free_dense(&solutionOptional, common) }
        let sx = solution.pointee.x.assumingMemoryBound(to: Double.self)
        return (0..<size).map { sx[$0] }
    }
}
