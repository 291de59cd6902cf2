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

.PHONY: help demo test fmt clippy cargo-test doc wheel pytest stubtest ctest header header-check bench soak clean \
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

help:
	@echo "make demo   - build and run the main job (see README)"
	@echo "make test   - fmt, clippy, cargo tests, wheel + pytest, C tests under valgrind, header drift"
	@echo "make bench  - benchmarks, each printing its figure beside its baseline"
	@echo "make soak   - the fault soak and the kill -9 soak, longer than in make test, with figures"
	@echo "make header - regenerate $(HEADER) with cbindgen $(CBINDGEN_VERSION)"
	@echo "make dist   - release abi3 wheel (manylinux_2_17) and sdist into dist/"
	@echo "make install PREFIX=/usr/local - the C library, header and pkg-config file"
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

test: fmt clippy cargo-test doc pytest ctest header-check
	@echo "make test: all checks passed"

# ---- checks --------------------------------------------------------------------------------

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --quiet -- -D warnings

# The PostgreSQL store's tests need a server: with MF_TEST_POSTGRES_URL unset and the server
# binaries installed, a throwaway cluster is started for the run (scripts/pg-test-cluster.sh).
cargo-test:
	@if [ -z "$${MF_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  export MF_PG_DIR=$$(mktemp -d /tmp/magflow-pg.XXXXXX); \
	  trap 'scripts/pg-test-cluster.sh stop' EXIT; \
	  scripts/pg-test-cluster.sh start; \
	  export MF_TEST_POSTGRES_URL=$$(scripts/pg-test-cluster.sh url); \
	  cargo test --workspace --exclude magflow-emag-python; \
	else \
	  cargo test --workspace --exclude magflow-emag-python; \
	fi

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
	$(VENV)/bin/maturin build --quiet --out target/wheels
	$(VPY) -m pip install --quiet --force-reinstall --no-deps target/wheels/*.whl

pytest: wheel stubtest
	$(VPY) -m pytest -q tests/python

stubtest: wheel
	$(VPY) -m mypy.stubtest magflow_emag._native --ignore-missing-stub

tests/c/build/%: tests/c/%.c $(HEADER) FORCE
	@mkdir -p tests/c/build
	$(CC) $(CFLAGS) $< -L$(LIBDIR) -lmagflow_emag -Wl,-rpath,$(LIBDIR) -lpthread -ldl -lm -o $@

FORCE:

ctest:
	cargo build --quiet -p magflow-emag-c
	@# The library's SONAME is libmagflow_emag.so.0: the name the tests load at run time.
	ln -sf libmagflow_emag.so $(LIBDIR)/libmagflow_emag.so.0
	$(MAKE) --no-print-directory $(C_TESTS)
	@for t in $(C_TESTS); do echo "== $$t"; ./$$t; done
	@for t in $(C_TESTS); do echo "== valgrind $$t"; \
	  valgrind --quiet --suppressions=tests/c/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 ./$$t >/dev/null; done
	@echo "C tests: clean under valgrind"

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
	$(VENV)/bin/maturin build --release --quiet --out target/wheels-release
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
	cargo build --quiet --release -p magflow-emag-c
	install -d $(DESTDIR)$(PREFIX)/include $(INSTALL_LIB)/pkgconfig $(DESTDIR)$(PREFIX)/share/magflow-emag
	install -m 644 $(HEADER) $(DESTDIR)$(PREFIX)/include/magflow_emag.h
	install -m 755 $(RELEASEDIR)/libmagflow_emag.so $(INSTALL_LIB)/libmagflow_emag.so.$(VERSION)
	ln -sfn libmagflow_emag.so.$(VERSION) $(INSTALL_LIB)/libmagflow_emag.so.$(ABI)
	ln -sfn libmagflow_emag.so.$(ABI) $(INSTALL_LIB)/libmagflow_emag.so
	install -m 644 $(RELEASEDIR)/libmagflow_emag.a $(INSTALL_LIB)/libmagflow_emag.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	  bindings/c/magflow-emag.pc.in > $(INSTALL_LIB)/pkgconfig/magflow-emag.pc
	install -m 644 tests/c/valgrind.supp $(DESTDIR)$(PREFIX)/share/magflow-emag/valgrind.supp
	@echo "installed magflow-emag $(VERSION) (ABI $(ABI)) into $(DESTDIR)$(PREFIX)"

# Slow (two release builds): CI runs it once after `make test`.
package-check:
	bash tests/packaging/check.sh

clean:
	cargo clean
	rm -rf $(VENV) $(TOOLS) tests/c/build target/wheels dist
