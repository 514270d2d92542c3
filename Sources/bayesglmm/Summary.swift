import ArgumentParser
import BayesGLMM
import Diagnostics
import Foundation

/// `bayesglmm summary`: posterior summaries and convergence diagnostics of
/// the draws in CmdStan output CSV files, one file per chain, in the manner
/// of CmdStan's `stansummary`.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Summarise the draws of a fit: means, quantiles, R-hat and effective sample sizes.",
        discussion: """
            Give the directory a fit wrote, or CmdStan output CSV files, one
            per chain. A fit's directory is read from its draw store
            (draws.npy), only the variables asked for and a block of them at
            a time, so memory stays small whatever the size of the run: the
            variables of its chain files by default, and with --variables or
            --match any parameter the store holds (the pair effects too); its
            log_lik columns are read from the chain files.
            All files must have the same columns; if the chains differ in
            length, the first draws of each up to the shortest are used.
            Saved warm-up draws (save_warmup = 1) are dropped, as are the
            sampler's diagnostic columns (accept_stat__, stepsize__,
            treedepth__, n_leapfrog__, divergent__, energy__); lp__ is kept.

            The columns are those of R's posterior::summarise_draws: mean,
            median, sd, mad, q5, q95, rhat (rank-normalised split R-hat),
            ess_bulk and ess_tail. After the table come warnings for
            variables with R-hat > 1.01 or bulk- or tail-ESS < 400.
            With --format csv or json only the table goes to standard output;
            notes and warnings go to standard error.
            """)

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, csv, json
    }

    @Argument(help: ArgumentHelp("A fit's output directory, or CmdStan output CSV files (one per chain).",
                                 valueName: "directory-or-files"))
    var paths: [String]

    @Option(help: "The output format: text, csv or json.")
    var format: Format = .text

    @Flag(name: .customLong("mcse"), help: "Add the Monte Carlo standard errors of the mean, median, sd, q5 and q95.")
    var monteCarloStandardErrors = false

    @Option(help: ArgumentHelp(
        "Only these variables, comma-separated.",
        discussion: "A name without an index also selects its elements: 'beta' selects beta[1], beta[2], …"))
    var variables: String?

    @Option(help: "Only variables whose name contains this text.")
    var match: String?

    /// The sampler's per-draw diagnostics, which are not posterior quantities.
    static let samplerColumns: Set<String> = [
        "accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__", "divergent__", "energy__",
    ]

    /// R-hat above this is flagged.
    static let rhatThreshold = 1.01
    /// Bulk- and tail-ESS below this are flagged.
    static let essThreshold = 400.0

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give a fit's output directory or one CSV file per chain") }
    }

    func run() throws {
        if let (summary, notes) = try storedSummary() {
            report(summary, notes: notes)
            return
        }
        var notes: [String] = []
        var limit: Int?
        let files = try SummaryCommand.chainFiles(paths, notes: &notes, limit: &limit)
        let chains = try SummaryCommand.read(files)
        let first = chains[0]
        for chain in chains.dropFirst() where chain.names != first.names {
            throw InputError(.malformedCSV,
                             "the columns differ from those of \(first.path): "
                                 + SummaryCommand.difference(chain.names, first.names),
                             file: chain.path)
        }
        let warmup = chains.map(\.droppedWarmupDraws)
        if warmup.contains(where: { $0 > 0 }) {
            let counts = Set(warmup).count == 1 ? "\(warmup[0])" : SummaryCommand.list(warmup)
            notes.append("Dropped the saved warm-up draws (\(counts) per chain).")
        }
        let lengths = chains.map(\.rows.count)
        let iterations = min(lengths.min()!, limit ?? .max)
        if limit == nil && lengths.contains(where: { $0 != iterations }) {
            notes.append("The chains have different numbers of draws (\(SummaryCommand.list(lengths))); "
                         + "using the first \(iterations) of each.")
        }

        let selected = try select(first.names)
        let variables = try selected.map { index throws -> (name: String, draws: Draws) in
            (first.names[index], try Draws(chains: chains.map { Array($0.column(index).prefix(iterations)) }))
        }
        let summary = summarize(variables, monteCarloStandardErrors: monteCarloStandardErrors)
        notes.insert(SummaryCommand.shape(chains: chains.count, draws: iterations, variables: variables.count), at: 0)
        report(summary, notes: notes)
    }

    /// `4 chains of 1000 draws each, 7 variables.`
    static func shape(chains: Int, draws: Int, variables: Int) -> String {
        "\(chains) chain\(chains == 1 ? "" : "s") of \(draws) draw\(draws == 1 ? "" : "s") each, "
            + "\(variables) variable\(variables == 1 ? "" : "s")."
    }

    /// The summary of a run directory read from its draw store, in bounded
    /// memory (`RunDirectory.summary(of:)`): the variables its chain files
    /// hold (those `--variables` or `--match` select, which may also name
    /// any parameter of the store), the notes on the run first. Nil when
    /// the chain files must be read instead: not a single run directory,
    /// one still running or without a draw store, or `log_lik` columns
    /// selected (they are in the chain files only).
    func storedSummary() throws -> (Summary, [String])? {
        var isDirectory: ObjCBool = false
        guard paths.count == 1, FileManager.default.fileExists(atPath: paths[0], isDirectory: &isDirectory),
              isDirectory.boolValue else { return nil }
        let manifestPath = URL(fileURLWithPath: paths[0]).appendingPathComponent(RunManifest.fileName).path
        guard let manifest = try? RunManifest.read(manifestPath),
              [.complete, .interrupted, .failed].contains(manifest.status),
              let saved = manifest.savedParameters else { return nil }
        let run = try RunDirectory.read(paths[0])
        // The chain files' columns: the saved parameters, then the log_lik columns.
        let logLikelihood = manifest.logLikelihoodNames
        let inFiles = saved + logLikelihood
        let names = variables == nil && match == nil ? inFiles : run.parameterNames + logLikelihood
        let chosen = try select(names).map { names[$0] }
        guard !chosen.contains(where: { $0.hasPrefix("log_lik.") }) else { return nil }
        var notes = run.notes.filter { !$0.hasPrefix("fit.json has no per-level counts") }
        if let line = SummaryCommand.acceptance(manifest.outcomes) { notes.insert(line, at: 0) }
        let summary = try run.summary(of: chosen, monteCarloStandardErrors: monteCarloStandardErrors)
        notes.insert(SummaryCommand.shape(chains: run.chainNumbers.count, draws: run.drawsPerChain,
                                          variables: chosen.count), at: 0)
        return (summary, notes)
    }

    /// Prints the table (and the notes and warnings) in the chosen format.
    func report(_ summary: Diagnostics.Summary, notes: [String]) {
        let warnings = SummaryCommand.warnings(summary)
        switch format {
        case .text:
            print(notes.joined(separator: "\n"))
            print()
            print(summary.textTable(), terminator: "")
            print()
            print(warnings.joined(separator: "\n"))
        case .csv, .json:
            print(format == .csv ? summary.csv() : summary.json(), terminator: "")
            let message = (notes + warnings).joined(separator: "\n") + "\n"
            FileHandle.standardError.write(Data(message.utf8))
        }
    }

    /// The chain files: for a run directory, the chain files its fit.json
    /// lists, in chain order — for an interrupted or failed run those of the
    /// chains readers use (`RunManifest.usableDraws`), with a note saying
    /// which; for another directory, every `chain-N.csv` in order of N;
    /// else the files as given. Notes on the run go to `notes`, and the
    /// draws per chain readers use of a run that did not complete to `limit`.
    static func chainFiles(_ paths: [String], notes: inout [String], limit: inout Int?) throws(InputError)
        -> [String] {
        var isDirectory: ObjCBool = false
        guard paths.count == 1, FileManager.default.fileExists(atPath: paths[0], isDirectory: &isDirectory),
              isDirectory.boolValue else {
            for path in paths {
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    throw InputError(.badOption, "give either one directory or CSV files, not a directory among files",
                                     file: path)
                }
            }
            return paths
        }
        let directory = URL(fileURLWithPath: paths[0])
        let manifestPath = directory.appendingPathComponent(RunManifest.fileName).path
        if FileManager.default.fileExists(atPath: manifestPath) {
            do throws(InputError) {
                let manifest = try RunManifest.read(manifestPath)
                if let line = SummaryCommand.acceptance(manifest.outcomes) { notes.append(line) }
                switch manifest.status {
                case .complete where !manifest.outcomes.isEmpty:
                    return manifest.outcomes.compactMap(\.file).map { directory.appendingPathComponent($0).path }
                case .interrupted, .failed:
                    let usable = manifest.usableDraws
                    notes.append(RunDirectory.describe(manifest, usable: usable))
                    let files = manifest.outcomes.filter {
                        manifest.position(ofChain: $0.chain).map(usable.chains.contains) ?? false
                    }.compactMap(\.file)
                    guard !files.isEmpty else {
                        throw InputError(.emptyData, "no chain has a completed draw", file: manifestPath)
                    }
                    limit = usable.draws
                    return files.map { directory.appendingPathComponent($0).path }
                case .running, .notStarted:
                    notes.append("Warning: the fit has not finished (fit.json says \"running\"); these are the "
                                 + "draws written so far.")
                default:
                    break
                }
            } catch {
                guard error.kind == .malformedCSV else { throw error }
                notes.append("Note: \(error.description); reading the chain files as they are.")
            }
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw InputError(.unreadableFile, "cannot list the directory", file: directory.path)
        }
        let numbered = entries.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("chain-"), name.hasSuffix(".csv"),
                  let number = Int(name.dropFirst("chain-".count).dropLast(".csv".count)) else { return nil }
            return (number, name)
        }.sorted { $0.0 < $1.0 }
        guard !numbered.isEmpty else {
            throw InputError(.unreadableFile, "no chain-*.csv files in the directory", file: directory.path)
        }
        return numbered.map { directory.appendingPathComponent($0.1).path }
    }

    /// The Metropolis fallback's acceptance rates after warm-up, from
    /// fit.json's `outcomes[].acceptance`: per step, the mean over chains and
    /// the range, e.g. `fixed 0.26 (0.25–0.27)`; nil for a Gibbs fit.
    static func acceptance(_ outcomes: [RunManifest.Chain]) -> String? {
        let rates = outcomes.compactMap(\.acceptance)
        guard let first = rates.first, !first.isEmpty else { return nil }
        let steps = first.keys.sorted { a, b in
            // The fixed block first, then each term's effects and SD steps in name order.
            a == "fixed" ? b != "fixed" : (b == "fixed" ? false : a < b)
        }
        let parts = steps.map { step -> String in
            let values = rates.compactMap { $0[step] }
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let low = values.min() ?? mean, high = values.max() ?? mean
            return values.count > 1 && high - low >= 0.005
                ? String(format: "%@ %.2f (%.2f–%.2f)", step, mean, low, high) : String(format: "%@ %.2f", step, mean)
        }
        return "Metropolis acceptance after warm-up (mean over \(rates.count) chain\(rates.count == 1 ? "" : "s")): "
            + parts.joined(separator: ", ") + "."
    }

    /// Reads the files in parallel; the first failure in file order is thrown.
    static func read(_ files: [String]) throws(InputError) -> [CmdStanCSV] {
        let results = Results(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            results.store(Result { () throws(InputError) in try CmdStanCSV.read(path: files[index]) }, at: index)
        }
        return try results.values.map { result throws(InputError) in try result!.get() }
    }

    /// The results of the parallel reads, each stored once by its own worker.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [Result<CmdStanCSV, InputError>?]

        init(count: Int) { storage = Array(repeating: nil, count: count) }

        func store(_ result: Result<CmdStanCSV, InputError>, at index: Int) {
            lock.withLock { storage[index] = result }
        }

        var values: [Result<CmdStanCSV, InputError>?] { lock.withLock { storage } }
    }

    /// The indices of the columns to summarise, in file order, or in the order
    /// of `--variables` when it is given.
    func select(_ names: [String]) throws(InputError) -> [Int] {
        var candidates = names.indices.filter { !SummaryCommand.samplerColumns.contains(names[$0]) }
        if let match {
            candidates = candidates.filter { names[$0].contains(match) }
        }
        if let variables {
            var chosen: [Int] = []
            for wanted in variables.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) })
            where !wanted.isEmpty {
                let hits = candidates.filter { index in
                    let name = names[index]
                    return name == wanted || name.hasPrefix(wanted + "[") || name.hasPrefix(wanted + ".")
                }
                guard !hits.isEmpty else {
                    throw InputError(.unknownColumn, "no variable named \"\(wanted)\""
                                         + (match == nil ? "" : " that contains \"\(match!)\""),
                                     setting: "variables")
                }
                chosen += hits.filter { !chosen.contains($0) }
            }
            candidates = chosen
        }
        guard !candidates.isEmpty else {
            throw InputError(.unknownColumn, match == nil && variables == nil
                ? "the files have no columns to summarise besides the sampler's diagnostics"
                : "no variable is selected by --variables / --match")
        }
        return candidates
    }

    /// Warnings in the manner of Stan: how many variables have R-hat above
    /// 1.01 and bulk- or tail-ESS below 400, naming up to five; or a line
    /// saying that all passed.
    static func warnings(_ summary: Diagnostics.Summary) -> [String] {
        let total = summary.rows.count
        func line(_ names: [String], _ condition: String) -> String? {
            guard !names.isEmpty else { return nil }
            let shown = names.prefix(5).joined(separator: ", ")
                + (names.count > 5 ? " and \(names.count - 5) more" : "")
            return "Warning: \(names.count) of \(total) variables had \(condition): \(shown)"
        }
        let rows = summary.rows
        let lines = [
            line(rows.filter { ($0.rhat ?? 0) > rhatThreshold }.map(\.variable), "R-hat > 1.01"),
            line(rows.filter { ($0.essBulk ?? .infinity) < essThreshold }.map(\.variable), "bulk-ESS < 400"),
            line(rows.filter { ($0.essTail ?? .infinity) < essThreshold }.map(\.variable), "tail-ESS < 400"),
        ].compactMap { $0 }
        let unavailable = rows.filter { $0.rhat == nil || $0.essBulk == nil || $0.essTail == nil }.map(\.variable)
        var result = lines
        if !unavailable.isEmpty {
            let shown = unavailable.prefix(5).joined(separator: ", ")
                + (unavailable.count > 5 ? " and \(unavailable.count - 5) more" : "")
            result.append("Note: R-hat or ESS is not available (constant or non-finite draws) for "
                          + "\(unavailable.count) of \(total) variables: \(shown)")
        }
        if lines.isEmpty {
            let subject = total == 1 ? "The variable" : "All \(total) variables"
            result.insert("\(subject) had R-hat ≤ 1.01, bulk-ESS ≥ 400 and tail-ESS ≥ 400"
                          + (unavailable.isEmpty ? "." : " where available."), at: 0)
        }
        return result
    }

    /// How `names` differs from `expected`, for the error message.
    static func difference(_ names: [String], _ expected: [String]) -> String {
        for (index, (name, other)) in zip(names, expected).enumerated() where name != other {
            return "column \(index + 1) is \"\(name)\" where it has \"\(other)\""
        }
        return "\(names.count) columns where it has \(expected.count)"
    }

    /// `1000, 1000, 800`.
    static func list(_ numbers: [Int]) -> String {
        numbers.map(String.init).joined(separator: ", ")
    }
}
