import Foundation

/// Each level's own-data ("no pooling") estimate of its effect vector in a
/// term with slopes: the classic partial-pooling picture sets it beside the
/// EB mode and the posterior mean (Gelman & Hill 2007, §12.2; the
/// `lmList` fits of lme4's shrinkage plots).
///
/// For level l of term k, the rest of the linear predictor is held at the
/// EB fit — oᵢ = η̂ᵢ − zᵢₖᵀb̂ₗ, η̂ the EB linear predictor (fixed effects
/// and every conditional mode) — and bₗ maximises the level's own binomial
/// log-likelihood Σᵢ [yᵢ(oᵢ + zᵢᵀb) − nᵢ log(1 + e^{oᵢ + zᵢᵀb})] less a
/// ridge bᵀb/(2·10²), by Newton's method from b̂ₗ. The ridge is the
/// 2-D counterpart of the ½ added to the counts of the raw log-odds: it
/// keeps the estimate of a level whose own data separate its outcomes
/// finite (about ±10) where the maximum-likelihood estimate is infinite,
/// and moves any other level's by little.
public enum OwnDataEstimates {
    /// The ridge's SD.
    public static let ridge = 10.0

    /// Per level of `design.randomTerms[k]` (level-major, qₖ columns each),
    /// or nil when the EB fit lacks a fixed effect or effect of the design.
    public static func estimate(design: Design, term k: Int, eb: EmpiricalBayesReport) -> [Double]? {
        let terms = design.randomTerms, p = design.fixedCount, n = design.cellCount
        var fixed: [String: Double] = [:]
        for f in eb.fixed { fixed[f.name] = f.estimate }
        let beta = design.fixedNames.compactMap { fixed[$0] }
        guard beta.count == p else { return nil }
        // Every term's EB modes, level-major.
        var modes: [[Double]] = []
        var byKey: [String: Double] = [:]
        for e in eb.effects { byKey[e.term + "\u{0}" + (e.column ?? "") + "\u{0}" + e.level] = e.mode }
        for term in terms {
            let columns: [String?] = term.isInterceptOnly ? [nil] : term.columns.map { $0 }
            var values: [Double] = []
            for level in term.levels {
                for column in columns {
                    guard let mode = byKey[term.name + "\u{0}" + (column ?? "") + "\u{0}" + level] else { return nil }
                    values.append(mode)
                }
            }
            modes.append(values)
        }
        let term = terms[k], q = term.dimension
        var estimates = modes[k]
        // oᵢ and the cells of each level.
        var offset = [Double](repeating: 0, count: n)
        var cells = [[Int]](repeating: [], count: term.levelCount)
        for i in 0..<n {
            var eta = design.offset(i)
            for j in 0..<p { eta += design.fixed[i * p + j] * beta[j] }
            for (m, other) in terms.enumerated() where m != k {
                let l = Int(other.levelOfCell[i]), d = other.dimension
                for c in 0..<d { eta += other.value(cell: i, column: c) * modes[m][l * d + c] }
            }
            offset[i] = eta
            cells[Int(term.levelOfCell[i])].append(i)
        }
        let precision = 1 / (ridge * ridge)
        for l in 0..<term.levelCount {
            var b = Array(estimates[(l * q)..<((l + 1) * q)])
            func objective(_ b: [Double]) -> Double {
                var f = -0.5 * precision * b.reduce(0) { $0 + $1 * $1 }
                for i in cells[l] {
                    var e = offset[i]
                    for c in 0..<q { e += term.value(cell: i, column: c) * b[c] }
                    f += design.successes[i] * e - design.trials[i] * (max(e, 0) + log1p(exp(-abs(e))))
                }
                return f
            }
            var current = objective(b)
            for _ in 0..<100 {
                var gradient = b.map { -precision * $0 }
                var hessian = [Double](repeating: 0, count: q * q)
                for c in 0..<q { hessian[c * q + c] = precision }
                for i in cells[l] {
                    var e = offset[i]
                    for c in 0..<q { e += term.value(cell: i, column: c) * b[c] }
                    let mu = 1 / (1 + exp(-e)), w = design.trials[i] * mu * (1 - mu)
                    let r = design.successes[i] - design.trials[i] * mu
                    for a in 0..<q {
                        let za = term.value(cell: i, column: a)
                        gradient[a] += za * r
                        for c in 0...a { hessian[a * q + c] += w * za * term.value(cell: i, column: c) }
                    }
                }
                guard let factor = SmallCholesky(hessian, size: q) else { break }
                var step = gradient
                factor.solveLower(&step)
                factor.solveUpper(&step)
                let decrement = zip(gradient, step).reduce(0) { $0 + $1.0 * $1.1 }
                var scale = 1.0, moved = false
                while scale > 1e-8 {
                    let candidate = zip(b, step).map { $0 + scale * $1 }
                    let value = objective(candidate)
                    if value >= current { b = candidate; current = value; moved = true; break }
                    scale /= 2
                }
                if !moved || decrement < 1e-12 { break }
            }
            for c in 0..<q { estimates[l * q + c] = b[c] }
        }
        return estimates
    }
}
