"""trtlab's per-call overhead on TensorRT: ``Engine.infer`` next to a bare enqueue loop.

Usage (on a GPU machine)::

    .venv/bin/python tools/bench_overhead_trt.py                        # stand-in engine
    .venv/bin/python tools/bench_overhead_trt.py --engine r50.engine --shape input:1x3x224x224
    .venv/bin/python tools/bench_overhead_trt.py --json trt_overhead.json

Without ``--engine`` the engine is the stand-in from ``tests/_faketrt.py`` whose "kernels" are
three torch ops queued on the stream ``execute_async_v3`` gets: everything trtlab does around
TensorRT (feed checks, shape checks, binding, device switching, copies, graphs) runs for real, so
the difference to the bare loop is trtlab's own cost. With ``--engine`` (full TensorRT, e.g. in an
NVIDIA container) the same comparison runs on a real plan; the goal is <= 3 % at ResNet-50 b1.

Method: each pair uses the *same* execution context and the same buffers, so only trtlab's code
differs. Variants run interleaved (round-robin, rotating each round); each round times
``--calls`` calls (every call ends with a stream synchronize) with ``time.perf_counter``; the
table shows the median per-call µs over ``--rounds`` rounds after ``--warmup`` calls each.
A benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_overhead import Variant, interleaved  # noqa: E402  (the same method, one copy)


def _parse_shape(text: str) -> tuple[str, tuple[int, ...]]:
    name, _, dims = text.partition(":")
    if not dims:
        raise SystemExit(f"--shape expects name:1x3x224x224, got {text!r}")
    return name, tuple(int(d) for d in dims.split("x"))


def _load(args: argparse.Namespace) -> tuple[Any, Any, dict[str, tuple[int, ...]]]:
    """(plain Engine, graph Engine, input shapes)."""
    from trtlab.trt import runtime as rt

    if args.engine is None:
        sys.path.insert(0, str(ROOT / "tests"))
        import importlib

        faketrt: Any = importlib.import_module("_faketrt")
        module = faketrt.make_module(faketrt.torch_kernel())
        rt._import_runtime_module = lambda kind: module
        source: Any = faketrt.PLAN
        shapes: dict[str, tuple[int, ...]] = {"x": (args.batch, 4)}
    else:
        source = Path(args.engine)
        shapes = dict(_parse_shape(s) for s in args.shape)
    plain = rt.Engine(source)
    graphed = rt.Engine(source, use_cuda_graph=True)
    for t in plain.inputs:
        if t.name not in shapes:
            if t.is_dynamic:
                shapes[t.name] = t.profiles[0].opt
            else:
                shapes[t.name] = t.shape
    return plain, graphed, shapes


def _variants(plain: Any, graphed: Any, shapes: dict[str, tuple[int, ...]]) -> list[Variant]:
    import torch

    from trtlab import cuda
    from trtlab.cuda.adapters import numpy_to_torch_dtype

    rng = np.random.default_rng(0)
    host = {t.name: rng.standard_normal(shapes[t.name]).astype(t.dtype) for t in plain.inputs}
    dev = {n: torch.from_numpy(a).cuda() for n, a in host.items()}
    plain.infer(host)  # sizes the engine's own buffers, sets the shapes
    out_shapes = plain.output_shapes()
    outs = {
        t.name: torch.empty(out_shapes[t.name], dtype=numpy_to_torch_dtype(t.dtype), device="cuda")
        for t in plain.outputs
    }
    ctx = plain._res.context  # the very context Engine.infer uses: only trtlab's code differs
    stream = plain.stream
    h = stream.handle
    torch.cuda.synchronize()

    def forget_bindings() -> None:  # the bare loops rebind behind the Engine's back
        plain._bound.clear()

    device_ptrs = {**{n: int(t.data_ptr()) for n, t in dev.items()}}
    device_ptrs.update({n: int(t.data_ptr()) for n, t in outs.items()})

    def bare_device() -> None:
        for name, ptr in device_ptrs.items():
            ctx.set_tensor_address(name, ptr)
        ctx.execute_async_v3(h)
        stream.synchronize()

    def trtlab_device() -> None:
        plain.infer(dev, stream=stream)  # torch in, torch out (fresh outputs from torch's cache)
        stream.synchronize()

    res = plain._res
    staging = {t.name: plain._staging(t.name, shapes[t.name], t.dtype) for t in plain.inputs}
    out_staging = {
        t.name: plain._staging(t.name, out_shapes[t.name], t.dtype) for t in plain.outputs
    }

    def bare_numpy() -> dict[str, np.ndarray]:
        for name, a in host.items():
            np.copyto(staging[name], a)
            cuda.memcpy_htod_async(res.device[name].ptr, staging[name], h)
        for t in plain.io:
            ctx.set_tensor_address(t.name, res.device[t.name].ptr)
        ctx.execute_async_v3(h)
        for t in plain.outputs:
            cuda.memcpy_dtoh_async(out_staging[t.name], res.device[t.name].ptr, h)
        stream.synchronize()
        return {n: a.copy() for n, a in out_staging.items()}

    return [
        Variant("device tensors", "bare set_tensor_address + execute_async_v3", bare_device, True,
                forget_bindings),
        Variant("device tensors", "Engine.infer(torch CUDA tensors)", trtlab_device),
        Variant("numpy (H2D + D2H)", "bare copies + set_tensor_address + execute_async_v3",
                bare_numpy, True, forget_bindings),
        Variant("numpy (H2D + D2H)", "Engine.infer(numpy)", lambda: plain.infer(host)),
        Variant("numpy (H2D + D2H)", "Engine(use_cuda_graph=True).infer(numpy)",
                lambda: graphed.infer(host)),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", type=Path, default=None, help="a real .engine (full TRT)")
    parser.add_argument("--shape", action="append", default=[], help="name:1x3x224x224")
    parser.add_argument("--batch", type=int, default=1, help="stand-in batch (1..8)")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:
        print("SKIP: torch is not installed (needed for the stand-in kernels and device tensors)")
        return 0
    from trtlab import cuda

    if not torch.cuda.is_available() or not cuda.is_available():
        print("SKIP: needs a CUDA GPU with torch and cuda-python (run it on the GPU machine)")
        return 0
    plain, graphed, shapes = _load(args)
    with plain, graphed:
        variants = _variants(plain, graphed, shapes)
        medians = interleaved(variants, rounds=args.rounds, calls=args.calls, warmup=args.warmup)
        bare = {v.group: m for v, m in zip(variants, medians, strict=True) if v.bare}
        rows: list[dict[str, Any]] = []
        for v, m in zip(variants, medians, strict=True):
            base = bare[v.group]
            rows.append(
                {
                    "group": v.group,
                    "variant": v.label,
                    "us_per_call": round(m, 2),
                    "overhead_us": round(m - base, 2),
                    "overhead_pct": round(100 * (m - base) / base, 1),
                }
            )
        info = {
            "engine": str(args.engine or "stand-in (tests/_faketrt.py, torch kernels)"),
            "shapes": {k: list(v) for k, v in shapes.items()},
            "gpu": cuda.describe(plain.device_index),
            "tensorrt": f"{plain.runtime_kind} {plain.tensorrt_version}",
            "torch": torch.__version__,
            "python": platform.python_version(),
            "method": f"median of {args.rounds} interleaved rounds x {args.calls} calls, "
            f"{args.warmup} warm-up calls, stream synchronized each call",
        }
    print(f"# TensorRT runtime overhead: {info['engine']}")
    for key, value in info.items():
        if key != "engine":
            print(f"#   {key}: {value}")
    width = max(len(r["variant"]) for r in rows)
    print(f"{'group':<20} {'variant':<{width}} {'µs/call':>9} {'+µs':>8} {'+%':>7}")
    for r in rows:
        print(
            f"{r['group']:<20} {r['variant']:<{width}} {r['us_per_call']:>9.2f} "
            f"{r['overhead_us']:>8.2f} {r['overhead_pct']:>6.1f}%"
        )
    if args.json:
        from trtlab._io import atomic_write_text

        atomic_write_text(args.json, json.dumps({"info": info, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
