#!/bin/sh
# Draws every kind of `bayesglmm plot` from a small fit of the bundled
# example and renders each SVG to PNG with headless Chromium, so that the
# figures can be looked at (and seen on the repository page).
#
#   Validation/figures/render.sh        # from the repository root
#
# Needs Debian's chromium (apt-get install -y chromium). Work files go to
# Validation/figures/out/ (not committed); the PNGs to Validation/figures/.
set -eu
cd "$(dirname "$0")/../.."
here=Validation/figures
out=$here/out
mkdir -p "$out"
# BAYESGLMM=path/to/bayesglmm to use a build of your own.
if [ -z "${BAYESGLMM:-}" ]; then
    swift build -c release --product bayesglmm >/dev/null
fi
bin=${BAYESGLMM:-$(swift build -c release --show-bin-path)/bayesglmm}

# The demo model of the Makefile, fitted to 90% of examples/pairings.csv;
# every tenth row is held out and scored for the calibration plot.
formula='y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)'
awk 'NR == 1 || NR % 10 != 1' examples/pairings.csv > "$out/train.csv"
awk 'NR == 1 || NR % 10 == 1' examples/pairings.csv > "$out/heldout.csv"
"$bin" fit "$out/train.csv" --formula "$formula" --chains 4 --warmup 500 --draws 500 --seed 1 \
    --out "$out/run" --quiet
"$bin" eb "$out/train.csv" --formula "$formula" --out "$out/eb.json" >/dev/null 2>&1
"$bin" score "$out/run" --pairs "$out/heldout.csv" --out "$out/scores.csv" 2>/dev/null

run=$out/run
"$bin" plot "$run" --kind trace --out "$out/trace.svg"
"$bin" plot "$run" --kind rank --out "$out/rank.svg"
"$bin" plot "$run" --kind density --variables 'sd(client:stylist)' --eb "$out/eb.json" --out "$out/density.svg"
"$bin" plot "$run" --kind caterpillar --term stylist --out "$out/caterpillar.svg"
"$bin" plot "$run" --kind shrinkage --term client --eb "$out/eb.json" --out "$out/shrinkage.svg"
"$bin" plot "$run" --kind sd --eb "$out/eb.json" --out "$out/sd.svg"
"$bin" plot "$run" --kind calibration --scores "$out/scores.csv" --out "$out/calibration.svg"

# Each SVG at its own size, white background, one CSS pixel per pixel.
for kind in trace rank density caterpillar shrinkage sd calibration; do
    size=$(head -n 1 "$out/$kind.svg" | sed -E 's/.* width="([0-9.]+)" height="([0-9.]+)".*/\1 \2/')
    width=$(echo "$size" | awk '{ printf "%d", $1 + 0.999 }')
    height=$(echo "$size" | awk '{ printf "%d", $2 + 0.999 }')
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --default-background-color=ffffffff --window-size="$width,$height" \
        --screenshot="$PWD/$here/$kind.png" "file://$PWD/$out/$kind.svg" >/dev/null 2>&1
    echo "rendered $here/$kind.png ($width x $height)"
done
