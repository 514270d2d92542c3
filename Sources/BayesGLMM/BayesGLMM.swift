// BayesGLMM: Bayesian logistic mixed models with crossed random effects.
//
// Data flows one way (shared/docs/design.md): CSV -> Frame (Data/) ->
// ModelFormula (Formula/) -> Design with binomial cells (Design/) -> samplers
// (later issues). Simulation/ writes seed-shaped data with known truth.
@_exported import Variates

/// The package's release.
public enum Release {
    public static let version = "0.1.0"
}
