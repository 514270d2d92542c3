#!/usr/bin/env Rscript
# lme4::glmer fit of the random-slope model with the bobyqa optimizer, run by
# bench.py as its own process (Debian: r-cran-lme4, r-cran-jsonlite).
#
#   Rscript Validation/slopes/glmer.R DATA.csv OUT.json
#
# glmer(y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist),
#       family = binomial, control = glmerControl(optimizer = "bobyqa"))
# (Laplace, nAGQ = 1). Writes OUT.json: the wall time of the glmer() call, the
# fixed effects with standard errors, the SDs and the correlation (VarCorr),
# the same seven under bayesglmm's names in "estimates", the log-likelihood,
# AIC, BIC, deviance and lme4's convergence messages: the reference for a
# later comparison with `bayesglmm eb` once it takes slopes. Numbers are
# written with 17 significant digits (Validation/lme4/json.R).
start <- proc.time()[["elapsed"]]
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 2L)
data_path <- args[1]; out <- args[2]

root <- "."
if (!file.exists(file.path(root, "Package.swift"))) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1L) root <- normalizePath(file.path(dirname(f), "..", ".."))
}
source(file.path(root, "Validation/lme4/json.R"))  # num(), to_json()

d <- read.csv(data_path)
d$client <- factor(d$client)
d$stylist <- factor(d$stylist)
formula_text <- "y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist)"
t0 <- proc.time()[["elapsed"]]
fit <- glmer(as.formula(formula_text), data = d, family = binomial,
             control = glmerControl(optimizer = "bobyqa"))
seconds <- proc.time()[["elapsed"]] - t0

fe <- fixef(fit)
se <- sqrt(diag(as.matrix(vcov(fit))))
vc <- as.data.frame(VarCorr(fit))
row_of <- function(grp, var1, var2 = NA) {
  k <- which(vc$grp == grp & vc$var1 == var1 & (if (is.na(var2)) is.na(vc$var2) else vc$var2 %in% var2))
  if (length(k) != 1L) stop("VarCorr has no single row ", grp, " ", var1, " ", var2)
  vc$sdcor[k]
}
estimates <- list(
  "(Intercept)" = num(fe[["(Intercept)"]]), "x1" = num(fe[["x1"]]),
  "sd(client)[(Intercept)]" = num(row_of("client", "(Intercept)")),
  "sd(client)[x1]" = num(row_of("client", "x1")),
  "cor(client)[(Intercept)][x1]" = num(row_of("client", "(Intercept)", "x1")),
  "sd(stylist)" = num(row_of("stylist", "(Intercept)")),
  "sd(client:stylist)" = num(row_of("client:stylist", "(Intercept)")))
conv_msgs <- as.character(unlist(fit@optinfo$conv$lme4$messages))
warn_msgs <- as.character(unlist(fit@optinfo$warnings))
ll <- logLik(fit)
result <- list(
  program = paste("lme4", as.character(packageVersion("lme4"))),
  case = "slopes",
  formula = formula_text,
  optimizer = "bobyqa",
  data = data_path,
  rows_used = as.integer(nobs(fit)),
  seconds = num(seconds),
  estimates = estimates,
  fixed = lapply(seq_along(fe), function(k)
    list(name = names(fe)[k], estimate = num(fe[k]), std_error = num(se[k]))),
  varcorr = lapply(seq_len(nrow(vc)), function(k)
    list(grp = vc$grp[k], var1 = vc$var1[k], var2 = vc$var2[k],
         sdcor = num(vc$sdcor[k]))),
  log_likelihood = num(as.numeric(ll)),
  aic = num(AIC(fit)), bic = num(BIC(fit)), deviance = num(deviance(fit)),
  singular = isSingular(fit),
  converged = length(conv_msgs) == 0L,
  messages = as.list(c(conv_msgs, warn_msgs)),
  link = family(fit)$link,
  total_seconds_in_process = num(proc.time()[["elapsed"]] - start))
dir.create(dirname(out), recursive = TRUE, showWarnings = FALSE)
writeLines(to_json(result), out)
message(sprintf("glmer (bobyqa): %.2f s, logLik %.4f, converged %s", seconds, as.numeric(ll), result$converged))
