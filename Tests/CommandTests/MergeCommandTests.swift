import Foundation
import Testing

/// `bayesglmm fit --chain K` and `bayesglmm merge` end to end: the jobs
/// merged are the local fit's draws byte for byte; what cannot be merged
/// exits 2 naming the option or the field.
@Suite(.serialized) struct MergeCommandTests {
    static let settings = ["--formula", FitCommandTests.formula, "--chains", "3", "--warmup", "20", "--draws", "25",
                           "--quiet"]

    @Test func jobsMergeIntoTheLocalRun() throws {
        let data = try FitCommandTests.simulate()
        let local = CommandTests.temporary("merge-local")
        let fit = try CommandTests.run(["fit", data, "--out", local, "--seed", "3"] + MergeCommandTests.settings)
        #expect(fit.status == 0, "\(fit.error)")
        var jobs: [String] = []
        for chain in [2, 1, 3] {
            let out = CommandTests.temporary("merge-job\(chain)")
            let job = try CommandTests.run(["fit", data, "--out", out, "--seed", "3", "--chain", String(chain)]
                                           + MergeCommandTests.settings)
            #expect(job.status == 0, "\(job.error)")
            #expect(job.error.contains("chain \(chain) of 3"))
            jobs.append(out)
        }
        let merged = CommandTests.temporary("merge-merged")
        let merge = try CommandTests.run(["merge"] + jobs + ["--out", merged])
        #expect(merge.status == 0, "\(merge.error)")
        #expect(merge.error.contains("merged all 3 chains") && merge.error.contains("verdict:"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: merged + "/draws.npy"))
                == Data(contentsOf: URL(fileURLWithPath: local + "/draws.npy")))
        let summary = try CommandTests.run(["summary", merged, "--format", "csv"])
        let localSummary = try CommandTests.run(["summary", local, "--format", "csv"])
        #expect(summary.status == 0 && summary.output == localSummary.output)
        // Again into the same place: refused, and the run there untouched; --force replaces it.
        let again = try CommandTests.run(["merge"] + jobs + ["--out", merged])
        #expect(again.status == 2 && again.error.contains("--force"))
        #expect(try CommandTests.run(["merge"] + jobs + ["--out", merged, "--force"]).status == 0)
    }

    @Test func whatCannotBeMergedExitsWithTwo() throws {
        let data = try FitCommandTests.simulate()
        let one = CommandTests.temporary("merge-bad-1")
        let other = CommandTests.temporary("merge-bad-2")
        #expect(try CommandTests.run(["fit", data, "--out", one, "--seed", "3", "--chain", "1"]
                                     + MergeCommandTests.settings).status == 0)
        #expect(try CommandTests.run(["fit", data, "--out", other, "--seed", "4", "--chain", "2"]
                                     + MergeCommandTests.settings).status == 0)
        let seeds = try CommandTests.run(["merge", one, other, "--out", CommandTests.temporary("merge-bad-out")])
        #expect(seeds.status == 2 && seeds.error.contains("\"seed\"") && seeds.error.contains("(4 against 3)"))
        let twice = try CommandTests.run(["merge", one, one, "--out", CommandTests.temporary("merge-bad-out")])
        #expect(twice.status == 2 && twice.error.contains("chain 1 is in both"))
        let missing = try CommandTests.run(["merge", one, one + "-missing", "--out",
                                            CommandTests.temporary("merge-bad-out")])
        #expect(missing.status == 2 && missing.error.contains("no such directory"))
        // A chain beyond --chains, and a job that would decide its own length.
        let beyond = try CommandTests.run(["fit", data, "--out", CommandTests.temporary("merge-bad-job"), "--chain", "4"]
                                          + MergeCommandTests.settings)
        #expect(beyond.status == 2 && beyond.error.contains("--chain") && beyond.error.contains("chains 1 to 3"))
        let until = try CommandTests.run(["fit", data, "--out", CommandTests.temporary("merge-bad-job"), "--chain", "1",
                                          "--until-ess", "100"] + MergeCommandTests.settings)
        #expect(until.status == 2 && until.error.contains("--chain") && until.error.contains("--until-ess"))
    }
}
