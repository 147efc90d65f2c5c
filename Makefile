# trtlab — two commands do everything on a fresh machine:
#   make quickstart   # create .venv, install trtlab, run `trtlab quickstart`
#   make test         # create .venv with dev tools, run ruff, mypy (both TensorRT stub versions),
#                     # pytest (unit + GPU tests, which skip with a reason on CPU), nbval, browser test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Tests and notebooks in CI use small inputs and never try to download weights.
TEST_ENV := TRTLAB_QUICK=1 TRTLAB_OFFLINE=1 MPLBACKEND=Agg

.PHONY: quickstart test lint typecheck unit notebooks notebooks-clean browser gpu-tests doctor clean help

help:
	@echo "make quickstart | test | lint | typecheck | unit | notebooks | browser | doctor | clean"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.core-installed

quickstart: $(VENV)/.core-installed
	$(BIN)/trtlab quickstart

doctor: $(VENV)/.core-installed
	$(BIN)/trtlab doctor

test: $(VENV)/.dev-installed
	$(MAKE) --no-print-directory lint typecheck notebooks-clean unit notebooks browser

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check trtlab tests tools notebooks
	$(BIN)/ruff format --check trtlab tests tools notebooks

typecheck: $(VENV)/.dev-installed
	$(BIN)/python tools/typecheck.py

notebooks-clean: $(VENV)/.dev-installed
	$(BIN)/python tools/check_notebooks_clean.py notebooks

# tests/gpu runs too: on a CPU machine each test skips and -rs prints the reason.
unit: $(VENV)/.dev-installed
	$(TEST_ENV) $(BIN)/python -m pytest tests/unit tests/gpu -q -rs

# A fresh cache directory each run: the notebooks export their models as a learner's first run does.
notebooks: $(VENV)/.dev-installed
	cache=$$(mktemp -d) && trap 'rm -rf "$$cache"' EXIT && \
	$(TEST_ENV) TRTLAB_CACHE_DIR="$$cache" $(BIN)/python -m pytest --nbval-lax \
	  --nbval-sanitize-with tests/notebooks/sanitize.cfg notebooks -q

# Installs Debian's chromium first when missing and root (no browser download: no internet needed).
browser: $(VENV)/.dev-installed
	bash tools/ensure_chromium.sh
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -q -m browser -rs

gpu-tests: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/gpu -q -rs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
