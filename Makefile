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

.PHONY: quickstart test lint typecheck unit notebooks notebooks-clean browser gpu-tests doctor lab prefetch \
	triton-venv triton-tests render-notebooks cpp-check docker-lint clean help

help:
	@echo "make quickstart | test | lab | prefetch | lint | typecheck | unit | notebooks | triton-tests | browser | render-notebooks | cpp-check | docker-lint | doctor | clean"

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

# JupyterLab on notebooks/, bound to 127.0.0.1 with a token; prints the URL to open.
lab: $(VENV)/.dev-installed
	$(BIN)/trtlab lab

# Before a workshop: weights, ONNX files and (where TensorRT exists) engines into the caches.
prefetch: $(VENV)/.core-installed
	$(BIN)/trtlab prefetch

test: $(VENV)/.dev-installed
	$(MAKE) --no-print-directory lint typecheck notebooks-clean unit notebooks triton-tests browser

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check trtlab tests tools notebooks
	$(BIN)/ruff format --check trtlab tests tools notebooks

typecheck: $(VENV)/.dev-installed
	$(BIN)/python tools/typecheck.py
	$(BIN)/python tools/typecheck_notebooks.py

notebooks-clean: $(VENV)/.dev-installed
	$(BIN)/python tools/check_notebooks_clean.py notebooks

# tests/gpu runs too: on a CPU machine each test skips and -rs prints the reason.
unit: $(VENV)/.dev-installed
	$(TEST_ENV) $(BIN)/python -m pytest tests/unit tests/gpu -q -rs

# A fresh cache directory each run: the notebooks export their models as a learner's first run does.
# The notebooks run with every exercise solved (tools/solve_notebooks.py) and strict checks, so a
# wrong solution or a check that no longer holds fails the run.
notebooks: $(VENV)/.dev-installed
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BIN)/python tools/solve_notebooks.py notebooks "$$tmp/solved" && \
	$(TEST_ENV) PYTHONPATH=tests/notebooks TRTLAB_EXERCISES_STRICT=1 TRTLAB_CACHE_DIR="$$tmp/cache" $(BIN)/python -m pytest -c pyproject.toml \
	  --nbval-lax --nbval-sanitize-with tests/notebooks/sanitize.cfg -p no:cacheprovider \
	  -p nbtiming "$$tmp/solved" -q

# Installs Debian's chromium first when missing and root (no browser download: no internet needed).
browser: $(VENV)/.dev-installed
	bash tools/ensure_chromium.sh
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -q -m browser -rs

gpu-tests: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/gpu -q -rs

# PyTriton (a real Triton server on 127.0.0.1) needs numpy<2, so it gets its own virtual
# environment; serve_local sets LD_LIBRARY_PATH to Python's LIBDIR itself.
TRITON_VENV ?= .venv-triton
$(TRITON_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TRITON_VENV)
	$(TRITON_VENV)/bin/python -m pip install -q torch==2.13.0
	$(TRITON_VENV)/bin/python -m pip install -q -e . nvidia-pytriton 'numpy<2' 'tritonclient[all]' \
	  pytest pytest-timeout
	@touch $@

triton-venv: $(TRITON_VENV)/.installed

triton-tests: triton-venv
	$(TEST_ENV) $(TRITON_VENV)/bin/python -m pytest tests/triton_server -q -rs -p no:cacheprovider

# Executed HTML copies of the notebooks (CPU, quick mode, exercises solved) in docs/notebooks/.
render-notebooks: $(VENV)/.dev-installed
	bash tools/render_notebooks.sh

# The pure-C++ parts and the Dockerfile/shellcheck lint also run inside `make unit`
# (tests/unit/test_cpp.py, test_docker.py). cpp-check also compiles the TensorRT parts where
# TRT_REPO names a checkout of NVIDIA/TensorRT's headers (cpp/README.md says how).
cpp-check:
	bash tools/cpp_check.sh

docker-lint: $(VENV)/.dev-installed
	$(BIN)/python tools/lint_dockerfiles.py
	$(BIN)/shellcheck docker/*.sh tools/cpp_check.sh tools/ensure_chromium.sh

clean:
	rm -rf $(VENV) $(TRITON_VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
