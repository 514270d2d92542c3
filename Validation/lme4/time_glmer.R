#!/usr/bin/env Rscript
# One lme4::glmer fit of one CSV, written as JSON in the schema of
# Validation/lme4/fit_glmer.R (see Validation/lme4/README.md). Used by
# Validation/lme4/benchmark.sh to time glmer beside `bayesglmm eb`; it never
# writes the committed fixtures.
#
# Usage:
#   Rscript Validation/lme4/time_glmer.R DATA.csv FORMULA OUT.json [CASE] [--no-effects]
#
# e.g.
#   Rscript Validation/lme4/time_glmer.R examples/pairings.csv \
#       'y ~ (1|client) + (1|stylist) + (1|client:stylist)' /tmp/glmer.json pairings
#
# The fit is glmer(FORMULA, data, family = binomial) with lme4's default
# settings (nAGQ = 1, default optimizer and control), exactly as
# fit_glmer.R fits the `pairings` and `pairings_large` cases. The grouping
# variables of the random terms are read as factors; other character columns
# become factors with alphabetical levels. After the fit the script computes
# what `bayesglmm eb` reports too: standard errors (vcov), the conditional
# modes and SDs of every effect (ranef(condVar = TRUE)), logLik, AIC, BIC,
# deviance and the convergence messages; --no-effects leaves the effects out
# of the JSON (they are still computed).
#
# `seconds` is the wall time of the glmer() call alone (system.time), as in
# fit_glmer.R; it includes the finite-difference Hessian that vcov() uses.
# `timings` (an extra field) gives the elapsed seconds of reading the CSV,
# glmer(), vcov(), ranef(condVar = TRUE) and of the R process up to writing. The whole process (R start-up, reading the CSV, the extras
# above, writing the JSON) is what benchmark.sh times with /usr/bin/time.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
write_effects <- !("--no-effects" %in% args)
args <- setdiff(args, "--no-effects")
if (length(args) < 3L || length(args) > 4L)
  stop("usage: time_glmer.R DATA.csv FORMULA OUT.json [CASE] [--no-effects]")
csv <- args[[1]]
formula_text <- args[[2]]
out_path <- args[[3]]
case <- if (length(args) == 4L) args[[4]] else sub("\\.csv$", "", basename(csv))

## ---- JSON with full precision: num(), to_json() (shared with fit_glmer.R) --
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(dirname(script), "json.R"))
numv <- function(x) ifelse(is.finite(x), sprintf("%.17g", x), "null")  # vectorised
jstr <- function(s) paste0('"', gsub('"', '\\\\"', gsub("\\\\", "\\\\\\\\", s)), '"')

## ---- data ------------------------------------------------------------------
form <- as.formula(formula_text)
t_read <- system.time(d <- read.csv(csv, stringsAsFactors = TRUE))[["elapsed"]]
grouping <- unique(unlist(lapply(findbars(form), function(b) all.vars(b[[3]]))))
for (g in grouping) d[[g]] <- factor(d[[g]])

message(sprintf("[%s] %s: glmer(%s) on %d rows", format(Sys.time(), "%H:%M:%S"),
                case, formula_text, nrow(d)))
wall <- system.time(fit <- glmer(form, data = d, family = binomial))
seconds <- unname(wall[["elapsed"]])

## ---- what bayesglmm eb reports as well --------------------------------------
fe <- fixef(fit)
t_vcov <- system.time(se <- sqrt(diag(as.matrix(vcov(fit)))))[["elapsed"]]
fixed <- lapply(seq_along(fe), function(k)
  list(name = names(fe)[k], estimate = num(fe[k]), std_error = num(se[k])))
vc <- as.data.frame(VarCorr(fit))
sds <- lapply(seq_len(nrow(vc)), function(k)
  list(term = vc$grp[k], estimate = num(vc$sdcor[k])))

t_ranef <- system.time(re <- ranef(fit, condVar = TRUE))[["elapsed"]]
eff_txt <- character(0)
for (term in names(re)) {
  m <- re[[term]]
  pv <- attr(m, "postVar")
  stopifnot(ncol(m) == 1L, dim(pv)[1] == 1L, dim(pv)[3] == nrow(m))
  eff_txt <- c(eff_txt, sprintf('{"term": %s, "level": %s, "mode": %s, "sd": %s}',
                                jstr(term), jstr(rownames(m)), numv(m[[1]]),
                                numv(sqrt(pv[1, 1, ]))))
}
effects <- structure(if (write_effects && length(eff_txt))
                       paste0("[\n", paste(eff_txt, collapse = ",\n"), "\n]") else "[]",
                     class = "json")

conv_msgs <- as.character(unlist(fit@optinfo$conv$lme4$messages))
warn_msgs <- as.character(unlist(fit@optinfo$warnings))
ll <- as.numeric(logLik(fit))
out <- list(
  program = paste("lme4", as.character(packageVersion("lme4"))),
  case = case,
  formula = formula_text,
  data = csv,
  rows_used = as.integer(nobs(fit)),
  fixed = fixed,
  sd = sds,
  effects = effects,
  log_likelihood = num(ll),
  aic = num(AIC(fit)),
  bic = num(BIC(fit)),
  deviance = num(deviance(fit)),
  singular = isSingular(fit),
  converged = length(conv_msgs) == 0L,
  messages = as.list(c(conv_msgs, warn_msgs)),
  seconds = num(seconds),
  # Not in fit_glmer.R's schema (readers ignore it): elapsed seconds of the
  # other stages, to see where the process time beyond `seconds` goes.
  timings = list(read_csv = num(t_read), glmer = num(seconds), vcov = num(t_vcov),
                 ranef_condvar = num(t_ranef), r_process_before_write = num(proc.time()[["elapsed"]]))
)
writeLines(to_json(out), out_path)
message(sprintf("[%s] %s: glmer %.2f s, logLik %.6f, converged %s, singular %s -> %s",
                format(Sys.time(), "%H:%M:%S"), case, seconds, ll, out$converged,
                out$singular, out_path))
if (length(out$messages)) message("  messages: ", paste(unlist(out$messages), collapse = " | "))
