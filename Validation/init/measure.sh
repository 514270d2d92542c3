#!/bin/sh
# Does starting chains around the EB fit (--init eb) help mixing at short
# warm-ups, compared with --init prior? For each data set, warm-up, seed and
# start: `bayesglmm fit` (4 chains, --draws 500), then `bayesglmm summary
# --format csv`; summarise.py reports, per data set, warm-up and start, the
# median and worst over seeds of max R-hat and min bulk/tail ESS, over every
# saved parameter and over the fixed effects and SDs alone, and the EB fit's
# seconds.
#
#   Validation/init/measure.sh                 # seeds 1-5, warm-ups 0 10 50 100 200
#   SEEDS="1 2" WARMUPS="50" Validation/init/measure.sh
#
# Needs the release build: swift build -c release (or BAYESGLMM=path/to/bayesglmm).
set -eu
cd "$(dirname "$0")/../.."
BIN=${BAYESGLMM:-.build/release/bayesglmm}
OUT=${OUT:-Validation/init/out}
SEEDS=${SEEDS:-"1 2 3 4 5"}
WARMUPS=${WARMUPS:-"0 10 50 100 200"}
DRAWS=${DRAWS:-500}
mkdir -p "$OUT"

run() {  # name data formula
    for warmup in $WARMUPS; do
        for seed in $SEEDS; do
            for init in prior eb; do
                dir="$OUT/$1-w$warmup-s$seed-$init"
                "$BIN" fit "$2" --formula "$3" --chains 4 --warmup "$warmup" --draws "$DRAWS" \
                    --seed "$seed" --init "$init" --out "$dir" --quiet
                "$BIN" summary "$dir" --format csv > "$dir/summary.csv"
                rm -f "$dir"/chain-*.csv "$dir/draws.npy"
            done
        done
    done
}

run pairings examples/pairings.csv 'y ~ (1|client) + (1|stylist) + (1|client:stylist)'
run verbagg Validation/stan/data/verbagg.csv 'r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)'
python3 Validation/init/summarise.py "$OUT"
