// Times the full `summarize` (posterior's `summarise_draws` columns) on
// many variables of AR(1) draws, and reports peak memory.
//
//   swift run -c release DiagnosticsBenchmarks [--variables 2000] [--chains 4]
//       [--iterations 1000] [--seed 1] [--repeats 5]
//       [--write-draws FILE] [--write-summary FILE] [--read-draws FILE]
//
// --write-draws writes the generated draws as little-endian float64 in R's
// array order [iteration, chain, variable] (iterations fastest), so that
// Validation/diagnostics/benchmark.sh can time R's posterior on the same
// draws; --read-draws times the summary of such a file instead.
// --write-summary writes the summary (with MCSE columns) as CSV.

import Diagnostics
import Foundation

struct Options {
    var variables = 2000
    var chains = 4
    var iterations = 1000
    var seed: UInt64 = 1
    var repeats = 5
    var writeDraws: String?
    var writeSummary: String?
    var readDraws: String?
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst()
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("DiagnosticsBenchmarks: \(message)\n".utf8))
        exit(2)
    }
    while let flag = arguments.popFirst() {
        guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
        func positive() -> Int {
            guard let n = Int(value), n > 0 else { fail("\(flag) needs a positive integer, got '\(value)'") }
            return n
        }
        switch flag {
        case "--variables": options.variables = positive()
        case "--chains": options.chains = positive()
        case "--iterations": options.iterations = positive()
        case "--repeats": options.repeats = positive()
        case "--seed":
            guard let s = UInt64(value) else { fail("--seed needs a non-negative integer, got '\(value)'") }
            options.seed = s
        case "--write-draws": options.writeDraws = value
        case "--write-summary": options.writeSummary = value
        case "--read-draws": options.readDraws = value
        default: fail("unknown option \(flag)")
        }
    }
    return options
}

/// SplitMix64 (Steele, Lea & Flood 2014) with Box-Muller normals: enough
/// for benchmark data, and independent of the Variates module.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }
    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}

/// AR(1) chains x_t = phi x_{t-1} + e_t, phi from 0 to 0.95 across variables,
/// started from the stationary distribution.
func generate(_ o: Options) -> [Double] {
    var rng = SplitMix64(state: o.seed)
    var out = [Double](repeating: 0, count: o.variables * o.chains * o.iterations)
    for v in 0..<o.variables {
        let phi = 0.95 * Double(v % 20) / 19
        for c in 0..<o.chains {
            var x = rng.normal() / (1 - phi * phi).squareRoot()
            for i in 0..<o.iterations {
                if i > 0 { x = phi * x + rng.normal() }
                out[(v * o.chains + c) * o.iterations + i] = x
            }
        }
    }
    return out
}

func peakMemoryMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // ru_maxrss is in kilobytes on Linux
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

let options = parseOptions()
var flat: [Double]
if let path = options.readDraws {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("DiagnosticsBenchmarks: cannot read \(path)\n".utf8))
        exit(1)
    }
    let expected = options.variables * options.chains * options.iterations
    guard data.count == expected * 8 else {
        FileHandle.standardError.write(Data("DiagnosticsBenchmarks: \(path) has \(data.count) bytes, expected \(expected * 8) for the given dimensions\n".utf8))
        exit(1)
    }
    flat = data.withUnsafeBytes { raw in (0..<expected).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) } }
} else {
    flat = generate(options)
}
if let path = options.writeDraws {
    let bytes = flat.withUnsafeBufferPointer { Data(buffer: $0) }  // x86-64 and arm64 are little-endian
    guard FileManager.default.createFile(atPath: path, contents: bytes) else {
        FileHandle.standardError.write(Data("DiagnosticsBenchmarks: cannot write \(path)\n".utf8))
        exit(1)
    }
}

let perVariable = options.chains * options.iterations
let variables: [(name: String, draws: Draws)] = try (0..<options.variables).map { v in
    (name: "theta[\(v + 1)]", draws: try Draws(
        columnMajor: Array(flat[(v * perVariable)..<((v + 1) * perVariable)]),
        iterations: options.iterations, chains: options.chains))
}
flat = []

func best(_ repeats: Int, _ body: () -> Summary) -> (Double, Summary) {
    let clock = ContinuousClock()
    var fastest = Double.infinity
    var result: Summary?
    for _ in 0..<repeats {
        let start = clock.now
        let summary = body()
        fastest = min(fastest, seconds(clock.now - start))
        result = summary
    }
    return (fastest, result!)
}

let threads = ProcessInfo.processInfo.activeProcessorCount
print("draws: \(options.variables) variables x \(options.chains) chains x \(options.iterations) iterations"
      + (options.readDraws.map { " (read from \($0))" } ?? " (AR(1), seed \(options.seed))"))
let (parallelTime, parallelSummary) = best(options.repeats) { summarize(variables) }
print(String(format: "summary, default columns, %d threads: best of %d = %.3f s", threads, options.repeats, parallelTime))
let (serialTime, serialSummary) = best(max(1, options.repeats / 2)) { summarize(variables, parallel: false) }
print(String(format: "summary, default columns, 1 thread:  best of %d = %.3f s", max(1, options.repeats / 2), serialTime))
let (mcseTime, mcseSummary) = best(max(1, options.repeats / 2)) { summarize(variables, monteCarloStandardErrors: true) }
print(String(format: "summary, with MCSE columns, %d threads: best of %d = %.3f s", threads, max(1, options.repeats / 2), mcseTime))
print("parallel and serial summaries identical: \(parallelSummary == serialSummary)")
print(String(format: "peak memory (ru_maxrss): %.1f MB", peakMemoryMegabytes()))
print(String(format: "SWIFT_SECONDS=%.6f", parallelTime))

if let path = options.writeSummary {
    guard FileManager.default.createFile(atPath: path, contents: Data(mcseSummary.csv().utf8)) else {
        FileHandle.standardError.write(Data("DiagnosticsBenchmarks: cannot write \(path)\n".utf8))
        exit(1)
    }
}
print(parallelSummary.rows.count > 3
      ? Summary(columns: parallelSummary.columns, rows: Array(parallelSummary.rows.prefix(3))).textTable()
      : parallelSummary.textTable())
