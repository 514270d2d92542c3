# BayesGLMM — `make demo` and `make test` set up and run everything on a fresh
# Debian machine with Swift 6 installed.

SWIFT ?= swift
APT_PACKAGES := libgsl-dev libsuitesparse-dev pkg-config

.PHONY: deps test tsan build release demo notebooks notebooks-check bench-variates bench-diagnostics bench-model clean \
	bench-shapes bench-slopes \
	fuzz fuzz-short fuzz-build check-log-lik check-jobs

# Install the C libraries if any is missing (needs root, as on CI).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

# Every test, the notebooks' check, chains as jobs (GNU parallel and a Slurm
# job array, merged), a short pass of each fuzzer (20 s) and ThreadSanitizer
# over the run driver.
test: deps
	$(SWIFT) test
	$(MAKE) notebooks-check
	$(MAKE) check-jobs
	$(MAKE) fuzz-short
	$(MAKE) tsan

# The teaching notebooks (notebooks-md/): `notebooks` runs every ```sh block
# with the release build of bayesglmm on PATH and rewrites the output blocks
# and figures; `notebooks-check` runs a copy and fails with a diff when the
# committed outputs are not what the runner produces (notebooks-md/run.sh).
# SWIFT_BUILD_FLAGS passes e.g. --scratch-path to both builds.
SWIFT_BUILD_FLAGS ?=
NOTEBOOK_PATH = $$($(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --show-bin-path):$$PATH

notebooks: deps
	$(SWIFT) build -c release --product bayesglmm $(SWIFT_BUILD_FLAGS)
	PATH="$(NOTEBOOK_PATH)" sh notebooks-md/run.sh

notebooks-check: deps
	$(SWIFT) build -c release --product bayesglmm $(SWIFT_BUILD_FLAGS)
	PATH="$(NOTEBOOK_PATH)" sh notebooks-md/run.sh --check

release: deps
	$(SWIFT) build -c release

# Builds the command, describes the bundled example (simulated with
# `bayesglmm simulate --seed 2026 --beta 0.5`: alpha = -0.5, beta = 0.5,
# sd(client) = 0.8, sd(stylist) = 0.4, sd(client:stylist) = 0.3; every true
# value is in examples/pairings-truth.json), fits it with 4 chains and prints
# the posterior summary of the intercept, the coefficient and the SDs (the fit
# replaces demo-fit/ from an earlier `make demo`: --force).
DEMO_FORMULA := y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)
demo: deps
	$(SWIFT) build -c release --product bayesglmm
	.build/release/bayesglmm describe examples/pairings.csv --formula '$(DEMO_FORMULA)'
	.build/release/bayesglmm fit examples/pairings.csv --formula '$(DEMO_FORMULA)' --out demo-fit --seed 1 --force
	.build/release/bayesglmm summary demo-fit \
	    --variables '(Intercept),x1,sd(client),sd(stylist),sd(client:stylist)'

# ThreadSanitizer over the run driver, its writers and the threads of a
# chain's per-cell draws (ThreadsPerChainTests): the library's tests of
# Run and Chains, and the command tests that run an instrumented bayesglmm
# (interrupts with more chains than threads, failed writes). A race stops the
# instrumented process (halt_on_error) and so fails its test.
tsan: deps
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(SWIFT) test --sanitize=thread --scratch-path .build-tsan \
	    --filter 'RunTests|RunSafetyCommandTests|FitCommandTests|UntilESS|ThreadsPerChainTests'

bench-model: deps
	$(SWIFT) run -c release ModelBenchmarks --rows 1000000

bench-variates: deps
	$(SWIFT) run -c release VariatesBenchmarks

bench-diagnostics: deps
	$(SWIFT) run -c release DiagnosticsBenchmarks

# BayesGLMM against NumPyro NUTS and nutpie over design shapes (seed-shaped
# data at mean y 0.4 to 0.005, a sparse nested design, VerbAgg, guPrenat):
# one table, Validation/shapes/results-<date>.md (Validation/shapes/README.md).
# The Python side goes into .venv-shapes (PyPI); R is needed only to re-export
# guPrenat. BENCH_SHAPES_ARGS passes options, e.g. '--quick --rows verbagg'.
# Roughly an hour on a quiet 2-core machine (2-3 h under load): run it on a quiet one.
BENCH_SHAPES_ARGS ?=
bench-shapes: deps
	@[ -x /usr/bin/time ] || $(MAKE) deps APT_PACKAGES=time
	$(SWIFT) build -c release --product bayesglmm
	sh Validation/shapes/setup.sh
	.venv-shapes/bin/python Validation/shapes/bench.py $(BENCH_SHAPES_ARGS)

# Random slopes (issue 18) against NumPyro, nutpie, rstanarm::stan_glmer and
# glmer on the simulated crossed slope data (Validation/slopes/README.md);
# about 1-1.5 h with stan_glmer (BENCH_SLOPES_ARGS='--samplers
# bayesglmm,numpyro,nutpie,glmer' leaves it out). Writes
# Validation/slopes/results-<date>.md and .json.
BENCH_SLOPES_ARGS ?= --samplers all
bench-slopes: deps
	@[ -x /usr/bin/time ] || $(MAKE) deps APT_PACKAGES=time
	$(SWIFT) build -c release --product bayesglmm
	sh Validation/shapes/setup.sh
	.venv-shapes/bin/python Validation/slopes/bench.py --bayesglmm .build/release/bayesglmm $(BENCH_SLOPES_ARGS)

# libFuzzer (Fuzz/README.md): every Fuzz/Targets/NAME is built with
# AddressSanitizer and libFuzzer's instrumentation in its own scratch path,
# then run from its seed corpus Fuzz/Corpus/NAME with a fixed seed: `fuzz`
# for 10^6 executions each (the figures in Validation/RESULTS.md),
# `fuzz-short` for 20 s each (CI). Both fail when a target crashes, times
# out, leaks or runs out of memory; logs and crashing inputs are kept in
# $(FUZZ_SCRATCH)/fuzz/NAME/.
FUZZ_TARGETS ?= $(notdir $(wildcard Fuzz/Targets/*))
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_RUNS ?= 1000000
FUZZ_SECONDS ?= 20

fuzz-build: deps
	for target in $(FUZZ_TARGETS); do \
	  $(SWIFT) build -c release --scratch-path $(FUZZ_SCRATCH) --product $$target \
	    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING || exit 1; \
	done

fuzz: fuzz-build
	FUZZ_SCRATCH=$(FUZZ_SCRATCH) sh Fuzz/run.sh -runs=$(FUZZ_RUNS) $(FUZZ_TARGETS)

fuzz-short: fuzz-build
	FUZZ_SCRATCH=$(FUZZ_SCRATCH) sh Fuzz/run.sh -max_total_time=$(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The log_lik columns of real chain files read by R's loo (every figure
# against `bayesglmm loo`, 1e-6) and by ArviZ's from_cmdstan (needs R's loo
# and jsonlite; ArviZ from the bench-shapes venv when it exists).
check-log-lik: deps
	$(SWIFT) build -c release --product bayesglmm
	sh Validation/loo/check_log_lik.sh .build/release/bayesglmm

# Chains as jobs (Validation/jobs/, docs/jobs.md): a local 4-chain fit
# against the same chains run by GNU parallel and by a Slurm job array on a
# single-node Slurm started here, each merged; the draws must be byte for
# byte the same. CHECK_JOBS_SLURM: auto (the Slurm part when this machine can
# start Slurm: root, slurm-wlm, munge), require (CI), skip.
CHECK_JOBS_SLURM ?= auto
check-jobs: deps
	@[ "$(CHECK_JOBS_SLURM)" = skip ] || [ "$$(id -u)" != 0 ] || $(MAKE) deps APT_PACKAGES="parallel slurm-wlm munge"
	@command -v parallel >/dev/null || $(MAKE) deps APT_PACKAGES=parallel
	$(SWIFT) build -c release --product bayesglmm $(SWIFT_BUILD_FLAGS)
	sh Validation/jobs/check-jobs.sh --slurm $(CHECK_JOBS_SLURM) \
	    "$$($(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --show-bin-path)/bayesglmm"

clean:
	rm -rf .build
