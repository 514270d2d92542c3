import Foundation
import Variates

/// Calibrated data augmentation for the fixed effects given the effects
/// (Duan, Johndrow & Dunson 2018, "Scaling up data augmentation MCMC via
/// calibration", JMLR 19): `Updates.calibrated`, the alternative the exact
/// moves (`ExactMoves`) are measured against.
///
/// Cell i's likelihood Lᵢ(η) = e^(yη)/(1 + e^η)^n is replaced by
/// L̃ᵢ(η) = e^(y(η + bᵢ))/(1 + e^(η + bᵢ))^rᵢ, whose Pólya–Gamma
/// augmentation ω ~ PG(rᵢ, η + bᵢ) carries the precision
/// E ω = rᵢ·tanh(c/2)/(2c), c = η + bᵢ: rᵢ < nᵢ widens the conditional that
/// the plain augmentation makes too narrow where successes are rare. At a
/// reference predictor η̊ᵢ, bᵢ keeps the chance of no success,
/// (1 + e^(η̊ + b))^(−r) = (1 + e^η̊)^(−n), and rᵢ makes E ω equal the
/// likelihood's information nF(1 − F) (Duan et al.'s calibration; a cell
/// whose plain augmentation is no more precise than its likelihood keeps
/// rᵢ = nᵢ, bᵢ = 0, and so does a cell at η̊ ≥ 0: the calibration is for
/// rare successes; rᵢ ≥ nᵢ/1000, and η̊ + bᵢ ≤ 40).
///
/// The step β → ω → β* of the augmentation under L̃ is reversible for the
/// posterior under L̃, so accepting β* with probability
/// min(1, Πᵢ (Lᵢ/L̃ᵢ)(η*ᵢ) / (Lᵢ/L̃ᵢ)(ηᵢ)) leaves the exact posterior
/// invariant. r and b depend on the effects, which the step holds fixed,
/// and on the fixed reference coefficients
/// (`PolyaGammaGibbs.calibrationCoefficients`), never on the current β.
enum Calibration {
    /// (r, b) for a cell of `trials` trials at reference predictor `eta`.
    static func cell(eta: Double, trials n: Double) -> (trials: Double, offset: Double) {
        guard n > 0, eta.isFinite else { return (n, 0) }
        let f = 1 / (1 + exp(-eta))
        let information = n * f * (1 - f)
        let softplus = Link.softplus(eta)
        // E ω and c at r.
        func precision(_ r: Double) -> (omega: Double, tilt: Double) {
            let a = n / r * softplus
            let c = a > 35 ? a : log(expm1(a))
            return (abs(c) < 1e-8 ? r / 4 : r * tanh(c / 2) / (2 * c), c)
        }
        guard eta < 0, precision(n).omega > information else { return (n, 0) }
        // E ω grows with r: bisection on log r in (log n − log 1000, log n],
        // r kept where c ≤ 40 (a ≤ 40) and where Pólya–Gamma draws of shape
        // r are well measured (r ≥ n/1000).
        var low = max(log(n / 1000), log(n * softplus / 40)), high = log(n)
        for _ in 0..<16 {
            let middle = (low + high) / 2
            if precision(exp(middle)).omega > information { high = middle } else { low = middle }
        }
        let r = exp(high)
        return (r, precision(r).tilt - eta)
    }

    /// log Lᵢ(η) − log L̃ᵢ(η) up to a constant: −n·softplus(η) + yb + r·softplus(η + b).
    @inline(__always)
    static func logRatio(successes y: Double, trials n: Double, calibrated r: Double, offset b: Double,
                         at eta: Double) -> Double {
        -n * Link.softplus(eta) - y * b + r * Link.softplus(eta + b)
    }
}

extension PolyaGammaGibbs {
    /// β given the effects by calibrated data augmentation with a
    /// Metropolis–Hastings correction (`Calibration`).
    func calibratedCoefficientStep(_ s: inout State, using generator: Generator, counts: inout ExactMoveCounts,
                                   failure: inout String?) {
        let n = design.cellCount, p = design.fixedCount
        guard p > 0 else { return }
        let offset = linearPredictor(s, fixed: false)
        /// Xβ + offset at every cell.
        func predictors(_ beta: [Double]) -> [Double] { zip(fixedRows.product(beta), offset).map { $0 + $1 } }
        let calibrationPoint = predictors(calibrationCoefficients), current = predictors(s.coefficients)
        var r = trials, b = [Double](repeating: 0, count: n)
        var omega = [Double](repeating: 0, count: n), response = [Double](repeating: 0, count: n)
        for i in 0..<n where trials[i] > 0 {
            (r[i], b[i]) = Calibration.cell(eta: calibrationPoint[i], trials: trials[i])
            omega[i] = PolyaGamma.draw(shape: r[i], tilt: current[i] + b[i], using: generator)
            // ω (η + b) against κ = y − r/2, with η = Xβ + offset.
            response[i] = successes[i] - r[i] / 2 - omega[i] * (offset[i] + b[i])
        }
        let xwx = fixedRows.weightedGram(weights: omega)
        let linear = fixedRows.transposedProduct(response)
        let proposal = drawCoefficients(precision: xwx, linear: linear, using: generator, failure: &failure)
        counts.calibratedProposals += 1
        guard failure == nil, proposal.allSatisfy(\.isFinite) else { return }
        let proposed = predictors(proposal)
        var logRatio = 0.0
        for i in 0..<n where trials[i] > 0 {
            logRatio += Calibration.logRatio(successes: successes[i], trials: trials[i], calibrated: r[i],
                                             offset: b[i], at: proposed[i])
                - Calibration.logRatio(successes: successes[i], trials: trials[i], calibrated: r[i],
                                       offset: b[i], at: current[i])
        }
        guard logRatio.isFinite, log(generator.uniform()) < logRatio else { return }
        counts.calibratedAcceptances += 1
        s.coefficients = proposal
    }
}
