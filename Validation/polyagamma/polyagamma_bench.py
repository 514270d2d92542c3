#!/usr/bin/env python3
"""Throughput and moment z-scores of the Python `polyagamma` sampler.

Mirror of `VariatesBenchmarks polyagamma --tsv` for the side-by-side
comparison in compare.sh. For each (b, z) of the grid:

  * rng = np.random.default_rng(seed), fresh per cell (as the Swift
    benchmark makes a fresh Generator per cell);
  * time random_polyagamma(b, z, size=N, random_state=rng) with the default
    method (the package's hybrid), best of 3 with time.perf_counter;
  * z-scores of the sample mean and sample variance (ddof=1) of the last
    sample against the exact closed forms:

        mean z     = (xbar - mean) / sqrt(var / N)
        variance z = (s^2 - var) / sqrt((kappa4 + 2 var^2) / N)

    where kappa4 = b * 3! * sum_k w_k^4 with
    w_k = 1 / (2 pi^2 ((k - 1/2)^2 + z^2 / (4 pi^2))), k = 1..200000
    (the cumulants of the gamma-series representation
    PG(b, z) = sum_k w_k Gamma(b, 1)).

Prints TSV: b, z, Mdraws_per_s, mean_z, var_z (one row per cell, header
first). Nothing is "fixed" here: a biased sampler shows up as a large |z|.

Usage:
    polyagamma_bench.py [--draws N] [--shapes 0.5,1,...] [--tilts 0,1,...]
                        [--seed S]
"""

import argparse
import math
import sys
import time

import numpy as np
from polyagamma import random_polyagamma

DEFAULT_SHAPES = "0.5,1,2,2.7,3,5,10,20,60,200"
DEFAULT_TILTS = "0,1,-1,4,-4,10,-10,40"
SERIES_TERMS = 200_000


def exact_mean(b: float, z: float) -> float:
    """E[PG(b, z)] = b tanh(z/2) / (2z), b/4 at z = 0."""
    a = abs(z)
    if a == 0.0:
        return b / 4.0
    if a < 0.05:
        # b (1/4 - z^2/48 + z^4/480 - 17 z^6/80640); next term ~ z^8 * 2e-5
        z2 = a * a
        return b * (0.25 - z2 / 48.0 + z2 * z2 / 480.0 - 17.0 * z2 ** 3 / 80640.0)
    return b * math.tanh(a / 2.0) / (2.0 * a)


def exact_variance(b: float, z: float) -> float:
    """Var[PG(b, z)] = b (sinh z - z) sech^2(z/2) / (4 z^3), b/24 at z = 0.

    Evaluated as b (2 tanh(|z|/2) - |z| sech^2(|z|/2)) / (4 |z|^3), which
    does not overflow for large |z|, and by its Taylor series for small |z|
    where the difference cancels.
    """
    a = abs(z)
    if a < 0.05:
        # b (1/24 - z^2/120 + 17 z^4/13440 - 31 z^6/181440); next ~ z^8 * 2e-5
        z2 = a * a
        return b * (1.0 / 24.0 - z2 / 120.0 + 17.0 * z2 * z2 / 13440.0
                    - 31.0 * z2 ** 3 / 181440.0)
    if a < 1.0:
        sech = 1.0 / math.cosh(a / 2.0)
        return b * (math.sinh(a) - a) * sech * sech / (4.0 * a ** 3)
    sech = 1.0 / math.cosh(a / 2.0)
    return b * (2.0 * math.tanh(a / 2.0) - a * sech * sech) / (4.0 * a ** 3)


def fourth_cumulant(b: float, z: float) -> float:
    """kappa4 = b * 3! * sum_{k=1}^{200000} w_k^4 (tail is O(K^-7), negligible)."""
    k = np.arange(1, SERIES_TERMS + 1, dtype=np.float64)
    w = 1.0 / (2.0 * math.pi ** 2 * ((k - 0.5) ** 2 + z * z / (4.0 * math.pi ** 2)))
    # Sum smallest first for accuracy.
    return b * 6.0 * float(np.sum((w ** 4)[::-1]))


def floats(text: str) -> list[float]:
    values = [float(t) for t in text.split(",") if t.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected a comma-separated list of numbers")
    return values


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=1_000_000)
    p.add_argument("--shapes", type=floats, default=floats(DEFAULT_SHAPES))
    p.add_argument("--tilts", type=floats, default=floats(DEFAULT_TILTS))
    p.add_argument("--seed", type=int, default=20261124)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if args.draws < 2:
        p.error("--draws must be > 1")

    n = args.draws
    out = sys.stdout
    out.write("b\tz\tMdraws_per_s\tmean_z\tvar_z\n")
    for b in args.shapes:
        for z in args.tilts:
            rng = np.random.default_rng(args.seed)
            best = math.inf
            x = None
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                x = random_polyagamma(b, z, size=n, random_state=rng)
                best = min(best, time.perf_counter() - t0)
            mean, var = exact_mean(b, z), exact_variance(b, z)
            k4 = fourth_cumulant(b, z)
            xbar = float(np.mean(x))
            s2 = float(np.var(x, ddof=1))
            mean_z = (xbar - mean) / math.sqrt(var / n)
            var_z = (s2 - var) / math.sqrt((k4 + 2.0 * var * var) / n)
            out.write(f"{b!r}\t{z!r}\t{n / best / 1e6:.3f}\t{mean_z:.2f}\t{var_z:.2f}\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
