import Foundation

/// The Laplace approximation of a logistic mixed model's marginal
/// likelihood at given fixed effects β and standard deviations σ, as lme4's
/// `glmer` computes it with nAGQ = 1 (Bates, Mächler, Bolker & Walker 2015,
/// JSS 67(1), §5; lme4's PIRLS).
///
/// With spherical effects u ~ N(0, I), b = Λu (Λ diagonal, σₖ on term k's
/// levels) and η = Xβ + ZΛu, penalised iteratively reweighted least squares
/// finds the mode û of log p(y | u) − ‖u‖²/2 by Newton steps with the sparse
/// matrix A = ΛᵀZᵀWZΛ + I (W = diag nᵢμᵢ(1 − μᵢ)), factorised by CHOLMOD with
/// the ordering analysed once. Then
///
///     log L(β, σ) ≈ log p(y | û) − ‖û‖²/2 − ½ log det A(û),
///
/// with the binomial coefficients of the data's rows included (none for 0/1
/// rows, however the rows are aggregated into cells), which is what `logLik`
/// reports for a `glmer` fit.
public final class LaplaceApproximation {
    public let design: Design
    let cholesky: SparseCholesky
    /// Offset of each term's levels in u.
    let offsets: [Int]
    let size: Int
    /// For each cell (flat, cell-major), the indices into the pattern's
    /// values of its diagonal entries (one per term) and of its off-diagonal
    /// pairs (a > b, term order).
    let diagonalEntries: [Int32]
    let pairEntries: [Int32]
    /// Per term, the index in u of each cell's level.
    let levelIndex: [[Int32]]
    let entries: Int
    let columnStart: [Int32]
    let logChoose: [Double]

    public private(set) var modes: [Double]
    /// From the last gradient: the point ψ — (σ, β), or σ for the joint
    /// mode — its modes (and joint β̂), and dû/dψ (dβ̂/dψ) for each ψ, to
    /// start PIRLS at the first-order prediction û + (dû/dψ)Δψ of the next
    /// point's modes.
    private struct Sensitivity {
        var jointly: Bool
        var point: [Double]
        var modes: [Double]
        var coefficients: [Double]
        var derivatives: [[Double]]
        var coefficientDerivatives: [[Double]]
    }
    private var sensitivity: Sensitivity?
    public private(set) var logDeterminant = 0.0
    public private(set) var iterations = 0

    /// The approximation's structures for `design`, the ordering of A
    /// analysed once.
    ///
    /// Throws `InputError` for a model with random slopes (not yet taken
    /// here) or without random terms (there is no
    /// integral to approximate: the model is a GLM, as lme4's glmer says
    /// "No random effects terms specified in formula"), and
    /// `NumericalFailure` should CHOLMOD fail to allocate or order A.
    /// The refusal of a term with slopes, which the Laplace fit does not
    /// take yet.
    static func slopesRefused(_ design: Design, _ term: RandomEffect) -> InputError {
        InputError(.unsupported,
                   "the empirical-Bayes (Laplace) fit takes random intercepts only so far, not the slopes of "
                      + "(\(term.columns.joined(separator: " + ")) | \(term.name)); the Gibbs sampler fits them",
                   file: design.source, column: term.name)
    }

    public init(design: Design) throws {
        guard !design.randomTerms.isEmpty else { throw LaplaceApproximation.noRandomTerms(design) }
        if let term = design.randomTerms.first(where: { !$0.isInterceptOnly }) {
            throw LaplaceApproximation.slopesRefused(design, term)
        }
        self.design = design
        let terms = design.randomTerms
        var offsets: [Int] = []
        var total = 0
        for t in terms { offsets.append(total); total += t.levelCount }
        self.offsets = offsets
        size = total
        // The pattern of A's lower triangle: the diagonal and, for every cell,
        // each pair of its levels in different terms.
        var columns = [Set<Int32>](repeating: [], count: total)
        for j in 0..<total { columns[j].insert(Int32(j)) }
        for i in 0..<design.cellCount {
            let levels = terms.indices.map { offsets[$0] + Int(terms[$0].levelOfCell[i]) }
            for a in 0..<levels.count {
                for b in 0..<levels.count where levels[a] > levels[b] {
                    columns[levels[b]].insert(Int32(levels[a]))
                }
            }
        }
        var starts: [Int32] = [0], rows: [Int32] = []
        var position: [[Int32: Int32]] = []
        for j in 0..<total {
            var map: [Int32: Int32] = [:]
            for r in columns[j].sorted() { map[r] = Int32(rows.count); rows.append(r) }
            position.append(map)
            starts.append(Int32(rows.count))
        }
        entries = rows.count
        columnStart = starts
        var diagonal: [Int32] = [], pairs: [Int32] = []
        for i in 0..<design.cellCount {
            let levels = terms.indices.map { offsets[$0] + Int(terms[$0].levelOfCell[i]) }
            diagonal.append(contentsOf: levels.map { position[$0][Int32($0)]! })
            for a in 0..<levels.count {
                for b in 0..<a {
                    let (hi, lo) = levels[a] > levels[b] ? (levels[a], levels[b]) : (levels[b], levels[a])
                    pairs.append(position[lo][Int32(hi)]!)
                }
            }
        }
        diagonalEntries = diagonal
        pairEntries = pairs
        levelIndex = terms.indices.map { k in terms[k].levelOfCell.map { Int32(offsets[k]) + $0 } }
        cholesky = try SparseCholesky(size: total, columnStarts: starts, rowIndices: rows)
        logChoose = design.logBinomialCoefficients
        modes = [Double](repeating: 0, count: total)
    }

    /// log L(β, σ) by the Laplace approximation, running PIRLS from the
    /// previous modes.
    public func logLikelihood(coefficients beta: [Double], standardDeviations sigma: [Double])
        throws(NumericalFailure) -> Double {
        try evaluate(coefficients: beta, standardDeviations: sigma, jointly: false).logLikelihood
    }

    /// What one evaluation leaves behind.
    public struct Evaluation: Sendable {
        /// The Laplace log-likelihood log p(y | û) − ‖û‖²/2 − ½ log det A(û).
        public var logLikelihood: Double
        /// The fixed effects: as given, or their joint mode with u.
        public var coefficients: [Double]
        /// For a joint evaluation, (Xᵀ W X − Bᵀ A⁻¹ B)⁻¹ with B = Λ Zᵀ W X at
        /// the mode (row-major p × p): the fixed effects' covariance
        /// conditional on σ (lme4's RX⁻¹ RX⁻ᵀ).
        public var fixedCovariance: [Double]
    }

    /// PIRLS at σ. With `jointly`, β moves with u (glmer's first stage,
    /// nAGQ = 0): Newton steps on (β, u) for the penalised log-likelihood,
    /// solved through the Schur complement S = XᵀWX − Bᵀ A⁻¹ B of A
    /// (B = ΛZᵀWX, p dense columns), and β's block of the determinant is
    /// left out of the value, as lme4 leaves it out of its nAGQ = 0
    /// deviance. Newton steps are halved until the penalised log-likelihood
    /// does not fall, and stop when the Newton decrement gᵀH⁻¹g is below
    /// 1e-20 relative — a tighter stop than glmer's, so that finite
    /// differences of the result (standard errors) are not noise.
    ///
    /// Throws `NumericalFailure`, saying at which σ, should A or the fixed
    /// effects' information not be positive definite (which, A being
    /// I plus a positive semi-definite matrix, takes weights or SDs that are
    /// not finite or a fixed-effect matrix beyond double precision).
    public func evaluate(coefficients start: [Double], standardDeviations sigma: [Double], jointly: Bool)
        throws(NumericalFailure) -> Evaluation {
        let n = design.cellCount, p = design.fixedCount, terms = design.randomTerms
        var beta = start
        /// Xβ, or Xv for a step v.
        func fixedPart(_ beta: [Double]) -> [Double] {
            var f = [Double](repeating: 0, count: n)
            if p == 0 { return f }
            design.fixed.withUnsafeBufferPointer { x in
                for i in 0..<n { var sum = 0.0; for j in 0..<p { sum += x[i * p + j] * beta[j] }; f[i] = sum }
            }
            return f
        }
        /// η = fixed + Σₖ σₖ u[level], μ = logistic(η) and the penalised
        /// log-likelihood log p(y | u) − ‖u‖²/2 (with the rows' coefficients).
        func point(_ u: [Double], _ fixed: [Double]) -> (eta: [Double], mu: [Double], value: Double) {
            var eta = fixed
            for k in terms.indices {
                let s = sigma[k]
                levelIndex[k].withUnsafeBufferPointer { index in
                    for i in 0..<n { eta[i] += s * u[Int(index[i])] }
                }
            }
            var mu = [Double](repeating: 0, count: n)
            var f = 0.0
            for i in 0..<n {
                let e = eta[i]
                // log(1 + e^η) and μ from one exponential of −|η|.
                let t = exp(-abs(e))
                let log1pe = max(e, 0) + log1p(t)
                mu[i] = e >= 0 ? 1 / (1 + t) : t / (1 + t)
                f += design.successes[i] * e - design.trials[i] * log1pe + logChoose[i]
            }
            var squares = 0.0
            for v in u { squares += v * v }
            return (eta, mu, f - 0.5 * squares)
        }
        var u = modes
        var fixed = fixedPart(beta)
        var current = point(u, fixed)
        if let sensitivity, sensitivity.jointly == jointly {
            let coordinates = jointly ? sigma : sigma + beta
            var predicted = sensitivity.modes, predictedBeta = jointly ? sensitivity.coefficients : beta
            for (index, value) in coordinates.enumerated() {
                let change = value - sensitivity.point[index]
                if change == 0 { continue }
                for r in 0..<size { predicted[r] += sensitivity.derivatives[index][r] * change }
                if jointly { for j in 0..<p { predictedBeta[j] += sensitivity.coefficientDerivatives[index][j] * change } }
            }
            let predictedFixed = jointly ? fixedPart(predictedBeta) : fixed
            let candidate = point(predicted, predictedFixed)
            if candidate.value > current.value {
                u = predicted; beta = predictedBeta; fixed = predictedFixed; current = candidate
            }
        }
        var covariance: [Double] = []
        var factorIsCurrent = false
        iterations = 0
        for _ in 0..<200 {
            iterations += 1
            // Gradient and A = ΛᵀZᵀWZΛ + I at u; for the joint step also
            // Xᵀr, B = ΛZᵀWX and XᵀWX.
            let (values, residual, weight) = assemble(mu: current.mu, sigma: sigma)
            var gradient = u.map { -$0 }
            for k in terms.indices {
                let s = sigma[k]
                levelIndex[k].withUnsafeBufferPointer { index in
                    for i in 0..<n { gradient[Int(index[i])] += s * residual[i] }
                }
            }
            try factorize(values, sigma: sigma)
            var stepU: [Double], stepBeta = [Double](repeating: 0, count: p)
            var decrement: Double
            if jointly && p > 0 {
                var fixedGradient = [Double](repeating: 0, count: p)
                for i in 0..<n { for j in 0..<p { fixedGradient[j] += design.fixed[i * p + j] * residual[i] } }
                let solution = try jointSolve(weight: weight, sigma: sigma, gradient, fixedGradient)
                covariance = solution.covariance
                stepU = solution.u
                stepBeta = solution.beta
                decrement = dot(gradient, stepU) + dot(fixedGradient, stepBeta)
            } else {
                stepU = cholesky.solve(gradient)
                decrement = dot(gradient, stepU)
            }
            // Step halving until the penalised log-likelihood does not fall.
            let fixedStep = jointly ? fixedPart(stepBeta) : []
            var scale = 1.0
            var accepted = false
            while scale > 1e-10 {
                let candidate = zip(u, stepU).map { $0 + scale * $1 }
                let candidateFixed = jointly ? zip(fixed, fixedStep).map { $0 + scale * $1 } : fixed
                let next = point(candidate, candidateFixed)
                if next.value >= current.value - 1e-12 * abs(current.value) {
                    u = candidate; fixed = candidateFixed; current = next
                    if jointly { beta = zip(beta, stepBeta).map { $0 + scale * $1 } }
                    accepted = true
                    break
                }
                scale /= 2
            }
            // Newton's last step leaves the mode accurate to O(decrement²).
            if !accepted || (scale == 1 && decrement < 1e-20 * max(1, abs(current.value))) {
                factorIsCurrent = !accepted
                break
            }
        }
        // A at the mode, for its determinant.
        if !factorIsCurrent { try factorize(assemble(mu: current.mu, sigma: sigma).values, sigma: sigma) }
        logDeterminant = cholesky.logDeterminant
        modes = u
        return Evaluation(logLikelihood: current.value - 0.5 * logDeterminant, coefficients: beta,
                          fixedCovariance: covariance)
    }

    /// The deviance D = −2 log L(β, σ) of the Laplace approximation and its
    /// exact gradient over (σ, β), from one PIRLS evaluation, the entries of
    /// A⁻¹ on A's pattern (the sparse inverse subset) and one more solve.
    ///
    /// With g(u) = log p(y | u) − ‖u‖²/2 maximised at û, vᵢ = ΛZᵀeᵢ (σₖ at
    /// cell i's level aₖ of each term k), A = Σᵢ wᵢ vᵢvᵢᵀ + I and
    /// D = −2 g(û) + log det A:
    ///
    ///     dD/dψ = −2 ∂g/∂ψ + Σᵢ w′ᵢ hᵢ dηᵢ/dψ + 2 Σᵢ wᵢ vᵢᵀA⁻¹ ∂vᵢ/∂ψ,
    ///
    /// by the envelope theorem for g (û is stationary) and
    /// d log det A = tr(A⁻¹ dA), where hᵢ = vᵢᵀA⁻¹vᵢ, wᵢ = nᵢμᵢ(1 − μᵢ),
    /// w′ᵢ = wᵢ(1 − 2μᵢ), and the total dηᵢ/dψ = ∂ηᵢ/∂ψ + (ZΛ dû/dψ)ᵢ with
    /// dû/dψ = A⁻¹ ∂ψ(ΛZᵀr − u) by the implicit function theorem
    /// (r = y − nμ). The implicit part Σᵢ w′ᵢhᵢ(ZΛ dû/dψ)ᵢ = ⟨t, ∂ψ(ΛZᵀr)⟩
    /// with t = A⁻¹ ΛZᵀ(w′∘h) needs one solve for all parameters. Written
    /// out, with cᵢₖ = (A⁻¹vᵢ)_{aₖ} and sᵢ = (ZΛt)ᵢ:
    ///
    ///     dD/dσₖ = Σᵢ [−2rᵢûₐₖ + 2wᵢcᵢₖ + w′ᵢhᵢûₐₖ + rᵢtₐₖ − wᵢûₐₖsᵢ],
    ///     dD/dβⱼ = Σᵢ xᵢⱼ [−2rᵢ + w′ᵢhᵢ − wᵢsᵢ].
    ///
    /// (Bates et al. 2015 give the deviance; the gradient is ours, checked
    /// against central differences in the tests.)
    ///
    /// With `jointly`, β is the joint mode with u (glmer's first stage, whose
    /// deviance leaves β's block out of the determinant): the gradient is over
    /// σ alone, β's change enters dη through the joint system's solve, and
    /// the fixed effects used are returned.
    public func devianceAndGradient(coefficients start: [Double], standardDeviations sigma: [Double],
                                    jointly: Bool = false)
        throws(NumericalFailure) -> (deviance: Double, gradient: [Double], coefficients: [Double]) {
        let evaluation = try evaluate(coefficients: start, standardDeviations: sigma, jointly: jointly)
        let value = evaluation.logLikelihood, beta = evaluation.coefficients
        let n = design.cellCount, p = design.fixedCount, k = design.randomTerms.count
        let pairCount = k * (k - 1) / 2
        let inverse = cholesky.inverseOnPattern()
        let u = modes
        var eta = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var e = 0.0
            for j in 0..<p { e += design.fixed[i * p + j] * beta[j] }
            for t in 0..<k { e += sigma[t] * u[Int(levelIndex[t][i])] }
            eta[i] = e
        }
        var mu = [Double](repeating: 0, count: n), leverage = [Double](repeating: 0, count: n)
        var q = [Double](repeating: 0, count: size)
        var gradientSigma = [Double](repeating: 0, count: k), gradientBeta = [Double](repeating: 0, count: p)
        var c = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let m = 1 / (1 + exp(-eta[i]))
            mu[i] = m
            let r = design.successes[i] - design.trials[i] * m
            let w = design.trials[i] * m * (1 - m), wPrime = w * (1 - 2 * m)
            // c = A⁻¹vᵢ at the cell's levels, h = vᵢᵀA⁻¹vᵢ.
            for a in 0..<k { c[a] = sigma[a] * inverse[Int(diagonalEntries[i * k + a])] }
            var pair = i * pairCount
            for a in 0..<k {
                for b in 0..<a {
                    let z = inverse[Int(pairEntries[pair])]
                    c[a] += sigma[b] * z
                    c[b] += sigma[a] * z
                    pair += 1
                }
            }
            var h = 0.0
            for a in 0..<k { h += sigma[a] * c[a] }
            leverage[i] = h
            for a in 0..<k {
                let level = Int(levelIndex[a][i])
                gradientSigma[a] += -2 * r * u[level] + 2 * w * c[a] + wPrime * h * u[level]
                q[level] += sigma[a] * wPrime * h
            }
            for j in 0..<p { gradientBeta[j] += design.fixed[i * p + j] * (-2 * r + wPrime * h) }
        }
        // t = H⁻¹(ΛZᵀ(w′∘h), Xᵀ(w′∘h)) for the joint mode, A⁻¹ΛZᵀ(w′∘h) otherwise;
        // s = ZΛt (+ Xt_β).
        var t: [Double], tBeta = [Double](repeating: 0, count: p)
        if jointly && p > 0 {
            var weight = [Double](repeating: 0, count: n), qBeta = [Double](repeating: 0, count: p)
            for i in 0..<n {
                weight[i] = design.trials[i] * mu[i] * (1 - mu[i])
                let wPrime = weight[i] * (1 - 2 * mu[i])
                for j in 0..<p { qBeta[j] += design.fixed[i * p + j] * wPrime * leverage[i] }
            }
            let solution = try jointSolve(weight: weight, sigma: sigma, q, qBeta)
            t = solution.u
            tBeta = solution.beta
        } else {
            t = cholesky.solve(q)
        }
        for i in 0..<n {
            let m = mu[i]
            let r = design.successes[i] - design.trials[i] * m
            let w = design.trials[i] * m * (1 - m)
            var s = 0.0
            for a in 0..<k { s += sigma[a] * t[Int(levelIndex[a][i])] }
            for j in 0..<p { s += design.fixed[i * p + j] * tBeta[j] }
            for a in 0..<k {
                let level = Int(levelIndex[a][i])
                gradientSigma[a] += r * t[level] - w * u[level] * s
            }
            for j in 0..<p { gradientBeta[j] -= design.fixed[i * p + j] * w * s }
        }
        do {
            // dû/dψ = A⁻¹ ∂ψ(ΛZᵀr − u): for σₖ, Σ rᵢ at term k's levels less
            // ΛZᵀW ∂η/∂σₖ; for βⱼ, −ΛZᵀW xⱼ. For the joint mode, over σ by
            // the joint system, with ∂σₖ(Xᵀr) = −XᵀW ∂η/∂σₖ.
            var right = [[Double]](repeating: [Double](repeating: 0, count: size), count: k + p)
            var rightBeta = [[Double]](repeating: [Double](repeating: 0, count: p), count: k)
            var weights = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let m = mu[i]
                let r = design.successes[i] - design.trials[i] * m
                let w = design.trials[i] * m * (1 - m)
                for a in 0..<k {
                    let level = Int(levelIndex[a][i])
                    right[a][level] += r
                    let change = w * u[level]
                    for b in 0..<k { right[a][Int(levelIndex[b][i])] -= sigma[b] * change }
                    for j in 0..<p { rightBeta[a][j] -= design.fixed[i * p + j] * change }
                }
                weights[i] = w
                for j in 0..<p {
                    let change = w * design.fixed[i * p + j]
                    for b in 0..<k { right[k + j][Int(levelIndex[b][i])] -= sigma[b] * change }
                }
            }
            if jointly && p > 0 {
                var derivatives: [[Double]] = [], coefficientDerivatives: [[Double]] = []
                for a in 0..<k {
                    let solution = try jointSolve(weight: weights, sigma: sigma, right[a], rightBeta[a])
                    derivatives.append(solution.u)
                    coefficientDerivatives.append(solution.beta)
                }
                sensitivity = Sensitivity(jointly: true, point: sigma, modes: u, coefficients: beta,
                                          derivatives: derivatives, coefficientDerivatives: coefficientDerivatives)
            } else {
                sensitivity = Sensitivity(jointly: jointly, point: jointly ? sigma : sigma + beta, modes: u,
                                          coefficients: beta,
                                          derivatives: right.prefix(jointly ? k : k + p).map { cholesky.solve($0) },
                                          coefficientDerivatives: [])
            }
        }
        return (-2 * value, jointly ? gradientSigma : gradientSigma + gradientBeta, beta)
    }

    /// Solves the joint Newton system of (u, β), [A B; Bᵀ C] [x; y] = [g; f]
    /// with B = ΛZᵀWX and C = XᵀWX, through the Schur complement
    /// S = C − BᵀA⁻¹B on the current factor of A: y = S⁻¹(f − BᵀA⁻¹g),
    /// x = A⁻¹(g − By). Also returns S⁻¹ (row-major p × p).
    private func jointSolve(weight: [Double], sigma: [Double], _ g: [Double], _ f: [Double])
        throws(NumericalFailure) -> (u: [Double], beta: [Double], covariance: [Double]) {
        let n = design.cellCount, p = design.fixedCount, x = design.fixed
        var b = [[Double]](repeating: [Double](repeating: 0, count: size), count: p)
        var c = [Double](repeating: 0, count: p * p)
        for i in 0..<n {
            for j in 0..<p {
                let xj = x[i * p + j]
                for l in 0...j { c[j * p + l] += xj * weight[i] * x[i * p + l] }
                for k in levelIndex.indices { b[j][Int(levelIndex[k][i])] += sigma[k] * weight[i] * xj }
            }
        }
        for j in 0..<p { for l in 0..<j { c[l * p + j] = c[j * p + l] } }
        let aInverseB = b.map { cholesky.solve($0) }
        let aInverseG = cholesky.solve(g)
        var schur = c
        var reduced = f
        for j in 0..<p {
            for l in 0..<p { schur[j * p + l] -= dot(b[j], aInverseB[l]) }
            reduced[j] -= dot(b[j], aInverseG)
        }
        let covariance: [Double]
        do {
            covariance = try DenseSymmetric.inverse(schur, size: p)
        } catch {
            throw NumericalFailure("PIRLS at \(LaplaceApproximation.describe(sigma, design)): the fixed effects' "
                                   + "information given the SDs, XᵀWX − BᵀA⁻¹B: " + error.message,
                                   remedies: [.rescaledCovariates, .simplerModel])
        }
        var y = [Double](repeating: 0, count: p)
        for j in 0..<p { for l in 0..<p { y[j] += covariance[j * p + l] * reduced[l] } }
        var solution = aInverseG
        for j in 0..<p { for r in 0..<size { solution[r] -= aInverseB[j][r] * y[j] } }
        return (solution, y, covariance)
    }

    /// Factorises A with these values, saying at which σ should it fail.
    private func factorize(_ values: [Double], sigma: [Double]) throws(NumericalFailure) {
        do {
            try cholesky.factorize(values: values)
        } catch {
            throw NumericalFailure("PIRLS at \(LaplaceApproximation.describe(sigma, design)): A = ΛᵀZᵀWZΛ + I: "
                                   + error.message, remedies: error.remedies.isEmpty
                                       ? [.rescaledCovariates, .simplerModel] : error.remedies)
        }
    }

    /// "sd(client) = 0.72, sd(stylist) = 1e+30", for messages.
    static func describe(_ sigma: [Double], _ design: Design) -> String {
        zip(design.randomTerms, sigma).map { "sd(\($0.name)) = \(String(format: "%.4g", $1))" }
            .joined(separator: ", ")
    }

    /// The refusal of a model without random terms.
    static func noRandomTerms(_ design: Design) -> InputError {
        InputError(.unsupported, "the model '\(design.formula)' has no random-effect terms, so there is no "
                   + "empirical-Bayes (Laplace) fit of it (lme4's glmer: \"No random effects terms specified in "
                   + "formula\"); it is a logistic regression: fit it by the Bayesian sampler, or as a GLM "
                   + "(R's glm)", setting: "formula")
    }

    /// The values of A = ΛᵀZᵀWZΛ + I on the pattern, the working residuals
    /// rᵢ = yᵢ − nᵢμᵢ and weights wᵢ = nᵢμᵢ(1 − μᵢ) at μ.
    private func assemble(mu: [Double], sigma: [Double]) -> (values: [Double], residual: [Double], weight: [Double]) {
        let n = design.cellCount, k = design.randomTerms.count
        var values = [Double](repeating: 0, count: entries)
        var residual = [Double](repeating: 0, count: n), weight = [Double](repeating: 0, count: n)
        for j in 0..<size { values[Int(diagonalIndex(j))] = 1 }
        values.withUnsafeMutableBufferPointer { values in
            diagonalEntries.withUnsafeBufferPointer { diagonal in
                pairEntries.withUnsafeBufferPointer { pairs in
                    let pairCount = k * (k - 1) / 2
                    for i in 0..<n {
                        let m = mu[i]
                        residual[i] = design.successes[i] - design.trials[i] * m
                        let w = design.trials[i] * m * (1 - m)
                        weight[i] = w
                        var pair = i * pairCount
                        for a in 0..<k {
                            values[Int(diagonal[i * k + a])] += sigma[a] * sigma[a] * w
                            for b in 0..<a { values[Int(pairs[pair])] += sigma[a] * sigma[b] * w; pair += 1 }
                        }
                    }
                }
            }
        }
        return (values, residual, weight)
    }

    /// The conditional mean μᵢ = 1/(1 + e^{−ηᵢ}) of each cell at the current
    /// modes, β and σ.
    public func fittedProbabilities(coefficients beta: [Double], standardDeviations sigma: [Double]) -> [Double] {
        let n = design.cellCount, p = design.fixedCount
        return (0..<n).map { i in
            var eta = 0.0
            for j in 0..<p { eta += design.fixed[i * p + j] * beta[j] }
            for (k, t) in design.randomTerms.enumerated() { eta += sigma[k] * modes[offsets[k] + Int(t.levelOfCell[i])] }
            return 1 / (1 + exp(-eta))
        }
    }

    /// Index in the pattern of column j's diagonal entry: the first of the
    /// column, whose rows are sorted and all ≥ j.
    private func diagonalIndex(_ j: Int) -> Int32 { columnStart[j] }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}
