import Foundation
import Testing

/// `bayesglmm fit --init`: where chains start, and what fit.json says of it.
@Suite(.serialized) struct FitInitCommandTests {
    static func record(_ out: String) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/fit.json")))
            as? [String: Any]
    }

    @Test func empiricalBayesStartIsRecorded() throws {
        let data = try FitCommandTests.simulate()
        let out = CommandTests.temporary("fit-init-eb")
        let arguments = ["fit", data, "--formula", FitCommandTests.formula, "--out", out, "--chains", "2",
                         "--warmup", "10", "--draws", "20", "--seed", "3", "--init", "eb"]
        let result = try CommandTests.run(arguments)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("EB fit for --init eb:"))
        let record = try FitInitCommandTests.record(out)
        #expect(record?["status"] as? String == "complete")
        #expect(record?["init"] as? String == "eb")
        let eb = try #require(record?["init_eb"] as? [String: Any])
        #expect((eb["seconds"] as? Double).map { $0 >= 0 } == true)
        #expect((eb["fixed"] as? [String: Any])?["(Intercept)"] is Double)
        let sds = try #require(eb["sd"] as? [String: Double])
        #expect(Set(sds.keys) == ["client", "stylist", "client:stylist"])
        let csv = try String(contentsOfFile: out + "/chain-1.csv", encoding: .utf8)
        #expect(csv.contains("# init = eb"))
        // eb is the default, and the seed fixes the start: the same command
        // without --init eb, the same draws (every parameter, in draws.npy).
        let again = CommandTests.temporary("fit-init-eb-again")
        let rerun = arguments.dropLast(2).map { $0 == out ? again : $0 } + ["--quiet"]
        #expect(try CommandTests.run(rerun).status == 0)
        #expect(try FitInitCommandTests.record(again)?["init"] as? String == "eb")
        let first = try Data(contentsOf: URL(fileURLWithPath: out + "/draws.npy"))
        #expect(try first == Data(contentsOf: URL(fileURLWithPath: again + "/draws.npy")))
    }

    @Test func priorStartIsRecorded() throws {
        let data = try FitCommandTests.simulate()
        let out = CommandTests.temporary("fit-init-prior")
        let result = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula, "--out", out,
                                           "--chains", "1", "--warmup", "5", "--draws", "5", "--init", "prior",
                                           "--quiet"])
        #expect(result.status == 0, "\(result.error)")
        #expect(!result.error.contains("EB fit"))
        let record = try FitInitCommandTests.record(out)
        #expect(record?["init"] as? String == "prior")
        #expect(record?["init_eb"] == nil)
    }

    @Test func unknownInitExitsWithTwo() throws {
        let data = try FitCommandTests.simulate()
        let result = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula,
                                           "--out", CommandTests.temporary("fit-init-bogus"), "--init", "bogus",
                                           "--quiet"])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("--init"), "\(result.error)")
    }
}
