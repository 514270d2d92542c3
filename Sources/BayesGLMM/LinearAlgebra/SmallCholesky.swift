import Foundation

/// The Cholesky factor of a small symmetric positive-definite matrix (a
/// random term's q × q covariance or a level's q × q precision, q of 1–5),
/// with the two triangular solves, in place on row-major storage. Written
/// out rather than called through GSL because the random-slope sampler
/// factors one such matrix per level per sweep, where a library call's
/// set-up costs more than the arithmetic.
struct SmallCholesky {
    /// L, row-major q × q, lower triangular (zeros above the diagonal).
    private(set) var factor: [Double]
    let size: Int

    /// The factor of `matrix` (row-major q × q; only the lower triangle is
    /// read), or nil unless it is positive definite with finite entries.
    init?(_ matrix: [Double], size q: Int) {
        precondition(q > 0 && matrix.count == q * q)
        var l = matrix
        let factored = l.withUnsafeMutableBufferPointer { SmallCholesky.factorInPlace($0.baseAddress!, size: q) }
        guard factored else { return nil }
        for i in 0..<q { for j in (i + 1)..<q { l[i * q + j] = 0 } }
        factor = l
        size = q
    }

    /// x ← L⁻¹x.
    func solveLower(_ x: inout [Double], offset: Int = 0) {
        for i in 0..<size {
            var sum = x[offset + i]
            for k in 0..<i { sum -= factor[i * size + k] * x[offset + k] }
            x[offset + i] = sum / factor[i * size + i]
        }
    }

    /// x ← L⁻ᵀx.
    func solveUpper(_ x: inout [Double], offset: Int = 0) {
        for i in stride(from: size - 1, through: 0, by: -1) {
            var sum = x[offset + i]
            for k in (i + 1)..<size { sum -= factor[k * size + i] * x[offset + k] }
            x[offset + i] = sum / factor[i * size + i]
        }
    }

    /// In place: the lower triangle of the q × q row-major matrix at `m`
    /// becomes its Cholesky factor L (the upper triangle is left as it
    /// was). False unless the matrix is positive definite with finite
    /// entries — for many small factors in one buffer, without an
    /// allocation each.
    @inline(__always)
    static func factorInPlace(_ m: UnsafeMutablePointer<Double>, size q: Int) -> Bool {
        for i in 0..<q {
            for j in 0...i {
                var sum = m[i * q + j]
                for k in 0..<j { sum -= m[i * q + k] * m[j * q + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return false }
                    m[i * q + i] = sum.squareRoot()
                } else {
                    m[i * q + j] = sum / m[j * q + j]
                }
            }
        }
        return true
    }

    /// x ← L⁻¹x for the factor `factorInPlace` left at `l`.
    @inline(__always)
    static func solveLower(_ l: UnsafePointer<Double>, size q: Int, _ x: UnsafeMutablePointer<Double>) {
        for i in 0..<q {
            var sum = x[i]
            for k in 0..<i { sum -= l[i * q + k] * x[k] }
            x[i] = sum / l[i * q + i]
        }
    }

    /// x ← L⁻ᵀx for the factor `factorInPlace` left at `l`.
    @inline(__always)
    static func solveUpper(_ l: UnsafePointer<Double>, size q: Int, _ x: UnsafeMutablePointer<Double>) {
        for i in stride(from: q - 1, through: 0, by: -1) {
            var sum = x[i]
            for k in (i + 1)..<q { sum -= l[k * q + i] * x[k] }
            x[i] = sum / l[i * q + i]
        }
    }

    /// M⁻¹ = L⁻ᵀL⁻¹, row-major q × q.
    var inverse: [Double] {
        let q = size
        var result = [Double](repeating: 0, count: q * q)
        var column = [Double](repeating: 0, count: q)
        for j in 0..<q {
            for i in 0..<q { column[i] = i == j ? 1 : 0 }
            solveLower(&column)
            solveUpper(&column)
            for i in 0..<q { result[i * q + j] = column[i] }
        }
        return result
    }

    /// log det M = 2 Σ log Lᵢᵢ.
    var logDeterminant: Double {
        var sum = 0.0
        for i in 0..<size { sum += log(factor[i * size + i]) }
        return 2 * sum
    }
}
