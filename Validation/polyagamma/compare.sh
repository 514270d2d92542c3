#!/usr/bin/env bash
# Side-by-side comparison of our Swift Pólya–Gamma sampler (hybrid method)
# with the Python package `polyagamma` (PyPI, zoj613) over a (b, z) grid:
# throughput and z-scores of the sample mean and variance against the exact
# closed forms. Prints one table; also writes it as TSV to out/.
#
#     Validation/polyagamma/compare.sh
#     DRAWS=100000 SHAPES=1,2.7 TILTS=0,4 Validation/polyagamma/compare.sh
#
# Environment: DRAWS (default 1000000), SHAPES, TILTS (comma-separated),
# SEED (default 20261124, the Swift benchmark's default), BUILD_RETRIES
# (default 5; the build is retried a minute apart), FLAG (|z| threshold,
# default 4), PYTHON (default python3).
# Needs network access to PyPI for the throwaway virtual environment.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

DRAWS="${DRAWS:-1000000}"
SHAPES="${SHAPES:-0.5,1,2,2.7,3,5,10,20,60,200}"
TILTS="${TILTS:-0,1,-1,4,-4,10,-10,40}"
SEED="${SEED:-20261124}"
BUILD_RETRIES="${BUILD_RETRIES:-5}"
FLAG="${FLAG:-4}"
PYTHON="${PYTHON:-python3}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
venv="$work/venv"

log() { printf '%s\n' "$*" >&2; }

# 1. Throwaway virtual environment with polyagamma and numpy.
log "== creating virtual environment in $venv"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check polyagamma numpy >&2
pg_version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("polyagamma"))')"
np_version="$("$venv/bin/python" -c 'import numpy; print(numpy.__version__)')"
py_version="$("$venv/bin/python" -c 'import platform; print(platform.python_version())')"

# 2. Our benchmark (the build can fail transiently while sources are being edited).
build_cmd=(swift build -c release --product VariatesBenchmarks)
attempt=1
until (cd "$root" && "${build_cmd[@]}" >"$work/build.log" 2>&1); do
    if (( attempt >= BUILD_RETRIES )); then
        log "== swift build failed $attempt times; last log:"
        cat "$work/build.log" >&2
        exit 1
    fi
    log "== swift build failed (attempt $attempt/$BUILD_RETRIES); retrying in 60 s"
    attempt=$((attempt + 1))
    sleep 60
done
swift_version="$(swift --version 2>/dev/null | head -n 1)"

ours_cmd=(.build/release/VariatesBenchmarks polyagamma --tsv --draws "$DRAWS"
          --shapes "$SHAPES" --tilts "$TILTS" --method hybrid)
theirs_cmd=("$venv/bin/python" "$here/polyagamma_bench.py" --draws "$DRAWS"
            --shapes "$SHAPES" --tilts "$TILTS" --seed "$SEED")

# 3. Run the two one after the other (never concurrently: they share the cores).
log "== running: ${ours_cmd[*]}"
(cd "$root" && "${ours_cmd[@]}") | grep -v '^peak memory:' >"$work/ours.tsv"
log "== running: python polyagamma_bench.py"
"${theirs_cmd[@]}" >"$work/theirs.tsv"

# 4. Join on (b, z), compared numerically (both print e.g. 1.0 and -4.0 today, but
#    normalise anyway), and flag |z| > FLAG.
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
mkdir -p "$here/out"
tsv_out="$here/out/compare-$stamp.tsv"

awk -F'\t' -v OFS='\t' -v flag="$FLAG" '
    function key(b, z) { return sprintf("%.12g|%.12g", b + 0, z + 0) }
    function big(x)    { return x != "NA" && (x + 0 > flag || x + 0 < -flag) }
    FNR == 1 { next }                                   # headers
    FILENAME == ARGV[1] {                               # ours: b z method rate mean_z var_z
        k = key($1, $2); ours[k] = $4 OFS $5 OFS $6
        if (!(k in seen)) { seen[k] = 1; order[++n] = k; bb[k] = $1 + 0; zz[k] = $2 + 0 }
        next
    }
    {                                                   # theirs: b z rate mean_z var_z
        k = key($1, $2); theirs[k] = $3 OFS $4 OFS $5
        if (!(k in seen)) { seen[k] = 1; order[++n] = k; bb[k] = $1 + 0; zz[k] = $2 + 0 }
    }
    END {
        print "b", "z", "ours_Mdraws_per_s", "polyagamma_Mdraws_per_s", "speedup_ours_over_theirs",
              "ours_mean_z", "ours_var_z", "polyagamma_mean_z", "polyagamma_var_z", "flag"
        for (i = 1; i <= n; i++) {
            k = order[i]
            if (k in ours)   split(ours[k], o, OFS);   else { o[1] = o[2] = o[3] = "NA" }
            if (k in theirs) split(theirs[k], t, OFS); else { t[1] = t[2] = t[3] = "NA" }
            speed = (o[1] != "NA" && t[1] != "NA" && t[1] + 0 > 0) ? sprintf("%.2f", o[1] / t[1]) : "NA"
            f = ""
            if (big(o[2]) || big(o[3])) f = "ours"
            if (big(t[2]) || big(t[3])) f = (f == "" ? "" : f "+") "polyagamma"
            if (f == "") f = "-"
            print sprintf("%g", bb[k]), sprintf("%g", zz[k]), o[1], t[1], speed, o[2], o[3], t[2], t[3], f
        }
    }' "$work/ours.tsv" "$work/theirs.tsv" >"$tsv_out"

# 5. Report.
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "Pólya–Gamma sampler comparison: BayesGLMM (Swift, hybrid) vs Python polyagamma (default hybrid)"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:     $(nproc) cores, ${cpu:-unknown CPU}, $(uname -sr)"
echo "commit:      $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD -- Sources Benchmarks 2>/dev/null || echo ' (+ uncommitted changes in Sources/Benchmarks)')"
echo "swift:       $swift_version"
echo "python:      $py_version, polyagamma $pg_version, numpy $np_version"
echo "draws:       $DRAWS per cell; timing best of 3; z-scores from the last sample"
echo "commands:"
echo "  (cd $root && ${build_cmd[*]})"
echo "  (cd $root && ${ours_cmd[*]})"
echo "  python polyagamma_bench.py --draws $DRAWS --shapes $SHAPES --tilts $TILTS --seed $SEED"
echo "    (i.e. random_polyagamma(b, z, size=$DRAWS, random_state=np.random.default_rng($SEED)) per cell,"
echo "     in a throwaway venv: pip install polyagamma numpy)"
echo "mean z = (xbar - E)/sqrt(Var/N); var z = (s^2 - Var)/sqrt((kappa4 + 2 Var^2)/N); flagged if |z| > $FLAG"
echo
awk -F'\t' '
    NR == 1 {
        printf "%7s %6s %9s %9s %8s %8s %8s %8s %8s  %s\n",
               "b", "z", "ours", "pg", "speed-up", "ours", "ours", "pg", "pg", "flag"
        printf "%7s %6s %9s %9s %8s %8s %8s %8s %8s  %s\n",
               "", "", "M/s", "M/s", "ours/pg", "mean z", "var z", "mean z", "var z", "(|z|>'"$FLAG"')"
        next
    }
    { printf "%7s %6s %9s %9s %8s %8s %8s %8s %8s  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, ($10 == "-" ? "" : "<-- " $10) }
' "$tsv_out"
echo
echo "TSV: $tsv_out"
