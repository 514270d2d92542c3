import CGSL

/// Small dense symmetric matrices (row-major, n × n) by GSL's linear
/// algebra: the inverse of a positive-definite matrix by its Cholesky factor
/// and the eigenvalues, for the fixed effects' covariance and glmer's
/// convergence checks on the Hessian, and the Cholesky factor, for the
/// Metropolis kernel's β block. GSL's aborting error handler is switched
/// off first: a matrix that is not positive definite is an answer here,
/// not a crash.
enum DenseSymmetric {
    /// The lower Cholesky factor L of M = LLᵀ (gsl_linalg_cholesky_decomp1),
    /// row-major with zeros above the diagonal; nil unless M is positive
    /// definite.
    static func choleskyFactor(_ m: [Double], size n: Int) -> [Double]? {
        precondition(m.count == n * n)
        if n == 0 { return [] }
        var a = m
        let status = DenseSymmetric.onMatrix(&a, n) { gsl_linalg_cholesky_decomp1($0) }
        guard status == 0, a.allSatisfy(\.isFinite) else { return nil }
        for i in 0..<n { for j in (i + 1)..<n { a[i * n + j] = 0 } }
        return a
    }

    /// M⁻¹ by the Cholesky factorisation M = LLᵀ
    /// (gsl_linalg_cholesky_decomp1, gsl_linalg_cholesky_invert). Throws
    /// `NumericalFailure` if M is not positive definite; the caller says
    /// which matrix it is.
    static func inverse(_ m: [Double], size n: Int) throws(NumericalFailure) -> [Double] {
        precondition(m.count == n * n)
        if n == 0 { return [] }
        var a = m
        let status = DenseSymmetric.onMatrix(&a, n) { matrix in
            let status = gsl_linalg_cholesky_decomp1(matrix)
            return status != 0 ? status : gsl_linalg_cholesky_invert(matrix)
        }
        // GSL's factorisation does not see a NaN pivot (every comparison
        // with NaN is false), so entries that are not finite are refused here.
        guard m.allSatisfy(\.isFinite) else {
            throw NumericalFailure("the \(n) × \(n) matrix has entries that are not finite")
        }
        guard status == 0, a.allSatisfy(\.isFinite) else {
            throw NumericalFailure("the \(n) × \(n) matrix is not positive definite")
        }
        return a
    }

    /// The eigenvalues in ascending order (gsl_eigen_symm).
    static func eigenvalues(_ m: [Double], size n: Int) -> [Double] {
        precondition(m.count == n * n)
        if n == 0 { return [] }
        var a = m
        let values = gsl_vector_alloc(n)!, workspace = gsl_eigen_symm_alloc(n)!
        defer { gsl_vector_free(values); gsl_eigen_symm_free(workspace) }
        _ = DenseSymmetric.onMatrix(&a, n) { gsl_eigen_symm($0, values, workspace) }
        return (0..<n).map { gsl_vector_get(values, $0) }.sorted()
    }

    /// Runs `body` on a GSL view of `a` (row-major n × n, changed in place)
    /// with GSL's aborting error handler off, returning its status.
    private static func onMatrix(_ a: inout [Double], _ n: Int,
                                 _ body: (UnsafeMutablePointer<gsl_matrix>) -> Int32) -> Int32 {
        cgsl_error_handler_off()
        return a.withUnsafeMutableBufferPointer { buffer in
            var view = gsl_matrix_view_array(buffer.baseAddress, n, n)
            return body(&view.matrix)
        }
    }
}
