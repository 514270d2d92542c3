import CGSL
import Foundation

/// Closed-form cumulants of J*(1, c), whose cumulant generating function is
/// log cosh c − log cosh √(c² − 2s); with T = tanh c and S = sech² c,
///
///     κ₁ = T/c,  κ₂ = (T − cS)/c³,
///     κ₃ = (3T − 3cS − 2c²TS)/c⁵,
///     κ₄ = (15T − 15cS − 12c²TS + 2c³S² − 4c³T²S)/c⁷,
///
/// (each κₙ₊₁ = −(1/c) dκₙ/dc), written in T and S so that nothing overflows
/// for large c, and replaced by their Taylor series near c = 0 where the
/// closed forms cancel. PG(b, z) has κₙ = b κₙ(J*(1, |z|/2)) / 4ⁿ.
enum JacobiCumulants {
    static func third(c: Double) -> Double {
        if c < 0.05 {
            let c2 = c * c
            return 16.0 / 15 + c2 * (-136.0 / 105 + c2 * (992.0 / 945 + c2 * (-22112.0 / 31185 + c2 * 174752.0 / 405405)))
        }
        let t = tanh(c), s = 1 / (cosh(c) * cosh(c))
        return (3 * t - 3 * c * s - 2 * c * c * t * s) / pow(c, 5)
    }

    static func fourth(c: Double) -> Double {
        if c < 0.3 {
            let c2 = c * c
            return 272.0 / 105 + c2 * (-3968.0 / 945 + c2 * (44224.0 / 10395 + c2 * (-1398016.0 / 405405
                + c2 * (14873104.0 / 6081075 - c2 * 819786496.0 / 516891375))))
        }
        let t = tanh(c), s = 1 / (cosh(c) * cosh(c))
        let c2 = c * c, c3 = c2 * c
        return (15 * t - 15 * c * s - 12 * c2 * t * s + 2 * c3 * s * s - 4 * c3 * t * t * s) / pow(c, 7)
    }
}

extension PolyaGamma {
    /// The third cumulant of PG(b, z) in closed form.
    public static func thirdCumulant(shape b: Double, tilt z: Double) -> Double {
        b * JacobiCumulants.third(c: 0.5 * abs(z)) / 64
    }

    /// The fourth cumulant of PG(b, z) in closed form.
    public static func fourthCumulant(shape b: Double, tilt z: Double) -> Double {
        b * JacobiCumulants.fourth(c: 0.5 * abs(z)) / 256
    }

    /// How far a gamma distribution with PG(b, z)'s first three cumulants is
    /// from PG(b, z) in the fourth: |κ₄/κ₂² − 3κ₃²/(2κ₂³)| (the gamma's excess
    /// kurtosis is 1.5 × its squared skewness). It is 0.069/b at z = 0 and
    /// about 1.5/(b|z|/2) for large |z|.
    public static func matchedGammaKurtosisGap(shape b: Double, tilt z: Double) -> Double {
        let k2 = variance(shape: b, tilt: z)
        let k3 = thirdCumulant(shape: b, tilt: z)
        let k4 = fourthCumulant(shape: b, tilt: z)
        return abs(k4 / (k2 * k2) - 1.5 * k3 * k3 / (k2 * k2 * k2))
    }
}

/// Approximate draws of PG(b, z) for large b: a shifted gamma
/// X = shift + θ G, G ~ Gamma(α, 1), with PG(b, z)'s exact mean, variance and
/// skewness (α = 4/γ₁², θ = σγ₁/2, shift = μ − αθ, which is positive: 0.042b at
/// z = 0 and about b/(3|z|/2) for large |z|).
///
/// PG(b, z) is a weighted sum of gammas dominated by its first term, so a
/// gamma fits it closely: the excess kurtosis is off by
/// `PolyaGamma.matchedGammaKurtosisGap` (0.069/b at z = 0), which moves the
/// CDF by about 0.023 × that gap (Edgeworth). The hybrid rule uses it only
/// where the gap is below `PolyaGamma.matchedGammaTolerance`.
struct MatchedGammaPolyaGamma: Sendable {
    let shift: Double
    let shape: Double
    let scale: Double

    init(shape b: Double, tilt z: Double) {
        let mean = PolyaGamma.mean(shape: b, tilt: z)
        let variance = PolyaGamma.variance(shape: b, tilt: z)
        let skewness = PolyaGamma.thirdCumulant(shape: b, tilt: z) / pow(variance, 1.5)
        shape = 4 / (skewness * skewness)
        scale = variance.squareRoot() * skewness / 2
        shift = mean - shape * scale
    }

    @inline(__always)
    func sample(using generator: Generator) -> Double {
        shift + scale * gsl_ran_gamma(generator.pointer, shape, 1)
    }
}
