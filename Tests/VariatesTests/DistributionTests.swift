import CGSL
import Foundation
import Testing
@testable import Variates

@Suite struct DistributionTests {
    let n = 200_000

    func check(_ d: some Distribution, mean: Double, variance: Double, fourthCumulant: Double,
               seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let g = try Generator(seed: seed)
        let x = d.samples(n, using: g)
        let zm = Sample.meanZ(x, mean: mean, variance: variance)
        let zv = Sample.varianceZ(x, variance: variance, fourthCumulant: fourthCumulant)
        #expect(abs(zm) < 4, "mean z = \(zm)", sourceLocation: sourceLocation)
        #expect(abs(zv) < 4, "variance z = \(zv)", sourceLocation: sourceLocation)
    }

    @Test func momentsMatchClosedForms() throws {
        try check(StandardNormal(), mean: 0, variance: 1, fourthCumulant: 0, seed: 1)
        try check(Normal(mean: 3, standardDeviation: 2), mean: 3, variance: 4, fourthCumulant: 0, seed: 2)
        // Gamma(k, rate r): κ₂ = k/r², κ₄ = 6k/r⁴.
        try check(Gamma(shape: 0.5, rate: 2), mean: 0.25, variance: 0.125, fourthCumulant: 6 * 0.5 / 16, seed: 3)
        try check(Gamma(shape: 7, scale: 0.5), mean: 3.5, variance: 1.75, fourthCumulant: 6 * 7 * 0.0625, seed: 4)
        try check(Exponential(rate: 4), mean: 0.25, variance: 1.0 / 16, fourthCumulant: 6.0 / 256, seed: 5)
        // Uniform(a, b): κ₄ = −(b − a)⁴/120.
        try check(Uniform(lower: -1, upper: 3), mean: 1, variance: 16.0 / 12, fourthCumulant: -256.0 / 120, seed: 6)
        // IG(μ, λ): κ₂ = μ³/λ, κ₄ = 15 μ⁷/λ³.
        try check(InverseGaussian(mean: 2, shape: 5), mean: 2, variance: 8.0 / 5,
                  fourthCumulant: 15 * 128.0 / 125, seed: 7)
        // Inverse gamma(α, β): mean β/(α−1), variance β²/((α−1)²(α−2)); κ₄ finite for α > 4.
        let a = 9.0, b = 4.0
        let m = b / (a - 1), v = b * b / ((a - 1) * (a - 1) * (a - 2))
        let mu4 = pow(b, 4) / ((a - 1) * (a - 2) * (a - 3) * (a - 4))   // E X⁴
        let mu3 = pow(b, 3) / ((a - 1) * (a - 2) * (a - 3))
        let mu2 = b * b / ((a - 1) * (a - 2))
        let central4 = mu4 - 4 * m * mu3 + 6 * m * m * mu2 - 3 * pow(m, 4)
        try check(InverseGamma(shape: a, scale: b), mean: m, variance: v, fourthCumulant: central4 - 3 * v * v, seed: 8)
    }

    /// Truncated normal moments: with α, β the standardised bounds and
    /// Z = Φ(β) − Φ(α), mean = μ + σ(φ(α) − φ(β))/Z and
    /// variance = σ²[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²].
    @Test(arguments: [(-1.0, 2.0), (0.5, 0.9), (3.0, 3.5), (-.infinity, -2.0), (4.0, .infinity),
                      (-.infinity, .infinity), (-0.3, 0.4), (8.0, 9.0)])
    func truncatedNormal(bounds: (Double, Double)) throws {
        let (lo, hi) = bounds
        let mu = 0.5, sigma = 2.0
        let a = (lo - mu) / sigma, b = (hi - mu) / sigma
        func phi(_ x: Double) -> Double { x.isInfinite ? 0 : exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
        func xphi(_ x: Double) -> Double { x.isInfinite ? 0 : x * phi(x) }
        // Z in the tail by the upper-tail function for accuracy.
        let z = a > 0 ? gsl_cdf_ugaussian_Q(a) - gsl_cdf_ugaussian_Q(b) : gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a)
        let r = (phi(a) - phi(b)) / z
        let mean = mu + sigma * r
        let variance = sigma * sigma * (1 + (xphi(a) - xphi(b)) / z - r * r)
        let d = try TruncatedNormal(mean: mu, standardDeviation: sigma, lower: lo, upper: hi)
        let g = try Generator(seed: 99)
        let x = d.samples(100_000, using: g)
        #expect(x.allSatisfy { $0 >= lo && $0 <= hi })
        // For the variance z-score use the sample's own fourth central moment.
        let m = Sample.mean(x)
        let m4 = x.reduce(0) { $0 + pow($1 - m, 4) } / Double(x.count)
        let zm = Sample.meanZ(x, mean: mean, variance: variance)
        let zv = (Sample.variance(x) - variance) / ((m4 - variance * variance) / Double(x.count)).squareRoot()
        #expect(abs(zm) < 4, "mean z = \(zm)")
        #expect(abs(zv) < 4, "variance z = \(zv)")
    }

    @Test func invalidParametersAreNamed() {
        #expect(throws: VariatesError.invalidParameter(distribution: "Gamma", name: "shape", value: -1,
                                                       requirement: "finite and greater than 0")) {
            try Gamma(shape: -1, rate: 1)
        }
        #expect(throws: VariatesError.self) { try Normal(mean: .nan, standardDeviation: 1) }
        #expect(throws: VariatesError.self) { try Normal(mean: 0, standardDeviation: 0) }
        #expect(throws: VariatesError.self) { try Exponential(rate: .infinity) }
        #expect(throws: VariatesError.self) { try Uniform(lower: 1, upper: 1) }
        #expect(throws: VariatesError.self) { try InverseGaussian(mean: 1, shape: -2) }
        #expect(throws: VariatesError.self) { try InverseGamma(shape: 0, scale: 1) }
        #expect(throws: VariatesError.self) { try TruncatedNormal(mean: 0, standardDeviation: 1, lower: 2, upper: 1) }
        #expect(throws: VariatesError.self) { try TruncatedNormal(mean: 0, standardDeviation: 1, lower: .nan) }
        let message = String(describing: VariatesError.invalidParameter(
            distribution: "PolyaGamma", name: "shape", value: 0, requirement: "finite and greater than 0"))
        #expect(message.contains("shape") && message.contains("PolyaGamma"))
    }

    /// GSL status codes become Swift errors at the boundary (and GSL's own
    /// handler, which would abort, is off).
    @Test func gslStatusBecomesError() throws {
        GSL.configure()
        var result = gsl_sf_result()
        let status = gsl_sf_lngamma_e(-1, &result)   // a pole: GSL reports a domain error
        #expect(throws: VariatesError.self) { try GSL.check(status, "gsl_sf_lngamma_e") }
        #expect(throws: Never.self) { try GSL.check(Int32(GSL_SUCCESS), "none") }
    }
}
