#!/usr/bin/env bash
# Build trtlab's container image.
#
# Usage: docker/build.sh [--gpu|--cpu] [--tag TAG] [--trt-tag YY.MM-py3] [--dry-run] [-h]
#   --gpu            NVIDIA TensorRT base (default): TensorRT + trtexec + CUDA, needs a GPU to run
#   --cpu            python slim base with PyTorch's CPU wheels (no CUDA, no TensorRT)
#   --tag TAG        image tag (default trtlab:gpu or trtlab:cpu)
#   --trt-tag TAG    NGC release of the GPU base, e.g. 25.10-py3 (default: the Dockerfile's)
#   --dry-run        print the docker command instead of running it
#   -h, --help       this help
# The image user gets your uid (USER_UID), so files written to the mounted repo stay yours.
set -euo pipefail

usage() { sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'; }

variant=gpu
tag=""
trt_tag=""
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gpu) variant=gpu ;;
    --cpu) variant=cpu ;;
    --tag)
      [[ $# -ge 2 && -n "$2" && "$2" != -* ]] || { echo "build.sh: --tag needs a value" >&2; usage >&2; exit 2; }
      tag="$2"; shift ;;
    --trt-tag)
      [[ $# -ge 2 && "$2" =~ ^[0-9]{2}\.[0-9]{2}(\.[0-9]+)?-py3$ ]] \
        || { echo "build.sh: --trt-tag expects YY.MM-py3 (e.g. 25.10-py3)" >&2; usage >&2; exit 2; }
      trt_tag="$2"; shift ;;
    --dry-run) dry_run=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ -n "$trt_tag" && "$variant" != gpu ]]; then
  echo "build.sh: --trt-tag only applies to --gpu" >&2; exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${tag:-trtlab:$variant}"
uid="$(id -u)"
[[ "$uid" -eq 0 ]] && uid=1000  # building as root: the image user must still not be root
cmd=(docker build -f "$root/docker/Dockerfile.$variant" -t "$tag" --build-arg "USER_UID=$uid")
[[ -n "$trt_tag" ]] && cmd+=(--build-arg "TRT_TAG=$trt_tag")
cmd+=("$root")

if [[ "$dry_run" -eq 1 ]]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
command -v docker >/dev/null 2>&1 || { echo "build.sh: docker is not installed" >&2; exit 1; }
exec "${cmd[@]}"
