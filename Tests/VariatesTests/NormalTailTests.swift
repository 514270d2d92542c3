import CGSL
import Foundation
import Testing
@testable import Variates

/// `Generator.normalTail(above:)`, the truncated normal behind the
/// Albert–Chib probit augmentation, against its closed forms.
@Suite struct NormalTailTests {
    /// Z | Z > a for a standard normal Z: with λ = φ(a)/(1 − Φ(a)) (the
    /// inverse Mills ratio), mean λ and variance 1 + aλ − λ²; the CDF is
    /// 1 − Q(x)/Q(a), Q the upper tail. Both sides of 0 (a < 0 is the
    /// rejection branch written here, a ≥ 0 is GSL's; a = 1 is where GSL
    /// switches to Marsaglia's tail method).
    @Test(arguments: [-4.0, -1.5, -0.2, 0.0, 0.4, 1.0, 2.5, 7.0])
    func momentsAndDistribution(lower a: Double) throws {
        let q = gsl_cdf_ugaussian_Q(a)
        let lambda = exp(-a * a / 2) / (2 * Double.pi).squareRoot() / q
        let mean = lambda, variance = 1 + a * lambda - lambda * lambda
        let g = try Generator(seed: 1993, chain: 0, stream: UInt64(a * 10 + 100))
        let n = 100_000
        let x = (0..<n).map { _ in g.normalTail(above: a) }
        #expect(x.allSatisfy { $0 > a })
        // Mean and variance z-scores, the variance's from the sample's own
        // fourth central moment.
        let m = Sample.mean(x)
        let m4 = x.reduce(0) { $0 + pow($1 - m, 4) } / Double(n)
        let zm = Sample.meanZ(x, mean: mean, variance: variance)
        let zv = (Sample.variance(x) - variance) / ((m4 - variance * variance) / Double(n)).squareRoot()
        #expect(abs(zm) < 4, "a = \(a): mean \(m) against \(mean), z = \(zm)")
        #expect(abs(zv) < 4, "a = \(a): variance \(Sample.variance(x)) against \(variance), z = \(zv)")
        let d = Sample.kolmogorovSmirnov(Array(x.prefix(20_000))) { 1 - gsl_cdf_ugaussian_Q($0) / q }
        let statistic = d * (20_000.0).squareRoot()
        #expect(statistic < Sample.kolmogorovCritical, "a = \(a): √n D = \(statistic)")
    }

    @Test func sameSeedSameDraws() throws {
        let a = try Generator(seed: 5), b = try Generator(seed: 5), c = try Generator(seed: 6)
        let bounds = [-2.0, 0.5, 3.0, -0.1]
        let x = (0..<400).map { bounds[$0 % 4] }.map { a.normalTail(above: $0) }
        let y = (0..<400).map { bounds[$0 % 4] }.map { b.normalTail(above: $0) }
        let z = (0..<400).map { bounds[$0 % 4] }.map { c.normalTail(above: $0) }
        #expect(x == y)
        #expect(x != z)
    }
}
