# gpuscout: `make scan` (set up, scan once, show the best deals) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup scan deals demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,bench,dev]'
	@touch $(STAMP)

setup: $(STAMP)   ## create .venv and install gpuscout with its test tools

scan: $(STAMP)    ## the main job: scan every configured search once, then list the best deals
	@$(BIN)/gpuscout scan; status=$$?; $(BIN)/gpuscout deals; exit $$status

demo: $(STAMP)    ## the whole pipeline against a local fictional marketplace (no internet needed)
	$(BIN)/gpuscout demo

test: $(STAMP)    ## the test suite (PostgreSQL too when GPUSCOUT_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check scraper models jobs tests bench alembic/env.py
	$(BIN)/mypy

bench: $(STAMP)   ## benchmarks (add ARGS=--quick for a short run)
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
