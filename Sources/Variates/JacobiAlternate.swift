import Foundation

/// Exact draws of J*(h, c) for any real shape h > 0 (PG(h, z) = J*(h, |z|/2)/4)
/// by the alternate method of Windle, Polson & Scott (2014, "Sampling
/// Pólya-Gamma random variates: alternate and approximate techniques", §4).
///
/// The J*(h) density is the alternating series f(x|h) = Σₙ (−1)ⁿ aₙ(x|h),
///
///     aₙ(x|h) = 2^h Γ(n + h) / (Γ(h) Γ(n + 1)) · (2n + h)/√(2π x³) · exp(−(2n + h)²/(2x)).
///
/// The ratio ρₙ = aₙ/aₙ₋₁ = (n − 1 + h)/n · (2n + h)/(2n − 2 + h) · e^(−2(2n − 1 + h)/x)
/// decreases in n for every h > 0 and x > 0, so once some ρₙ₊₁ ≤ 1 the terms
/// decrease from n on and consecutive partial sums bracket f. That is the
/// accept/reject test (evaluated in units of a₀, with the envelope as a
/// multiple of a₀).
///
/// Envelope, tilted by cosh^h(c) e^(−c²x/2) like the target:
/// * left of t, a₀(x|h) — valid because ρ₁ ≤ 1 for x ≤ 2(1 + h)/log(2 + h) ≥ t,
///   a truncated IG(h/c, h²) with mass 2^h e^(−hc) F_IG(t; h/c, h²);
/// * right of t, M·k(x|h) with the gamma kernel
///   k(x|h) = (π/2)^h x^(h−1) e^(−π²x/8) / Γ(h) — note (π/2)^h, not
///   (π/2)^(h/2) (the constant some implementations get wrong): J*(h) is
///   G + R with G ~ Gamma(h, π²/8) the first term of its gamma series, and
///   f/k = E_Q[(1 − R/x)^(h−1); R < x] under the tilt of R by e^(π²R/8),
///   which is ≤ 1 for h ≥ 1 (so M = 1). For h < 1 the ratio exceeds 1 (it
///   tends to 1 + 2h(1 − h)/(π²x) as x → ∞); with t = 0.7 its supremum over
///   x ≥ t is below 1.10 for every h in (0, 1) (checked on a dense grid by the
///   tests), and M = `envelopeScaleBelowOne` = 1.15 is used. The right piece is
///   a Gamma(h, π²/8 + c²/2) truncated below at t with mass
///   M (π/2)^h (π²/8 + c²/2)^(−h) Q(h, (π²/8 + c²/2) t).
///
/// The truncation point t minimises the total envelope mass at c = 0 for
/// h ∈ [1, 2] (table made by Validation/polyagamma/truncation_points.py,
/// linearly interpolated; any t below the bound is exact, t only sets speed).
struct AlternateJacobi: Sendable {
    /// M for h < 1 (see the type's documentation).
    static let envelopeScaleBelowOne = 1.15
    /// The truncation point used for h < 1.
    static let truncationBelowOne = 0.7
    /// Largest shape this sampler is used for directly; larger shapes are
    /// split into equal chunks in (1, 2].
    static let largestShape = 2.0

    let h: Double
    let rightProbability: Double
    let left: TruncatedInverseGaussianBelow
    let right: TruncatedGammaAbove
    /// log(M k(x|h)/a₀(x|h)) − [(h + ½) log x − π²x/8 + h²/(2x)].
    let logRightScale: Double
    let halfHSquared: Double

    init(shape h: Double, c: Double) {
        precondition(h > 0 && h <= AlternateJacobi.largestShape)
        self.h = h
        let t = AlternateJacobi.truncationPoint(shape: h)
        let scale = h < 1 ? AlternateJacobi.envelopeScaleBelowOne : 1
        let lambdaZ = Special.piSquaredOverEight + 0.5 * c * c
        left = TruncatedInverseGaussianBelow(lambda: h * h, c: c, t: t)
        right = TruncatedGammaAbove(shape: h, rate: lambdaZ, t: t)
        halfHSquared = 0.5 * h * h

        // log left mass: h log 2 + log(e^(−hc) F_IG(t; h/c, h²)), where
        // e^(−hc) F_IG = e^(−hc) Φ((tc − h)/√t) + e^(hc) Φ(−(tc + h)/√t) and
        // e^(hc) Φ(−y) = exp(−tc²/2 − h²/(2t)) · e^(y²/2) Φ(−y).
        let rootT = t.squareRoot()
        let first = -h * c + Special.logNormalCDF((t * c - h) / rootT)
        let second = -0.5 * t * c * c - h * h / (2 * t) + log(Special.scaledNormalTail((t * c + h) / rootT))
        let logLeft = h * M_LN2 + Special.logAddExp(first, second)
        let logRight = log(scale) + h * log(Double.pi / 2) - h * log(lambdaZ)
            + Special.logUpperGamma(h, lambdaZ * t)
        rightProbability = 1 / (1 + exp(logLeft - logRight))
        logRightScale = log(scale) + h * log(Double.pi / 2) - Special.logGamma(h)
            - h * M_LN2 - log(h) + Special.halfLogTwoPi
    }

    /// Truncation points minimising the envelope mass at c = 0, h = 1, 1.05, …, 2.
    static let truncationTable: [Double] = [
        0.636620, 0.797381, 0.905375, 0.992752, 1.069894, 1.140997, 1.208147,
        1.272524, 1.334863, 1.395646, 1.455211, 1.513798, 1.571586, 1.628713,
        1.685284, 1.741383, 1.797077, 1.852422, 1.907461, 1.962234, 2.016770,
    ]

    static func truncationPoint(shape h: Double) -> Double {
        if h < 1 { return truncationBelowOne }
        let position = min((h - 1) / 0.05, Double(truncationTable.count - 1))
        let i = min(Int(position), truncationTable.count - 2)
        let w = position - Double(i)
        return truncationTable[i] * (1 - w) + truncationTable[i + 1] * w
    }

    /// One exact draw of J*(h, c).
    @inline(__always)
    func sample(using generator: Generator) -> Double {
        while true {
            let x: Double
            let envelope: Double   // envelope height in units of a₀(x|h)
            if generator.uniform() < rightProbability {
                x = right.sample(using: generator)
                envelope = exp(logRightScale + (h + 0.5) * log(x)
                               - Special.piSquaredOverEight * x + halfHSquared / x)
            } else {
                x = left.sample(using: generator)
                envelope = 1
            }
            // Never feed a non-positive or non-finite proposal (or envelope)
            // to the series, whose loop NaN comparisons would never end.
            guard x > 0 && x < .infinity && envelope < .infinity else { continue }
            if accepts(x, threshold: generator.uniform() * envelope) { return x }
        }
    }

    /// Whether `threshold` (in units of a₀) lies below f(x|h)/a₀(x|h), decided
    /// by bracketing partial sums.
    @inline(__always)
    func accepts(_ x: Double, threshold y: Double) -> Bool {
        let first = exp(-2 * (1 + h) / x)     // e^(−2(2n − 1 + h)/x) at n = 1
        let step = exp(-4 / x)                // its factor from n to n + 1
        var expFactor = first
        var term = 1.0                        // aₙ₋₁/a₀
        var sum = 1.0                         // Sₙ₋₁ in units of a₀
        var n = 1.0
        var ratio = h * (2 + h) / h * first   // ρ₁
        while true {
            term *= ratio
            let next = n.truncatingRemainder(dividingBy: 2) == 1 ? sum - term : sum + term
            // ρₙ₊₁, to know whether the terms decrease from n on.
            expFactor *= step
            let n1 = n + 1
            let nextRatio = (n1 - 1 + h) / n1 * (2 * n1 + h) / (2 * n1 - 2 + h) * expFactor
            if nextRatio <= 1 {
                let low = min(sum, next), high = max(sum, next)
                if y <= low { return true }
                if y > high { return false }
            }
            sum = next
            ratio = nextRatio
            n = n1
            if term == 0 || !term.isFinite || n > 100_000 { return y <= sum }
        }
    }
}
