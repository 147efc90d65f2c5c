#!/usr/bin/env bash
# Run trtlab's container with the repo and the model caches mounted (notebooks, ONNX files and
# engines survive the container), JupyterLab on 127.0.0.1 with a token.
#
# Usage: docker/run.sh [--gpus all|none|N] [--jupyter PORT] [--tag TAG] [--cpu]
#                      [--shm-size SIZE] [--dry-run] [-h] [-- COMMAND...]
#   --gpus all|none|N  GPUs to pass in (default all; none for the CPU image)
#   --jupyter PORT     publish JupyterLab on 127.0.0.1:PORT (default 8888); 0 = no Jupyter,
#                      run COMMAND (default: an interactive bash)
#   --tag TAG          image (default trtlab:gpu, or trtlab:cpu with --cpu)
#   --cpu              the CPU image (implies --gpus none)
#   --shm-size SIZE    private IPC with this /dev/shm size (default: --ipc=host, the host's shm)
#   --dry-run          print the docker command instead of running it
#   -h, --help         this help
# The Jupyter token is $TRTLAB_JUPYTER_TOKEN, else a fresh random one (printed with the URL).
set -euo pipefail

usage() { sed -n '5,15p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $1" >&2; usage >&2; exit 2; }

gpus=all
gpus_set=0
port=8888
tag=""
cpu=0
shm=""
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gpus)
      [[ $# -ge 2 ]] || die "--gpus needs all, none or a count"
      [[ "$2" == all || "$2" == none || "$2" =~ ^[1-9][0-9]*$ ]] \
        || die "--gpus expects all, none or a count N >= 1, got '$2'"
      gpus="$2"; gpus_set=1; shift ;;
    --jupyter)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -le 65535 ]] \
        || die "--jupyter expects a port 1-65535, or 0 for no Jupyter"
      port="$2"; shift ;;
    --tag)
      [[ $# -ge 2 && -n "$2" && "$2" != -* ]] || die "--tag needs a value"
      tag="$2"; shift ;;
    --cpu) cpu=1 ;;
    --shm-size)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+[bkmgBKMG]?$ ]] || die "--shm-size expects e.g. 8g"
      shm="$2"; shift ;;
    --dry-run) dry_run=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1'" ;;
  esac
  shift
done
if [[ "$cpu" -eq 1 ]]; then
  [[ "$gpus_set" -eq 1 && "$gpus" != none ]] && die "--cpu runs without GPUs; drop --gpus $gpus"
  gpus=none
fi
tag="${tag:-trtlab:$([[ "$cpu" -eq 1 ]] && echo cpu || echo gpu)}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}"

cmd=(docker run --rm --init)
[[ -t 0 && -t 1 ]] && cmd+=(-it)
case "$gpus" in
  all) cmd+=(--gpus all) ;;
  none) ;;
  *) cmd+=(--gpus "$gpus") ;;
esac
if [[ -n "$shm" ]]; then
  cmd+=(--ipc=private --shm-size="$shm")
else
  cmd+=(--ipc=host)
fi
cmd+=(--ulimit memlock=-1 --ulimit stack=67108864)
cmd+=(-v "$root:/workspace/trtlab" -v "$cache/trtlab:/home/trtlab/.cache/trtlab"
      -v "$cache/torch:/home/trtlab/.cache/torch" -w /workspace/trtlab)

if [[ "$port" -ne 0 ]]; then
  token="${TRTLAB_JUPYTER_TOKEN:-}"
  if [[ -z "$token" ]]; then
    token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  fi
  export JUPYTER_TOKEN="$token"  # passed by name: the token stays out of `ps` output
  cmd+=(-p "127.0.0.1:$port:8888" -e JUPYTER_TOKEN "$tag"
        jupyter lab --ip=0.0.0.0 --port=8888 --no-browser
        --notebook-dir=/workspace/trtlab/notebooks)
  [[ $# -gt 0 ]] && die "COMMAND needs --jupyter 0 (Jupyter is the command otherwise)"
  url="http://127.0.0.1:$port/lab?token=$token"
else
  cmd+=("$tag")
  if [[ $# -gt 0 ]]; then cmd+=("$@"); else cmd+=(bash); fi
  url=""
fi

if [[ "$dry_run" -eq 1 ]]; then
  printf '%q ' "${cmd[@]}"; echo
  [[ -n "$url" ]] && echo "JupyterLab: $url"
  exit 0
fi
command -v docker >/dev/null 2>&1 || { echo "run.sh: docker is not installed" >&2; exit 1; }
mkdir -p "$cache/trtlab" "$cache/torch"  # so docker does not create them root-owned
[[ -n "$url" ]] && echo "JupyterLab will be at $url"
exec "${cmd[@]}"
