import Foundation

/// Empirical-Bayes (maximum Laplace-likelihood) estimates of a logistic
/// mixed model, as lme4's `glmer` makes them with nAGQ = 1 (Bates, Mächler,
/// Bolker & Walker 2015, JSS 67(1); lme4's `glmer` and `checkConv`):
///
/// 1. over the standard deviations θ alone, with β moving jointly with the
///    effects in PIRLS (glmer's first stage, the nAGQ = 0 criterion), from
///    θ = 1;
/// 2. over (θ, β) together on the Laplace approximation (glmer's second
///    stage), from the first stage's optimum.
///
/// Both stages use GSL's Nelder–Mead simplex on the deviance −2 log L.
/// The deviance is even in each θₖ (flipping the sign of θₖ flips the sign
/// of its effects' modes), so the search runs over θ ∈ ℝᵏ and the estimate
/// is |θ| — which lets an SD reach its boundary 0, where glmer reports a
/// "boundary (singular) fit".
///
/// At the optimum, as glmer does: the gradient and Hessian of the deviance
/// over (θ, β) by central differences with step 10⁻⁴ (lme4's `deriv12`);
/// the covariance of β̂ is the β block of 2H⁻¹ (lme4's `vcov` with
/// `use.hessian = TRUE`); the convergence checks are glmer's (scaled
/// gradient below 0.002, Hessian positive definite and not nearly singular).
/// Conditional modes b̂ = σû and conditional SDs σ√diag(A⁻¹) at the optimum
/// are lme4's `ranef(condVar = TRUE)`.
public struct EmpiricalBayesFit: Sendable {
    public var coefficients: [Double]
    public var standardErrors: [Double]
    /// Row-major p × p covariance of the coefficients.
    public var covariance: [Double]
    public var standardDeviations: [Double]
    /// Per term, per level: the conditional mode of the effect, σₖ ûₖₗ.
    public var modes: [[Double]]
    /// Per term, per level: the conditional SD of the effect, σₖ √(A⁻¹)ₗₗ.
    public var conditionalStandardDeviations: [[Double]]
    /// The Laplace log-likelihood at the optimum (R's `logLik`).
    public var logLikelihood: Double
    /// Σ of the rows' binomial deviance residuals at the conditional modes
    /// (what R's `deviance` reports for a glmer fit).
    public var deviance: Double
    public var aic: Double
    public var bic: Double
    /// An SD below 10⁻⁴ (lme4's `isSingular` tolerance).
    public var singular: Bool
    public var converged: Bool
    /// glmer's messages: convergence warnings and the boundary note.
    public var messages: [String]
    /// Evaluations of the Laplace approximation, all stages.
    public var evaluations: Int
    /// The deviance's gradient over (θ, β) at the optimum.
    public var gradient: [Double]

    /// glmer's `isSingular` tolerance.
    public static let singularTolerance = 1e-4
    /// glmer's `check.conv.grad` tolerance.
    public static let gradientTolerance = 2e-3
    /// lme4's `deriv12` step.
    public static let differenceStep = 1e-4

    /// Maximises the Laplace likelihood (both stages) and reports at the
    /// optimum.
    public static func fit(_ design: Design) throws(InputError) -> EmpiricalBayesFit {
        let laplace = try LaplaceApproximation(design: design)
        let p = design.fixedCount, k = design.randomTerms.count

        // Stage 1: θ with β moving jointly with u. Only a start for stage 2,
        // so a loose tolerance.
        let rate = min(max(design.successes.reduce(0, +) / design.trials.reduce(0, +), 0.01), 0.99)
        var beta = [Double](repeating: 0, count: p)
        if let intercept = design.fixedNames.firstIndex(of: "(Intercept)") { beta[intercept] = log(rate / (1 - rate)) }
        let first = try NelderMead(tolerance: 1e-3, maximumRestarts: 0).minimize({ (theta: [Double]) throws(InputError) -> Double in
            let evaluation = try laplace.evaluate(coefficients: beta, standardDeviations: theta.map { abs($0) },
                                                  jointly: true)
            beta = evaluation.coefficients
            return -2 * evaluation.logLikelihood
        }, start: [Double](repeating: 1, count: k), step: [Double](repeating: 0.25, count: k))
        // β and its covariance given σ at the first stage's optimum (the last
        // evaluation may have been elsewhere), for stage 2's start and steps.
        let firstStage = try laplace.evaluate(coefficients: beta, standardDeviations: first.minimum.map { abs($0) },
                                              jointly: true)
        beta = firstStage.coefficients
        let fixedCovariance = firstStage.fixedCovariance

        // Stage 2: (θ, β) on the Laplace approximation.
        let thetaStep = first.minimum.map { max(0.1 * abs($0), 0.02) }
        let betaStep = (0..<p).map { j in
            max(fixedCovariance.isEmpty ? 0.1 : sqrt(max(fixedCovariance[j * p + j], 0)), 1e-3)
        }
        let second = try NelderMead(tolerance: 1e-5, maximumRestarts: 1).minimize(
            { (x: [Double]) throws(InputError) -> Double in try deviance(laplace, x, terms: k) },
            start: first.minimum.map { abs($0) } + beta, step: thetaStep + betaStep)
        var result = try report(laplace, coefficients: Array(second.minimum[k...]),
                                standardDeviations: second.minimum[..<k].map { abs($0) })
        result.evaluations += first.evaluations + 1 + second.evaluations
        if !second.converged {
            result.converged = false
            result.messages.insert("the Nelder–Mead search stopped after its iteration limit", at: 0)
        }
        return result
    }

    /// Everything reported, at given β and σ instead of the optimum: for
    /// checking each quantity against glmer's at glmer's own estimates.
    public static func evaluate(_ design: Design, coefficients: [Double], standardDeviations: [Double])
        throws(InputError) -> EmpiricalBayesFit {
        try report(LaplaceApproximation(design: design), coefficients: coefficients,
                   standardDeviations: standardDeviations)
    }

    /// The deviance −2 log L at x = (θ, β), σ = |θ|.
    private static func deviance(_ laplace: LaplaceApproximation, _ x: [Double], terms k: Int) throws(InputError)
        -> Double {
        -2 * (try laplace.logLikelihood(coefficients: Array(x[k...]), standardDeviations: x[..<k].map { abs($0) }))
    }

    private static func report(_ laplace: LaplaceApproximation, coefficients: [Double], standardDeviations theta: [Double])
        throws(InputError) -> EmpiricalBayesFit {
        let design = laplace.design
        let p = design.fixedCount, k = design.randomTerms.count
        let optimum = theta + coefficients

        // Gradient and Hessian of the deviance at the optimum (lme4's deriv12).
        let d = k + p, h = differenceStep
        let centre = try deviance(laplace, optimum, terms: k)
        var gradient = [Double](repeating: 0, count: d), hessian = [Double](repeating: 0, count: d * d)
        func shifted(_ moves: [(Int, Double)]) throws(InputError) -> Double {
            var x = optimum
            for (i, delta) in moves { x[i] += delta }
            return try deviance(laplace, x, terms: k)
        }
        for i in 0..<d {
            let plus = try shifted([(i, h)]), minus = try shifted([(i, -h)])
            gradient[i] = (plus - minus) / (2 * h)
            hessian[i * d + i] = (plus - 2 * centre + minus) / (h * h)
            for j in 0..<i {
                let pp = try shifted([(i, h), (j, h)]), pm = try shifted([(i, h), (j, -h)])
                let mp = try shifted([(i, -h), (j, h)]), mm = try shifted([(i, -h), (j, -h)])
                hessian[i * d + j] = (pp - pm - mp + mm) / (4 * h * h)
                hessian[j * d + i] = hessian[i * d + j]
            }
        }
        let evaluations = 1 + 2 * d + 2 * d * (d - 1)

        // glmer's checks (lme4's checkConv) and the covariance of β̂.
        var messages: [String] = []
        let singular = theta.contains { $0 < singularTolerance }
        let eigenvalues = DenseSymmetric.eigenvalues(hessian, size: d)
        let inverse = try? DenseSymmetric.inverse(hessian, size: d)
        // The gradient scaled by the Hessian, H⁻¹g, where H is positive
        // definite; the smaller of it and |g| componentwise, as checkConv.
        var scaled = gradient.map { abs($0) }
        if let inverse {
            let newton = (0..<d).map { i in abs((0..<d).reduce(0) { $0 + inverse[i * d + $1] * gradient[$1] }) }
            scaled = zip(scaled, newton).map { min($0, $1) }
        }
        let checked = (0..<d).filter { !($0 < k && theta[$0] < singularTolerance) }
        if let worst = checked.max(by: { scaled[$0] < scaled[$1] }), scaled[worst] > gradientTolerance {
            messages.append(String(format: "Model failed to converge with max|grad| = %.6g (tol = %g, component %d)",
                                   scaled[worst], gradientTolerance, worst + 1))
        }
        if !singular {
            let negative = eigenvalues.filter { $0 < 0 }.count
            if negative > 0 {
                messages.append("Model failed to converge: degenerate  Hessian with \(negative) negative eigenvalues")
            } else if let low = eigenvalues.first, let high = eigenvalues.last, low > 0, high / low > 1e6 {
                messages.append("Model is nearly unidentifiable: very large eigenvalue\n - Rescale variables?")
            }
        }
        let converged = messages.isEmpty
        if singular { messages.append("boundary (singular) fit: see help('isSingular')") }

        var covariance = [Double](repeating: .nan, count: p * p)
        if let inverse {
            for i in 0..<p { for j in 0..<p { covariance[i * p + j] = 2 * inverse[(k + i) * d + (k + j)] } }
        } else {
            // lme4 falls back on the covariance given σ (RX⁻¹RX⁻ᵀ).
            covariance = try laplace.evaluate(coefficients: coefficients, standardDeviations: theta,
                                              jointly: true).fixedCovariance
            messages.append("the Hessian is not positive definite: standard errors are conditional on the SDs")
        }

        // The modes and conditional SDs at the optimum.
        let logLikelihood = try laplace.logLikelihood(coefficients: coefficients, standardDeviations: theta)
        let inverseDiagonal = laplace.cholesky.inverseDiagonal()
        let terms = design.randomTerms
        let modes = terms.indices.map { t in
            (0..<terms[t].levelCount).map { theta[t] * laplace.modes[laplace.offsets[t] + $0] }
        }
        let conditional = terms.indices.map { t in
            (0..<terms[t].levelCount).map { theta[t] * sqrt(inverseDiagonal[laplace.offsets[t] + $0]) }
        }
        let mu = laplace.fittedProbabilities(coefficients: coefficients, standardDeviations: theta)
        var residualDeviance = 0.0
        for i in 0..<design.cellCount {
            let s = design.successes[i], n = design.trials[i]
            residualDeviance -= 2 * (s * log(mu[i]) + (n - s) * log1p(-mu[i]) - design.saturatedLogLikelihoods[i])
        }
        let parameters = Double(p + k)
        return EmpiricalBayesFit(
            coefficients: coefficients,
            standardErrors: (0..<p).map { sqrt(covariance[$0 * p + $0]) },
            covariance: covariance, standardDeviations: theta, modes: modes,
            conditionalStandardDeviations: conditional, logLikelihood: logLikelihood, deviance: residualDeviance,
            aic: -2 * logLikelihood + 2 * parameters,
            bic: -2 * logLikelihood + log(Double(design.rowsUsed)) * parameters,
            singular: singular, converged: converged, messages: messages, evaluations: evaluations + 1,
            gradient: gradient)
    }

    /// The fit in the one EB schema shared with glmer's
    /// (Validation/lme4/fit_glmer.R).
    public func report(design: Design, case name: String, seconds: Double) -> EmpiricalBayesReport {
        let terms = design.randomTerms
        return EmpiricalBayesReport(
            program: "bayesglmm \(Release.version)", case: name, formula: design.formula.text, data: design.source,
            rows_used: design.rowsUsed,
            fixed: design.fixedNames.indices.map {
                .init(name: design.fixedNames[$0], estimate: coefficients[$0], std_error: standardErrors[$0])
            },
            sd: terms.indices.map { .init(term: terms[$0].name, estimate: standardDeviations[$0]) },
            effects: terms.indices.flatMap { t in
                terms[t].levels.indices.map {
                    .init(term: terms[t].name, level: terms[t].levels[$0], mode: modes[t][$0],
                          sd: conditionalStandardDeviations[t][$0])
                }
            },
            log_likelihood: logLikelihood, aic: aic, bic: bic, deviance: deviance, singular: singular,
            // The schema's "converged" is glmer's: no convergence messages,
            // where glmer counts the boundary note as one.
            converged: converged && messages.isEmpty, messages: messages, seconds: seconds)
    }
}
