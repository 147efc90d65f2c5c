#!/usr/bin/env bash
# Verify trtlab's C++ runtime without a GPU:
#   1. the pure C++ library (cpp/imgutil) builds with -Wall -Wextra -Wpedantic -Werror and its
#      tests pass;
#   2. the TensorRT sources (cpp/runtime, cpp/apps) compile against TensorRT's public headers
#      (include/ of NVIDIA/TensorRT at each ref in TRT_REFS, extracted to a temp dir, never
#      committed) and CUDA's headers with the same flags, and link against the lean runtime
#      libnvinfer_lean.so.11 of the tensorrt-lean-cu13-libs wheel with --no-undefined.
#
# Usage: tools/cpp_check.sh [-h]
#   TRT_REPO=/path/to/NVIDIA-TensorRT.git  a git dir (or clone) of github.com/NVIDIA/TensorRT
#   TRT_REFS="v10.13.3 v11.1"              refs whose include/ to compile against
#   TRT_INCLUDE=/path/include              instead of TRT_REPO: one header folder
#   CUDA_HOME=/usr/local/cuda              CUDA toolkit (default: from nvcc on PATH)
#   PYTHON=.venv/bin/python                finds the lean library in its site-packages
# Step 2 is skipped (exit 0, reason printed) when headers, CUDA or the lean library are missing.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cpp="$root/cpp"
flags=(-std=c++17 -O1 -Wall -Wextra -Wpedantic -Werror)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cxx="${CXX:-g++}"

echo "== 1. pure C++ (cpp/imgutil): $cxx ${flags[*]}"
"$cxx" "${flags[@]}" -I"$cpp/imgutil/include" \
  "$cpp/imgutil/src/imgutil.cpp" "$cpp/imgutil/tests/test_imgutil.cpp" -o "$work/test_imgutil"
"$cxx" "${flags[@]}" -I"$cpp/imgutil/include" \
  "$cpp/imgutil/src/imgutil.cpp" "$cpp/apps/overlay.cpp" -o "$work/trtlab_overlay"
echo "   built apps/overlay.cpp"
"$work/test_imgutil"
"$cxx" "${flags[@]}" -I"$cpp/imgutil/include" \
  "$cpp/imgutil/src/imgutil.cpp" "$cpp/apps/overlay.cpp" -o "$work/trtlab_overlay"
echo "   built apps/overlay.cpp"

echo "== 2. TensorRT sources against public headers + the lean runtime"
cuda="${CUDA_HOME:-}"
if [[ -z "$cuda" ]] && command -v nvcc >/dev/null 2>&1; then
  cuda="$(cd "$(dirname "$(readlink -f "$(command -v nvcc)")")/.." && pwd)"
fi
if [[ ! -f "$cuda/include/cuda_runtime_api.h" && -f /usr/local/cuda/include/cuda_runtime_api.h ]]; then
  cuda="$(readlink -f /usr/local/cuda)"  # nvcc on PATH may be a wrapper script elsewhere
fi
if [[ -z "$cuda" || ! -f "$cuda/include/cuda_runtime_api.h" ]]; then
  echo "SKIP: no CUDA toolkit headers (set CUDA_HOME)"; exit 0
fi
python="${PYTHON:-$root/.venv/bin/python}"
lean_dir="$("$python" -c 'import os, tensorrt_lean_libs as m; print(os.path.dirname(m.__file__))' 2>/dev/null || true)"
lean="$lean_dir/libnvinfer_lean.so.11"
if [[ ! -f "$lean" ]]; then
  echo "SKIP: libnvinfer_lean.so.11 not found (pip install tensorrt-lean-cu13-libs)"; exit 0
fi
cudart_dir="$cuda/lib64"
[[ -d "$cudart_dir" ]] || cudart_dir="$cuda/lib"

declare -a includes=()
declare -a labels=()
if [[ -n "${TRT_INCLUDE:-}" ]]; then
  includes+=("$TRT_INCLUDE"); labels+=("TRT_INCLUDE=$TRT_INCLUDE")
elif [[ -n "${TRT_REPO:-}" ]]; then
  for ref in ${TRT_REFS:-v10.13.3 v11.1}; do
    commit="$(git --git-dir="$TRT_REPO" rev-parse "$ref^{commit}")"
    mkdir -p "$work/trt-$ref"
    git --git-dir="$TRT_REPO" archive "$commit" include | tar -x -C "$work/trt-$ref"
    version="$(grep -E '^#define TRT_(MAJOR|MINOR|PATCH|BUILD)_ENTERPRISE' \
      "$work/trt-$ref/include/NvInferVersion.h" | awk '{print $3}' | paste -sd. -)"
    [[ -n "$version" ]] || version="$(grep -E '^#define NV_TENSORRT_(MAJOR|MINOR|PATCH|BUILD) ' \
      "$work/trt-$ref/include/NvInferVersion.h" | awk '{print $3}' | paste -sd. -)"
    includes+=("$work/trt-$ref/include"); labels+=("NVIDIA/TensorRT $ref = $commit (headers $version)")
  done
else
  echo "SKIP: set TRT_REPO (a git dir of NVIDIA/TensorRT) or TRT_INCLUDE"; exit 0
fi

"$cxx" "${flags[@]}" -I"$cpp/imgutil/include" -c "$cpp/imgutil/src/imgutil.cpp" -o "$work/imgutil.o"
for i in "${!includes[@]}"; do
  inc="${includes[$i]}"
  echo "-- ${labels[$i]}"
  objs=()
  for src in runtime/trt_runner.cpp apps/segment.cpp apps/classify.cpp; do
    obj="$work/$(basename "$src" .cpp)-$i.o"
    "$cxx" "${flags[@]}" -isystem "$inc" -isystem "$cuda/include" \
      -I"$cpp/imgutil/include" -I"$cpp/runtime" -c "$cpp/$src" -o "$obj"
    echo "   compiled $src"
    objs+=("$obj")
  done
  for app in segment classify; do
    "$cxx" "$work/$app-$i.o" "$work/trt_runner-$i.o" "$work/imgutil.o" -o "$work/trtlab_$app-$i" \
      -L"$cudart_dir" -lcudart "$lean" -Wl,-rpath,"$lean_dir" -Wl,--no-undefined
    echo "   linked trtlab_$app against $(basename "$lean") ($lean_dir)"
  done
done
echo "compiler: $("$cxx" --version | head -1); CUDA: $cuda; flags: ${flags[*]} (TensorRT/CUDA headers via -isystem)"
echo "OK: C++ runtime compiles and links (not run: no GPU here)"
