import Foundation

/// The prior of one random term's covariance, resolved once from the
/// `--prior` specification for every slope kernel (`RandomSlopeGibbs`,
/// `RandomSlopeMetropolis`) and the prior predictive draws:
///
/// - a term with one column: its SD prior (`Priors.scale`);
/// - `cor(term) ~ lkj(η)`: LKJ(η) on the correlations (Lewandowski,
///   Kurowicka & Joe 2009), the term's SD prior on each SD (brms's family);
/// - `cov(term) ~ huang_wand(ν, A)`: Huang & Wand's (2013) prior as given;
/// - otherwise Huang & Wand's prior whose SD marginals are the term's half-t
///   (or half-Cauchy) SD prior (`RandomSlopeGibbs.HuangWand.init(_:columns:)`).
enum CovarianceForm: Sendable {
    /// One column: σ ~ the prior.
    case scale(ScalePrior)
    case huangWand(RandomSlopeGibbs.HuangWand)
    /// LKJ(η) on the correlations, the priors on each column's SD.
    case lkj(eta: Double, scales: [ScalePrior])

    /// The form of `term`'s prior. Throws `InputError` (`.unsupported`,
    /// setting "prior") for a term with q > 1 columns whose SD prior has no
    /// Huang–Wand form and that has no `cor(term) ~ lkj(η)`.
    static func resolve(_ term: RandomEffect, priors: Priors) throws(InputError) -> CovarianceForm {
        let q = term.dimension, scale = priors.scale(term.name)
        if q == 1 { return .scale(scale) }
        if let eta = priors.correlation[term.name] { return .lkj(eta: eta, scales: Array(repeating: scale, count: q)) }
        if let given = priors.covariance[term.name] {
            return .huangWand(RandomSlopeGibbs.HuangWand(degrees: given.degrees,
                                                         scales: Array(repeating: given.scale, count: q)))
        }
        if let huangWand = RandomSlopeGibbs.HuangWand(scale, columns: q) { return .huangWand(huangWand) }
        throw InputError(.unsupported,
                         "the SD prior of \(term.name), \(scale), has no covariance form for its \(q) correlated "
                            + "effects (\(term.columns.joined(separator: ", "))); give cor(\(term.name)) ~ lkj(2) "
                            + "(LKJ on the correlations, that prior on each SD; the Metropolis sampler) or use a "
                            + "half_t SD prior (Huang & Wand's prior)",
                         setting: "prior")
    }
}
