# trtlab — two commands do everything on a fresh machine:
#   make quickstart   # create .venv, install trtlab, run `trtlab quickstart`
#   make test         # create .venv with dev tools, run ruff, mypy (both TensorRT stub versions), pytest, nbval
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
	$(MAKE) --no-print-directory lint typecheck notebooks-clean unit notebooks

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check trtlab tests tools
	$(BIN)/ruff format --check trtlab tests tools

typecheck: $(VENV)/.dev-installed
	$(BIN)/python tools/typecheck.py

notebooks-clean: $(VENV)/.dev-installed
	$(BIN)/python tools/check_notebooks_clean.py notebooks

unit: $(VENV)/.dev-installed
	$(TEST_ENV) $(BIN)/python -m pytest tests/unit -q

notebooks: $(VENV)/.dev-installed
	$(TEST_ENV) $(BIN)/python -m pytest --nbval-lax --nbval-sanitize-with tests/notebooks/sanitize.cfg notebooks -q

browser: $(VENV)/.dev-installed
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -q -m browser

gpu-tests: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/gpu -q -rs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
