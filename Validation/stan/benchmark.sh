#!/usr/bin/env bash
# One run, both samplers, same data: stan_glmer (2 chains x (1000 + 1000),
# rstanarm defaults) and bayesglmm (4 chains x (1000 + 1000)) on the benchmark
# data set and on VerbAgg, then the per-parameter comparison and the
# efficiency figures (minimum bulk-ESS over alpha and the SDs per second).
# Needs r-cran-rstanarm, r-cran-posterior, r-cran-lme4, r-cran-jsonlite.
# stan_glmer takes about 10 minutes on the benchmark data on an idle core.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Peak memory of each side: GNU time's "Maximum resident set size".
/usr/bin/time -v Rscript Validation/stan/fit_stan.R 2> >(grep -E "Maximum resident|Elapsed" >&2)
python3 Validation/stan/compare.py verbagg
python3 Validation/stan/compare.py pairings
swift build -c release --product SamplerBenchmarks
/usr/bin/time -v .build/release/SamplerBenchmarks examples/pairings.csv 2> >(grep -E "Maximum resident|Elapsed" >&2)
