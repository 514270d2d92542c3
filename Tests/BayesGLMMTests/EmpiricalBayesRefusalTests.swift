import Foundation
import Testing
@testable import BayesGLMM

/// What the EB fitter refuses before fitting (`EmpiricalBayesFit.check`:
/// models and data with no maximum-likelihood fit, as `InputError`) and how
/// it fails on accepted data (`NumericalFailure`, saying what failed and
/// what may help).
@Suite struct EmpiricalBayesRefusalTests {
    /// 40 rows: a group g of 5 levels, a covariate x (−1.9 … 2.0 in steps of
    /// 0.1, shuffled against y), a two-level h, and y; `y(i, x)` gives row
    /// i's outcome.
    static func frame(_ y: (Int, Double) -> Int, scale: Double = 1, h: (Int) -> String = { $0 % 2 == 0 ? "p" : "q" })
        throws -> Frame {
        var text = "g,x,h,y\n"
        for i in 0..<40 {
            let x = Double((i * 7) % 40 - 19) / 10
            text += "g\(i % 5),\(x * scale),\(h(i)),\(y(i, x))\n"
        }
        return try Frame.read(csvText: text, source: "d.csv")
    }

    /// Outcomes that vary with x but do not separate it.
    static func mixed(_ i: Int, _ x: Double) -> Int { (i * 3 + (x > 0 ? 1 : 0)) % 4 == 0 ? 1 : (i % 3 == 0 ? 1 : 0) }

    static func design(_ formula: String, _ frame: Frame) throws -> Design {
        try Design(formula: ModelFormula.parse(formula), frame: frame)
    }

    static func refusal(_ design: Design) -> InputError? {
        do { try EmpiricalBayesFit.check(design); return nil } catch { return error }
    }

    @Test func modelWithoutRandomTermsIsRefused() throws {
        let design = try EmpiricalBayesRefusalTests.design("y ~ x", EmpiricalBayesRefusalTests.frame(EmpiricalBayesRefusalTests.mixed))
        let error = try #require(EmpiricalBayesRefusalTests.refusal(design))
        #expect(error.kind == .unsupported && error.setting == "formula")
        #expect(error.message.contains("no random-effect terms"))
        // Not the internal "inconsistent pattern" of the sparse factorisation.
        #expect(throws: InputError.self) { try LaplaceApproximation(design: design) }
        #expect(throws: InputError.self) { try EmpiricalBayesFit.fit(design) }
    }

    @Test(arguments: [0, 1])
    func responseWithoutVariationIsRefused(outcome: Int) throws {
        let design = try EmpiricalBayesRefusalTests.design("y ~ x + (1|g)",
                                                          EmpiricalBayesRefusalTests.frame { _, _ in outcome })
        let error = try #require(EmpiricalBayesRefusalTests.refusal(design))
        #expect(error.kind == .noVariation && error.file == "d.csv" && error.column == "y")
        #expect(error.message.contains("no variation: all 40 trials are \(outcome == 1 ? "successes" : "failures")"))
        #expect(error.message.contains("maximum-likelihood (Laplace) fit does not exist"))
        // The design accepts it: a Bayesian fit has a posterior.
        #expect(design.successes.reduce(0, +) == Double(40 * outcome))
    }

    @Test func twoLevelFactorWithOneOutcomeIsSeparation() throws {
        // Every row with h = q succeeds; rows with h = p vary.
        let frame = try EmpiricalBayesRefusalTests.frame { i, x in i % 2 == 1 ? 1 : (x > 0.5 ? 1 : 0) }
        let error = try #require(EmpiricalBayesRefusalTests.refusal(
            EmpiricalBayesRefusalTests.design("y ~ h + (1|g)", frame)))
        #expect(error.kind == .separation && error.column == "h")
        #expect(error.message.contains("the fixed effect hq separates the outcomes: every trial with hq > 0 is a success"))
        #expect(error.message.contains("infinite"))
    }

    @Test func covariateThresholdIsSeparationEvenWithATie() throws {
        // Failures at x ≤ 0.2, successes at x ≥ 0.2, both at 0.2 (and in
        // one binomial cell there): quasi-complete separation.
        let rows = [("a", -1.0, 0, 2), ("b", -0.5, 0, 1), ("a", 0.2, 1, 3), ("b", 0.2, 2, 2), ("c", 0.7, 3, 0),
                    ("c", 1.5, 1, 0), ("a", -0.3, 0, 2), ("c", 0.9, 2, 0)]
        let text = "g,x,s,f\n" + rows.map { "\($0.0),\($0.1),\($0.2),\($0.3)\n" }.joined()
        let frame = try Frame.read(csvText: text, source: "tie.csv")
        let error = try #require(EmpiricalBayesRefusalTests.refusal(
            EmpiricalBayesRefusalTests.design("cbind(s, f) ~ x + (1|g)", frame)))
        #expect(error.kind == .separation && error.column == "x" && error.file == "tie.csv")
        #expect(error.message.contains("every trial with x > 0.2 is a success and every trial with x < 0.2 a failure"))
        // One failure above the threshold and it is no longer separated.
        let overlapping = try Frame.read(csvText: text + "b,1.1,0,1\n", source: "tie.csv")
        #expect(try EmpiricalBayesRefusalTests.refusal(
            EmpiricalBayesRefusalTests.design("cbind(s, f) ~ x + (1|g)", overlapping)) == nil)
        // Reversed: successes below −1.1, failures above.
        let reversed = try EmpiricalBayesRefusalTests.frame { _, x in x < -1 ? 1 : 0 }
        let other = try #require(EmpiricalBayesRefusalTests.refusal(
            EmpiricalBayesRefusalTests.design("y ~ x + (1|g)", reversed)))
        #expect(other.message.contains("with x > -1.1 is a failure and every trial with x < -1.1 a success"))
    }

    @Test func separationNeedsTheInterceptUnlessAtZero() throws {
        // Without an intercept, a shift of x by m ≠ 0 is not in the model: the
        // threshold at 0.2 does not make the estimate infinite.
        let frame = try EmpiricalBayesRefusalTests.frame { _, x in x > 0.2 ? 1 : 0 }
        #expect(try EmpiricalBayesRefusalTests.refusal(EmpiricalBayesRefusalTests.design("y ~ 0 + x + (1|g)", frame)) == nil)
        // At 0 it does.
        let atZero = try EmpiricalBayesRefusalTests.frame { _, x in x > 0 ? 1 : 0 }
        #expect(try EmpiricalBayesRefusalTests.refusal(
            EmpiricalBayesRefusalTests.design("y ~ 0 + x + (1|g)", atZero))?.kind == .separation)
    }

    @Test func overlappingOutcomesAreFitted() throws {
        let design = try EmpiricalBayesRefusalTests.design("y ~ x + h + (1|g)",
                                                          EmpiricalBayesRefusalTests.frame(EmpiricalBayesRefusalTests.mixed))
        #expect(EmpiricalBayesRefusalTests.refusal(design) == nil)
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.coefficients.allSatisfy(\.isFinite) && fit.logLikelihood.isFinite)
    }

    @Test func numericalFailureSaysWhatFailedAndWhatMayHelp() throws {
        // Valid data whose covariate (1e160) squares beyond double precision:
        // the fixed effects' information is not finite.
        let design = try EmpiricalBayesRefusalTests.design(
            "y ~ x + (1|g)", EmpiricalBayesRefusalTests.frame(EmpiricalBayesRefusalTests.mixed, scale: 1e160))
        #expect(EmpiricalBayesRefusalTests.refusal(design) == nil)
        do {
            _ = try EmpiricalBayesFit.fit(design)
            Issue.record("expected a numerical failure")
        } catch let failure as NumericalFailure {
            #expect(failure.message.hasPrefix("the empirical-Bayes (Laplace) fit failed: "))
            #expect(failure.message.contains("fixed effects' information"))
            #expect(failure.message.contains("not finite"))
            #expect(failure.remedies.contains(.rescaledCovariates))
        }
    }
}
