"""The five steps of TensorRT's quick-start, for ResNet-50, in one call (``trtlab quickstart``).

1. load the model (pretrained when obtainable, else seeded random weights, said loudly);
2. export it to ONNX (cached: a second run is a cache hit and says so);
3. check the ONNX file (checker + summary);
4. choose a precision (fp16 on TensorRT, fp32 on ONNX Runtime);
5. run it on the best backend here, classify the demo images, check parity against PyTorch and
   time both side by side (interleaved), printing how the numbers were taken.

Every printed number names the backend and device that produced it. The returned
:class:`QuickstartResult` holds all of them for tests and notebooks.
"""

from __future__ import annotations

import functools
import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

from trtlab import config
from trtlab.capabilities import ONNX_BACKENDS
from trtlab.errors import InputError
from trtlab.trt.precision import PRECISIONS

if TYPE_CHECKING:
    from trtlab.bench import PairResult
    from trtlab.compare import ParityReport
    from trtlab.data import Prediction
    from trtlab.runners.base import Runner

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: ``--backend`` choices; ``--precision`` takes ``PRECISIONS`` (ONNX Runtime runs fp32 only).
BACKENDS = ("auto", *ONNX_BACKENDS)
MODEL = "resnet50"
STEPS = 5
TOP_K = 5
#: Seconds the side-by-side timing may take (it stops early, after >= 5 rounds, on a busy machine).
BENCH_BUDGET_S = 20.0
QUICK_BENCH_BUDGET_S = 8.0


@dataclass
class QuickstartResult:
    """Everything the quick-start measured (numbers as plain floats, see :meth:`to_dict`)."""

    model: str
    weights: str
    pretrained: bool
    onnx_path: Path
    export_cached: bool
    export_seconds: float
    onnx_summary: Any
    precision: str
    backend: str
    device: str
    images: list[str]
    predictions: list[list[Prediction]]
    parity: ParityReport
    rel_l2: float
    top1_agreement: float
    bench: PairResult
    torch_device: str
    versions: dict[str, str]
    wall_s: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def parity_ok(self) -> bool:
        return bool(self.parity)

    @property
    def torch_median_ms(self) -> float:
        return self.bench.a.median

    @property
    def backend_median_ms(self) -> float:
        return self.bench.b.median

    @property
    def speedup(self) -> float:
        """How many times faster the chosen backend ran than PyTorch (median latency ratio)."""
        return self.bench.ratio

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "weights": self.weights,
            "pretrained": self.pretrained,
            "onnx_path": str(self.onnx_path),
            "export_cached": self.export_cached,
            "export_seconds": self.export_seconds,
            "precision": self.precision,
            "backend": self.backend,
            "device": self.device,
            "torch_device": self.torch_device,
            "images": self.images,
            "predictions": [
                [{"index": p.index, "label": p.label, "probability": p.probability} for p in row]
                for row in self.predictions
            ],
            "parity_ok": self.parity_ok,
            "rel_l2": self.rel_l2,
            "top1_agreement": self.top1_agreement,
            "torch_median_ms": self.torch_median_ms,
            "backend_median_ms": self.backend_median_ms,
            "speedup": self.speedup,
            "bench": self.bench.to_dict(),
            "versions": self.versions,
            "wall_s": self.wall_s,
            "step_seconds": self.step_seconds,
        }


def _versions(backend: str) -> dict[str, str]:
    import importlib.metadata as md

    import trtlab

    out = {"trtlab": trtlab.__version__, "python": platform.python_version()}
    names = ["torch", "onnx", "numpy", "tensorrt" if backend == "tensorrt" else "onnxruntime"]
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "?"
    return out


def _load_note() -> str:
    """Busy machines skew latencies (PyTorch's thread pool most): say how busy this one was."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return ""
    cores = os.cpu_count() or 1
    busy = " (busy: timings are noisy)" if load > cores else ""
    return f", system load {load:.1f} on {cores} cores{busy}"


def _check_choice(name: str, value: str | None, valid: Sequence[str]) -> None:
    if value is not None and value not in valid:
        raise InputError(
            f"{name}={value!r} is not one of {', '.join(valid)}",
            hint=f"e.g. {name}={valid[0]!r}",
        )


def _check_count(name: str, value: int | None, minimum: int) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or value < minimum
    ):
        raise InputError(f"{name} must be an int >= {minimum}, got {value!r}", hint="e.g. 10")


def _check_images(images: Sequence[str | os.PathLike[str]] | None) -> list[Path]:
    """Every image exists and is a non-empty file, and the batch fits in memory (checked first)."""
    if images is None:
        return []
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    paths = [Path(p).expanduser() for p in images]
    if not paths:
        raise InputError("no images to classify", hint="pass --images a.jpg b.jpg")
    from trtlab._io import require_file

    for p in paths:
        require_file(p, what="image", hint="pass image files, e.g. --images cat.jpg dog.png")
    from trtlab._limits import check_batch_memory
    from trtlab.tensors import TensorSpec

    # every image becomes one float32 3x224x224 sample of one batch
    check_batch_memory(
        [TensorSpec("input", (None, 3, 224, 224), np.dtype(np.float32))], [len(paths)]
    )
    return paths


def _restores_torch_threads(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Give the caller back PyTorch's thread count after ``fn`` set its own (``threads=``)."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if kwargs.get("threads") is None:
            return fn(*args, **kwargs)
        import torch

        previous = int(torch.get_num_threads())
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(previous)

    return wrapper


@_restores_torch_threads
def run_quickstart(
    *,
    images: Sequence[str | os.PathLike[str]] | None = None,
    backend: str = "auto",
    precision: str | None = None,
    iterations: int | None = None,
    warmup: int | None = None,
    threads: int | None = None,
    weights: str | None = "default",
    force: bool = False,
    out: Callable[[str], Any] | None = print,
) -> QuickstartResult:
    """Run the five quick-start steps on ResNet-50 and return every number they produced.

    ``out`` receives each progress/result line (``None``: silent). ``threads`` sets the CPU threads
    of both PyTorch and ONNX Runtime (default: PyTorch's current setting, so both get the same).
    ``force=True`` exports again even when the ONNX cache holds the file. Every argument is
    checked before the model is loaded (loading and exporting ResNet-50 takes a while).
    """
    from trtlab import capabilities

    _check_choice("backend", backend, BACKENDS)
    _check_choice("precision", precision, PRECISIONS)
    _check_count("iterations", iterations, 1)
    _check_count("warmup", warmup, 0)
    _check_count("threads", threads, 1)
    if not isinstance(force, bool):
        raise InputError(f"force must be True or False, got {force!r}", hint="force=True")
    paths = _check_images(images)
    backend = capabilities.select_backend("onnx", backend, what="quickstart's ResNet-50 ONNX")
    if precision is None:
        precision = capabilities.default_precision(backend)
    elif backend == "onnxruntime" and precision != "fp32":
        raise InputError(
            f"precision={precision!r} needs TensorRT; ONNX Runtime runs the FP32 graph here",
            hint="use --precision fp32, or --backend tensorrt on a machine with a GPU and TensorRT",
        )
    say: Callable[[str], Any] = out if out is not None else (lambda _line: None)
    if isinstance(weights, str) and weights.lower() in ("random", "none"):
        weights = None
    t_start = time.perf_counter()
    steps: dict[str, float] = {}
    say(f"trtlab quickstart: ResNet-50, PyTorch -> ONNX -> {backend} ({precision})")

    # -- 1. model --------------------------------------------------------------------------------
    t = time.perf_counter()
    say(f"[1/{STEPS}] Loading ResNet-50 (weights={weights!r}) ...")
    import torch

    from trtlab import models

    if threads is not None:
        torch.set_num_threads(threads)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", models.RandomWeightsWarning)
        model = models.load_model(MODEL, weights=weights)
    tag = str(getattr(model, "trtlab_weights", models.RANDOM_TAG))
    pretrained = tag != models.RANDOM_TAG
    for warning in caught:
        if issubclass(warning.category, models.RandomWeightsWarning):
            say(f"      warning: {warning.message}")
    steps["load"] = time.perf_counter() - t
    say(
        f"      ResNet-50 ready in {steps['load']:.1f} s: weights {tag}"
        + ("" if pretrained else " (RANDOM: classifications below are meaningless)")
    )

    # -- 2. export -------------------------------------------------------------------------------
    t = time.perf_counter()
    say(f"[2/{STEPS}] Exporting to ONNX (cached in {config.cache_dir() / 'onnx'}) ...")
    from trtlab import export

    onnx_path = export.export_model(MODEL, weights=weights if pretrained else None, force=force)
    steps["export"] = time.perf_counter() - t
    if onnx_path.cached:
        say(f"      cache hit: {onnx_path} (exported by an earlier run; nothing to do)")
    else:
        say(f"      exported in {onnx_path.seconds:.1f} s -> {onnx_path} (cached for next time)")

    # -- 3. check --------------------------------------------------------------------------------
    t = time.perf_counter()
    say(f"[3/{STEPS}] Checking the ONNX file (onnx.checker, full check) ...")
    summary = export.check_onnx(onnx_path)
    steps["check"] = time.perf_counter() - t
    for line in str(summary).splitlines():
        say(f"      {line}")

    # -- 4. precision ----------------------------------------------------------------------------
    why = (
        "TensorRT on a GPU: FP16 halves memory traffic, parity is checked with FP16 limits"
        if backend == "tensorrt" and precision == "fp16"
        else "ONNX Runtime on CPU runs the FP32 graph (reduced precision needs TensorRT)"
        if backend == "onnxruntime"
        else "as requested"
    )
    say(f"[4/{STEPS}] Precision: {precision}: {why}")

    # -- 5. run ----------------------------------------------------------------------------------
    t = time.perf_counter()
    from trtlab import data
    from trtlab.bench import benchmark_pair, default_counts
    from trtlab.compare import compare
    from trtlab.runners.torch_runner import TorchRunner

    paths = paths or data.demo_images()
    batch = data.make_batch([data.preprocess_imagenet(p) for p in paths])
    n = int(batch.shape[0])
    cpu_threads = threads if threads is not None else int(torch.get_num_threads())
    candidate = _make_backend_runner(backend, onnx_path, precision, n, cpu_threads)
    reference = TorchRunner(model, output_names=("logits",), device="auto", name="pytorch")
    say(
        f"[5/{STEPS}] Running on {backend} [{candidate.device}], "
        f"reference PyTorch [{reference.device}] ..."
    )
    cand_out = candidate({"input": batch})
    ref_out = reference({"input": batch})
    preds = data.topk(cand_out["logits"], TOP_K, data.imagenet_labels())
    if not pretrained:
        say("      RANDOM weights: these top-5 lists are meaningless (the checks below are not)")
    for p, row in zip(paths, preds, strict=True):
        top = ", ".join(f"{x.label} {x.probability:.1%}" for x in row)
        say(f"      {p.name} [{backend}]: {top}")

    parity = compare(
        ref_out, cand_out, precision=precision, reference_name="torch", candidate_name=backend
    )
    metrics = parity["logits"].metrics
    rel_l2 = float(metrics["rel_l2"])
    top1 = float(metrics["top1_agreement"])
    limit = parity.tolerance.max_rel_l2
    say(
        f"      parity {backend} [{candidate.device}] vs torch [{reference.device}] on {n} images: "
        f"rel L2 {rel_l2:.2e} (limit {limit:.0e}), top-1 agreement {top1:.0%} -> "
        + ("PASS" if parity else "FAIL")
    )

    w_default, i_default = default_counts()
    w = warmup if warmup is not None else min(w_default, 3)
    iters = iterations if iterations is not None else min(i_default, 20)
    one = {"input": np.ascontiguousarray(batch[:1])}
    budget = QUICK_BENCH_BUDGET_S if config.quick() else BENCH_BUDGET_S
    pair = benchmark_pair(reference, candidate, one, warmup=w, iterations=iters, max_time_s=budget)
    steps["run"] = time.perf_counter() - t
    faster = "faster" if pair.ratio >= 1 else "slower"
    factor = pair.ratio if pair.ratio >= 1 else 1 / pair.ratio
    say(
        f"      latency, batch 1: torch [{reference.device}] median {pair.a.median:.1f} ms, "
        f"{backend} [{candidate.device}] median {pair.b.median:.1f} ms -> {backend} is "
        f"{factor:.2f}x {faster} than torch"
    )
    versions = _versions(backend)
    say(
        f"      method: interleaved rounds, median of {pair.a.iterations} runs each after {w} "
        f"warm-up, batch 1, {cpu_threads} CPU threads each{_load_note()}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    candidate.close()
    wall = time.perf_counter() - t_start
    say(f"done in {wall:.1f} s")
    return QuickstartResult(
        model=MODEL,
        weights=tag,
        pretrained=pretrained,
        onnx_path=Path(onnx_path),
        export_cached=bool(onnx_path.cached),
        export_seconds=float(onnx_path.seconds),
        onnx_summary=summary,
        precision=precision,
        backend=backend,
        device=candidate.device,
        images=[p.name for p in paths],
        predictions=preds,
        parity=parity,
        rel_l2=rel_l2,
        top1_agreement=top1,
        bench=pair,
        torch_device=reference.device,
        versions=versions,
        wall_s=wall,
        step_seconds=steps,
    )


def _make_backend_runner(
    backend: str, onnx_path: Path, precision: str, max_batch: int, threads: int
) -> Runner:
    """ONNX Runtime with the same thread count as PyTorch, or a TensorRT engine for 1..max_batch."""
    if backend == "onnxruntime":
        from trtlab.runners.ort import OnnxRuntimeRunner

        return OnnxRuntimeRunner(onnx_path, threads=threads, name="onnxruntime").activate()
    from trtlab.runners.trt import TrtRunner

    shape = (3, 224, 224)
    profile = {"input": ((1, *shape), (1, *shape), (max_batch, *shape))}
    return TrtRunner.from_onnx(
        onnx_path, precision=precision, profiles=profile, name="tensorrt"
    ).activate()


__all__ = ["BACKENDS", "PRECISIONS", "QuickstartResult", "run_quickstart"]
