# smartgrid ELT. Two commands: `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PGTZ := UTC

DOCS_PORT ?= 8080
DBT := $(BIN)/smartgrid dbt

.PHONY: help gx-docs install demo test test-long bench lint dbt unit-test tests-for compare-save compare compare-incremental docs docs-serve docs-check serve stop clean

help:  ## this list of targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | \
		awk -F'\t' '{ printf "  make %-20s %s\n", $$1, $$2 }'

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=/path/to/python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED)  ## create .venv and install the pinned dependencies

demo: $(INSTALLED)  ## simulate the last 24 complete UTC hours and run the flow over them
	$(BIN)/smartgrid db start
	$(BIN)/smartgrid demo

# make test's processes (tests/parallel.py): 2, each with an embedded PostgreSQL of its own; 1 (plain pytest) when
# POSTGRES_HOST or SOURCE_POSTGRES_HOST names a server the processes would share
TEST_WORKERS ?= $(if $(POSTGRES_HOST)$(SOURCE_POSTGRES_HOST),1,2)

test: $(INSTALLED)  ## the whole test suite, against a real PostgreSQL (in TEST_WORKERS=2 processes)
	$(BIN)/pytest $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test-long: $(INSTALLED)  ## the property tests with many more examples (HYPOTHESIS_PROFILE=long), not in CI
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/test_properties.py

bench: $(INSTALLED)  ## speed and memory at a utility's size, against targets (~1 h; ARGS="--only season", ARGS=--quick)
	$(BIN)/python -m benchmarks.run $(ARGS)

lint: $(INSTALLED)  ## ruff on the Python, sqlfluff on the dbt SQL (dbt_smartgrid/.sqlfluff); starts the local database
	$(BIN)/ruff check orchestration tests benchmarks
	$(BIN)/smartgrid sqlfluff lint

.PHONY: report
report: $(INSTALLED)  ## the grid report, one HTML file: make report ARGS="--start 2026-11-01 --end 2026-11-08"
	$(BIN)/smartgrid report $(ARGS)

dbt: $(INSTALLED)  ## any dbt command against the local database: make dbt ARGS="build --select fct_sensor_hourly+"
	$(DBT) $(ARGS)

# --- the edit loop (docs/edit-a-model.md); MODEL is a model name, e.g. MODEL=fct_sensor_hourly ----------
unit-test: $(INSTALLED)  ## only the dbt unit tests (their input models must exist: run make demo once)
	$(DBT) test --select "test_type:unit"

tests-for: $(INSTALLED)  ## the data and unit tests that cover MODEL (MODEL=fct_sensor_hourly+ adds its children's)
	@test -n "$(MODEL)" || { echo 'usage: make tests-for MODEL=<model name>'; exit 2; }
	@$(DBT) ls --quiet --select "$(MODEL)" --resource-type test --resource-type unit_test --output name

compare-save: $(INSTALLED)  ## keep a copy of MODEL's rows (in schema compare) before you change the model
	@test -n "$(MODEL)" || { echo 'usage: make compare-save MODEL=<model name>'; exit 2; }
	$(DBT) run-operation save_for_compare --args "{model_name: $(MODEL)}"

compare: $(INSTALLED)  ## after rebuilding MODEL: the rows and values that differ from the saved copy
	@test -n "$(MODEL)" || { echo 'usage: make compare MODEL=<model name>'; exit 2; }
	$(DBT) run-operation compare_with_saved --args "{model_name: $(MODEL)}"

compare-incremental: $(INSTALLED)  ## build MODEL in full, then run its incremental path over the latest load: what differs
	@test -n "$(MODEL)" || { echo 'usage: make compare-incremental MODEL=<model name>'; exit 2; }
	$(DBT) build --select $(MODEL) --full-refresh
	$(DBT) run-operation save_for_compare --args "{model_name: $(MODEL)}"
	$(DBT) run --select $(MODEL) --vars "{incremental_since: latest_load}"
	$(DBT) run-operation compare_with_saved --args "{model_name: $(MODEL)}"

# --- docs and lineage ------------------------------------------------------------------------------------
docs: $(INSTALLED)  ## the dbt docs site, offline: dbt_smartgrid/target/index.html and static_index.html (no server)
	$(BIN)/smartgrid docs generate

docs-serve: docs  ## serve the dbt docs site on http://127.0.0.1:8080 (DOCS_PORT=...)
	$(DBT) docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

gx-docs: $(INSTALLED)  ## the Great Expectations data docs over every stored checkpoint result (gx/uncommitted/data_docs)
	$(BIN)/smartgrid gx docs

docs-check: docs  ## open the lineage page in headless Chromium: both sources and the three marts drawn, no CDN
	$(BIN)/smartgrid docs check

serve: $(INSTALLED)  ## local Prefect server + work pool + hourly/daily deployments + a worker
	$(BIN)/smartgrid serve

stop:  ## stop the worker, the local Prefect server and the embedded PostgreSQL
	-$(BIN)/smartgrid stop

clean: stop  ## stop everything, then remove .venv, .smartgrid/ and dbt's target/ and logs/
	rm -rf $(VENV) .smartgrid dbt_smartgrid/target dbt_smartgrid/logs
