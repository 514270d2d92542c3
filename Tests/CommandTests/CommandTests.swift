import Foundation
import Testing

/// End-to-end tests: run the built `bayesglmm` executable as a user would and
/// check its output and exit status (0 success, 2 bad usage or input).
@Suite(.serialized) struct CommandTests {
    /// The built executable, next to the test bundle in .build/<configuration>.
    static let executable: URL = {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [products, products.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("bayesglmm")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return products.appendingPathComponent("bayesglmm")
    }()

    struct Result { let status: Int32; let output: String; let error: String }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      error: String(decoding: error, as: UTF8.self))
    }

    /// Runs a tool (not bayesglmm) and returns its exit status.
    static func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func temporary(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bayesglmm-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    @Test func simulateThenDescribe() throws {
        let data = CommandTests.temporary("sim.csv"), truth = CommandTests.temporary("truth.json")
        let simulated = try CommandTests.run(["simulate", "--clients", "200", "--stylists", "20", "--seed", "3",
                                              "--beta", "0.5", "--out", data, "--truth", truth])
        #expect(simulated.status == 0, "\(simulated.error)")
        let csv = try String(contentsOfFile: data, encoding: .utf8)
        #expect(csv.hasPrefix("client,stylist,x1,y\n"))
        let truthObject = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: truth)))
            as? [String: Any]
        #expect(truthObject?["sd_client"] as? Double == 0.8)
        #expect((truthObject?["client_effects"] as? [Double])?.count == 200)

        let described = try CommandTests.run(["describe", data, "--formula",
                                              "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"])
        #expect(described.status == 0, "\(described.error)")
        let rows = csv.split(separator: "\n").count - 1
        let grouped = rows >= 1000 ? "\(rows / 1000),\(String(format: "%03d", rows % 1000))" : "\(rows)"
        #expect(described.output.contains("rows:      \(grouped) read, \(grouped) used"))
        #expect(described.output.contains("model:     y ~ 1 + x1 + (1 | client) + (1 | stylist) + (1 | client:stylist)"))
        #expect(described.output.contains("client          200 levels"))
        #expect(described.output.contains("fixed:     (Intercept), x1"))

        // Same seed, same data.
        let again = try CommandTests.run(["simulate", "--clients", "200", "--stylists", "20", "--seed", "3",
                                          "--beta", "0.5"])
        #expect(again.status == 0 && again.output == csv)
    }

    @Test func badInputExitsWithTwoAndSaysWhere() throws {
        let data = CommandTests.temporary("bad.csv")
        try "y,client\n1,a\n2,b\n0,a\n".write(toFile: data, atomically: true, encoding: .utf8)
        let notBinary = try CommandTests.run(["describe", data, "--formula", "y ~ (1|client)"])
        #expect(notBinary.status == 2)
        #expect(notBinary.error.contains("bad.csv, line 3, column \"y\": expected 0 or 1, found 2"))

        let parse = try CommandTests.run(["describe", data, "--formula", "y ~ (1|client + (1|stylist)"])
        #expect(parse.status == 2)
        #expect(parse.error.contains("unclosed parenthesis at column 5"))

        let unknown = try CommandTests.run(["describe", data, "--formula", "y ~ (1|cliant)"])
        #expect(unknown.status == 2 && unknown.error.contains("\"cliant\""))

        let missing = try CommandTests.run(["describe", "/nonexistent/data.csv", "--formula", "y ~ (1|client)"])
        #expect(missing.status == 2 && missing.error.contains("/nonexistent/data.csv"))

        let usage = try CommandTests.run(["simulate", "--clients", "1"])
        #expect(usage.status == 2 && usage.error.contains("--clients"))

        let unknownCommand = try CommandTests.run(["frobnicate"])
        #expect(unknownCommand.status == 2)

        let slopeData = CommandTests.temporary("slopes.csv")
        try "y,client,x\n1,a,0.5\n0,b,1\n0,a,1\n1,b,-2\n".write(toFile: slopeData, atomically: true, encoding: .utf8)
        // Two rows per client, each client's outcomes separated by its own
        // slope: the Laplace likelihood has no maximum (glmer's bobyqa stops
        // at a local one), which the fit says.
        let slopes = try CommandTests.run(["eb", slopeData, "--formula", "y ~ (1 + x|client)"])
        #expect(slopes.status == 0 && slopes.output.contains("not converged")
                && slopes.output.contains("the Laplace likelihood keeps rising as sd(client)")
                && !slopes.output.contains("nan"), "\(slopes.output)")
        let exact = try CommandTests.run(["fit", slopeData, "--formula", "y ~ (x || client)", "--out", "unused",
                                          "--updates", "exact"])
        #expect(exact.status == 2 && exact.error.contains("the exact updates do not fit random slopes (x | client) yet")
                && exact.error.contains("--updates"))
        let lkj = try CommandTests.run(["fit", slopeData, "--formula", "y ~ (1 + x | client)", "--out", "unused",
                                        "--prior", "cor(client) ~ lkj(2)"])
        #expect(lkj.status == 2 && lkj.error.contains("the Metropolis sampler takes it") && lkj.error.contains("--prior"))
    }

    @Test func nonFiniteNumbersExitWithTwoNamingLineAndColumn() throws {
        let data = CommandTests.temporary("nonfinite.csv")
        try "y,client,x\n1,a,0.5\n0,b,1e309\n0,a,1\n1,b,-2\n".write(toFile: data, atomically: true, encoding: .utf8)
        for command in ["describe", "eb"] {
            let result = try CommandTests.run([command, data, "--formula", "y ~ x + (1|client)"])
            #expect(result.status == 2, "\(command): \(result.error)")
            #expect(result.error.contains("nonfinite.csv, line 3, column \"x\": expected a finite number, found Inf"),
                    "\(command): \(result.error)")
        }
        let trials = CommandTests.temporary("nonfinite-trials.csv")
        try "s,n,client\n1,2,a\n0,-Inf,b\n".write(toFile: trials, atomically: true, encoding: .utf8)
        let counts = try CommandTests.run(["describe", trials, "--formula", "s ~ (1|client)", "--trials", "n"])
        #expect(counts.status == 2 && counts.error.contains("line 3, column \"n\": expected a finite number, found -Inf"),
                "\(counts.error)")
    }

    /// A negative number after a numeric option is its value (ArgumentParser
    /// would take it for an option: "Missing value for '--clients'"): valid
    /// ones are used, invalid ones get a message saying what the value must be.
    @Test func simulateTakesNegativeNumbersAsValues() throws {
        let base = ["simulate", "--clients", "5", "--stylists", "3", "--seed", "2"]
        let negative = try CommandTests.run(base + ["--alpha", "-1", "--beta", "-0.5", "--beta", "0.25"])
        #expect(negative.status == 0, "\(negative.error)")
        #expect(negative.output.hasPrefix("client,stylist,x1,x2,y\n"))
        // --alpha=-1 was always accepted: the same data.
        let equals = try CommandTests.run(base + ["--alpha=-1", "--beta=-0.5", "--beta=0.25"])
        #expect(equals.status == 0 && equals.output == negative.output)
        let refused: [([String], String)] = [
            (["--clients", "-5"], "--clients: needs at least 2 clients, got -5"),
            (["--stylists", "-3"], "--stylists: needs at least 2 stylists, got -3"),
            (["--sd-client", "-1"], "--sd-client: must be a finite number ≥ 0, got -1.0"),
            (["--sd-stylist", "-0.1"], "--sd-stylist: must be a finite number ≥ 0"),
            (["--sd-pair", "-2"], "--sd-pair: must be a finite number ≥ 0"),
            (["--seed", "-1"], "invalid for '--seed <seed>': a seed is a whole number from 0 to 18446744073709551615"),
            (["--stylists-per-client", "-3"], "--stylists-per-client takes min-max with 1 ≤ min ≤ max, got '-3'"),
            (["--observations-per-pair", "-2"], "--observations-per-pair takes min-max with 1 ≤ min ≤ max, got '-2'"),
            (["--beta", "0.5", "0.2"], "unexpected argument '0.2': each coefficient takes its own --beta"),
            (["--sd-client-slope", "0.5"], "--sd-client-slope: a client slope is on the covariate x1"),
            (["--beta", "0", "--sd-client-slope", "-0.5"], "--sd-client-slope: must be a finite number ≥ 0"),
            (["--beta", "0", "--sd-client-slope", "1", "--cor-client-slope", "-1.5"],
             "--cor-client-slope: must be a correlation in -1…1, got -1.5"),
            (["--cor-client-slope", "0.3"], "--cor-client-slope: a correlation needs client slopes"),
        ]
        for (arguments, message) in refused {
            let result = try CommandTests.run(base + arguments)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains(message) && !result.error.contains("Missing value"),
                    "\(arguments): \(result.error)")
        }
        // Client slopes on x1, correlated with the client effects (a negative correlation is a value).
        let slopes = try CommandTests.run(base + ["--beta", "0.5", "--sd-client-slope", "0.4",
                                                  "--cor-client-slope", "-0.3"])
        #expect(slopes.status == 0 && slopes.output.hasPrefix("client,stylist,x1,y\n"), "\(slopes.error)")
        // The default of 1-4 stylists per client fits fewer than four stylists.
        let few = try CommandTests.run(["simulate", "--clients", "5", "--stylists", "2"])
        #expect(few.status == 0, "\(few.error)")
    }

    @Test func helpAndVersion() throws {
        let help = try CommandTests.run(["--help"])
        #expect(help.status == 0 && help.output.contains("simulate") && help.output.contains("describe"))
        let describeHelp = try CommandTests.run(["describe", "--help"])
        #expect(describeHelp.status == 0 && describeHelp.output.contains("--formula"))
        let version = try CommandTests.run(["--version"])
        #expect(version.status == 0 && !version.output.isEmpty)
    }
}
