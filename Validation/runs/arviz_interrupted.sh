#!/usr/bin/env bash
# An interrupted run read by ArviZ (issue 16): 4 chains, 2 at a time,
# interrupted by SIGINT while chains 1 and 2 sample, so that chains 3 and 4
# never begin. Checks that `arviz.from_cmdstan("RUN/chain-*.csv")` reads the
# chain files as they are and gives the same draws, R-hat and ESS as
# `bayesglmm summary RUN` (which reads draws.npy through fit.json).
#
#   Validation/runs/arviz_interrupted.sh            # needs PyPI (arviz) and a release build
#
# Writes Validation/runs/out/ (git-ignored) and prints the comparison.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/out"
rm -rf "$out"; mkdir -p "$out"
swift build -c release --product bayesglmm --package-path "$root" >/dev/null
bin="$(swift build -c release --show-bin-path --package-path "$root")/bayesglmm"
venv="$here/.venv-arviz"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q arviz; }

"$bin" simulate --clients 300 --stylists 30 --seed 2 --out "$out/data.csv"
F='y ~ (1|client) + (1|stylist) + (1|client:stylist)'
"$bin" fit "$out/data.csv" --formula "$F" --out "$out/run" --chains 4 --parallel-chains 2 --warmup 100 \
    --draws 100000 --init prior --quiet & pid=$!
# Wait until chain 1 has a few hundred draws, then interrupt.
until [ "$(ls -d "$out"/run.partial-*/ 2>/dev/null | head -1)" ] \
      && [ "$(grep -vc '^#' "$(ls -d "$out"/run.partial-*/ | head -1)chain-1.csv" 2>/dev/null || echo 0)" -gt 400 ]; do
    sleep 0.2
done
kill -INT "$pid"
status=0; wait "$pid" || status=$?
echo "fit exit status: $status (130 = interrupted)"
"$bin" summary "$out/run" --variables '(Intercept),sd(client),sd(stylist),sd(client:stylist)' --format csv \
    >"$out/summary.csv" 2>"$out/summary.notes"
cat "$out/summary.notes"
"$venv/bin/python" - "$out" <<'PY'
import csv, json, sys
import arviz as az, numpy as np
out = sys.argv[1]
manifest = json.load(open(f"{out}/run/fit.json"))
print("fit.json:", manifest["status"], [(c["chain"], c["status"], c["draws"], c.get("file")) for c in manifest["outcomes"]])
data = az.from_cmdstan(f"{out}/run/chain-*.csv")
print("arviz", az.__version__, "posterior:", dict(data.posterior.sizes))
ours = {row["variable"]: row for row in csv.DictReader(open(f"{out}/summary.csv"))}
names = list(ours)
theirs = az.summary(data, var_names=names, round_to="none")
store = np.load(f"{out}/run/draws.npy", mmap_mode="r")
print(f"{'variable':20} {'mean (ours)':>12} {'mean (ArviZ)':>12} {'rhat':>7} {'rhat':>7} {'ess_bulk':>9} {'ess_bulk':>9}")
worst = 0.0
for name in names:
    a, b = ours[name], theirs.loc[name]
    worst = max(worst, abs(float(a["mean"]) - b["mean"]))
    print(f"{name:20} {float(a['mean']):12.6g} {b['mean']:12.6g} {float(a['rhat']):7.4f} {b['r_hat']:7.4f} "
          f"{float(a['ess_bulk']):9.1f} {b['ess_bulk']:9.1f}")
k = manifest["store"]["names"].index(names[1])
made = [c["draws"] for c in manifest["outcomes"]]
print("draws.npy: completed draws per chain", made, "; NaN after them:",
      all(np.isnan(store[c, made[c]:, k]).all() for c in range(store.shape[0])))
print("largest |mean difference|:", worst)
PY
