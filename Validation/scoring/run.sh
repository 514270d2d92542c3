#!/usr/bin/env bash
# Match scoring (issue 8): held-out calibration on the benchmark data, against
# plug-in empirical-Bayes scores, and the 10^5 candidates x 4,000 draws benchmark.
#
# Usage (from anywhere; paths are relative to the repository root):
#
#   Validation/scoring/run.sh                 # both (about 3 minutes on 2 cores)
#   Validation/scoring/run.sh calibration
#   Validation/scoring/run.sh benchmark       # needs the calibration's fit
#
# Environment:
#   SCRATCH=.build-score   swift build scratch path (binary: $SCRATCH/release/bayesglmm)
#   BIN=path               use this bayesglmm binary and skip the build
#   WORK=/tmp/bayesglmm-scoring   where the data, fit and scores go
#   NICE=5                 niceness of the fit and the scoring
#   SPLIT=1                seed of the held-out split (results in calibration-split-$SPLIT.txt)
#
# Small data sets, where plug-in EB's overconfidence shows: Validation/scoring/small.sh.
# Needs python3 with numpy. Results: Validation/scoring/calibration-split-N.txt,
# Validation/scoring/benchmark.txt; summarised in Validation/RESULTS.md
# ("Match scoring (issue 8)").
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
SCRATCH=${SCRATCH:-.build-score}
WORK=${WORK:-/tmp/bayesglmm-scoring}
NICE=${NICE:-5}
SPLIT=${SPLIT:-1}
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --scratch-path "$SCRATCH" --product bayesglmm
    BIN="$SCRATCH/release/bayesglmm"
fi
mkdir -p "$WORK"
F='y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)'

if [[ "$what" == all || "$what" == calibration ]]; then
    python3 Validation/scoring/split.py examples/pairings.csv "$WORK" --seed "$SPLIT"
    # 4 chains x 1,000 draws = the 4,000 draws of the benchmark.
    nice -n "$NICE" "$BIN" fit "$WORK/train.csv" --formula "$F" --chains 4 --warmup 1000 --draws 1000 \
        --seed 1 --out "$WORK/run" --quiet
    nice -n "$NICE" "$BIN" eb "$WORK/train.csv" --formula "$F" --out "$WORK/eb.json" > "$WORK/eb.txt"
    nice -n "$NICE" "$BIN" score "$WORK/run" --pairs "$WORK/heldout.csv" --seed 1 --out "$WORK/heldout-scores.csv"
    python3 Validation/scoring/calibration.py --truth examples/pairings-truth.json --train "$WORK/train.csv" \
        --scores "$WORK/heldout-scores.csv" --eb "$WORK/eb.json" | tee "Validation/scoring/calibration-split-$SPLIT.txt"
fi

if [[ "$what" == all || "$what" == benchmark ]]; then
    python3 Validation/scoring/candidates.py --rows 100000 --seed 1 > "$WORK/candidates.csv"
    {
        echo "$(date -u +%F) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); draws: $WORK/run"
        for options in "" "--rank-by client" "--rank-by client --thompson"; do
            /usr/bin/time -f "%e s wall, %U s user, %M KB peak resident" nice -n "$NICE" \
                "$BIN" score "$WORK/run" --pairs "$WORK/candidates.csv" --out "$WORK/bench-scores.csv" $options \
                2>&1 | sed "s|^|score 10^5 rows $options: |"
        done
    } | tee Validation/scoring/benchmark.txt
fi
