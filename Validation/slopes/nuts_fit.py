#!/usr/bin/env python3
"""One NUTS fit of the random-slope model, run by bench.py as its own process.

    .venv-shapes/bin/python Validation/slopes/nuts_fit.py SAMPLER SPEC.json OUT_DIR

SAMPLER is `numpyro` or `nutpie` (PyMC model compiled by nutpie). SPEC.json
(written by bench.py) names the CSV and the chains, warm-up, draws, seed,
the LKJ concentration and the backends. The model is

    y ~ x1 + (1 + x1 | client) + (1 | stylist) + (1 | client:stylist)

with bayesglmm's default priors on everything but the correlation, written
non-centred:

    logit p_c = alpha + beta x1_c + u[client_c, 0] + u[client_c, 1] x1_c
                + sd_s z_s[stylist_c] + sd_p z_p[pair_c]
    u[j] = diag(sd_client) L z_client[j],  z ~ N(0, I): (u[j] ~ N(0, Sigma))
    L ~ LKJCholesky(2, eta) (eta = 2 by default; the correlation is L[1, 0])
    sd_client[0], sd_client[1], sd_s, sd_p ~ half-t(3, 0, 2.5)
    alpha ~ N(0, 2.5^2), beta ~ N(0, 2.5^2)
    y_c ~ Binomial(n_c, p_c)

rows sharing x1, client and stylist aggregated into one binomial cell c
(with a continuous x1 every row is its own cell, as in bayesglmm's design).
NumPyro: dist.LKJCholesky and FoldedDistribution(StudentT(3, 0, 2.5)); PyMC:
pm.LKJCholeskyCov with sd_dist HalfStudentT(nu=3, sigma=2.5) (independent
SDs and LKJ correlation: the same prior).

Writes OUT_DIR/draws.npy (chains x draws x 7, float64) with the parameters
named as bayesglmm names them (NAMES below) and OUT_DIR/result.json (names,
timings, divergences, versions, cells). ESS and R-hat are computed by
bench.py, the same way for every sampler.
"""
import json
import os
import sys
import time

START = time.perf_counter()

NAMES = ["(Intercept)", "x1", "sd(client)[(Intercept)]", "sd(client)[x1]", "cor(client)[(Intercept)][x1]",
         "sd(stylist)", "sd(client:stylist)"]


def design(spec):
    """Binomial cells: x1, client, stylist and pair indices, successes, trials."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(spec["data"], dtype={"client": str, "stylist": str})
    frame = frame[["client", "stylist", "x1", "y"]].dropna()
    frame["pair"] = frame["client"] + ":" + frame["stylist"]
    cells = frame.groupby(["x1", "client", "stylist", "pair"], sort=False)["y"].agg(["sum", "count"]).reset_index()
    out = dict(x=cells["x1"].to_numpy(dtype=float), successes=cells["sum"].to_numpy(dtype=float),
               trials=cells["count"].to_numpy(dtype=float), rows=len(frame), levels={})
    for term in ("client", "stylist", "pair"):
        codes, uniques = pd.factorize(cells[term], sort=True)
        out[term] = codes.astype(np.int32)
        out["levels"][term] = len(uniques)
    return out


def fit_numpyro(spec, d):
    chains = spec["chains"]
    # One XLA host device per chain, so that chain_method="parallel" runs the
    # chains at once (on as many cores as there are), as Validation/shapes does.
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_force_host_platform_device_count={chains}").strip()
    import jax
    import jax.numpy as jnp
    import numpy as np
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    numpyro.enable_x64()  # double precision, as bayesglmm and PyMC use
    x = jnp.asarray(d["x"])
    client, stylist, pair = (jnp.asarray(d[k]) for k in ("client", "stylist", "pair"))
    succ, trials = jnp.asarray(d["successes"]), jnp.asarray(d["trials"])
    n_client, n_stylist, n_pair = (d["levels"][k] for k in ("client", "stylist", "pair"))
    half_t = dist.FoldedDistribution(dist.StudentT(3.0, 0.0, 2.5))

    def model():
        alpha = numpyro.sample("alpha", dist.Normal(0.0, 2.5))
        beta = numpyro.sample("beta", dist.Normal(0.0, 2.5))
        sd_client = numpyro.sample("sd_client", half_t.expand([2]).to_event(1))
        L = numpyro.sample("L", dist.LKJCholesky(2, concentration=spec["lkj_eta"]))
        z_client = numpyro.sample("z_client", dist.Normal(0.0, 1.0).expand([n_client, 2]).to_event(2))
        u = (z_client @ L.T) * sd_client  # row j: diag(sd) L z_j
        sd_s = numpyro.sample("sd_stylist", half_t)
        z_s = numpyro.sample("z_stylist", dist.Normal(0.0, 1.0).expand([n_stylist]).to_event(1))
        sd_p = numpyro.sample("sd_pair", half_t)
        z_p = numpyro.sample("z_pair", dist.Normal(0.0, 1.0).expand([n_pair]).to_event(1))
        eta = (alpha + beta * x + u[client, 0] + u[client, 1] * x + sd_s * z_s[stylist] + sd_p * z_p[pair])
        numpyro.sample("y", dist.Binomial(total_count=trials, logits=eta), obs=succ)

    mcmc = MCMC(NUTS(model), num_warmup=spec["warmup"], num_samples=spec["draws"], num_chains=chains,
                chain_method=spec.get("numpyro_chain_method", "parallel"), progress_bar=False)
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(spec["seed"]), extra_fields=("diverging", "num_steps"))
    samples = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(samples)
    sampling = time.perf_counter() - t0
    s = {k: np.asarray(v) for k, v in samples.items()}
    draws = np.stack([s["alpha"], s["beta"], s["sd_client"][..., 0], s["sd_client"][..., 1], s["L"][..., 1, 0],
                      s["sd_stylist"], s["sd_pair"]], axis=-1)
    extra = mcmc.get_extra_fields(group_by_chain=True)
    divergences = int(np.asarray(extra["diverging"]).sum())
    info = dict(compile_seconds=None, sampling_seconds=sampling, divergences=divergences,
                mean_leapfrog_steps=float(np.asarray(extra["num_steps"]).mean()),
                chain_method=mcmc.chain_method, jax_devices=len(jax.devices()),
                versions=dict(numpyro=numpyro.__version__, jax=jax.__version__),
                note="sampling_seconds: MCMC.run, including JAX's tracing and compilation")
    return draws, info


def fit_nutpie(spec, d):
    import numpy as np
    import nutpie
    import pymc as pm

    n_client, n_stylist, n_pair = (d["levels"][k] for k in ("client", "stylist", "pair"))
    x = d["x"]
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0.0, 2.5)
        beta = pm.Normal("beta", 0.0, 2.5)
        chol, corr, sds = pm.LKJCholeskyCov("chol_client", n=2, eta=spec["lkj_eta"],
                                            sd_dist=pm.HalfStudentT.dist(nu=3.0, sigma=2.5, shape=2),
                                            compute_corr=True)
        pm.Deterministic("sd_client", sds)
        pm.Deterministic("cor_client", corr[1, 0])
        z_client = pm.Normal("z_client", 0.0, 1.0, shape=(n_client, 2))
        u = pm.math.dot(z_client, chol.T)  # row j: L_cov z_j, L_cov = diag(sd) L_corr
        sd_s = pm.HalfStudentT("sd_stylist", nu=3.0, sigma=2.5)
        z_s = pm.Normal("z_stylist", 0.0, 1.0, shape=n_stylist)
        sd_p = pm.HalfStudentT("sd_pair", nu=3.0, sigma=2.5)
        z_p = pm.Normal("z_pair", 0.0, 1.0, shape=n_pair)
        eta = (alpha + beta * x + u[d["client"], 0] + u[d["client"], 1] * x + sd_s * z_s[d["stylist"]]
               + sd_p * z_p[d["pair"]])
        pm.Binomial("y", n=d["trials"].astype("int64"), logit_p=eta, observed=d["successes"].astype("int64"))
    backend = spec.get("nutpie_backend", "numba")
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model, backend=backend) if backend != "numba" \
        else nutpie.compile_pymc_model(model)
    compile_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    trace = nutpie.sample(compiled, chains=spec["chains"], tune=spec["warmup"], draws=spec["draws"],
                          seed=spec["seed"], progress_bar=False)
    sampling = time.perf_counter() - t0
    post = trace.posterior
    sd_client = post["sd_client"].values
    draws = np.stack([post["alpha"].values, post["beta"].values, sd_client[..., 0], sd_client[..., 1],
                      post["cor_client"].values, post["sd_stylist"].values, post["sd_pair"].values], axis=-1)
    divergences = int(trace.sample_stats["diverging"].values.sum())
    steps = trace.sample_stats["n_steps"].values.mean() if "n_steps" in trace.sample_stats else None
    info = dict(compile_seconds=compile_seconds, sampling_seconds=sampling, divergences=divergences,
                mean_leapfrog_steps=None if steps is None else float(steps),
                backend=backend, versions=dict(nutpie=nutpie.__version__, pymc=pm.__version__),
                note="compile_seconds: nutpie.compile_pymc_model; sampling_seconds: nutpie.sample")
    return draws, info


def main():
    sampler, spec_path, out = sys.argv[1:4]
    spec = json.load(open(spec_path))
    os.makedirs(out, exist_ok=True)
    import numpy as np

    d = design(spec)
    draws, info = {"numpyro": fit_numpyro, "nutpie": fit_nutpie}[sampler](spec, d)
    assert draws.shape[-1] == len(NAMES), (draws.shape, NAMES)
    np.save(os.path.join(out, "draws.npy"), np.ascontiguousarray(draws, dtype=np.float64))
    info.update(sampler=sampler, names=NAMES, shape=list(draws.shape), rows=d["rows"], cells=len(d["trials"]),
                levels=d["levels"], lkj_eta=spec["lkj_eta"],
                total_seconds_in_process=time.perf_counter() - START)
    json.dump(info, open(os.path.join(out, "result.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
