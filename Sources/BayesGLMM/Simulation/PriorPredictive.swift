import Foundation
import Variates

/// Draws from a model's joint distribution p(θ, y) = p(θ)·p(y | θ) on a
/// fixed design: the parameters θ = (β, u, σ) from their priors, then the
/// successes of every binomial cell. Simulation-based calibration (Talts et
/// al. 2018) ranks a sampler's draws of θ given y against the θ that made y;
/// Geweke's (2004) joint-distribution test compares moments of (θ, y) from
/// these draws with those of a chain alternating y | θ and θ | y. Both
/// `CalibrationTests` and the SBC harness (`Validation/sbc`) draw here.
public enum PriorPredictive {
    /// θ ~ p(θ), in this order: each coefficient βⱼ ~ N(mⱼ, sⱼ²) from
    /// `priors.fixed`; each σₖ from `priors.scale` (`ScalePrior.draw`); then
    /// the effects of each term, uₖₗ ~ N(0, σₖ²).
    public static func parameters(_ design: Design, _ priors: Priors, using generator: Generator)
        -> PolyaGammaGibbs.State {
        let coefficients = design.fixedNames.map { name -> Double in
            let prior = priors.fixed(name)
            return prior.mean + prior.standardDeviation * generator.normal()
        }
        let standardDeviations = design.randomTerms.map { priors.scale($0.name).draw(using: generator) }
        let effects = design.randomTerms.enumerated().map { k, term in
            (0..<term.levelCount).map { _ in standardDeviations[k] * generator.normal() }
        }
        return PolyaGammaGibbs.State(coefficients: coefficients, effects: effects,
                                     standardDeviations: standardDeviations)
    }

    /// θ ~ p(θ) for a design with random slopes (`RandomSlopeGibbs`): each
    /// coefficient as `parameters` does; per term, with one column σ from
    /// its `priors.scale` and Σ = σ², with q > 1 columns Σ from Huang &
    /// Wand's prior (`RandomSlopeGibbs.HuangWand.draw`) or, under
    /// `cor(term) ~ lkj(η)`, each SD from the term's SD prior and the
    /// correlations from LKJ(η) through its C-vine; then each level's
    /// effects u ~ N(0, Σ), level by level. Throws as
    /// `CovarianceForm.resolve` does for an SD prior with no covariance form.
    public static func slopeParameters(_ design: Design, _ priors: Priors, using generator: Generator)
        throws(InputError) -> RandomSlopeGibbs.State {
        let coefficients = design.fixedNames.map { name -> Double in
            let prior = priors.fixed(name)
            return prior.mean + prior.standardDeviation * generator.normal()
        }
        var covariances: [[Double]] = [], effects: [[Double]] = []
        for term in design.randomTerms {
            let q = term.dimension
            let sigma: [Double]
            switch try CovarianceForm.resolve(term, priors: priors) {
            case let .huangWand(prior):
                sigma = prior.draw(using: generator)
            case let .scale(prior):
                let sd = prior.draw(using: generator)
                sigma = [sd * sd]
            case let .lkj(eta, scales):
                // The C-vine: each canonical partial correlation zᵢⱼ ~
                // Beta(βⱼ, βⱼ) on (−1, 1), βⱼ = η + (q − 2 − j)/2 (LKJ 2009).
                var theta = scales.map { log($0.draw(using: generator)) }
                for i in 1..<q {
                    for j in 0..<i {
                        let beta = eta + Double(q - 2 - j) / 2
                        let a = generator.gamma(shape: beta, scale: 1), b = generator.gamma(shape: beta, scale: 1)
                        let z = 2 * a / (a + b) - 1
                        theta.append(atanh(min(max(z, -1 + 1e-15), 1 - 1e-15)))
                    }
                }
                sigma = RandomSlopeMetropolis.covariance(from: theta, size: q)
            }
            covariances.append(sigma)
            let factor = SmallCholesky(sigma, size: q)?.factor ?? [Double](repeating: 0, count: q * q)
            var u = [Double](repeating: 0, count: term.levelCount * q)
            for l in 0..<term.levelCount {
                let z = (0..<q).map { _ in generator.normal() }
                for a in 0..<q { for b in 0...a { u[l * q + a] += factor[a * q + b] * z[b] } }
            }
            effects.append(u)
        }
        return RandomSlopeGibbs.State(coefficients: coefficients, effects: effects, covariances: covariances)
    }

    /// y ~ p(y | θ): the successes of cell i, Binomial(nᵢ, F(ψᵢ)) with
    /// ψᵢ = oᵢ + xᵢ′β + Σₖ zₖᵢ′uₖ[levelₖ(i)] (oᵢ the offset, zₖᵢ = 1 for a random intercept), drawn as nᵢ uniform comparisons. F is
    /// the link's inverse; for the logit it is written 1/(1 + e^−ψ), the
    /// expression of the SBC runs in Validation/RESULTS.md, so that their
    /// data are the same to the last bit.
    public static func successes(_ design: Design, link: Link = .logit, coefficients: [Double],
                                 effects: [[Double]], using generator: Generator) -> [Double] {
        (0..<design.cellCount).map { i in
            var psi = design.offset(i)
            for (j, x) in design.fixedRow(i).enumerated() { psi += x * coefficients[j] }
            for (k, term) in design.randomTerms.enumerated() { psi += term.contribution(cell: i, effects: effects[k]) }
            let p = link == .logit ? 1 / (1 + exp(-psi)) : link.probability(psi)
            var y = 0.0
            for _ in 0..<Int(design.trials[i]) where generator.uniform() < p { y += 1 }
            return y
        }
    }
}

extension ScalePrior {
    /// One draw of σ from this prior:
    ///
    /// - half-t(ν, A): |A·z/√(χ²_ν/ν)|, z ~ N(0, 1), χ²_ν ~ Gamma(ν/2, scale 2);
    ///   half-Cauchy(A) the same with ν = 1;
    /// - half-normal(A): |A·z|;
    /// - inverse gamma(a, b) on σ²: σ = 1/√G, G ~ Gamma(a, scale 1/b);
    /// - uniform(l, u): l + (u − l)·U;
    /// - exponential(λ): E/λ, E a standard exponential;
    /// - log-normal(μ, s): exp(μ + s·z).
    public func draw(using generator: Generator) -> Double {
        switch self {
        case let .halfT(nu, scale):
            let chi = generator.gamma(shape: nu / 2, scale: 2) / nu
            return abs(scale * generator.normal() / chi.squareRoot())
        case let .halfCauchy(scale):
            return ScalePrior.halfT(degrees: 1, scale: scale).draw(using: generator)
        case let .halfNormal(scale):
            return abs(scale * generator.normal())
        case let .inverseGamma(shape, scale):
            return 1 / generator.gamma(shape: shape, scale: 1 / scale).squareRoot()
        case let .uniform(lower, upper):
            return lower + (upper - lower) * generator.uniform()
        case let .exponential(rate):
            return generator.exponential() / rate
        case let .lognormal(mu, sigma):
            return exp(mu + sigma * generator.normal())
        }
    }
}
