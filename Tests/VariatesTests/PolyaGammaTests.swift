import CGSL
import Foundation
import Testing
@testable import Variates

@Suite struct PolyaGammaTests {
    // MARK: parameters

    @Test func rejectsInvalidParameters() {
        for b in [0.0, -1, .nan, .infinity, -.infinity] {
            #expect(throws: VariatesError.self) { try PolyaGamma(shape: b, tilt: 0) }
        }
        for z in [Double.nan, .infinity, -.infinity] {
            #expect(throws: VariatesError.self) { try PolyaGamma(shape: 1, tilt: z) }
        }
        #expect(throws: VariatesError.self) { try PolyaGamma(shape: 2.5, tilt: 0, method: .devroye) }
        #expect(throws: VariatesError.self) { try PolyaGamma(shape: 1, tilt: 0).cdf(.nan) }
    }

    // MARK: closed forms

    @Test func momentsNearZeroAreContinuous() throws {
        for b in [0.5, 1, 7] {
            let at0 = try PolyaGamma(shape: b, tilt: 0)
            #expect(at0.mean == b / 4)
            #expect(abs(at0.variance - b / 24) < 1e-16 * b)
            for z in [1e-12, 1e-6, 1e-4, 0.01] {
                let pg = try PolyaGamma(shape: b, tilt: z)
                // mean = b/4 (1 − z²/12 + …), variance = b/24 (1 − z²/5 + …)
                #expect(abs(pg.mean - b / 4) <= b / 4 * z * z / 11 + 1e-15 * b)
                #expect(abs(pg.variance - b / 24) <= b / 24 * z * z / 4.5 + 1e-15 * b)
            }
            // The series and closed-form branches meet at |z| = 1.
            let below = PolyaGamma.variance(shape: b, tilt: 1 - 1e-9)
            let above = PolyaGamma.variance(shape: b, tilt: 1 + 1e-9)
            #expect(abs(below - above) / above < 1e-8)
        }
        let far = try PolyaGamma(shape: 3, tilt: -2000)
        #expect(far.mean.isFinite && far.variance.isFinite && far.variance > 0)
        #expect(abs(far.mean - 3.0 / 4000) < 1e-15)
    }

    /// The closed forms agree with the cumulants of the gamma series
    /// κ_m = b (m − 1)! Σ w_k^m, and the skewness at z = 0 is 24^(3/2)/60 /√b.
    @Test func closedFormsAgreeWithGammaSeries() throws {
        for (b, z) in [(1.0, 0.0), (2.5, 1.0), (4.0, -7.0), (10.0, 30.0)] {
            let w: (Int) -> Double = { k in
                let h = Double(k) - 0.5
                return 1 / (2 * Double.pi * Double.pi * (h * h + z * z / (4 * Double.pi * Double.pi)))
            }
            var s2 = 0.0
            for k in stride(from: 400_000, through: 1, by: -1) { s2 += pow(w(k), 2) }
            #expect(abs(b * s2 - PolyaGamma.variance(shape: b, tilt: z)) / (b * s2) < 1e-12)
        }
        for b in [1.0, 4, 25] {
            let skew = try PolyaGamma(shape: b, tilt: 0).skewness
            #expect(abs(skew - pow(24, 1.5) / 60 / b.squareRoot()) < 1e-9)
            #expect(abs(skew * b.squareRoot() - 1.96) < 0.001)
        }
    }

    /// Closed-form third and fourth cumulants against the gamma-series sums.
    @Test(arguments: [0.0, 0.02, 0.2, 0.5, 0.7, 3, -9, 60])
    func closedFormCumulants(z: Double) {
        let b = 3.0
        let k3 = PolyaGamma.thirdCumulant(shape: b, tilt: z)
        let k4 = PolyaGamma.fourthCumulant(shape: b, tilt: z)
        #expect(abs(k3 - PolyaGamma.cumulant(3, shape: b, tilt: z)) / k3 < 1e-9)
        #expect(abs(k4 - PolyaGamma.cumulant(4, shape: b, tilt: z)) / k4 < 1e-7)
        // The matched gamma's kurtosis gap: 0.069/b at z = 0.
        if z == 0 { #expect(abs(PolyaGamma.matchedGammaKurtosisGap(shape: b, tilt: 0) * b - 0.0690) < 0.001) }
    }

    @Test func knownValues() throws {
        // Values printed by Python's polyagamma 2.0 (its README): pdf(0.1 | 1, 0)
        // and cdf([1, 2] | 2, 1).
        #expect(abs(try PolyaGamma(shape: 1, tilt: 0).density(0.1) - 3.613955566329298) < 1e-12)
        let pg = try PolyaGamma(shape: 2, tilt: 1)
        #expect(abs(try pg.cdf(1) - 0.95637847) < 5e-9)
        #expect(abs(try pg.cdf(2) - 0.99963397) < 5e-9)
    }

    /// The density integrates to the CDF (Simpson's rule, 4000 panels).
    @Test(arguments: [(0.5, 0.0), (1.0, 3.0), (2.7, -1.0), (12.0, 6.0), (40.0, 0.0)])
    func densityIntegratesToCDF(parameters: (Double, Double)) throws {
        let pg = try PolyaGamma(shape: parameters.0, tilt: parameters.1)
        let upper = pg.mean + 4 * pg.variance.squareRoot()
        let panels = 4000
        let h = upper / Double(panels)
        var integral = 0.0
        for i in 0...panels {
            let weight: Double = (i == 0 || i == panels) ? 1 : (i % 2 == 1 ? 4 : 2)
            integral += weight * (try pg.density(Double(i) * h))
        }
        integral *= h / 3
        #expect(abs(integral - (try pg.cdf(upper))) < 1e-6)
        if pg.shape <= 12 { #expect(try pg.cdf(pg.mean + 40 * pg.variance.squareRoot() + 5) > 1 - 1e-9) }
        #expect(try pg.cdf(0) == 0 && pg.density(-1) == 0)
    }

    @Test func seriesRefusesWhenTooInaccurate() throws {
        let pg = try PolyaGamma(shape: 500, tilt: 0)
        #expect(throws: VariatesError.self) { try pg.cdf(pg.mean) }
        #expect(throws: VariatesError.self) { try pg.density(pg.mean) }
    }

    // MARK: the alternate method's envelope

    /// f(x|h) ≤ M k(x|h) right of t: M = 1 for h ≥ 1 (proved in
    /// `AlternateJacobi`), and the supremum of f/k over x ≥ 0.7 is below 1.10
    /// for h < 1, so M = 1.15 is a valid envelope there.
    @Test func alternateEnvelopeHolds() throws {
        func ratio(_ x: Double, _ h: Double) throws -> Double {
            let f = try PolyaGamma.jacobiSeries(at: x, shape: h, c: 0, cumulative: false)
            let constant: Double = h * log(Double.pi / 2) - lgamma(h)
            let logK: Double = constant + (h - 1) * log(x) - Special.piSquaredOverEight * x
            return f / exp(logK)
        }
        var largestBelowOne = 0.0
        for i in 1...99 {
            let h = Double(i) / 100
            let t = AlternateJacobi.truncationPoint(shape: h)
            #expect(t == AlternateJacobi.truncationBelowOne)
            #expect(t <= 2 * (1 + h) / log(2 + h))
            for x in stride(from: t, through: 12, by: 0.02) { largestBelowOne = max(largestBelowOne, try ratio(x, h)) }
        }
        #expect(largestBelowOne < 1.10)
        #expect(largestBelowOne < AlternateJacobi.envelopeScaleBelowOne)
        for h in stride(from: 1.0, through: 2.0, by: 0.05) {
            let t = AlternateJacobi.truncationPoint(shape: h)
            #expect(t <= 2 * (1 + h) / log(2 + h))
            for x in stride(from: t, through: 12, by: 0.05) { #expect(try ratio(x, h) <= 1 + 1e-9) }
        }
    }

    // MARK: draws

    static let grid: [(Double, Double)] = {
        var g: [(Double, Double)] = []
        for b in [0.5, 1, 2, 2.7, 3, 5, 10, 20, 60, 200] {
            for z in [0.0, 1, -4, 10, 40] { g.append((b, z)) }
        }
        return g
    }()

    /// Sample mean and variance within 4 standard errors of the closed forms,
    /// for the hybrid rule over the grid (a subset of tilts; the full
    /// grid of every method is in Validation/polyagamma and RESULTS.md).
    @Test(arguments: grid)
    func hybridMoments(parameters: (Double, Double)) throws {
        let (b, z) = parameters
        let pg = try PolyaGamma(shape: b, tilt: z)
        let draws = b <= 10 ? 40_000 : 100_000
        let g = try Generator(seed: 2026, chain: UInt64(b * 10), stream: UInt64(z + 100))
        let x = pg.samples(draws, using: g)
        #expect(x.allSatisfy { $0 > 0 && $0.isFinite })
        let zm = Sample.meanZ(x, mean: pg.mean, variance: pg.variance)
        let zv = Sample.varianceZ(x, variance: pg.variance, fourthCumulant: pg.cumulant(4))
        #expect(abs(zm) < 4, "b = \(b), z = \(z): mean z = \(zm)")
        #expect(abs(zv) < 4, "b = \(b), z = \(z): variance z = \(zv)")
    }

    /// The right-hand proposal for h < 1 near zero (s = λt < 1), where a
    /// shifted exponential accepted with probability (y/s)^(h−1) would almost
    /// never accept: one-sample KS against the exact CDF
    /// 1 − Q(h, λy)/Q(h, s) (GSL's regularised upper incomplete gamma).
    @Test(arguments: [(0.3, 1e-3), (0.01, 1e-6), (0.9, 0.5), (0.5, 0.999), (0.05, 1e-12)])
    func truncatedGammaNearZero(parameters: (Double, Double)) throws {
        let (h, s) = parameters
        let rate = 2.5
        let proposal = TruncatedGammaAbove(shape: h, rate: rate, t: s / rate)
        let g = try Generator(seed: 616, chain: UInt64(h * 100), stream: 0)
        let n = 20_000
        let x = (0..<n).map { _ in proposal.sample(using: g) }
        #expect(x.allSatisfy { $0 >= s / rate && $0.isFinite })
        let tail = gsl_sf_gamma_inc_Q(h, s)
        let d = Sample.kolmogorovSmirnov(x) { 1 - gsl_sf_gamma_inc_Q(h, rate * $0) / tail }
        let statistic = d * Double(n).squareRoot()
        #expect(statistic < Sample.kolmogorovCritical, "h = \(h), s = \(s): √n D = \(statistic)")
    }

    /// Far tilts (s = λt up to 10²⁰): the draws end, finite and above t —
    /// for shapes in (1, 2) Dagpunar's rate rounded to 1 from s ≈ 10¹⁶,
    /// which made the acceptance probability NaN and the loop endless.
    @Test(arguments: [1.5, 1.0001, 1.999, 0.5])
    func truncatedGammaFarTilt(shape: Double) throws {
        let g = try Generator(seed: 618)
        for s in [1e8, 1e12, 1e16, 1e18, 1e20] {
            let proposal = TruncatedGammaAbove(shape: shape, rate: s, t: 1)
            let x = (0..<1000).map { _ in proposal.sample(using: g) }
            #expect(x.allSatisfy { $0 >= 1 && $0.isFinite }, "h = \(shape), s = \(s)")
        }
    }

    /// Shapes below 1 (the calibrated augmentation's), hybrid rule: mean and
    /// variance within 4 standard errors.
    @Test(arguments: [(0.02, 5.0), (0.1, 0.3), (0.004, 30.0), (0.6, 12.0)])
    func smallShapeMoments(parameters: (Double, Double)) throws {
        let (b, z) = parameters
        let pg = try PolyaGamma(shape: b, tilt: z)
        let g = try Generator(seed: 2027, chain: UInt64(b * 1000), stream: UInt64(z))
        let x = pg.samples(100_000, using: g)
        let zm = Sample.meanZ(x, mean: pg.mean, variance: pg.variance)
        let zv = Sample.varianceZ(x, variance: pg.variance, fourthCumulant: pg.cumulant(4))
        #expect(abs(zm) < 4, "b = \(b), z = \(z): mean z = \(zm)")
        #expect(abs(zv) < 4, "b = \(b), z = \(z): variance z = \(zv)")
    }

    /// Every method, forced, at a few points.
    @Test(arguments: [PolyaGamma.Method.devroye, .alternate, .gammaSeries, .matchedGamma],
          [(1.0, 0.0), (2.0, 3.0), (5.0, -10.0)])
    func forcedMethodMoments(method: PolyaGamma.Method, parameters: (Double, Double)) throws {
        let (b, z) = parameters
        let pg = try PolyaGamma(shape: b, tilt: z, method: method)
        let g = try Generator(seed: 77)
        let x = pg.samples(40_000, using: g)
        let zm = Sample.meanZ(x, mean: pg.mean, variance: pg.variance)
        let zv = Sample.varianceZ(x, variance: pg.variance, fourthCumulant: pg.cumulant(4))
        #expect(abs(zm) < 4, "\(method) b = \(b), z = \(z): mean z = \(zm)")
        #expect(abs(zv) < 4, "\(method) b = \(b), z = \(z): variance z = \(zv)")
    }

    /// Sample skewness at z = 0 against 1.96/√b; its standard error from 40
    /// batch means.
    @Test(arguments: [1.0, 2.7, 8.0, 30.0])
    func skewnessAtZero(b: Double) throws {
        let pg = try PolyaGamma(shape: b, tilt: 0)
        let g = try Generator(seed: 31)
        let batches = (0..<40).map { _ in Sample.skewness(pg.samples(5_000, using: g)) }
        let se = (Sample.variance(batches) / 40).squareRoot()
        let z = (Sample.mean(batches) - pg.skewness) / se
        #expect(abs(z) < 4, "b = \(b): skewness z = \(z)")
    }

    /// One-sample Kolmogorov–Smirnov against the exact CDF for b ≤ 40.
    @Test(arguments: [(0.5, 0.0), (0.5, 3.0), (1.0, 0.0), (1.0, -2.0), (1.0, 40.0), (2.0, 1.0),
                      (2.7, 0.0), (2.7, 10.0), (3.0, -4.0), (5.0, 0.0), (10.0, 1.0), (20.0, 0.0),
                      (20.0, 10.0), (40.0, 0.0), (40.0, -4.0)])
    func kolmogorovSmirnovAgainstExactCDF(parameters: (Double, Double)) throws {
        let (b, z) = parameters
        for method in [PolyaGamma.Method.hybrid, .alternate] where b <= 10 || method == .hybrid {
            let pg = try PolyaGamma(shape: b, tilt: z, method: method)
            let g = try Generator(seed: 404, chain: UInt64(b * 10), stream: UInt64(z + 100))
            let n = 10_000
            let d = Sample.kolmogorovSmirnov(pg.samples(n, using: g)) { try? pg.cdf($0) }
            let statistic = d * Double(n).squareRoot()
            #expect(statistic < Sample.kolmogorovCritical, "\(method) b = \(b), z = \(z): √n D = \(statistic)")
        }
    }

    /// Above b = 40, two-sample KS of the hybrid rule (gamma series) against
    /// sums of exact Devroye draws.
    @Test(arguments: [(60.0, 0.0), (60.0, 4.0), (200.0, 1.0), (200.0, -10.0), (200.0, 40.0), (500.0, 4.0)])
    func twoSampleAgainstExactSums(parameters: (Double, Double)) throws {
        let (b, z) = parameters
        let approximate = try PolyaGamma(shape: b, tilt: z)
        let exact = try PolyaGamma(shape: b, tilt: z, method: .devroye)
        let g = try Generator(seed: 505, chain: UInt64(b), stream: UInt64(z + 100))
        let n = 20_000, m = b > 100 ? 3_000 : 8_000
        let d = Sample.kolmogorovSmirnov(approximate.samples(n, using: g), exact.samples(m, using: g))
        let statistic = d * (Double(n * m) / Double(n + m)).squareRoot()
        #expect(statistic < Sample.kolmogorovCritical, "b = \(b), z = \(z): √(nm/(n+m)) D = \(statistic)")
    }
}

@Suite struct DevroyeTableTests {
    /// The table of right-hand probabilities is monotone, and between its
    /// points (checked 16 times finer) the exact probability stays inside
    /// the bracket the sampler uses — so every choice it makes is the exact one.
    @Test func bracketsHoldTheExactProbability() throws {
        let table = try #require(DevroyeJacobi.table)
        #expect(table.first! > 0.4 && table.first! < 0.6)
        for step in 0..<(64 * 16 * 12) {        // c up to 12; beyond, p(c) < 1e-20
            let c = Double(step) / (64 * 16) + 1e-9
            let (low, high) = DevroyeJacobi.rightProbabilityBounds(c: c)
            let p = DevroyeJacobi.rightProbability(c: c)
            #expect(low <= p && p <= high, "c = \(c): \(low) ≤ \(p) ≤ \(high)")
        }
        #expect(DevroyeJacobi.rightProbability(c: 30) < 1e-100)
        #expect(DevroyeJacobi.rightProbabilityBounds(c: 100) == (0, 0))
    }
}

@Suite struct PolyaGammaDrawTests {
    /// The static fast path gives the same draws as making the distribution.
    @Test func staticDrawMatchesTheDistribution() throws {
        for (b, z) in [(1.0, 0.3), (3.0, -2.0), (2.5, 1.0), (40.0, 4.0), (500.0, 0.5)] {
            let a = try Generator(seed: 12), c = try Generator(seed: 12)
            let pg = try PolyaGamma(shape: b, tilt: z)
            for _ in 0..<200 { #expect(PolyaGamma.draw(shape: b, tilt: z, using: a) == pg.sample(using: c)) }
        }
        let g = try Generator(seed: 1)
        #expect(PolyaGamma.draw(shape: 0, tilt: 1, using: g).isNaN)
        #expect(PolyaGamma.draw(shape: 1, tilt: .nan, using: g).isNaN)
    }
}
