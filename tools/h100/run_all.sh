#!/usr/bin/env bash
# trtlab GPU verification in one command (see tools/h100/README.md):
#   (0) install the carried Jupyter wheels (.devcarry/wheels) into /tmp/site
#   (a) versions: nvidia-smi, torch/CUDA/cuDNN, ONNX Runtime providers, `trtlab doctor`
#   (b) pytest tests/gpu + the torchvision shim test (CUDA layer, stand-in engine, TorchRunner
#       on CUDA; TensorRT tests skip with their reason)
#   (c) tools/h100/bench_resnet50.py: latency + parity, PyTorch CUDA vs ONNX Runtime CPU
#   (d) every notebook in notebooks/ executed headless (TRTLAB_QUICK=1), summary per cell
# Everything lands in $OUT (at most 8 files, so the device tool brings all of them back).
# Each step has its own time limit so one hang cannot eat the others' time; the exit status is
# the number of failed steps. Local smoke test: PY=.venv/bin/python SKIP_WHEELS=1 QUICK=1 bash ...
set -u
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=${OUT:-$REPO/h100_out}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TRTLAB_OFFLINE=1 MPLBACKEND=Agg JUPYTER_PLATFORM_DIRS=1
export TRTLAB_CACHE_DIR=${TRTLAB_CACHE_DIR:-/tmp/trtlab_cache}
T_PYTEST=${T_PYTEST:-130} T_BENCH=${T_BENCH:-140} T_NB=${T_NB:-110}
BENCH_ARGS=()
[ "${QUICK:-0}" = 1 ] && BENCH_ARGS=(--quick --device "${BENCH_DEVICE:-auto}")
failed=0
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0)) s] $*" | tee -a "$OUT/timing.txt"; }

stamp "start on $(hostname)"
if [ "${SKIP_WHEELS:-0}" != 1 ] && ls .devcarry/wheels/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .devcarry/wheels/*.whl 2>&1 | tail -3
  export PYTHONPATH=/tmp/site:$REPO
else
  export PYTHONPATH=$REPO
fi
stamp "wheels installed (PYTHONPATH=$PYTHONPATH)"

# (a) versions ------------------------------------------------------------------------------
{
  echo "== nvidia-smi"; nvidia-smi 2>&1 || echo "nvidia-smi failed"
  echo "== nvidia-smi -q (clocks, power)"; nvidia-smi -q -d CLOCK,POWER,PERFORMANCE 2>&1 | head -60
  echo "== uname / cpu"; uname -a; nproc; grep -m1 "model name" /proc/cpuinfo
  echo "== python"; $PY - <<'EOF'
import importlib, sys
print("python", sys.version.split()[0], sys.executable)
for m in ["torch", "torchvision", "onnx", "onnxruntime", "onnxscript", "numpy", "cuda.bindings",
          "cupy", "nbclient", "ipykernel", "ipywidgets", "IPython", "zmq", "pytest"]:
    try:
        mod = importlib.import_module(m)
        print(f"{m:14} {getattr(mod, '__version__', '?'):24} {getattr(mod, '__file__', '')}")
    except Exception as exc:
        print(f"{m:14} unavailable: {type(exc).__name__}: {exc}")
import torch
print("torch.version.cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
print("cuda available", torch.cuda.is_available(), "devices", torch.cuda.device_count())
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("gpu", p.name, "cc", torch.cuda.get_device_capability(0), "SMs", p.multi_processor_count,
          "mem GiB", round(p.total_memory / 2**30, 1))
print("cudnn.allow_tf32", torch.backends.cudnn.allow_tf32,
      "matmul.allow_tf32", torch.backends.cuda.matmul.allow_tf32,
      "matmul precision", torch.get_float32_matmul_precision())
import onnxruntime as ort
print("onnxruntime providers", ort.get_available_providers())
EOF
  echo "== trtlab doctor"; timeout 60 $PY -m trtlab doctor 2>&1 | head -60
} >"$OUT/versions.txt" 2>&1
tail -30 "$OUT/versions.txt"
stamp "versions done"

# (b) pytest --------------------------------------------------------------------------------
set -o pipefail
# tests/gpu (all marked gpu/tensorrt) plus the torchvision-shim check, which needs a CUDA torch
timeout -k 10 "$T_PYTEST" $PY -m pytest tests/gpu tests/unit/test_tv_shim.py -rs -q -p no:cacheprovider \
  --junitxml="$OUT/pytest_gpu.xml" 2>&1 | tee "$OUT/pytest.log" | tail -40
rc=$?; [ $rc -ne 0 ] && failed=$((failed + 1))
stamp "pytest rc=$rc"

# (c) benchmark + parity --------------------------------------------------------------------
timeout -k 10 "$T_BENCH" $PY tools/h100/bench_resnet50.py --out "$OUT" "${BENCH_ARGS[@]}" 2>&1 \
  | tee "$OUT/bench.log" | grep -v '^   \|^-- \|^!!' | tail -80
rc=$?; [ $rc -ne 0 ] && failed=$((failed + 1))
stamp "bench rc=$rc"

# (d) notebooks -----------------------------------------------------------------------------
TRTLAB_QUICK=1 timeout -k 10 "$T_NB" $PY tools/h100/run_notebooks.py --out "$OUT" >/dev/null 2>&1
rc=$?; [ $rc -ne 0 ] && failed=$((failed + 1))
grep -E "^=====|ERROR|^!!!!!|backend|device|cuda" "$OUT/notebooks_summary.txt" 2>/dev/null | head -70
stamp "notebooks rc=$rc"

stamp "done: $failed step(s) failed"
ls -la "$OUT"
exit $failed
