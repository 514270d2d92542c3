import Diagnostics
import Foundation
import Testing
@testable import BayesGLMM

/// Sampling until the ESS asked for (`UntilESS`, `Chains.stream`'s blocks,
/// `Run`'s until-ESS runs) and the verdict every fit ends with (`Verdict`).
@Suite struct UntilESSTests {
    /// The one-factor model of `GibbsTests` (5 parameters: the intercept,
    /// sd(g) and three effects), 2 chains × 10 warm-up sweeps, starting from
    /// the prior, sampled until `rule`.
    static func request(_ output: String, rule: UntilESS?, draws: Int = 20, seed: UInt64 = 3,
                        parallelChains: Int? = nil) throws -> RunRequest {
        var request = try RunTests.request(output, seed: seed, draws: draws)
        request.untilESS = rule
        request.settings.parallelChains = parallelChains
        return request
    }

    /// The lines of a chain file that are draws (not comments, not the header).
    static func drawLines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
            .dropFirst().map { $0 }
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// A fixed run of `draws` draws per chain with `request`'s seed and
    /// settings: what an until-ESS run that kept `draws` must hold.
    static func fixedRun(like request: RunRequest, draws: Int, folder: String) throws -> String {
        var fixed = request
        fixed.untilESS = nil
        fixed.settings.draws = draws
        fixed.settings.parallelChains = 2
        fixed.output = folder + "/fixed"
        let result = try Run.prepare(fixed).execute(stop: StopRequest())
        #expect(result.status == .complete)
        return fixed.output
    }

    // MARK: The rule

    @Test func blocksGrowByTheDrawsTheESSAsksForWithinBounds() {
        func next(_ draws: Int, _ ess: Double?, rhat: Double = 1.0, limit: Int = 100_000) -> Int {
            let check = ConvergenceCheck(draws: draws, chains: 4, minBulkESS: ess, minBulkESSVariable: "a",
                                         maxRhat: rhat, maxRhatVariable: "a")
            return UntilESS.nextDraws(after: check, target: 400, limit: limit)
        }
        #expect(next(1000, 390) == 1129)          // 1.1 × 1000 × 400 / 390 = 1128.2
        #expect(next(1000, 300) == 1467)          // 1.1 × 1000 × 4/3 = 1466.7
        #expect(next(1000, 200) == 2000)          // wants 2200: at most double
        #expect(next(1000, 10) == 2000)
        #expect(next(1000, 399.9) == 1101)        // wants 1100.3: at least a tenth more
        #expect(next(1000, 500, rhat: 1.05) == 1500)   // ESS enough, R-hat not: half again
        #expect(next(1000, nil) == 2000)          // no ESS: double
        #expect(next(20, 5) == 70)                // at least 50 more, even beyond double
        #expect(next(1000, 200, limit: 1700) == 1700)
        #expect(UntilESS.defaultMaxDraws(firstBlock: 1000) == 10_000)
        #expect(UntilESS.defaultMaxDraws(firstBlock: 200) == 10_000)
        #expect(UntilESS.defaultMaxDraws(firstBlock: 5000) == 50_000)
        #expect(UntilESS.defaultMaxDraws(firstBlock: Int.max / 2) == Int.max)
        #expect(UntilESS.monitored(["(Intercept)", "x", "sd(g)", "r(g)[a]", "sd(h)", "r(h)[b]"],
                                   fixed: ["(Intercept)", "x"]) == [0, 1, 2, 4])
    }

    @Test func aCheckNamesTheWeakestAndCountsWhatIsNotAvailableAsWorst() {
        func row(_ name: String, _ ess: Double?, _ rhat: Double?) -> SummaryRow {
            var row = SummaryRow(variable: name)
            row.essBulk = ess
            row.rhat = rhat
            return row
        }
        let summary = Summary(columns: SummaryColumn.defaults,
                              rows: [row("a", 800, 1.002), row("b", 450, 1.009), row("c", 900, 1.004)])
        let check = ConvergenceCheck(summary: summary, draws: 1000, chains: 4)
        #expect(check.minBulkESS == 450 && check.minBulkESSVariable == "b")
        #expect(check.maxRhat == 1.009 && check.maxRhatVariable == "b")
        #expect(UntilESS(target: 400).isMet(by: check) && !UntilESS(target: 451).isMet(by: check))
        let missing = ConvergenceCheck(summary: Summary(columns: SummaryColumn.defaults,
                                                        rows: [row("a", 800, 1.0), row("b", nil, nil)]),
                                       draws: 3, chains: 1)
        #expect(missing.minBulkESS == nil && missing.minBulkESSVariable == "b" && missing.maxRhatVariable == "b")
        #expect(!UntilESS(target: 1).isMet(by: missing))
    }

    // MARK: Blocks in the chain driver

    /// A sink that keeps the draws and asks `stop` to stand once it holds `stopAt`.
    struct Stopping: ChainSink {
        var stopAt = Int.max
        var stop: StopRequest?
        var draws: [Double] = []
        var finished: RunManifest.Status?
        var written: Int { draws.count }
        mutating func write(_ values: [Double]) {
            draws.append(values[0])
            if draws.count == stopAt { stop?.request() }
        }
        mutating func finish(_ outcome: Chains.Outcome) { finished = outcome.status }
    }

    @Test func blocksCarryEachChainOnAndAStopWithinABlockKeepsItsDraws() {
        // The kernel's one parameter counts sweeps: a chain's draws are
        // 11, 12, … after 10 warm-up sweeps, across blocks without a gap.
        let kernel = RunTests.Failing(failingChain: 99, failAt: 0, reports: false)
        let settings = ChainSettings(chains: 2, warmup: 10, draws: 5, parallelChains: 1)
        let sinks = Protected<[Stopping]>([Stopping(), Stopping()])
        var asked: [Int] = []
        let outcomes = Chains.stream(kernel, settings: settings, stop: StopRequest(), progress: nil,
                                     extend: { draws in asked.append(draws); return draws < 20 ? draws * 2 : draws }
        ) { chain in
            SinkBox(chain: chain, sinks: sinks)
        }
        #expect(asked == [5, 10, 20])
        #expect(outcomes.map(\.status) == [.complete, .complete] && outcomes.map(\.draws) == [20, 20])
        #expect(outcomes.map(\.sweeps) == [30, 30])
        for sink in sinks.withLock({ $0 }) {
            #expect(sink.draws == (11...30).map(Double.init) && sink.finished == .complete)
        }

        // A stop within the second block (chain 1 at its 8th draw, chains one
        // at a time): chain 1 keeps its 8 draws, chain 2 the 5 of its first block.
        let stop = StopRequest()
        let stopping = Protected<[Stopping]>([Stopping(stopAt: 8, stop: stop), Stopping()])
        var calls = 0
        let stopped = Chains.stream(kernel, settings: settings, stop: stop, progress: nil,
                                    extend: { draws in calls += 1; return 100 }) { chain in
            SinkBox(chain: chain, sinks: stopping)
        }
        #expect(calls == 1)
        #expect(stopped.map(\.status) == [.interrupted, .interrupted] && stopped.map(\.draws) == [8, 5])
        let kept: [[Double]] = stopping.withLock { $0.map(\.draws) }
        let expected: [[Double]] = [(11...18).map { Double($0) }, (11...15).map { Double($0) }]
        #expect(kept == expected)
    }

    /// Hands a chain's draws to the shared `Stopping` sinks (which the test reads).
    struct SinkBox: ChainSink {
        let chain: Int
        let sinks: Protected<[Stopping]>
        var written: Int { sinks.withLock { $0[chain].written } }
        mutating func write(_ values: [Double]) { sinks.withLock { $0[chain].write(values) } }
        mutating func finish(_ outcome: Chains.Outcome) { sinks.withLock { $0[chain].finish(outcome) } }
    }

    @Test func aStopRequestFollowsAnotherAndHasADeadline() {
        let user = StopRequest()
        let chains = StopRequest(following: user)
        #expect(!chains.isRequested)
        chains.request(after: 3600)
        #expect(!chains.isRequested)
        user.request()
        #expect(chains.isRequested && !StopRequest(following: StopRequest()).isRequested)
        let late = StopRequest()
        late.request(after: 0)
        #expect(late.isRequested)
        let never = StopRequest()
        never.request(after: .infinity)
        #expect(!never.isRequested)
    }

    // MARK: Runs

    @Test func anEasyModelReachesTheTargetWithTheDrawsOfAFixedRun() throws {
        let folder = try RunTests.folder("until-reached")
        let request = try UntilESSTests.request(folder + "/run", rule: UntilESS(target: 100), parallelChains: 1)
        let result = try Run.prepare(request).execute(stop: StopRequest())
        #expect(result.status == .complete && result.isInPlace)
        let manifest = try RunManifest.read(folder + "/run/fit.json")
        #expect(manifest == result.manifest)
        #expect(manifest.untilEss == 100 && manifest.maxDraws == 10_000 && manifest.maxTime == nil)
        #expect(manifest.stoppedBecause == .essReached)
        let blocks = try #require(manifest.blocks)
        let achieved = try #require(manifest.achieved)
        #expect(blocks.count >= 2 && blocks.first?.draws == 20 && blocks.last == achieved)
        let (ess, rhat) = (try #require(achieved.minBulkESS), try #require(achieved.maxRhat))
        #expect(ess >= 100 && rhat <= 1.01)
        // Each block is the one the rule asked for after the check before it.
        for (check, next) in zip(blocks, blocks.dropFirst()) {
            #expect(!UntilESS(target: 100).isMet(by: check))
            #expect(next.draws == UntilESS.nextDraws(after: check, target: 100, limit: 10_000))
        }
        // The run holds exactly the draws it made: store, chain files, record.
        let made = achieved.draws
        #expect(manifest.draws == made && manifest.store.shape == [2, made, 5])
        #expect(manifest.outcomes.map(\.draws) == [made, made] && manifest.outcomes.map(\.fileDraws) == [made, made])
        for chain in 1...2 {
            let path = folder + "/run/chain-\(chain).csv"
            let csv = try CmdStanCSV.read(path: path)
            #expect(csv.rows.count == made)
            #expect(csv.comments.contains { $0.trimmingCharacters(in: .whitespaces) == "num_samples = \(made)" })
            #expect(csv.comments.contains { $0.contains("Elapsed Time") })
        }
        // What the monitor saw is what readers compute from the files.
        let summary = try #require(result.summary)
        #expect(ConvergenceCheck(summary: summary, draws: made, chains: 2).minBulkESS == achieved.minBulkESS)
        // Same seed, same draws: those of a fixed run of that length, one chain at a time or not.
        let fixed = try UntilESSTests.fixedRun(like: request, draws: made, folder: folder)
        #expect(try UntilESSTests.bytes(folder + "/run/draws.npy") == UntilESSTests.bytes(fixed + "/draws.npy"))
        #expect(try UntilESSTests.drawLines(folder + "/run/chain-2.csv")
                == UntilESSTests.drawLines(fixed + "/chain-2.csv"))
        #expect(Verdict(result).converged == (achieved.minBulkESS! >= 400))
    }

    @Test func anUnreachableTargetStopsAtTheDrawLimit() throws {
        let folder = try RunTests.folder("until-limit")
        let request = try UntilESSTests.request(folder + "/run", rule: UntilESS(target: 1_000_000, maxDraws: 90))
        let result = try Run.prepare(request).execute(stop: StopRequest())
        #expect(result.status == .complete)
        let manifest = result.manifest
        #expect(manifest.stoppedBecause == .drawLimit && manifest.maxDraws == 90)
        #expect(manifest.blocks?.map(\.draws) == [20, 70, 90])
        #expect(manifest.achieved?.draws == 90 && manifest.draws == 90 && manifest.store.shape == [2, 90, 5])
        #expect(try UntilESSTests.drawLines(folder + "/run/chain-1.csv").count == 90)
        let verdict = Verdict(result)
        #expect(!verdict.converged)
        #expect(verdict.description.contains("the draw limit came first: try the setting 'maxDraws' = "))
    }

    @Test func theTimeLimitKeepsTheDrawsEveryChainMade() throws {
        let folder = try RunTests.folder("until-time")
        let request = try UntilESSTests.request(folder + "/run",
                                                rule: UntilESS(target: 1_000_000, maxSeconds: 0.1, maxDraws: 100_000))
        let result = try Run.prepare(request).execute(stop: StopRequest())
        #expect(result.status == .complete && result.seconds >= 0.1)
        let manifest = result.manifest
        #expect(manifest.stoppedBecause == .timeLimit && manifest.maxTime == 0.1)
        // Whether it stopped at a block's end or within a block, every chain
        // keeps the same draws, as complete chains, and nothing more.
        let made = try #require(manifest.draws)
        #expect(made >= 20 && made < 100_000)
        #expect(manifest.outcomes.map(\.status) == [.complete, .complete])
        #expect(manifest.outcomes.map(\.draws) == [made, made] && manifest.store.shape == [2, made, 5])
        #expect(manifest.achieved?.draws == made)
        for chain in 1...2 {
            let csv = try CmdStanCSV.read(path: folder + "/run/chain-\(chain).csv")
            #expect(csv.rows.count == made && csv.comments.contains { $0.contains("Elapsed Time") })
        }
        // Those draws are what a rerun with the same seed makes first.
        let fixed = try UntilESSTests.fixedRun(like: request, draws: made, folder: folder)
        #expect(try UntilESSTests.bytes(folder + "/run/draws.npy") == UntilESSTests.bytes(fixed + "/draws.npy"))
        #expect(try UntilESSTests.drawLines(folder + "/run/chain-1.csv")
                == UntilESSTests.drawLines(fixed + "/chain-1.csv"))
    }

    @Test func anInterruptWithinABlockKeepsEveryCompletedDraw() throws {
        let folder = try RunTests.folder("until-interrupt")
        // Chains one at a time; the first block is 2000 draws, the second 2000 more.
        let request = try UntilESSTests.request(folder + "/run", rule: UntilESS(target: 1_000_000, maxDraws: 4000),
                                                draws: 2000, parallelChains: 1)
        let prepared = try Run.prepare(request)
        let stop = StopRequest()
        let progress = SamplingProgress(chains: 2, sweepsPerChain: prepared.sweepsPerChain)
        let firstBlock = progress.total
        // Ctrl-C once chain 1 is 20 sweeps into the second block.
        let ended = StopRequest()
        let watcher = Thread {
            while !(progress.total > firstBlock && progress.completed >= firstBlock + 20) && !ended.isRequested {
                usleep(100)
            }
            stop.request()
        }
        watcher.start()
        let result = try prepared.execute(stop: stop, progress: progress)
        ended.request()
        #expect(result.status == .interrupted)
        let manifest = try RunManifest.read(result.directory + "/fit.json")
        #expect(manifest.status == .interrupted && manifest.stoppedBecause == nil && manifest.achieved == nil)
        #expect(manifest.blocks?.map(\.draws) == [2000])
        let made = manifest.outcomes.map(\.draws)
        #expect(made.allSatisfy { $0 >= 2000 } && made.max()! > 2000 && made.max()! < 4000, "\(made)")
        // The store: cut to the most draws a chain made, each chain's draws
        // kept and the rest NaN; they are a fixed run's first draws.
        let longest = made.max()!
        #expect(manifest.store.shape == [2, longest, 5] && manifest.draws == longest)
        let store = try StoredDraws(path: result.directory + "/draws.npy")
        let values = try store.matrix(of: [0, 1], first: longest)
        let fixed = try StoredDraws(path: UntilESSTests.fixedRun(like: request, draws: longest, folder: folder)
                                    + "/draws.npy").matrix(of: [0, 1], first: longest)
        for parameter in 0..<2 {
            for chain in 0..<2 {
                let start = parameter * 2 * longest + chain * longest
                let slice = values[start..<(start + longest)]
                #expect(Array(slice.prefix(made[chain])) == Array(fixed[start..<(start + made[chain])]))
                #expect(slice.dropFirst(made[chain]).allSatisfy { $0.isNaN })
            }
        }
        // The chain files hold the draws readers use.
        let usable = manifest.usableDraws
        for chain in usable.chains {
            #expect(try UntilESSTests.drawLines(result.directory + "/chain-\(chain + 1).csv").count == usable.draws)
        }
        #expect(try RunDirectory.read(result.directory).drawsPerChain == usable.draws)

        // Interrupted before any draw: a store of no draws, which readers refuse as they do any such run.
        let early = StopRequest()
        early.request()
        let none = try Run.prepare(UntilESSTests.request(folder + "/none", rule: UntilESS(target: 100)))
            .execute(stop: early)
        #expect(none.status == .interrupted && none.summary == nil)
        #expect(none.manifest.store.shape == [2, 0, 5] && none.manifest.blocks == [])
        #expect(try StoredDraws(path: none.directory + "/draws.npy").draws == 0)
        #expect(throws: InputError.self) { try RunDirectory.read(none.directory) }
        #expect(Verdict(none).description == "not converged — there are no draws to judge; fit again and let the "
                + "chains run.")
    }

    @Test func prepareRefusesABadRequestNamingTheSetting() throws {
        let folder = try RunTests.folder("until-refusals")
        func setting(_ rule: UntilESS) throws -> String? {
            do { _ = try Run.prepare(UntilESSTests.request(folder + "/run", rule: rule)); return nil }
            catch let error as InputError { return error.setting }
        }
        #expect(try setting(UntilESS(target: 0)) == "untilEss")
        #expect(try setting(UntilESS(target: -5)) == "untilEss")
        #expect(try setting(UntilESS(target: 100, maxSeconds: 0)) == "maxTime")
        #expect(try setting(UntilESS(target: 100, maxSeconds: -1)) == "maxTime")
        #expect(try setting(UntilESS(target: 100, maxSeconds: .nan)) == "maxTime")
        #expect(try setting(UntilESS(target: 100, maxSeconds: .infinity)) == "maxTime")
        #expect(try setting(UntilESS(target: 100, maxDraws: 19)) == "maxDraws")
        #expect(try setting(UntilESS(target: 100, maxDraws: Int.max / 2)) == "maxDraws")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "nothing written")
    }

    // MARK: The record

    @Test func theManifestKeepsTheRequestAndOutcomeAndOlderRecordsStillRead() throws {
        let folder = try RunTests.folder("until-manifest")
        var manifest = try Run.prepare(UntilESSTests.request(folder + "/run", rule: UntilESS(target: 5)))
            .execute(stop: StopRequest()).manifest
        manifest.maxTime = 90
        manifest.stoppedBecause = .timeLimit
        manifest.achieved = ConvergenceCheck(draws: 70, chains: 2, minBulkESS: nil, minBulkESSVariable: "sd(g)",
                                             maxRhat: 1.02, maxRhatVariable: "(Intercept)", seconds: 1.5)
        let data = try manifest.encoded()
        #expect(try RunManifest.decode(data, path: "fit.json") == manifest)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["until_ess"] as? Int == 5 && json["max_time"] as? Double == 90)
        #expect(json["max_draws"] as? Int == 10_000 && json["stopped_because"] as? String == "time_limit")
        let achieved = try #require(json["achieved"] as? [String: Any])
        #expect(achieved["min_bulk_ess_variable"] as? String == "sd(g)" && achieved["min_bulk_ess"] == nil)
        #expect(achieved["max_rhat"] as? Double == 1.02 && achieved["draws"] as? Int == 70)
        #expect((json["blocks"] as? [[String: Any]])?.isEmpty == false)

        // A layout-2 record from before --until-ess: read, the new fields absent.
        let older = """
            {"schema_version": 2, "program": "bayesglmm 0.1.0", "status": "complete", "formula": "y ~ 1 + (1 | g)",
             "data": "d.csv", "rows_used": 32, "fixed": ["(Intercept)"], "random": [{"term": "g", "levels": ["a"]}],
             "chains": 1, "warmup": 10, "draws": 10, "thin": 1, "seed": 1,
             "store": {"file": "draws.npy", "dtype": "<f8", "order": "C", "shape": [1, 10, 3],
                       "names": ["(Intercept)", "sd(g)", "r(g)[a]"]},
             "outcomes": [{"chain": 1, "status": "complete", "draws": 10, "sweeps": 20, "file": "chain-1.csv"}]}
            """
        let read = try RunManifest.decode(Data(older.utf8), path: "fit.json")
        #expect(read.layout == 2 && read.untilEss == nil && read.maxTime == nil && read.maxDraws == nil)
        #expect(read.stoppedBecause == nil && read.achieved == nil && read.blocks == nil)
        #expect(read.usableDraws.chains == [0] && read.usableDraws.draws == 10)
        let unknown = older.replacingOccurrences(of: "\"seed\": 1,", with: "\"seed\": 1, \"stopped_because\": \"bored\",")
        #expect(throws: InputError.self) { try RunManifest.decode(Data(unknown.utf8), path: "fit.json") }
    }

    // MARK: The verdict

    /// The verdict's text with each setting as the command line names it.
    static func line(_ verdict: Verdict) -> String {
        verdict.text.rendered { setting in
            var flag = "--"
            for character in setting.name {
                if character.isUppercase { flag += "-" + character.lowercased() } else { flag.append(character) }
            }
            return flag + (setting.value.map { " " + $0 } ?? "")
        }
    }

    static func summary(_ rows: [(String, Double?, Double?)]) -> Summary {
        Summary(columns: SummaryColumn.defaults, rows: rows.map { name, ess, rhat in
            var row = SummaryRow(variable: name)
            row.essBulk = ess
            row.rhat = rhat
            return row
        })
    }

    @Test func theVerdictSaysConvergedOrNotTheWeakestAndWhatToTry() {
        let context = Verdict.Context(draws: 1000, warmup: 1000)
        let good = Verdict(summary: UntilESSTests.summary([("(Intercept)", 1500, 1.0012), ("sd(client)", 900, 1.0031),
                                                           ("sd(stylist)", 812.4, 1.002)]),
                           chains: 4, context: context)
        #expect(good.converged && good.weakest == "sd(stylist)")
        #expect(UntilESSTests.line(good) == "converged — min bulk-ESS 812 (sd(stylist)), max R-hat 1.003.")

        let slow = UntilESSTests.summary([("(Intercept)", 93, 1.02), ("sd(client)", 101, 1.03),
                                          ("sd(client:stylist)", 67, 1.04)])
        let notYet = Verdict(summary: slow, chains: 4, context: context)
        #expect(!notYet.converged && notYet.weakest == "sd(client:stylist)")
        #expect(UntilESSTests.line(notYet) == "not converged — sd(client:stylist) has bulk-ESS 67 and R-hat 1.04; "
                + "try --until-ess 400 (or --draws 6000).")
        // After the augmented updates, a slow SD points to the exact moves too; not after the exact ones.
        let augmented = Verdict(summary: slow, chains: 4, context: .init(draws: 1000, warmup: 1000, updates: .augmented))
        #expect(UntilESSTests.line(augmented) == "not converged — sd(client:stylist) has bulk-ESS 67 and R-hat 1.04; "
                + "try --until-ess 400 (or --draws 6000). The exact moves may mix better for it: try --updates exact.")
        let exact = Verdict(summary: slow, chains: 4, context: .init(draws: 1000, warmup: 1000, updates: .exact))
        #expect(UntilESSTests.line(exact) == UntilESSTests.line(notYet))
        // With the fit's time, what the longer fit would take: 20 s for 2000
        // sweeps makes 7000 sweeps 70 s; 600 s makes them 35 minutes.
        let timed = Verdict(summary: slow, chains: 4, context: .init(draws: 1000, warmup: 1000, seconds: 20))
        #expect(UntilESSTests.line(timed).hasSuffix("try --until-ess 400 (or --draws 6000: about 70 s at this fit's "
                                                     + "speed)."))
        let slower = Verdict(summary: slow, chains: 4, context: .init(draws: 1000, warmup: 1000, seconds: 600))
        #expect(UntilESSTests.line(slower).hasSuffix("(or --draws 6000: about 35.0 min at this fit's speed)."))
        #expect(Verdict.duration(0.2) == "1 s" && Verdict.duration(7200) == "2.0 h")
        // After --until-ess, the limit that came first.
        let drawLimit = Verdict(summary: slow, chains: 4, context: .init(
            draws: 1000, warmup: 1000, untilESS: UntilESS(target: 400, maxDraws: 1000), stoppedBecause: .drawLimit))
        #expect(UntilESSTests.line(drawLimit).hasSuffix("; the draw limit came first: try --max-draws 6000."))
        let timeLimit = Verdict(summary: slow, chains: 4, context: .init(
            draws: 1000, warmup: 1000, untilESS: UntilESS(target: 100, maxSeconds: 60), stoppedBecause: .timeLimit))
        #expect(UntilESSTests.line(timeLimit).hasSuffix(
            "; the time limit came first: try a longer --max-time with --until-ess 400."))

        // Enough ESS, but the chains disagree: the highest R-hat, and a longer warm-up.
        let apart = Verdict(summary: UntilESSTests.summary([("(Intercept)", 512, 1.024), ("sd(g)", 700, 1.004)]),
                            chains: 4, context: context)
        #expect(!apart.converged && apart.weakest == "(Intercept)")
        #expect(UntilESSTests.line(apart) == "not converged — (Intercept) has R-hat 1.024 (bulk-ESS 512); try "
                + "--warmup 2000 (or --until-ess 400, which also waits for R-hat ≤ 1.01).")
        // Too few draws for any diagnostic.
        let few = Verdict(summary: UntilESSTests.summary([("(Intercept)", nil, nil)]), chains: 1,
                          context: .init(draws: 1, warmup: 0))
        #expect(UntilESSTests.line(few) == "not converged — (Intercept) has no bulk-ESS (too few draws) and no R-hat "
                + "(too few draws); try --until-ess 400 (or --draws 4).")
        // A failed chain: not converged, whatever the others did.
        let failed = Verdict(summary: nil, failedChains: [2], chains: 4, context: context)
        #expect(!failed.converged)
        #expect(UntilESSTests.line(failed) == "not converged — chain 2 failed; try what the error says for chain 2, "
                + "then fit again.")
        let failedWithGoodDraws = Verdict(summary: UntilESSTests.summary([("(Intercept)", 1500, 1.001)]),
                                          failedChains: [1, 3], chains: 4, context: context)
        #expect(!failedWithGoodDraws.converged && UntilESSTests.line(failedWithGoodDraws).hasPrefix(
            "not converged — chains 1, 3 failed;"))
        #expect(Verdict.suggestedDraws(draws: 1000, ess: 101) == 4000)
        #expect(Verdict.suggestedDraws(draws: 250, ess: 399) == 260)
        #expect(Verdict.rhat(1.0) == "1.00" && Verdict.rhat(1.04) == "1.04" && Verdict.rhat(1.0031) == "1.003")
    }
    // MARK: The default draw limit and the free space

    @Test func theDefaultDrawLimitShrinksToWhatHalfTheFreeSpaceHolds() throws {
        let request = try UntilESSTests.request("/nonexistent/run", rule: UntilESS(target: 400), draws: 20)
        let wanted = UntilESS.defaultMaxDraws(firstBlock: 20)
        let need = try #require(Run.spaceNeeded(request, draws: wanted))
        var notes: [String] = []
        // Room enough for the default: the request as it was.
        #expect(Run.limited(request, toSpace: (2 * need, "/x"), notes: &notes).untilESS?.maxDraws == nil)
        #expect(notes.isEmpty)
        // Half the free space holds 1,000 draws per chain (twice the store and the CSVs).
        let thousand = try #require(Run.spaceNeeded(request, draws: 1000))
        let limited = Run.limited(request, toSpace: (2 * thousand, "/x"), notes: &notes)
        let limit = try #require(limited.untilESS?.maxDraws)
        #expect((999...1000).contains(limit))
        #expect(limited.storedDraws == limit)
        #expect(try #require(Run.spaceNeeded(limited, draws: limit)) <= thousand)
        #expect(notes.count == 1 && notes[0].contains("the draw limit is \(limit) draws per chain")
                && notes[0].contains("\(wanted)"))
        // Not even the first block: left as it is, for the space check to refuse.
        notes = []
        let block = try #require(Run.spaceNeeded(request, draws: 10))
        #expect(Run.limited(request, toSpace: (2 * block, "/x"), notes: &notes).untilESS?.maxDraws == nil)
        // A limit given is the user's.
        var given = request
        given.untilESS?.maxDraws = 5000
        #expect(Run.limited(given, toSpace: (2 * thousand, "/x"), notes: &notes).untilESS?.maxDraws == 5000)
        // And a fixed run has none.
        var fixed = request
        fixed.untilESS = nil
        #expect(Run.limited(fixed, toSpace: (2 * thousand, "/x"), notes: &notes).untilESS == nil)
        #expect(notes.isEmpty)
    }
}
