#!/usr/bin/env python3
"""Tabulate a glmer-vs-`bayesglmm eb` benchmark run (Validation/lme4/benchmark.sh).

    compare_fits.py WORK_DIR --sets small,large [--nice N] [--formula F]
                    [--json OUT.json] [--markdown OUT.md]
    compare_fits.py GLMER.json OURS.json        # agreement of two fits only

WORK_DIR/<set>/ holds glmer-<k>.{json,time} and ours-<k>.{json,time} (k = 1..),
the fits in the schema of Validation/lme4/fit_glmer.R and the `/usr/bin/time -v`
reports. For each set the table gives the fastest run of each program (by wall
time), the largest peak RSS over its runs, the speed-up (glmer / ours) and the
agreement of the two fits (first runs): the largest relative difference
|ours - glmer| / |glmer| over the fixed effects, their standard errors and the
SDs (matched by name), and logLik(ours) - logLik(glmer).

With --json, a set already in that file is replaced and the others are kept,
so small and large can be run separately on one day. Only the standard
library is used.
"""
import argparse
import datetime as dt
import glob
import json
import os
import platform
import re
import sys


def parse_time(path):
    """Wall, user, system seconds, peak RSS (KiB) and exit status from GNU time -v."""
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            if key.startswith("Elapsed (wall clock) time"):
                parts = [float(p) for p in value.split(":")]
                secs = 0.0
                for p in parts:
                    secs = secs * 60 + p
                out["wall_seconds"] = secs
            elif key == "User time (seconds)":
                out["user_seconds"] = float(value)
            elif key == "System time (seconds)":
                out["system_seconds"] = float(value)
            elif key == "Maximum resident set size (kbytes)":
                out["peak_rss_kib"] = int(value)
            elif key == "Exit status":
                out["exit_status"] = int(value)
    missing = {"wall_seconds", "user_seconds", "system_seconds", "peak_rss_kib"} - out.keys()
    if missing:
        sys.exit(f"{path}: no {', '.join(sorted(missing))} (not a GNU time -v report?)")
    out["cpu_seconds"] = round(out["user_seconds"] + out["system_seconds"], 2)
    out["peak_mib"] = round(out["peak_rss_kib"] / 1024, 1)
    return out


def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def agreement(glmer, ours):
    """Largest relative differences (ours against glmer) and the logLik difference."""
    def worst(pairs):
        best = None
        for name, o, g in pairs:
            r = rel(o, g)
            if best is None or r > best[1]:
                best = (name, r)
        return {"max_rel_diff": best[1], "where": best[0]} if best else None

    gfix = {f["name"]: f for f in glmer["fixed"]}
    ofix = {f["name"]: f for f in ours["fixed"]}
    gsd = {s["term"]: s["estimate"] for s in glmer["sd"]}
    osd = {s["term"]: s["estimate"] for s in ours["sd"]}
    problems = []
    if gfix.keys() != ofix.keys():
        problems.append(f"fixed effects differ: glmer {sorted(gfix)} ours {sorted(ofix)}")
    if gsd.keys() != osd.keys():
        problems.append(f"SD terms differ: glmer {sorted(gsd)} ours {sorted(osd)}")
    common_fix = [n for n in gfix if n in ofix]
    common_sd = [t for t in gsd if t in osd]
    return {
        "fixed": worst((n, ofix[n]["estimate"], gfix[n]["estimate"]) for n in common_fix),
        "std_error": worst((n, ofix[n]["std_error"], gfix[n]["std_error"]) for n in common_fix),
        "sd": worst((t, osd[t], gsd[t]) for t in common_sd),
        "log_likelihood_diff": ours["log_likelihood"] - glmer["log_likelihood"],
        "glmer": {"fixed": {n: [gfix[n]["estimate"], gfix[n]["std_error"]] for n in gfix},
                  "sd": gsd, "log_likelihood": glmer["log_likelihood"],
                  "converged": glmer.get("converged"), "messages": glmer.get("messages", [])},
        "ours": {"fixed": {n: [ofix[n]["estimate"], ofix[n]["std_error"]] for n in ofix},
                 "sd": osd, "log_likelihood": ours["log_likelihood"],
                 "converged": ours.get("converged"), "messages": ours.get("messages", [])},
        "problems": problems,
    }


def read_kv(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    out[k] = v
    return out


def read1(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return f.read().strip()


def loadavg(path):
    s = read1(path)
    return [float(x) for x in s.split()[:3]] if s else None


def program_runs(d, prog):
    runs = []
    for k in range(1, 1000):
        t = os.path.join(d, f"{prog}-{k}.time")
        j = os.path.join(d, f"{prog}-{k}.json")
        if not os.path.exists(t):
            break
        with open(j) as f:
            fit = json.load(f)
        r = parse_time(t)
        r["fit_seconds"] = fit["seconds"]
        runs.append((r, fit))
    if not runs:
        sys.exit(f"{d}: no {prog}-1.time")
    return runs


def summarise(runs):
    fastest = min(runs, key=lambda rf: rf[0]["wall_seconds"])[0]
    return {
        "wall_seconds": fastest["wall_seconds"],
        "cpu_seconds": fastest["cpu_seconds"],
        "fit_seconds": fastest["fit_seconds"],
        "peak_mib": max(r["peak_mib"] for r, _ in runs),
        "runs": [r for r, _ in runs],
    }


def one_set(work, name):
    d = os.path.join(work, name)
    g = program_runs(d, "glmer")
    o = program_runs(d, "ours")
    gs, os_ = summarise(g), summarise(o)
    gs["program"] = g[0][1].get("program")
    gs["timings"] = min(g, key=lambda rf: rf[0]["wall_seconds"])[1].get("timings")
    os_["program"] = o[0][1].get("program")
    return {
        "data": read1(os.path.join(d, "data.txt")),
        "rows": g[0][1]["rows_used"],
        "rows_ours": o[0][1]["rows_used"],
        "start": read1(os.path.join(d, "start.txt")),
        "end": read1(os.path.join(d, "end.txt")),
        "load_start": loadavg(os.path.join(d, "loadavg-start.txt")),
        "load_end": loadavg(os.path.join(d, "loadavg-end.txt")),
        "glmer": gs,
        "ours": os_,
        "speedup_wall": gs["wall_seconds"] / os_["wall_seconds"],
        "speedup_fit": gs["fit_seconds"] / os_["fit_seconds"],
        "speedup_cpu": gs["cpu_seconds"] / os_["cpu_seconds"] if os_["cpu_seconds"] > 0 else None,
        "agreement": agreement(g[0][1], o[0][1]),
    }


def fmt_e(x):
    return f"{x:.1e}"


def load_str(l):
    return " ".join(f"{x:.2f}" for x in l) if l else "?"


def markdown(result):
    m = result["machine"]
    lines = [f"# Benchmark: glmer against `bayesglmm eb` ({result['date']})", ""]
    lines.append(f"Formula `{result['formula']}`, binomial, Laplace (nAGQ = 1), default settings for both. "
                 f"Machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB. "
                 "Both programs at the same niceness (below), one after the other.")
    lines.append("")
    lines.append("Wall, CPU (user + system) and peak RSS are of the whole process (`/usr/bin/time -v`): "
                 "start-up, reading the CSV, the fit, standard errors, conditional modes and SDs, writing "
                 "the JSON. *fit* is each program's own timing of the fit alone (glmer(): system.time).")
    lines.append("")
    lines.append("| data set | rows | glmer wall s | glmer fit s | glmer CPU s | glmer peak MiB "
                 "| ours wall s | ours fit s | ours CPU s | ours peak MiB | speed-up (wall) | speed-up (CPU) | speed-up (fit) |")
    lines.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for name, s in result["sets"].items():
        g, o = s["glmer"], s["ours"]
        lines.append(f"| {name} | {s['rows']:,} | {g['wall_seconds']:.2f} | {g['fit_seconds']:.2f} | "
                     f"{g['cpu_seconds']:.2f} | {g['peak_mib']:.0f} | {o['wall_seconds']:.2f} | "
                     f"{o['fit_seconds']:.2f} | {o['cpu_seconds']:.2f} | {o['peak_mib']:.0f} | "
                     f"{s['speedup_wall']:.1f}x | {s['speedup_cpu']:.1f}x | {s['speedup_fit']:.1f}x |")
    lines.append("")
    lines.append("glmer's *fit* is the glmer() call, which includes the finite-difference Hessian for the "
                 "standard errors; ours includes that and the conditional SDs. glmer's other stages "
                 "(elapsed s):")
    lines.append("")
    for name, s in result["sets"].items():
        t = s["glmer"].get("timings")
        if t:
            lines.append(f"- {name}: read.csv {t['read_csv']:.2f}, glmer() {t['glmer']:.2f}, "
                         f"vcov() {t['vcov']:.2f}, ranef(condVar = TRUE) {t['ranef_condvar']:.2f}, "
                         f"R process before writing the JSON {t['r_process_before_write']:.2f}")
    lines.append("")
    lines.append("Agreement, ours against glmer: largest |ours − glmer| / |glmer| (and where).")
    lines.append("")
    lines.append("| data set | fixed effects | standard errors | SDs | logLik ours − glmer | glmer logLik | messages |")
    lines.append("|---|--:|--:|--:|--:|--:|---|")
    for name, s in result["sets"].items():
        a = s["agreement"]
        cell = lambda w: f"{fmt_e(w['max_rel_diff'])}, {w['where']}" if w else "–"
        msgs = []
        for who in ("glmer", "ours"):
            ms = a[who]["messages"]
            if ms:
                msgs.append(f"{who}: " + "; ".join(ms))
        msgs += a["problems"]
        lines.append(f"| {name} | {cell(a['fixed'])} | {cell(a['std_error'])} | {cell(a['sd'])} | "
                     f"{a['log_likelihood_diff']:+.2e} | {a['glmer']['log_likelihood']:.6f} | "
                     f"{' / '.join(msgs) if msgs else 'none'} |")
    lines.append("")
    lines.append("| data set | started (UTC) | ended (UTC) | load at start (1, 5, 15 min) | load at end | ours built from | nice | runs |")
    lines.append("|---|---|---|---|---|---|--:|--:|")
    for name, s in result["sets"].items():
        b = s["build"]
        built = b.get("commit", "?") + (f" + {b['sources_dirty']} uncommitted Sources/ files"
                                        if b.get("sources_dirty", "0") not in ("0", "") else "")
        lines.append(f"| {name} | {s['start']} | {s['end']} | {load_str(s['load_start'])} | "
                     f"{load_str(s['load_end'])} | {built} | {s.get('nice', 0)} | {len(s['glmer']['runs'])} |")
    lines.append("")
    lines.append(f"glmer: {next(iter(result['sets'].values()))['glmer']['program']}, {result.get('r_version', '?')}.")
    return "\n".join(lines) + "\n"


def machine():
    cpu = "?"
    mem = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": mem, "system": platform.platform()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="WORK_DIR, or GLMER.json OURS.json")
    ap.add_argument("--sets", default=None, help="comma-separated data sets (default: every subdirectory)")
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--formula", default="y ~ (1|client) + (1|stylist) + (1|client:stylist)")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()

    if len(args.paths) == 2 and all(p.endswith(".json") for p in args.paths):
        with open(args.paths[0]) as f:
            g = json.load(f)
        with open(args.paths[1]) as f:
            o = json.load(f)
        a = agreement(g, o)
        for k in ("fixed", "std_error", "sd"):
            print(f"{k:10s} max rel diff {fmt_e(a[k]['max_rel_diff'])} ({a[k]['where']})" if a[k] else f"{k}: none")
        print(f"logLik ours - glmer {a['log_likelihood_diff']:+.3e}")
        for p in a["problems"]:
            print("PROBLEM:", p)
        return

    work = args.paths[0]
    sets = args.sets.split(",") if args.sets else sorted(
        n for n in os.listdir(work) if os.path.isdir(os.path.join(work, n)))
    build = read_kv(os.path.join(work, "build.txt"))
    new = {}
    for name in sets:
        s = one_set(work, name)
        s["build"] = build
        s["nice"] = args.nice
        s["work_dir"] = work
        s["uptime_start"] = read1(os.path.join(work, "uptime-start.txt"))
        s["uptime_end"] = read1(os.path.join(work, "uptime-end.txt"))
        new[name] = s

    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
        "formula": args.formula,
        "nice": args.nice,
        "machine": machine(),
        "r_version": build.get("r_version", "?"),
        "uptime_start": read1(os.path.join(work, "uptime-start.txt")),
        "uptime_end": read1(os.path.join(work, "uptime-end.txt")),
        "sets": {},
    }
    if args.json and os.path.exists(args.json):
        with open(args.json) as f:
            old = json.load(f)
        # keep the other data sets of the same day's file, in order small, large, ...
        result["sets"].update({k: v for k, v in old.get("sets", {}).items() if k not in new})
    result["sets"].update(new)
    order = {"small": 0, "large": 1, "insteval": 2}
    result["sets"] = dict(sorted(result["sets"].items(), key=lambda kv: (order.get(kv[0], 9), kv[0])))

    md = markdown(result)
    print(md, end="")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
