#!/usr/bin/env Rscript
# The formula table (issue 19): lme4::glFormula's model matrices and glmer's
# EB fit for every construct of lme4's formula language that bayesglmm reads,
# alone and combined, on cbpp, a subset of VerbAgg and simulated data.
#
# Usage (from the repository root):
#   Rscript Validation/lme4/formula_table.R
#
# Writes Tests/BayesGLMMTests/Fixtures/formulas/<case>.json, one per row of
# the table below, and the simulated data Validation/lme4/data/
# formula_table.csv, formula_table_dot.csv and verbagg_subset.csv (made only
# when missing). Each fixture holds: the formula as bayesglmm is given it and
# as R is (they differ only for `.`: R's takes in the grouping factors, so R
# is given `. - g`), the options (weights, offset, contrasts), the data file,
# the rows used, X (names and every value, shortest round-tripping decimals),
# Zt (each row's term, level and column, in lme4's order, and its nonzero
# entries), and glmer's fit (bobyqa, tolPwrss = 1e-12): fixed effects with
# standard errors, SDs, logLik. FormulaTableTests reads them.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
  library(splines)
  library(numDeriv)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))  # factor levels sort in byte order, as bayesglmm's
stopifnot(Sys.getlocale("LC_COLLATE") == "C")

root <- "."
stopifnot(file.exists(file.path(root, "Package.swift")))
out_dir <- file.path("Tests", "BayesGLMMTests", "Fixtures", "formulas")
data_dir <- file.path("Validation", "lme4", "data")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# json_scalar(), json_numbers(), json_matrix() from json.R. (glmer's crossed
# fits here are reproducible run to run, but move by up to 3e-5 relative with
# unrelated changes to the R session — even one more global object — so a
# regenerated table differs from the committed one at that level, far inside
# the tests' 1e-3; X and Zt do not change.)
json <- new.env()
sys.source(file.path("Validation", "lme4", "json.R"), envir = json)
json_scalar <- json$json_scalar; json_numbers <- json$json_numbers; json_matrix <- json$json_matrix

## ---- data ------------------------------------------------------------------
simulated <- function() {
  rel <- file.path(data_dir, "formula_table.csv")
  if (!file.exists(rel)) {
    set.seed(20261207)
    n <- 400L
    g <- sample(1:30, n, TRUE); h <- sample(c(3, 7, 11, 19, 23, 29), n, TRUE)
    x <- round(rnorm(n), 4); z <- round(runif(n, 0.5, 4), 3)
    a <- sample(c("p", "q", "r"), n, TRUE); b <- sample(c("u", "v"), n, TRUE)
    code <- sample(c(2, 9, 10), n, TRUE); o <- round(rnorm(n, 0, 0.3), 4)
    eta <- -0.3 + 0.6 * x + 0.4 * log(z) - 0.5 * (a == "q") + 0.3 * (b == "v") +
      rnorm(30, 0, 0.7)[g] + rnorm(30, 0, 0.3)[g] * x + rnorm(29, 0, 0.4)[h] + o
    y <- rbinom(n, 1L, plogis(eta))
    nt <- sample(1:6, n, TRUE); s <- rbinom(n, nt, plogis(eta))
    w <- sample(1:5, n, TRUE); sw <- rbinom(n, w, plogis(eta))
    d <- data.frame(y, s, n = nt, p = sw / w, w, x, z, a, b, code, g, h, o)
    write.csv(d, rel, row.names = FALSE, quote = FALSE)
  }
  list(rel = rel, data = read.csv(rel, stringsAsFactors = FALSE))
}
dotted <- function() {
  rel <- file.path(data_dir, "formula_table_dot.csv")
  if (!file.exists(rel)) {
    sim <- simulated()$data
    write.csv(sim[, c("y", "x", "a", "z", "g")], rel, row.names = FALSE, quote = FALSE)
  }
  list(rel = rel, data = read.csv(rel, stringsAsFactors = FALSE))
}
verbagg <- function() {
  rel <- file.path(data_dir, "verbagg_subset.csv")
  if (!file.exists(rel)) {
    v <- read.csv("Validation/stan/data/verbagg.csv", stringsAsFactors = FALSE)
    write.csv(v[v$id <= 60, ], rel, row.names = FALSE, quote = FALSE)
  }
  list(rel = rel, data = read.csv(rel, stringsAsFactors = FALSE))
}
cbpp <- function() {
  rel <- file.path(data_dir, "cbpp.csv")
  list(rel = rel, data = read.csv(rel, stringsAsFactors = FALSE))
}

## ---- one case --------------------------------------------------------------
write_case <- function(case, formula_text, source, r_formula = formula_text, weights = NULL, offset = NULL,
                       contrasts = "treatment", grouping = character(0)) {
  old <- options(contrasts = c(paste0("contr.", contrasts), "contr.poly"))
  on.exit(options(old), add = TRUE)
  d <- source$data
  # Grouping factors are factors whatever their values look like; so are
  # the text columns (R >= 4 reads them as character).
  for (v in names(d)) if (is.character(d[[v]]) || v %in% grouping) d[[v]] <- factor(d[[v]])
  form <- as.formula(r_formula)
  control <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12)
  args <- list(form, data = d, family = binomial)
  if (!is.null(weights)) args$weights <- d[[weights]]
  if (!is.null(offset)) args$offset <- d[[offset]]
  lf <- do.call(glFormula, args)
  fit <- suppressWarnings(suppressMessages(do.call(glmer, c(args, list(control = control)))))

  X <- lf$X
  Zt <- lf$reTrms$Zt
  # Each row of Zt: its term, level and column (lme4's order: terms by
  # decreasing number of levels, each level's columns together).
  cnms <- lf$reTrms$cnms; flist <- lf$reTrms$flist; Gp <- lf$reTrms$Gp
  terms <- names(cnms)
  zt_rows <- do.call(rbind, lapply(seq_along(terms), function(k) {
    f <- flist[[attr(flist, "assign")[k]]]
    q <- length(cnms[[k]])
    data.frame(block = k, term = terms[k], level = rep(levels(f), each = q), column = rep(cnms[[k]], nlevels(f)),
               stringsAsFactors = FALSE)
  }))
  stopifnot(nrow(zt_rows) == nrow(Zt))
  T <- as(Zt, "TsparseMatrix")
  keep <- T@x != 0

  fe <- fixef(fit); se <- sqrt(diag(as.matrix(vcov(fit))))
  # glmer's standard errors come from its deviance's Hessian over (theta,
  # beta) by lme4's deriv12 (one step of 1e-4), which is off by up to ~1% on
  # ill-conditioned fixed effects (exp(x/2) beside sqrt(z), poly columns):
  # the same Hessian by Richardson extrapolation (numDeriv) is the reference
  # for ours.
  devfun <- update(fit, devFunOnly = TRUE)
  pars <- c(getME(fit, "theta"), fe)
  se_hessian <- tryCatch({
    h <- numDeriv::hessian(devfun, pars)
    sqrt(diag(solve(h / 2)))[-seq_along(getME(fit, "theta"))]
  }, error = function(e) rep(NA_real_, length(fe)))
  vc <- as.data.frame(VarCorr(fit))
  ref <- list(
    case = case, formula = formula_text, data = source$rel, rows_used = nrow(X),
    fixed_names = I(colnames(X)), fixed = json_matrix(X),
    zt = list(block = I(zt_rows$block), term = I(zt_rows$term), level = I(zt_rows$level),
              column = I(zt_rows$column),
              row = I(T@i[keep]), data_row = I(T@j[keep]), value = json_numbers(T@x[keep])),
    glmer = list(fixed = lapply(seq_along(fe), function(j)
                   c(list(name = names(fe)[j], estimate = json_scalar(fe[[j]]), std_error = json_scalar(se[[j]])),
                     if (is.finite(se_hessian[j])) list(std_error_hessian = json_scalar(se_hessian[j])))),
                 sd = lapply(which(is.na(vc$var2)), function(r)
                   list(term = vc$grp[r], column = vc$var1[r], estimate = json_scalar(vc$sdcor[r]))),
                 log_likelihood = json_scalar(logLik(fit)),
                 singular = isSingular(fit))
  )
  if (r_formula != formula_text) ref$r_formula <- r_formula
  if (!is.null(weights)) ref$weights <- weights
  if (!is.null(offset)) ref$offset <- offset
  if (contrasts != "treatment") ref$contrasts <- contrasts
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, json_verbatim = TRUE),
             file.path(out_dir, paste0(case, ".json")))
  cat(sprintf("%-28s %4d rows  X %3d cols  Zt %4d rows  logLik %.4f%s\n", case, nrow(X), ncol(X), nrow(Zt),
              as.numeric(logLik(fit)), if (isSingular(fit)) "  (singular)" else ""))
}

## ---- the table -------------------------------------------------------------
sim <- simulated(); dot <- dotted(); va <- verbagg(); cb <- cbpp()
G <- c("g", "h")
cases <- list(
  # cbpp: counts, factor(), 0 +, offset, sum contrasts
  list("cbpp_counts", "cbind(incidence, failures) ~ factor(period) + (1 | herd)", cb, grouping = "herd"),
  list("cbpp_cbind_expression", "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)", cb,
       grouping = "herd"),
  list("cbpp_no_intercept", "cbind(incidence, failures) ~ 0 + factor(period) + (1 | herd)", cb, grouping = "herd"),
  list("cbpp_offset", "cbind(incidence, failures) ~ factor(period) + offset(log(size) / 4) + (1 | herd)", cb,
       grouping = "herd"),
  list("cbpp_sum_contrasts", "cbind(incidence, failures) ~ factor(period) + (1 | herd)", cb, grouping = "herd",
       contrasts = "sum"),
  # VerbAgg (ids 1-60): categorical interactions, powers, scale, poly, %in%, slopes
  list("verbagg_crossing", "r2 ~ btype * situ + (1 | id) + (1 | item)", va, grouping = c("id", "item")),
  list("verbagg_main", "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", va,
       grouping = c("id", "item")),
  list("verbagg_power", "r2 ~ (Anger + Gender + btype)^2 + (1 | id)", va, grouping = c("id", "item")),
  list("verbagg_scale", "r2 ~ scale(Anger) + Gender + (1 | id) + (1 | item)", va, grouping = c("id", "item")),
  list("verbagg_poly", "r2 ~ poly(Anger, 2) + situ + (1 | id)", va, grouping = c("id", "item")),
  list("verbagg_within", "r2 ~ btype + situ %in% btype + (1 | id)", va, grouping = c("id", "item")),
  list("verbagg_slopes", "r2 ~ Anger + Gender + (1 | id) + (1 + Gender | item)", va, grouping = c("id", "item")),
  # simulated: every other construct
  list("sim_numeric", "y ~ x + (1 | g)", sim, grouping = G),
  list("sim_numeric_by_factor", "y ~ x * a + (1 | g)", sim, grouping = G),
  list("sim_factor_crossing", "y ~ a * b + (1 | g)", sim, grouping = G),
  list("sim_factor_nesting", "y ~ a + a:b + (1 | g)", sim, grouping = G),
  list("sim_power", "y ~ (x + a + b)^2 + (1 | g)", sim, grouping = G),
  list("sim_minus_term", "y ~ x * a - a + (1 | g)", sim, grouping = G),
  list("sim_no_intercept", "y ~ 0 + a + x + (1 | g)", sim, grouping = G),
  list("sim_minus_one", "y ~ x + z - 1 + (1 | g)", sim, grouping = G),
  list("sim_log_identity", "y ~ log(z) + I(x^2) + I(2 * x - z) + (1 | g)", sim, grouping = G),
  list("sim_functions", "y ~ log1p(z) + exp(x/2) + sqrt(z) + abs(x) + (1 | g)", sim, grouping = G),
  list("sim_factor_codes", "y ~ factor(code) + x + (1 | g)", sim, grouping = G),
  list("sim_poly_ns", "y ~ poly(x, 2, raw = TRUE) + ns(z, df = 3) + (1 | g)", sim, grouping = G),
  list("sim_dot", "y ~ . + (1 | g)", dot, r_formula = "y ~ . - g + (1 | g)", grouping = "g"),
  list("sim_offset_formula", "y ~ x + offset(log(z)) + (1 | g)", sim, grouping = G),
  list("sim_offset_argument", "y ~ x + a + (1 | g)", sim, offset = "o", grouping = G),
  list("sim_weights", "p ~ x + (1 | g)", sim, weights = "w", grouping = G),
  list("sim_counts_expression", "cbind(s, n - s) ~ x + a + (1 | g)", sim, grouping = G),
  list("sim_slopes", "y ~ x + (1 + x | g)", sim, grouping = G),
  list("sim_uncorrelated", "y ~ x + (x || g)", sim, grouping = G),
  list("sim_nested", "y ~ x + (1 | h/g)", sim, grouping = G),
  list("sim_crossed", "y ~ x + log(z) + (1 | g) + (1 | h)", sim, grouping = G),
  list("sim_scaled_slope", "y ~ scale(x):a + (0 + scale(x) | h) + (1 | g)", sim, grouping = G),
  list("sim_sum_contrasts", "y ~ x * a + b + (1 | g)", sim, contrasts = "sum", grouping = G),
  list("sim_everything", "cbind(s, n - s) ~ poly(x, 2) * b + scale(log(z)) + factor(code) + offset(o) + (1 + x | g) + (1 | h)",
       sim, grouping = G)
)
set.seed(1)
for (cs in cases) {
  args <- list(case = cs[[1]], formula_text = cs[[2]], source = cs[[3]])
  for (name in setdiff(names(cs), "")) args[[name]] <- cs[[name]]
  do.call(write_case, args)
}
cat(length(cases), "cases\n")
