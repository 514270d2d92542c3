import Variates

/// A fixed effect and a term's effects moved together, β_j + c and
/// uₗ − c·x_{lj}, where x_{lj} is column j's value on level l (constant
/// there): the linear predictor does not change, so c's conditional is that
/// of the priors alone, N(μ, 1/P) with P = 1/s_j² + Σₗx_{lj}²/σ² and
/// μ = (Σₗx_{lj}uₗ/σ² − (β_j − m_j)/s_j²)/P, drawn exactly. This is Liu &
/// Sabatti's (2000) generalised Gibbs step on a translation group (Lebesgue
/// measure its Haar measure, unit Jacobian; Liu & Wu 1999 for the
/// intercept): without it β_j, moving given the effects, crawls along the
/// ridge β_j x_{lj} + uₗ = const — the intercept against every term, and on
/// VerbAgg the uncentred Anger (11–40) against the people's effects.
/// `MetropolisWithinGibbs` and the exact moves of `PolyaGammaGibbs` make it.
struct Translation: Sendable {
    /// The column j of X.
    let column: Int
    /// x_{lj} per level l of the term.
    let values: [Double]

    /// The columns of X constant within each level of `term` and not zero
    /// on every level.
    static func all(in design: Design, term: RandomEffect) -> [Translation] {
        let p = design.fixedCount, x = design.fixed
        return (0..<p).compactMap { j -> Translation? in
            var values = [Double?](repeating: nil, count: term.levelCount)
            for i in 0..<design.cellCount {
                let l = Int(term.levelOfCell[i])
                if let v = values[l], v != x[i * p + j] { return nil }
                values[l] = x[i * p + j]
            }
            let level = values.map { $0 ?? 0 }
            return level.contains { $0 != 0 } ? Translation(column: j, values: level) : nil
        }
    }

    /// The step, for the term's effects `effects` with standard deviation
    /// `standardDeviation` and column j's prior N(priorMean, 1/priorPrecision).
    func apply(coefficients: inout [Double], effects: inout [Double], standardDeviation: Double,
               priorMean: Double, priorPrecision: Double, using generator: Generator) {
        let j = column
        let precision = 1 / (standardDeviation * standardDeviation)
        var squares = 0.0, cross = 0.0
        for (l, v) in values.enumerated() { squares += v * v; cross += v * effects[l] }
        let total = priorPrecision + squares * precision
        let mean = (precision * cross - priorPrecision * (coefficients[j] - priorMean)) / total
        let c = mean + generator.normal() / total.squareRoot()
        coefficients[j] += c
        for l in values.indices { effects[l] -= c * values[l] }
    }
}
