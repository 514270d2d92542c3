#!/usr/bin/env python3
"""Side by side: rstanarm::stan_glmer (Validation/stan/results/<case>.json,
made by fit_stan.R) against `bayesglmm fit` on the same CSV, per parameter:
posterior means and sds and |difference| / sqrt(mcse_stan^2 + mcse_ours^2).

    python3 Validation/stan/compare.py verbagg   # fits with bayesglmm, then compares
    BAYESGLMM=path/to/bayesglmm NO_BUILD=1 python3 Validation/stan/compare.py probit --sampler gibbs
      # another binary; options after the case go to `bayesglmm fit` (and name the output directory)
    BAYESGLMM=path/to/bayesglmm Validation/stan/rare.sh   # the rare-event case (issue 17)
    BAYESGLMM=path/to/bayesglmm Validation/stan/slopes.sh # random slopes against rstan (issue 18)

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

The rare-event case (issue 17: Validation/stan/data/rare.csv, mean y 1.6%)
takes normal(0, 2.5) on our raw intercept instead (INTERCEPT below): there the
intercept (about -4.7) is far from 0 and its posterior sd (about 0.2) is large
enough that the choice between normal(0, 2.5) and normal(0, 100) moves its
posterior mean by about 0.03, several MCSE. x1 has mean 0.0088 there, so
rstanarm's normal(0, 2.5) on alpha + beta * mean(x1) and ours on alpha differ
in log density by (2 alpha beta xbar + beta^2 xbar^2) / 12.5, whose gradient
moves the posterior means of alpha and beta by about 1e-4 at most, far below
their MCSE.

The random-slope case (issue 18: Validation/stan/data/slopes.csv,
y ~ x1 + (1 + x1|client) + (1|stylist)) compares with a plain rstan fit of
Validation/stan/slopes.stan (fit_slopes.R, results/slopes.json), which writes
out bayesglmm's own default prior (normal(0, 2.5) on the raw intercept and x1,
half-t(3, 0, 2.5) on sd(stylist), Huang & Wand's prior on the client
covariance), so bayesglmm runs with its defaults and no --prior (DEFAULT_PRIORS
below).

STAN_RESULTS=path/to/other.json compares with that Stan reference instead of
results/<case>.json (e.g. STAN_RESULTS=Validation/stan/results/slopes-long-seed2.json
Validation/stan/slopes.sh --draws 10000).

Prints one row per parameter with z = |mean_stan - mean_ours| /
sqrt(mcse_mean_stan^2 + mcse_mean_ours^2) (and the same for the sds with
mcse_sd, a secondary check), the number of |z| > 3, and exits 1 when any
|z| >= 4 (the sd column is not part of the verdict). The run directory
Validation/stan/out/<case>-bayesglmm[-options] is replaced on each run.
"""
import csv, statistics
import json, subprocess, sys, os, time

CASES = {
    "verbagg": ("Validation/stan/data/verbagg.csv", "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"),
    "pairings": ("examples/pairings.csv", "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"),
    # issue 7: a probit model, sampled by the Metropolis fallback (--link probit).
    "probit": ("Validation/stan/data/probit.csv", "y ~ (1|client) + (1|stylist) + (1|client:stylist)"),
    # issue 17: rare events (`bayesglmm simulate --clients 600 --stylists 40
    # --alpha -4.5 --beta 0.5 --seed 2017`: 8,254 rows, 135 events).
    "rare": ("Validation/stan/data/rare.csv", "y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)"),
    # issue 18: correlated client slopes (`bayesglmm simulate --clients 300 --stylists 30
    # --seed 11 --beta 0.5 --sd-client-slope 0.6 --cor-client-slope 0.4 --sd-pair 0`: 4,340 rows).
    "slopes": ("Validation/stan/data/slopes.csv", "y ~ x1 + (1 + x1|client) + (1|stylist)"),
}
LINKS = {"probit": "probit"}
# Cases whose intercept prior is set explicitly (see the docstring); the others
# take normal(0, 2.5) with no predictors and normal(0, 100) with predictors.
INTERCEPT = {"rare": "normal(0, 2.5)"}
# Cases whose Stan reference (a plain rstan model, not stan_glmer) uses
# bayesglmm's default priors: fitted with no --prior.
DEFAULT_PRIORS = {"slopes"}
# What made results/<case>.json, for the printout.
REFERENCE = {"slopes": "rstan (slopes.stan)"}

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
    if case in ("-h", "--help") or case not in CASES:
        print(__doc__.strip() + "\n\ncases: " + ", ".join(CASES))
        return 0 if case in ("-h", "--help") else 2
    reference = REFERENCE.get(case, "stan_glmer")
    extra = sys.argv[2:]
    data, formula = CASES[case]
    # STAN_RESULTS: another Stan reference for the case (e.g. a longer run), instead of results/<case>.json.
    reference_file = os.environ.get("STAN_RESULTS") or f"Validation/stan/results/{case}.json"
    stan_record = json.load(open(reference_file))
    stan = stan_record["parameters"]
    out = f"Validation/stan/out/{case}-bayesglmm" + "".join("-" + a.lstrip("-") for a in extra)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    binary = os.environ.get("BAYESGLMM", ".build/release/bayesglmm")
    if not os.environ.get("NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release", "--product", "bayesglmm"], check=True)
    # With no predictors rstanarm's intercept prior, normal(0, 2.5), is on our
    # raw intercept exactly; with predictors it is on the centred one.
    coefficients = [n for n in stan if not n.startswith(("sd(", "r(", "(Intercept)"))]
    intercept = INTERCEPT.get(case, "normal(0, 2.5)" if not coefficients else "normal(0, 100)")
    if case in DEFAULT_PRIORS:
        priors = []
    else:
        priors = ["--prior", "sd ~ exponential(1)", "--prior", f"Intercept ~ {intercept}"]
        for name, scale in autoscaled(data, coefficients):
            priors += ["--prior", f"b({name}) ~ normal(0, {scale:.6g})"]
    start = time.time()
    print("priors for bayesglmm: " + (" ".join(f"--prior '{p}'" for p in priors[1::2]) or "its defaults"))
    subprocess.run([binary, "fit", data, "--formula", formula, "--out", out, "--chains", "4",
                    "--warmup", "1000", "--draws", "1000", "--seed", "1", "--quiet", "--force",
                    "--save", "all"] + priors + (["--link", LINKS[case]] if case in LINKS else []) + extra, check=True)
    seconds = time.time() - start
    names = list(stan.keys())
    summary = subprocess.run([binary, "summary", out, "--mcse", "--format", "json", "--variables", ",".join(names)],
                             check=True, capture_output=True, text=True).stdout
    ours = {row["variable"]: row for row in json.loads(summary)}
    print(f"{case}: {formula}")
    if os.environ.get("STAN_RESULTS"):
        print(f"Stan reference: {reference_file} ({stan_record['chains']} chains x "
              f"{stan_record['iter'] - stan_record['warmup']} draws, seed {stan_record['seed']})")
    run = json.load(open(os.path.join(out, "fit.json")))
    kept = run["chains"] * run["draws"]   # draws kept over all chains
    print(f"bayesglmm: {run['chains']} chains x ({run['warmup']} + {run['draws']}"
          f"{' x thin ' + str(run['thin']) if run['thin'] != 1 else ''}), seed {run['seed']},"
          f" in {seconds:.1f} s wall; {reference}: "
          f"{stan_record['timing']}")
    print(f"{'parameter':28} {'stan mean':>10} {'ours mean':>10} {'stan sd':>9} {'ours sd':>9} {'|d|/mcse':>9}"
          f" {'sd |d|/mcse_sd':>15}")
    zs, zs_sd, missing = {}, {}, 0
    for name in names:
        s, o = stan[name], ours.get(name)
        if o is None:
            print(f"{name:28} missing from bayesglmm's output"); missing += 1; continue
        z = zs[name] = abs(s["mean"] - o["mean"]) / (s["mcse_mean"] ** 2 + o["mcse_mean"] ** 2) ** 0.5
        z_sd = zs_sd[name] = abs(s["sd"] - o["sd"]) / (s["mcse_sd"] ** 2 + o["mcse_sd"] ** 2) ** 0.5
        flag = "  <--" if z >= 4 else ("  (>3)" if z > 3 else "")
        print(f"{name:28} {s['mean']:10.4f} {o['mean']:10.4f} {s['sd']:9.4f} {o['sd']:9.4f} {z:9.2f}"
              f" {z_sd:15.2f}{flag}")
    worst = float("inf") if missing else max(zs.values())
    print(f"{len(zs)} of {len(names)} parameters compared; |z| > 3: {sum(z > 3 for z in zs.values())} "
          f"(about {0.0027 * len(names):.2f} expected by chance); |z| >= 4: "
          f"{sum(z >= 4 for z in zs.values())}; largest sd z (secondary) {max(zs_sd.values()):.2f}")
    # Efficiency: minimum bulk-ESS over the intercept and the SDs (and correlations), per second.
    watched = [n for n in names if n == "(Intercept)" or n.startswith(("sd(", "cor("))]
    ours_min = min(ours[n]["ess_bulk"] for n in watched)
    stan_min = min(stan[n]["ess_bulk"] for n in watched)
    stan_seconds = stan_record["timing"]["sampling_s"]
    over = "the intercept, SDs and correlations" if any(n.startswith("cor(") for n in watched) else "the intercept and SDs"
    print(f"minimum bulk-ESS over {over}: bayesglmm {ours_min:.0f} in {seconds:.1f} s wall "
          f"({ours_min / seconds:.2f}/s); {reference} {stan_min:.0f} in {stan_seconds:.1f} s of sampling "
          f"({stan_min / stan_seconds:.3f}/s); ratio {(ours_min / seconds) / (stan_min / stan_seconds):.0f}x")
    stan_draws = stan_record["chains"] * (stan_record["iter"] - stan_record["warmup"])
    print(f"{'':28} {'bulk-ESS':>18} {'ESS per second':>20} {'IAT (kept draws)':>20}")
    print(f"{'parameter':28} {'stan':>9} {'ours':>8} {'stan':>10} {'ours':>9} {'stan':>10} {'ours':>9}")
    for n in watched:
        se, oe = stan[n]["ess_bulk"], ours[n]["ess_bulk"]
        print(f"{n:28} {se:9.0f} {oe:8.0f} {se / stan_seconds:10.3f} {oe / seconds:9.2f} "
              f"{stan_draws / se:10.2f} {kept / oe:9.2f}")
    verdict = "agree" if worst < 4 else "DISAGREE"
    print(f"largest |difference| / combined MCSE: {worst:.2f} -> {verdict} (threshold 4)")
    return 0 if worst < 4 else 1

if __name__ == "__main__":
    sys.exit(main())
