import Foundation

/// Empirical-Bayes (maximum Laplace-likelihood) estimates of a logistic
/// mixed model, as lme4's `glmer` makes them with nAGQ = 1 (Bates, Mächler,
/// Bolker & Walker 2015, JSS 67(1); lme4's `glmer` and `checkConv`), over
/// lme4's parameters: θ, the entries of each term's relative covariance
/// factor Lₖ (`LaplaceApproximation`; σₖ for a random intercept), and β.
///
/// 1. over θ alone, with β moving jointly with the effects in PIRLS
///    (glmer's first stage, the nAGQ = 0 criterion), from every Lₖ = I;
/// 2. over (θ, β) together on the Laplace approximation (glmer's second
///    stage), from the first stage's optimum.
///
/// Both stages minimise the deviance D = −2 log L by Newton's method on
/// its exact gradient (`LaplaceApproximation.devianceAndGradient`), the
/// Hessian by forward differences of it and carried between differences by
/// BFGS's update (`Newton`), where glmer uses bobyqa and Nelder–Mead on the
/// deviance alone; GSL's BFGS (`vector_bfgs2`) takes over from where Newton
/// stops should it fail, and GSL's Nelder–Mead should BFGS stall far from
/// a stationary point. The deviance depends on θ through LₖLₖᵀ only, so the
/// search runs over θ ∈ ℝᵈ unconstrained, and the estimate is θ with each
/// column of Lₖ signed to make its diagonal entry ≥ 0 (glmer's bounds) —
/// which lets a diagonal entry reach its boundary 0, where glmer reports a
/// "boundary (singular) fit" (a zero SD, or a correlation of ±1).
///
/// At the optimum, as glmer does: the Hessian of the deviance over (θ, β),
/// here by central differences of the exact gradient with lme4's `deriv12`
/// step 10⁻⁴ (stable to 10⁻⁷ from step 10⁻³ to 10⁻⁵, where `deriv12`'s
/// second differences of the deviance carry ~10⁻⁴ truncation error); the
/// covariance of β̂ is the β block of 2H⁻¹ (lme4's `vcov` with
/// `use.hessian = TRUE`); glmer's convergence checks (scaled gradient below
/// 0.002, Hessian positive definite and not nearly singular).
/// Conditional modes b̂ = Lₖû and conditional SDs √diag(Lₖ(A⁻¹)ₗₗLₖᵀ) at
/// the optimum are lme4's `ranef(condVar = TRUE)`.
public struct EmpiricalBayesFit: Sendable {
    public var coefficients: [Double]
    public var standardErrors: [Double]
    /// Row-major p × p covariance of the coefficients.
    public var covariance: [Double]
    /// Each term's standard deviations, column by column (one per term for
    /// random intercepts): lme4's `VarCorr`.
    public var standardDeviations: [Double]
    /// Each term's correlations, in `ParameterNaming.covariance`'s order
    /// (none for terms of one column).
    public var correlations: [Double]
    /// lme4's θ: the entries of each term's Lₖ, diagonals ≥ 0.
    public var theta: [Double]
    /// Per term, per level (level-major, the term's columns within a level):
    /// the conditional mode of the effect, Lₖûₖₗ.
    public var modes: [[Double]]
    /// Per term, as `modes`: the conditional SD of the effect.
    public var conditionalStandardDeviations: [[Double]]
    /// The Laplace log-likelihood at the optimum (R's `logLik`).
    public var logLikelihood: Double
    /// Σ of the rows' binomial deviance residuals at the conditional modes
    /// (what R's `deviance` reports for a glmer fit).
    public var deviance: Double
    public var aic: Double
    public var bic: Double
    /// A diagonal entry of some Lₖ below 10⁻⁴ (lme4's `isSingular`): a zero
    /// SD or a correlation of ±1.
    public var singular: Bool
    public var converged: Bool
    /// glmer's messages: convergence warnings and the boundary note.
    public var messages: [String]
    /// Evaluations of the Laplace approximation, all stages.
    public var evaluations: Int
    /// The deviance's gradient over (θ, β) at the optimum.
    public var gradient: [Double]
    /// The approximation maximised: 1 for Laplace's, n > 1 for adaptive
    /// Gauss–Hermite quadrature with n points (glmer's nAGQ;
    /// `AdaptiveQuadrature`).
    public var quadraturePoints = 1

    /// The SDs and correlations in the order of `Design.parameterNames`
    /// (`RandomEffect.covarianceNames`): each term's SDs, then its
    /// correlations.
    public func covarianceValues(_ design: Design) -> [Double] {
        var values: [Double] = [], sd = 0, correlation = 0
        for term in design.randomTerms {
            let q = term.dimension, pairs = q * (q - 1) / 2
            values += standardDeviations[sd..<(sd + q)] + correlations[correlation..<(correlation + pairs)]
            sd += q; correlation += pairs
        }
        return values
    }

    /// glmer's `isSingular` tolerance.
    public static let singularTolerance = 1e-4
    /// glmer's `check.conv.grad` tolerance.
    public static let gradientTolerance = 2e-3
    /// lme4's `deriv12` step.
    public static let differenceStep = 1e-4

    /// Maximises the Laplace likelihood (both stages) and reports at the
    /// optimum.
    ///
    /// Throws `InputError` for data and models that have no
    /// maximum-likelihood fit, found before fitting (`check(_:)`): no random
    /// terms, a response without variation, a fixed-effect column that
    /// separates successes from failures. Throws `NumericalFailure`, saying
    /// what failed and what may help, when the computation fails on data
    /// that were accepted.
    public static func fit(_ design: Design) throws -> EmpiricalBayesFit {
        try check(design)
        do {
            return try maximize(design)
        } catch let failure as NumericalFailure {
            throw NumericalFailure("the empirical-Bayes (Laplace) fit failed: " + failure.message,
                                   remedies: failure.remedies.isEmpty ? [.rescaledCovariates, .simplerModel]
                                       : failure.remedies)
        }
    }

    /// Both stages, the Newton polish and the report.
    private static func maximize(_ design: Design) throws -> EmpiricalBayesFit {
        let laplace = try LaplaceApproximation(design: design)
        let p = design.fixedCount, k = laplace.thetaCount
        var evaluations = 0

        // Stage 1: θ with β moving jointly with u, from every Lₖ = I, by
        // Newton then BFGS (`firstStageSearch`). Only a start for stage 2,
        // so a loose tolerance and long first steps: the
        // gradient, a sum over the cells, grows with the data, so the
        // tolerance is relative to the deviance — ‖∇D‖ < 10⁻⁴|D| puts θ
        // within about 10⁻³ of the first stage's optimum, closer than that
        // optimum is to the second stage's.
        let stage = try firstStageSearch(
            laplace, QuasiNewton(gradientTolerance: 1, relativeGradientTolerance: 1e-4, maximumIterations: 200,
                                 firstStep: 0.3, lineTolerance: 0.5), newtonFirst: true)
        let first = stage.result
        var beta = stage.coefficients
        evaluations += first.evaluations
        // β at the first stage's optimum (the last evaluation may have been elsewhere).
        let firstTheta = laplace.normalized(first.minimum)
        beta = try laplace.evaluate(coefficients: beta, theta: firstTheta, jointly: true).coefficients
        evaluations += 1

        // Stage 2: (θ, β) on the Laplace approximation, by Newton's method
        // on the exact gradient (`Newton`); should that fail, BFGS from
        // where it stopped, and should that stall, Nelder–Mead (glmer's
        // stage-2 optimiser).
        let start = firstTheta + beta
        // The gradient's own precision grows with the data (a sum over
        // cells), so the tolerance is relative to the deviance: 1e-6 |D| is
        // 0.035 on the random-intercept benchmark data, where the curvature
        // (≥ 10³) puts the estimates within 1e-4 of the optimum, and the
        // Newton steps below (on the Hessian the report needs anyway) take
        // them the rest of the way.
        let initial = try devianceAndGradient(laplace, start, terms: k)
        evaluations += 1
        guard initial.value.isFinite else {
            throw NumericalFailure("the first stage (the covariances, with the fixed effects found jointly with the "
                                   + "effects) ended where the Laplace deviance is not finite ("
                                   + laplace.describe(firstTheta) + ")")
        }
        let tolerance = 1e-6 * abs(initial.value)
        var second = try Newton(gradientTolerance: tolerance).minimize(
            { (x: [Double]) throws(NumericalFailure) -> (value: Double, gradient: [Double]) in
                try devianceAndGradient(laplace, x, terms: k)
            }, start: start, at: initial)
        if !second.converged {
            // From where Newton stopped, by BFGS.
            evaluations += second.evaluations
            let from = second.value.isFinite ? second.minimum : start
            second = try QuasiNewton(gradientTolerance: tolerance, maximumIterations: 200).minimize(
                { (x: [Double]) throws -> (value: Double, gradient: [Double]) in
                    try devianceAndGradient(laplace, x, terms: k)
                }, start: from)
        }
        if !second.converged && second.value.isFinite && !second.gradient.allSatisfy({ abs($0) < tolerance }) {
            // Still far after 200 iterations (guPrenat: along a ridge where
            // sd(mom) grows slowly): again from there in coordinates scaled
            // by the curvature, x = x₀ + S·y with S = diag(1/√Hᵢᵢ), so that
            // BFGS's steps are on each parameter's own scale.
            let from = second.minimum, earlier = second.evaluations
            let hessian = try curvature(laplace, at: from, terms: k, step: differenceStep)
            evaluations += 2 * from.count
            let stretch = (0..<from.count).map { i in
                let h = hessian[i * from.count + i]
                return h.isFinite && h > 0 ? 1 / h.squareRoot() : 1
            }
            second = try QuasiNewton(gradientTolerance: tolerance).minimize(
                { (y: [Double]) throws -> (value: Double, gradient: [Double]) in
                    let x = (0..<y.count).map { from[$0] + stretch[$0] * y[$0] }
                    let result = try devianceAndGradient(laplace, x, terms: k)
                    return (result.value, zip(result.gradient, stretch).map { $0 * $1 })
                }, start: [Double](repeating: 0, count: from.count))
            second.minimum = (0..<from.count).map { from[$0] + stretch[$0] * second.minimum[$0] }
            second.gradient = zip(second.gradient, stretch).map { $0 / $1 }
            second.evaluations += earlier
        }
        evaluations += second.evaluations
        var optimum = second.minimum
        /// The deviance and gradient at `optimum`, while known.
        var known: (value: Double, gradient: [Double])? = second.value.isFinite ? (second.value, second.gradient) : nil
        // BFGS can stall (no progress along the line) a little short of its
        // tolerance; glmer's own gradient check below judges that point.
        var converged = second.converged
            || (second.value.isFinite && second.gradient.allSatisfy { abs($0) < tolerance })
        if !converged {
            let simplex = try NelderMead(tolerance: 1e-6, maximumRestarts: 2).minimize(
                { (x: [Double]) throws -> Double in
                    // The deviance alone: Nelder–Mead has no use for the gradient.
                    -2 * (try laplace.logLikelihood(coefficients: Array(x[k...]), theta: Array(x[..<k])))
                },
                start: second.value.isFinite ? optimum : start,
                step: optimum.map { max(0.05 * abs($0), 0.01) })
            evaluations += simplex.evaluations
            optimum = simplex.minimum
            known = nil
            converged = simplex.converged
        }
        // Newton polish with the Hessian the report needs anyway: BFGS stops
        // where its line search stalls, which on a flat direction (VerbAgg's
        // intercept against the uncentred Anger) can be 1e-3 short. Steps
        // −H⁻¹∇D with H fixed (a chord method), kept while D falls. The
        // point is signed as reported first (the Hessian and gradient
        // change sign with a column of Lₖ).
        func signed(_ x: [Double]) -> [Double] { laplace.normalized(Array(x[..<k])) + Array(x[k...]) }
        let unsigned = optimum
        optimum = signed(optimum)
        var point: (value: Double, gradient: [Double])
        if let known, optimum == unsigned {
            point = known
        } else {
            point = try devianceAndGradient(laplace, optimum, terms: k)
            evaluations += 1
        }
        let hessian = try curvature(laplace, at: optimum, terms: k, step: differenceStep)
        evaluations += 2 * (k + p)
        if let inverse = try? DenseSymmetric.inverse(hessian, size: k + p) {
            for _ in 0..<3 {
                let d = k + p
                let candidate = signed((0..<d).map { i in
                    optimum[i] - (0..<d).reduce(0) { $0 + inverse[i * d + $1] * point.gradient[$1] }
                })
                let next = try devianceAndGradient(laplace, candidate, terms: k)
                evaluations += 1
                guard next.value < point.value else { break }
                optimum = candidate
                point = next
            }
        }
        guard point.value.isFinite, optimum.allSatisfy(\.isFinite) else {
            throw NumericalFailure("the optimiser of the second stage (covariances and fixed effects together) ended "
                                   + "where the Laplace deviance is not finite")
        }
        var result = try report(laplace, coefficients: Array(optimum[k...]), theta: Array(optimum[..<k]),
                                hessian: hessian, gradient: point.gradient)
        result.evaluations += evaluations
        if !converged {
            result.converged = false
            result.messages.insert("the optimiser stopped before converging", at: 0)
        }
        return result
    }

    /// glmer's first stage: the Laplace deviance over θ with β moving
    /// jointly with u in PIRLS, by `search` on its exact gradient from
    /// every Lₖ = I and β = 0 but the intercept at the logit of the
    /// overall success rate. With `newtonFirst`, by `Newton` (steps of at
    /// most 0.5 in each θ entry, up to six Hessians) to `search`'s
    /// tolerance first, and `search` only from where Newton stopped should
    /// it not converge. Returns the search's result and β at its last
    /// evaluation.
    static func firstStageSearch(_ laplace: LaplaceApproximation, _ search: QuasiNewton, newtonFirst: Bool = false)
        throws -> (result: QuasiNewton.Result, coefficients: [Double]) {
        let design = laplace.design
        let rate = min(max(design.successes.reduce(0, +) / design.trials.reduce(0, +), 0.01), 0.99)
        var beta = [Double](repeating: 0, count: design.fixedCount)
        if let intercept = design.fixedNames.firstIndex(of: "(Intercept)") { 
            beta[intercept] = log(rate / (1 - rate)) - InitialValues.meanOffset(design)
        }
        func joint(_ theta: [Double]) throws(NumericalFailure) -> (value: Double, gradient: [Double]) {
            let result = try laplace.devianceAndGradient(coefficients: beta, theta: theta, jointly: true)
            beta = result.coefficients
            return (result.deviance, result.gradient)
        }
        var start = laplace.initialTheta, earlier = 0
        if newtonFirst {
            let initial = try joint(start)
            let tolerance = max(search.gradientTolerance, search.relativeGradientTolerance * abs(initial.value))
            let newton = try Newton(gradientTolerance: tolerance, maximumHessians: 6, maximumStep: 0.5)
                .minimize(joint, start: start, at: initial)
            var result = newton
            result.evaluations += 1
            if newton.converged { return (result, beta) }
            if newton.value.isFinite { start = newton.minimum }
            earlier = result.evaluations
        }
        var result = try search.minimize({ (theta: [Double]) throws -> (value: Double, gradient: [Double]) in
            try joint(theta)
        }, start: start)
        result.evaluations += earlier
        return (result, beta)
    }

    /// Everything reported, at given β and θ (lme4's θ; the SDs for a model
    /// of random intercepts) instead of the optimum: for checking each
    /// quantity against glmer's at glmer's own estimates. `step` is the
    /// central-difference step of the Hessian.
    public static func evaluate(_ design: Design, coefficients: [Double], theta: [Double],
                                step: Double = differenceStep) throws -> EmpiricalBayesFit {
        try report(LaplaceApproximation(design: design), coefficients: coefficients, theta: theta, step: step)
    }

    /// The deviance −2 log L at x = (θ, β) and its gradient over x.
    private static func devianceAndGradient(_ laplace: LaplaceApproximation, _ x: [Double], terms k: Int)
        throws(NumericalFailure) -> (value: Double, gradient: [Double]) {
        let result = try laplace.devianceAndGradient(coefficients: Array(x[k...]), theta: Array(x[..<k]))
        return (result.deviance, result.gradient)
    }

    /// The Hessian of the deviance at x by central differences of the exact
    /// gradient (symmetrised), 2(k + p) gradient evaluations.
    private static func curvature(_ laplace: LaplaceApproximation, at x: [Double], terms k: Int, step h: Double)
        throws(NumericalFailure) -> [Double] {
        let d = x.count
        var hessian = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            var plus = x, minus = x
            plus[i] += h; minus[i] -= h
            let up = try devianceAndGradient(laplace, plus, terms: k).gradient
            let down = try devianceAndGradient(laplace, minus, terms: k).gradient
            for j in 0..<d {
                hessian[i * d + j] += (up[j] - down[j]) / (4 * h)
                hessian[j * d + i] += (up[j] - down[j]) / (4 * h)
            }
        }
        return hessian
    }

    /// The report at (β, θ). `firstStage` is glmer's nAGQ = 0 fit, judged
    /// on θ alone: the joint deviance's gradient and Hessian over θ, with
    /// β̂'s covariance the one given θ (RX⁻¹RX⁻ᵀ); otherwise the gradient
    /// and Hessian are over (θ, β), the Hessian computed unless given.
    static func report(_ laplace: LaplaceApproximation, coefficients: [Double], theta: [Double],
                       step h: Double = differenceStep, hessian given: [Double]? = nil,
                       gradient knownGradient: [Double]? = nil, firstStage: (gradient: [Double], hessian: [Double])? = nil)
        throws(NumericalFailure) -> EmpiricalBayesFit {
        let design = laplace.design
        let p = design.fixedCount, k = laplace.thetaCount
        let optimum = theta + coefficients

        // The gradient at the optimum and the Hessian (unless given: from the
        // Newton polish, a step of < 1e-6 away, which moves it by less).
        let d = k + p
        let gradient: [Double], hessian: [Double], evaluations: Int
        if let firstStage {
            (gradient, hessian, evaluations) = (firstStage.gradient, firstStage.hessian, 0)
        } else {
            if let knownGradient {
                gradient = knownGradient
            } else {
                gradient = try devianceAndGradient(laplace, optimum, terms: k).gradient
            }
            if let given { hessian = given } else { hessian = try curvature(laplace, at: optimum, terms: k, step: h) }
            evaluations = (knownGradient == nil ? 1 : 0) + (given == nil ? 2 * d : 0)
        }

        // glmer's checks (lme4's checkConv) and the covariance of β̂.
        // lme4's isSingular: a diagonal entry of some Lₖ at its bound 0.
        let boundary = theta.indices.map { laplace.thetaIsDiagonal[$0] && abs(theta[$0]) < singularTolerance }
        let singular = boundary.contains(true)
        let (checks, inverse) = convergenceChecks(gradient: gradient, hessian: hessian, boundary: boundary)
        var messages = checks
        // An SD beyond 10³ on the logit scale: the Laplace likelihood rises
        // without bound as it grows, which it does where each level's own
        // data separate its outcomes (û stays bounded while A → I).
        let covarianceNames = design.randomTerms.flatMap(\.covarianceNames)
        let runaway = zip(covarianceNames, laplace.covarianceValues(theta: theta))
            .filter { $0.0.hasPrefix("sd(") && !($0.1 < 1e3) }
        if !runaway.isEmpty {
            messages.append("the Laplace likelihood keeps rising as "
                            + runaway.map { "\($0.0) (now \(String(format: "%.3g", $0.1)))" }.joined(separator: ", ")
                            + " grows: each level's own data separate its outcomes, so the empirical-Bayes fit does "
                            + "not exist; fit the model by the Bayesian sampler, with a proper prior")
        }
        let converged = messages.isEmpty
        if singular { messages.append("boundary (singular) fit: see help('isSingular')") }

        var covariance = [Double](repeating: .nan, count: p * p)
        if firstStage != nil {
            covariance = try laplace.evaluate(coefficients: coefficients, theta: theta, jointly: true).fixedCovariance
        } else if let inverse {
            for i in 0..<p { for j in 0..<p { covariance[i * p + j] = 2 * inverse[(k + i) * d + (k + j)] } }
        } else {
            // lme4 falls back on the covariance given θ (RX⁻¹RX⁻ᵀ).
            covariance = try laplace.evaluate(coefficients: coefficients, theta: theta, jointly: true).fixedCovariance
            messages.append("the Hessian is not positive definite: standard errors are conditional on the SDs")
        }

        // The modes and conditional SDs at the optimum.
        let logLikelihood = try laplace.logLikelihood(coefficients: coefficients, theta: theta)
        let effects = laplace.conditionalEffects(theta: theta)
        let mu = laplace.fittedProbabilities(coefficients: coefficients, theta: theta)
        var residualDeviance = 0.0
        for i in 0..<design.cellCount {
            let s = design.successes[i], n = design.trials[i]
            // 0·log 0 = 0: a fitted probability of exactly 0 or 1 where all
            // the cell's trials agree with it.
            let successes = s > 0 ? s * log(mu[i]) : 0, failures = n - s > 0 ? (n - s) * log1p(-mu[i]) : 0
            residualDeviance -= 2 * (successes + failures - design.saturatedLogLikelihoods[i])
        }
        // VarCorr: the SDs column by column, then each term's correlations.
        let values = laplace.covarianceValues(theta: theta)
        var sds: [Double] = [], correlations: [Double] = [], index = 0
        for term in design.randomTerms {
            let q = term.dimension
            sds += values[index..<(index + q)]
            correlations += values[(index + q)..<(index + q + q * (q - 1) / 2)]
            index += q + q * (q - 1) / 2
        }
        let parameters = Double(p + k)
        return EmpiricalBayesFit(
            coefficients: coefficients,
            standardErrors: (0..<p).map { sqrt(covariance[$0 * p + $0]) },
            covariance: covariance, standardDeviations: sds, correlations: correlations, theta: theta,
            modes: effects.modes, conditionalStandardDeviations: effects.standardDeviations,
            logLikelihood: logLikelihood, deviance: residualDeviance,
            aic: -2 * logLikelihood + 2 * parameters,
            bic: -2 * logLikelihood + log(Double(design.rowsUsed)) * parameters,
            singular: singular, converged: converged, messages: messages, evaluations: evaluations + 1,
            gradient: gradient)
    }

    /// glmer's convergence checks (lme4's `checkConv`) at an optimum over
    /// x = (θ, β) with the deviance's gradient and Hessian there: the
    /// gradient scaled by the Hessian, H⁻¹g where H is positive definite,
    /// the smaller of it and |g| componentwise, must be below 0.002 for
    /// every component not at its boundary (`boundary`, one per θ entry);
    /// unless the fit is singular, H must be positive definite and not
    /// nearly singular. Returns glmer's messages and H⁻¹ (nil when H
    /// cannot be inverted).
    static func convergenceChecks(gradient: [Double], hessian: [Double], boundary: [Bool])
        -> (messages: [String], inverse: [Double]?) {
        let d = gradient.count, k = boundary.count
        var messages: [String] = []
        let eigenvalues = DenseSymmetric.eigenvalues(hessian, size: d)
        let inverse = try? DenseSymmetric.inverse(hessian, size: d)
        var scaled = gradient.map { abs($0) }
        if let inverse {
            let newton = (0..<d).map { i in abs((0..<d).reduce(0) { $0 + inverse[i * d + $1] * gradient[$1] }) }
            scaled = zip(scaled, newton).map { min($0, $1) }
        }
        let checked = (0..<d).filter { !($0 < k && boundary[$0]) }
        if let worst = checked.max(by: { scaled[$0] < scaled[$1] }), scaled[worst] > gradientTolerance {
            messages.append(String(format: "Model failed to converge with max|grad| = %.6g (tol = %g, component %d)",
                                   scaled[worst], gradientTolerance, worst + 1))
        }
        if !boundary.contains(true) {
            let negative = eigenvalues.filter { $0 < 0 }.count
            if negative > 0 {
                messages.append("Model failed to converge: degenerate  Hessian with \(negative) negative eigenvalues")
            } else if let low = eigenvalues.first, let high = eigenvalues.last, low > 0, high / low > 1e6 {
                messages.append("Model is nearly unidentifiable: very large eigenvalue\n - Rescale variables?")
            }
        }
        return (messages, inverse)
    }

    /// The fit in the one EB schema shared with glmer's
    /// (Validation/lme4/fit_glmer.R).
    public func report(design: Design, case name: String, seconds: Double) -> EmpiricalBayesReport {
        let terms = design.randomTerms
        // A term's columns are named only when it is not a random intercept
        // alone (as `ParameterNaming` names its SDs and effects).
        func column(_ term: RandomEffect, _ c: Int) -> String? { term.columns == ["(Intercept)"] ? nil : term.columns[c] }
        var sd: [EmpiricalBayesReport.StandardDeviation] = [], correlation: [EmpiricalBayesReport.Correlation] = []
        var sdIndex = 0, correlationIndex = 0
        for term in terms {
            for c in 0..<term.dimension {
                sd.append(.init(term: term.name, estimate: standardDeviations[sdIndex], column: column(term, c)))
                sdIndex += 1
            }
            for a in 0..<term.dimension {
                for b in (a + 1)..<term.dimension {
                    correlation.append(.init(term: term.name, column1: term.columns[a], column2: term.columns[b],
                                             estimate: correlations[correlationIndex]))
                    correlationIndex += 1
                }
            }
        }
        return EmpiricalBayesReport(
            program: "bayesglmm \(Release.version)", case: name, formula: design.formula.text, data: design.source,
            rows_used: design.rowsUsed,
            fixed: design.fixedNames.indices.map {
                .init(name: design.fixedNames[$0], estimate: coefficients[$0], std_error: standardErrors[$0])
            },
            sd: sd,
            effects: terms.indices.flatMap { t in
                let q = terms[t].dimension
                return terms[t].levels.indices.flatMap { l in
                    (0..<q).map { c in
                        EmpiricalBayesReport.Effect(term: terms[t].name, level: terms[t].levels[l],
                                                    mode: modes[t][l * q + c],
                                                    sd: conditionalStandardDeviations[t][l * q + c],
                                                    column: column(terms[t], c))
                    }
                }
            },
            log_likelihood: logLikelihood, aic: aic, bic: bic, deviance: deviance, singular: singular,
            // The schema's "converged" is glmer's: no convergence messages,
            // where glmer counts the boundary note as one.
            converged: converged && messages.isEmpty, messages: messages, seconds: seconds, link: Link.logit.rawValue,
            correlations: correlation, theta: theta, nagq: quadraturePoints, weights: design.weightsColumn,
            offset: design.offsetColumn)
    }
}
