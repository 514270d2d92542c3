import CGSL
import Foundation
import Variates

/// Updates of `PolyaGammaGibbs` on the exact binomial likelihood, which do
/// not condition on the augmented ω.
///
/// Where successes are rare the augmented conditionals are far narrower
/// than the marginals they sample (Johndrow, Smith, Pillai & Dunson 2019,
/// "MCMC for imbalanced categorical data", JASA 114): a cell at ψ carries
/// precision E ω = n·tanh(ψ/2)/(2ψ) given ω, but only the information
/// n·F(ψ)(1 − F(ψ)) of its likelihood — 6.5 times less at ψ = −4.5 — so a
/// sweep given ω moves each parameter by a fraction of its spread. Each
/// move below leaves the posterior p(β, u, σ | y) invariant on its own:
///
/// - `coefficients`: β given the effects, by Metropolis–Hastings with the
///   Newton proposal N(β + H⁻¹g, H⁻¹) built at the current point from the
///   gradient g and the negative Hessian H = X'diag(information)X + prior
///   precision of the exact conditional, the reverse proposal built at the
///   proposed point (Gamerman 1997, "Sampling from the posterior
///   distribution in generalized linear mixed models", Statistics and
///   Computing 7; the simplified manifold MALA of Girolami & Calderhead 2011
///   with step 1). Two passes over the cells.
/// - `levels`: each effect uₖ[l] the same way, one level at a time, from
///   Σᵢ ℓᵢ(oᵢ + u) − u²/(2σₖ²) over the level's cells. Two passes over the
///   cells per term.
/// - `centring`: for each term and each column of X constant within its
///   levels (the intercept, a level's own covariates) the shift
///   (β_j + c, uₖ[l] − c·x_{lj}), which leaves every ψᵢ, and so the
///   likelihood, unchanged, c drawn from its exact conditional
///   (`Translation`, as `MetropolisWithinGibbs` makes it; Liu & Wu 1999,
///   Liu & Sabatti 2000).
///   Then the same for each term nested in another (`Nesting`: mothers in
///   clusters, pairs in clients): one shift per coarse level g,
///   (u_coarse[g] + c, u_fine[m] − c for the fine levels m in g) — without
///   it a cluster's effect and its mothers' crawl along the ridge their
///   sum is fixed on.
/// - `scales`: for each term, σₖ | uₖ (centred, `centredScale`), then σₖ
///   moved with the effects and the intercept along a curve on which the
///   likelihood changes little, by a slice step on t = log σ:
///   - each level keeps its standardised place zₗ = (uₗ − mₗ(σ))·√Pₗ(σ) in
///     the Gaussian approximation N(mₗ(σ), 1/Pₗ(σ)) of its conditional,
///     Pₗ = Iₗ + 1/σ², mₗ = Sₗ/Pₗ, with Iₗ and Sₗ the information and score
///     of the level's cells at uₗ = 0 (a level without data has Iₗ = 0 and
///     moves as uₗ = σzₗ, the non-centred update of Yu & Meng 2011; a level
///     its data pin down barely moves, the centred one); this is the
///     partially non-centred move of Papaspiliopoulos, Roberts & Sköld
///     (2007), as in `MetropolisWithinGibbs.jointStep`, but with Iₗ, Sₗ
///     computed from quantities the move leaves fixed;
///   - the intercept moves as α = a − dσ², d = (1 − 2p̄)/2 with p̄ the
///     overall success rate, which keeps the mean of F(α + σz) in place to
///     first order (∂/∂σ² E F(α + σz) = ½E F″, F″ = F′(1 − 2F)); for rare
///     events this is E e^(α + σz) = e^(α + σ²/2).
///   The target in (a, t, z) is the posterior times the Jacobian
///   σ·Πₗ Pₗ(σ)^(−1/2): the slice sampler needs no proposal to be tuned.
///   The information and score use α at a, so that every quantity the
///   curve depends on is fixed by the move (the reverse move follows the
///   same curve).
/// - `dilation`: every coefficient, effect and SD scaled by one λ = eᵗ
///   (`dilationStep`), t by Metropolis–Hastings with a Newton proposal on
///   π(λθ)·λ^(p + K) (the effects' priors cancel their own Jacobian; Liu &
///   Wu 1999, "Parameter expansion for data augmentation", JASA 94). Where
///   levels are nearly separated (guPrenat's mothers: most have all
///   successes or none) the data fix the signs of ψ but hardly its scale,
///   and the overall size of every effect and SD wanders together; one
///   pass over the cells per proposal. In the augmented sweep it follows
///   the nested centring, which also runs there.
/// - `attenuation` (not in `standard`, the default): after the scale
///   steps, σₖ non-centred with every fixed effect scaled by g(σ)/g(σ₀),
///   g(σ) = √(1 + c²Σσ²) (`attenuatingScaleStep`): where most levels are
///   separated (guPrenat's mothers), σ and the coefficients grow and shrink
///   together, and this step follows them (IAT of sd(mom) 111 → 28 with
///   `--updates exact`; on seed-shaped data at 1.7% it costs a third more
///   per sweep for no gain).
///
/// Measured on seed-shaped data (Validation/RESULTS.md, "Rare successes"):
/// at a 1.6% success rate the four moves without the augmentation take the
/// IAT of the intercept from about 100 sweeps to 2 and of every SD to 4 or
/// less; at 40% the augmented sweep is faster per effective draw
/// (`Updates.automatic`).
public struct ExactMoves: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let levels = ExactMoves(rawValue: 1)
    public static let coefficients = ExactMoves(rawValue: 2)
    public static let centring = ExactMoves(rawValue: 4)
    public static let scales = ExactMoves(rawValue: 8)
    /// σₖ with the fixed effects scaled with it (`attenuatingScaleStep`).
    public static let attenuation = ExactMoves(rawValue: 16)
    /// Every coefficient, effect and SD scaled together (`dilationStep`).
    public static let dilation = ExactMoves(rawValue: 32)
    /// What `PolyaGammaGibbs` makes by default: all but `attenuation`,
    /// which costs a third more per sweep on the seed-shaped rare-event
    /// data for no gain there (and little once `dilation` runs).
    public static let standard: ExactMoves = [.levels, .coefficients, .centring, .scales, .dilation]
    public static let all: ExactMoves = [.standard, .attenuation]

    /// The names `levels`, `coefficients`, `centring`, `scales`,
    /// `dilation`, `attenuation`, `standard`, `all`, `none`, comma-separated.
    public init?(names: String) {
        var moves: ExactMoves = []
        for name in names.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            switch name {
            case "levels": moves.insert(.levels)
            case "coefficients": moves.insert(.coefficients)
            case "centring", "centering": moves.insert(.centring)
            case "scales": moves.insert(.scales)
            case "attenuation": moves.insert(.attenuation)
            case "dilation": moves.insert(.dilation)
            case "standard": moves.formUnion(.standard)
            case "all": moves.formUnion(.all)
            case "none": break
            default: return nil
            }
        }
        self = moves
    }
}

extension Design {
    /// Whether some random term has at least half of its levels (with
    /// data) separated: all their trials successes, or all failures. There
    /// the data fix the signs of ψ but hardly its scale (guPrenat's
    /// mothers, 1–3 births each), and the augmented sweep needs the
    /// dilation (`PolyaGammaGibbs.augmentedExactMoves`).
    var mostlySeparated: Bool {
        randomTerms.contains { term in
            var successes = [Double](repeating: 0, count: term.levelCount)
            var trials = [Double](repeating: 0, count: term.levelCount)
            for (i, l) in term.levelOfCell.enumerated() {
                successes[Int(l)] += self.successes[i]
                trials[Int(l)] += self.trials[i]
            }
            var withData = 0, separated = 0
            for l in 0..<term.levelCount where trials[l] > 0 {
                withData += 1
                if successes[l] == 0 || successes[l] == trials[l] { separated += 1 }
            }
            return withData > 0 && 2 * separated >= withData
        }
    }

    /// Σy/Σn over the cells (½ without trials).
    var successRate: Double {
        let total = trials.reduce(0, +)
        return total > 0 ? successes.reduce(0, +) / total : 0.5
    }
}

/// Which updates a `PolyaGammaGibbs` sweep makes.
public enum Updates: String, Sendable, CaseIterable {
    /// The augmentation and the updates given it (collapsed blocks,
    /// interweaving): the sampler of `PolyaGammaGibbs`'s steps 1–3.
    case augmented
    /// The exact moves alone (`ExactMoves`), no augmentation.
    case exact
    /// The augmented sweep followed by a calibrated-augmentation update of
    /// the fixed effects given the effects (`Calibration`; Duan, Johndrow
    /// & Dunson 2018), Pólya–Gamma only: the published remedy for rare
    /// successes, kept to measure the exact moves against (never chosen
    /// automatically).
    case calibrated

    /// `exact` when the augmentation is at least 1.5 times as precise as
    /// the likelihood at the overall success rate p̄ (relative to the same
    /// ratio at p̄ = ½), `augmented` otherwise. The ratio, per trial at
    /// ψ = F⁻¹(p̄): for the logit E ω / (F(1 − F)) = tanh(ψ/2)/(2ψ·p̄(1 − p̄)),
    /// 1 at p̄ = ½ and 1.5 at p̄ ≈ 0.15 or 0.85; for the probit (ω = 1 per
    /// trial) Φ(1 − Φ)/φ², π/2 at p̄ = ½. Measured on seed-shaped data
    /// (Validation/RESULTS.md, "Rare successes"), min bulk-ESS per
    /// CPU-second, exact against augmented: 71 against 4 at p̄ = 0.016, 77
    /// against 26 at 0.046, 54 against 30 at 0.095, 53 against 50 at 0.19,
    /// 64 against 110 at 0.38.
    /// `automatic(successRate:augmentation:)` at the design's overall
    /// success rate.
    public static func automatic(for design: Design, augmentation: PolyaGammaGibbs.Augmentation) -> Updates {
        automatic(successRate: design.successRate, augmentation: augmentation)
    }

    public static func automatic(successRate rate: Double, augmentation: PolyaGammaGibbs.Augmentation) -> Updates {
        guard rate > 0 && rate < 1 else { return .exact }
        return imprecision(rate, augmentation) >= 1.5 * imprecision(0.5, augmentation) ? .exact : .augmented
    }

    /// Precision given the augmentation over the likelihood's information,
    /// per trial at success probability p.
    static func imprecision(_ p: Double, _ augmentation: PolyaGammaGibbs.Augmentation) -> Double {
        switch augmentation {
        case .polyaGamma:
            let psi = log(p / (1 - p))
            let omega = abs(psi) < 1e-8 ? 0.25 : tanh(psi / 2) / (2 * psi)
            return omega / (p * (1 - p))
        case .albertChib:
            let psi = Link.probit.linearPredictor(probability: p)
            let density = exp(-0.5 * psi * psi) / (2 * Double.pi).squareRoot()
            return p * (1 - p) / (density * density)
        }
    }
}

/// A term whose levels each lie inside one level of another term, over
/// the cells: `parent[m]` is the coarse level of fine level m.
struct Nesting: Sendable {
    let fine: Int
    let coarse: Int
    let parent: [Int32]

    /// Every nested pair of distinct terms of the design: the fine term has
    /// more levels, and each of them lies in one coarse level (a term with
    /// one level per cell is nested in every term with fewer levels).
    static func all(in design: Design) -> [Nesting] {
        let terms = design.randomTerms
        var found: [Nesting] = []
        for fine in terms.indices {
            for coarse in terms.indices where coarse != fine {
                var parent = [Int32](repeating: -1, count: terms[fine].levelCount)
                var nested = true
                for i in 0..<design.cellCount {
                    let m = Int(terms[fine].levelOfCell[i]), g = terms[coarse].levelOfCell[i]
                    if parent[m] == -1 { parent[m] = g } else if parent[m] != g { nested = false; break }
                }
                // A level with no cells (none here: levels come from the cells) stays outside every group.
                if nested && !parent.contains(-1) && terms[coarse].levelCount < terms[fine].levelCount {
                    found.append(Nesting(fine: fine, coarse: coarse, parent: parent))
                }
            }
        }
        return found
    }
}

/// Per-sweep counts of the exact moves: proposals made and accepted.
public struct ExactMoveCounts: Sendable, Equatable {
    public var levelProposals = 0
    public var levelAcceptances = 0
    public var coefficientProposals = 0
    public var coefficientAcceptances = 0
    public var dilationProposals = 0
    public var dilationAcceptances = 0
    public var calibratedProposals = 0
    public var calibratedAcceptances = 0
}

extension PolyaGammaGibbs {
    /// The exact moves of `exactMoves` applied to `state`, in the order
    /// coefficients, levels (term by term), centring, scales, dilation.
    func exactSweep(_ state: State, using generator: Generator, counts: inout ExactMoveCounts,
                    evaluations: inout Int) -> State {
        var s = state
        let p = design.fixedCount, terms = design.randomTerms
        // ψ, kept current by every move.
        var psi = linearPredictor(s)

        if exactMoves.contains(.coefficients) && p > 0 {
            coefficientStep(&s, psi: &psi, using: generator, counts: &counts)
        }
        if exactMoves.contains(.levels) {
            for k in 0..<terms.count { levelStep(&s, term: k, psi: &psi, using: generator, counts: &counts) }
        }
        if exactMoves.contains(.centring) {
            for k in 0..<terms.count {
                for move in translations[k] {
                    move.apply(coefficients: &s.coefficients, effects: &s.effects[k],
                               standardDeviation: s.standardDeviations[k], priorMean: priorMean[move.column],
                               priorPrecision: priorPrecision[move.column], using: generator)
                }
            }
            for nesting in nestings { nestedCentringStep(&s, nesting, using: generator) }
        }
        if exactMoves.contains(.scales) {
            for k in 0..<terms.count {
                let squares = s.effects[k].reduce(0) { $0 + $1 * $1 }
                let sigma = s.standardDeviations[k]
                let centred = centredScale(from: sigma, term: k, squares: squares, evaluations: &evaluations,
                                           using: generator)
                s.standardDeviations[k] = centred
                scaleStep(&s, term: k, psi: &psi, using: generator, evaluations: &evaluations)
                if exactMoves.contains(.attenuation) {
                    attenuatingScaleStep(&s, term: k, psi: &psi, using: generator, evaluations: &evaluations)
                }
            }
        }
        if exactMoves.contains(.dilation) {
            dilationStep(&s, psi: &psi, using: generator, counts: &counts)
        }
        return s
    }

    /// ψ = o + Xβ + Σₖ uₖ per cell (o the offset, if any); without the
    /// fixed part (`fixed: false`), o + Σₖ uₖ.
    func linearPredictor(_ s: State, fixed: Bool = true) -> [Double] {
        let n = design.cellCount, p = design.fixedCount
        var psi = fixed && p > 0 ? fixedRows.product(s.coefficients) : [Double](repeating: 0, count: n)
        design.addOffsets(to: &psi)
        for (k, term) in design.randomTerms.enumerated() {
            let u = s.effects[k]
            for i in 0..<n { psi[i] += u[Int(term.levelOfCell[i])] }
        }
        return psi
    }

    /// uₖ[l] for every level l of term k: Newton-proposal Metropolis–Hastings
    /// on the exact conditional Σᵢ ℓᵢ(oᵢ + u) − u²/(2σₖ²). Given everything
    /// but uₖ the levels are independent (each cell is in one level), so
    /// every level proposes at once: one pass over the cells for the
    /// current point, one for the proposals, then each level accepts or not.
    private func levelStep(_ s: inout State, term k: Int, psi: inout [Double], using generator: Generator,
                           counts: inout ExactMoveCounts) {
        let n = design.cellCount
        let levelOfCell = design.randomTerms[k].levelOfCell
        let precision = 1 / (s.standardDeviations[k] * s.standardDeviations[k])
        let u0 = s.effects[k], levels = u0.count
        var value = [Double](repeating: 0, count: n), score = value, information = value
        // Log conditional, gradient and negative Hessian of every level, with
        // the cells at linear predictors `eta` and the levels at `u`.
        func evaluate(_ eta: [Double], _ u: [Double]) -> (value: [Double], gradient: [Double], curvature: [Double]) {
            link.cells(successes: successes, trials: trials, linearPredictors: eta,
                       logLikelihood: &value, score: &score, information: &information)
            var f = u.map { -0.5 * precision * $0 * $0 }, g = u.map { -precision * $0 }
            var h = [Double](repeating: precision, count: levels)
            for i in 0..<n {
                let l = Int(levelOfCell[i])
                f[l] += value[i]
                g[l] += score[i]
                h[l] += information[i]
            }
            return (f, g, h)
        }
        let at0 = evaluate(psi, u0)
        var u1 = u0, mean0 = u0
        for l in 0..<levels {
            mean0[l] = u0[l] + at0.gradient[l] / at0.curvature[l]
            u1[l] = mean0[l] + generator.normal() / at0.curvature[l].squareRoot()
        }
        var proposed = psi
        for i in 0..<n {
            let l = Int(levelOfCell[i])
            proposed[i] += u1[l] - u0[l]
        }
        let at1 = evaluate(proposed, u1)
        var accepted = [Bool](repeating: false, count: levels)
        for l in 0..<levels {
            let (h0, h1) = (at0.curvature[l], at1.curvature[l])
            let mean1 = u1[l] + at1.gradient[l] / h1
            // log q(u0 | u1) − log q(u1 | u0)
            let reverse = 0.5 * log(h1) - 0.5 * h1 * (u0[l] - mean1) * (u0[l] - mean1)
            let forward = 0.5 * log(h0) - 0.5 * h0 * (u1[l] - mean0[l]) * (u1[l] - mean0[l])
            let logRatio = at1.value[l] - at0.value[l] + reverse - forward
            counts.levelProposals += 1
            if logRatio.isFinite, log(generator.uniform()) < logRatio {
                counts.levelAcceptances += 1
                accepted[l] = true
                s.effects[k][l] = u1[l]
            }
        }
        for i in 0..<n where accepted[Int(levelOfCell[i])] { psi[i] = proposed[i] }
    }

    /// β given the level effects and σ: Newton-proposal Metropolis–Hastings
    /// on the exact conditional Σᵢ ℓᵢ(xᵢ'β + oᵢ) − ½(β − m)'S⁻¹(β − m).
    private func coefficientStep(_ s: inout State, psi: inout [Double], using generator: Generator,
                                 counts: inout ExactMoveCounts) {
        let n = design.cellCount, p = design.fixedCount
        let beta0 = s.coefficients
        var cellValue = [Double](repeating: 0, count: n), cellScore = cellValue, cellInformation = cellValue
        // The log conditional at β (ψ shifted by X(β − β0)), its gradient and
        // the upper triangle of its negative Hessian.
        func evaluate(_ beta: [Double]) -> (value: Double, gradient: [Double], curvature: [Double], eta: [Double]) {
            var value = 0.0
            var gradient = [Double](repeating: 0, count: p)
            var curvature = [Double](repeating: 0, count: p * p)
            for a in 0..<p {
                let d = beta[a] - priorMean[a]
                value -= 0.5 * priorPrecision[a] * d * d
                gradient[a] -= priorPrecision[a] * d
                curvature[a * p + a] += priorPrecision[a]
            }
            let step = zip(beta, beta0).map { $0 - $1 }
            var eta = fixedRows.product(step)
            for i in 0..<n { eta[i] += psi[i] }
            link.cells(successes: successes, trials: trials, linearPredictors: eta,
                       logLikelihood: &cellValue, score: &cellScore, information: &cellInformation)
            value += cellValue.reduce(0, +)
            let score = fixedRows.transposedProduct(cellScore)
            for a in 0..<p { gradient[a] += score[a] }
            fixedRows.addWeightedGram(weights: cellInformation, to: &curvature)
            return (value, gradient, curvature, eta)
        }
        let at0 = evaluate(beta0)
        guard let gaussian0 = NewtonGaussian(at: beta0, gradient: at0.gradient, curvature: at0.curvature) else {
            return
        }
        let beta1 = gaussian0.draw(using: generator)
        let at1 = evaluate(beta1)
        counts.coefficientProposals += 1
        guard let gaussian1 = NewtonGaussian(at: beta1, gradient: at1.gradient, curvature: at1.curvature) else {
            return
        }
        let logRatio = at1.value - at0.value + gaussian1.logDensity(beta0) - gaussian0.logDensity(beta1)
        if logRatio.isFinite, log(generator.uniform()) < logRatio {
            counts.coefficientAcceptances += 1
            s.coefficients = beta1
            psi = at1.eta
        }
    }

    /// (u_coarse[g] + c_g, u_fine[m] − c_g for every fine level m inside g),
    /// for each coarse level g, with c_g from its exact Gaussian
    /// conditional (precision 1/σ_coarse² + n_g/σ_fine²): ψ is unchanged.
    func nestedCentringStep(_ s: inout State, _ nesting: Nesting, using generator: Generator) {
        let fine = nesting.fine, coarse = nesting.coarse
        let fineTau = 1 / (s.standardDeviations[fine] * s.standardDeviations[fine])
        let coarseTau = 1 / (s.standardDeviations[coarse] * s.standardDeviations[coarse])
        let groups = s.effects[coarse].count
        var count = [Double](repeating: 0, count: groups), total = count
        for (m, g) in nesting.parent.enumerated() {
            count[Int(g)] += 1
            total[Int(g)] += s.effects[fine][m]
        }
        var shift = [Double](repeating: 0, count: groups)
        for g in 0..<groups {
            let precision = coarseTau + count[g] * fineTau
            let mean = (-coarseTau * s.effects[coarse][g] + fineTau * total[g]) / precision
            shift[g] = mean + generator.normal() / precision.squareRoot()
            s.effects[coarse][g] += shift[g]
        }
        for (m, g) in nesting.parent.enumerated() { s.effects[fine][m] -= shift[Int(g)] }
    }

    /// σₖ with each uₖ[l] keeping its standardised place in a Gaussian
    /// approximation of its conditional, and the intercept compensating.
    func scaleStep(_ s: inout State, term k: Int, psi: inout [Double], using generator: Generator,
                           evaluations: inout Int) {
        let n = design.cellCount
        let levelOfCell = design.randomTerms[k].levelOfCell
        let levels = s.effects[k].count
        let sigma0 = s.standardDeviations[k]
        let u0 = s.effects[k]
        let intercept = interceptIndex
        let compensate = intercept != nil
        let alpha0 = intercept.map { s.coefficients[$0] } ?? 0
        func shift(_ v: Double) -> Double { compensate ? -interceptDrift * v * v : 0 }
        let anchor = alpha0 - shift(sigma0)      // a, fixed by the move
        // rest: ψ without uₖ and without α when α compensates.
        var rest = [Double](repeating: 0, count: n)
        for i in 0..<n { rest[i] = psi[i] - u0[Int(levelOfCell[i])] - (compensate ? alpha0 : 0) }
        // Each level's Gaussian approximation at u = 0 (α at the anchor):
        // information I and score S, fixed during the move.
        var eta = rest
        if compensate { for i in 0..<n { eta[i] += anchor } }
        var cellValue = [Double](repeating: 0, count: n), cellScore = cellValue, cellInformation = cellValue
        link.cells(successes: successes, trials: trials, linearPredictors: eta,
                   logLikelihood: &cellValue, score: &cellScore, information: &cellInformation)
        var information = [Double](repeating: 0, count: levels), score = information
        for i in 0..<n {
            let l = Int(levelOfCell[i])
            score[l] += cellScore[i]
            information[l] += cellInformation[i]
        }
        // z = (u − m(σ))·√P(σ), P = I + 1/σ², m = S/P.
        let precision0 = information.map { $0 + 1 / (sigma0 * sigma0) }
        let z = (0..<levels).map { l in (u0[l] - score[l] / precision0[l]) * precision0[l].squareRoot() }
        // u(σ) = m(σ) + z/√P(σ) = (S/√P + z)/√P, into `u`; returns Σ u² and
        // Σ log P.
        func effects(_ v: Double, into u: inout [Double]) -> (squares: Double, logPrecisions: Double) {
            let tau = 1 / (v * v)
            var squares = 0.0, precisions = LogOfProduct()
            u.withUnsafeMutableBufferPointer { ub in
                for l in 0..<levels {
                    let q = information[l] + tau
                    let root = 1 / q.squareRoot()
                    let value = (score[l] * root + z[l]) * root
                    ub[l] = value
                    squares += value * value
                    precisions.multiply(by: q)
                }
            }
            return (squares, precisions.value)
        }
        let interceptPrior = intercept.map { (priorMean[$0], priorPrecision[$0]) }
        var u = u0
        let newSigma = PolyaGammaGibbs.sliceScale(
            from: sigma0, prior: scalePriors[k], evaluations: &evaluations,
            logLikelihood: { v in
                let (squares, logPrecisions) = effects(v, into: &u)
                let alpha = anchor + shift(v)
                // N(u; 0, σ²) and the Jacobian |du/dz| = P^(−1/2).
                var sum = -0.5 * squares / (v * v) - Double(levels) * log(v) - 0.5 * logPrecisions
                let offset = compensate ? alpha : 0
                eta.withUnsafeMutableBufferPointer { e in
                    u.withUnsafeBufferPointer { ub in
                        for i in 0..<n { e[i] = rest[i] + ub[Int(levelOfCell[i])] + offset }
                    }
                }
                sum += link.logLikelihood(successes: successes, trials: trials, linearPredictors: eta)
                if compensate, let (m, q) = interceptPrior {
                    sum -= 0.5 * q * (alpha - m) * (alpha - m)
                }
                return sum
            }, using: generator)
        var u1 = u0
        _ = effects(newSigma, into: &u1)
        let alpha1 = anchor + shift(newSigma)
        for i in 0..<n { psi[i] = rest[i] + u1[Int(levelOfCell[i])] + (compensate ? alpha1 : 0) }
        if compensate, let j = intercept { s.coefficients[j] = alpha1 }
        s.effects[k] = u1
        s.standardDeviations[k] = newSigma
    }

    /// σₖ non-centred (uₖ = σηₖ, η fixed) with every fixed effect scaled by
    /// g(σ)/g(σ₀), g(σ) = √(1 + c²(σ² + Σ other σ²)), c = 16√3/(15π): the
    /// attenuation of a logistic model's coefficients by its random effects
    /// (Zeger, Liang & Albert 1988), so that the population-average model
    /// stays in place while σ moves. A slice step on t = log σ in the
    /// coordinates (b = β/g(σ), t, η), whose Jacobian is σ·g(σ)^p (σ^L of
    /// the effects cancels their prior).
    func attenuatingScaleStep(_ s: inout State, term k: Int, psi: inout [Double], using generator: Generator,
                              evaluations: inout Int) {
        let n = design.cellCount, p = design.fixedCount
        let levelOfCell = design.randomTerms[k].levelOfCell
        let sigma0 = s.standardDeviations[k]
        let eta = s.effects[k].map { $0 / sigma0 }
        let others = s.standardDeviations.enumerated().reduce(0.0) { $0 + ($1.offset == k ? 0 : $1.element * $1.element) }
        let c2 = pow(16 * 3.0.squareRoot() / (15 * Double.pi), 2)
        func g(_ v: Double) -> Double { (1 + c2 * (v * v + others)).squareRoot() }
        let g0 = g(sigma0)
        let fixedPart = fixedRows.product(s.coefficients)
        var rest = [Double](repeating: 0, count: n)
        for i in 0..<n { rest[i] = psi[i] - fixedPart[i] - s.effects[k][Int(levelOfCell[i])] }
        let b = s.coefficients.map { $0 / g0 }
        var predictors = [Double](repeating: 0, count: n)
        let newSigma = PolyaGammaGibbs.sliceScale(
            from: sigma0, prior: scalePriors[k], evaluations: &evaluations,
            logLikelihood: { v in
                let gv = g(v), ratio = gv / g0
                var sum = Double(p) * log(gv)
                for a in 0..<p {
                    let d = b[a] * gv - priorMean[a]
                    sum -= 0.5 * priorPrecision[a] * d * d
                }
                for i in 0..<n { predictors[i] = rest[i] + fixedPart[i] * ratio + v * eta[Int(levelOfCell[i])] }
                return sum + link.logLikelihood(successes: successes, trials: trials, linearPredictors: predictors)
            }, using: generator)
        let ratio = g(newSigma) / g0
        for i in 0..<n { psi[i] = rest[i] + fixedPart[i] * ratio + newSigma * eta[Int(levelOfCell[i])] }
        s.coefficients = b.map { $0 * g(newSigma) }
        s.effects[k] = eta.map { $0 * newSigma }
        s.standardDeviations[k] = newSigma
    }
}

/// N(x + H⁻¹g, H⁻¹) for a point x, a gradient g and a positive-definite H
/// (upper triangle, row-major): the Newton proposal of the exact moves.
struct NewtonGaussian {
    let mean: [Double]
    /// The Cholesky factor L of H (lower triangle, row-major).
    let factor: [Double]
    let logDeterminant: Double

    init?(at point: [Double], gradient: [Double], curvature upper: [Double]) {
        let p = point.count
        var h = upper
        for a in 0..<p { for c in 0..<a { h[a * p + c] = h[c * p + a] } }
        var g = gradient
        var step = [Double](repeating: 0, count: p)
        let ok = h.withUnsafeMutableBufferPointer { hb in
            g.withUnsafeMutableBufferPointer { gb in
                step.withUnsafeMutableBufferPointer { sb in
                    var hm = gsl_matrix_view_array(hb.baseAddress, p, p)
                    var gv = gsl_vector_view_array(gb.baseAddress, p)
                    var sv = gsl_vector_view_array(sb.baseAddress, p)
                    return gsl_linalg_cholesky_decomp1(&hm.matrix) == 0
                        && gsl_linalg_cholesky_solve(&hm.matrix, &gv.vector, &sv.vector) == 0
                }
            }
        }
        guard ok, step.allSatisfy(\.isFinite) else { return nil }
        mean = zip(point, step).map(+)
        factor = h
        logDeterminant = 2 * (0..<p).reduce(0) { $0 + log(h[$1 * p + $1]) }
    }

    /// mean + L⁻ᵀz, z standard normal: a draw from N(mean, H⁻¹).
    func draw(using generator: Generator) -> [Double] {
        let p = mean.count
        var z = (0..<p).map { _ in generator.normal() }
        // Back substitution Lᵀw = z.
        for a in stride(from: p - 1, through: 0, by: -1) {
            var v = z[a]
            for c in (a + 1)..<p { v -= factor[c * p + a] * z[c] }
            z[a] = v / factor[a * p + a]
        }
        return zip(mean, z).map(+)
    }

    /// log N(value; mean, H⁻¹) up to the constant −(p/2)log 2π.
    func logDensity(_ value: [Double]) -> Double {
        let p = mean.count
        // ‖Lᵀ(value − mean)‖²
        var quadratic = 0.0
        for a in 0..<p {
            var v = 0.0
            for c in a..<p { v += factor[c * p + a] * (value[c] - mean[c]) }
            quadratic += v * v
        }
        return 0.5 * logDeterminant - 0.5 * quadratic
    }
}

extension PolyaGammaGibbs {
    /// Every coefficient, effect and SD scaled by one λ = eᵗ (the
    /// `dilation` move): Metropolis–Hastings on t with the Newton proposal
    /// N(g/h, 1/h) from t = 0 and its reverse, for the density
    /// π(λθ)·λ^d (Liu & Wu 1999), in which each effect's prior N(u; 0, σ²)
    /// cancels its own Jacobian, leaving λ^(p + K).
    func dilationStep(_ s: inout State, psi: inout [Double], using generator: Generator,
                      counts: inout ExactMoveCounts) {
        let n = design.cellCount, p = design.fixedCount, terms = design.randomTerms.count
        let beta = s.coefficients, sigma = s.standardDeviations, psi0 = psi
        let dimension = Double(p + terms)
        var cellValue = [Double](repeating: 0, count: n), cellScore = cellValue, cellInformation = cellValue
        // log target, its derivative and a positive curvature at t.
        func evaluate(_ t: Double) -> (value: Double, gradient: Double, curvature: Double) {
            let lambda = exp(t)
            var value = dimension * t, gradient = dimension, curvature = 0.0
            for k in 0..<terms {
                let prior = scalePriors[k]
                let centre = prior.logDensity(standardDeviation: lambda * sigma[k])
                guard centre > -.infinity else { return (-.infinity, 0, 1) }
                // The prior's t-derivatives by central differences.
                let e = 1e-4
                let up = prior.logDensity(standardDeviation: lambda * sigma[k] * exp(e))
                let down = prior.logDensity(standardDeviation: lambda * sigma[k] * exp(-e))
                value += centre
                if up > -.infinity && down > -.infinity {
                    gradient += (up - down) / (2 * e)
                    curvature += max(0, -(up - 2 * centre + down) / (e * e))
                }
            }
            for a in 0..<p {
                let b = lambda * beta[a]
                let d = b - priorMean[a]
                value -= 0.5 * priorPrecision[a] * d * d
                gradient -= priorPrecision[a] * d * b
                curvature += priorPrecision[a] * b * b
            }
            // λ scales ψ without its offset.
            var eta = psi0.map { lambda * $0 }
            if design.hasOffset { for i in 0..<n { eta[i] += (1 - lambda) * design.offsets[i] } }
            link.cells(successes: successes, trials: trials, linearPredictors: eta,
                       logLikelihood: &cellValue, score: &cellScore, information: &cellInformation)
            for i in 0..<n {
                // dψᵢ/dt = λ(ψᵢ⁰ − oᵢ) = ψᵢ − oᵢ.
                let d = eta[i] - design.offset(i)
                value += cellValue[i]
                gradient += cellScore[i] * d
                curvature += cellInformation[i] * d * d
            }
            return (value, gradient, max(curvature, 1e-8))
        }
        let (f0, g0, h0) = evaluate(0)
        let mean0 = g0 / h0
        let t1 = mean0 + generator.normal() / h0.squareRoot()
        let (f1, g1, h1) = evaluate(t1)
        let mean1 = t1 + g1 / h1
        let reverse = 0.5 * log(h1) - 0.5 * h1 * mean1 * mean1
        let forward = 0.5 * log(h0) - 0.5 * h0 * (t1 - mean0) * (t1 - mean0)
        let logRatio = f1 - f0 + reverse - forward
        counts.dilationProposals += 1
        guard logRatio.isFinite, log(generator.uniform()) < logRatio else { return }
        counts.dilationAcceptances += 1
        let lambda = exp(t1)
        s.coefficients = beta.map { $0 * lambda }
        s.standardDeviations = sigma.map { $0 * lambda }
        s.effects = s.effects.map { $0.map { $0 * lambda } }
        for i in 0..<n { psi[i] = psi0[i] * lambda + (1 - lambda) * design.offset(i) }
    }
}
