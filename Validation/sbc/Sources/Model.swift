import BayesGLMM
import Foundation
import Variates

/// The model of a calibration run, by `Regime`:
///
/// - `crossed` (the default): `clients` x `stylists`, every pair observed
///   with 2 or 3 binary trials (3 when client + stylist is even), one
///   covariate x ~ N(0, 1) per row, drawn once from stream (seed, 0, 1) and
///   then held fixed; the formula
///   `y ~ x + (1|client) + (1|stylist) + (1|client:stylist)` with `link`
///   (logit by default, or probit).
/// - `rare`: the same formula and crossing, but one binomial cell per pair
///   with 40 trials when client + stylist is even and 30 otherwise, x ~
///   N(0, 1) per pair (fixed, stream (seed, 0, 1)), and the intercept's
///   prior N(−5, 0.5²): mean y about 2% (successes are rare).
/// - `nested`: `y ~ x + (1|cluster) + (1|mother)`, `clusters` clusters of
///   4–6 mothers (4 + k mod 3 in cluster k), mother m of cluster k observed
///   1 + (k + m) mod 3 times (binary), x ~ N(0, 1) per row (fixed); mothers
///   are nested in clusters (each mother's label is its own), and sd(mother)
///   has a large prior: half_t(3, 0, 2.5) or lognormal(log 2.5, 0.3).
/// - `slopes` (issue 18): `y ~ x + (1 + x|client) + (1|stylist)`, the
///   crossed design's rows (2–3 binary trials per pair, x ~ N(0, 1) per row,
///   fixed), each client with a correlated (intercept, slope) pair:
///   Huang & Wand's prior with ν = 3, A = 0.7 on the client covariance,
///   half_t(3, 0, 0.7) on sd(stylist), sampled by `RandomSlopeGibbs`.
struct CalibrationModel: Sendable {
    let regime: Regime
    let design: Design
    let priors: Priors
    /// The data are drawn through this link, and the sampler fits it.
    let link: Link
    /// The quantities ranked, with how to read them from (β, u, σ).
    let quantities: [Quantity]
    let formula: String
    /// One line each for the run's header: the design and the priors.
    let designDescription: String
    let priorDescription: String
    /// The SD priors in a few words, for the figure's caption.
    let sdDescription: String

    enum Regime: String, Sendable {
        case crossed, rare, nested, slopes
    }

    struct Quantity: Sendable {
        enum Source: Sendable {
            case coefficient(Int)
            case standardDeviation(Int)
            case effect(term: Int, level: Int)
            /// The position in the kernel's `values(of:)` (the slopes regime).
            case parameter(Int)
        }
        let name: String
        let source: Source

        func value(coefficients: [Double], effects: [[Double]], standardDeviations: [Double]) -> Double {
            switch source {
            case let .coefficient(j): coefficients[j]
            case let .standardDeviation(k): standardDeviations[k]
            case let .effect(k, l): effects[k][l]
            case .parameter: fatalError("a parameter is read from the kernel's values")
            }
        }
    }

    static let crossedFormula = "y ~ x + (1|client) + (1|stylist) + (1|client:stylist)"
    static let nestedFormula = "y ~ x + (1|cluster) + (1|mother)"
    static let slopesFormula = "y ~ x + (1 + x|client) + (1|stylist)"

    /// The rare regime's intercept prior: N(−5, 0.5²).
    static let rareIntercept = NormalPrior(mean: -5, standardDeviation: 0.5)
    /// The rare regime's trials per pair: 40 when client + stylist is even,
    /// 30 otherwise.
    static func rareTrials(client c: Int, stylist s: Int) -> Int { (c + s) % 2 == 0 ? 40 : 30 }

    /// The nested design's SD priors: sd(cluster) always half-t;
    /// sd(mother) half-t (`halft`) or log-normal (`lognormal`).
    static let clusterPrior = ScalePrior.halfT(degrees: 3, scale: 1)
    static let motherHalfT = ScalePrior.halfT(degrees: 3, scale: 2.5)
    static let motherLognormal = ScalePrior.lognormal(mu: log(2.5), sigma: 0.3)

    /// The prior on the SDs. Crossed and rare regimes: half_t(3, 0, 0.7)
    /// (conjugate for the Gibbs sampler) or exponential(rate 1/0.7) (prior
    /// mean 0.7, median 0.49 against the half-t's 0.54; Gibbs draws σ by its
    /// slice step) on all three. Nested regime: sd(cluster) ~ half_t(3, 0, 1)
    /// and sd(mother) ~ half_t(3, 0, 2.5) (`halft`, the default prior of
    /// `fit` on that SD) or lognormal(log 2.5, 0.3) (`lognormal`: 95% of
    /// its mass in 1.4–4.5).
    enum SDPrior: String, Sendable {
        case halft, exponential, lognormal
        static let exponentialRate = 1 / 0.7
        /// The crossed and rare regimes' prior on every SD.
        var scalePrior: ScalePrior {
            switch self {
            case .halft: .halfT(degrees: 3, scale: 0.7)
            case .exponential: .exponential(rate: SDPrior.exponentialRate)
            case .lognormal: fatalError("the lognormal SD prior is for the nested regime")
            }
        }
        var description: String {
            switch self {
            case .halft: "half_t(3, 0, 0.7)"
            case .exponential: "exponential(1/0.7 = \(String(format: "%.4f", SDPrior.exponentialRate)))"
            case .lognormal: "lognormal(log 2.5, 0.3)"
            }
        }
        /// Whether `regime` takes this prior.
        func applies(to regime: Regime) -> Bool {
            switch regime {
            case .nested: self != .exponential
            case .slopes: self == .halft       // Huang & Wand's prior needs a half-t
            case .crossed, .rare: self != .lognormal
            }
        }
    }

    init(regime: Regime = .crossed, clients: Int, stylists: Int, clusters: Int = 10, seed: UInt64,
         sdPrior: SDPrior = .halft, link: Link = .logit) throws {
        precondition(sdPrior.applies(to: regime), "no \(sdPrior) SD prior in the \(regime) regime")
        self.regime = regime
        self.link = link
        let g = try Generator(seed: seed, chain: 0, stream: 1)
        var p = Priors()
        p.intercept = NormalPrior(mean: 0, standardDeviation: 1)
        p.coefficients = NormalPrior(mean: 0, standardDeviation: 1)
        let design: Design
        switch regime {
        case .crossed, .slopes:
            var clientCodes: [Int32] = [], stylistCodes: [Int32] = [], x: [Double] = [], y: [Double] = []
            for c in 0..<clients {
                for s in 0..<stylists {
                    for r in 0..<((c + s) % 2 == 0 ? 3 : 2) {
                        clientCodes.append(Int32(c))
                        stylistCodes.append(Int32(s))
                        x.append(g.normal())
                        y.append(r == 0 ? 1 : 0)
                    }
                }
            }
            let n = y.count
            let frame = Frame(
                source: "<sbc>", names: ["y", "x", "client", "stylist"],
                columns: ["y": .numeric(y), "x": .numeric(x),
                          "client": .factor(codes: clientCodes, levels: CalibrationModel.clientLevels(clients)),
                          "stylist": .factor(codes: stylistCodes, levels: CalibrationModel.stylistLevels(stylists))],
                rowCount: n, lines: (0..<n).map { Int32($0 + 2) })
            formula = regime == .slopes ? CalibrationModel.slopesFormula : CalibrationModel.crossedFormula
            design = try Design(formula: ModelFormula.parse(formula), frame: frame)
            p.standardDeviations = sdPrior.scalePrior
            designDescription = "\(clients) clients x \(stylists) stylists, 2-3 binary trials per pair "
                + "(\(design.rowsUsed) rows, \(design.cellCount) cells), x ~ N(0,1) per row, fixed"
            priorDescription = "(Intercept), x ~ normal(0, 1); every sd ~ \(sdPrior.description)"
                + (regime == .slopes ? " (client: Huang & Wand's covariance prior, ν = 3, A = 0.7)" : "")
            sdDescription = sdPrior.description
        case .rare:
            // One row per pair: y successes out of n trials (a binomial
            // cell), x drawn per pair.
            var clientCodes: [Int32] = [], stylistCodes: [Int32] = [], x: [Double] = [], y: [Double] = []
            var trials: [Double] = []
            for c in 0..<clients {
                for s in 0..<stylists {
                    clientCodes.append(Int32(c))
                    stylistCodes.append(Int32(s))
                    x.append(g.normal())
                    y.append(0)
                    trials.append(Double(CalibrationModel.rareTrials(client: c, stylist: s)))
                }
            }
            let n = y.count
            let frame = Frame(
                source: "<sbc>", names: ["y", "n", "x", "client", "stylist"],
                columns: ["y": .numeric(y), "n": .numeric(trials), "x": .numeric(x),
                          "client": .factor(codes: clientCodes, levels: CalibrationModel.clientLevels(clients)),
                          "stylist": .factor(codes: stylistCodes, levels: CalibrationModel.stylistLevels(stylists))],
                rowCount: n, lines: (0..<n).map { Int32($0 + 2) })
            formula = CalibrationModel.crossedFormula
            design = try Design(formula: ModelFormula.parse(formula), frame: frame, options: DesignOptions(trials: "n"))
            p.intercept = CalibrationModel.rareIntercept
            p.standardDeviations = sdPrior.scalePrior
            designDescription = "\(clients) clients x \(stylists) stylists, one binomial cell per pair, 40 trials "
                + "when client + stylist is even and 30 otherwise (\(design.cellCount) cells, "
                + "\(Int(design.trials.reduce(0, +))) trials), x ~ N(0,1) per pair, fixed"
            priorDescription = "(Intercept) ~ normal(-5, 0.5); x ~ normal(0, 1); every sd ~ \(sdPrior.description)"
            sdDescription = sdPrior.description
        case .nested:
            var clusterCodes: [Int32] = [], motherCodes: [Int32] = [], x: [Double] = [], y: [Double] = []
            var clusterLevels: [String] = [], motherLevels: [String] = []
            for k in 0..<clusters {
                clusterLevels.append(String(format: "k%02d", k))
                for m in 0..<(4 + k % 3) {
                    motherLevels.append(String(format: "k%02dm%d", k, m))
                    for _ in 0..<(1 + (k + m) % 3) {
                        clusterCodes.append(Int32(k))
                        motherCodes.append(Int32(motherLevels.count - 1))
                        x.append(g.normal())
                        y.append(0)
                    }
                }
            }
            let n = y.count
            let frame = Frame(
                source: "<sbc>", names: ["y", "x", "cluster", "mother"],
                columns: ["y": .numeric(y), "x": .numeric(x),
                          "cluster": .factor(codes: clusterCodes, levels: clusterLevels),
                          "mother": .factor(codes: motherCodes, levels: motherLevels)],
                rowCount: n, lines: (0..<n).map { Int32($0 + 2) })
            formula = CalibrationModel.nestedFormula
            design = try Design(formula: ModelFormula.parse(formula), frame: frame)
            let motherPrior = sdPrior == .lognormal ? CalibrationModel.motherLognormal : CalibrationModel.motherHalfT
            p.standardDeviation = ["cluster": CalibrationModel.clusterPrior, "mother": motherPrior]
            designDescription = "\(clusters) clusters of 4-6 mothers (\(motherLevels.count) mothers), "
                + "1-3 binary observations per mother (\(design.rowsUsed) rows, \(design.cellCount) cells), "
                + "x ~ N(0,1) per row, fixed"
            let motherText = sdPrior == .lognormal ? SDPrior.lognormal.description : motherPrior.description
            priorDescription = "(Intercept), x ~ normal(0, 1); sd(cluster) ~ \(CalibrationModel.clusterPrior); "
                + "sd(mother) ~ \(motherText)"
            sdDescription = "sd(cluster) ~ \(CalibrationModel.clusterPrior), sd(mother) ~ \(motherText)"
        }
        self.design = design
        priors = p

        func coefficient(_ name: String) -> Quantity {
            guard let j = design.fixedNames.firstIndex(of: name) else { fatalError("no coefficient \(name)") }
            return Quantity(name: name, source: .coefficient(j))
        }
        func term(_ name: String) -> Int {
            guard let k = design.randomTerms.firstIndex(where: { $0.name == name }) else { fatalError("no term \(name)") }
            return k
        }
        func sd(_ name: String) -> Quantity {
            Quantity(name: "sd(\(name))", source: .standardDeviation(term(name)))
        }
        func effect(_ name: String, _ level: String) -> Quantity {
            let k = term(name)
            guard let l = design.randomTerms[k].levels.firstIndex(of: level) else { fatalError("no level \(level)") }
            return Quantity(name: "r(\(name))[\(level)]", source: .effect(term: k, level: l))
        }
        func parameter(_ name: String) -> Quantity {
            guard let j = design.parameterNames.firstIndex(of: name) else { fatalError("no parameter \(name)") }
            return Quantity(name: name, source: .parameter(j))
        }
        switch regime {
        case .slopes:
            quantities = ["(Intercept)", "x", "sd(client)[(Intercept)]", "sd(client)[x]",
                          "cor(client)[(Intercept)][x]", "sd(stylist)", "r(client)[c00][(Intercept)]",
                          "r(client)[c00][x]", "r(stylist)[s01]"].map(parameter)
        case .crossed, .rare:
            quantities = [
                coefficient("(Intercept)"), coefficient("x"), sd("client"), sd("stylist"), sd("client:stylist"),
                effect("client", "c00"), effect("stylist", "s01"), effect("client:stylist", "c00:s00"),
            ]
        case .nested:
            // Mothers k00m0, k00m1, k00m2 have 1, 2 and 3 observations.
            quantities = [
                coefficient("(Intercept)"), coefficient("x"), sd("cluster"), sd("mother"),
                effect("cluster", "k00"), effect("mother", "k00m0"), effect("mother", "k00m1"),
                effect("mother", "k00m2"),
            ]
        }
    }

    /// Zero-padded level names, so that R's (sorted) order is the numeric one.
    static func clientLevels(_ count: Int) -> [String] { (0..<count).map { String(format: "c%02d", $0) } }
    static func stylistLevels(_ count: Int) -> [String] { (0..<count).map { String(format: "s%02d", $0) } }

    /// θ ~ prior (`PriorPredictive.parameters`): β from its normal priors,
    /// σₖ ~ half-t(ν, A) as |A·z/√(χ²_ν/ν)| or σₖ ~ exponential(λ) as E/λ
    /// with E a standard exponential, uₖ ~ N(0, σₖ²).
    func drawPrior(_ g: Generator) -> (coefficients: [Double], effects: [[Double]], sds: [Double]) {
        let theta = PriorPredictive.parameters(design, priors, using: g)
        return (theta.coefficients, theta.effects, theta.standardDeviations)
    }

    /// y ~ p(y | θ): binomial successes per cell, success probability
    /// F(ψ) for the model's link (`PriorPredictive.successes`, which keeps
    /// the logit expression of the earlier runs, so that their y, to the
    /// last bit, and ranks are unchanged).
    func drawData(coefficients: [Double], effects: [[Double]], _ g: Generator) -> [Double] {
        PriorPredictive.successes(design, link: link, coefficients: coefficients, effects: effects, using: g)
    }
}

/// The sampler under calibration.
enum KernelChoice: String, Sendable {
    /// `PolyaGammaGibbs`: conjugate steps, a slice step for σ under a
    /// non-conjugate prior (the "mixed kernel"); for the probit link with
    /// Albert & Chib's (1993) augmentation.
    case gibbs
    /// `MetropolisWithinGibbs`: adaptive random-walk Metropolis on the exact
    /// likelihood, adaptation during warm-up only.
    case metropolis
    var typeName: String { self == .gibbs ? "PolyaGammaGibbs" : "MetropolisWithinGibbs" }
    func typeName(in regime: CalibrationModel.Regime) -> String {
        regime != .slopes ? typeName : self == .gibbs ? "RandomSlopeGibbs" : "RandomSlopeMetropolis"
    }
}

/// What the ranking reads from a kernel's state.
protocol CalibrationState {
    var coefficients: [Double] { get }
    var effects: [[Double]] { get }
    var standardDeviations: [Double] { get }
}
extension PolyaGammaGibbs.State: CalibrationState {}
extension MetropolisWithinGibbs.State: CalibrationState {}

/// One replication: θ ~ prior, y | θ, `warmup` sweeps from the sampler's
/// overdispersed start, `endWarmup` (which freezes an adaptive kernel's
/// tuning, as `Chains` does), then `kept` draws each `thin` sweeps apart.
/// Returns the rank of each true value among the kept draws (ties broken
/// uniformly at random), when asked the kept draws themselves, and the
/// number of successes in the data set.
func replicate(_ model: CalibrationModel, kernel choice: KernelChoice, seed: UInt64, replication: Int, warmup: Int,
               thin: Int, kept: Int, keepDraws: Bool) throws -> (ranks: [Int], draws: [[Double]], successes: Double) {
    let g = try Generator(seed: seed, chain: UInt64(replication), stream: 0)
    if model.regime == .slopes {
        // θ from the prior (Huang–Wand on the client covariance), y | θ,
        // and the quantities read from the kernel's values by position.
        let theta = try PriorPredictive.slopeParameters(model.design, model.priors, using: g)
        let y = model.drawData(coefficients: theta.coefficients, effects: theta.effects, g)
        let design = model.design.replacingSuccesses(y)
        let positions = model.quantities.map { quantity -> Int in
            guard case let .parameter(j) = quantity.source else { fatalError("a slopes quantity is a parameter") }
            return j
        }
        func reader<K: SamplingKernel>(_ kernel: K) -> (K.State) -> [Double] {
            { state in
                let values = kernel.values(of: state)
                return positions.map { values[$0] }
            }
        }
        let truth = theta
        let result: (ranks: [Int], draws: [[Double]])
        switch choice {
        case .gibbs:
            guard let augmentation = PolyaGammaGibbs.Augmentation(link: model.link) else {
                fatalError("the Gibbs kernel has no augmentation for the \(model.link) link")
            }
            let kernel = try RandomSlopeGibbs(design: design, priors: model.priors, augmentation: augmentation)
            result = rank(kernel, reader(kernel), reader(kernel)(truth), g, warmup: warmup, thin: thin, kept: kept,
                          keepDraws: keepDraws)
        case .metropolis:
            let kernel = try RandomSlopeMetropolis(design: design, priors: model.priors, link: model.link)
            let gibbsValues = try RandomSlopeGibbs(design: design, priors: model.priors).values(of: truth)
            result = rank(kernel, reader(kernel), positions.map { gibbsValues[$0] }, g, warmup: warmup, thin: thin,
                          kept: kept, keepDraws: keepDraws)
        }
        return (result.ranks, result.draws, y.reduce(0, +))
    }
    let truth = model.drawPrior(g)
    let y = model.drawData(coefficients: truth.coefficients, effects: truth.effects, g)
    let successes = y.reduce(0, +)
    let design = model.design.replacingSuccesses(y)
    let q = model.quantities
    let trueValues = q.map { $0.value(coefficients: truth.coefficients, effects: truth.effects,
                                      standardDeviations: truth.sds) }
    let result: (ranks: [Int], draws: [[Double]])
    switch choice {
    case .gibbs:
        // The kernel's default configuration, as `fit` builds it.
        guard let augmentation = PolyaGammaGibbs.Augmentation(link: model.link) else {
            fatalError("the Gibbs kernel has no augmentation for the \(model.link) link")
        }
        result = rank(PolyaGammaGibbs(design: design, priors: model.priors, augmentation: augmentation),
                      read(q), trueValues, g, warmup: warmup, thin: thin, kept: kept, keepDraws: keepDraws)
    case .metropolis:
        result = rank(MetropolisWithinGibbs(design: design, priors: model.priors, link: model.link), read(q),
                      trueValues, g, warmup: warmup, thin: thin, kept: kept, keepDraws: keepDraws)
    }
    return (result.ranks, result.draws, successes)
}

/// The quantities `q` of a state of either intercept-only kernel.
private func read<State: CalibrationState>(_ q: [CalibrationModel.Quantity]) -> (State) -> [Double] {
    { state in
        q.map { $0.value(coefficients: state.coefficients, effects: state.effects,
                         standardDeviations: state.standardDeviations) }
    }
}

private func rank<K: SamplingKernel>(_ kernel: K, _ read: (K.State) -> [Double], _ trueValues: [Double],
                                     _ g: Generator, warmup: Int, thin: Int, kept: Int,
                                     keepDraws: Bool) -> (ranks: [Int], draws: [[Double]]) {
    var state = kernel.initialState(using: g)
    for _ in 0..<warmup { state = kernel.step(state, using: g).0 }
    state = kernel.endWarmup(state)
    let count = trueValues.count
    var below = [Int](repeating: 0, count: count), ties = below
    var draws = [[Double]](repeating: [], count: keepDraws ? count : 0)
    for _ in 0..<kept {
        for _ in 0..<thin { state = kernel.step(state, using: g).0 }
        let values = read(state)
        for j in 0..<count {
            let v = values[j]
            if v < trueValues[j] { below[j] += 1 } else if v == trueValues[j] { ties[j] += 1 }
            if keepDraws { draws[j].append(v) }
        }
    }
    // A tie counts as below with a uniformly random share: rank uniform on
    // below ... below + ties.
    let ranks = (0..<count).map { j in
        ties[j] == 0 ? below[j] : below[j] + min(Int(g.uniform() * Double(ties[j] + 1)), ties[j])
    }
    return (ranks, draws)
}
