import Foundation
import Variates

/// Where a chain starts, for every kernel (`PolyaGammaGibbs`,
/// `MetropolisWithinGibbs`; `slopeStart` for `RandomSlopeGibbs` and
/// `RandomSlopeMetropolis`).
///
/// Both starts are random and overdispersed relative to the posterior, so
/// that R-hat can see chains that have not forgotten where they began
/// (Gelman & Rubin 1992). Each chain draws its start from its own generator
/// (`Chains` gives chain c the stream (seed, c, 0)) before its first sweep,
/// so the seed fixes every start, whatever the number of threads.
public enum InitialValues: Sendable {
    /// Not using the data beyond the overall success rate: the intercept at
    /// the logit of the overall rate + N(0, 1), every other coefficient
    /// N(0, 1), each σₖ uniform on (0.2, 2) and its effects N(0, σₖ²).
    case prior
    /// Overdispersed around an empirical-Bayes (Laplace) fit, as Stan's
    /// users start chains around a point estimate and Gelman & Rubin (1992)
    /// recommend; drawn in this order:
    ///
    /// - each coefficient βⱼ = β̂ⱼ + 2·SEⱼ·zⱼ, z ~ N(0, 1) (SEⱼ = 1 when the
    ///   fit's standard error is missing or not finite);
    /// - each σₖ = cₖ·exp(½·zₖ), a log-normal spread of a factor of about
    ///   e^±1 at two SDs around cₖ = max(σ̂ₖ, f), where the floor
    ///   f = max(0.05, 0.1·Σ_{m≠k} σ̂ₘ) keeps a boundary fit (σ̂ₖ = 0) from
    ///   starting a chain at the edge it would have to climb away from;
    /// - the effects of term k, when σ̂ₖ ≥ 10⁻⁴ (lme4's singular
    ///   tolerance): uₖₗ = (σₖ/σ̂ₖ)·(ûₖₗ + sₖₗ·zₖₗ), with û the conditional
    ///   mode and s the conditional SD — a draw from the EB conditional
    ///   posterior of uₖ, rescaled so that uₖ/σₖ (the sampler's non-centred
    ///   effects) is that of the draw; when σ̂ₖ < 10⁻⁴ (no information in
    ///   the modes), uₖₗ = σₖ·zₖₗ.
    ///
    /// The fit must be of the sampler's design (same fixed effects, terms
    /// and levels).
    case around(EmpiricalBayesFit)

    /// The floor of an EB standard deviation as a start's centre, given all
    /// the fit's SDs and the term's index.
    static func centre(of standardDeviations: [Double], term k: Int) -> Double {
        let others = standardDeviations.indices.filter { $0 != k }.map { standardDeviations[$0] }
            .filter(\.isFinite).reduce(0, +)
        let floor = max(0.05, 0.1 * others)
        let estimate = standardDeviations[k]
        return estimate.isFinite ? max(estimate, floor) : floor
    }

    /// The parameters of a start: what every kernel's state begins from.
    struct Start {
        var coefficients: [Double]
        var effects: [[Double]]
        var standardDeviations: [Double]

        /// The start with each σₖ outside its prior's support (a bounded
        /// uniform's) moved inside (`ScalePrior.clamped`) and its effects
        /// scaled with it, keeping uₖ/σₖ: a sampler's first steps must start
        /// where the density is positive.
        func inside(_ priors: [ScalePrior]) -> Start {
            var start = self
            for k in priors.indices {
                let sigma = standardDeviations[k], inside = priors[k].clamped(sigma)
                guard inside != sigma else { continue }
                start.standardDeviations[k] = inside
                start.effects[k] = effects[k].map { $0 * inside / sigma }
            }
            return start
        }
    }

    /// The overall success rate of the design, kept within [0.01, 0.99].
    static func overallRate(_ design: Design) -> Double {
        min(max(design.successes.reduce(0, +) / max(design.trials.reduce(0, +), 1), 0.01), 0.99)
    }

    /// The offset averaged over the trials (0 without an offset): an
    /// intercept started at F⁻¹(rate) − ō puts the average linear
    /// predictor at F⁻¹(rate).
    static func meanOffset(_ design: Design) -> Double {
        guard design.hasOffset else { return 0 }
        var sum = 0.0, total = 0.0
        for i in 0..<design.cellCount { sum += design.trials[i] * design.offsets[i]; total += design.trials[i] }
        return total > 0 ? sum / total : 0
    }

    /// Where a start puts the intercept: F⁻¹(overall rate) for `link`, less
    /// the mean offset.
    static func interceptCentre(_ design: Design, link: Link) -> Double {
        let rate = overallRate(design)
        return (link == .logit ? log(rate / (1 - rate)) : link.linearPredictor(probability: rate)) - meanOffset(design)
    }

    /// A start for `design` drawn with `generator`, as documented above,
    /// for a model with `link`. The prior start centres the intercept at
    /// F⁻¹(overall rate) for the link. The EB fit is of the logit; for
    /// another link its start is carried over by the first-order map that
    /// agrees with it at the overall rate p̄ (`fromLogit`).
    func start(for design: Design, link: Link = .logit, using generator: Generator) -> Start {
        switch self {
        case .prior:
            let centre = InitialValues.interceptCentre(design, link: link)
            let coefficients = design.fixedNames.map { name in
                (name == "(Intercept)" ? centre : 0) + generator.normal()
            }
            let sds = design.randomTerms.map { _ in 0.2 + 1.8 * generator.uniform() }
            let effects = design.randomTerms.enumerated().map { k, term in
                (0..<term.levelCount).map { _ in sds[k] * generator.normal() }
            }
            return .init(coefficients: coefficients, effects: effects, standardDeviations: sds)
        case let .around(logitFit):
            let fit = link == .logit ? logitFit
                : InitialValues.fromLogit(logitFit, design: design, link: link)
            precondition(!design.hasSlopes && fit.coefficients.count == design.fixedCount
                         && fit.standardDeviations.count == design.randomTerms.count
                         && zip(fit.modes, design.randomTerms).allSatisfy { $0.count == $1.levelCount }
                         && zip(fit.conditionalStandardDeviations, fit.modes).allSatisfy { $0.count == $1.count },
                         "InitialValues.around: the EB fit is not of this design")
            let coefficients = fit.coefficients.indices.map { j in
                let se = j < fit.standardErrors.count && fit.standardErrors[j].isFinite && fit.standardErrors[j] > 0
                    ? fit.standardErrors[j] : 1
                return fit.coefficients[j] + 2 * se * generator.normal()
            }
            let sds = fit.standardDeviations.indices.map { k in
                InitialValues.centre(of: fit.standardDeviations, term: k) * exp(0.5 * generator.normal())
            }
            let effects = design.randomTerms.indices.map { k in
                let estimate = fit.standardDeviations[k]
                let levels = design.randomTerms[k].levelCount
                guard estimate.isFinite && estimate >= EmpiricalBayesFit.singularTolerance else {
                    return (0..<levels).map { _ in sds[k] * generator.normal() }
                }
                let scale = sds[k] / estimate
                return (0..<levels).map { l in
                    let mode = fit.modes[k][l].isFinite ? fit.modes[k][l] : 0
                    let spread = fit.conditionalStandardDeviations[k][l]
                    return scale * (mode + (spread.isFinite ? spread : estimate) * generator.normal())
                }
            }
            return .init(coefficients: coefficients, effects: effects, standardDeviations: sds)
        }
    }

    /// A logit EB fit carried over to `link` for a start: with η̄ = logit(p̄)
    /// and η̄′ = F⁻¹(p̄) at the overall rate p̄, and s = p̄(1 − p̄)/F′(η̄′) the
    /// ratio of the two links' slopes there, a logit linear predictor η maps
    /// to η̄′ + s(η − η̄), its first-order match at p̄. So the intercept
    /// becomes η̄′ + s(β₀ − η̄), and every other coefficient, standard error,
    /// SD, mode and conditional SD is multiplied by s (about 1/1.6 for the
    /// probit at p̄ = ½, Amemiya 1981). A start only: the sampler corrects the
    /// approximation in warm-up.
    static func fromLogit(_ fit: EmpiricalBayesFit, design: Design, link: Link) -> EmpiricalBayesFit {
        let rate = overallRate(design)
        let logitCentre = log(rate / (1 - rate)), centre = link.linearPredictor(probability: rate)
        let s = rate * (1 - rate) / link.slope(centre), offset = meanOffset(design)
        var carried = fit
        carried.coefficients = fit.coefficients.indices.map { j in
            design.fixedNames[j] == "(Intercept)" ? centre - offset + s * (fit.coefficients[j] + offset - logitCentre)
                : s * fit.coefficients[j]
        }
        carried.standardErrors = fit.standardErrors.map { s * $0 }
        carried.standardDeviations = fit.standardDeviations.map { s * $0 }
        carried.theta = fit.theta.map { s * $0 }
        carried.modes = fit.modes.map { $0.map { s * $0 } }
        carried.conditionalStandardDeviations = fit.conditionalStandardDeviations.map { $0.map { s * $0 } }
        return carried
    }
}

extension InitialValues {
    /// A start for a design with random slopes (`RandomSlopeGibbs`,
    /// `RandomSlopeMetropolis`), or nil for `.prior` (whose overdispersed
    /// start each of those kernels draws itself). Around an EB fit, as for
    /// random intercepts, with each term's covariance Σ̂ₖ = DRD (VarCorr's
    /// SDs and correlations):
    ///
    /// - each coefficient βⱼ = β̂ⱼ + 2·SEⱼ·zⱼ;
    /// - each column's SD dⱼ = cⱼ·exp(½·zⱼ), cⱼ the fit's SD — floored as
    ///   `centre(of:term:)` floors it among all the fit's SDs for an
    ///   intercept column, and for a slope's column only at the boundary
    ///   (below 10⁻⁴: its scale is its covariate's, which the other SDs say
    ///   nothing about) — and the correlations R′ = 0.8R̂ + 0.2I — pulled towards
    ///   0 so that a boundary fit (a correlation of ±1) starts a chain inside
    ///   the positive-definite covariances; Σₖ = D′R′D′;
    /// - level l's effects bₗⱼ = (dⱼ/d̂ⱼ)(b̂ₗⱼ + sₗⱼzₗⱼ) with b̂ the conditional
    ///   modes and s the conditional SDs, or dⱼzₗⱼ where d̂ⱼ < 10⁻⁴.
    ///
    /// `clamp(k, j, d)` moves column j of term k's SD inside its prior's
    /// support (its effects scaled with it).
    func slopeStart(for design: Design, link: Link, using generator: Generator,
                    clamp: (Int, Int, Double) -> Double = { $2 })
        -> (coefficients: [Double], effects: [[Double]], covariances: [[Double]])? {
        guard case let .around(logitFit) = self else { return nil }
        let fit = link == .logit ? logitFit : InitialValues.fromLogit(logitFit, design: design, link: link)
        let coefficients = fit.coefficients.indices.map { j in
            let se = j < fit.standardErrors.count && fit.standardErrors[j].isFinite && fit.standardErrors[j] > 0
                ? fit.standardErrors[j] : 1
            return fit.coefficients[j] + 2 * se * generator.normal()
        }
        var effects: [[Double]] = [], covariances: [[Double]] = []
        var sdIndex = 0, correlationIndex = 0
        for (k, term) in design.randomTerms.enumerated() {
            let q = term.dimension, levels = term.levelCount
            let estimates = Array(fit.standardDeviations[sdIndex..<(sdIndex + q)])
            let sds = (0..<q).map { j in
                // A slope's SD is on its column's scale, which the other
                // terms' SDs say nothing about: floored only at the boundary.
                let estimate = estimates[j]
                let centre = term.columns[j] != "(Intercept)" && estimate.isFinite
                    && estimate >= EmpiricalBayesFit.singularTolerance
                    ? estimate : InitialValues.centre(of: fit.standardDeviations, term: sdIndex + j)
                return clamp(k, j, centre * exp(0.5 * generator.normal()))
            }
            var sigma = [Double](repeating: 0, count: q * q)
            for a in 0..<q {
                sigma[a * q + a] = sds[a] * sds[a]
                for b in (a + 1)..<q {
                    let r = fit.correlations[correlationIndex]
                    correlationIndex += 1
                    let value = 0.8 * (r.isFinite ? r : 0) * sds[a] * sds[b]
                    sigma[a * q + b] = value; sigma[b * q + a] = value
                }
            }
            sdIndex += q
            covariances.append(sigma)
            let modes = fit.modes[k], spreads = fit.conditionalStandardDeviations[k]
            effects.append((0..<(levels * q)).map { e in
                let j = e % q, estimate = estimates[j]
                guard estimate.isFinite && estimate >= EmpiricalBayesFit.singularTolerance else {
                    return sds[j] * generator.normal()
                }
                let mode = modes[e].isFinite ? modes[e] : 0
                let spread = spreads[e].isFinite ? spreads[e] : estimate
                return sds[j] / estimate * (mode + spread * generator.normal())
            })
        }
        return (coefficients, effects, covariances)
    }
}
