#!/usr/bin/env Rscript
# Reference fixture for how lme4 reads random terms: for each formula, the
# random terms lme4 finds (lme4::findbars after lme4::expandDoubleVerts, as
# glFormula does), each with its grouping factors, whether it has an
# intercept and its other terms (R's term labels of `~ effects`, in R's
# order), and, from glFormula on a small data set, the column names of each
# term (reTrms$cnms) and the length of theta.
#
# And the layout of the relative covariance factor (`reTrms`, see `layout`
# below): Lambdat's nonzero pattern with Lind, the initial theta, its lower
# bounds, Gp, and each term's grouping factor, number of levels, offset in b
# and levels, in lme4's term order.
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

# The relative covariance factor's layout (reTrms of glFormula): Lambdat's
# nonzero pattern, 0-based (i, j) in its compressed-column order (column by
# column, rows ascending within a column), with Lind (the 1-based theta index
# of each nonzero, in the same order); the initial theta and its lower
# bounds (-Inf written as null); Gp; and for each term, in reTrms order
# (decreasing number of levels), its cnms name and columns, its grouping
# factor in flist, the number of levels, its offset in b (Gp) and the
# factor's levels in lme4's order.
layout <- function(re) {
  L <- re$Lambdat
  stopifnot(is(L, "dgCMatrix"), length(re$Lind) == length(L@x),
            all(L@x == re$theta[re$Lind]),
            all(re$theta == ifelse(re$lower == 0, 1, 0)),
            all(re$lower == 0 | re$lower == -Inf))
  j <- rep(seq_len(ncol(L)) - 1L, diff(L@p))
  assign <- attr(re$flist, "assign")
  terms <- lapply(seq_along(re$cnms), function(k) {
    factor <- re$flist[[assign[k]]]
    stopifnot(nlevels(factor) == re$nl[[k]],
              re$Gp[k + 1] - re$Gp[k] == re$nl[[k]] * length(re$cnms[[k]]))
    list(grouping = names(re$cnms)[k], columns = I(re$cnms[[k]]),
         flist = names(re$flist)[assign[k]], nl = re$nl[[k]], offset = re$Gp[k],
         levels = I(levels(factor)))
  })
  lower <- ifelse(is.finite(re$lower), fmt_num(re$lower), "null")
  list(dim = dim(L), Lind = I(re$Lind), Lambdat = list(i = I(L@i), j = I(j)),
       theta = I(re$theta),
       lower = structure(paste0("[", paste(lower, collapse = ","), "]"), class = "json"),
       Gp = I(re$Gp), terms = terms)
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
       theta = length(fit$reTrms$theta),
       reTrms = layout(fit$reTrms))
})

out <- file.path(dir, "random_terms.json")
versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(list(versions = versions, cases = cases), auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE),
           out)
cat("wrote", out, "\n")
