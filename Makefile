# `make demo` and `make test` work on a fresh clone: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast bench docs clean

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

# The report's browser test needs Debian's chromium + chromium-driver: installed here when missing and
# running as root; otherwise that test is skipped (and says how to install them).
test: $(VENV)/.test
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver) \
	  || echo "could not install chromium chromium-driver: the browser test will be skipped"; \
	else echo "chromium/chromedriver missing and not root: the browser test will be skipped" \
	  "(install with: apt-get install chromium chromium-driver)"; fi
	$(BIN)/python -m pytest

# Everything but the tests marked slow (pytest -m slow lists them): under a minute on 2 cores.
test-fast: $(VENV)/.test
	$(BIN)/python -m pytest -m "not slow"

# Speed comparisons against PyTorch (not part of the test suite).
bench: $(VENV)/.test
	$(BIN)/python benchmarks/engine_vs_torch.py --repeats 3
	$(BIN)/python benchmarks/sweep_workers.py
	$(BIN)/python benchmarks/ensemble_vs_torch.py

# Regenerate the figures and outputs shown in the README.
docs: $(VENV)/.core
	$(BIN)/initlab compare --preset demo --out docs/demo
	rm -f docs/demo/results.json docs/demo/report.html
	$(BIN)/initlab diagnose --data circles --hidden 100x30 --activation relu --init xavier_normal --out docs/diagnose
	rm -f docs/diagnose/report.html docs/diagnose/diagnose.json
	$(BIN)/initlab theory phase --activation tanh --out docs/theory-phase-tanh.png

clean:
	rm -rf $(VENV) runs .pytest_cache
