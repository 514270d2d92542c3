# BayesGLMM — `make demo` and `make test` set up and run everything on a fresh
# Debian machine with Swift 6 installed.

SWIFT ?= swift
APT_PACKAGES := libgsl-dev libsuitesparse-dev pkg-config

.PHONY: deps test build release demo bench-variates bench-diagnostics bench-model clean

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

test: deps
	$(SWIFT) test

release: deps
	$(SWIFT) build -c release

# Builds the command and shows what the model makes of the bundled example
# (simulated with `bayesglmm simulate --seed 2026 --beta 0.5`; its true
# parameters are in examples/pairings-truth.json). Fitting arrives with the
# sampler (issue 5).
demo: deps
	$(SWIFT) build -c release --product bayesglmm
	.build/release/bayesglmm describe examples/pairings.csv \
	    --formula 'y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)'

bench-model: deps
	$(SWIFT) run -c release ModelBenchmarks --rows 1000000

bench-variates: deps
	$(SWIFT) run -c release VariatesBenchmarks

bench-diagnostics: deps
	$(SWIFT) run -c release DiagnosticsBenchmarks

clean:
	rm -rf .build
