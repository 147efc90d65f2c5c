"""trtlab.export: ONNX export (both exporters), dynamic dims, atomic writes, cache, summaries.

The real ResNet-50 and FCN-ResNet-101 (random, seeded weights) are exported once per module at
small example sizes and checked against torch with ONNX Runtime at two batch / image sizes.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from trtlab import models
from trtlab.errors import DTypeError, ExportError, InputError, WeightsError
from trtlab.export import (
    ExportedPath,
    OnnxFromTorch,
    check_onnx,
    export_model,
    export_onnx,
    model_onnx_path,
)

TORCH_MM = ".".join(torch.__version__.split("+")[0].split(".")[:2])
CLF_AXES = {"input": {0: "batch"}, "logits": {0: "batch"}}
SEG_AXES = {
    "input": {0: "batch", 2: "height", 3: "width"},
    "classes": {0: "batch", 1: "height", 2: "width"},
}


def _dims(path: Path) -> dict[str, list[int | str]]:
    g = onnx.load(str(path), load_external_data=False).graph
    return {
        v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*g.input, *g.output]
    }


def _ort(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out: np.ndarray = sess.run(None, {"input": x})[0]
    return out


def _rel_l2(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# -- tiny models -------------------------------------------------------------------------------


def test_tiny_classifier_dynamic_batch(tiny_classifier: Any, tiny_classifier_onnx: Path) -> None:
    assert _dims(tiny_classifier_onnx) == {"input": ["batch", 3, 32, 32], "logits": ["batch", 10]}
    for batch in (1, 5):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 32, 32)).astype(np.float32)
        with torch.no_grad():
            ref = tiny_classifier(torch.from_numpy(x)).numpy()
        got = _ort(tiny_classifier_onnx, x)
        assert got.shape == (batch, 10) and _rel_l2(got, ref) < 1e-5


def test_tiny_segmenter_dynamic_hw(tiny_segmenter: Any, tiny_segmenter_onnx: Path) -> None:
    dims = _dims(tiny_segmenter_onnx)
    assert dims == {
        "input": ["batch", 3, "height", "width"],
        "classes": ["batch", "height", "width"],
    }
    for shape in [(1, 3, 32, 32), (3, 3, 40, 56)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            ref = tiny_segmenter(torch.from_numpy(x)).numpy()
        got = _ort(tiny_segmenter_onnx, x)
        assert got.dtype == np.int64 and got.shape == (shape[0], *shape[2:])
        assert (got == ref).mean() >= 0.999


def test_legacy_exporter(tiny_segmenter: Any, tmp_path: Path) -> None:
    path = export_onnx(
        tiny_segmenter, tmp_path / "legacy.onnx", torch.randn(1, 3, 32, 32),
        input_names=["input"], output_names=["classes"], dynamic_axes=SEG_AXES,
        exporter="legacy", opset=17,
    )  # fmt: skip
    s = check_onnx(path)
    assert s.opset == 17 and s.inputs[0].shape == ("batch", 3, "height", "width")
    x = np.random.default_rng(1).standard_normal((2, 3, 24, 40)).astype(np.float32)
    with torch.no_grad():
        ref = tiny_segmenter(torch.from_numpy(x)).numpy()
    assert (_ort(path, x) == ref).mean() >= 0.999


def test_argument_validation(tiny_classifier: Any, tmp_path: Path) -> None:
    x = torch.randn(1, 3, 32, 32)
    target = tmp_path / "m.onnx"
    with pytest.raises(InputError, match="opset >= 18"):
        export_onnx(tiny_classifier, target, x, opset=17)
    with pytest.raises(InputError, match=r"nn\.Module"):
        export_onnx(lambda t: t, target, x)  # type: ignore[arg-type]
    with pytest.raises(DTypeError, match="float64"):
        export_onnx(tiny_classifier, target, x.double())
    with pytest.raises(DTypeError, match="list"):
        export_onnx(tiny_classifier, target, [[1.0]])
    with pytest.raises(InputError, match="'image'"):
        export_onnx(
            tiny_classifier, target, x, input_names=["input"], dynamic_axes={"image": {0: "b"}}
        )
    with pytest.raises(InputError, match="exporter"):
        export_onnx(tiny_classifier, target, x, exporter="tracing")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="2 input_names"):
        export_onnx(tiny_classifier, target, x, input_names=["a", "b"])
    assert not target.exists()


class _Exploding(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom inside forward")


@pytest.mark.parametrize("exporter", ["dynamo", "legacy"])
def test_failed_export_leaves_no_file(tmp_path: Path, exporter: str) -> None:
    target = tmp_path / "bad.onnx"
    with pytest.raises(ExportError, match="boom inside forward") as info:
        export_onnx(_Exploding(), target, torch.randn(1, 3), exporter=exporter, opset=18)  # type: ignore[arg-type]
    assert info.value.__cause__ is not None
    assert not target.exists() and list(tmp_path.iterdir()) == []
    # an existing file is left untouched by a failed re-export
    target.write_bytes(b"old")
    with pytest.raises(ExportError):
        export_onnx(_Exploding(), target, torch.randn(1, 3), exporter=exporter)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


def test_mode_is_restored_and_external_data(tiny_classifier: Any, tmp_path: Path) -> None:
    model = models.tiny_classifier(10)
    model.train()
    path = export_onnx(
        model, tmp_path / "ext.onnx", torch.randn(2, 3, 32, 32), input_names=["input"],
        dynamic_axes=CLF_AXES, output_names=["logits"], exporter="legacy", external_data=True,
    )  # fmt: skip
    assert model.training  # restored
    assert (tmp_path / "ext.onnx.data").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ext.onnx", "ext.onnx.data"]
    x = np.ones((2, 3, 32, 32), np.float32)
    with torch.no_grad():
        ref = tiny_classifier(torch.from_numpy(x)).numpy()
    assert _rel_l2(_ort(path, x), ref) < 1e-5
    s = check_onnx(path)
    assert s.file_size > (tmp_path / "ext.onnx").stat().st_size  # counts the .data file


def test_onnx_from_torch_loader(tiny_classifier: Any, tmp_path: Path) -> None:
    loader = OnnxFromTorch(tiny_classifier, torch.randn(1, 3, 32, 32), input_names=["input"],
                           output_names=["logits"], exporter="legacy")  # fmt: skip
    assert "OnnxFromTorch" in repr(loader)
    explicit = loader(tmp_path / "a.onnx")
    assert explicit == tmp_path / "a.onnx" and explicit.is_file()
    default = loader()  # no path anywhere: a unique file in the cache dir
    assert default.parent.name == "onnx" and default.suffix == ".onnx" and default.is_file()
    assert default.stat().st_size > 1000


def test_export_model_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    first = export_model("tiny_classifier", exporter="legacy")
    assert isinstance(first, ExportedPath) and isinstance(first, Path)
    assert first.name == f"tiny_classifier-random-opset18-legacy-torch{TORCH_MM}.onnx"
    assert first == model_onnx_path("tiny_classifier", "random", 18, "legacy")
    assert not first.cached and first.weights == "random" and first.seconds > 0
    mtime = first.stat().st_mtime_ns
    calls: list[Any] = []
    monkeypatch.setattr("trtlab.export.export_onnx", lambda *a, **k: calls.append(a))
    second = export_model("tiny_classifier", exporter="legacy")
    assert second.cached and second == first and calls == []
    assert first.stat().st_mtime_ns == mtime
    export_model("tiny_classifier", exporter="legacy", force=True)
    assert len(calls) == 1
    with pytest.raises(InputError, match="random test model"):
        export_model("tiny_classifier", weights="IMAGENET1K_V1")
    with pytest.raises(InputError, match="unknown model"):
        export_model("alexnet")


def test_export_model_offline_names_random(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline, the default weights fall back to random and the cache name says so (no build)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    built: list[str] = []
    monkeypatch.setattr("trtlab.export.export_onnx", lambda *a, **k: built.append("export"))
    monkeypatch.setattr(models, "load_model", lambda *a, **k: models.tiny_classifier())
    with pytest.warns(models.RandomWeightsWarning) as record:
        out = export_model("resnet50")
    assert len(record) == 1
    assert out.name == f"resnet50-random-opset18-torch{TORCH_MM}.onnx" and out.weights == "random"
    assert (
        model_onnx_path("resnet50", "IMAGENET1K_V1", 18).name
        == f"resnet50-IMAGENET1K_V1-opset18-torch{TORCH_MM}.onnx"
    )
    with pytest.raises(WeightsError, match=r"resnet50-0676ba61\.pth"):
        export_model("resnet50", strict=True)


# check_onnx's own tests (summary, file errors) moved with it to test_onnx_meta.py.


# -- the real models (random weights), exported once ------------------------------------------


@pytest.fixture(scope="module")
def real_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both real models exported with trtlab's defaults (dynamo, opset 18), timed."""
    folder = tmp_path_factory.mktemp("real")
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", models.RandomWeightsWarning)  # weights=None: silent
        for name in ("resnet50", "fcn_resnet101"):
            t0 = time.perf_counter()
            path = export_model(name, weights=None, path=folder / f"{name}.onnx")
            out[name] = (path, time.perf_counter() - t0)
    print({k: f"{v[1]:.1f} s" for k, v in out.items()})
    return out


def test_real_resnet50_matches_torch(real_exports: dict[str, Any]) -> None:
    path, _ = real_exports["resnet50"]
    assert path.weights == "random" and not path.cached
    assert _dims(path) == {"input": ["batch", 3, 224, 224], "logits": ["batch", 1000]}
    model = models.resnet50(None)  # seeded: the same weights as the export's model
    for batch in (1, 3):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got = _ort(path, x)
        assert got.shape == (batch, 1000) and _rel_l2(got, ref) < 1e-5


def test_real_fcn_matches_torch(real_exports: dict[str, Any]) -> None:
    path, _ = real_exports["fcn_resnet101"]
    s = check_onnx(path)
    assert s.inputs[0].shape == ("batch", 3, "height", "width")
    assert s.outputs[0].shape == ("batch", "height", "width") and s.outputs[0].dtype == np.int64
    assert s.op_histogram["ArgMax"] == 1 and s.num_parameters > 50_000_000
    model = models.fcn_resnet101(None)
    for shape in [(1, 3, 64, 64), (2, 3, 96, 80)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got = _ort(path, x)
        assert got.shape == (shape[0], *shape[2:]) and got.dtype == np.int64
        assert (got == ref).mean() >= 0.999
