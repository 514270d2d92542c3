#!/usr/bin/env python3
"""One NUTS fit of a logistic mixed model, run by bench.py as its own process.

    .venv-shapes/bin/python Validation/shapes/nuts_fit.py SAMPLER SPEC.json OUT_DIR

SAMPLER is `numpyro` or `nutpie`. SPEC.json (written by bench.py) names the
CSV, the response, the fixed-effect columns (numeric, or categorical with
their level order) and the grouping factors, and the chains, warm-up, draws
and seed. The model is bayesglmm's with its default priors:

    logit p_c = alpha + X_c beta + sum_k sd_k * z_k[level_k(c)],   z_k ~ N(0, 1)
    alpha ~ N(0, 2.5^2),  beta_j ~ N(0, 2.5^2),  sd_k ~ half-t(3, 0, 2.5)
    y_c ~ Binomial(n_c, p_c)

(non-centred random intercepts; rows with the same fixed-effect row and the
same level of every factor aggregated into one binomial cell c, as bayesglmm
does). Writes OUT_DIR/draws.npy (chains x draws x parameters, float64, the
parameters named as bayesglmm names them: "(Intercept)", the model-matrix
columns, "sd(term)") and OUT_DIR/result.json (names, timings, divergences,
versions, cells). ESS and R-hat are not computed here: bench.py does that
the same way for every sampler.
"""
import json
import os
import sys
import time

START = time.perf_counter()


def design(spec):
    """The aggregated design: X (cells x p), fixed names, per-factor level
    indices, level counts, successes and trials per cell."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(spec["data"], dtype=str, keep_default_na=False)
    used = [spec["response"]] + [f["column"] for f in spec["fixed"]] + [c for g in spec["groups"] for c in g["columns"]]
    frame = frame[[c for c in dict.fromkeys(used)]]
    frame = frame[(frame != "NA").all(axis=1) & (frame != "").all(axis=1)]
    y = frame[spec["response"]].astype(float).to_numpy()
    columns, names = [np.ones(len(frame))], ["(Intercept)"]
    for f in spec["fixed"]:
        if f["kind"] == "numeric":
            columns.append(frame[f["column"]].astype(float).to_numpy())
            names.append(f["column"])
        else:
            values = frame[f["column"]].to_numpy()
            # Without a given order, levels sort by code point, as bayesglmm
            # sorts them (byte order, R's C locale).
            levels = f.get("levels") or sorted(set(values))
            for level in levels[1:]:  # treatment contrasts: the first level is the baseline
                columns.append((values == level).astype(float))
                names.append(f["column"] + level)
    X = np.column_stack(columns)
    keys = [frame[g["columns"]].astype(str).agg(":".join, axis=1).to_numpy() for g in spec["groups"]]
    # One binomial cell per distinct (fixed-effect row, level of every factor).
    table = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for k, key in enumerate(keys):
        table[f"g{k}"] = key
    table["y"] = y
    by = [c for c in table.columns if c != "y"]
    cells = table.groupby(by, sort=False, dropna=False)["y"].agg(["sum", "count"]).reset_index()
    Xc = cells[[f"x{j}" for j in range(X.shape[1])]].to_numpy(dtype=float)
    index, counts = [], []
    for k in range(len(keys)):
        codes, uniques = pd.factorize(cells[f"g{k}"], sort=True)
        index.append(codes.astype(np.int32))
        counts.append(len(pd.unique(keys[k])))
        assert len(uniques) == counts[-1]
    return dict(X=Xc, names=names, index=index, levels=counts,
                successes=cells["sum"].to_numpy(dtype=float), trials=cells["count"].to_numpy(dtype=float),
                rows=len(frame))


def fit_numpyro(spec, d):
    chains = spec["chains"]
    # One XLA host device per chain, so that chain_method="parallel" runs the
    # chains at once (on as many cores as there are).
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_force_host_platform_device_count={chains}").strip()
    import jax
    import jax.numpy as jnp
    import numpy as np
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    numpyro.enable_x64()  # double precision, as bayesglmm and PyMC use
    X = jnp.asarray(d["X"][:, 1:])
    index = [jnp.asarray(i) for i in d["index"]]
    succ, trials = jnp.asarray(d["successes"]), jnp.asarray(d["trials"])
    p = X.shape[1]
    terms = [g["term"] for g in spec["groups"]]

    def model():
        alpha = numpyro.sample("alpha", dist.Normal(0.0, 2.5))
        eta = alpha
        if p:
            beta = numpyro.sample("beta", dist.Normal(0.0, 2.5).expand([p]).to_event(1))
            eta = eta + X @ beta
        for k, term in enumerate(terms):
            sd = numpyro.sample(f"sd_{k}", dist.FoldedDistribution(dist.StudentT(3.0, 0.0, 2.5)))
            z = numpyro.sample(f"z_{k}", dist.Normal(0.0, 1.0).expand([d["levels"][k]]).to_event(1))
            eta = eta + sd * z[index[k]]
        numpyro.sample("y", dist.Binomial(total_count=trials, logits=eta), obs=succ)

    mcmc = MCMC(NUTS(model), num_warmup=spec["warmup"], num_samples=spec["draws"], num_chains=chains,
                chain_method=spec.get("numpyro_chain_method", "parallel"), progress_bar=False)
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(spec["seed"]), extra_fields=("diverging",))
    samples = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(samples)
    sampling = time.perf_counter() - t0
    cols = [np.asarray(samples["alpha"])[..., None]]
    if p:
        cols.append(np.asarray(samples["beta"]))
    cols += [np.asarray(samples[f"sd_{k}"])[..., None] for k in range(len(terms))]
    draws = np.concatenate(cols, axis=-1)
    divergences = int(np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"]).sum())
    info = dict(compile_seconds=None, sampling_seconds=sampling, divergences=divergences,
                chain_method=mcmc.chain_method, jax_devices=len(jax.devices()),
                versions=dict(numpyro=numpyro.__version__, jax=jax.__version__),
                note="sampling_seconds includes JAX's tracing and compilation (inside MCMC.run)")
    return draws, info


def fit_nutpie(spec, d):
    import numpy as np
    import nutpie
    import pymc as pm

    X = d["X"][:, 1:]
    p = X.shape[1]
    terms = [g["term"] for g in spec["groups"]]
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0.0, 2.5)
        eta = alpha
        if p:
            beta = pm.Normal("beta", 0.0, 2.5, shape=p)
            eta = eta + pm.math.dot(X, beta)
        for k in range(len(terms)):
            sd = pm.HalfStudentT(f"sd_{k}", nu=3.0, sigma=2.5)
            z = pm.Normal(f"z_{k}", 0.0, 1.0, shape=d["levels"][k])
            eta = eta + sd * z[d["index"][k]]
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
    cols = [post["alpha"].values[..., None]]
    if p:
        cols.append(post["beta"].values)
    cols += [post[f"sd_{k}"].values[..., None] for k in range(len(terms))]
    draws = np.concatenate(cols, axis=-1)
    divergences = int(trace.sample_stats["diverging"].values.sum())
    info = dict(compile_seconds=compile_seconds, sampling_seconds=sampling, divergences=divergences,
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
    names = d["names"] + [f"sd({g['term']})" for g in spec["groups"]]
    assert draws.shape[-1] == len(names), (draws.shape, names)
    np.save(os.path.join(out, "draws.npy"), np.ascontiguousarray(draws, dtype=np.float64))
    info.update(sampler=sampler, names=names, shape=list(draws.shape), rows=d["rows"], cells=len(d["trials"]),
                levels={g["term"]: n for g, n in zip(spec["groups"], d["levels"])},
                total_seconds_in_process=time.perf_counter() - START)
    json.dump(info, open(os.path.join(out, "result.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
