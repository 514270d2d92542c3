/// A computation that failed on valid input: a matrix that should be
/// positive definite and is not, a chain that produced a value that is not
/// finite, an optimiser that found no finite objective. The model and the
/// data were accepted; what failed is said in the model's terms, with what
/// may help (`remedies`).
///
/// The command-line tool prints `description` (the remedies named by their
/// flags) and exits with status 1.
public struct NumericalFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// What may help, in the library's terms; a front end names the setting.
    public enum Remedy: String, Sendable, CaseIterable {
        /// More warm-up sweeps.
        case longerWarmup
        /// Another starting point (the prior's instead of the EB fit's, or another seed).
        case anotherStart
        /// A more informative prior on the standard deviations or coefficients.
        case strongerPrior
        /// Covariates centred and scaled.
        case rescaledCovariates
        /// A simpler model (fewer terms).
        case simplerModel
        /// The other sampler (Metropolis for Gibbs and back).
        case otherSampler

        /// The remedy in words.
        public var text: String {
            switch self {
            case .longerWarmup: "a longer warm-up"
            case .anotherStart: "another start"
            case .strongerPrior: "a more informative prior"
            case .rescaledCovariates: "centred and scaled covariates"
            case .simplerModel: "a simpler model"
            case .otherSampler: "the other sampler"
            }
        }
    }

    /// What failed, e.g. "chain 2 drew a non-finite value of sd(client) at
    /// warm-up sweep 17".
    public var message: String
    public var remedies: [Remedy]

    public init(_ message: String, remedies: [Remedy] = []) {
        self.message = message
        self.remedies = remedies
    }

    public var description: String { described { $0.text } }

    /// The message and the remedies, each named by `name`.
    public func described(naming name: (Remedy) -> String) -> String {
        remedies.isEmpty ? message : message + "; try " + remedies.map(name).joined(separator: ", ")
    }
}
