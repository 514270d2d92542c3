import Foundation

/// Exact draws of J*(1, c), the tilted Jacobi distribution with Laplace
/// transform cosh(c) / cosh(√(2λ + c²)); PG(1, z) = J*(1, |z|/2) / 4.
///
/// Devroye's (2009) series method as specialised by Polson, Scott & Windle
/// (2013, JASA, §4 and Algorithm 1) with truncation point t = 0.64. The J*(1)
/// density is f(x) = Σₙ (−1)ⁿ aₙ(x) with
///
///     aₙ(x) = π(n + ½) (2/(πx))^(3/2) exp(−2(n + ½)²/x)   for x ≤ t,
///     aₙ(x) = π(n + ½) exp(−(n + ½)² π² x / 2)           for x > t,
///
/// both decreasing in n on their side of t, so the partial sums bracket f.
/// The envelope is a₀ tilted by e^(−c²x/2): an inverse Gaussian IG(1/c, 1)
/// truncated to (0, t) on the left and an exponential with rate
/// K = π²/8 + c²/2 shifted to t on the right, chosen with their exact masses
///
///     left  = 2 e^(−c) F_IG(t; 1/c, 1),    right = (π / 2K) e^(−Kt),
///
/// computed in logarithms so that no |z| overflows. The right-hand probability
/// p(c) = right/(left + right) falls monotonically in c; making a sampler only
/// looks up the bracket [p(c₊), p(c₋)] of neighbouring points of a table on
/// c = 0, 1/64, …, 64 (checked monotone when it is built), and the exact p(c)
/// is computed only for the rare uniform that falls inside the bracket — so
/// every choice is the one the exact p(c) makes, and a new tilt per draw (the
/// Gibbs sampler's pattern) costs a table look-up instead of four special
/// functions. Beyond c = 64, p(c) < 1e-300 and the right piece is never
/// chosen. Proposals are accepted by
/// comparing U with the partial sums of aₙ/a₀ = (2n + 1) exp(−q n(n + 1)),
/// q = 2/x on the left and π²x/2 on the right; all arithmetic is in double
/// precision.
struct DevroyeJacobi: Sendable {
    static let t = 0.64

    let c: Double
    let k: Double
    /// Bounds of the probability of proposing from the right-hand piece.
    let rightLow: Double
    let rightHigh: Double
    let left: TruncatedInverseGaussianBelow

    init(c: Double) {
        let t = DevroyeJacobi.t
        self.c = c
        k = Special.piSquaredOverEight + 0.5 * c * c
        left = TruncatedInverseGaussianBelow(lambda: 1, c: c, t: t)
        (rightLow, rightHigh) = DevroyeJacobi.rightProbabilityBounds(c: c)
    }

    /// An upper bound of a₁(x)/a₀(x) = 3e^(−2q) on both sides of t:
    /// max(3e^(−π²t), 3e^(−4/t)) = 3e^(−6.25) < 0.00582.
    static let squeeze = 0.00582

    /// Spacing and extent of the table of right-hand probabilities.
    static let tableStep = 1.0 / 64
    static let tableEnd = 64.0

    /// p(c) at c = 0, 1/64, …, 64, or nil if it failed to be monotone.
    static let table: [Double]? = {
        let count = Int(tableEnd / tableStep) + 1
        let values = (0..<count).map { rightProbability(c: Double($0) * tableStep) }
        for i in 1..<count where !(values[i] <= values[i - 1]) { return nil }
        return values
    }()

    /// [low, high] ∋ p(c), from the table (or exact, if the table is unusable).
    static func rightProbabilityBounds(c: Double) -> (Double, Double) {
        guard let table else {
            let p = rightProbability(c: c)
            return (p, p)
        }
        if c >= tableEnd { return (0, 0) }
        let position = c / tableStep
        let i = Int(position)
        if Double(i) == position { return (table[i], table[i]) }
        return (table[i + 1], table[i])
    }

    /// The exact probability that a proposal comes from the right-hand piece.
    static func rightProbability(c: Double) -> Double {
        let t = DevroyeJacobi.t
        let k = Special.piSquaredOverEight + 0.5 * c * c
        let rootT = t.squareRoot()
        // log of the left mass 2 e^(−c) F_IG(t; 1/c, 1), with
        // e^(−c) F_IG = e^(−c) Φ((ct − 1)/√t) + e^(c) Φ(−(ct + 1)/√t) and
        // e^(c) Φ(−y) = exp(−c²t/2 − 1/(2t)) · e^(y²/2) Φ(−y).
        let first = -c + Special.logNormalCDF((c * t - 1) / rootT)
        let second = -0.5 * c * c * t - 0.5 / t + log(Special.scaledNormalTail((c * t + 1) / rootT))
        let logLeft = M_LN2 + Special.logAddExp(first, second)
        let logRight = log(Double.pi / 2) - log(k) - k * t
        return 1 / (1 + exp(logLeft - logRight))
    }

    /// Whether this proposal comes from the right-hand piece: U < p(c).
    @inline(__always)
    func choosesRight(_ u: Double) -> Bool {
        if u < rightLow { return true }
        if u >= rightHigh { return false }
        return u < DevroyeJacobi.rightProbability(c: c)
    }

    /// One exact draw of J*(1, c).
    @inline(__always)
    func sample(using generator: Generator) -> Double {
        let t = DevroyeJacobi.t
        while true {
            let x: Double
            let q: Double
            if choosesRight(generator.uniform32()) {
                x = t + generator.exponential() / k
                q = 0.5 * Double.pi * Double.pi * x
            } else {
                x = left.sample(using: generator)
                q = 2 / x
            }
            // A proposal that is not a positive finite number (which exact
            // arithmetic never makes) is redrawn rather than fed to the series,
            // where NaN comparisons would never end the loop.
            guard x > 0 && x < .infinity else { continue }
            // Alternating partial sums of aₙ/a₀, compared with U ~ U(0, 1).
            // Squeeze: on either side of t, a₁/a₀ = 3e^(−2q) ≤ 3e^(−π²t) (right)
            // or 3e^(−4/t) (left), both below `squeeze`, so S₁ ≥ 1 − squeeze and
            // U below that accepts without evaluating an exponential.
            let u = generator.uniform32()
            if u <= 1 - DevroyeJacobi.squeeze { return x }
            var s = 1.0
            var n = 1.0
            while true {
                s -= (2 * n + 1) * exp(-q * n * (n + 1))
                if u <= s { return x }
                n += 1
                s += (2 * n + 1) * exp(-q * n * (n + 1))
                if u > s { break }
                n += 1
            }
        }
    }
}
