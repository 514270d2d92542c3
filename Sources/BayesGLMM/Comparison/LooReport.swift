import Diagnostics
import Foundation

/// PSIS-LOO and WAIC of fits, and their comparison, as JSON (`bayesglmm loo
/// --format json`): per fit the totals of loo's `estimates` table (estimate
/// and SE), the MCSE of elpd_loo (null where loo gives NA) and every
/// pointwise figure, named as loo names the columns of its `pointwise`
/// table; then loo_compare's rows, best first.
public struct LooReport: Codable, Sendable {
    public struct Estimate: Codable, Sendable {
        public var estimate: Double
        public var se: Double
        init(_ e: LeaveOneOut.Estimate) { (estimate, se) = (e.value, e.standardError) }
    }

    public struct Pointwise: Codable, Sendable {
        public var elpdLoo: [Double], mcseElpdLoo: [Double], pLoo: [Double], looic: [Double]
        public var influenceParetoK: [Double], nEff: [Double], rEff: [Double]
        public var elpdWaic: [Double], pWaic: [Double]
        enum CodingKeys: String, CodingKey {
            case elpdLoo = "elpd_loo", mcseElpdLoo = "mcse_elpd_loo", pLoo = "p_loo", looic
            case influenceParetoK = "influence_pareto_k", nEff = "n_eff", rEff = "r_eff"
            case elpdWaic = "elpd_waic", pWaic = "p_waic"
        }
    }

    public struct Fit: Codable, Sendable {
        public var run: String
        /// What one observation is: "row", "cell" or "level of TERM".
        public var unit: String
        public var observations: Int
        public var draws: Int
        public var elpdLoo: Estimate, pLoo: Estimate, looic: Estimate
        public var elpdWaic: Estimate, pWaic: Estimate, waic: Estimate
        public var mcseElpdLoo: Double?
        public var pointwise: Pointwise
        enum CodingKeys: String, CodingKey {
            case run, unit, observations, draws, looic, waic, pointwise
            case elpdLoo = "elpd_loo", pLoo = "p_loo", elpdWaic = "elpd_waic", pWaic = "p_waic"
            case mcseElpdLoo = "mcse_elpd_loo"
        }

        public init(run: String, observation: String, loo: LeaveOneOut, waic: WidelyApplicableCriterion) {
            self.run = run
            self.unit = observation
            observations = loo.pointwise.count
            draws = loo.draws
            elpdLoo = Estimate(loo.elpd)
            pLoo = Estimate(loo.effectiveParameters)
            looic = Estimate(loo.looic)
            let totals = waic.totals
            elpdWaic = Estimate(totals.elpd)
            pWaic = Estimate(totals.effectiveParameters)
            self.waic = Estimate(totals.waic)
            mcseElpdLoo = loo.mcse
            let p = loo.pointwise
            pointwise = Pointwise(elpdLoo: p.map(\.elpd), mcseElpdLoo: p.map(\.mcse), pLoo: p.map(\.effectiveParameters),
                                  looic: p.map(\.looic), influenceParetoK: p.map(\.paretoK),
                                  nEff: p.map(\.effectiveDraws), rEff: p.map(\.relativeEfficiency),
                                  elpdWaic: waic.elpd, pWaic: waic.effectiveParameters)
        }
    }

    /// A row of loo_compare's table.
    public struct Difference: Codable, Sendable {
        public var run: String
        public var elpdDiff: Double
        public var seDiff: Double
        enum CodingKeys: String, CodingKey { case run, elpdDiff = "elpd_diff", seDiff = "se_diff" }
    }

    public var fits: [Fit]
    /// loo_compare's rows, best first; empty for one fit.
    public var compare: [Difference]

    public init(fits: [Fit], models: [LeaveOneOut]) {
        self.fits = fits
        compare = models.count > 1
            ? LeaveOneOut.compare(models).map { Difference(run: fits[$0.model].run, elpdDiff: $0.difference,
                                                           seDiff: $0.standardError) }
            : []
    }

    /// Pretty-printed JSON with sorted keys; doubles in Foundation's shortest
    /// round-tripping form, infinite Pareto k as "Infinity".
    public func json() throws -> Data {
        try JSONEncoder.report.encode(self)
    }
}
