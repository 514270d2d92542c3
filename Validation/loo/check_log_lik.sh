#!/bin/sh
# The log_lik columns of real chain files, read by the tools users read them
# with, against `bayesglmm loo` (issue 22).
#
# Usage (from the repository root, after `swift build -c release`):
#   sh Validation/loo/check_log_lik.sh [BAYESGLMM] [PYTHON]
#
# Simulates pairing data with a client:stylist effect, fits it with and
# without the interaction (4 chains x 1000 draws, --log-lik: one column per
# binomial cell), then
#   - R: loo 2.5.1 on the log_lik columns of the chain CSVs (loo() with
#     r_eff = relative_eff(exp(ll), chain_id), waic(), loo_compare()) against
#     `bayesglmm loo --unit cell --format json` on the draw store: every
#     total, SE, pointwise elpd_loo, p_loo and Pareto k within 1e-6
#     (Validation/loo/check_log_lik.R);
#   - Python: ArviZ's from_cmdstan(log_likelihood = "log_lik") reads the
#     columns (its own PSIS, which computes r_eff differently, is printed
#     beside ours, not compared) — when PYTHON has arviz.
# Exits 1 when a figure differs.
set -eu
bin=${1:-.build/release/bayesglmm}
python=${2:-.venv-shapes/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/check-log-lik.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$bin" simulate --clients 150 --stylists 20 --sd-pair 0.8 --seed 7 --out "$work/data.csv" >/dev/null
"$bin" fit "$work/data.csv" --formula 'y ~ (1|client) + (1|stylist) + (1|client:stylist)' --seed 1 \
    --log-lik --out "$work/pair" --quiet
"$bin" fit "$work/data.csv" --formula 'y ~ (1|client) + (1|stylist)' --seed 1 \
    --log-lik --out "$work/no-pair" --quiet
"$bin" loo "$work/pair" "$work/no-pair" --unit cell --format json > "$work/ours.json"
Rscript Validation/loo/check_log_lik.R "$work/ours.json" "$work/pair" "$work/no-pair"

if "$python" -c 'import arviz' 2>/dev/null; then
    "$python" - "$work/pair" "$work/ours.json" <<'EOF'
import glob, json, sys, warnings
import arviz as az
warnings.simplefilter("ignore")
run, ours = sys.argv[1], json.load(open(sys.argv[2]))["fits"][0]
data = az.from_cmdstan(posterior=sorted(glob.glob(run + "/chain-*.csv")), log_likelihood="log_lik")
shape = data.log_likelihood["log_lik"].shape
assert shape == (4, 1000, ours["observations"]), shape
loo = az.loo(data)
print(f"ArviZ {az.__version__} from_cmdstan: log_lik {shape[0]} chains x {shape[1]} draws x {shape[2]} cells; "
      f"az.loo elpd_loo {loo.elpd_loo:.2f} (SE {loo.se:.2f}), p_loo {loo.p_loo:.2f}; "
      f"ours {ours['elpd_loo']['estimate']:.2f} ({ours['elpd_loo']['se']:.2f}), {ours['p_loo']['estimate']:.2f}")
EOF
else
    echo "ArviZ: $python has no arviz; not checked"
fi
