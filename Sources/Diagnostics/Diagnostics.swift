// Diagnostics: R-hat, effective sample size and Monte Carlo standard errors
// as R's `posterior` package defines them. (Being written for issue 3.)
