#!/usr/bin/env python3
"""The random-slope model fitted by both of bayesglmm's samplers on the same
data: RandomSlopeGibbs (the default) and RandomSlopeMetropolis
(`--sampler metropolis`), which must sample the same posterior (issue 18).

    python3 Validation/slopes/gibbs_vs_metropolis.py [--bayesglmm PATH] [--data CSV]
        [--metropolis-draws 4000] [--out DIR]

Default data: Validation/stan/data/slopes.csv (4,340 rows, 300 clients x 30
stylists, `y ~ x1 + (1 + x1 | client) + (1 | stylist)`). Gibbs runs with its
defaults (4 x (1000 + 1000), seed 1); Metropolis with --warmup 2000 and
--draws N (default 4000) per chain, seed 1, because its random walks mix
more slowly. For the intercept, x1, both client SDs, the correlation,
sd(stylist), the first 20 clients' (intercept, slope) pairs and the first
10 stylists it prints both posterior means and
z = |mean_G - mean_M| / sqrt(mcse_G^2 + mcse_M^2) (MCSEs from `summary
--mcse`, as R's posterior computes them), and exits 1 if any |z| >= 4.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FORMULA = "y ~ x1 + (1 + x1 | client) + (1 | stylist)"


def fit(binary, data, out, extra):
    start = time.perf_counter()
    subprocess.run([binary, "fit", data, "--formula", FORMULA, "--out", out, "--seed", "1", "--force", "--quiet"]
                   + extra, check=True)
    return time.perf_counter() - start


def summary(binary, run, names):
    result = subprocess.run([binary, "summary", run, "--variables", ",".join(names), "--format", "json", "--mcse"],
                            check=True, capture_output=True, text=True)
    return {row["variable"]: row for row in json.loads(result.stdout)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bayesglmm", default=os.path.join(ROOT, ".build/release/bayesglmm"))
    parser.add_argument("--data", default=os.path.join(ROOT, "Validation/stan/data/slopes.csv"))
    parser.add_argument("--metropolis-draws", type=int, default=4000)
    parser.add_argument("--out", default=os.path.join(ROOT, "Validation/slopes/out"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gibbs_run, metropolis_run = os.path.join(args.out, "gibbs"), os.path.join(args.out, "metropolis")
    gibbs_seconds = fit(args.bayesglmm, args.data, gibbs_run, [])
    metropolis_seconds = fit(args.bayesglmm, args.data, metropolis_run,
                             ["--sampler", "metropolis", "--warmup", "2000",
                              "--draws", str(args.metropolis_draws)])
    with open(os.path.join(gibbs_run, "fit.json")) as f:
        record = json.load(f)
    levels = {r["term"]: r["levels"] for r in record["random"]}
    names = ["(Intercept)", "x1", "sd(client)[(Intercept)]", "sd(client)[x1]", "cor(client)[(Intercept)][x1]",
             "sd(stylist)"]
    for level in levels["client"][:20]:
        names += [f"r(client)[{level}][(Intercept)]", f"r(client)[{level}][x1]"]
    names += [f"r(stylist)[{level}]" for level in levels["stylist"][:10]]
    g, m = summary(args.bayesglmm, gibbs_run, names), summary(args.bayesglmm, metropolis_run, names)
    print(f"data {os.path.relpath(args.data, ROOT)}; {FORMULA}")
    print(f"Gibbs 4 x (1000 + 1000), {gibbs_seconds:.1f} s; Metropolis 4 x (2000 + {args.metropolis_draws}), "
          f"{metropolis_seconds:.1f} s; seed 1")
    print(f"{'parameter':32s} {'Gibbs':>9s} {'Metropolis':>10s} {'mcse G':>8s} {'mcse M':>8s} {'|z|':>6s} "
          f"{'ess G':>7s} {'ess M':>7s}")
    worst = 0.0
    above3 = 0
    for name in names:
        a, b = g[name], m[name]
        z = abs(a["mean"] - b["mean"]) / (a["mcse_mean"] ** 2 + b["mcse_mean"] ** 2) ** 0.5
        worst = max(worst, z)
        above3 += z > 3
        print(f"{name:32s} {a['mean']:9.4f} {b['mean']:10.4f} {a['mcse_mean']:8.4f} {b['mcse_mean']:8.4f} "
              f"{z:6.2f} {a['ess_bulk']:7.0f} {b['ess_bulk']:7.0f}")
    print(f"{len(names)} parameters; largest |z| {worst:.2f}; |z| > 3: {above3}; "
          + ("agree (threshold 4)" if worst < 4 else "DISAGREE (|z| >= 4)"))
    sys.exit(0 if worst < 4 else 1)


if __name__ == "__main__":
    main()
