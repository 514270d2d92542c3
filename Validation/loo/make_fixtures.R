#!/usr/bin/env Rscript
# R's loo 2.5.1 on pointwise log-likelihood matrices, for the PSIS-LOO,
# WAIC and loo_compare of the Diagnostics module (issue 22).
#
# Usage (from the repository root):
#   Rscript Validation/loo/make_fixtures.R
#
# Writes Tests/DiagnosticsTests/Fixtures/loo.json: 60 binomial observations
# (x, y, trials) and two models' parameter draws (4 chains x 500,
# autocorrelated as from MCMC; logit p = a + b x and logit p = a), from
# which the log-likelihood draws are log dbinom(y, trials, p) — the test
# computes them again — with a few observations the first model fits
# badly, so that some Pareto k are large; and loo's pointwise and total
# figures for each (loo with r_eff = relative_eff(exp(ll), chain_id)),
# waic, and loo_compare.

suppressPackageStartupMessages({
  library(loo)
  library(jsonlite)
})
stopifnot(file.exists("Package.swift"))
set.seed(20261207)

json <- new.env()
sys.source(file.path("Validation", "lme4", "json.R"), envir = json)
numbers <- json$json_numbers

chains <- 4L; iterations <- 500L; n <- 60L
x <- round(rnorm(n), 3); trials <- sample(1:8, n, TRUE)
y <- rbinom(n, trials, plogis(-0.3 + 0.8 * x))
y[c(7, 23)] <- trials[c(7, 23)]           # outcomes the model fits badly
y[41] <- 0L; x[41] <- 6; trials[41] <- 8L
y[52] <- 8L; x[52] <- -4; trials[52] <- 8L

# Autocorrelated draws of (a, b), AR(1) around the posterior's rough centre.
draws <- function(centre, scale, rho) {
  out <- matrix(0, iterations * chains, length(centre))
  for (c in seq_len(chains)) {
    z <- matrix(rnorm(iterations * length(centre)), iterations)
    for (t in 2:iterations) z[t, ] <- rho * z[t - 1, ] + sqrt(1 - rho^2) * z[t, ]
    out[(c - 1) * iterations + seq_len(iterations), ] <- sweep(z %*% diag(scale, length(centre)), 2, centre, "+")
  }
  out
}
chain_id <- rep(seq_len(chains), each = iterations)
model_ll <- function(eta) {
  sapply(seq_len(n), function(i) dbinom(y[i], trials[i], plogis(eta[, i]), log = TRUE))
}
theta1 <- draws(c(-0.3, 0.8), c(0.12, 0.15), 0.6)
ll1 <- model_ll(theta1[, 1] + outer(theta1[, 2], x))
theta2 <- draws(c(-0.2), c(0.1), 0.3)
ll2 <- model_ll(matrix(theta2[, 1], nrow(theta2), n))

summarise <- function(ll) {
  r_eff <- relative_eff(exp(ll), chain_id = chain_id)
  fit <- loo(ll, r_eff = r_eff)
  w <- waic(ll)
  list(r_eff = numbers(r_eff),
       elpd = numbers(fit$pointwise[, "elpd_loo"]), mcse = numbers(fit$pointwise[, "mcse_elpd_loo"]),
       p_loo = numbers(fit$pointwise[, "p_loo"]), looic = numbers(fit$pointwise[, "looic"]),
       pareto_k = numbers(fit$diagnostics$pareto_k), n_eff = numbers(fit$diagnostics$n_eff),
       estimates = numbers(fit$estimates), mcse_total = numbers(mcse_loo(fit)),
       waic = list(elpd = numbers(w$pointwise[, "elpd_waic"]), p = numbers(w$pointwise[, "p_waic"]),
                   estimates = numbers(w$estimates)),
       fit = fit)
}
a <- summarise(ll1); b <- summarise(ll2)
a$draws <- numbers(theta1); b$draws <- numbers(theta2)   # column-major: all a, then all b
comparison <- loo_compare(list(model1 = a$fit, model2 = b$fit))
a$fit <- NULL; b$fit <- NULL
out <- list(program = paste("loo", packageVersion("loo")), chains = chains, iterations = iterations,
            x = numbers(x), y = numbers(y), trials = numbers(trials),
            models = list(a, b),
            compare = list(order = I(match(rownames(comparison), c("model1", "model2"))),
                           elpd_diff = numbers(comparison[, "elpd_diff"]),
                           se_diff = numbers(comparison[, "se_diff"])))
dir.create("Tests/DiagnosticsTests/Fixtures", showWarnings = FALSE)
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE), "Tests/DiagnosticsTests/Fixtures/loo.json")
cat("Pareto k > 0.7:", sum(a$pareto_k > 0.7), "; elpd", fromJSON(toJSON(a$estimates, json_verbatim = TRUE))[1], "\n")
print(comparison)
