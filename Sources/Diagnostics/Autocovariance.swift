import CGSL

/// The autocovariances of one chain with the biased 1/n normalisation that
/// Geyer (1992) recommends:
///
///     gamma(k) = (1/n) sum_{i=1}^{n-k} (x_i - mean)(x_{i+k} - mean),  k = 0...n-1.
///
/// Computed by GSL's real FFT of the centred chain zero-padded to 2M, with
/// M the smallest 2^a 3^b 5^c >= n, and scaled as posterior's
/// `autocovariance` does, gamma(0) = var(x) (n-1)/n. A chain of equal values
/// gives all zeros.
///
/// - Returns: `nil` when a value is NaN or infinite.
/// - Throws: `DiagnosticsError.noDraws` for an empty chain.
public func autocovariance(_ chain: [Double]) throws(DiagnosticsError) -> [Double]? {
    guard !chain.isEmpty else { throw .noDraws }
    guard chain.allSatisfy(\.isFinite) else { return nil }
    if chain.count == 1 { return [0] }
    let transform = RealFourierTransform(count: 2 * fastFourierSize(atLeast: chain.count))
    return chainAutocovariance(chain[...], transform: transform)
}

/// The autocorrelations gamma(k) / gamma(0), k = 0...n-1, for plots.
///
/// - Returns: `nil` when a value is NaN or infinite, or the chain is
///   constant (the autocorrelation is then 0/0).
/// - Throws: `DiagnosticsError.noDraws` for an empty chain.
public func autocorrelation(_ chain: [Double]) throws(DiagnosticsError) -> [Double]? {
    guard let covariances = try autocovariance(chain), let first = covariances.first, first > 0 else {
        return nil
    }
    return covariances.map { $0 / first }
}

/// The autocovariances by the direct O(n^2) sum, to check the FFT against.
func directAutocovariance(_ chain: [Double]) -> [Double] {
    let n = chain.count
    let centre = RArithmetic.mean(chain)
    let centred = chain.map { $0 - centre }
    return (0..<n).map { k in
        var s = 0.0
        for i in 0..<(n - k) { s += centred[i] * centred[i + k] }
        return s / Double(n)
    }
}

/// gamma(k), k = 0...n-1: the mean over chains of the chains'
/// autocovariances (see `autocovariance(_:)`), as posterior's `.ess` forms
/// it. The power spectra of the centred, zero-padded chains are summed and
/// transformed back once. A constant chain contributes zeros, as in
/// posterior.
func meanAutocovariance(_ x: Draws, transforms: FourierTransforms = FourierTransforms()) -> [Double] {
    let n = x.iterations, m = x.chains
    let transform = transforms.transform(count: 2 * fastFourierSize(atLeast: n))
    var spectrum = [Double](repeating: 0, count: transform.count)
    var buffer = [Double](repeating: 0, count: transform.count)
    var transformed = true
    for j in 0..<m {
        let chain = x.chain(j)
        guard let first = chain.first, chain.contains(where: { $0 != first }) else { continue }
        // Centred by R's mean, as posterior's `autocovariance`: a cruder mean
        // shifts the autocovariances visibly when the draws sit far from 0.
        let centre = RArithmetic.mean(chain)
        for k in 0..<transform.count { buffer[k] = 0 }
        var i = 0
        for v in chain { buffer[i] = v - centre; i += 1 }
        transformed = transformed && transform.addPowerSpectrum(of: &buffer, to: &spectrum)
    }
    if transformed, transform.inverse(&spectrum) {
        let scale = Double(n) * Double(m)
        return (0..<n).map { spectrum[$0] / scale }
    }
    // GSL refused (it cannot for the sizes used here): the direct sums.
    var gamma = [Double](repeating: 0, count: n)
    for j in 0..<m {
        let chain = Array(x.chain(j))
        guard chain.contains(where: { $0 != chain[0] }) else { continue }
        let covariances = directAutocovariance(chain)
        for k in 0..<n { gamma[k] += covariances[k] / Double(m) }
    }
    return gamma
}

/// The smallest 2^a 3^b 5^c >= n (R's `nextn`).
func fastFourierSize(atLeast n: Int) -> Int {
    var candidate = max(n, 1)
    while true {
        var r = candidate
        for f in [2, 3, 5] { while r % f == 0 { r /= f } }
        if r == 1 { return candidate }
        candidate += 1
    }
}

/// One chain's autocovariances (see `autocovariance(_:)`) through a
/// transform of length >= 2n, following posterior's `autocovariance`:
/// the unnormalised circular autocorrelation of the zero-padded centred
/// chain, rescaled so that gamma(0) = var(x) (n-1)/n.
func chainAutocovariance(_ chain: ArraySlice<Double>, transform: RealFourierTransform) -> [Double] {
    let n = chain.count
    let variance = RArithmetic.variance(chain)
    if variance == 0 { return [Double](repeating: 0, count: n) }
    let centre = RArithmetic.mean(chain)
    var buffer = [Double](repeating: 0, count: transform.count)
    var i = 0
    for v in chain { buffer[i] = v - centre; i += 1 }
    guard transform.powerSpectrumInverse(&buffer) else {
        // GSL refused (it cannot for the sizes used here): the direct sum.
        return directAutocovariance(Array(chain))
    }
    // As posterior: ac / ac[1] * var(x) * (n - 1) / n, evaluated left to right.
    let first = buffer[0]
    return (0..<n).map { k in buffer[k] / first * variance * Double(n - 1) / Double(n) }
}

/// GSL transforms by length, made on first use: one per thread of work
/// (a summary row, a worker of PSIS-LOO), so that its ESS computations
/// share the wavetables. Not shared between threads.
public final class FourierTransforms {
    private var made: [Int: RealFourierTransform] = [:]

    public init() {}

    func transform(count: Int) -> RealFourierTransform {
        if let existing = made[count] { return existing }
        let transform = RealFourierTransform(count: count)
        made[count] = transform
        return transform
    }
}

/// GSL's mixed-radix real FFT of one length: wavetables and workspace,
/// owned here and freed in `deinit`. Not shared between threads.
final class RealFourierTransform {
    let count: Int
    private let wavetable: UnsafeMutablePointer<gsl_fft_real_wavetable>?
    private let inverseWavetable: UnsafeMutablePointer<gsl_fft_halfcomplex_wavetable>?
    private let workspace: UnsafeMutablePointer<gsl_fft_real_workspace>?

    init(count: Int) {
        GSL.configure()
        self.count = count
        wavetable = gsl_fft_real_wavetable_alloc(count)
        inverseWavetable = gsl_fft_halfcomplex_wavetable_alloc(count)
        workspace = gsl_fft_real_workspace_alloc(count)
    }

    deinit {
        if let wavetable { gsl_fft_real_wavetable_free(wavetable) }
        if let inverseWavetable { gsl_fft_halfcomplex_wavetable_free(inverseWavetable) }
        if let workspace { gsl_fft_real_workspace_free(workspace) }
    }

    /// Replaces `data` (length `count`) by the inverse transform of its
    /// power spectrum |F|^2: its circular autocorrelation, divided by
    /// `count`. `false` if GSL reports an error.
    func powerSpectrumInverse(_ data: inout [Double]) -> Bool {
        var spectrum = [Double](repeating: 0, count: count)
        return addPowerSpectrum(of: &data, to: &spectrum) && inverse(&spectrum) && {
            data = spectrum
            return true
        }()
    }

    /// Transforms `data` (length `count`) in place and adds its power
    /// spectrum |F_k|^2, in GSL's half-complex layout
    /// [Re0, Re1, Im1, Re2, Im2, ..., (Re_{n/2} if n is even)] with the
    /// imaginary parts zero, to `spectrum`. `false` if GSL reports an error.
    func addPowerSpectrum(of data: inout [Double], to spectrum: inout [Double]) -> Bool {
        guard let wavetable, let workspace, data.count == count, spectrum.count == count else { return false }
        return data.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress,
                  gsl_fft_real_transform(base, 1, count, wavetable, workspace) == 0 else { return false }
            spectrum.withUnsafeMutableBufferPointer { s in
                s[0] += base[0] * base[0]
                var k = 1
                while k + 1 < count {
                    s[k] += base[k] * base[k] + base[k + 1] * base[k + 1]
                    k += 2
                }
                if count % 2 == 0 { s[count - 1] += base[count - 1] * base[count - 1] }
            }
            return true
        }
    }

    /// The inverse transform (with GSL's 1/count) of half-complex `data`, in place.
    func inverse(_ data: inout [Double]) -> Bool {
        guard let inverseWavetable, let workspace, data.count == count else { return false }
        return data.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return gsl_fft_halfcomplex_inverse(base, 1, count, inverseWavetable, workspace) == 0
        }
    }
}
