import Foundation

/// Approximate leave-one-out cross-validation by Pareto-smoothed importance
/// sampling (PSIS-LOO; Vehtari, Gelman & Gabry 2017, "Practical Bayesian
/// model evaluation using leave-one-out cross-validation and WAIC",
/// Statistics and Computing 27), and WAIC (Watanabe 2010), computed from
/// the pointwise log-likelihood draws as R's `loo` 2.5.1 computes them
/// (`loo.array`, `waic.matrix`, `loo_compare`).
///
/// For observation i with draws ℓᵢ⁽ˢ⁾ = log p(yᵢ | θ⁽ˢ⁾), s = 1…S:
/// the importance ratios of leaving it out are 1/p(yᵢ | θ⁽ˢ⁾), smoothed
/// (`paretoSmoothed`, with the relative efficiency r_eff = ESS/S of
/// exp(ℓᵢ) over the chains as loo's `relative_eff`) and normalised to wᵢ;
/// elpd_loo,i = log Σₛ wᵢ⁽ˢ⁾ exp(ℓᵢ⁽ˢ⁾), lpdᵢ = log((1/S) Σₛ exp(ℓᵢ⁽ˢ⁾)),
/// p_loo,i = lpdᵢ − elpd_loo,i, looicᵢ = −2 elpd_loo,i. Totals are sums,
/// with standard errors √(n var(pointwise)). The Monte Carlo SE of
/// elpd_loo,i is loo's: the SD of the importance-sampling estimate of
/// exp(elpd_loo,i), mapped through log by 1,000 normal quantiles and
/// divided by √r_eff.
public struct LeaveOneOut: Sendable {
    public struct Pointwise: Sendable, Equatable {
        public var elpd: Double
        public var mcse: Double
        public var effectiveParameters: Double
        public var looic: Double
        public var paretoK: Double
        /// loo's `psis_n_eff`: 1/Σ w² times r_eff.
        public var effectiveDraws: Double
        public var relativeEfficiency: Double
        /// lpdᵢ = log((1/S) Σₛ exp(ℓᵢ⁽ˢ⁾)), which WAIC shares.
        public var logPredictiveDensity: Double
    }

    /// A total and its standard error.
    public struct Estimate: Sendable, Equatable {
        public var value: Double
        public var standardError: Double
    }

    public let pointwise: [Pointwise]
    /// Draws per observation (S).
    public let draws: Int

    public var elpd: Estimate { LeaveOneOut.total(pointwise.map(\.elpd)) }
    public var effectiveParameters: Estimate { LeaveOneOut.total(pointwise.map(\.effectiveParameters)) }
    public var looic: Estimate { LeaveOneOut.total(pointwise.map(\.looic)) }
    /// The Monte Carlo SE of elpd_loo: √Σ mcseᵢ², or nil (loo's NA) when a
    /// Pareto k is above 0.7.
    public var mcse: Double? {
        pointwise.contains { $0.paretoK > 0.7 } ? nil : RArithmetic.sum(pointwise.map { $0.mcse * $0.mcse }).squareRoot()
    }

    /// From each observation's log-likelihood draws (chains of equal length).
    public init(logLikelihood: [Draws]) {
        draws = logLikelihood.first.map { $0.iterations * $0.chains } ?? 0
        pointwise = logLikelihood.map(LeaveOneOut.pointwise)
    }

    /// From pointwise figures computed one observation at a time
    /// (`pointwise(_:)`), for log-likelihoods too large to hold at once.
    public init(pointwise: [Pointwise], draws: Int) {
        self.pointwise = pointwise
        self.draws = draws
    }

    static func total(_ values: [Double]) -> Estimate {
        Estimate(value: RArithmetic.sum(values), standardError: (Double(values.count) * RArithmetic.variance(values)).squareRoot())
    }

    /// One observation's figures from its log-likelihood draws.
    public static func pointwise(_ ll: Draws) -> Pointwise {
        pointwise(ll, transforms: FourierTransforms())
    }

    /// One observation's figures, with FFT workspaces kept between calls
    /// (one `FourierTransforms` per thread).
    public static func pointwise(_ ll: Draws, transforms: FourierTransforms) -> Pointwise {
        let values = ll.values
        let s = Double(values.count)
        let likelihoods = values.map { exp($0) }
        // r_eff: ess of exp(ℓ) over the chains, as they are (not split), over S.
        let likelihood = try? Draws(columnMajor: likelihoods, iterations: ll.iterations, chains: ll.chains)
        let relativeEfficiency = likelihood.flatMap { effectiveSampleSize($0, transforms: transforms, unchecked: true) }
            .map { $0 / s } ?? 1
        let (raw, k) = paretoSmoothed(logRatios: values.map { -$0 }, relativeEfficiency: relativeEfficiency)
        let normaliser = logSumExp(raw)
        let weights = raw.map { $0 - normaliser }
        let elpd = logSumExp(zip(values, weights).map { $0 + $1 })
        let lpd = logSumExp(values) - log(s)
        // loo's mcse_elpd: Σ w² (exp(ℓ) − exp(elpd))², and n_eff from Σ w².
        let expected = exp(elpd)
        let squares = weights.map { exp(2 * $0) }
        var variance = 0.0
        for (l, square) in zip(likelihoods, squares) {
            let d = l - expected
            variance += square * d * d
        }
        let sd = variance.squareRoot()
        let logs = LeaveOneOut.normalScores.compactMap { z -> Double? in
            let value = expected + sd * z
            return value > 0 ? log(value) : nil
        }
        let mcse = (RArithmetic.variance(logs) / relativeEfficiency).squareRoot()
        let effectiveDraws = 1 / RArithmetic.sum(squares) * relativeEfficiency
        return Pointwise(elpd: elpd, mcse: mcse, effectiveParameters: lpd - elpd, looic: -2 * elpd, paretoK: k,
                         effectiveDraws: effectiveDraws, relativeEfficiency: relativeEfficiency,
                         logPredictiveDensity: lpd)
    }

    /// Φ⁻¹((r − 3/8)/(1000 + 1/4)), r = 1…1000: Blom's normal scores, loo's
    /// stand-in for draws of the estimate's distribution.
    static let normalScores: [Double] = (1...1000).map { r in
        GSL.normalQuantile((Double(r) - 3.0 / 8.0) / (1000 - 2 * 3.0 / 8.0 + 1))
    }

    /// The Pareto k diagnostic's classes as loo 2.5.1 prints them.
    public enum ParetoClass: String, CaseIterable, Sendable {
        case good = "(-Inf, 0.5]", ok = "(0.5, 0.7]", bad = "(0.7, 1]", veryBad = "(1, Inf)"
        public init(_ k: Double) {
            self = k <= 0.5 ? .good : k <= 0.7 ? .ok : k <= 1 ? .bad : .veryBad
        }
    }
}

/// WAIC (Watanabe 2010) as loo's `waic`: lpdᵢ as in LOO, p_waic,i the
/// sample variance of ℓᵢ over the draws, elpd_waic,i = lpdᵢ − p_waic,i,
/// waicᵢ = −2 elpd_waic,i; totals with √(n var) standard errors.
public struct WidelyApplicableCriterion: Sendable {
    public let elpd: [Double]
    public let effectiveParameters: [Double]
    public var waic: [Double] { elpd.map { -2 * $0 } }

    public init(logLikelihood: [Draws]) {
        let points = logLikelihood.map(WidelyApplicableCriterion.pointwise)
        self.init(elpd: points.map(\.elpd), effectiveParameters: points.map(\.effectiveParameters))
    }

    public init(elpd: [Double], effectiveParameters: [Double]) {
        self.elpd = elpd
        self.effectiveParameters = effectiveParameters
    }

    /// One observation's elpd_waic and p_waic.
    public static func pointwise(_ ll: Draws) -> (elpd: Double, effectiveParameters: Double) {
        pointwise(ll, logPredictiveDensity: logSumExp(ll.values) - log(Double(ll.values.count)))
    }

    /// The same with lpdᵢ already computed (`LeaveOneOut.Pointwise`).
    public static func pointwise(_ ll: Draws, logPredictiveDensity lpd: Double)
        -> (elpd: Double, effectiveParameters: Double) {
        let p = RArithmetic.variance(ll.values)
        return (lpd - p, p)
    }

    public var totals: (elpd: LeaveOneOut.Estimate, effectiveParameters: LeaveOneOut.Estimate, waic: LeaveOneOut.Estimate) {
        (LeaveOneOut.total(elpd), LeaveOneOut.total(effectiveParameters), LeaveOneOut.total(waic))
    }
}

extension LeaveOneOut {
    /// loo's `loo_compare`: the models ordered by elpd_loo, highest first,
    /// each with elpd_diff = Σᵢ (elpdᵢ − elpdᵢ of the best) and its SE
    /// √n · sd(differences) (0 and 0 for the best). The models must have
    /// the same observations.
    public static func compare(_ models: [LeaveOneOut]) -> [(model: Int, difference: Double, standardError: Double)] {
        let order = models.indices.sorted { models[$0].elpd.value > models[$1].elpd.value }
        guard let best = order.first else { return [] }
        return order.map { m in
            let differences = zip(models[m].pointwise, models[best].pointwise).map { $0.elpd - $1.elpd }
            let n = Double(differences.count)
            let se = m == best ? 0 : (n * RArithmetic.variance(differences)).squareRoot()
            return (m, RArithmetic.sum(differences), se)
        }
    }
}
