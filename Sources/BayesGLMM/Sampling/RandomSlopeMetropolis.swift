import Foundation
import Variates

/// An adaptive random-walk Metropolis-within-Gibbs sampler on the exact
/// binomial likelihood for models with random slopes, for any `Link` (the
/// fallback of `RandomSlopeGibbs`, as `MetropolisWithinGibbs` is of
/// `PolyaGammaGibbs`).
///
/// Model: ηᵢ = xᵢ'β + Σₖ zₖᵢ'uₖ[lₖ(i)], uₖₗ ~ N(0, Σₖ), pᵢ = F(ηᵢ). A term
/// with one column has σₖ ~ its `ScalePrior`; a term with q > 1 columns has
/// either Huang & Wand's prior (`CovariancePrior.huangWand`, by default from
/// the term's half-t SD prior, as `RandomSlopeGibbs` has it) or LKJ(η) on
/// its correlation matrix with each column's SD under the term's
/// `ScalePrior` (`CovariancePrior.lkj`, brms's family).
///
/// Each covariance is moved in unconstrained coordinates θ = (log σ₁, …,
/// log σ_q, atanh zᵢⱼ), z the canonical partial correlations of the
/// correlation matrix R = LLᵀ (Lewandowski, Kurowicka & Joe 2009; Stan's
/// transform): row i of L is (zᵢ₀, zᵢ₁√(1 − Lᵢ₀²), …) with Lᵢᵢ the rest of
/// the unit norm. The log prior in θ (`logPrior`) is, for LKJ(η),
///
///     Σⱼ [log p(σⱼ) + log σⱼ] + Σ_{i>j} (η + (q − 2 − j)/2) log(1 − zᵢⱼ²),
///
/// the zᵢⱼ being independent Beta(βⱼ, βⱼ) on (−1, 1) with βⱼ = η + (q − 2
/// − j)/2 under LKJ(η) (LKJ 2009, the C-vine) and 1 − z² the Jacobian of
/// atanh; for Huang & Wand's prior, with a integrated out,
///
///     log p(Σ) = −(ν + 2q)/2 log|Σ| − (ν + q)/2 Σₖ log(ν(Σ⁻¹)ₖₖ + 1/Aₖ²)
///
/// (their eq. 2) plus the Jacobian of θ ↦ Σ: (q + 1) Σⱼ log σⱼ + Σ_{i>j}
/// ((q − 2 − j)/2 + 1) log(1 − zᵢⱼ²) (Σ = DRD gives 2^q Πσⱼ^q, the partial
/// correlations (q − 2 − j)/2 per zᵢⱼ by the same C-vine identity).
///
/// One sweep:
///
/// 1. β as one block, as `MetropolisWithinGibbs` moves it (an adapted
///    Gaussian random walk with the running covariance of warm-up draws).
/// 2. For each term, every level's q-vector at once: uₗ' = uₗ + hₗ(sₗ∘ε),
///    each level accepted or rejected on its own (their cells are
///    disjoint), sₗ fixed per column from the level's information at the
///    start and hₗ adapted towards 0.44 (q = 1) or 0.3 acceptance.
///    Then, for each column j of a term that is also a fixed-effect column
///    a (the intercept; x in `x + (1 + x | g)`), the translation
///    βₐ + c, uₗⱼ − c for every level l, which leaves every η as it was: c
///    is drawn exactly from its Gaussian conditional, precision
///    1/sₐ² + L(Σ⁻¹)ⱼⱼ and mean (Σₗ(Σ⁻¹uₗ)ⱼ − (βₐ − mₐ)/sₐ²)/precision
///    (parameter expansion; the move `Translation` makes for random
///    intercepts), so the intercept and the fixed slopes move with the
///    levels' means instead of against them.
/// 3. For each term, each coordinate of θ by a random walk with the effects
///    fixed (centred: the target is the prior in θ times Πₗ N(uₗ | 0, Σ(θ))),
///    then all of θ at once with the effects carried along non-centred,
///    uₗ' = L'L⁻¹uₗ (L, L' the Cholesky factors of Σ(θ), Σ(θ')): the map's
///    Jacobian |L'|ᴸ/|L|ᴸ cancels the effects' densities, so the step is
///    accepted on the prior in θ and the likelihood alone.
///
/// Adaptation (warm-up only; `endWarmup` freezes it): Robbins–Monro on each
/// log scale, as `MetropolisWithinGibbs`.
public struct RandomSlopeMetropolis: SamplingKernel {
    /// The tuning a chain carries: adapted during warm-up, then fixed.
    public struct Adaptation: Sendable, Equatable {
        public var isAdapting = true
        public var sweeps = 0
        /// log λ and the lower Cholesky factor of the β block's shape, and
        /// the running moments of β's warm-up draws.
        public var fixedLogScale: Double
        public var fixedShape: [Double]
        public var fixedMean: [Double]
        public var fixedScatter: [Double]
        /// log hₗ per term and level, and sₗ per term (levels × q).
        public var effectLogScales: [[Double]]
        public var effectShapes: [[Double]]
        /// Per term, log gₐ for each coordinate of θ (centred), and the
        /// non-centred step's log scale.
        public var covarianceLogScales: [[Double]]
        public var jointLogScales: [Double]
    }

    public struct State: Sendable, Equatable {
        public var coefficients: [Double]
        /// Per term, levels × q, each level's columns together.
        public var effects: [[Double]]
        /// Per term, Σₖ (q × q, row-major).
        public var covariances: [[Double]]
        public var adaptation: Adaptation
    }

    /// Acceptance in one sweep.
    public struct Info: Sendable {
        public var fixedAcceptance: Double?
        /// Per term: the fraction of its levels accepted; of θ's
        /// coordinates accepted (centred); 1 or 0 for the non-centred step.
        public var effectAcceptance: [Double]
        public var covarianceAcceptance: [Double]
        public var jointAcceptance: [Double]
    }


    public let design: Design
    public let priors: Priors
    public let link: Link
    let forms: [CovarianceForm]
    /// Where the chains start: the overdispersed start below, or around an
    /// EB fit (`InitialValues.slopeStart`).
    public var initialValues = InitialValues.prior
    let priorMean: [Double]
    let priorPrecision: [Double]
    let fixedRows: SparseRows
    /// Cholesky factor of (I·X'NX + diag(1/s²))⁻¹, the β block's first shape.
    let initialShape: [Double]
    /// Per term: (column of the term, fixed-effect column) pairs with the
    /// same values at every cell, for the translations of step 2.
    let translations: [[(column: Int, fixed: Int)]]

    /// Throws `InputError` (`.unsupported`, setting "prior") for a term
    /// with q > 1 columns whose SD prior has no Huang–Wand form and no
    /// `cor(term) ~ lkj(η)`.
    public init(design: Design, priors: Priors = Priors(), link: Link = .logit) throws(InputError) {
        self.design = design
        self.priors = priors
        self.link = link
        priorMean = design.fixedNames.map { priors.fixed($0).mean }
        priorPrecision = design.fixedNames.map { 1 / pow(priors.fixed($0).standardDeviation, 2) }
        fixedRows = SparseRows(design.fixed, rows: design.cellCount, columns: design.fixedCount)
        var forms: [CovarianceForm] = []
        for term in design.randomTerms { forms.append(try CovarianceForm.resolve(term, priors: priors)) }
        self.forms = forms
        translations = design.randomTerms.map { term in
            term.columns.enumerated().compactMap { j, name -> (column: Int, fixed: Int)? in
                guard let a = design.fixedNames.firstIndex(of: name) else { return nil }
                let p = design.fixedCount
                let same = (0..<design.cellCount).allSatisfy { term.value(cell: $0, column: j) == design.fixed[$0 * p + a] }
                return same ? (j, a) : nil
            }
        }
        initialShape = MetropolisWithinGibbs.initialShape(design, link: link, priorPrecision: priorPrecision)
    }

    public var parameterNames: [String] { design.parameterNames }

    public func values(of state: State) -> [Double] {
        RandomSlopeGibbs.values(design, coefficients: state.coefficients, effects: state.effects,
                                covariances: state.covariances)
    }

    /// The overdispersed start of `RandomSlopeGibbs` (each SD uniform on
    /// (0.2, 2), moved inside its prior's support) or the start around an EB
    /// fit (`initialValues`), with the starting
    /// scales: sₗⱼ = 1/√(I·Σᵢ nᵢzᵢⱼ² + 1/σⱼ²) over the level's cells, hₗ =
    /// 2.4/√q, θ's coordinates 2.4/√(2L) and the non-centred step 0.5/√dim θ.
    public func initialState(using generator: Generator) -> State {
        func clamp(_ k: Int, _ j: Int, _ sd: Double) -> Double {
            switch forms[k] {
            case let .scale(prior): prior.clamped(sd)
            case let .lkj(_, scales): scales[j].clamped(sd)
            case .huangWand: sd
            }
        }
        let start = initialValues.slopeStart(for: design, link: link, using: generator, clamp: clamp)
        let coefficients = start?.coefficients
            ?? RandomSlopeGibbs.startingCoefficients(design, link: link, using: generator)
        var effects: [[Double]] = [], covariances: [[Double]] = []
        var shapes: [[Double]] = [], effectScales: [[Double]] = [], covarianceScales: [[Double]] = []
        var jointScales: [Double] = []
        for (k, term) in design.randomTerms.enumerated() {
            let q = term.dimension, levels = term.levelCount
            let sds: [Double]
            if let start {
                covariances.append(start.covariances[k])
                effects.append(start.effects[k])
                sds = (0..<q).map { start.covariances[k][$0 * q + $0].squareRoot() }
            } else {
                sds = (0..<q).map { j in clamp(k, j, 0.2 + 1.8 * generator.uniform()) }
                var sigma = [Double](repeating: 0, count: q * q)
                for j in 0..<q { sigma[j * q + j] = sds[j] * sds[j] }
                covariances.append(sigma)
                effects.append((0..<(levels * q)).map { e in sds[e % q] * generator.normal() })
            }
            var information = [Double](repeating: 0, count: levels * q)
            for i in 0..<design.cellCount {
                let l = Int(term.levelOfCell[i])
                for j in 0..<q {
                    let z = term.value(cell: i, column: j)
                    information[l * q + j] += link.unitInformation * design.trials[i] * z * z
                }
            }
            shapes.append(information.indices.map { e in 1 / (information[e] + 1 / (sds[e % q] * sds[e % q])).squareRoot() })
            effectScales.append([Double](repeating: log(2.4 / Double(q).squareRoot()), count: levels))
            let dimension = q + q * (q - 1) / 2
            covarianceScales.append([Double](repeating: log(2.4 / (2 * Double(levels)).squareRoot()), count: dimension))
            jointScales.append(log(0.5 / Double(dimension).squareRoot()))
        }
        let p = design.fixedCount
        let adaptation = Adaptation(
            fixedLogScale: log(2.38 / Double(max(p, 1)).squareRoot()), fixedShape: initialShape,
            fixedMean: [Double](repeating: 0, count: p), fixedScatter: [Double](repeating: 0, count: p * p),
            effectLogScales: effectScales, effectShapes: shapes, covarianceLogScales: covarianceScales,
            jointLogScales: jointScales)
        return State(coefficients: coefficients, effects: effects, covariances: covariances, adaptation: adaptation)
    }

    public func endWarmup(_ state: State) -> State {
        var s = state
        s.adaptation.isAdapting = false
        return s
    }

    /// "fixed", and per term "r(term)", "cov(term)" (centred coordinates)
    /// and "cov(term) joint".
    public func rates(of info: Info) -> [String: Double] {
        var rates: [String: Double] = [:]
        if let fixed = info.fixedAcceptance { rates["fixed"] = fixed }
        for (k, term) in design.randomTerms.enumerated() {
            rates["r(\(term.name))"] = info.effectAcceptance[k]
            rates["cov(\(term.name))"] = info.covarianceAcceptance[k]
            rates["cov(\(term.name)) joint"] = info.jointAcceptance[k]
        }
        return rates
    }

    public func step(_ state: State, using generator: Generator) -> (State, Info) {
        var s = state
        let n = design.cellCount, p = design.fixedCount, terms = design.randomTerms
        let y = design.successes, trials = design.trials
        let adapting = s.adaptation.isAdapting
        let rate = 1 / Double(s.adaptation.sweeps + 1).squareRoot()
        var info = Info(fixedAcceptance: nil, effectAcceptance: [], covarianceAcceptance: [], jointAcceptance: [])

        var eta = fixedRows.product(s.coefficients)
        design.addOffsets(to: &eta)
        for (k, term) in terms.enumerated() {
            let u = s.effects[k]
            for i in 0..<n { eta[i] += term.contribution(cell: i, effects: u) }
        }
        func cellLogLikelihood(_ i: Int, _ e: Double) -> Double {
            link.logLikelihood(successes: y[i], trials: trials[i], linearPredictor: e)
        }
        var logLikelihood = (0..<n).map { cellLogLikelihood($0, eta[$0]) }
        var proposedLogLikelihood = [Double](repeating: 0, count: n)

        // 1. β as one block.
        if p > 0 {
            let z = (0..<p).map { _ in generator.normal() }
            let lambda = exp(s.adaptation.fixedLogScale), shape = s.adaptation.fixedShape
            var move = [Double](repeating: 0, count: p)
            for a in 0..<p { for b in 0...a { move[a] += lambda * shape[a * p + b] * z[b] } }
            var logRatio = 0.0
            for j in 0..<p {
                let old = s.coefficients[j] - priorMean[j], new = old + move[j]
                logRatio -= 0.5 * priorPrecision[j] * (new * new - old * old)
            }
            let change = fixedRows.product(move)
            for i in 0..<n {
                proposedLogLikelihood[i] = cellLogLikelihood(i, eta[i] + change[i])
                logRatio += proposedLogLikelihood[i] - logLikelihood[i]
            }
            let accepted = MetropolisWithinGibbs.accepts(logRatio, using: generator)
            if accepted {
                for j in 0..<p { s.coefficients[j] += move[j] }
                for i in 0..<n { eta[i] += change[i] }
                swap(&logLikelihood, &proposedLogLikelihood)
            }
            info.fixedAcceptance = accepted ? 1 : 0
            if adapting {
                s.adaptation.fixedLogScale += rate
                    * (MetropolisWithinGibbs.probability(logRatio) - MetropolisWithinGibbs.blockTarget)
                MetropolisWithinGibbs.adaptShape(&s.adaptation.fixedMean, &s.adaptation.fixedScatter,
                                                 &s.adaptation.fixedShape, sweeps: s.adaptation.sweeps,
                                                 initialShape: initialShape, to: s.coefficients)
            }
        }

        // 2. Each term's level vectors, all levels at once.
        for (k, term) in terms.enumerated() {
            let q = term.dimension, levels = term.levelCount
            let u = s.effects[k]
            guard let factor = SmallCholesky(s.covariances[k], size: q) else { continue }
            let precision = factor.inverse
            func quadratic(_ v: [Double], _ l: Int) -> Double {
                var sum = 0.0
                for a in 0..<q { for b in 0..<q { sum += v[l * q + a] * precision[a * q + b] * v[l * q + b] } }
                return sum
            }
            var proposal = u
            var logRatio = [Double](repeating: 0, count: levels)
            for l in 0..<levels {
                let h = exp(s.adaptation.effectLogScales[k][l])
                for j in 0..<q { proposal[l * q + j] += h * s.adaptation.effectShapes[k][l * q + j] * generator.normal() }
                logRatio[l] = -0.5 * (quadratic(proposal, l) - quadratic(u, l))
            }
            var change = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let l = Int(term.levelOfCell[i])
                var d = 0.0
                for j in 0..<q { d += term.value(cell: i, column: j) * (proposal[l * q + j] - u[l * q + j]) }
                change[i] = d
                proposedLogLikelihood[i] = cellLogLikelihood(i, eta[i] + d)
                logRatio[l] += proposedLogLikelihood[i] - logLikelihood[i]
            }
            var accepted = [Bool](repeating: false, count: levels)
            var count = 0
            let target = q == 1 ? MetropolisWithinGibbs.univariateTarget : 0.3
            for l in 0..<levels {
                accepted[l] = MetropolisWithinGibbs.accepts(logRatio[l], using: generator)
                if accepted[l] {
                    count += 1
                    for j in 0..<q { s.effects[k][l * q + j] = proposal[l * q + j] }
                }
                if adapting {
                    s.adaptation.effectLogScales[k][l] += rate * (MetropolisWithinGibbs.probability(logRatio[l]) - target)
                }
            }
            for i in 0..<n where accepted[Int(term.levelOfCell[i])] {
                eta[i] += change[i]
                logLikelihood[i] = proposedLogLikelihood[i]
            }
            info.effectAcceptance.append(levels > 0 ? Double(count) / Double(levels) : 0)
            // Translations: βₐ + c, uₗⱼ − c (η unchanged), c from its conditional.
            for (j, a) in translations[k] {
                var linear = -(s.coefficients[a] - priorMean[a]) * priorPrecision[a]
                for l in 0..<levels {
                    for b in 0..<q { linear += precision[j * q + b] * s.effects[k][l * q + b] }
                }
                let total = priorPrecision[a] + Double(levels) * precision[j * q + j]
                let c = linear / total + generator.normal() / total.squareRoot()
                s.coefficients[a] += c
                for l in 0..<levels { s.effects[k][l * q + j] -= c }
            }
        }

        // 3. Each term's covariance: centred coordinates, then non-centred.
        for (k, term) in terms.enumerated() {
            let q = term.dimension, levels = term.levelCount
            var theta = RandomSlopeMetropolis.coordinates(of: s.covariances[k], size: q)
            let u = s.effects[k]
            var scatter = [Double](repeating: 0, count: q * q)
            for l in 0..<levels { for a in 0..<q { for b in 0..<q { scatter[a * q + b] += u[l * q + a] * u[l * q + b] } } }
            func centred(_ theta: [Double]) -> Double {
                let sigma = RandomSlopeMetropolis.covariance(from: theta, size: q)
                guard let factor = SmallCholesky(sigma, size: q) else { return -.infinity }
                let inverse = factor.inverse
                var trace = 0.0
                for a in 0..<q { for b in 0..<q { trace += inverse[a * q + b] * scatter[b * q + a] } }
                return logPrior(theta, term: k) - 0.5 * Double(levels) * factor.logDeterminant - 0.5 * trace
            }
            var current = centred(theta)
            var acceptedCount = 0
            for c in theta.indices {
                var proposed = theta
                proposed[c] += exp(s.adaptation.covarianceLogScales[k][c]) * generator.normal()
                let value = centred(proposed)
                let logRatio = value - current
                if MetropolisWithinGibbs.accepts(logRatio, using: generator) {
                    theta = proposed
                    current = value
                    acceptedCount += 1
                }
                if adapting {
                    s.adaptation.covarianceLogScales[k][c] += rate
                        * (MetropolisWithinGibbs.probability(logRatio) - MetropolisWithinGibbs.univariateTarget)
                }
            }
            s.covariances[k] = RandomSlopeMetropolis.covariance(from: theta, size: q)
            info.covarianceAcceptance.append(Double(acceptedCount) / Double(theta.count))

            // Non-centred: θ' = θ + g ε, uₗ' = L'L⁻¹uₗ.
            guard let factor = SmallCholesky(s.covariances[k], size: q) else {
                info.jointAcceptance.append(0)
                continue
            }
            let g = exp(s.adaptation.jointLogScales[k])
            let proposedTheta = theta.map { $0 + g * generator.normal() }
            let proposedSigma = RandomSlopeMetropolis.covariance(from: proposedTheta, size: q)
            var logRatio = -Double.infinity
            var moved = u
            var change = [Double](repeating: 0, count: n)
            if let proposedFactor = SmallCholesky(proposedSigma, size: q) {
                logRatio = logPrior(proposedTheta, term: k) - logPrior(theta, term: k)
                for l in 0..<levels {
                    var white = Array(u[(l * q)..<(l * q + q)])
                    factor.solveLower(&white)
                    for a in 0..<q {
                        var sum = 0.0
                        for b in 0...a { sum += proposedFactor.factor[a * q + b] * white[b] }
                        moved[l * q + a] = sum
                    }
                }
                for i in 0..<n {
                    let l = Int(term.levelOfCell[i])
                    var d = 0.0
                    for j in 0..<q { d += term.value(cell: i, column: j) * (moved[l * q + j] - u[l * q + j]) }
                    change[i] = d
                    proposedLogLikelihood[i] = cellLogLikelihood(i, eta[i] + d)
                    logRatio += proposedLogLikelihood[i] - logLikelihood[i]
                }
            }
            let accepted = MetropolisWithinGibbs.accepts(logRatio, using: generator)
            if accepted {
                s.covariances[k] = proposedSigma
                s.effects[k] = moved
                for i in 0..<n { eta[i] += change[i] }
                swap(&logLikelihood, &proposedLogLikelihood)
            }
            info.jointAcceptance.append(accepted ? 1 : 0)
            if adapting {
                s.adaptation.jointLogScales[k] += rate
                    * (MetropolisWithinGibbs.probability(logRatio) - MetropolisWithinGibbs.blockTarget)
            }
        }
        if adapting { s.adaptation.sweeps += 1 }
        return (s, info)
    }

    /// The log prior of term k's covariance in the coordinates θ (see the
    /// type's discussion), up to a constant; −∞ outside a prior's support.
    func logPrior(_ theta: [Double], term k: Int) -> Double {
        let q = design.randomTerms[k].dimension
        let logSDs = Array(theta[0..<q])
        var partial = 0.0          // Σ over zᵢⱼ of (exponent) · log(1 − zᵢⱼ²), filled per form
        switch forms[k] {
        case let .scale(prior):
            let sigma = exp(logSDs[0])
            let density = prior.logDensity(standardDeviation: sigma)
            return density > -.infinity ? density + logSDs[0] : -.infinity
        case let .lkj(eta, scales):
            var value = 0.0
            for j in 0..<q {
                let density = scales[j].logDensity(standardDeviation: exp(logSDs[j]))
                guard density > -.infinity else { return -.infinity }
                value += density + logSDs[j]
            }
            var c = q
            for i in 1..<q {
                for j in 0..<i {
                    let z = tanh(theta[c]); c += 1
                    partial += (eta + Double(q - 2 - j) / 2) * log1p(-z * z)
                }
            }
            return value + partial
        case let .huangWand(prior):
            let sigma = RandomSlopeMetropolis.covariance(from: theta, size: q)
            guard let factor = SmallCholesky(sigma, size: q) else { return -.infinity }
            let inverse = factor.inverse
            let nu = prior.degrees, dimension = Double(q)
            var value = -(nu + 2 * dimension) / 2 * factor.logDeterminant
            for j in 0..<q {
                value -= (nu + dimension) / 2 * log(nu * inverse[j * q + j] + 1 / (prior.scales[j] * prior.scales[j]))
            }
            value += (dimension + 1) * logSDs.reduce(0, +)
            var c = q
            for i in 1..<q {
                for j in 0..<i {
                    let z = tanh(theta[c]); c += 1
                    partial += (Double(q - 2 - j) / 2 + 1) * log1p(-z * z)
                }
            }
            return value + partial
        }
    }

    /// θ = (log σ₁, …, log σ_q, atanh zᵢⱼ for i > j, row by row) of Σ.
    static func coordinates(of sigma: [Double], size q: Int) -> [Double] {
        let sds = (0..<q).map { sigma[$0 * q + $0].squareRoot() }
        var theta = sds.map { log($0) }
        guard q > 1 else { return theta }
        var correlation = sigma
        for a in 0..<q { for b in 0..<q { correlation[a * q + b] /= sds[a] * sds[b] } }
        let l = SmallCholesky(correlation, size: q)?.factor ?? MetropolisWithinGibbs.identity(q)
        for i in 1..<q {
            var remaining = 1.0
            for j in 0..<i {
                let z = l[i * q + j] / remaining.squareRoot()
                theta.append(atanh(min(max(z, -1 + 1e-15), 1 - 1e-15)))
                remaining -= l[i * q + j] * l[i * q + j]
            }
        }
        return theta
    }

    /// Σ = D·LLᵀ·D from θ (the inverse of `coordinates`).
    static func covariance(from theta: [Double], size q: Int) -> [Double] {
        let sds = (0..<q).map { exp(theta[$0]) }
        var l = [Double](repeating: 0, count: q * q)
        l[0] = 1
        var c = q
        for i in 1..<q {
            var remaining = 1.0
            for j in 0..<i {
                let z = tanh(theta[c]); c += 1
                l[i * q + j] = z * remaining.squareRoot()
                remaining -= l[i * q + j] * l[i * q + j]
            }
            l[i * q + i] = max(remaining, 0).squareRoot()
        }
        var sigma = [Double](repeating: 0, count: q * q)
        for a in 0..<q {
            for b in 0...a {
                var sum = 0.0
                for m in 0...b { sum += l[a * q + m] * l[b * q + m] }
                sigma[a * q + b] = sum * sds[a] * sds[b]
                sigma[b * q + a] = sigma[a * q + b]
            }
        }
        return sigma
    }
}
