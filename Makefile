# Every target with a "## comment" is listed by `make help`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv services run test lint format clean bench bench-quick bench-tpch bench-tpch-quick

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install chronolake (editable) with its dev tools
	@:

# Re-installs only when pyproject.toml changes, so `make test` stays fast.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "chronolake needs Python >= 3.11 ($(PYTHON) is older); try: make PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# The tests start their own PostgreSQL server (tests/services/postgres.py) from the machine's
# binaries; Debian's package provides them. Nothing is started or configured here.
services: ## Install what the tests' own services need (PostgreSQL's binaries; root on Debian)
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		|| if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
		else echo "PostgreSQL is not installed: its tests are skipped (as root: make services)"; fi

run: venv ## Run the time-travel demo (recreates ./demo-lake)
	$(BIN)/python -m chronolake.demo

test: venv services ## Run the whole test suite (SQLite; PostgreSQL and SeaweedFS (S3) started by the tests)
	$(BIN)/python -m pytest -q

lint: venv ## ruff check, ruff format --check and mypy
	$(BIN)/ruff check chronolake tests bench
	$(BIN)/ruff format --check chronolake tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench

bench: venv ## Benchmarks W1-W3 at full scale (docs/benchmarks.md); `pip install -e '.[bench]'` adds delta-rs
	$(BIN)/python -m bench --scale full

bench-quick: venv ## Benchmarks at small scale (< 2 min); fails only on a wrong answer, never on times
	$(BIN)/python -m bench --scale quick

bench-tpch: venv ## TPC-H SF 1 vs plain DuckDB, both states (docs/benchmarks.md); data cached in .cache/tpch
	$(BIN)/python -m bench.tpch --scale full

bench-tpch-quick: venv ## TPC-H SF 0.05 smoke test: fails only on a wrong or failed answer, never on times
	$(BIN)/python -m bench.tpch --scale quick

format: venv ## Format the code and apply ruff's safe fixes
	$(BIN)/ruff format chronolake tests bench
	$(BIN)/ruff check --fix chronolake tests bench

clean: ## Remove the demo lake, caches and build output (keeps .venv)
	rm -rf demo-lake build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
