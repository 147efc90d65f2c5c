"""What numpy in / numpy out costs a GPU model per call, next to device-resident tensors.

Issue 8, item 3: trtlab's runners take numpy by default, so each GPU call pays a host-to-device
copy of the input and a device-to-host copy of the output. This times ResNet-50 (FP16,
channels-last, replayed as a CUDA graph so the model itself is as fast as PyTorch gets) three ways
at several batch sizes, interleaved call by call:

- device: the input already on the GPU, the output left there (what ``Engine.infer`` does with
  torch CUDA tensors, ``outputs="auto"``);
- numpy pinned: numpy arrays copied through page-locked staging (what ``Engine.infer`` does for
  numpy feeds);
- numpy pageable: plain ``torch.from_numpy(x).cuda()`` / ``.cpu().numpy()`` (a naive loop).

Method: wall time per call with ``time.perf_counter`` around call + stream synchronize, median of
``--iters`` after ``--warmup``; random weights.

    python3 tools/h200/copy_cost.py --json out/copy_cost.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch_baselines import capture_graph  # the same capture as the baselines

try:  # trtlab's shim for a CPU torch beside a CUDA torchvision (trtlab's CI machine)
    from trtlab._tv_shim import import_torchvision

    torchvision = import_torchvision()
except ImportError:
    import torchvision


def measure_batch(model: Any, batch: int, iters: int, warmup: int) -> list[dict[str, Any]]:
    """The three variants at one batch size, interleaved call by call."""
    rows: list[dict[str, Any]] = []
    x_host = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float16)
    x_dev = torch.from_numpy(x_host).cuda().contiguous(memory_format=torch.channels_last)
    graph, static_x, static_y = capture_graph(model, x_dev)
    pinned_in = torch.empty(x_host.shape, dtype=torch.float16).pin_memory()
    pinned_out = torch.empty(tuple(static_y.shape), dtype=static_y.dtype).pin_memory()

    def device() -> Any:
        graph.replay()
        torch.cuda.synchronize()
        return static_y

    def numpy_pinned() -> np.ndarray:
        pinned_in.numpy()[...] = x_host
        static_x.copy_(pinned_in, non_blocking=True)
        graph.replay()
        pinned_out.copy_(static_y, non_blocking=True)
        torch.cuda.synchronize()
        return pinned_out.numpy().copy()

    def numpy_pageable() -> np.ndarray:
        static_x.copy_(torch.from_numpy(x_host))
        graph.replay()
        return static_y.cpu().numpy()

    calls: dict[str, Callable[[], Any]] = {
        "device": device,
        "numpy pinned": numpy_pinned,
        "numpy pageable": numpy_pageable,
    }
    for call in calls.values():
        for _ in range(warmup):
            call()
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(iters):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - t0) * 1000)
    base = statistics.median(times["device"])
    for name, ts in times.items():
        p50 = statistics.median(ts)
        rows.append(
            {
                "batch": batch,
                "variant": name,
                "p50_ms": round(p50, 4),
                "extra_ms": round(p50 - base, 4),
                "input_MB": round(x_host.nbytes / 1e6, 2),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("SKIP: no CUDA device", file=sys.stderr)
        return 0
    torch.backends.cudnn.benchmark = True
    model = torchvision.models.resnet50(weights=None).eval().cuda().half()
    model = model.to(memory_format=torch.channels_last)
    rows: list[dict[str, Any]] = []
    for batch in (int(b) for b in args.batches.split(",")):
        rows.extend(measure_batch(model, batch, args.iters, args.warmup))
    meta = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "method": f"perf_counter per call incl. synchronize, median of {args.iters} interleaved "
        f"after {args.warmup} warm-up; ResNet-50 FP16 channels-last CUDA graph, random weights",
    }
    print(f"{meta['gpu']}, torch {meta['torch']}; {meta['method']}")
    print("| batch | input MB | variant | p50 ms | extra vs device ms |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['batch']} | {r['input_MB']} | {r['variant']} | {r['p50_ms']:.3f} | "
            f"{r['extra_ms']:+.3f} |"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
