#!/usr/bin/env python3
"""ResNet-50 and FCN-ResNet-101 on PyTorch CUDA vs ONNX Runtime CPU: latency and parity, one run.

Why one script: device time is scarce, so every number that belongs in ``docs/MEASUREMENTS.md``
is taken in a single process, side by side, with the versions and flags that produced it.

* Latency: :func:`trtlab.bench.benchmark` (``perf_counter`` around each call, then
  ``torch.cuda.synchronize``; median of N after warm-up). Two kinds of PyTorch timing:
  ``runner`` is a :class:`~trtlab.runners.TorchRunner` call (numpy in, host->device copy, forward,
  device->host copy, numpy out: what a notebook cell pays), ``device`` is the module on a tensor
  already on the GPU (the forward pass alone). ONNX Runtime CPU vs PyTorch CUDA fp32 runs
  interleaved (:func:`trtlab.bench.benchmark_pair`) so machine noise hits both alike.
* Precisions: ``fp32`` (TF32 off for convolutions and matmuls: TorchRunner's default), ``tf32``
  (``TorchRunner(tf32=True)``; PyTorch's own default turns it on for cuDNN convolutions only,
  recorded in the environment), ``fp16`` (``module.half()``, input cast inside).
* Parity: :func:`trtlab.compare` of every precision against ONNX Runtime CPU fp32 (what the
  notebooks do) and against a float64 reference (the same module in double precision), with
  the tolerance of :data:`trtlab.compare.TOLERANCES` that the precision claims.

    PYTHONPATH=. python3 tools/h100/bench_resnet50.py --out "$OUT"            # on the GPU
    PYTHONPATH=. python tools/h100/bench_resnet50.py --device cpu --quick      # smoke test
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trtlab.bench import BenchResult, benchmark, benchmark_pair  # noqa: E402
from trtlab.compare import compare  # noqa: E402


@dataclass(frozen=True)
class Mode:
    """One PyTorch precision: TF32 allowed for float32 math or not, weights in half or not."""

    name: str
    tolerance: str
    half: bool
    tf32: bool


MODES = (
    Mode("fp32", "fp32", half=False, tf32=False),
    Mode("tf32", "tf32", half=False, tf32=True),
    Mode("fp16", "fp16", half=True, tf32=False),
)


# -- environment --------------------------------------------------------------------------------


def _version(module: str) -> str:
    try:
        mod = __import__(module, fromlist=["__version__"])
        return str(getattr(mod, "__version__", "?"))
    except Exception as exc:  # report, never stop: versions are context, not the measurement
        return f"unavailable: {type(exc).__name__}: {exc}"


def environment(device: str) -> dict[str, Any]:
    import torch

    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),  # type: ignore[no-untyped-call]
        "torchvision": _version("torchvision"),
        "onnx": _version("onnx"),
        "onnxruntime": _version("onnxruntime"),
        "numpy": _version("numpy"),
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "cudnn_allow_tf32_default": bool(torch.backends.cudnn.allow_tf32),
        "matmul_allow_tf32_default": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    try:
        import onnxruntime as ort

        env["onnxruntime_providers"] = list(ort.get_available_providers())
    except Exception as exc:
        env["onnxruntime_providers"] = f"unavailable: {exc}"
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = torch.cuda.get_device_name(0)
        env["gpu_capability"] = list(torch.cuda.get_device_capability(0))
        env["gpu_sms"] = props.multi_processor_count
        env["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
    return env


# -- precision switches -------------------------------------------------------------------------


def precision_flags(mode: Mode) -> contextlib.AbstractContextManager[None]:
    """The TF32 switch of ``mode`` for direct module calls, set the way TorchRunner sets it."""
    import torch

    from trtlab.runners.torch_runner import fp32_precision

    return fp32_precision(torch, tf32=mode.tf32)


def cast_module(module: Any, dtype: Any) -> Any:
    """A copy of ``module`` in ``dtype`` that still takes and returns float32 (ints unchanged)."""
    import torch

    class Cast(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner.to(dtype)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y: torch.Tensor = self.inner(x.to(dtype))
            return y.float() if y.is_floating_point() else y

    return Cast(copy.deepcopy(module)).eval()


# -- helpers ------------------------------------------------------------------------------------


class Recorder:
    """Collects results and errors; a failing step is recorded and the run goes on."""

    def __init__(self) -> None:
        self.latency: list[dict[str, Any]] = []
        self.pairs: list[dict[str, Any]] = []
        self.parity: list[dict[str, Any]] = []
        self.errors: list[dict[str, str]] = []
        self.notes: dict[str, Any] = {}

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        t0 = time.perf_counter()
        print(f"-- {what}", flush=True)
        try:
            yield
        except Exception as exc:
            tb = traceback.format_exc()
            print(f"!! {what} failed: {type(exc).__name__}: {exc}\n{tb}", flush=True)
            self.errors.append({"step": what, "error": f"{type(exc).__name__}: {exc}", "tb": tb})
        finally:
            print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)

    def add_latency(self, r: BenchResult, **labels: Any) -> None:
        row = {**r.to_dict(), **labels}
        print(f"   {r}", flush=True)
        self.latency.append(row)


def relabel(r: BenchResult, backend: str, device: str) -> BenchResult:
    """benchmark() labels a plain callable 'python on host'; say what it really ran on."""
    r.backend = backend
    r.device = device
    return r


def device_call(module: Any, x: Any) -> Callable[[], Any]:
    import torch

    def call() -> Any:
        with torch.inference_mode():
            return module(x)

    return call


def images_batch(n: int, size: int) -> np.ndarray:
    """``n`` demo images (and their mirror images) at ``size``: real pixel statistics."""
    from trtlab import data

    base = [
        data.preprocess_imagenet(p, resize=max(size, int(size * 256 / 224)), crop=size)
        for p in data.demo_images()
    ]
    items = base + [a[:, :, ::-1] for a in base]
    while len(items) < n:
        items += items
    return np.ascontiguousarray(np.stack(items[:n]).astype(np.float32))


def segmentation_input(size: int) -> np.ndarray:
    """The cat photo, shorter side ``size``, centre ``size x size``: ``[1, 3, size, size]``."""
    from trtlab import data

    a = data.preprocess_segmentation(data.demo_image("cat"), size=size)
    h, w = a.shape[1:]
    top, left = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(a[None, :, top : top + size, left : left + size])


def parity_row(
    rec: Recorder,
    model: str,
    ref_name: str,
    ref: dict[str, np.ndarray],
    cand_name: str,
    cand: dict[str, np.ndarray],
    tolerance: str,
    also: tuple[str, ...] = (),
) -> None:
    """compare() at ``tolerance``; ``also``: other tolerances checked and recorded alongside."""
    report = compare(
        ref, cand, precision=tolerance, reference_name=ref_name, candidate_name=cand_name
    )
    print(report, flush=True)
    out = report.outputs[0]
    row: dict[str, Any] = {
        "model": model,
        "reference": ref_name,
        "candidate": cand_name,
        "tolerance": tolerance,
        "passed": report.passed,
        "metrics": out.metrics,
        "reasons": out.reasons,
        "kind": out.kind,
    }
    for other in also:
        row[f"passes_{other}"] = bool(compare(ref, cand, precision=other).passed)
    rec.parity.append(row)


# -- the measurement ----------------------------------------------------------------------------


def run_model(
    rec: Recorder,
    *,
    model_name: str,
    module: Any,
    onnx_path: Path,
    out_name: str,
    device: str,
    modes: tuple[Mode, ...],
    bench_batches: tuple[int, ...],
    ort_batches: tuple[int, ...],
    make_input: Callable[[int], np.ndarray],
    parity_input: np.ndarray,
    gpu_counts: tuple[int, int],
    ort_counts: tuple[int, int],
    min_time_s: float,
) -> None:
    import torch

    from trtlab.runners.ort import OnnxRuntimeRunner
    from trtlab.runners.torch_runner import TorchRunner

    on_gpu = device.startswith("cuda")
    sync = torch.cuda.synchronize if on_gpu else None
    ort = OnnxRuntimeRunner(
        onnx_path, providers=["CPUExecutionProvider"], name=f"{model_name}-ort-cpu"
    )
    runners: dict[str, Any] = {}
    modules: dict[str, Any] = {}
    for mode in modes:
        with rec.step(f"{model_name}: prepare {mode.name}"):
            m = cast_module(module, torch.float16) if mode.half else module
            m = m.to(device).eval()
            modules[mode.name] = m
            runners[mode.name] = TorchRunner(
                m,
                device=device,
                output_names=(out_name,),
                name=f"{model_name}-torch-{mode.name}",
                tf32=mode.tf32,  # TorchRunner pins strict FP32 unless told otherwise
            )
            runners[mode.name].activate()
            print(f"   {runners[mode.name].describe()}", flush=True)

    # parity first: it is the cheaper, more important half of the story
    ort_out: dict[str, np.ndarray] = {}
    with rec.step(f"{model_name}: parity reference runs (ONNX Runtime CPU fp32, float64)"):
        ort_out = ort(parity_input)
        print(f"   {ort.describe()}", flush=True)
    f64_out: dict[str, np.ndarray] = {}
    with rec.step(f"{model_name}: float64 reference on {device}"):
        m64 = cast_module(module, torch.float64).to(device)
        with torch.inference_mode():
            y = m64(torch.from_numpy(parity_input).to(device))
        f64_out = {out_name: y.double().cpu().numpy() if y.is_floating_point() else y.cpu().numpy()}
        del m64, y
        if on_gpu:
            torch.cuda.empty_cache()
    if f64_out and ort_out:
        with rec.step(f"{model_name}: parity ORT CPU fp32 vs float64"):
            parity_row(rec, model_name, "float64", f64_out, "ort-cpu-fp32", ort_out, "fp32")
    for mode in modes:
        if mode.name not in runners:
            continue
        with rec.step(f"{model_name}: parity torch {mode.name}"), precision_flags(mode):
            cand = runners[mode.name](parity_input)
            also = ("fp32",) if mode.tolerance != "fp32" else ()
            if ort_out:
                parity_row(
                    rec,
                    model_name,
                    "ort-cpu-fp32",
                    ort_out,
                    f"torch-{device.split(':')[0]}-{mode.name}",
                    cand,
                    mode.tolerance,
                    also,
                )
            if f64_out:
                parity_row(
                    rec,
                    model_name,
                    "float64",
                    f64_out,
                    f"torch-{device.split(':')[0]}-{mode.name}",
                    cand,
                    mode.tolerance,
                    also,
                )

    # latency: PyTorch on the device, every mode and batch, runner and device-resident
    gw, gn = gpu_counts
    for batch in bench_batches:
        x = make_input(batch)
        xd = torch.from_numpy(x).to(device)
        for mode in modes:
            if mode.name not in runners or (mode.half and not on_gpu):
                continue  # fp16 on a CPU is emulated and slow: parity only
            r = runners[mode.name]
            label = f"{model_name}: torch {mode.name} batch {batch}"
            with rec.step(label + " (runner)"), precision_flags(mode):
                res = benchmark(
                    r,
                    x,
                    warmup=gw,
                    iterations=gn,
                    min_time_s=min_time_s,
                    name=f"{model_name}-torch-{mode.name}",
                )
                rec.add_latency(
                    res, model=model_name, precision=mode.name, timing="runner", shape=list(x.shape)
                )
            with rec.step(label + " (device)"), precision_flags(mode):
                res = benchmark(
                    device_call(modules[mode.name], xd),
                    warmup=gw,
                    iterations=gn,
                    min_time_s=min_time_s,
                    sync=sync,
                    batch=batch,
                    name=f"{model_name}-torch-{mode.name}",
                )
                rec.add_latency(
                    relabel(res, "torch", r.device),
                    model=model_name,
                    precision=mode.name,
                    timing="device",
                    shape=list(x.shape),
                )
        del xd

    # ONNX Runtime CPU fp32 vs PyTorch fp32 runner, interleaved round by round
    ow, on = ort_counts
    fp32 = next((m for m in modes if m.name == "fp32"), None)
    for batch in ort_batches:
        if fp32 is None or "fp32" not in runners:
            break
        x = make_input(batch)
        with (
            rec.step(f"{model_name}: ORT CPU vs torch fp32 batch {batch} (interleaved)"),
            precision_flags(fp32),
        ):
            pair = benchmark_pair(
                ort, runners["fp32"], x, warmup=ow, iterations=on, max_time_s=30.0
            )
            print(f"   {pair}", flush=True)
            rec.pairs.append({"model": model_name, "batch": batch, **pair.to_dict()})
            rec.add_latency(
                pair.a,
                model=model_name,
                precision="fp32",
                timing="runner",
                shape=list(x.shape),
                interleaved_with="torch fp32 runner",
            )
            rec.add_latency(
                pair.b,
                model=model_name,
                precision="fp32",
                timing="runner",
                shape=list(x.shape),
                interleaved_with="ORT CPU",
            )
    for r in runners.values():
        r.close()
    ort.close()


def activation_ranges(module: Any, x: np.ndarray, device: str) -> dict[str, float]:
    """Largest |activation| after each ResNet stage (fp32, TF32 off): is fp16's 65504 reached?"""
    import torch

    seg = getattr(module, "segmenter", module)
    body = getattr(seg, "backbone", seg)
    stages = [n for n in ("layer1", "layer2", "layer3", "layer4") if hasattr(body, n)]
    found: dict[str, float] = {}
    hooks = []
    for name in stages:

        def hook(_m: Any, _i: Any, out: Any, name: str = name) -> None:
            found[name] = float(out.detach().abs().max())

        hooks.append(getattr(body, name).register_forward_hook(hook))
    try:
        with torch.inference_mode():
            module(torch.from_numpy(x).to(device))
    finally:
        for h in hooks:
            h.remove()
    return found


def calibrate_batchnorm(module: Any, x: np.ndarray, device: str) -> Any:
    """A copy whose BatchNorm running statistics are measured on ``x`` (random weights only).

    Why: untrained BatchNorm layers (mean 0, variance 1) do not normalize, so a random
    FCN-ResNet-101's activations grow block by block past float16's range; statistics taken
    from real images keep them near 1, as in a trained network.
    """
    import torch

    calibrated = copy.deepcopy(module)
    for m in calibrated.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batch
    calibrated.train()
    with torch.no_grad():
        calibrated(torch.from_numpy(x).to(device))
    return calibrated.eval()


def parity_vs_float64(
    rec: Recorder,
    *,
    model_name: str,
    module: Any,
    x: np.ndarray,
    out_name: str,
    device: str,
    modes: tuple[Mode, ...],
) -> None:
    """Each precision of ``module`` against the same module in float64 (no ONNX involved)."""
    import torch

    from trtlab.runners.torch_runner import TorchRunner

    m64 = cast_module(module, torch.float64).to(device)
    with torch.inference_mode():
        y = m64(torch.from_numpy(x).to(device))
    ref = {out_name: y.double().cpu().numpy() if y.is_floating_point() else y.cpu().numpy()}
    del m64, y
    for mode in modes:
        with rec.step(f"{model_name}: parity torch {mode.name} vs float64"):
            with precision_flags(mode):
                m = cast_module(module, torch.float16) if mode.half else module
                runner = TorchRunner(
                    m.to(device), device=device, output_names=(out_name,), tf32=mode.tf32
                )
                cand = runner(x)
                runner.close()
            also = ("fp32",) if mode.tolerance != "fp32" else ()
            name = f"torch-{device.split(':')[0]}-{mode.name}"
            parity_row(rec, model_name, "float64", ref, name, cand, mode.tolerance, also)


# -- tables -------------------------------------------------------------------------------------


def latency_table(rows: list[dict[str, Any]]) -> str:
    ort_median = {
        (r["model"], r["batch"]): r["median_ms"] for r in rows if r["backend"] == "onnxruntime"
    }
    head = (
        f"{'model':<14} {'backend':<11} {'device':<10} {'prec':<8} {'timing':<7} {'batch':>5} "
        f"{'median ms':>10} {'p90 ms':>9} {'items/s':>9} {'runs':>5} {'vs ORT-CPU':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        dev = str(r["device"]).split(" ")[0]
        ref = ort_median.get((r["model"], r["batch"]))
        ratio = f"{ref / r['median_ms']:.1f}x" if ref and r["backend"] != "onnxruntime" else ""
        tag = "*" if r.get("interleaved") else ""
        lines.append(
            f"{r['model']:<14} {r['backend']:<11} {dev:<10} {r['precision']:<8} "
            f"{r['timing'] + tag:<7} {r['batch']:>5} {r['median_ms']:>10.3f} {r['p90_ms']:>9.3f} "
            f"{r['throughput']:>9.1f} {r['iterations']:>5} {ratio:>10}"
        )
    lines.append("* timed interleaved with its partner (benchmark_pair)")
    return "\n".join(lines)


def parity_table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'model':<14} {'candidate':<20} {'reference':<13} {'tol':<5} {'rel_l2':>9} "
        f"{'max_abs':>9} {'top1/pix':>9} {'result':<6} {'fp32 tol?':<9}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        m = r["metrics"]
        agree = m.get("top1_tie_aware", m.get("pixel_agreement", float("nan")))
        rel = m.get("rel_l2", float("nan"))
        mx = m.get("max_abs", float("nan"))
        fp32_ok = r.get("passes_fp32")
        lines.append(
            f"{r['model']:<14} {r['candidate']:<20} {r['reference']:<13} {r['tolerance']:<5} "
            f"{rel:>9.2e} {mx:>9.2e} {agree:>9.2%} {'PASS' if r['passed'] else 'FAIL':<6} "
            f"{'' if fp32_ok is None else ('yes' if fp32_ok else 'no'):<9}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto | cuda | cpu (torch side)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few runs (smoke test)")
    parser.add_argument("--out", default=os.environ.get("OUT", "bench_out"))
    parser.add_argument("--skip-fcn", action="store_true")
    parser.add_argument("--batches", default="", help="ResNet-50 batch sizes, e.g. 1,8,32")
    parser.add_argument("--ort-batches", default="", help="ORT CPU batch sizes ('none': skip)")
    args = parser.parse_args()

    os.environ.setdefault("TRTLAB_OFFLINE", "1")  # no weights download on the device machine
    warnings.filterwarnings("ignore", message=".*random weights.*")

    from trtlab import models
    from trtlab.export import export_model
    from trtlab.runners.torch_runner import resolve_device

    device = resolve_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = environment(device)
    print(json.dumps(env, indent=2), flush=True)
    on_gpu = device.startswith("cuda")
    modes = MODES if on_gpu else tuple(m for m in MODES if m.name != "tf32")
    batches: tuple[int, ...]
    ort_batches: tuple[int, ...]
    if args.quick:
        size, batches, ort_batches, parity_n, fcn_size = 224, (1, 2), (1,), 2, 64
        gpu_counts, ort_counts, min_time = (1, 3), (1, 3), 0.0
    else:
        size, batches, ort_batches, parity_n, fcn_size = 224, (1, 8, 32), (1, 8), 8, 520
        gpu_counts, ort_counts, min_time = (10, 50), (5, 30), 1.0
    if args.batches:
        batches = tuple(int(b) for b in args.batches.split(","))
    if args.ort_batches:
        ort_batches = (
            () if args.ort_batches == "none" else tuple(int(b) for b in args.ort_batches.split(","))
        )
    rec = Recorder()
    t_start = time.perf_counter()

    r50_onnx: Path | None = None
    r50: Any = None
    with rec.step("export resnet50 (random weights) to ONNX"):
        r50_onnx = export_model("resnet50", weights=None)
        print(f"   {r50_onnx}", flush=True)
    with rec.step("build resnet50 (random weights)"):
        r50 = models.resnet50(weights=None)
    if r50 is not None and r50_onnx is not None:
        run_model(
            rec,
            model_name="resnet50",
            module=r50,
            onnx_path=r50_onnx,
            out_name="logits",
            device=device,
            modes=modes,
            bench_batches=batches,
            ort_batches=ort_batches,
            make_input=lambda b: images_batch(b, size),
            parity_input=images_batch(parity_n, size),
            gpu_counts=gpu_counts,
            ort_counts=ort_counts,
            min_time_s=min_time,
        )
        r50 = None
    fcn_onnx: Path | None = None
    fcn: Any = None
    if not args.skip_fcn:
        with rec.step("export fcn_resnet101 (random weights) to ONNX"):
            fcn_onnx = export_model("fcn_resnet101", weights=None)
            print(f"   {fcn_onnx}", flush=True)
        with rec.step("build fcn_resnet101 (random weights)"):
            fcn = models.fcn_resnet101(weights=None)
        if fcn is not None and fcn_onnx is not None:
            rng = np.random.default_rng(0)

            def fcn_input(b: int) -> np.ndarray:
                shape = (b, 3, fcn_size, fcn_size)
                return rng.standard_normal(shape).astype(np.float32)

            run_model(
                rec,
                model_name="fcn_resnet101",
                module=fcn,
                onnx_path=fcn_onnx,
                out_name="classes",
                device=device,
                modes=modes,
                bench_batches=(1,),
                ort_batches=(),
                make_input=fcn_input,
                parity_input=segmentation_input(fcn_size),
                gpu_counts=gpu_counts,
                ort_counts=ort_counts,
                min_time_s=min_time,
            )
            with rec.step("fcn_resnet101: activation ranges (random weights, fp32)"):
                with precision_flags(MODES[0]):
                    ranges = activation_ranges(fcn, segmentation_input(fcn_size), device)
                rec.notes["fcn_random_max_abs_activation"] = ranges
                print(f"   max |activation| per stage: {ranges}", flush=True)
            with rec.step("fcn_resnet101: BatchNorm-calibrated copy"):
                with precision_flags(MODES[0]):
                    cal = calibrate_batchnorm(fcn, images_batch(8, 256), device)
                    ranges = activation_ranges(cal, segmentation_input(fcn_size), device)
                rec.notes["fcn_bncal_max_abs_activation"] = ranges
                print(f"   max |activation| per stage after calibration: {ranges}", flush=True)
                parity_vs_float64(
                    rec,
                    model_name="fcn101-bncal",
                    module=cal,
                    x=segmentation_input(fcn_size),
                    out_name="classes",
                    device=device,
                    modes=modes,
                )

    result = {
        "environment": env,
        "method": (
            "trtlab.bench.benchmark: time.perf_counter around each call followed by "
            "torch.cuda.synchronize (GPU) ; median of N runs after warm-up; "
            f"GPU warm-up/iterations {gpu_counts} (at least {min_time} s of runs), "
            f"ORT CPU warm-up/iterations {ort_counts}, interleaved with torch fp32"
        ),
        "quick": args.quick,
        "seconds": round(time.perf_counter() - t_start, 1),
        "latency": rec.latency,
        "pairs": rec.pairs,
        "parity": rec.parity,
        "notes": rec.notes,
        "errors": rec.errors,
    }
    for row in result["latency"]:
        row.pop("times_ms", None)  # keep the JSON small; medians and percentiles stay
    (out / "bench.json").write_text(json.dumps(result, indent=1, default=str))
    print("\n== parity (compare.TOLERANCES; 'fp32 tol?': would the fp32 limits also pass)")
    print(parity_table(rec.parity))
    print(f"\n== latency ({result['method']})")
    print(latency_table(rec.latency))
    print(f"\n{len(rec.errors)} step(s) failed; total {result['seconds']} s", flush=True)
    for e in rec.errors:
        print(f"  FAILED {e['step']}: {e['error']}")
    return 1 if rec.errors else 0


if __name__ == "__main__":
    sys.exit(main())
