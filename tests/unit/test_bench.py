"""Benchmark helpers: statistics, iteration/warm-up counts, interleaving, sweeps, validation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from trtlab.bench import (
    BenchResult,
    PairResult,
    benchmark,
    benchmark_pair,
    compare_speed,
    default_counts,
    sweep,
)
from trtlab.errors import InputError


def _result(times: list[float], batch: int = 1, name: str = "r") -> BenchResult:
    return BenchResult(name, "onnxruntime", "cpu (CPUExecutionProvider)", batch, np.array(times), 3)


def test_statistics_are_computed_from_raw_times() -> None:
    r = _result([1.0, 2.0, 3.0, 4.0, 100.0], batch=4)
    assert r.iterations == 5
    assert r.median == 3.0
    assert r.mean == 22.0
    assert r.min == 1.0
    assert r.p90 == pytest.approx(np.percentile([1, 2, 3, 4, 100], 90))
    assert r.p99 == pytest.approx(96.16)
    assert r.stdev == pytest.approx(float(np.std([1, 2, 3, 4, 100], ddof=1)))
    assert r.throughput == pytest.approx(4 * 1000 / 3)
    d = r.to_dict()
    assert d["median_ms"] == 3.0 and d["batch"] == 4 and d["times_ms"][-1] == 100.0
    text = str(r)
    assert "onnxruntime on cpu (CPUExecutionProvider)" in text and "median 3.00 ms" in text
    assert r.method() == "median of 5 runs after 3 warm-up, batch 4"


def test_compare_speed() -> None:
    assert compare_speed(_result([10.0]), _result([5.0])) == 2.0
    assert compare_speed(_result([5.0]), _result([10.0])) == 0.5


def test_counts_warmup_and_iterations() -> None:
    calls: list[int] = []
    syncs: list[int] = []
    r = benchmark(
        lambda: calls.append(1), warmup=3, iterations=7, sync=lambda: syncs.append(1), name="noop"
    )
    assert len(calls) == 10
    assert len(syncs) == 7 + 1  # once per timed run, once after warm-up
    assert r.iterations == 7 and r.warmup == 3 and r.name == "noop"
    assert r.backend == "python" and r.batch == 1


def test_quick_mode_shrinks_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRTLAB_QUICK", "1")
    assert default_counts() == (2, 10)
    assert benchmark(lambda: None).iterations == 10
    monkeypatch.setenv("TRTLAB_QUICK", "0")
    assert default_counts() == (10, 50)
    assert benchmark(lambda: None).iterations == 50


def test_times_measure_the_work() -> None:
    r = benchmark(lambda: time.sleep(0.003), warmup=0, iterations=5)
    assert r.min >= 3.0 and r.median < 100.0


def test_min_time_extends_the_run() -> None:
    start = time.perf_counter()
    r = benchmark(lambda: None, warmup=0, iterations=3, min_time_s=0.05)
    assert time.perf_counter() - start >= 0.05
    assert r.iterations > 3


def test_inputs_are_passed_and_batch_inferred() -> None:
    seen: list[tuple[int, ...]] = []
    x = np.zeros((6, 2), np.float32)
    r = benchmark(lambda a: seen.append(a.shape), x, warmup=1, iterations=2)
    assert seen == [(6, 2)] * 3
    assert r.batch == 6
    assert r.throughput == pytest.approx(6000 / r.median)


def test_pair_interleaves_and_reports_ratio() -> None:
    order: list[str] = []

    def slow() -> None:
        order.append("a")
        time.sleep(0.004)

    def fast() -> None:
        order.append("b")
        time.sleep(0.001)

    pair = benchmark_pair(slow, fast, warmup=1, iterations=4)
    assert isinstance(pair, PairResult)
    # warm-up a,b; then rounds alternate the order: ab, ba, ab, ba
    assert "".join(order) == "ab" + "ab" + "ba" + "ab" + "ba"
    assert pair.a.iterations == pair.b.iterations == 4
    assert pair.ratio == pytest.approx(pair.a.median / pair.b.median)
    assert pair.ratio > 2.0
    assert "interleaved" in str(pair)
    assert pair.to_dict()["a"]["interleaved"] is True


def test_runner_benchmark_and_sweep() -> None:
    torch = pytest.importorskip("torch")
    from trtlab.runners import TorchRunner

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    r = TorchRunner(model, example_inputs=np.zeros((1, 3, 4), np.float32), output_names=["y"])
    res = benchmark(r, batch=2, warmup=1, iterations=3)
    assert (res.backend, res.device, res.batch) == ("torch", "cpu", 2)
    assert res.threads == torch.get_num_threads()
    seen: list[int] = []
    results = sweep(
        r, batches=[1, 3], warmup=0, iterations=2, callback=lambda x: seen.append(x.batch)
    )
    assert [x.batch for x in results] == [1, 3] == seen
    # factory form: f(batch) -> zero-argument callable
    results = sweep(lambda b: lambda: None, batches=[2], iterations=2)
    assert results[0].batch == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"iterations": 0}, {"warmup": -1}, {"min_time_s": -1.0}, {"iterations": 2.5}],
)
def test_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        benchmark(lambda: None, **kwargs)  # type: ignore[arg-type]


def test_bad_subjects() -> None:
    with pytest.raises(InputError, match="Runner or a callable"):
        benchmark(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="non-empty"):
        sweep(lambda b: lambda: None, batches=[])
    with pytest.raises(InputError, match="batch"):
        sweep(lambda b: lambda: None, batches=[0])


def test_pair_max_time_caps_rounds() -> None:
    pair = benchmark_pair(
        lambda: time.sleep(0.002), lambda: None, warmup=0, iterations=1000, max_time_s=0.01
    )
    assert 5 <= pair.a.iterations < 1000
    assert pair.a.iterations == pair.b.iterations
