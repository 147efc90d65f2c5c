"""Engine / TrtRunner with the full TensorRT on a GPU (NVIDIA container): ResNet-50 and FCN.

Skipped, with the reason printed, where the full TensorRT or a GPU is missing. Engines are built
once per module from ONNX files exported here with random weights (numerics, not accuracy, are
under test), at small input sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtlab.errors import DTypeError, ShapeError

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu, pytest.mark.usefixtures("tensorrt_gpu")]


def _export(name: str, path: Path, example: tuple[int, ...]) -> Path:
    import torch

    from trtlab import models

    spec = models.get_spec(name)
    model = models.load_model(name, weights=None).eval()  # random weights: offline-safe
    torch.onnx.export(
        model,
        (torch.randn(*example),),
        str(path),
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes={k: dict(v) for k, v in spec.dynamic_axes.items()},
        opset_version=17,
        dynamo=False,
    )
    return path


@pytest.fixture(scope="module")
def resnet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from trtlab.trt.build import build_engine

    onnx_path = _export("resnet50", tmp_path_factory.mktemp("rn") / "r50.onnx", (1, 3, 224, 224))
    result = build_engine(
        onnx_path,
        profiles={"input": ((1, 3, 224, 224), (2, 3, 224, 224), (4, 3, 224, 224))},
        cache=False,
        progress=False,
    )
    return onnx_path, result.engine


@pytest.fixture(scope="module")
def fcn(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from trtlab.trt.build import build_engine

    onnx_path = _export(
        "fcn_resnet101", tmp_path_factory.mktemp("fcn") / "fcn.onnx", (1, 3, 128, 128)
    )
    result = build_engine(
        onnx_path,
        profiles={"input": ((1, 3, 96, 96), (1, 3, 128, 128), (2, 3, 160, 160))},
        cache=False,
        progress=False,
    )
    return onnx_path, result.engine


def _ort(onnx_path: Path, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feed), strict=True))


def test_io_table_and_dynamic_batches(resnet: Any) -> None:
    from trtlab.trt.runtime import Engine

    onnx_path, plan = resnet
    with Engine(plan) as eng:
        (inp,) = eng.inputs
        assert inp.name == "input" and inp.shape == (-1, 3, 224, 224)
        assert inp.profiles[0].min == (1, 3, 224, 224) and inp.profiles[0].max == (4, 3, 224, 224)
        assert "input" in str(eng) and "<table>" in eng._repr_html_()
        for batch in (1, 3, 4, 2):
            x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224), np.float32)
            out = eng.infer({"input": x})["logits"]
            ref = _ort(onnx_path, {"input": x})["logits"]
            assert out.shape == (batch, 1000)
            rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
            assert rel < 1e-3, rel


def test_shape_outside_profile_and_bad_dtype(resnet: Any) -> None:
    from trtlab.trt.runtime import Engine

    with Engine(resnet[1]) as eng:
        with pytest.raises(ShapeError, match=r"outside optimization profile 0.*\[1, 4\]"):
            eng.infer({"input": np.zeros((5, 3, 224, 224), np.float32)})
        with pytest.raises(ShapeError, match="fixed at 224"):
            eng.infer({"input": np.zeros((1, 3, 225, 224), np.float32)})
        with pytest.raises(DTypeError):
            eng.infer({"input": np.zeros((1, 3, 224, 224), np.float64)})


def test_cuda_graph_replay_matches_plain_run(resnet: Any) -> None:
    from trtlab.trt.runtime import Engine

    rng = np.random.default_rng(0)
    with Engine(resnet[1]) as plain, Engine(resnet[1], use_cuda_graph=True) as graphed:
        for batch in (2, 2, 2, 1, 1, 2):
            x = rng.standard_normal((batch, 3, 224, 224), np.float32)
            want = plain.infer({"input": x})["logits"]
            got = graphed.infer({"input": x})["logits"]
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert graphed.graph_disabled_reason is None
        # one graph per execution context (TensorRT ties a graph to the context's state): the
        # last shape change (1 -> 2) re-captured it for batch 2
        assert list(graphed._res.graphs) == [(("input", (2, 3, 224, 224)),)]


def test_torch_zero_copy_path(resnet: Any) -> None:
    torch = pytest.importorskip("torch")
    from trtlab.trt.runtime import Engine

    x = torch.randn(2, 3, 224, 224, device="cuda")
    with Engine(resnet[1]) as eng:
        out = eng.infer({"input": x})["logits"]
        assert isinstance(out, torch.Tensor) and out.is_cuda and out.shape == (2, 1000)
        ref = eng.infer({"input": x.cpu().numpy()})["logits"]
        np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=1e-5, atol=1e-5)
        # a torch stream is accepted as is (B6), and outputs="numpy" copies back
        s = torch.cuda.Stream()
        host = eng.infer({"input": x}, stream=s, outputs="numpy")["logits"]
        np.testing.assert_allclose(host, ref, rtol=1e-5, atol=1e-5)


def test_device_outputs_real_tensorrt(resnet: Any) -> None:
    """numpy in, DeviceArray out, fed back as a device input: no host round trip."""
    from trtlab.cuda import DeviceArray
    from trtlab.trt.runtime import Engine

    x = np.random.default_rng(1).standard_normal((2, 3, 224, 224), np.float32)
    with Engine(resnet[1]) as eng:
        ref = eng.infer({"input": x})["logits"]
        dev = eng.infer({"input": x}, outputs="device")["logits"]
        assert isinstance(dev, DeviceArray) and dev.shape == (2, 1000)
        np.testing.assert_allclose(dev.numpy(), ref, rtol=1e-5, atol=1e-5)
        xd = DeviceArray.from_numpy(x, stream=eng.stream)
        again = eng.infer({"input": xd}, outputs="numpy")["logits"]
        np.testing.assert_allclose(again, ref, rtol=1e-5, atol=1e-5)


def test_runner_parity_with_onnxruntime_fcn(fcn: Any) -> None:
    from trtlab.runners.trt import TrtRunner

    onnx_path, plan = fcn
    with TrtRunner(plan) as runner:
        assert runner.backend == "tensorrt" and runner.device.startswith("cuda:0 (")
        assert runner.inputs[0].shape == (None, 3, None, None)
        x = np.random.default_rng(3).standard_normal((1, 3, 128, 128)).astype(np.float32)
        got = runner({"input": x})["classes"]
        want = _ort(onnx_path, {"input": x})["classes"]
        assert got.dtype == np.int64 and got.shape == (1, 128, 128)
        assert (got == want).mean() > 0.99  # argmax ties may flip a few pixels
