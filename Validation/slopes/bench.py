#!/usr/bin/env python3
"""Random slopes: BayesGLMM against NumPyro NUTS, nutpie, rstanarm and glmer (issue 18).

    Validation/shapes/setup.sh                      # once: .venv-shapes with NumPyro, nutpie, PyMC, ArviZ
    apt-get install -y r-cran-rstanarm r-cran-posterior r-cran-lme4 r-cran-jsonlite
    .venv-shapes/bin/python Validation/slopes/bench.py --bayesglmm .build/release/bayesglmm
    .venv-shapes/bin/python Validation/slopes/bench.py --samplers all          # + stan_glmer (~45 min more)
    .venv-shapes/bin/python Validation/slopes/bench.py --quick                 # a smoke test

(README.md beside this file says more.) On the simulated crossed slope data
(Validation/slopes/data/slopes.csv, regenerated from its seed with
`bayesglmm simulate` when missing) and the model

    y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist)

it runs each fit as its own process, times it, takes its peak resident memory
and reads its draws; then computes, with ArviZ for every sampler alike, the
bulk-ESS (`az.ess(method="bulk")`) and the rank-normalised split R-hat
(`az.rhat`) of the seven parameters (intercept, x1, the two client SDs, the
client correlation, the stylist and pair SDs), and writes a markdown table
and a JSON of the raw figures. glmer (bobyqa) is timed and its estimates
written to out/glmer.json, beside `bayesglmm eb`'s (time, log-likelihood,
largest difference of the estimates).

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
HERE = ROOT / "Validation" / "slopes"
VENV = ROOT / ".venv-shapes"
DATA = HERE / "data"
OUT = HERE / "out"

FORMULA = "y ~ x1 + (1 + x1|client) + (1|stylist) + (1|client:stylist)"
#: The benchmark data: 2,000 clients x 100 stylists, 1-4 stylists per
#: client, 2-12 observations per pair: 35,352 rows, 5,047 pairs; alpha -0.5,
#: beta 0.5, sd(client) 0.8, sd(client slope) 0.6, their correlation 0.4,
#: sd(stylist) 0.4, sd(pair) 0.3. `simulate` is deterministic: the same seed
#: gives the same file on every machine.
SIMULATE = ["--seed", "18", "--beta", "0.5", "--sd-client-slope", "0.6", "--cor-client-slope", "0.4",
            "--observations-per-pair", "2-12"]
DEFAULT_DATA = DATA / "slopes.csv"
DEFAULT_ROWS = 35352
#: The parameters compared, as bayesglmm names them; the peers' are mapped to these.
WATCHED = ["(Intercept)", "x1", "sd(client)[(Intercept)]", "sd(client)[x1]", "cor(client)[(Intercept)][x1]",
           "sd(stylist)", "sd(client:stylist)"]
SAMPLERS = ["bayesglmm", "eb", "numpyro", "nutpie", "stan_glmer", "glmer"]
DEFAULT_SAMPLERS = ["bayesglmm", "eb", "numpyro", "nutpie", "glmer"]  # stan_glmer only when asked for: ~45 min
MCMC = ["bayesglmm", "numpyro", "nutpie", "stan_glmer"]
LABEL = {"bayesglmm": "BayesGLMM", "eb": "bayesglmm eb", "numpyro": "NumPyro NUTS", "nutpie": "nutpie",
         "stan_glmer": "rstanarm stan_glmer", "glmer": "lme4 glmer (bobyqa)"}


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def shown(path):
    path = Path(path)
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


# ---------------------------------------------------------------------------------------------
# Running a fit: wall time and peak memory


GNU_TIME = Path("/usr/bin/time")
PAGE = os.sysconf("SC_PAGE_SIZE")


def session_rss(sid):
    """Resident bytes summed over every process in session sid (from /proc)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state (field 3 of stat); session is field 6, rss (pages) field 24.
        if int(fields[3]) == sid:
            total += int(fields[21]) * PAGE
    return total


def run_process(cmd, log, env=None, timeout=None, poll=0.5):
    """Runs cmd; returns (exit code, wall seconds, memory dict).

    Memory, in MiB: `max_process`, the largest single process's peak
    resident set as GNU time reports it (`%M`: the child's ru_maxrss, which
    covers the waited-for descendants one at a time, not their sum; not
    wait4's figure in this process, which carries this process's own size
    across fork); `session`, the largest sum of the resident sets of every
    process of the fit's session, polled every `poll` seconds — this counts
    worker processes that run at once (rstan's cluster for cores = 2) and
    those reparented away from GNU time; `peak`, the larger of the two, is
    what the table shows."""
    rss_file = Path(str(log) + ".maxrss")
    rss_file.unlink(missing_ok=True)
    wrapped = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME.exists() else cmd
    start = time.perf_counter()
    peak_session = [0]
    done = threading.Event()
    with open(log, "w") as out:
        # Its own session (so its own process group): a timeout ends the whole
        # fit, and the poller finds every process of the fit by its session id.
        proc = subprocess.Popen(wrapped, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                start_new_session=True)

        def poller():
            while not done.is_set():
                peak_session[0] = max(peak_session[0], session_rss(proc.pid))
                done.wait(poll)

        watcher = threading.Thread(target=poller, daemon=True)
        watcher.start()
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL)) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        if timer:
            timer.cancel()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    # Workers left in the session (none expected) would otherwise hold cores.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    rss_kib = usage.ru_maxrss
    if GNU_TIME.exists():
        # The last line (GNU time writes "Command exited with non-zero status N" before it).
        lines = rss_file.read_text().split() if rss_file.exists() else []
        rss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else None
    max_process = rss_kib / 1024.0 if rss_kib is not None else None
    session = peak_session[0] / 2**20 if peak_session[0] else None
    peak = max((m for m in (max_process, session) if m is not None), default=None)
    return proc.returncode, wall, {"peak": peak, "max_process": max_process, "session": session,
                                   "gnu_time": GNU_TIME.exists()}


def log_tail(log, lines=3):
    try:
        text = Path(log).read_text().strip().splitlines()
    except OSError:
        return ""
    return " / ".join(t.strip() for t in text[-lines:])


# ---------------------------------------------------------------------------------------------
# Diagnostics: the same for every sampler


def diagnostics(draws, names):
    """Bulk-ESS, rank-normalised split R-hat, mean and SD (ArviZ) of each
    watched parameter; draws is chains x draws x parameters."""
    import arviz as az
    import numpy as np

    out = {}
    for name in WATCHED:
        x = np.asarray(draws[:, :, names.index(name)], dtype=float)
        out[name] = {"ess_bulk": float(az.ess(x, method="bulk")), "rhat": float(az.rhat(x, method="rank")),
                     "mean": float(x.mean()), "sd": float(x.std(ddof=1))}
    return out


def summarise(result):
    """Min bulk-ESS, where, per second; max R-hat; seconds per 1000 sweeps."""
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
    # Wall seconds per 1000 iterations of all chains together (warm-up and
    # draws), the chains running as many at once as there are cores.
    sweeps = result["chains"] * (result["warmup"] + result["draws_per_chain"])
    result["sweeps"] = sweeps
    result["seconds_per_1000_sweeps"] = result["sampling_seconds"] / (sweeps / 1000.0)


# ---------------------------------------------------------------------------------------------
# The fits


def base_result(cmd, rc, wall, memory, log):
    r = {"command": shlex.join(str(c) for c in cmd), "exit": rc, "total_seconds": wall,
         "peak_rss_mib": memory["peak"], "memory_mib": memory, "log": str(shown(log))}
    if rc != 0:
        r["error"] = log_tail(log)
    return r


def fit_bayesglmm(data, run_root, args):
    import numpy as np

    run_dir = run_root / "bayesglmm"
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    cmd = [args.bayesglmm, "fit", str(data), "--formula", FORMULA, "--out", str(run_dir), "--force", "--quiet",
           "--chains", str(args.chains), "--warmup", str(args.warmup), "--draws", str(args.draws),
           "--seed", str(args.seed)]
    log = run_root / "bayesglmm.log"
    rc, wall, memory = run_process(cmd, log, timeout=args.timeout)
    result = base_result(cmd, rc, wall, memory, log)
    if rc != 0:
        return result
    record = json.loads((run_dir / "fit.json").read_text())
    store = record["store"]
    names = store["names"]
    kept = [o["draws"] for o in record["outcomes"]]
    per_chain = min(kept) if kept else store["shape"][1]
    draws = np.load(run_dir / store["file"], mmap_mode="r")[:, :per_chain, :]
    cores = os.cpu_count() or 1
    result.update(sampling_seconds=record["seconds"], eb_seconds=(record.get("init_eb") or {}).get("seconds"),
                  init=record.get("init"), cells=record.get("cells"), rows=record.get("rows_used"),
                  priors=record.get("priors"), chains=draws.shape[0], draws_per_chain=per_chain,
                  warmup=record.get("warmup"), divergences=None,
                  chains_at_once=min(draws.shape[0], cores),
                  parameters=diagnostics(draws, names),
                  per_chain_seconds=[(o.get("warmup_seconds"), o.get("sampling_seconds"))
                                     for o in record["outcomes"]],
                  note=f"sampling_seconds: fit.json `seconds` (all chains, {min(draws.shape[0], cores)} at a "
                       f"time on {cores} cores; after reading the data and the start)")
    summary = run_dir / "summary.csv"
    if summary.exists():  # bayesglmm's own diagnostics (R's posterior), a cross-check of ArviZ's
        import csv
        own = {r["variable"]: r for r in csv.DictReader(summary.open())}
        result["own_summary"] = {k: {"ess_bulk": float(v["ess_bulk"]), "rhat": float(v["rhat"])}
                                 for k, v in own.items()
                                 if k in WATCHED and v.get("ess_bulk") not in (None, "", "NA")}
    return result


def fit_eb(data, run_root, args):
    """`bayesglmm eb` (Laplace, as glmer): its time, log-likelihood and estimates."""
    out = run_root / "eb.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    cmd = [args.bayesglmm, "eb", str(data), "--formula", FORMULA, "--out", str(out)]
    log = run_root / "eb.log"
    rc, wall, memory = run_process(cmd, log, timeout=args.timeout)
    result = base_result(cmd, rc, wall, memory, log)
    if rc == 0 and out.exists():
        fit = json.loads(out.read_text())
        result.update(status="fitted", seconds=fit.get("seconds"), log_likelihood=fit.get("log_likelihood"),
                      converged=fit.get("converged"), rows=fit.get("rows_used"), eb_json=str(shown(out)))
        # Named as the draws are: sd(g) or sd(g)[c] (the report's "column"), cor(g)[a][b].
        est = {f["name"]: f["estimate"] for f in fit.get("fixed", [])}
        for sd in fit.get("sd", []):
            est[f"sd({sd['term']})" + (f"[{sd['column']}]" if sd.get("column") else "")] = sd["estimate"]
        for c in fit.get("correlations") or []:
            est[f"cor({c['term']})[{c['column1']}][{c['column2']}]"] = c["estimate"]
        result["estimates"] = {k: v for k, v in est.items() if k in WATCHED}
    return result


def fit_nuts(sampler, data, run_root, args):
    import numpy as np

    run_dir = run_root / sampler
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("draws.npy", "result.json"):
        (run_dir / stale).unlink(missing_ok=True)
    spec = {"data": str(data), "chains": args.chains, "warmup": args.warmup, "draws": args.draws,
            "seed": args.seed, "lkj_eta": args.lkj_eta, "numpyro_chain_method": args.numpyro_chain_method,
            "nutpie_backend": args.nutpie_backend}
    (run_dir / "spec.json").write_text(json.dumps(spec, indent=1))
    cmd = [sys.executable, str(HERE / "nuts_fit.py"), sampler, str(run_dir / "spec.json"), str(run_dir)]
    log = run_dir / "log.txt"
    rc, wall, memory = run_process(cmd, log, timeout=args.timeout)
    result = base_result(cmd, rc, wall, memory, log)
    if rc != 0:
        return result
    info = json.loads((run_dir / "result.json").read_text())
    draws = np.load(run_dir / "draws.npy")
    result.update({k: v for k, v in info.items() if k not in ("shape",)})
    result.update(chains=draws.shape[0], draws_per_chain=draws.shape[1], warmup=args.warmup,
                  parameters=diagnostics(draws, info["names"]))
    return result


def fit_stan_glmer(data, run_root, args):
    import numpy as np
    import pandas as pd

    run_dir = run_root / "stan_glmer"
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("draws.csv", "result.json"):
        (run_dir / stale).unlink(missing_ok=True)
    cmd = ["Rscript", str(HERE / "stan_glmer.R"), str(data), str(run_dir), str(args.stan_chains),
           str(args.stan_cores), str(args.seed)] + ([str(args.stan_iter)] if args.stan_iter else [])
    log = run_dir / "log.txt"
    rc, wall, memory = run_process(cmd, log, timeout=args.stan_timeout or args.timeout)
    result = base_result(cmd, rc, wall, memory, log)
    if rc != 0:
        return result
    info = json.loads((run_dir / "result.json").read_text())
    table = pd.read_csv(run_dir / "draws.csv")
    chains = sorted(table["chain"].unique())
    draws = np.stack([table.loc[table["chain"] == c, WATCHED].to_numpy(dtype=float) for c in chains])
    result.update({k: v for k, v in info.items() if k not in ("chains", "draws_per_chain")})
    result.update(chains=draws.shape[0], draws_per_chain=draws.shape[1], warmup=info["warmup"],
                  names=WATCHED, parameters=diagnostics(draws, WATCHED))
    return result


def fit_glmer(data, run_root, args):
    out = Path(args.glmer_json) if args.glmer_json else \
        (OUT / "glmer.json" if Path(data).resolve() == DEFAULT_DATA.resolve() else run_root / "glmer.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    cmd = ["Rscript", str(HERE / "glmer.R"), str(data), str(out)]
    log = run_root / "glmer.log"
    rc, wall, memory = run_process(cmd, log, timeout=args.timeout)
    result = base_result(cmd, rc, wall, memory, log)
    if rc == 0:
        fit = json.loads(out.read_text())
        result.update(status="fitted", seconds=fit["seconds"], log_likelihood=fit["log_likelihood"],
                      converged=fit["converged"], singular=fit["singular"], messages=fit["messages"],
                      estimates=fit["estimates"], rows=fit["rows_used"], glmer_json=str(shown(out)),
                      program=fit["program"])
    return result


# ---------------------------------------------------------------------------------------------
# Data


def prepare_data(args):
    """The CSV (simulated when missing, or for --clients) and its truth file."""
    if args.data:
        data = Path(args.data).resolve()
        truth = Path(args.truth).resolve() if args.truth else None
        return data, truth
    if args.clients is None:
        data, truth = DEFAULT_DATA, DATA / "slopes-truth.json"
        extra = []
    else:
        data = OUT / "data" / f"slopes-c{args.clients}.csv"
        truth = data.with_name(f"slopes-c{args.clients}-truth.json")
        extra = ["--clients", str(args.clients)]
    if not data.exists() or not truth.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        cmd = [args.bayesglmm, "simulate", *SIMULATE, *extra, "--out", str(data), "--truth", str(truth)]
        print("simulating:", shlex.join(str(c) for c in cmd))
        subprocess.run(cmd, check=True)
    return data, truth


def load_truth(truth):
    if not truth or not Path(truth).exists():
        return None
    t = json.loads(Path(truth).read_text())
    try:
        return {"(Intercept)": t["alpha"], "x1": t["beta"][0], "sd(client)[(Intercept)]": t["sd_client"],
                "sd(client)[x1]": t["sd_client_slope"], "cor(client)[(Intercept)][x1]": t["cor_client_slope"],
                "sd(stylist)": t["sd_stylist"], "sd(client:stylist)": t["sd_pair"]}
    except (KeyError, IndexError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------
# Report


def versions(args):
    out = {"python": platform.python_version()}
    for module in ("numpyro", "jax", "nutpie", "pymc", "arviz", "numpy"):
        try:
            out[module] = __import__(module).__version__
        except Exception:  # not installed: that sampler fails and says so
            out[module] = None
    try:
        out["R"] = subprocess.run(["Rscript", "-e", 'cat(paste(R.version$major, R.version$minor, sep="."), '
                                   'as.character(packageVersion("lme4")), tryCatch(as.character('
                                   'packageVersion("rstanarm")), error = function(e) "none"))'],
                                  capture_output=True, text=True, timeout=60).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        out["R"] = None
    try:
        out["bayesglmm_version"] = subprocess.run([args.bayesglmm, "--version"], capture_output=True,
                                                  text=True).stdout.strip()
    except OSError:
        out["bayesglmm_version"] = None
    try:
        out["bayesglmm_commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                                 capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        out["checkout_tree"] = "modified" if dirty else "clean"
    except OSError:
        pass
    out["bayesglmm_binary"] = str(args.bayesglmm)
    return out


def esc(text):
    """Text for a markdown table cell."""
    return str(text).replace("|", "\\|")


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.{digits}f}"


def mcmc_table(records):
    head = ("| sampler | chains x (warm-up + draws) | sampling s | total s | s / 1000 sweeps "
            "| min bulk-ESS (parameter) | ESS/s sampling | ESS/s total | max R-hat | divergences | leapfrog steps / iteration "
            "| peak MiB "
            "| BayesGLMM ESS/s ÷ this, sampling (total) |")
    lines = [head, "|" + "---|" * (head.count(" | ") + 1)]
    ours = next((r for r in records if r["sampler"] == "bayesglmm" and "min_ess_bulk" in r), None)
    for r in records:
        if r["sampler"] not in MCMC:
            continue
        if "min_ess_bulk" not in r:
            lines.append(f"| {LABEL[r['sampler']]} | failed (exit {r.get('exit')}: {esc(r.get('error') or 'see the log')})"
                         + " |" * 11 + " |")
            continue
        ratio = "–"
        if ours and r is not ours:
            ratio = (f"{ours['ess_per_sampling_second'] / r['ess_per_sampling_second']:.1f}x "
                     f"({ours['ess_per_total_second'] / r['ess_per_total_second']:.1f}x)")
        lines.append(
            f"| {LABEL[r['sampler']]} | {r['chains']} x ({r['warmup']} + {r['draws_per_chain']}) | "
            f"{fmt(r['sampling_seconds'])} | {fmt(r['total_seconds'])} | {fmt(r['seconds_per_1000_sweeps'], 2)} | "
            f"{r['min_ess_bulk']:,.0f} (`{r['min_ess_parameter']}`) | {fmt(r['ess_per_sampling_second'], 2)} | "
            f"{fmt(r['ess_per_total_second'], 2)} | {r['max_rhat']:.3f} | {fmt(r.get('divergences'))} | "
            f"{fmt(r.get('mean_leapfrog_steps'), 1)} | "
            f"{fmt(r['peak_rss_mib'], 0)} | {ratio} |")
    return "\n".join(lines)


def eb_table(records):
    head = "| fit | status | seconds (fit) | total s | peak MiB | log-likelihood | glmer s ÷ this |"
    lines = [head, "|" + "---|" * (head.count(" | ") + 1)]
    glmer = next((r for r in records if r["sampler"] == "glmer" and r.get("seconds")), None)
    for r in records:
        if r["sampler"] not in ("eb", "glmer"):
            continue
        if r.get("exit") == 0:
            status = r.get("status", "fitted")
            if r["sampler"] == "glmer":
                status += ", converged" if r.get("converged") else \
                    "; " + "; ".join(r.get("messages") or ["not converged"])
        elif r.get("status"):
            status = r["status"]
        else:
            status = f"failed (exit {r.get('exit')}): {esc(r.get('error', ''))}"
        ratio = f"{glmer['seconds'] / r['seconds']:.1f}x" if glmer and r.get("seconds") and r is not glmer else "–"
        lines.append(f"| {LABEL[r['sampler']]} | {status} | {fmt(r.get('seconds'), 2)} | {fmt(r['total_seconds'], 2)} "
                     f"| {fmt(r['peak_rss_mib'], 0)} | {fmt(r.get('log_likelihood'), 3)} | {ratio} |")
    for r in records:
        if r["sampler"] in ("eb", "glmer") and r.get("status") and r.get("exit") not in (0, None) and r.get("error"):
            lines.append(f"\n{LABEL[r['sampler']]} said: {r['error']}")
    return "\n".join(lines)


def means_table(records, truth):
    cols = []
    if truth:
        cols.append(("simulated truth", lambda n: fmt(None if truth.get(n) is None else float(truth[n]), 3)))
    for r in records:
        if r.get("estimates"):
            cols.append((f"{LABEL[r['sampler']]} estimate",
                         lambda n, r=r: fmt(None if r["estimates"].get(n) is None else float(r["estimates"][n]), 3)))
    for r in records:
        if r.get("parameters"):
            cols.append((f"{LABEL[r['sampler']]} mean (sd)",
                         lambda n, r=r: f"{r['parameters'][n]['mean']:.3f} ({r['parameters'][n]['sd']:.3f})"))
    head = "| parameter | " + " | ".join(c[0] for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for n in WATCHED:
        lines.append(f"| `{n}` | " + " | ".join(c[1](n) for c in cols) + " |")
    return "\n".join(lines)


def ess_table(records):
    fits = [r for r in records if r.get("parameters")]
    head = "| parameter | " + " | ".join(f"{LABEL[r['sampler']]} bulk-ESS (R-hat)" for r in fits) + " |"
    lines = [head, "|" + "---|" * (len(fits) + 1)]
    for n in WATCHED:
        lines.append(f"| `{n}` | " + " | ".join(
            f"{r['parameters'][n]['ess_bulk']:,.0f} ({r['parameters'][n]['rhat']:.3f})" for r in fits) + " |")
    return "\n".join(lines)


def goals(records, args):
    ours = next((r for r in records if r["sampler"] == "bayesglmm" and "min_ess_bulk" in r), None)
    nutpie = next((r for r in records if r["sampler"] == "nutpie" and "min_ess_bulk" in r), None)
    eb = next((r for r in records if r["sampler"] == "eb"), None)
    glmer = next((r for r in records if r["sampler"] == "glmer" and r.get("seconds")), None)
    out = []
    if ours:
        line = (f"- Min ESS/s: BayesGLMM {ours['ess_per_sampling_second']:.2f} per second of sampling "
                f"(goal >= {args.goal_ess_per_second:g}: {'met' if ours['ess_per_sampling_second'] >= args.goal_ess_per_second else 'not met'})")
        if nutpie:
            ratio = ours["ess_per_sampling_second"] / nutpie["ess_per_sampling_second"]
            line += (f"; {ratio:.1f}x nutpie's {nutpie['ess_per_sampling_second']:.2f} (goal >= 10x: "
                     f"{'met' if ratio >= 10 else 'not met'}; per second of the whole process "
                     f"{ours['ess_per_total_second'] / nutpie['ess_per_total_second']:.1f}x)")
        out.append(line + ".")
    if eb is not None:
        if eb.get("seconds") and glmer:
            ratio = glmer["seconds"] / eb["seconds"]
            out.append(f"- EB: bayesglmm eb {eb['seconds']:.2f} s, glmer (bobyqa) {glmer['seconds']:.2f} s: "
                       f"{ratio:.1f}x (goal >= 10x: {'met' if ratio >= 10 else 'not met'}); whole processes "
                       f"{eb['total_seconds']:.2f} s and {glmer['total_seconds']:.2f} s.")
            ours, theirs = eb.get("estimates") or {}, glmer.get("estimates") or {}
            shared = [n for n in WATCHED if n in ours and n in theirs]
            if shared:
                def gap(n):
                    return abs(ours[n] - theirs[n]) if n.startswith("cor(") else abs(ours[n] - theirs[n]) / abs(theirs[n])
                worst = max(shared, key=gap)
                out.append(f"- EB against glmer's estimates ({len(shared)} parameters): largest difference "
                           f"{gap(worst):.2g} ({'absolute' if worst.startswith('cor(') else 'relative'}, `{worst}`); "
                           f"log-likelihood {eb['log_likelihood']:.4f} against glmer's {glmer['log_likelihood']:.4f} "
                           f"(difference {eb['log_likelihood'] - glmer['log_likelihood']:+.2g}).")
        else:
            out.append(f"- EB: `bayesglmm eb` {eb.get('status') or 'failed (exit %s)' % eb.get('exit')}"
                       + (f"; glmer (bobyqa) took {glmer['seconds']:.2f} s, its estimates in `{glmer['glmer_json']}`"
                          if glmer else "") + ": the goal (EB >= 10x faster than glmer) cannot be assessed yet.")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samplers", default=",".join(DEFAULT_SAMPLERS),
                        help=f"comma-separated, from {', '.join(SAMPLERS)}, or all (default: "
                             f"{','.join(DEFAULT_SAMPLERS)}: all but the slow stan_glmer)")
    parser.add_argument("--bayesglmm", "--binary", dest="bayesglmm",
                        default=str(ROOT / ".build" / "release" / "bayesglmm"), help="the bayesglmm binary")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 200 clients (unless --clients), 2 chains x (100 + 100), stan_glmer iter 200")
    parser.add_argument("--clients", type=int, help="simulate this many clients (same seed and options) into out/data/")
    parser.add_argument("--data", help="another CSV with columns client, stylist, x1, y")
    parser.add_argument("--truth", help="its truth JSON (bayesglmm simulate --truth), for the means table")
    parser.add_argument("--chains", type=int, help="bayesglmm, NumPyro, nutpie (default 4)")
    parser.add_argument("--warmup", type=int, help="default 1000")
    parser.add_argument("--draws", type=int, help="default 1000")
    parser.add_argument("--seed", type=int, default=1, help="every sampler's seed (default 1)")
    parser.add_argument("--lkj-eta", type=float, default=2.0,
                        help="NumPyro's and nutpie's LKJ concentration on the client correlation (default 2)")
    parser.add_argument("--numpyro-chain-method", default="parallel", choices=["parallel", "sequential", "vectorized"])
    parser.add_argument("--nutpie-backend", default="numba", choices=["numba", "jax"])
    parser.add_argument("--stan-chains", type=int, default=2, help="stan_glmer chains (default 2)")
    parser.add_argument("--stan-cores", type=int, default=2, help="stan_glmer cores (default 2)")
    parser.add_argument("--stan-iter", type=int, help="stan_glmer iter (default: rstanarm's, 2000; --quick 200)")
    parser.add_argument("--stan-timeout", type=float, help="kill stan_glmer after this many seconds")
    parser.add_argument("--timeout", type=float, help="kill any fit after this many seconds (default: none)")
    parser.add_argument("--glmer-json", help="where glmer's fit goes (default out/glmer.json for the benchmark data)")
    parser.add_argument("--goal-ess-per-second", type=float, default=17.0)
    parser.add_argument("--results", help="the table (.md; the JSON beside it); default "
                        "Validation/slopes/results-<date>.md for the full settings, else out/")
    parser.add_argument("--merge", help="a JSON this script wrote: its results for the samplers not run now join "
                        "the table (e.g. a stan_glmer run made separately)")
    args = parser.parse_args()

    if not in_venv():
        python = VENV / "bin" / "python"
        if not python.exists():
            sys.exit(f"{python} is missing: run Validation/shapes/setup.sh first")
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])

    if args.quick:
        args.clients = args.clients if args.clients is not None or args.data else 200
        args.stan_iter = args.stan_iter or 200
    defaults = (2, 100, 100) if args.quick else (4, 1000, 1000)
    args.chains = args.chains or defaults[0]
    args.warmup = args.warmup if args.warmup is not None else defaults[1]
    args.draws = args.draws or defaults[2]
    samplers = SAMPLERS if args.samplers == "all" else args.samplers.split(",")
    for s in samplers:
        if s not in SAMPLERS:
            sys.exit(f"unknown sampler '{s}'; samplers: {', '.join(SAMPLERS)}")
    samplers = [s for s in SAMPLERS if s in samplers]
    args.bayesglmm = str(Path(args.bayesglmm).resolve())
    if not Path(args.bayesglmm).exists():
        sys.exit(f"{args.bayesglmm} is missing: swift build -c release --product bayesglmm, or --bayesglmm PATH")

    data, truth_path = prepare_data(args)
    import pandas as pd
    frame = pd.read_csv(data)
    truth = load_truth(truth_path)
    full = (args.data is None and args.clients is None and (args.chains, args.warmup, args.draws) == (4, 1000, 1000)
            and args.stan_iter is None and args.stan_chains == 2)
    if data.resolve() == DEFAULT_DATA.resolve() and len(frame) != DEFAULT_ROWS:
        print(f"warning: {shown(data)} has {len(frame)} rows, not {DEFAULT_ROWS}")
    tag = data.stem
    run_root = OUT / "runs" / tag
    run_root.mkdir(parents=True, exist_ok=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    meta = {"started": started.isoformat(timespec="seconds"),
            "data": {"file": str(shown(data)), "rows": len(frame), "clients": int(frame["client"].nunique()),
                     "stylists": int(frame["stylist"].nunique()),
                     "pairs": int(frame[["client", "stylist"]].drop_duplicates().shape[0]),
                     "mean_y": float(frame["y"].mean()), "truth": truth,
                     "simulate": shlex.join(["bayesglmm", "simulate", *SIMULATE] +
                                            (["--clients", str(args.clients)] if args.clients else []))
                     if not args.data else None},
            "formula": FORMULA,
            "settings": {"chains": args.chains, "warmup": args.warmup, "draws": args.draws, "seed": args.seed,
                         "lkj_eta": args.lkj_eta, "numpyro_chain_method": args.numpyro_chain_method,
                         "nutpie_backend": args.nutpie_backend, "stan_chains": args.stan_chains,
                         "stan_cores": args.stan_cores, "stan_iter": args.stan_iter or "rstanarm default (2000)"},
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "versions": versions(args), "samplers": samplers,
            "ess": "ArviZ az.ess(method='bulk') and az.rhat(method='rank') on the draws of every sampler"}
    records = []
    for sampler in samplers:
        load = os.getloadavg()[0]
        what = {"stan_glmer": f"{args.stan_chains} chains, iter {args.stan_iter or 'default'}",
                "eb": "", "glmer": ""}.get(sampler, f"{args.chains} x ({args.warmup} + {args.draws})")
        print(f"{sampler} {what} (load {load:.1f}) ...", end=" ", flush=True)
        if sampler == "bayesglmm":
            result = fit_bayesglmm(data, run_root, args)
        elif sampler == "eb":
            result = fit_eb(data, run_root, args)
        elif sampler in ("numpyro", "nutpie"):
            result = fit_nuts(sampler, data, run_root, args)
        elif sampler == "stan_glmer":
            result = fit_stan_glmer(data, run_root, args)
        else:
            result = fit_glmer(data, run_root, args)
        result.update(sampler=sampler, rows=result.get("rows") or len(frame), load_before=load,
                      load_after=os.getloadavg()[0])
        summarise(result)
        records.append(result)
        if "min_ess_bulk" in result:
            print(f"{result['total_seconds']:.1f} s, min bulk-ESS {result['min_ess_bulk']:.0f} "
                  f"({result['min_ess_parameter']}), {result['ess_per_sampling_second']:.2f}/s sampling, "
                  f"max R-hat {result['max_rhat']:.3f}"
                  + (f", {result['divergences']} divergences" if result.get("divergences") is not None else ""))
        elif result.get("exit") == 0:
            print(f"{result['total_seconds']:.1f} s ({result.get('seconds') or 0:.2f} s fitting)")
        else:
            print(f"exit {result['exit']} after {result['total_seconds']:.1f} s: {result.get('error')}")
        cells = {r["sampler"]: r.get("cells") for r in records if r.get("cells")}
        if len(set(cells.values())) > 1:
            print(f"warning: the samplers' binomial cells differ: {cells}")

    if args.merge:
        earlier = json.loads(Path(args.merge).read_text())
        done = {r["sampler"] for r in records}
        kept = [r for r in earlier["results"] if r["sampler"] not in done]
        if earlier["meta"]["data"]["file"] != meta["data"]["file"]:
            print(f"warning: merging results on {earlier['meta']['data']['file']} into {meta['data']['file']}")
        records = sorted(records + kept, key=lambda r: SAMPLERS.index(r["sampler"]))
        meta["merged_from"] = {"file": args.merge, "started": earlier["meta"].get("started"),
                               "samplers": [r["sampler"] for r in kept]}
    meta["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    date = started.strftime("%Y-%m-%d")
    if args.results:
        md_path = Path(args.results).resolve()
    elif full:
        md_path = HERE / f"results-{date}.md"
    else:
        md_path = OUT / f"results-{date}-{tag}-{args.chains}x{args.warmup}+{args.draws}-{started.strftime('%H%M%S')}.md"
    md_path.parent.mkdir(parents=True, exist_ok=True)
    v = meta["versions"]
    d = meta["data"]
    loads = [r.get("load_before", 0) for r in records]
    r_versions = v.get("R") or []
    header = (
        f"# Random slopes: BayesGLMM, NumPyro, nutpie, stan_glmer, glmer ({meta['started']})\n\n"
        f"Data `{d['file']}`: {d['rows']:,} rows, {d['clients']:,} clients, {d['stylists']:,} stylists, "
        f"{d['pairs']:,} pairs, mean y {d['mean_y']:.3f}"
        + (f" (`{d['simulate']}`)" if d.get("simulate") else "") + f". Model `{FORMULA}`.\n\n"
        f"BayesGLMM, NumPyro and nutpie: {args.chains} chains x ({args.warmup} warm-up + {args.draws} draws), "
        f"seed {args.seed}; stan_glmer: {args.stan_chains} chains on {args.stan_cores} cores, "
        f"iter {args.stan_iter or '2000 (its default)'}. "
        f"bayesglmm {v.get('bayesglmm_version')} (`{v.get('bayesglmm_binary')}`; checkout {v.get('bayesglmm_commit')}, "
        f"{v.get('checkout_tree')}), numpyro {v['numpyro']} (jax {v['jax']}, x64, chain_method "
        f"{args.numpyro_chain_method}), nutpie {v['nutpie']} (pymc {v['pymc']}, {args.nutpie_backend} backend), "
        f"LKJ({args.lkj_eta:g}) on the NUTS models' correlation, "
        + (f"R {r_versions[0]}, lme4 {r_versions[1]}, rstanarm {r_versions[2]}, " if len(r_versions) == 3 else "")
        + f"ArviZ {v['arviz']}; {os.cpu_count()} CPUs, load average before each fit "
        f"{min(loads, default=0):.1f}–{max(loads, default=0):.1f}.\n\n"
        "Min bulk-ESS over the seven parameters below (ArviZ, the same code for every sampler). Sampling "
        "seconds: bayesglmm fit.json `seconds` (all chains, "
        f"{min(args.chains, os.cpu_count() or 1)} at a time on {os.cpu_count()} cores); NumPyro `MCMC.run` "
        "(including JIT compilation); nutpie `nutpie.sample` (after `compile_pymc_model`); stan_glmer the "
        "slowest chain's warm-up + sampling (rstan's `get_elapsed_time`). s / 1000 sweeps: sampling seconds "
        "per 1000 iterations of all chains together (warm-up included), the chains sharing the cores. Total: "
        "the whole process. Peak MiB: the larger of GNU time's peak of the largest process and the polled sum "
        "over the fit's processes.\n\n")
    parts = [header]
    if any(r["sampler"] in MCMC for r in records):
        parts.append("## Samplers\n\n" + mcmc_table(records) + "\n")
    g = goals(records, args)
    if g:
        parts.append("## Goals (issue 18)\n\n" + g + "\n")
    if any(r["sampler"] in ("eb", "glmer") for r in records):
        parts.append("## Empirical Bayes\n\n" + eb_table(records) + "\n")
    parts.append("## Posterior means side by side\n\n" + means_table(records, truth) + "\n")
    if any(r.get("parameters") for r in records):
        parts.append("## Bulk-ESS of each parameter\n\n" + ess_table(records) + "\n")
    text = "\n".join(parts)
    md_path.write_text(text)
    json_path = md_path.with_suffix(".json")
    json_path.write_text(json.dumps({"meta": meta, "results": records}, indent=1, default=str) + "\n")
    print()
    print(text)
    print(f"written: {shown(md_path)} and {shown(json_path)}")


if __name__ == "__main__":
    main()
