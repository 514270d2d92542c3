import Foundation

/// Seed-shaped data with known truth: clients each paired with a few
/// stylists, a few observations per pair, and
///
///     logit p = alpha + x'beta + client effect + stylist effect + pair effect,
///     effects ~ N(0, sd²) independently,
///
/// the model `y ~ x1 + … + (1|client) + (1|stylist) + (1|client:stylist)`.
/// With `sdClientSlope` > 0 each client also has its own slope on x1,
/// correlated with its intercept effect (`corClientSlope`):
///
///     logit p = … + client effect + client slope · x1 + …,
///     (client effect, client slope) ~ N(0, [[sd_c², ρ·sd_c·sd_s], [ρ·sd_c·sd_s, sd_s²]]),
///
/// the model `y ~ x1 + … + (1 + x1|client) + (1|stylist) + (1|client:stylist)`.
/// Every random quantity comes from its own `Generator` stream of `seed`, so
/// the data are the same on every machine (and the same as without slopes
/// where `sdClientSlope` is 0: the slopes have a stream of their own).
public struct Simulation: Sendable {
    public var clients = 2000
    public var stylists = 100
    public var stylistsPerClient: ClosedRange<Int> = 1...4
    public var observationsPerPair: ClosedRange<Int> = 1...10
    public var intercept = -0.5
    public var sdClient = 0.8
    public var sdStylist = 0.4
    public var sdPair = 0.3
    /// Coefficients of standard-normal covariates x1, x2, … (none by default).
    public var coefficients: [Double] = []
    /// Standard deviation of the clients' slopes on x1 (0: no slopes).
    public var sdClientSlope = 0.0
    /// Correlation of a client's slope on x1 with its intercept effect.
    public var corClientSlope = 0.0
    public var seed: UInt64 = 1

    public init() {}

    /// Checks the settings; every problem names the setting by the name of
    /// its property ("stylistsPerClient").
    public func validate() throws(InputError) {
        func bad(_ setting: String, _ message: String) -> InputError {
            InputError(.badOption, message, setting: setting)
        }
        guard clients >= 2 else { throw bad("clients", "needs at least 2 clients, got \(clients)") }
        guard stylists >= 2 else { throw bad("stylists", "needs at least 2 stylists, got \(stylists)") }
        guard stylistsPerClient.lowerBound >= 1, stylistsPerClient.upperBound <= stylists else {
            throw bad("stylistsPerClient", "must lie in 1…\(stylists) (the number of stylists)")
        }
        guard observationsPerPair.lowerBound >= 1 else {
            throw bad("observationsPerPair", "must be at least 1")
        }
        for (name, sd) in [("sdClient", sdClient), ("sdStylist", sdStylist), ("sdPair", sdPair)] {
            guard sd.isFinite, sd >= 0 else { throw bad(name, "must be a finite number ≥ 0, got \(sd)") }
        }
        guard intercept.isFinite else { throw bad("intercept", "must be a finite number, got \(intercept)") }
        guard coefficients.allSatisfy(\.isFinite) else { throw bad("coefficients", "must be finite numbers") }
        guard sdClientSlope.isFinite, sdClientSlope >= 0 else {
            throw bad("sdClientSlope", "must be a finite number ≥ 0, got \(sdClientSlope)")
        }
        guard sdClientSlope == 0 || !coefficients.isEmpty else {
            throw bad("sdClientSlope", "a client slope is on the covariate x1, which needs a coefficient "
                      + "(0 for none)")
        }
        guard corClientSlope.isFinite, abs(corClientSlope) <= 1 else {
            throw bad("corClientSlope", "must be a correlation in -1…1, got \(corClientSlope)")
        }
        guard corClientSlope == 0 || sdClientSlope > 0 else {
            throw bad("corClientSlope", "a correlation needs client slopes (sdClientSlope > 0)")
        }
    }

    /// The simulated data and the truth behind them.
    public struct Output: Sendable {
        public var client: [Int32] = []
        public var stylist: [Int32] = []
        public var covariates: [[Double]] = []
        public var y: [UInt8] = []
        public var clientEffects: [Double] = []
        /// Each client's slope on x1 (empty without slopes).
        public var clientSlopes: [Double] = []
        public var stylistEffects: [Double] = []
        /// Pair effects, keyed "client:stylist" (1-based ids).
        public var pairEffects: [(pair: String, effect: Double)] = []
        public var rowCount: Int { y.count }
    }

    public func run() throws -> Output {
        try validate()
        let effects = try Generator(seed: seed, chain: 0, stream: 0)
        let structure = try Generator(seed: seed, chain: 0, stream: 1)
        let outcomes = try Generator(seed: seed, chain: 0, stream: 2)
        var out = Output()
        out.covariates = Array(repeating: [], count: coefficients.count)
        let standard = (0..<clients).map { _ in effects.normal() }
        out.clientEffects = standard.map { sdClient * $0 }
        if sdClientSlope > 0 {
            // slope = sd_s·(ρ·z + √(1 − ρ²)·z′), z the client effect's own normal.
            let slopes = try Generator(seed: seed, chain: 0, stream: 3)
            let rest = (1 - corClientSlope * corClientSlope).squareRoot()
            out.clientSlopes = standard.map { z in sdClientSlope * (corClientSlope * z + rest * slopes.normal()) }
        }
        out.stylistEffects = (0..<stylists).map { _ in sdStylist * effects.normal() }
        func uniformInteger(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(structure.uniform() * Double(range.count))
        }
        for c in 0..<clients {
            // A simple random sample of distinct stylists (partial Fisher–Yates).
            var pool = Array(0..<stylists)
            let k = uniformInteger(stylistsPerClient)
            for i in 0..<k {
                let j = i + Int(structure.uniform() * Double(stylists - i))
                pool.swapAt(i, j)
            }
            for s in pool[0..<k].sorted() {
                let pair = sdPair * effects.normal()
                out.pairEffects.append(("\(c + 1):\(s + 1)", pair))
                for _ in 0..<uniformInteger(observationsPerPair) {
                    var eta = intercept + out.clientEffects[c] + out.stylistEffects[s] + pair
                    for (j, beta) in coefficients.enumerated() {
                        let x = outcomes.normal()
                        out.covariates[j].append(x)
                        eta += beta * x
                        if j == 0 && !out.clientSlopes.isEmpty { eta += out.clientSlopes[c] * x }
                    }
                    let p = 1 / (1 + exp(-eta))
                    out.client.append(Int32(c + 1))
                    out.stylist.append(Int32(s + 1))
                    out.y.append(outcomes.uniform() < p ? 1 : 0)
                }
            }
        }
        return out
    }

    /// The data as CSV: client, stylist, x1…, y.
    public func csv(_ out: Output) -> String {
        var lines = [(["client", "stylist"] + (0..<coefficients.count).map { "x\($0 + 1)" } + ["y"])
            .joined(separator: ",")]
        lines.reserveCapacity(out.rowCount + 1)
        for i in 0..<out.rowCount {
            var fields = [String(out.client[i]), String(out.stylist[i])]
            for j in 0..<coefficients.count { fields.append(String(out.covariates[j][i])) }
            fields.append(String(out.y[i]))
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The truth as JSON: settings, parameters, and every effect.
    public func truthJSON(_ out: Output) throws -> Data {
        let slopes = sdClientSlope > 0
        var truth: [String: Any] = [
            "formula": "y ~ " + ((0..<coefficients.count).map { "x\($0 + 1) + " }.joined())
                + (slopes ? "(1 + x1|client)" : "(1|client)") + " + (1|stylist) + (1|client:stylist)",
            "seed": seed,
            "clients": clients, "stylists": stylists,
            "stylists_per_client": [stylistsPerClient.lowerBound, stylistsPerClient.upperBound],
            "observations_per_pair": [observationsPerPair.lowerBound, observationsPerPair.upperBound],
            "rows": out.rowCount, "pairs": out.pairEffects.count,
            "alpha": intercept, "beta": coefficients,
            "sd_client": sdClient, "sd_stylist": sdStylist, "sd_pair": sdPair,
            "client_effects": out.clientEffects,
            "stylist_effects": out.stylistEffects,
            "pair_effects": Dictionary(uniqueKeysWithValues: out.pairEffects.map { ($0.pair, $0.effect) }),
        ]
        if slopes {
            truth["sd_client_slope"] = sdClientSlope
            truth["cor_client_slope"] = corClientSlope
            truth["client_slopes"] = out.clientSlopes
        }
        return try JSONSerialization.data(withJSONObject: truth, options: [.sortedKeys, .prettyPrinted])
    }
}
