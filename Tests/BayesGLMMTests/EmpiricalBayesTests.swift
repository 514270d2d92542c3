import Foundation
import Testing
@testable import BayesGLMM

/// The EB fit against glmer's (fixtures from Validation/lme4/fit_glmer.R):
/// every fixed effect and SD within 1e-3 relative or 1e-4 absolute, and a
/// log-likelihood at our optimum no lower than glmer's minus 1e-4.
@Suite struct EmpiricalBayesTests {
    static func design(_ name: String) throws -> (Design, EmpiricalBayesReport) {
        let fixture = try EmpiricalBayesReport.read(
            path: LaplaceTests.directory.appendingPathComponent(name + ".json").path)
        let frame = try Frame.read(csvFile: LaplaceTests.root.appendingPathComponent(fixture.data).path)
        // cbpp's period is a factor in R; its CSV holds 1…4.
        let levels = name.hasPrefix("cbpp") ? ["period": ["1", "2", "3", "4"]] : [:]
        let design = try Design(formula: ModelFormula.parse(fixture.formula), frame: frame,
                                options: DesignOptions(weights: fixture.weights, offset: fixture.offset,
                                                       levels: levels))
        return (design, fixture)
    }

    static func close(_ a: Double, _ b: Double, relative: Double, absolute: Double = 0) -> Bool {
        abs(a - b) <= max(relative * abs(b), absolute)
    }

    /// Every level's conditional mode and SD in `report` against glmer's in
    /// `fixture`, by parameter name, within 1e-6 (relative above 1).
    static func expectEffectsMatch(_ report: EmpiricalBayesReport, _ fixture: EmpiricalBayesReport,
                                   _ name: String) throws {
        var ours: [String: EmpiricalBayesReport.Effect] = [:]
        for effect in report.effects { ours[effect.parameterName] = effect }
        #expect(ours.count == fixture.effects.count)
        for theirs in fixture.effects {
            let mine = try #require(ours[theirs.parameterName], "\(theirs.parameterName)")
            #expect(abs(mine.mode - theirs.mode) < 1e-6 * max(1, abs(theirs.mode)),
                    "\(name) \(theirs.parameterName) mode: ours \(mine.mode), glmer \(theirs.mode)")
            #expect(abs(mine.sd - theirs.sd) < 1e-6 * max(1, theirs.sd),
                    "\(name) \(theirs.parameterName) sd: ours \(mine.sd), glmer \(theirs.sd)")
        }
    }

    /// The issue's standard: every fixed effect and SD within 1e-3 relative
    /// or 1e-4 absolute of glmer's (default settings), and a log-likelihood
    /// no lower than glmer's minus 1e-4. The modes and conditional SDs move
    /// with the estimates, and are checked with that in mind; they are
    /// checked exactly at glmer's own estimates below. VerbAgg's intercept is
    /// the tight case: it trades against the uncentred Anger (11–40) along a
    /// flat ridge, where glmer's default fit (0.19925) and its tolPwrss =
    /// 1e-12 refit (0.19951) differ by 1.3e-3 relative; ours, polished by
    /// Newton steps on the exact gradient, is 0.19906 with the highest
    /// log-likelihood of the three.
    @Test(arguments: ["cbpp", "verbagg", "pairings"])
    func agreesWithGlmer(name: String) throws {
        let (design, fixture) = try EmpiricalBayesTests.design(name)
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.converged, "\(fit.messages)")
        #expect(!fit.singular && fit.messages.isEmpty)
        #expect(fit.logLikelihood >= fixture.log_likelihood - 1e-4,
                "\(name): ours \(fit.logLikelihood), glmer \(fixture.log_likelihood)")
        func close(_ a: Double, _ b: Double) -> Bool { EmpiricalBayesTests.close(a, b, relative: 1e-3, absolute: 1e-4) }
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n })
            #expect(close(fit.coefficients[j], theirs.estimate),
                    "\(name) \(n): ours \(fit.coefficients[j]), glmer \(theirs.estimate)")
        }
        for (k, t) in design.randomTerms.enumerated() {
            let theirs = try #require(fixture.sd.first { $0.term == t.name }).estimate
            #expect(close(fit.standardDeviations[k], theirs),
                    "\(name) sd(\(t.name)): ours \(fit.standardDeviations[k]), glmer \(theirs)")
            for (l, level) in t.levels.enumerated() {
                let effect = try #require(fixture.effects.first { $0.term == t.name && $0.level == level })
                #expect(EmpiricalBayesTests.close(fit.modes[k][l], effect.mode, relative: 1e-2, absolute: 1e-3),
                        "\(name) \(t.name)[\(level)] mode: ours \(fit.modes[k][l]), glmer \(effect.mode)")
                #expect(close(fit.conditionalStandardDeviations[k][l], effect.sd),
                        "\(name) \(t.name)[\(level)] sd: ours \(fit.conditionalStandardDeviations[k][l]), glmer \(effect.sd)")
            }
        }
        #expect(abs(fit.aic - fixture.aic - 2 * (fixture.log_likelihood - fit.logLikelihood)) < 1e-8)
        #expect(abs(fit.bic - fixture.bic - 2 * (fixture.log_likelihood - fit.logLikelihood)) < 1e-8)
    }

    /// A boundary fit: data simulated with no pair variance, where glmer
    /// stops at a pair SD of 2e-5 and says "boundary (singular) fit". Ours
    /// reaches the boundary, says the same, and agrees on the rest.
    @Test func boundaryFitAsGlmer() throws {
        let (design, fixture) = try EmpiricalBayesTests.design("singular")
        #expect(fixture.singular)
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.singular)
        #expect(fit.messages == ["boundary (singular) fit: see help('isSingular')"])
        #expect(fit.logLikelihood >= fixture.log_likelihood - 1e-4,
                "ours \(fit.logLikelihood), glmer \(fixture.log_likelihood)")
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n }).estimate
            #expect(EmpiricalBayesTests.close(fit.coefficients[j], theirs, relative: 1e-3, absolute: 1e-4),
                    "\(n): ours \(fit.coefficients[j]), glmer \(theirs)")
        }
        for (k, t) in design.randomTerms.enumerated() {
            let theirs = try #require(fixture.sd.first { $0.term == t.name }).estimate
            #expect(EmpiricalBayesTests.close(fit.standardDeviations[k], theirs, relative: 1e-3, absolute: 1e-4),
                    "sd(\(t.name)): ours \(fit.standardDeviations[k]), glmer \(theirs)")
        }
        let report = fit.report(design: design, case: "singular", seconds: 0)
        #expect(report.singular && !report.converged && report.messages == fixture.messages)
    }

    /// At glmer's own estimates, every reported quantity is glmer's. The
    /// fixtures are glmer's fits with PIRLS converged to 1e-12
    /// (tolPwrss; Validation/lme4/fit_glmer.R's "_tight" cases): with its
    /// default 1e-7 glmer's modes stop short by enough to move its logLik
    /// by 2.8e-4 on cbpp and its finite-difference Hessian — hence the
    /// standard errors — by up to 1.5%; with 1e-12 it agrees with ours.
    @Test(arguments: ["cbpp_tight", "verbagg_tight", "pairings_tight"])
    func reproducesGlmerAtItsEstimates(name: String) throws {
        let (design, fixture) = try EmpiricalBayesTests.design(name)
        let beta = try design.fixedNames.map { n in try #require(fixture.fixed.first { $0.name == n }).estimate }
        let sigma = try design.randomTerms.map { t in try #require(fixture.sd.first { $0.term == t.name }).estimate }
        let at = try EmpiricalBayesFit.evaluate(design, coefficients: beta, theta: sigma)
        #expect(EmpiricalBayesTests.close(at.logLikelihood, fixture.log_likelihood, relative: 1e-9),
                "\(name): ours \(at.logLikelihood), glmer \(fixture.log_likelihood)")
        #expect(EmpiricalBayesTests.close(at.deviance, fixture.deviance, relative: 1e-8),
                "\(name) deviance: ours \(at.deviance), glmer \(fixture.deviance)")
        // glmer's standard errors come from second differences of its
        // deviance (lme4's deriv12, step 1e-4), ours from central differences
        // of the exact gradient, which move by < 1e-7 from step 1e-3 to 1e-5
        // (below). deriv12's truncation error is ~1.4e-4 relative on VerbAgg;
        // on the benchmark data glmer's deviance also carries noise of ~1e-3
        // even with tolPwrss = 1e-12 — its θθ second differences are 1.8e5
        // at step 1e-4 against 1.5e3 at step 1e-3 — so its standard error is
        // good to ~1.5e-3 there (Validation/lme4/README.md).
        let tolerance = name.hasPrefix("pairings") ? 2e-3 : 3e-4
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n }).std_error
            #expect(EmpiricalBayesTests.close(at.standardErrors[j], theirs, relative: tolerance),
                    "\(name) SE \(n): ours \(at.standardErrors[j]), glmer \(theirs)")
        }
        let coarse = try EmpiricalBayesFit.evaluate(design, coefficients: beta, theta: sigma, step: 1e-3)
        let fine = try EmpiricalBayesFit.evaluate(design, coefficients: beta, theta: sigma, step: 1e-5)
        for j in design.fixedNames.indices {
            #expect(EmpiricalBayesTests.close(coarse.standardErrors[j], fine.standardErrors[j], relative: 1e-7))
            #expect(EmpiricalBayesTests.close(at.standardErrors[j], fine.standardErrors[j], relative: 1e-7))
        }
        var checked = 0
        for (k, t) in design.randomTerms.enumerated() {
            for (l, level) in t.levels.enumerated() {
                guard let effect = fixture.effects.first(where: { $0.term == t.name && $0.level == level }) else {
                    Issue.record("\(name): no glmer effect \(t.name)[\(level)]")
                    continue
                }
                #expect(abs(at.modes[k][l] - effect.mode) < 1e-7,
                        "\(name) \(t.name)[\(level)] mode: ours \(at.modes[k][l]), glmer \(effect.mode)")
                #expect(EmpiricalBayesTests.close(at.conditionalStandardDeviations[k][l], effect.sd, relative: 1e-7),
                        "\(name) \(t.name)[\(level)] sd: ours \(at.conditionalStandardDeviations[k][l]), glmer \(effect.sd)")
                checked += 1
            }
        }
        #expect(checked == fixture.effects.count)
    }
}

/// The report type reads every glmer fixture (one schema for both programs)
/// and writes what it read back unchanged.
@Suite struct EmpiricalBayesReportTests {
    @Test(arguments: ["cbpp", "verbagg", "pairings"])
    func readsGlmerFixturesAndRoundTrips(name: String) throws {
        let path = LaplaceTests.directory.appendingPathComponent(name + ".json").path
        let report = try EmpiricalBayesReport.read(path: path)
        #expect(report.program.hasPrefix("lme4"))
        #expect(!report.fixed.isEmpty && !report.sd.isEmpty && !report.effects.isEmpty)
        let back = try JSONDecoder().decode(EmpiricalBayesReport.self, from: report.json())
        #expect(back == report)
    }

    /// `json()` writes numbers that are not finite as strings ("NaN",
    /// "Infinity"); `read` reads them back.
    @Test func readsBackNumbersThatAreNotFinite() throws {
        var report = try EmpiricalBayesReport.read(path: LaplaceTests.directory.appendingPathComponent("cbpp.json").path)
        report.fixed[0].std_error = .nan
        report.deviance = .infinity
        report.aic = -.infinity
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eb-nan-\(getpid()).json").path
        try report.json().write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let back = try EmpiricalBayesReport.read(path: path)
        #expect(back.fixed[0].std_error.isNaN && back.deviance == .infinity && back.aic == -.infinity)
        #expect(back.fixed[1...] == report.fixed[1...] && back.effects == report.effects)
    }

    @Test func namesTheFileAndTheMissingField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eb-bad-\(getpid()).json").path
        try Data(#"{"program": "x", "case": "c"}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try EmpiricalBayesReport.read(path: path)
        } throws: { error in
            let text = "\(error)"
            return text.contains(path) && text.contains("no field")
        }
        #expect(throws: InputError.self) { _ = try EmpiricalBayesReport.read(path: path + ".absent") }
    }
}
