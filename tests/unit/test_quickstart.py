"""The quick-start end to end (real ResNet-50, exported once), then its cache hit via the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trtlab import capabilities
from trtlab.errors import BackendError, InputError
from trtlab.quickstart import QuickstartResult, run_quickstart

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("quickstart-cache")


@pytest.fixture(scope="module")
def first_run(shared_cache: Path) -> tuple[QuickstartResult, list[str]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRTLAB_CACHE_DIR", str(shared_cache))
        lines: list[str] = []
        result = run_quickstart(iterations=3, warmup=1, out=lines.append)
    return result, lines


def test_numbers(first_run: tuple[QuickstartResult, list[str]]) -> None:
    r, _ = first_run
    expected = capabilities.select_backend("onnx")
    assert r.backend == expected
    assert r.precision == capabilities.default_precision(expected)
    if r.precision == "fp32":
        assert r.rel_l2 < 1e-5
        assert r.top1_agreement == 1.0
    assert r.parity_ok
    assert r.torch_median_ms > 0 and r.backend_median_ms > 0
    assert r.speedup == pytest.approx(r.torch_median_ms / r.backend_median_ms)
    assert r.speedup > 0
    assert r.bench.a.backend == "torch" and r.bench.b.backend == expected
    assert r.bench.a.iterations == r.bench.b.iterations >= 3
    assert r.onnx_path.is_file() and r.onnx_path.suffix == ".onnx"
    assert r.export_cached is False and r.export_seconds > 0
    assert [s.name for s in r.onnx_summary.inputs] == ["input"]


def test_predictions(first_run: tuple[QuickstartResult, list[str]]) -> None:
    r, _ = first_run
    assert r.images == ["astronaut.jpg", "cat.jpg", "coffee.jpg", "rocket.jpg"]
    assert len(r.predictions) == 4
    for row in r.predictions:
        assert len(row) == 5
        probs = [p.probability for p in row]
        assert probs == sorted(probs, reverse=True)
        assert 0 < sum(probs) <= 1 + 1e-6
        assert all(p.label and not p.label.startswith("class ") for p in row)


def test_output_lines(first_run: tuple[QuickstartResult, list[str]]) -> None:
    r, lines = first_run
    text = "\n".join(lines)
    for step in range(1, 6):
        assert f"[{step}/5]" in text
    if not r.pretrained:
        assert r.weights == "random"
        assert "RANDOM weights: these top-5 lists are meaningless" in text
    assert "exported in" in text and "cached for next time" in text
    assert "interleaved" in text and f"median of {r.bench.a.iterations} runs" in text
    # every line reporting a measurement names the backend/device in brackets
    for line in lines:
        if re.search(r"\d ms\b|rel L2|%", line) and "file" not in line:
            assert re.search(r"\[(cpu|cuda)", line) or f"[{r.backend}]" in line, line


def test_second_run_is_a_cache_hit_via_cli(
    first_run: tuple[QuickstartResult, list[str]],
    shared_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trtlab.cli import main

    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(shared_cache))
    assert main(["quickstart", "--iterations", "2", "--warmup", "0", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["export_cached"] is True
    assert data["onnx_path"] == str(first_run[0].onnx_path)
    assert data["rel_l2"] == pytest.approx(first_run[0].rel_l2, rel=0.5, abs=1e-7)
    assert "cache hit" in captured.err


def test_argument_errors() -> None:
    with pytest.raises(InputError, match="needs TensorRT"):
        run_quickstart(backend="onnxruntime", precision="fp16", out=None)
    with pytest.raises(InputError, match="backend"):
        run_quickstart(backend="tvm", out=None)
    with pytest.raises(InputError, match="iterations"):
        run_quickstart(iterations=0, out=None)
    with pytest.raises(InputError, match="precision"):
        run_quickstart(precision="int8", out=None)
    if not capabilities.can_build_engines():
        with pytest.raises(BackendError, match="needs TensorRT"):
            run_quickstart(backend="tensorrt", out=None)


def test_arguments_are_checked_before_the_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9: `quickstart --images missing.jpg` used to load and export ResNet-50 first."""
    from trtlab.errors import FileFormatError

    def forbidden(*_a: object, **_k: object) -> None:
        pytest.fail("the model was loaded before the arguments were checked")

    monkeypatch.setattr("trtlab.models.load_model", forbidden)
    monkeypatch.setattr("trtlab.export.export_model", forbidden)
    with pytest.raises(FileFormatError, match=r"missing\.jpg does not exist"):
        run_quickstart(images=[tmp_path / "missing.jpg"], out=None)
    with pytest.raises(FileFormatError, match="is a folder"):
        run_quickstart(images=[tmp_path], out=None)


def test_threads_setting_is_given_back_to_the_caller() -> None:
    import torch

    from trtlab import quickstart

    seen: list[int] = []

    @quickstart._restores_torch_threads
    def body(*, threads: int | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    body(threads=1 if before != 1 else 2)
    assert seen[-1] != before and torch.get_num_threads() == before
    assert hasattr(quickstart.run_quickstart, "__wrapped__")  # the public function is wrapped
