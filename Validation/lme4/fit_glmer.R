#!/usr/bin/env Rscript
# lme4::glmer reference fits for the empirical-Bayes fitter (issue 6).
#
# Usage (from the repository root):
#   nice -n 19 Rscript Validation/lme4/fit_glmer.R [case ...]
#
# Cases: verbagg, cbpp, pairings (the default: all three), and
# pairings_large, which is run only when named and reads
# /tmp/pairings_large.csv (or the path in $PAIRINGS_LARGE_CSV), made with
#   .build/release/bayesglmm simulate --clients 20000 --stylists 1000 --seed 2 \
#       --out /tmp/pairings_large.csv
#
# Random-slope cases, run only when named (all with
# glmerControl(optimizer = "bobyqa"); "_tight" adds tolPwrss = 1e-12):
#   verbagg_slopes[_tight], slopes_small[_tight], slopes_singular[_tight]
#     (the group name "slopes" runs these six),
#   slopes_large[_tight] (Validation/slopes/data/slopes.csv, 35,352 rows).
# Adaptive Gauss-Hermite quadrature cases (glmer's nAGQ), run only when named
# (the group "agq" runs them all): agq_sparse_<n>[_tight] for n = 1, 10, 25
# and cbpp_agq_10[_tight]; see "adaptive Gauss-Hermite quadrature" below.
# Offsets and prior weights (the group "offsets"): offset_formula_tight,
# offset_argument_tight, offset_both_tight, offset_slopes_tight,
# offset_agq_10_tight, weighted_tight; see "offsets and prior weights" below.
# slopes_small and slopes_singular read Validation/lme4/data/<case>.csv, which
# is simulated here (simulate_slopes) only when the file is missing.
#
# Each fit is lme4::glmer(formula, data, family = binomial) with nAGQ = 1
# and the case's control (the original cases: default settings). Results are
# written to Tests/BayesGLMMTests/Fixtures/eb/<case>.json (pairings_large and
# slopes_large[_tight]: Validation/lme4/results/<case>.json, without
# effects). See Validation/lme4/README.md for the schema.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

## ---- paths ---------------------------------------------------------------
# Run from the repository root; fall back to the script's location.
root <- "."
if (!file.exists(file.path(root, "Package.swift"))) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) root <- normalizePath(file.path(dirname(f), "..", ".."))
}
stopifnot(file.exists(file.path(root, "Package.swift")))
path <- function(rel) file.path(root, rel)

fixture_dir <- "Tests/BayesGLMMTests/Fixtures/eb"
results_dir <- "Validation/lme4/results"
data_dir    <- "Validation/lme4/data"
for (d in c(fixture_dir, results_dir, data_dir))
  dir.create(path(d), recursive = TRUE, showWarnings = FALSE)

## ---- JSON with full precision: num(), to_json() ----------------------------
source(path("Validation/lme4/json.R"))

## ---- one fit -> one JSON ---------------------------------------------------
fit_case <- function(case, formula_text, data, data_rel, out_rel,
                     effects = TRUE, control = glmerControl(), nAGQ = 1L,
                     weights = NULL, offset = NULL) {
  message(sprintf("[%s] %s: glmer(%s) on %d rows",
                  format(Sys.time(), "%H:%M:%S"), case, formula_text, nrow(data)))
  form <- as.formula(formula_text)
  # weights = and offset = name columns of data; passed as vectors (do.call),
  # since glmer evaluates them in the data's frame by name.
  args <- list(form, data = data, family = binomial, control = control, nAGQ = nAGQ)
  if (!is.null(weights)) args$weights <- data[[weights]]
  if (!is.null(offset)) args$offset <- data[[offset]]
  wall <- system.time(fit <- do.call(glmer, args))
  seconds <- unname(wall[["elapsed"]])

  fe <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  fixed <- lapply(seq_along(fe), function(k)
    list(name = names(fe)[k], estimate = num(fe[k]), std_error = num(se[k])))

  # VarCorr rows: an SD row has var2 = NA, a correlation row names both
  # columns. "column" is written only for a term whose columns are not just
  # "(Intercept)", so plain random-intercept fits keep the original schema.
  vc <- as.data.frame(VarCorr(fit))
  is_sd <- is.na(vc$var2)
  intercept_only <- function(grp) identical(unique(vc$var1[vc$grp == grp]), "(Intercept)")
  vsd <- vc[is_sd, , drop = FALSE]
  vcor <- vc[!is_sd, , drop = FALSE]
  sds <- lapply(seq_len(nrow(vsd)), function(k) {
    e <- list(term = vsd$grp[k])
    if (!intercept_only(vsd$grp[k])) e$column <- vsd$var1[k]
    c(e, list(estimate = num(vsd$sdcor[k])))
  })
  cors <- lapply(seq_len(nrow(vcor)), function(k)
    list(term = vcor$grp[k], column1 = vcor$var1[k], column2 = vcor$var2[k],
         estimate = num(vcor$sdcor[k])))
  theta <- getME(fit, "theta")

  # Conditional modes and SDs, term by term, column by column, level by level
  # (the order of as.data.frame(ranef(fit))). ranef() merges all terms on one
  # grouping factor, e.g. (x || g), into one data frame; that case is not
  # handled.
  ranef_table <- function() {
    dup <- unique(names(fit@cnms)[duplicated(names(fit@cnms))])
    if (length(dup))
      stop(sprintf("%s: grouping factor(s) %s carry more than one random-effects term; ",
                   case, paste(dup, collapse = ", ")),
           "ranef() merges them and fit_case() writes effects only for one term per factor")
    re <- ranef(fit, condVar = TRUE)
    rows <- list()
    for (term in names(re)) {
      m  <- re[[term]]
      pv <- attr(m, "postVar")           # q x q x nlevels
      q <- ncol(m)
      stopifnot(identical(colnames(m), fit@cnms[[term]]),
                length(dim(pv)) == 3L, dim(pv)[1] == q, dim(pv)[2] == q,
                dim(pv)[3] == nrow(m))
      lv <- as.character(rownames(m))
      plain <- identical(colnames(m), "(Intercept)")
      for (j in seq_len(q))
        rows[[length(rows) + 1L]] <- data.frame(
          term = term, column = if (plain) NA_character_ else colnames(m)[j],
          level = lv, mode = m[[j]], sd = sqrt(pv[j, j, ]), stringsAsFactors = FALSE)
    }
    do.call(rbind, rows)
  }
  eff <- list()
  if (effects) {
    rt <- ranef_table()
    eff <- lapply(seq_len(nrow(rt)), function(k) {
      e <- list(term = rt$term[k])
      if (!is.na(rt$column[k])) e$column <- rt$column[k]
      c(e, list(level = rt$level[k], mode = num(rt$mode[k]), sd = num(rt$sd[k])))
    })
  }

  conv_msgs <- as.character(unlist(fit@optinfo$conv$lme4$messages))
  warn_msgs <- as.character(unlist(fit@optinfo$warnings))
  ll <- logLik(fit)

  out <- list(
    program = paste("lme4", as.character(packageVersion("lme4"))),
    case = case,
    formula = formula_text,
    data = data_rel,
    rows_used = as.integer(nobs(fit)),
    fixed = fixed,
    sd = sds,
    correlations = cors,
    theta = lapply(unname(theta), num),
    effects = eff,
    log_likelihood = num(as.numeric(ll)),
    aic = num(AIC(fit)),
    bic = num(BIC(fit)),
    deviance = num(deviance(fit)),
    singular = isSingular(fit),
    converged = length(conv_msgs) == 0L,
    messages = as.list(c(conv_msgs, warn_msgs)),
    seconds = num(seconds),
    link = family(fit)$link,
    optimizer = as.character(fit@optinfo$optimizer),
    nagq = as.integer(nAGQ)
  )
  if (!is.null(weights)) out$weights <- weights
  if (!is.null(offset)) out$offset <- offset
  txt <- to_json(out)
  writeLines(txt, path(out_rel))

  ## read back and check every number (and the new labels) is exact
  back <- fromJSON(path(out_rel), simplifyVector = FALSE)
  chk <- function(a, b, what) if (!identical(as.numeric(a), as.numeric(b)))
    stop(sprintf("%s: %s did not read back exactly", case, what))
  chk_str <- function(a, b, what) if (!identical(as.character(a), as.character(b)))
    stop(sprintf("%s: %s did not read back exactly", case, what))
  or_na <- function(x) if (is.null(x)) NA_character_ else x
  stopifnot(length(back$fixed) == length(fe), length(back$sd) == nrow(vsd),
            length(back$correlations) == nrow(vcor), length(back$theta) == length(theta))
  for (k in seq_along(fe)) {
    chk(back$fixed[[k]]$estimate, fe[[k]], "fixed estimate")
    chk(back$fixed[[k]]$std_error, se[[k]], "fixed std_error")
  }
  for (k in seq_len(nrow(vsd))) chk(back$sd[[k]]$estimate, vsd$sdcor[k], "sd")
  for (k in seq_len(nrow(vcor))) {
    chk(back$correlations[[k]]$estimate, vcor$sdcor[k], "correlation")
    chk_str(c(back$correlations[[k]]$column1, back$correlations[[k]]$column2),
            c(vcor$var1[k], vcor$var2[k]), "correlation columns")
  }
  chk(vapply(back$theta, function(t) t, 0), unname(theta), "theta")
  chk(back$log_likelihood, as.numeric(ll), "log_likelihood")
  chk(back$deviance, deviance(fit), "deviance")
  if (effects) {
    rt <- ranef_table()
    stopifnot(length(back$effects) == nrow(rt))
    chk(vapply(back$effects, function(e) e$mode, 0), rt$mode, "effect modes")
    chk(vapply(back$effects, function(e) e$sd, 0), rt$sd, "effect sds")
    chk_str(vapply(back$effects, function(e) or_na(e$column), ""), rt$column, "effect columns")
    chk_str(vapply(back$effects, function(e) e$level, ""), rt$level, "effect levels")
  }

  message(sprintf("[%s] %s: %.2f s, logLik %.6f, converged %s, singular %s -> %s",
                  format(Sys.time(), "%H:%M:%S"), case, seconds, as.numeric(ll),
                  out$converged, out$singular, out_rel))
  if (length(out$messages)) message("  messages: ", paste(unlist(out$messages), collapse = " | "))
  invisible(fit)
}

## ---- cases -----------------------------------------------------------------
run_verbagg <- function(suffix = "", control = glmerControl()) {
  rel <- "Validation/stan/data/verbagg.csv"
  d <- read.csv(path(rel), stringsAsFactors = TRUE)
  d$id <- factor(d$id)
  d$item <- factor(d$item)
  fit_case(paste0("verbagg", suffix), "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)",
           d, rel, file.path(fixture_dir, paste0("verbagg", suffix, ".json")),
           control = control)
}

run_cbpp <- function(suffix = "", control = glmerControl()) {
  rel <- file.path(data_dir, "cbpp.csv")
  c0 <- lme4::cbpp
  out <- data.frame(herd = as.character(c0$herd), incidence = c0$incidence,
                    size = c0$size, period = as.character(c0$period),
                    failures = c0$size - c0$incidence)
  write.csv(out, path(rel), row.names = FALSE, quote = FALSE)
  d <- read.csv(path(rel))
  d$herd <- factor(d$herd)
  d$period <- factor(d$period)
  # Same model as cbind(incidence, size - incidence) ~ period + (1 | herd).
  fit_case(paste0("cbpp", suffix), "cbind(incidence, failures) ~ period + (1|herd)",
           d, rel, file.path(fixture_dir, paste0("cbpp", suffix, ".json")),
           control = control)
}

run_pairings <- function(suffix = "", control = glmerControl()) {
  rel <- "examples/pairings.csv"
  d <- read.csv(path(rel))
  d$client <- factor(d$client)
  d$stylist <- factor(d$stylist)
  fit_case(paste0("pairings", suffix), "y ~ (1|client) + (1|stylist) + (1|client:stylist)",
           d, rel, file.path(fixture_dir, paste0("pairings", suffix, ".json")),
           control = control)
}

# A boundary fit: simulated with no client:stylist variance
#   bayesglmm simulate --clients 200 --stylists 20 --sd-pair 0 --beta 0.5 --seed 3
# (committed as Validation/lme4/data/singular.csv); glmer reports
# "boundary (singular) fit" with the pair SD at ~2e-5.
run_singular <- function(suffix = "", control = glmerControl()) {
  rel <- file.path(data_dir, "singular.csv")
  d <- read.csv(path(rel))
  d$client <- factor(d$client)
  d$stylist <- factor(d$stylist)
  fit_case(paste0("singular", suffix), "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)",
           d, rel, file.path(fixture_dir, paste0("singular", suffix, ".json")),
           control = control)
}

run_pairings_large <- function() {
  csv <- Sys.getenv("PAIRINGS_LARGE_CSV", "/tmp/pairings_large.csv")
  if (!file.exists(csv)) stop("pairings_large: ", csv, " not found; see the usage note")
  d <- read.csv(csv)
  d$client <- factor(d$client)
  d$stylist <- factor(d$stylist)
  fit_case("pairings_large", "y ~ (1|client) + (1|stylist) + (1|client:stylist)",
           d, csv, file.path(results_dir, "pairings_large.json"), effects = FALSE)
}

# The "_tight" cases refit with PIRLS converged to 1e-12 instead of glmer's
# default tolPwrss = 1e-7. The default leaves the conditional modes short of
# convergence by enough to move logLik by ~3e-4 (cbpp) and the
# finite-difference Hessian, hence the standard errors, by up to 1.5%; the
# tight fits are the exact Laplace approximation that ours is tested against.
tight <- function(runner) function() runner("_tight", glmerControl(tolPwrss = 1e-12))

## ---- random slopes -----------------------------------------------------------
# These cases use glmerControl(optimizer = "bobyqa") (bobyqa in both of
# glmer's stages), and their "_tight" refits add tolPwrss = 1e-12.
bobyqa <- function(tight = FALSE)
  if (tight) glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12) else glmerControl(optimizer = "bobyqa")

run_verbagg_slopes <- function(suffix = "", control = bobyqa()) {
  rel <- "Validation/stan/data/verbagg.csv"
  d <- read.csv(path(rel), stringsAsFactors = TRUE)
  d$id <- factor(d$id)
  d$item <- factor(d$item)
  fit_case(paste0("verbagg_slopes", suffix),
           "r2 ~ Anger + Gender + btype + situ + (1|id) + (1 + Gender|item)",
           d, rel, file.path(fixture_dir, paste0("verbagg_slopes", suffix, ".json")),
           control = control)
}

# Simulated client x stylist data with a correlated random intercept and slope
# per client: logit p = -0.5 + 0.8 x1 + b0[client] + b1[client] x1
#   + s[stylist] + p[client:stylist], x1 ~ N(0, 1) per row. Each client sees
# a random subset of 2-6 stylists and each pair has 1 + Poisson(4) rows.
# (b0, b1) is bivariate normal with SDs sd_int, sd_slope and correlation cor;
# sd_slope = 0 or sd_pair = 0 leaves that effect out (all zero).
simulate_slopes <- function(seed, clients, stylists, sd_int, sd_slope, cor, sd_stylist,
                            sd_pair, per_client = 2:6, rows_mean = 4) {
  set.seed(seed)
  z0 <- rnorm(clients); z1 <- rnorm(clients)
  b0 <- sd_int * z0
  b1 <- sd_slope * (cor * z0 + sqrt(1 - cor^2) * z1)
  s <- rnorm(stylists, 0, sd_stylist)
  rows <- list()
  for (i in seq_len(clients)) {
    k <- per_client[sample.int(length(per_client), 1L)]
    for (j in sort(sample.int(stylists, k))) {
      n <- 1L + rpois(1L, rows_mean)
      pr <- rnorm(1L, 0, sd_pair)
      x1 <- rnorm(n)
      eta <- -0.5 + 0.8 * x1 + b0[i] + b1[i] * x1 + s[j] + pr
      rows[[length(rows) + 1L]] <- data.frame(client = i, stylist = j, x1 = x1,
                                              y = rbinom(n, 1L, plogis(eta)))
    }
  }
  do.call(rbind, rows)
}

# The committed CSV is the reference; it is simulated (and written) only when
# it is missing. Delete it to regenerate.
slopes_data <- function(rel, sim) {
  if (!file.exists(path(rel))) {
    message("simulating ", rel)
    write.csv(sim(), path(rel), row.names = FALSE, quote = FALSE)
  }
  d <- read.csv(path(rel))
  d$client <- factor(d$client)
  d$stylist <- factor(d$stylist)
  d
}

slopes_formula <- "y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist)"

run_slopes_small <- function(suffix = "", control = bobyqa()) {
  rel <- file.path(data_dir, "slopes_small.csv")
  d <- slopes_data(rel, function()
    simulate_slopes(seed = 20261207, clients = 150, stylists = 20, sd_int = 1, sd_slope = 0.5,
                    cor = 0.4, sd_stylist = 0.7, sd_pair = 0.5))
  fit_case(paste0("slopes_small", suffix), slopes_formula, d, rel,
           file.path(fixture_dir, paste0("slopes_small", suffix, ".json")), control = control)
}

# A boundary fit: simulated like slopes_small (100 clients x 10 stylists, no
# client:stylist effect) but with no client slope variance (true slope SD 0).
# glmer (bobyqa) reports "boundary (singular) fit": the estimated slope SD is
# 0.109 with correlation -1 (theta's third element, the slope's own Cholesky
# entry, is exactly 0). (A true correlation of 1, slope = 0.5 x intercept, was
# tried first: with this seed glmer estimated a correlation of 0.87, not
# singular.)
run_slopes_singular <- function(suffix = "", control = bobyqa()) {
  rel <- file.path(data_dir, "slopes_singular.csv")
  d <- slopes_data(rel, function()
    simulate_slopes(seed = 20261207, clients = 100, stylists = 10, sd_int = 1, sd_slope = 0,
                    cor = 0, sd_stylist = 0.7, sd_pair = 0))
  fit_case(paste0("slopes_singular", suffix), "y ~ x1 + (1 + x1 | client) + (1 | stylist)", d, rel,
           file.path(fixture_dir, paste0("slopes_singular", suffix, ".json")), control = control)
}

# The 35,352-row random-slope benchmark data of Validation/slopes; timing and
# estimates only, written without effects.
run_slopes_large <- function(suffix = "", control = bobyqa()) {
  rel <- "Validation/slopes/data/slopes.csv"
  d <- read.csv(path(rel))
  d$client <- factor(d$client)
  d$stylist <- factor(d$stylist)
  fit_case(paste0("slopes_large", suffix), slopes_formula, d, rel,
           file.path(results_dir, paste0("slopes_large", suffix, ".json")),
           effects = FALSE, control = control)
}

tight_bobyqa <- function(runner) function() runner("_tight", bobyqa(tight = TRUE))

## ---- adaptive Gauss-Hermite quadrature (issue 19) ------------------------------
# glmer(nAGQ = n) for a single scalar random-effects term, bobyqa in both
# stages ("_tight": tolPwrss = 1e-12). With nAGQ > 1 glmer's logLik is
# -1/2 of its AGQ deviance, which is built from deviance residuals: for 0/1
# rows that is the log-likelihood; for cbind() rows it lacks the binomial
# coefficients and is relative to the saturated model (cbpp).
#
# agq_sparse: few observations per level under a large SD, where Laplace is
# biased: 400 groups with 2-3 binary rows each, logit p = -0.5 + 0.5 x +
# b[group], b ~ N(0, 2.5^2), x ~ N(0, 1) per row (seed 20261207).
simulate_sparse <- function(seed = 20261207, groups = 400, sd = 2.5) {
  set.seed(seed)
  b <- rnorm(groups, 0, sd)
  rows <- list()
  for (g in seq_len(groups)) {
    n <- sample(2:3, 1L)
    x <- rnorm(n)
    eta <- -0.5 + 0.5 * x + b[g]
    rows[[g]] <- data.frame(group = sprintf("g%03d", g), x = x, y = rbinom(n, 1L, plogis(eta)))
  }
  do.call(rbind, rows)
}

run_agq_sparse <- function(nAGQ, suffix = "", control = bobyqa()) {
  rel <- file.path(data_dir, "agq_sparse.csv")
  if (!file.exists(path(rel))) {
    message("simulating ", rel)
    write.csv(simulate_sparse(), path(rel), row.names = FALSE, quote = FALSE)
  }
  d <- read.csv(path(rel))
  d$group <- factor(d$group)
  fit_case(sprintf("agq_sparse_%d%s", nAGQ, suffix), "y ~ x + (1|group)", d, rel,
           file.path(fixture_dir, sprintf("agq_sparse_%d%s.json", nAGQ, suffix)),
           control = control, nAGQ = nAGQ)
}

# nAGQ = 0: glmer's first stage alone (the fixed effects found inside PIRLS
# with the effects), for any model; VerbAgg's crossed (1|id) + (1|item).
run_verbagg_agq0 <- function() {
  rel <- "Validation/stan/data/verbagg.csv"
  d <- read.csv(path(rel), stringsAsFactors = TRUE)
  d$id <- factor(d$id)
  d$item <- factor(d$item)
  fit_case("verbagg_agq_0_tight", "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)",
           d, rel, file.path(fixture_dir, "verbagg_agq_0_tight.json"),
           control = bobyqa(tight = TRUE), nAGQ = 0L)
}

run_cbpp_agq <- function(nAGQ, suffix = "", control = bobyqa()) {
  rel <- file.path(data_dir, "cbpp.csv")
  d <- read.csv(path(rel))
  d$herd <- factor(d$herd)
  d$period <- factor(d$period)
  fit_case(sprintf("cbpp_agq_%d%s", nAGQ, suffix), "cbind(incidence, failures) ~ period + (1|herd)",
           d, rel, file.path(fixture_dir, sprintf("cbpp_agq_%d%s.json", nAGQ, suffix)),
           control = control, nAGQ = nAGQ)
}

## ---- offsets and prior weights (issue 19) -----------------------------------
# offsets.csv: 600 binary rows in 60 groups coded by numbers (101, ..., 160:
# a grouping factor whatever its values look like), logit p = -1 + 0.6 x +
# log(exposure) + base + b[group], b ~ N(0, 0.8^2), x ~ N(0, 1),
# exposure ~ U(0.5, 4), base ~ N(0, 0.5^2) (seed 20261208).
# weighted.csv: the proportion p = s/w of w = 1..8 trials per row, 40 groups,
# logit p = 0.3 - 0.8 x + b[group], b ~ N(0, 1) (seed 20261209); glmer's
# p ~ x with weights = w is cbind(s, w - s) ~ x.
offsets_data <- function() {
  rel <- file.path(data_dir, "offsets.csv")
  if (!file.exists(path(rel))) {
    message("simulating ", rel)
    set.seed(20261208)
    n <- 600L
    group <- sample(101:160, n, replace = TRUE)
    b <- rnorm(60, 0, 0.8)
    x <- round(rnorm(n), 4); exposure <- round(runif(n, 0.5, 4), 3); base <- round(rnorm(n, 0, 0.5), 4)
    y <- rbinom(n, 1L, plogis(-1 + 0.6 * x + log(exposure) + base + b[group - 100L]))
    write.csv(data.frame(group, x, exposure, base, y), path(rel), row.names = FALSE, quote = FALSE)
  }
  d <- read.csv(path(rel))
  d$group <- factor(d$group)
  list(rel = rel, data = d)
}

weighted_data <- function() {
  rel <- file.path(data_dir, "weighted.csv")
  if (!file.exists(path(rel))) {
    message("simulating ", rel)
    set.seed(20261209)
    n <- 400L
    group <- sprintf("g%02d", sample(1:40, n, replace = TRUE))
    b <- rnorm(40, 0, 1)
    x <- round(rnorm(n), 4); w <- sample(1:8, n, replace = TRUE)
    s <- rbinom(n, w, plogis(0.3 - 0.8 * x + b[as.integer(substr(group, 2, 3))]))
    write.csv(data.frame(group, x, w, p = s / w), path(rel), row.names = FALSE, quote = FALSE)
  }
  d <- read.csv(path(rel))
  d$group <- factor(d$group)
  list(rel = rel, data = d)
}

run_offset_case <- function(case, formula_text, offset = NULL) {
  od <- offsets_data()
  fit_case(case, formula_text, od$data, od$rel, file.path(fixture_dir, paste0(case, ".json")),
           control = bobyqa(tight = TRUE), offset = offset)
}

run_weighted <- function() {
  wd <- weighted_data()
  fit_case("weighted_tight", "p ~ x + (1|group)", wd$data, wd$rel, file.path(fixture_dir, "weighted_tight.json"),
           control = bobyqa(tight = TRUE), weights = "w")
}

cases <- commandArgs(trailingOnly = TRUE)
if (length(cases) == 0L)
  cases <- c("verbagg", "cbpp", "pairings", "singular", "verbagg_tight", "cbpp_tight", "pairings_tight")
groups <- list(slopes = c("verbagg_slopes", "verbagg_slopes_tight", "slopes_small",
                          "slopes_small_tight", "slopes_singular", "slopes_singular_tight"),
               agq = c("agq_sparse_1", "agq_sparse_1_tight", "agq_sparse_10", "agq_sparse_10_tight",
                       "agq_sparse_25_tight", "cbpp_agq_10", "cbpp_agq_10_tight",
                       "agq_sparse_0_tight", "cbpp_agq_0_tight", "verbagg_agq_0_tight"),
               offsets = c("offset_formula_tight", "offset_argument_tight", "offset_both_tight",
                           "offset_slopes_tight", "offset_agq_10_tight", "weighted_tight"))
cases <- unlist(lapply(cases, function(cs) if (cs %in% names(groups)) groups[[cs]] else cs))
runners <- list(verbagg = run_verbagg, cbpp = run_cbpp, pairings = run_pairings, singular = run_singular,
                verbagg_tight = tight(run_verbagg), cbpp_tight = tight(run_cbpp),
                pairings_tight = tight(run_pairings),
                pairings_large = run_pairings_large,
                verbagg_slopes = run_verbagg_slopes, verbagg_slopes_tight = tight_bobyqa(run_verbagg_slopes),
                slopes_small = run_slopes_small, slopes_small_tight = tight_bobyqa(run_slopes_small),
                slopes_singular = run_slopes_singular, slopes_singular_tight = tight_bobyqa(run_slopes_singular),
                slopes_large = run_slopes_large, slopes_large_tight = tight_bobyqa(run_slopes_large),
                agq_sparse_1 = function() run_agq_sparse(1L),
                agq_sparse_1_tight = function() run_agq_sparse(1L, "_tight", bobyqa(tight = TRUE)),
                agq_sparse_10 = function() run_agq_sparse(10L),
                agq_sparse_10_tight = function() run_agq_sparse(10L, "_tight", bobyqa(tight = TRUE)),
                agq_sparse_25_tight = function() run_agq_sparse(25L, "_tight", bobyqa(tight = TRUE)),
                cbpp_agq_10 = function() run_cbpp_agq(10L),
                cbpp_agq_10_tight = function() run_cbpp_agq(10L, "_tight", bobyqa(tight = TRUE)),
                agq_sparse_0_tight = function() run_agq_sparse(0L, "_tight", bobyqa(tight = TRUE)),
                cbpp_agq_0_tight = function() run_cbpp_agq(0L, "_tight", bobyqa(tight = TRUE)),
                verbagg_agq_0_tight = function() run_verbagg_agq0(),
                offset_formula_tight = function()
                  run_offset_case("offset_formula_tight", "y ~ x + offset(log(exposure)) + (1|group)"),
                offset_argument_tight = function()
                  run_offset_case("offset_argument_tight", "y ~ x + (1|group)", offset = "base"),
                offset_both_tight = function()
                  run_offset_case("offset_both_tight", "y ~ x + offset(log(exposure)) + (1|group)", offset = "base"),
                offset_slopes_tight = function()
                  run_offset_case("offset_slopes_tight", "y ~ x + offset(log(exposure) + base) + (1 + x|group)"),
                offset_agq_10_tight = function() {
                  od <- offsets_data()
                  fit_case("offset_agq_10_tight", "y ~ x + offset(log(exposure)) + (1|group)", od$data, od$rel,
                           file.path(fixture_dir, "offset_agq_10_tight.json"), control = bobyqa(tight = TRUE),
                           nAGQ = 10L)
                },
                weighted_tight = run_weighted)
bad <- setdiff(cases, names(runners))
if (length(bad)) stop("unknown case(s): ", paste(bad, collapse = ", "),
                      "; choose from ", paste(c(names(runners), names(groups)), collapse = ", "))
for (cs in cases) runners[[cs]]()
