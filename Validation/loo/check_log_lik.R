#!/usr/bin/env Rscript
# R's loo on the log_lik columns of fits' chain CSVs against `bayesglmm loo
# --format json` on their draw stores (called by check_log_lik.sh).
#
# Usage: Rscript Validation/loo/check_log_lik.R OURS.json RUN [RUN ...]
# Exits 1 when a figure differs by more than 1e-6 (relative, for totals).

suppressPackageStartupMessages({
  library(loo)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
ours <- fromJSON(args[1], simplifyVector = TRUE)
runs <- args[-1]
tolerance <- 1e-6
worst <- 0
check <- function(what, theirs, mine) {
  mine <- as.numeric(mine)
  stopifnot(length(theirs) == length(mine))
  gap <- max(abs(theirs - mine) / pmax(1, abs(theirs)))
  worst <<- max(worst, gap)
  if (!(gap <= tolerance)) {
    cat(sprintf("FAILED %s: largest difference %.3g\n", what, gap))
    quit(status = 1)
  }
}

# log_lik columns of a run's chain files, as a draws x observations matrix.
log_lik <- function(run) {
  files <- sort(Sys.glob(file.path(run, "chain-*.csv")))
  chains <- lapply(files, function(f) {
    d <- read.csv(f, comment.char = "#", check.names = FALSE)
    as.matrix(d[, grep("^log_lik\\.", names(d))])
  })
  list(ll = do.call(rbind, chains), chain = rep(seq_along(chains), vapply(chains, nrow, 1L)))
}

results <- list()
for (i in seq_along(runs)) {
  x <- log_lik(runs[i])
  fit <- ours$fits[i, ]
  stopifnot(ncol(x$ll) == fit$observations, nrow(x$ll) == fit$draws)
  r_eff <- relative_eff(exp(x$ll), chain_id = x$chain)
  l <- loo(x$ll, r_eff = r_eff)
  w <- suppressWarnings(waic(x$ll))
  results[[i]] <- l
  e <- l$estimates
  check("elpd_loo", e["elpd_loo", ], unlist(fit$elpd_loo))
  check("p_loo", e["p_loo", ], unlist(fit$p_loo))
  check("looic", e["looic", ], unlist(fit$looic))
  check("waic", w$estimates["waic", ], unlist(fit$waic))
  check("p_waic", w$estimates["p_waic", ], unlist(fit$p_waic))
  p <- fit$pointwise
  check("pointwise elpd_loo", l$pointwise[, "elpd_loo"], p$elpd_loo[[1]])
  check("pointwise p_loo", l$pointwise[, "p_loo"], p$p_loo[[1]])
  check("Pareto k", l$diagnostics$pareto_k, p$influence_pareto_k[[1]])
  check("n_eff", l$diagnostics$n_eff, p$n_eff[[1]])
  cat(sprintf("%s: %d cells x %d draws; elpd_loo %.2f (SE %.2f), p_loo %.2f, max Pareto k %.3f — as loo %s\n",
              runs[i], ncol(x$ll), nrow(x$ll), e["elpd_loo", 1], e["elpd_loo", 2], e["p_loo", 1],
              max(l$diagnostics$pareto_k), packageVersion("loo")))
}
if (length(runs) > 1) {
  comparison <- loo_compare(results)
  order <- as.integer(sub("model", "", rownames(comparison)))
  stopifnot(identical(ours$compare$run, runs[order]))
  check("elpd_diff", comparison[, "elpd_diff"], ours$compare$elpd_diff)
  check("se_diff", comparison[, "se_diff"], ours$compare$se_diff)
  cat(sprintf("loo_compare: elpd_diff %.2f (se_diff %.2f) for %s\n", comparison[2, "elpd_diff"],
              comparison[2, "se_diff"], runs[order[2]]))
}
cat(sprintf("every figure within %.1e of loo's (largest relative difference %.2g)\n", tolerance, worst))
