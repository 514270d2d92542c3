// Throughput of the Variates module: draws per second for the Pólya–Gamma
// sampler over the grid of (b, z), with the z-scores of the sample
// mean and variance against the closed forms, plus the other distributions.
//
//     swift run -c release VariatesBenchmarks [polyagamma|distributions|accuracy|varying|all]
//         [--draws N] [--seed S] [--method hybrid|devroye|alternate|gammaSeries] [--tsv]
//
// Timing: wall clock (ContinuousClock) around filling a buffer of N draws at
// fixed (b, z), best of three repetitions; peak memory from getrusage.
import Foundation
import Variates

struct Options {
    var what = "all"
    var draws = 1_000_000
    var seed: UInt64 = 20261124
    var methods: [PolyaGamma.Method] = [.hybrid]
    var tsv = false
    var shapes: [Double] = [0.5, 1, 2, 2.7, 3, 5, 10, 20, 60, 200]
    var tilts: [Double] = [0, 1, -1, 4, -4, 10, -10, 40]
}

func parse() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("VariatesBenchmarks: \(message)\n".utf8))
        exit(2)
    }
    while !args.isEmpty {
        let a = args.removeFirst()
        func value() -> String {
            guard !args.isEmpty else { fail("\(a) needs a value") }
            return args.removeFirst()
        }
        switch a {
        case "polyagamma", "distributions", "accuracy", "varying", "all": o.what = a
        case "--draws":
            guard let n = Int(value()), n > 1 else { fail("--draws takes a whole number > 1") }
            o.draws = n
        case "--seed":
            guard let s = UInt64(value()) else { fail("--seed takes a whole number >= 0") }
            o.seed = s
        case "--method":
            let v = value()
            if v == "all" { o.methods = PolyaGamma.Method.allCases; continue }
            guard let m = PolyaGamma.Method(rawValue: v) else { fail("unknown --method \(v)") }
            o.methods = [m]
        case "--shapes":
            let list = value().split(separator: ",").compactMap { Double($0) }
            guard !list.isEmpty else { fail("--shapes takes a comma-separated list of numbers") }
            o.shapes = list
        case "--tilts":
            let list = value().split(separator: ",").compactMap { Double($0) }
            guard !list.isEmpty else { fail("--tilts takes a comma-separated list of numbers") }
            o.tilts = list
        case "--tsv": o.tsv = true
        default: fail("unknown argument \(a)")
        }
    }
    return o
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Best-of-three time to fill `buffer` with draws of `distribution`.
func time<D: Distribution>(_ distribution: D, _ buffer: UnsafeMutableBufferPointer<Double>,
                           _ generator: Generator) -> Double {
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<3 {
        let elapsed = clock.measure { distribution.fill(buffer, using: generator) }
        best = min(best, seconds(elapsed))
    }
    return best
}

func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func runPolyaGamma(_ o: Options) throws {
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: o.draws)
    defer { buffer.deallocate() }
    let header = ["b", "z", "method", "Mdraws_per_s", "mean_z", "var_z"]
    print(o.tsv ? header.joined(separator: "\t")
          : "     b       z  method         M draws/s   mean z   var z")
    for b in o.shapes {
        for z in o.tilts {
            for method in o.methods {
                if method == .devroye && b != b.rounded() { continue }
                let pg = try PolyaGamma(shape: b, tilt: z, method: method)
                let rng = try Generator(seed: o.seed, chain: 0, stream: 0)
                let t = time(pg, buffer, rng)
                // z-scores of the last filled buffer against the closed forms.
                let n = Double(o.draws)
                var sum = 0.0
                for x in buffer { sum += x }
                let mean = sum / n
                var ss = 0.0
                for x in buffer { ss += (x - mean) * (x - mean) }
                let variance = ss / (n - 1)
                let k2 = pg.variance, k4 = pg.cumulant(4)
                let meanZ = (mean - pg.mean) / (k2 / n).squareRoot()
                let varZ = (variance - k2) / ((k4 + 2 * k2 * k2) / n).squareRoot()
                let rate = n / t / 1e6
                if o.tsv {
                    print([String(b), String(z), method.rawValue, String(format: "%.3f", rate),
                           String(format: "%.2f", meanZ), String(format: "%.2f", varZ)].joined(separator: "\t"))
                } else {
                    print(String(format: "%6.1f %7.1f  %-12@ %10.2f %8.2f %7.2f",
                                 b, z, method.rawValue as NSString, rate, meanZ, varZ))
                }
            }
        }
    }
}

func runDistributions(_ o: Options) throws {
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: o.draws)
    defer { buffer.deallocate() }
    let rng = try Generator(seed: o.seed)
    let cases: [(String, any Distribution)] = [
        ("uniform", try Uniform()),
        ("standard normal", StandardNormal()),
        ("exponential", try Exponential(rate: 1)),
        ("gamma(0.5)", try Gamma(shape: 0.5, rate: 1)),
        ("gamma(3)", try Gamma(shape: 3, rate: 1)),
        ("inverse gamma(3, 2)", try InverseGamma(shape: 3, scale: 2)),
        ("inverse Gaussian(1, 2)", try InverseGaussian(mean: 1, shape: 2)),
        ("truncated normal [0, inf)", try TruncatedNormal(mean: 0, standardDeviation: 1, lower: 0)),
        ("truncated normal [3, 3.5]", try TruncatedNormal(mean: 0, standardDeviation: 1, lower: 3, upper: 3.5)),
    ]
    print("distribution                   M draws/s")
    for (name, d) in cases {
        func measure<D: Distribution>(_ d: D) -> Double { time(d, buffer, rng) }
        let t = measure(d)
        print(String(format: "%-30@ %9.2f", name as NSString, Double(o.draws) / t / 1e6))
    }
}

/// Accuracy of the approximate methods: two-sample Kolmogorov–Smirnov of
/// `draws` approximate draws against `draws` exact ones (Devroye sums, or the
/// alternate method for non-integer b), with the exact method's and the
/// approximation's throughput.
func runAccuracy(_ o: Options) throws {
    print("     b       z  method          √(n/2)·D   p-value  exact M/s  approx M/s")
    let n = o.draws
    let exactBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
    let approximateBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
    defer { exactBuffer.deallocate(); approximateBuffer.deallocate() }
    for b in o.shapes {
        for z in o.tilts {
            let exactMethod: PolyaGamma.Method = b == b.rounded() ? .devroye : .alternate
            let exact = try PolyaGamma(shape: b, tilt: z, method: exactMethod)
            let rng = try Generator(seed: o.seed, chain: 1, stream: 0)
            let clock = ContinuousClock()
            let te = seconds(clock.measure { exact.fill(exactBuffer, using: rng) })
            let sortedExact = exactBuffer.sorted()
            for method in [PolyaGamma.Method.gammaSeries, .matchedGamma] {
                let approximate = try PolyaGamma(shape: b, tilt: z, method: method)
                let ta = seconds(clock.measure { approximate.fill(approximateBuffer, using: rng) })
                let sortedApproximate = approximateBuffer.sorted()
                var i = 0, j = 0, d = 0.0
                while i < n && j < n {
                    let v = min(sortedExact[i], sortedApproximate[j])
                    while i < n && sortedExact[i] <= v { i += 1 }
                    while j < n && sortedApproximate[j] <= v { j += 1 }
                    d = max(d, abs(Double(i - j)) / Double(n))
                }
                let statistic = d * (Double(n) / 2).squareRoot()
                // Kolmogorov distribution tail, 2 Σ (−1)^(k−1) e^(−2k²x²).
                var p = 0.0
                for k in 1...100 { p += 2 * (k % 2 == 1 ? 1 : -1) * exp(-2 * Double(k * k) * statistic * statistic) }
                print(String(format: "%6.1f %7.1f  %-13@ %9.3f %9.3f %10.2f %11.2f", b, z, method.rawValue as NSString,
                             statistic, min(max(p, 0), 1), Double(n) / te / 1e6, Double(n) / ta / 1e6))
            }
        }
    }
}

/// The Gibbs sampler's pattern: a new tilt for every draw (z_i = 3 N_i), so
/// that making the distribution is part of the cost.
func runVarying(_ o: Options) throws {
    print("     b   M draws/s (new tilt every draw, z ~ N(0, 3²))")
    let rng = try Generator(seed: o.seed, chain: 2)
    let tilts = (0..<o.draws).map { _ in 3 * rng.normal() }
    for b in o.shapes {
        var sum = 0.0
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for z in tilts { sum += try PolyaGamma(shape: b, tilt: z).sample(using: rng) }
        }
        print(String(format: "%6.1f %10.2f   (mean draw %.4f)", b, Double(o.draws) / seconds(elapsed) / 1e6,
                     sum / Double(o.draws)))
    }
}

let options = parse()
do {
    if options.what == "polyagamma" || options.what == "all" { try runPolyaGamma(options) }
    if options.what == "distributions" || options.what == "all" { try runDistributions(options) }
    if options.what == "accuracy" { try runAccuracy(options) }
    if options.what == "varying" || options.what == "all" { try runVarying(options) }
    print(String(format: "peak memory: %.1f MiB", peakMemoryMiB()))
} catch {
    FileHandle.standardError.write(Data("VariatesBenchmarks: \(error)\n".utf8))
    exit(1)
}
