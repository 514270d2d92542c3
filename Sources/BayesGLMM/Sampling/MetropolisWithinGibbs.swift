import Foundation
import Variates

/// An adaptive random-walk Metropolis-within-Gibbs sampler on the exact
/// binomial likelihood (no augmentation), for any `Link`.
///
/// Model: cell i has yᵢ successes in nᵢ trials, pᵢ = F(ηᵢ) with
/// ηᵢ = xᵢ'β + Σₖ uₖ[jₖ(i)], uₖ ~ N(0, σₖ²), β ~ N(m, diag(s²)), σₖ ~ its
/// `ScalePrior`; the log posterior is Σᵢ ℓᵢ(ηᵢ) (`Link.logLikelihood`) plus
/// the log priors. One sweep, each update a Metropolis step that leaves the
/// posterior invariant:
///
/// 1. β as one block: β' = β + λ·Lz, z ~ N(0, I), LLᵀ the proposal's shape;
///    accepted with probability min(1, π(β')/π(β)), where only Xβ changes.
/// 2. For each term k, every level at once: uₖₗ' = uₖₗ + hₖₗ zₖₗ. Given
///    everything else the levels of one term are independent — each cell
///    belongs to exactly one level of the term, so the cells of two levels
///    are disjoint — and each level is accepted or rejected on its own, from
///    Σ_{i ∈ l} (ℓᵢ(ηᵢ') − ℓᵢ(ηᵢ)) − (uₖₗ'² − uₖₗ²)/(2σₖ²): L univariate
///    Metropolis steps done as one pass over the cells. Terms go one after
///    another, since a cell is shared between terms. Then, for every column
///    j of X that is constant within each level of the term (the intercept;
///    a level's own covariates, like VerbAgg's Anger within a person or
///    btype within an item), β_j and the term's effects are moved together
///    by an exact draw (`Translation`) that leaves η unchanged.
/// 3. For each term, log σₖ = t by a random walk t' = t + gₖz (centred:
///    the target is p(σ)·σ·N(uₖ | 0, σ²I), the σ from the change of
///    variable to t), then, when `jointScaleSteps`, again with the effects
///    moving with it (`jointStep`): each uₖₗ keeps its standardised place
///    in a Gaussian approximation of its conditional, which for a level
///    without data is uₖₗ' = uₖₗσ'/σ (non-centred) and for a level whose
///    data dominate is uₖₗ' ≈ uₖₗ (centred). The centred step alone sticks
///    when the levels carry little information, the non-centred one when
///    they carry much (Papaspiliopoulos, Roberts & Sköld 2007); the joint
///    step moves in both, and in the mixtures of the two that crossed
///    designs produce — clients seen twice next to stylists seen a
///    thousand times.
///
/// Adaptation (warm-up only, `endWarmup` freezes it): each log proposal
/// scale follows a Robbins–Monro recursion towards a target acceptance,
/// log h ← log h + δ(n)(α − α*) with α = min(1, π'/π) the step's acceptance
/// probability, δ(n) = n^(−1/2) at sweep n, α* = 0.44 for the univariate
/// steps and 0.234 for the β block (Roberts, Gelman & Gilks 1997; Roberts &
/// Rosenthal 2001). This is Roberts & Rosenthal's (2009, "Examples of
/// adaptive MCMC", §3) adaptive Metropolis-within-Gibbs with their per-batch
/// step min(0.01, n^(−1/2)) applied every sweep without the 0.01 cap: with
/// the cap a scale moves at most 0.2 on the log scale in 1,000 warm-up
/// sweeps, too little to recover from a start off by a factor of ten. The
/// β block's shape is the running covariance of the warm-up draws of β
/// (Haario, Saksman & Tamminen 2001), used after `covarianceDelay` sweeps,
/// with λ starting at 2.38/√p and adapted as above, the global-scale form of
/// Andrieu & Thoms (2008, Algorithm 4): the running covariance is that of β's
/// marginal posterior, wider than the conditional the block moves in, and
/// λ takes up the difference. Before the delay the shape is
/// (I·X'NX + diag(1/s²))⁻¹, the conditional posterior covariance of β with
/// I the link's information per trial (`Link.unitInformation`); the
/// effects' scales start at 2.4/√(I·Nₖₗ + 1/σₖ²) (Nₖₗ the trials of level
/// l), the log σ scales at 2.4/√(2Lₖ) (centred) and 0.5 (joint), and
/// the joint step's centres at the starting effects.
///
/// Scales are kept per level, not per term: levels' information differs by
/// orders of magnitude (a client seen twice, a stylist seen a thousand
/// times), and so do their posterior SDs.
public struct MetropolisWithinGibbs: SamplingKernel {
    /// The tuning a chain carries: adapted during warm-up, then fixed.
    public struct Adaptation: Sendable, Equatable {
        /// Whether `step` still adapts (true until `endWarmup`).
        public var isAdapting = true
        /// Sweeps adapted so far.
        public var sweeps = 0
        /// log λ, the β block's global scale.
        public var fixedLogScale: Double
        /// The lower Cholesky factor (row-major p×p) of the β block's shape.
        public var fixedShape: [Double]
        /// Running mean and scatter Σ(β − β̄)(β − β̄)ᵀ of β's warm-up draws.
        public var fixedMean: [Double]
        public var fixedScatter: [Double]
        /// log hₖₗ, per term and level.
        public var effectLogScales: [[Double]]
        /// log gₖ of the centred and the joint log σₖ steps.
        public var scaleLogScales: [Double]
        public var jointLogScales: [Double]
        /// cₖₗ, per term and level: where the joint step expands each
        /// level's log-likelihood.
        public var effectCentres: [[Double]]
    }

    public struct State: Sendable, Equatable {
        public var coefficients: [Double]
        public var effects: [[Double]]
        public var standardDeviations: [Double]
        public var adaptation: Adaptation
    }

    /// Acceptance in one sweep.
    public struct Info: Sendable {
        /// 1 or 0 for the β block; nil without fixed effects.
        public var fixedAcceptance: Double?
        /// Per term, the fraction of its levels accepted.
        public var effectAcceptance: [Double]
        /// Per term, 1 or 0 for the centred log σ step.
        public var scaleAcceptance: [Double]
        /// Per term, 1 or 0 for the joint (σₖ, uₖ) step (empty unless
        /// `jointScaleSteps`).
        public var jointScaleAcceptance: [Double]
    }

    public static let blockTarget = 0.234
    public static let univariateTarget = 0.44
    /// Warm-up sweeps before the β block's shape comes from its draws.
    public static let covarianceDelay = 100

    public let design: Design
    public let priors: Priors
    public let link: Link
    /// Follow each centred log σ step with a joint (σₖ, uₖ) one.
    public var jointScaleSteps = true
    /// Where chains start (`initialState(using:)`).
    public var initialValues = InitialValues.prior
    let priorMean: [Double]
    let priorPrecision: [Double]
    let scalePriors: [ScalePrior]
    /// Cholesky factor of (I·X'NX + diag(1/s²))⁻¹.
    let initialShape: [Double]
    /// Trials per term and level.
    let levelTrials: [[Double]]
    /// Per term: the translation steps (`Translation`), one per column of
    /// X constant within each of its levels.
    let translations: [[Translation]]

    public init(design: Design, priors: Priors = Priors(), link: Link = .logit) {
        self.design = design
        self.priors = priors
        self.link = link
        priorMean = design.fixedNames.map { priors.fixed($0).mean }
        priorPrecision = design.fixedNames.map { 1 / pow(priors.fixed($0).standardDeviation, 2) }
        scalePriors = design.randomTerms.map { priors.scale($0.name) }
        initialShape = MetropolisWithinGibbs.initialShape(design, link: link, priorPrecision: priorPrecision)
        translations = design.randomTerms.map { Translation.all(in: design, term: $0) }
        levelTrials = design.randomTerms.map { term in
            var total = [Double](repeating: 0, count: term.levelCount)
            for (i, l) in term.levelOfCell.enumerated() { total[Int(l)] += design.trials[i] }
            return total
        }
    }

    public var parameterNames: [String] { design.parameterNames }

    public func values(of state: State) -> [Double] {
        state.coefficients + state.standardDeviations + state.effects.flatMap { $0 }
    }

    /// A start drawn as `initialValues` says, each σ moved inside its
    /// prior's support (`InitialValues.Start.inside`), with the starting
    /// scales described above.
    public func initialState(using generator: Generator) -> State {
        let start = initialValues.start(for: design, link: link, using: generator).inside(scalePriors)
        let p = design.fixedCount
        let effectScales = design.randomTerms.indices.map { k in
            let precision = 1 / (start.standardDeviations[k] * start.standardDeviations[k])
            return levelTrials[k].map { log(2.4 / (link.unitInformation * $0 + precision).squareRoot()) }
        }
        let adaptation = Adaptation(
            fixedLogScale: log(2.38 / Double(max(p, 1)).squareRoot()), fixedShape: initialShape,
            fixedMean: [Double](repeating: 0, count: p), fixedScatter: [Double](repeating: 0, count: p * p),
            effectLogScales: effectScales,
            scaleLogScales: design.randomTerms.map { log(2.4 / (2 * Double($0.levelCount)).squareRoot()) },
            jointLogScales: design.randomTerms.map { _ in log(0.5) },
            effectCentres: start.effects)
        return State(coefficients: start.coefficients, effects: start.effects,
                     standardDeviations: start.standardDeviations, adaptation: adaptation)
    }

    /// Acceptance of the sweep by step: "fixed" (the β block), "r(term)"
    /// (the fraction of the term's levels), "sd(term)" (centred) and
    /// "sd(term) joint".
    public func rates(of info: Info) -> [String: Double] {
        var rates: [String: Double] = [:]
        if let fixed = info.fixedAcceptance { rates["fixed"] = fixed }
        for (k, term) in design.randomTerms.enumerated() {
            rates["r(\(term.name))"] = info.effectAcceptance[k]
            rates["sd(\(term.name))"] = info.scaleAcceptance[k]
            if k < info.jointScaleAcceptance.count {
                rates["sd(\(term.name)) joint"] = info.jointScaleAcceptance[k]
            }
        }
        return rates
    }

    /// Stops adapting: the scales and the β block's shape stay as they are.
    public func endWarmup(_ state: State) -> State {
        var s = state
        s.adaptation.isAdapting = false
        return s
    }

    public func step(_ state: State, using generator: Generator) -> (State, Info) {
        var s = state
        let n = design.cellCount, p = design.fixedCount, terms = design.randomTerms
        let x = design.fixed, y = design.successes, trials = design.trials
        let adapting = s.adaptation.isAdapting
        let rate = 1 / Double(s.adaptation.sweeps + 1).squareRoot()
        var info = Info(fixedAcceptance: nil, effectAcceptance: [], scaleAcceptance: [], jointScaleAcceptance: [])

        // η and each cell's log-likelihood, kept current through the sweep.
        var eta = design.hasOffset ? design.offsets : [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<p { eta[i] += x[i * p + j] * s.coefficients[j] } }
        for (k, term) in terms.enumerated() {
            let u = s.effects[k]
            for i in 0..<n { eta[i] += u[Int(term.levelOfCell[i])] }
        }
        var logLikelihood = (0..<n).map { link.logLikelihood(successes: y[$0], trials: trials[$0], linearPredictor: eta[$0]) }
        var proposedEta = [Double](repeating: 0, count: n)
        var proposedLogLikelihood = [Double](repeating: 0, count: n)

        // 1. β as one block.
        if p > 0 {
            let z = (0..<p).map { _ in generator.normal() }
            let lambda = exp(s.adaptation.fixedLogScale)
            let shape = s.adaptation.fixedShape
            var move = [Double](repeating: 0, count: p)
            for a in 0..<p { for b in 0...a { move[a] += lambda * shape[a * p + b] * z[b] } }
            let proposal = zip(s.coefficients, move).map { $0 + $1 }
            var logRatio = 0.0
            for j in 0..<p {
                let old = s.coefficients[j] - priorMean[j], new = proposal[j] - priorMean[j]
                logRatio -= 0.5 * priorPrecision[j] * (new * new - old * old)
            }
            for i in 0..<n {
                var e = eta[i]
                for j in 0..<p { e += x[i * p + j] * move[j] }
                proposedEta[i] = e
                proposedLogLikelihood[i] = link.logLikelihood(successes: y[i], trials: trials[i], linearPredictor: e)
                logRatio += proposedLogLikelihood[i] - logLikelihood[i]
            }
            let accepted = MetropolisWithinGibbs.accepts(logRatio, using: generator)
            if accepted {
                s.coefficients = proposal
                swap(&eta, &proposedEta)
                swap(&logLikelihood, &proposedLogLikelihood)
            }
            info.fixedAcceptance = accepted ? 1 : 0
            if adapting {
                s.adaptation.fixedLogScale += rate * (MetropolisWithinGibbs.probability(logRatio) - MetropolisWithinGibbs.blockTarget)
                adaptShape(&s.adaptation, to: s.coefficients)
            }
        }

        // 2. Each term's levels, all at once.
        for (k, term) in terms.enumerated() {
            let levels = term.levelCount
            let u = s.effects[k]
            let precision = 1 / (s.standardDeviations[k] * s.standardDeviations[k])
            var proposal = [Double](repeating: 0, count: levels)
            var logRatio = [Double](repeating: 0, count: levels)
            for l in 0..<levels {
                proposal[l] = u[l] + exp(s.adaptation.effectLogScales[k][l]) * generator.normal()
                logRatio[l] = -0.5 * precision * (proposal[l] * proposal[l] - u[l] * u[l])
            }
            for i in 0..<n {
                let l = Int(term.levelOfCell[i])
                let e = eta[i] + (proposal[l] - u[l])
                proposedLogLikelihood[i] = link.logLikelihood(successes: y[i], trials: trials[i], linearPredictor: e)
                logRatio[l] += proposedLogLikelihood[i] - logLikelihood[i]
            }
            var accepted = [Bool](repeating: false, count: levels)
            var count = 0
            for l in 0..<levels {
                accepted[l] = MetropolisWithinGibbs.accepts(logRatio[l], using: generator)
                if accepted[l] { count += 1 }
                if adapting {
                    s.adaptation.effectLogScales[k][l] += rate
                        * (MetropolisWithinGibbs.probability(logRatio[l]) - MetropolisWithinGibbs.univariateTarget)
                }
            }
            for i in 0..<n {
                let l = Int(term.levelOfCell[i])
                if accepted[l] {
                    eta[i] += proposal[l] - u[l]
                    logLikelihood[i] = proposedLogLikelihood[i]
                }
            }
            for l in 0..<levels where accepted[l] { s.effects[k][l] = proposal[l] }
            info.effectAcceptance.append(levels > 0 ? Double(count) / Double(levels) : 0)
            for move in translations[k] {
                move.apply(coefficients: &s.coefficients, effects: &s.effects[k],
                           standardDeviation: s.standardDeviations[k], priorMean: priorMean[move.column],
                           priorPrecision: priorPrecision[move.column], using: generator)
            }
        }

        // 3. Each term's log σ: centred, then jointly with its effects.
        for (k, term) in terms.enumerated() {
            let prior = scalePriors[k]
            let levels = Double(term.levelCount)
            let squares = s.effects[k].reduce(0) { $0 + $1 * $1 }
            func centred(_ t: Double) -> Double {
                prior.logDensity(standardDeviation: exp(t)) + t - levels * t - 0.5 * squares * exp(-2 * t)
            }
            let t = log(s.standardDeviations[k])
            let proposed = t + exp(s.adaptation.scaleLogScales[k]) * generator.normal()
            let logRatio = centred(proposed) - centred(t)
            let accepted = MetropolisWithinGibbs.accepts(logRatio, using: generator)
            if accepted { s.standardDeviations[k] = exp(proposed) }
            info.scaleAcceptance.append(accepted ? 1 : 0)
            if adapting {
                s.adaptation.scaleLogScales[k] += rate
                    * (MetropolisWithinGibbs.probability(logRatio) - MetropolisWithinGibbs.univariateTarget)
            }
            guard jointScaleSteps else { continue }
            let moved = jointStep(&s, term: k, eta: &eta, logLikelihood: &logLikelihood, proposedEta: &proposedEta,
                                  proposedLogLikelihood: &proposedLogLikelihood, rate: adapting ? rate : nil,
                                  using: generator)
            info.jointScaleAcceptance.append(moved ? 1 : 0)
        }
        if adapting {
            // The centres of the joint steps' Gaussian approximations: a
            // moving average of each effect over (at most) the last 200
            // warm-up sweeps, fixed once the warm-up ends.
            let weight = 1 / Double(min(s.adaptation.sweeps + 1, 200))
            for k in terms.indices {
                for l in s.effects[k].indices {
                    s.adaptation.effectCentres[k][l] += weight * (s.effects[k][l] - s.adaptation.effectCentres[k][l])
                }
            }
        }
        if adapting { s.adaptation.sweeps += 1 }
        return (s, info)
    }

    /// The joint step of term k's (σₖ, uₖ): t' = t + gₖz on t = log σₖ,
    /// with each effect carried along by the map that keeps its standardised
    /// place in a Gaussian approximation of its conditional,
    ///
    ///     uₗ' = mₗ(σ') + √(Pₗ(σ)/Pₗ(σ'))·(uₗ − mₗ(σ)),
    ///
    /// where N(mₗ(σ), 1/Pₗ(σ)) approximates p(uₗ | σ, rest): the level's
    /// log-likelihood expanded to second order at a fixed centre cₗ (its
    /// score Gₗ and Fisher information Hₗ there,
    /// `Link.scoreAndInformation`), times the N(0, σ²) prior, so that
    /// Pₗ(σ) = Hₗ + 1/σ² and mₗ(σ) = (Gₗ + Hₗcₗ)/Pₗ(σ). The map is a
    /// bijection whose inverse is the same map from σ' back to σ, so with
    /// the symmetric proposal for t the step is accepted with probability
    /// min(1, π(t', u')/π(t, u)·J), J = Πₗ√(Pₗ(σ)/Pₗ(σ')) its Jacobian
    /// and π(t, u) = p(σ)·σ·Πₗ N(uₗ | 0, σ²)·Πᵢ Lᵢ the posterior in (t, u).
    ///
    /// This is partial non-centring (Papaspiliopoulos, Roberts & Sköld 2003,
    /// 2007) with each level's weight set by its own information: a level
    /// with no data (Hₗ = 0) has mₗ = 0 and Pₗ = 1/σ², so uₗ' = uₗσ'/σ,
    /// the non-centred move; a level whose data dominate its prior
    /// (Hₗ ≫ 1/σ²) barely moves, the centred one. When the conditionals are
    /// Gaussian the acceptance is that of a random walk on σ's marginal
    /// with the effects integrated out, the collapsed update the Gibbs
    /// sampler makes (cf. Knorr-Held & Rue 2002, who redraw uₖ from such an
    /// approximation instead of moving it deterministically). The centres
    /// cₗ are moving averages of the warm-up draws, fixed afterwards; any
    /// value leaves the posterior invariant, a good one makes the map
    /// nearly exact. Returns whether the step was accepted; `rate`, when
    /// adapting, is the Robbins–Monro step for log gₖ.
    func jointStep(_ s: inout State, term k: Int, eta: inout [Double], logLikelihood: inout [Double],
                   proposedEta: inout [Double], proposedLogLikelihood: inout [Double], rate: Double?,
                   using generator: Generator) -> Bool {
        let term = design.randomTerms[k]
        let levels = term.levelCount, n = design.cellCount
        let y = design.successes, trials = design.trials
        let u = s.effects[k], centre = s.adaptation.effectCentres[k]
        var score = [Double](repeating: 0, count: levels), information = score
        for i in 0..<n {
            let l = Int(term.levelOfCell[i])
            let e = eta[i] - u[l] + centre[l]
            let d = link.scoreAndInformation(successes: y[i], trials: trials[i], linearPredictor: e)
            score[l] += d.score
            information[l] += d.information
        }
        let t = log(s.standardDeviations[k])
        let proposed = t + exp(s.adaptation.jointLogScales[k]) * generator.normal()
        let tau = exp(-2 * t), proposedTau = exp(-2 * proposed)
        var moved = [Double](repeating: 0, count: levels)
        let prior = scalePriors[k]
        var ratio = prior.logDensity(standardDeviation: exp(proposed)) + proposed
            - prior.logDensity(standardDeviation: exp(t)) - t - Double(levels) * (proposed - t)
        for l in 0..<levels {
            let precision = information[l] + tau, proposedPrecision = information[l] + proposedTau
            let shift = score[l] + information[l] * centre[l]
            let factor = (precision / proposedPrecision).squareRoot()
            moved[l] = shift / proposedPrecision + factor * (u[l] - shift / precision)
            ratio += log(factor) - 0.5 * (moved[l] * moved[l] * proposedTau - u[l] * u[l] * tau)
        }
        for i in 0..<n {
            let l = Int(term.levelOfCell[i])
            let e = eta[i] + (moved[l] - u[l])
            proposedEta[i] = e
            proposedLogLikelihood[i] = link.logLikelihood(successes: y[i], trials: trials[i], linearPredictor: e)
            ratio += proposedLogLikelihood[i] - logLikelihood[i]
        }
        let accepted = MetropolisWithinGibbs.accepts(ratio, using: generator)
        if accepted {
            s.standardDeviations[k] = exp(proposed)
            s.effects[k] = moved
            swap(&eta, &proposedEta)
            swap(&logLikelihood, &proposedLogLikelihood)
        }
        if let rate {
            s.adaptation.jointLogScales[k] += rate
                * (MetropolisWithinGibbs.probability(ratio) - MetropolisWithinGibbs.univariateTarget)
        }
        return accepted
    }

    /// Adds β to the running moments (Welford) and, after
    /// `covarianceDelay` sweeps, takes the block's shape from them: the
    /// Cholesky factor of the sample covariance plus 10⁻⁸ of the starting
    /// shape's diagonal (kept positive definite), or the old shape if that
    /// fails.
    func adaptShape(_ adaptation: inout Adaptation, to beta: [Double]) {
        MetropolisWithinGibbs.adaptShape(&adaptation.fixedMean, &adaptation.fixedScatter, &adaptation.fixedShape,
                                         sweeps: adaptation.sweeps, initialShape: initialShape, to: beta)
    }

    /// `adaptShape` on the moments and shape themselves, after `sweeps`
    /// earlier warm-up sweeps, for any kernel with a β block.
    static func adaptShape(_ mean: inout [Double], _ scatter: inout [Double], _ shape: inout [Double], sweeps: Int,
                           initialShape: [Double], to beta: [Double]) {
        let p = beta.count
        let count = Double(sweeps + 1)
        let delta = zip(beta, mean).map { $0 - $1 }
        for a in 0..<p { mean[a] += delta[a] / count }
        for a in 0..<p {
            for b in 0..<p { scatter[a * p + b] += delta[a] * (beta[b] - mean[b]) }
        }
        guard sweeps + 1 >= MetropolisWithinGibbs.covarianceDelay else { return }
        var covariance = scatter.map { $0 / (count - 1) }
        for a in 0..<p {
            var diagonal = 0.0
            for b in 0...a { diagonal += initialShape[a * p + b] * initialShape[a * p + b] }
            covariance[a * p + a] += 1e-8 * diagonal
        }
        if let factor = DenseSymmetric.choleskyFactor(covariance, size: p) { shape = factor }
    }

    /// min(1, e^r), with 0 for r = NaN (−∞ − (−∞)).
    static func probability(_ logRatio: Double) -> Double {
        logRatio.isNaN ? 0 : min(1, exp(logRatio))
    }

    /// Accepts with probability min(1, e^r): log U < r, U uniform on (0, 1].
    static func accepts(_ logRatio: Double, using generator: Generator) -> Bool {
        log(generator.uniformPositive()) < logRatio
    }

    /// The Cholesky factor of (I·X'NX + diag(1/s²))⁻¹, the β block's first
    /// shape (the identity if it cannot be factored).
    static func initialShape(_ design: Design, link: Link, priorPrecision: [Double]) -> [Double] {
        let p = design.fixedCount, x = design.fixed
        var q = [Double](repeating: 0, count: p * p)
        for i in 0..<design.cellCount {
            let w = link.unitInformation * design.trials[i]
            for a in 0..<p { for b in 0...a { q[a * p + b] += w * x[i * p + a] * x[i * p + b] } }
        }
        for a in 0..<p {
            q[a * p + a] += priorPrecision[a]
            for b in 0..<a { q[b * p + a] = q[a * p + b] }
        }
        let covariance = (try? DenseSymmetric.inverse(q, size: p)) ?? identity(p)
        return DenseSymmetric.choleskyFactor(covariance, size: p) ?? identity(p)
    }

    static func identity(_ p: Int) -> [Double] {
        (0..<(p * p)).map { $0 / p == $0 % p ? 1 : 0 }
    }
}
