# `make demo` and `make test` work on a fresh clone: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps record which extras are installed; they are redone when pyproject.toml changes.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/initlab compare --preset demo --out runs/demo

test: $(VENV)/.test
	$(BIN)/python -m pytest

# Speed comparisons against PyTorch (not part of the test suite).
bench: $(VENV)/.test
	$(BIN)/python benchmarks/engine_vs_torch.py

# Regenerate the figures and outputs shown in the README.
docs: $(VENV)/.core
	$(BIN)/initlab compare --preset demo --out docs/demo
	rm -f docs/demo/results.json

clean:
	rm -rf $(VENV) runs .pytest_cache
