import CGSL
import Foundation

/// Empirical-Bayes estimates: fixed effects β and standard deviations σ that
/// maximise the Laplace approximation of the marginal likelihood (glmer's
/// second stage, nAGQ = 1), by GSL's Nelder–Mead simplex (`nmsimplex2`) over
/// (β, log σ) from a start at β = 0 except the intercept at the logit of the
/// overall rate, σ = 1.
public struct EmpiricalBayesFit: Sendable {
    public var coefficients: [Double]
    public var standardDeviations: [Double]
    public var logLikelihood: Double
    public var evaluations: Int
    public var converged: Bool

    /// Context handed to GSL's callback.
    final class Context {
        let laplace: LaplaceApproximation
        let p: Int
        var evaluations = 0
        var failure: InputError?
        init(_ laplace: LaplaceApproximation, p: Int) { self.laplace = laplace; self.p = p }
    }

    public static func fit(_ design: Design, tolerance: Double = 1e-7, maximumIterations: Int = 20_000)
        throws(InputError) -> EmpiricalBayesFit {
        let laplace = try LaplaceApproximation(design: design)
        let p = design.fixedCount, k = design.randomTerms.count, dimension = p + k
        let context = Context(laplace, p: p)
        let rate = min(max(design.successes.reduce(0, +) / design.trials.reduce(0, +), 0.01), 0.99)
        var start = [Double](repeating: 0, count: dimension)
        if let intercept = design.fixedNames.firstIndex(of: "(Intercept)") { start[intercept] = log(rate / (1 - rate)) }

        let minimizer = gsl_multimin_fminimizer_alloc(cgsl_multimin_nmsimplex2(), dimension)!
        defer { gsl_multimin_fminimizer_free(minimizer) }
        let x = gsl_vector_alloc(dimension)!, step = gsl_vector_alloc(dimension)!
        defer { gsl_vector_free(x); gsl_vector_free(step) }
        for i in 0..<dimension { gsl_vector_set(x, i, start[i]); gsl_vector_set(step, i, 0.5) }
        var function = gsl_multimin_function(
            f: { vector, parameters in
                let context = Unmanaged<Context>.fromOpaque(parameters!).takeUnretainedValue()
                let n = vector!.pointee.size
                let values = (0..<n).map { gsl_vector_get(vector, $0) }
                let beta = Array(values[0..<context.p]), sigma = values[context.p...].map { exp($0) }
                context.evaluations += 1
                do {
                    return -(try context.laplace.logLikelihood(coefficients: beta, standardDeviations: sigma))
                } catch {
                    context.failure = error as? InputError ?? InputError(.badOption, "\(error)")
                    return .infinity
                }
            },
            n: dimension,
            params: Unmanaged.passUnretained(context).toOpaque())
        var converged = false
        try withExtendedLifetime(context) { () throws(InputError) in
            _ = gsl_multimin_fminimizer_set(minimizer, &function, x, step)
            for _ in 0..<maximumIterations {
                if gsl_multimin_fminimizer_iterate(minimizer) != 0 { break }
                if let failure = context.failure { throw failure }
                if gsl_multimin_test_size(gsl_multimin_fminimizer_size(minimizer), tolerance) == GSL_SUCCESS {
                    converged = true
                    break
                }
            }
        }
        let best = (0..<dimension).map { gsl_vector_get(minimizer.pointee.x, $0) }
        let beta = Array(best[0..<p]), sigma = best[p...].map { exp($0) }
        let value = try laplace.logLikelihood(coefficients: beta, standardDeviations: sigma)
        return EmpiricalBayesFit(coefficients: beta, standardDeviations: sigma, logLikelihood: value,
                                 evaluations: context.evaluations, converged: converged)
    }
}
