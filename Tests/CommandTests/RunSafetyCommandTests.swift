import Foundation
import Testing

/// Run directories that never lose a fit (issue 16), end to end: refused
/// commands leave a finished run byte for byte; `--force` replaces a run
/// only with a complete one; SIGINT and SIGTERM keep every completed draw,
/// with more chains than threads, and every reader reads the result; a
/// write that fails mid-run (a file-size limit, a full disk) leaves the
/// previous run whole and the new one marked failed; exit codes 0, 1, 2, 130.
@Suite(.serialized) struct RunSafetyCommandTests {
    static let formula = "y ~ (1|client) + (1|stylist) + (1|client:stylist)"

    /// A fresh directory for one test.
    static func folder(_ name: String) throws -> String {
        let path = CommandTests.temporary("run-safety-\(name)")
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Simulated data: `clients` × `stylists` (columns client, stylist, y).
    static func data(in folder: String, clients: Int = 40, stylists: Int = 6, seed: Int = 8) throws -> String {
        let path = folder + "/data.csv"
        let result = try CommandTests.run(["simulate", "--clients", "\(clients)", "--stylists", "\(stylists)",
                                           "--seed", "\(seed)", "--out", path])
        #expect(result.status == 0, "\(result.error)")
        return path
    }

    static func fit(_ data: String, _ out: String, _ extra: [String] = []) throws -> CommandTests.Result {
        try CommandTests.run(["fit", data, "--formula", formula, "--out", out, "--chains", "2", "--warmup", "30",
                              "--draws", "40", "--quiet"] + extra)
    }

    /// Every file of a directory, by name, with its bytes.
    static func snapshot(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return files
    }

    /// The entries of `folder` whose names start with `prefix`.
    static func entries(_ folder: String, _ prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(prefix) }.sorted()
    }

    static func manifest(_ directory: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: directory + "/fit.json"))) as? [String: Any])
    }

    /// The chain files' draw lines (not comments, not the header).
    static func drawLines(_ path: String) throws -> [Substring] {
        Array(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.dropFirst())
    }

    /// draws.npy as (shape, values).
    static func store(_ directory: String) throws -> (shape: [Int], values: [Double]) {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/draws.npy"))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        let shapeText = header[header.range(of: "'shape': (")!.upperBound...].prefix { $0 != ")" }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let values: [Double] = bytes[(10 + headerLength)...].withUnsafeBytes {
            Array($0.bindMemory(to: Double.self))
        }
        return (shape, values)
    }

    // MARK: Refusals

    @Test func refusedCommandsLeaveAFinishedRunByteForByte() throws {
        let folder = try RunSafetyCommandTests.folder("refusals")
        let data = try RunSafetyCommandTests.data(in: folder)
        let run = folder + "/run1"
        let first = try RunSafetyCommandTests.fit(data, run)
        #expect(first.status == 0, "\(first.error)")
        let before = try RunSafetyCommandTests.snapshot(run)
        #expect(Set(before.keys) == ["chain-1.csv", "chain-2.csv", "draws.npy", "fit.json", "summary.csv"])

        // A response with no variation: the EB start (asked for) cannot be fitted.
        let constant = folder + "/constant.csv"
        let rows = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n")
        try ([String(rows[0])] + rows.dropFirst().map { line -> String in
            var fields = line.split(separator: ",").map(String.init)
            fields[fields.count - 1] = "0"
            return fields.joined(separator: ",")
        }).joined(separator: "\n").write(toFile: constant, atomically: true, encoding: .utf8)

        let refusals: [(arguments: [String], data: String, status: Int32, mention: String)] = [
            ([], data, 2, "--force"),
            (["--draws", "2000000000"], data, 2, "--force"),
            (["--draws", "2000000000", "--force"], data, 2, "keep fewer draws"),
            (["--init", "eb", "--force"], constant, 0, "error: "),
            (["--warmup", "-5", "--force"], data, 2, "--warmup: the warm-up must be 0 or more sweeps, got -5"),
            (["--draws", "-1", "--force"], data, 2, "--draws"),
            (["--chains", "0", "--force"], data, 2, "--chains"),
            (["--parallel-chains", "0", "--force"], data, 2, "--parallel-chains"),
            (["--thin", "0", "--force"], data, 2, "--thin"),
            (["--prior", "sd(clint) ~ half_t(3, 0, 2.5)", "--force"], data, 2, "clint"),
            (["--sampler", "gibbs", "--link", "cloglog", "--force"], data, 2, "--sampler"),
            (["--save", "everything", "--force"], data, 2, "--save"),
            // A numerical failure: the run fails (exit 1) and stays beside run1.
            (["--prior", "Intercept ~ normal(0, 1e-200)", "--init", "prior", "--force"], data, 1,
             "not positive definite"),
        ]
        for refusal in refusals {
            let result = try RunSafetyCommandTests.fit(refusal.data, run, refusal.arguments)
            if refusal.status == 0 {
                #expect(result.status == 1 || result.status == 2, "\(refusal.arguments): \(result.error)")
            } else {
                #expect(result.status == refusal.status, "\(refusal.arguments): \(result.error)")
            }
            #expect(result.error.contains(refusal.mention), "\(refusal.arguments): \(result.error)")
            #expect(try RunSafetyCommandTests.snapshot(run) == before, "\(refusal.arguments) changed run1")
        }
        // Only the numerically failed run was written, beside run1, and it says so.
        let partial = try RunSafetyCommandTests.entries(folder, "run1.partial-")
        #expect(partial.count == 1, "\(partial)")
        if let failed = partial.first {
            let record = try RunSafetyCommandTests.manifest(folder + "/" + failed)
            #expect(record["status"] as? String == "failed")
            #expect((record["failure"] as? String)?.contains("chain 1 failed at warm-up sweep 1") == true)
        }

        // A non-empty directory that is not a run is never replaced, even with --force.
        let other = folder + "/notes"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "keep me".write(toFile: other + "/notes.txt", atomically: true, encoding: .utf8)
        let notRun = try RunSafetyCommandTests.fit(data, other, ["--force"])
        #expect(notRun.status == 2 && notRun.error.contains("holds no run"), "\(notRun.error)")
        #expect(try String(contentsOfFile: other + "/notes.txt", encoding: .utf8) == "keep me")
        // A file is not a run directory.
        let file = folder + "/file.txt"
        try "a file".write(toFile: file, atomically: true, encoding: .utf8)
        let onFile = try RunSafetyCommandTests.fit(data, file, ["--force"])
        #expect(onFile.status == 2 && onFile.error.contains("is a file"), "\(onFile.error)")
        // An empty directory is filled.
        let empty = folder + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(try RunSafetyCommandTests.fit(data, empty).status == 0)
        #expect(try RunSafetyCommandTests.manifest(empty)["status"] as? String == "complete")
    }

    @Test func forceReplacesARunOnlyWithACompleteOne() throws {
        let folder = try RunSafetyCommandTests.folder("force")
        let data = try RunSafetyCommandTests.data(in: folder)
        let run = folder + "/run1"
        #expect(try RunSafetyCommandTests.fit(data, run, ["--seed", "1"]).status == 0)
        let replaced = try RunSafetyCommandTests.fit(data, run, ["--seed", "2", "--force"])
        #expect(replaced.status == 0, "\(replaced.error)")
        #expect(replaced.error.contains("replacing the earlier run"))
        #expect(try RunSafetyCommandTests.manifest(run)["seed"] as? Int == 2)
        #expect(try RunSafetyCommandTests.entries(folder, "run1.").isEmpty, "nothing left beside run1")
        // The replacement is the same run as one written afresh.
        let fresh = folder + "/fresh"
        #expect(try RunSafetyCommandTests.fit(data, fresh, ["--seed", "2"]).status == 0)
        for file in ["draws.npy", "summary.csv"] {
            #expect(FileManager.default.contentsEqual(atPath: run + "/" + file, andPath: fresh + "/" + file), "\(file)")
        }
        for file in ["chain-1.csv", "chain-2.csv"] {     // the same draws; the timings differ
            #expect(try RunSafetyCommandTests.drawLines(run + "/" + file)
                    == RunSafetyCommandTests.drawLines(fresh + "/" + file), "\(file)")
        }
    }

    // MARK: Interrupts

    /// Starts a long fit of 4 chains, 2 at a time, waits until chain 1 of
    /// the run being written has a few draws, sends `signal`, and returns
    /// the exit status and standard error.
    static func interruptedFit(_ data: String, _ out: String, signal: Int32, extra: [String] = []) throws
        -> (status: Int32, error: String) {
        let folder = (out as NSString).deletingLastPathComponent, name = (out as NSString).lastPathComponent
        let process = Process()
        process.executableURL = CommandTests.executable
        process.arguments = ["fit", data, "--formula", formula, "--out", out, "--chains", "4", "--parallel-chains", "2",
                             "--warmup", "10", "--draws", "20000", "--quiet", "--init", "prior"] + extra
        let errorPipe = Pipe()
        process.standardError = errorPipe
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        waitForDraws(of: process, in: folder, name: name, count: 3)
        kill(process.processIdentifier, signal)
        let error = errorPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: error, as: UTF8.self))
    }

    /// Waits (up to a minute) until chain 1 of the run being written to
    /// `folder/name.partial-*` has more than `count` draws, or `process` ends.
    static func waitForDraws(of process: Process, in folder: String, name: String, count: Int) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            for partial in (try? entries(folder, name + ".partial-")) ?? [] {
                if let lines = try? drawLines(folder + "/" + partial + "/chain-1.csv"), lines.count > count { return }
            }
            usleep(20_000)
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func interruptKeepsEveryDrawAndEveryReaderReadsIt(signal: Int32) throws {
        let folder = try RunSafetyCommandTests.folder("interrupt-\(signal)")
        let data = try RunSafetyCommandTests.data(in: folder, clients: 100, stylists: 10, seed: 2)
        let out = folder + "/run"
        let result = try RunSafetyCommandTests.interruptedFit(data, out, signal: signal)
        #expect(result.status == 130, "\(result.error)")
        #expect(result.error.contains("The fit was interrupted"), "\(result.error)")
        #expect(try RunSafetyCommandTests.entries(folder, "run.partial-").isEmpty)

        // fit.json: how each chain ended; chains 3 and 4 never began and have no file.
        let record = try RunSafetyCommandTests.manifest(out)
        #expect(record["status"] as? String == "interrupted")
        let outcomes = try #require(record["outcomes"] as? [[String: Any]])
        #expect(outcomes.map { $0["status"] as? String } == ["interrupted", "interrupted", "not_started", "not_started"])
        #expect(outcomes[2]["file"] == nil && outcomes[3]["file"] == nil)
        #expect(!FileManager.default.fileExists(atPath: out + "/chain-3.csv"))
        #expect(!FileManager.default.fileExists(atPath: out + "/chain-4.csv"))
        let made = outcomes.map { $0["draws"] as? Int ?? -1 }
        #expect(made[0] > 3 && made[1] >= 0 && made[2] == 0 && made[3] == 0, "\(made)")
        // The draws readers use (RunManifest.usableDraws), worked out here for
        // two chains: both, cut to the shorter, unless that keeps less than
        // half the longer one's draws; then the longer alone.
        let longest = max(made[0], made[1]), shortest = min(made[0], made[1])
        let both = 4 * shortest >= longest
        let usedChains = both ? [1, 2] : [made[0] >= made[1] ? 1 : 2]
        let used = both ? shortest : longest
        // The chain files hold exactly those draws; a chain outside them has no file.
        for chain in 1...2 {
            if usedChains.contains(chain) {
                #expect(try RunSafetyCommandTests.drawLines(out + "/chain-\(chain).csv").count == used)
                #expect(outcomes[chain - 1]["file_draws"] as? Int == used)
            } else {
                #expect(!FileManager.default.fileExists(atPath: out + "/chain-\(chain).csv"))
            }
        }
        // draws.npy: every completed draw, NaN where no draw was made.
        let (shape, values) = try RunSafetyCommandTests.store(out)
        #expect(shape.count == 3 && shape[0] == 4 && shape[1] == 20000)
        let parameters = shape[2]
        for chain in 0..<4 {
            let slice = values[(chain * 20000 * parameters)..<((chain + 1) * 20000 * parameters)]
            let finite = slice.prefix(made[chain] * parameters)
            #expect(finite.allSatisfy { $0.isFinite }, "chain \(chain + 1)")
            #expect(slice.dropFirst(made[chain] * parameters).allSatisfy { $0.isNaN }, "chain \(chain + 1)")
        }
        // Every reader reads it and says which draws it used.
        let named = both ? "chains 1 and 2" : "chain \(usedChains[0])"
        let using = "using \(named), the first \(used) draws of each"
        let summary = try CommandTests.run(["summary", out, "--variables", "sd(client)"])
        #expect(summary.status == 0 && summary.output.contains(using), "\(summary.output)\(summary.error)")
        #expect(summary.output.contains(both ? "2 chains of \(used) draws each" : "1 chain of \(used) draws each"))
        let candidates = folder + "/pairs.csv"
        try "client,stylist\n1,1\n2,3\n".write(toFile: candidates, atomically: true, encoding: .utf8)
        let score = try CommandTests.run(["score", out, "--pairs", candidates])
        #expect(score.status == 0 && score.error.contains(using), "\(score.error)")
        let plot = try CommandTests.run(["plot", out, "--kind", "trace", "--out", folder + "/trace.svg"])
        #expect(plot.status == 0 && plot.error.contains(using), "\(plot.error)")
        let svg = try String(contentsOfFile: folder + "/trace.svg", encoding: .utf8)
        #expect(svg.contains("\(named) × \(used) draws of an interrupted run"))
        let eb = try CommandTests.run(["eb", data, "--formula", RunSafetyCommandTests.formula, "--out",
                                       folder + "/eb.json"])
        #expect(eb.status == 0, "\(eb.error)")
        let compare = try CommandTests.run(["compare", out, "--eb", folder + "/eb.json"])
        #expect(compare.status == 0 && (compare.output + compare.error).contains(using), "\(compare.error)")
    }

    @Test func interruptedReplacementLeavesTheEarlierRun() throws {
        let folder = try RunSafetyCommandTests.folder("interrupt-force")
        let data = try RunSafetyCommandTests.data(in: folder, clients: 100, stylists: 10, seed: 2)
        let out = folder + "/run"
        #expect(try RunSafetyCommandTests.fit(data, out).status == 0)
        let before = try RunSafetyCommandTests.snapshot(out)
        let result = try RunSafetyCommandTests.interruptedFit(data, out, signal: SIGINT, extra: ["--force"])
        #expect(result.status == 130, "\(result.error)")
        #expect(try RunSafetyCommandTests.snapshot(out) == before)
        let partial = try RunSafetyCommandTests.entries(folder, "run.partial-")
        #expect(partial.count == 1)
        #expect(result.error.contains(partial.first ?? "?"), "\(result.error)")
        if let kept = partial.first {
            #expect(try RunSafetyCommandTests.manifest(folder + "/" + kept)["status"] as? String == "interrupted")
            // It is a run directory like any other.
            #expect(try CommandTests.run(["summary", folder + "/" + kept]).status == 0)
        }
    }

    // MARK: Failed writes

    /// A file-size limit (`prlimit --fsize`) that the chain file reaches
    /// mid-run: the write fails, the run fails cleanly (exit 1), the
    /// previous run is untouched and the new one says "failed".
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")))
    func failedWriteLeavesThePreviousRunAndMarksTheNewOneFailed() throws {
        let folder = try RunSafetyCommandTests.folder("file-size")
        let data = try RunSafetyCommandTests.data(in: folder)
        let out = folder + "/run"
        #expect(try RunSafetyCommandTests.fit(data, out).status == 0)
        let before = try RunSafetyCommandTests.snapshot(out)
        // 1 chain × 3000 draws of 156 parameters: a 3.7 MB store, a chain file of about 8 MB with --save all.
        let limit = 6_000_000
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--fsize=\(limit)", CommandTests.executable.path, "fit", data, "--formula",
                             RunSafetyCommandTests.formula, "--out", out, "--chains", "1", "--warmup", "10",
                             "--draws", "3000", "--save", "all", "--init", "prior", "--quiet", "--force"]
        let errorPipe = Pipe()
        process.standardError = errorPipe
        try process.run()
        let error = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(error)")
        #expect(error.contains("cannot write the chain's draws: File too large"), "\(error)")
        #expect(try RunSafetyCommandTests.snapshot(out) == before)
        let partial = try RunSafetyCommandTests.entries(folder, "run.partial-")
        #expect(partial.count == 1)
        guard let failed = partial.first.map({ folder + "/" + $0 }) else { return }
        let record = try RunSafetyCommandTests.manifest(failed)
        #expect(record["status"] as? String == "failed")
        let outcome = try #require((record["outcomes"] as? [[String: Any]])?.first)
        #expect(outcome["status"] as? String == "failed")
        let made = try #require(outcome["draws"] as? Int)
        #expect(made > 100 && made < 3000, "\(made)")
        // The chain file ends with whole lines and holds exactly the recorded draws; the store has NaN after them.
        let text = try String(contentsOfFile: failed + "/chain-1.csv", encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        #expect(try RunSafetyCommandTests.drawLines(failed + "/chain-1.csv").count == made)
        let (shape, values) = try RunSafetyCommandTests.store(failed)
        #expect(values.prefix(made * shape[2]).allSatisfy { $0.isFinite })
        #expect(values.dropFirst(made * shape[2]).allSatisfy { $0.isNaN })
    }

    /// Whether this process can mount a tmpfs (root, with the capability).
    static let tmpfs: String? = {
        guard getuid() == 0 else { return nil }
        let point = FileManager.default.temporaryDirectory.appendingPathComponent("bayesglmm-tmpfs-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
        let mount = try? CommandTests.runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=400m", "tmpfs", point])
        return mount == 0 ? point : nil
    }()

    /// A full disk, for real: a 400 MB tmpfs that another writer fills while
    /// the fit runs. The fit fails with exit 1, the run it was to replace
    /// is untouched, and the new run's record says "failed" — written in
    /// the space the run kept for it.
    @Test(.enabled(if: RunSafetyCommandTests.tmpfs != nil))
    func fullDiskLeavesThePreviousRunAndMarksTheNewOneFailed() throws {
        let point = try #require(RunSafetyCommandTests.tmpfs)
        defer { _ = try? CommandTests.runTool("/bin/umount", [point]) }
        let folder = try RunSafetyCommandTests.folder("full-disk")
        let data = try RunSafetyCommandTests.data(in: folder)
        let out = point + "/run"
        #expect(try RunSafetyCommandTests.fit(data, out).status == 0)
        let before = try RunSafetyCommandTests.snapshot(out)
        let process = Process()
        process.executableURL = CommandTests.executable
        process.arguments = ["fit", data, "--formula", RunSafetyCommandTests.formula, "--out", out, "--chains", "2",
                             "--warmup", "10", "--draws", "20000", "--save", "all", "--init", "prior", "--quiet",
                             "--force"]
        let errorPipe = Pipe()
        process.standardError = errorPipe
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Once the chains write, fill the file system.
        RunSafetyCommandTests.waitForDraws(of: process, in: point, name: "run", count: 10)
        let filler = open(point + "/filler", O_WRONLY | O_CREAT, 0o644)
        let block = [UInt8](repeating: 1, count: 1 << 16)
        while block.withUnsafeBytes({ write(filler, $0.baseAddress!, $0.count) }) > 0 {}
        close(filler)
        let error = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(error)")
        #expect(error.contains("No space left on device"), "\(error)")
        #expect(try RunSafetyCommandTests.snapshot(out) == before)
        let partial = try RunSafetyCommandTests.entries(point, "run.partial-")
        #expect(partial.count == 1)
        if let failed = partial.first {
            #expect(try RunSafetyCommandTests.manifest(point + "/" + failed)["status"] as? String == "failed")
        }
    }
}
