import CGSL
import Foundation

/// A source of uniform random bits: one GSL generator (`gsl_rng`) that this
/// object owns and frees.
///
/// The generator is GSL's taus2 (L'Ecuyer 1996; the default) or MT19937
/// (Matsumoto & Nishimura 1998) with two changes made in `CGSL/shim.h`:
/// uniforms carry 53 random bits instead of 32, and the whole state is filled
/// from a 64-bit seed by SplitMix64 (Steele, Lea & Flood 2014) rather than
/// from its low 32 bits. taus2 is the default because it is 2.3 times as fast
/// as GSL's MT19937 here (2.8 against 6.5 ns a word, measured with GSL 2.7.1)
/// and the Pólya–Gamma sampler spends most of its time on random bits.
///
/// ## Streams
/// Reproducibility must not depend on how work is spread over threads, so a
/// run never shares one generator between threads. Instead every unit of work
/// gets its own stream, named by `(seed, chain, stream)`:
///
///     let rng = try Generator(seed: 1, chain: 2, stream: 0)
///
/// The three numbers are hashed with SplitMix64's finaliser into the 64-bit
/// key that seeds the state; equal triples give identical draws, different
/// triples give unrelated states. With taus2's period of 2^88 the chance that
/// any two of k streams of L words overlap is about k²L / 2^88: for a
/// thousand streams of 10^12 words each, 3e-9 (MT19937: k²L / 2^19937).
///
/// A `Generator` is a reference type because it owns a C resource; it is not
/// `Sendable`, so the compiler keeps each one on a single thread.
public final class Generator {
    /// The owned GSL generator. Never escapes this module's wrappers.
    @usableFromInline let pointer: UnsafeMutablePointer<gsl_rng>

    /// GSL's generator behind this one.
    public enum Algorithm: String, Sendable, CaseIterable {
        /// L'Ecuyer's (1996) maximally equidistributed combined Tausworthe
        /// generator (GSL's `taus2`): period 2^88, 3 words of state, about
        /// 2.8 ns a 32-bit word here — the default.
        case taus2
        /// Matsumoto & Nishimura's (1998) Mersenne Twister (GSL's
        /// `mt19937`): period 2^19937 − 1, 2.5 KB of state, about 6.5 ns a word.
        case mt19937

        var code: Int32 { self == .taus2 ? 0 : 1 }
    }

    public let algorithm: Algorithm
    @usableFromInline let underlyingGet: cgsl_get_function

    /// The 64-bit key the state was seeded from.
    public let key: UInt64

    /// The triple this generator was made from.
    public let seed: UInt64
    public let chain: UInt64
    public let stream: UInt64

    /// Makes the stream `(seed, chain, stream)`.
    public init(seed: UInt64, chain: UInt64 = 0, stream: UInt64 = 0,
                algorithm: Algorithm = .taus2) throws(VariatesError) {
        GSL.configure()
        guard cgsl_rng_layouts_match() != 0 else {
            throw .library(function: "gsl_rng_alloc", code: Int32(GSL_EUNSUP),
                           message: "GSL's generator state layouts are not the ones BayesGLMM expects")
        }
        guard let pointer = gsl_rng_alloc(cgsl_rng_type_53(algorithm.code)) else {
            throw .library(function: "gsl_rng_alloc", code: Int32(GSL_ENOMEM),
                           message: "could not allocate a random number generator")
        }
        self.pointer = pointer
        self.algorithm = algorithm
        self.underlyingGet = cgsl_underlying_get(algorithm.code)
        self.seed = seed
        self.chain = chain
        self.stream = stream
        self.key = Generator.key(seed: seed, chain: chain, stream: stream)
        gsl_rng_set(pointer, UInt(key))
        words = .allocate(capacity: Generator.blockSize)
        position = Generator.blockSize
    }

    deinit {
        words.deallocate()
        gsl_rng_free(pointer)
    }

    /// The seeding key of stream `(seed, chain, stream)`: each component is
    /// folded in through SplitMix64's finaliser, so that nearby triples give
    /// unrelated keys.
    public static func key(seed: UInt64, chain: UInt64, stream: UInt64) -> UInt64 {
        var k = SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        k = SplitMix64.mix(k ^ SplitMix64.mix(chain &+ 0xD1B5_4A32_D192_ED03))
        k = SplitMix64.mix(k ^ SplitMix64.mix(stream &+ 0x8CB9_2BA7_2F3D_8DD7))
        return k
    }

    /// Raw 32-bit outputs of the generator, drawn from GSL in blocks so that
    /// the hot paths pay for one indirect call per block rather than per word.
    @usableFromInline let words: UnsafeMutablePointer<UInt32>
    @usableFromInline @exclusivity(unchecked) var position: Int
    @usableFromInline static let blockSize = 512

    /// The next raw 32-bit output of the Mersenne Twister.
    @inlinable @inline(__always)
    public func next32() -> UInt32 {
        if position == Generator.blockSize { refill() }
        let w = words[position]
        position &+= 1
        return w
    }

    @usableFromInline func refill() {
        cgsl_rng_fill_u32(pointer, underlyingGet, words, Generator.blockSize)
        position = 0
    }

    /// A uniform variate on [0, 1) with 53 random bits: two 32-bit outputs
    /// joined as in Matsumoto & Nishimura's genrand_res53.
    @inlinable @inline(__always)
    public func uniform() -> Double {
        let a = Double(next32() >> 5), b = Double(next32() >> 6)
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)
    }

    /// A uniform variate on (0, 1) with 53 random bits (zero is redrawn).
    @inlinable @inline(__always)
    public func uniformPositive() -> Double {
        while true {
            let u = uniform()
            if u > 0 { return u }
        }
    }

    /// A uniform variate on [0, 1) with 32 random bits: for accept/reject
    /// decisions and mixture choices, where 2^-32 resolution is more than
    /// enough and the second word would be wasted.
    @inlinable @inline(__always)
    public func uniform32() -> Double { Double(next32()) * (1.0 / 4294967296.0) }

    /// A standard exponential variate, −log U with U uniform on (0, 1) with
    /// 53 bits (so its tail reaches 36.7, not 22.2).
    @inlinable @inline(__always)
    public func exponential() -> Double { -log(uniformPositive()) }

    /// A Gamma(shape, scale) variate by GSL's `gsl_ran_gamma` (Marsaglia &
    /// Tsang 2000), for samplers whose parameters are positive by
    /// construction; use the `Gamma` distribution to have them checked. (GSL
    /// returns NaN rather than trapping on invalid parameters.)
    @inlinable @inline(__always)
    public func gamma(shape: Double, scale: Double) -> Double { gsl_ran_gamma(pointer, shape, scale) }

    /// A Binomial(n, p) variate by GSL's `gsl_ran_binomial` (the BTPE
    /// algorithm of Kachitvichyanukul & Schmeiser 1988), for p in [0, 1]
    /// and n < 2³².
    @inlinable @inline(__always)
    public func binomial(trials n: UInt32, probability p: Double) -> UInt32 {
        UInt32(gsl_ran_binomial(pointer, p, n))
    }

    /// A standard normal variate by GSL's ziggurat (Marsaglia & Tsang 2000).
    @inlinable @inline(__always)
    public func normal() -> Double { gsl_ran_gaussian_ziggurat(pointer, 1.0) }

    /// A Wishart(n, V) variate, V = LLᵀ given by its lower Cholesky factor
    /// `scaleFactor` (row-major p × p, entries above the diagonal ignored):
    /// GSL's `gsl_ran_wishart`, the Bartlett decomposition (Smith & Hocking
    /// 1972) — W = (LA)(LA)ᵀ, A lower triangular with Aᵢᵢ² ~ χ²(n − i + 1)
    /// and N(0, 1) below the diagonal. Row-major p × p; nil unless n > p − 1
    /// (GSL refuses it), with GSL's aborting error handler off.
    public func wishart(degrees n: Double, scaleFactor: [Double], size p: Int) -> [Double]? {
        precondition(scaleFactor.count == p * p)
        GSL.configure()
        var factor = scaleFactor
        var result = [Double](repeating: 0, count: p * p), work = result
        let status = factor.withUnsafeMutableBufferPointer { fb in
            result.withUnsafeMutableBufferPointer { rb in
                work.withUnsafeMutableBufferPointer { wb in
                    var l = gsl_matrix_view_array(fb.baseAddress, p, p)
                    var r = gsl_matrix_view_array(rb.baseAddress, p, p)
                    var w = gsl_matrix_view_array(wb.baseAddress, p, p)
                    return gsl_ran_wishart(pointer, n, &l.matrix, &r.matrix, &w.matrix)
                }
            }
        }
        return status == 0 && result.allSatisfy(\.isFinite) ? result : nil
    }

    /// A standard normal variate conditioned to exceed `lower`, Z | Z > a.
    ///
    /// For a ≥ 0 GSL's `gsl_ran_ugaussian_tail`: below a = 1 it draws |Z|
    /// until |Z| > a (for a ≥ 0, |Z| given |Z| > a has the law of Z given
    /// Z > a), from a = 1 on Marsaglia's (1964) exact tail method, x =
    /// √(a² − 2 log V) kept when x·U < a. GSL's manual asks for a > 0
    /// (and some versions draw |Z| whatever a is, wrong for a < 0), so for a < 0 this
    /// draws Z by GSL's ziggurat until Z > a, accepting with probability
    /// Φ(−a) > ½. For the latent variables of Albert & Chib's (1993) probit
    /// augmentation; Z | Z ≤ b is −(Z | Z > −b) (the boundary has
    /// probability 0).
    @inlinable
    public func normalTail(above lower: Double) -> Double {
        if lower >= 0 { return gsl_ran_ugaussian_tail(pointer, lower) }
        while true {
            let z = gsl_ran_gaussian_ziggurat(pointer, 1.0)
            if z > lower { return z }
        }
    }
}

/// SplitMix64's output function (Steele, Lea & Flood 2014), used to hash
/// seeds; it is a bijection on 64-bit words.
public enum SplitMix64 {
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
