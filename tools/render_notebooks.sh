#!/usr/bin/env bash
# Render every notebook, exercises solved, executed on this machine in quick mode, to HTML in
# docs/notebooks/, so a reader sees the outputs and plots without running anything.
#   tools/render_notebooks.sh [OUT_DIR]      (default docs/notebooks; `make render-notebooks`)
# Each page says at its top which machine and mode produced it (a CPU run: ONNX Runtime stands in
# for TensorRT, and the TensorRT cells show why they were skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
jupyter=${JUPYTER:-.venv/bin/jupyter}
out=${1:-docs/notebooks}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" tools/solve_notebooks.py notebooks "$work/solved" >/dev/null
mkdir -p "$out"
export TRTLAB_QUICK=1 TRTLAB_OFFLINE=1 MPLBACKEND=Agg TRTLAB_CACHE_DIR="$work/cache"
stamp="Rendered $(date -u +%Y-%m-%d) on $(uname -m) with $(nproc) CPU cores, no GPU:"
stamp="$stamp quick mode, random weights for ResNet-50/FCN (offline), exercises solved."
for nb in "$work"/solved/*.ipynb; do
  name=$(basename "$nb" .ipynb)
  start=$SECONDS
  "$jupyter" nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
    --output-dir "$work/html" "$nb" >/dev/null 2>&1 || {
    echo "FAILED: $name (run it with nbval to see why)" >&2
    exit 1
  }
  # a line at the top of the page saying where and how it was produced
  sed "s|<body[^>]*>|&<p style=\"font:14px sans-serif;background:#fff8c5;padding:6px\">$stamp</p>|" \
    "$work/html/$name.html" >"$work/$name.page"
  mv "$work/$name.page" "$out/$name.html"  # whole pages only
  echo "$name: $((SECONDS - start)) s"
done
"$py" tools/share_css.py "$out"  # one copy of nbconvert's stylesheet, linked from every page
