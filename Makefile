# Tandem: `make demo` builds and shows the demo company, `make test` runs lint and the tests.
# Only Python 3.11+, pip and make are needed: uv is installed with pip when it is missing.
# Bytecode is compiled at install time, so start-up stays fast where PYTHONDONTWRITEBYTECODE is set.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen --no-sync
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

# The PostgreSQL pass of the test suite (these machines run PostgreSQL with trust auth).
# Set TANDEM_TEST_POSTGRES=0 to skip it on a machine without PostgreSQL; it is never skipped silently.
TANDEM_TEST_POSTGRES ?= 1
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

DEMO_DIR ?= demo

# pytest-xdist workers (one per core by default); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
PYTEST := $(RUN) pytest -q -n $(PYTEST_WORKERS)

.PHONY: install install-spark lint format test test-sqlite test-postgres demo bench clean

# `install` leaves optional extras that are already there (--inexact); the tests also need the
# Spark extra (pyspark, ~450 MB), which `make demo` does not.
install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --root-user-action=ignore uv
	@$(UV) sync --frozen --quiet --compile-bytecode --inexact
	@$(RUN) python -m compileall -q src

install-spark: install
	@$(UV) sync --frozen --quiet --extra spark

lint: install-spark
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks
	$(RUN) mypy

format: install
	$(RUN) ruff format src tests benchmarks
	$(RUN) ruff check --fix src tests benchmarks

test-sqlite: install-spark
	$(PYTEST)

test-postgres: install-spark
	TANDEM_TEST_DATABASE_URL=$(POSTGRES_URL) $(PYTEST)

test: lint test-sqlite
ifeq ($(TANDEM_TEST_POSTGRES),0)
	@echo "PostgreSQL pass skipped (TANDEM_TEST_POSTGRES=0)"
else
	$(MAKE) --no-print-directory test-postgres
endif

demo: install
	$(RUN) tandem demo --dir $(DEMO_DIR) --force

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(RUN) python $$script || exit 1; done

# GrowthBook's stats engine (gbstats 0.8.0; it needs pandas < 2) in its own venv, apart from
# Tandem's dependencies: regenerates the reference numbers tests/campaigns/test_stats.py checks.
GBSTATS_VENV ?= .gbstats-venv
.PHONY: gbstats-reference
gbstats-reference:
	@test -x $(GBSTATS_VENV)/bin/python || $(PYTHON) -m venv $(GBSTATS_VENV)
	@$(GBSTATS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'gbstats==0.8.0' 'pandas<2'
	$(GBSTATS_VENV)/bin/python benchmarks/gbstats_reference.py --out tests/campaigns/data/gbstats_reference.json

# scikit-uplift (sklift 0.5.1) in its own venv, on Tandem's numpy and scikit-learn (sklift uses
# sklearn's stable_cumsum, deprecated in 1.8): regenerates the Qini reference numbers that
# tests/campaigns/test_uplift.py checks.
SKLIFT_VENV ?= .sklift-venv
.PHONY: sklift-reference
sklift-reference:
	@test -x $(SKLIFT_VENV)/bin/python || $(PYTHON) -m venv $(SKLIFT_VENV)
	@$(SKLIFT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'scikit-uplift==0.5.1' 'scikit-learn==1.9.1' 'numpy==2.4.6' 'pandas==2.3.3'
	$(SKLIFT_VENV)/bin/python -W ignore::FutureWarning benchmarks/sklift_reference.py --out tests/campaigns/data/sklift_reference.json

clean:
	rm -rf .venv .gbstats-venv .sklift-venv .pytest_cache .mypy_cache .ruff_cache $(DEMO_DIR)
