#!/usr/bin/env Rscript
# Writes the fixtures that Tests/DiagnosticsTests compares against: draw
# matrices (iterations x chains) and R `posterior`'s value for every
# diagnostic on each of them.
#
# Run from the repository root:
#   Rscript Validation/diagnostics/make_fixtures.R
# Output: Tests/DiagnosticsTests/Fixtures/posterior-fixtures.json
#
# Numbers are written with 17 significant digits (they round-trip exactly);
# NA, NaN, Inf and -Inf are written as the strings "NA", "NaN", "Inf", "-Inf".
# Draws are stored chain by chain: "draws": [[chain 1], [chain 2], ...].
#
# Nested R-hat: posterior 1.4.0 (Debian bookworm) has no rhat_nested (it came
# in 1.5). Its fixture values come from `nested_rhat_reference` below, written
# from Margossian et al. (2024), eqs. 4-8, as posterior >= 1.5 defines it.

suppressPackageStartupMessages(library(posterior))

set.seed(20261124)
probs <- c(0, 0.05, 0.25, 0.5, 0.95, 1)

ar1 <- function(n, m, phi, innov = function(k) rnorm(k), offset = 0) {
  x <- matrix(0, n, m)
  for (j in seq_len(m)) {
    e <- innov(n)
    x[1, j] <- e[1] / sqrt(max(1 - phi^2, 1e-3))
    if (n > 1) for (i in 2:n) x[i, j] <- phi * x[i - 1, j] + e[i]
  }
  x + offset
}

cases <- list()
add <- function(name, x, note = "") {
  stopifnot(is.matrix(x))
  cases[[length(cases) + 1]] <<- list(name = name, x = x, note = note)
}

# AR(1) chains: several autocorrelations, 1, 2 and 4 chains, odd and even n.
add("ar1_phi0_m4_n100", ar1(100, 4, 0))
add("ar1_phi0.3_m4_n101", ar1(101, 4, 0.3))
add("ar1_phi0.5_m1_n100", ar1(100, 1, 0.5))
add("ar1_phi0.5_m1_n101", ar1(101, 1, 0.5))
add("ar1_phi0.9_m4_n200", ar1(200, 4, 0.9))
add("ar1_phi0.9_m2_n1000", ar1(1000, 2, 0.9))
add("ar1_phi0.99_m4_n500", ar1(500, 4, 0.99))
add("ar1_phi0.7_m4_n1000", ar1(1000, 4, 0.7))
add("ar1_phi0.95_m2_n333", ar1(333, 2, 0.95))
add("ar1_phi-0.5_m4_n100_antithetic", ar1(100, 4, -0.5))
add("ar1_phi-0.9_m2_n50_antithetic", ar1(50, 2, -0.9))
add("ar1_phi0.6_m4_n100_offset1e6", ar1(100, 4, 0.6, offset = 1e6))
# Heavy tails and skew.
add("cauchy_m4_n200", ar1(200, 4, 0, innov = function(k) rt(k, df = 1)))
add("t3_ar0.5_m2_n151", ar1(151, 2, 0.5, innov = function(k) rt(k, df = 3)))
add("lognormal_m4_n100", exp(ar1(100, 4, 0.2)))
# Not converged: shifted and rescaled chains.
x <- ar1(200, 4, 0.5); x[, 2] <- x[, 2] + 1.5
add("shifted_chain_m4_n200", x)
x <- ar1(200, 4, 0.3); x[, 3] <- 5 * x[, 3]
add("scaled_chain_m4_n200", x)
x <- ar1(100, 4, 0.3); x[, 4] <- 0.25
add("one_chain_stuck_m4_n100", x)
# Short chains: 6-11 draws per chain (the S/2 quirk), and too short for ESS.
add("short_m4_n6", ar1(6, 4, 0.2))
add("short_m4_n7", ar1(7, 4, 0.2))
add("short_m2_n8", ar1(8, 2, 0.2))
add("short_m1_n9", ar1(9, 1, 0.2))
add("short_m4_n10", ar1(10, 4, 0.2))
add("short_m2_n11", ar1(11, 2, 0.2))
add("short_m4_n11_phi0.9", ar1(11, 4, 0.9))
add("short_m4_n4_ess_na", ar1(4, 4, 0.2))
add("short_m1_n5_ess_na", ar1(5, 1, 0.2))
add("short_m4_n1", ar1(1, 4, 0))
# Constant and nearly constant.
add("constant_m4_n100", matrix(3.25, 100, 4))
add("nearly_constant_m2_n50", matrix(rep(c(0, 1e-17), 50), 50, 2))
add("constant_per_chain_m4_n50", matrix(rep(c(-1, 0.5, 2, 7), each = 50), 50, 4))
add("constant_per_chain_m2_n7", matrix(rep(c(1, 2), each = 7), 7, 2))
# Non-finite values.
x <- ar1(100, 4, 0.4); x[17, 2] <- Inf
add("with_inf_m4_n100", x)
x <- ar1(60, 2, 0.4); x[3, 1] <- -Inf; x[40, 2] <- Inf
add("with_both_infs_m2_n60", x)
x <- ar1(100, 4, 0.4); x[50, 3] <- NaN
add("with_nan_m4_n100", x)
x <- ar1(50, 2, 0.4); x[7, 1] <- NA_real_
add("with_na_m2_n50", x)
# 0/1 and discrete data.
x <- matrix(as.numeric(ar1(100, 4, 0.5) > 0.5), 100, 4)
add("binary_p0.3_m4_n100", x)
x <- matrix(rep(c(0, 1), 200), 100, 4)
x[, c(2, 4)] <- 1 - x[, c(2, 4)]
add("binary_equal_counts_m4_n100", x)
x <- matrix(0, 200, 4); x[sample(800, 6)] <- 1
add("binary_rare_m4_n200", x)
add("poisson2_m4_n100", matrix(as.numeric(rpois(400, 2)), 100, 4))
add("three_values_m2_n51", matrix(as.numeric(sample(1:3, 102, TRUE, c(0.2, 0.5, 0.3))), 51, 2))
add("rounded_normal_m4_n250", round(ar1(250, 4, 0.8), 1))

# ---------------------------------------------------------------------------

quiet <- function(expr) {
  tryCatch(suppressWarnings(expr), error = function(e) {
    message("error: ", conditionMessage(e)); NA_real_
  })
}

nested_rhat_reference <- function(x, ids) {
  # Margossian et al. (2024): no splitting, no ranks.
  if (posterior:::should_return_NA(x)) return(NA_real_)
  n <- nrow(x)
  ks <- unique(ids)
  chain_mean <- matrixStats::colMeans2(x)
  chain_var <- if (n > 1) matrixStats::colVars(x, center = chain_mean) else rep(0, ncol(x))
  super_mean <- sapply(ks, function(k) mean(x[, ids == k]))
  B_k <- sapply(ks, function(k) if (sum(ids == k) > 1) var(chain_mean[ids == k]) else 0)
  W_k <- sapply(ks, function(k) mean(chain_var[ids == k]))
  B_nu <- var(super_mean)
  W_nu <- mean(W_k + B_k)
  sqrt(1 + B_nu / W_nu)
}

num <- function(v) {
  v <- as.numeric(v)
  out <- sprintf("%.17g", v)
  out[is.na(v)] <- '"NA"'
  out[is.nan(v)] <- '"NaN"'
  out[!is.na(v) & v == Inf] <- '"Inf"'
  out[!is.na(v) & v == -Inf] <- '"-Inf"'
  out
}
arr <- function(v) paste0("[", paste(num(v), collapse = ", "), "]")
field <- function(name, value) paste0('"', name, '": ', value)

case_json <- function(cs) {
  x <- cs$x
  m <- ncol(x)
  da <- as_draws_array(array(x, dim = c(nrow(x), m, 1),
                             dimnames = list(NULL, NULL, "theta")))
  s <- quiet(summarise_draws(da, default_summary_measures(),
                             default_convergence_measures(),
                             default_mcse_measures()))
  vals <- list(
    mean = quiet(mean(x)), median = quiet(median(x)),
    sd = quiet(sd(x)), mad = quiet(mad(x)),
    quantile = quiet(quantile2(x, probs, names = FALSE)),
    rhat = quiet(rhat(x)), rhat_basic = quiet(rhat_basic(x)),
    ess_bulk = quiet(ess_bulk(x)), ess_tail = quiet(ess_tail(x)),
    ess_basic = quiet(ess_basic(x)), ess_mean = quiet(ess_mean(x)),
    ess_sd = quiet(ess_sd(x)),
    ess_quantile = quiet(ess_quantile(x, probs, names = FALSE)),
    mcse_mean = quiet(mcse_mean(x)), mcse_sd = quiet(mcse_sd(x)),
    mcse_quantile = quiet(mcse_quantile(x, probs, names = FALSE)),
    autocorrelation_chain1 = quiet(if (nrow(x) > 1 && all(is.finite(x[, 1])))
      posterior:::autocorrelation(x[, 1]) else numeric())
  )
  summary_cols <- c("mean", "median", "sd", "mad", "q5", "q95", "rhat",
                    "ess_bulk", "ess_tail", "mcse_mean", "mcse_median",
                    "mcse_sd", "mcse_q5", "mcse_q95")
  summ <- sapply(summary_cols, function(k) as.numeric(s[[k]]))
  nested <- NULL
  if (m %% 2 == 0) {
    ids <- rep(c(1, 2), each = m / 2)
    nested <- paste0("{", field("superchains", arr(ids)), ", ",
                     field("value", num(nested_rhat_reference(x, ids))), "}")
  }
  parts <- c(
    field("name", paste0('"', cs$name, '"')),
    field("iterations", nrow(x)), field("chains", m),
    field("draws", paste0("[", paste(apply(x, 2, arr), collapse = ", "), "]")),
    field("probabilities", arr(probs)),
    field("values", paste0("{", paste(mapply(function(k, v) field(k, if (length(v) == 1 && !k %in% c("quantile", "ess_quantile", "mcse_quantile", "autocorrelation_chain1")) num(v) else arr(v)), names(vals), vals), collapse = ", "), "}")),
    field("summary", paste0("{", paste(mapply(function(k, v) field(k, num(v)), names(summ), summ), collapse = ", "), "}"))
  )
  if (!is.null(nested)) parts <- c(parts, field("rhat_nested", nested))
  paste0("{", paste(parts, collapse = ",\n  "), "}")
}

json <- paste0(
  "{", field("generator", '"Validation/diagnostics/make_fixtures.R"'), ",\n",
  field("posterior_version", paste0('"', as.character(packageVersion("posterior")), '"')), ",\n",
  field("r_version", paste0('"', R.version.string, '"')), ",\n",
  field("cases", paste0("[\n", paste(sapply(cases, case_json), collapse = ",\n"), "\n]")), "}\n")

# qbeta on the shapes the quantile MCSE meets (ESS from 1 to 30000, the
# probabilities above), where GSL's gsl_cdf_beta_Pinv sometimes gives up.
grid <- expand.grid(p = c(0.1586553, 0.8413447), prob = probs,
                    ess = exp(seq(log(1), log(30000), length.out = 120)))
grid$a <- grid$ess * grid$prob + 1
grid$b <- grid$ess * (1 - grid$prob) + 1
grid$q <- qbeta(grid$p, grid$a, grid$b)
qbeta_json <- paste0("[\n", paste(sprintf("[%s, %s, %s, %s]", num(grid$p), num(grid$a), num(grid$b), num(grid$q)), collapse = ",\n"), "\n]")
json <- sub("}\n$", paste0(",\n", field("qbeta", qbeta_json), "}\n"), json)

out_dir <- "Tests/DiagnosticsTests/Fixtures"
if (!dir.exists(out_dir)) stop("run from the repository root (", out_dir, " not found)")
writeLines(json, file.path(out_dir, "posterior-fixtures.json"), sep = "")
cat("wrote", length(cases), "cases to", file.path(out_dir, "posterior-fixtures.json"), "\n")
