import Diagnostics
import Foundation

/// Leave-one-group-out cross-validation: how well a fit predicts all the
/// outcomes of a level it has not seen (a new client), by PSIS over the
/// levels of a random term (Merkle, Furr & Rabe-Hesketh 2019, "Bayesian
/// comparison of latent variable models: conditional versus marginal
/// likelihoods", Psychometrika 84(3)). The conditional log-likelihood of a
/// level's cells given its own effect is a poor basis for that (its
/// importance ratios are heavy-tailed: high Pareto k), so the level's effect
/// is integrated out at each draw t — the marginal likelihood
///
///     ℓⱼ⁽ᵗ⁾ = log ∫ φ(u) Πᵢ∈ⱼ C(nᵢ, yᵢ) F(ψᵢ⁽ᵗ⁾ + σ⁽ᵗ⁾u)^yᵢ (1 − F(ψᵢ⁽ᵗ⁾ + σ⁽ᵗ⁾u))^(nᵢ−yᵢ) du,
///
/// ψᵢ⁽ᵗ⁾ the cell's linear predictor without the level's effect (the other
/// terms' effects at their draws), by adaptive Gauss–Hermite quadrature
/// (`AdaptiveQuadrature.logIntegral`, 15 points) — and the ℓⱼ are the
/// observations of `LeaveOneOut`.
///
/// For the logit link and a random-intercept term in which no other term is
/// nested: leaving out a client of `(1|client) + (1|client:stylist)` would
/// leave out its pairings' effects too, which are not integrated (yet).
public struct GroupLogLikelihood: Sendable {
    public let source: PointwiseLogLikelihood
    /// The term left out, by its place among the design's random terms.
    public let term: Int
    let nodes: [Double], weights: [Double]
    /// The cells of each level.
    let cellsOfLevel: [[Int]]

    /// Quadrature points per integral.
    public static let points = 15

    /// Throws `InputError` (setting "group") for a term the fit does not
    /// have, a term with slopes, a term another is nested in, or a link
    /// other than the logit.
    public init(_ source: PointwiseLogLikelihood, term name: String) throws(InputError) {
        let design = source.design
        guard let index = design.randomTerms.firstIndex(where: { $0.name == name }) else {
            throw InputError(.badOption, "the fit has no random term \"\(name)\" (its terms: "
                             + design.randomTerms.map(\.name).joined(separator: ", ") + ")",
                             file: source.run.path, setting: "group")
        }
        let term = design.randomTerms[index]
        guard source.run.link == .logit else {
            throw InputError(.unsupported, "leave-one-group-out integrates a level's effect for the logit link; this "
                             + "fit's link is \(source.run.link)", file: source.run.path, setting: "group")
        }
        guard term.isInterceptOnly else {
            throw InputError(.unsupported, "leave-one-group-out integrates a random intercept; \(name) has slopes",
                             file: source.run.path, setting: "group")
        }
        if let nested = design.randomTerms.first(where: {
            $0.name != name && Set(term.factors).isSubset(of: Set($0.factors))
        }) {
            throw InputError(.unsupported, "leaving out a level of \(name) also leaves out its levels of "
                             + "\(nested.name), whose effects are not integrated out yet: choose a term no other is "
                             + "nested in, or fit without \(nested.name)", file: source.run.path, setting: "group")
        }
        guard source.run.parameterIndex("sd(\(name))") != nil else {
            throw InputError(.unsupported, "the draw store has no draws of sd(\(name))", file: source.run.store.path)
        }
        self.source = source
        self.term = index
        (nodes, weights) = AdaptiveQuadrature.hermiteRule(GroupLogLikelihood.points)
        var cells = [[Int]](repeating: [], count: term.levelCount)
        for cell in 0..<design.cellCount { cells[Int(term.levelOfCell[cell])].append(cell) }
        cellsOfLevel = cells
    }

    /// The levels of the term, the observations.
    public var levels: [String] { source.design.randomTerms[term].levels }

    /// Calls `body` with each level (its index) and its ℓⱼ⁽ᵗ⁾ over the draws,
    /// a batch of levels' cells at a time.
    public func forEach(_ body: (Int, Draws) throws -> Void) throws {
        let run = source.run, design = source.design
        let name = design.randomTerms[term].name
        let sigma = try run.store.draws(of: [run.parameterIndex("sd(\(name))")!], first: run.drawsPerChain)[0].values
        let total = sigma.count
        // Batches of whole levels, about 1,024 cells each.
        var batches: [[Int]] = [], batch: [Int] = [], levelsOfBatch: [[Int]] = [], levelsNow: [Int] = []
        for (level, cells) in cellsOfLevel.enumerated() {
            batch += cells
            levelsNow.append(level)
            if batch.count >= 1024 {
                batches.append(batch); levelsOfBatch.append(levelsNow)
                batch = []; levelsNow = []
            }
        }
        if !levelsNow.isEmpty { batches.append(batch); levelsOfBatch.append(levelsNow) }
        var b = 0
        try source.forEachChunk(.cell, batches: batches) { chunk in
            for level in levelsOfBatch[b] {
                let cells = cellsOfLevel[level]
                let etas = cells.map { chunk.linearPredictor($0, excluding: term) }
                let y = cells.map { design.successes[$0] }, n = cells.map { design.trials[$0] }
                let c = cells.map { design.logBinomialCoefficients[$0] }
                var values = [Double](repeating: 0, count: total)
                for t in 0..<total {
                    guard let integral = AdaptiveQuadrature.logIntegral(
                        offsets: etas.map { $0[t] }, slopes: [Double](repeating: sigma[t], count: cells.count),
                        successes: y, trials: n, logChoose: c, nodes: nodes, weights: weights) else {
                        throw NumericalFailure("the integral over the effect of \(name) \(levels[level]) did not "
                                               + "converge at draw \(t + 1) (σ = \(sigma[t]))")
                    }
                    values[t] = integral.value
                }
                try body(level, Draws(columnMajor: values, iterations: run.drawsPerChain, chains: run.chainNumbers.count))
            }
            b += 1
        }
    }

    /// PSIS-LOO over the levels (elpd_logo), and WAIC on the same ℓⱼ.
    public func criteria() throws -> (loo: LeaveOneOut, waic: WidelyApplicableCriterion) {
        var points = [LeaveOneOut.Pointwise?](repeating: nil, count: levels.count)
        var elpd = [Double](repeating: 0, count: levels.count), parameters = elpd
        let transforms = FourierTransforms()
        try forEach { level, ll in
            let loo = LeaveOneOut.pointwise(ll, transforms: transforms)
            points[level] = loo
            (elpd[level], parameters[level]) = WidelyApplicableCriterion.pointwise(
                ll, logPredictiveDensity: loo.logPredictiveDensity)
        }
        return (LeaveOneOut(pointwise: points.map { $0! }, draws: source.run.chainNumbers.count * source.run.drawsPerChain),
                WidelyApplicableCriterion(elpd: elpd, effectiveParameters: parameters))
    }
}
