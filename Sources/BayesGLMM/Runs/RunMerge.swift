import Diagnostics
import Foundation
import SystemPackage

/// Chains run as jobs of their own (`fit --chain K`, each with the stream
/// chain K has among all the fit's chains), put together into one run
/// directory: the run a single fit of those chains writes, its draws byte
/// for byte (the draw store and the chain files' draws; the timings and the
/// record of when each job ran are the jobs' own).
///
/// The jobs must be runs of one fit: the same program, model, data (the
/// file's hash, `DataHash`), priors, sampler, settings and seed, and
/// different chains of it. Each may hold one chain or several (a merge of
/// some of the jobs is merged again with the rest). Every difference is
/// refused, naming the field and the two runs. A job still running, one
/// whose process died, or a failed one is refused; an interrupted one is
/// merged with the draws it made, and the merged run says "interrupted"
/// (readers use the draws `RunManifest.usableDraws` chooses, as for a fit
/// that was interrupted).
///
/// As a fit does, the merge writes into a temporary sibling of the output
/// and renames it into place when it is whole; a run already there is
/// replaced only on request, and the jobs are never touched. Merging every
/// chain gives a run with no `chain_ids`; merging some gives one that lists
/// them.
public enum RunMerge {
    /// How a merge ended.
    public struct Result: Sendable {
        /// Complete, or interrupted when a job was.
        public let status: RunManifest.Status
        /// Where the merged run is: the output, or the temporary directory
        /// when it could not take the output's place (`notes` says why).
        public let directory: String
        public let output: String
        public let replacedPrevious: Bool
        public let manifest: RunManifest
        /// The summary written to summary.csv, nil when it could not be.
        public let summary: Summary?
        public let notes: [String]
        /// The merged run is at the output asked for.
        public var isInPlace: Bool { directory == output }
        /// The chains merged, 1-based, ascending.
        public var chains: [Int] { (0..<(manifest.store.shape.first ?? 0)).map(manifest.chainNumber(at:)) }
    }

    /// One job's run directory, read and checked.
    struct Job {
        let path: String
        let manifest: RunManifest
        let store: StoredDraws
        /// Its chains, 1-based, along its store's chain axis.
        let chains: [Int]
    }

    /// Merges the runs in `paths` into `output` (see the type's
    /// discussion). Throws `InputError` for a job that cannot be merged or
    /// an output that cannot be written (naming the setting "output"), and
    /// `WriteFailure` when the merged run cannot be written; the jobs are
    /// untouched either way.
    public static func merge(_ paths: [String], into output: String, replacing: Bool = false) throws -> Result {
        guard !paths.isEmpty else {
            throw InputError(.badOption, "give the run directories of the jobs to merge", setting: "runs")
        }
        let jobs = try paths.map(read)
        try checkSameFit(jobs)
        let (output, existing) = try Run.checkOutput(output, replacing: replacing)
        for job in jobs where sameFile(job.path, output) {
            throw InputError(.badOption, "is one of the runs merged; the merged run goes to a directory of its own",
                             file: output, setting: "output")
        }
        try checkSpace(jobs, output: output)

        let ordered = jobs.flatMap { job in job.chains.enumerated().map { (job: job, position: $0.offset, chain: $0.element) } }
            .sorted { $0.chain < $1.chain }
        let first = jobs.min { $0.chains[0] < $1.chains[0] }!.manifest
        let total = first.chains ?? ordered.count
        let chains = ordered.map(\.chain)
        let draws = first.store.shape[1], parameters = first.store.shape[2]

        let directory = try Run.makeTemporarySibling(of: output)
        var notes: [String] = []
        var manifest = first
        do {
            let store = try DrawStore(path: (directory as NSString).appendingPathComponent(first.store.file),
                                      chains: chains.count, draws: draws, parameters: parameters)
            // Blocks of about 4 MiB of whole draws.
            let block = max(1, (1 << 22) / max(1, parameters * 8))
            for (slot, entry) in ordered.enumerated() {
                var from = 0
                while from < draws {
                    let upTo = min(draws, from + block)
                    let bytes: [UInt8]
                    do { bytes = try entry.job.store.rawDraws(ofStoredChain: entry.position, from..<upTo) } catch {
                        throw WriteFailure(path: entry.job.store.path, action: "read the draws to merge",
                                           reason: error.message)
                    }
                    try store.write(chain: slot, from: from, bytes: bytes)
                    from = upTo
                }
            }
            try store.synchronize()
            let outcomes = jobs.flatMap { job in job.manifest.outcomes.map { (job: job, outcome: $0) } }
                .sorted { $0.outcome.chain < $1.outcome.chain }
            for (job, outcome) in outcomes {
                guard let file = outcome.file else { continue }
                try copy((job.path as NSString).appendingPathComponent(file),
                         to: (directory as NSString).appendingPathComponent(file))
            }
            let statuses = jobs.map(\.manifest.status)
            manifest.status = statuses.allSatisfy { $0 == .complete } ? .complete : .interrupted
            manifest.failure = nil
            manifest.writer = .current
            manifest.started = jobs.compactMap(\.manifest.started).min()
            manifest.finished = Run.now()
            // The jobs ran side by side: the merged run took as long as the longest.
            manifest.seconds = jobs.compactMap(\.manifest.seconds).max()
            manifest.outcomes = outcomes.map(\.outcome)
            manifest.streams = jobs.flatMap { $0.manifest.streams ?? [] }.sorted { $0.chain < $1.chain }
            manifest.chainIds = chains == Array(1...total) ? nil : chains
            manifest.store.shape = [chains.count, draws, parameters]
            if manifest.status != .complete { Run.cutChainFiles(&manifest, directory: directory, notes: &notes) }
            manifest.files = manifest.outcomes.compactMap(\.file)
            try AtomicFile.write(try manifest.encoded(),
                                 to: (directory as NSString).appendingPathComponent(RunManifest.fileName))
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        var summary: Summary?
        do { summary = try Run.writeSummary(of: directory) } catch {
            notes.append("summary.csv not written: \(error)")
        }
        Run.synchronizeDirectory(directory)
        let placed = Run.place(directory, output: output, status: manifest.status, replacing: replacing,
                               existing: existing, notes: &notes)
        return Result(status: manifest.status, directory: placed.path, output: output,
                      replacedPrevious: placed.replaced, manifest: manifest, summary: summary, notes: notes)
    }

    /// Reads a job's run directory: its manifest, which must say how it
    /// ended (complete or interrupted), and its draw store.
    static func read(_ path: String) throws -> Job {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(.unreadableFile, "no such directory (give the run directories of the jobs)", file: path)
        }
        let recordPath = (path as NSString).appendingPathComponent(RunManifest.fileName)
        let manifest = try RunManifest.read(recordPath)
        switch manifest.status {
        case .running, .notStarted:
            let alive = manifest.writer?.isAlive ?? false
            throw InputError(.emptyData, alive ? "the job is still running; merge it when it has ended"
                             : "the job did not finish (its process is gone before it recorded how its chains "
                                + "ended); run it again", file: recordPath)
        case .failed:
            throw InputError(.emptyData, "the job failed" + (manifest.failure.map { " (\($0))" } ?? "")
                             + "; run it again", file: recordPath)
        case .complete, .interrupted:
            break
        }
        if manifest.untilEss != nil {
            throw InputError(.unsupported, "an until-ESS fit decides its length on all its chains together; it "
                             + "cannot be merged with others", file: recordPath)
        }
        guard manifest.store.shape.count == 3 else {
            throw InputError(.malformedCSV, "store: the shape \(manifest.store.shape) is not (chains, draws, "
                             + "parameters)", file: recordPath)
        }
        // Checks the store against the manifest, and the chain ids.
        _ = try RunDirectory.read(path)
        let chains = (0..<manifest.store.shape[0]).map(manifest.chainNumber(at:))
        let store = try StoredDraws(path: (path as NSString).appendingPathComponent(manifest.store.file))
        return Job(path: path, manifest: manifest, store: store, chains: chains)
    }

    /// Every job must be a run of the same fit, of different chains.
    static func checkSameFit(_ jobs: [Job]) throws(InputError) {
        let reference = jobs[0]
        let referenceFields = try fields(of: reference)
        for job in jobs.dropFirst() {
            let other = try fields(of: job)
            for key in Set(referenceFields.keys).union(other.keys).sorted() where referenceFields[key] != other[key] {
                throw InputError(.badOption, "\(job.path) and \(reference.path) are not chains of one fit: their "
                                 + "\(describe(key)) differ (\(shown(other[key])) against "
                                 + "\(shown(referenceFields[key])))", file: job.path, setting: "runs")
            }
        }
        var seen: [Int: String] = [:]
        for job in jobs {
            for chain in job.chains {
                if let earlier = seen[chain] {
                    throw InputError(.badOption, "chain \(chain) is in both \(earlier) and \(job.path); merge each "
                                     + "chain once", file: job.path, setting: "runs")
                }
                seen[chain] = job.path
            }
        }
    }

    /// What a job's manifest says of the fit, as canonical JSON text per
    /// field: everything but what differs from job to job (when and how
    /// long it ran, which chains and how they ended, the EB start's time)
    /// and, where both jobs hashed their data, the data file's path.
    static func fields(of job: Job) throws(InputError) -> [String: String] {
        var manifest = job.manifest
        manifest.status = .complete
        manifest.failure = nil
        manifest.writer = nil
        manifest.started = nil
        manifest.finished = nil
        manifest.seconds = nil
        manifest.outcomes = []
        manifest.streams = nil
        manifest.files = nil
        manifest.chainIds = nil
        manifest.store.shape[0] = 0
        manifest.initEb?.seconds = 0
        if manifest.dataHash != nil { manifest.data = "" }
        guard let data = try? manifest.encoded(),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InputError(.malformedCSV, "the fit's record cannot be read back", file: job.path)
        }
        var fields: [String: String] = [:]
        for (key, value) in object {
            let text = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            fields[key] = text
        }
        if job.manifest.dataHash == nil { fields["data_hash"] = "none (\(job.manifest.data))" }
        return fields
    }

    /// `the seed ("seed")`, for the fields a user knows by another name.
    static func describe(_ key: String) -> String {
        let names = ["data_hash": "data (the file's hash)", "program": "programs", "formula": "formulas",
                     "priors": "priors", "seed": "seeds", "chains": "numbers of chains", "warmup": "warm-ups",
                     "draws": "draws per chain", "store": "draw stores (the parameters kept)",
                     "init_eb": "empirical-Bayes starts", "data": "data files"]
        return names[key].map { "\($0) (\"\(key)\")" } ?? "\"\(key)\""
    }

    /// A field's value for a message, cut to 120 characters.
    static func shown(_ value: String?) -> String {
        guard let value else { return "none" }
        return value.count > 120 ? String(value.prefix(117)) + "…" : value
    }

    /// The same file or directory (device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// The merged run needs about the space of the jobs' stores and chain files.
    static func checkSpace(_ jobs: [Job], output: String) throws(InputError) {
        var need = 64e6
        for job in jobs {
            for file in [job.manifest.store.file] + job.manifest.outcomes.compactMap(\.file) {
                let path = (job.path as NSString).appendingPathComponent(file)
                if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber {
                    need += size.doubleValue
                }
            }
        }
        let ancestor = Run.existingAncestor(of: FilePath(output))
        var status = statvfs()
        guard statvfs(ancestor, &status) == 0 else { return }
        let free = Double(status.f_bavail) * Double(status.f_frsize)
        guard need <= free else {
            throw InputError(.badOption, "the merged run needs \(Run.bytesText(need)) but the file system of "
                             + "\(ancestor) has \(Run.bytesText(free)) free", file: output, setting: "output")
        }
    }

    /// Copies a file, flushed.
    static func copy(_ source: String, to target: String) throws(WriteFailure) {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: target)
        } catch {
            throw WriteFailure(path: target, action: "copy \(source)", reason: error.localizedDescription)
        }
        let descriptor = open(target, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            close(descriptor)
        }
    }
}
