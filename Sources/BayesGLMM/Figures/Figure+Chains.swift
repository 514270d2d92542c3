import Diagnostics
import Drawing
import Foundation

extension Figure {
    /// Trace plots: each variable's draws against the iteration, one line
    /// per chain, one panel per variable. Chains that mix well overlap as
    /// one band; a chain stuck apart or drifting shows at once.
    ///
    /// The table has a row per draw: variable, chain, iteration, value.
    public static func trace(_ run: RunDirectory, variables: [String]) throws(InputError) -> Figure {
        let draws = try Figure.draws(run, variables)
        var panels: [Panel] = []
        var rows: [[String]] = []
        for (name, variable) in zip(variables, draws) {
            var marks: [Mark] = []
            for chain in 0..<variable.chains {
                let values = Array(variable.chain(chain))
                marks.append(.line(values.enumerated().map { Point(Double($0.offset + 1), $0.element) },
                                   Stroke(Palette.color(chain), width: 1, opacity: 0.75)))
                rows += values.enumerated().map {
                    [name, String(run.chainNumbers[chain]), String($0.offset + 1)] + fields([$0.element])
                }
            }
            panels.append(Panel(title: name,
                                x: Axis(LinearScale(lower: 1, upper: Double(max(variable.iterations, 2))),
                                        title: "iteration (after warm-up)"),
                                y: Axis(LinearScale.covering(variable.values), title: "value"), marks: marks))
        }
        let legend = run.chainNumbers.enumerated().map {
            LegendEntry("chain \($0.element)", .line(Stroke(Palette.color($0.offset))))
        }
        return Figure(chart: Chart(title: "Trace plots", caption: "Draws of each variable by iteration, one line "
                                   + "per chain (\(drawsText(run))). Well-mixed chains overlap; a chain apart from "
                                   + "the others has not converged.",
                                   panels: panels, panelWidth: 640, panelHeight: 150, legend: legend),
                      header: ["variable", "chain", "iteration", "value"], rows: rows)
    }

    /// Rank histograms (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021,
    /// "Rank-normalization, folding, and localization: an improved R̂ for
    /// assessing convergence of MCMC", Bayesian Analysis 16(2), §4.3): the
    /// draws of all chains are ranked together, and each chain's ranks are
    /// binned into a histogram. If the chains sample the same distribution,
    /// every chain's ranks are uniform, and its histogram is flat around the
    /// expected count (draws per chain / bins, the dashed line); a chain
    /// with too many high or low ranks sits apart from the others.
    ///
    /// Ties share their average rank (R's `rank`). The table has a row per
    /// variable, chain and bin: the bin's rank range, its count and the
    /// expected count.
    public static func rank(_ run: RunDirectory, variables: [String], bins requested: Int = 20) throws(InputError)
        -> Figure {
        let draws = try Figure.draws(run, variables)
        let chains = run.store.chains, perChain = run.drawsPerChain, total = chains * perChain
        let bins = max(1, min(requested, total))
        let expected = Double(perChain) / Double(bins)
        var counts: [[[Int]]] = []    // variable, chain, bin
        for variable in draws {
            let ranks = Figure.averageRanks(variable.values)
            var perVariable = [[Int]](repeating: [Int](repeating: 0, count: bins), count: chains)
            for chain in 0..<chains {
                for draw in 0..<perChain {
                    let rank = ranks[chain * perChain + draw]
                    let bin = min(bins - 1, Int(((rank - 1) * Double(bins) / Double(total)).rounded(.down)))
                    perVariable[chain][bin] += 1
                }
            }
            counts.append(perVariable)
        }
        let highest = Double(counts.flatMap { $0.flatMap { $0 } }.max() ?? 1)
        let yScale = LinearScale(lower: 0, upper: max(highest, expected) * 1.08)
        let xScale = LinearScale(lower: 0, upper: Double(total))
        var panels: [Panel] = []
        var rows: [[String]] = []
        for (v, name) in variables.enumerated() {
            for chain in 0..<chains {
                var marks: [Mark] = []
                for bin in 0..<bins {
                    let low = Double(bin) * Double(total) / Double(bins), high = Double(bin + 1) * Double(total) / Double(bins)
                    let count = counts[v][chain][bin]
                    marks.append(.rect(from: Point(low, 0), to: Point(high, Double(count)), fill: Palette.color(chain),
                                       opacity: 0.85))
                    rows.append([name, String(run.chainNumbers[chain]), String(bin + 1)] + fields([low, high]) + [String(count)]
                                + fields([expected]))
                }
                marks.append(.horizontalRule(expected, Stroke(Color.black, width: 1.2, dash: [5, 3])))
                let lastRow = v == variables.count - 1
                panels.append(Panel(title: "\(name), chain \(run.chainNumbers[chain])",
                                    x: Axis(xScale, title: lastRow ? "rank (all chains pooled)" : "", tickCount: 3,
                                            grid: false),
                                    y: Axis(yScale, title: chain == 0 ? "draws" : "", tickCount: 3), marks: marks))
            }
        }
        let legend = [LegendEntry("expected if the chains agree (\(perChain) draws / \(bins) bins)",
                                  .line(Stroke(Color.black, width: 1.2, dash: [5, 3])))]
        let width = chains <= 2 ? 300.0 : chains <= 4 ? 190 : 140
        return Figure(chart: Chart(title: "Rank histograms", caption: "The draws of all chains ranked together, "
                                   + "each chain's ranks in \(bins) bins (Vehtari et al. 2021; \(drawsText(run))). "
                                   + "Flat histograms mean the chains agree; a chain with too many high or low ranks "
                                   + "has not mixed.",
                                   panels: panels, columns: chains, panelWidth: width, panelHeight: 90, legend: legend),
                      header: ["variable", "chain", "bin", "rank_above", "rank_up_to", "count", "expected"],
                      rows: rows)
    }

    /// Average ranks (1-based) of `values`, ties sharing the mean of their
    /// positions, as R's `rank(x, ties.method = "average")`.
    static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
            let rank = Double(start + 1 + end) / 2    // mean of start+1 … end
            for k in start..<end { ranks[order[k]] = rank }
            start = end
        }
        return ranks
    }
}
