/// Newton's method with a line search, on Hessians by forward differences
/// of an exact gradient (Nocedal & Wright 2006, §3.3 and §8.1), for the
/// empirical-Bayes fitter's few parameters, whose gradient costs one
/// evaluation of the Laplace approximation: a Hessian costs d evaluations
/// in d dimensions, where BFGS from a scaled identity (`QuasiNewton`)
/// spends 20–30 learning the curvature of the deviance.
///
/// Each step is x ← x − t·H⁻¹∇f, t = 1 halved up to four times until
/// Armijo's condition f(x + tp) ≤ f(x) + 10⁻⁴·t·∇fᵀp holds (or, within
/// f's rounding near the optimum, the gradient falls); p is first shortened
/// to at most `maximumStep` in every coordinate. Between Hessians, H⁻¹ is
/// carried by BFGS's update from the steps taken (so that the first Hessian
/// by differences starts a quasi-Newton search with the right curvature);
/// it is computed anew where a step is halved more than once (or after 50
/// steps), at most `maximumHessians` times. Where the Hessian H is not
/// positive definite (far from the optimum), H + τI with the smallest τ
/// of 10⁻³·max|Hᵢᵢ|·4ʲ that is (Nocedal & Wright's Algorithm 3.3). The
/// search stops when ‖∇f‖ < `gradientTolerance`, or, not converged, where
/// no Hessian is usable or a step cannot descend: the caller's BFGS takes
/// over from there.
struct Newton {
    var gradientTolerance: Double
    var maximumHessians = 3
    var maximumStep = Double.infinity
    /// The forward-difference step (lme4's `deriv12` step).
    var differenceStep = 1e-4

    /// Minimises `function` from `start`, where its value and gradient are
    /// `initial`. A function that throws stops the search and the error is
    /// rethrown.
    func minimize<Failure: Error>(_ function: ([Double]) throws(Failure) -> (value: Double, gradient: [Double]),
                                  start: [Double], at initial: (value: Double, gradient: [Double]))
        throws(Failure) -> QuasiNewton.Result {
        let d = start.count
        var x = start, value = initial.value, gradient = initial.gradient, evaluations = 0
        func norm(_ g: [Double]) -> Double { g.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        func result(_ converged: Bool) -> QuasiNewton.Result {
            .init(minimum: x, value: value, gradient: gradient, evaluations: evaluations, converged: converged)
        }
        guard value.isFinite, gradient.allSatisfy(\.isFinite) else { return result(false) }
        for _ in 0..<maximumHessians {
            if norm(gradient) < gradientTolerance { return result(true) }
            // The Hessian at x: (∇f(x + h eᵢ) − ∇f(x))/h, symmetrised.
            var hessian = [Double](repeating: 0, count: d * d)
            for i in 0..<d {
                var moved = x
                moved[i] += differenceStep
                let shifted = try function(moved).gradient
                evaluations += 1
                for j in 0..<d {
                    let entry = (shifted[j] - gradient[j]) / differenceStep
                    hessian[i * d + j] += entry / 2
                    hessian[j * d + i] += entry / 2
                }
            }
            guard hessian.allSatisfy(\.isFinite), var inverse = Newton.positiveDefiniteInverse(hessian, size: d) else {
                return result(false)
            }
            for _ in 0..<50 {
                if norm(gradient) < gradientTolerance { return result(true) }
                var step = (0..<d).map { i in -(0..<d).reduce(0) { $0 + inverse[i * d + $1] * gradient[$1] } }
                let longest = step.reduce(0) { max($0, abs($1)) }
                if longest > maximumStep { step = step.map { $0 * maximumStep / longest } }
                let slope = zip(step, gradient).reduce(0) { $0 + $1.0 * $1.1 }
                guard slope < 0 else { return result(false) }
                var scale = 1.0, accepted = false
                let before = norm(gradient), previous = (x: x, gradient: gradient)
                for _ in 0..<5 {
                    let candidate = (0..<d).map { x[$0] + scale * step[$0] }
                    let next = try function(candidate)
                    evaluations += 1
                    if next.value.isFinite && next.gradient.allSatisfy(\.isFinite)
                        && (next.value <= value + 1e-4 * scale * slope
                            || (next.value <= value + 1e-11 * abs(value) && norm(next.gradient) < before)) {
                        x = candidate; value = next.value; gradient = next.gradient
                        accepted = true
                        break
                    }
                    scale /= 2
                }
                if !accepted { return result(false) }
                // A step halved more than once: the model is poor here; a
                // new Hessian. Otherwise BFGS's update of H⁻¹ with the step
                // s and the change y in the gradient, where sᵀy > 0.
                let s = (0..<d).map { x[$0] - previous.x[$0] }
                let y = (0..<d).map { gradient[$0] - previous.gradient[$0] }
                let sy = zip(s, y).reduce(0) { $0 + $1.0 * $1.1 }
                if scale < 0.5 || !(sy > 0) { break }
                inverse = Newton.updated(inverse, step: s, change: y, size: d)
            }
        }
        return result(norm(gradient) < gradientTolerance)
    }

    /// (H + τI)⁻¹ for the smallest τ of 0 and 10⁻³·max|Hᵢᵢ|·4ʲ, j < 20,
    /// that makes H + τI positive definite; nil if none does.
    static func positiveDefiniteInverse(_ hessian: [Double], size d: Int) -> [Double]? {
        if let inverse = try? DenseSymmetric.inverse(hessian, size: d) { return inverse }
        let largest = (0..<d).reduce(0) { max($0, abs(hessian[$1 * d + $1])) }
        var shift = 1e-3 * (largest > 0 ? largest : 1)
        for _ in 0..<20 {
            var shifted = hessian
            for i in 0..<d { shifted[i * d + i] += shift }
            if let inverse = try? DenseSymmetric.inverse(shifted, size: d) { return inverse }
            shift *= 4
        }
        return nil
    }

    /// BFGS's update of an inverse Hessian H (row-major d × d) with a step s
    /// and the gradient's change y, sᵀy > 0: (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ,
    /// ρ = 1/sᵀy (Nocedal & Wright 2006, (6.17)).
    static func updated(_ h: [Double], step s: [Double], change y: [Double], size d: Int) -> [Double] {
        let rho = 1 / zip(s, y).reduce(0) { $0 + $1.0 * $1.1 }
        let hy = (0..<d).map { i in (0..<d).reduce(0) { $0 + h[i * d + $1] * y[$1] } }
        let yhy = zip(y, hy).reduce(0) { $0 + $1.0 * $1.1 }
        var result = h
        for i in 0..<d {
            for j in 0..<d {
                result[i * d + j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]
            }
        }
        return result
    }
}
