import Foundation
import SystemPackage
import Testing
@testable import BayesGLMM

/// The run driver (`Run`, `Chains.stream`), its manifest and its files:
/// what a run records, which draws readers use, how a chain fails, and
/// where a run ends up.
@Suite struct RunTests {
    /// A fresh directory for one test.
    static func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("run-tests-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func request(_ output: String, seed: UInt64 = 1, draws: Int = 20, replacing: Bool = false,
                        priors: Priors = Priors(), start: RunRequest.Start? = .prior) throws -> RunRequest {
        RunRequest(design: try GibbsTests.design(), priors: priors,
                   settings: ChainSettings(chains: 2, warmup: 10, draws: draws, seed: seed),
                   start: start, output: output, replacesExisting: replacing)
    }

    // MARK: The manifest

    @Test func manifestRoundTripsAndSaysWhatTheDirectoryHolds() throws {
        let folder = try RunTests.folder("manifest")
        let output = folder + "/run"
        let result = try Run.prepare(RunTests.request(output)).execute(stop: StopRequest())
        #expect(result.status == .complete && result.isInPlace && !result.replacedPrevious)
        let read = try RunManifest.read(output + "/fit.json")
        #expect(read == result.manifest)
        #expect(read.schemaVersion == RunManifest.currentSchemaVersion && read.program == "bayesglmm \(Release.version)")
        #expect(read.outcomes.map(\.ended) == [.complete, .complete])
        #expect(read.outcomes.map(\.draws) == [20, 20] && read.outcomes.map(\.fileDraws) == [20, 20])
        #expect(read.files == ["chain-1.csv", "chain-2.csv"] && read.store.shape == [2, 20, 5])
        #expect(read.store.names == ["(Intercept)", "sd(g)", "r(g)[g0]", "r(g)[g1]", "r(g)[g2]"])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output))
                == ["chain-1.csv", "chain-2.csv", "draws.npy", "fit.json", "summary.csv"])
        // Nothing is left beside the run.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["run"])
    }

    @Test func layoutOneIsReadAndALaterLayoutRefused() throws {
        // fit.json as bayesglmm wrote it before the manifest had a layout number.
        let legacy = """
            {"program": "bayesglmm 0.1.0", "status": "interrupted", "formula": "y ~ 1 + (1 | g)", "data": "d.csv",
             "rows_used": 32, "fixed": ["(Intercept)"], "random": [{"term": "g", "levels": ["a", "b"]}],
             "store": {"file": "draws.npy", "dtype": "<f8", "order": "C", "shape": [2, 10, 4],
                       "names": ["(Intercept)", "sd(g)", "r(g)[a]", "r(g)[b]"]},
             "outcomes": [{"chain": 1, "draws": 7, "interrupted": true, "warmup_seconds": 0.1},
                          {"chain": 2, "draws": 0, "interrupted": true}]}
            """
        let manifest = try RunManifest.decode(Data(legacy.utf8), path: "fit.json")
        #expect(manifest.layout == 1)
        #expect(manifest.outcomes.map(\.ended) == [.interrupted, .notStarted])
        #expect(manifest.outcomes[0].warmupSeconds == 0.1)
        #expect(manifest.usableDraws.chains == [0] && manifest.usableDraws.draws == 7)

        let later = legacy.replacingOccurrences(of: "{\"program\"", with: "{\"schema_version\": 3, \"program\"")
        #expect(throws: InputError.self) { try RunManifest.decode(Data(later.utf8), path: "fit.json") }
        let wrongType = legacy.replacingOccurrences(of: "\"rows_used\": 32", with: "\"rows_used\": \"many\"")
        do {
            _ = try RunManifest.decode(Data(wrongType.utf8), path: "fit.json")
            Issue.record("a field of the wrong type was read")
        } catch {
            #expect(error.message.contains("rows_used") && error.file == "fit.json")
        }
    }

    @Test func readersUseTheChainsAndLengthThatKeepTheMostDraws() {
        func usable(_ chains: [(RunManifest.Status, Int)], status: RunManifest.Status = .interrupted)
            -> (chains: [Int], draws: Int) {
            let manifest = RunManifest(
                schemaVersion: 2, program: nil, status: status, formula: "y ~ 1", data: "d.csv", rowsUsed: 1,
                fixed: [], random: [],
                store: .init(file: "draws.npy", dtype: "<f8", order: "C", shape: [chains.count, 1000, 1], names: ["a"]),
                outcomes: chains.enumerated().map {
                    RunManifest.Chain(chain: $0.offset + 1, status: $0.element.0, draws: $0.element.1, sweeps: 0,
                                      warmupSeconds: 0, samplingSeconds: 0, file: nil)
                })
            return manifest.usableDraws
        }
        let close = usable([(.interrupted, 503), (.interrupted, 501), (.interrupted, 502), (.interrupted, 500)])
        #expect(close.chains == [0, 1, 2, 3] && close.draws == 500)
        let late = usable([(.complete, 1000), (.complete, 1000), (.interrupted, 37), (.interrupted, 35)])
        #expect(late.chains == [0, 1] && late.draws == 1000)
        let uneven = usable([(.interrupted, 76), (.interrupted, 33)])
        #expect(uneven.chains == [0, 1] && uneven.draws == 33)
        let oneAtATime = usable([(.complete, 500), (.interrupted, 10), (.notStarted, 0)])
        #expect(oneAtATime.chains == [0] && oneAtATime.draws == 500)
        let notStarted = usable([(.interrupted, 10), (.notStarted, 0), (.notStarted, 0)])
        #expect(notStarted.chains == [0] && notStarted.draws == 10)
        // A failed chain's draws are not used.
        let failed = usable([(.interrupted, 40), (.failed, 90), (.interrupted, 20)], status: .failed)
        #expect(failed.chains == [0, 2] && failed.draws == 20)
        let third = usable([(.interrupted, 90), (.interrupted, 40), (.interrupted, 10)])
        #expect(third.chains == [0, 1] && third.draws == 40)
        let none = usable([(.notStarted, 0), (.notStarted, 0)])
        #expect(none.chains.isEmpty && none.draws == 0)
        let complete = usable([], status: .complete)
        #expect(complete.chains.isEmpty && complete.draws == 1000)
    }

    // MARK: Chains

    /// A kernel whose one parameter counts sweeps, drawing NaN (or
    /// reporting a failure) at `failAt` in chain `failingChain`.
    struct Failing: SamplingKernel {
        var failingChain: UInt64
        var failAt: Int
        var reports: Bool
        var parameterNames: [String] { ["theta"] }
        func initialState(using generator: Generator) -> (chain: UInt64, sweep: Int) { (generator.chain, 0) }
        func step(_ state: (chain: UInt64, sweep: Int), using generator: Generator)
            -> ((chain: UInt64, sweep: Int), String?) {
            let next = (state.chain, state.sweep + 1)
            return (next, reports && next.1 == failAt && next.0 == failingChain ? "the matrix is singular" : nil)
        }
        func values(of state: (chain: UInt64, sweep: Int)) -> [Double] {
            [!reports && state.chain == failingChain && state.sweep == failAt ? .nan : Double(state.sweep)]
        }
        func failure(of info: String?) -> String? { info }
    }

    @Test(arguments: [false, true])
    func aChainThatFailsStopsTheOthersAndKeepsItsDraws(reports: Bool) throws {
        // Chain 2 fails at its 15th sweep (the 5th kept draw); one chain at a time.
        let kernel = Failing(failingChain: 1, failAt: 15, reports: reports)
        let settings = ChainSettings(chains: 4, warmup: 10, draws: 20, seed: 1, parallelChains: 1)
        let outcomes = Chains.stream(kernel, settings: settings, stop: StopRequest(), progress: nil) { _ in
            Collecting()
        }
        #expect(outcomes.map(\.status) == [.complete, .failed, .notStarted, .notStarted])
        #expect(outcomes.map(\.draws) == [20, 4, 0, 0])
        let message = try #require(outcomes[1].failure?.message)
        #expect(message.hasPrefix("chain 2 failed at sampling sweep 5 (after 4 kept draws): "))
        #expect(message.hasSuffix(reports ? "the matrix is singular" : "drew nan for theta"))
        #expect(outcomes[1].failure?.error is NumericalFailure)
        // In memory: the failure is thrown.
        #expect(throws: NumericalFailure.self) { _ = try Chains.run(kernel, settings: settings) }
    }

    @Test func aStartThatIsNotFiniteFailsAtTheStart() {
        let kernel = Failing(failingChain: 0, failAt: 0, reports: false)
        let outcomes = Chains.stream(kernel, settings: ChainSettings(chains: 1, warmup: 5, draws: 5), stop: StopRequest(),
                                     progress: nil) { _ in Collecting() }
        #expect(outcomes[0].status == .failed && outcomes[0].failure?.message.contains("at its start") == true)
    }

    /// A sink that keeps the draws, or fails from `failFrom` on.
    struct Collecting: ChainSink {
        var failFrom = Int.max
        var draws: [[Double]] = []
        var written: Int { draws.count }
        mutating func write(_ values: [Double]) throws {
            guard draws.count < failFrom else { throw WriteFailure(path: "sink", action: "write", reason: "full") }
            draws.append(values)
        }
        mutating func finish(_ outcome: Chains.Outcome) {}
    }

    @Test func aSinkThatCannotWriteFailsItsChain() {
        let kernel = Failing(failingChain: 9, failAt: 0, reports: false)
        let outcomes = Chains.stream(kernel, settings: ChainSettings(chains: 2, warmup: 0, draws: 10, parallelChains: 1),
                                     stop: StopRequest(), progress: nil) { chain in
            Collecting(failFrom: chain == 0 ? 3 : .max)
        }
        #expect(outcomes.map(\.status) == [.failed, .notStarted])
        #expect(outcomes[0].draws == 3 && outcomes[0].failure?.cause == .output)
        #expect(outcomes[0].failure?.message == "sink: cannot write: full")
    }

    @Test func aRequestedStopBeforeTheStartLeavesEveryChainNotStarted() {
        let stop = StopRequest()
        stop.request()
        let outcomes = Chains.stream(Failing(failingChain: 9, failAt: 0, reports: false),
                                     settings: ChainSettings(chains: 3, warmup: 5, draws: 5), stop: stop,
                                     progress: nil) { _ in Collecting() }
        #expect(outcomes.allSatisfy { $0.status == .notStarted && $0.draws == 0 && $0.sweeps == 0 })
    }

    @Test func theSameSeedGivesTheSameDrawsWhateverRunsAtOnce() throws {
        let kernel = PolyaGammaGibbs(design: try GibbsTests.design())
        let one = try Chains.run(kernel, settings: ChainSettings(chains: 3, warmup: 5, draws: 15, seed: 4,
                                                                 parallelChains: 1))
        let three = try Chains.run(kernel, settings: ChainSettings(chains: 3, warmup: 5, draws: 15, seed: 4,
                                                                   parallelChains: 3))
        #expect(one.values == three.values)
    }

    // MARK: Files

    @Test func aChainFileIsCutAfterWholeDraws() throws {
        let path = try RunTests.folder("cut") + "/chain-1.csv"
        let writer = try CmdStanCSVWriter(path: path, comments: ["model = y ~ 1"], names: ["a", "b"])
        for k in 0..<100 { try writer.write([Double(k), -Double(k) / 3]) }
        try writer.comment(["", " Elapsed Time: 1 seconds (Total)"])
        try writer.close()
        #expect(writer.written == 100)
        try CmdStanCSVWriter.cut(path: path, toDraws: 70)
        let csv = try CmdStanCSV.read(path: path)
        #expect(csv.rows.count == 70 && csv.rows.last == [69, -23])
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("\n"))
        // Cutting beyond the draws changes nothing.
        try CmdStanCSVWriter.cut(path: path, toDraws: 500)
        #expect(try CmdStanCSV.read(path: path).rows.count == 70)
    }

    @Test func theStoreMarksDrawsNotMadeAsNaN() throws {
        let path = try RunTests.folder("store") + "/draws.npy"
        let store = try DrawStore(path: path, chains: 2, draws: 5, parameters: 3)
        for draw in 0..<2 { try store.write(chain: 0, draw: draw, [1, 2, 3]) }
        try store.fillUnwritten(chain: 0, after: 2)
        try store.fillUnwritten(chain: 1, after: 0)
        let read = try StoredDraws(path: path)
        let values = try read.matrix(of: [0, 1, 2], first: 5)
        // Parameter-major, chain by chain: parameter 0 of chain 0 is 1, 1, NaN, NaN, NaN.
        #expect(values[0] == 1 && values[1] == 1 && values[2...4].allSatisfy { $0.isNaN })
        #expect(values[5...9].allSatisfy { $0.isNaN })
        #expect(read.selecting(chains: [1]).chains == 1)
        #expect(DrawStore.size(chains: 4, draws: Int.max / 2, parameters: 10) == nil)
    }

    // MARK: Checks before anything is written

    @Test func prepareRefusesBadSettingsNamingThem() throws {
        let folder = try RunTests.folder("refusals")
        func setting(_ change: (inout RunRequest) -> Void) throws -> String? {
            var request = try RunTests.request(folder + "/run")
            change(&request)
            do { _ = try Run.prepare(request); return nil } catch let error as InputError { return error.setting }
        }
        #expect(try setting { $0.settings.chains = 0 } == "chains")
        #expect(try setting { $0.settings.warmup = -1 } == "warmup")
        #expect(try setting { $0.settings.draws = 0 } == "draws")
        #expect(try setting { $0.settings.thin = 0 } == "thin")
        #expect(try setting { $0.settings.parallelChains = 0 } == "parallelChains")
        #expect(try setting { $0.settings.draws = Int.max / 2 } == "draws")
        #expect(try setting { $0.settings.draws = 2_000_000_000 } == "draws")
        #expect(try setting { $0.sampler = .gibbs; $0.link = .cloglog } == "sampler")
        #expect(try setting { $0.output = "" } == "output")
        #expect(try setting { $0.output = folder + "/.." } == "output")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "nothing written")
        // The space message counts without overflow.
        var huge = try RunTests.request(folder + "/run")
        huge.settings.draws = 2_000_000_000
        let error = #expect(throws: InputError.self) { try Run.prepare(huge) }
        #expect(error?.message.hasPrefix("2 chains × 2000000000 draws of 5 parameters need ") == true)
    }

    @Test func oneLetterAndSlashedNamesAreOutputs() throws {
        // Foundation's deletingLastPathComponent traps on "r" (Swift 6.3.1, Linux).
        let bare = try Run.checkOutput("r", replacing: false)
        #expect(bare.0 == "r" && bare.1 == .absent)
        #expect(try Run.checkOutput("r/", replacing: false).0 == "r")
        #expect(try Run.checkOutput("a//b/", replacing: false).0 == "a/b")
        #expect(Run.existingAncestor(of: "no/such/dir") == ".")
        #expect(Run.existingAncestor(of: "/no-such-dir/x") == "/")
    }

    @Test func runsTakeTheirPlaceByTheRules() throws {
        let folder = try RunTests.folder("places")
        let output = folder + "/run"
        _ = try Run.prepare(RunTests.request(output, seed: 1)).execute(stop: StopRequest())
        let first = try Data(contentsOf: URL(fileURLWithPath: output + "/draws.npy"))
        // Occupied: refused unless replacing.
        #expect(throws: InputError.self) { try Run.prepare(RunTests.request(output, seed: 2)) }
        // Interrupted before it began, replacing: the earlier run stays, the new one beside it.
        let stop = StopRequest()
        stop.request()
        let interrupted = try Run.prepare(RunTests.request(output, seed: 2, replacing: true)).execute(stop: stop)
        #expect(interrupted.status == .interrupted && !interrupted.isInPlace)
        #expect(interrupted.directory.hasPrefix(output + ".partial-"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/draws.npy")) == first)
        try FileManager.default.removeItem(atPath: interrupted.directory)
        // A numerical failure: beside the earlier run, marked failed.
        var bad = try RunTests.request(output, seed: 2, replacing: true)
        bad.priors = try Priors(specifications: ["Intercept ~ normal(0, 1e-200)"], terms: ["g"], fixed: ["(Intercept)"])
        let failed = try Run.prepare(bad).execute(stop: StopRequest())
        #expect(failed.status == .failed && !failed.isInPlace)
        #expect(failed.failure?.error is NumericalFailure)
        #expect(try RunManifest.read(failed.directory + "/fit.json").status == .failed)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/draws.npy")) == first)
        try FileManager.default.removeItem(atPath: failed.directory)
        // Complete, replacing: swapped in, the earlier one gone.
        let replaced = try Run.prepare(RunTests.request(output, seed: 2, replacing: true)).execute(stop: StopRequest())
        #expect(replaced.status == .complete && replaced.isInPlace && replaced.replacedPrevious)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/draws.npy")) != first)
        #expect(try RunManifest.read(output + "/fit.json").seed == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["run"])
    }
}
