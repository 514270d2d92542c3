#!/bin/sh
# Chains as jobs, end to end: a 4-chain fit on this machine against the same
# 4 chains run as separate jobs — by GNU parallel, and by a Slurm job array
# on a single-node Slurm started here (start-slurm.sh) — each merged with
# `bayesglmm merge`. Passes when every merged run's draws.npy and
# summary.csv are byte for byte the local run's, and so are the draws in
# its chain files (everything but the comment lines, which hold timings).
#
#   sh Validation/jobs/check-jobs.sh [--slurm require|skip|auto] [BAYESGLMM]
#
# --slurm auto (the default) runs the Slurm part when it can start Slurm
# here (root, slurm-wlm and munge installed) and says it skipped it when it
# cannot; require fails then; skip leaves it out.
set -eu
slurm=auto
if [ "${1:-}" = --slurm ]; then slurm=$2; shift 2; fi
here=$(cd "$(dirname "$0")" && pwd)
bayesglmm=$(cd "$(dirname "${1:-.build/release/bayesglmm}")" && pwd)/$(basename "${1:-.build/release/bayesglmm}")
[ -x "$bayesglmm" ] || { echo "check-jobs.sh: no $bayesglmm (swift build -c release --product bayesglmm)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bayesglmm-jobs-XXXXXX")
slurmdir=""
cleanup() {
  [ -n "$slurmdir" ] && sh "$here/stop-slurm.sh" "$slurmdir"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
# A command whose output is shown only when it fails.
quietly() {
  "$@" > "$work/log" 2>&1 || { status=$?; cat "$work/log" >&2; echo "FAIL: $1 exited $status" >&2; exit 1; }
}
formula='y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)'
settings="--chains 4 --warmup 300 --draws 300 --seed 11"
quietly "$bayesglmm" simulate --clients 150 --stylists 15 --beta 0.5 --seed 7 --out "$work/data.csv"
# shellcheck disable=SC2086
quietly "$bayesglmm" fit "$work/data.csv" --formula "$formula" $settings --out "$work/local" --quiet

same() {   # same NAME RUN: the merged RUN against the local run
  for file in draws.npy summary.csv; do
    cmp "$work/local/$file" "$2/$file" || { echo "FAIL $1: $file differs from the local run's" >&2; exit 1; }
  done
  for k in 1 2 3 4; do
    grep -v '^#' "$work/local/chain-$k.csv" > "$work/expected.csv"
    grep -v '^#' "$2/chain-$k.csv" > "$work/got.csv"
    cmp "$work/expected.csv" "$work/got.csv" || { echo "FAIL $1: the draws of chain-$k.csv differ" >&2; exit 1; }
  done
  echo "ok $1: 4 jobs merged, draws.npy, summary.csv and the chain files' draws byte for byte the local run's"
}

# GNU parallel: one job per chain, two at a time.
command -v parallel >/dev/null || { echo "check-jobs.sh: no GNU parallel (apt-get install parallel)" >&2; exit 2; }
# shellcheck disable=SC2086
quietly parallel --will-cite --halt now,fail=1 -j 2 "$bayesglmm" fit "$work/data.csv" --formula "'$formula'" $settings \
  --chain {} --parallel-chains 1 --quiet --out "$work/parallel/chain-{}" ::: 4 3 2 1
quietly "$bayesglmm" merge "$work"/parallel/chain-1 "$work"/parallel/chain-2 "$work"/parallel/chain-3 \
  "$work"/parallel/chain-4 --out "$work/parallel-run"
same "GNU parallel" "$work/parallel-run"

# A Slurm job array on a single-node Slurm.
if [ "$slurm" = skip ]; then exit 0; fi
can_start=yes
[ "$(id -u)" = 0 ] || can_start=no
[ -x /usr/sbin/slurmctld ] || command -v slurmctld >/dev/null 2>&1 || can_start=no
if [ $can_start = no ]; then
  [ "$slurm" = require ] && { echo "FAIL Slurm: cannot start Slurm here (needs root, slurm-wlm and munge)" >&2; exit 1; }
  echo "skipped Slurm: starting it here needs root, slurm-wlm and munge (apt-get install slurm-wlm munge)"
  exit 0
fi
slurmdir="$work/slurm"
sh "$here/start-slurm.sh" "$slurmdir" >/dev/null
export SLURM_CONF="$slurmdir/slurm.conf"
cd "$work"
# The whole fit's settings but the chains, which come from the array's size.
DATA="$work/data.csv" FORMULA="$formula" RUNS="$work/slurm-jobs" SEED=11 BAYESGLMM="$bayesglmm" \
  FIT_OPTIONS="--warmup 300 --draws 300" \
  sbatch --wait --quiet --array=1-4 --export=ALL "$here/slurm-array.sh" || {
    echo "FAIL Slurm: the job array failed; its output:" >&2; cat "$work"/bayesglmm-chain-*.out >&2; exit 1; }
quietly "$bayesglmm" merge "$work"/slurm-jobs/chain-1 "$work"/slurm-jobs/chain-2 "$work"/slurm-jobs/chain-3 \
  "$work"/slurm-jobs/chain-4 --out "$work/slurm-run"
same "Slurm job array" "$work/slurm-run"
