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
# Each fit is lme4::glmer(formula, data, family = binomial) with default
# settings (nAGQ = 1, default optimizer and control). Results are written to
# Tests/BayesGLMMTests/Fixtures/eb/<case>.json (pairings_large:
# Validation/lme4/results/pairings_large.json, without effects).
# See Validation/lme4/README.md for the schema.

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
                     effects = TRUE, control = glmerControl()) {
  message(sprintf("[%s] %s: glmer(%s) on %d rows",
                  format(Sys.time(), "%H:%M:%S"), case, formula_text, nrow(data)))
  form <- as.formula(formula_text)
  wall <- system.time(
    fit <- glmer(form, data = data, family = binomial, control = control)
  )
  seconds <- unname(wall[["elapsed"]])

  fe <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  fixed <- lapply(seq_along(fe), function(k)
    list(name = names(fe)[k], estimate = num(fe[k]), std_error = num(se[k])))

  vc <- as.data.frame(VarCorr(fit))
  sds <- lapply(seq_len(nrow(vc)), function(k)
    list(term = vc$grp[k], estimate = num(vc$sdcor[k])))

  eff <- list()
  if (effects) {
    re <- ranef(fit, condVar = TRUE)
    for (term in names(re)) {
      m  <- re[[term]]
      pv <- attr(m, "postVar")           # 1 x 1 x nlevels for a random intercept
      stopifnot(ncol(m) == 1L, dim(pv)[1] == 1L, dim(pv)[3] == nrow(m))
      lv <- rownames(m)
      mode <- m[[1]]
      csd <- sqrt(pv[1, 1, ])
      eff <- c(eff, lapply(seq_along(lv), function(k)
        list(term = term, level = as.character(lv[k]),
             mode = num(mode[k]), sd = num(csd[k]))))
    }
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
    effects = eff,
    log_likelihood = num(as.numeric(ll)),
    aic = num(AIC(fit)),
    bic = num(BIC(fit)),
    deviance = num(deviance(fit)),
    singular = isSingular(fit),
    converged = length(conv_msgs) == 0L,
    messages = as.list(c(conv_msgs, warn_msgs)),
    seconds = num(seconds),
    link = family(fit)$link
  )
  txt <- to_json(out)
  writeLines(txt, path(out_rel))

  ## read back and check every number is exact
  back <- fromJSON(path(out_rel), simplifyVector = FALSE)
  chk <- function(a, b, what) if (!identical(as.numeric(a), as.numeric(b)))
    stop(sprintf("%s: %s did not read back exactly", case, what))
  for (k in seq_along(fe)) {
    chk(back$fixed[[k]]$estimate, fe[[k]], "fixed estimate")
    chk(back$fixed[[k]]$std_error, se[[k]], "fixed std_error")
  }
  for (k in seq_len(nrow(vc))) chk(back$sd[[k]]$estimate, vc$sdcor[k], "sd")
  chk(back$log_likelihood, as.numeric(ll), "log_likelihood")
  chk(back$deviance, deviance(fit), "deviance")
  if (effects) {
    re <- ranef(fit, condVar = TRUE)
    modes <- unlist(lapply(re, function(m) m[[1]]), use.names = FALSE)
    csds <- unlist(lapply(re, function(m) sqrt(attr(m, "postVar")[1, 1, ])),
                   use.names = FALSE)
    chk(vapply(back$effects, function(e) e$mode, 0), modes, "effect modes")
    chk(vapply(back$effects, function(e) e$sd, 0), csds, "effect sds")
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

cases <- commandArgs(trailingOnly = TRUE)
if (length(cases) == 0L)
  cases <- c("verbagg", "cbpp", "pairings", "singular", "verbagg_tight", "cbpp_tight", "pairings_tight")
runners <- list(verbagg = run_verbagg, cbpp = run_cbpp, pairings = run_pairings, singular = run_singular,
                verbagg_tight = tight(run_verbagg), cbpp_tight = tight(run_cbpp),
                pairings_tight = tight(run_pairings),
                pairings_large = run_pairings_large)
bad <- setdiff(cases, names(runners))
if (length(bad)) stop("unknown case(s): ", paste(bad, collapse = ", "),
                      "; choose from ", paste(names(runners), collapse = ", "))
for (cs in cases) runners[[cs]]()
