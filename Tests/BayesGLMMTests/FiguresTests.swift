import BayesGLMM
import CGSL
import Diagnostics
import Foundation
import SVGTestSupport
import Testing

/// Each kind of figure: its SVG is well-formed XML with one mark per row of
/// its table, and the table's numbers are those computed directly from the
/// draws of the hand-made run of `ComparisonTests` (values known exactly).
@Suite struct FiguresTests {
    /// The CSV table of a figure: header and rows (no quoted fields here).
    static func table(_ figure: Figure) -> (header: [String], rows: [[String]]) {
        let lines = figure.csv.split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        return (lines.first ?? [], Array(lines.dropFirst()))
    }

    static let chains = 2, draws = 40

    static func run() throws -> RunDirectory {
        try RunDirectory.read(ComparisonTests.writeRun(chains: chains, draws: draws))
    }

    static func index(_ name: String) -> Int { ComparisonTests.names.firstIndex(of: name)! }

    @Test func traceHasALinePerChainAndEveryDraw() throws {
        let run = try FiguresTests.run()
        let variables = Figure.defaultVariables(run)
        #expect(variables == ["(Intercept)", "sd(g)", "sd(g:h)"])
        let figure = try Figure.trace(run, variables: variables)
        let svg = try SVGElements.parse(figure.svg)
        #expect(svg.count("path", class: "line") == variables.count * FiguresTests.chains)
        let table = FiguresTests.table(figure)
        #expect(table.header == ["variable", "chain", "iteration", "value"])
        #expect(table.rows.count == variables.count * FiguresTests.chains * FiguresTests.draws)
        for row in table.rows {
            let j = FiguresTests.index(row[0]), c = Int(row[1])! - 1, d = Int(row[2])! - 1
            #expect(Double(row[3]) == ComparisonTests.value(chain: c, draw: d, parameter: j), "\(row)")
        }
        #expect(svg.textContents(class: "panel-title") == variables)
    }

    @Test func rankHistogramsCountPooledRanks() throws {
        let run = try FiguresTests.run()
        let figure = try Figure.rank(run, variables: ["sd(g)", "r(g)[b]"], bins: 8)
        let svg = try SVGElements.parse(figure.svg)
        let table = FiguresTests.table(figure)
        #expect(svg.count("rect", class: "bar") == table.rows.count)
        #expect(table.rows.count == 2 * FiguresTests.chains * 8)
        let total = FiguresTests.chains * FiguresTests.draws
        for name in ["sd(g)", "r(g)[b]"] {
            // Ranks by direct counting: 1 + #smaller + (#equal − 1)/2.
            let pooled = ComparisonTests.pooled(parameter: FiguresTests.index(name), chains: FiguresTests.chains,
                                                count: FiguresTests.draws)
            for chain in 0..<FiguresTests.chains {
                var expected = [Int](repeating: 0, count: 8)
                for d in 0..<FiguresTests.draws {
                    let x = pooled[chain * FiguresTests.draws + d]
                    let rank = 1 + Double(pooled.filter { $0 < x }.count) + Double(pooled.filter { $0 == x }.count - 1) / 2
                    expected[min(7, Int(((rank - 1) * 8 / Double(total)).rounded(.down)))] += 1
                }
                let rows = table.rows.filter { $0[0] == name && $0[1] == String(chain + 1) }
                #expect(rows.map { Int($0[5])! } == expected, "\(name) chain \(chain + 1)")
                #expect(rows.allSatisfy { Double($0[6]) == Double(FiguresTests.draws) / 8 })
            }
        }
    }

    @Test func kernelDensityIntegratesToOneAndRespectsTheBound() throws {
        // Normal quantiles as draws: the estimate is close to the normal density.
        let draws = (1...2000).map { k in gsl_cdf_ugaussian_Pinv((Double(k) - 0.5) / 2000) }
        let density = try #require(KernelDensity(draws))
        let step = density.x[1] - density.x[0]
        #expect(abs(density.density.reduce(0, +) * step - 1) < 0.01)
        let middle = density.x.indices.min { abs(density.x[$0]) < abs(density.x[$1]) }!
        #expect(abs(density.density[middle] - 1 / (2 * Double.pi).squareRoot()) < 0.02)
        // Silverman: 0.9 min(sd, IQR / 1.34) n^(−1/5), here sd ≈ IQR / 1.349 ≈ 1.
        #expect(abs(density.bandwidth - 0.9 * pow(2000, -0.2)) < 0.01)
        // Half-normal draws reflected at 0: no mass below 0, still integrating to 1,
        // and the density at 0 near the half-normal's 2φ(0) (without reflection it would be about half).
        let half = draws.map(abs)
        let reflected = try #require(KernelDensity(half, lowerBound: 0))
        #expect(reflected.x.first == 0)
        let width = reflected.x[1] - reflected.x[0]
        let integral = zip(reflected.density.dropFirst(), reflected.density).map { ($0 + $1) / 2 * width }.reduce(0, +)
        #expect(abs(integral - 1) < 0.01)
        #expect(abs(reflected.density[0] - 2 / (2 * Double.pi).squareRoot()) < 0.1)
        #expect(KernelDensity([1, 1, 1]) == nil)
    }

    @Test func densityMarksTheEmpiricalBayesEstimate() throws {
        let run = try FiguresTests.run()
        let figure = try Figure.density(run, variable: "sd(g)", eb: ComparisonTests.report(), ebPath: "eb.json")
        let svg = try SVGElements.parse(figure.svg)
        #expect(svg.count("line", class: "rule") == 1 && svg.count("path", class: "line") == 1)
        let table = FiguresTests.table(figure)
        #expect(table.rows.last == ["sd(g)", "eb", "0.55", "NA"])
        let grid = table.rows.dropLast().map { Double($0[2])! }
        #expect(grid.first! >= 0 && grid == grid.sorted())
        #expect(svg.text.contains("0.55"))
        // An EB fit without the variable, and a variable without draws.
        #expect(throws: InputError.self) {
            try Figure.density(run, variable: "sd(g)", eb: ComparisonTests.report(sd: [("g:h", 0.3)]), ebPath: "eb.json")
        }
        do {
            _ = try Figure.density(run, variable: "sd(nothing)", eb: nil)
            Issue.record("no error")
        } catch { #expect(error.setting == "variables" && error.message.contains("sd(nothing)")) }
    }

    @Test func standardDeviationsShowEverySDWithItsEstimate() throws {
        let run = try FiguresTests.run()
        let figure = try Figure.standardDeviations(run, eb: ComparisonTests.report())
        let svg = try SVGElements.parse(figure.svg)
        #expect(svg.count("path", class: "line") == 2 && svg.count("line", class: "rule") == 2)
        let table = FiguresTests.table(figure)
        #expect(table.rows.filter { $0[1] == "eb" }.map { [$0[0], $0[2]] } == [["sd(g)", "0.55"], ["sd(g:h)", "0.3"]])
    }

    @Test func caterpillarShowsEveryLevelSortedWithDirectQuantiles() throws {
        let run = try FiguresTests.run()
        let figure = try Figure.caterpillar(run, term: "g")
        let svg = try SVGElements.parse(figure.svg)
        let table = FiguresTests.table(figure)
        #expect(table.rows.count == 3)
        // One dot per row, two interval segments per row, every level's name on the axis.
        let dots = zip(svg.names, svg.attributes).filter { $0.0 == "circle" }.count
        #expect(dots == table.rows.count + 1)    // + the legend's swatch
        #expect(svg.count("line", class: "segment") == 2 * table.rows.count)
        let labels = svg.textContents()
        for row in table.rows { #expect(labels.contains(row[1]), "\(row[1])") }
        let means = table.rows.map { Double($0[4])! }
        #expect(means == means.sorted() && table.rows.map(\.[2]) == ["1", "2", "3"])
        for row in table.rows {
            let pooled = ComparisonTests.pooled(parameter: FiguresTests.index("r(g)[\(row[1])]"),
                                                chains: FiguresTests.chains, count: FiguresTests.draws)
            #expect(ComparisonTests.close(Double(row[4]), pooled.reduce(0, +) / Double(pooled.count)))
            for (column, p) in zip(5...9, [0.05, 0.25, 0.5, 0.75, 0.95]) {
                #expect(ComparisonTests.close(Double(row[column]), ComparisonTests.typeSeven(pooled, p)), "\(row) \(p)")
            }
            #expect(row[3] == ["a": "1", "b": "4", "c": "30"][row[1]])
        }
        // A cap: the lowest and highest levels, and the caption says so.
        let capped = try Figure.caterpillar(run, term: "g", maxLevels: 2)
        #expect(FiguresTests.table(capped).rows.map(\.[2]) == ["1", "3"])
        #expect(capped.chart.caption?.contains("Showing 2 of 3 levels") == true)
        #expect(throws: InputError.self) { try Figure.caterpillar(run, term: "nothing") }
    }

    @Test func shrinkageSetsRawEBAndPosteriorSideBySide() throws {
        let run = try FiguresTests.run()
        let report = ComparisonTests.report()
        let figure = try Figure.shrinkage(run, term: "g", eb: report, ebPath: "eb.json")
        let svg = try SVGElements.parse(figure.svg)
        let table = FiguresTests.table(figure)
        #expect(table.header == ["term", "level", "observations", "successes", "raw_log_odds", "eb_mode", "eb_sd",
                                 "posterior_mean", "posterior_sd"])
        // Sorted by observations: a (1), b (4), c (30); three dots and one line per level.
        #expect(table.rows.map(\.[1]) == ["a", "b", "c"])
        #expect(svg.count("g", class: "points") == 3 && svg.count("path", class: "line") == 3)
        #expect(svg.count("circle") == 3 * 3 + 3)    // + the legend's swatches
        let raw = LevelCounts(term: "g", levels: ["a", "b", "c"], observations: [1, 4, 30], successes: [1, 1, 10])
            .rawLogOdds
        for (k, row) in table.rows.enumerated() {
            #expect(Double(row[4]) == raw[k])
            #expect(Double(row[5]) == report.effects.first { $0.term == "g" && $0.level == row[1] }!.mode)
            let pooled = ComparisonTests.pooled(parameter: FiguresTests.index("r(g)[\(row[1])]"),
                                                chains: FiguresTests.chains, count: FiguresTests.draws)
            #expect(ComparisonTests.close(Double(row[7]), pooled.reduce(0, +) / Double(pooled.count)))
        }
        // An EB fit without the term's effects is refused, in the setting "eb".
        do {
            _ = try Figure.shrinkage(run, term: "g", eb: ComparisonTests.report(effects: []), ebPath: "eb.json")
            Issue.record("no error")
        } catch { #expect(error.setting == "eb" && error.file == "eb.json") }
        // A run without counts needs the data.
        let noCounts = try RunDirectory.read(ComparisonTests.writeRun(counts: false))
        #expect(throws: InputError.self) { try Figure.shrinkage(noCounts, term: "g", eb: report, ebPath: "eb.json") }
    }

    @Test func calibrationBinsByPredictedProbability() throws {
        // 20 rows: predictions 0.05, 0.10, …, 1.00; outcome 1 on every third row.
        var text = "client,y,mean\n"
        for k in 1...20 { text += "c\(k),\(k % 3 == 0 ? 1 : 0),\(Double(k) / 20)\n" }
        let frame = try Frame.read(csvText: text, source: "scores.csv")
        let figure = try Figure.calibration(scores: frame, response: ["y"])
        let svg = try SVGElements.parse(figure.svg)
        let table = FiguresTests.table(figure)
        #expect(table.rows.count == 10 && svg.count("line", class: "segment") == 10)
        #expect(svg.count("circle") == 10 + 1)
        // Bin 2 holds rows 3 and 4: one success in two, mean prediction 0.175.
        #expect(table.rows[1][1...3] == ["2", "2", "1"])
        #expect(ComparisonTests.close(Double(table.rows[1][6]), 0.175) && Double(table.rows[1][7]) == 0.5)
        // Clopper–Pearson with no successes in 2: upper = 1 − 0.05^(1/2).
        #expect(table.rows[0][8] == "0.0" && ComparisonTests.close(Double(table.rows[0][9]), 1 - 0.05.squareRoot()))

        let noResponse = try Frame.read(csvText: "client,mean\na,0.5\n", source: "scores.csv")
        do {
            _ = try Figure.calibration(scores: noResponse, response: ["y"])
            Issue.record("no error")
        } catch { #expect(error.message.contains("no column \"y\"") && error.file == "scores.csv") }
        let notBinary = try Frame.read(csvText: "y,mean\n1,0.5\n2,0.5\n", source: "scores.csv")
        do {
            _ = try Figure.calibration(scores: notBinary, response: ["y"])
            Issue.record("no error")
        } catch { #expect(error.line == 3 && error.column == "y") }
    }

    /// Clopper–Pearson bounds where GSL's gsl_cdf_beta_Pinv gives up and
    /// returns NaN (Beta(9500, 501) at 0.05): each bound is the exact
    /// quantile, checked by the beta CDF at it, for binomial counts across
    /// the range, the ends included.
    @Test func calibrationIntervalsAreExactAtLargeCounts() throws {
        cgsl_error_handler_off()   // GSL's default handler aborts where the inverse does not converge
        #expect(gsl_cdf_beta_Pinv(0.05, 9500, 501).isNaN, "GSL now solves it: the case no longer tests the fallback")
        let successes = [0, 1, 500, 2500, 5000, 7500, 9000, 9500, 9999, 10_000]
        var text = "s,f,mean\n"
        for (k, s) in successes.enumerated() { text += "\(s),\(10_000 - s),\(Double(k + 1) / 11)\n" }
        let figure = try Figure.calibration(scores: Frame.read(csvText: text, source: "scores.csv"), response: ["s", "f"])
        let rows = FiguresTests.table(figure).rows
        #expect(rows.count == successes.count)
        for (row, s) in zip(rows, successes) {
            let lower = try #require(Double(row[8])), upper = try #require(Double(row[9]))
            #expect(row[2] == "10000" && row[3] == "\(s)")
            #expect(lower.isFinite && upper.isFinite && lower <= Double(s) / 10_000 && Double(s) / 10_000 <= upper,
                    "\(s): [\(lower), \(upper)]")
            // P(Beta(s, n − s + 1) ≤ lower) = 0.05 and P(Beta(s + 1, n − s) > upper) = 0.05.
            if s == 0 { #expect(lower == 0) } else {
                #expect(abs(gsl_cdf_beta_P(lower, Double(s), Double(10_001 - s)) - 0.05) < 1e-10, "\(s): \(lower)")
            }
            if s == 10_000 { #expect(upper == 1) } else {
                #expect(abs(gsl_cdf_beta_Q(upper, Double(s + 1), Double(10_000 - s)) - 0.05) < 1e-10, "\(s): \(upper)")
            }
        }
    }

    @Test func figuresAreTheSameEveryTime() throws {
        let run = try FiguresTests.run()
        let first = try Figure.rank(run, variables: ["sd(g)"]), second = try Figure.rank(run, variables: ["sd(g)"])
        #expect(first.svg == second.svg && first.csv == second.csv)
    }
}
