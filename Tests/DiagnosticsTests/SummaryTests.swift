import Testing
@testable import Diagnostics

@Suite("Summary and its renderings")
struct SummaryTests {
    static func variables() throws -> [(name: String, draws: Draws)] {
        try (0..<12).map { v in
            let chains = (0..<4).map { j in
                AutocovarianceTests.series(101, phi: 0.1 * Double(v % 9), seed: UInt64(100 * v + j))
            }
            return (name: "theta[\(v)]", draws: try Draws(chains: chains))
        } + [(name: "constant, \"quoted\"", draws: try Draws(chains: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]))]
    }

    @Test func parallelEqualsSerial() throws {
        let variables = try Self.variables()
        let parallel = summarize(variables, monteCarloStandardErrors: true, parallel: true)
        let serial = summarize(variables, monteCarloStandardErrors: true, parallel: false)
        #expect(parallel == serial)
        #expect(parallel.rows.map(\.variable) == variables.map(\.name))
    }

    @Test func rowsMatchTheSingleFunctions() throws {
        for (name, draws) in try Self.variables() {
            let row = try #require(summarize([(name: name, draws: draws)], monteCarloStandardErrors: true).rows.first)
            #expect(row.mean == mean(draws))
            #expect(row.median == median(draws))
            #expect(row.sd == standardDeviation(draws))
            #expect(row.mad == medianAbsoluteDeviation(draws))
            #expect(row.q5 == (try quantile(draws, probability: 0.05)))
            #expect(row.q95 == (try quantile(draws, probability: 0.95)))
            #expect(row.rhat == rhat(draws))
            #expect(row.essBulk == essBulk(draws))
            #expect(row.essTail == essTail(draws))
            #expect(row.mcseMean == mcseMean(draws))
            #expect(row.mcseMedian == mcseMedian(draws))
            #expect(row.mcseSd == mcseSd(draws))
            #expect(row.mcseQ5 == (try mcseQuantile(draws, probability: 0.05)))
            #expect(row.mcseQ95 == (try mcseQuantile(draws, probability: 0.95)))
        }
    }

    @Test func defaultColumnsAreSummariseDraws() throws {
        let summary = summarize(try Self.variables())
        #expect(summary.columns.map(\.rawValue) == ["mean", "median", "sd", "mad", "q5", "q95", "rhat", "ess_bulk", "ess_tail"])
        #expect(summary.rows.allSatisfy { $0.mcseMean == nil })
    }

    @Test func renderings() throws {
        var row = SummaryRow(variable: "a,b")
        row.mean = 0.1
        row.rhat = .infinity
        row.essBulk = 1234.56
        let summary = Summary(columns: [.mean, .sd, .rhat, .essBulk], rows: [row, SummaryRow(variable: "c")])
        #expect(summary.csv() == "variable,mean,sd,rhat,ess_bulk\n\"a,b\",0.1,NA,Inf,1234.56\nc,NA,NA,NA,NA\n")
        #expect(summary.json() == """
        [
          {"variable": "a,b", "mean": 0.1, "sd": null, "rhat": "Inf", "ess_bulk": 1234.56},
          {"variable": "c", "mean": null, "sd": null, "rhat": null, "ess_bulk": null}
        ]

        """)
        let lines = summary.textTable().split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("variable"))
        #expect(lines[1].hasSuffix("1235"))
        #expect(lines[2].contains("NA"))
    }
}
