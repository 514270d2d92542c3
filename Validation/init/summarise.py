"""Summarise Validation/init/measure.sh's runs: one row per data set, warm-up
and start, over the seeds: median and worst max R-hat, min bulk-ESS and min
tail-ESS, over all saved parameters ("all") and over the fixed effects and
SDs ("fixed+sd"), the mean seconds of the EB fit and of the sampling."""
import csv
import json
import os
import re
import statistics
import sys

out = sys.argv[1]
runs = {}
for name in sorted(os.listdir(out)):
    m = re.fullmatch(r"(\w+)-w(\d+)-s(\d+)-(prior|eb)", name)
    if not m:
        continue
    data, warmup, seed, init = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    path = os.path.join(out, name, "summary.csv")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        continue        # a run still under way
    with open(path) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, name, "fit.json")) as f:
        record = json.load(f)
    assert record["init"] == init, name
    def worst(selected):
        rhat = max(float(r["rhat"]) for r in selected)
        bulk = min(float(r["ess_bulk"]) for r in selected)
        tail = min(float(r["ess_tail"]) for r in selected)
        return rhat, bulk, tail
    core = [r for r in rows if not r["variable"].startswith("r(")]
    runs.setdefault((data, warmup, init), []).append({
        "all": worst(rows), "core": worst(core),
        "eb_seconds": record.get("init_eb", {}).get("seconds", 0.0),
        "seconds": record["seconds"],
    })

def med(xs):
    return statistics.median(xs)

print("data      warmup init  | all saved: max R-hat med/worst  min bulk med/worst  min tail med/worst"
      " | fixed+sd: max R-hat med/worst  min bulk med/worst  min tail med/worst | EB s  sampling s  seeds")
for (data, warmup, init) in sorted(runs, key=lambda k: (k[0], k[1], k[2] != "prior")):
    rs = runs[(data, warmup, init)]
    cols = []
    for part in ("all", "core"):
        rh = [r[part][0] for r in rs]
        bu = [r[part][1] for r in rs]
        ta = [r[part][2] for r in rs]
        cols.append(f"{med(rh):.3f}/{max(rh):.3f}  {med(bu):6.0f}/{min(bu):5.0f}  {med(ta):6.0f}/{min(ta):5.0f}")
    eb = statistics.mean(r["eb_seconds"] for r in rs)
    sampling = statistics.mean(r["seconds"] for r in rs)
    print(f"{data:9} {warmup:6} {init:5} | {cols[0]} | {cols[1]} | {eb:4.1f}  {sampling:10.1f}  {len(rs)}")
