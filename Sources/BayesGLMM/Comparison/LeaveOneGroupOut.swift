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
/// Leaving out a client of `(1|client) + (1|client:stylist)` leaves out its
/// pairings too, whose effects are new as well: they are integrated inside
/// the client's, with vₖ ~ N(0, σₕ²) for each of its pairings k,
///
///     ℓⱼ⁽ᵗ⁾ = log ∫ φ(u) Πₖ [∫ φ(w) Πᵢ∈ₖ p(yᵢ | ψᵢ + σu + σₕw) dw] du,
///
/// the inner integrals by the same quadrature at each outer node, the
/// outer one's mode found by Newton's method on derivatives of the inner
/// integrals' logarithms (their moments at the nodes; Prékopa's theorem
/// keeps the outer integrand log-concave).
///
/// For the logit link, random-intercept terms, and at most one term nested
/// in the one left out.
public struct GroupLogLikelihood: Sendable {
    public let source: PointwiseLogLikelihood
    /// The term left out, by its place among the design's random terms.
    public let term: Int
    /// The term nested in it, whose levels are left out with each of its own.
    public let nested: Int?
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
        let nestedTerms = design.randomTerms.indices.filter {
            design.randomTerms[$0].name != name
                && Set(term.factors).isSubset(of: Set(design.randomTerms[$0].factors))
        }
        guard nestedTerms.count <= 1, nestedTerms.allSatisfy({ design.randomTerms[$0].isInterceptOnly }) else {
            throw InputError(.unsupported, "leaving out a level of \(name) also leaves out its levels of "
                             + nestedTerms.map { design.randomTerms[$0].name }.joined(separator: " and ")
                             + ": one nested random intercept can be integrated out with it, not more (nor slopes)",
                             file: source.run.path, setting: "group")
        }
        for sd in [name] + nestedTerms.map({ design.randomTerms[$0].name }) where
            source.run.parameterIndex("sd(\(sd))") == nil {
            throw InputError(.unsupported, "the draw store has no draws of sd(\(sd))", file: source.run.store.path)
        }
        nested = nestedTerms.first
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
        let nestedSigma = try nested.map {
            try run.store.draws(of: [run.parameterIndex("sd(\(design.randomTerms[$0].name))")!],
                                first: run.drawsPerChain)[0].values
        }
        let excluded = Set([term] + (nested.map { [$0] } ?? []))
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
                let etas = cells.map { chunk.linearPredictor($0, excluding: excluded) }
                // The cells of each nested level (by first appearance).
                var pairs: [[Int]] = []
                if let nested {
                    var place: [Int32: Int] = [:]
                    for (i, cell) in cells.enumerated() {
                        let level = design.randomTerms[nested].levelOfCell[cell]
                        if let p = place[level] { pairs[p].append(i) } else { place[level] = pairs.count; pairs.append([i]) }
                    }
                }
                let y = cells.map { design.successes[$0] }, n = cells.map { design.trials[$0] }
                let c = cells.map { design.logBinomialCoefficients[$0] }
                var values = [Double](repeating: 0, count: total)
                for t in 0..<total {
                    let offsets = etas.map { $0[t] }
                    let value = nestedSigma.map {
                        GroupLogLikelihood.nestedLogIntegral(offsets: offsets, pairs: pairs, sigma: sigma[t],
                                                             nestedSigma: $0[t], successes: y, trials: n, logChoose: c,
                                                             nodes: nodes, weights: weights)
                    } ?? AdaptiveQuadrature.logIntegral(
                        offsets: offsets, slopes: [Double](repeating: sigma[t], count: cells.count),
                        successes: y, trials: n, logChoose: c, nodes: nodes, weights: weights)?.value
                    guard let value else {
                        throw NumericalFailure("the integral over the effect of \(name) \(levels[level]) did not "
                                               + "converge at draw \(t + 1) (σ = \(sigma[t]))")
                    }
                    values[t] = value
                }
                try body(level, Draws(columnMajor: values, iterations: run.drawsPerChain, chains: run.chainNumbers.count))
            }
            b += 1
        }
    }

    /// log ∫ φ(u) Πₖ [∫ φ(w) Πᵢ∈ₖ p(yᵢ | aᵢ + σu + σₕw) dw] du for logit
    /// cells grouped into `pairs` (indices into the cells): the outer
    /// integral by `AdaptiveQuadrature.adaptive`, with d/du log Jₖ = σ E[sₖ]
    /// and d²/du² log Jₖ = σ² (E[sₖ′] + Var[sₖ]), sₖ = Σᵢ∈ₖ (yᵢ − nᵢμᵢ) and
    /// sₖ′ = −Σᵢ∈ₖ nᵢμᵢ(1 − μᵢ) under the inner integrand (its nodes' shares).
    static func nestedLogIntegral(offsets a: [Double], pairs: [[Int]], sigma: Double, nestedSigma: Double,
                                  successes y: [Double], trials n: [Double], logChoose c: [Double],
                                  nodes: [Double], weights: [Double]) -> Double? {
        var starts = [Double](repeating: 0, count: pairs.count), failed = false
        let pairY = pairs.map { $0.map { y[$0] } }, pairN = pairs.map { $0.map { n[$0] } }
        let pairC = pairs.map { $0.map { c[$0] } }
        let slopes = pairs.map { [Double](repeating: nestedSigma, count: $0.count) }
        let outer = AdaptiveQuadrature.adaptive(nodes: nodes, weights: weights, approximateDerivatives: true) { u in
            var value = -0.5 * u * u, slope = -u, curvature = -1.0
            for (k, members) in pairs.enumerated() {
                let offsets = members.map { a[$0] + sigma * u }
                guard let inner = AdaptiveQuadrature.logIntegral(
                    offsets: offsets, slopes: slopes[k], successes: pairY[k], trials: pairN[k], logChoose: pairC[k],
                    nodes: nodes, weights: weights, start: starts[k]) else {
                    failed = true
                    return (-.infinity, 0, -1)
                }
                starts[k] = inner.mode
                value += inner.value
                var first = 0.0, second = 0.0
                for (x, share) in zip(nodes, inner.shares) {
                    let w = inner.mode + 2.0.squareRoot() * inner.scale * x
                    var s = 0.0, sPrime = 0.0
                    for i in offsets.indices {
                        let e = offsets[i] + nestedSigma * w
                        let t = exp(-abs(e))
                        let mu = e >= 0 ? 1 / (1 + t) : t / (1 + t)
                        s += pairY[k][i] - pairN[k][i] * mu
                        sPrime -= pairN[k][i] * mu * (1 - mu)
                    }
                    first += share * s
                    second += share * (sPrime + s * s)
                }
                slope += sigma * first
                curvature += sigma * sigma * (second - first * first)
            }
            return (value, slope, min(curvature, -1e-12))
        }
        return failed ? nil : outer?.value
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
