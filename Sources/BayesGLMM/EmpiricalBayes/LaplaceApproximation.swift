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
    public private(set) var logDeterminant = 0.0
    public private(set) var iterations = 0

    public init(design: Design) throws(InputError) {
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
    public func logLikelihood(coefficients beta: [Double], standardDeviations sigma: [Double]) throws(InputError) -> Double {
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
    public func evaluate(coefficients start: [Double], standardDeviations sigma: [Double], jointly: Bool)
        throws(InputError) -> Evaluation {
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
        var covariance: [Double] = []
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
            try cholesky.factorize(values: values)
            var stepU: [Double], stepBeta = [Double](repeating: 0, count: p)
            var decrement: Double
            if jointly && p > 0 {
                var fixedGradient = [Double](repeating: 0, count: p)
                var b = [[Double]](repeating: [Double](repeating: 0, count: size), count: p)
                var c = [Double](repeating: 0, count: p * p)
                let x = design.fixed
                for i in 0..<n {
                    for j in 0..<p {
                        let xj = x[i * p + j]
                        fixedGradient[j] += xj * residual[i]
                        for l in 0...j { c[j * p + l] += xj * weight[i] * x[i * p + l] }
                        for k in terms.indices { b[j][Int(levelIndex[k][i])] += sigma[k] * weight[i] * xj }
                    }
                }
                for j in 0..<p { for l in 0..<j { c[l * p + j] = c[j * p + l] } }
                let aInverseB = b.map { cholesky.solve($0) }
                let aInverseG = cholesky.solve(gradient)
                // S = C − Bᵀ A⁻¹ B and the reduced gradient gβ − Bᵀ A⁻¹ gᵤ.
                var schur = c
                var reduced = fixedGradient
                for j in 0..<p {
                    for l in 0..<p { schur[j * p + l] -= dot(b[j], aInverseB[l]) }
                    reduced[j] -= dot(b[j], aInverseG)
                }
                covariance = try DenseSymmetric.inverse(schur, size: p)
                for j in 0..<p { for l in 0..<p { stepBeta[j] += covariance[j * p + l] * reduced[l] } }
                stepU = aInverseG
                for j in 0..<p { for r in 0..<size { stepU[r] -= aInverseB[j][r] * stepBeta[j] } }
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
            if !accepted || (scale == 1 && decrement < 1e-20 * max(1, abs(current.value))) { break }
        }
        // A at the mode, for its determinant.
        try cholesky.factorize(values: assemble(mu: current.mu, sigma: sigma).values)
        logDeterminant = cholesky.logDeterminant
        modes = u
        return Evaluation(logLikelihood: current.value - 0.5 * logDeterminant, coefficients: beta,
                          fixedCovariance: covariance)
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
