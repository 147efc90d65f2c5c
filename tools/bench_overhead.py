"""trtlab's per-call overhead next to the bare library call, measured side by side in one run.

Usage::

    .venv/bin/python tools/bench_overhead.py            # tiny model + ResNet-50 batch 1
    .venv/bin/python tools/bench_overhead.py --no-resnet --rounds 30
    .venv/bin/python tools/bench_overhead.py --json overhead.json

Method: every variant uses the *same* session / module object, so only trtlab's wrapper differs.
The variants run interleaved (round-robin, the order rotating each round, so a burst of load on a
shared machine hits all alike); each round times a block of ``--calls`` calls with
``time.perf_counter`` and divides; the table shows the median over ``--rounds`` rounds after
warm-up. Overhead = variant - bare (µs per call and % of the bare call). It is a benchmark, not a
test: numbers move with the machine, so nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

#: Goals from the performance issue, µs per call (trtlab's part only).
GOALS_US = {"onnxruntime": 10.0, "torch": 15.0}


@dataclass
class Variant:
    """One way of making the call; ``reset`` runs before each timed block (not timed).

    Shared with ``tools/bench_overhead_trt.py`` (the same method around TensorRT).
    """

    group: str
    label: str
    call: Callable[[], Any]
    bare: bool = False
    reset: Callable[[], None] = field(default=lambda: None)


def interleaved(variants: list[Variant], *, rounds: int, calls: int, warmup: int) -> list[float]:
    """Median µs per call of each variant over ``rounds`` interleaved rounds (order rotating)."""
    for v in variants:
        v.reset()
        for _ in range(warmup):
            v.call()
    samples: list[list[float]] = [[] for _ in variants]
    order = list(range(len(variants)))
    clock = time.perf_counter
    for r in range(rounds):
        k = r % len(order)
        for i in order[k:] + order[:k]:
            variants[i].reset()
            call = variants[i].call
            start = clock()
            for _ in range(calls):
                call()
            samples[i].append((clock() - start) * 1e6 / calls)
    return [statistics.median(s) for s in samples]


def _ort_variants(path: Path, x: np.ndarray, group: str) -> list[Variant]:
    from trtlab.runners.ort import OnnxRuntimeRunner

    runner = OnnxRuntimeRunner(path, threads=1, name=group).activate()
    session = runner._session  # the very session the runner calls: only the wrapper differs
    name = runner.inputs[0].name
    out_names = [o.name for o in runner.outputs]
    feed = {name: x}
    variants = [
        Variant(group, "bare InferenceSession.run", lambda: session.run(out_names, feed), True),
        Variant(group, "OnnxRuntimeRunner(x)", lambda: runner(x)),
    ]
    if _has_check():
        unchecked = "OnnxRuntimeRunner(feed, check=False)"
        variants.append(Variant(group, unchecked, lambda: runner(feed, check=False)))
    return variants


def _has_check() -> bool:
    """Older trtlab versions (measured for the before/after table) lack ``check=``."""
    import inspect

    from trtlab.runners.base import Runner

    return "check" in inspect.signature(Runner.__call__).parameters


def _torch_variants(model: Any, x: np.ndarray, group: str) -> list[Variant]:
    import torch

    from trtlab.runners.torch_runner import TorchRunner

    runner = TorchRunner(model, example_inputs=x, device="cpu", name=group).activate()
    module = runner.module
    feed = {runner.inputs[0].name: x}

    def bare() -> np.ndarray:
        with torch.inference_mode():  # per call, as the runner must: a fair baseline
            out: np.ndarray = module(torch.from_numpy(x)).numpy()
            return out

    variants = [
        Variant(group, "bare module(torch.from_numpy(x)).numpy()", bare, True),
        Variant(group, "TorchRunner(x)", lambda: runner(x)),
    ]
    if _has_check():
        variants.append(
            Variant(group, "TorchRunner(feed, check=False)", lambda: runner(feed, check=False))
        )
    return variants


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("trtlab", "numpy", "onnxruntime", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (median)")
    parser.add_argument("--calls", type=int, default=200, help="calls per round, tiny model")
    parser.add_argument("--resnet-calls", type=int, default=3, help="calls per round, ResNet-50")
    parser.add_argument("--resnet-rounds", type=int, default=7, help="rounds for ResNet-50")
    parser.add_argument("--no-resnet", action="store_true", help="skip ResNet-50 batch 1")
    parser.add_argument("--resnet-onnx", type=Path, default=None, help="a ResNet-50 .onnx file")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)

    import torch

    from trtlab import export, models

    torch.set_num_threads(1)  # one thread for both sides: less noise on a shared machine
    tiny_onnx = export.export_model("tiny_classifier", weights=None)
    tiny = models.load_model("tiny_classifier", weights=None)
    x_tiny = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)

    rows: list[dict[str, Any]] = []

    def measure(variants: list[Variant], rounds: int, calls: int) -> None:
        medians = interleaved(variants, rounds=rounds, calls=calls, warmup=max(3, calls // 10))
        bare = {v.group: m for v, m in zip(variants, medians, strict=True) if v.bare}
        for v, m in zip(variants, medians, strict=True):
            base = bare[v.group]
            rows.append(
                {
                    "group": v.group,
                    "variant": v.label,
                    "us_per_call": m,
                    "overhead_us": m - base,
                    "overhead_pct": 100.0 * (m - base) / base,
                    "rounds": rounds,
                    "calls_per_round": calls,
                }
            )

    measure(
        _ort_variants(tiny_onnx, x_tiny, "onnxruntime tiny_classifier b1")
        + _torch_variants(tiny, x_tiny, "torch tiny_classifier b1"),
        args.rounds,
        args.calls,
    )
    if not args.no_resnet:
        x_r50 = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
        r50_onnx = args.resnet_onnx or export.export_model("resnet50", weights=None)
        r50 = models.load_model("resnet50", weights=None)
        measure(
            _ort_variants(Path(r50_onnx), x_r50, "onnxruntime resnet50 b1")
            + _torch_variants(r50, x_r50, "torch resnet50 b1"),
            args.resnet_rounds,
            args.resnet_calls,
        )

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    header = (
        f"trtlab per-call overhead — nproc {os.cpu_count()}, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, 1 thread, "
        + ", ".join(f"{k} {v}" for k, v in _versions().items())
    )
    print(header)
    print(f"{'group':34} {'variant':44} {'µs/call':>10} {'overhead µs':>12} {'%':>7}")
    for r in rows:
        print(
            f"{r['group']:34} {r['variant']:44} {r['us_per_call']:10.1f} "
            f"{r['overhead_us']:12.1f} {r['overhead_pct']:7.2f}"
        )
    print(
        "method: same session/module for all variants, interleaved rounds (order rotates), "
        "median of per-round means; goals (trtlab's part): "
        + ", ".join(f"{k} <= {v:g} µs" for k, v in GOALS_US.items())
    )
    if args.json is not None:
        doc = {
            "rows": rows,
            "nproc": os.cpu_count(),
            "loadavg": list(load),
            "versions": _versions(),
            "machine": platform.platform(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
