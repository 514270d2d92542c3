import Foundation
import Variates

/// The Pólya–Gamma Gibbs sampler for a mixed model whose random terms carry
/// slopes (`(1 + x | client)`): term k has qₖ columns zₖᵢ (lme4's `cnms`:
/// the intercept, covariates, contrasts of a factor) and each of its levels
/// l an effect vector uₖₗ ~ N(0, Σₖ), Σₖ a full qₖ × qₖ covariance.
///
/// Model: cell i has yᵢ successes in nᵢ trials, ψᵢ = xᵢ'β + Σₖ zₖᵢ'uₖ[lₖ(i)],
/// β ~ N(m, diag(s²)). A term with one column has σₖ ~ its `ScalePrior`,
/// as in `PolyaGammaGibbs`; a term with q > 1 columns the prior of Huang &
/// Wand (2013, Bayesian Analysis 8:439–452),
///
///     Σ | a ~ IW(ν + q − 1, 2ν diag(1/a₁, …, 1/a_q)),   aⱼ ~ IG(½, 1/Aⱼ²),
///
/// whose marginals are half-t(ν, Aⱼ) on each standard deviation and, for
/// ν = 2, uniform on each correlation (density ∝ (1 − ρ²)^(ν/2 − 1) in
/// general); for q = 1 it is the half-t(ν, A) of the Wand et al. (2011)
/// mixture. (ν, Aⱼ) come from the term's `cov(term) ~ huang_wand(ν, A)`
/// prior (`Priors.covariance`) or else from its half-t(ν, 0, A) (or
/// half-Cauchy: ν = 1) SD prior, by default half-t(3, 0, 2.5) for every
/// column.
///
/// One sweep:
///
/// 1. Augment (`PolyaGammaGibbs.Augmentation`): ωᵢ ~ PG(nᵢ, ψᵢ) and
///    κᵢ = yᵢ − nᵢ/2 (or Albert–Chib's latent normals for the probit), so
///    that the likelihood of ψᵢ is exp(κᵢψᵢ − ωᵢψᵢ²/2).
/// 2. For each term k, (β, uₖ) jointly, β with uₖ integrated out — the
///    collapsed blocking of Papaspiliopoulos, Roberts & Zanella (2020,
///    Biometrika 107) with a vector per level. Per level l, over its cells,
///    Wₗ = Σωᵢzᵢzᵢ' (q × q), Sₗ = Σωᵢzᵢxᵢ' (q × p), Tₗ = Σzᵢ(κᵢ − ωᵢoᵢ)
///    (o the other terms' part of ψ) and Pₗ = Wₗ + Σₖ⁻¹:
///
///        Q = Σωᵢxᵢxᵢ' − Σₗ Sₗ'Pₗ⁻¹Sₗ + diag(1/s²),
///        b = Σxᵢ(κᵢ − ωᵢoᵢ) − Σₗ Sₗ'Pₗ⁻¹Tₗ + m/s²,   β ~ N(Q⁻¹b, Q⁻¹),
///
///    then uₖₗ ~ N(Pₗ⁻¹(Tₗ − Sₗβ), Pₗ⁻¹) (through Pₗ's Cholesky factor,
///    `SmallCholesky`). A term with one column has its σ drawn between the
///    two with its effects integrated out, as `PolyaGammaGibbs` does.
/// 3. Each covariance. With one column, the non-centred (ASIS, Yu & Meng
///    2011) slice step on σ of `PolyaGammaGibbs`. With q > 1: the centred
///    conjugate pair aⱼ | Σ ~ IG((ν + q)/2, ν(Σ⁻¹)ⱼⱼ + 1/Aⱼ²), then
///    Σ | u, a ~ IW(ν + q − 1 + L, Σₗuₗuₗ' + 2ν diag(1/a)) (Huang & Wand's
///    full conditionals; L levels); then, for each column j, the
///    non-centred move that rescales column j of every level's effect and
///    row and column j of Σ by the same d > 0 — a generalised Gibbs step
///    over the scale group (Liu & Sabatti 2000, JASA 95:1183–1198; the q > 1
///    form of the ASIS step), which moves the SD where few observations per
///    level leave it weakly identified by its effects. Given (ω, a) its
///    density in t = log d is
///
///        −½A e^(2t) + B e^t − (ν + q − 1)t − ½(2ν/aⱼ)(Σ⁻¹)ⱼⱼ e^(−2t),
///
///    A = Σωᵢhᵢ², B = Σhᵢ(κᵢ − ωᵢrᵢ), hᵢ = zᵢⱼuⱼ[l(i)] and r the rest of ψ:
///    the likelihood, the IW density of DΣD, the Jacobian dᴸ⁺ᵠ⁺¹ of the
///    map on (u, Σ) and the Haar measure dd/d together (the effects' own
///    density contributes d⁻ᴸ). A slice step on t from 0.
///
/// a is redrawn from its full conditional at the start of every step 3,
/// so it is not kept in the state.
public struct RandomSlopeGibbs: SamplingKernel {
    public struct State: Sendable, Equatable {
        public var coefficients: [Double]
        /// Per term, the effects level by level, each level's q columns
        /// together (levels × q, row-major; lme4's order of u).
        public var effects: [[Double]]
        /// Per term, Σₖ (q × q, row-major).
        public var covariances: [[Double]]
    }

    public struct Info: Sendable {
        /// Log-density evaluations made by the slice steps of this sweep.
        public var sliceEvaluations: Int
        /// What failed in the sweep, if anything did.
        public var failure: String? = nil
    }

    /// The Huang–Wand prior of a term with q > 1 columns: ν and one Aⱼ per
    /// column.
    public struct HuangWand: Sendable, Equatable {
        public var degrees: Double
        public var scales: [Double]

        /// Huang & Wand's prior for a term with `columns` columns whose SD
        /// prior is half-t(ν, 0, A) (half-Cauchy(0, A): ν = 1); nil for any
        /// other SD prior, which has no such covariance prior.
        init?(_ prior: ScalePrior, columns q: Int) {
            switch prior {
            case let .halfT(nu, a): self.init(degrees: nu, scales: Array(repeating: a, count: q))
            case let .halfCauchy(a): self.init(degrees: 1, scales: Array(repeating: a, count: q))
            default: return nil
            }
        }

        init(degrees: Double, scales: [Double]) {
            self.degrees = degrees
            self.scales = scales
        }

        /// Σ ~ the prior: aⱼ ~ IG(½, 1/Aⱼ²), then Σ | a ~ IW(ν + q − 1,
        /// 2ν diag(1/a)). Row-major q × q.
        func draw(using generator: Generator) -> [Double] {
            let q = scales.count
            let a = scales.map { 1 / generator.gamma(shape: 0.5, scale: $0 * $0) }
            var psi = [Double](repeating: 0, count: q * q)
            for j in 0..<q { psi[j * q + j] = 2 * degrees / a[j] }
            return RandomSlopeGibbs.inverseWishart(degrees: degrees + Double(q) - 1, scale: psi, size: q,
                                                   using: generator) ?? psi
        }
    }

    public let design: Design
    public let priors: Priors
    public let augmentation: PolyaGammaGibbs.Augmentation
    public var link: Link { augmentation.link }
    /// Where the chains start: the overdispersed start below, or around an
    /// EB fit (`InitialValues.slopeStart`).
    public var initialValues = InitialValues.prior
    /// The threads that share a sweep's per-cell draws (`CellBlocks`); the
    /// draws do not depend on it.
    public var threadsPerChain = 1
    /// Follow each term's centred update with its non-centred one.
    public var interweaves = true
    /// With `interweaves`, follow the rescaling of each column with the
    /// shears of one column against another (which move the correlations).
    public var shears = true
    /// Per term with one column, its SD prior (nil for q > 1).
    let scalePriors: [ScalePrior?]
    /// Per term with q > 1 columns, its covariance prior (nil for q = 1).
    let covariancePriors: [HuangWand?]
    let kappa: [Double]
    let successes: [Double]
    let trials: [Double]
    let priorMean: [Double]
    let priorPrecision: [Double]
    let fixedRows: SparseRows

    /// Throws `InputError` (`.unsupported`) for a term with q > 1 whose prior
    /// has no Huang–Wand form (`CovarianceForm.resolve`), LKJ's included.
    public init(design: Design, priors: Priors = Priors(), augmentation: PolyaGammaGibbs.Augmentation = .polyaGamma)
        throws(InputError) {
        self.design = design
        self.priors = priors
        self.augmentation = augmentation
        kappa = zip(design.successes, design.trials).map { $0 - $1 / 2 }
        successes = design.successes
        trials = design.trials
        priorMean = design.fixedNames.map { priors.fixed($0).mean }
        priorPrecision = design.fixedNames.map { 1 / pow(priors.fixed($0).standardDeviation, 2) }
        var scalePriors: [ScalePrior?] = [], covariancePriors: [HuangWand?] = []
        for term in design.randomTerms {
            switch try CovarianceForm.resolve(term, priors: priors) {
            case let .scale(prior):
                scalePriors.append(prior)
                covariancePriors.append(nil)
            case let .huangWand(prior):
                scalePriors.append(nil)
                covariancePriors.append(prior)
            case .lkj:
                throw InputError(.unsupported,
                                 "cor(\(term.name)) ~ lkj(…) has no conjugate update: the Metropolis sampler takes it "
                                    + "(the Gibbs sampler takes Huang & Wand's prior, cov(\(term.name)) ~ huang_wand(…))",
                                 setting: "prior")
            }
        }
        self.scalePriors = scalePriors
        self.covariancePriors = covariancePriors
        fixedRows = SparseRows(design.fixed, rows: design.cellCount, columns: design.fixedCount)
    }

    public var parameterNames: [String] { design.parameterNames }

    /// The coefficients, then each term's standard deviations and
    /// correlations (`RandomEffect.covarianceNames`), then the effects.
    public func values(of state: State) -> [Double] {
        RandomSlopeGibbs.values(design, coefficients: state.coefficients, effects: state.effects,
                                covariances: state.covariances)
    }

    /// The values of `parameterNames` for either random-slope kernel.
    static func values(_ design: Design, coefficients: [Double], effects: [[Double]], covariances: [[Double]])
        -> [Double] {
        var values = coefficients
        for (k, term) in design.randomTerms.enumerated() {
            values += standardDeviationsAndCorrelations(covariances[k], size: term.dimension)
        }
        for levelEffects in effects { values += levelEffects }
        return values
    }

    /// The coefficients of an overdispersed start: the intercept at F⁻¹ of
    /// the overall success rate ± N(0, 1), the others N(0, 1).
    static func startingCoefficients(_ design: Design, link: Link, using generator: Generator) -> [Double] {
        let centre = InitialValues.interceptCentre(design, link: link)
        return design.fixedNames.map { name in (name == "(Intercept)" ? centre : 0) + generator.normal() }
    }

    /// √Σⱼⱼ for each j, then Σₐᵦ/√(ΣₐₐΣᵦᵦ) for a < b, row by row.
    static func standardDeviationsAndCorrelations(_ sigma: [Double], size q: Int) -> [Double] {
        let sds = (0..<q).map { sigma[$0 * q + $0].squareRoot() }
        var values = sds
        for a in 0..<q { for b in (a + 1)..<q { values.append(sigma[a * q + b] / (sds[a] * sds[b])) } }
        return values
    }

    /// An overdispersed start (as `InitialValues.prior`), unless
    /// `initialValues` is an EB fit: the intercept at
    /// the logit of the overall success rate ± 1, other coefficients
    /// N(0, 1), each column's SD uniform on (0.2, 2), no correlation, and
    /// the effects N(0, Σ).
    public func initialState(using generator: Generator) -> State {
        if let start = initialValues.slopeStart(for: design, link: link, using: generator,
                                                clamp: { k, j, d in j == 0 ? scalePriors[k]?.clamped(d) ?? d : d }) {
            return State(coefficients: start.coefficients, effects: start.effects, covariances: start.covariances)
        }
        let coefficients = RandomSlopeGibbs.startingCoefficients(design, link: link, using: generator)
        var effects: [[Double]] = [], covariances: [[Double]] = []
        for (k, term) in design.randomTerms.enumerated() {
            let q = term.dimension
            var sds = (0..<q).map { _ in 0.2 + 1.8 * generator.uniform() }
            if let prior = scalePriors[k] { sds[0] = prior.clamped(sds[0]) }
            var sigma = [Double](repeating: 0, count: q * q)
            for j in 0..<q { sigma[j * q + j] = sds[j] * sds[j] }
            covariances.append(sigma)
            effects.append((0..<(term.levelCount * q)).map { e in sds[e % q] * generator.normal() })
        }
        return State(coefficients: coefficients, effects: effects, covariances: covariances)
    }

    public func failure(of info: Info) -> String? { info.failure }

    public func step(_ state: State, using generator: Generator) -> (State, Info) {
        var s = state
        var evaluations = 0
        var failure: String?
        let n = design.cellCount, terms = design.randomTerms

        var random = [Double](repeating: 0, count: n)
        for (k, term) in terms.enumerated() {
            let u = s.effects[k]
            for i in 0..<n { random[i] += term.contribution(cell: i, effects: u) }
        }
        // Step 1: (ω, κ) given ψ.
        let (omega, kappa, drawFailure) = augmentation.draw(
            random: random, fixed: fixedRows.product(s.coefficients), offsets: design.offsets,
            successes: successes, trials: trials, kappa: self.kappa,
            blocks: CellBlocks(count: n, threads: threadsPerChain), using: generator)
        if let drawFailure { return (s, Info(sliceEvaluations: 0, failure: drawFailure)) }
        let xwx = fixedRows.weightedGram(weights: omega)
        if terms.isEmpty {
            s.coefficients = drawCoefficients(precision: xwx, linear: fixedRows.transposedProduct(kappa),
                                              using: generator, failure: &failure)
        }
        // Step 2.
        for k in terms.indices where failure == nil {
            termStep(k, state: &s, random: &random, omega: omega, kappa: kappa, xwx: xwx,
                     evaluations: &evaluations, failure: &failure, using: generator)
        }
        // Step 3.
        let fixedPart = fixedRows.product(s.coefficients)
        for k in terms.indices where failure == nil {
            if terms[k].dimension == 1 {
                if interweaves {
                    nonCentredScale(k, state: &s, random: &random, omega: omega, kappa: kappa, fixedPart: fixedPart,
                                    evaluations: &evaluations, using: generator)
                }
            } else {
                covarianceStep(k, state: &s, random: &random, omega: omega, kappa: kappa, fixedPart: fixedPart,
                               evaluations: &evaluations, failure: &failure, using: generator)
            }
        }
        return (s, Info(sliceEvaluations: evaluations, failure: failure))
    }

    /// Step 2 for term k: β with uₖ integrated out, (σₖ for one column),
    /// then uₖ. `random` holds Σₖ zₖᵢ'uₖ per cell and is kept up to date.
    func termStep(_ k: Int, state s: inout State, random: inout [Double], omega: [Double], kappa: [Double],
                  xwx: [Double], evaluations: inout Int, failure: inout String?, using generator: Generator) {
        let term = design.randomTerms[k]
        let n = design.cellCount, p = design.fixedCount, q = term.dimension, qq = q * q, levels = term.levelCount
        let u = s.effects[k]
        // Per level: Wₗ (lower triangle), Tₗ, Sₗ (q × p); the factors of Pₗ.
        let weight = Scratch(levels * qq), total = Scratch(levels * q), scaled = Scratch(levels * q * p)
        let factors = Scratch(levels * qq), z = Scratch(q)
        defer { for buffer in [weight, total, scaled, factors, z] { buffer.free() } }
        var residual = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let l = Int(term.levelOfCell[i])
            var own = 0.0
            for a in 0..<q {
                z[a] = term.value(cell: i, column: a)
                own += z[a] * u[l * q + a]
            }
            let r = kappa[i] - omega[i] * (random[i] - own)
            residual[i] = r
            for a in 0..<q {
                total[l * q + a] += z[a] * r
                let wa = omega[i] * z[a]
                for b in 0...a { weight[l * qq + a * q + b] += wa * z[b] }
                for e in fixedRows.offsets[i]..<fixedRows.offsets[i + 1] {
                    scaled[(l * q + a) * p + Int(fixedRows.columns[e])] += wa * fixedRows.values[e]
                }
            }
        }
        guard let prior = SmallCholesky(s.covariances[k], size: q) else {
            failure = "the covariance of \(term.name)'s effects is not positive definite"
            return
        }
        // Each level's Pₗ = Wₗ + Σ⁻¹, factored in place.
        func factorLevels(priorPrecision: [Double]) -> Bool {
            for l in 0..<levels {
                for a in 0..<q { for b in 0...a { factors[l * qq + a * q + b] = weight[l * qq + a * q + b] + priorPrecision[a * q + b] } }
                guard SmallCholesky.factorInPlace(factors.base + l * qq, size: q) else { return false }
            }
            return true
        }
        guard factorLevels(priorPrecision: prior.inverse) else {
            failure = "the conditional precision of \(term.name)'s effects is not positive definite"
            return
        }

        if p > 0 {
            var precision = xwx
            var linear = fixedRows.transposedProduct(residual)
            let a = Scratch(q * p), t = Scratch(q), column = Scratch(q)
            defer { a.free(); t.free(); column.free() }
            for l in 0..<levels {
                // A = L⁻¹Sₗ, t = L⁻¹Tₗ; Q −= A'A, b −= A't.
                let factor = UnsafePointer(factors.base + l * qq)
                for c in 0..<p {
                    for r in 0..<q { column[r] = scaled[(l * q + r) * p + c] }
                    SmallCholesky.solveLower(factor, size: q, column.base)
                    for r in 0..<q { a[r * p + c] = column[r] }
                }
                for r in 0..<q { t[r] = total[l * q + r] }
                SmallCholesky.solveLower(factor, size: q, t.base)
                for c in 0..<p {
                    var dot = 0.0
                    for r in 0..<q { dot += a[r * p + c] * t[r] }
                    linear[c] -= dot
                    for d in c..<p {
                        var sum = 0.0
                        for r in 0..<q { sum += a[r * p + c] * a[r * p + d] }
                        precision[c * p + d] -= sum
                    }
                }
            }
            s.coefficients = drawCoefficients(precision: precision, linear: linear, using: generator,
                                              failure: &failure, integratingOut: term.name)
            guard failure == nil else { return }
        }

        // Cₗ = Tₗ − Sₗβ.
        var centred = [Double](repeating: 0, count: levels * q)
        for l in 0..<levels {
            for r in 0..<q {
                var dot = 0.0
                for c in 0..<p { dot += scaled[(l * q + r) * p + c] * s.coefficients[c] }
                centred[l * q + r] = total[l * q + r] - dot
            }
        }
        if q == 1, let scalePrior = scalePriors[k] {
            // σ | ω, β, other terms with the effects integrated out.
            let weights = Array(UnsafeBufferPointer(start: weight.base, count: levels))
            let sigma = PolyaGammaGibbs.sliceScale(
                from: s.covariances[k][0].squareRoot(), prior: scalePrior, evaluations: &evaluations,
                logLikelihood: { v in PolyaGammaGibbs.collapsedLogLikelihood(v, weight: weights, centred: centred) },
                using: generator)
            s.covariances[k] = [sigma * sigma]
            guard factorLevels(priorPrecision: [1 / (sigma * sigma)]) else {
                failure = "the conditional precision of \(term.name)'s effects is not positive definite"
                return
            }
        }
        // uₗ = L⁻ᵀ(L⁻¹Cₗ + ε) ~ N(Pₗ⁻¹Cₗ, Pₗ⁻¹).
        var newEffects = centred
        newEffects.withUnsafeMutableBufferPointer { e in
            for l in 0..<levels {
                let factor = UnsafePointer(factors.base + l * qq)
                SmallCholesky.solveLower(factor, size: q, e.baseAddress! + l * q)
                for r in 0..<q { e[l * q + r] += generator.normal() }
                SmallCholesky.solveUpper(factor, size: q, e.baseAddress! + l * q)
            }
        }
        for i in 0..<n {
            let l = Int(term.levelOfCell[i])
            var change = 0.0
            for a in 0..<q { change += term.value(cell: i, column: a) * (newEffects[l * q + a] - u[l * q + a]) }
            random[i] += change
        }
        s.effects[k] = newEffects
    }

    /// Step 3 for a term with one column: σ | η = u/σ and everything else
    /// (`PolyaGammaGibbs`'s ASIS step), the likelihood Gaussian in σ.
    func nonCentredScale(_ k: Int, state s: inout State, random: inout [Double], omega: [Double], kappa: [Double],
                         fixedPart: [Double], evaluations: inout Int, using generator: Generator) {
        let term = design.randomTerms[k]
        guard let prior = scalePriors[k] else { return }
        let sigma = s.covariances[k][0].squareRoot()
        let eta = s.effects[k].map { $0 / sigma }
        var a = 0.0, b = 0.0
        for i in 0..<design.cellCount where omega[i] > 0 {
            let h = term.value(cell: i, column: 0) * eta[Int(term.levelOfCell[i])]
            let rest = random[i] - sigma * h + fixedPart[i]
            a += omega[i] * h * h
            b += h * (kappa[i] - omega[i] * rest)
        }
        let newSigma = PolyaGammaGibbs.sliceScale(from: sigma, prior: prior, evaluations: &evaluations,
                                                  logLikelihood: { v in -0.5 * a * v * v + b * v }, using: generator)
        let newEffects = eta.map { $0 * newSigma }
        for i in 0..<design.cellCount {
            let l = Int(term.levelOfCell[i])
            random[i] += term.value(cell: i, column: 0) * (newEffects[l] - s.effects[k][l])
        }
        s.effects[k] = newEffects
        s.covariances[k] = [newSigma * newSigma]
    }

    /// Step 3 for a term with q > 1 columns: a | Σ, Σ | u, a (centred), then
    /// the non-centred rescaling of each column.
    func covarianceStep(_ k: Int, state s: inout State, random: inout [Double], omega: [Double], kappa: [Double],
                        fixedPart: [Double], evaluations: inout Int, failure: inout String?,
                        using generator: Generator) {
        let term = design.randomTerms[k], prior = covariancePriors[k]!
        let q = term.dimension, levels = term.levelCount, nu = prior.degrees
        guard let current = SmallCholesky(s.covariances[k], size: q) else {
            failure = "the covariance of \(term.name)'s effects is not positive definite"
            return
        }
        let currentInverse = current.inverse
        let a = (0..<q).map { j in
            1 / generator.gamma(shape: (nu + Double(q)) / 2,
                                scale: 1 / (nu * currentInverse[j * q + j] + 1 / (prior.scales[j] * prior.scales[j])))
        }
        var psi = [Double](repeating: 0, count: q * q)
        let u = s.effects[k]
        for l in 0..<levels {
            for r in 0..<q { for c in 0..<q { psi[r * q + c] += u[l * q + r] * u[l * q + c] } }
        }
        for j in 0..<q { psi[j * q + j] += 2 * nu / a[j] }
        guard let sigma = RandomSlopeGibbs.inverseWishart(degrees: nu + Double(q) - 1 + Double(levels), scale: psi,
                                                         size: q, using: generator),
              let drawn = SmallCholesky(sigma, size: q) else {
            failure = "the covariance of \(term.name)'s effects could not be drawn (not positive definite)"
            return
        }
        s.covariances[k] = sigma
        guard interweaves else { return }

        // Non-centred: column j of u and row and column j of Σ times d.
        let inverse = drawn.inverse
        var effects = s.effects[k]
        for j in 0..<q {
            var squares = 0.0, cross = 0.0
            for i in 0..<design.cellCount where omega[i] > 0 {
                let h = term.value(cell: i, column: j) * effects[Int(term.levelOfCell[i]) * q + j]
                let rest = random[i] + fixedPart[i] - h
                squares += omega[i] * h * h
                cross += h * (kappa[i] - omega[i] * rest)
            }
            let shape = nu + Double(q) - 1, inverseScale = 2 * nu / a[j] * inverse[j * q + j]
            let t = SliceSampler.step(from: 0, logDensity: { t in
                evaluations += 1
                let d = exp(t)
                return -0.5 * squares * d * d + cross * d - shape * t - 0.5 * inverseScale / (d * d)
            }, using: generator)
            let d = exp(t)
            for i in 0..<design.cellCount {
                let l = Int(term.levelOfCell[i])
                random[i] += (d - 1) * term.value(cell: i, column: j) * effects[l * q + j]
            }
            for l in 0..<levels { effects[l * q + j] *= d }
            for c in 0..<q {
                s.covariances[k][j * q + c] *= d
                s.covariances[k][c * q + j] *= d
            }
        }

        // Shears: column j of u plus g times column c, Σ → GΣG'.
        for j in 0..<q where shears {
            for c in 0..<q where c != j {
                guard let factor = SmallCholesky(s.covariances[k], size: q) else {
                    failure = "the covariance of \(term.name)'s effects is not positive definite"
                    return
                }
                let inverse = factor.inverse
                var precision = 2 * nu / a[c] * inverse[j * q + j]
                var linear = 2 * nu / a[c] * inverse[j * q + c]
                for i in 0..<design.cellCount where omega[i] > 0 {
                    let h = term.value(cell: i, column: j) * effects[Int(term.levelOfCell[i]) * q + c]
                    precision += omega[i] * h * h
                    linear += h * (kappa[i] - omega[i] * (random[i] + fixedPart[i]))
                }
                let g = linear / precision + generator.normal() / precision.squareRoot()
                for i in 0..<design.cellCount {
                    random[i] += g * term.value(cell: i, column: j) * effects[Int(term.levelOfCell[i]) * q + c]
                }
                for l in 0..<levels { effects[l * q + j] += g * effects[l * q + c] }
                var sigma = s.covariances[k]
                for b in 0..<q { sigma[j * q + b] += g * sigma[c * q + b] }
                for b in 0..<q { sigma[b * q + j] += g * sigma[b * q + c] }
                s.covariances[k] = sigma
            }
        }
        s.effects[k] = effects
    }

    /// Σ ~ IW(degrees, scale) (density ∝ |Σ|^(−(degrees + q + 1)/2)
    /// exp(−tr(scale Σ⁻¹)/2)) as the inverse of a Wishart(degrees, scale⁻¹)
    /// draw (`Generator.wishart`); nil if a factorisation fails.
    static func inverseWishart(degrees: Double, scale: [Double], size q: Int, using generator: Generator) -> [Double]? {
        guard let scaleFactor = SmallCholesky(scale, size: q),
              let wishartFactor = SmallCholesky(scaleFactor.inverse, size: q),
              let w = generator.wishart(degrees: degrees, scaleFactor: wishartFactor.factor, size: q),
              let drawn = SmallCholesky(w, size: q) else { return nil }
        var sigma = drawn.inverse
        // Exactly symmetric.
        for a in 0..<q { for b in 0..<a { sigma[a * q + b] = sigma[b * q + a] } }
        return sigma
    }

    /// β ~ N(Q⁻¹b, Q⁻¹) with the prior added (`PolyaGammaGibbs.drawCoefficients`).
    func drawCoefficients(precision: [Double], linear: [Double], using generator: Generator, failure: inout String?,
                          integratingOut term: String? = nil) -> [Double] {
        PolyaGammaGibbs.drawCoefficients(precision: precision, linear: linear, priorMean: priorMean,
                                         priorPrecision: priorPrecision, using: generator, failure: &failure,
                                         integratingOut: term)
    }
}

extension RandomEffect {
    /// zᵢ'u[l(i)]: this term's part of cell i's linear predictor, for
    /// `effects` level by level (levels × q).
    @inline(__always)
    func contribution(cell i: Int, effects u: [Double]) -> Double {
        let l = Int(levelOfCell[i])
        if values.isEmpty { return u[l] }
        let q = columns.count
        var sum = 0.0
        for j in 0..<q { sum += values[i * q + j] * u[l * q + j] }
        return sum
    }
}

/// A zeroed scratch buffer of doubles that a step frees itself, for the
/// per-level sums and factors of `RandomSlopeGibbs`, so that a sweep makes a
/// few allocations rather than one per level.
struct Scratch {
    let base: UnsafeMutablePointer<Double>
    init(_ count: Int) {
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }
    subscript(i: Int) -> Double {
        @inline(__always) get { base[i] }
        @inline(__always) nonmutating set { base[i] = newValue }
    }
    func free() { base.deallocate() }
}
