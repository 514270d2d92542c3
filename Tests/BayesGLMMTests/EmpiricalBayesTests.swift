import Foundation
import Testing
@testable import BayesGLMM

/// The EB fit against glmer's (fixtures from Validation/lme4/fit_glmer.R):
/// every fixed effect and SD within 1e-3 relative or 1e-4 absolute, and a
/// log-likelihood at our optimum no lower than glmer's minus 1e-4.
@Suite struct EmpiricalBayesTests {
    @Test(arguments: ["cbpp", "verbagg"])
    func agreesWithGlmer(name: String) throws {
        let fixture = try JSONDecoder().decode(
            LaplaceTests.Fixture.self,
            from: Data(contentsOf: LaplaceTests.directory.appendingPathComponent(name + ".json")))
        let frame = try Frame.read(csvFile: LaplaceTests.root.appendingPathComponent(fixture.data).path)
        let levels = name == "cbpp" ? ["period": ["1", "2", "3", "4"]] : [:]
        let design = try Design(formula: ModelFormula.parse(fixture.formula), frame: frame,
                                options: DesignOptions(levels: levels))
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.converged)
        #expect(fit.logLikelihood >= fixture.log_likelihood - 1e-4,
                "\(name): ours \(fit.logLikelihood), glmer \(fixture.log_likelihood)")
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= max(1e-3 * abs(b), 1e-4) }
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n }).estimate
            #expect(close(fit.coefficients[j], theirs), "\(name) \(n): ours \(fit.coefficients[j]), glmer \(theirs)")
        }
        for (k, t) in design.randomTerms.enumerated() {
            let theirs = try #require(fixture.sd.first { $0.term == t.name }).estimate
            #expect(close(fit.standardDeviations[k], theirs),
                    "\(name) sd(\(t.name)): ours \(fit.standardDeviations[k]), glmer \(theirs)")
        }
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
