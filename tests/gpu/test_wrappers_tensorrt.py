"""ONNXClassifierWrapper / SegmentationWrapper on real TensorRT, checked against ONNX Runtime.

Skipped, with the reason printed (``pytest -rs``), where the full TensorRT or a GPU is missing.
ResNet-50 and FCN-ResNet-101 have random weights (numerics, not accuracy, are under test) and
run at small sizes. Tolerances: the ResNet-50 engine is FP16, so logits are compared relative to
their range; FCN is built FP32 (TF32 may be used) and compared by pixel agreement of the class
maps, since an argmax can flip where two random-weight scores nearly tie.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trtlab.errors import ShapeError

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu, pytest.mark.usefixtures("tensorrt_gpu")]

RESNET_PROFILE = {"input": ((1, 3, 224, 224), (2, 3, 224, 224), (4, 3, 224, 224))}
FCN_PROFILE = {"input": ((1, 3, 96, 96), (1, 3, 128, 128), (2, 3, 200, 200))}


def _export(name: str, path: Path) -> Path:
    import torch

    from trtlab import models
    from trtlab.export import export_onnx

    spec = models.get_spec(name)
    model = models.load_model(name, weights=None)
    return export_onnx(
        model,
        path,
        torch.randn(*spec.example_shape),
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes={k: dict(v) for k, v in spec.dynamic_axes.items()},
    )


def _images(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 3, h, w)).astype(np.float32)


@pytest.fixture(scope="module")
def resnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """ResNet-50 ONNX (dynamic batch) and an FP16 engine file with batch profile 1..4."""
    from trtlab.trt.build import build_engine

    folder = tmp_path_factory.mktemp("r50")
    onnx_path = _export("resnet50", folder / "r50.onnx")
    engine_path = folder / "r50.engine"
    build_engine(
        onnx_path,
        engine_path,
        precision="fp16",
        profiles=RESNET_PROFILE,
        cache=False,
        progress=False,
    )
    return onnx_path, engine_path


@pytest.fixture(scope="module")
def fcn_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export("fcn_resnet101", tmp_path_factory.mktemp("fcn") / "fcn.onnx")


def _assert_logits_close(got: np.ndarray, ref: np.ndarray) -> None:
    """FP16 engine vs FP32 reference: error small against the logits' range, same direction."""
    assert got.shape == ref.shape
    scale = float(np.abs(ref).max())
    err = float(np.abs(got.astype(np.float64) - ref).max())
    assert err <= 2e-2 * scale + 1e-3, f"max abs error {err:.4g} vs logits scale {scale:.4g}"
    for g, r in zip(got.astype(np.float64), ref.astype(np.float64), strict=True):
        cos = float(g @ r / (np.linalg.norm(g) * np.linalg.norm(r)))
        assert cos > 0.999, f"cosine similarity {cos:.5f}"


@pytest.mark.parametrize("n", [1, 5])
def test_classifier_engine_matches_onnxruntime(resnet: tuple[Path, Path], n: int) -> None:
    from trtlab.wrappers import ONNXClassifierWrapper

    onnx_path, engine_path = resnet
    x = _images(n, 224, 224, seed=n)
    ref = ONNXClassifierWrapper(onnx_path, backend="onnxruntime").predict(x)
    with ONNXClassifierWrapper(engine_path, num_classes=1000) as clf:
        y = clf.predict(x)  # n=5 runs as chunks of 4 + 1 (profile max 4)
        assert clf.backend == "tensorrt"
        assert clf.device.startswith("cuda")
        assert clf.batch_range == (1, 4)
        assert (clf.input_name, clf.output_name, clf.num_classes) == ("input", "logits", 1000)
    assert y.dtype == np.float32 and y.shape == (n, 1000)
    _assert_logits_close(y, ref)


def test_classifier_engine_single_image_and_float16(resnet: tuple[Path, Path]) -> None:
    from trtlab.wrappers import ONNXClassifierWrapper

    onnx_path, engine_path = resnet
    x = _images(2, 224, 224, seed=7)
    clf = ONNXClassifierWrapper(engine_path, np.float16)
    one = clf.predict(x[0])
    assert one.shape == (1, 1000) and one.dtype == np.float16
    both = clf.predict(x)
    np.testing.assert_allclose(one[0].astype(np.float32), both[0].astype(np.float32), atol=1e-2)
    ref = ONNXClassifierWrapper(onnx_path, backend="onnxruntime").predict(x)
    _assert_logits_close(both.astype(np.float32), ref)
    clf.close()


def test_classifier_onnx_on_tensorrt_builds_engine(resnet: tuple[Path, Path]) -> None:
    """``.onnx`` + ``backend='auto'`` on a TensorRT machine: cached build, then TensorRT."""
    from trtlab.wrappers import ONNXClassifierWrapper

    onnx_path, _ = resnet
    x = _images(3, 224, 224, seed=11)
    clf = ONNXClassifierWrapper(onnx_path, precision="fp16", max_batch=2)
    assert clf.backend == "tensorrt" and not clf.loaded
    y = clf.predict(x)  # batch 3 on a 1..2 profile: chunks of 2 + 1
    assert clf.batch_range == (1, 2)
    ref = ONNXClassifierWrapper(onnx_path, backend="onnxruntime").predict(x)
    _assert_logits_close(y, ref)
    clf.close()


@pytest.mark.parametrize(("h", "w"), [(96, 128), (200, 152)])
def test_segmentation_engine_matches_onnxruntime(fcn_onnx: Path, h: int, w: int) -> None:
    from trtlab.wrappers import SegmentationWrapper

    x = _images(3, h, w, seed=h)
    ref = SegmentationWrapper(fcn_onnx, backend="onnxruntime").predict(x)
    with SegmentationWrapper(fcn_onnx, backend="tensorrt", profiles=FCN_PROFILE) as seg:
        cm = seg.predict(x)  # batch 3 on a 1..2 profile: chunks of 2 + 1
        assert seg.backend == "tensorrt" and seg.batch_range == (1, 2)
        assert seg.output_kind == "class_map"
    assert cm.shape == (3, h, w) and cm.dtype == np.int64
    agree = float((cm == ref).mean())
    assert agree >= 0.98, f"pixel agreement {agree:.4f}"


def test_segmentation_engine_profile_limits_and_segment(fcn_onnx: Path) -> None:
    from trtlab.data import demo_image, load_image
    from trtlab.wrappers import SegmentationWrapper

    seg = SegmentationWrapper(fcn_onnx, backend="tensorrt", profiles=FCN_PROFILE)
    with pytest.raises(ShapeError, match=r"96\.\.200"):
        seg.predict(_images(1, 64, 128))
    image = demo_image("cat")
    class_map, over = seg.segment(image, size=128)
    assert class_map.ndim == 2 and min(class_map.shape) == 128
    assert over.size == load_image(image).size
    ref_map, _ = SegmentationWrapper(fcn_onnx, backend="onnxruntime").segment(image, size=128)
    assert float((class_map == ref_map).mean()) >= 0.98
    seg.close()
