import Foundation
import Testing
@testable import Diagnostics

/// PSIS-LOO, WAIC and the comparison of models against R's loo 2.5.1 on the
/// same log-likelihood draws (Validation/loo/make_fixtures.R): every
/// pointwise figure and total within 1e-6.
@Suite struct LeaveOneOutTests {
    struct Fixture: Decodable {
        struct Model: Decodable {
            struct Waic: Decodable { let elpd: [Double]; let p: [Double]; let estimates: [Double] }
            let draws: [Double]
            let r_eff: [Double]
            let elpd: [Double], mcse: [Double], p_loo: [Double], looic: [Double]
            let pareto_k: [Double], n_eff: [Double]
            /// elpd_loo, p_loo, looic, then their SEs.
            let estimates: [Double]
            let mcse_total: [Double?]
            let waic: Waic
        }
        struct Comparison: Decodable { let order: [Int]; let elpd_diff: [Double]; let se_diff: [Double] }
        let chains: Int, iterations: Int
        let x: [Double], y: [Double], trials: [Double]
        let models: [Model]
        let compare: Comparison
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("loo.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// The pointwise log-likelihood draws of a model: log dbinom(yᵢ, nᵢ, pᵢ)
    /// with logit pᵢ = a + b xᵢ (b = 0 for the second model), per observation.
    static func logLikelihood(_ model: Fixture.Model) throws -> [Draws] {
        let f = fixture, s = f.chains * f.iterations
        let parameters = model.draws.count / s
        return try f.x.indices.map { i in
            let n = f.trials[i], y = f.y[i]
            let coefficient = lgamma(n + 1) - lgamma(y + 1) - lgamma(n - y + 1)
            let values = (0..<s).map { t -> Double in
                let eta = model.draws[t] + (parameters > 1 ? model.draws[s + t] * f.x[i] : 0)
                return coefficient - y * log1p(exp(-eta)) - (n - y) * log1p(exp(eta))
            }
            return try Draws(columnMajor: values, iterations: f.iterations, chains: f.chains)
        }
    }

    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(b))
    }

    @Test(arguments: [0, 1])
    func agreesWithLoo(model m: Int) throws {
        let model = LeaveOneOutTests.fixture.models[m]
        let ll = try LeaveOneOutTests.logLikelihood(model)
        let loo = LeaveOneOut(logLikelihood: ll)
        #expect(loo.draws == 2000 && loo.pointwise.count == 60)
        var worst = 0.0
        for (i, point) in loo.pointwise.enumerated() {
            for (ours, theirs, what) in [(point.relativeEfficiency, model.r_eff[i], "r_eff"),
                                         (point.elpd, model.elpd[i], "elpd_loo"), (point.mcse, model.mcse[i], "mcse"),
                                         (point.effectiveParameters, model.p_loo[i], "p_loo"),
                                         (point.looic, model.looic[i], "looic"),
                                         (point.paretoK, model.pareto_k[i], "k"),
                                         (point.effectiveDraws, model.n_eff[i], "n_eff")] {
                worst = max(worst, abs(ours - theirs) / max(1, abs(theirs)))
                #expect(LeaveOneOutTests.close(ours, theirs), "model \(m + 1) obs \(i + 1) \(what): ours \(ours), loo \(theirs)")
            }
        }
        let totals = [loo.elpd.value, loo.effectiveParameters.value, loo.looic.value,
                      loo.elpd.standardError, loo.effectiveParameters.standardError, loo.looic.standardError]
        for (ours, theirs) in zip(totals, model.estimates) {
            #expect(LeaveOneOutTests.close(ours, theirs), "model \(m + 1) total: ours \(ours), loo \(theirs)")
        }
        // loo's MCSE of elpd_loo is NA when a Pareto k is above 0.7.
        if let theirs = model.mcse_total.first ?? nil {
            #expect(LeaveOneOutTests.close(try #require(loo.mcse), theirs))
        } else {
            #expect(loo.mcse == nil)
        }
        print("LOO model \(m + 1): largest relative difference from loo \(worst)")

        let waic = WidelyApplicableCriterion(logLikelihood: ll)
        for i in waic.elpd.indices {
            #expect(LeaveOneOutTests.close(waic.elpd[i], model.waic.elpd[i]))
            #expect(LeaveOneOutTests.close(waic.effectiveParameters[i], model.waic.p[i]))
        }
        let t = waic.totals
        for (ours, theirs) in zip([t.elpd.value, t.effectiveParameters.value, t.waic.value, t.elpd.standardError,
                                   t.effectiveParameters.standardError, t.waic.standardError], model.waic.estimates) {
            #expect(LeaveOneOutTests.close(ours, theirs), "model \(m + 1) WAIC total: ours \(ours), loo \(theirs)")
        }
    }

    @Test func comparisonIsLooCompares() throws {
        let fits = try LeaveOneOutTests.fixture.models.map { LeaveOneOut(logLikelihood: try LeaveOneOutTests.logLikelihood($0)) }
        let table = LeaveOneOut.compare(fits)
        let theirs = LeaveOneOutTests.fixture.compare
        #expect(table.map { $0.model + 1 } == theirs.order)
        for (row, (difference, se)) in zip(table, zip(theirs.elpd_diff, theirs.se_diff)) {
            #expect(LeaveOneOutTests.close(row.difference, difference) && LeaveOneOutTests.close(row.standardError, se))
        }
        // A Pareto k above 0.7 is among the first model's observations: loo's "bad".
        #expect(fits[0].pointwise.contains { LeaveOneOut.ParetoClass($0.paretoK) == .veryBad })
    }
}
