#!/usr/bin/env python3
"""Gibbs against the Metropolis fallback on the same data (issue 7).

    python3 Validation/agreement/agreement.py [pairings|verbagg|all] [--draws N] [--thin K]

For each data set, fits the model twice with the release binary — `--sampler
gibbs` and `--sampler metropolis`, same priors, 4 chains — then compares
posterior means of the intercept, every SD and 20 effects (the first 10
levels of the first two single-factor terms) by

    z = |mean_gibbs − mean_metropolis| / sqrt(mcse_gibbs² + mcse_metropolis²)

(MCSEs as R's posterior computes them, from `bayesglmm summary --mcse`); the
issue asks for z < 4 everywhere. Also prints each sampler's minimum bulk ESS
over the intercept and SDs per wall second and per chain-second of sampling
(warm-up + draws, summed over chains), for Validation/RESULTS.md. The Metropolis chains mix more slowly per sweep, so
they run --thin sweeps per kept draw (default 5).
"""
import json, os, subprocess, sys, time

CASES = {
    "pairings": ("examples/pairings.csv", "y ~ (1|client) + (1|stylist) + (1|client:stylist)"),
    "verbagg": ("Validation/stan/data/verbagg.csv", "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"),
}
BINARY = ".build/release/bayesglmm"


def fit(case, sampler, draws, thin, warmup):
    data, formula = CASES[case]
    out = f"Validation/agreement/out/{case}-{sampler}"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    start = time.time()
    subprocess.run([BINARY, "fit", data, "--formula", formula, "--out", out, "--chains", "4",
                    "--warmup", str(warmup), "--draws", str(draws), "--thin", str(thin if sampler == "metropolis" else 1),
                    "--seed", "11", "--quiet", "--sampler", sampler], check=True)
    seconds = time.time() - start
    record = json.load(open(os.path.join(out, "fit.json")))
    sampling = sum(o["warmup_seconds"] + o["sampling_seconds"] for o in record["outcomes"])
    return out, record, seconds, sampling


def summary(out, names):
    text = subprocess.run([BINARY, "summary", out, "--mcse", "--format", "json", "--variables", ",".join(names)],
                          check=True, capture_output=True, text=True).stdout
    return {row["variable"]: row for row in json.loads(text)}


def main():
    args = sys.argv[1:]
    settings = {"--draws": 1000, "--thin": 5, "--warmup": 1000}
    which = []
    while args:
        a = args.pop(0)
        if a in settings and args:
            settings[a] = int(args.pop(0))
        elif a in CASES or a == "all":
            which.append(a)
        else:
            sys.exit(f"usage: agreement.py [pairings|verbagg|all] [--draws N] [--thin K] [--warmup N]; not '{a}'")
    cases = list(CASES) if not which or "all" in which else which
    draws, thin, warmup = settings["--draws"], settings["--thin"], settings["--warmup"]
    if not os.environ.get("NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release", "--product", "bayesglmm"], check=True)
    worst_all = 0.0
    for case in cases:
        runs = {s: fit(case, s, draws, thin, warmup) for s in ("gibbs", "metropolis")}
        record = runs["gibbs"][1]
        terms = [r for r in record["random"]]
        single = [t for t in terms if ":" not in t["term"]][:2]
        names = record["fixed"][:1] + [f"sd({t['term']})" for t in terms]
        for t in single:
            names += [f"r({t['term']})[{level}]" for level in t["levels"][:10]]
        tables = {s: summary(runs[s][0], names) for s in runs}
        print(f"\n{case}: {CASES[case][1]}; 4 chains x {draws} draws (metropolis thinned by {thin}), warm-up {warmup}")
        print(f"{'parameter':26} {'gibbs mean':>11} {'metro mean':>11} {'gibbs sd':>9} {'metro sd':>9} {'z':>6}")
        worst = 0.0
        for name in names:
            g, m = tables["gibbs"][name], tables["metropolis"][name]
            z = abs(g["mean"] - m["mean"]) / (g["mcse_mean"] ** 2 + m["mcse_mean"] ** 2) ** 0.5
            worst = max(worst, z)
            print(f"{name:26} {g['mean']:11.4f} {m['mean']:11.4f} {g['sd']:9.4f} {m['sd']:9.4f} {z:6.2f}{'  <--' if z >= 4 else ''}")
        print(f"largest z: {worst:.2f} over {len(names)} parameters")
        watched = names[:1 + len(terms)]
        for s in ("gibbs", "metropolis"):
            out, rec, wall, sampling = runs[s]
            ess = min(tables[s][n]["ess_bulk"] for n in watched)
            argmin = min(watched, key=lambda n: tables[s][n]["ess_bulk"])
            print(f"{s:10}: wall {wall:6.1f} s, sampling {sampling:6.1f} chain-seconds, min bulk ESS {ess:7.0f} "
                  f"({argmin}): {ess / wall:7.2f} per wall second, {ess / sampling:7.2f} per chain-second")
        worst_all = max(worst_all, worst)
    sys.exit(0 if worst_all < 4 else 1)


if __name__ == "__main__":
    main()
