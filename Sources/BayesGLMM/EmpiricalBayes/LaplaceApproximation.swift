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
    /// For each cell, the indices into the pattern's values of its diagonal
    /// entries (one per term) and of its off-diagonal pairs (a > b, term order).
    let diagonalEntry: [[Int32]]
    let pairEntry: [[Int32]]
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
        var diagonal: [[Int32]] = [], pairs: [[Int32]] = []
        for i in 0..<design.cellCount {
            let levels = terms.indices.map { offsets[$0] + Int(terms[$0].levelOfCell[i]) }
            diagonal.append(levels.map { position[$0][Int32($0)]! })
            var p: [Int32] = []
            for a in 0..<levels.count {
                for b in 0..<a {
                    let (hi, lo) = levels[a] > levels[b] ? (levels[a], levels[b]) : (levels[b], levels[a])
                    p.append(position[lo][Int32(hi)]!)
                }
            }
            pairs.append(p)
        }
        diagonalEntry = diagonal
        pairEntry = pairs
        cholesky = try SparseCholesky(size: total, columnStarts: starts, rowIndices: rows)
        logChoose = design.logBinomialCoefficients
        modes = [Double](repeating: 0, count: total)
    }

    /// log L(β, σ) by the Laplace approximation, running PIRLS from the
    /// previous modes.
    public func logLikelihood(coefficients beta: [Double], standardDeviations sigma: [Double]) throws(InputError) -> Double {
        let n = design.cellCount, p = design.fixedCount, terms = design.randomTerms
        var fixedPart = [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<p { fixedPart[i] += design.fixed[i * p + j] * beta[j] } }
        func linear(_ u: [Double]) -> [Double] {
            var eta = fixedPart
            for (k, t) in terms.enumerated() {
                for i in 0..<n { eta[i] += sigma[k] * u[offsets[k] + Int(t.levelOfCell[i])] }
            }
            return eta
        }
        func objective(_ u: [Double], _ eta: [Double]) -> Double {
            var f = 0.0
            for i in 0..<n {
                let e = eta[i]
                let log1pe = e > 0 ? e + log1p(exp(-e)) : log1p(exp(e))
                f += design.successes[i] * e - design.trials[i] * log1pe + logChoose[i]
            }
            return f - 0.5 * u.reduce(0) { $0 + $1 * $1 }
        }
        var u = modes
        var eta = linear(u)
        var value = objective(u, eta)
        iterations = 0
        for _ in 0..<100 {
            iterations += 1
            // Gradient and A = ΛᵀZᵀWZΛ + I at u.
            var gradient = u.map { -$0 }
            var values = [Double](repeating: 0, count: entries)
            for j in 0..<size { values[Int(diagonalIndex(j))] = 1 }
            for i in 0..<n {
                let mu = 1 / (1 + exp(-eta[i]))
                let residual = design.successes[i] - design.trials[i] * mu
                let w = design.trials[i] * mu * (1 - mu)
                var pair = 0
                for a in 0..<terms.count {
                    let la = offsets[a] + Int(terms[a].levelOfCell[i])
                    gradient[la] += sigma[a] * residual
                    values[Int(diagonalEntry[i][a])] += sigma[a] * sigma[a] * w
                    for b in 0..<a {
                        values[Int(pairEntry[i][pair])] += sigma[a] * sigma[b] * w
                        pair += 1
                    }
                }
            }
            try cholesky.factorize(values: values)
            let step = cholesky.solve(gradient)
            // Step halving until the penalised log-likelihood does not fall.
            var scale = 1.0
            var accepted = false
            while scale > 1e-10 {
                let candidate = zip(u, step).map { $0 + scale * $1 }
                let candidateEta = linear(candidate)
                let candidateValue = objective(candidate, candidateEta)
                if candidateValue >= value - 1e-12 * abs(value) {
                    let change = candidateValue - value
                    u = candidate; eta = candidateEta; value = candidateValue
                    accepted = true
                    if abs(change) < 1e-11 * max(1, abs(value)) && scale == 1 { scale = 0 }
                    break
                }
                scale /= 2
            }
            if !accepted || scale == 0 { break }
        }
        // A at the mode, for its determinant.
        var values = [Double](repeating: 0, count: entries)
        for j in 0..<size { values[Int(diagonalIndex(j))] = 1 }
        for i in 0..<n {
            let mu = 1 / (1 + exp(-eta[i]))
            let w = design.trials[i] * mu * (1 - mu)
            var pair = 0
            for a in 0..<terms.count {
                values[Int(diagonalEntry[i][a])] += sigma[a] * sigma[a] * w
                for b in 0..<a { values[Int(pairEntry[i][pair])] += sigma[a] * sigma[b] * w; pair += 1 }
            }
        }
        try cholesky.factorize(values: values)
        logDeterminant = cholesky.logDeterminant
        modes = u
        return value - 0.5 * logDeterminant
    }

    /// Index in the pattern of column j's diagonal entry: the first of the
    /// column, whose rows are sorted and all ≥ j.
    private func diagonalIndex(_ j: Int) -> Int32 { columnStart[j] }
}
