#!/usr/bin/env Rscript
# Reference fixture for how lme4 reads random terms: for each formula, the
# random terms lme4 finds (lme4::findbars after lme4::expandDoubleVerts, as
# glFormula does), each with its grouping factors, whether it has an
# intercept and its other terms (R's term labels of `~ effects`, in R's
# order), and, from glFormula on a small data set, the column names of each
# term (reTrms$cnms) and the length of theta.
#
# Also each term's model matrix (`model.matrix(~ effects)` on glFormula's
# model frame: the values of its columns at every row), on a small data set
# written to random_terms.csv and read back, so that the design's columns
# and values for random slopes can be checked row by row.
#
# Run from the repository root:
#   Rscript Validation/design/random_terms.R
# Output: Tests/BayesGLMMTests/Fixtures/formula/random_terms.json and
# random_terms.csv

invisible(Sys.setlocale("LC_COLLATE", "C"))  # levels sort in byte order, as the design's do
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

dir <- file.path("Tests", "BayesGLMMTests", "Fixtures", "formula")
dir.create(dir, recursive = TRUE, showWarnings = FALSE)
write.csv(d, file.path(dir, "random_terms.csv"), row.names = FALSE)
d <- read.csv(file.path(dir, "random_terms.csv"), stringsAsFactors = FALSE)

# Shortest decimal that reads back as the same double (as make_fixtures.R).
fmt_num <- function(x) {
  vapply(x, function(v) {
    for (p in 15:17) {
      s <- sprintf("%.*g", p, v)
      if (as.numeric(s) == v) return(s)
    }
    s
  }, "")
}

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
  matrices <- lapply(bars, function(bar) {
    mm <- model.matrix(as.formula(call("~", bar[[2]])), data = fit$fr)
    list(grouping = deparse(bar[[3]]), columns = I(colnames(mm)),
         values = structure(paste0("[", paste(fmt_num(as.numeric(t(mm))), collapse = ","), "]"), class = "json"))
  })
  stopifnot(nrow(fit$fr) == nrow(d))
  list(formula = text, terms = terms, matrices = matrices,
       cnms = lapply(seq_along(cnms), function(i) list(grouping = names(cnms)[i], columns = I(cnms[[i]]))),
       theta = length(fit$reTrms$theta))
})

out <- file.path(dir, "random_terms.json")
versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(list(versions = versions, cases = cases), auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE),
           out)
cat("wrote", out, "\n")
