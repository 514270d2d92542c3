import Foundation

/// The pointwise log-likelihood of one draw as the generated quantity
/// `log_lik` of a chain CSV, named as CmdStan names a vector's elements in
/// its CSV files, `log_lik.1`, …, `log_lik.n` — which cmdstanr and
/// posterior read as `log_lik[1]`, … (`$draws("log_lik")`, for
/// `loo::loo`), rstan's `read_stan_csv` likewise (for `loo::extract_log_lik`)
/// and ArviZ's `from_cmdstan(log_likelihood = "log_lik")` as its
/// log_likelihood group. Observation i is the
/// i-th binomial cell (`Unit.cell`) or the i-th used row of the data
/// (`Unit.row`), and its value at a draw is the one `PointwiseLogLikelihood`
/// computes from the draw store,
///
///     ℓᵢ = log C(nᵢ, yᵢ) + log p(yᵢ | nᵢ, ψᵢ),   ψᵢ = oᵢ + xᵢ'β + Σₖ zᵢₖ'uₖ[levelₖ(i)],
///
/// summed in the same order, so the two agree to the last bit.
public struct LogLikelihoodColumns: Sendable {
    public let unit: PointwiseLogLikelihood.Unit
    let design: Design
    let link: Link
    /// Per cell, its linear predictor less the offset as Σ value · θ[place]
    /// over places in the parameter vector (`PointwiseLogLikelihood.linearTerms`).
    let terms: [[(place: Int, value: Double)]]
    /// Per cell, its observations.
    let observations: [[PointwiseLogLikelihood.Observation]]
    public let count: Int

    /// For a kernel reporting `parameterNames` (every parameter of the
    /// design, as `Design.parameterNames`); nil when one of the fixed
    /// effects or effects is not among them.
    public init?(design: Design, link: Link, unit: PointwiseLogLikelihood.Unit, parameterNames: [String]) {
        let index = Dictionary(parameterNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.unit = unit
        self.design = design
        self.link = link
        var fixedIndices: [Int] = []
        for name in design.fixedNames {
            guard let i = index[name] else { return nil }
            fixedIndices.append(i)
        }
        var terms: [[(place: Int, value: Double)]] = []
        terms.reserveCapacity(design.cellCount)
        for cell in 0..<design.cellCount {
            var places: [(slot: Int, column: Int)] = []
            for term in design.randomTerms {
                let level = term.levels[Int(term.levelOfCell[cell])]
                let names = ParameterNaming.effects(term: term.name, levels: [level], columns: term.columns)
                for (j, name) in names.enumerated() {
                    guard let i = index[name] else { return nil }
                    places.append((i, term.isInterceptOnly ? -1 : j))
                }
            }
            terms.append(PointwiseLogLikelihood.linearTerms(of: cell, design: design, fixedPlaces: fixedIndices,
                                                            effects: places))
        }
        self.terms = terms
        let rowsOfCell = unit == .row ? PointwiseLogLikelihood.rowsOfCells(design) : []
        observations = (0..<design.cellCount).map {
            PointwiseLogLikelihood.observations(of: $0, unit: unit, design: design, rowsOfCell: rowsOfCell)
        }
        count = unit == .row ? design.rowsUsed : design.cellCount
    }

    /// The number of observations up to which a fit writes the columns
    /// unless told otherwise: each adds a value per draw to every chain
    /// file (about 20 bytes), 80 MB for 1,000 draws of 4 chains at the limit.
    public static let defaultLimit = 1000

    /// Whether a fit writes the columns: as asked (`--log-lik`,
    /// `--no-log-lik`), or when there are at most `defaultLimit` observations.
    public static func wanted(_ asked: Bool?, unit: PointwiseLogLikelihood.Unit, design: Design) -> Bool {
        asked ?? ((unit == .row ? design.rowsUsed : design.cellCount) <= defaultLimit)
    }

    /// `log_lik.1` … `log_lik.count`.
    public var names: [String] { LogLikelihoodColumns.names(count: count) }

    /// `log_lik.1` … `log_lik.count`: CmdStan's names for a vector's elements.
    public static func names(count: Int) -> [String] { (0..<count).map { "log_lik.\($0 + 1)" } }

    /// Every observation's log-likelihood at the draw `parameters`.
    public func values(_ parameters: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: count)
        for cell in 0..<design.cellCount {
            var psi = design.offset(cell)
            for (place, value) in terms[cell] { psi += value * parameters[place] }
            for observation in observations[cell] {
                let value = observation.logLikelihood(link, linearPredictor: psi)
                for i in observation.indices { result[i] = value }
            }
        }
        return result
    }
}

extension RunManifest {
    /// The `log_lik` columns its chain files hold after the saved
    /// parameters: one per row or per cell (`logLikelihood`), none when it
    /// records none.
    public var logLikelihoodNames: [String] {
        guard let unit = logLikelihood else { return [] }
        return LogLikelihoodColumns.names(count: unit == PointwiseLogLikelihood.Unit.row.rawValue ? rowsUsed : cells ?? 0)
    }
}
