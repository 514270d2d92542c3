import Foundation
import Testing
@testable import BayesGLMM

/// `Newton`: Newton's method on Hessians by forward differences of an
/// exact gradient, carried between Hessians by BFGS's update.
@Suite struct NewtonTests {
    typealias Function = @Sendable ([Double]) -> (value: Double, gradient: [Double])

    /// f(x) = ½(x − m)ᵀA(x − m) with A = [[4, 1], [1, 3]] and m = (1, −2).
    static let quadratic: Function = { x in
        let d = [x[0] - 1, x[1] + 2]
        let g = [4 * d[0] + d[1], d[0] + 3 * d[1]]
        return (0.5 * (d[0] * g[0] + d[1] * g[1]), g)
    }

    /// Rosenbrock's function, 100(y − x²)² + (1 − x)², minimum 0 at (1, 1).
    static let rosenbrock: Function = { x in
        let a = x[1] - x[0] * x[0], b = 1 - x[0]
        return (100 * a * a + b * b, [-400 * x[0] * a - 2 * b, 200 * a])
    }

    static func minimize(_ f: Function, from start: [Double], tolerance: Double = 1e-8,
                         maximumStep: Double = .infinity, hessians: Int = 3) -> QuasiNewton.Result {
        Newton(gradientTolerance: tolerance, maximumHessians: hessians, maximumStep: maximumStep)
            .minimize({ (x: [Double]) throws(Never) in f(x) }, start: start, at: f(start))
    }

    @Test func aQuadraticTakesOneHessianAndOneStep() {
        let result = NewtonTests.minimize(NewtonTests.quadratic, from: [5, 5])
        #expect(result.converged)
        #expect(result.evaluations == 3)             // two gradients for the Hessian, one step
        #expect(abs(result.minimum[0] - 1) < 1e-6 && abs(result.minimum[1] + 2) < 1e-6)
    }

    @Test func rosenbrockConvergesFromTheClassicalStart() {
        let result = NewtonTests.minimize(NewtonTests.rosenbrock, from: [-1.2, 1], hessians: 20)
        #expect(result.converged)
        #expect(abs(result.minimum[0] - 1) < 1e-6 && abs(result.minimum[1] - 1) < 1e-6)
        #expect(result.value < 1e-12)
        // The value and gradient returned are those at the minimum returned.
        let there = NewtonTests.rosenbrock(result.minimum)
        #expect(there.value == result.value && there.gradient == result.gradient)
    }

    @Test func stepsAreShortenedToTheLongestAllowed() {
        // From 10 away, steps of at most 0.5 in each coordinate: 18 or more of them.
        let result = NewtonTests.minimize(NewtonTests.quadratic, from: [11, -2], maximumStep: 0.5, hessians: 20)
        #expect(result.converged)
        #expect(result.evaluations >= 2 + 18)
        #expect(abs(result.minimum[0] - 1) < 1e-6)
    }

    @Test func anIndefiniteHessianIsShiftedUntilPositiveDefinite() throws {
        // f = x⁴/4 − x²/2 + y²: at x = 0.1 the curvature in x is −0.97.
        let f: Function = { x in
            (pow(x[0], 4) / 4 - x[0] * x[0] / 2 + x[1] * x[1], [pow(x[0], 3) - x[0], 2 * x[1]])
        }
        let hessian = [-0.97, 0, 0, 2.0]
        let inverse = try #require(Newton.positiveDefiniteInverse(hessian, size: 2))
        #expect(inverse[0] > 0 && inverse[3] > 0)
        let result = NewtonTests.minimize(f, from: [0.1, 1], hessians: 10)
        #expect(result.converged)
        #expect(abs(abs(result.minimum[0]) - 1) < 1e-6 && abs(result.minimum[1]) < 1e-6)
    }

    @Test func theUpdateMeetsTheSecantCondition() {
        // H⁺y = s for BFGS's update of the inverse Hessian.
        let h = [2.0, 0.5, 0.5, 1.0], s = [0.3, -0.2], y = [1.0, 0.4]
        let updated = Newton.updated(h, step: s, change: y, size: 2)
        for i in 0..<2 {
            #expect(abs(updated[i * 2] * y[0] + updated[i * 2 + 1] * y[1] - s[i]) < 1e-12)
        }
        #expect(abs(updated[1] - updated[2]) < 1e-15)
    }

    @Test func aFunctionWithoutAUsableHessianIsLeftToTheCaller() {
        let flat: Function = { _ in (1, [1e-3, 0]) }   // a gradient that never changes: H = 0
        let result = NewtonTests.minimize(flat, from: [0, 0], tolerance: 1e-6)
        #expect(!result.converged)
    }
}
