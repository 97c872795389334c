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

.PHONY: install demo test bench lint dbt docs docs-serve serve stop clean

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

test: $(INSTALLED)  ## the whole test suite, against a real PostgreSQL
	$(BIN)/pytest

bench: $(INSTALLED)  ## speed and memory targets (not part of `make test`)
	$(BIN)/python -m benchmarks.run

lint: $(INSTALLED)
	$(BIN)/ruff check orchestration tests benchmarks

dbt: $(INSTALLED)  ## any dbt command against the local database: make dbt ARGS="build --select fct_sensor_hourly+"
	$(BIN)/python -m orchestration.dbt_cli $(ARGS)

docs: $(INSTALLED)  ## generate the dbt docs site
	$(BIN)/python -m orchestration.dbt_cli docs generate

docs-serve: docs  ## serve the dbt docs site on http://127.0.0.1:8080
	$(BIN)/python -m orchestration.dbt_cli docs serve --host 127.0.0.1 --port 8080 --no-browser

serve: $(INSTALLED)  ## local Prefect server + work pool + hourly/daily deployments + a worker
	$(BIN)/smartgrid serve

stop:  ## stop the worker, the local Prefect server and the embedded PostgreSQL
	-$(BIN)/smartgrid stop

clean: stop
	rm -rf $(VENV) .smartgrid dbt_smartgrid/target dbt_smartgrid/logs
