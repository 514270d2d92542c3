import BayesGLMM
import Foundation
import Variates

/// The crossed model of the calibration run: `clients` x `stylists`, every
/// pair observed with 2 or 3 binary trials (3 when client + stylist is even),
/// one covariate x ~ N(0, 1) per row, drawn once from stream (seed, 0, 1) and
/// then held fixed; the formula
/// `y ~ x + (1|client) + (1|stylist) + (1|client:stylist)` with `link`
/// (logit by default, or probit).
struct CalibrationModel: Sendable {
    let design: Design
    let priors: Priors
    /// The data are drawn through this link, and the sampler fits it.
    let link: Link
    /// The quantities ranked, with how to read them from (β, u, σ).
    let quantities: [Quantity]

    struct Quantity: Sendable {
        enum Source: Sendable {
            case coefficient(Int)
            case standardDeviation(Int)
            case effect(term: Int, level: Int)
        }
        let name: String
        let source: Source

        func value(coefficients: [Double], effects: [[Double]], standardDeviations: [Double]) -> Double {
            switch source {
            case let .coefficient(j): coefficients[j]
            case let .standardDeviation(k): standardDeviations[k]
            case let .effect(k, l): effects[k][l]
            }
        }
    }

    static let formula = "y ~ x + (1|client) + (1|stylist) + (1|client:stylist)"

    /// The prior on the three SDs: half_t(3, 0, 0.7) (conjugate for the
    /// Gibbs sampler) or exponential(rate 1/0.7) (prior mean 0.7, median
    /// 0.49 against the half-t's 0.54; Gibbs draws σ by its slice step).
    enum SDPrior: String, Sendable {
        case halft, exponential
        static let exponentialRate = 1 / 0.7
        var scalePrior: ScalePrior {
            switch self {
            case .halft: .halfT(degrees: 3, scale: 0.7)
            case .exponential: .exponential(rate: SDPrior.exponentialRate)
            }
        }
        var description: String {
            switch self {
            case .halft: "half_t(3, 0, 0.7)"
            case .exponential: "exponential(1/0.7 = \(String(format: "%.4f", SDPrior.exponentialRate)))"
            }
        }
    }

    init(clients: Int, stylists: Int, seed: UInt64, sdPrior: SDPrior = .halft, link: Link = .logit) throws {
        self.link = link
        let g = try Generator(seed: seed, chain: 0, stream: 1)
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
        // Zero-padded level names so that R's (sorted) order is the numeric one.
        let clientLevels = (0..<clients).map { String(format: "c%02d", $0) }
        let stylistLevels = (0..<stylists).map { String(format: "s%02d", $0) }
        let frame = Frame(
            source: "<sbc>", names: ["y", "x", "client", "stylist"],
            columns: ["y": .numeric(y), "x": .numeric(x),
                      "client": .factor(codes: clientCodes, levels: clientLevels),
                      "stylist": .factor(codes: stylistCodes, levels: stylistLevels)],
            rowCount: n, lines: (0..<n).map { Int32($0 + 2) })
        let design = try Design(formula: ModelFormula.parse(CalibrationModel.formula), frame: frame)
        self.design = design

        var p = Priors()
        p.intercept = NormalPrior(mean: 0, standardDeviation: 1)
        p.coefficients = NormalPrior(mean: 0, standardDeviation: 1)
        p.standardDeviations = sdPrior.scalePrior
        priors = p

        func coefficient(_ name: String) -> Quantity {
            guard let j = design.fixedNames.firstIndex(of: name) else { fatalError("no coefficient \(name)") }
            return Quantity(name: name, source: .coefficient(j))
        }
        func term(_ name: String) -> Int {
            guard let k = design.randomTerms.firstIndex(where: { $0.name == name }) else { fatalError("no term \(name)") }
            return k
        }
        func effect(_ name: String, _ level: String) -> Quantity {
            let k = term(name)
            guard let l = design.randomTerms[k].levels.firstIndex(of: level) else { fatalError("no level \(level)") }
            return Quantity(name: "r(\(name))[\(level)]", source: .effect(term: k, level: l))
        }
        quantities = [
            coefficient("(Intercept)"), coefficient("x"),
            Quantity(name: "sd(client)", source: .standardDeviation(term("client"))),
            Quantity(name: "sd(stylist)", source: .standardDeviation(term("stylist"))),
            Quantity(name: "sd(client:stylist)", source: .standardDeviation(term("client:stylist"))),
            effect("client", "c00"), effect("stylist", "s01"), effect("client:stylist", "c00:s00"),
        ]
    }

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
/// uniformly at random) and, when asked, the kept draws themselves.
func replicate(_ model: CalibrationModel, kernel choice: KernelChoice, seed: UInt64, replication: Int, warmup: Int,
               thin: Int, kept: Int, keepDraws: Bool) throws -> (ranks: [Int], draws: [[Double]]) {
    let g = try Generator(seed: seed, chain: UInt64(replication), stream: 0)
    let truth = model.drawPrior(g)
    let y = model.drawData(coefficients: truth.coefficients, effects: truth.effects, g)
    let design = model.design.replacingSuccesses(y)
    let q = model.quantities
    let trueValues = q.map { $0.value(coefficients: truth.coefficients, effects: truth.effects,
                                      standardDeviations: truth.sds) }
    switch choice {
    case .gibbs:
        guard let augmentation = PolyaGammaGibbs.Augmentation(link: model.link) else {
            fatalError("the Gibbs kernel has no augmentation for the \(model.link) link")
        }
        return rank(PolyaGammaGibbs(design: design, priors: model.priors, augmentation: augmentation), q, trueValues, g,
                    warmup: warmup, thin: thin, kept: kept, keepDraws: keepDraws)
    case .metropolis:
        return rank(MetropolisWithinGibbs(design: design, priors: model.priors, link: model.link), q, trueValues, g,
                    warmup: warmup, thin: thin, kept: kept, keepDraws: keepDraws)
    }
}

private func rank<K: SamplingKernel>(_ kernel: K, _ q: [CalibrationModel.Quantity], _ trueValues: [Double],
                                     _ g: Generator, warmup: Int, thin: Int, kept: Int,
                                     keepDraws: Bool) -> (ranks: [Int], draws: [[Double]])
where K.State: CalibrationState {
    var state = kernel.initialState(using: g)
    for _ in 0..<warmup { state = kernel.step(state, using: g).0 }
    state = kernel.endWarmup(state)
    var below = [Int](repeating: 0, count: q.count), ties = below
    var draws = [[Double]](repeating: [], count: keepDraws ? q.count : 0)
    for _ in 0..<kept {
        for _ in 0..<thin { state = kernel.step(state, using: g).0 }
        for j in q.indices {
            let v = q[j].value(coefficients: state.coefficients, effects: state.effects,
                               standardDeviations: state.standardDeviations)
            if v < trueValues[j] { below[j] += 1 } else if v == trueValues[j] { ties[j] += 1 }
            if keepDraws { draws[j].append(v) }
        }
    }
    // A tie counts as below with a uniformly random share: rank uniform on
    // below ... below + ties.
    let ranks = q.indices.map { j in
        ties[j] == 0 ? below[j] : below[j] + min(Int(g.uniform() * Double(ties[j] + 1)), ties[j])
    }
    return (ranks, draws)
}
