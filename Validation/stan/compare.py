#!/usr/bin/env python3
"""Side by side: rstanarm::stan_glmer (Validation/stan/results/<case>.json,
made by fit_stan.R) against `bayesglmm fit` on the same CSV, per parameter:
posterior means and sds and |difference| / sqrt(mcse_stan^2 + mcse_ours^2).

    python3 Validation/stan/compare.py verbagg   # fits with bayesglmm, then compares
    BAYESGLMM=path/to/bayesglmm NO_BUILD=1 python3 Validation/stan/compare.py probit --sampler gibbs
      # another binary; options after the case go to `bayesglmm fit` (and name the output directory)

Priors, matched to rstanarm's defaults: decov on the SDs, which for a single
random intercept is an exponential(1) prior on the SD (--prior 'sd ~
exponential(1)'); autoscaled normal(0, 2.5 / sd(column)) on each coefficient
(computed here from the model-matrix column, as rstanarm does); rstanarm puts
normal(0, 2.5) on the intercept of centred predictors, which has no exact
counterpart for our raw intercept, so ours is nearly flat, normal(0, 100).
The coefficient priors matter on VerbAgg: btype is constant within each of its
24 items, so it is identified against the item effects only through 24
levels, and with our unscaled default normal(0, 2.5) its posterior mean moves
by 0.04 (4 combined MCSE).
"""
import csv, statistics
import json, subprocess, sys, os, time

CASES = {
    "verbagg": ("Validation/stan/data/verbagg.csv", "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"),
    "pairings": ("examples/pairings.csv", "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"),
    # issue 7: a probit model, sampled by the Metropolis fallback (--link probit).
    "probit": ("Validation/stan/data/probit.csv", "y ~ (1|client) + (1|stylist) + (1|client:stylist)"),
}
LINKS = {"probit": "probit"}

def autoscaled(data, names):
    """rstanarm's autoscaled coefficient prior scales, 2.5 / sd(model-matrix column),
    for numeric columns and treatment-contrast dummies named column+level."""
    rows = list(csv.DictReader(open(data)))
    header = rows[0].keys()
    result = []
    for name in names:
        if name in header:
            values = [float(r[name]) for r in rows]
        else:
            column = max((h for h in header if name.startswith(h)), key=len)
            level = name[len(column):]
            values = [1.0 if r[column] == level else 0.0 for r in rows]
        result.append((name, 2.5 / statistics.stdev(values)))
    return result


def main():
    case = sys.argv[1] if len(sys.argv) > 1 else "verbagg"
    extra = sys.argv[2:]
    data, formula = CASES[case]
    stan = json.load(open(f"Validation/stan/results/{case}.json"))["parameters"]
    out = f"Validation/stan/out/{case}-bayesglmm" + "".join("-" + a.lstrip("-") for a in extra)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    binary = os.environ.get("BAYESGLMM", ".build/release/bayesglmm")
    if not os.environ.get("NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release", "--product", "bayesglmm"], check=True)
    # With no predictors rstanarm's intercept prior, normal(0, 2.5), is on our
    # raw intercept exactly; with predictors it is on the centred one.
    coefficients = [n for n in stan if not n.startswith(("sd(", "r(", "(Intercept)"))]
    intercept = "normal(0, 2.5)" if not coefficients else "normal(0, 100)"
    priors = ["--prior", "sd ~ exponential(1)", "--prior", f"Intercept ~ {intercept}"]
    for name, scale in autoscaled(data, [n for n in stan if not n.startswith(("sd(", "r(", "(Intercept)"))]):
        priors += ["--prior", f"b({name}) ~ normal(0, {scale:.6g})"]
    start = time.time()
    subprocess.run([binary, "fit", data, "--formula", formula, "--out", out, "--chains", "4",
                    "--warmup", "1000", "--draws", "1000", "--seed", "1", "--quiet",
                    "--save", "all"] + priors + (["--link", LINKS[case]] if case in LINKS else []) + extra, check=True)
    seconds = time.time() - start
    names = list(stan.keys())
    summary = subprocess.run([binary, "summary", out, "--mcse", "--format", "json", "--variables", ",".join(names)],
                             check=True, capture_output=True, text=True).stdout
    ours = {row["variable"]: row for row in json.loads(summary)}
    print(f"{case}: {formula}")
    print(f"bayesglmm: 4 chains x (1000 + 1000) in {seconds:.1f} s wall; stan_glmer: "
          f"{json.load(open(f'Validation/stan/results/{case}.json'))['timing']}")
    print(f"{'parameter':28} {'stan mean':>10} {'ours mean':>10} {'stan sd':>9} {'ours sd':>9} {'|d|/mcse':>9}")
    worst = 0.0
    for name in names:
        s, o = stan[name], ours.get(name)
        if o is None:
            print(f"{name:28} missing from bayesglmm's output"); worst = float("inf"); continue
        z = abs(s["mean"] - o["mean"]) / (s["mcse_mean"] ** 2 + o["mcse_mean"] ** 2) ** 0.5
        worst = max(worst, z)
        flag = "  <--" if z >= 4 else ""
        print(f"{name:28} {s['mean']:10.4f} {o['mean']:10.4f} {s['sd']:9.4f} {o['sd']:9.4f} {z:9.2f}{flag}")
    # Efficiency: minimum bulk-ESS over the intercept and the SDs, per second.
    watched = [n for n in names if n == "(Intercept)" or n.startswith("sd(")]
    stan_record = json.load(open(f"Validation/stan/results/{case}.json"))
    ours_min = min(ours[n]["ess_bulk"] for n in watched)
    stan_min = min(stan[n]["ess_bulk"] for n in watched)
    stan_seconds = stan_record["timing"]["sampling_s"]
    print(f"minimum bulk-ESS over the intercept and SDs: bayesglmm {ours_min:.0f} in {seconds:.1f} s wall "
          f"({ours_min / seconds:.2f}/s); stan_glmer {stan_min:.0f} in {stan_seconds:.1f} s of sampling "
          f"({stan_min / stan_seconds:.3f}/s); ratio {(ours_min / seconds) / (stan_min / stan_seconds):.0f}x")
    stan_draws = stan_record["chains"] * (stan_record["iter"] - stan_record["warmup"])
    print(f"{'':28} {'bulk-ESS':>18} {'ESS per second':>20} {'IAT (iterations)':>20}")
    print(f"{'parameter':28} {'stan':>9} {'ours':>8} {'stan':>10} {'ours':>9} {'stan':>10} {'ours':>9}")
    for n in watched:
        se, oe = stan[n]["ess_bulk"], ours[n]["ess_bulk"]
        print(f"{n:28} {se:9.0f} {oe:8.0f} {se / stan_seconds:10.3f} {oe / seconds:9.2f} "
              f"{stan_draws / se:10.2f} {4000 / oe:9.2f}")
    verdict = "agree" if worst < 4 else "DISAGREE"
    print(f"largest |difference| / combined MCSE: {worst:.2f} -> {verdict} (threshold 4)")
    return 0 if worst < 4 else 1

if __name__ == "__main__":
    sys.exit(main())
