"""Latency measurements that say how they were taken.

Every result keeps its raw per-iteration times, so medians and percentiles can be recomputed and
plotted, and carries the backend, device and batch size that produced it. Timing uses
``time.perf_counter``; for asynchronous GPU work pass ``sync`` (runners that queue work expose
``synchronize()``, used automatically) so the clock is read after the work finished.
Use :func:`benchmark_pair` to compare two backends on a noisy machine: it alternates them round by
round, so a background burst slows both instead of one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtlab import config
from trtlab.errors import InputError
from trtlab.runners.base import Feed, Runner

#: Defaults as (warmup, iterations): normal mode, and quick mode (``TRTLAB_QUICK=1``).
DEFAULTS = (10, 50)
QUICK_DEFAULTS = (2, 10)
#: Hard cap on iterations when ``min_time_s`` keeps a very fast function running.
MAX_ITERATIONS = 100_000
#: Fewest rounds :func:`benchmark_pair` runs even when ``max_time_s`` has passed.
MIN_PAIR_ROUNDS = 5


def default_counts() -> tuple[int, int]:
    """(warm-up, iterations) for the current mode."""
    return QUICK_DEFAULTS if config.quick() else DEFAULTS


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

    @property
    def iterations(self) -> int:
        return int(self.times_ms.size)

    @property
    def median(self) -> float:
        return float(np.median(self.times_ms))

    @property
    def mean(self) -> float:
        return float(np.mean(self.times_ms))

    @property
    def p90(self) -> float:
        return float(np.percentile(self.times_ms, 90))

    @property
    def p99(self) -> float:
        return float(np.percentile(self.times_ms, 99))

    @property
    def min(self) -> float:
        return float(np.min(self.times_ms))

    @property
    def stdev(self) -> float:
        return float(statistics.stdev(self.times_ms.tolist())) if self.iterations > 1 else 0.0

    @property
    def throughput(self) -> float:
        """Items per second at the median latency (batch / median)."""
        return self.batch * 1000.0 / self.median if self.median > 0 else float("inf")

    def method(self) -> str:
        """How the numbers were taken, in words (printed next to them)."""
        threads = f", {self.threads} threads" if self.threads else ""
        return (
            f"median of {self.iterations} runs after {self.warmup} warm-up, "
            f"batch {self.batch}{threads}"
        )

    def __str__(self) -> str:
        return (
            f"{self.name} [{self.backend} on {self.device}] batch {self.batch}: "
            f"median {self.median:.2f} ms (p90 {self.p90:.2f}, p99 {self.p99:.2f}, "
            f"min {self.min:.2f}, stdev {self.stdev:.2f}) -> {self.throughput:.1f} items/s; "
            f"{self.iterations} runs after {self.warmup} warm-up"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "device": self.device,
            "batch": self.batch,
            "warmup": self.warmup,
            "iterations": self.iterations,
            "threads": self.threads,
            "median_ms": self.median,
            "mean_ms": self.mean,
            "p90_ms": self.p90,
            "p99_ms": self.p99,
            "min_ms": self.min,
            "stdev_ms": self.stdev,
            "throughput": self.throughput,
            "times_ms": [float(t) for t in self.times_ms],
            **self.extra,
        }


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


def _target(
    subject: Runner | Callable[..., Any],
    inputs: Feed | None,
    *,
    batch: int | None,
    name: str | None,
    sync: Callable[[], Any] | None,
) -> _Target:
    if isinstance(subject, Runner):
        runner = subject
        feed = (
            runner.normalize_feed(inputs)
            if inputs is not None
            else runner.sample_inputs(batch=batch or 1)
        )
        infer = runner._infer  # inputs validated once above, outside the timed loop
        sync_fn = sync if sync is not None else getattr(runner, "synchronize", None)
        return _Target(
            call=lambda: infer(feed),
            name=name or runner.name,
            backend=runner.backend,
            device=runner.device,
            batch=batch or _batch_of(feed),
            sync=sync_fn,
            threads=_threads(runner),
        )
    if not callable(subject):
        raise InputError(
            f"benchmark() expects a Runner or a callable, got {type(subject).__name__}",
            hint="e.g. benchmark(trtlab.runner(path)) or benchmark(lambda: model(x))",
        )
    fn = subject
    call: Callable[[], Any] = (lambda: fn(inputs)) if inputs is not None else fn
    return _Target(
        call=call,
        name=name or str(getattr(fn, "__name__", type(fn).__name__)),
        backend="python",
        # a sync callable means the work is queued on an accelerator (e.g. torch.cuda.synchronize)
        device="host" if sync is None else "host + accelerator (synchronized)",
        batch=batch or _batch_of(inputs),
        sync=sync,
        threads=None,
    )


def _time_once(target: _Target) -> float:
    start = time.perf_counter()
    target.call()
    if target.sync is not None:
        target.sync()
    return (time.perf_counter() - start) * 1000.0


def _resolve_counts(warmup: int | None, iterations: int | None) -> tuple[int, int]:
    w_default, i_default = default_counts()
    w = _check_count("warmup", w_default if warmup is None else warmup, 0)
    n = _check_count("iterations", i_default if iterations is None else iterations, 1)
    return w, n


def _check_min_time(min_time_s: float | None) -> float:
    if min_time_s is None:
        return 0.0
    if isinstance(min_time_s, bool) or not isinstance(min_time_s, (int, float)) or min_time_s < 0:
        raise InputError(f"min_time_s must be a number >= 0, got {min_time_s!r}", hint="e.g. 1.0")
    return float(min_time_s)


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
) -> BenchResult:
    """Time ``fn_or_runner`` and return every iteration's latency.

    A runner gets ``inputs`` (default: random inputs of ``batch``) validated once; a plain callable
    is called as ``fn(inputs)`` or ``fn()``. After ``warmup`` untimed calls it runs at least
    ``iterations`` timed calls and keeps going until ``min_time_s`` seconds have been spent.
    """
    w, n = _resolve_counts(warmup, iterations)
    min_time = _check_min_time(min_time_s)
    target = _target(fn_or_runner, inputs, batch=batch, name=name, sync=sync)
    for _ in range(w):
        target.call()
    if target.sync is not None:
        target.sync()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < n or (
        time.perf_counter() - start < min_time and len(times) < MAX_ITERATIONS
    ):
        times.append(_time_once(target))
    return BenchResult(
        name=target.name,
        backend=target.backend,
        device=target.device,
        batch=target.batch,
        times_ms=np.asarray(times, dtype=np.float64),
        warmup=w,
        threads=target.threads,
    )


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
) -> PairResult:
    """Time ``a`` and ``b`` alternately (a,b then b,a, ...) so machine noise hits both alike.

    ``inputs`` feeds both unless ``inputs_b`` is given. The ratio is ``a.median / b.median``.
    ``max_time_s`` caps the timed phase on a slow or busy machine: after it, timing stops once
    :data:`MIN_PAIR_ROUNDS` rounds are done (the results report the real number of runs).
    """
    w, n = _resolve_counts(warmup, iterations)
    min_time = _check_min_time(min_time_s)
    max_time = _check_min_time(max_time_s) if max_time_s is not None else float("inf")
    ta = _target(a, inputs, batch=batch, name=None, sync=None)
    tb = _target(b, inputs_b if inputs_b is not None else inputs, batch=batch, name=None, sync=None)
    for _ in range(w):
        ta.call()
        tb.call()
    for t in (ta, tb):
        if t.sync is not None:
            t.sync()
    times_a: list[float] = []
    times_b: list[float] = []
    start = time.perf_counter()
    rounds = 0
    while len(times_a) < n or (
        time.perf_counter() - start < min_time and len(times_a) < MAX_ITERATIONS
    ):
        first, second = (
            ((ta, times_a), (tb, times_b))
            if rounds % 2 == 0
            else (
                (tb, times_b),
                (ta, times_a),
            )
        )
        first[1].append(_time_once(first[0]))
        second[1].append(_time_once(second[0]))
        rounds += 1
        if rounds >= MIN_PAIR_ROUNDS and time.perf_counter() - start > max_time:
            break

    def result(t: _Target, times: list[float]) -> BenchResult:
        return BenchResult(
            name=t.name,
            backend=t.backend,
            device=t.device,
            batch=t.batch,
            times_ms=np.asarray(times, dtype=np.float64),
            warmup=w,
            threads=t.threads,
            extra={"interleaved": True},
        )

    return PairResult(result(ta, times_a), result(tb, times_b))


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
    """
    if isinstance(batches, (str, bytes)) or not batches:
        raise InputError(
            f"batches must be a non-empty list of ints, got {batches!r}", hint="[1, 8]"
        )
    for b in batches:
        _check_count("batch", b, 1)
    results: list[BenchResult] = []
    for b in batches:
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


__all__ = [
    "BenchResult",
    "PairResult",
    "benchmark",
    "benchmark_pair",
    "compare_speed",
    "default_counts",
    "sweep",
]
