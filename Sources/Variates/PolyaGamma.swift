import Foundation

/// The Pólya–Gamma distribution PG(b, z), b > 0, z real (Polson, Scott &
/// Windle 2013, JASA 108:1339–1349):
///
///     X = (1 / 2π²) Σ_{k ≥ 1} g_k / ((k − ½)² + z²/(4π²)),   g_k ~ Gamma(b, 1),
///
/// with Laplace transform E e^(−tX) = cosh^b(z/2) / cosh^b(√((z²/2 + t)/2)).
/// Given ω ~ PG(b, ψ), the logistic likelihood e^(ψκ)/(1 + e^ψ)^b becomes
/// Gaussian in ψ, which is what makes the Gibbs sampler conjugate.
///
/// Draws go through J*(b, c) = 4 PG(b, 2c), c = |z|/2, by one of:
/// * `.devroye` — Devroye's exact series method for b = 1, summed b times for
///   integer b (`DevroyeJacobi`);
/// * `.alternate` — Windle, Polson & Scott's (2014) exact alternate method
///   for any real b (`AlternateJacobi`), in chunks of at most 2;
/// * `.gammaSeries` — K exact gamma terms of the series plus a moment-matched
///   gamma for the rest (`GammaSeriesJacobi`): not exact, but its mean and
///   variance are, and its skewness is within 1e-4 of the true one;
/// * `.matchedGamma` — a shifted gamma with the exact mean, variance and
///   skewness (`MatchedGammaPolyaGamma`): one gamma variate, not exact;
/// * `.hybrid` (the default) — exact sums up to `exactShapeLimit`: b integer →
///   b Devroye draws; b non-integer → ⌊b⌋ − 1 Devroye draws and one alternate
///   draw with shape 1 + frac(b) (alternate alone for b < 1); above the limit,
///   the matched gamma where its kurtosis gap is below `matchedGammaTolerance`
///   (b ≥ 70 at z = 0, b ≥ 315 at the worst tilt, |z| ≈ 6), else the gamma
///   series where its K + 1 gamma variates cost less than exact sums (K grows
///   with |z|), else exact sums. The limits were set by measuring speed and accuracy
///   (`VariatesBenchmarks polyagamma|accuracy`, Validation/RESULTS.md): above
///   b = 4 the gamma series is 2–7 times as fast as exact sums and two-sample
///   KS tests of 10⁶–10⁷ draws cannot tell it from them, while the matched
///   gamma is told apart at b ≤ 5 and not at b ≥ 10.
///
/// Parameters are checked when the value is made; `sample(using:)` never
/// fails.
public struct PolyaGamma: Distribution {
    /// The shape b > 0.
    public let shape: Double
    /// The tilt z.
    public let tilt: Double
    /// How draws are made.
    public let method: Method

    public enum Method: String, CaseIterable, Sendable {
        case hybrid, devroye, alternate, gammaSeries, matchedGamma
    }

    /// The largest kurtosis gap (`matchedGammaKurtosisGap`) at which the hybrid
    /// rule uses the matched gamma: about 2e-5 in the CDF.
    public static let matchedGammaTolerance = 1e-3

    /// Shapes above this are drawn by an approximation in the hybrid rule.
    public static let exactShapeLimit = 4.0

    // The plan: the draw is 0.25 × (sum of `devroyeCount` J*(1, c) draws and
    // `alternateCount` J*(h, c) draws), or 0.25 × one gamma-series draw.
    // Stored flat (no enum payloads) so that drawing copies nothing.
    let devroye: DevroyeJacobi
    let devroyeCount: Int
    let alternate: AlternateJacobi?
    let alternateCount: Int
    let series: GammaSeriesJacobi?
    let matched: MatchedGammaPolyaGamma?

    /// PG(shape, tilt), drawn by `method` (the hybrid rule by default).
    ///
    /// Throws `VariatesError.invalidParameter` when shape is not a finite
    /// number > 0, when tilt is not finite, or when `.devroye` is asked for a
    /// non-integer shape.
    public init(shape: Double, tilt: Double = 0, method: Method = .hybrid) throws(VariatesError) {
        try Check.positive(shape, "shape", in: "PolyaGamma")
        try Check.finite(tilt, "tilt", in: "PolyaGamma")
        self.shape = shape
        self.tilt = tilt
        self.method = method
        let c = 0.5 * abs(tilt)
        let isInteger = shape == shape.rounded(.down) && shape <= 1e9
        var devroyeCount = 0, alternateShape = 0.0, alternateCount = 0, useSeries = false, useMatched = false
        var series: GammaSeriesJacobi? = nil
        switch method {
        case .devroye:
            guard isInteger else {
                throw .invalidParameter(distribution: "PolyaGamma", name: "shape", value: shape,
                                        requirement: "a whole number (at most 1e9) for the Devroye method")
            }
            devroyeCount = Int(shape)
        case .alternate:
            alternateCount = max(1, Int((shape / AlternateJacobi.largestShape).rounded(.up)))
            alternateShape = shape / Double(alternateCount)
        case .gammaSeries:
            useSeries = true
        case .matchedGamma:
            useMatched = true
        case .hybrid:
            if shape > PolyaGamma.exactShapeLimit
                && PolyaGamma.matchedGammaKurtosisGap(shape: shape, tilt: tilt) <= PolyaGamma.matchedGammaTolerance {
                useMatched = true
            } else if shape > PolyaGamma.exactShapeLimit
                        && PolyaGamma.seriesIsCheaper(GammaSeriesJacobi(shape: shape, c: c), shape: shape, into: &series) {
                useSeries = true
            } else if isInteger {
                devroyeCount = Int(shape)
            } else if shape < 1 {
                alternateShape = shape
                alternateCount = 1
            } else {
                let whole = shape.rounded(.down)
                devroyeCount = Int(whole) - 1
                alternateShape = shape - whole + 1
                alternateCount = 1
            }
        }
        self.devroye = devroyeCount > 0 ? DevroyeJacobi(c: c) : PolyaGamma.unusedDevroye
        self.devroyeCount = devroyeCount
        self.alternateCount = alternateCount
        self.alternate = alternateCount > 0 ? AlternateJacobi(shape: alternateShape, c: c) : nil
        self.series = useSeries ? (series ?? GammaSeriesJacobi(shape: shape, c: c)) : nil
        self.matched = useMatched ? MatchedGammaPolyaGamma(shape: shape, tilt: tilt) : nil
    }

    /// Whether `candidate` costs less than exact sums: its K + 1 gamma
    /// variates (about 22 ns each here) against about b draws of J*(1, c)
    /// (about 45 ns each). Large tilts need many terms (K grows like |z|), and
    /// there exact sums are both faster and exact. Keeps the candidate.
    static func seriesIsCheaper(_ candidate: GammaSeriesJacobi, shape: Double,
                                into kept: inout GammaSeriesJacobi?) -> Bool {
        kept = candidate
        return Double(candidate.weights.count + 1) <= 2 * shape
    }

    /// A placeholder for plans that use no Devroye draws, so that making a
    /// PolyaGamma computes only what its draws need.
    private static let unusedDevroye = DevroyeJacobi(c: 0)

    /// One draw of PG(`shape`, `tilt`) by the hybrid rule, without making a
    /// `PolyaGamma` value: for samplers that draw one variate per cell with a
    /// new tilt every time. The caller guarantees shape > 0 and both finite
    /// (the draw is NaN otherwise, never a trap). Identical to
    /// `PolyaGamma(shape:tilt:).sample(using:)` for the same generator state.
    public static func draw(shape: Double, tilt: Double, using generator: Generator) -> Double {
        guard shape > 0, shape.isFinite, tilt.isFinite else { return .nan }
        if shape <= PolyaGamma.exactShapeLimit && shape == shape.rounded(.down) {
            let devroye = DevroyeJacobi(c: 0.5 * abs(tilt))
            var x = 0.0
            for _ in 0..<Int(shape) { x += devroye.sample(using: generator) }
            return 0.25 * x
        }
        guard let distribution = try? PolyaGamma(shape: shape, tilt: tilt) else { return .nan }
        return distribution.sample(using: generator)
    }

    /// One draw of PG(shape, tilt).
    public func sample(using generator: Generator) -> Double {
        if let matched { return matched.sample(using: generator) }
        if let series { return 0.25 * series.sample(using: generator) }
        var x = 0.0
        for _ in 0..<devroyeCount { x += devroye.sample(using: generator) }
        if alternateCount > 0, let alternate {
            for _ in 0..<alternateCount { x += alternate.sample(using: generator) }
        }
        return 0.25 * x
    }
}

// MARK: - Moments

extension PolyaGamma {
    /// E X = b tanh(z/2) / (2z), and b/4 at z = 0.
    public var mean: Double { PolyaGamma.mean(shape: shape, tilt: tilt) }

    /// Var X = b (sinh z − z) sech²(z/2) / (4z³), and b/24 at z = 0.
    public var variance: Double { PolyaGamma.variance(shape: shape, tilt: tilt) }

    /// The m-th cumulant, m ≥ 1: κ_m = b (m − 1)! Σ_k w_k^m with
    /// w_k = 1/(2π²((k − ½)² + z²/(4π²))), the cumulants of the gamma series.
    public func cumulant(_ order: Int) -> Double {
        PolyaGamma.cumulant(order, shape: shape, tilt: tilt)
    }

    /// Skewness κ₃/κ₂^(3/2) (1.96…/√b at z = 0... see the tests).
    public var skewness: Double { cumulant(3) / pow(cumulant(2), 1.5) }

    public static func mean(shape b: Double, tilt z: Double) -> Double {
        let u = abs(z)
        if u < 1e-4 {
            // tanh(u/2)/(2u) = ¼ (1 − u²/12 + u⁴/120 − …)
            let u2 = u * u
            return b * 0.25 * (1 - u2 / 12 + u2 * u2 / 120)
        }
        return b * tanh(0.5 * u) / (2 * u)
    }

    public static func variance(shape b: Double, tilt z: Double) -> Double {
        let u = abs(z)
        if u < 1 {
            // (sinh u − u)/u³ = Σ_{j≥0} u^(2j) / (2j + 3)!, and sech²(u/2).
            var term = 1.0 / 6, sum = 0.0, j = 0.0
            let u2 = u * u
            while term > 1e-18 * max(sum, 1e-300) || j < 1 {
                sum += term
                term *= u2 / ((2 * j + 4) * (2 * j + 5))
                j += 1
            }
            let sech = 1 / cosh(0.5 * u)
            return b * sum * sech * sech / 4
        }
        // (sinh u − u) sech²(u/2) = 2 tanh(u/2) − u sech²(u/2), which neither
        // overflows nor cancels for u ≥ 1.
        let sech = 1 / cosh(0.5 * u)
        return b * (2 * tanh(0.5 * u) - u * sech * sech) / (4 * u * u * u)
    }

    public static func cumulant(_ order: Int, shape b: Double, tilt z: Double) -> Double {
        precondition(order >= 1, "cumulant order must be at least 1")
        if order == 1 { return mean(shape: b, tilt: z) }
        if order == 2 { return variance(shape: b, tilt: z) }
        let m = Double(order)
        let a = z * z / (4 * Double.pi * Double.pi)
        var sum = 0.0
        let terms = 200_000
        for k in stride(from: terms, through: 1, by: -1) {   // small terms first
            let half = Double(k) - 0.5
            sum += pow(1 / (half * half + a), m)
        }
        // Tail beyond the last term: ∫_{N+½}^∞ (x − ½)^(−2m) dx, negligible for m ≥ 3.
        sum += pow(Double(terms), 1 - 2 * m) / (2 * m - 1)
        let factorial = tgamma(m)
        return b * factorial * sum / pow(2 * Double.pi * Double.pi, m)
    }
}
