import CGSL
import Foundation

/// The marginal likelihood of a logistic mixed model with a single scalar
/// random-effect term by adaptive Gauss–Hermite quadrature, as lme4's
/// `glmer` computes it with nAGQ > 1 (Pinheiro & Bates 1995, JCGS 4(1);
/// Liu & Pierce 1994, Biometrika 81(3); lme4's `glmerAGQ`).
///
/// With one term of one column (a random intercept (1 | g), or a single
/// slope (0 + x | g)), level g's spherical effect u ~ N(0, 1) enters only
/// its own cells, ηᵢ = xᵢᵀβ + σzᵢu, so the likelihood is a product of
/// one-dimensional integrals
///
///     L_g = ∫ exp(h_g(u)) du / √(2π),   h_g(u) = Σ_{i∈g} ℓᵢ(xᵢᵀβ + σzᵢu) − u²/2,
///
/// ℓᵢ the cell's binomial log-likelihood with the rows' binomial
/// coefficients (none for 0/1 rows, as `LaplaceApproximation`). h_g is
/// strictly concave (h″ = −1 − σ²Σ zᵢ²nᵢμᵢ(1 − μᵢ)), so Newton's method
/// finds its mode û_g; with ŝ_g = (−h″(û_g))^(−1/2) and the n-point
/// Gauss–Hermite rule (xₖ, wₖ) for the weight e^(−x²) (GSL's
/// `gsl_integration_fixed_hermite`), u = û + √2 ŝ x gives
///
///     L_g ≈ (ŝ/√π) Σₖ wₖ exp(xₖ² + h_g(û + √2 ŝ xₖ)).
///
/// One point (x = 0, w = √π) is the Laplace approximation, ŝ e^(h(û)),
/// exactly `LaplaceApproximation`'s for such a model; more points integrate
/// exactly any polynomial of degree < 2n times the Gaussian at the mode,
/// which is where Laplace's bias goes when a level has few observations
/// under a large σ.
public struct AdaptiveQuadrature: Sendable {
    public let design: Design
    /// The number of quadrature points (glmer's nAGQ).
    public let points: Int
    let nodes: [Double]
    let weights: [Double]
    /// The cells of each level, and each cell's column value zᵢ.
    let levelStart: [Int]
    let levelCells: [Int]
    let values: [Double]
    let logChoose: [Double]

    /// glmer's limit on nAGQ.
    public static let maximumPoints = 25

    /// Throws `InputError` (setting "nagq") unless the model has exactly
    /// one random-effect term with one column, or when `points` is not in
    /// 1…25 — what glmer allows.
    public init(design: Design, points: Int) throws(InputError) {
        guard (1...AdaptiveQuadrature.maximumPoints).contains(points) else {
            throw InputError(.badOption, "the number of quadrature points must be 1 to "
                             + "\(AdaptiveQuadrature.maximumPoints) (1 is the Laplace approximation, and 0 glmer's "
                             + "first stage alone; glmer allows nAGQ up to 25), not \(points)", setting: "nagq")
        }
        guard design.randomTerms.count == 1, let term = design.randomTerms.first, term.dimension == 1 else {
            let terms = design.randomTerms.map { "(\($0.columns.joined(separator: " + ")) | \($0.name))" }
            throw InputError(.unsupported, "adaptive Gauss–Hermite quadrature (more than one point) needs a single "
                             + "random-effect term with one column, as glmer's nAGQ > 1 does; '\(design.formula)' has "
                             + (terms.isEmpty ? "none" : terms.joined(separator: ", "))
                             + ": use 1 point (the Laplace approximation)", setting: "nagq")
        }
        self.design = design
        self.points = points
        (nodes, weights) = AdaptiveQuadrature.hermiteRule(points)
        var counts = [Int](repeating: 0, count: term.levelCount + 1)
        for i in 0..<design.cellCount { counts[Int(term.levelOfCell[i]) + 1] += 1 }
        for l in 0..<term.levelCount { counts[l + 1] += counts[l] }
        levelStart = counts
        var next = Array(counts.dropLast()), cells = [Int](repeating: 0, count: design.cellCount)
        for i in 0..<design.cellCount {
            let l = Int(term.levelOfCell[i])
            cells[next[l]] = i
            next[l] += 1
        }
        levelCells = cells
        values = (0..<design.cellCount).map { term.value(cell: $0, column: 0) }
        logChoose = design.logBinomialCoefficients
    }

    /// The n-point Gauss–Hermite rule for ∫ f(x) e^(−x²) dx, from GSL (nodes
    /// ascending).
    static func hermiteRule(_ n: Int) -> (nodes: [Double], weights: [Double]) {
        guard n > 1, let workspace = gsl_integration_fixed_alloc(cgsl_integration_fixed_hermite(), n, 0, 1, 0, 0)
        else { return ([0], [Double.pi.squareRoot()]) }
        defer { gsl_integration_fixed_free(workspace) }
        let nodes = Array(UnsafeBufferPointer(start: gsl_integration_fixed_nodes(workspace), count: n))
        let weights = Array(UnsafeBufferPointer(start: gsl_integration_fixed_weights(workspace), count: n))
        return (nodes, weights)
    }

    /// The approximation at β and σ: the log-likelihood, and per level the
    /// conditional mode û and ŝ on the spherical scale (the effect's mode
    /// and conditional SD are σû and |σ|ŝ, lme4's `ranef(condVar = TRUE)`).
    /// σ may be negative (the likelihood is even in σ).
    public func evaluate(coefficients beta: [Double], standardDeviation sigma: Double)
        throws(NumericalFailure) -> (logLikelihood: Double, modes: [Double], scales: [Double]) {
        let n = design.cellCount, p = design.fixedCount
        var offset = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var e = design.offset(i)
            for j in 0..<p { e += design.fixed[i * p + j] * beta[j] }
            offset[i] = e
        }
        let levels = levelStart.count - 1
        var modes = [Double](repeating: 0, count: levels), scales = modes
        var total = 0.0
        var a: [Double] = [], z: [Double] = [], y: [Double] = [], trials: [Double] = [], c: [Double] = []
        for l in 0..<levels {
            let cells = levelCells[levelStart[l]..<levelStart[l + 1]]
            a = cells.map { offset[$0] }
            z = cells.map { sigma * values[$0] }
            y = cells.map { design.successes[$0] }
            trials = cells.map { design.trials[$0] }
            c = cells.map { logChoose[$0] }
            guard let level = AdaptiveQuadrature.logIntegral(offsets: a, slopes: z, successes: y, trials: trials,
                                                            logChoose: c, nodes: nodes, weights: weights) else {
                throw NumericalFailure("the conditional mode of level '\(design.randomTerms[0].levels[l])' of "
                                       + "\(design.randomTerms[0].name) did not converge (σ = \(sigma))")
            }
            total += level.value
            modes[l] = level.mode
            scales[l] = level.scale
        }
        guard total.isFinite else {
            throw NumericalFailure("the quadrature's log-likelihood is not finite (σ = \(sigma))")
        }
        return (total, modes, scales)
    }

    /// log ∫ exp(h(u)) du / √(2π), h(u) = Σᵢ [yᵢ ηᵢ − nᵢ log(1 + e^ηᵢ) + log C(nᵢ, yᵢ)] − u²/2
    /// with ηᵢ = aᵢ + zᵢu (logit cells), by `adaptive`. Nil when Newton's
    /// method does not converge.
    static func logIntegral(offsets a: [Double], slopes z: [Double], successes y: [Double], trials n: [Double],
                            logChoose c: [Double], nodes: [Double], weights: [Double], start: Double = 0)
        -> (value: Double, mode: Double, scale: Double, shares: [Double])? {
        adaptive(start: start, nodes: nodes, weights: weights) { u in
            var value = -0.5 * u * u, slope = -u, curvature = -1.0
            for i in a.indices {
                let e = a[i] + z[i] * u
                let t = exp(-abs(e))
                let mu = e >= 0 ? 1 / (1 + t) : t / (1 + t)
                value += y[i] * e - n[i] * (max(e, 0) + log1p(t)) + c[i]
                slope += z[i] * (y[i] - n[i] * mu)
                curvature -= z[i] * z[i] * n[i] * mu * (1 - mu)
            }
            return (value, slope, curvature)
        }
    }

    /// log ∫ exp(h(u)) du / √(2π) for a strictly concave h given with its
    /// first two derivatives: Newton's method from `start` for the mode û
    /// (each step halved until h does not fall, until it is below
    /// 10⁻¹⁰ max(1, |û|)), ŝ = (−h″(û))^(−1/2), then the rule (xₖ, wₖ) at
    /// û + √2 ŝ xₖ. Also each node's share of the integral (summing to 1),
    /// for moments under the normalised integrand. Nil when Newton's
    /// method does not converge — unless `approximateDerivatives`, when h′
    /// and h″ only approximate the derivatives of h (the nodes need only be
    /// near the mode): then steps below 10⁻⁶, a step that cannot raise h, or
    /// 100 steps end the search where it is.
    static func adaptive(start: Double = 0, nodes: [Double], weights: [Double], approximateDerivatives: Bool = false,
                         _ h: (Double) -> (value: Double, slope: Double, curvature: Double))
        -> (value: Double, mode: Double, scale: Double, shares: [Double])? {
        var u = start, current = h(u), converged = false
        let tolerance = approximateDerivatives ? 1e-6 : 1e-10
        for _ in 0..<100 {
            let step = -current.slope / current.curvature
            if abs(step) <= tolerance * max(1, abs(u)) { converged = true; break }
            let floor = current.value - 1e-13 * max(1, abs(current.value))
            var trial = u + step, next = h(trial), halvings = 0
            while !(next.value >= floor) && halvings < 50 {
                halvings += 1
                trial = u + step / pow(2, Double(halvings))
                next = h(trial)
            }
            guard next.value >= floor else {
                converged = approximateDerivatives && current.value.isFinite
                break
            }
            u = trial
            current = next
        }
        if approximateDerivatives && current.value.isFinite { converged = true }
        guard converged, current.value.isFinite, current.curvature < 0 else { return nil }
        let scale = 1 / (-current.curvature).squareRoot()
        var terms = [Double](repeating: 0, count: nodes.count)
        for k in nodes.indices {
            let x = nodes[k]
            terms[k] = weights[k] * exp(x * x + h(u + 2.0.squareRoot() * scale * x).value - current.value)
        }
        let sum = terms.reduce(0, +)
        return (current.value + log(scale) + log(sum) - 0.5 * log(Double.pi), u, scale, terms.map { $0 / sum })
    }
}
