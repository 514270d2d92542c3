import Foundation
import Testing
@testable import Diagnostics

/// Every diagnostic against R `posterior` on the committed fixtures
/// (Validation/diagnostics/make_fixtures.R), to 1e-10 relative or both NA.
@Suite("Agreement with R posterior")
struct PosteriorAgreementTests {
    @Test("the fixture file loads with at least 30 cases")
    func fixturesLoad() {
        #expect(Fixtures.cases.count >= 30)
        #expect(Fixtures.file.posterior_version == "1.4.0")
    }

    @Test("each diagnostic agrees with posterior", arguments: Fixtures.cases)
    func agreement(_ fixture: FixtureCase) throws {
        let draws = try fixture.makeDraws()
        #expect(draws.iterations == fixture.iterations && draws.chains == fixture.chains)
        let v = fixture.values
        let scalar: [(String, Double?, FixtureNumber)] = [
            ("mean", mean(draws), v.mean),
            ("median", median(draws), v.median),
            ("sd", standardDeviation(draws), v.sd),
            ("mad", medianAbsoluteDeviation(draws), v.mad),
            ("rhat", rhat(draws), v.rhat),
            ("rhat_basic", rhatBasic(draws), v.rhat_basic),
            ("ess_bulk", essBulk(draws), v.ess_bulk),
            ("ess_tail", essTail(draws), v.ess_tail),
            ("ess_basic", essBasic(draws), v.ess_basic),
            ("ess_mean", essMean(draws), v.ess_mean),
            ("ess_sd", essSd(draws), v.ess_sd),
            ("mcse_mean", mcseMean(draws), v.mcse_mean),
            ("mcse_sd", mcseSd(draws), v.mcse_sd),
        ]
        for (name, mine, reference) in scalar {
            #expect(agrees(mine, reference), "\(name): \(String(describing: mine)) vs posterior \(reference.value)")
        }
        for (index, p) in fixture.probabilities.enumerated() {
            let q = try quantile(draws, probability: p)
            #expect(agrees(q, v.quantile[index]), "quantile(\(p)): \(String(describing: q)) vs \(v.quantile[index].value)")
            let ess = try essQuantile(draws, probability: p)
            #expect(agrees(ess, v.ess_quantile[index]), "ess_quantile(\(p)): \(String(describing: ess)) vs \(v.ess_quantile[index].value)")
            let mcse = try mcseQuantile(draws, probability: p)
            #expect(agrees(mcse, v.mcse_quantile[index]), "mcse_quantile(\(p)): \(String(describing: mcse)) vs \(v.mcse_quantile[index].value)")
        }
        if let nested = fixture.rhat_nested {
            let mine = try rhatNested(draws, superchains: nested.superchains)
            #expect(agrees(mine, nested.value), "rhat_nested: \(String(describing: mine)) vs \(nested.value.value)")
        }
        if !v.autocorrelation_chain1.isEmpty {
            let chain = Array(draws.chain(0))
            let mine = try autocorrelation(chain)
            if v.autocorrelation_chain1.allSatisfy(\.isNotAvailable) {
                #expect(mine == nil)
            } else if let mine {
                #expect(mine.count == v.autocorrelation_chain1.count)
                // Lags whose autocorrelation is ~0 are compared absolutely:
                // FFT rounding is relative to gamma(0), not to each lag.
                for (lag, reference) in zip(mine, v.autocorrelation_chain1) {
                    #expect(abs(lag - reference.value) <= 1e-10, "autocorrelation: \(lag) vs \(reference.value)")
                }
            } else {
                Issue.record("autocorrelation not available where posterior has one")
            }
        }
    }

    @Test("the summary agrees with summarise_draws", arguments: Fixtures.cases)
    func summaryAgreement(_ fixture: FixtureCase) throws {
        let draws = try fixture.makeDraws()
        let summary = summarize([(name: "theta", draws: draws)], monteCarloStandardErrors: true)
        #expect(summary.rows.count == 1)
        let row = try #require(summary.rows.first)
        #expect(row.variable == "theta")
        for column in SummaryColumn.allCases {
            let reference = try #require(fixture.summary[column.rawValue], "no \(column.rawValue) in fixture")
            #expect(agrees(row[column], reference), "\(column.rawValue): \(String(describing: row[column])) vs \(reference.value)")
        }
    }

    @Test("the inverse incomplete beta agrees with R's qbeta, also where GSL's Pinv gives up")
    func inverseIncompleteBeta() {
        #expect(Fixtures.file.qbeta.count > 1000)
        for row in Fixtures.file.qbeta {
            let (p, a, b) = (row[0].value, row[1].value, row[2].value)
            let mine = GSL.betaQuantile(p, a, b)
            #expect(agrees(mine, row[3]), "qbeta(\(p), \(a), \(b)): \(mine) vs \(row[3].value)")
        }
    }

    @Test("largest relative difference over all fixture values is below 1e-10")
    func largestDifference() throws {
        var largest = 0.0
        var compared = 0
        var worst = ""

        for fixture in Fixtures.cases {
            let draws = try fixture.makeDraws()
            let v = fixture.values
            var pairs: [(String, Double?, FixtureNumber)] = [
                ("mean", mean(draws), v.mean), ("median", median(draws), v.median),
                ("sd", standardDeviation(draws), v.sd), ("mad", medianAbsoluteDeviation(draws), v.mad),
                ("rhat", rhat(draws), v.rhat), ("rhat_basic", rhatBasic(draws), v.rhat_basic),
                ("ess_bulk", essBulk(draws), v.ess_bulk), ("ess_tail", essTail(draws), v.ess_tail),
                ("ess_basic", essBasic(draws), v.ess_basic), ("ess_mean", essMean(draws), v.ess_mean),
                ("ess_sd", essSd(draws), v.ess_sd),
                ("mcse_mean", mcseMean(draws), v.mcse_mean), ("mcse_sd", mcseSd(draws), v.mcse_sd),
            ]
            for (index, p) in fixture.probabilities.enumerated() {
                pairs.append(("quantile(\(p))", try quantile(draws, probability: p), v.quantile[index]))
                pairs.append(("ess_quantile(\(p))", try essQuantile(draws, probability: p), v.ess_quantile[index]))
                pairs.append(("mcse_quantile(\(p))", try mcseQuantile(draws, probability: p), v.mcse_quantile[index]))
            }
            if let nested = fixture.rhat_nested {
                pairs.append(("rhat_nested", try rhatNested(draws, superchains: nested.superchains), nested.value))
            }
            for (name, mine, reference) in pairs {
                let difference = relativeDifference(mine, reference)
                if difference > largest {
                    largest = difference
                    worst = "\(name) of \(fixture.name)"
                }
                compared += 1
            }
        }
        print("compared \(compared) values in \(Fixtures.cases.count) cases; largest relative difference \(largest) (\(worst))")
        #expect(compared > 1000)
        #expect(largest <= 1e-10)
    }
}
