import CGSL

/// Unconstrained minimisation by GSL's Nelder–Mead simplex (`nmsimplex2`;
/// Nelder & Mead 1965), restarted from the best vertex with a fresh simplex
/// until a restart no longer improves the value by more than
/// `restartImprovement` — the usual guard against the simplex collapsing
/// before the minimum (Press et al., Numerical Recipes §10.5).
struct NelderMead {
    /// Stop when the simplex's characteristic size (GSL's
    /// `gsl_multimin_test_size`) is below this.
    var tolerance = 1e-6
    var maximumIterations = 20_000
    var restartImprovement = 1e-9
    var maximumRestarts = 5

    struct Result {
        var minimum: [Double]
        var value: Double
        var evaluations: Int
        var converged: Bool
    }

    /// Context handed to GSL's callback.
    private final class Context {
        let function: ([Double]) throws -> Double
        var evaluations = 0
        var failure: (any Error)?
        init(_ function: @escaping ([Double]) throws -> Double) { self.function = function }
    }

    /// Minimises `function` from `start` with initial simplex steps `step`.
    /// A function that throws stops the search and the error is rethrown;
    /// GSL's failure to allocate its workspace is a `NumericalFailure`.
    func minimize(_ function: @escaping ([Double]) throws -> Double, start: [Double], step: [Double])
        throws -> Result {
        let dimension = start.count
        precondition(dimension > 0 && step.count == dimension)
        let context = Context(function)
        guard let minimizer = gsl_multimin_fminimizer_alloc(cgsl_multimin_nmsimplex2(), dimension) else {
            throw NumericalFailure("GSL could not allocate the Nelder–Mead minimiser in \(dimension) dimensions")
        }
        defer { gsl_multimin_fminimizer_free(minimizer) }
        guard let x = gsl_vector_alloc(dimension) else {
            throw NumericalFailure("GSL could not allocate a vector of \(dimension) numbers")
        }
        defer { gsl_vector_free(x) }
        guard let steps = gsl_vector_alloc(dimension) else {
            throw NumericalFailure("GSL could not allocate a vector of \(dimension) numbers")
        }
        defer { gsl_vector_free(steps) }
        var callback = gsl_multimin_function(
            f: { vector, parameters in
                let context = Unmanaged<Context>.fromOpaque(parameters!).takeUnretainedValue()
                if context.failure != nil { return .infinity }
                let point = (0..<vector!.pointee.size).map { gsl_vector_get(vector, $0) }
                context.evaluations += 1
                do {
                    let value = try context.function(point)
                    return value.isNaN ? .infinity : value
                } catch {
                    context.failure = error
                    return .infinity
                }
            },
            n: dimension,
            params: Unmanaged.passUnretained(context).toOpaque())

        var best = start, bestValue = Double.infinity, converged = false
        try withExtendedLifetime(context) { () throws in
            for restart in 0...maximumRestarts {
                for i in 0..<dimension {
                    gsl_vector_set(x, i, best[i])
                    gsl_vector_set(steps, i, restart == 0 ? step[i] : max(0.1 * abs(step[i]), 10 * tolerance))
                }
                _ = gsl_multimin_fminimizer_set(minimizer, &callback, x, steps)
                if let failure = context.failure { throw failure }
                converged = false
                for _ in 0..<maximumIterations {
                    if gsl_multimin_fminimizer_iterate(minimizer) != 0 { break }
                    if let failure = context.failure { throw failure }
                    if gsl_multimin_test_size(gsl_multimin_fminimizer_size(minimizer), tolerance) == GSL_SUCCESS {
                        converged = true
                        break
                    }
                }
                let value = minimizer.pointee.fval
                let improvement = bestValue - value
                if value < bestValue {
                    best = (0..<dimension).map { gsl_vector_get(minimizer.pointee.x, $0) }
                    bestValue = value
                }
                if !(improvement > restartImprovement * max(1, abs(value))) { break }
            }
        }
        return Result(minimum: best, value: bestValue, evaluations: context.evaluations, converged: converged)
    }
}
