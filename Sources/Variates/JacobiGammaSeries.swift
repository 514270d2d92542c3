import CGSL
import Foundation

/// Accurate approximate draws of J*(h, c) for large h from its gamma series
/// (Polson, Scott & Windle 2013, Eq. 2; PG(h, z) = J*(h, |z|/2)/4):
///
///     J*(h, c) = Σ_{k ≥ 1} g_k / d_k,   g_k ~ Gamma(h, 1),   d_k = (π²(k − ½)² + c²)/2.
///
/// The first K terms are drawn exactly; the remainder R_K = Σ_{k > K} g_k/d_k is
/// replaced by one gamma variate with R_K's exact mean κ₁ = h Σ_{k>K} 1/d_k and
/// variance κ₂ = h Σ_{k>K} 1/d_k² (taken as the closed-form moments of J*(h, c)
/// minus the first K terms). Mean and variance of the draw are therefore exact.
/// The third cumulants of R_K and of its stand-in both lie in [0, 2κ₂/d_{K+1}],
/// so K is the smallest number of terms for which
///
///     2 κ₂ / (d_{K+1} σ³) ≤ `skewnessTolerance`,
///
/// σ² the variance of J*(h, c): the standardised third cumulant of the draw
/// is then within 1e-4 of the exact one, and by an Edgeworth expansion the CDF
/// is off by at most about 0.4·1e-4/6 < 1e-5 — far below what a
/// Kolmogorov–Smirnov test on millions of draws can see (it is checked against
/// exact draws in the tests and in Validation/polyagamma). This is not exact,
/// so the hybrid rule uses it only above `PolyaGamma.exactShapeLimit`.
struct GammaSeriesJacobi: Sendable {
    static let skewnessTolerance = 1e-4
    static let maximumTerms = 200

    let h: Double
    let weights: [Double]          // 1/d_k, k = 1…K
    let remainderShape: Double     // of the gamma that stands in for R_K (0: none)
    let remainderScale: Double
    let remainderConstant: Double  // R_K's mean, when its variance is negligible

    init(shape h: Double, c: Double) {
        self.h = h
        let mean = h * JacobiMoments.mean(c: c)
        let variance = h * JacobiMoments.variance(c: c)
        let sigmaCubed = variance * variance.squareRoot()
        var weights: [Double] = []
        var explicitMean = 0.0, explicitVariance = 0.0
        var remainderMean = mean, remainderVariance = variance
        let piSquared = Double.pi * Double.pi
        for k in 1...GammaSeriesJacobi.maximumTerms {
            let half = Double(k) - 0.5
            let w = 2 / (piSquared * half * half + c * c)   // 1/d_k
            if 2 * remainderVariance * w <= GammaSeriesJacobi.skewnessTolerance * sigmaCubed { break }
            weights.append(w)
            explicitMean += h * w
            explicitVariance += h * w * w
            remainderMean = mean - explicitMean
            remainderVariance = variance - explicitVariance
        }
        self.weights = weights
        if remainderMean > 0 && remainderVariance > 1e-14 * variance {
            remainderShape = remainderMean * remainderMean / remainderVariance
            remainderScale = remainderVariance / remainderMean
            remainderConstant = 0
        } else {
            remainderShape = 0
            remainderScale = 0
            remainderConstant = max(remainderMean, 0)
        }
    }

    @inline(__always)
    func sample(using generator: Generator) -> Double {
        var x = remainderConstant
        for w in weights { x += w * gsl_ran_gamma(generator.pointer, h, 1) }
        if remainderShape > 0 { x += gsl_ran_gamma(generator.pointer, remainderShape, remainderScale) }
        return x
    }
}

/// Closed-form moments of J*(1, c) = 4 PG(1, 2c).
enum JacobiMoments {
    /// E J*(1, c) = tanh(c)/c.
    static func mean(c: Double) -> Double { 4 * PolyaGamma.mean(shape: 1, tilt: 2 * c) }
    /// Var J*(1, c) = (sinh 2c − 2c) sech²(c) / (2c³).
    static func variance(c: Double) -> Double { 16 * PolyaGamma.variance(shape: 1, tilt: 2 * c) }
}
