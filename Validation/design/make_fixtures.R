#!/usr/bin/env Rscript
# Reference fixtures for the model design: for each small data set, what
# lme4 builds from the formula (fixed-effects model matrix, grouping factors
# with their levels, response as successes/trials, rows kept after NA removal).
#
# Run from the repository root:
#   Rscript Validation/design/make_fixtures.R
# Output: Tests/BayesGLMMTests/Fixtures/design/<case>.csv, <case>.json, VERSIONS.txt
# Format and observed ordering rules: Validation/design/README.md
#
# Each data set is written with write.csv and READ BACK with read.csv before
# lme4 sees it, so the reference is computed from exactly what the CSV holds
# (the Swift side parses the same file).

invisible(Sys.setlocale("LC_COLLATE", "C"))  # factor levels sort in byte order
stopifnot(Sys.getlocale("LC_COLLATE") == "C")
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
  library(splines)
})

out_dir <- file.path("Tests", "BayesGLMMTests", "Fixtures", "design")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

set.seed(20261125)

# ---------------------------------------------------------------------------
# Helpers

# Independent check of lme4's interaction factor: observed combinations only,
# ordered by (index of first factor, index of second factor), i.e. the LAST
# factor varies fastest, labels "<level1>:<level2>".
expected_interaction <- function(f1, f2) {
  lab <- paste(f1, f2, sep = ":")
  u <- !duplicated(lab)
  key <- data.frame(l = lab[u], i1 = as.integer(f1)[u], i2 = as.integer(f2)[u],
                    stringsAsFactors = FALSE)
  key <- key[order(key$i1, key$i2), ]
  factor(lab, levels = key$l)
}

# Evaluate a grouping term ("a", "a:b", "a:b:c") on the kept frame as an
# independent check of lme4's flist.
expected_grouping <- function(term, fr) {
  parts <- strsplit(term, ":", fixed = TRUE)[[1]]
  f <- factor(fr[[parts[1]]])
  for (p in parts[-1]) f <- expected_interaction(f, factor(fr[[p]]))
  f
}

# json_matrix(): every value as the shortest decimal that reads back exactly.
json <- new.env()
sys.source(file.path("Validation", "lme4", "json.R"), envir = json)
json_matrix <- json$json_matrix

write_case <- function(case, formula_text, d, note = NULL, contrasts = "treatment", r_formula = formula_text,
                       newdata = NULL, tolerance = 0) {
  old_contrasts <- options(contrasts = c(paste0("contr.", contrasts), "contr.poly"))
  on.exit(options(old_contrasts), add = TRUE)
  csv_name <- paste0(case, ".csv")
  csv_path <- file.path(out_dir, csv_name)
  write.csv(d, csv_path, row.names = FALSE, na = "NA")

  # Read back: this is the data the reference is computed from.
  dd <- read.csv(csv_path, stringsAsFactors = FALSE, na.strings = "NA")
  stopifnot(identical(names(dd), names(d)), nrow(dd) == nrow(d))
  for (v in names(d)) {
    # Covariates are rounded before writing, so the CSV round-trips exactly.
    stopifnot(isTRUE(all.equal(dd[[v]], d[[v]], tolerance = 0)) ||
              identical(as.character(dd[[v]]), as.character(d[[v]])))
  }

  # r_formula: what R is given where ours is written otherwise (`.` leaves
  # the grouping factors out; R's `.` takes them in, as fixed effects too).
  form <- as.formula(r_formula)
  lf <- lme4::glFormula(form, data = dd, family = binomial)
  fr <- lf$fr
  X <- lf$X

  # Rows kept: na.omit over the used columns only.
  used <- all.vars(terms(lme4::subbars(form), data = dd))
  kept <- as.integer(rownames(fr))
  stopifnot(identical(kept, which(complete.cases(dd[, used, drop = FALSE]))))

  # Fixed part: lme4's X equals model.matrix of the fixed formula on the
  # same (NA-omitted) model frame, built independently.
  mf <- model.frame(lme4::subbars(form), data = dd, na.action = na.omit)
  mm <- model.matrix(lme4::nobars(form), mf)
  stopifnot(identical(colnames(X), colnames(mm)),
            identical(dim(X), dim(mm)),
            identical(as.numeric(X), as.numeric(mm)),
            nrow(X) == length(kept))

  # New rows as predict() codes them: the fixed part's terms with the
  # training predvars (scale's centre and scale, poly's coefs, ns's knots:
  # R's safe prediction), the training levels.
  X_new <- NULL
  if (!is.null(newdata)) {
    mf_fixed <- model.frame(lme4::nobars(form), data = dd, na.action = na.omit)
    tt <- delete.response(terms(mf_fixed))
    X_new <- model.matrix(tt, model.frame(tt, newdata, xlev = .getXlevels(tt, mf_fixed)))
    stopifnot(identical(colnames(X_new), colnames(X)))
    write.csv(newdata, file.path(out_dir, paste0(case, "-new.csv")), row.names = FALSE, na = "NA")
    back_new <- read.csv(file.path(out_dir, paste0(case, "-new.csv")), stringsAsFactors = FALSE)
    for (v in names(newdata)) stopifnot(identical(back_new[[v]], newdata[[v]]))
  }

  # Grouping factors, keyed by term name.
  flist <- lf$reTrms$flist
  random <- lapply(names(flist), function(term) {
    f <- flist[[term]]
    ex <- expected_grouping(term, dd[kept, , drop = FALSE])
    stopifnot(identical(levels(f), levels(ex)),
              identical(as.integer(f), as.integer(ex)))
    list(term = term, levels = I(as.character(levels(f))),
         index = I(as.integer(f)))
  })

  # Response: 0/1 -> (y, 1); cbind(s, f) -> (s, s + f).
  y <- model.response(fr)
  if (is.matrix(y)) {
    stopifnot(ncol(y) == 2)
    successes <- as.numeric(y[, 1]); trials <- as.numeric(y[, 1] + y[, 2])
  } else {
    successes <- as.numeric(y); trials <- rep(1, length(y))
    stopifnot(all(successes %in% c(0, 1)))
  }

  ref <- list(
    case = case,
    formula = formula_text,
    csv = csv_name,
    rows_read = nrow(dd),
    rows_used = nrow(fr),
    kept_rows = I(kept),
    fixed_names = I(colnames(X)),
    fixed = json_matrix(X),
    random = random,
    response = list(successes = I(successes), trials = I(trials))
  )
  if (!is.null(note)) ref$note <- note
  if (contrasts != "treatment") ref$contrasts <- contrasts
  if (r_formula != formula_text) ref$r_formula <- r_formula
  # poly and ns: R's QR and ours differ in the last bits.
  if (tolerance > 0) ref$tolerance <- tolerance
  if (!is.null(X_new)) {
    ref$new_csv <- paste0(case, "-new.csv")
    ref$new_fixed <- json_matrix(X_new)
  }
  jsonlite::write_json(ref, file.path(out_dir, paste0(case, ".json")),
                       digits = NA, auto_unbox = TRUE, pretty = FALSE,
                       json_verbatim = TRUE)

  # The JSON reads back (via yajl/strtod) as exactly the same numbers.
  back <- jsonlite::read_json(file.path(out_dir, paste0(case, ".json")),
                              simplifyVector = TRUE)
  stopifnot(identical(dim(back$fixed), dim(X)),
            identical(as.numeric(back$fixed), as.numeric(X)),
            identical(back$fixed_names, colnames(X)),
            identical(as.integer(back$kept_rows), kept),
            identical(as.numeric(back$response$successes), successes),
            identical(as.numeric(back$response$trials), trials))
  cat(sprintf("%-28s rows %3d/%3d  fixed %d cols  terms: %s\n", case, nrow(fr),
              nrow(dd), ncol(X),
              paste(sprintf("%s(%d)", names(flist), sapply(flist, nlevels)),
                    collapse = " ")))
}

r4 <- function(x) round(x, 4)
bern <- function(eta) rbinom(length(eta), 1, plogis(eta))

# ---------------------------------------------------------------------------
# (a) 0/1 response, intercept only, integer ids, crossed + interaction.
n <- 120
client <- sample(1:12, n, replace = TRUE)          # 10, 11, 12 sort after 9
stylist <- sample(c(3L, 1L, 4L, 2L), n, replace = TRUE)
d <- data.frame(y = bern(rnorm(12)[client] + rnorm(4)[stylist]),
                client = client, stylist = stylist)
write_case("a_intercept_integer_ids",
           "y ~ 1 + (1 | client) + (1 | stylist) + (1 | client:stylist)", d)

# (b) numeric covariate and a string factor whose byte order ("B" < "a" < "c")
# differs from case-insensitive order (a, B, c); first row is "c".
n <- 60
group <- c("c", sample(c("B", "a", "c"), n - 1, replace = TRUE))
x <- r4(rnorm(n))
client <- sample(1:8, n, replace = TRUE)
d <- data.frame(y = bern(0.5 * x + c(B = 0.3, a = -0.2, c = 0)[group]),
                x = x, group = group, client = client, stringsAsFactors = FALSE)
write_case("b_covariate_string_factor", "y ~ x + group + (1 | client)", d)

# (c) intercept removed: every level of the first factor gets a column, the
# second factor gets treatment contrasts.
n <- 80
group <- sample(c("B", "a", "c"), n, replace = TRUE)
treat <- sample(c("ctl", "Drug"), n, replace = TRUE)
x <- r4(runif(n, -2, 2))
client <- sample(1:10, n, replace = TRUE)
d <- data.frame(y = bern(x / 2), group = group, treat = treat, x = x,
                client = client, stringsAsFactors = FALSE)
write_case("c_no_intercept", "y ~ 0 + group + treat + x + (1 | client)", d)

# (d1) product of two numeric columns only.
n <- 50
x <- r4(rnorm(n)); z <- r4(runif(n, 0, 3))
client <- sample(1:6, n, replace = TRUE)
d <- data.frame(y = bern(0.4 * x * z), x = x, z = z, client = client)
write_case("d1_numeric_product", "y ~ x:z + (1 | client)", d)

# (d2) x*z = x + z + x:z.
n <- 70
x <- r4(rnorm(n)); z <- r4(rnorm(n, 1))
client <- sample(1:7, n, replace = TRUE)
d <- data.frame(y = bern(0.3 * x - 0.2 * z + 0.4 * x * z), client = client,
                z = z, x = x)
write_case("d2_numeric_crossing", "y ~ x * z + (1 | client)", d)

# (e) nested (1 | school/class): class labels are reused across schools, so
# only class:school identifies a class.
n <- 150
school <- sample(c("s2", "S1", "s10"), n, replace = TRUE)
class <- sample(c("k2", "k1", "K3"), n, replace = TRUE)
x <- r4(rnorm(n))
d <- data.frame(y = bern(x), x = x, school = school, class = class,
                stringsAsFactors = FALSE)
write_case("e_nested_school_class", "y ~ x + (1 | school/class)", d)

# (f) binomial counts: cbind(successes, failures).
n <- 40
trials <- sample(1:12, n, replace = TRUE)
x <- r4(rnorm(n))
client <- sample(1:8, n, replace = TRUE)
s <- rbinom(n, trials, plogis(0.7 * x))
d <- data.frame(s = s, f = trials - s, x = x, client = client)
d$s[3] <- 0L; d$f[3] <- 5L; d$s[7] <- 4L; d$f[7] <- 0L   # all failures / all successes
write_case("f_binomial_counts", "cbind(s, f) ~ x + (1 | client)", d)

# (g) missing values: NA in used columns (x, group, client, stylist, y) drops
# the row; NA in the unused column `note` does not. Client 9 and group "d"
# appear only on dropped rows, so they vanish from the levels/columns.
n <- 40
d <- data.frame(
  y = bern(rnorm(n)),
  x = r4(rnorm(n)),
  group = sample(c("a", "b", "C"), n, replace = TRUE),
  client = sample(1:8, n, replace = TRUE),
  stylist = sample(c("p", "Q", "r"), n, replace = TRUE),
  note = r4(runif(n)),
  stringsAsFactors = FALSE)
d$x[c(2, 17)] <- NA
d$group[5] <- NA
d$client[11] <- NA
d$stylist[23] <- NA
d$y[30] <- NA
d$note[c(1, 8, 17, 33)] <- NA              # 17 is also NA in x
d$client[2] <- 9L                          # only on a dropped row
d$group[17] <- "d"                         # only on a dropped row
write_case("g_missing_values",
           "y ~ x + group + (1 | client) + (1 | stylist)", d)

# (h) string ids, some client:stylist combinations never observed.
n <- 90
clients <- c("c10", "c2", "C3", "c1", "b7", "_x")
stylists <- c("Ann", "bob", "Cy", "ann")
combos <- expand.grid(client = clients, stylist = stylists,
                      stringsAsFactors = FALSE)
combos <- combos[sample(nrow(combos), 14), ]     # 14 of 24 combinations
rows <- combos[c(seq_len(nrow(combos)), sample(nrow(combos), n - nrow(combos), TRUE)), ]
rows <- rows[sample(nrow(rows)), ]
d <- data.frame(y = bern(rnorm(n)), client = rows$client, stylist = rows$stylist,
                stringsAsFactors = FALSE)
write_case("h_string_ids_unobserved",
           "y ~ 1 + (1 | client) + (1 | stylist) + (1 | client:stylist)", d)

# (i) three crossed grouping factors (different level counts, listed in the
# formula in increasing size; lme4 reorders terms), plus a factor-by-numeric
# interaction in the fixed part.
n <- 200
d <- data.frame(
  y = 0L,
  x = r4(rnorm(n)),
  group = sample(c("B", "a", "c"), n, replace = TRUE),
  day = sample(c("Mon", "Tue", "wed"), n, replace = TRUE),
  salon = sample(sprintf("salon%d", 1:6), n, replace = TRUE),
  client = sample(1:25, n, replace = TRUE),
  stringsAsFactors = FALSE)
d$y <- bern(0.5 * d$x + rnorm(25)[d$client] + rnorm(6)[factor(d$salon)])
write_case("i_three_crossed",
           "y ~ group * x + (1 | day) + (1 | salon) + (1 | client)", d)

# (j) categorical x categorical interactions (issue 19), on one data set:
# a (3 string levels, "r" first in the file), b (2 levels, "v" first), x.
# R codes a factor of a term by treatment contrasts when the term without
# it is in the model and by indicators otherwise; within a term the first
# factor varies fastest.
n <- 60
d <- data.frame(client = sample(1:8, n, TRUE),
                a = c("r", sample(c("p", "q", "r"), n - 1, TRUE)),
                b = c("v", sample(c("u", "v"), n - 1, TRUE)),
                x = r4(rnorm(n)))
d$y <- bern(0.3 * (d$a == "q") - 0.4 * (d$b == "v") + 0.5 * d$x)
write_case("j1_categorical_crossing", "y ~ a * b + (1 | client)", d)
write_case("j2_categorical_nesting", "y ~ a + a:b + (1 | client)", d)
write_case("j3_categorical_cells", "y ~ 0 + a:b + (1 | client)", d)
write_case("j4_categorical_numeric_three_way", "y ~ a * b * x + (1 | client)", d)
write_case("j5_numeric_in_categorical_interaction", "y ~ a * b + x:a:b + (1 | client)", d)

# (k) transformed variables (issue 19): elementwise functions of numeric
# columns and I() arithmetic, named by R's deparse ("I(x * z)", "I(x/2)",
# "log(x + 3)"), and factor() of a numeric code (levels in numeric order:
# 9 before 10).
n <- 60
d <- data.frame(client = sample(1:8, n, TRUE),
                code = sample(c(2, 9, 10), n, TRUE),
                a = sample(c("p", "q"), n, TRUE),
                x = r4(rnorm(n)), z = r4(runif(n, 0.5, 3)))
d$y <- bern(0.5 * d$x - 0.3 * (d$code == 10))
write_case("k1_functions", "y ~ log(x + 3) + I(x^2) + sqrt(z) + exp(x) + abs(x) + log1p(z) + (1 | client)", d)
write_case("k2_arithmetic", "y ~ I(2*x + z^2 - 1) + I(x/z) + I(-x * z) + I((x + 1)^3) + (1 | client)", d)
write_case("k3_factor_of_numbers", "y ~ factor(code) + log(z):a + (1 | client)", d)
write_case("k4_function_interactions", "y ~ log(z) * factor(code) + I(x^2):a + (1 | client)", d)
write_case("k5_power_of_terms", "y ~ (a + x + log(z))^2 + (1 | client)", d)

# (l) sum contrasts (contr.sum, `--contrasts sum`): columns named a1, a2, …,
# −1 at the last level; indicators where the margin is absent, as before.
n <- 60
d <- data.frame(client = sample(1:8, n, TRUE),
                a = sample(c("p", "q", "r"), n, TRUE),
                b = sample(c("u", "v"), n, TRUE),
                x = r4(rnorm(n)))
d$y <- bern(0.4 * (d$a == "q") + 0.5 * d$x)
write_case("l1_sum_contrasts", "y ~ a * b + x:a + (1 | client)", d, contrasts = "sum")
write_case("l2_sum_contrasts_nesting", "y ~ a + a:b + (1 | client)", d, contrasts = "sum")

# (m) `.`: every column but the response and the grouping factors (R's `.`
# would take in the grouping factor as a fixed effect too; R is given
# `. - client`, which is what a glmer user writes).
n <- 60
d <- data.frame(y = 0L, x = r4(rnorm(n)), a = sample(c("p", "q", "r"), n, TRUE),
                client = sample(1:8, n, TRUE), z = r4(runif(n, 1, 3)), stringsAsFactors = FALSE)
d$y <- bern(0.5 * d$x + 0.3 * (d$a == "q"))
write_case("m1_dot", "y ~ . + (1 | client)", d, r_formula = "y ~ . - client + (1 | client)")
write_case("m2_dot_power", "y ~ .^2 + (1 | client)", d, r_formula = "y ~ (. - client)^2 + (1 | client)")
write_case("m3_dot_minus", "y ~ . - z + x:z + (1 | client)", d,
           r_formula = "y ~ . - z - client + x:z + (1 | client)")

# (n) transformations with training constants: scale (mean, n - 1 SD), poly
# (orthogonal, and raw = TRUE), splines::ns — of columns and expressions, in
# interactions — and new rows coded with the training constants (R's safe
# prediction: predict() on newdata), some outside the training range.
n <- 80
d <- data.frame(client = sample(1:8, n, TRUE), a = sample(c("p", "q"), n, TRUE),
                x = r4(rnorm(n)), z = r4(runif(n, 1, 5)), stringsAsFactors = FALSE)
d$y <- bern(0.5 * d$x - 0.3 * log(d$z))
nd <- data.frame(a = c("p", "q", "q", "p", "q", "p"), x = c(-3.5, -0.25, 0, 0.5, 1.75, 4),
                 z = c(0.5, 1, 2.5, 3.25, 5, 7.5), stringsAsFactors = FALSE)
write_case("n1_scale_poly", "y ~ scale(x) + poly(z, 2) + (1 | client)", d, newdata = nd, tolerance = 1e-12)
write_case("n2_raw_poly_interaction", "y ~ poly(x, 2, raw = TRUE) * a + (1 | client)", d, newdata = nd)
write_case("n3_natural_spline", "y ~ ns(z, df = 3) + scale(log(z)):x + (1 | client)", d, newdata = nd,
           tolerance = 1e-12)
write_case("n4_poly_of_expression", "y ~ poly(log(z), 3) + a + ns(x, 4) + (1 | client)", d, newdata = nd,
           tolerance = 1e-12)
d$code <- sample(c(2, 9, 10), n, TRUE)
nd$code <- c(10L, 2L, 9L, 9L, 2L, 10L)
write_case("n5_factor_new_rows", "y ~ factor(code) * x + scale(z) + (1 | client)", d, newdata = nd,
           tolerance = 1e-12)

# ---------------------------------------------------------------------------
versions <- c(
  R.version.string,
  paste("platform", R.version$platform),
  paste("lme4", as.character(packageVersion("lme4"))),
  paste("Matrix", as.character(packageVersion("Matrix"))),
  paste("jsonlite", as.character(packageVersion("jsonlite"))),
  paste("LC_COLLATE", Sys.getlocale("LC_COLLATE")))
writeLines(versions, file.path(out_dir, "VERSIONS.txt"))
cat(versions, sep = "\n")
