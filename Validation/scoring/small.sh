#!/usr/bin/env bash
# Match scoring (issue 8): coverage of posterior and plug-in EB intervals on
# small simulated data sets, where the SDs are poorly determined (few stylists
# and clients): REPLICATES data sets of 40 clients x 6 stylists, each split,
# fitted, scored and checked against its truth by calibration.py --json;
# summary by summarise.py.
#
#   BIN=.build-score/release/bayesglmm Validation/scoring/small.sh
#
# Environment: BIN (required: a built bayesglmm), WORK=/tmp/bayesglmm-scoring-small,
# REPLICATES=40, NICE=5.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/bayesglmm-scoring-small}
REPLICATES=${REPLICATES:-40}
NICE=${NICE:-5}
mkdir -p "$WORK"
F='y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)'
: > "$WORK/coverage.jsonl"
for seed in $(seq 1 "$REPLICATES"); do
    d="$WORK/$seed"
    mkdir -p "$d"
    "$BIN" simulate --clients 40 --stylists 6 --stylists-per-client 1-3 --observations-per-pair 1-6 \
        --beta 0.5 --seed "$seed" --out "$d/data.csv" --truth "$d/truth.json"
    python3 Validation/scoring/split.py "$d/data.csv" "$d" --seed "$seed" --new-clients 0.1 > /dev/null
    nice -n "$NICE" "$BIN" fit "$d/train.csv" --formula "$F" --chains 4 --warmup 1000 --draws 1000 \
        --seed "$seed" --out "$d/run" --quiet 2> /dev/null
    nice -n "$NICE" "$BIN" eb "$d/train.csv" --formula "$F" --out "$d/eb.json" > /dev/null
    nice -n "$NICE" "$BIN" score "$d/run" --pairs "$d/heldout.csv" --seed "$seed" --out "$d/scores.csv" 2> /dev/null
    python3 Validation/scoring/calibration.py --json --truth "$d/truth.json" --train "$d/train.csv" \
        --scores "$d/scores.csv" --eb "$d/eb.json" >> "$WORK/coverage.jsonl"
done
python3 Validation/scoring/summarise.py "$WORK/coverage.jsonl" | tee Validation/scoring/small.txt
