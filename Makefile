# BayesGLMM — `make demo` and `make test` set up and run everything on a fresh
# Debian machine with Swift 6 installed.

SWIFT ?= swift
APT_PACKAGES := libgsl-dev libsuitesparse-dev pkg-config

.PHONY: deps test build release bench-variates bench-diagnostics clean

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

bench-variates: deps
	$(SWIFT) run -c release VariatesBenchmarks

bench-diagnostics: deps
	$(SWIFT) run -c release DiagnosticsBenchmarks

clean:
	rm -rf .build
