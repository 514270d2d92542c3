#!/usr/bin/env bash
# Benchmark (issue 6): lme4's glmer beside our empirical-Bayes fitter
# (`bayesglmm eb`), in one run, on the same data and formula
#   y ~ (1|client) + (1|stylist) + (1|client:stylist)
#
# Usage (from anywhere; paths are relative to the repository root):
#
#   Validation/lme4/benchmark.sh              # small, then large
#   Validation/lme4/benchmark.sh small        # examples/pairings.csv only (~1 min)
#   Validation/lme4/benchmark.sh large        # the large data only (~6 min)
#   Validation/lme4/benchmark.sh insteval     # the InstEval-shaped data only (~3 min)
#   NICE=19 REPEATS=3 Validation/lme4/benchmark.sh small
#
# Data sets:
#   small  examples/pairings.csv (27,037 rows)
#   large  $PAIRINGS_LARGE_CSV (default /tmp/pairings_large.csv, 274,039 rows),
#          made if missing with
#          bayesglmm simulate --clients 20000 --stylists 1000 --seed 2
#   insteval  $INSTEVAL_CSV (default /tmp/insteval_shaped.csv, 74,363 rows), the
#          shape of lme4's InstEval (2,972 students rating 1,128 lecturers,
#          about 25 each, once), made if missing with
#          bayesglmm simulate --clients 2972 --stylists 1128 --stylists-per-client 10-40
#            --observations-per-pair 1-1 --seed 3
#          and fitted as y ~ (1|client) + (1|stylist): each student's lecturers
#          link the lecturers into one dense block of the factor, the case
#          where the sparse Cholesky factorisation costs most.
#
# Environment:
#   SCRATCH=.build-ebbench   swift build scratch path (the binary is $SCRATCH/release/bayesglmm)
#   BIN=path                 use this bayesglmm binary and skip the build
#   FROM_HEAD=1              build the committed HEAD (a `git archive` copy in
#                            /tmp/bayesglmm-ebbench-src, scratch path
#                            $SCRATCH-head) instead of the working tree, which
#                            other engineers may be editing mid-build
#   NICE=0                   niceness for BOTH programs (0: neither is niced)
#   REPEATS=1                runs of each program per data set, alternating
#                            glmer, ours, glmer, ours, ...; the table shows the
#                            fastest run and the largest peak memory
#   PAIRINGS_LARGE_CSV=/tmp/pairings_large.csv
#
# Each run is timed by GNU time (`/usr/bin/time -v`): wall time, user+system
# CPU time and peak resident set size of the whole process (R start-up,
# loading lme4, reading the CSV, the fit, standard errors, conditional modes
# and SDs, writing the JSON for glmer; the same for ours). The JSONs also
# carry each program's own `seconds`, the fit alone (glmer(): system.time;
# ours: EmpiricalBayesFit.fit). glmer is run by Validation/lme4/time_glmer.R
# with lme4's default settings, as Validation/lme4/fit_glmer.R does.
#
# Output:
#   Validation/lme4/out/benchmark-<UTC stamp>/     raw files (not committed):
#       <set>/glmer-<k>.{json,time,log}, <set>/ours-<k>.{json,time,log}, load averages
#   Validation/lme4/results/benchmark-<UTC date>.json and .md   the table;
#       a data set already in that day's file is replaced, others are kept,
#       so `small` and `large` can be run separately.
#   The markdown table is also printed.
#
# Needs: Swift, libgsl-dev, GNU time (/usr/bin/time), python3, Rscript with
# lme4 and jsonlite (Debian: r-cran-lme4, r-cran-jsonlite).
set -euo pipefail
# The body is one { ... } block, read whole before it runs, so editing this
# file while a benchmark runs does not derail it.
{
cd "$(dirname "$0")/../.."

WHICH=${1:-all}
case "$WHICH" in
  small) SETS=(small) ;;
  large) SETS=(large) ;;
  insteval) SETS=(insteval) ;;
  all)   SETS=(small large insteval) ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [small|large|insteval|all]" >&2; exit 2 ;;
esac

SCRATCH=${SCRATCH:-.build-ebbench}
NICE=${NICE:-0}
REPEATS=${REPEATS:-1}
LARGE=${PAIRINGS_LARGE_CSV:-/tmp/pairings_large.csv}
INSTEVAL=${INSTEVAL_CSV:-/tmp/insteval_shaped.csv}
PAIRS_FORMULA='y ~ (1|client) + (1|stylist) + (1|client:stylist)'
CROSSED_FORMULA='y ~ (1|client) + (1|stylist)'
STAMP=$(date -u '+%Y%m%dT%H%M%SZ')
DATE=$(date -u '+%Y-%m-%d')
WORK=Validation/lme4/out/benchmark-$STAMP
RESULTS=Validation/lme4/results
mkdir -p "$WORK" "$RESULTS"

[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed: apt-get install time" >&2; exit 1; }
command -v Rscript >/dev/null || { echo "Rscript is needed (r-base-core, r-cran-lme4, r-cran-jsonlite)" >&2; exit 1; }

run() {  # run CMD... under the common niceness
  if [ "$NICE" != 0 ]; then nice -n "$NICE" "$@"; else "$@"; fi
}

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
uptime > "$WORK/uptime-start.txt"; cat /proc/loadavg > "$WORK/loadavg-start.txt"

if [ -n "${BIN:-}" ]; then
  BIN_GIVEN=1
  echo "== using BIN=$BIN (no build)"
else
  PKG=.
  if [ "${FROM_HEAD:-0}" != 0 ]; then
    # Build the committed HEAD, not the working tree that others may be editing.
    # One fixed directory, refilled when HEAD moves: SwiftPM keeps the build
    # plan of a scratch path tied to the package path, so a new directory per
    # commit with the same scratch path silently reuses the old binary.
    PKG=/tmp/bayesglmm-ebbench-src
    HEAD_COMMIT=$(git rev-parse HEAD)
    if [ "$(cat "$PKG/.commit" 2>/dev/null)" != "$HEAD_COMMIT" ]; then
      rm -rf "$PKG"; mkdir -p "$PKG"
      git archive HEAD | tar -x -m -C "$PKG"   # -m: files dated now, so all are rebuilt
      echo "$HEAD_COMMIT" > "$PKG/.commit"
    fi
    SCRATCH=$SCRATCH-head
  fi
  echo "== swift build -c release --package-path $PKG --scratch-path $SCRATCH --product bayesglmm"
  # Retried: a source file edited during the build fails it ("was modified during the build").
  for attempt in 1 2 3; do
    if swift build -c release --package-path "$PKG" --scratch-path "$SCRATCH" --product bayesglmm > "$WORK/build.log" 2>&1; then
      tail -1 "$WORK/build.log"; break
    fi
    tail -3 "$WORK/build.log" >&2
    [ "$attempt" = 3 ] && { echo "build failed; see $WORK/build.log" >&2; exit 1; }
    echo "   build failed; retrying" >&2
  done
  BIN=$SCRATCH/release/bayesglmm
  if [ "${FROM_HEAD:-0}" != 0 ] && [ "$BIN" -ot "$PKG/.commit" ]; then
    echo "$BIN is older than the source snapshot $PKG: not rebuilt? (remove $SCRATCH and retry)" >&2; exit 1
  fi
fi
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
# What was built: the commit, and whether Sources/ had uncommitted changes.
{
  if [ -n "${BIN_GIVEN:-}" ]; then
    echo "commit=unknown (BIN given; HEAD is $(git rev-parse --short HEAD 2>/dev/null))"
  else
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [ "${FROM_HEAD:-0}" != 0 ]; then echo "sources_dirty=0"
    else echo "sources_dirty=$(git status --porcelain -- Sources 2>/dev/null | wc -l)"; fi
  fi
  echo "binary=$BIN"
  echo "r_version=$(Rscript -e 'cat(R.version.string)' 2>/dev/null)"
  echo "binary_mtime=$(date -u -r "$BIN" '+%Y-%m-%dT%H:%M:%SZ')"
} > "$WORK/build.txt"

for set in "${SETS[@]}"; do
  case "$set" in
    small) CSV=examples/pairings.csv; FORMULA=$PAIRS_FORMULA ;;
    large)
      CSV=$LARGE; FORMULA=$PAIRS_FORMULA
      if [ ! -s "$CSV" ]; then
        echo "== making $CSV: bayesglmm simulate --clients 20000 --stylists 1000 --seed 2"
        "$BIN" simulate --clients 20000 --stylists 1000 --seed 2 --out "$CSV" >/dev/null
      fi ;;
    insteval)
      CSV=$INSTEVAL; FORMULA=$CROSSED_FORMULA
      if [ ! -s "$CSV" ]; then
        echo "== making $CSV: bayesglmm simulate --clients 2972 --stylists 1128 --stylists-per-client 10-40 --observations-per-pair 1-1 --seed 3"
        "$BIN" simulate --clients 2972 --stylists 1128 --stylists-per-client 10-40 --observations-per-pair 1-1 \
          --seed 3 --out "$CSV" >/dev/null
      fi ;;
  esac
  D=$WORK/$set
  mkdir -p "$D"
  echo "$CSV" > "$D/data.txt"
  echo "== $set: $CSV ($(($(wc -l < "$CSV") - 1)) rows), $FORMULA; NICE=$NICE, REPEATS=$REPEATS"
  cat /proc/loadavg > "$D/loadavg-start.txt"; date -u '+%Y-%m-%dT%H:%M:%SZ' > "$D/start.txt"
  for k in $(seq 1 "$REPEATS"); do
    echo "   [$(date -u '+%H:%M:%S')] glmer, run $k"
    run /usr/bin/time -v -o "$D/glmer-$k.time" \
      Rscript Validation/lme4/time_glmer.R "$CSV" "$FORMULA" "$D/glmer-$k.json" "$set" \
      > "$D/glmer-$k.log" 2>&1 || { echo "glmer failed; see $D/glmer-$k.log" >&2; exit 1; }
    echo "   [$(date -u '+%H:%M:%S')] ours (bayesglmm eb), run $k"
    run /usr/bin/time -v -o "$D/ours-$k.time" \
      "$BIN" eb "$CSV" --formula "$FORMULA" --out "$D/ours-$k.json" --case "$set" \
      > "$D/ours-$k.log" 2>&1 || { echo "bayesglmm eb failed; see $D/ours-$k.log" >&2; exit 1; }
  done
  cat /proc/loadavg > "$D/loadavg-end.txt"; date -u '+%Y-%m-%dT%H:%M:%SZ' > "$D/end.txt"
done

uptime > "$WORK/uptime-end.txt"; cat /proc/loadavg > "$WORK/loadavg-end.txt"
echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

case " ${SETS[*]} " in
  *" insteval "*) FORMULAS="$PAIRS_FORMULA (small, large); $CROSSED_FORMULA (insteval)" ;;
  *) FORMULAS=$PAIRS_FORMULA ;;
esac
python3 Validation/lme4/compare_fits.py "$WORK" --sets "$(IFS=,; echo "${SETS[*]}")" \
  --nice "$NICE" --formula "$FORMULAS" \
  --json "$RESULTS/benchmark-$DATE.json" --markdown "$RESULTS/benchmark-$DATE.md"
echo
echo "raw files: $WORK"
exit 0
}
