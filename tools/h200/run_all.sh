#!/usr/bin/env bash
# trtlab GPU verification on an H200 (the workplace's device tool), in one command:
#   (0) install the carried wheels (.devcarry/wheels: Jupyter stack, nbval, scikit-learn,
#       onnxconverter-common; see tools/h100/README.md for how they are downloaded)
#   (a) versions: nvidia-smi, torch/CUDA, ONNX Runtime providers, `trtlab doctor`
#   (b) pytest tests/gpu (CUDA layer, stand-in engine with torch CUDA kernels, TorchRunner and
#       the bench timers on CUDA; TensorRT tests skip with their reason: no TensorRT there)
#   (c) tools/bench_overhead_trt.py (trtlab's per-call cost around the stand-in engine) and
#       `trtlab bench resnet50` (torch on CUDA next to ONNX Runtime, one interleaved run)
#   (d) every notebook, exercises solved, executed headless with nbclient (quick mode)
# At most 8 files land in $OUT (the device tool brings back 8). Each step has its own time limit;
# the exit status is the number of failed steps.
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
OUT=${OUT:-$REPO/h200_out}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TRTLAB_OFFLINE=1 MPLBACKEND=Agg JUPYTER_PLATFORM_DIRS=1
export TRTLAB_CACHE_DIR=${TRTLAB_CACHE_DIR:-/tmp/trtlab_cache}
failed=0
t0=$SECONDS
note() { echo "[$((SECONDS - t0)) s] $*" | tee -a "$OUT/summary.txt"; }
step() {  # step NAME LIMIT_S LOG CMD...: run with a time limit, append to LOG, record the status
  local name=$1 limit=$2 log=$3
  shift 3
  echo "===== $name: $*" >>"$OUT/$log"
  timeout "$limit" "$@" >>"$OUT/$log" 2>&1
  local rc=$?
  [ "$rc" = 0 ] || failed=$((failed + 1))
  note "$name rc=$rc"
}

if ls .devcarry/wheels/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .devcarry/wheels/*.whl >"$OUT/versions.txt" 2>&1
  export PYTHONPATH=/tmp/site:$REPO
else
  export PYTHONPATH=$REPO
fi
note "start on $(hostname), PYTHONPATH=$PYTHONPATH"

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  "$PY" -c "import torch, onnxruntime as ort, numpy; print('torch', torch.__version__, 'cuda', \
torch.version.cuda, '| onnxruntime', ort.__version__, ort.get_available_providers(), \
'| numpy', numpy.__version__)"
  "$PY" -m trtlab doctor
} >>"$OUT/versions.txt" 2>&1

step pytest_gpu 200 pytest_gpu.log "$PY" -m pytest tests/gpu -rs -q -p no:cacheprovider
step trt_overhead 120 bench.log "$PY" tools/bench_overhead_trt.py --json "$OUT/trt_overhead.json"
step bench_resnet50 200 bench.log "$PY" -m trtlab bench resnet50 --backends torch,onnxruntime \
  --batch 1,8,32 --precision fp32,fp16 --device cuda --min-time 1 --json "$OUT/bench_resnet50.json"

rm -rf /tmp/solved /tmp/nb_out
step solve 30 notebooks.log "$PY" tools/solve_notebooks.py notebooks /tmp/solved
step notebooks 300 notebooks.log env TRTLAB_QUICK=1 TRTLAB_EXERCISES_STRICT=1 \
  "$PY" tools/h100/run_notebooks.py --out /tmp/nb_out /tmp/solved/*.ipynb
cp /tmp/nb_out/notebooks_summary.txt "$OUT/" 2>/dev/null || note "no notebook summary"
note "done, $failed failed step(s)"
exit "$failed"
