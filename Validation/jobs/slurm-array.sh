#!/bin/bash
# One chain of a bayesglmm fit per task of a Slurm job array: task K runs
# chain K of the array's size, from the stream chain K has in a fit of all
# of them, so the merged run is the run one machine would have written.
#
#   sbatch --array=1-4 --export=ALL,DATA=$PWD/data.csv,FORMULA='y ~ x1 + (1|client) + (1|stylist)',RUNS=$PWD/jobs \
#     Validation/jobs/slurm-array.sh
#   # when the array has ended (or as a job: sbatch --dependency=afterok:JOBID --wrap '…'):
#   bayesglmm merge jobs/chain-1 jobs/chain-2 jobs/chain-3 jobs/chain-4 --out run
#
# Environment: DATA and FORMULA (required); RUNS (where the jobs' run
# directories go, default ./jobs); SEED (default 1); CHAINS (default the
# array's size); BAYESGLMM (the command, default bayesglmm on PATH);
# FIT_OPTIONS (more options for fit, e.g. "--draws 2000 --warmup 500").
# A chain's threads are its task's CPUs (sbatch --cpus-per-task=4 gives each
# chain 4 threads for its per-cell draws; the draws are the same at any number).
#SBATCH --job-name=bayesglmm-chain
#SBATCH --cpus-per-task=1
#SBATCH --output=bayesglmm-chain-%A_%a.out
set -euo pipefail
: "${DATA:?set DATA to the data file}" "${FORMULA:?set FORMULA to the model formula}"
: "${SLURM_ARRAY_TASK_ID:?submit this script as a job array: sbatch --array=1-N}"
chains=${CHAINS:-${SLURM_ARRAY_TASK_COUNT:?set CHAINS}}
runs=${RUNS:-jobs}
mkdir -p "$runs"
# FIT_OPTIONS is split into words on purpose.
# shellcheck disable=SC2086
exec "${BAYESGLMM:-bayesglmm}" fit "$DATA" --formula "$FORMULA" --chains "$chains" \
  --chain "$SLURM_ARRAY_TASK_ID" --seed "${SEED:-1}" --parallel-chains 1 \
  --threads-per-chain "${SLURM_CPUS_PER_TASK:-1}" --quiet \
  --out "$runs/chain-$SLURM_ARRAY_TASK_ID" ${FIT_OPTIONS:-}
