import CGSL

/// Unconstrained minimisation with an exact gradient by GSL's BFGS
/// (`vector_bfgs2`: Fletcher's line search with the BFGS update; Nocedal &
/// Wright 2006, §6.1), stopping when ‖∇f‖ < max(`gradientTolerance`,
/// `relativeGradientTolerance`·|f|).
struct QuasiNewton {
    var gradientTolerance = 1e-5
    /// A tolerance on ‖∇f‖ relative to |f|, for objectives such as a
    /// deviance whose value and gradient are sums over the data and grow
    /// with it (0: none).
    var relativeGradientTolerance = 0.0
    var maximumIterations = 1_000
    /// GSL's first trial step length and line-search tolerance (its
    /// recommended 0.1).
    var firstStep = 0.05
    var lineTolerance = 0.1

    struct Result {
        var minimum: [Double]
        var value: Double
        var gradient: [Double]
        var evaluations: Int
        var converged: Bool
    }

    typealias Function = ([Double]) throws -> (value: Double, gradient: [Double])

    /// Context handed to GSL's callbacks, with the last evaluation cached:
    /// GSL asks for f and ∇f at the same point separately.
    private final class Context {
        let function: Function
        var evaluations = 0
        var failure: (any Error)?
        var point: [Double] = []
        var value = Double.nan
        var gradient: [Double] = []
        init(_ function: @escaping Function) { self.function = function }

        func evaluate(_ vector: UnsafePointer<gsl_vector>?) {
            let x = (0..<vector!.pointee.size).map { gsl_vector_get(vector, $0) }
            if x == point || failure != nil { return }
            evaluations += 1
            do {
                let result = try function(x)
                point = x
                value = result.value.isNaN ? .infinity : result.value
                gradient = result.gradient
            } catch {
                failure = error
                point = x
                value = .infinity
                gradient = [Double](repeating: 0, count: x.count)
            }
        }
    }

    /// Minimises `function` from `start`. A function that throws stops the
    /// search and the error is rethrown; GSL's failure to allocate its
    /// workspace is a `NumericalFailure`.
    func minimize(_ function: @escaping Function, start: [Double]) throws -> Result {
        let dimension = start.count
        precondition(dimension > 0)
        let context = Context(function)
        guard let minimizer = gsl_multimin_fdfminimizer_alloc(cgsl_multimin_vector_bfgs2(), dimension) else {
            throw NumericalFailure("GSL could not allocate the BFGS minimiser in \(dimension) dimensions")
        }
        defer { gsl_multimin_fdfminimizer_free(minimizer) }
        guard let x = gsl_vector_alloc(dimension) else {
            throw NumericalFailure("GSL could not allocate a vector of \(dimension) numbers")
        }
        defer { gsl_vector_free(x) }
        for i in 0..<dimension { gsl_vector_set(x, i, start[i]) }
        func context(_ parameters: UnsafeMutableRawPointer?) -> Context {
            Unmanaged<Context>.fromOpaque(parameters!).takeUnretainedValue()
        }
        var callbacks = gsl_multimin_function_fdf(
            f: { vector, parameters in
                let context = Unmanaged<Context>.fromOpaque(parameters!).takeUnretainedValue()
                context.evaluate(vector)
                return context.value
            },
            df: { vector, parameters, gradient in
                let context = Unmanaged<Context>.fromOpaque(parameters!).takeUnretainedValue()
                context.evaluate(vector)
                for (i, g) in context.gradient.enumerated() { gsl_vector_set(gradient, i, g) }
            },
            fdf: { vector, parameters, value, gradient in
                let context = Unmanaged<Context>.fromOpaque(parameters!).takeUnretainedValue()
                context.evaluate(vector)
                value!.pointee = context.value
                for (i, g) in context.gradient.enumerated() { gsl_vector_set(gradient, i, g) }
            },
            n: dimension,
            params: Unmanaged.passUnretained(context).toOpaque())
        var converged = false
        /// ‖∇f‖ below the tolerance at the minimiser's point.
        func small() -> Bool {
            let value = minimizer.pointee.f
            let tolerance = max(gradientTolerance, value.isFinite ? relativeGradientTolerance * abs(value) : 0)
            return gsl_multimin_test_gradient(minimizer.pointee.gradient, tolerance) == GSL_SUCCESS
        }
        try withExtendedLifetime(context) { () throws in
            _ = gsl_multimin_fdfminimizer_set(minimizer, &callbacks, x, firstStep, lineTolerance)
            if let failure = context.failure { throw failure }
            for _ in 0..<maximumIterations {
                if small() {
                    converged = true
                    break
                }
                let status = gsl_multimin_fdfminimizer_iterate(minimizer)
                if let failure = context.failure { throw failure }
                if status != GSL_SUCCESS {
                    // No progress (GSL_ENOPROG): converged only if the gradient is small.
                    converged = small()
                    break
                }
            }
        }
        let minimum = (0..<dimension).map { gsl_vector_get(minimizer.pointee.x, $0) }
        let gradient = (0..<dimension).map { gsl_vector_get(minimizer.pointee.gradient, $0) }
        return Result(minimum: minimum, value: minimizer.pointee.f, gradient: gradient,
                      evaluations: context.evaluations, converged: converged)
    }
}
