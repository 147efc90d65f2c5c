"""Benchmark helpers: statistics, iteration/warm-up counts, interleaving, sweeps, validation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from trtlab.bench import (
    BenchResult,
    BenchTable,
    Config,
    PairResult,
    benchmark,
    benchmark_many,
    benchmark_pair,
    compare_speed,
    default_counts,
    percentile_or_none,
    sweep,
)
from trtlab.errors import FileFormatError, InputError
from trtlab.runners.base import Runner, TensorSpec


def _result(times: list[float], batch: int = 1, name: str = "r") -> BenchResult:
    return BenchResult(name, "onnxruntime", "cpu (CPUExecutionProvider)", batch, np.array(times), 3)


def test_statistics_are_computed_from_raw_times() -> None:
    r = _result([1.0, 2.0, 3.0, 4.0, 100.0], batch=4)
    assert r.iterations == 5
    assert r.median == 3.0
    assert r.mean == 22.0
    assert r.min == 1.0
    assert r.p90 is None and r.p99 is None  # 5 samples: no p90, no p99 (see the rule below)
    assert r.stdev == pytest.approx(float(np.std([1, 2, 3, 4, 100], ddof=1)))
    assert r.throughput == pytest.approx(4 * 1000 / 3)
    d = r.to_dict()
    assert d["median_ms"] == 3.0 and d["batch"] == 4 and d["times_ms"][-1] == 100.0
    text = str(r)
    assert "onnxruntime on cpu (CPUExecutionProvider)" in text and "median 3.00 ms" in text
    assert "p90 n/a, p99 n/a" in text
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


class FakeClock:
    """A clock that advances ``step`` seconds per read: timing without real time."""

    def __init__(self, step: float = 0.001) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_min_time_extends_the_run() -> None:
    # each timed call reads the clock twice: 1 ms per sample, so 0.05 s needs exactly 50 samples
    r = benchmark(lambda: None, warmup=0, iterations=3, min_time_s=0.05, clock=FakeClock())
    assert r.iterations == 50
    assert r.times_ms == pytest.approx(np.ones(50))
    assert r.timed_s == pytest.approx(0.05) and r.stop_reason == "min_time"
    r = benchmark(lambda: None, warmup=0, iterations=3, min_time_s=0.0, clock=FakeClock())
    assert r.iterations == 3 and r.stop_reason == "iterations"


def test_iteration_cap_is_reported_not_silent() -> None:
    r = benchmark(
        lambda: None, warmup=0, iterations=3, min_time_s=1.0, max_iterations=20, clock=FakeClock()
    )
    assert r.iterations == 20 and r.stop_reason == "max_iterations"
    assert "stopped at the 20-iteration cap after 0.02 s of the 1 s asked" in r.method()
    assert "stopped early: max_iterations" in str(r)
    assert r.to_dict()["stop_reason"] == "max_iterations"


def test_percentiles_need_enough_samples() -> None:
    assert percentile_or_none(np.arange(9.0), 90) is None
    assert percentile_or_none(np.arange(10.0), 90) == pytest.approx(np.percentile(range(10), 90))
    assert percentile_or_none(np.arange(99.0), 99) is None
    r = _result(list(np.arange(100.0)))
    assert r.p99 == pytest.approx(np.percentile(np.arange(100.0), 99))
    assert r.to_dict()["p99_ms"] == pytest.approx(r.p99)
    assert _result([1.0, 2.0]).to_dict()["p90_ms"] is None


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
    [
        {"iterations": 0},
        {"warmup": -1},
        {"min_time_s": -1.0},
        {"iterations": 2.5},
        {"max_iterations": 0},
        {"timer": "sundial"},
        {"timer": "cuda_events"},  # no torch CUDA runner here
    ],
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
    assert pair.a.stop_reason == "max_time" and "max_time_s" in pair.a.method()


class RecordingRunner(Runner):
    """A one-input runner that records which buffer each call got and how often it validated."""

    backend = "onnxruntime"

    def __init__(self) -> None:
        super().__init__(name="rec")
        self.seen: list[int] = []
        self.normalized = 0

    def _activate(self) -> None:
        self._inputs = [TensorSpec("x", ("batch", 2), np.dtype(np.float32))]
        self._outputs = [TensorSpec("y", ("batch", 2), np.dtype(np.float32))]
        self._device = "cpu"

    def normalize_feed(self, inputs: object) -> dict[str, np.ndarray]:
        self.normalized += 1
        return super().normalize_feed(inputs)  # type: ignore[arg-type]

    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.seen.append(id(feed["x"]))
        return {"y": feed["x"]}


def test_runner_inputs_rotate_and_are_validated_once() -> None:
    r = RecordingRunner()
    res = benchmark(r, batch=4, warmup=0, iterations=6, buffers=3, clock=FakeClock())
    assert res.buffers == 3 and res.batch == 4
    assert r.normalized == 3  # once per buffer, never inside the timed loop
    assert len(set(r.seen)) == 3  # three distinct buffers ...
    assert r.seen[:3] == r.seen[3:]  # ... used in rotation
    assert "3 input buffers in rotation" in res.method()
    assert res.timer == "perf_counter" and res.peak_memory_bytes is None  # CPU: no device memory
    given = np.ones((2, 2), np.float32)
    r2 = RecordingRunner()
    res2 = benchmark(r2, {"x": given}, warmup=0, iterations=4, buffers=2)
    assert res2.batch == 2 and len(set(r2.seen)) == 2 and id(given) in r2.seen


def test_check_false_skips_validation_but_normal_calls_validate() -> None:
    r = RecordingRunner()
    x = np.zeros((3, 2), np.float32)
    assert r({"x": x}, check=False)["y"] is x
    assert r(x, check=False)["y"] is x  # one array for a one-input model
    with pytest.raises(InputError):
        r({"x": np.zeros((3, 5), np.float32)})  # validated: wrong static dim
    with pytest.raises(InputError):
        r({"x": x, "extra": x})  # validated: unknown name


def test_benchmark_many_interleaves_and_builds_a_table(tmp_path: Path) -> None:
    order: list[str] = []

    def tagged(tag: str) -> object:
        return lambda: order.append(tag)

    configs = [
        Config(tagged("a"), batch=1, name="a"),
        Config(tagged("b"), batch=1, name="b"),
        Config(tagged("c"), batch=1, name="c"),
    ]
    lines: list[str] = []
    table = benchmark_many(
        configs, warmup=0, iterations=3, clock=FakeClock(), progress=lines.append
    )
    assert "".join(order) == "abc" + "bca" + "cab"  # round-robin, order rotating each round
    assert [r.iterations for r in table] == [3, 3, 3] and len(lines) == 3
    assert all(r.extra["interleaved"] for r in table)


def _row(backend: str, batch: int, median: float, precision: str = "fp32") -> BenchResult:
    return BenchResult("m", backend, "cpu", batch, np.full(12, median), 1, precision=precision)


def test_bench_table_ratios_reprs_and_json_round_trip(tmp_path: Path) -> None:
    rows = [
        _row("torch", 1, 10.0),
        _row("onnxruntime", 1, 5.0),
        _row("torch", 8, 40.0),
        _row("onnxruntime", 8, 20.0),
        _row("tensorrt", 8, 4.0, "fp16"),  # no torch fp16 row: falls back to torch fp32 at b8
    ]
    table = BenchTable(rows, context={"versions": {"numpy": "x"}, "machine": {}, "date": "d"})
    assert table.baseline == "torch"
    assert [table.ratio(r) for r in rows] == pytest.approx([1.0, 2.0, 1.0, 2.0, 10.0])
    text = str(table)
    assert "2.00x" in text and "10.00x" in text and "speed-up over torch" in text
    md = table.to_markdown()
    assert md.startswith("| backend | device | precision | batch | p50 ms")
    assert md.count("\n| ") == 5  # five rows after the header (the separator starts "|-")
    assert "<table" in table._repr_html_() and "10.00x" in table._repr_html_()
    path = table.save(tmp_path / "out" / "bench.json")
    saved = json.loads(path.read_text())
    assert {"backend", "device", "precision", "batch", "p50_ms", "p90_ms", "items_per_s"} <= set(
        saved[0]
    )
    assert saved[1]["ratio"] == pytest.approx(2.0) and saved[0]["date"] == "d"
    back = BenchTable.load(path)
    assert [r.median for r in back] == [r.median for r in rows]
    assert [back.ratio(r) for r in back] == pytest.approx([1.0, 2.0, 1.0, 2.0, 10.0])
    assert back.context["versions"] == {"numpy": "x"} and back.baseline == "torch"
    assert back.rows[4].precision == "fp16" and back.rows[4].extra == {}
    other = BenchTable(rows, baseline="onnxruntime", context={})
    assert other.ratio(rows[0]) == pytest.approx(0.5)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FileFormatError):
        BenchTable.load(tmp_path / "bad.json")
    with pytest.raises(InputError):
        BenchTable.from_rows({"rows": []})  # type: ignore[arg-type]


def test_cli_bench_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from trtlab.cli import main

    out = tmp_path / "bench.json"
    argv = [
        "bench", "tiny_classifier", "--backends", "torch,onnxruntime,tensorrt",
        "--batch", "1,2", "--precision", "fp32", "--device", "cpu",
        "--min-iters", "2", "--warmup", "1", "--json", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "skipping tensorrt" in captured.out  # no TensorRT on this machine: said, not hidden
    assert "speed-up over torch" in captured.out
    rows = json.loads(out.read_text())
    assert [(r["backend"], r["batch"]) for r in rows] == [
        ("torch", 1), ("torch", 2), ("onnxruntime", 1), ("onnxruntime", 2),
    ]  # fmt: skip
    assert all(r["iterations"] == 2 and r["p50_ms"] > 0 and r["items_per_s"] > 0 for r in rows)
    assert all(r["p90_ms"] is None for r in rows)  # 2 samples: no p90
    assert rows[0]["ratio"] == pytest.approx(1.0) and "versions" in rows[0] and rows[0]["date"]
    assert main(["bench", "tiny_classifier", "--backends", "tpu"]) == 2


def test_benchmark_model_skips_what_cannot_run_and_says_why() -> None:
    pytest.importorskip("onnxruntime")
    from trtlab.bench import benchmark_model

    said: list[str] = []
    table = benchmark_model(
        "tiny_classifier",
        backends=["onnxruntime"],
        batches=[1, 2],
        precisions=["fp32", "fp16"],
        device="cpu",
        warmup=0,
        iterations=2,
        say=said.append,
    )
    assert [(r.backend, r.precision, r.batch) for r in table] == [
        ("onnxruntime", "fp32", 1),
        ("onnxruntime", "fp32", 2),
    ]
    assert len(table.skipped) == 1 and "onnxruntime fp16" in table.skipped[0]
    assert table.skipped[0] in said and any("backend=onnxruntime" in s for s in said)
    with pytest.raises(InputError, match="no configuration"):
        benchmark_model("tiny_classifier", backends=["onnxruntime"], precisions=["bf16"], say=None)
    with pytest.raises(InputError, match="device"):
        benchmark_model("tiny_classifier", device="tpu", say=None)
