#!/usr/bin/env Rscript
# Reference fixture for how lme4 reads random terms: for each formula, the
# random terms lme4 finds (lme4::findbars after lme4::expandDoubleVerts, as
# glFormula does), each with its grouping factors, whether it has an
# intercept and its other terms (R's term labels of `~ effects`, in R's
# order), and, from glFormula on a small data set, the column names of each
# term (reTrms$cnms) and the length of theta.
#
# Run from the repository root:
#   Rscript Validation/design/random_terms.R
# Output: Tests/BayesGLMMTests/Fixtures/formula/random_terms.json

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

formulas <- c(
  "y ~ x + (1 + x | client)",
  "y ~ (x | g)",
  "y ~ (0 + x | g)",
  "y ~ (-1 + x | g)",
  "y ~ (x - 1 | g)",
  "y ~ (1 + x1 + x2 | g)",
  "y ~ (1 + f | g)",
  "y ~ (0 + f | g)",
  "y ~ (x || g)",
  "y ~ (1 + x1 + x2 || g)",
  "y ~ (0 + x || g)",
  "y ~ (1 + f || g)",
  "y ~ (1 + x | a/b)",
  "y ~ (1 + x | a:b)",
  "y ~ (x || a/b)",
  "y ~ (1 | g) + (0 + x | g)",
  "y ~ (1 + x | g) + (1 | g)",
  "y ~ (1 + x:z | g)",
  "y ~ (x*z | g)",
  "y ~ (z:x + x | g)",
  "y ~ x2:x1 + (x1:x2 | g)",
  "y ~ (1 + x | client) + (1 | stylist) + (1 | client:stylist)"
)

set.seed(20261207)
n <- 80
d <- data.frame(y = rbinom(n, 1, 0.5), x = round(rnorm(n), 4), x1 = round(rnorm(n), 4),
                x2 = round(rnorm(n), 4), z = round(rnorm(n), 4),
                f = sample(c("a", "b", "c"), n, TRUE), g = sample(letters[1:6], n, TRUE),
                client = sample(sprintf("c%02d", 1:8), n, TRUE), stylist = sample(sprintf("s%d", 1:4), n, TRUE),
                a = sample(c("p", "q", "r"), n, TRUE), b = sample(c("u", "v"), n, TRUE),
                stringsAsFactors = FALSE)

cases <- lapply(formulas, function(text) {
  f <- as.formula(text)
  bars <- findbars(expandDoubleVerts(f))
  terms <- lapply(bars, function(bar) {
    effects <- terms(as.formula(call("~", bar[[2]])))
    list(grouping = deparse(bar[[3]]),
         intercept = attr(effects, "intercept") == 1,
         slopes = I(attr(effects, "term.labels")))
  })
  fit <- glFormula(f, data = d, family = binomial)
  cnms <- fit$reTrms$cnms   # ordered by decreasing number of levels; names repeat
  list(formula = text, terms = terms,
       cnms = lapply(seq_along(cnms), function(i) list(grouping = names(cnms)[i], columns = I(cnms[[i]]))),
       theta = length(fit$reTrms$theta))
})

out <- file.path("Tests", "BayesGLMMTests", "Fixtures", "formula", "random_terms.json")
dir.create(dirname(out), recursive = TRUE, showWarnings = FALSE)
versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(list(versions = versions, cases = cases), auto_unbox = TRUE, pretty = TRUE), out)
cat("wrote", out, "\n")
