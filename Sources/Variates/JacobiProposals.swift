import CGSL
import Foundation

/// Draws from the density proportional to x^(−3/2) exp(−λ/(2x) − c²x/2) on
/// (0, t): an inverse Gaussian IG(μ = √λ/c, λ) truncated above at t (a Lévy
/// distribution when c = 0). This is the left-hand proposal of both Devroye's
/// J*(1, c) sampler (λ = 1) and the alternate J*(h, c) sampler (λ = h²).
///
/// Windle (2013, thesis, §A.1) and Polson, Scott & Windle (2013, §4): when
/// μ > t, propose X = λ/Z² with Z a standard normal truncated to
/// Z ≥ a = √(λ/t) and accept with probability e^(−c²X/2); when μ ≤ t, draw
/// IG(μ, λ) until it falls below t. The normal tail is Marsaglia's (1964)
/// method (one logarithm a try, against two for Devroye's exponential method).
struct TruncatedInverseGaussianBelow: Sendable {
    let lambda: Double
    let halfCSquared: Double
    let t: Double
    let mu: Double
    let a: Double
    let mode: Mode

    enum Mode: Sendable { case levy, inverseGaussian }

    init(lambda: Double, c: Double, t: Double) {
        self.lambda = lambda
        self.halfCSquared = 0.5 * c * c
        self.t = t
        self.mu = c > 0 ? lambda.squareRoot() / c : .infinity
        self.a = (lambda / t).squareRoot()
        if mu > t {
            mode = .levy
        } else {
            mode = .inverseGaussian
        }
    }

    /// Z² for Z a standard normal truncated to Z ≥ a: Marsaglia's (1964)
    /// tail method for a ≥ 1 (Z² = a² − 2 log U, accepted if V²Z² ≤ a², which
    /// needs no square root), plain rejection of |N| for a < 1 — the choice
    /// GSL's `gsl_ran_ugaussian_tail` makes, written here on the generator's
    /// buffered words because that call was a quarter of the sampler's time.
    @inline(__always)
    func squaredNormalTail(using generator: Generator) -> Double {
        let aSquared = a * a
        if a >= 1 {
            while true {
                let zSquared = aSquared - 2 * log(generator.uniformPositive())
                let v = generator.uniform32()
                if v * v * zSquared <= aSquared { return zSquared }
            }
        }
        while true {
            let z = generator.normal()
            if z * z >= aSquared { return z * z }
        }
    }

    @inline(__always)
    func sample(using generator: Generator) -> Double {
        switch mode {
        case .levy:
            while true {
                let x = lambda / squaredNormalTail(using: generator)
                if halfCSquared == 0 { return x }
                // Accept with probability e^(−y), y = c²x/2; since e^(−y) ≥ 1 − y,
                // U ≤ 1 − y accepts without evaluating the exponential.
                let y = halfCSquared * x
                let u = generator.uniform32()
                if u <= 1 - y || u <= exp(-y) { return x }
            }
        case .inverseGaussian:
            while true {
                let x = InverseGaussian.draw(mean: mu, shape: lambda, using: generator)
                if x < t && x > 0 { return x }
            }
        }
    }
}

/// Draws from Gamma(shape h, rate λ) truncated below at t, the right-hand
/// proposal of the alternate sampler.
///
/// In the scaled variable y = λx on [s, ∞), s = λt: for h ≤ 1 propose
/// y = s + E and accept with probability (y/s)^(h−1) (for h < 1 and s < 1
/// a two-piece envelope instead, `smallShapeNearZero`); for h > 1 propose
/// y = s + E/β with Dagpunar's (1978) optimal rate
/// β = (s − h + √((s − h)² + 4s)) / (2s) < 1 and accept with probability
/// (y/m)^(h−1) e^(−(1−β)(y − m)), m = max(s, (h − 1)/(1 − β)) the maximiser.
struct TruncatedGammaAbove: Sendable {
    let shape: Double
    let rate: Double
    let s: Double
    let beta: Double
    let m: Double

    init(shape h: Double, rate: Double, t: Double) {
        shape = h
        self.rate = rate
        s = rate * t
        if h > 1 {
            // 1 − β = 2(h − 1)/(s + h + √((s − h)² + 4s)), without the
            // cancellation that makes it 0 (and m infinite) for s ≳ 10¹⁶.
            let d = s - h
            let root = (d * d + 4 * s).squareRoot()
            beta = 1 - 2 * (h - 1) / (s + h + root)
            m = max(s, (s + h + root) / 2)
        } else {
            beta = 1
            m = s
        }
    }

    @inline(__always)
    func sample(using generator: Generator) -> Double {
        let hm1 = shape - 1
        if hm1 == 0 { return (s + generator.exponential()) / rate }
        if hm1 < 0 && s < 1 { return smallShapeNearZero(using: generator) / rate }
        while true {
            let y = s + generator.exponential() / beta
            let logAccept = hm1 * log(y / m) - (1 - beta) * (y - m)
            if log(generator.uniformPositive()) <= logAccept { return y / rate }
        }
    }

    /// y for h < 1 and s < 1, where (y/s)^(h−1) with y = s + E accepts
    /// about s^(1−h) of its proposals (never, in effect, for s → 0): the
    /// envelope y^(h−1)e^(−s) on [s, 1) and e^(−y) on [1, ∞), chosen in
    /// proportion to their masses e^(−s)(1 − s^h)/h and e^(−1); on [s, 1)
    /// y by inversion of y^(h−1), accepted with probability e^(−(y − s)), on
    /// [1, ∞) y = 1 + E, accepted with probability y^(h−1). Each accepts
    /// at least e^(−1) of its proposals.
    private func smallShapeNearZero(using generator: Generator) -> Double {
        let h = shape
        let logS = log(s)
        let lowMass = -expm1(h * logS)    // 1 − s^h
        let left = exp(-s) * lowMass / h, right = exp(-1.0)
        while true {
            if generator.uniform() * (left + right) < left {
                // s^h + U(1 − s^h) = 1 − (1 − U)(1 − s^h), then its 1/h-th power.
                let y = exp(log1p(-generator.uniformPositive() * lowMass) / h)
                let value = max(y, s)
                if generator.uniform() <= exp(-(value - s)) { return value }
            } else {
                let y = 1 + generator.exponential()
                if log(generator.uniformPositive()) <= (h - 1) * log(y) { return y }
            }
        }
    }
}
