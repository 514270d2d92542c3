import Foundation
import Testing
@testable import BayesGLMM

/// The GSL-backed dense helpers against exact answers.
@Suite struct DenseSymmetricTests {
    /// M = [[4, 2, 0.4], [2, 10, 3], [0.4, 3, 6]]: LLᵀ rebuilds M, L is lower
    /// triangular, M·M⁻¹ = I, and the eigenvalues sum to the trace and
    /// multiply to the determinant.
    @Test func choleskyInverseAndEigenvalues() throws {
        let m = [4, 2, 0.4, 2, 10, 3, 0.4, 3, 6.0], n = 3
        let l = try #require(DenseSymmetric.choleskyFactor(m, size: n))
        for i in 0..<n {
            for j in 0..<n {
                if j > i { #expect(l[i * n + j] == 0) }
                var product = 0.0
                for k in 0..<n { product += l[i * n + k] * l[j * n + k] }
                #expect(abs(product - m[i * n + j]) < 1e-13)
            }
        }
        let inverse = try DenseSymmetric.inverse(m, size: n)
        for i in 0..<n {
            for j in 0..<n {
                var product = 0.0
                for k in 0..<n { product += m[i * n + k] * inverse[k * n + j] }
                #expect(abs(product - (i == j ? 1 : 0)) < 1e-13)
            }
        }
        let values = DenseSymmetric.eigenvalues(m, size: n)
        let determinant: Double = 4.0 * 51.0 - 2.0 * 10.8 + 0.4 * 2.0    // cofactors along the first row
        #expect(abs(values.reduce(0, +) - 20) < 1e-12)
        #expect(abs(values.reduce(1, *) - determinant) < 1e-10)
        #expect(values == values.sorted())
    }

    /// An indefinite matrix has no factor and no inverse, and does not abort.
    @Test func indefiniteIsAnAnswerNotACrash() {
        let m = [1, 2, 2, 1.0]
        #expect(DenseSymmetric.choleskyFactor(m, size: 2) == nil)
        #expect(throws: NumericalFailure.self) { try DenseSymmetric.inverse(m, size: 2) }
    }
}
