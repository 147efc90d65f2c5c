"""trtlab.bench on a CUDA GPU: CUDA-event timing, peak device memory, `trtlab bench --device cuda`.

Skips (reason printed by ``pytest -rs``) where PyTorch sees no CUDA GPU. The CPU side of the same
rules (fake clock, caps, percentiles, tables) is in tests/unit/test_bench.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("PyTorch sees no CUDA GPU", allow_module_level=True)

from trtlab.bench import BenchTable, Config, benchmark, benchmark_many  # noqa: E402
from trtlab.runners.torch_runner import TorchRunner  # noqa: E402


def _runner() -> TorchRunner:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU())
    return TorchRunner(model, device="cuda", example_inputs=np.zeros((1, 3, 64, 64), np.float32))


def test_cuda_runner_is_timed_with_events_and_reports_peak_memory() -> None:
    r = _runner()
    res = benchmark(r, batch=4, warmup=2, iterations=12)
    assert res.timer == "cuda_events" and "cuda events" in res.method()
    assert res.peak_memory_bytes is not None and res.peak_memory_bytes > 4 * 3 * 64 * 64 * 4
    assert res.p90 is not None and res.p99 is None  # 12 samples: p90 yes, p99 no
    assert res.min > 0
    cpu = benchmark(r, batch=4, warmup=1, iterations=3, timer="perf_counter")
    assert cpu.timer == "perf_counter"


def test_many_configs_on_the_gpu(tmp_path: Path) -> None:
    r = _runner()
    table = benchmark_many([Config(r, 1), Config(r, 8)], warmup=1, iterations=5)
    assert [row.batch for row in table] == [1, 8]
    path = table.save(tmp_path / "gpu.json")
    assert BenchTable.load(path).rows[1].timer == "cuda_events"


def test_cli_bench_cuda(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trtlab.cli import main

    out = tmp_path / "bench.json"
    argv = [
        "bench", "tiny_classifier", "--backends", "torch,onnxruntime,tensorrt",
        "--batch", "1,8", "--precision", "fp32,fp16", "--device", "cuda",
        "--min-iters", "5", "--json", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())
    backends = {r["backend"] for r in rows}
    assert "torch" in backends, printed
    assert all(r["device"] for r in rows) and all(r["p50_ms"] > 0 for r in rows)
    torch_rows = [r for r in rows if r["backend"] == "torch"]
    assert {r["precision"] for r in torch_rows} == {"fp32", "fp16"}
    assert all(r["peak_memory_bytes"] for r in torch_rows)
