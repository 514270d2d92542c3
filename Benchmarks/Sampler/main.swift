// The Gibbs sampler on the benchmark data set: seconds per 1,000 sweeps,
// bulk-ESS and bulk-ESS per second, and the integrated autocorrelation time
// (draws / bulk-ESS) of the intercept and each SD, plus peak memory.
//
//     swift run -c release SamplerBenchmarks [DATA.csv] [--formula F] [--chains 4]
//         [--warmup 1000] [--draws 1000] [--seed 1] [--serial] [--updates augmented|exact]
//         [--moves levels,coefficients,centring,scales] [--augmented-moves centring,dilation]
//         [--no-interweaving] [--no-shears]
//
// A formula with random slopes runs RandomSlopeGibbs (--no-interweaving: the
// centred Huang–Wand draws alone; --no-shears: without the correlations'
// non-centred moves) and reports every SD and correlation.
import BayesGLMM
import Diagnostics
import Foundation

var data = "examples/pairings.csv"
var formula = "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"
var settings = ChainSettings(chains: 4, warmup: 1000, draws: 1000, seed: 1)
var parallel = true
var collapse = true, interweave = true, nestedBlocks = true, shears = true
var moves: ExactMoves?
var augmentedMoves: ExactMoves?
var updates: Updates?
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let a = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("SamplerBenchmarks: \(a) needs a value\n".utf8))
            exit(2)
        }
        return arguments.removeFirst()
    }
    switch a {
    case "--formula": formula = value()
    case "--chains": settings.chains = Int(value()) ?? settings.chains
    case "--warmup": settings.warmup = Int(value()) ?? settings.warmup
    case "--draws": settings.draws = Int(value()) ?? settings.draws
    case "--seed": settings.seed = UInt64(value()) ?? settings.seed
    case "--serial": parallel = false
    case "--centred": collapse = false
    case "--no-interweaving": interweave = false
    case "--no-nested-blocks": nestedBlocks = false
    case "--no-shears": shears = false
    case "--updates":
        let name = value()
        guard let u = Updates(rawValue: name) else {
            FileHandle.standardError.write(Data("SamplerBenchmarks: --updates: augmented or exact, not \(name)\n".utf8))
            exit(2)
        }
        updates = u
    case "--moves", "--augmented-moves":
        let names = value()
        guard let m = ExactMoves(names: names) else {
            FileHandle.standardError.write(Data("SamplerBenchmarks: \(a): unknown move in \(names)\n".utf8))
            exit(2)
        }
        if a == "--moves" { moves = m } else { augmentedMoves = m }
    default: data = a
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

do {
    let design = try Design(formula: ModelFormula.parse(formula), frame: Frame.read(csvFile: data))
    if design.hasSlopes {
        var kernel = try RandomSlopeGibbs(design: design)
        kernel.interweaves = interweave
        kernel.shears = shears
        let watched = design.fixedNames + design.randomTerms.flatMap(\.covarianceNames)
        try report(kernel, design: design, watched: watched,
                   description: "RandomSlopeGibbs" + (interweave ? (shears ? "" : ", no shears") : ", centred only"))
        exit(0)
    }
    var kernel = PolyaGammaGibbs(design: design)
    kernel.collapsesScale = collapse
    kernel.interweaves = interweave
    kernel.collapsesNesting = nestedBlocks
    if let moves { kernel.exactMoves = moves }
    if let updates { kernel.updates = updates }
    if let augmentedMoves { kernel.augmentedExactMoves = augmentedMoves }
    let watched = design.fixedNames + design.randomTerms.map { "sd(\($0.name))" }
    try report(kernel, design: design, watched: watched, description: "updates: \(kernel.updates.rawValue)")
} catch {
    FileHandle.standardError.write(Data("SamplerBenchmarks: \(error)\n".utf8))
    exit(1)
}

/// Runs the chains and prints the table.
@MainActor func report<K: SamplingKernel>(_ kernel: K, design: Design, watched: [String], description: String) throws {
    var draws: ChainDraws?
    let elapsed = try ContinuousClock().measure {
        draws = try Chains.run(kernel, settings: settings, parallel: parallel, keep: { watched.contains($0) })
    }
    let time = seconds(elapsed)
    var cpu = rusage()
    getrusage(RUSAGE_SELF.rawValue, &cpu)
    let cpuTime = Double(cpu.ru_utime.tv_sec) + Double(cpu.ru_utime.tv_usec) * 1e-6
        + Double(cpu.ru_stime.tv_sec) + Double(cpu.ru_stime.tv_usec) * 1e-6
    let sweeps = Double(settings.chains * (settings.warmup + settings.draws))
    let threads = parallel ? min(settings.chains, ProcessInfo.processInfo.activeProcessorCount) : 1
    print("data: \(data) — \(design.rowsUsed) rows, \(design.cellCount) cells; \(formula); \(description)")
    print(String(format: "%d chains x (%d warm-up + %d draws), %@: %.1f s wall; %.2f s per 1,000 sweeps per chain",
                 settings.chains, settings.warmup, settings.draws, parallel ? "parallel" : "serial" as NSString,
                 time, time * Double(threads) / sweeps * 1000))
    print("parameter                       mean       sd    rhat  ess_bulk  ess/s   IAT (sweeps)")
    var minimum = Double.infinity
    for name in watched {
        let d = try Draws(chains: draws!.series(name)!)
        let ess = essBulk(d) ?? .nan
        minimum = min(minimum, ess)
        print(String(format: "%-28@ %8.3f %8.3f %7.3f %9.0f %6.0f %8.2f", name as NSString, mean(d) ?? .nan,
                     standardDeviation(d) ?? .nan, rhat(d) ?? .nan, ess, ess / time,
                     Double(settings.chains * settings.draws) / ess))
    }
    print(String(format: "minimum bulk-ESS %.0f, %.1f per second; CPU %.1f s, %.1f per CPU-second x threads",
                 minimum, minimum / time, cpuTime, minimum / cpuTime * Double(threads)))
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print(String(format: "peak memory: %.0f MiB", Double(usage.ru_maxrss) / 1024))
}
