// Simulation-based calibration (Talts et al. 2018) of the Pólya–Gamma Gibbs
// sampler (or, with --kernel metropolis, the Metropolis-within-Gibbs
// fallback) on a crossed logistic mixed model, or with --link probit a
// probit one (Gibbs: Albert–Chib augmentation); with --regime rare the same
// model with rare successes (mean y about 2%, binomial cells), with --regime
// nested a sparse nested design; see Validation/sbc/README.md.
//
//     swift build -c release --scratch-path .build-sbc --product Calibration
//     nice -n 10 .build-sbc/release/Calibration [--replications 1000] [--seed 20261125]
//         [--warmup 200] [--thin T] [--pilot 24] [--clients 8] [--stylists 5]
//         [--band-simulations 10000] [--svg path] [--kernel gibbs|metropolis]
//         [--sd-prior halft|exponential|lognormal] [--link logit|probit] [--max-thin 64]
//         [--regime crossed|rare|nested|slopes] [--clusters 10]
//     .build-sbc/release/Calibration --regime slopes --agreement N [--sweeps 200000] [--thin 10]
//
// Each replication r draws θ from the prior and y | θ, runs the sampler from
// its overdispersed start on stream (seed, chain: r, stream: 0) and ranks the
// true value among L = 99 thinned draws. Replications run in parallel; each
// owns its stream, so the output does not depend on the number of threads.

import BayesGLMM
import CGSL
import Diagnostics
import Dispatch
import Foundation
import Variates

// MARK: - Settings

let options: [String: String] = {
    var options: [String: String] = [:]
    var arguments = CommandLine.arguments.dropFirst()
    while let key = arguments.popFirst() {
        guard key.hasPrefix("--"), let value = arguments.popFirst() else {
            FileHandle.standardError.write("usage: Calibration [--name value]...\n".data(using: .utf8)!)
            exit(2)
        }
        options[String(key.dropFirst(2))] = value
    }
    return options
}()
@MainActor func option(_ name: String, _ fallback: Int) -> Int { options[name].flatMap { Int($0) } ?? fallback }

func choice<T: RawRepresentable>(_ name: String, _ fallback: T) -> T where T.RawValue == String {
    guard let raw = options[name] else { return fallback }
    guard let value = T(rawValue: raw) else {
        FileHandle.standardError.write("Calibration: unknown --\(name) '\(raw)'\n".data(using: .utf8)!)
        exit(2)
    }
    return value
}
let kernelChoice: KernelChoice = choice("kernel", .gibbs)
let regime: CalibrationModel.Regime = choice("regime", .crossed)
let sdPrior: CalibrationModel.SDPrior = choice("sd-prior", .halft)
guard sdPrior.applies(to: regime) else {
    FileHandle.standardError.write(("Calibration: --sd-prior takes "
        + (regime == .nested ? "halft or lognormal" : regime == .slopes ? "halft only" : "halft or exponential")
        + " with --regime \(regime.rawValue)\n")
        .data(using: .utf8)!)
    exit(2)
}
let link: Link = choice("link", .logit)
guard link != .cloglog else {
    FileHandle.standardError.write("Calibration: --link takes logit or probit\n".data(using: .utf8)!)
    exit(2)
}
let replications = option("replications", 1000)
let seed = UInt64(option("seed", 20261125))
// The Metropolis kernel adapts during warm-up (then freezes): it needs
// longer, from the same overdispersed start.
let warmup = option("warmup", kernelChoice == .gibbs ? 200 : 1000)
// The pilot's cap on the thinning: random-walk steps mix more slowly. For
// the Gibbs kernel 128: in the rare regime sd(client:stylist) left the band
// at thin 64 (with 200 and with 1,000 warm-up sweeps) and not at 128 (with
// 200 and 2,000) — the medians the pilot looks at hide the replications
// whose σ sits near 0, where the chain moves slowest (Validation/RESULTS.md).
let maxThin = option("max-thin", kernelChoice == .gibbs ? 128 : 512)
let kept = 99                       // L
let bins = 20                       // B: (L + 1) / B = 5 ranks per bin
let points = kept + 1               // K evaluation points zᵢ = i/K of the ECDF band
let alpha = 0.05
let pilotCount = option("pilot", 100)
let bandSimulations = option("band-simulations", 10_000)
let clients = option("clients", 8), stylists = option("stylists", 5)
let clusters = option("clusters", 10)
// sbc-ecdf.svg for the default run; sbc-ecdf-metropolis.svg, -mixed.svg
// (Gibbs with the slice step for σ), -metropolis-exponential.svg otherwise;
// with --link probit a -probit suffix (sbc-ecdf-probit.svg, …). The rare
// and nested regimes: sbc-ecdf-rare.svg and sbc-ecdf-nested.svg, then
// -metropolis for that kernel, -exponential or -lognormal for a prior other
// than the half-t, and -probit.
let figureName: String = {
    let stem: String
    switch (regime, kernelChoice, sdPrior) {
    case (.crossed, .gibbs, .halft): stem = "sbc-ecdf"
    case (.crossed, .gibbs, _): stem = "sbc-ecdf-mixed"
    case (.crossed, .metropolis, .halft): stem = "sbc-ecdf-metropolis"
    case (.crossed, .metropolis, _): stem = "sbc-ecdf-metropolis-exponential"
    case (.rare, _, _), (.nested, _, _), (.slopes, _, _):
        stem = "sbc-ecdf-\(regime.rawValue)" + (kernelChoice == .gibbs ? "" : "-\(kernelChoice.rawValue)")
            + (sdPrior == .halft ? "" : "-\(sdPrior.rawValue)")
    }
    return stem + (link == .logit ? "" : "-\(link.rawValue)") + ".svg"
}()
let figurePath = options["svg"] ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(figureName).path

let started = Date()
let model = try CalibrationModel(regime: regime, clients: clients, stylists: stylists, clusters: clusters, seed: seed,
                                 sdPrior: sdPrior, link: link)
let quantities = model.quantities
let q = quantities.count

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

print("Simulation-based calibration of \(kernelChoice.typeName(in: regime))"
      + (kernelChoice == .gibbs && sdPrior == .exponential ? " (slice step for σ)" : "")
      + (kernelChoice == .gibbs && link == .probit ? " (Albert–Chib augmentation)" : "")
      + (regime == .rare ? ", rare-event regime" : regime == .nested ? ", sparse nested design"
         : regime == .slopes ? ", correlated random slopes" : ""))
print("  model      \(model.formula)" + (link == .logit ? "" : ", link \(link.rawValue)"))
print("  design     \(model.designDescription)")
print("  priors     \(model.priorDescription)")
print("  seed       \(seed); replication r uses Generator(seed: \(seed), chain: r, stream: 0)")

if let count = options["agreement"].flatMap({ Int($0) }) {
    guard regime == .slopes, count > 0 else {
        FileHandle.standardError.write("Calibration: --agreement takes a positive count, with --regime slopes\n"
            .data(using: .utf8)!)
        exit(2)
    }
    // The two kernels on the same data sets (Agreement.swift).
    let sweeps = option("sweeps", 200_000), agreementThin = option("thin", 10)
    let gibbsWarmup = option("warmup", 200), metropolisWarmup = max(option("warmup", 1000), 1000)
    print("  agreement  RandomSlopeGibbs (warm-up \(gibbsWarmup)) against RandomSlopeMetropolis (warm-up "
          + "\(metropolisWarmup), then frozen) on the data sets of replications 0..<\(count), "
          + "\(sweeps) sweeps each, every \(agreementThin)th kept")
    let runStart = Date()
    let z = agreement(model, seed: seed, count: count, sweeps: sweeps, thin: agreementThin,
                      gibbsWarmup: gibbsWarmup, metropolisWarmup: metropolisWarmup)
    print("")
    print("z = (Gibbs − Metropolis)/√(MCSE² + MCSE²) per data set; under agreement each column is N(0, 1) and")
    print("Σz² over the \(count) data sets is χ²(\(count)) (p from GSL's gsl_cdf_chisq_Q):")
    print("")
    print("| quantity | statistic | mean z | max abs z | data sets with abs z > 3 | Σz² | p |")
    print("|---|---|---:|---:|---:|---:|---:|")
    var smallest = 1.0
    for (j, quantity) in quantities.enumerated() {
        for (s, statistic) in agreementStatistics.enumerated() {
            let column = z.map { $0[j][s] }.filter { $0.isFinite }
            let sum = column.reduce(0) { $0 + $1 * $1 }
            let p = gsl_cdf_chisq_Q(sum, Double(column.count))
            smallest = min(smallest, p)
            print("| \(quantity.name) | \(statistic) | \(fmt(column.reduce(0, +) / Double(column.count), 2)) "
                  + "| \(fmt(column.map(abs).max() ?? 0, 2)) | \(column.filter { abs($0) > 3 }.count) "
                  + "| \(fmt(sum, 1)) | \(fmt(p, 3)) |")
        }
    }
    print("")
    print("Smallest p over the \(q * agreementStatistics.count) rows: \(fmt(smallest, 4)) "
          + "(Bonferroni at 0.05: \(fmt(0.05 / Double(q * agreementStatistics.count), 5)))")
    print("Time: \(fmt(Date().timeIntervalSince(runStart), 1)) s (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
    exit(smallest > 0.05 / Double(q * agreementStatistics.count) ? 0 : 1)
}

/// Shared result storage: each replication writes only its own slots.
final class Slots<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(count: Int, repeating value: T) {
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: value, count: count)
    }
}

/// Runs replications 0..<count in parallel.
func run(_ model: CalibrationModel, kernel: KernelChoice, seed: UInt64, warmup: Int, kept: Int, count: Int, thin: Int,
         keepDraws: Bool) -> (ranks: [[Int]], draws: [[[Double]]], successes: [Double]) {
    let ranks = Slots(count: count, repeating: [Int]())
    let draws = Slots(count: count, repeating: [[Double]]())
    let successes = Slots(count: count, repeating: 0.0)
    DispatchQueue.concurrentPerform(iterations: count) { r in
        let result = try! replicate(model, kernel: kernel, seed: seed, replication: r, warmup: warmup, thin: thin,
                                    kept: kept, keepDraws: keepDraws)
        ranks.pointer[r] = result.ranks
        draws.pointer[r] = result.draws
        successes.pointer[r] = result.successes
    }
    return (Array(UnsafeBufferPointer(start: ranks.pointer, count: count)),
            Array(UnsafeBufferPointer(start: draws.pointer, count: count)),
            Array(UnsafeBufferPointer(start: successes.pointer, count: count)))
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

// MARK: - Thinning: the bulk-ESS of the kept draws on a few replications

/// Median over the pilot replications of the bulk-ESS (Diagnostics.essBulk,
/// one chain of L draws) of each quantity's kept draws.
@MainActor func pilotESS(thin: Int) -> [Double] {
    let draws = run(model, kernel: kernelChoice, seed: seed, warmup: warmup, kept: kept, count: pilotCount, thin: thin, keepDraws: true).draws
    return (0..<q).map { j in
        median(draws.compactMap { d in (try? Draws(chain: d[j])).flatMap { essBulk($0) } })
    }
}

let essTarget = 1.0
/// The median bulk-ESS of L independent N(0, 1) draws, 2,000 sets: what the
/// estimator gives when the draws are exactly independent.
let iidReference: Double = {
    let g = try! Generator(seed: seed, chain: 0, stream: 3)
    return median((0..<2000).compactMap { _ in
        (try? Draws(chain: (0..<kept).map { _ in g.normal() })).flatMap { essBulk($0) }
    })
}()
var thin = option("thin", 0)
var pilotLog: [(Int, [Double])] = []
let pilotStart = Date()
if thin == 0 {
    // Double the thinning until every quantity's median bulk-ESS reaches
    // what the same estimator gives on exactly independent draws
    // (`iidReference`, about 0.95 L): the estimate from L = 99 draws is
    // itself a little below L on average, so "≥ L" exactly would keep
    // doubling on noise. (0.95 of it let thin 8 through, and at N = 4000
    // sd(client) then left the band at the top ranks.)
    thin = 4
    while true {
        let ess = pilotESS(thin: thin)
        pilotLog.append((thin, ess))
        if ess.allSatisfy({ $0 >= essTarget * iidReference }) || thin >= maxThin { break }
        thin *= 2
    }
} else {
    pilotLog.append((thin, pilotESS(thin: thin)))
}
let pilotSeconds = Date().timeIntervalSince(pilotStart)

print("  sampler    warm-up \(warmup) sweeps from the overdispersed start, then L = \(kept) draws, thin \(thin) "
      + "(\(warmup + kept * thin) sweeps per replication)")
print("  N          \(replications) replications; χ² on B = \(bins) bins; ECDF band at K = \(points) points, "
      + "α = \(alpha), γ from \(bandSimulations) simulations")
print("")
print("Median bulk-ESS of the \(kept) kept draws over replications 0..<\(pilotCount) (pilot, \(fmt(pilotSeconds, 1)) s;")
print("target: at least the median for \(kept) independent N(0,1) draws, \(fmt(essTarget * iidReference, 1))):")
print("")
print("| thin | " + quantities.map(\.name).joined(separator: " | ") + " |")
print("|---:|" + String(repeating: "---:|", count: q))
for (t, ess) in pilotLog {
    print("| \(t) | " + ess.map { fmt($0, 1) }.joined(separator: " | ") + " |")
}
if let last = pilotLog.last, options["thin"] == nil, !last.1.allSatisfy({ $0 >= essTarget * iidReference }) {
    print(regime == .crossed && kernelChoice == .gibbs && sdPrior == .halft && link == .logit && maxThin == 64
          ? "(thin capped at \(thin): from about thin 8 on the medians scatter around the independent-draw value)"
          : "(thin capped at \(thin) before every median reached the independent-draw value)")
}

// MARK: - The run

let runStart = Date()
let mainRun = run(model, kernel: kernelChoice, seed: seed, warmup: warmup, kept: kept, count: replications, thin: thin,
                  keepDraws: false)
let ranks = mainRun.ranks
let runSeconds = Date().timeIntervalSince(runStart)

// The rare and nested regimes: how rare the successes of the data sets were
// (the default run's output stays as it was).
if regime != .crossed {
    let trials = model.design.trials.reduce(0, +)
    let sorted = mainRun.successes.sorted()
    func quantile(_ p: Double) -> Double { sorted[min(Int((p * Double(sorted.count - 1)).rounded()), sorted.count - 1)] }
    let levels = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]
    print("")
    print("Realised data over the \(replications) replications (\(Int(trials)) trials per data set):")
    print("")
    print("| | min | 5% | 25% | median | 75% | 95% | max | mean |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("| successes | " + levels.map { fmt(quantile($0), 0) }.joined(separator: " | ")
          + " | \(fmt(sorted.reduce(0, +) / Double(sorted.count), 1)) |")
    print("| mean y | " + levels.map { fmt(quantile($0) / trials, 4) }.joined(separator: " | ")
          + " | \(fmt(sorted.reduce(0, +) / Double(sorted.count) / trials, 4)) |")
    print("")
    print("Data sets with no success: \(sorted.filter { $0 == 0 }.count); with fewer than 10: "
          + "\(sorted.filter { $0 < 10 }.count); mean y in [0.01, 0.03]: "
          + "\(sorted.filter { $0 / trials >= 0.01 && $0 / trials <= 0.03 }.count)")
}

let bandGenerator = try Generator(seed: seed, chain: 0, stream: 2)
let band = ECDFBand(sampleSize: replications, points: points, alpha: alpha, simulations: bandSimulations,
                    generator: bandGenerator)

struct Row {
    let name: String
    let chiSquare: Double
    let p: Double
    let inside: Bool
    let maxDifference: Double
    let counts: [Int]
    var pass: Bool { inside && p > 0.001 }
}
var rows: [Row] = []
var panels: [ECDFPanel] = []
for (j, quantity) in quantities.enumerated() {
    let r = ranks.map { $0[j] }
    let test = chiSquareTest(ranks: r, kept: kept, bins: bins)
    let difference = band.difference(ranks: r, kept: kept)
    let inside = difference.indices.allSatisfy { band.lower[$0] <= difference[$0] && difference[$0] <= band.upper[$0] }
    rows.append(Row(name: quantity.name, chiSquare: test.statistic, p: test.p, inside: inside,
                    maxDifference: difference.map(abs).max() ?? 0, counts: test.counts))
    panels.append(ECDFPanel(title: "\(quantity.name), χ² p = \(fmt(test.p, 3))", z: band.z, difference: difference,
                        lower: band.lower, upper: band.upper, inside: inside))
}

print("")
print("ECDF band: adjusted γ = \(String(format: "%.5f", band.gamma)); half-width at z = 0.5: "
      + "\(fmt(band.upper[points / 2 - 1], 4)) / \(fmt(band.lower[points / 2 - 1], 4))")
print("")
print("| quantity | χ² (19 df) | p | inside band | max abs ECDF diff | verdict |")
print("|---|---:|---:|:---:|---:|:---:|")
for row in rows {
    print("| \(row.name) | \(fmt(row.chiSquare, 1)) | \(fmt(row.p, 3)) | \(row.inside ? "yes" : "no") "
          + "| \(fmt(row.maxDifference, 4)) | \(row.pass ? "pass" : "FAIL") |")
}
print("")
print("Bin counts (expected \(fmt(Double(replications) / Double(bins), 0)) per bin):")
for row in rows { print("  " + pad(row.name, 22) + row.counts.map { lpad("\($0)", 4) }.joined()) }

for (j, panel) in panels.enumerated() where !panel.inside {
    let outside = panel.z.indices.filter { panel.difference[$0] < panel.lower[$0] || panel.difference[$0] > panel.upper[$0] }
    print("  \(quantities[j].name) leaves the band at z = "
          + outside.map { "\(fmt(panel.z[$0])) (\(fmt(panel.difference[$0], 4)) not in [\(fmt(panel.lower[$0], 4)), \(fmt(panel.upper[$0], 4))])" }
          .joined(separator: ", "))
}

let allPass = rows.allSatisfy(\.pass)
print("")
print("Verdict: \(allPass ? "PASS" : "FAIL") — \(rows.filter(\.pass).count) of \(rows.count) quantities inside the "
      + "simultaneous 95% ECDF band with χ² p > 0.001")

let regimeCaption = regime == .rare ? "rare-event regime (mean y about 2%), "
    : regime == .nested ? "sparse nested design, " : regime == .slopes ? "random slopes (1 + x|client), " : ""
let caption = (regime == .crossed && kernelChoice == .gibbs && sdPrior == .halft && link == .logit ? ""
               : regimeCaption + "\(kernelChoice.rawValue), "
                 + (regime == .nested ? model.sdDescription : "sd ~ \(sdPrior.description)")
                 + (link == .logit ? "" : ", \(link.rawValue) link") + "; ")
    + "SBC, N = \(replications), L = \(kept), thin \(thin), warm-up \(warmup), seed \(seed): "
    + "F̂(z) − z of the fractional ranks (line) and the simultaneous 95% band (shaded; Säilynoja et al. 2022, γ = "
    + String(format: "%.4f", band.gamma) + ")"
try ecdfFigure(panels, columns: 4, caption: caption).write(toFile: figurePath, atomically: true, encoding: .utf8)
print("Figure: \(figurePath)")
let total = Date().timeIntervalSince(started)
print("Time: run \(fmt(runSeconds, 1)) s, pilot \(fmt(pilotSeconds, 1)) s, total \(fmt(total, 1)) s "
      + "(\(ProcessInfo.processInfo.activeProcessorCount) cores)")
exit(allPass ? 0 : 1)
