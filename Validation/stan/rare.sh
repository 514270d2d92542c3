#!/usr/bin/env bash
# Issue 17: stan_glmer against `bayesglmm fit` on a rare-event data set
# (Validation/stan/data/rare.csv, 8,254 rows, 135 events, mean y 1.6%).
#
#   Validation/stan/rare.sh                               # builds .build/release/bayesglmm, then compares
#   BAYESGLMM=/path/to/bayesglmm Validation/stan/rare.sh  # another binary, not rebuilt
#   BAYESGLMM=... Validation/stan/rare.sh --sampler gibbs # options after it go to `bayesglmm fit`
#
# Compares with the committed Stan reference, Validation/stan/results/rare.json
# (rstanarm 2.21.3, 4 chains x (1000 + 1000), seed 1; remake it with
# `nice -n 19 Rscript Validation/stan/fit_stan.R --fit rare`, about 30 min on
# one core). bayesglmm runs with its defaults (4 chains x (1000 + 1000)),
# seed 1 and rstanarm's priors matched: --prior 'sd ~ exponential(1)',
# --prior 'Intercept ~ normal(0, 2.5)', --prior 'b(x1) ~ normal(0, 2.48...)'
# (compare.py works the autoscaled x1 prior out from the CSV).
#
# Prints, for the intercept, x1, the 3 SDs and the first 20 effects of each
# of client, stylist and client:stylist (65 parameters), both posterior means
# and sds and z = |mean_stan - mean_ours| / sqrt(mcse_stan^2 + mcse_ours^2),
# the number of |z| > 3, and exits 1 if any |z| >= 4 (nonzero too if
# bayesglmm fails).
# The output is also written to Validation/stan/out/rare-compare.txt.
set -euo pipefail
# A relative BAYESGLMM is taken from the directory the script was started in.
if [ -n "${BAYESGLMM:-}" ]; then BAYESGLMM=$(realpath "$BAYESGLMM"); fi
cd "$(dirname "$0")/../.."
if [ -z "${BAYESGLMM:-}" ]; then
  swift build -c release --product bayesglmm
  BAYESGLMM=.build/release/bayesglmm
fi
[ -x "$BAYESGLMM" ] || { echo "rare.sh: BAYESGLMM=$BAYESGLMM is not an executable" >&2; exit 2; }
mkdir -p Validation/stan/out
set +e
BAYESGLMM="$BAYESGLMM" NO_BUILD=1 python3 Validation/stan/compare.py rare "$@" | tee Validation/stan/out/rare-compare.txt
status=${PIPESTATUS[0]}
set -e
exit "$status"
