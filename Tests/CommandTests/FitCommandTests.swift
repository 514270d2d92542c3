import Foundation
import Testing

/// `bayesglmm fit` end to end on a small simulated data set.
@Suite(.serialized) struct FitCommandTests {
    static func simulate() throws -> String {
        let data = CommandTests.temporary("fit-data.csv")
        let result = try CommandTests.run(["simulate", "--clients", "40", "--stylists", "6", "--seed", "8",
                                           "--out", data])
        #expect(result.status == 0, "\(result.error)")
        return data
    }

    static let formula = "y ~ (1|client) + (1|stylist) + (1|client:stylist)"

    /// --threads-per-chain changes who makes the per-cell draws, never what
    /// they are: the same draws.npy at 1 and 3 threads on data of about
    /// 14,000 cells (four blocks); 0 is refused, naming the flag.
    @Test func threadsPerChainLeavesTheDrawsAlone() throws {
        let data = CommandTests.temporary("fit-threads-data.csv")
        let made = try CommandTests.run(["simulate", "--clients", "1000", "--stylists", "30", "--beta", "0.5",
                                         "--seed", "4", "--out", data])
        #expect(made.status == 0, "\(made.error)")
        let formula = "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"
        var stores: [Data] = []
        for threads in ["1", "3"] {
            let out = CommandTests.temporary("fit-threads-\(threads)")
            let result = try CommandTests.run(["fit", data, "--formula", formula, "--out", out, "--chains", "2",
                                               "--warmup", "10", "--draws", "20", "--seed", "8",
                                               "--threads-per-chain", threads, "--quiet"])
            #expect(result.status == 0, "\(result.error)")
            stores.append(try Data(contentsOf: URL(fileURLWithPath: out + "/draws.npy")))
        }
        #expect(stores[0] == stores[1] && stores[0].count > 100_000)
        let refused = try CommandTests.run(["fit", data, "--formula", formula, "--out",
                                            CommandTests.temporary("fit-threads-0"), "--threads", "0", "--quiet"])
        #expect(refused.status == 2 && refused.error.contains("--threads-per-chain"), "\(refused.error)")
    }

    @Test func fitWritesChainsAndRecord() throws {
        let data = try FitCommandTests.simulate()
        let out = CommandTests.temporary("fit-out")
        let result = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula, "--out", out,
                                           "--chains", "2", "--warmup", "30", "--draws", "40", "--seed", "5",
                                           "--quiet"])
        #expect(result.status == 0, "\(result.error)")
        let record = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: out + "/fit.json"))) as? [String: Any]
        #expect(record?["status"] as? String == "complete")
        #expect(record?["seed"] as? Int == 5)
        #expect((record?["priors"] as? [String])?.contains { $0.contains("half_t(3, 0, 2.5)") } == true)
        for chain in 1...2 {
            let text = try String(contentsOfFile: out + "/chain-\(chain).csv", encoding: .utf8)
            let lines = text.split(separator: "\n")
            let header = try #require(lines.first { !$0.hasPrefix("#") })
            // The intercept and SDs; level effects only on request (--save), in draws.npy always.
            #expect(header.hasPrefix("(Intercept),sd(client),sd(stylist),sd(client:stylist)"))
            #expect(!header.contains("r("))
            #expect(lines.filter { !$0.hasPrefix("#") }.count == 41)
            #expect(text.contains("Elapsed Time"))
        }
        // draws.npy: NumPy's format, chains x draws x parameters, NaN-free, and
        // its values are the CSV's.
        let store = try Data(contentsOf: URL(fileURLWithPath: out + "/draws.npy"))
        #expect(store.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        let headerLength = Int(store[8]) | Int(store[9]) << 8
        let header = String(decoding: store[10..<(10 + headerLength)], as: UTF8.self)
        let storeInfo = try #require(record?["store"] as? [String: Any])
        let names = try #require(storeInfo["names"] as? [String])
        #expect(header.contains("'shape': (2, 40, \(names.count))"))
        #expect((10 + headerLength) % 64 == 0)
        let values: [Double] = store[(10 + headerLength)...].withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(values.count == 2 * 40 * names.count && !values.contains { $0.isNaN })
        // summary.csv: the fixed effects and SDs, as `summary --format csv` prints them from the chain files.
        let summary = try CommandTests.run(["summary", out, "--variables",
                                            "(Intercept),sd(client),sd(stylist),sd(client:stylist)", "--format", "csv"])
        #expect(summary.status == 0 && !summary.output.isEmpty)
        #expect(try String(contentsOfFile: out + "/summary.csv", encoding: .utf8) == summary.output)
        #expect(values.contains { $0 != 0 })
        let csv = try String(contentsOfFile: out + "/chain-2.csv", encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
        let columns = csv[0].split(separator: ",").map(String.init)
        let lastRow = csv[40].split(separator: ",").map { Double($0)! }
        for name in ["(Intercept)", "sd(client:stylist)"] {
            let j = names.firstIndex(of: name)!, k = columns.firstIndex(of: name)!
            #expect(values[(1 * 40 + 39) * names.count + j] == lastRow[k])
        }
        // Same seed, same draws (and the number of chains run at once does not matter).
        let again = CommandTests.temporary("fit-again")
        let second = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula, "--out", again,
                                           "--chains", "2", "--warmup", "30", "--draws", "40", "--seed", "5",
                                           "--quiet"])
        #expect(second.status == 0)
        func draws(_ dir: String) throws -> [Substring] {
            try String(contentsOfFile: dir + "/chain-2.csv", encoding: .utf8).split(separator: "\n")
                .filter { !$0.hasPrefix("#") }
        }
        #expect(try draws(out) == draws(again))
    }

    /// A random slope, end to end: simulate with correlated client slopes,
    /// fit `(1 + x1 | client)` from the EB start (whose covariances fit.json
    /// records by name), and read the SDs and the
    /// correlation back by name; the same seed gives the same draws;
    /// the readers of random intercepts refuse the run by name.
    @Test func randomSlopeFitNamesItsCovariance() throws {
        let data = CommandTests.temporary("fit-slope-data.csv")
        let made = try CommandTests.run(["simulate", "--clients", "60", "--stylists", "8", "--seed", "3",
                                         "--beta", "0.5", "--sd-client-slope", "0.6", "--cor-client-slope", "0.4",
                                         "--out", data])
        #expect(made.status == 0, "\(made.error)")
        let formula = "y ~ x1 + (1 + x1 | client) + (1 | stylist)"
        func fit(_ out: String) throws -> CommandTests.Result {
            try CommandTests.run(["fit", data, "--formula", formula, "--out", out, "--chains", "2",
                                  "--warmup", "40", "--draws", "30", "--seed", "4", "--save", "fixed,sd,effects", "--quiet"])
        }
        let out = CommandTests.temporary("fit-slope-out"), again = CommandTests.temporary("fit-slope-again")
        let result = try fit(out)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("verdict:") && !result.error.contains("--updates exact"))
        let record = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: out + "/fit.json"))) as? [String: Any]
        #expect(record?["init"] as? String == "eb")
        let start = try #require((record?["init_eb"] as? [String: Any])?["sd"] as? [String: Any])
        #expect(Set(start.keys) == ["sd(client)[(Intercept)]", "sd(client)[x1]", "cor(client)[(Intercept)][x1]",
                                    "sd(stylist)"])
        let random = try #require(record?["random"] as? [[String: Any]])
        #expect(random.first?["columns"] as? [String] == ["(Intercept)", "x1"])
        let coding = try #require(random.first?["coding"] as? [[String: Any]])
        #expect(coding.map { $0["name"] as? String } == ["(Intercept)", "x1"]
                && coding.map { $0["numeric"] as? [String] } == [[], ["x1"]])
        #expect(random.last?["columns"] == nil)
        let header = try #require(try String(contentsOfFile: out + "/chain-1.csv", encoding: .utf8)
            .split(separator: "\n").first { !$0.hasPrefix("#") })
        #expect(header.hasPrefix("(Intercept),x1,sd(client)[(Intercept)],sd(client)[x1],"
                                 + "cor(client)[(Intercept)][x1],sd(stylist),r(client)[1][(Intercept)],r(client)[1][x1]"))
        let summary = try CommandTests.run(["summary", out, "--format", "csv"])
        #expect(summary.status == 0, "\(summary.error)")
        #expect(summary.output.contains("cor(client)[(Intercept)][x1]"))
        #expect(try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).contains("cor(client)[(Intercept)][x1]"))
        #expect(try fit(again).status == 0)
        func draws(_ dir: String) throws -> [Substring] {
            try String(contentsOfFile: dir + "/chain-2.csv", encoding: .utf8).split(separator: "\n")
                .filter { !$0.hasPrefix("#") }
        }
        #expect(try draws(out) == draws(again))
        // The Metropolis fallback fits the same model, with LKJ on the
        // correlations if asked, and under the cloglog link.
        let metropolis = CommandTests.temporary("fit-slope-metropolis")
        let fallback = try CommandTests.run(["fit", data, "--formula", formula, "--out", metropolis, "--chains", "1",
                                             "--warmup", "30", "--draws", "20", "--quiet", "--sampler", "metropolis",
                                             "--link", "cloglog", "--prior", "cor(client) ~ lkj(2)"])
        #expect(fallback.status == 0, "\(fallback.error)")
        let fallbackRecord = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: metropolis + "/fit.json"))) as? [String: Any]
        #expect(fallbackRecord?["sampler"] as? String == "metropolis")
        #expect((fallbackRecord?["priors"] as? [String])?.contains { $0.hasPrefix("cor(client) ") && $0.hasSuffix("~ lkj(2)") } == true)
        #expect((fallbackRecord?["sampler_description"] as? String)?.contains("random slopes") == true)
        // Huang & Wand's prior written out; refused on a term without slopes.
        let given = try CommandTests.run(["fit", data, "--formula", formula, "--out",
                                          CommandTests.temporary("fit-slope-prior"), "--chains", "1", "--warmup", "5",
                                          "--draws", "5", "--quiet", "--prior", "cov(client) ~ huang_wand(2, 1)"])
        #expect(given.status == 0, "\(given.error)")
        let misplaced = try CommandTests.run(["fit", data, "--formula", formula, "--out", CommandTests.temporary("unused"),
                                              "--prior", "cov(stylist) ~ huang_wand(2, 1)"])
        #expect(misplaced.status == 2 && misplaced.error.contains("--prior")
                && misplaced.error.contains("cov(stylist) is a prior on the covariance of a term with slopes"))
        // Scoring: a seen and a new client, each at its own x1.
        let pairs = CommandTests.temporary("slope-pairs.csv")
        try "client,stylist,x1\n1,1,0.5\nnewcomer,1,-1\n".write(toFile: pairs, atomically: true, encoding: .utf8)
        let scored = try CommandTests.run(["score", out, "--pairs", pairs])
        #expect(scored.status == 0, "\(scored.error)")
        #expect(scored.output.split(separator: "\n").count == 3 && scored.output.contains("newcomer"))
        let plot = try CommandTests.run(["plot", out, "--kind", "trace", "--out", CommandTests.temporary("slope.svg")])
        #expect(plot.status == 0, "\(plot.error)")
        let caterpillar = try CommandTests.run(["plot", out, "--kind", "caterpillar", "--term", "client",
                                                "--out", CommandTests.temporary("slope-effects.svg")])
        #expect(caterpillar.status == 2 && caterpillar.error.contains("not the slopes of ((Intercept) + x1 | client)"))
    }

    @Test func badInputsExitWithTwo() throws {
        let data = try FitCommandTests.simulate()
        let cases: [([String], String)] = [
            (["--prior", "sd(client) ~ half_t(3 0, 2.5)"], "--prior"),
            (["--prior", "sd(clint) ~ half_t(3, 0, 2.5)"], "clint"),
            (["--draws", "0"], "--draws"),
            (["--chains", "0"], "--chains"),
            (["--thin", "0"], "--thin"),
            (["--save", "everything"], "--save"),
        ]
        for (extra, mention) in cases {
            let result = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula,
                                               "--out", CommandTests.temporary("bad-fit"), "--quiet"] + extra)
            #expect(result.status == 2, "\(extra): \(result.error)")
            #expect(result.error.contains(mention), "\(extra): \(result.error)")
        }
        // A path through a file cannot be made.
        let file = CommandTests.temporary("a-file")
        try "not a directory".write(toFile: file, atomically: true, encoding: .utf8)
        let unwritable = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula,
                                               "--out", file + "/run", "--quiet"])
        #expect(unwritable.status == 2 && unwritable.error.contains("--out"), "\(unwritable.error)")
        #expect(unwritable.error.contains("is not a directory"), "\(unwritable.error)")
    }
}

/// `summary RUN` reads a run's draw store a block of parameters at a time;
/// it must print what the chain files give, and reach what they do not hold.
@Suite(.serialized) struct SummaryOfARunCommandTests {
    /// A fit of two chains into a new directory, with `options`.
    static func fit(_ name: String, _ options: [String]) throws -> (out: String, files: [String]) {
        let data = try FitCommandTests.simulate()
        let out = CommandTests.temporary(name)
        let fit = try CommandTests.run(["fit", data, "--formula", FitCommandTests.formula, "--out", out, "--chains", "2",
                                        "--seed", "9", "--quiet"] + options)
        #expect(fit.status == 0, "\(fit.error)")
        return (out, (1...2).map { out + "/chain-\($0).csv" })
    }

    @Test func theStoreGivesWhatTheChainFilesGiveAndMore() throws {
        let (out, files) = try SummaryOfARunCommandTests.fit("summary-store", ["--warmup", "30", "--draws", "40",
                                                                               "--no-log-lik", "--save", "fixed,sd,effects"])
        for extra in [[], ["--mcse"], ["--variables", "sd(client),(Intercept)"], ["--match", "r(stylist)"]] {
            let stored = try CommandTests.run(["summary", out, "--format", "csv"] + extra)
            let read = try CommandTests.run(["summary"] + files + ["--format", "csv"] + extra)
            #expect(stored.status == 0 && read.status == 0, "\(stored.error) \(read.error)")
            #expect(stored.output == read.output && !stored.output.isEmpty, "\(extra)")
            #expect(stored.error == read.error)
        }
        // The pair effects are in the store only.
        let pair = try CommandTests.run(["summary", out, "--variables", "r(client:stylist)", "--format", "csv"])
        #expect(pair.status == 0 && pair.output.contains("r(client:stylist)["))
        let unknown = try CommandTests.run(["summary", out, "--variables", "nothing"])
        #expect(unknown.status == 2 && unknown.error.contains("nothing"))
    }

    @Test func logLikelihoodColumnsComeFromTheChainFiles() throws {
        let (out, files) = try SummaryOfARunCommandTests.fit("summary-log-lik", ["--warmup", "20", "--draws", "20",
                                                                                 "--log-lik"])
        for extra in [[], ["--variables", "log_lik.1,sd(client)"]] {
            let stored = try CommandTests.run(["summary", out, "--format", "csv"] + extra)
            let read = try CommandTests.run(["summary"] + files + ["--format", "csv"] + extra)
            #expect(stored.status == 0 && stored.output == read.output && stored.output.contains("log_lik.1,"))
        }
    }
}
