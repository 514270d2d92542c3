// Diagnostics: convergence diagnostics and Monte Carlo standard errors for
// MCMC draws, as R's `posterior` package defines them (Vehtari, Gelman,
// Simpson, Carpenter & Bürkner 2021, "Rank-normalization, folding, and
// localization: an improved R-hat for assessing convergence of MCMC",
// Bayesian Analysis 16(2); Geyer 1992, "Practical Markov chain Monte Carlo",
// Statistical Science 7(4); Margossian et al. 2024 for nested R-hat).
//
// Everything here is a pure function of a `Draws` value (iterations x
// chains); the module imports no sampler and does no I/O.
//
//   R-hat:    rhat, rhatBasic, rhatNested
//   ESS:      essBulk, essTail, essBasic, essMean, essSd, essQuantile, essMedian
//   MCSE:     mcseMean, mcseSd, mcseQuantile, mcseMedian
//   Summary:  mean, median, standardDeviation, medianAbsoluteDeviation,
//             quantile, autocovariance, autocorrelation
//   Tables:   summarize (posterior's summarise_draws) -> Summary, rendered by
//             Summary.textTable(), .csv(), .json()
//
// "Not available" (posterior's NA, which includes R's NaN) is `nil`, never 0
// or a silent NaN. Bad input (no draws, ragged chains, a probability outside
// [0, 1], bad superchain labels) throws `DiagnosticsError`.
//
// Agreement with posterior 1.4.0 is checked to 1e-10 relative on the
// fixtures of Validation/diagnostics; the differences between posterior
// versions and the specification are listed in Validation/diagnostics/README.md.
