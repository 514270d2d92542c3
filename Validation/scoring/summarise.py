#!/usr/bin/env python3
"""Pools calibration.py --json lines (one per replicate data set): coverage of
the true success probabilities by the posterior and plug-in EB 90% intervals,
by the client's training rows, with mean widths, as a Markdown table."""
import json
import math
import sys

lines = [json.loads(line) for line in open(sys.argv[1])]
print(f"{len(lines)} data sets; EB boundary (singular) fits: {sum(l['singular'] for l in lines)}; "
      f"EB sd estimates below 0.01: " + ", ".join(
          f"{term} {sum(1 for l in lines if l['sd'][term] < 0.01)}" for term in lines[0]["sd"]) + "\n")
print("| client's training rows | held-out rows | posterior coverage | EB coverage | se | mean width posterior | mean width EB |")
print("|---|--:|--:|--:|--:|--:|--:|")
for group in ("new", "1-4", "5-9", "10+", "all"):
    keys = ("new", "1-4", "5-9", "10+") if group == "all" else (group,)
    rows = sum(l[k]["rows"] for l in lines for k in keys)
    if rows == 0:
        continue
    total = lambda field: sum(l[k][field] for l in lines for k in keys)
    print(f"| {group} | {rows} | {total('posterior') / rows:.3f} | {total('eb') / rows:.3f} | "
          f"{math.sqrt(0.09 / rows):.3f} | {total('width_posterior') / rows:.3f} | {total('width_eb') / rows:.3f} |")
