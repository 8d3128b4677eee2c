# gpuscout: `make scan` (set up, scan once, show the best deals) and `make test` (what CI runs).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINTED := scraper models jobs tests bench alembic/env.py

.DEFAULT_GOAL := help
.PHONY: help setup scan deals demo test pytest lint bench clean

help:             ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | \
		awk -F'\t' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,cluster,bench,dev]'
	@touch $(STAMP)

setup: $(STAMP)   ## create .venv and install gpuscout with its test tools
	@true

scan: $(STAMP)    ## the main job: scan every configured search once, then list the best deals
	@$(BIN)/gpuscout scan; status=$$?; $(BIN)/gpuscout deals; exit $$status

demo: $(STAMP)    ## the whole pipeline against a local fictional marketplace (no internet needed)
	$(BIN)/gpuscout demo

test: lint pytest ## what CI runs: ruff, mypy --strict, then the test suite

pytest: $(STAMP)  ## the test suite alone (PostgreSQL too when GPUSCOUT_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -q

lint: $(STAMP)    ## ruff and mypy --strict (the package, the tests and the benchmarks)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy

bench: $(STAMP)   ## benchmarks (add ARGS=--quick for a short run)
	$(BIN)/python bench/run.py $(ARGS)

clean:            ## remove .venv and build leftovers
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
