import Foundation

extension EmpiricalBayesFit {
    /// Maximises the likelihood by adaptive Gauss–Hermite quadrature with
    /// `points` points (`AdaptiveQuadrature`), as glmer does with nAGQ =
    /// `points`; 1 is the Laplace fit (`fit(_:)`).
    ///
    /// The search starts at the Laplace fit and minimises the quadrature's
    /// deviance D = −2 log L over x = (σ, β) — glmer's second stage with
    /// nAGQ > 1, where glmer runs bobyqa on D alone — by GSL's BFGS on
    /// central differences of D, then Newton steps on the Hessian of
    /// D, which lme4's `deriv12` differences give (step 10⁻⁴), as the
    /// Laplace fit ends. The report is glmer's: β̂'s covariance is the β
    /// block of 2H⁻¹, the effects' modes and conditional SDs are σû and
    /// |σ|ŝ at the optimum (lme4's `ranef(condVar = TRUE)`), and the
    /// log-likelihood is the quadrature's, with the rows' binomial
    /// coefficients (as the Laplace fit's, so that the two compare; glmer's
    /// own nAGQ > 1 log-likelihood is built from deviance residuals and
    /// differs from this by Σ (saturated log-likelihood + log binomial
    /// coefficient) over the rows, 0 for 0/1 rows).
    ///
    /// `points` = 0 is glmer's nAGQ = 0, its first stage alone, for any
    /// model: the Laplace deviance minimised over θ with β found jointly
    /// with the effects in PIRLS (`firstStage(_:)`).
    ///
    /// Throws `InputError` (setting "nagq") for `points` outside 0…25, or
    /// above 1 for a model other than a single scalar random-effect term,
    /// before fitting.
    public static func fit(_ design: Design, quadraturePoints points: Int) throws -> EmpiricalBayesFit {
        if points == 1 { return try fit(design) }
        if points == 0 {
            try check(design)
            do {
                return try firstStage(design)
            } catch let failure as NumericalFailure {
                throw NumericalFailure("the empirical-Bayes fit with the fixed effects inside PIRLS (nAGQ = 0) failed: "
                                       + failure.message,
                                       remedies: failure.remedies.isEmpty ? [.rescaledCovariates, .simplerModel]
                                           : failure.remedies)
            }
        }
        try check(design)
        let quadrature = try AdaptiveQuadrature(design: design, points: points)
        let laplace = try fit(design)
        do {
            return try maximize(quadrature, from: laplace)
        } catch let failure as NumericalFailure {
            throw NumericalFailure("the empirical-Bayes fit by adaptive quadrature (\(points) points) failed: "
                                   + failure.message,
                                   remedies: failure.remedies.isEmpty ? [.rescaledCovariates, .simplerModel]
                                       : failure.remedies)
        }
    }

    /// glmer's nAGQ = 0: θ̂ minimises the Laplace deviance at the joint mode
    /// of (u, β) given θ (`LaplaceApproximation.devianceAndGradient(…,
    /// jointly: true)`, exact gradient), by BFGS to 10⁻⁶|D| and Newton steps
    /// on the Hessian over θ (central differences of the gradient); β̂ is
    /// the joint mode at θ̂ and its covariance the one given θ̂ (lme4's
    /// RX⁻¹RX⁻ᵀ, which glmer reports without the second stage's Hessian).
    /// The report is the Laplace fit's at (β̂, θ̂), with glmer's convergence
    /// checks on θ alone (`report(…, firstStage:)`).
    private static func firstStage(_ design: Design) throws -> EmpiricalBayesFit {
        let laplace = try LaplaceApproximation(design: design)
        let p = design.fixedCount, k = laplace.thetaCount
        func joint(_ theta: [Double]) throws(NumericalFailure) -> (value: Double, gradient: [Double], beta: [Double]) {
            let result = try laplace.devianceAndGradient(coefficients: [Double](repeating: 0, count: p), theta: theta,
                                                         jointly: true)
            return (result.deviance, result.gradient, result.coefficients)
        }
        let tolerance = 1e-6 * abs(try joint(laplace.initialTheta).value)
        let (search, _) = try firstStageSearch(laplace, QuasiNewton(gradientTolerance: tolerance, maximumIterations: 400))
        var evaluations = 1 + search.evaluations
        var theta = laplace.normalized(search.minimum)
        var point = try joint(theta)
        func hessian(at theta: [Double]) throws(NumericalFailure) -> [Double] {
            let h = differenceStep
            var matrix = [Double](repeating: 0, count: k * k)
            for i in 0..<k {
                var plus = theta, minus = theta
                plus[i] += h; minus[i] -= h
                let up = try joint(plus).gradient, down = try joint(minus).gradient
                for j in 0..<k {
                    matrix[i * k + j] += (up[j] - down[j]) / (4 * h)
                    matrix[j * k + i] += (up[j] - down[j]) / (4 * h)
                }
            }
            return matrix
        }
        var curvature = try hessian(at: theta)
        evaluations += 1 + 2 * k
        if let inverse = try? DenseSymmetric.inverse(curvature, size: k) {
            for _ in 0..<3 {
                let candidate = laplace.normalized((0..<k).map { i in
                    theta[i] - (0..<k).reduce(0) { $0 + inverse[i * k + $1] * point.gradient[$1] }
                })
                let next = try joint(candidate)
                evaluations += 1
                guard next.value < point.value else { break }
                theta = candidate
                point = next
            }
            curvature = try hessian(at: theta)
            evaluations += 2 * k
        }
        var result = try report(laplace, coefficients: point.beta, theta: theta,
                                firstStage: (point.gradient, curvature))
        if !(search.converged || search.gradient.allSatisfy({ abs($0) < tolerance })) && !result.converged {
            result.messages.insert("the optimiser stopped before converging", at: 0)
        }
        result.evaluations += evaluations
        result.quadraturePoints = 0
        return result
    }

    /// Everything reported, by quadrature with `points` points, at given β
    /// and θ = (σ) instead of the optimum: for checking against glmer's
    /// nAGQ > 1 fits at glmer's own estimates.
    public static func evaluate(_ design: Design, coefficients: [Double], theta: [Double], quadraturePoints points: Int,
                                step: Double = differenceStep) throws -> EmpiricalBayesFit {
        try report(AdaptiveQuadrature(design: design, points: points), at: theta + coefficients, step: step)
    }

    /// D = −2 log L by quadrature at x = (σ, β).
    private static func deviance(_ quadrature: AdaptiveQuadrature, _ x: [Double]) throws(NumericalFailure) -> Double {
        -2 * (try quadrature.evaluate(coefficients: Array(x.dropFirst()), standardDeviation: x[0]).logLikelihood)
    }

    /// D and its gradient by central differences, step 10⁻⁶ max(1, |xᵢ|).
    private static func devianceAndGradient(_ quadrature: AdaptiveQuadrature, _ x: [Double])
        throws(NumericalFailure) -> (value: Double, gradient: [Double]) {
        let value = try deviance(quadrature, x)
        var gradient = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            let h = 1e-6 * max(1, abs(x[i]))
            var plus = x, minus = x
            plus[i] += h; minus[i] -= h
            gradient[i] = (try deviance(quadrature, plus) - deviance(quadrature, minus)) / (2 * h)
        }
        return (value, gradient)
    }

    /// The Hessian of D by lme4's `deriv12`: central second differences of
    /// D with step h (the diagonal from D(x ± h eᵢ), each off-diagonal entry
    /// from the four points x ± h eᵢ ± h eⱼ).
    private static func curvature(_ quadrature: AdaptiveQuadrature, at x: [Double], step h: Double)
        throws(NumericalFailure) -> [Double] {
        let d = x.count
        let centre = try deviance(quadrature, x)
        var hessian = [Double](repeating: 0, count: d * d)
        func shifted(_ moves: [(Int, Double)]) throws(NumericalFailure) -> Double {
            var y = x
            for (i, s) in moves { y[i] += s }
            return try deviance(quadrature, y)
        }
        for i in 0..<d {
            hessian[i * d + i] = (try shifted([(i, h)]) - 2 * centre + shifted([(i, -h)])) / (h * h)
            for j in 0..<i {
                let value = (try shifted([(i, h), (j, h)]) - shifted([(i, h), (j, -h)])
                             - shifted([(i, -h), (j, h)]) + shifted([(i, -h), (j, -h)])) / (4 * h * h)
                hessian[i * d + j] = value
                hessian[j * d + i] = value
            }
        }
        return hessian
    }

    private static func maximize(_ quadrature: AdaptiveQuadrature, from laplace: EmpiricalBayesFit) throws
        -> EmpiricalBayesFit {
        let start = laplace.theta + laplace.coefficients
        var evaluations = laplace.evaluations
        let scale = try deviance(quadrature, start)
        let tolerance = 1e-6 * abs(scale)
        let search = try QuasiNewton(gradientTolerance: tolerance, maximumIterations: 200).minimize(
            { (x: [Double]) throws -> (value: Double, gradient: [Double]) in try devianceAndGradient(quadrature, x) },
            start: start)
        evaluations += search.evaluations * (1 + 2 * start.count)
        var optimum = search.minimum
        var converged = search.converged || (search.value.isFinite && search.gradient.allSatisfy { abs($0) < tolerance })
        if !converged {
            let simplex = try NelderMead(tolerance: 1e-6, maximumRestarts: 2).minimize(
                { (x: [Double]) throws -> Double in try deviance(quadrature, x) },
                start: search.value.isFinite ? optimum : start,
                step: optimum.map { max(0.05 * abs($0), 0.01) })
            evaluations += simplex.evaluations
            optimum = simplex.minimum
            converged = simplex.converged
        }
        // Newton steps on the Hessian (the chord method, as the Laplace fit
        // ends), kept while D falls; σ reported ≥ 0 (D is even in σ).
        func signed(_ x: [Double]) -> [Double] { [abs(x[0])] + x.dropFirst() }
        optimum = signed(optimum)
        var point = try devianceAndGradient(quadrature, optimum)
        let hessian = try curvature(quadrature, at: optimum, step: differenceStep)
        let d = optimum.count
        evaluations += 1 + 2 * d + 1 + 2 * d * d
        if let inverse = try? DenseSymmetric.inverse(hessian, size: d) {
            for _ in 0..<3 {
                let candidate = signed((0..<d).map { i in
                    optimum[i] - (0..<d).reduce(0) { $0 + inverse[i * d + $1] * point.gradient[$1] }
                })
                let next = try devianceAndGradient(quadrature, candidate)
                evaluations += 1 + 2 * d
                guard next.value < point.value else { break }
                optimum = candidate
                point = next
            }
        }
        guard point.value.isFinite, optimum.allSatisfy(\.isFinite) else {
            throw NumericalFailure("the optimiser ended where the quadrature's deviance is not finite")
        }
        var result = try report(quadrature, at: optimum, step: differenceStep)
        result.evaluations += evaluations
        if !converged {
            result.converged = false
            result.messages.insert("the optimiser stopped before converging", at: 0)
        }
        return result
    }

    private static func report(_ quadrature: AdaptiveQuadrature, at x: [Double], step h: Double) throws
        -> EmpiricalBayesFit {
        let design = quadrature.design
        let p = design.fixedCount, d = p + 1
        let sigma = abs(x[0]), coefficients = Array(x.dropFirst())
        let point = try devianceAndGradient(quadrature, x)
        let hessian = try curvature(quadrature, at: x, step: h)
        let singular = sigma < singularTolerance
        var (messages, inverse) = convergenceChecks(gradient: point.gradient, hessian: hessian, boundary: [singular])
        let converged = messages.isEmpty
        if singular { messages.append("boundary (singular) fit: see help('isSingular')") }
        var covariance = [Double](repeating: .nan, count: p * p)
        if let inverse {
            for i in 0..<p { for j in 0..<p { covariance[i * p + j] = 2 * inverse[(1 + i) * d + (1 + j)] } }
        } else {
            // As lme4 and the Laplace fit: the covariance given σ.
            covariance = try LaplaceApproximation(design: design)
                .evaluate(coefficients: coefficients, theta: [sigma], jointly: true).fixedCovariance
            messages.append("the Hessian is not positive definite: standard errors are conditional on the SDs")
        }
        let evaluation = try quadrature.evaluate(coefficients: coefficients, standardDeviation: sigma)
        let term = design.randomTerms[0]
        let modes = evaluation.modes.map { sigma * $0 }
        let conditional = evaluation.scales.map { sigma * $0 }
        // glmer's deviance(): the rows' deviance residuals at the modes.
        var residualDeviance = 0.0
        for i in 0..<design.cellCount {
            var eta = design.offset(i) + term.value(cell: i, column: 0) * modes[Int(term.levelOfCell[i])]
            for j in 0..<p { eta += design.fixed[i * p + j] * coefficients[j] }
            let mu = 1 / (1 + exp(-eta))
            let s = design.successes[i], n = design.trials[i]
            let successes = s > 0 ? s * log(mu) : 0, failures = n - s > 0 ? (n - s) * log1p(-mu) : 0
            residualDeviance -= 2 * (successes + failures - design.saturatedLogLikelihoods[i])
        }
        let logLikelihood = evaluation.logLikelihood, parameters = Double(d)
        var fit = EmpiricalBayesFit(
            coefficients: coefficients,
            standardErrors: (0..<p).map { sqrt(covariance[$0 * p + $0]) },
            covariance: covariance, standardDeviations: [sigma], correlations: [], theta: [sigma],
            modes: [modes], conditionalStandardDeviations: [conditional],
            logLikelihood: logLikelihood, deviance: residualDeviance,
            aic: -2 * logLikelihood + 2 * parameters,
            bic: -2 * logLikelihood + log(Double(design.rowsUsed)) * parameters,
            singular: singular, converged: converged, messages: messages,
            evaluations: 1 + 2 * d + 1 + 2 * d * d + 1, gradient: point.gradient)
        fit.quadraturePoints = quadrature.points
        return fit
    }
}
