import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm simulate`: seed-shaped data with known truth.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate pairing data with known truth.",
        discussion: """
            Writes CSV data (client, stylist, x1…, y) from the model
              logit p = alpha + x'beta + client + stylist + client:stylist
            with normal effects, to standard output or --out, and the true
            parameters and effects as JSON to --truth. With --sd-client-slope
            each client also has a slope on x1 (which needs --beta),
            correlated --cor-client-slope with its client effect: the model
            y ~ x1 + (1 + x1|client) + (1|stylist) + (1|client:stylist).

            The default shape is the benchmark data set: 2,000 clients,
            100 stylists, 1–4 stylists per client, 1–10 observations per
            pair (about 28,000 rows and 5,000 pairs).
            """)

    // Numeric options take the next word whatever it starts with, so that
    // `--alpha -1` is a value and `--clients -5` reaches validate()
    // (NumericOptions).
    @Option(parsing: .unconditional, help: "Number of clients.") var clients = 2000
    @Option(parsing: .unconditional, help: "Number of stylists.") var stylists = 100
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Stylists per client, as min-max (each client's are distinct; default 1-4, at most the number of stylists).",
        valueName: "min-max"))
    var stylistsPerClient: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Observations per client-stylist pair, as min-max.",
                                                        valueName: "min-max"))
    var observationsPerPair = "1-10"
    @Option(parsing: .unconditional, help: "The intercept alpha (log-odds).") var alpha = -0.5
    @Option(parsing: .unconditional, help: "Standard deviation of the client effects.") var sdClient = 0.8
    @Option(parsing: .unconditional, help: "Standard deviation of the stylist effects.") var sdStylist = 0.4
    @Option(parsing: .unconditional, help: "Standard deviation of the client:stylist effects.") var sdPair = 0.3
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "The coefficient of a standard-normal covariate: x1, then x2, … for each repeat (--beta 0.5 --beta -0.2)."))
    var beta: [Double] = []
    @Option(parsing: .unconditional, help: "Standard deviation of the clients' slopes on x1 (default 0: none).")
    var sdClientSlope = 0.0
    @Option(parsing: .unconditional, help: "Correlation of a client's slope on x1 with its client effect.")
    var corClientSlope = 0.0
    @Option(parsing: .unconditional, help: "Seed: the same seed gives the same data on every machine.",
            transform: NumericOptions.seed)
    var seed: UInt64 = 1
    /// Words that belong to no option: a mistake, said in validate() (the
    /// usual one is `--beta 0.5 0.2`, from when --beta took several values).
    @Argument(help: .hidden) var unexpected: [String] = []
    @Option(help: "Write the data here instead of standard output.") var out: String?
    @Option(help: "Write the true parameters and effects (JSON) here.") var truth: String?

    static func range(_ text: String, _ option: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let n = Int(parts[0]), n >= 1 { return n...n }
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]), lo >= 1, lo <= hi else {
            throw ValidationError("\(option) takes min-max with 1 ≤ min ≤ max, got '\(text)'")
        }
        return lo...hi
    }

    func settings() throws -> Simulation {
        var s = Simulation()
        s.clients = clients
        s.stylists = stylists
        // The default 1-4 shrinks to the number of stylists, which a client cannot exceed.
        s.stylistsPerClient = try Simulate.range(stylistsPerClient ?? "1-\(min(4, max(stylists, 1)))",
                                                 "--stylists-per-client")
        s.observationsPerPair = try Simulate.range(observationsPerPair, "--observations-per-pair")
        s.intercept = alpha
        s.sdClient = sdClient
        s.sdStylist = sdStylist
        s.sdPair = sdPair
        s.coefficients = beta
        s.sdClientSlope = sdClientSlope
        s.corClientSlope = corClientSlope
        s.seed = seed
        return s
    }

    func validate() throws {
        if let word = unexpected.first {
            throw ValidationError("unexpected argument '\(word)'" + (Double(word) == nil ? ""
                : ": each coefficient takes its own --beta (--beta 0.5 --beta -0.2 for x1 and x2)"))
        }
        // A usage error (with the usage after it), the setting named by its flag.
        do { try settings().validate() } catch let error as InputError {
            throw ValidationError(error.described(naming: BayesGLMMCommand.flag))
        }
    }

    func run() throws {
        let simulation = try settings()
        let output = try simulation.run()
        let csv = simulation.csv(output)
        if let out {
            try Output.write(Data(csv.utf8), to: out, setting: "output")
        } else {
            FileHandle.standardOutput.write(Data(csv.utf8))
        }
        if let truth { try Output.write(try simulation.truthJSON(output), to: truth, setting: "truth") }
    }
}

/// Writing files whole: to a temporary file beside the target, then renamed,
/// so that a failure never leaves a partial file that looks complete.
enum Output {
    /// Writes `data` to `path`; a failure is an `InputError` in `setting`,
    /// the option that named the file, if any.
    static func write(_ data: Data, to path: String, setting: String? = nil) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw InputError(.unreadableFile, "cannot write the file: \(error.localizedDescription)", file: path,
                             setting: setting)
        }
    }
}
