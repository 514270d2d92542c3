import Foundation

/// The Laplace approximation of a logistic mixed model's marginal
/// likelihood at given fixed effects β and relative covariance factor Λθ,
/// as lme4's `glmer` computes it with nAGQ = 1 (Bates, Mächler, Bolker &
/// Walker 2015, JSS 67(1), §2–3 and §5; lme4's PIRLS).
///
/// Term k with qₖ columns (`RandomEffect.columns`) has a lower-triangular
/// qₖ × qₖ factor Lₖ, and each of its levels l a spherical qₖ-vector
/// uₖₗ ~ N(0, I) with effects bₖₗ = Lₖuₖₗ, so that Cov(bₖₗ) = LₖLₖᵀ. θ lists
/// the entries of every Lₖ, term by term, column by column of the lower
/// triangle — lme4's θ (for (1 + x | g): L₁₁, L₂₁, L₂₂). A random intercept
/// has Lₖ = σₖ, its standard deviation. With zᵢₖ the term's column values
/// at cell i and aₖ(i) the cell's level,
///
///     ηᵢ = xᵢᵀβ + Σₖ zᵢₖᵀ Lₖ uₖ,aₖ(i) = xᵢᵀβ + vᵢᵀu,
///
/// vᵢ = ΛᵀZᵀeᵢ having the entries Lₖᵀzᵢₖ at term k's level aₖ(i) ("slots",
/// Σₖ qₖ per cell). Penalised iteratively reweighted least squares finds
/// the mode û of log p(y | u) − ‖u‖²/2 by Newton steps with the sparse
/// matrix A = ΛᵀZᵀWZΛ + I = Σᵢ wᵢvᵢvᵢᵀ + I (W = diag nᵢμᵢ(1 − μᵢ)),
/// factorised by CHOLMOD with the ordering analysed once. Then
///
///     log L(β, θ) ≈ log p(y | û) − ‖û‖²/2 − ½ log det A(û),
///
/// with the binomial coefficients of the data's rows included (none for 0/1
/// rows, however the rows are aggregated into cells), which is what `logLik`
/// reports for a `glmer` fit. The likelihood depends on θ through LₖLₖᵀ
/// only: any real θ is admissible, and flipping the sign of a column of Lₖ
/// (with its effects) changes nothing.
public final class LaplaceApproximation {
    public let design: Design
    let cholesky: SparseCholesky
    /// Offset of each term's effects in u; level l's column c of term k is
    /// at offsets[k] + l·qₖ + c (lme4's order within a term).
    let offsets: [Int]
    let size: Int
    /// Slots per cell, Σₖ qₖ, and the term and column of each.
    let slotCount: Int
    let slotTerm: [Int]
    let slotColumn: [Int]
    /// For each θ index: the slot whose vᵢ entry it multiplies into
    /// (term k, column c of Lₖ) and the slot whose column value it is
    /// multiplied by (term k, row r): v_{i,slot(k,c)} = Σ_{r ≥ c} Lₖ[r][c] zᵢₖ[r].
    let thetaSlot: [Int]
    let thetaValueSlot: [Int]
    /// Which θ entries are diagonal entries of their Lₖ (lme4's lower bound 0).
    public let thetaIsDiagonal: [Bool]
    /// Per cell (flat, cell-major, `slotCount` each): the index in u of each
    /// slot's effect and the slot's column value zᵢₖ[c] (1 for an intercept).
    let slotPosition: [Int32]
    let slotValue: [Double]
    /// For each cell (flat, cell-major), the indices into A's values (in
    /// the factorisation's storage order, `SparseCholesky.storagePosition`)
    /// of its slots' diagonal entries and of their off-diagonal pairs
    /// (a > b, slot order).
    let diagonalEntries: [Int32]
    let pairEntries: [Int32]
    /// Per term, per level, the indices into A's values of the level's
    /// block's off-diagonal entries (c₁ > c₂, row by row): for the
    /// conditional covariances.
    let blockEntries: [[Int32]]
    let entries: Int
    /// The index into A's values of each diagonal entry.
    let identityEntries: [Int32]
    let logChoose: [Double]

    public private(set) var modes: [Double]
    /// From the last gradient: the point ψ — (θ, β), or θ for the joint
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

    /// The number of θ entries: Σₖ qₖ(qₖ + 1)/2.
    public var thetaCount: Int { thetaSlot.count }

    /// θ with every Lₖ the identity: lme4's start.
    public var initialTheta: [Double] { thetaIsDiagonal.map { $0 ? 1 : 0 } }

    /// The approximation's structures for `design`, the ordering of A
    /// analysed once.
    ///
    /// Throws `InputError` for a model without random terms (there is no
    /// integral to approximate: the model is a GLM, as lme4's glmer says
    /// "No random effects terms specified in formula"), and
    /// `NumericalFailure` should CHOLMOD fail to allocate or order A.
    public init(design: Design) throws {
        guard !design.randomTerms.isEmpty else { throw LaplaceApproximation.noRandomTerms(design) }
        self.design = design
        let terms = design.randomTerms
        var offsets: [Int] = []
        var total = 0
        var slotTerm: [Int] = [], slotColumn: [Int] = [], firstSlot: [Int] = []
        var thetaSlot: [Int] = [], thetaValueSlot: [Int] = [], thetaIsDiagonal: [Bool] = []
        for (k, t) in terms.enumerated() {
            offsets.append(total)
            total += t.levelCount * t.dimension
            firstSlot.append(slotTerm.count)
            for c in 0..<t.dimension { slotTerm.append(k); slotColumn.append(c) }
            for c in 0..<t.dimension {
                for r in c..<t.dimension {
                    thetaSlot.append(firstSlot[k] + c)
                    thetaValueSlot.append(firstSlot[k] + r)
                    thetaIsDiagonal.append(r == c)
                }
            }
        }
        self.offsets = offsets
        size = total
        let slots = slotTerm.count
        slotCount = slots
        self.slotTerm = slotTerm
        self.slotColumn = slotColumn
        self.thetaSlot = thetaSlot
        self.thetaValueSlot = thetaValueSlot
        self.thetaIsDiagonal = thetaIsDiagonal
        let n = design.cellCount
        var positions = [Int32](repeating: 0, count: n * slots)
        var values = [Double](repeating: 1, count: n * slots)
        for i in 0..<n {
            for a in 0..<slots {
                let k = slotTerm[a], c = slotColumn[a], t = terms[k]
                positions[i * slots + a] = Int32(offsets[k] + Int(t.levelOfCell[i]) * t.dimension + c)
                values[i * slots + a] = t.value(cell: i, column: c)
            }
        }
        slotPosition = positions
        slotValue = values
        // The pattern of A's lower triangle: the diagonal and, for every
        // cell, each pair of its slots (whatever their values: the pattern
        // is structural, as lme4's).
        var columns = [Set<Int32>](repeating: [], count: total)
        for j in 0..<total { columns[j].insert(Int32(j)) }
        for i in 0..<n {
            let cell = positions[(i * slots)..<((i + 1) * slots)]
            for a in cell { for b in cell where a > b { columns[Int(b)].insert(a) } }
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
        let cholesky = try SparseCholesky(size: total, columnStarts: starts, rowIndices: rows)
        self.cholesky = cholesky
        let stored = cholesky.storagePosition
        identityEntries = (0..<total).map { stored[Int(starts[$0])] }   // the diagonal: first in each column
        var diagonal: [Int32] = [], pairs: [Int32] = []
        diagonal.reserveCapacity(n * slots)
        pairs.reserveCapacity(n * slots * (slots - 1) / 2)
        for i in 0..<n {
            let cell = Array(positions[(i * slots)..<((i + 1) * slots)])
            diagonal.append(contentsOf: cell.map { stored[Int(position[Int($0)][$0]!)] })
            for a in 0..<slots {
                for b in 0..<a {
                    let (hi, lo) = cell[a] > cell[b] ? (cell[a], cell[b]) : (cell[b], cell[a])
                    pairs.append(stored[Int(position[Int(lo)][hi]!)])
                }
            }
        }
        diagonalEntries = diagonal
        pairEntries = pairs
        blockEntries = terms.indices.map { k in
            let q = terms[k].dimension
            var block: [Int32] = []
            for l in 0..<terms[k].levelCount {
                let base = offsets[k] + l * q
                for c1 in 0..<q { for c2 in 0..<c1 { block.append(stored[Int(position[base + c2][Int32(base + c1)]!)]) } }
            }
            return block
        }
        logChoose = design.logBinomialCoefficients
        modes = [Double](repeating: 0, count: total)
    }

    /// The pattern of Λ (b = Λu) as lme4 lays it out: for every term k,
    /// level l and entry Lₖ[r][c] (r ≥ c), Λ's row offsets[k] + l·qₖ + r,
    /// column offsets[k] + l·qₖ + c and the entry's index in θ — lme4's
    /// `Lambdat` transposed, with `Lind` the θ indices (for checking the
    /// layout against `lme4::glFormula`; the fit itself never forms Λ).
    public func relativeCovarianceFactorPattern() -> [(row: Int, column: Int, theta: Int)] {
        var entries: [(row: Int, column: Int, theta: Int)] = []
        var first = 0
        for (k, term) in design.randomTerms.enumerated() {
            let q = term.dimension
            for l in 0..<term.levelCount {
                var m = first
                let base = offsets[k] + l * q
                for c in 0..<q { for r in c..<q { entries.append((base + r, base + c, m)); m += 1 } }
            }
            first += q * (q + 1) / 2
        }
        return entries
    }

    /// Each cell's vᵢ entries (cell-major, `slotCount` each) at θ.
    func slotWeights(_ theta: [Double]) -> [Double] {
        let n = design.cellCount, slots = slotCount
        var v = [Double](repeating: 0, count: n * slots)
        for m in theta.indices {
            let a = thetaSlot[m], r = thetaValueSlot[m], value = theta[m]
            if value == 0 { continue }
            for i in 0..<n { v[i * slots + a] += value * slotValue[i * slots + r] }
        }
        return v
    }

    /// Lₖ of term k at θ (row-major qₖ × qₖ, lower triangular).
    public func factor(of k: Int, theta: [Double]) -> [Double] {
        let q = design.randomTerms[k].dimension
        var l = [Double](repeating: 0, count: q * q)
        var m = design.randomTerms[..<k].reduce(0) { $0 + $1.dimension * ($1.dimension + 1) / 2 }
        for c in 0..<q { for r in c..<q { l[r * q + c] = theta[m]; m += 1 } }
        return l
    }

    /// θ with each column of each Lₖ signed so that its diagonal entry is
    /// ≥ 0 (lme4's constraint; the likelihood and Σ unchanged), and the
    /// modes û flipped with them.
    public func normalized(_ theta: [Double]) -> [Double] {
        var result = theta
        var flips = [Bool](repeating: false, count: slotCount)
        for m in theta.indices where thetaIsDiagonal[m] && theta[m] < 0 { flips[thetaSlot[m]] = true }
        for m in theta.indices where flips[thetaSlot[m]] { result[m] = -theta[m] }
        if flips.contains(true) {
            let terms = design.randomTerms
            for a in 0..<slotCount where flips[a] {
                let k = slotTerm[a], q = terms[k].dimension
                for l in 0..<terms[k].levelCount { modes[offsets[k] + l * q + slotColumn[a]].negate() }
            }
            sensitivity = nil
        }
        return result
    }

    /// log L(β, θ) by the Laplace approximation, running PIRLS from the
    /// previous modes.
    public func logLikelihood(coefficients beta: [Double], theta: [Double]) throws(NumericalFailure) -> Double {
        try evaluate(coefficients: beta, theta: theta, jointly: false).logLikelihood
    }

    /// What one evaluation leaves behind.
    public struct Evaluation: Sendable {
        /// The Laplace log-likelihood log p(y | û) − ‖û‖²/2 − ½ log det A(û).
        public var logLikelihood: Double
        /// The fixed effects: as given, or their joint mode with u.
        public var coefficients: [Double]
        /// For a joint evaluation, (Xᵀ W X − Bᵀ A⁻¹ B)⁻¹ with B = ΛᵀZᵀWX at
        /// the mode (row-major p × p): the fixed effects' covariance
        /// conditional on θ (lme4's RX⁻¹ RX⁻ᵀ).
        public var fixedCovariance: [Double]
    }

    /// PIRLS at θ. With `jointly`, β moves with u (glmer's first stage,
    /// nAGQ = 0): Newton steps on (β, u) for the penalised log-likelihood,
    /// solved through the Schur complement S = XᵀWX − Bᵀ A⁻¹ B of A
    /// (B = ΛᵀZᵀWX, p dense columns), and β's block of the determinant is
    /// left out of the value, as lme4 leaves it out of its nAGQ = 0
    /// deviance. Newton steps are halved until the penalised log-likelihood
    /// does not fall, and stop when the Newton decrement gᵀH⁻¹g is below
    /// 1e-20 relative — a tighter stop than glmer's, so that finite
    /// differences of the result (standard errors) are not noise.
    ///
    /// Throws `NumericalFailure`, saying at which θ, should A or the fixed
    /// effects' information not be positive definite (which, A being
    /// I plus a positive semi-definite matrix, takes weights or θ that are
    /// not finite or a fixed-effect matrix beyond double precision).
    public func evaluate(coefficients start: [Double], theta: [Double], jointly: Bool)
        throws(NumericalFailure) -> Evaluation {
        let n = design.cellCount, p = design.fixedCount, slots = slotCount
        let v = slotWeights(theta)
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
        /// η = fixed + vᵢᵀu, μ = logistic(η) and the penalised
        /// log-likelihood log p(y | u) − ‖u‖²/2 (with the rows' coefficients).
        func point(_ u: [Double], _ fixed: [Double]) -> (eta: [Double], mu: [Double], value: Double) {
            var eta = fixed
            design.addOffsets(to: &eta)
            slotPosition.withUnsafeBufferPointer { position in
                for i in 0..<n {
                    var e = 0.0
                    for a in (i * slots)..<((i + 1) * slots) { e += v[a] * u[Int(position[a])] }
                    eta[i] += e
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
            for value in u { squares += value * value }
            return (eta, mu, f - 0.5 * squares)
        }
        var u = modes
        var fixed = fixedPart(beta)
        var current = point(u, fixed)
        if let sensitivity, sensitivity.jointly == jointly {
            let coordinates = jointly ? theta : theta + beta
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
            // Gradient ΛᵀZᵀr − u and A = ΛᵀZᵀWZΛ + I at u; for the joint
            // step also Xᵀr, B = ΛᵀZᵀWX and XᵀWX.
            let (values, residual, weight) = assemble(mu: current.mu, v: v)
            var gradient = u.map { -$0 }
            for i in 0..<n {
                let r = residual[i]
                for a in (i * slots)..<((i + 1) * slots) { gradient[Int(slotPosition[a])] += v[a] * r }
            }
            try factorize(values, theta: theta)
            var stepU: [Double], stepBeta = [Double](repeating: 0, count: p)
            var decrement: Double
            if jointly && p > 0 {
                var fixedGradient = [Double](repeating: 0, count: p)
                for i in 0..<n { for j in 0..<p { fixedGradient[j] += design.fixed[i * p + j] * residual[i] } }
                let system = try jointSystem(weight: weight, v: v, theta: theta)
                let solution = solve(system, gradient, fixedGradient)
                covariance = system.covariance
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
        if !factorIsCurrent { try factorize(assemble(mu: current.mu, v: v).values, theta: theta) }
        logDeterminant = cholesky.logDeterminant
        modes = u
        return Evaluation(logLikelihood: current.value - 0.5 * logDeterminant, coefficients: beta,
                          fixedCovariance: covariance)
    }

    /// The deviance D = −2 log L(β, θ) of the Laplace approximation and its
    /// exact gradient over (θ, β), from one PIRLS evaluation, the entries of
    /// A⁻¹ on A's pattern (the sparse inverse subset) and one more solve.
    ///
    /// With g(u) = log p(y | u) − ‖u‖²/2 maximised at û, vᵢ = ΛᵀZᵀeᵢ,
    /// A = Σᵢ wᵢ vᵢvᵢᵀ + I and D = −2 g(û) + log det A:
    ///
    ///     dD/dψ = −2 ∂g/∂ψ + Σᵢ w′ᵢ hᵢ dηᵢ/dψ + 2 Σᵢ wᵢ vᵢᵀA⁻¹ ∂vᵢ/∂ψ,
    ///
    /// by the envelope theorem for g (û is stationary) and
    /// d log det A = tr(A⁻¹ dA), where hᵢ = vᵢᵀA⁻¹vᵢ, wᵢ = nᵢμᵢ(1 − μᵢ),
    /// w′ᵢ = wᵢ(1 − 2μᵢ), and the total dηᵢ/dψ = ∂ηᵢ/∂ψ + (ZΛ dû/dψ)ᵢ with
    /// dû/dψ = A⁻¹ ∂ψ(ΛᵀZᵀr − u) by the implicit function theorem
    /// (r = y − nμ). The implicit part Σᵢ w′ᵢhᵢ(ZΛ dû/dψ)ᵢ = ⟨t, ∂ψ(ΛᵀZᵀr)⟩
    /// with t = A⁻¹ ΛᵀZᵀ(w′∘h) needs one solve for all parameters.
    ///
    /// θₘ = Lₖ[r][c] enters only vᵢ's slot a = (k, c), with ∂vᵢₐ/∂θₘ = zᵢₖ[r]
    /// and ∂ηᵢ/∂θₘ = zᵢₖ[r] ûₐ (ûₐ the slot's effect). Written out, with
    /// cᵢₐ = (A⁻¹vᵢ)ₐ and sᵢ = (ZΛt)ᵢ:
    ///
    ///     dD/dθₘ = Σᵢ zᵢₖ[r] [−2rᵢûₐ + 2wᵢcᵢₐ + w′ᵢhᵢûₐ + rᵢtₐ − wᵢûₐsᵢ],
    ///     dD/dβⱼ = Σᵢ xᵢⱼ [−2rᵢ + w′ᵢhᵢ − wᵢsᵢ].
    ///
    /// (Bates et al. 2015 give the deviance; the gradient is ours, checked
    /// against central differences in the tests.)
    ///
    /// With `jointly`, β is the joint mode with u (glmer's first stage, whose
    /// deviance leaves β's block out of the determinant): the gradient is over
    /// θ alone, β's change enters dη through the joint system's solve, and
    /// the fixed effects used are returned.
    public func devianceAndGradient(coefficients start: [Double], theta: [Double], jointly: Bool = false)
        throws(NumericalFailure) -> (deviance: Double, gradient: [Double], coefficients: [Double]) {
        let evaluation = try evaluate(coefficients: start, theta: theta, jointly: jointly)
        let value = evaluation.logLikelihood, beta = evaluation.coefficients
        let n = design.cellCount, p = design.fixedCount, slots = slotCount, count = thetaCount
        let pairCount = slots * (slots - 1) / 2
        let v = slotWeights(theta)
        let inverse = cholesky.inverseOnPattern()
        let u = modes
        var mu = [Double](repeating: 0, count: n), leverage = [Double](repeating: 0, count: n)
        var q = [Double](repeating: 0, count: size)
        var perSlot = [Double](repeating: 0, count: n * slots)
        var gradientBeta = [Double](repeating: 0, count: p)
        var c = [Double](repeating: 0, count: slots)
        for i in 0..<n {
            let base = i * slots
            var e = design.offset(i)
            for j in 0..<p { e += design.fixed[i * p + j] * beta[j] }
            for a in 0..<slots { e += v[base + a] * u[Int(slotPosition[base + a])] }
            let m = 1 / (1 + exp(-e))
            mu[i] = m
            let r = design.successes[i] - design.trials[i] * m
            let w = design.trials[i] * m * (1 - m), wPrime = w * (1 - 2 * m)
            // c = A⁻¹vᵢ at the cell's slots, h = vᵢᵀA⁻¹vᵢ.
            for a in 0..<slots { c[a] = v[base + a] * inverse[Int(diagonalEntries[base + a])] }
            var pair = i * pairCount
            for a in 0..<slots {
                for b in 0..<a {
                    let z = inverse[Int(pairEntries[pair])]
                    c[a] += v[base + b] * z
                    c[b] += v[base + a] * z
                    pair += 1
                }
            }
            var h = 0.0
            for a in 0..<slots { h += v[base + a] * c[a] }
            leverage[i] = h
            for a in 0..<slots {
                let position = Int(slotPosition[base + a])
                perSlot[base + a] = -2 * r * u[position] + 2 * w * c[a] + wPrime * h * u[position]
                q[position] += v[base + a] * wPrime * h
            }
            for j in 0..<p { gradientBeta[j] += design.fixed[i * p + j] * (-2 * r + wPrime * h) }
        }
        // t = H⁻¹(ΛᵀZᵀ(w′∘h), Xᵀ(w′∘h)) for the joint mode, A⁻¹ΛᵀZᵀ(w′∘h)
        // otherwise; s = ZΛt (+ Xt_β).
        var weights = [Double](repeating: 0, count: n)
        for i in 0..<n { weights[i] = design.trials[i] * mu[i] * (1 - mu[i]) }
        var t: [Double], tBeta = [Double](repeating: 0, count: p)
        let system = jointly && p > 0 ? try jointSystem(weight: weights, v: v, theta: theta) : nil
        if let system {
            var qBeta = [Double](repeating: 0, count: p)
            for i in 0..<n {
                let wPrime = weights[i] * (1 - 2 * mu[i])
                for j in 0..<p { qBeta[j] += design.fixed[i * p + j] * wPrime * leverage[i] }
            }
            let solution = solve(system, q, qBeta)
            t = solution.u
            tBeta = solution.beta
        } else {
            t = cholesky.solve(q)
        }
        for i in 0..<n {
            let base = i * slots
            let r = design.successes[i] - design.trials[i] * mu[i]
            let w = weights[i]
            var s = 0.0
            for a in 0..<slots { s += v[base + a] * t[Int(slotPosition[base + a])] }
            for j in 0..<p { s += design.fixed[i * p + j] * tBeta[j] }
            for a in 0..<slots {
                let position = Int(slotPosition[base + a])
                perSlot[base + a] += r * t[position] - w * u[position] * s
            }
            for j in 0..<p { gradientBeta[j] -= design.fixed[i * p + j] * w * s }
        }
        var gradientTheta = [Double](repeating: 0, count: count)
        for m in 0..<count {
            let a = thetaSlot[m], rr = thetaValueSlot[m]
            var sum = 0.0
            for i in 0..<n { sum += slotValue[i * slots + rr] * perSlot[i * slots + a] }
            gradientTheta[m] = sum
        }
        do {
            // dû/dψ = A⁻¹ ∂ψ(ΛᵀZᵀr − u): for θₘ, zᵢₖ[r] rᵢ at the slot's
            // effect less ΛᵀZᵀW ∂η/∂θₘ; for βⱼ, −ΛᵀZᵀW xⱼ. For the joint
            // mode, over θ by the joint system, with ∂θ(Xᵀr) = −XᵀW ∂η/∂θ.
            let columns = count + p
            var right = [Double](repeating: 0, count: columns * size)
            var rightBeta = [Double](repeating: 0, count: count * p)
            // One column at a time (each fits in cache; seven at once do not).
            right.withUnsafeMutableBufferPointer { right in
                for m in 0..<count {
                    let a = thetaSlot[m], valueSlot = thetaValueSlot[m], column = m * size
                    for i in 0..<n {
                        let base = i * slots
                        let z = slotValue[base + valueSlot]
                        if z == 0 { continue }
                        let r = design.successes[i] - design.trials[i] * mu[i]
                        let position = Int(slotPosition[base + a])
                        right[column + position] += r * z
                        let change = weights[i] * z * u[position]
                        for b in 0..<slots { right[column + Int(slotPosition[base + b])] -= v[base + b] * change }
                        for j in 0..<p { rightBeta[m * p + j] -= design.fixed[i * p + j] * change }
                    }
                }
                for j in 0..<p {
                    let column = (count + j) * size
                    for i in 0..<n {
                        let base = i * slots
                        let change = weights[i] * design.fixed[i * p + j]
                        for b in 0..<slots { right[column + Int(slotPosition[base + b])] -= v[base + b] * change }
                    }
                }
            }
            func column(_ m: Int) -> [Double] { Array(right[(m * size)..<((m + 1) * size)]) }
            if let system {
                var derivatives: [[Double]] = [], coefficientDerivatives: [[Double]] = []
                for m in 0..<count {
                    let solution = solve(system, column(m), Array(rightBeta[(m * p)..<((m + 1) * p)]))
                    derivatives.append(solution.u)
                    coefficientDerivatives.append(solution.beta)
                }
                sensitivity = Sensitivity(jointly: true, point: theta, modes: u, coefficients: beta,
                                          derivatives: derivatives, coefficientDerivatives: coefficientDerivatives)
            } else {
                sensitivity = Sensitivity(jointly: jointly, point: jointly ? theta : theta + beta, modes: u,
                                          coefficients: beta,
                                          derivatives: (0..<(jointly ? count : columns)).map { cholesky.solve(column($0)) },
                                          coefficientDerivatives: [])
            }
        }
        return (-2 * value, jointly ? gradientTheta : gradientTheta + gradientBeta, beta)
    }

    /// The joint Newton system of (u, β), [A B; Bᵀ C] with B = ΛᵀZᵀWX and
    /// C = XᵀWX, reduced on the current factor of A: B's columns, A⁻¹B and
    /// S⁻¹ for the Schur complement S = C − BᵀA⁻¹B (row-major p × p) —
    /// built once per factor, then `solve` for each right-hand side.
    private struct JointSystem {
        var b: [[Double]]
        var aInverseB: [[Double]]
        var covariance: [Double]
    }

    private func jointSystem(weight: [Double], v: [Double], theta: [Double]) throws(NumericalFailure) -> JointSystem {
        let n = design.cellCount, p = design.fixedCount, x = design.fixed, slots = slotCount
        var b = [[Double]](repeating: [Double](repeating: 0, count: size), count: p)
        var c = [Double](repeating: 0, count: p * p)
        for j in 0..<p {
            b[j].withUnsafeMutableBufferPointer { column in
                for i in 0..<n {
                    let xw = x[i * p + j] * weight[i]
                    if xw == 0 { continue }
                    for l in 0...j { c[j * p + l] += xw * x[i * p + l] }
                    for a in (i * slots)..<((i + 1) * slots) { column[Int(slotPosition[a])] += v[a] * xw }
                }
            }
        }
        for j in 0..<p { for l in 0..<j { c[l * p + j] = c[j * p + l] } }
        let aInverseB = b.map { cholesky.solve($0) }
        var schur = c
        for j in 0..<p { for l in 0..<p { schur[j * p + l] -= dot(b[j], aInverseB[l]) } }
        do {
            return JointSystem(b: b, aInverseB: aInverseB, covariance: try DenseSymmetric.inverse(schur, size: p))
        } catch {
            throw NumericalFailure("PIRLS at \(describe(theta)): the fixed effects' information given the "
                                   + "covariances, XᵀWX − BᵀA⁻¹B: " + error.message,
                                   remedies: [.rescaledCovariates, .simplerModel])
        }
    }

    /// Solves [A B; Bᵀ C] [x; y] = [g; f]: y = S⁻¹(f − BᵀA⁻¹g),
    /// x = A⁻¹(g − By).
    private func solve(_ system: JointSystem, _ g: [Double], _ f: [Double]) -> (u: [Double], beta: [Double]) {
        let p = design.fixedCount
        let aInverseG = cholesky.solve(g)
        var reduced = f
        for j in 0..<p { reduced[j] -= dot(system.b[j], aInverseG) }
        var y = [Double](repeating: 0, count: p)
        for j in 0..<p { for l in 0..<p { y[j] += system.covariance[j * p + l] * reduced[l] } }
        var solution = aInverseG
        for j in 0..<p {
            let yj = y[j]
            system.aInverseB[j].withUnsafeBufferPointer { column in
                for r in 0..<size { solution[r] -= column[r] * yj }
            }
        }
        return (solution, y)
    }

    /// Factorises A with these values, saying at which θ should it fail.
    private func factorize(_ values: [Double], theta: [Double]) throws(NumericalFailure) {
        do {
            try cholesky.factorize(values: values)
        } catch {
            throw NumericalFailure("PIRLS at \(describe(theta)): A = ΛᵀZᵀWZΛ + I: "
                                   + error.message, remedies: error.remedies.isEmpty
                                       ? [.rescaledCovariates, .simplerModel] : error.remedies)
        }
    }

    /// Each term's standard deviations and correlations at θ, in the order of
    /// `Design.parameterNames` (`ParameterNaming.covariance`): √Σ_cc and
    /// Σ_ab/√(Σ_aa Σ_bb) of Σₖ = LₖLₖᵀ — lme4's `VarCorr`. A correlation
    /// with a zero SD is NaN.
    public func covarianceValues(theta: [Double]) -> [Double] {
        var values: [Double] = []
        for k in design.randomTerms.indices {
            let q = design.randomTerms[k].dimension
            let l = factor(of: k, theta: theta)
            var sigma = [Double](repeating: 0, count: q * q)
            for a in 0..<q { for b in 0..<q { for j in 0...min(a, b) { sigma[a * q + b] += l[a * q + j] * l[b * q + j] } } }
            let sd = (0..<q).map { sigma[$0 * q + $0].squareRoot() }
            values += sd
            for a in 0..<q { for b in (a + 1)..<q { values.append(sigma[a * q + b] / (sd[a] * sd[b])) } }
        }
        return values
    }

    /// "sd(client) = 0.72, sd(stylist) = 1e+30", for messages.
    func describe(_ theta: [Double]) -> String {
        let names = design.randomTerms.flatMap(\.covarianceNames)
        return zip(names, covarianceValues(theta: theta)).map { "\($0) = \(String(format: "%.4g", $1))" }
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
    private func assemble(mu: [Double], v: [Double]) -> (values: [Double], residual: [Double], weight: [Double]) {
        let n = design.cellCount, slots = slotCount
        var values = [Double](repeating: 0, count: entries)
        var residual = [Double](repeating: 0, count: n), weight = [Double](repeating: 0, count: n)
        for entry in identityEntries { values[Int(entry)] = 1 }
        values.withUnsafeMutableBufferPointer { values in
            diagonalEntries.withUnsafeBufferPointer { diagonal in
                pairEntries.withUnsafeBufferPointer { pairs in
                    let pairCount = slots * (slots - 1) / 2
                    for i in 0..<n {
                        let m = mu[i]
                        residual[i] = design.successes[i] - design.trials[i] * m
                        let w = design.trials[i] * m * (1 - m)
                        weight[i] = w
                        let base = i * slots
                        var pair = i * pairCount
                        for a in 0..<slots {
                            let va = v[base + a] * w
                            values[Int(diagonal[base + a])] += v[base + a] * va
                            for b in 0..<a { values[Int(pairs[pair])] += v[base + b] * va; pair += 1 }
                        }
                    }
                }
            }
        }
        return (values, residual, weight)
    }

    /// The conditional mean μᵢ = 1/(1 + e^{−ηᵢ}) of each cell at the current
    /// modes, β and θ.
    public func fittedProbabilities(coefficients beta: [Double], theta: [Double]) -> [Double] {
        let n = design.cellCount, p = design.fixedCount, slots = slotCount
        let v = slotWeights(theta)
        return (0..<n).map { i in
            var eta = design.offset(i)
            for j in 0..<p { eta += design.fixed[i * p + j] * beta[j] }
            for a in (i * slots)..<((i + 1) * slots) { eta += v[a] * modes[Int(slotPosition[a])] }
            return 1 / (1 + exp(-eta))
        }
    }

    /// Per term, per level (level-major, qₖ columns each): the conditional
    /// modes b̂ = Lₖûₖₗ and the conditional SDs, √diag(Lₖ (A⁻¹)ₗₗ Lₖᵀ) with
    /// (A⁻¹)ₗₗ the level's block of A⁻¹ at the current factor — lme4's
    /// `ranef(condVar = TRUE)`.
    public func conditionalEffects(theta: [Double]) -> (modes: [[Double]], standardDeviations: [[Double]]) {
        let terms = design.randomTerms
        let inverse = cholesky.inverseOnPattern()
        let diagonal = cholesky.inverseDiagonal()
        var modesOut: [[Double]] = [], sds: [[Double]] = []
        for k in terms.indices {
            let q = terms[k].dimension, l = factor(of: k, theta: theta)
            var m: [Double] = [], s: [Double] = []
            var block = [Double](repeating: 0, count: q * q)
            var entry = 0
            for level in 0..<terms[k].levelCount {
                let base = offsets[k] + level * q
                for c1 in 0..<q {
                    block[c1 * q + c1] = diagonal[base + c1]
                    for c2 in 0..<c1 {
                        let z = inverse[Int(blockEntries[k][entry])]
                        block[c1 * q + c2] = z; block[c2 * q + c1] = z
                        entry += 1
                    }
                }
                for a in 0..<q {
                    var mode = 0.0, variance = 0.0
                    for j in 0...a {
                        mode += l[a * q + j] * modes[base + j]
                        for j2 in 0...a { variance += l[a * q + j] * block[j * q + j2] * l[a * q + j2] }
                    }
                    m.append(mode)
                    s.append(variance.squareRoot())
                }
            }
            modesOut.append(m)
            sds.append(s)
        }
        return (modesOut, sds)
    }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}
