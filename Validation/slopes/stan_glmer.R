#!/usr/bin/env Rscript
# One rstanarm::stan_glmer fit of the random-slope model, run by bench.py as
# its own process (Debian: r-cran-rstanarm, r-cran-jsonlite).
#
#   Rscript Validation/slopes/stan_glmer.R DATA.csv OUT_DIR CHAINS CORES SEED [ITER]
#
# stan_glmer(y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist),
#            family = binomial, chains = CHAINS, cores = CORES, seed = SEED)
# with rstanarm's defaults otherwise (iter = 2000, warm-up iter / 2; its own
# priors: normal(0, 2.5) autoscaled coefficients, the intercept's prior on
# centred predictors, decov() on the covariances), or iter = ITER when given.
#
# Writes OUT_DIR/draws.csv (chain, draw and the seven parameters named as
# bayesglmm names them: the SDs and the correlation from the draws of Sigma)
# and OUT_DIR/result.json (timings, divergences, versions). ESS and R-hat are
# computed by bench.py, the same way for every sampler.
start <- proc.time()[["elapsed"]]
suppressPackageStartupMessages({
  library(rstanarm)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) %in% c(5L, 6L))
data_path <- args[1]; out <- args[2]
chains <- as.integer(args[3]); cores <- as.integer(args[4]); seed <- as.integer(args[5])
iter <- if (length(args) == 6L) as.integer(args[6]) else NULL
dir.create(out, recursive = TRUE, showWarnings = FALSE)

d <- read.csv(data_path)
d$client <- factor(d$client)
d$stylist <- factor(d$stylist)
form <- y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist)
call_args <- list(form, data = d, family = binomial, chains = chains, cores = cores, seed = seed,
                  refresh = 0)
if (!is.null(iter)) call_args$iter <- iter
t0 <- proc.time()[["elapsed"]]
fit <- do.call(stan_glmer, call_args)
fit_seconds <- proc.time()[["elapsed"]] - t0

arr <- as.array(fit)  # iterations x chains x parameters (post warm-up)
pars <- dimnames(arr)[[3]]
pick <- function(name) {
  if (!name %in% pars) stop("stan_glmer has no parameter ", name, "; it has ",
                            paste(grep("^Sigma", pars, value = TRUE), collapse = ", "))
  arr[, , name, drop = FALSE][, , 1]
}
v_int <- pick("Sigma[client:(Intercept),(Intercept)]")
v_slope <- pick("Sigma[client:x1,x1]")
cov_is <- pick("Sigma[client:x1,(Intercept)]")
v_sty <- pick("Sigma[stylist:(Intercept),(Intercept)]")
v_pair <- pick("Sigma[client:stylist:(Intercept),(Intercept)]")
cols <- list(
  "(Intercept)" = pick("(Intercept)"), "x1" = pick("x1"),
  "sd(client)[(Intercept)]" = sqrt(v_int), "sd(client)[x1]" = sqrt(v_slope),
  "cor(client)[(Intercept)][x1]" = cov_is / sqrt(v_int * v_slope),
  "sd(stylist)" = sqrt(v_sty), "sd(client:stylist)" = sqrt(v_pair))
n_iter <- dim(arr)[1]; n_chain <- dim(arr)[2]
tab <- data.frame(chain = rep(seq_len(n_chain), each = n_iter), draw = rep(seq_len(n_iter), n_chain),
                  check.names = FALSE)
for (k in names(cols)) tab[[k]] <- as.vector(cols[[k]])  # column-major: chain by chain
write.csv(tab, file.path(out, "draws.csv"), row.names = FALSE)

sp <- rstan::get_sampler_params(fit$stanfit, inc_warmup = FALSE)
divergences <- sum(vapply(sp, function(m) sum(m[, "divergent__"]), 0))
treedepth <- max(vapply(sp, function(m) max(m[, "treedepth__"]), 0))
leapfrog <- mean(unlist(lapply(sp, function(m) m[, "n_leapfrog__"])))
elapsed <- rstan::get_elapsed_time(fit$stanfit)  # chains x (warmup, sample)
result <- list(
  sampler = "stan_glmer",
  call = paste(deparse(form), collapse = ""),
  chains = n_chain, draws_per_chain = n_iter,
  warmup = fit$stanfit@sim$warmup, iter = fit$stanfit@sim$iter,
  # The chains run in parallel (cores = CORES): the slowest chain's warm-up +
  # sampling is the wall time of sampling.
  sampling_seconds = max(rowSums(elapsed)),
  chain_seconds = lapply(seq_len(nrow(elapsed)), function(i) as.list(elapsed[i, ])),
  fit_call_seconds = fit_seconds,
  divergences = divergences, max_treedepth = treedepth, mean_leapfrog_steps = leapfrog,
  rows = nrow(d), cells = nrow(d),
  prior_summary = paste(capture.output(print(prior_summary(fit))), collapse = "\n"),
  versions = list(rstanarm = as.character(packageVersion("rstanarm")),
                  rstan = as.character(packageVersion("rstan")),
                  R = paste(R.version$major, R.version$minor, sep = ".")),
  note = paste("sampling_seconds: the slowest chain's warm-up + sampling (rstan::get_elapsed_time);",
               "fit_call_seconds: the whole stan_glmer() call (model set-up, the cluster of",
               "cores worker processes, sampling)"),
  total_seconds_in_process = proc.time()[["elapsed"]] - start)
writeLines(toJSON(result, auto_unbox = TRUE, pretty = TRUE, digits = NA), file.path(out, "result.json"))
