"""Latency measurements that say how they were taken.

Every result keeps its raw per-iteration times, so medians and percentiles can be recomputed and
plotted, and carries the backend, device, precision and batch size that produced it.

How a run is taken (one rule for :func:`benchmark`, :func:`benchmark_pair` and
:func:`benchmark_many`):

- ``warmup`` untimed calls first, then timed calls until each configuration has at least
  ``iterations`` samples *and* at least ``min_time_s`` seconds of measured time (the sum of its
  samples). A safety cap (``max_iterations``) may stop a very fast function earlier; the result
  then says so (``stop_reason == "max_iterations"``, and in :meth:`BenchResult.method`).
- Timers fit the device: CUDA events around the call when a torch runner runs on a CUDA GPU,
  ``time.perf_counter`` (after the runner's ``synchronize()``) otherwise.
- Runners get several input buffers (:data:`DEFAULT_BUFFERS`), used in rotation, so no call finds
  its input hot in a cache that the previous call warmed; inputs are validated once, and the timed
  loop calls ``runner(feed, check=False)``.
- Several configurations are timed interleaved, round-robin with the order rotating each round, so
  a burst of background load slows all of them instead of one.
- Percentiles are reported only with enough samples: p90 needs >= 10, p99 >= 100
  (:data:`PERCENTILE_MIN_SAMPLES`); below that they are ``None`` ("n/a"), never a p99 of 3 runs.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from trtlab import config
from trtlab._limits import check_batch_memory
from trtlab.errors import FileFormatError, InputError
from trtlab.runners.base import BACKENDS, Feed, Runner

#: Defaults as (warmup, iterations): normal mode, and quick mode (``TRTLAB_QUICK=1``).
DEFAULTS = (10, 50)
QUICK_DEFAULTS = (2, 10)
#: Safety cap on timed iterations per configuration; a run stopped by it says so in its result.
MAX_ITERATIONS = 1_000_000
#: Fewest rounds :func:`benchmark_pair` runs even when ``max_time_s`` has passed.
MIN_PAIR_ROUNDS = 5
#: Input buffers a runner's benchmark rotates through (each a separate copy of the inputs).
DEFAULT_BUFFERS = 3
#: Fewest samples for which a percentile is reported: at least one sample must lie above it.
PERCENTILE_MIN_SAMPLES: dict[int, int] = {50: 1, 90: 10, 99: 100}
#: Why a timed loop ended (``BenchResult.stop_reason``).
STOP_REASONS = ("iterations", "min_time", "max_iterations", "max_time")
TIMERS = ("perf_counter", "cuda_events")

Clock = Callable[[], float]


def default_counts() -> tuple[int, int]:
    """(warm-up, iterations) for the current mode."""
    return QUICK_DEFAULTS if config.quick() else DEFAULTS


def percentile_or_none(times_ms: np.ndarray, q: int) -> float | None:
    """``np.percentile(times_ms, q)`` when there are enough samples for it, else ``None``."""
    need = PERCENTILE_MIN_SAMPLES.get(q, math.ceil(100.0 / max(100.0 - q, 1e-9)))
    if times_ms.size < need:
        return None
    return float(np.percentile(times_ms, q))


def _fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


@dataclass
class BenchResult:
    """Per-iteration latencies (ms) of one configuration, with summary statistics."""

    name: str
    backend: str
    device: str
    batch: int
    times_ms: np.ndarray
    warmup: int = 0
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    precision: str | None = None
    timer: str = "perf_counter"
    stop_reason: str = "iterations"
    min_time_s: float = 0.0
    buffers: int = 1
    peak_memory_bytes: int | None = None

    def __post_init__(self) -> None:
        self.times_ms = np.asarray(self.times_ms, dtype=np.float64).reshape(-1)
        if self.times_ms.size == 0:
            raise InputError(
                f"benchmark result {self.name!r} has no timings",
                hint="run at least one timed iteration",
            )

    @property
    def iterations(self) -> int:
        return int(self.times_ms.size)

    @property
    def median(self) -> float:
        return float(np.median(self.times_ms))

    @property
    def p50(self) -> float:
        return self.median

    @property
    def mean(self) -> float:
        return float(np.mean(self.times_ms))

    @property
    def p90(self) -> float | None:
        """90th percentile, or ``None`` with fewer than 10 samples."""
        return percentile_or_none(self.times_ms, 90)

    @property
    def p99(self) -> float | None:
        """99th percentile, or ``None`` with fewer than 100 samples."""
        return percentile_or_none(self.times_ms, 99)

    @property
    def min(self) -> float:
        return float(np.min(self.times_ms))

    @property
    def stdev(self) -> float:
        return float(statistics.stdev(self.times_ms.tolist())) if self.iterations > 1 else 0.0

    @property
    def timed_s(self) -> float:
        """Seconds of measured time (the sum of the samples)."""
        return float(self.times_ms.sum()) / 1000.0

    @property
    def throughput(self) -> float:
        """Items per second at the median latency (batch / median)."""
        return self.batch * 1000.0 / self.median if self.median > 0 else float("inf")

    @property
    def items_per_s(self) -> float:
        return self.throughput

    def method(self) -> str:
        """How the numbers were taken, in words (printed next to them)."""
        threads = f", {self.threads} threads" if self.threads else ""
        text = (
            f"median of {self.iterations} runs after {self.warmup} warm-up, "
            f"batch {self.batch}{threads}"
        )
        if self.timer != "perf_counter":
            text += f", timed with {self.timer.replace('_', ' ')}"
        if self.buffers > 1:
            text += f", {self.buffers} input buffers in rotation"
        if self.stop_reason == "max_iterations":
            text += (
                f"; stopped at the {self.iterations:,}-iteration cap after {self.timed_s:.3g} s "
                f"of the {self.min_time_s:.3g} s asked (min_time_s)"
            )
        elif self.stop_reason == "max_time":
            text += f"; stopped by max_time_s after {self.timed_s:.3g} s of timed runs"
        return text

    def __str__(self) -> str:
        text = (
            f"{self.name} [{self.backend} on {self.device}] batch {self.batch}: "
            f"median {self.median:.2f} ms (p90 {_fmt_ms(self.p90)}, p99 {_fmt_ms(self.p99)}, "
            f"min {self.min:.2f}, stdev {self.stdev:.2f}) -> {self.throughput:.1f} items/s; "
            f"{self.iterations} runs after {self.warmup} warm-up"
        )
        if self.precision:
            text += f", {self.precision}"
        if self.stop_reason in ("max_iterations", "max_time"):
            text += f" (stopped early: {self.stop_reason})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "device": self.device,
            "precision": self.precision,
            "batch": self.batch,
            "warmup": self.warmup,
            "iterations": self.iterations,
            "threads": self.threads,
            "median_ms": self.median,
            "p50_ms": self.median,
            "mean_ms": self.mean,
            "p90_ms": self.p90,
            "p99_ms": self.p99,
            "min_ms": self.min,
            "stdev_ms": self.stdev,
            "throughput": self.throughput,
            "items_per_s": self.throughput,
            "timer": self.timer,
            "stop_reason": self.stop_reason,
            "min_time_s": self.min_time_s,
            "buffers": self.buffers,
            "peak_memory_bytes": self.peak_memory_bytes,
            "times_ms": [float(t) for t in self.times_ms],
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BenchResult:
        """Rebuild a result from :meth:`to_dict` output (derived statistics are recomputed)."""
        if not isinstance(data, Mapping) or "times_ms" not in data:
            raise InputError(
                f"expected a BenchResult.to_dict() mapping with times_ms, got "
                f"{type(data).__name__}",
                hint="load files written by BenchTable.save / `trtlab bench --json`",
            )
        known = {
            "name", "backend", "device", "precision", "batch", "warmup", "threads", "timer",
            "stop_reason", "min_time_s", "buffers", "peak_memory_bytes", "times_ms",
        }  # fmt: skip
        derived = {
            "iterations", "median_ms", "p50_ms", "mean_ms", "p90_ms", "p99_ms", "min_ms",
            "stdev_ms", "throughput", "items_per_s",
        }  # fmt: skip
        extra = {k: v for k, v in data.items() if k not in known | derived | set(_ROW_META)}
        return cls(
            name=str(data.get("name", "")),
            backend=str(data.get("backend", "")),
            device=str(data.get("device", "")),
            batch=int(data.get("batch", 1)),
            times_ms=np.asarray(data["times_ms"], dtype=np.float64),
            warmup=int(data.get("warmup", 0)),
            threads=data.get("threads"),
            extra=extra,
            precision=data.get("precision"),
            timer=str(data.get("timer", "perf_counter")),
            stop_reason=str(data.get("stop_reason", "iterations")),
            min_time_s=float(data.get("min_time_s", 0.0)),
            buffers=int(data.get("buffers", 1)),
            peak_memory_bytes=data.get("peak_memory_bytes"),
        )


# -- targets: what one timed call does ------------------------------------------------------------


@dataclass
class _Target:
    """A zero-argument callable to time, plus what to label its result with."""

    call: Callable[[], Any]
    name: str
    backend: str
    device: str
    batch: int
    sync: Callable[[], Any] | None
    threads: int | None
    precision: str | None = None
    timer: str = "perf_counter"
    buffers: int = 1
    cuda_device: str | None = None  # set when torch CUDA memory/events apply
    extra: dict[str, Any] = field(default_factory=dict)


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(
            f"{name} must be an int >= {minimum}, got {value!r}",
            hint=f"e.g. {name}={max(minimum, 10)}",
        )
    return value


def _batch_of(feed: Mapping[str, np.ndarray] | np.ndarray | Sequence[Any] | None) -> int:
    arrays: Iterable[Any]
    if feed is None:
        return 1
    if isinstance(feed, np.ndarray):
        arrays = [feed]
    elif isinstance(feed, Mapping):
        arrays = feed.values()
    elif isinstance(feed, Sequence):
        arrays = feed
    else:
        return 1
    for a in arrays:
        shape = getattr(a, "shape", None)
        if shape:
            return int(shape[0])
    return 1


def _threads(runner: Runner) -> int | None:
    threads = getattr(runner, "threads", None)
    if isinstance(threads, int):
        return threads
    if runner.backend == "torch" and not runner.device.startswith("cuda"):
        import torch

        return int(torch.get_num_threads())
    return None


def _torch_cuda_device(runner: Runner) -> str | None:
    """``cuda:N`` when ``runner`` is a torch runner on a CUDA GPU (events + memory apply)."""
    if runner.backend != "torch":
        return None
    from trtlab.runners.torch_runner import TorchRunner  # no torch import: that happened already

    if not isinstance(runner, TorchRunner):
        return None
    device = runner.device  # "cuda:0 (NVIDIA H200)" or "cpu"
    if not device.startswith("cuda"):
        return None
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return device.split(" ", 1)[0]


def _choose_timer(requested: str, cuda_device: str | None) -> str:
    if requested not in ("auto", *TIMERS):
        raise InputError(
            f"timer must be 'auto' or one of {TIMERS}, got {requested!r}", hint="timer='auto'"
        )
    if requested == "auto":
        return "cuda_events" if cuda_device is not None else "perf_counter"
    if requested == "cuda_events" and cuda_device is None:
        raise InputError(
            "timer='cuda_events' needs a torch runner on a CUDA GPU",
            hint="use timer='auto' (perf_counter on the CPU)",
        )
    return requested


def _feeds(runner: Runner, inputs: Feed | None, batch: int | None, buffers: int) -> list[Any]:
    """``buffers`` validated feeds: random ones of ``batch``, or copies of ``inputs``."""
    if inputs is None:
        feeds = [runner.sample_inputs(batch=batch or 1, seed=i) for i in range(buffers)]
        return [runner.normalize_feed(f) for f in feeds]
    first = runner.normalize_feed(inputs)
    copies = [{k: np.array(v, copy=True) for k, v in first.items()} for _ in range(1, buffers)]
    return [first, *copies]


def _target(
    subject: Runner | Callable[..., Any],
    inputs: Feed | None,
    *,
    batch: int | None,
    name: str | None,
    sync: Callable[[], Any] | None,
    buffers: int | None = None,
    timer: str = "auto",
    precision: str | None = None,
) -> _Target:
    if isinstance(subject, Runner):
        runner = subject
        n_buf = _check_count("buffers", DEFAULT_BUFFERS if buffers is None else buffers, 1)
        feeds = _feeds(runner, inputs, batch, n_buf)
        next_feed = itertools.cycle(feeds).__next__

        def call() -> Any:
            return runner(next_feed(), check=False)  # validated once above, not in the loop

        cuda_device = _torch_cuda_device(runner)
        return _Target(
            call=call,
            name=name or runner.name,
            backend=runner.backend,
            device=runner.device,
            batch=batch or _batch_of(feeds[0]),
            sync=sync if sync is not None else getattr(runner, "synchronize", None),
            threads=_threads(runner),
            precision=precision or getattr(runner, "precision", None),
            timer=_choose_timer(timer, cuda_device),
            buffers=n_buf,
            cuda_device=cuda_device,
        )
    if not callable(subject):
        raise InputError(
            f"benchmark() expects a Runner or a callable, got {type(subject).__name__}",
            hint="e.g. benchmark(trtlab.runner(path)) or benchmark(lambda: model(x))",
        )
    fn = subject
    fn_call: Callable[[], Any] = (lambda: fn(inputs)) if inputs is not None else fn
    return _Target(
        call=fn_call,
        name=name or str(getattr(fn, "__name__", type(fn).__name__)),
        backend="python",
        # a sync callable means the work is queued on an accelerator (e.g. torch.cuda.synchronize)
        device="host" if sync is None else "host + accelerator (synchronized)",
        batch=batch or _batch_of(inputs),
        sync=sync,
        threads=None,
        precision=precision,
        timer=_choose_timer(timer, None),
    )


def _timer_fn(target: _Target, clock: Clock) -> Callable[[], float]:
    """A function that makes one timed call of ``target`` and returns its latency in ms."""
    call, sync = target.call, target.sync
    if target.timer == "cuda_events":
        import torch

        start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call,unused-ignore]
        end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call,unused-ignore]

        def with_events() -> float:
            start.record()
            call()
            end.record()
            end.synchronize()
            return float(start.elapsed_time(end))

        return with_events

    def with_clock() -> float:
        t0 = clock()
        call()
        if sync is not None:
            sync()
        return (clock() - t0) * 1000.0

    return with_clock


def _resolve_counts(warmup: int | None, iterations: int | None) -> tuple[int, int]:
    w_default, i_default = default_counts()
    w = _check_count("warmup", w_default if warmup is None else warmup, 0)
    n = _check_count("iterations", i_default if iterations is None else iterations, 1)
    return w, n


@dataclass(frozen=True)
class _Budget:
    """How long one timing run goes, checked once from the public keyword arguments."""

    warmup: int
    iterations: int
    min_time_s: float
    max_iterations: int
    max_time_s: float = math.inf


def _budget(
    warmup: int | None,
    iterations: int | None,
    min_time_s: float | None,
    max_iterations: int,
    max_time_s: float | None = None,
) -> _Budget:
    w, n = _resolve_counts(warmup, iterations)
    min_time = _check_seconds("min_time_s", min_time_s)
    max_time = _check_seconds("max_time_s", max_time_s) if max_time_s is not None else math.inf
    cap = _check_count("max_iterations", max_iterations, 1)
    return _Budget(w, n, min_time, cap, max_time)


def _check_seconds(name: str, value: float | None) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputError(f"{name} must be a number >= 0, got {value!r}", hint="e.g. 1.0")
    return float(value)


def _reset_peak(target: _Target) -> None:
    if target.cuda_device is not None:
        import torch

        torch.cuda.reset_peak_memory_stats(target.cuda_device)


def _peak(target: _Target) -> int | None:
    if target.cuda_device is None:
        return None
    import torch

    return int(torch.cuda.max_memory_allocated(target.cuda_device))


def _run_interleaved(
    targets: Sequence[_Target],
    budget: _Budget,
    *,
    min_rounds: int,
    clock: Clock | None,
    progress: Callable[[int, int], Any] | None = None,
) -> list[BenchResult]:
    """Warm up, then time ``targets`` round-robin (order rotating each round) until done."""
    clock = clock or time.perf_counter
    warmup, iterations, min_time_s = budget.warmup, budget.iterations, budget.min_time_s
    for t in targets:
        _reset_peak(t)
    for _ in range(warmup):
        for t in targets:
            t.call()
    for t in targets:
        if t.sync is not None:
            t.sync()
    timers = [_timer_fn(t, clock) for t in targets]
    times: list[list[float]] = [[] for _ in targets]
    spent_ms = [0.0] * len(targets)
    order = list(range(len(targets)))
    need_ms = min_time_s * 1000.0
    start = clock()
    rounds = 0
    while True:
        if rounds >= iterations and min(spent_ms) >= need_ms:
            reason = "min_time" if need_ms > 0 and rounds > iterations else "iterations"
            break
        if rounds >= budget.max_iterations:
            reason = "max_iterations"
            break
        if rounds >= min_rounds and clock() - start > budget.max_time_s:
            reason = "max_time"
            break
        k = rounds % len(order)
        for i in order[k:] + order[:k]:
            ms = timers[i]()
            times[i].append(ms)
            spent_ms[i] += ms
        rounds += 1
        if progress is not None:
            progress(rounds, iterations)
    return [
        BenchResult(
            name=t.name,
            backend=t.backend,
            device=t.device,
            batch=t.batch,
            times_ms=np.asarray(ts, dtype=np.float64),
            warmup=warmup,
            threads=t.threads,
            extra=dict(t.extra),
            precision=t.precision,
            timer=t.timer,
            stop_reason=reason,
            min_time_s=min_time_s,
            buffers=t.buffers,
            peak_memory_bytes=_peak(t),
        )
        for t, ts in zip(targets, times, strict=True)
    ]


def benchmark(
    fn_or_runner: Runner | Callable[..., Any],
    inputs: Feed | None = None,
    *,
    warmup: int | None = None,
    iterations: int | None = None,
    min_time_s: float | None = None,
    sync: Callable[[], Any] | None = None,
    batch: int | None = None,
    name: str | None = None,
    buffers: int | None = None,
    timer: str = "auto",
    max_iterations: int = MAX_ITERATIONS,
    precision: str | None = None,
    clock: Clock | None = None,
) -> BenchResult:
    """Time ``fn_or_runner`` and return every iteration's latency.

    A runner gets ``inputs`` (default: random inputs of ``batch``) validated once, in ``buffers``
    copies used in rotation; a plain callable is called as ``fn(inputs)`` or ``fn()``. After
    ``warmup`` untimed calls it runs at least ``iterations`` timed calls and keeps going until
    ``min_time_s`` seconds of timed calls were spent (``max_iterations`` caps that; the result
    says when it did). ``clock`` replaces ``time.perf_counter`` (tests pass a fake clock).
    """
    budget = _budget(warmup, iterations, min_time_s, max_iterations)
    target = _target(
        fn_or_runner,
        inputs,
        batch=batch,
        name=name,
        sync=sync,
        buffers=buffers,
        timer=timer,
        precision=precision,
    )
    return _run_interleaved([target], budget, min_rounds=0, clock=clock)[0]


def compare_speed(baseline: BenchResult, candidate: BenchResult) -> float:
    """How many times faster ``candidate`` is than ``baseline`` (ratio of medians; > 1 = faster)."""
    if candidate.median <= 0:
        raise InputError("candidate median is 0 ms; cannot form a ratio", hint="time more work")
    return baseline.median / candidate.median


@dataclass
class PairResult:
    """Two configurations timed alternately; ``ratio``: how many times faster ``b`` ran."""

    a: BenchResult
    b: BenchResult

    @property
    def ratio(self) -> float:
        return compare_speed(self.a, self.b)

    def __str__(self) -> str:
        return (
            f"{self.a.name} [{self.a.backend} on {self.a.device}]: median {self.a.median:.2f} ms\n"
            f"{self.b.name} [{self.b.backend} on {self.b.device}]: median {self.b.median:.2f} ms\n"
            f"{self.b.backend} vs {self.a.backend}: {self.ratio:.2f}x "
            f"(interleaved, {self.a.method()})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "ratio": self.ratio}


def benchmark_pair(
    a: Runner | Callable[..., Any],
    b: Runner | Callable[..., Any],
    inputs: Feed | None = None,
    *,
    inputs_b: Feed | None = None,
    warmup: int | None = None,
    iterations: int | None = None,
    min_time_s: float | None = None,
    max_time_s: float | None = None,
    batch: int | None = None,
    buffers: int | None = None,
    max_iterations: int = MAX_ITERATIONS,
    clock: Clock | None = None,
) -> PairResult:
    """Time ``a`` and ``b`` alternately (a,b then b,a, ...) so machine noise hits both alike.

    ``inputs`` feeds both unless ``inputs_b`` is given. The ratio is ``a.median / b.median``.
    ``max_time_s`` caps the timed phase on a slow or busy machine: after it, timing stops once
    :data:`MIN_PAIR_ROUNDS` rounds are done (the results say ``stop_reason == "max_time"``).
    """
    budget = _budget(warmup, iterations, min_time_s, max_iterations, max_time_s)
    ta = _target(a, inputs, batch=batch, name=None, sync=None, buffers=buffers)
    inputs_2 = inputs_b if inputs_b is not None else inputs
    tb = _target(b, inputs_2, batch=batch, name=None, sync=None, buffers=buffers)
    for t in (ta, tb):
        t.extra["interleaved"] = True
    ra, rb = _run_interleaved([ta, tb], budget, min_rounds=MIN_PAIR_ROUNDS, clock=clock)
    return PairResult(ra, rb)


def sweep(
    make_runner_or_fn: Runner | Callable[[int], Any],
    batches: Sequence[int] = (1, 2, 4, 8),
    *,
    warmup: int | None = None,
    iterations: int | None = None,
    min_time_s: float | None = None,
    sync: Callable[[], Any] | None = None,
    callback: Callable[[BenchResult], Any] | None = None,
) -> list[BenchResult]:
    """Benchmark each batch size; ``callback(result)`` runs after each one (live widgets/plots).

    ``make_runner_or_fn`` is a runner with a dynamic batch axis (random inputs of each size), or a
    factory ``f(batch)`` returning a runner or a zero-argument callable for that batch size.
    For several backends or precisions side by side, interleaved, use :func:`benchmark_many`.
    """
    batch_list = _check_batches(batches)
    results: list[BenchResult] = []
    for b in batch_list:
        if isinstance(make_runner_or_fn, Runner):
            subject: Any = make_runner_or_fn
        elif callable(make_runner_or_fn):
            subject = make_runner_or_fn(b)
        else:
            raise InputError(
                f"sweep() expects a Runner or a factory f(batch), got "
                f"{type(make_runner_or_fn).__name__}",
                hint="e.g. sweep(trtlab.runner(path), batches=[1, 4])",
            )
        result = benchmark(
            subject,
            warmup=warmup,
            iterations=iterations,
            min_time_s=min_time_s,
            sync=sync,
            batch=b,
        )
        results.append(result)
        if callback is not None:
            callback(result)
    return results


def _check_batches(batches: Sequence[int]) -> list[int]:
    if isinstance(batches, (str, bytes)) or not batches:
        raise InputError(
            f"batches must be a non-empty list of ints, got {batches!r}", hint="[1, 8]"
        )
    return [_check_count("batch", b, 1) for b in batches]


# -- many configurations, one interleaved run -----------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One configuration of :func:`benchmark_many`: a runner (or callable) at one batch size."""

    subject: Runner | Callable[..., Any]
    batch: int
    precision: str | None = None
    name: str | None = None


def benchmark_many(
    configs: Sequence[Config],
    *,
    warmup: int | None = None,
    iterations: int | None = None,
    min_time_s: float | None = None,
    max_iterations: int = MAX_ITERATIONS,
    buffers: int | None = None,
    baseline: str | None = None,
    progress: Callable[[str], Any] | None = None,
    clock: Clock | None = None,
) -> BenchTable:
    """Time every configuration in one interleaved run; returns a :class:`BenchTable`.

    Each round times every configuration once, in an order that rotates round by round, so drift
    and background load hit all alike. The run ends when every configuration has ``iterations``
    samples and ``min_time_s`` seconds of timed calls. ``baseline``: the backend the table's
    ratios refer to (default: the first configuration's backend). ``progress(line)`` gets a
    short status line after each round.
    """
    if not configs:
        raise InputError("benchmark_many got no configurations", hint="pass at least one Config")
    budget = _budget(warmup, iterations, min_time_s, max_iterations)
    targets = []
    for c in configs:
        if not isinstance(c, Config):
            raise InputError(
                f"benchmark_many expects Config objects, got {type(c).__name__}",
                hint="e.g. Config(runner, batch=8, precision='fp32')",
            )
        _check_count("batch", c.batch, 1)
        targets.append(
            _target(
                c.subject,
                None,
                batch=c.batch,
                name=c.name,
                sync=None,
                buffers=buffers,
                precision=c.precision,
            )
        )
    for t in targets:
        t.extra["interleaved"] = len(targets) > 1
    report = None
    if progress is not None:
        say = progress

        def report(done: int, wanted: int) -> None:
            say(f"round {done} ({wanted} wanted, {len(targets)} configurations)")

    rows = _run_interleaved(targets, budget, min_rounds=0, clock=clock, progress=report)
    return BenchTable(rows, baseline=baseline)


# -- results table -------------------------------------------------------------------------------

#: Keys every saved row carries besides the result itself (the run's context).
_ROW_META = ("ratio", "baseline", "versions", "machine", "date")


def run_context() -> dict[str, Any]:
    """Versions, machine and date of this run (stored with every saved row)."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for dist in ("trtlab", "numpy", "torch", "onnxruntime", "tensorrt", "tensorrt_lean"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    machine: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "nproc": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load] if load else None,
    }
    try:
        from trtlab import capabilities  # type: ignore[attr-defined,unused-ignore]

        caps = capabilities.probe()
        machine["gpu"] = caps.gpu_name
        machine["compute_capability"] = caps.compute_capability
    except (ImportError, AttributeError):  # capabilities not available in this build
        pass
    return {
        "versions": versions,
        "machine": machine,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


class BenchTable:
    """Benchmark rows side by side: text/markdown/HTML table, ratios to a baseline, JSON files.

    ``ratio(row)`` is how many times faster ``row`` runs than the baseline backend's row of the same
    batch and precision (baseline median / row median; > 1 is faster). The baseline is
    ``baseline`` or the first row's backend. Saved files are a JSON list of flat rows, each with
    the run's versions, machine and date, so a row read alone still says where it came from.
    """

    def __init__(
        self,
        rows: Iterable[BenchResult],
        *,
        baseline: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.rows: list[BenchResult] = list(rows)
        for r in self.rows:
            if not isinstance(r, BenchResult):
                raise InputError(
                    f"BenchTable rows must be BenchResult objects, got {type(r).__name__}",
                    hint="use BenchTable.from_rows(dicts) for to_dict() output",
                )
        self.baseline = baseline or (self.rows[0].backend if self.rows else None)
        self.context: dict[str, Any] = dict(context) if context is not None else run_context()
        #: Configurations that could not run, each with its reason (benchmark_model fills it).
        self.skipped: list[str] = []

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[BenchResult]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> BenchResult:
        return self.rows[index]

    def baseline_row(self, row: BenchResult) -> BenchResult | None:
        """The baseline backend's row for ``row``'s batch (same precision first, else any)."""
        same_batch = [r for r in self.rows if r.backend == self.baseline and r.batch == row.batch]
        for r in same_batch:
            if r.precision == row.precision:
                return r
        return same_batch[0] if same_batch else None

    def ratio(self, row: BenchResult) -> float | None:
        """Speed-up of ``row`` over its baseline row (None when there is none)."""
        base = self.baseline_row(row)
        if base is None or row.median <= 0:
            return None
        return base.median / row.median

    _HEADERS = (
        "backend", "device", "precision", "batch", "p50 ms", "p90 ms", "p99 ms", "items/s",
        "runs", "ratio",
    )  # fmt: skip

    def _cells(self) -> list[list[str]]:
        out = []
        for r in self.rows:
            ratio = self.ratio(r)
            out.append(
                [
                    r.backend,
                    r.device,
                    r.precision or "-",
                    str(r.batch),
                    f"{r.median:.3f}",
                    _fmt_ms(r.p90),
                    _fmt_ms(r.p99),
                    f"{r.throughput:.1f}",
                    str(r.iterations) + ("*" if r.stop_reason == "max_iterations" else ""),
                    "-" if ratio is None else f"{ratio:.2f}x",
                ]
            )
        return out

    def _footer(self) -> str:
        note = f"ratio: speed-up over {self.baseline} at the same batch and precision (> 1 faster)"
        if self.rows:
            r = self.rows[0]
            how = "interleaved round-robin" if r.extra.get("interleaved") else "one at a time"
            note += (
                f"; p50 = median of >= {min(x.iterations for x in self.rows)} timed runs per "
                f"configuration after {r.warmup} warm-up, {how}, timer {r.timer}, "
                f"{r.buffers} input buffer(s) in rotation"
            )
        if any(r.stop_reason == "max_iterations" for r in self.rows):
            note += "; * stopped at the iteration cap before min_time_s"
        return note

    def __str__(self) -> str:
        cells = self._cells()
        heads = list(self._HEADERS)
        widths = [max(len(x[i]) for x in [heads, *cells]) for i in range(len(heads))]
        lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip()]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells
        ]
        lines.append(self._footer())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<BenchTable {len(self.rows)} rows, baseline {self.baseline}>"

    def to_markdown(self) -> str:
        """A GitHub-flavoured markdown table (for docs/performance.md and notebooks)."""
        lines = [
            "| " + " | ".join(self._HEADERS) + " |",
            "|" + "|".join("---" for _ in self._HEADERS) + "|",
        ]
        lines += [
            "| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in self._cells()
        ]
        return "\n".join(lines) + f"\n\n{self._footer()}\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEADERS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._cells()
        )
        return (
            f"<table class='trtlab-bench'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table><p><small>{html.escape(self._footer())}</small></p>"
        )

    def to_rows(self) -> list[dict[str, Any]]:
        """Flat JSON-ready rows: the result, its ratio and the run's context."""
        rows = []
        for r in self.rows:
            d = r.to_dict()
            d["ratio"] = self.ratio(r)
            d["baseline"] = self.baseline
            d.update(self.context)
            rows.append(d)
        return rows

    def to_json(self) -> str:
        return json.dumps(self.to_rows(), indent=2)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (temp name + rename)."""
        from trtlab._io import atomic_write_text, check_destination

        target = check_destination(path, what="benchmark JSON")
        target.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(target, self.to_json() + "\n")

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> BenchTable:
        """Rebuild a table from :meth:`to_rows` output (or a list of ``to_dict()`` mappings)."""
        if isinstance(rows, Mapping) or not isinstance(rows, Sequence):
            raise InputError(
                f"expected a list of benchmark rows, got {type(rows).__name__}",
                hint="pass the list written by BenchTable.save / `trtlab bench --json`",
            )
        results = [BenchResult.from_dict(r) for r in rows]
        first: Mapping[str, Any] = rows[0] if rows else {}
        context = {k: first[k] for k in ("versions", "machine", "date") if k in first}
        baseline = first.get("baseline") if isinstance(first.get("baseline"), str) else None
        return cls(results, baseline=baseline, context=context)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BenchTable:
        """Read a file written by :meth:`save` or ``trtlab bench --json``."""
        from trtlab._io import require_file

        p = require_file(path, what="benchmark JSON", hint="write one with BenchTable.save(path)")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FileFormatError(
                f"{p} is not benchmark JSON: {exc}",
                hint="pass a file written by BenchTable.save / `trtlab bench --json`",
            ) from exc
        return cls.from_rows(data)


def as_results(results: BenchTable | BenchResult | Iterable[Any]) -> list[BenchResult]:
    """BenchResults from a table, one result, or a list of results / ``to_dict()`` rows."""
    if isinstance(results, BenchTable):
        return list(results.rows)
    if isinstance(results, BenchResult):
        return [results]
    out = []
    for r in results:
        if isinstance(r, BenchResult):
            out.append(r)
        elif isinstance(r, Mapping):
            out.append(BenchResult.from_dict(r))
        else:
            raise InputError(
                f"expected BenchResult objects (or their to_dict() rows), got {type(r).__name__}",
                hint="pass results of trtlab.bench.benchmark / sweep / benchmark_many",
            )
    return out


# -- `trtlab bench` -------------------------------------------------------------------------------


def _split_list(values: Sequence[str] | str, what: str) -> list[str]:
    items = [values] if isinstance(values, str) else list(values)
    out = [p.strip() for v in items for p in str(v).split(",") if p.strip()]
    if not out:
        raise InputError(f"--{what} is empty", hint=f"e.g. --{what} 1,8")
    return out


def _parse_batches(values: Sequence[Sequence[int]]) -> list[int]:
    batches = [b for group in values for b in group]
    return _check_batches(batches)


def _skip_reason(backend: str, kind: Literal["onnx", "engine", "module"]) -> str | None:
    """Why ``backend`` cannot run here (None when it can), from trtlab.capabilities."""
    from trtlab.errors import TrtlabError

    try:
        from trtlab import capabilities  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # fall back to the runners' check in builds without capabilities
        from trtlab.runners import available_backends

        return None if backend in available_backends() else f"{backend} is not available here"
    try:
        capabilities.select_backend(kind, backend)
    except TrtlabError as exc:
        return str(exc).splitlines()[0]
    return None


def _make_subject(source: str, backend: str, precision: str, device: str, batch_max: int) -> Any:
    """A runner of ``source`` on ``backend`` at ``precision`` (raises TrtlabError when it can't)."""
    from trtlab import models
    from trtlab.errors import BackendError

    named = source in models.MODEL_SPECS or source in models.TEST_MODEL_SPECS
    if backend == "torch":
        if not named:
            raise InputError(
                f"backend torch needs a model name, got the file {source!r}",
                hint=f"use one of {sorted(models.MODEL_SPECS)} or drop torch from --backends",
            )
        from trtlab.runners.torch_runner import TorchRunner

        if precision == "fp32":
            return TorchRunner(source, device=device, weights=None)
        if precision != "fp16":
            raise BackendError(
                f"torch {precision} is not benchmarked by trtlab (numpy has no {precision})",
                hint="use --precision fp32,fp16",
            )
        spec = models.get_spec(source)
        module = models.load_model(source, weights=None).half()
        example = np.zeros((1, *spec.example_shape[1:]), dtype=np.float16)
        return TorchRunner(module, device=device, example_inputs=example, name=source)
    from trtlab import export

    onnx = export.export_model(source, weights=None) if named else Path(source)
    if backend == "onnxruntime":
        if precision != "fp32":
            raise BackendError(
                f"onnxruntime runs the FP32 ONNX file; {precision} is TensorRT's build option",
                hint="compare precisions on TensorRT (--backends tensorrt --precision fp32,fp16)",
            )
        from trtlab.runners.ort import OnnxRuntimeRunner

        providers = ["CPUExecutionProvider"] if device == "cpu" else None
        return OnnxRuntimeRunner(onnx, providers=providers)
    if backend == "tensorrt":
        if device == "cpu":
            raise BackendError("TensorRT runs on a CUDA GPU only", hint="use --device cuda")
        from trtlab.runners.ort import OnnxRuntimeRunner
        from trtlab.runners.trt import TrtRunner

        with OnnxRuntimeRunner(onnx, providers=["CPUExecutionProvider"]) as reader:
            inputs = reader.inputs  # the ONNX file's own input specs
        profile = {}
        for tspec in inputs:
            dims = [d if isinstance(d, int) and d > 0 else 0 for d in tspec.shape]
            if any(d == 0 for d in dims[1:]):
                raise InputError(
                    f"input {tspec.name} {tspec.shape_str()} has dynamic non-batch dims",
                    hint="benchmark a model with a fixed image size, or build the engine yourself",
                )
            rest = tuple(dims[1:])
            profile[tspec.name] = ((1, *rest), (batch_max, *rest), (batch_max, *rest))
        return TrtRunner.from_onnx(onnx, precision=precision, profiles=profile)
    raise InputError(
        f"unknown backend {backend!r}", hint="use torch, onnxruntime or tensorrt (comma-separated)"
    )


def benchmark_model(
    source: str,
    *,
    backends: Sequence[str] | str = "auto",
    batches: Sequence[int] = (1,),
    precisions: Sequence[str] = ("fp32",),
    device: str = "auto",
    warmup: int | None = None,
    iterations: int | None = None,
    min_time_s: float | None = None,
    say: Callable[[str], Any] | None = print,
    progress: Callable[[str], Any] | None = None,
) -> BenchTable:
    """Time ``source`` on several backends, precisions and batch sizes in one interleaved run.

    ``source``: a model name (``resnet50``, ``tiny_classifier``, ...) or an ``.onnx`` file. One
    runner is built per (backend, precision); what cannot run here is skipped, with the reason
    (from :mod:`trtlab.capabilities`) passed to ``say`` and kept in ``table.skipped``. The first
    backend that runs is the table's ratio baseline. Runners are closed before returning.
    ``trtlab bench`` is this function.
    """
    from trtlab.errors import TrtlabError

    tell = say or (lambda _line: None)
    batch_list = _check_batches(list(batches))
    precision_list = [str(p).lower() for p in precisions]
    kind: Literal["onnx", "module"] = "onnx" if str(source).endswith(".onnx") else "module"
    if kind == "onnx":  # a missing file is the answer, not "no configuration can run"
        from trtlab._io import require_file

        require_file(source, what="ONNX file", hint="export one with `trtlab export resnet50`")
    if backends == "auto":
        if kind == "module":
            chosen = ["torch"]
        else:
            chosen = ["tensorrt" if _skip_reason("tensorrt", "onnx") is None else "onnxruntime"]
    else:
        chosen = [str(b).lower() for b in ([backends] if isinstance(backends, str) else backends)]
        unknown = [b for b in chosen if b not in BACKENDS]
        if unknown:
            raise InputError(
                f"unknown backend(s) {unknown}: expected some of {', '.join(BACKENDS)}",
                hint="e.g. backends=['torch', 'onnxruntime'] (--backends torch,onnxruntime)",
            )
    if device not in ("auto", "cpu", "cuda"):
        raise InputError(f"device must be auto, cpu or cuda, got {device!r}", hint="'cpu'")
    if device == "auto":
        device = "cuda" if _skip_reason("tensorrt", "onnx") is None else "cpu"
    configs: list[Config] = []
    runners: list[Runner] = []
    skipped: list[str] = []
    try:
        for backend in chosen:
            reason = _skip_reason(backend, "onnx" if backend != "torch" else "module")
            if reason is not None:
                skipped.append(f"skipping {backend}: {reason}")
                tell(skipped[-1])
                continue
            for precision in precision_list:
                try:
                    subject = _make_subject(source, backend, precision, device, max(batch_list))
                    subject.activate()
                    # inputs of the largest batch must fit before any is allocated
                    check_batch_memory(subject.inputs, batch_list)
                except TrtlabError as exc:
                    skipped.append(f"skipping {backend} {precision}: {str(exc).splitlines()[0]}")
                    tell(skipped[-1])
                    continue
                runners.append(subject)
                tell(f"{backend} {precision}: {subject.describe()}")
                configs.extend(
                    Config(subject, batch=b, precision=precision, name=source) for b in batch_list
                )
        if not configs:
            raise InputError(
                f"no configuration of {source} can run here (backends {chosen}): "
                + "; ".join(skipped),
                hint="`trtlab doctor` says what is installed; try backends onnxruntime",
            )
        table = benchmark_many(
            configs,
            warmup=warmup,
            iterations=iterations,
            min_time_s=min_time_s,
            baseline=runners[0].backend,
            progress=progress,
        )
    finally:
        for r in runners:
            r.close()
    table.skipped = skipped
    return table


def run_cli(args: Any) -> int:
    """``trtlab bench`` (arguments declared in :mod:`trtlab.cli`): :func:`benchmark_model`.

    Progress goes to stderr; the table (with each row's ratio to the first backend) to stdout,
    or the JSON rows with ``--json`` and no path.
    """
    to_stdout = args.json == "-"
    say: Callable[[str], Any] = (lambda line: print(line, file=sys.stderr)) if to_stdout else print
    progressed = False

    def progress(line: str) -> None:
        nonlocal progressed
        progressed = True
        print(f"\r{line}", end="", file=sys.stderr, flush=True)

    try:
        table = benchmark_model(
            str(args.source),
            backends="auto" if args.backends == "auto" else _split_list(args.backends, "backends"),
            batches=_parse_batches(args.batch),
            precisions=_split_list(args.precision, "precision"),
            device=args.device,
            warmup=args.warmup,
            iterations=args.iterations,
            min_time_s=args.min_time,
            say=say,
            progress=progress,
        )
    finally:
        if progressed:  # end the progress line
            print(file=sys.stderr)
    for row in table:
        say(str(row))
    if to_stdout:
        print(table.to_json())
        return 0
    print(table)
    if args.json is not None:
        path = table.save(args.json)
        print(f"wrote {len(table)} rows to {path}")
    return 0


__all__ = [
    "DEFAULT_BUFFERS",
    "MAX_ITERATIONS",
    "PERCENTILE_MIN_SAMPLES",
    "BenchResult",
    "BenchTable",
    "Config",
    "PairResult",
    "as_results",
    "benchmark",
    "benchmark_many",
    "benchmark_model",
    "benchmark_pair",
    "compare_speed",
    "default_counts",
    "percentile_or_none",
    "run_context",
    "sweep",
]
