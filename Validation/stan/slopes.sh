#!/usr/bin/env bash
# Issue 18: a Stan agreement check for the random-slope sampler —
# `bayesglmm fit` against rstan on Validation/stan/data/slopes.csv
# (4,340 rows, 300 clients with correlated slopes on x1, 30 stylists), model
#   y ~ x1 + (1 + x1|client) + (1|stylist)   (logit)
#
#   Validation/stan/slopes.sh                               # builds .build/release/bayesglmm, then compares
#   BAYESGLMM=/path/to/bayesglmm Validation/stan/slopes.sh  # another binary, not rebuilt
#   BAYESGLMM=... Validation/stan/slopes.sh --seed 2        # options after it go to `bayesglmm fit`
#
# Compares with the committed Stan reference, Validation/stan/results/slopes.json
# (Validation/stan/slopes.stan: bayesglmm's default prior written out in Stan —
# normal(0, 2.5) on the raw intercept and on x1, half-t(3, 0, 2.5) on
# sd(stylist), Huang & Wand's prior on the client covariance, both random terms
# non-centred; rstan 2.21.7, 4 chains x (1000 + 1000), seed 1; remake it with
# `nice -n 19 Rscript Validation/stan/fit_slopes.R`, about 3.5 min on one core,
# 1 min of it compiling the model).
# bayesglmm runs with its defaults (4 chains x (1000 + 1000), no --prior) and
# seed 1.
#
# Prints, for the intercept, x1, sd(client)[(Intercept)], sd(client)[x1],
# cor(client)[(Intercept)][x1], sd(stylist), both effects of the first 20
# clients and the effects of the first 10 stylists (56 parameters), both
# posterior means and sds and z = |mean_stan - mean_ours| /
# sqrt(mcse_stan^2 + mcse_ours^2), the number of |z| > 3, and exits 1 if any
# |z| >= 4 (nonzero too if bayesglmm fails).
# The output is also written to Validation/stan/out/slopes-compare.txt.
set -euo pipefail
# A relative BAYESGLMM is taken from the directory the script was started in.
if [ -n "${BAYESGLMM:-}" ]; then BAYESGLMM=$(realpath "$BAYESGLMM"); fi
cd "$(dirname "$0")/../.."
if [ -z "${BAYESGLMM:-}" ]; then
  swift build -c release --product bayesglmm
  BAYESGLMM=.build/release/bayesglmm
fi
[ -x "$BAYESGLMM" ] || { echo "slopes.sh: BAYESGLMM=$BAYESGLMM is not an executable" >&2; exit 2; }
mkdir -p Validation/stan/out
set +e
BAYESGLMM="$BAYESGLMM" NO_BUILD=1 python3 Validation/stan/compare.py slopes "$@" | tee Validation/stan/out/slopes-compare.txt
status=${PIPESTATUS[0]}
set -e
exit "$status"
