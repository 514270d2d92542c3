// Agreement of the two kernels on the calibration's own data sets
// (`--agreement N`): for replications 0..<N, the data set SBC draws for
// replication r (θ ~ prior, y | θ on stream (seed, r, 0)), then the Gibbs
// kernel and the Metropolis kernel, each `--sweeps` kept sweeps after its
// warm-up, on streams (seed, r, 1) and (seed, r, 2). Per quantity and data
// set, the difference of the two posterior means and of the 5%, 50% and 95%
// quantiles over its Monte Carlo standard error (Diagnostics: mcseMean,
// mcseQuantile, one chain each), z = (G − M)/√(seG² + seM²).
//
// Where SBC asks whether a kernel is calibrated on average over the prior,
// this asks whether the two kernels target the same posterior on each data
// set: with the Gibbs kernel calibrated, a z-distribution that is not
// N(0, 1) points at the Metropolis kernel. Under agreement Σz² over the N
// data sets is χ²(N) per quantity and statistic (the data sets are
// independent; the four statistics of one quantity are not).

import BayesGLMM
import Diagnostics
import Dispatch
import Foundation
import Variates

/// The kept draws (every `thin`-th sweep) of `sweeps` sweeps after `warmup`.
private func draws<K: SamplingKernel>(_ kernel: K, _ read: (K.State) -> [Double], _ g: Generator, warmup: Int,
                                      sweeps: Int, thin: Int) -> [[Double]] {
    var state = kernel.initialState(using: g)
    for _ in 0..<warmup { state = kernel.step(state, using: g).0 }
    state = kernel.endWarmup(state)
    var kept: [[Double]] = []
    for sweep in 0..<sweeps {
        state = kernel.step(state, using: g).0
        if sweep % thin == thin - 1 { kept.append(read(state)) }
    }
    let count = kept.first?.count ?? 0
    return (0..<count).map { j in kept.map { $0[j] } }
}

/// The statistics compared: the mean and three quantiles.
let agreementStatistics = ["mean", "q05", "q50", "q95"]

/// z per data set, quantity and statistic (`agreementStatistics`).
func agreement(_ model: CalibrationModel, seed: UInt64, count: Int, sweeps: Int, thin: Int,
               gibbsWarmup: Int, metropolisWarmup: Int) -> [[[Double]]] {
    let results = Slots(count: count, repeating: [[Double]]())
    let positions = model.quantities.map { quantity -> Int in
        guard case let .parameter(j) = quantity.source else { fatalError("a slopes quantity is a parameter") }
        return j
    }
    DispatchQueue.concurrentPerform(iterations: count) { r in
        let data = try! Generator(seed: seed, chain: UInt64(r), stream: 0)
        let theta = try! PriorPredictive.slopeParameters(model.design, model.priors, using: data)
        let y = model.drawData(coefficients: theta.coefficients, effects: theta.effects, data)
        let design = model.design.replacingSuccesses(y)
        let gibbs = try! RandomSlopeGibbs(design: design, priors: model.priors)
        let metropolis = try! RandomSlopeMetropolis(design: design, priors: model.priors, link: model.link)
        let g = draws(gibbs, { s in let v = gibbs.values(of: s); return positions.map { v[$0] } },
                      try! Generator(seed: seed, chain: UInt64(r), stream: 1),
                      warmup: gibbsWarmup, sweeps: sweeps, thin: thin)
        let m = draws(metropolis, { s in let v = metropolis.values(of: s); return positions.map { v[$0] } },
                      try! Generator(seed: seed, chain: UInt64(r), stream: 2),
                      warmup: metropolisWarmup, sweeps: sweeps, thin: thin)
        results.pointer[r] = positions.indices.map { j in
            let a = try! Draws(chain: g[j]), b = try! Draws(chain: m[j])
            func z(_ x: Double?, _ sx: Double?, _ y: Double?, _ sy: Double?) -> Double {
                guard let x, let sx, let y, let sy, sx + sy > 0 else { return .nan }
                return (x - y) / (sx * sx + sy * sy).squareRoot()
            }
            var row = [z(a.values.reduce(0, +) / Double(a.values.count), mcseMean(a),
                         b.values.reduce(0, +) / Double(b.values.count), mcseMean(b))]
            for p in [0.05, 0.5, 0.95] {
                row.append(z(try! quantile(a, probability: p), try! mcseQuantile(a, probability: p),
                             try! quantile(b, probability: p), try! mcseQuantile(b, probability: p)))
            }
            return row
        }
    }
    return Array(UnsafeBufferPointer(start: results.pointer, count: count))
}
