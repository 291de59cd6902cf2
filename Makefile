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

.PHONY: help demo test fmt clippy cargo-test wheel pytest stubtest ctest header header-check bench soak clean

help:
	@echo "make demo   - build and run the main job (see README)"
	@echo "make test   - fmt, clippy, cargo tests, wheel + pytest, C tests under valgrind, header drift"
	@echo "make bench  - benchmarks, each printing its figure beside its baseline"
	@echo "make soak   - the fault soak and the kill -9 soak, longer than in make test, with figures"
	@echo "make header - regenerate $(HEADER) with cbindgen $(CBINDGEN_VERSION)"

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

test: fmt clippy cargo-test pytest ctest header-check
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
	cargo bench --bench client
	cargo bench --bench validate
	PYTHON=$(VPY) cargo bench --bench backup
	PYTHON=$(VPY) cargo bench --bench ingest
	$(VPY) -m pip install --quiet "psycopg[binary]>=3.1"
	PYTHON=$(VPY) cargo bench --bench ingest_pg

clean:
	cargo clean
	rm -rf $(VENV) $(TOOLS) tests/c/build target/wheels
