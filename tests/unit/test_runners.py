"""Runners on a tiny conv net: torch vs ONNX Runtime parity, dynamic batch, validation, dispatch."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from trtlab.errors import (  # noqa: E402
    BackendError,
    DTypeError,
    FileFormatError,
    InputError,
    ShapeError,
    TrtlabError,
)
from trtlab.runners import (  # noqa: E402
    OnnxRuntimeRunner,
    Runner,
    TorchRunner,
    available_backends,
    runner,
)
from trtlab.runners.ort import ort_type_to_numpy  # noqa: E402


def _tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 5),
    ).eval()


@pytest.fixture(scope="module")
def tiny_model() -> torch.nn.Module:
    return _tiny()


@pytest.fixture(scope="module")
def tiny_onnx(tiny_model: torch.nn.Module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tiny_model,
            (torch.randn(2, 3, 8, 8),),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def _x(batch: int) -> np.ndarray:
    return np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("batch", [1, 3])
def test_torch_and_ort_agree_with_dynamic_batch(
    tiny_model: torch.nn.Module, tiny_onnx: Path, batch: int
) -> None:
    t = TorchRunner(tiny_model, output_names=["logits"], example_inputs=_x(2))
    o = OnnxRuntimeRunner(tiny_onnx, threads=1)
    x = _x(batch)
    yt = t(x)["logits"]
    yo = o({"input": x})["logits"]
    assert yt.shape == yo.shape == (batch, 5)
    assert yt.dtype == yo.dtype == np.float32
    np.testing.assert_allclose(yo, yt, rtol=1e-5, atol=1e-5)
    # and both equal an independent forward pass
    with torch.no_grad():
        ref = tiny_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(yt, ref, rtol=0, atol=0)


def test_ort_specs_and_device(tiny_onnx: Path) -> None:
    r = OnnxRuntimeRunner(tiny_onnx)
    assert r.backend == "onnxruntime"
    (inp,) = r.inputs
    (out,) = r.outputs
    assert (inp.name, inp.shape, inp.dtype) == ("input", ("batch", 3, 8, 8), np.dtype("float32"))
    assert (out.name, out.shape) == ("logits", ("batch", 5))
    assert inp.dynamic_axes == (0,)
    assert r.device == "cpu (CPUExecutionProvider)"
    assert "TensorrtExecutionProvider" not in r.providers
    assert "onnxruntime" in r.describe()


def test_ort_from_bytes(tiny_onnx: Path) -> None:
    r = OnnxRuntimeRunner(tiny_onnx.read_bytes())
    assert r.name == "onnx-bytes"
    assert r({"input": _x(2)})["logits"].shape == (2, 5)


def test_torch_specs_from_example(tiny_model: torch.nn.Module) -> None:
    r = TorchRunner(tiny_model, output_names=["logits"], example_inputs=torch.randn(2, 3, 8, 8))
    assert r.device == "cpu"
    assert r.inputs[0].shape == ("batch", 3, 8, 8)
    assert r.outputs[0].name == "logits"
    assert r.outputs[0].shape == ("batch", 5)


def test_torch_without_example_learns_outputs_on_first_call(tiny_model: torch.nn.Module) -> None:
    r = TorchRunner(tiny_model, device="cpu")
    assert r.inputs[0].shape_str() == "[...]"
    with pytest.raises(DTypeError):
        r(_x(1).astype(np.float64))
    out = r(_x(2))
    assert list(out) == ["output"]
    assert r.outputs[0].shape == ("batch", 5)


def test_torch_device_validation(tiny_model: torch.nn.Module) -> None:
    with pytest.raises(InputError, match="not one of"):
        TorchRunner(tiny_model, device="tpu").activate()
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="no CUDA GPU"):
            TorchRunner(tiny_model, device="cuda").activate()


def test_torch_rejects_non_module() -> None:
    with pytest.raises(InputError, match=r"nn\.Module"):
        TorchRunner(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("feed", "error", "match"),
    [
        (np.zeros((3, 8, 8), np.float32), ShapeError, "rank 4"),
        (np.zeros((1, 4, 8, 8), np.float32), ShapeError, "axis 1 must be 3"),
        (np.zeros((1, 3, 8, 8), np.float64), DTypeError, "float32"),
        ({"image": np.zeros((1, 3, 8, 8), np.float32)}, InputError, "unknown: \\['image'\\]"),
        ([[0.0] * 8] * 3, InputError, "expects 1 inputs"),
        ({"input": [[0.0]]}, DTypeError, "numpy array"),
        ("input", InputError, "numpy array or a dict"),
    ],
)
def test_input_validation(
    tiny_model: torch.nn.Module, tiny_onnx: Path, feed: object, error: type, match: str
) -> None:
    for r in (
        OnnxRuntimeRunner(tiny_onnx),
        TorchRunner(tiny_model, example_inputs=_x(1), output_names=["logits"]),
    ):
        with pytest.raises(error, match=match) as info:
            r(feed)  # type: ignore[arg-type]
        assert isinstance(info.value, TrtlabError)
        assert "How to fix" in str(info.value)


def test_ort_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="does not exist"):
        OnnxRuntimeRunner(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(FileFormatError, match="cannot load"):
        OnnxRuntimeRunner(bad).activate()
    with pytest.raises(FileFormatError):
        OnnxRuntimeRunner(b"").activate()


def test_ort_argument_validation(tiny_onnx: Path) -> None:
    with pytest.raises(InputError, match="threads"):
        OnnxRuntimeRunner(tiny_onnx, threads=0)
    with pytest.raises(InputError, match="not available"):
        OnnxRuntimeRunner(tiny_onnx, providers=["NoSuchExecutionProvider"]).activate()
    with pytest.raises(InputError, match="path or bytes"):
        OnnxRuntimeRunner(42)  # type: ignore[arg-type]


def test_ort_type_mapping_covers_tensor_types() -> None:
    assert ort_type_to_numpy("tensor(float)") == np.float32
    assert ort_type_to_numpy("tensor(float16)") == np.float16
    assert ort_type_to_numpy("tensor(int64)") == np.int64
    assert ort_type_to_numpy("tensor(bool)") == np.bool_
    assert ort_type_to_numpy("tensor(bfloat16)").name == "bfloat16"
    assert ort_type_to_numpy("tensor(float8e4m3fn)").itemsize == 1
    with pytest.raises(BackendError, match="not a plain tensor"):
        ort_type_to_numpy("seq(tensor(float))")
    with pytest.raises(BackendError, match="no numpy equivalent"):
        ort_type_to_numpy("tensor(float128)")


def test_ort_int64_output(tmp_path: Path) -> None:
    """An argmax head (like the segmenter's) returns int64 through ORT."""

    class Argmax(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.argmax(dim=1)

    path = tmp_path / "argmax.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Argmax(),
            (torch.randn(1, 4, 5, 6),),
            str(path),
            input_names=["input"],
            output_names=["classes"],
            dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}, "classes": {0: "n", 1: "h", 2: "w"}},
            opset_version=17,
            dynamo=False,
        )
    r = OnnxRuntimeRunner(path)
    assert r.outputs[0].dtype == np.int64
    assert r.inputs[0].shape == ("n", 4, "h", "w")
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 7)).astype(np.float32)
    np.testing.assert_array_equal(r(x)["classes"], x.argmax(axis=1))


def test_available_backends_here() -> None:
    found = available_backends()
    assert found[:2] == ["torch", "onnxruntime"]
    from trtlab import capabilities

    # tensorrt only where engines can be built: full TensorRT, a GPU *and* cuda-python
    assert ("tensorrt" in found) == capabilities.can_build_engines()


def test_runner_dispatch(tiny_model: torch.nn.Module, tiny_onnx: Path, tmp_path: Path) -> None:
    assert isinstance(runner(tiny_model), TorchRunner)
    r = runner(tiny_onnx, backend="onnxruntime")
    assert isinstance(r, OnnxRuntimeRunner)
    assert runner(r) is r
    assert isinstance(runner(str(tiny_onnx), threads=1), Runner)
    auto = runner(tiny_onnx)
    expected = "tensorrt" if "tensorrt" in available_backends() else "onnxruntime"
    assert auto.backend == expected
    assert isinstance(runner(tiny_onnx.read_bytes(), backend="onnxruntime"), OnnxRuntimeRunner)


def test_runner_dispatch_errors(
    tiny_model: torch.nn.Module, tiny_onnx: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="valid backends: auto, torch, onnxruntime, tensorrt"):
        runner(tiny_onnx, backend="tensorflow")
    with pytest.raises(InputError, match="export it first"):
        runner(tiny_model, backend="onnxruntime")
    with pytest.raises(InputError, match="cannot run with backend='torch'"):
        runner(tiny_onnx, backend="torch")
    with pytest.raises(FileFormatError, match="cannot tell which backend"):
        runner(tmp_path / "model.pt")
    with pytest.raises(InputError, match="cannot run a int"):
        runner(3)
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"\0")
    with pytest.raises(InputError, match="only backend='tensorrt'"):
        runner(engine, backend="onnxruntime")
    if "tensorrt" not in available_backends():
        with pytest.raises(BackendError, match="needs TensorRT") as info:
            runner(engine)
        assert "onnxruntime" in str(info.value)
        with pytest.raises(BackendError, match="needs TensorRT"):
            runner(tiny_onnx, backend="tensorrt")


def test_runner_context_manager_releases(tiny_onnx: Path) -> None:
    r = OnnxRuntimeRunner(tiny_onnx)
    with r:
        assert r._session is not None
    assert r._session is None
    assert r({"input": _x(1)})["logits"].shape == (1, 5)  # re-activates on use


def test_model_names_dispatch_and_specs() -> None:
    """A model name runs with torch (specs from MODEL_SPECS) or, for ONNX backends, its export."""
    seg = runner("tiny_segmenter", backend="torch")
    assert isinstance(seg, TorchRunner)
    assert seg.inputs[0].shape == ("batch", 3, "height", "width")
    assert (seg.outputs[0].name, seg.outputs[0].dtype) == ("classes", np.dtype(np.int64))
    assert seg.outputs[0].shape == ("batch", "height", "width")
    x = np.random.default_rng(0).standard_normal((2, 3, 20, 24)).astype(np.float32)
    assert seg(x)["classes"].shape == (2, 20, 24)

    cls_torch = runner("tiny_classifier")
    cls_ort = runner("tiny_classifier", backend="onnxruntime")
    assert isinstance(cls_ort, OnnxRuntimeRunner)
    assert cls_ort.inputs[0].shape == cls_torch.inputs[0].shape == ("batch", 3, 32, 32)
    for batch in (1, 3):
        feed = cls_torch.sample_inputs(batch=batch, seed=batch)
        np.testing.assert_allclose(
            cls_ort(feed)["logits"], cls_torch(feed)["logits"], rtol=1e-5, atol=1e-5
        )
    with pytest.raises(InputError, match="unknown model"):
        TorchRunner("resnet5000")


def test_fp32_precision_pins_and_restores_the_tf32_switches() -> None:
    import torch

    from trtlab.runners.torch_runner import fp32_precision

    conv = torch.backends.cudnn.conv
    before = (conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision)
    with fp32_precision(torch, tf32=False):
        assert conv.fp32_precision == "ieee"
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
    with fp32_precision(torch, tf32=True):
        assert conv.fp32_precision == "tf32"
    assert (conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision) == before


def test_check_false_is_the_same_call_without_validation(
    tiny_model: torch.nn.Module, tiny_onnx: Path
) -> None:
    x = _x(2)
    for r in (
        OnnxRuntimeRunner(tiny_onnx, threads=1),
        TorchRunner(tiny_model, example_inputs=_x(1), output_names=["logits"]),
    ):
        checked = r(x)["logits"]
        np.testing.assert_array_equal(r({"input": x}, check=False)["logits"], checked)
        np.testing.assert_array_equal(r(x, check=False)["logits"], checked)
        # validated calls still explain a wrong dtype; unchecked ones leave it to the backend
        with pytest.raises(DTypeError, match="float32"):
            r(x.astype(np.float64))
        # a non-contiguous array is validated and made contiguous, giving the same answer
        wide = np.concatenate([x, x], axis=3)[..., ::2]
        assert not wide.flags.c_contiguous
        np.testing.assert_allclose(r(wide)["logits"], r(np.ascontiguousarray(wide))["logits"])


def test_runners_are_closeable(tiny_onnx: Path) -> None:
    from trtlab._closing import Closeable

    r = OnnxRuntimeRunner(tiny_onnx)
    assert isinstance(r, Closeable)
    with r as active:
        assert active is r and r._session is not None
    assert r._session is None


def test_ort_load_errors_are_told_apart_by_type(tmp_path: Path) -> None:
    import onnxruntime as ort

    from trtlab.runners.ort import _load_error_types

    types = _load_error_types(ort)
    assert {t.__name__ for t in types} >= {"InvalidProtobuf", "NoSuchFile"}
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(FileFormatError) as info:
        OnnxRuntimeRunner(bad).activate()
    assert isinstance(info.value.__cause__, types)
