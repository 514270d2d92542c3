#!/usr/bin/env bash
# Times the Swift summary (Diagnostics.summarize) and R's
# posterior::summarise_draws on the SAME draws, in one run, and prints both
# times and the speed-up. Run from anywhere:
#
#   Validation/diagnostics/benchmark.sh            # 2000 variables x 4 chains x 1000 draws
#   SCRATCH=.build-diag Validation/diagnostics/benchmark.sh
#
# Needs Swift, libgsl-dev, r-base-core and r-cran-posterior. The Swift
# benchmark generates seeded AR(1) draws and writes them (little-endian
# float64, [iteration, chain, variable]) to Validation/diagnostics/out/,
# which R then reads; out/ is not committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
VARIABLES=${VARIABLES:-2000}
CHAINS=${CHAINS:-4}
ITERATIONS=${ITERATIONS:-1000}
SEED=${SEED:-1}
SCRATCH=${SCRATCH:-.build}
OUT=Validation/diagnostics/out
mkdir -p "$OUT"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u '+%Y-%m-%d %H:%M UTC')"
swift build -c release --scratch-path "$SCRATCH" --product DiagnosticsBenchmarks >/dev/null
echo "== Swift: Diagnostics.summarize"
"$SCRATCH/release/DiagnosticsBenchmarks" --variables "$VARIABLES" --chains "$CHAINS" \
    --iterations "$ITERATIONS" --seed "$SEED" --repeats 5 \
    --write-draws "$OUT/draws.bin" --write-summary "$OUT/summary-swift.csv" | tee "$OUT/swift.txt"
SWIFT_SECONDS=$(sed -n 's/^SWIFT_SECONDS=//p' "$OUT/swift.txt")
SWIFT_SERIAL=$(sed -n 's/^summary, default columns, 1 thread: *best of [0-9]* = \([0-9.]*\) s$/\1/p' "$OUT/swift.txt")
echo "== R: posterior::summarise_draws on the same draws"
Rscript Validation/diagnostics/benchmark.R "$OUT" "$VARIABLES" "$CHAINS" "$ITERATIONS" "$SWIFT_SECONDS" "$SWIFT_SERIAL"
