import Foundation
import Testing

@testable import BayesGLMM

/// Reading CmdStan output CSV: comments anywhere, the header, draws,
/// saved warm-up, and every error with its line and column.
@Suite struct CmdStanCSVTests {
    /// Writes `text` to a fresh temporary file and returns its path.
    private func temporaryFile(_ text: String, name: String = "chain-1.csv") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cmdstan-csv-tests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// The error reading `text` throws, or nil.
    private func error(_ text: String) throws -> InputError? {
        let path = try temporaryFile(text)
        do {
            _ = try CmdStanCSV.read(path: path)
            return nil
        } catch {
            return error
        }
    }

    /// The shape of CmdStan's own output: settings, header, adaptation block
    /// after the header, draws, and the timing block at the end.
    static let cmdstan = """
        # stan_version_major = 2
        # model = logistic_model
        # method = sample (Default)
        #   sample
        #     num_samples = 3
        #     num_warmup = 1000 (Default)
        #     save_warmup = 0 (Default)
        #     thin = 1 (Default)
        lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,alpha,beta[1],sd(client),u.1:2
        # Adaptation terminated
        # Step size = 0.45
        # Diagonal elements of inverse mass matrix:
        # 1, 1, 1
        -10.5,0.9,0.45,3,7,0,11.2,-0.5,1.25e-3,0.8,nan
        -11,0.95,0.45,3,7,0,12,-0.4,-2E+2,0.7,Inf
        -9.75, 1, 0.45, 2, 3, 0, 10, -0.6, 0, 0.75, -inf
        #\u{20}
        #  Elapsed Time: 0.1 seconds (Warm-up)
        #                0.2 seconds (Sampling)

        """

    @Test func readsCmdStanOutput() throws {
        let path = try temporaryFile(CmdStanCSVTests.cmdstan)
        let csv = try CmdStanCSV.read(path: path)
        #expect(csv.path == path)
        #expect(csv.names == ["lp__", "accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__", "divergent__",
                              "energy__", "alpha", "beta[1]", "sd(client)", "u.1:2"])
        #expect(csv.rows.count == 3)
        #expect(csv.rows.allSatisfy { $0.count == 11 })
        #expect(csv.column(0) == [-10.5, -11, -9.75])
        #expect(csv.column(8) == [1.25e-3, -200, 0])
        #expect(csv.rows[0][10].isNaN)
        #expect(csv.rows[1][10] == .infinity)
        #expect(csv.rows[2][10] == -.infinity)
        #expect(csv.droppedWarmupDraws == 0)
        // Comments from the top, the adaptation block and the timing block, in
        // order, without "# ".
        #expect(csv.comments.first == "stan_version_major = 2")
        #expect(csv.comments.contains("Adaptation terminated"))
        #expect(csv.comments.contains(" Elapsed Time: 0.1 seconds (Warm-up)"))
        #expect(csv.comments.count == 15)
    }

    @Test func readsWhatTheWriterWrites() throws {
        let path = try temporaryFile("")
        let writer = try CmdStanCSVWriter(path: path, comments: ["model = test", "num_warmup = 5"],
                                          names: ["lp__", "beta[1]"])
        try writer.write([-1.5, 0.1])
        try writer.write([.nan, -.infinity])
        try writer.comment(["Elapsed Time: 1 seconds"])
        try writer.close()
        let csv = try CmdStanCSV.read(path: path)
        #expect(csv.comments == ["model = test", "num_warmup = 5", "Elapsed Time: 1 seconds"])
        #expect(csv.names == ["lp__", "beta[1]"])
        #expect(csv.rows.count == 2 && csv.rows[0] == [-1.5, 0.1] && csv.rows[1][0].isNaN)
    }

    @Test func acceptsCarriageReturnsBlankLinesAndNoFinalNewline() throws {
        let csv = try CmdStanCSV.read(path: try temporaryFile("\r\n# c\r\na,b\r\n\r\n1,2\r\n3,4"))
        #expect(csv.names == ["a", "b"])
        #expect(csv.rows == [[1, 2], [3, 4]])
        #expect(csv.comments == ["c"])
    }

    @Test func nonFiniteSpellingsInAnyCase() {
        for (text, value) in [("nan", Double.nan), ("NaN", .nan), ("NAN", .nan), ("inf", .infinity),
                              ("Inf", .infinity), ("INF", .infinity), ("-inf", -.infinity), ("-Inf", -.infinity),
                              ("infinity", .infinity), ("-Infinity", -.infinity)] {
            let parsed = CmdStanCSV.number(Substring(text))
            #expect(parsed != nil, "\(text)")
            if let parsed { #expect(value.isNaN ? parsed.isNaN : parsed == value, "\(text)") }
        }
        for text in ["", "1e", "0x10", "nan(1)", "abc", "1,5", "--1", "1.2.3"] {
            #expect(CmdStanCSV.number(Substring(text)) == nil, "\(text)")
        }
        #expect(CmdStanCSV.number("-1.5e-3") == -1.5e-3)
        #expect(CmdStanCSV.number("+2") == 2)
    }

    // MARK: Warm-up

    /// A file with `warmup` warm-up draws (values 100, 101, …) then three
    /// draws (1, 2, 3), with the given settings.
    private func warmupFile(_ settings: [String], warmup: Int) -> String {
        settings.map { "#     \($0)\n" }.joined() + "lp__,x\n"
            + (0..<warmup).map { "\(-$0),\(100 + $0)\n" }.joined()
            + "# Adaptation terminated\n# Step size = 0.5\n"
            + "-1,1\n-2,2\n-3,3\n# Elapsed Time: 1 seconds\n"
    }

    @Test func dropsSavedWarmup() throws {
        for (settings, warmup) in [
            (["num_warmup = 4", "save_warmup = 1", "thin = 1 (Default)"], 4),
            (["num_warmup = 4", "save_warmup = true"], 4),
            (["num_samples = 3", "num_warmup = 10", "save_warmup = 1", "thin = 3"], 4),  // ceil(10 / 3)
            (["num_warmup = 9", "save_warmup = 1", "thin = 3"], 3),
        ] {
            let csv = try CmdStanCSV.read(path: try temporaryFile(warmupFile(settings, warmup: warmup)))
            #expect(csv.droppedWarmupDraws == warmup, "\(settings)")
            #expect(csv.column(1) == [1, 2, 3], "\(settings)")
        }
    }

    @Test func keepsEverythingWithoutSavedWarmup() throws {
        for settings in [["num_warmup = 4", "save_warmup = 0 (Default)"], ["num_warmup = 4", "save_warmup = false"],
                         ["num_warmup = 4"], ["save_warmup = 1", "num_warmup = 0"]] {
            let csv = try CmdStanCSV.read(path: try temporaryFile(warmupFile(settings, warmup: 2)))
            #expect(csv.droppedWarmupDraws == 0, "\(settings)")
            #expect(csv.column(1) == [100, 101, 1, 2, 3], "\(settings)")
        }
    }

    @Test func onlyWarmupIsNoDraws() throws {
        let text = "# num_warmup = 5\n# save_warmup = 1\nlp__,x\n" + (0..<5).map { "0,\($0)\n" }.joined()
        let problem = try error(text)
        #expect(problem?.kind == .emptyData)
        #expect(problem?.line == 3)
        #expect(problem?.message.contains("warm-up") == true)
    }

    // MARK: Errors

    @Test func missingFile() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).csv").path
        do {
            _ = try CmdStanCSV.read(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unreadableFile)
            #expect(error.file == path)
            #expect(error.description == "\(path): no such file")
        }
    }

    @Test func noHeader() throws {
        for text in ["", "# only\n# comments\n", "\n\n"] {
            let problem = try error(text)
            #expect(problem?.kind == .emptyData, "\(text)")
            #expect(problem?.message.contains("no header") == true)
            #expect(problem?.line != nil && problem?.file != nil)
        }
    }

    @Test func noDraws() throws {
        let problem = try error("# a comment\nlp__,x\n# Elapsed Time: 0 seconds\n")
        #expect(problem?.kind == .emptyData)
        #expect(problem?.line == 2)
        #expect(problem?.message == "no draws after the header")
    }

    @Test func wrongFieldCount() throws {
        let short = try error("# c\nlp__,x,y\n1,2,3\n# c\n4,5\n")
        #expect(short?.kind == .malformedCSV)
        #expect(short?.line == 5)
        #expect(short?.message == "expected 3 fields (one per column of the header), found 2")
        let long = try error("lp__,x\n1,2,3\n")
        #expect(long?.line == 2)
        #expect(long?.message.hasSuffix("found 3") == true)
    }

    @Test func nonNumericFieldNamesTheColumn() throws {
        let problem = try error("# c\nlp__,beta[1],sd(client)\n1,2,3\n1,2,abc\n")
        #expect(problem?.kind == .nonNumeric)
        #expect(problem?.line == 4)
        #expect(problem?.column == "sd(client)")
        #expect(problem?.description.hasSuffix("line 4, column \"sd(client)\": expected a number, found \"abc\"") == true)
        let empty = try error("a,b\n,2\n")
        #expect(empty?.column == "a" && empty?.line == 2)
        #expect(empty?.message == "expected a number, found an empty field")
    }

    @Test func badHeaders() throws {
        let empty = try error("a,,b\n1,2,3\n")
        #expect(empty?.kind == .malformedCSV && empty?.line == 1)
        let twice = try error("# c\na,b,a\n1,2,3\n")
        #expect(twice?.kind == .duplicateColumn && twice?.line == 2 && twice?.column == "a")
    }

    /// From fuzzing (Fuzz/Targets/FuzzCmdStanCSV): num_warmup = Int.max with
    /// thin = 2 overflowed rounding the saved warm-up draws up (a trap). The
    /// count is now ceil(Int.max / 2), and the file has no draws after it.
    @Test func hugeSavedWarmupIsAnErrorNotATrap() throws {
        let problem = try error("# save_warmup = 1\n# num_warmup = 9223372036854775807\n# thin = 2\nlp__\n1\n")
        #expect(problem?.kind == .emptyData && problem?.line == 4)
        #expect(problem?.message == "no draws after the 4611686018427387904 saved warm-up draws (save_warmup is on)")
    }
}
