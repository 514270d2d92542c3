#!/usr/bin/env Rscript
# What an lme4 user hands `bayesglmm compare --lme4`: glmer's conditional
# modes and SDs as the data frame `as.data.frame(ranef(fit, condVar = TRUE))`,
# written by write.csv. The fit is fit_glmer.R's "pairings" case (same data,
# formula and default settings), so the file holds the same numbers as
# Tests/BayesGLMMTests/Fixtures/eb/pairings.json, to write.csv's 15
# significant digits; CompareCommandTests checks that both give one table.
#
# Usage (from the repository root):
#   nice -n 19 Rscript Validation/lme4/ranef_csv.R
# Writes Tests/BayesGLMMTests/Fixtures/eb/pairings-ranef.csv.

suppressPackageStartupMessages(library(lme4))
stopifnot(file.exists("Package.swift"))
data <- read.csv("examples/pairings.csv")
data$client <- factor(data$client)
data$stylist <- factor(data$stylist)
fit <- glmer(y ~ (1 | client) + (1 | stylist) + (1 | client:stylist), data = data, family = binomial)
write.csv(as.data.frame(ranef(fit, condVar = TRUE)), "Tests/BayesGLMMTests/Fixtures/eb/pairings-ranef.csv",
          row.names = FALSE)
message("wrote Tests/BayesGLMMTests/Fixtures/eb/pairings-ranef.csv (lme4 ", packageVersion("lme4"), ")")
