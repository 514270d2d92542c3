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
}
