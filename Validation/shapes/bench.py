#!/usr/bin/env python3
"""BayesGLMM against NumPyro NUTS and nutpie over design shapes (issue 17).

    Validation/shapes/setup.sh                     # once: .venv-shapes with NumPyro, nutpie, PyMC, ArviZ
    swift build -c release --product bayesglmm
    python3 Validation/shapes/bench.py             # every row, every sampler, 4 chains x 1000 + 1000
    python3 Validation/shapes/bench.py --quick --rows seed-0.017,verbagg --samplers bayesglmm,nutpie

(`make bench-shapes` does all three; README.md beside this file says more.)

For every data set (row) and sampler it runs one fit as its own process,
times it, takes its peak resident memory from the kernel (wait4's
ru_maxrss), reads its draws and computes, with ArviZ for every sampler alike,
the bulk-ESS (`az.ess(method="bulk")`) and the rank-normalised split R-hat
(`az.rhat`) of the intercept, every fixed effect and every SD; then prints a
markdown table and writes it with a JSON of the raw figures to
Validation/shapes/results-<date>.md/.json (runs with other than the default
chains/warm-up/draws go to Validation/shapes/out/ instead).

The script re-runs itself with .venv-shapes/bin/python when started with
another interpreter.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "Validation" / "shapes"
VENV = ROOT / ".venv-shapes"
DATA = HERE / "data"
OUT = HERE / "out"

# The seed-shaped rows have no covariate, as in issue 17's measurements
# (4,939 binomial cells at alpha -4.5: every sampler aggregates the same).
SEED_FIXED = []
SEED_GROUPS = [{"term": "client", "columns": ["client"]}, {"term": "stylist", "columns": ["stylist"]},
               {"term": "client:stylist", "columns": ["client", "stylist"]}]
#: Seed-shaped data: `bayesglmm simulate --beta 0.5 --seed 2026 --alpha A`
#: (the defaults: 2,000 clients x 100 stylists, 1-4 stylists per client, 1-10
#: observations per pair: 27,037 rows, 4,988 pairs; sd(client) 0.8,
#: sd(stylist) 0.4, sd(client:stylist) 0.3; seed 2026 gives
#: examples/pairings.csv at alpha -0.5). Each alpha was chosen to hit the
#: mean of y named in the row (realised: 0.386, 0.0514, 0.0161, 0.0051).
SIMULATION_SEED = 2026
ROWS = {
    "seed-0.4": dict(simulate={"alpha": -0.5}, response="y", fixed=SEED_FIXED, groups=SEED_GROUPS,
                     about="seed-shaped, alpha -0.5"),
    "seed-0.05": dict(simulate={"alpha": -3.3}, response="y", fixed=SEED_FIXED, groups=SEED_GROUPS,
                      about="seed-shaped, alpha -3.3"),
    "seed-0.017": dict(simulate={"alpha": -4.5}, response="y", fixed=SEED_FIXED, groups=SEED_GROUPS,
                       about="seed-shaped, alpha -4.5"),
    "seed-0.005": dict(simulate={"alpha": -5.7}, response="y", fixed=SEED_FIXED, groups=SEED_GROUPS,
                       about="seed-shaped, alpha -5.7"),
    "nested": dict(file=DATA / "nested.csv", response="y", fixed=[{"column": "x", "kind": "numeric"}],
                   groups=[{"term": "cluster", "columns": ["cluster"]}, {"term": "mother", "columns": ["mother"]}],
                   about="150 clusters, 1-3 children per mother, sd(mother) 2.5, sd(cluster) 1"),
    "verbagg": dict(file=ROOT / "Validation" / "stan" / "data" / "verbagg.csv", response="r2",
                    fixed=[{"column": "Anger", "kind": "numeric"}, {"column": "Gender", "kind": "factor"},
                           {"column": "btype", "kind": "factor"}, {"column": "situ", "kind": "factor"}],
                    groups=[{"term": "id", "columns": ["id"]}, {"term": "item", "columns": ["item"]}],
                    about="lme4's VerbAgg"),
    "guprenat": dict(file=DATA / "guprenat.csv", response="prenat01", levels_file=DATA / "guprenat-levels.json",
                     fixed=[{"column": c, "kind": "factor"} for c in
                            ("childAge", "motherAge", "indig", "momEd", "husEd", "husEmpl", "toilet", "TV")]
                     + [{"column": "pcInd81", "kind": "numeric"}, {"column": "ssDist", "kind": "numeric"}],
                     groups=[{"term": "mom", "columns": ["mom"]}, {"term": "cluster", "columns": ["cluster"]}],
                     about="mlmRev's guPrenat"),
}
SAMPLERS = ["bayesglmm", "until-ess", "exact", "calibrated", "numpyro", "nutpie"]
LABEL = {"bayesglmm": "BayesGLMM", "until-ess": "BayesGLMM --until-ess 400", "exact": "BayesGLMM --updates exact",
         "calibrated": "BayesGLMM --updates calibrated (CDA)", "numpyro": "NumPyro NUTS",
         "nutpie": "nutpie"}
NUTS = ("numpyro", "nutpie")


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def formula(row):
    terms = [f["column"] for f in row["fixed"]] + [f"(1|{g['term']})" for g in row["groups"]]
    return f"{row['response']} ~ " + " + ".join(terms)


def make_nested(path, seed=20260317):
    """The sparse nested design: 150 clusters (communities), 1 + Poisson(9)
    mothers in each (about 1,500, ids unique across clusters), 1-3 children
    per mother (uniform), a standard-normal child covariate x; logit p =
    -0.5 + 0.5 x + cluster + mother, sd(cluster) = 1, sd(mother) = 2.5."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lines = ["cluster,mother,x,y"]
    mother = 0
    for c in range(150):
        u_cluster = rng.normal(0.0, 1.0)
        for _ in range(1 + rng.poisson(9)):
            mother += 1
            u_mother = rng.normal(0.0, 2.5)
            for _ in range(rng.integers(1, 4)):
                x = rng.normal()
                eta = -0.5 + 0.5 * x + u_cluster + u_mother
                y = int(rng.random() < 1.0 / (1.0 + np.exp(-eta)))
                lines.append(f"c{c + 1:03d},m{mother:04d},{x:.6f},{y}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def prepare(name, row, binary):
    """The row's CSV (simulated or generated when needed) and level orders."""
    if "simulate" in row:
        path = OUT / "data" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [binary, "simulate", "--seed", str(SIMULATION_SEED),
               "--alpha", str(row["simulate"]["alpha"]), "--out", str(path),
               "--truth", str(path.with_suffix(".truth.json"))]
        subprocess.run(cmd, check=True)
    else:
        path = row["file"]
        if name == "nested" and not path.exists():
            make_nested(path)
        if not path.exists():
            hint = " (Rscript Validation/shapes/export_guprenat.R)" if name == "guprenat" else ""
            raise FileNotFoundError(f"{path} is missing{hint}")
    levels = json.loads(Path(row["levels_file"]).read_text()) if row.get("levels_file") else {}
    return path, levels


GNU_TIME = Path("/usr/bin/time")


def run_process(cmd, log, env=None, timeout=None):
    """Runs cmd, returns (exit code, wall seconds, peak RSS in MiB).

    The peak RSS is the child's ru_maxrss as GNU time reports it (`%M`).
    Not wait4's figure for a child of this process: Linux carries the
    parent's resident size at fork into the child's ru_maxrss across
    exec, and this process holds NumPy, pandas and ArviZ (about 0.5 GiB),
    whereas time's own child is forked from a 2 MiB process. Without
    /usr/bin/time (Debian's package `time`) wait4's figure is used and
    is then only an upper bound."""
    rss_file = Path(str(log) + ".maxrss")
    rss_file.unlink(missing_ok=True)
    wrapped = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME.exists() else cmd
    start = time.perf_counter()
    with open(log, "w") as out:
        # Its own process group, so that a timeout ends the fit and not only time.
        proc = subprocess.Popen(wrapped, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL)) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    rss_kib = usage.ru_maxrss
    if GNU_TIME.exists():
        # The last line (GNU time writes "Command exited with non-zero status N" before it).
        lines = rss_file.read_text().split() if rss_file.exists() else []
        rss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else None
    return proc.returncode, wall, (rss_kib / 1024.0 if rss_kib is not None else None)


def diagnostics(draws, names, watched):
    """Bulk-ESS and rank-normalised split R-hat (ArviZ) of each watched
    parameter; draws is chains x draws x parameters."""
    import arviz as az
    import numpy as np

    out = {}
    for name in watched:
        x = np.asarray(draws[:, :, names.index(name)], dtype=float)
        out[name] = {"ess_bulk": float(az.ess(x, method="bulk")), "rhat": float(az.rhat(x, method="rank")),
                     "mean": float(x.mean()), "sd": float(x.std(ddof=1))}
    return out


def help_has(binary, flag):
    text = subprocess.run([binary, "fit", "--help"], capture_output=True, text=True).stdout
    return flag in text


def fit_bayesglmm(name, row, data, levels, args, until_ess, kind="bayesglmm", extra=()):
    import numpy as np

    kind = "until-ess" if until_ess else kind
    run_dir = OUT / "runs" / name / kind
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    cmd = [args.binary, "fit", str(data), "--formula", formula(row), "--out", str(run_dir), "--force", "--quiet",
           "--chains", str(args.chains), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    if until_ess:
        cmd += ["--until-ess", str(args.until_ess)]
        if help_has(args.binary, "--max-time"):
            cmd += ["--max-time", str(args.until_ess_max_time)]
    else:
        cmd += ["--draws", str(args.draws)]
    cmd += list(extra)
    for f in row["fixed"]:
        if f["column"] in levels:
            cmd += ["--levels", f"{f['column']}=" + ",".join(levels[f["column"]])]
    rc, wall, rss = run_process(cmd, run_dir.parent / f"{kind}.log", timeout=args.timeout)
    result = {"command": shlex.join(cmd), "exit": rc, "total_seconds": wall, "peak_rss_mib": rss}
    if rc != 0:
        return result
    record = json.loads((run_dir / "fit.json").read_text())
    store = record["store"]
    names = store["names"]
    kept = [o["draws"] for o in record["outcomes"]]
    per_chain = min(kept) if kept else store["shape"][1]
    draws = np.load(run_dir / store["file"], mmap_mode="r")[:, :per_chain, :]
    watched = list(record["fixed"]) + [f"sd({t['term']})" for t in record["random"]]
    result.update(sampling_seconds=record["seconds"], eb_seconds=(record.get("init_eb") or {}).get("seconds"),
                  cells=record.get("cells"), rows=record.get("rows_used"), priors=record.get("priors"), chains=draws.shape[0],
                  draws_per_chain=per_chain, warmup=record.get("warmup"), names=watched,
                  parameters=diagnostics(draws, names, watched), divergences=None,
                  per_chain_seconds=[(o.get("warmup_seconds"), o.get("sampling_seconds"))
                                     for o in record["outcomes"]])
    summary = run_dir / "summary.csv"
    if summary.exists():  # bayesglmm's own diagnostics (R's posterior), as a cross-check of ArviZ's
        import csv
        own = {r["variable"]: r for r in csv.DictReader(summary.open())}
        result["own_summary"] = {k: {"ess_bulk": float(v["ess_bulk"]), "rhat": float(v["rhat"])}
                                 for k, v in own.items() if k in watched and v.get("ess_bulk") not in (None, "", "NA")}
    return result


def fit_nuts(sampler, name, row, data, levels, args):
    import numpy as np

    run_dir = OUT / "runs" / name / sampler
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("draws.npy", "result.json"):
        (run_dir / stale).unlink(missing_ok=True)
    fixed = [dict(f, levels=levels.get(f["column"])) for f in row["fixed"]]
    spec = {"data": str(data), "response": row["response"], "fixed": fixed, "groups": row["groups"],
            "chains": args.chains, "warmup": args.warmup, "draws": args.draws, "seed": args.seed,
            "numpyro_chain_method": args.numpyro_chain_method, "nutpie_backend": args.nutpie_backend}
    (run_dir / "spec.json").write_text(json.dumps(spec, indent=1))
    cmd = [sys.executable, str(HERE / "nuts_fit.py"), sampler, str(run_dir / "spec.json"), str(run_dir)]
    rc, wall, rss = run_process(cmd, run_dir / "log.txt", timeout=args.timeout)
    result = {"command": shlex.join(cmd), "exit": rc, "total_seconds": wall, "peak_rss_mib": rss}
    if rc != 0:
        return result
    info = json.loads((run_dir / "result.json").read_text())
    draws = np.load(run_dir / "draws.npy")
    result.update({k: v for k, v in info.items() if k not in ("shape",)})
    result.update(chains=draws.shape[0], draws_per_chain=draws.shape[1], warmup=args.warmup,
                  parameters=diagnostics(draws, info["names"], info["names"]))
    return result


def summarise(result):
    """Min bulk-ESS, where, per second; max R-hat."""
    params = result.get("parameters")
    if not params:
        return
    weakest = min(params, key=lambda n: params[n]["ess_bulk"])
    ess = params[weakest]["ess_bulk"]
    result["min_ess_bulk"] = ess
    result["min_ess_parameter"] = weakest
    result["max_rhat"] = max(p["rhat"] for p in params.values())
    result["max_rhat_parameter"] = max(params, key=lambda n: params[n]["rhat"])
    result["ess_per_sampling_second"] = ess / result["sampling_seconds"]
    result["ess_per_total_second"] = ess / result["total_seconds"]


def versions(binary):
    out = {"python": platform.python_version()}
    for module in ("numpyro", "jax", "nutpie", "pymc", "arviz", "numpy"):
        try:
            out[module] = __import__(module).__version__
        except Exception:  # not installed: that sampler's rows fail and say so
            out[module] = None
    try:
        out["bayesglmm_commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                                 capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        out["bayesglmm_tree"] = "modified" if dirty else "clean"
    except OSError:
        pass
    out["bayesglmm_binary"] = str(binary)
    return out


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.{digits}f}"


def table(rows, records):
    head = ("| data set | rows → cells | mean y | sampler | sampling s | total s | min bulk-ESS (parameter) "
            "| ESS/s sampling | ESS/s total | max R-hat | divergences | peak MiB | BayesGLMM / best NUTS, ESS/s "
            "sampling (total) |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for name in rows:
        mine = [r for r in records if r["row"] == name]
        nuts = [r for r in mine if r["sampler"] in NUTS and "min_ess_bulk" in r]
        best_s = max((r["ess_per_sampling_second"] for r in nuts), default=None)
        best_t = max((r["ess_per_total_second"] for r in nuts), default=None)
        for r in mine:
            cells = f"{fmt(r.get('rows'))} → {fmt(r.get('cells'))}" if r.get("cells") else fmt(r.get("rows"))
            if "min_ess_bulk" not in r:
                lines.append(f"| {name} | {cells} | {fmt(r.get('mean_y'), 4)} | {LABEL[r['sampler']]} | "
                             f"failed (exit {r.get('exit')}; {r.get('error', 'see the log')}) |" + " |" * 8)
                continue
            ratio = "–"
            if r["sampler"] not in NUTS and best_s:
                ratio = f"{r['ess_per_sampling_second'] / best_s:.1f}x ({r['ess_per_total_second'] / best_t:.1f}x)"
            lines.append(
                f"| {name} | {cells} | {fmt(r.get('mean_y'), 4)} | {LABEL[r['sampler']]} | "
                f"{fmt(r['sampling_seconds'])} | {fmt(r['total_seconds'])} | "
                f"{r['min_ess_bulk']:,.0f} (`{r['min_ess_parameter']}`) | {fmt(r['ess_per_sampling_second'], 2)} | "
                f"{fmt(r['ess_per_total_second'], 2)} | {r['max_rhat']:.3f} | {fmt(r.get('divergences'))} | "
                f"{fmt(r['peak_rss_mib'], 0)} | {ratio} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="all", help=f"comma-separated, from: {', '.join(ROWS)} (default all)")
    parser.add_argument("--samplers", default="all",
                        help="comma-separated, from: bayesglmm, until-ess, exact (fit --updates exact), calibrated (fit --updates calibrated, Duan et al.'s CDA), numpyro, nutpie (default all; until-ess "
                             "only when `bayesglmm fit --help` offers --until-ess)")
    parser.add_argument("--quick", action="store_true", help="2 chains x (200 warm-up + 200 draws): a smoke test")
    parser.add_argument("--chains", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--draws", type=int)
    parser.add_argument("--seed", type=int, default=1, help="sampler seed (default 1; the data's seeds are fixed)")
    parser.add_argument("--until-ess", type=int, default=400, help="the target of the until-ess row (default 400)")
    parser.add_argument("--until-ess-max-time", type=float, default=300,
                        help="--max-time for the until-ess row, when fit has it (seconds, default 300)")
    parser.add_argument("--numpyro-chain-method", default="parallel", choices=["parallel", "sequential", "vectorized"])
    parser.add_argument("--nutpie-backend", default="numba", choices=["numba", "jax"])
    parser.add_argument("--timeout", type=float, help="kill a fit after this many seconds (default: none)")
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "bayesglmm"))
    parser.add_argument("--results", help="write the table here (.md; the JSON beside it); default "
                        "Validation/shapes/results-<date>.md, or out/ for non-default settings")
    parser.add_argument("--merge", help="a JSON this script wrote: its results for the (row, sampler) pairs "
                        "not run now join the table (the NUTS fits do not change with bayesglmm)")
    parser.add_argument("--make-nested", action="store_true", help="(re)write data/nested.csv and stop")
    args = parser.parse_args()

    if not in_venv():
        python = VENV / "bin" / "python"
        if not python.exists():
            sys.exit(f"{python} is missing: run Validation/shapes/setup.sh first")
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])
    if args.make_nested:
        make_nested(DATA / "nested.csv")
        return

    quick = (2, 200, 200) if args.quick else (4, 1000, 1000)
    args.chains = args.chains or quick[0]
    args.warmup = args.warmup if args.warmup is not None else quick[1]
    args.draws = args.draws or quick[2]
    default_settings = (args.chains, args.warmup, args.draws) == (4, 1000, 1000)
    rows = list(ROWS) if args.rows == "all" else args.rows.split(",")
    samplers = SAMPLERS if args.samplers == "all" else args.samplers.split(",")
    for r in rows:
        if r not in ROWS:
            sys.exit(f"unknown row '{r}'; rows: {', '.join(ROWS)}")
    for s in samplers:
        if s not in SAMPLERS:
            sys.exit(f"unknown sampler '{s}'; samplers: {', '.join(SAMPLERS)}")
    if not Path(args.binary).exists():
        sys.exit(f"{args.binary} is missing: swift build -c release --product bayesglmm")
    has_until = help_has(args.binary, "--until-ess")
    if "until-ess" in samplers and not has_until:
        if args.samplers != "all":
            sys.exit("this bayesglmm has no fit --until-ess")
        samplers = [s for s in samplers if s != "until-ess"]
        print("(bayesglmm fit has no --until-ess: that row is left out)")

    started = datetime.datetime.now(datetime.timezone.utc)
    meta = {"started": started.isoformat(timespec="seconds"), "settings": {
        "chains": args.chains, "warmup": args.warmup, "draws": args.draws, "seed": args.seed,
        "until_ess": args.until_ess if "until-ess" in samplers else None,
        "numpyro_chain_method": args.numpyro_chain_method, "nutpie_backend": args.nutpie_backend},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": versions(args.binary), "rows": rows, "samplers": samplers,
        "ess": "ArviZ az.ess(method='bulk') and az.rhat(method='rank') on the draws of every sampler"}
    records = []
    for name in rows:
        row = ROWS[name]
        try:
            data, levels = prepare(name, row, args.binary)
        except (FileNotFoundError, subprocess.CalledProcessError) as error:
            print(f"{name}: {error}", file=sys.stderr)
            records += [{"row": name, "sampler": s, "exit": None, "error": str(error)} for s in samplers]
            continue
        import pandas as pd
        frame = pd.read_csv(data)
        mean_y = float(frame[row["response"]].mean())
        for sampler in samplers:
            load = os.getloadavg()[0]
            print(f"{name} / {sampler} ({args.chains} x {args.warmup} + {args.draws}; load {load:.1f}) ...",
                  end=" ", flush=True)
            if sampler in NUTS:
                result = fit_nuts(sampler, name, row, data, levels, args)
            elif sampler in ("exact", "calibrated"):
                result = fit_bayesglmm(name, row, data, levels, args, until_ess=False, kind=sampler,
                                       extra=["--updates", sampler])
            else:
                result = fit_bayesglmm(name, row, data, levels, args, until_ess=(sampler == "until-ess"))
            result.update(row=name, sampler=sampler, data=str(Path(data).relative_to(ROOT)), formula=formula(row),
                          mean_y=mean_y, rows=result.get("rows") or len(frame), load_before=load,
                          load_after=os.getloadavg()[0])
            summarise(result)
            records.append(result)
            if "min_ess_bulk" in result:
                print(f"{result['total_seconds']:.1f} s, min bulk-ESS {result['min_ess_bulk']:.0f} "
                      f"({result['min_ess_parameter']}), {result['ess_per_sampling_second']:.2f}/s sampling, "
                      f"max R-hat {result['max_rhat']:.3f}"
                      + (f", {result['divergences']} divergences" if result.get("divergences") is not None else ""))
            else:
                print(f"failed (exit {result['exit']}): {result['command']}")
        # The fixed-effect names and cells of every sampler should agree (the same model).
        fits = [r for r in records if r["row"] == name and r.get("names")]
        for r in fits:
            r["same_parameters_as_bayesglmm"] = None
        ours = next((r for r in fits if r["sampler"] == "bayesglmm"), None)
        if ours:
            for r in fits:
                r["same_parameters_as_bayesglmm"] = (r["names"] == ours["names"])
                if not r["same_parameters_as_bayesglmm"]:
                    print(f"warning: {name}: {r['sampler']} has parameters {r['names']}, bayesglmm {ours['names']}")
                if r.get("cells") != ours.get("cells"):
                    print(f"warning: {name}: {r['sampler']} has {r.get('cells')} cells, bayesglmm {ours.get('cells')}")

    if args.merge:
        earlier = json.loads(Path(args.merge).read_text())
        done = {(r["row"], r["sampler"]) for r in records}
        kept = [r for r in earlier["results"] if (r["row"], r["sampler"]) not in done]
        records += kept
        # Every row of either, in the table's order.
        rows = [name for name in ROWS if name in rows or any(r["row"] == name for r in kept)]
        meta["merged_from"] = {"file": args.merge, "started": earlier["meta"].get("started"),
                               "results": [f"{r['row']}/{r['sampler']}" for r in kept]}
        samplers_run = {r["sampler"] for r in records}
        meta["samplers"] = [s for s in SAMPLERS if s in samplers_run]
    meta["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    md = table(rows, records)
    date = started.strftime("%Y-%m-%d")
    if args.results:
        md_path = Path(args.results).resolve()
    elif default_settings:
        # The whole table, or the rows run (so that rows run one at a time do not overwrite each other).
        md_path = HERE / (f"results-{date}.md" if args.rows == "all" else f"results-{date}-{'+'.join(rows)}.md")
    else:
        md_path = OUT / f"results-{date}-{args.chains}x{args.warmup}+{args.draws}-{started.strftime('%H%M%S')}.md"
    md_path.parent.mkdir(parents=True, exist_ok=True)
    v = meta["versions"]
    header = (f"# Design shapes: BayesGLMM, NumPyro, nutpie ({meta['started']})\n\n"
              f"{args.chains} chains x ({args.warmup} warm-up + {args.draws} draws), sampler seed {args.seed}; "
              f"bayesglmm {v.get('bayesglmm_commit')} ({v.get('bayesglmm_tree')}), numpyro {v['numpyro']} "
              f"(jax {v['jax']}, x64, chain_method {args.numpyro_chain_method}), nutpie {v['nutpie']} "
              f"(pymc {v['pymc']}, {args.nutpie_backend} backend), ArviZ {v['arviz']}; {os.cpu_count()} CPUs, "
              f"load average before each fit {min(r.get('load_before', 0) for r in records):.1f}–"
              f"{max(r.get('load_before', 0) for r in records):.1f}.\n\n"
              "Min bulk-ESS over the intercept, fixed effects and SDs (ArviZ, the same for every sampler); "
              "ESS/s per second of sampling (bayesglmm: fit.json `seconds`, all chains, after the EB start; "
              "NumPyro: `MCMC.run`, including JIT compilation; nutpie: `nutpie.sample`, after "
              "`compile_pymc_model`) and per second of the whole process; peak resident memory of the process.\n\n")
    text = header + md + "\n"
    md_path.write_text(text)
    json_path = md_path.with_suffix(".json")
    json_path.write_text(json.dumps({"meta": meta, "results": records}, indent=1, default=str) + "\n")
    print()
    print(text)
    def shown(path):
        return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"written: {shown(md_path)} and {shown(json_path)}")


if __name__ == "__main__":
    main()
