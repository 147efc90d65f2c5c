#!/usr/bin/env python3
"""Check trtlab's CUDA layer on a GPU machine in one go: environment, pytest, copy bandwidth.

Runs ``pytest tests/gpu`` (junit XML and log into ``--out``), then measures host<->device copy
bandwidth through ``trtlab.cuda`` for pageable vs pinned host memory and prints a table last.
Each bandwidth number is the median of ``--reps`` copies after ``--warmup`` copies, timed with
CUDA events recorded on the copy's stream around the single ``cudaMemcpyAsync``; the wall column
is the median host time of the same copy including the synchronize (perf_counter).

    PYTHONPATH=. python3 tools/gpu_check.py --out "$OUT"
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KiB = 1 << 10
MiB = 1 << 20
DEFAULT_SIZES = (64 * KiB, 1 * MiB, 16 * MiB, 256 * MiB)


def environment() -> dict[str, Any]:
    """Versions and device facts, each guarded so one failure does not hide the others."""
    env: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("numpy", "torch", "cuda.bindings", "ml_dtypes", "onnxruntime", "pytest"):
        try:
            module = __import__(mod, fromlist=["__version__"])
            env[mod] = str(getattr(module, "__version__", "?"))
        except Exception as exc:
            env[mod] = f"unavailable: {type(exc).__name__}: {exc}"
    try:
        from trtlab.trt._compat import has_full_tensorrt, has_lean_runtime, tensorrt_version

        env["tensorrt_full"] = has_full_tensorrt()
        env["tensorrt_lean"] = has_lean_runtime()
        env["tensorrt_version"] = tensorrt_version()
    except Exception as exc:
        env["tensorrt"] = f"check failed: {exc}"
    try:
        from trtlab import cuda

        env["device_count"] = cuda.device_count(strict=True)
        env["device"] = cuda.describe(0)
        env["driver_cuda"] = cuda.driver_version()
        env["runtime_cuda"] = cuda.runtime_version()
        free, total = cuda.mem_get_info()
        env["mem_free_gib"] = round(free / 2**30, 2)
        env["mem_total_gib"] = round(total / 2**30, 2)
    except Exception as exc:
        env["cuda"] = f"unavailable: {type(exc).__name__}: {exc}"
    return env


def run_pytest(out: Path, extra: list[str]) -> int:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests/gpu",
        "-m",
        "gpu or tensorrt",
        "-rsP",
        "-v",
        "-p",
        "no:cacheprovider",
        f"--junitxml={out / 'pytest_gpu.xml'}",
        *extra,
    ]
    print("$", " ".join(cmd), flush=True)
    with open(out / "pytest_gpu.log", "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in proc.stdout or ():
            sys.stdout.write(line)
            log.write(line)
        return proc.wait()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def bandwidth(sizes: tuple[int, ...], warmup: int, reps: int) -> list[dict[str, Any]]:
    """Event-timed H2D/D2H copies, pageable (numpy) vs pinned (cudaMallocHost) host memory."""
    import numpy as np

    from trtlab import cuda

    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)
    with cuda.Stream() as stream:
        start, end = cuda.Event(), cuda.Event()
        for n in sizes:
            data = rng.integers(0, 256, size=n, dtype=np.uint8)
            pageable_src = data.copy()
            pageable_dst = np.empty(n, dtype=np.uint8)
            pinned_src = cuda.PinnedHostBuffer(n, np.uint8)
            pinned_dst = cuda.PinnedHostBuffer(n, np.uint8)
            pinned_src.array[:] = data
            dev = cuda.DeviceBuffer(n)
            htod, dtoh = cuda.memcpy_htod_async, cuda.memcpy_dtoh_async
            cases: dict[tuple[str, str], tuple[Any, Any, Any]] = {
                ("H2D", "pageable"): (htod, dev.ptr, pageable_src),
                ("H2D", "pinned"): (htod, dev.ptr, pinned_src.array),
                ("D2H", "pageable"): (dtoh, pageable_dst, dev.ptr),
                ("D2H", "pinned"): (dtoh, pinned_dst.array, dev.ptr),
            }
            for (direction, memory), (fn, dst, src) in cases.items():
                for _ in range(warmup):
                    fn(dst, src, stream)
                stream.synchronize()
                event_ms: list[float] = []
                wall_ms: list[float] = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    start.record(stream)
                    fn(dst, src, stream)
                    end.record(stream)
                    end.synchronize()
                    wall_ms.append((time.perf_counter() - t0) * 1e3)
                    event_ms.append(cuda.Event.elapsed_ms(start, end))
                ms = _median(event_ms)
                rows.append(
                    {
                        "bytes": n,
                        "direction": direction,
                        "host_memory": memory,
                        "event_ms_median": ms,
                        "event_ms_min": min(event_ms),
                        "event_ms_max": max(event_ms),
                        "wall_ms_median": _median(wall_ms),
                        "gb_per_s": n / (ms * 1e-3) / 1e9 if ms > 0 else float("nan"),
                        "reps": reps,
                        "warmup": warmup,
                    }
                )
            # the data really arrived: the last D2H (pinned) must equal what was uploaded
            stream.synchronize()
            if not np.array_equal(pinned_dst.array, data):
                raise SystemExit(f"bandwidth run: data mismatch at {n} bytes")
            dev.close()
            pinned_src.close()
            pinned_dst.close()
    return rows


def _size_str(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB else f"{n // KiB} KiB"


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'size':>8} {'dir':>4} {'host mem':>9} {'event ms':>9} {'GB/s':>7} {'wall ms':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{_size_str(r['bytes']):>8} {r['direction']:>4} {r['host_memory']:>9} "
            f"{r['event_ms_median']:>9.4f} {r['gb_per_s']:>7.2f} {r['wall_ms_median']:>8.4f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.environ.get("OUT", "gpu_check_out"))
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-pytest", action="store_true")
    parser.add_argument("--sizes", default="", help="comma-separated byte counts")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s) or DEFAULT_SIZES

    env = environment()
    print(json.dumps(env, indent=2, default=str), flush=True)
    result: dict[str, Any] = {"environment": env}
    status = 0
    if not args.no_pytest:
        t0 = time.perf_counter()
        status = run_pytest(out, args.pytest_args)
        result["pytest_exit"] = status
        result["pytest_seconds"] = round(time.perf_counter() - t0, 1)
    if isinstance(env.get("device_count"), int) and env["device_count"] > 0:
        rows = bandwidth(sizes, args.warmup, args.reps)
        result["bandwidth"] = rows
        text = table(rows)
        (out / "bandwidth.txt").write_text(text + "\n")
    else:
        text = "no CUDA device: bandwidth not measured"
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"\npytest exit status: {result.get('pytest_exit', 'not run')}")
    print(f"device: {env.get('device', env.get('cuda'))}")
    print(
        f"copy bandwidth, median of {args.reps} after {args.warmup} warm-up, CUDA-event timed "
        "(wall = host time incl. sync):"
    )
    print(text)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
