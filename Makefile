# Thresher — the two commands a new user needs: `make demo` and `make test`.
# Both install the missing system packages first (Debian/Ubuntu, via apt-get).

SWIFT        ?= swift
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config zlib1g-dev libsqlite3-dev
MPI_PACKAGES := libopenmpi-dev openmpi-bin
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SCENARIO     ?= Scenarios/default.yaml
BIN          := .build/release/thresher
PREFIX       ?= /usr/local

## Release tuning, passed on the command line so that no target of Package.swift carries unsafe
## flags (a package that depends on ThresherCore builds it with its own flags): the C kernels at -O3,
## and on x86-64 code for AVX2/FMA CPUs (Haswell, 2013, and later; AMD Zen) in the Swift code and
## the C kernels. `THRESHER_TARGET_CPU=x86-64 make …` builds for any x86-64 CPU instead. The C
## kernels carry their AVX2/FMA variant in every x86-64 build and choose it at start-up
## (CKernels/Dispatch.c), so a plain `swift build -c release` (`make portable`) is nearly as fast.
## No -Ounchecked / -enforce-exclusivity=unchecked: they bought 1-2 % (W2, W3, calibrate; issue 28,
## Benchmarks/README.md) for every precondition and bounds check of every module, so those stay.
ARCH         := $(shell uname -m)
THRESHER_TARGET_CPU ?= haswell
TUNING       := -Xcc -O3
ifeq ($(ARCH),x86_64)
TUNING       += -Xswiftc -target-cpu -Xswiftc $(THRESHER_TARGET_CPU) -Xcc -march=$(THRESHER_TARGET_CPU)
endif

.PHONY: deps deps-mpi deps-browser deps-postgres commit-stamp build portable mpi demo test test-aarch64 test-slurm fuzz workloads bench bench-serve install clean

## deps: install the system libraries (OpenBLAS, LAPACKE, zlib, SQLite for the results store, pkg-config) when any is missing;
## deps-mpi: the same plus Open MPI (for `make mpi` and `make test`).
deps deps-mpi:
	@missing=""; for p in $(APT_PACKAGES) $(if $(filter deps-mpi,$@),$(MPI_PACKAGES)); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## deps-browser: headless Chromium for the HTML reports' browser test (BrowserTests) and, with Debian's
## chromium-driver and Selenium from PyPI, for the `thresher serve` page's (ServeTests); a machine where
## they cannot be installed still runs `make test`, and those tests say they were skipped.
deps-browser:
	@missing=""; for p in chromium chromium-driver; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "Installing:$$missing (BrowserTests, ServeTests)"; \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing) \
	  || echo "$$missing could not be installed: the browser tests will be skipped"; fi
	@python3 -c 'import selenium' 2>/dev/null || { echo "Installing: selenium (PyPI, ServeTests)"; \
	  python3 -m pip install --quiet selenium || python3 -m pip install --quiet --user selenium \
	  || echo "selenium could not be installed: the page's browser test will be skipped"; }

## deps-postgres: Debian's PostgreSQL server, which the results store's tests (PostgresStoreTests)
## start in a temporary folder (initdb, pg_ctl on a Unix socket) and stop; a machine where it cannot
## be installed still runs `make test`, and those tests say they were skipped.
deps-postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "Installing: postgresql (PostgresStoreTests)"; \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql) \
	  || echo "postgresql could not be installed: PostgresStoreTests will be skipped"; }

## The commit is compiled into every build below (reports and --version name it): a header,
## .build-commit/thresher_commit.h, rewritten only when the commit changes, and included by
## Sources/BuildStamp (a C target only the `thresher` executable links) when `-Xcc -I.build-commit`
## is given — so a new commit recompiles one C file and relinks, and a plain `swift build` (no -I)
## says "unknown".
COMMIT       := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo +modified)
STAMP        := -Xcc -I$(CURDIR)/.build-commit
RELEASE      := $(TUNING) $(STAMP)

## Each build has its own folder, so none replaces another's binary:
##   .build/release/thresher       make build, demo, install, test-slurm (the README's $$B; no MPI)
##   .build-mpi/release/thresher   make mpi (--traits MPI, for mpirun)
##   .build-test/…                 make test (MPI, -enable-testing; its tests run the thresher beside them)
##   .build-portable/…             make portable

commit-stamp:
	@mkdir -p .build-commit; printf '#define THRESHER_COMMIT "%s"\n' "$(COMMIT)" > .build-commit/thresher_commit.h.new; \
	if cmp -s .build-commit/thresher_commit.h.new .build-commit/thresher_commit.h; then rm .build-commit/thresher_commit.h.new; \
	else mv .build-commit/thresher_commit.h.new .build-commit/thresher_commit.h; fi

## build: optimised build of the `thresher` command (and `thresher-bench`), the Swift runtime
## linked statically: no dynamic symbol binding of Foundation at start-up (≈ 10 ms less per run).
## A toolchain without the static runtime gets the ordinary dynamic build.
build: deps commit-stamp
	$(SWIFT) build -c release $(RELEASE) --static-swift-stdlib --product thresher || $(SWIFT) build -c release $(RELEASE) --product thresher
	$(SWIFT) build -c release $(RELEASE) --static-swift-stdlib --product thresher-bench || $(SWIFT) build -c release $(RELEASE) --product thresher-bench

## portable: `thresher` as a package that depends on ThresherCore builds it, plain
## `swift build -c release` (no tuning flags; only the commit stamp's include path), in
## .build-portable (make bench times it beside `make build`'s).
portable: deps commit-stamp
	$(SWIFT) build -c release $(STAMP) --build-path .build-portable --product thresher

## mpi: `thresher` that runs under mpirun (`mpirun -np 4 .build-mpi/release/thresher run FILE`), in
## its own folder: the ranks split the paths and rank 0 writes the report (README, "Clusters").
mpi: deps-mpi commit-stamp
	$(SWIFT) build -c release $(RELEASE) --build-path .build-mpi --traits MPI --product thresher

## demo: build, then run the default scenario end to end.
demo: build
	$(BIN) run $(SCENARIO)

## test: the whole test suite (release mode: the statistical tests draw hundreds of thousands of paths),
## built with MPI so that the cluster tests run `thresher` under mpirun at 1, 2 and 4 ranks; in
## .build-test, so that the README's .build/release/thresher stays `make build`'s.
TEST_FLAGS   := -c release $(RELEASE) -Xswiftc -enable-testing --traits MPI --build-path .build-test
test: deps-mpi deps-browser deps-postgres commit-stamp
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	THRESHER_REQUIRE_MPI=1 THRESHER_EXPECT_COMMIT="$(COMMIT)" $(SWIFT) test $(TEST_FLAGS) --skip-build --disable-swift-testing

## test-aarch64: the C kernels cross-compiled for aarch64 (clang, Debian's aarch64 sysroot) and their
## known-answer tests run under qemu-aarch64 (Tests/CrossArch/run.sh); installs the cross
## toolchain and qemu-user when missing.
test-aarch64:
	@missing=""; for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	Tests/CrossArch/run.sh

## test-slurm: a one-node Slurm cluster (slurmctld, slurmd, munge from Debian) runs an 8-task job
## array of `thresher run` and a dependent merge job; the merged report must equal a single run's.
test-slurm: build
	Scenarios/cluster/test-slurm.sh

## fuzz: the mutation fuzzer of HostileInputTests at 100,000 mutants (make test runs 1,000).
fuzz: deps-mpi commit-stamp
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	THRESHER_FUZZ_CASES=100000 $(SWIFT) test $(TEST_FLAGS) --skip-build --disable-swift-testing --filter HostileInputTests

## workloads: the generated inputs of the benchmark scenarios (W4's CSV book, Scenarios/bench/w4-*.csv,
## 9 MB, not in git; `portfolio.generated_by` names this when they are missing).
workloads:
	python3 Benchmarks/generate_workloads.py

## bench: the performance comparison table (see Benchmarks/README.md), the portable build's W2 beside.
bench: build portable
	Benchmarks/run.sh

## bench-serve: `thresher serve`'s what-if latency on W4 under 8 concurrent wrk clients, and a Monte Carlo
## what-if job (Benchmarks/serve/run.sh); installs wrk (Debian) when missing.
bench-serve: build
	@dpkg -s wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk curl bc; }
	@[ -f Scenarios/bench/w4-positions.csv ] || python3 Benchmarks/generate_workloads.py
	Benchmarks/serve/run.sh

## install: the release binary to $(PREFIX)/bin and the stress libraries to $(PREFIX)/share/thresher/stress,
## where an installed `thresher` finds them (`make install PREFIX=$$HOME/.local`).
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/thresher/stress
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/thresher
	install -m 644 Scenarios/stress/*.yaml $(DESTDIR)$(PREFIX)/share/thresher/stress/

clean:
	rm -rf .build .build-portable .build-mpi .build-test .build-commit
