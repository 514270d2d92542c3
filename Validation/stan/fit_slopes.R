#!/usr/bin/env Rscript
# Issue 18: a Stan reference posterior for the random-slope model
#   y ~ x1 + (1 + x1 | client) + (1 | stylist)   (logit)
# on Validation/stan/data/slopes.csv, with bayesglmm's default prior written
# out in Validation/stan/slopes.stan (rstan, not rstanarm: rstanarm's decov
# prior is not the Huang-Wand prior bayesglmm puts on a covariance).
#
# Usage (from the repository root):
#   nice -n 19 Rscript Validation/stan/fit_slopes.R [--chains 4] [--iter 2000] [--warmup ITER/2]
#                                                   [--seed 1] [--adapt-delta 0.8] [--out NAME]
#
# Writes Validation/stan/results/NAME.json (NAME defaults to "slopes"): per
# parameter mean, sd, mcse_mean, mcse_sd, rhat, ess_bulk, ess_tail
# (posterior::summarise_draws), for (Intercept), x1, sd(client)[(Intercept)],
# sd(client)[x1], cor(client)[(Intercept)][x1], sd(stylist), the first 20
# clients' r(client)[LEVEL][(Intercept)] and r(client)[LEVEL][x1] and the
# first 10 stylists' r(stylist)[LEVEL] (levels in R's factor order, which for
# integer ids is numeric order, as bayesglmm orders them: fit.json "random" ->
# "levels"); plus timing, versions, divergences and tree-depth saturation.
# See Validation/stan/README.md, "The random-slope comparison".

suppressPackageStartupMessages({
  library(rstan)
  library(posterior)
  library(jsonlite)
})

options(warn = 1)   # print each warning as it happens (rstan's diagnostics included)
args <- commandArgs(trailingOnly = TRUE)
opt <- list(chains = 4L, iter = 2000L, warmup = NA_integer_, seed = 1L, `adapt-delta` = 0.8, out = "slopes")
i <- 1L
while (i <= length(args)) {
  key <- sub("^--", "", args[i])
  if (!key %in% names(opt) || i == length(args)) {
    stop("usage: fit_slopes.R [--chains 4] [--iter 2000] [--warmup ITER/2] [--seed 1] [--adapt-delta 0.8] [--out slopes]")
  }
  val <- args[i + 1L]
  opt[[key]] <- switch(key, out = val, `adapt-delta` = as.numeric(val), as.integer(val))
  i <- i + 2L
}
if (is.na(opt$warmup)) opt$warmup <- opt$iter %/% 2L
stopifnot(opt$warmup < opt$iter)

out_dir  <- file.path("Validation", "stan")
csv      <- file.path(out_dir, "data", "slopes.csv")
model    <- file.path(out_dir, "slopes.stan")
res_dir  <- file.path(out_dir, "results")
dir.create(res_dir, recursive = TRUE, showWarnings = FALSE)
N_CLIENT <- 20L   # client levels reported (both columns)
N_STYLIST <- 10L  # stylist levels reported

# Debian's r-cran-bh ships no headers of its own (they are libboost-dev's, in
# /usr/include), so rstan's check for BH's include directory fails ("Boost not
# found"); point it at the system's Boost instead.
if (!nzchar(rstan_options("boost_lib")) || !file.exists(rstan_options("boost_lib"))) {
  rstan_options(boost_lib = "/usr/include")
}

d <- read.csv(csv)
stopifnot(identical(names(d), c("client", "stylist", "x1", "y")))
d$client  <- factor(d$client)    # integer ids -> factor; levels sort numerically
d$stylist <- factor(d$stylist)
stan_data <- list(
  N = nrow(d), J = nlevels(d$client), S = nlevels(d$stylist),
  client = as.integer(d$client), stylist = as.integer(d$stylist),
  x1 = d$x1, y = d$y,
  nu = 3, A = 2.5, prior_sd_fixed = 2.5, stylist_nu = 3, stylist_scale = 2.5
)

message(sprintf("[%s] compiling %s", format(Sys.time(), "%H:%M:%S"), model))
compile <- system.time(sm <- stan_model(model))
message(sprintf("[%s] fitting on %d rows (%d clients, %d stylists): chains=%d iter=%d warmup=%d seed=%d adapt_delta=%g",
                format(Sys.time(), "%H:%M:%S"), nrow(d), stan_data$J, stan_data$S,
                opt$chains, opt$iter, opt$warmup, opt$seed, opt$`adapt-delta`))
wall <- system.time(
  fit <- sampling(sm, data = stan_data, chains = opt$chains, iter = opt$iter,
                  warmup = opt$warmup, seed = opt$seed, cores = 1, refresh = 0,
                  control = list(adapt_delta = opt$`adapt-delta`))
)
et <- get_elapsed_time(fit)   # chains x (warmup, sample), seconds (CPU time: std::clock)
warmup_s <- sum(et[, "warmup"]); sample_s <- sum(et[, "sample"]); sampling_s <- warmup_s + sample_s

arr <- as.array(fit)          # iterations x chains x parameters
keep <- list(
  "(Intercept)" = arr[, , "alpha"],
  "x1" = arr[, , "beta"],
  "sd(client)[(Intercept)]" = arr[, , "sd_client_intercept"],
  "sd(client)[x1]" = arr[, , "sd_client_x1"],
  "cor(client)[(Intercept)][x1]" = arr[, , "cor_client"],
  "sd(stylist)" = arr[, , "sigma_stylist"]
)
for (k in seq_len(N_CLIENT)) {
  lv <- levels(d$client)[k]
  keep[[sprintf("r(client)[%s][(Intercept)]", lv)]] <- arr[, , sprintf("u[1,%d]", k)]
  keep[[sprintf("r(client)[%s][x1]", lv)]] <- arr[, , sprintf("u[2,%d]", k)]
}
for (k in seq_len(N_STYLIST)) {
  keep[[sprintf("r(stylist)[%s]", levels(d$stylist)[k])]] <- arr[, , sprintf("v[%d]", k)]
}
draws <- as_draws_array(simplify2array(lapply(keep, function(m) matrix(m, nrow = dim(arr)[1]))))
dimnames(draws)[[3]] <- names(keep)
summ <- as.data.frame(summarise_draws(draws, mean, sd, default_mcse_measures(),
                                      default_convergence_measures()))
params <- lapply(seq_len(nrow(summ)), function(k) list(
  mean = summ$mean[k], sd = summ$sd[k],
  mcse_mean = summ$mcse_mean[k], mcse_sd = summ$mcse_sd[k],
  rhat = summ$rhat[k], ess_bulk = summ$ess_bulk[k], ess_tail = summ$ess_tail[k]
))
names(params) <- summ$variable

core <- c("(Intercept)", "x1", "sd(client)[(Intercept)]", "sd(client)[x1]",
          "cor(client)[(Intercept)][x1]", "sd(stylist)")
core_ess <- summ$ess_bulk[match(core, summ$variable)]
sp <- get_sampler_params(fit, inc_warmup = FALSE)
divergences <- sum(sapply(sp, function(x) sum(x[, "divergent__"])))
max_depth <- if (is.null(fit@stan_args[[1]]$control$max_treedepth)) 10L else fit@stan_args[[1]]$control$max_treedepth
treedepth_hits <- sum(sapply(sp, function(x) sum(x[, "treedepth__"] >= max_depth)))
# All sampled quantities (lp__, every u, v, z, a, Sigma): the largest R-hat.
all_summ <- summary(fit)$summary

res <- list(
  name = opt$out,
  data = csv,
  model = model,
  n_obs = nrow(d),
  levels = list(client = nlevels(d$client), stylist = nlevels(d$stylist)),
  formula = "y ~ x1 + (1 + x1 | client) + (1 | stylist)",
  family = "binomial(link = \"logit\")",
  priors = paste(
    "(Intercept) ~ normal(0, 2.5) on the raw intercept; x1 ~ normal(0, 2.5);",
    "sd(stylist) ~ half-t(3, 0, 2.5);",
    "client covariance Sigma (2 x 2): a_j ~ inv_gamma(1/2, 1/2.5^2), j = 1, 2,",
    "Sigma | a ~ inv_wishart(nu + q - 1 = 4, 2 nu diag(1/a)), nu = 3 (Huang & Wand 2013;",
    "half-t(3, 0, 2.5) marginals on each SD); bayesglmm's defaults"),
  parameterisation = "non-centred: u = cholesky(Sigma) z, v = sd(stylist) w",
  versions = list(
    R = paste(R.version$major, R.version$minor, sep = "."),
    rstan = as.character(packageVersion("rstan")),
    StanHeaders = as.character(packageVersion("StanHeaders")),
    posterior = as.character(packageVersion("posterior")),
    jsonlite = as.character(packageVersion("jsonlite"))
  ),
  seed = opt$seed,
  chains = opt$chains,
  iter = opt$iter,
  warmup = opt$warmup,
  draws_per_chain = opt$iter - opt$warmup,
  adapt_delta = opt$`adapt-delta`,
  cores = 1L,
  timing = list(
    compile_s = unname(compile[["elapsed"]]),
    wall_elapsed_s = unname(wall[["elapsed"]]),
    sampling_s = sampling_s,
    warmup_s = warmup_s,
    sample_s = sample_s,
    per_chain = lapply(seq_len(nrow(et)), function(k)
      list(warmup_s = et[k, "warmup"], sample_s = et[k, "sample"])),
    note = paste("wall_elapsed_s = system.time around rstan::sampling (chains one after the other,",
                 "cores = 1; compilation not included); sampling_s = rstan::get_elapsed_time",
                 "(process CPU time) summed over chains and over warm-up + sampling")
  ),
  min_ess_bulk = list(
    over = core,
    value = min(core_ess),
    argmin = core[which.min(core_ess)],
    per_second_sampling = min(core_ess) / sampling_s,
    per_second_wall = min(core_ess) / unname(wall[["elapsed"]])
  ),
  max_rhat = max(summ$rhat),
  max_rhat_all_parameters = max(all_summ[, "Rhat"], na.rm = TRUE),
  divergences = divergences,
  max_treedepth = max_depth,
  treedepth_hits = treedepth_hits,
  step_size = sapply(sp, function(x) x[1, "stepsize__"]),
  mean_leapfrog = mean(sapply(sp, function(x) mean(x[, "n_leapfrog__"]))),
  random_effects_reported = sprintf(
    "first %d client levels (both columns) and first %d stylist levels, in R's factor order (numeric ids)",
    N_CLIENT, N_STYLIST),
  parameters = params
)
path <- file.path(res_dir, paste0(opt$out, ".json"))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
message(sprintf(paste("[%s] wall %.1f s, sampling %.1f s (CPU), min bulk ESS %.0f (%s), max rhat %.4f",
                      "(all parameters %.4f), divergences %d, tree-depth hits %d -> %s"),
                format(Sys.time(), "%H:%M:%S"), wall[["elapsed"]], sampling_s, min(core_ess),
                core[which.min(core_ess)], max(summ$rhat), res$max_rhat_all_parameters,
                divergences, treedepth_hits, path))
