// Loading and design building at scale: writes a synthetic CSV of N rows
// (y, x, group, client with 10^5 ids, stylist with 10^3 ids), then times
// Frame.read(csvFile:) and Design(...) for
//     y ~ x + group + (1|client) + (1|stylist)
// and reports the peak memory of the process (getrusage ru_maxrss).
//
//     swift run -c release ModelBenchmarks [--rows N] [--seed S] [--keep PATH]
//     swift run -c release ModelBenchmarks sparse-inverse [...]   (see SparseInverse.swift)
import BayesGLMM
import Foundation

if CommandLine.arguments.dropFirst().first == "sparse-inverse" {
    exit(SparseInverseBenchmark.run(arguments: Array(CommandLine.arguments.dropFirst(2))))
}

var rows = 1_000_000
var seed: UInt64 = 20261124
var keep: String?
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let a = arguments.removeFirst()
    guard let value = arguments.first else {
        FileHandle.standardError.write(Data("ModelBenchmarks: \(a) needs a value\n".utf8))
        exit(2)
    }
    arguments.removeFirst()
    switch a {
    case "--rows": rows = Int(value) ?? rows
    case "--seed": seed = UInt64(value) ?? seed
    case "--keep": keep = value
    default:
        FileHandle.standardError.write(Data("ModelBenchmarks: unknown argument \(a)\n".utf8))
        exit(2)
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
func peakMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let path = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("model-benchmark-\(getpid()).csv").path
do {
    let clock = ContinuousClock()
    let write = try clock.measure { try DataBenchmark.writeSyntheticCSV(path: path, rows: rows, seed: seed) }
    let afterWrite = peakMiB()
    var frame: Frame?
    let read = try clock.measure { frame = try Frame.read(csvFile: path) }
    let afterRead = peakMiB()
    let formula = try ModelFormula.parse("y ~ x + group + (1|client) + (1|stylist)")
    var design: Design?
    let build = try clock.measure { design = try Design(formula: formula, frame: frame!) }
    let d = design!
    print("rows:            \(rows) (file \(path))")
    print(String(format: "write CSV:       %.2f s", seconds(write)))
    print(String(format: "read CSV:        %.2f s (peak %.0f MiB after reading; %.0f before)", seconds(read),
                 afterRead, afterWrite))
    print(String(format: "build design:    %.2f s", seconds(build)))
    print(String(format: "load + design:   %.2f s", seconds(read) + seconds(build)))
    print("cells:           \(d.cellCount); levels: " + d.randomTerms.map { "\($0.name) \($0.levelCount)" }
        .joined(separator: ", "))
    print(String(format: "peak memory:     %.0f MiB", peakMiB()))
    if keep == nil { try? FileManager.default.removeItem(atPath: path) }
} catch {
    FileHandle.standardError.write(Data("ModelBenchmarks: \(error)\n".utf8))
    if keep == nil { try? FileManager.default.removeItem(atPath: path) }
    exit(1)
}
