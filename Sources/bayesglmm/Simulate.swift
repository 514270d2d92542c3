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
            parameters and effects as JSON to --truth.

            The default shape is the benchmark data set: 2,000 clients,
            100 stylists, 1–4 stylists per client, 1–10 observations per
            pair (about 28,000 rows and 5,000 pairs).
            """)

    @Option(help: "Number of clients.") var clients = 2000
    @Option(help: "Number of stylists.") var stylists = 100
    @Option(help: "Stylists per client, as min-max (each client's are distinct).") var stylistsPerClient = "1-4"
    @Option(help: "Observations per client-stylist pair, as min-max.") var observationsPerPair = "1-10"
    @Option(help: "The intercept alpha (log-odds).") var alpha = -0.5
    @Option(help: "Standard deviation of the client effects.") var sdClient = 0.8
    @Option(help: "Standard deviation of the stylist effects.") var sdStylist = 0.4
    @Option(help: "Standard deviation of the client:stylist effects.") var sdPair = 0.3
    @Option(parsing: .upToNextOption, help: "Coefficients of standard-normal covariates x1, x2, ….")
    var beta: [Double] = []
    @Option(help: "Seed: the same seed gives the same data on every machine.") var seed: UInt64 = 1
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
        s.stylistsPerClient = try Simulate.range(stylistsPerClient, "--stylists-per-client")
        s.observationsPerPair = try Simulate.range(observationsPerPair, "--observations-per-pair")
        s.intercept = alpha
        s.sdClient = sdClient
        s.sdStylist = sdStylist
        s.sdPair = sdPair
        s.coefficients = beta
        s.seed = seed
        return s
    }

    func validate() throws {
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
