# Thresher — the two commands a new user needs: `make demo` and `make test`.
# Both install the missing system packages first (Debian/Ubuntu, via apt-get).

SWIFT        ?= swift
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SCENARIO     ?= Scenarios/default.yaml
BIN          := .build/release/thresher

.PHONY: deps build demo test bench clean

## deps: install the system libraries (OpenBLAS, LAPACKE, pkg-config) when any is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## build: optimised build of the `thresher` command (and `thresher-bench`), the Swift runtime
## linked statically: no dynamic symbol binding of Foundation at start-up (≈ 10 ms less per run).
## A toolchain without the static runtime gets the ordinary dynamic build.
build: deps
	$(SWIFT) build -c release --static-swift-stdlib --product thresher || $(SWIFT) build -c release --product thresher
	$(SWIFT) build -c release --static-swift-stdlib --product thresher-bench || $(SWIFT) build -c release --product thresher-bench

## demo: build, then run the default scenario end to end.
demo: build
	$(BIN) run $(SCENARIO)

## test: the whole test suite (release mode: the statistical tests draw hundreds of thousands of paths).
test: deps
	$(SWIFT) build -c release -Xswiftc -enable-testing --build-tests
	$(SWIFT) test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing

## bench: the performance comparison table (see Benchmarks/README.md).
bench: build
	Benchmarks/run.sh

clean:
	rm -rf .build
