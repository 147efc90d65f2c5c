"""PyTorch CUDA baselines that TensorRT is compared against (issue 8, item 5).

ResNet-50 at several batch sizes and FCN-ResNet-101 at NVIDIA's tutorial size 1x3x1026x1282,
each with PyTorch eager FP32 (strict, TF32 off), eager FP16, FP16 channels-last, FP16
channels-last replayed as a CUDA graph, and ``torch.compile(mode="reduce-overhead")`` (FP16
channels-last) where it compiles.

Method: random weights (timing does not depend on their values), CUDA events around each call,
the variants of one shape interleaved call by call (round robin) so clock and thermal drift hit
all alike, ``--warmup`` untimed calls per variant first, then ``--iters`` timed rounds; the
median and p90 per variant. Runs on any CUDA host with torch + torchvision; writes JSON
(``--json``) and prints a markdown table.

    python3 tools/h200/torch_baselines.py --json out/torch_baselines.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

try:  # trtlab's shim for a CPU torch beside a CUDA torchvision (trtlab's CI machine)
    from trtlab._tv_shim import import_torchvision

    torchvision = import_torchvision()
except ImportError:
    import torchvision

Call = Callable[[], Any]
COMPILED = "torch.compile reduce-overhead fp16 cl"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _eager(model: torch.nn.Module, x: torch.Tensor) -> Call:
    def call() -> Any:
        with torch.inference_mode():
            return model(x)

    return call


def capture_graph(model: torch.nn.Module, x: torch.Tensor) -> tuple[Any, torch.Tensor, Any]:
    """One forward pass captured in a CUDA graph: ``(graph, static_input, static_output)``.

    Warm-up runs on a side stream first, as PyTorch's CUDA-graph docs ask; replay re-runs the
    pass on whatever is in ``static_input``. ``tools/h200/copy_cost.py`` uses it too.
    """
    static_x = x.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.inference_mode():
        for _ in range(3):
            model(static_x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.inference_mode():
        static_y = model(static_x)
    return graph, static_x, static_y


def _graphed(model: torch.nn.Module, x: torch.Tensor) -> Call:
    graph, _, static_y = capture_graph(model, x)

    def call() -> Any:
        graph.replay()
        return static_y

    return call


def _compiled(model: torch.nn.Module, x: torch.Tensor) -> tuple[Call, float]:
    compiled = torch.compile(model, mode="reduce-overhead")
    t0 = time.perf_counter()
    with torch.inference_mode():
        for _ in range(3):
            compiled(x)
    torch.cuda.synchronize()
    return _eager(compiled, x), time.perf_counter() - t0


def variants(
    factory: Callable[[], torch.nn.Module], shape: tuple[int, ...], use_compile: bool, graph: bool
) -> tuple[dict[str, Call], dict[str, str]]:
    """The variants of one model and input shape, plus notes (compile time, failures)."""
    notes: dict[str, str] = {}
    fp32 = factory().eval().cuda()
    x32 = torch.randn(shape, device="cuda")
    fp16 = factory().eval().cuda().half()
    x16 = x32.half()
    cl = factory().eval().cuda().half().to(memory_format=torch.channels_last)
    x16cl = x16.contiguous(memory_format=torch.channels_last)
    calls: dict[str, Call] = {
        "eager fp32": _eager(fp32, x32),
        "eager fp16": _eager(fp16, x16),
        "eager fp16 channels-last": _eager(cl, x16cl),
    }
    if graph:
        calls["cuda graph fp16 channels-last"] = _graphed(cl, x16cl)
    if use_compile:
        try:
            call, seconds = _compiled(cl, x16cl)
            calls[COMPILED] = call
            notes[COMPILED] = f"compile + 3 warm-up calls {seconds:.1f} s"
        except Exception as exc:  # report why, keep the other variants
            notes[COMPILED] = f"failed: {type(exc).__name__}: {exc}"[:300]
    return calls, notes


def measure(calls: dict[str, Call], warmup: int, iters: int) -> dict[str, list[float]]:
    for call in calls.values():
        for _ in range(warmup):
            call()
    torch.cuda.synchronize()
    times: dict[str, list[float]] = {name: [] for name in calls}
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(iters):
        for name, call in calls.items():
            start.record()
            call()
            end.record()
            end.synchronize()
            times[name].append(start.elapsed_time(end))
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--batches", default="1,8,32,128,256")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--skip-fcn", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("SKIP: no CUDA device; these are GPU baselines", file=sys.stderr)
        return 0
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cases: list[tuple[str, Callable[[], torch.nn.Module], tuple[int, ...], int]] = []
    for b in (int(v) for v in args.batches.split(",")):
        resnet = lambda: torchvision.models.resnet50(weights=None)  # noqa: E731
        cases.append(("resnet50", resnet, (b, 3, 224, 224), b))
    if not args.skip_fcn:

        def fcn() -> torch.nn.Module:
            m = torchvision.models.segmentation.fcn_resnet101(weights=None, weights_backbone=None)

            class Head(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.m = m

                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    return self.m(x)["out"].argmax(1)

            return Head()

        cases.append(("fcn_resnet101", fcn, (1, 3, 1026, 1282), 1))
    rows: list[dict[str, Any]] = []
    if args.one is not None:  # child process: one case, rows as JSON on stdout
        model_name, factory, shape, items = cases[args.one]
        calls, notes = variants(factory, shape, not args.no_compile, not args.no_graph)
        times = measure(calls, args.warmup, args.iters)
        base = statistics.median(times["eager fp32"])
        for name, ts in times.items():
            p50 = statistics.median(ts)
            rows.append(
                {
                    "model": model_name,
                    "shape": "x".join(map(str, shape)),
                    "variant": name,
                    "p50_ms": round(p50, 4),
                    "p90_ms": round(_percentile(ts, 0.9), 4),
                    "items_per_s": round(items / (p50 / 1000.0), 1),
                    "speedup_vs_eager_fp32": round(base / p50, 2),
                    "n": len(ts),
                    "note": notes.get(name, ""),
                }
            )
        for name, note in notes.items():
            if name not in times:
                shape_s = "x".join(map(str, shape))
                rows.append({"model": model_name, "shape": shape_s, "variant": name, "note": note})
        print("ROWS " + json.dumps(rows))
        return 0
    # Parent: each case in its own process, so one case's CUDA state (torch.compile's CUDA-graph
    # pool, a failed capture) cannot leak into the next; a case that dies is re-run without compile.
    for index, (model_name, _, shape, _) in enumerate(cases):
        t0 = time.perf_counter()
        child = [sys.executable, __file__, "--one", str(index), "--iters", str(args.iters)]
        child += ["--warmup", str(args.warmup), "--batches", args.batches]
        child += ["--skip-fcn"] if args.skip_fcn else []
        nc, ng = [*child, "--no-compile"], [*child, "--no-compile", "--no-graph"]
        tries = [nc, ng] if args.no_compile else [child, nc, ng]
        for attempt in tries:
            proc = subprocess.run(attempt, capture_output=True, text=True, check=False)
            found = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROWS ")]
            if proc.returncode == 0 and found:
                rows.extend(json.loads(found[-1][5:]))
                break
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            rows.append(
                {
                    "model": model_name,
                    "shape": "x".join(map(str, shape)),
                    "variant": "attempt " + " ".join(a for a in attempt if a.startswith("--no-")),
                    "note": f"process failed (rc {proc.returncode}): {tail}"[:300],
                }
            )
        took = time.perf_counter() - t0
        print(f"[{model_name} {shape}: {took:.1f} s]", file=sys.stderr, flush=True)
    meta = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "method": f"CUDA events per call, variants interleaved round robin, {args.warmup} warm-up "
        f"calls each, median/p90 of {args.iters}; random weights; TF32 off; cudnn.benchmark on",
    }
    print(f"\n{meta['gpu']}, torch {meta['torch']}, CUDA {meta['cuda']}; {meta['method']}\n")
    print("| model | input | variant | p50 ms | p90 ms | items/s | vs eager fp32 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "p50_ms" in r:
            print(
                f"| {r['model']} | {r['shape']} | {r['variant']} | {r['p50_ms']:.3f} | "
                f"{r['p90_ms']:.3f} | {r['items_per_s']:.0f} | {r['speedup_vs_eager_fp32']:.2f}x |"
            )
        else:
            print(f"| {r['model']} | {r['shape']} | {r['variant']} | - | - | - | {r['note']} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
