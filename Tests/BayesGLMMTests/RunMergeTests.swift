import Foundation
import Testing
@testable import BayesGLMM

/// Chains run as jobs of their own (`ChainSettings.selection`, `fit --chain
/// K`) and merged (`RunMerge`): the merged run is the run one fit of all the
/// chains writes, byte for byte in its draws, and anything that is not a
/// chain of the same fit is refused.
@Suite struct RunMergeTests {
    /// Binomial data on 6 groups as a CSV file in `folder`; `flip` changes
    /// one response.
    static func dataFile(in folder: String, name: String = "data.csv", flip: Bool = false) throws -> String {
        var lines = ["g,x,y"]
        for row in 0..<90 {
            let group = row % 6
            var y = (row * 7 + group) % 5 < 2 ? 1 : 0
            if flip && row == 0 { y = 1 - y }
            lines.append("g\(group),\(Double(row % 9) / 4 - 1),\(y)")
        }
        let path = folder + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func request(data: String, output: String, chains: Int = 3, selection: [Int]? = nil, seed: UInt64 = 4,
                        draws: Int = 30) throws -> RunRequest {
        let design = try Design(formula: ModelFormula.parse("y ~ x + (1|g)"), frame: Frame.read(csvFile: data))
        return RunRequest(design: design, priors: Priors(),
                          settings: ChainSettings(chains: chains, warmup: 20, draws: draws, seed: seed,
                                                  selection: selection),
                          start: .empiricalBayes, output: output)
    }

    static func job(_ chain: Int, data: String, folder: String, seed: UInt64 = 4) throws -> String {
        let output = folder + "/job\(chain)-seed\(seed)"
        let result = try Run.prepare(request(data: data, output: output, selection: [chain - 1], seed: seed))
            .execute(stop: StopRequest())
        #expect(result.status == .complete && result.isInPlace)
        return output
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// A chain file's lines other than comments: its header and draws.
    static func draws(_ path: String) throws -> [Substring] {
        String(decoding: try bytes(path), as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
    }

    @Test func mergedJobsAreTheRunOfAllTheChainsByteForByte() throws {
        let folder = try RunTests.folder("merge")
        let data = try RunMergeTests.dataFile(in: folder)
        let local = folder + "/local"
        _ = try Run.prepare(RunMergeTests.request(data: data, output: local)).execute(stop: StopRequest())
        let jobs = try (1...3).map { try RunMergeTests.job($0, data: data, folder: folder) }

        // A job is a run of its one chain, readable by every reader.
        let second = try RunDirectory.read(jobs[1])
        #expect(second.chainNumbers == [2] && second.manifest.chainIds == [2] && second.manifest.chains == 3)
        #expect(second.manifest.files == ["chain-2.csv"] && second.manifest.streams?.map(\.chain) == [2])
        #expect(second.manifest.dataHash?.hasPrefix("fnv1a64:") == true)
        #expect(try RunMergeTests.draws(jobs[1] + "/chain-2.csv") == RunMergeTests.draws(local + "/chain-2.csv"))

        let merged = try RunMerge.merge([jobs[2], jobs[0], jobs[1]], into: folder + "/merged")
        #expect(merged.status == .complete && merged.directory == folder + "/merged" && merged.chains == [1, 2, 3])
        #expect(try RunMergeTests.bytes(folder + "/merged/draws.npy") == RunMergeTests.bytes(local + "/draws.npy"))
        for chain in 1...3 {
            #expect(try RunMergeTests.draws(folder + "/merged/chain-\(chain).csv")
                    == RunMergeTests.draws(local + "/chain-\(chain).csv"))
        }
        #expect(try RunMergeTests.bytes(folder + "/merged/summary.csv") == RunMergeTests.bytes(local + "/summary.csv"))
        let record = try RunManifest.read(folder + "/merged/fit.json")
        let original = try RunManifest.read(local + "/fit.json")
        #expect(record.chainIds == nil && record.store == original.store && record.files == original.files)
        #expect(record.streams == original.streams && record.outcomes.map(\.chain) == [1, 2, 3])
        #expect(record.outcomes.map(\.draws) == original.outcomes.map(\.draws))

        // Some of the jobs, then the rest: the same run again.
        let part = try RunMerge.merge([jobs[0], jobs[2]], into: folder + "/part")
        #expect(part.chains == [1, 3] && part.manifest.chainIds == [1, 3])
        let partRun = try RunDirectory.read(folder + "/part")
        #expect(partRun.chainNumbers == [1, 3] && partRun.store.chains == 2)
        _ = try RunMerge.merge([folder + "/part", jobs[1]], into: folder + "/again")
        #expect(try RunMergeTests.bytes(folder + "/again/draws.npy") == RunMergeTests.bytes(local + "/draws.npy"))
        #expect(try RunManifest.read(folder + "/again/fit.json").chainIds == nil)
    }

    @Test func whatIsNotAChainOfTheSameFitIsRefusedNamingTheDifference() throws {
        let folder = try RunTests.folder("merge-refusals")
        let data = try RunMergeTests.dataFile(in: folder)
        let one = try RunMergeTests.job(1, data: data, folder: folder)
        let two = try RunMergeTests.job(2, data: data, folder: folder)
        func refusal(_ runs: [String], into output: String? = nil) -> InputError? {
            do {
                _ = try RunMerge.merge(runs, into: output ?? folder + "/out-\(UUID().uuidString.prefix(6))")
                return nil
            } catch let error as InputError { return error } catch { return nil }
        }
        // Another seed.
        let otherSeed = try RunMergeTests.job(2, data: data, folder: folder, seed: 5)
        #expect(refusal([one, otherSeed])?.message.contains("seeds (\"seed\") differ (5 against 4)") == true)
        // Other data: one response changed, in a file of the same name elsewhere.
        try FileManager.default.createDirectory(atPath: folder + "/elsewhere", withIntermediateDirectories: true)
        let changed = try RunMergeTests.dataFile(in: folder + "/elsewhere", flip: true)
        let changedJob = try Run.prepare(RunMergeTests.request(data: changed, output: folder + "/changed",
                                                               selection: [1])).execute(stop: StopRequest())
        #expect(refusal([one, changedJob.directory])?.message.contains("data_hash") == true)
        // The same data at another path merges.
        let copy = try RunMergeTests.dataFile(in: folder + "/elsewhere", name: "copy.csv")
        let copied = try Run.prepare(RunMergeTests.request(data: copy, output: folder + "/copied", selection: [1]))
            .execute(stop: StopRequest())
        #expect(refusal([one, copied.directory]) == nil)
        // A chain twice; the output one of the jobs; no jobs.
        #expect(refusal([one, one])?.message.contains("chain 1 is in both") == true)
        #expect(refusal([one, two], into: one)?.setting == "output")
        #expect(refusal([])?.setting == "runs")
        // Another number of chains.
        let ofFour = try Run.prepare(RunMergeTests.request(data: data, output: folder + "/four", chains: 4,
                                                           selection: [2])).execute(stop: StopRequest())
        #expect(refusal([one, ofFour.directory])?.message.contains("\"chains\"") == true)
        // A job still running (its process gone), and a failed one.
        for status in ["running", "failed"] {
            let path = folder + "/" + status
            try FileManager.default.copyItem(atPath: two, toPath: path)
            var manifest = try RunManifest.read(path + "/fit.json")
            manifest.status = status == "running" ? .running : .failed
            manifest.writer = RunManifest.Writer(pid: Int32.max, host: "elsewhere")
            try manifest.encoded().write(to: URL(fileURLWithPath: path + "/fit.json"))
            #expect(refusal([one, path])?.message.contains(status == "running" ? "did not finish" : "failed") == true)
        }
        // Nothing was written beside the jobs.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).allSatisfy { !$0.contains(".partial-") })
    }

    @Test func aJobIsOneOfTheChainsAndAnUntilESSFitIsNoJob() throws {
        let folder = try RunTests.folder("merge-settings")
        let data = try RunMergeTests.dataFile(in: folder)
        for selection in [[3], [-1], [], [1, 0]] {
            do {
                _ = try Run.prepare(RunMergeTests.request(data: data, output: folder + "/r", selection: selection))
                Issue.record("the selection \(selection) was taken")
            } catch let error as InputError {
                #expect(error.setting == "chain")
            }
        }
        var request = try RunMergeTests.request(data: data, output: folder + "/r", selection: [0])
        request.untilESS = UntilESS(target: 100)
        do {
            _ = try Run.prepare(request)
            Issue.record("an until-ESS job was taken")
        } catch let error as InputError {
            #expect(error.setting == "chain")
        }
    }

    @Test func anInterruptedJobMergesWithTheDrawsItMade() throws {
        let folder = try RunTests.folder("merge-interrupted")
        let data = try RunMergeTests.dataFile(in: folder)
        let local = folder + "/local"
        _ = try Run.prepare(RunMergeTests.request(data: data, output: local)).execute(stop: StopRequest())
        let one = try RunMergeTests.job(1, data: data, folder: folder)
        let two = try RunMergeTests.job(2, data: data, folder: folder)
        // Job 3 as an interrupt after 17 draws leaves it: the manifest says so,
        // the store's later draws are NaN, the chain file holds 17 draws.
        let three = folder + "/job3-interrupted"
        try FileManager.default.copyItem(atPath: try RunMergeTests.job(3, data: data, folder: folder), toPath: three)
        var manifest = try RunManifest.read(three + "/fit.json")
        manifest.status = .interrupted
        manifest.outcomes[0].status = .interrupted
        manifest.outcomes[0].draws = 17
        manifest.outcomes[0].fileDraws = 17
        try manifest.encoded().write(to: URL(fileURLWithPath: three + "/fit.json"))
        var store = try RunMergeTests.bytes(three + "/draws.npy")
        let parameters = manifest.store.shape[2], row = parameters * 8
        let dataOffset = store.count - 30 * row
        let nan = withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { Array($0) }
        for k in stride(from: dataOffset + 17 * row, to: store.count, by: 8) {
            store.replaceSubrange(k..<(k + 8), with: nan)
        }
        try store.write(to: URL(fileURLWithPath: three + "/draws.npy"))
        try CmdStanCSVWriter.cut(path: three + "/chain-3.csv", toDraws: 17)

        let merged = try RunMerge.merge([one, two, three], into: folder + "/merged")
        #expect(merged.status == .interrupted && merged.isInPlace)
        let run = try RunDirectory.read(folder + "/merged")
        #expect(run.chainNumbers == [1, 2, 3] && run.drawsPerChain == 17)
        #expect(run.notes.first?.contains("chain 3 made 17") == true)
        // Every draw made is kept, byte for byte; the chain files hold the draws readers use.
        let mergedStore = try RunMergeTests.bytes(folder + "/merged/draws.npy")
        let localStore = try RunMergeTests.bytes(local + "/draws.npy")
        #expect(mergedStore.count == localStore.count)
        let kept = localStore.count - 90 * row + (2 * 30 + 17) * row
        #expect(mergedStore.prefix(kept) == localStore.prefix(kept))
        #expect(mergedStore.suffix(13 * row) == store.suffix(13 * row))
        for chain in 1...3 {
            let lines = try RunMergeTests.draws(folder + "/merged/chain-\(chain).csv")
            let full = try RunMergeTests.draws(local + "/chain-\(chain).csv")
            #expect(lines.count == 18 && Array(lines) == Array(full.prefix(18)))
        }
    }
}
