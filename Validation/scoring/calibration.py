#!/usr/bin/env python3
"""Held-out calibration of `bayesglmm score` against plug-in empirical-Bayes
scores, on simulated data with known truth.

Inputs: the truth JSON of `bayesglmm simulate --truth`, the training rows, the
scores of the held-out rows (`bayesglmm score RUN --pairs heldout.csv`, which
echoes y), and the EB fit of the training rows (`bayesglmm eb --out`).

Plug-in EB score of a row: F(eta) with eta = fixed estimates . x + the
conditional modes of its levels (0 for a level EB never saw), the way a glmer
user would predict. Its 90% interval: F(eta -/+ 1.645 s) with s^2 the sum of
the levels' conditional variances (sigma-hat^2 for an unseen level); it
ignores the uncertainty in the fixed effects and in the SDs.

Prints Markdown tables: calibration by decile of the prediction (mean
predicted against observed success rate of the held-out rows), Brier score and
log loss, and coverage of the true success probability of each held-out row by
the 90% intervals, by how many training rows the row's client had.
"""
import argparse
import csv
import json
import math
from collections import Counter

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--truth", required=True)
parser.add_argument("--train", required=True)
parser.add_argument("--scores", required=True)
parser.add_argument("--eb", required=True)
parser.add_argument("--json", action="store_true",
                    help="print one JSON line of coverage counts by group instead of the tables")
arguments = parser.parse_args()


def logistic(x):
    return 1 / (1 + np.exp(-x))


truth = json.load(open(arguments.truth))
with open(arguments.train, newline="") as handle:
    training = Counter(row["client"] for row in csv.DictReader(handle))
with open(arguments.scores, newline="") as handle:
    rows = list(csv.DictReader(handle))
eb = json.load(open(arguments.eb))

client = [r["client"] for r in rows]
stylist = [r["stylist"] for r in rows]
x = np.array([float(r["x1"]) for r in rows])
y = np.array([float(r["y"]) for r in rows])
mean = np.array([float(r["mean"]) for r in rows])
q5 = np.array([float(r["q5"]) for r in rows])
q95 = np.array([float(r["q95"]) for r in rows])

# The true success probability of every held-out row.
eta_true = (truth["alpha"] + truth["beta"][0] * x
            + np.array([truth["client_effects"][int(c) - 1] for c in client])
            + np.array([truth["stylist_effects"][int(s) - 1] for s in stylist])
            + np.array([truth["pair_effects"][f"{c}:{s}"] for c, s in zip(client, stylist)]))
p_true = logistic(eta_true)

# Plug-in EB.
fixed = {f["name"]: f["estimate"] for f in eb["fixed"]}
sd = {s["term"]: s["estimate"] for s in eb["sd"]}
effects = {(e["term"], e["level"]): (e["mode"], e["sd"]) for e in eb["effects"]}
eta_eb = fixed["(Intercept)"] + fixed["x1"] * x
variance_eb = np.zeros(len(rows))
for term, levels in (("client", client), ("stylist", stylist),
                     ("client:stylist", [f"{c}:{s}" for c, s in zip(client, stylist)])):
    modes = np.array([effects.get((term, level), (0.0, sd[term]))[0] for level in levels])
    sds = np.array([effects.get((term, level), (0.0, sd[term]))[1] for level in levels])
    eta_eb += modes
    variance_eb += sds ** 2
plugin = logistic(eta_eb)
low_eb = logistic(eta_eb - 1.645 * np.sqrt(variance_eb))
high_eb = logistic(eta_eb + 1.645 * np.sqrt(variance_eb))

count = np.array([training[c] for c in client])
if arguments.json:
    # Per group: rows, rows covered by the posterior and by the EB interval, summed widths.
    groups = {"new": (0, 0), "1-4": (1, 4), "5-9": (5, 9), "10+": (10, 10 ** 9)}
    out = {"singular": eb["singular"], "sd": {s["term"]: s["estimate"] for s in eb["sd"]}}
    for name, (low, high) in groups.items():
        part = (count >= low) & (count <= high)
        out[name] = {
            "rows": int(part.sum()),
            "posterior": int(((q5 <= p_true) & (p_true <= q95))[part].sum()),
            "eb": int(((low_eb <= p_true) & (p_true <= high_eb))[part].sum()),
            "width_posterior": float((q95 - q5)[part].sum()),
            "width_eb": float((high_eb - low_eb)[part].sum()),
        }
    print(json.dumps(out))
    raise SystemExit(0)

print(f"held-out rows: {len(rows)}; clients with no training row: "
      f"{sum(1 for c in set(client) if training[c] == 0)}; overall success rate {y.mean():.3f}\n")


def deciles(prediction, name):
    order = np.argsort(prediction, kind="stable")
    print(f"Calibration by decile of the {name}:\n")
    print("| decile | rows | mean predicted | observed | observed − predicted | binomial se |")
    print("|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for k, part in enumerate(np.array_split(order, 10)):
        predicted, observed = prediction[part].mean(), y[part].mean()
        se = math.sqrt(np.mean(prediction[part] * (1 - prediction[part])) / len(part))
        worst = max(worst, abs(observed - predicted) / se)
        print(f"| {k + 1} | {len(part)} | {predicted:.3f} | {observed:.3f} | {observed - predicted:+.3f} | {se:.3f} |")
    chi = sum(((y[p].mean() - prediction[p].mean()) /
               math.sqrt(np.mean(prediction[p] * (1 - prediction[p])) / len(p))) ** 2
              for p in np.array_split(order, 10))
    print(f"\nlargest |observed − predicted| / se: {worst:.2f}; sum of squares over the deciles "
          f"(≈ χ²₁₀ if calibrated): {chi:.1f}\n")


def scores(prediction):
    clipped = np.clip(prediction, 1e-12, 1 - 1e-12)
    brier = np.mean((prediction - y) ** 2)
    loss = -np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    return brier, loss


deciles(mean, "posterior predictive mean (bayesglmm score)")
deciles(plugin, "plug-in EB prediction")

print("| prediction | Brier score | log loss | MAE against the true p |")
print("|---|---:|---:|---:|")
for name, prediction in (("posterior predictive mean", mean), ("plug-in EB", plugin)):
    brier, loss = scores(prediction)
    print(f"| {name} | {brier:.4f} | {loss:.4f} | {np.mean(np.abs(prediction - p_true)):.4f} |")

groups = [("no training rows (new client)", 0, 0), ("1–4", 1, 4), ("5–9", 5, 9), ("10–19", 10, 19),
          ("20 or more", 20, 10 ** 9)]
count = np.array([training[c] for c in client])
print("\nCoverage of each held-out row's true success probability by the 90% intervals, by the client's "
      "training rows (nominal 0.90; se is the binomial se at 0.90 for the group's rows, which are not "
      "independent):\n")
print("| client's training rows | held-out rows | posterior q5–q95 | EB plug-in | se | mean width posterior | mean width EB |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, low, high in groups + [("all", 0, 10 ** 9)]:
    part = (count >= low) & (count <= high)
    n = int(part.sum())
    if n == 0:
        continue
    covered = np.mean((q5[part] <= p_true[part]) & (p_true[part] <= q95[part]))
    covered_eb = np.mean((low_eb[part] <= p_true[part]) & (p_true[part] <= high_eb[part]))
    print(f"| {name} | {n} | {covered:.3f} | {covered_eb:.3f} | {math.sqrt(0.09 / n):.3f} | "
          f"{np.mean(q95[part] - q5[part]):.3f} | {np.mean(high_eb[part] - low_eb[part]):.3f} |")

new = count == 0
new_effects = [truth["client_effects"][int(c) - 1] for c in sorted(set(np.array(client)[count == 0]), key=int)]
print(f"\nThe {len(new_effects)} new clients' true effects: mean {np.mean(new_effects):+.3f} "
      f"({np.mean(new_effects) / (truth['sd_client'] / math.sqrt(len(new_effects))):+.2f} standard errors of a "
      f"mean of {len(new_effects)} draws from N(0, {truth['sd_client']}²))")
print(f"New clients only ({int(new.sum())} rows): observed {y[new].mean():.3f}, posterior predictive mean "
      f"{mean[new].mean():.3f}, plug-in EB {plugin[new].mean():.3f}, mean true p {p_true[new].mean():.3f}")
