# `make demo` and `make test` work on a fresh clone: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast bench docs timings clean

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

# Regenerate what README.md and docs/*.md show: every marked command output (docs/regenerate.py reruns
# them at 100 columns and rewrites the blocks), then the figures under docs/ from the runs those commands
# wrote, the phase diagram, and the report and playground screenshots (these need chromium + chromedriver: skipped,
# with a note, when missing). Needs the test extra (torch for diagnose --torch, selenium for screenshots).
docs: $(VENV)/.test
	$(BIN)/python docs/regenerate.py
	mkdir -p docs/demo docs/ng docs/diagnose
	cp runs/demo/cost.png runs/demo/boundary.png runs/demo/config.json docs/demo/
	cp runs/ng/cost.png runs/ng/config.json docs/ng/
	cp runs/diagnose/diagnose.png docs/diagnose/
	cp runs/diagnose-study/layers.png docs/diagnose/study-layers.png
	cp runs/diagnose-study/histograms.png docs/diagnose/study-histograms.png
	mkdir -p docs/coordcheck && cp runs/coordcheck-mlp/coordcheck.png docs/coordcheck/mlp.png
	$(BIN)/initlab theory phase --activation tanh --out docs/theory-phase-tanh.png
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  $(BIN)/python tests/report/_initlab_browser.py runs/demo/report.html docs/report.png && \
	  rm -f runs/depth.db runs/depth.db-wal runs/depth.db-shm && \
	  $(BIN)/initlab sweep run docs/depth.toml --store runs/depth.db && \
	  $(BIN)/initlab report --store runs/depth.db --out runs/depth.html && \
	  $(BIN)/python tests/report/_initlab_browser.py runs/depth.html docs/report-sweep.png && \
	  $(BIN)/python tests/playground/browser/_initlab_playground.py docs/playground.png; \
	else echo "chromium/chromedriver missing: docs/report.png, docs/report-sweep.png and docs/playground.png not redrawn" \
	  "(install with: apt-get install chromium chromium-driver)"; fi

# Remeasure the times in docs/benchmarks.md (the commands' wall clock and the three speed comparisons).
timings: $(VENV)/.test
	$(BIN)/python docs/regenerate.py --timings

clean:
	rm -rf $(VENV) runs .pytest_cache
