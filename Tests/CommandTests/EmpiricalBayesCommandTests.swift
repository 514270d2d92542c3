import Foundation
import Testing

/// `bayesglmm eb` end to end: lme4's cbpp, the JSON it writes (the schema
/// glmer's fits are written in), and bad input.
@Suite(.serialized) struct EmpiricalBayesCommandTests {
    static let root = CompareCommandTests.root
    static let cbpp = root.appendingPathComponent("Validation/lme4/data/cbpp.csv").path

    struct Report: Decodable {
        struct Fixed: Decodable { let name: String; let estimate: Double; let std_error: Double }
        struct SD: Decodable { let term: String; let estimate: Double }
        struct Effect: Decodable { let term: String; let level: String; let mode: Double; let sd: Double }
        let program: String
        let fixed: [Fixed]
        let sd: [SD]
        let effects: [Effect]
        let log_likelihood: Double
        let rows_used: Int
        let singular: Bool
        let converged: Bool
        let messages: [String]
    }

    @Test func cbppAsGlmerWithJSON() throws {
        let out = CommandTests.temporary("eb-cbpp.json")
        let result = try CommandTests.run(["eb", EmpiricalBayesCommandTests.cbpp, "--formula",
                                           "cbind(incidence, failures) ~ period + (1|herd)",
                                           "--levels", "period=1,2,3,4", "--out", out])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Laplace Approximation"))
        #expect(result.output.contains("herd"))
        #expect(result.output.contains("period4"))
        let ours = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        let glmer = try JSONDecoder().decode(Report.self, from: Data(contentsOf: EmpiricalBayesCommandTests.root
            .appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb/cbpp.json")))
        #expect(ours.program.hasPrefix("bayesglmm"))
        #expect(ours.rows_used == 56 && ours.converged && !ours.singular && ours.messages.isEmpty)
        #expect(ours.fixed.map(\.name) == glmer.fixed.map(\.name))
        for (a, b) in zip(ours.fixed, glmer.fixed) { #expect(abs(a.estimate - b.estimate) <= max(1e-3 * abs(b.estimate), 1e-4)) }
        #expect(ours.sd.map(\.term) == ["herd"] && abs(ours.sd[0].estimate - glmer.sd[0].estimate) < 1e-3)
        #expect(ours.effects.map(\.level) == glmer.effects.map(\.level))
        #expect(ours.log_likelihood >= glmer.log_likelihood - 1e-4)
    }

    /// `--weights` and `--offset` (with an `offset()` in the formula): the
    /// EB fit of glmer's `weights =` and `offset =`, recorded in the JSON;
    /// bad weights and a missing offset column exit 2 naming the flag.
    @Test func weightsAndOffsets() throws {
        let data = EmpiricalBayesCommandTests.root.appendingPathComponent("Validation/lme4/data")
        let out = CommandTests.temporary("eb-offsets.json")
        let offsets = try CommandTests.run(["eb", data.appendingPathComponent("offsets.csv").path, "--formula",
                                           "y ~ x + offset(log(exposure)) + (1|group)", "--offset", "base",
                                           "--out", out])
        #expect(offsets.status == 0, "\(offsets.error)")
        struct Recorded: Decodable { let fixed: [Report.Fixed]; let offset: String?; let weights: String? }
        let ours = try JSONDecoder().decode(Recorded.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        let glmer = try JSONDecoder().decode(Recorded.self, from: Data(contentsOf: EmpiricalBayesCommandTests.root
            .appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb/offset_both_tight.json")))
        #expect(ours.offset == "base" && ours.weights == nil)
        for (a, b) in zip(ours.fixed, glmer.fixed) { #expect(abs(a.estimate - b.estimate) <= 1e-3 * abs(b.estimate)) }
        let weighted = try CommandTests.run(["eb", data.appendingPathComponent("weighted.csv").path, "--formula",
                                             "p ~ x + (1|group)", "--weights", "w"])
        #expect(weighted.status == 0 && weighted.output.contains("-500.1"), "\(weighted.error)")
        let unweighted = try CommandTests.run(["eb", data.appendingPathComponent("weighted.csv").path, "--formula",
                                               "p ~ x + (1|group)"])
        #expect(unweighted.status == 2 && unweighted.error.contains("for proportions --weights"), "\(unweighted.error)")
        let unknown = try CommandTests.run(["eb", data.appendingPathComponent("offsets.csv").path, "--formula",
                                            "y ~ x + (1|group)", "--offset", "bse"])
        #expect(unknown.status == 2 && unknown.error.contains("--offset") && unknown.error.contains("\"bse\""),
                "\(unknown.error)")
        let zero = CommandTests.temporary("zero-weight.csv")
        try "p,w,g\n0.5,2,a\n1,0,b\n0,1,b\n".write(toFile: zero, atomically: true, encoding: .utf8)
        let bad = try CommandTests.run(["eb", zero, "--formula", "p ~ (1|g)", "--weights", "w"])
        #expect(bad.status == 2 && bad.error.contains("--weights") && bad.error.contains("line 3"), "\(bad.error)")
    }

    /// `--nagq`: glmer's adaptive quadrature on cbpp (its estimates in the
    /// JSON, the approximation named in the summary), and the models and
    /// values glmer refuses, refused with exit 2 naming --nagq.
    @Test func adaptiveQuadrature() throws {
        let out = CommandTests.temporary("eb-cbpp-agq.json")
        let result = try CommandTests.run(["eb", EmpiricalBayesCommandTests.cbpp, "--formula",
                                           "cbind(incidence, failures) ~ period + (1|herd)",
                                           "--levels", "period=1,2,3,4", "--nagq", "10", "--out", out])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("(Adaptive Gauss-Hermite Quadrature, nAGQ = 10)"))
        #expect(result.output.contains("df.resid"))
        let ours = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        let glmer = try JSONDecoder().decode(Report.self, from: Data(contentsOf: EmpiricalBayesCommandTests.root
            .appendingPathComponent("Tests/BayesGLMMTests/Fixtures/eb/cbpp_agq_10_tight.json")))
        for (a, b) in zip(ours.fixed, glmer.fixed) { #expect(abs(a.estimate - b.estimate) <= 1e-3 * abs(b.estimate)) }
        #expect(abs(ours.sd[0].estimate - glmer.sd[0].estimate) < 1e-3 * glmer.sd[0].estimate)
        let crossed = try CommandTests.run(["eb", EmpiricalBayesCommandTests.cbpp, "--formula",
                                            "cbind(incidence, failures) ~ (1|herd) + (1|period)", "--nagq", "5"])
        #expect(crossed.status == 2)
        #expect(crossed.error.contains("--nagq") && crossed.error.contains("single random-effect term"),
                "\(crossed.error)")
        let many = try CommandTests.run(["eb", EmpiricalBayesCommandTests.cbpp, "--formula",
                                         "cbind(incidence, failures) ~ (1|herd)", "--nagq", "30"])
        #expect(many.status == 2)
        #expect(many.error.contains("--nagq") && many.error.contains("25"), "\(many.error)")
    }

    @Test func badInputExitsWithTwo() throws {
        let missing = try CommandTests.run(["eb", "/nonexistent/data.csv", "--formula", "y ~ (1|a)"])
        #expect(missing.status == 2)
        #expect(missing.error.contains("/nonexistent/data.csv"))
        let column = try CommandTests.run(["eb", EmpiricalBayesCommandTests.cbpp, "--formula",
                                           "cbind(incidence, failures) ~ period + (1|farm)"])
        #expect(column.status == 2)
        #expect(column.error.contains("farm"))
        let unwritable = try CommandTests.run(["eb", EmpiricalBayesCommandTests.cbpp, "--formula",
                                               "cbind(incidence, failures) ~ (1|herd)", "--out", "/nonexistent/eb.json"])
        #expect(unwritable.status == 2)
        #expect(unwritable.error.contains("/nonexistent/eb.json"))
    }

    /// 40 rows: g of 5 levels, x from −1.9 to 2.0 (times `scale`), y from `y`.
    static func data(_ name: String, scale: Double = 1, _ y: (Int, Double) -> Int) throws -> String {
        var text = "g,x,y\n"
        for i in 0..<40 {
            let x = Double((i * 7) % 40 - 19) / 10
            text += "g\(i % 5),\(x * scale),\(y(i, x))\n"
        }
        let path = CommandTests.temporary(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Outcomes that vary with x without separating it.
    static func mixed(_ i: Int, _ x: Double) -> Int { (i * 3 + (x > 0 ? 1 : 0)) % 4 == 0 || i % 3 == 0 ? 1 : 0 }

    @Test func numericalFailureExitsWithOneSayingWhatToTry() throws {
        // Valid data, but x² overflows: the fixed effects' information is not finite.
        let huge = try EmpiricalBayesCommandTests.data("eb-huge.csv", scale: 1e160, EmpiricalBayesCommandTests.mixed)
        let result = try CommandTests.run(["eb", huge, "--formula", "y ~ x + (1|g)"])
        #expect(result.status == 1, "\(result.error)")
        #expect(result.error.hasPrefix("error: the empirical-Bayes (Laplace) fit failed: "))
        #expect(result.error.contains("not finite; try centred and scaled covariates, a simpler model (--formula)"))
        #expect(result.output.isEmpty)
        // The same data scaled are fitted; bad input is still status 2.
        let scaled = try EmpiricalBayesCommandTests.data("eb-scaled.csv", EmpiricalBayesCommandTests.mixed)
        let fitted = try CommandTests.run(["eb", scaled, "--formula", "y ~ x + (1|g)"])
        #expect(fitted.status == 0, "\(fitted.error)")
        let unknown = try CommandTests.run(["eb", huge, "--formula", "y ~ z + (1|g)"])
        #expect(unknown.status == 2 && unknown.error.contains("\"z\""))
    }

    @Test func modelWithoutRandomTermsIsRefused() throws {
        let data = try EmpiricalBayesCommandTests.data("eb-glm.csv", EmpiricalBayesCommandTests.mixed)
        let result = try CommandTests.run(["eb", data, "--formula", "y ~ x"])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("error: --formula: 'y ~ 1 + x' has no random-effect terms"))
        #expect(result.error.contains("No random effects terms specified in formula"))
        #expect(result.error.contains("'bayesglmm fit'") && result.error.contains("GLM"))
        #expect(!result.error.contains("SparseCholesky"))
        // describe shows the model as it is.
        let described = try CommandTests.run(["describe", data, "--formula", "y ~ x"])
        #expect(described.status == 0, "\(described.error)")
        #expect(described.output.contains("random intercepts: none"))
    }

    @Test func responseWithoutVariationIsRefused() throws {
        let ones = try EmpiricalBayesCommandTests.data("eb-ones.csv") { _, _ in 1 }
        let result = try CommandTests.run(["eb", ones, "--formula", "y ~ x + (1|g)"])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("eb-ones.csv, column \"y\": the response y has no variation: all 40 trials are "
                                      + "successes, so the maximum-likelihood (Laplace) fit does not exist"))
        #expect(!result.error.contains("positive definite"))
    }

    @Test func separatingCovariateIsRefused() throws {
        let separated = try EmpiricalBayesCommandTests.data("eb-separated.csv") { _, x in x > 0.5 ? 1 : 0 }
        let result = try CommandTests.run(["eb", separated, "--formula", "y ~ x + (1|g)"])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("column \"x\": the fixed effect x separates the outcomes: every trial with "
                                      + "x > 0.5 is a success and every trial with x < 0.5 a failure"))
    }
}
