# `make test` and `make demo` set everything up themselves on a fresh Debian + Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck pytest system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-packages:
	@bash scripts/system-packages.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-packages
	$(BIN)/pytest -q

test: $(STAMP) system-packages lint typecheck pytest

demo: $(STAMP)
	$(BIN)/twinkit demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
