# magflow-emag: `make demo` runs the main job, `make test` runs every check.
# Both do all of their own set-up on a fresh machine (Rust toolchain, gcc, CPython 3.9+ with pip).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
TOOLS := .tools
CBINDGEN_VERSION := 0.29.2
CBINDGEN := $(TOOLS)/bin/cbindgen
CARGO_TARGET_DIR ?= $(CURDIR)/target
LIBDIR := $(CARGO_TARGET_DIR)/debug
CFLAGS := -std=c11 -Wall -Wextra -Werror -g -Iinclude
C_TESTS := $(patsubst tests/c/%.c,tests/c/build/%,$(wildcard tests/c/*.c))
HEADER := include/magflow_emag.h
# A finished venv is marked by this file, so an interrupted set-up is redone.
VENV_STAMP := $(VENV)/.ready

.PHONY: help demo test test-checks fmt clippy cargo-test doc wheel pytest stubtest ctest header header-check status bench soak clean \
	dist install package-check

# ---- packaging (make dist, make install) -----------------------------------------------------
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
ABI := $(shell sed -n 's/^pub const MF_ABI_VERSION: u32 = \([0-9]*\);$$/\1/p' bindings/c/src/lib.rs)
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_LIB := $(DESTDIR)$(PREFIX)/lib
RELEASEDIR := $(CARGO_TARGET_DIR)/release
# What `rustc --print native-static-libs` lists for the static library on Linux (the static
# link in `make package-check` fails if this is incomplete).
LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl
# Features of the installed C library: empty, or `simulator` (the mf_simulator_* entry points;
# the pkg-config Cflags then define MF_SIMULATOR, which the header's declarations need).
C_FEATURES ?=
C_CFLAGS := $(if $(filter simulator,$(C_FEATURES)),-DMF_SIMULATOR)

help:
	@echo "make demo   - build and run the main job (see README)"
	@echo "make test   - fmt, clippy, cargo tests, wheel + pytest, C tests under valgrind, header drift"
	@echo "make bench  - benchmarks, each printing its figure beside its baseline"
	@echo "make soak   - the fault soak and the kill -9 soak, longer than in make test, with figures"
	@echo "make header - regenerate $(HEADER) with cbindgen $(CBINDGEN_VERSION)"
	@echo "make status - regenerate the C status enum and the docs' error table from the core"
	@echo "make dist   - release abi3 wheel (manylinux_2_17) and sdist into dist/"
	@echo "make install PREFIX=/usr/local [C_FEATURES=simulator] - the C library, header and pkg-config file"
	@echo "make package-check - dist + install checked from outside the repository (slow; CI)"

$(VENV_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(CBINDGEN):
	cargo install --quiet --locked --root $(TOOLS) cbindgen --version $(CBINDGEN_VERSION)

# ---- the two entry points ------------------------------------------------------------------

demo: wheel
	$(VENV)/bin/magflow-emag demo

# One throwaway PostgreSQL cluster for the whole run (when MF_TEST_POSTGRES_URL is unset).
test:
	scripts/with-pg.sh $(MAKE) --no-print-directory test-checks

test-checks: fmt clippy cargo-test doc pytest ctest header-check
	@echo "make test: all checks passed"

# ---- checks --------------------------------------------------------------------------------

fmt:
	cargo fmt --all -- --check

# The workspace (the core with the simulator, the C library without), then the two other
# builds users get: the core alone (no simulator) and the C library with it.
clippy:
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo clippy -p magflow-emag --lib --quiet -- -D warnings
	cargo clippy -p magflow-emag-c --features simulator --quiet -- -D warnings

# The PostgreSQL store's tests need a server: with MF_TEST_POSTGRES_URL unset and the server
# binaries installed, a throwaway cluster is started for the run (scripts/pg-test-cluster.sh).
cargo-test:
	scripts/with-pg.sh cargo test --workspace --exclude magflow-emag-python

# The sync under random faults while orders change, and under repeated SIGKILLs: `make test`
# runs both small (tests/processes.rs); this runs them longer and prints the figures
# (trials, faults, kills, lost, duplicated, stale, unacknowledged).
SOAK_TRIALS ?= 12
SOAK_ORDERS ?= 1500
SOAK_RUNS ?= 6
SOAK_KILLS ?= 12
SOAK_KILL_ORDERS ?= 4000
soak:
	MF_SOAK_TRIALS=$(SOAK_TRIALS) MF_SOAK_ORDERS=$(SOAK_ORDERS) MF_SOAK_RUNS=$(SOAK_RUNS) \
	MF_SOAK_KILLS=$(SOAK_KILLS) MF_SOAK_KILL_ORDERS=$(SOAK_KILL_ORDERS) \
	  cargo test --quiet --test processes soak -- --nocapture --test-threads=1 2>&1 | grep -E "soak:|test result|panicked|FAILED"
doc:
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

wheel: $(VENV_STAMP)
	rm -rf target/wheels
	$(VENV)/bin/maturin build --quiet --features probes --out target/wheels
	$(VPY) -m pip install --quiet --force-reinstall --no-deps target/wheels/*.whl

pytest: wheel stubtest
	scripts/with-pg.sh $(VPY) -m pytest -q tests/python

stubtest: wheel
	$(VPY) -m mypy.stubtest magflow_emag._native

# The project's own C tests use the simulator: the library is built with it, and the header's
# mf_simulator_* declarations are turned on with MF_SIMULATOR.
tests/c/build/%: tests/c/%.c $(wildcard tests/c/*.h) $(HEADER) FORCE
	@mkdir -p tests/c/build
	$(CC) $(CFLAGS) -DMF_SIMULATOR $< -L$(LIBDIR) -lmagflow_emag -Wl,-rpath,$(LIBDIR) -lpthread -ldl -lm -o $@

FORCE:

ctest:
	cargo build --quiet -p magflow-emag-c --features simulator
	@# The library's SONAME is libmagflow_emag.so.0: the name the tests load at run time.
	ln -sf libmagflow_emag.so $(LIBDIR)/libmagflow_emag.so.0
	$(MAKE) --no-print-directory $(C_TESTS)
	@# test_store_pg needs a server (scripts/with-pg.sh, as cargo-test and pytest).
	scripts/with-pg.sh bash -c 'set -e; \
	  for t in $(C_TESTS); do echo "== $$t"; ./$$t; done; \
	  for t in $(C_TESTS); do echo "== valgrind $$t"; \
	    valgrind --quiet --suppressions=tests/c/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect,possible \
	      --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 ./$$t >/dev/null; done'
	@echo "C tests: clean under valgrind"

# The C status enum (bindings/c/src/status.rs) and the docs' table, from the core's table of
# error kinds (`error_kinds!` in src/error.rs); `make test` fails when either differs.
status:
	MF_REGENERATE=1 cargo test --quiet -p magflow-emag-c --test status
	MF_REGENERATE=1 cargo test --quiet -p magflow-emag --lib error::tests

header: $(CBINDGEN)
	$(CBINDGEN) --quiet --config bindings/c/cbindgen.toml --crate magflow-emag-c --output $(HEADER) bindings/c

header-check: $(CBINDGEN)
	@tmp=$$(mktemp); $(CBINDGEN) --quiet --config bindings/c/cbindgen.toml --crate magflow-emag-c --output $$tmp bindings/c; \
	if ! diff -u $(HEADER) $$tmp; then rm -f $$tmp; \
	  echo "ERROR: $(HEADER) differs from what cbindgen generates from bindings/c. Run 'make header' and commit it."; exit 1; fi; \
	rm -f $$tmp; echo "header: $(HEADER) matches the code"

# Benchmarks run against optimised builds: the Python figures need a release wheel.
bench: wheel
	cargo bench --bench ratelimit
	cargo bench --bench ratelimit_sim
	$(VENV)/bin/maturin build --release --quiet --features probes --out target/wheels-release
	$(VPY) -m pip install --quiet --force-reinstall --no-deps target/wheels-release/*.whl
	$(VPY) benches/ratelimit_py.py
	$(VPY) benches/client_py.py
	$(VPY) benches/validate_py.py
	cargo bench --quiet -p magflow-emag --bench monitor
	cargo bench --bench sim_throughput
	STORE=both cargo bench --bench sync_e2e
	cargo bench --bench callbacks_e2e
	cargo bench --bench client
	cargo bench --bench validate
	cargo bench --bench models
	PYTHON=$(VPY) cargo bench --bench backup
	PYTHON=$(VPY) cargo bench --bench ingest
	$(VPY) -m pip install --quiet "psycopg[binary]>=3.1"
	PYTHON=$(VPY) cargo bench --bench ingest_pg

# ---- packaging -------------------------------------------------------------------------------

# A release abi3 wheel for glibc 2.17+ (zig as the linker, from the ziglang wheel on PyPI;
# maturin checks the symbols against the manylinux2014 policy) and the sdist.
dist: $(VENV_STAMP)
	$(VPY) -m pip install --quiet -r requirements-dist.txt
	rm -rf dist
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/maturin build --quiet --release --strip \
	  --zig --compatibility manylinux2014 --out dist
	$(VENV)/bin/maturin sdist --out dist
	@ls -l dist

# The C library: header, libmagflow_emag.so.$(VERSION) (SONAME libmagflow_emag.so.$(ABI)) and
# its links, libmagflow_emag.a, lib/pkgconfig/magflow-emag.pc, and the valgrind suppressions.
install:
	cargo build --quiet --release -p magflow-emag-c $(if $(C_FEATURES),--features "$(C_FEATURES)")
	install -d $(DESTDIR)$(PREFIX)/include $(INSTALL_LIB)/pkgconfig $(DESTDIR)$(PREFIX)/share/magflow-emag
	install -m 644 $(HEADER) $(DESTDIR)$(PREFIX)/include/magflow_emag.h
	install -m 755 $(RELEASEDIR)/libmagflow_emag.so $(INSTALL_LIB)/libmagflow_emag.so.$(VERSION)
	ln -sfn libmagflow_emag.so.$(VERSION) $(INSTALL_LIB)/libmagflow_emag.so.$(ABI)
	ln -sfn libmagflow_emag.so.$(ABI) $(INSTALL_LIB)/libmagflow_emag.so
	install -m 644 $(RELEASEDIR)/libmagflow_emag.a $(INSTALL_LIB)/libmagflow_emag.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	  -e 's|@CFLAGS@|$(C_CFLAGS)|' \
	  bindings/c/magflow-emag.pc.in > $(INSTALL_LIB)/pkgconfig/magflow-emag.pc
	install -m 644 tests/c/valgrind.supp $(DESTDIR)$(PREFIX)/share/magflow-emag/valgrind.supp
	@echo "installed magflow-emag $(VERSION) (ABI $(ABI)) into $(DESTDIR)$(PREFIX)"

# Slow (two release builds): CI runs it once after `make test`. The C example runs against
# the simulator, so the C library is installed with it.
package-check:
	C_FEATURES=simulator bash tests/packaging/check.sh

clean:
	cargo clean
	rm -rf $(VENV) $(TOOLS) tests/c/build target/wheels dist
