"""ONNXClassifierWrapper / SegmentationWrapper on CPU (ONNX Runtime), plus the chunking logic.

The ONNX files are exported once per module from trtlab's tiny random models; every prediction
is compared with ONNX Runtime run directly and with PyTorch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from trtlab.errors import (
    BackendError,
    ConfigError,
    DTypeError,
    EngineCompatibilityError,
    EngineError,
    EngineLoadError,
    FileFormatError,
    InputError,
    ShapeError,
)
from trtlab.runners.base import Runner, TensorSpec
from trtlab.trt.profiles import ShapeRange
from trtlab.wrappers import (
    DEFAULT_SEGMENTATION_SIZES,
    BatchChunk,
    ONNXClassifierWrapper,
    SegmentationWrapper,
    as_image_batch,
    batch_limits,
    fit_into_profile,
    plan_batches,
    run_in_chunks,
)

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

NUM_CLASSES = 10
SIZE = 32


def _images(n: int, h: int = SIZE, w: int = SIZE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 3, h, w)).astype(np.float32)


def _ort(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out: np.ndarray = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    return out


def _torch(model: Any, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        y = model(torch.from_numpy(x))
    out: np.ndarray = y.numpy()
    return out


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wrappers")


@pytest.fixture(scope="module")
def clf_model() -> Any:
    from trtlab.models import tiny_classifier

    return tiny_classifier(NUM_CLASSES)


@pytest.fixture(scope="module")
def clf_onnx(workdir: Path, clf_model: Any) -> Path:
    from trtlab.export import export_onnx

    return export_onnx(
        clf_model,
        workdir / "clf.onnx",
        torch.randn(1, 3, SIZE, SIZE),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )


@pytest.fixture(scope="module")
def clf_fixed_onnx(workdir: Path, clf_model: Any) -> Path:
    """Same classifier exported with a fixed batch of 4 (like an engine built for one batch)."""
    from trtlab.export import export_onnx

    return export_onnx(
        clf_model,
        workdir / "clf_b4.onnx",
        torch.randn(4, 3, SIZE, SIZE),
        input_names=["input"],
        output_names=["logits"],
    )


@pytest.fixture(scope="module")
def seg_model() -> Any:
    from trtlab.models import tiny_segmenter

    return tiny_segmenter(21)


_SEG_AXES = {
    "input": {0: "batch", 2: "height", 3: "width"},
    "classes": {0: "batch", 1: "height", 2: "width"},
}


@pytest.fixture(scope="module")
def seg_onnx(workdir: Path, seg_model: Any) -> Path:
    from trtlab.export import export_onnx

    return export_onnx(
        seg_model,
        workdir / "seg.onnx",
        torch.randn(1, 3, SIZE, SIZE),
        input_names=["input"],
        output_names=["classes"],
        dynamic_axes=_SEG_AXES,
    )


class _ScoresOnly(torch.nn.Module):
    """The tiny segmenter without its argmax head: float scores [N, 21, H, W]."""

    def __init__(self, seg: Any) -> None:
        super().__init__()
        self.inner = seg.segmenter

    def forward(self, x: Any) -> Any:
        return self.inner(x)["out"]


@pytest.fixture(scope="module")
def scores_onnx(workdir: Path, seg_model: Any) -> Path:
    from trtlab.export import export_onnx

    return export_onnx(
        _ScoresOnly(seg_model),
        workdir / "seg_scores.onnx",
        torch.randn(1, 3, SIZE, SIZE),
        input_names=["input"],
        output_names=["scores"],
        dynamic_axes={
            "input": {0: "batch", 2: "height", 3: "width"},
            "scores": {0: "batch", 2: "height", 3: "width"},
        },
    )


# -- the pure chunking logic ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "lo", "hi", "expected"),
    [
        (7, 1, None, [(0, 7, 0)]),
        (7, 1, 3, [(0, 3, 0), (3, 6, 0), (6, 7, 0)]),
        (6, 1, 3, [(0, 3, 0), (3, 6, 0)]),
        (7, 4, 4, [(0, 4, 0), (4, 7, 1)]),
        (2, 4, 4, [(0, 2, 2)]),
        (1, 2, 3, [(0, 1, 1)]),
        (5, 2, 8, [(0, 5, 0)]),
        (1, 1, 1, [(0, 1, 0)]),
    ],
)
def test_plan_batches(
    n: int, lo: int, hi: int | None, expected: list[tuple[int, int, int]]
) -> None:
    chunks = plan_batches(n, lo, hi)
    assert [(c.start, c.stop, c.pad) for c in chunks] == expected
    assert sum(c.rows for c in chunks) == n
    for c in chunks:
        assert c.batch >= lo
        assert hi is None or c.batch <= hi


def test_plan_batches_rejects_bad_values() -> None:
    with pytest.raises(ShapeError, match="at least one image"):
        plan_batches(0)
    with pytest.raises(InputError, match="max_batch"):
        plan_batches(5, 4, 2)
    with pytest.raises(InputError, match="min_batch"):
        plan_batches(5, 0, 2)
    with pytest.raises(ShapeError):
        plan_batches(True)  # type: ignore[arg-type]


def test_batch_chunk_sizes() -> None:
    c = BatchChunk(4, 7, 1)
    assert (c.rows, c.batch) == (3, 4)


def test_batch_limits_from_spec_and_profile() -> None:
    dyn = TensorSpec("input", ("batch", 3, 8, 8), np.dtype(np.float32))
    fixed = TensorSpec("input", (4, 3, 8, 8), np.dtype(np.float32))
    assert batch_limits(dyn) == (1, None)
    assert batch_limits(fixed) == (4, 4)
    assert batch_limits(dyn, ((2, 3, 8, 8), (6, 3, 8, 8))) == (2, 6)
    # a fixed dim wins over the profile (TensorRT reports both the same anyway)
    assert batch_limits(fixed, ((1, 3, 8, 8), (8, 3, 8, 8))) == (4, 4)
    rng = ShapeRange((2, 3, 8, 8), (4, 3, 8, 8), (6, 3, 8, 8))
    assert batch_limits(dyn, rng) == (2, 6)


def test_run_in_chunks_pads_with_last_row_and_drops_padding() -> None:
    seen: list[np.ndarray] = []

    def fn(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return x.sum(axis=(1, 2, 3))[:, None] * np.array([[1.0, -1.0]])

    x = _images(5, 2, 2)
    parts = run_in_chunks(fn, x, 2, 2)
    assert [p.shape[0] for p in parts] == [2, 2, 1]
    assert [s.shape[0] for s in seen] == [2, 2, 2]
    np.testing.assert_array_equal(seen[-1][0], x[4])
    np.testing.assert_array_equal(seen[-1][1], x[4])  # padding repeats the last image
    got = np.concatenate(parts)
    np.testing.assert_allclose(got[:, 0], x.sum(axis=(1, 2, 3)), rtol=1e-6)


def test_run_in_chunks_rejects_output_without_batch_axis() -> None:
    with pytest.raises(ShapeError, match="batch"):
        run_in_chunks(lambda x: np.zeros((x.shape[0] + 1, 3)), _images(2, 2, 2))


# -- input coercion -----------------------------------------------------------------------------
def test_as_image_batch_rules() -> None:
    f32 = np.dtype(np.float32)
    x64 = _images(2, 4, 4).astype(np.float64)
    arr, single = as_image_batch(x64, f32)
    assert arr.dtype == np.float32 and not single
    np.testing.assert_array_equal(arr, x64.astype(np.float32))
    arr, single = as_image_batch(x64[0], f32)
    assert arr.shape == (1, 3, 4, 4) and single
    arr, _ = as_image_batch(x64, np.dtype(np.float16))
    assert arr.dtype == np.float16
    arr, _ = as_image_batch(torch.from_numpy(x64), f32)
    assert arr.dtype == np.float32 and arr.shape == (2, 3, 4, 4)
    with pytest.raises(DTypeError, match="raw pixels"):
        as_image_batch(np.zeros((1, 3, 4, 4), np.uint8), f32)
    with pytest.raises(DTypeError):
        as_image_batch(np.zeros((1, 3, 4, 4), np.int64), f32)
    with pytest.raises(ShapeError, match=r"\[N, 3, H, W\]"):
        as_image_batch(np.zeros((4, 4), np.float32), f32)
    with pytest.raises(ShapeError, match="empty"):
        as_image_batch(np.zeros((0, 3, 4, 4), np.float32), f32)


# -- classifier on ONNX Runtime -------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 3, 7])
def test_classifier_matches_onnxruntime_and_torch(clf_onnx: Path, clf_model: Any, n: int) -> None:
    x = _images(n, seed=n)
    with ONNXClassifierWrapper(clf_onnx, backend="onnxruntime") as clf:
        y = clf.predict(x)
        assert clf.backend == "onnxruntime"
        assert clf.device.startswith("cpu")
    assert y.shape == (n, NUM_CLASSES) and y.dtype == np.float32
    np.testing.assert_allclose(y, _ort(clf_onnx, x), rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, _torch(clf_model, x), rtol=1e-5, atol=1e-5)


def test_classifier_reads_names_and_classes_from_model(clf_onnx: Path) -> None:
    clf = ONNXClassifierWrapper(clf_onnx)
    assert clf.num_classes == NUM_CLASSES
    assert clf.input_name == "input"
    assert clf.output_name == "logits"
    assert clf.batch_range == (1, None)
    text = repr(clf)
    assert "num_classes=10" in text and "logits" in text
    clf.close()


def test_classifier_single_image(clf_onnx: Path) -> None:
    x = _images(3)
    clf = ONNXClassifierWrapper(clf_onnx, backend="onnxruntime")
    one = clf.predict(x[1])
    assert one.shape == (1, NUM_CLASSES)
    np.testing.assert_allclose(one[0], clf.predict(x)[1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(clf(x[1]), one)  # __call__ is predict


def test_classifier_float16_target_and_float64_input(clf_onnx: Path) -> None:
    x = _images(3)
    ref = ONNXClassifierWrapper(clf_onnx).predict(x)
    half = ONNXClassifierWrapper(clf_onnx, np.float16).predict(x)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half, ref.astype(np.float16))
    y64 = ONNXClassifierWrapper(clf_onnx).predict(x.astype(np.float64))
    assert y64.dtype == np.float32
    np.testing.assert_allclose(y64, ref, rtol=0, atol=1e-6)


def test_classifier_accepts_torch_tensor(clf_onnx: Path) -> None:
    x = _images(2)
    clf = ONNXClassifierWrapper(clf_onnx)
    np.testing.assert_allclose(clf.predict(torch.from_numpy(x)), clf.predict(x), atol=1e-6)


def test_classifier_int_input_is_dtype_error(clf_onnx: Path) -> None:
    clf = ONNXClassifierWrapper(clf_onnx)
    with pytest.raises(DTypeError, match="preprocess"):
        clf.predict(np.zeros((2, 3, SIZE, SIZE), np.uint8))
    with pytest.raises(ShapeError):
        clf.predict(np.zeros((SIZE, SIZE), np.float32))


def test_classifier_wrong_image_size_names_expected_shape(clf_onnx: Path) -> None:
    # the exported classifier has fixed 32x32 inputs; the runner's check names them
    with pytest.raises(ShapeError, match="32"):
        ONNXClassifierWrapper(clf_onnx).predict(_images(1, 40, 40))


def test_num_classes_check(clf_onnx: Path) -> None:
    assert ONNXClassifierWrapper(clf_onnx, num_classes=NUM_CLASSES).predict(_images(1)).shape == (
        1,
        NUM_CLASSES,
    )
    clf = ONNXClassifierWrapper(clf_onnx, num_classes=1000)
    with pytest.raises(InputError, match=r"num_classes=1000.*outputs 10 classes") as info:
        clf.predict(_images(1))
    assert "num_classes=10" in str(info.value)  # the fix names the right value
    assert not clf.loaded  # nothing half-loaded stays behind
    with pytest.raises(InputError, match="positive int"):
        ONNXClassifierWrapper(clf_onnx, num_classes=0)


def test_quickstart_signatures_are_drop_ins(clf_onnx: Path, clf_fixed_onnx: Path) -> None:
    x = _images(3)
    # today's guide: (file, target_dtype=...); also the dtype second, positionally
    for clf in (
        ONNXClassifierWrapper(clf_onnx, target_dtype=np.float16),
        ONNXClassifierWrapper(clf_onnx, np.float16),
        # older copies: (file, [BATCH_SIZE, NUM_CLASSES], target_dtype=...) and (file, C, dtype)
        ONNXClassifierWrapper(clf_onnx, [2, NUM_CLASSES], target_dtype=np.float16),
        ONNXClassifierWrapper(clf_onnx, NUM_CLASSES, np.float16),
        ONNXClassifierWrapper(clf_onnx, num_classes=NUM_CLASSES, target_dtype=np.float16),
    ):
        y = clf.predict(x)
        assert y.shape == (3, NUM_CLASSES) and y.dtype == np.float16
    assert ONNXClassifierWrapper(clf_onnx, [2, NUM_CLASSES]).max_batch == 2  # BATCH_SIZE
    assert ONNXClassifierWrapper(clf_fixed_onnx, (4, NUM_CLASSES)).predict(x).shape == (3, 10)


def test_quickstart_arguments_are_checked_against_the_model(
    clf_onnx: Path, clf_fixed_onnx: Path
) -> None:
    with pytest.raises(InputError, match=r"num_classes=1000 .*outputs 10 classes"):
        ONNXClassifierWrapper(clf_onnx, [32, 1000], target_dtype=np.float32).predict(_images(1))
    with pytest.raises(InputError, match=r"outputs 10 classes"):
        ONNXClassifierWrapper(clf_onnx, 1000, np.float32).predict(_images(1))
    with pytest.raises(InputError, match=r"fixed batch of 4"):
        ONNXClassifierWrapper(clf_fixed_onnx, [32, NUM_CLASSES]).predict(_images(1))
    with pytest.raises(InputError, match=r"\[BATCH_SIZE, NUM_CLASSES\]"):
        ONNXClassifierWrapper(clf_onnx, [32, 1000, 1])
    with pytest.raises(InputError, match="two dtypes"):
        ONNXClassifierWrapper(clf_onnx, np.float16, target_dtype=np.float32)
    with pytest.raises(InputError, match="floating"):
        ONNXClassifierWrapper(clf_onnx, np.int32)
    with pytest.raises(InputError, match="positive int"):
        ONNXClassifierWrapper(clf_onnx, True)


def test_bad_files(tmp_path: Path, clf_onnx: Path) -> None:
    with pytest.raises(FileFormatError, match="not found"):
        ONNXClassifierWrapper(tmp_path / "missing.onnx")
    wrong = tmp_path / "model.pt"
    wrong.write_bytes(b"x")
    with pytest.raises(FileFormatError, match=r"\.onnx") as info:
        ONNXClassifierWrapper(wrong)
    assert "How to fix" in str(info.value)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        ONNXClassifierWrapper(empty)
    folder = tmp_path / "dir.onnx"
    folder.mkdir()
    with pytest.raises(FileFormatError, match="not a file"):
        ONNXClassifierWrapper(folder)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(clf_onnx.read_bytes()[:200])  # truncated
    clf = ONNXClassifierWrapper(corrupt)  # lazy: nothing read yet
    with pytest.raises(FileFormatError, match=r"corrupt\.onnx"):
        clf.predict(_images(1))
    with pytest.raises(InputError, match="path"):
        ONNXClassifierWrapper(123)  # type: ignore[arg-type]


def test_backend_choice(tmp_path: Path, clf_onnx: Path) -> None:
    from trtlab.capabilities import can_build_engines, can_run_engines

    def tensorrt_available() -> bool:
        return can_build_engines()

    with pytest.raises(InputError, match="backend"):
        ONNXClassifierWrapper(clf_onnx, backend="pytorch")
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"not an engine")
    with pytest.raises(InputError, match="ONNX Runtime cannot run it"):
        ONNXClassifierWrapper(engine, backend="onnxruntime")
    assert ONNXClassifierWrapper(engine).backend == "tensorrt"  # decided by suffix, not loaded
    expected_auto = "tensorrt" if tensorrt_available() else "onnxruntime"
    assert ONNXClassifierWrapper(clf_onnx).backend == expected_auto
    if not can_run_engines():
        with pytest.raises(BackendError, match="TensorRT"):
            ONNXClassifierWrapper(engine).predict(_images(1))
    if not tensorrt_available():
        with pytest.raises(BackendError, match="TensorRT"):
            ONNXClassifierWrapper(clf_onnx, backend="tensorrt").predict(_images(1))


def test_auto_backend_and_precision_come_from_capabilities(
    monkeypatch: pytest.MonkeyPatch, clf_onnx: Path
) -> None:
    import trtlab.capabilities as caps
    from trtlab import runners

    asked: list[tuple[Any, ...]] = []

    def select(kind: str, requested: str = "auto", **kw: Any) -> str:
        asked.append((kind, requested))
        return "tensorrt"

    def precision(backend: str, **kw: Any) -> str:
        asked.append(("precision", backend))
        return "bf16"

    made: dict[str, Any] = {}

    def fake_runner(path: Any, **kwargs: Any) -> Any:
        made.update(kwargs)
        raise BackendError("stop here")

    monkeypatch.setattr(caps, "select_backend", select)
    monkeypatch.setattr(caps, "default_precision", precision)
    monkeypatch.setattr(runners, "runner", fake_runner)
    clf = ONNXClassifierWrapper(clf_onnx, max_batch=8)
    assert clf.backend == "tensorrt" and clf.precision == "bf16"
    assert asked == [("onnx", "auto"), ("precision", "tensorrt")]
    with pytest.raises(BackendError, match="stop here"):
        clf.predict(_images(1))
    assert made["backend"] == "tensorrt" and made["precision"] == "bf16"
    assert made["profiles"] == [
        {"input": ((1, 3, SIZE, SIZE), (4, 3, SIZE, SIZE), (8, 3, SIZE, SIZE))}
    ]
    # an explicit precision is kept as given, and an explicit backend is not re-chosen
    asked.clear()
    explicit = ONNXClassifierWrapper(clf_onnx, backend="onnxruntime", precision="fp32")
    assert explicit.backend == "onnxruntime" and explicit.precision == "fp32" and asked == []


def test_repr_survives_a_machine_without_backends(
    monkeypatch: pytest.MonkeyPatch, clf_onnx: Path
) -> None:
    import trtlab.capabilities as caps
    from trtlab.errors import DependencyError

    def none_here(kind: str, requested: str = "auto", **kw: Any) -> str:
        raise DependencyError("no ONNX Runtime and no TensorRT here")

    monkeypatch.setattr(caps, "select_backend", none_here)
    clf = ONNXClassifierWrapper(clf_onnx)
    assert "none usable here" in repr(clf)
    with pytest.raises(DependencyError, match="no ONNX Runtime"):
        clf.predict(_images(1))


def test_profiles_argument_forms_are_checked_early(clf_onnx: Path) -> None:
    clf = ONNXClassifierWrapper(clf_onnx, profiles="input:2x3x32x32")
    assert clf.profiles == [{"input": ShapeRange.fixed((2, 3, SIZE, SIZE))}]
    with pytest.raises(ShapeError, match="min <= opt <= max"):
        ONNXClassifierWrapper(
            clf_onnx, profiles={"input": ((4, 3, 8, 8), (2, 3, 8, 8), (8, 3, 8, 8))}
        )


def test_precision_validation_and_warning(clf_onnx: Path) -> None:
    with pytest.raises(ConfigError, match="precision"):
        ONNXClassifierWrapper(clf_onnx, precision="fp7")
    clf = ONNXClassifierWrapper(clf_onnx, backend="onnxruntime", precision="fp16")
    with pytest.warns(UserWarning, match="ONNX Runtime runs the graph as exported"):
        clf.predict(_images(1))


def test_lazy_loading(monkeypatch: pytest.MonkeyPatch, clf_onnx: Path) -> None:
    created: list[object] = []
    real = ort.InferenceSession

    def counting(*args: Any, **kwargs: Any) -> Any:
        session = real(*args, **kwargs)
        created.append(session)
        return session

    monkeypatch.setattr(ort, "InferenceSession", counting)
    clf = ONNXClassifierWrapper(clf_onnx, backend="onnxruntime")
    assert "not loaded" in repr(clf)
    assert clf.backend == "onnxruntime"
    assert not clf.loaded and created == []
    clf.predict(_images(2))
    clf.predict(_images(3))
    assert clf.loaded and len(created) == 1
    clf.close()
    assert not clf.loaded
    clf.predict(_images(1))  # reloads after close
    assert len(created) == 2
    with ONNXClassifierWrapper(clf_onnx, backend="onnxruntime").load() as loaded:
        assert loaded.loaded and len(created) == 3
    assert not loaded.loaded


def test_fixed_batch_model_is_chunked_and_padded(clf_fixed_onnx: Path, clf_model: Any) -> None:
    clf = ONNXClassifierWrapper(clf_fixed_onnx)
    assert clf.batch_range == (4, 4)
    for n in (1, 3, 4, 9):
        x = _images(n, seed=10 + n)
        y = clf.predict(x)
        assert y.shape == (n, NUM_CLASSES)
        np.testing.assert_allclose(y, _torch(clf_model, x), rtol=1e-5, atol=1e-5)


def test_predict_topk(clf_onnx: Path) -> None:
    x = _images(2)
    clf = ONNXClassifierWrapper(clf_onnx)
    logits = clf.predict(x)
    names = [f"thing{i}" for i in range(NUM_CLASSES)]
    top = clf.predict_topk(x, k=3, labels=names)
    assert len(top) == 2 and all(len(row) == 3 for row in top)
    for row, lg in zip(top, logits, strict=True):
        assert [p.index for p in row] == list(np.argsort(-lg, kind="stable")[:3])
        assert [p.label for p in row] == [names[p.index] for p in row]
        probs = np.exp(lg - lg.max()) / np.exp(lg - lg.max()).sum()
        assert row[0].probability == pytest.approx(float(probs[row[0].index]), rel=1e-5)
    assert clf.predict_topk(x[0], k=1, labels=None)[0][0].label.startswith("class ")
    with pytest.raises(ShapeError, match="1000 labels for 10 classes"):
        clf.predict_topk(x, labels="imagenet")


def test_wrappers_refuse_the_wrong_task(clf_onnx: Path, seg_onnx: Path) -> None:
    with pytest.raises(InputError, match="not a classifier"):
        ONNXClassifierWrapper(seg_onnx).predict(_images(1))
    with pytest.raises(InputError, match="not a segmentation model"):
        SegmentationWrapper(clf_onnx).predict(_images(1))


# -- a TensorRT-like runner with a profile ----------------------------------------------------
class _FakeTrtRunner(Runner):
    """Pretends to be an engine with profile batch ``lo..hi`` and 8x8 images; records batches."""

    backend = "tensorrt"

    def __init__(self, lo: int, hi: int) -> None:
        from trtlab.trt.runtime import EngineTensor

        super().__init__(name="fake-engine")
        self.lo, self.hi = lo, hi
        self.calls: list[int] = []
        self.weights = np.arange(15, dtype=np.float32).reshape(3, 5) / 10
        tensor = EngineTensor(
            name="images",
            mode="input",
            trt_dtype="HALF",
            shape=(-1, 3, 8, 8),
            profiles=(ShapeRange((lo, 3, 8, 8), (lo, 3, 8, 8), (hi, 3, 8, 8)),),
        )
        self.engine = SimpleNamespace(inputs=[tensor], profile=0)

    def _activate(self) -> None:
        self._inputs = [TensorSpec("images", (None, 3, 8, 8), np.dtype(np.float16))]
        self._outputs = [TensorSpec("probs", (None, 5), np.dtype(np.float16))]
        self._device = "cuda:0 (fake)"

    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = feed["images"]
        n = x.shape[0]
        if not self.lo <= n <= self.hi:  # what the real Engine.check_shape refuses
            raise ShapeError(f"batch {n} outside profile {self.lo}..{self.hi}")
        self.calls.append(n)
        return {"probs": self.expected(x).astype(np.float16)}

    def expected(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = x.astype(np.float32).mean(axis=(2, 3)) @ self.weights
        return out


def _with_fake(tmp_path: Path, lo: int, hi: int, **kw: Any) -> tuple[Any, _FakeTrtRunner]:
    engine = tmp_path / "fake.plan"
    engine.write_bytes(b"fake")
    fake = _FakeTrtRunner(lo, hi)
    clf = ONNXClassifierWrapper(engine, **kw)
    clf._make_runner = lambda: fake  # type: ignore[method-assign]
    return clf, fake


def test_profile_limited_backend_chunks_the_batch(tmp_path: Path) -> None:
    clf, fake = _with_fake(tmp_path, 1, 3)
    x = _images(7, 8, 8)
    y = clf.predict(x)
    assert fake.calls == [3, 3, 1]
    assert y.shape == (7, 5) and y.dtype == np.float32
    ref = fake.expected(x.astype(np.float16))
    np.testing.assert_allclose(y, ref, rtol=2e-3, atol=2e-3)
    assert clf.backend == "tensorrt" and clf.batch_range == (1, 3)
    assert clf.num_classes == 5 and clf.input_name == "images" and clf.output_name == "probs"


def test_profile_min_batch_pads(tmp_path: Path) -> None:
    clf, fake = _with_fake(tmp_path, 2, 4)
    x = _images(5, 8, 8)
    y = clf.predict(x)
    assert fake.calls == [4, 2]  # the last single image was padded to the profile minimum
    assert y.shape == (5, 5)
    np.testing.assert_allclose(y, fake.expected(x.astype(np.float16)), rtol=2e-3, atol=2e-3)
    assert clf.predict(x[0]).shape == (1, 5)
    assert fake.calls[-1] == 2


def test_profile_spatial_range_error(tmp_path: Path) -> None:
    clf, fake = _with_fake(tmp_path, 1, 4)
    with pytest.raises(ShapeError, match=r"height 9 .*allowed 8\.\.8") as info:
        clf.predict(_images(1, 9, 8))
    assert "profiles=" in str(info.value)
    assert fake.calls == []


def test_engine_load_errors_are_told_apart_by_type(tmp_path: Path) -> None:
    def failing(exc: Exception) -> Any:
        clf, fake = _with_fake(tmp_path, 1, 4)

        def boom() -> None:
            raise exc

        fake._activate = boom  # type: ignore[method-assign]
        return clf

    # a load error of the right type gets the wrapper's hint, whatever its text says
    with pytest.raises(EngineLoadError, match="rebuild it here") as info:
        failing(EngineLoadError("plan rejected")).predict(_images(1, 8, 8))
    assert "plan rejected" in str(info.value)
    # a provenance mismatch already says what to rebuild with: passed on unchanged
    compat = EngineCompatibilityError("built with TensorRT 10.13 on sm_90")
    with pytest.raises(EngineCompatibilityError) as info2:
        failing(compat).predict(_images(1, 8, 8))
    assert info2.value is compat
    # another engine error is not re-labelled because its message mentions "deserialize"
    other = EngineError("out of memory while trying to deserialize")
    with pytest.raises(EngineError) as info3:
        failing(other).predict(_images(1, 8, 8))
    assert info3.value is other


def test_default_trt_profiles(clf_onnx: Path, seg_onnx: Path) -> None:
    clf = ONNXClassifierWrapper(clf_onnx, max_batch=8)
    assert clf._default_profiles() == {
        "input": ((1, 3, SIZE, SIZE), (4, 3, SIZE, SIZE), (8, 3, SIZE, SIZE))
    }
    seg = SegmentationWrapper(seg_onnx)
    lo, opt, hi = DEFAULT_SEGMENTATION_SIZES
    assert seg._default_profiles() == {"input": ((1, 3, lo, lo), (2, 3, opt, opt), (4, 3, hi, hi))}
    with pytest.raises(InputError, match="max_batch"):
        ONNXClassifierWrapper(clf_onnx, max_batch=0)


class _FakeSegRunner(Runner):
    """An FCN-like engine with input profile ``rng``: returns a zero class map, records shapes."""

    backend = "tensorrt"

    def __init__(self, rng: ShapeRange) -> None:
        from trtlab.trt.runtime import EngineTensor

        super().__init__(name="fake-seg-engine")
        self.shapes: list[tuple[int, ...]] = []
        self.rng = rng
        tensor = EngineTensor(
            name="input", mode="input", trt_dtype="FLOAT", shape=(-1, 3, -1, -1), profiles=(rng,)
        )
        self.engine = SimpleNamespace(inputs=[tensor], profile=0)

    def _activate(self) -> None:
        self._inputs = [TensorSpec("input", (None, 3, None, None), np.dtype(np.float32))]
        self._outputs = [TensorSpec("classes", (None, None, None), np.dtype(np.int64))]
        self._device = "cuda:0 (fake)"

    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = feed["input"]
        if not self.rng.contains(x.shape):  # what the real engine's check_shape refuses
            raise ShapeError(f"{list(x.shape)} outside the profile {self.rng}")
        self.shapes.append(tuple(x.shape))
        return {"classes": np.zeros((x.shape[0], *x.shape[2:]), np.int64)}


def _seg_with_fake(tmp_path: Path, rng: ShapeRange) -> tuple[SegmentationWrapper, _FakeSegRunner]:
    engine = tmp_path / "seg.plan"
    engine.write_bytes(b"fake")
    fake = _FakeSegRunner(rng)
    seg = SegmentationWrapper(engine)
    seg._make_runner = lambda: fake  # type: ignore[method-assign]
    return seg, fake


def test_default_segmentation_profile_covers_nvidia_tutorial_sizes(
    tmp_path: Path, seg_onnx: Path
) -> None:
    """B9: the default FCN profile takes 1x3x1026x1282 and 1x3x1440x2560 (either way round)."""
    import warnings

    from PIL import Image

    rng = SegmentationWrapper(seg_onnx)._default_profiles()["input"]
    for h, w in [(1026, 1282), (1440, 2560), (2560, 1440)]:
        assert rng.contains((1, 3, h, w)), (h, w, rng)
    # segment() of an image wider than 2:1 (shorter side 520 -> 520x1352) runs unresized
    seg, fake = _seg_with_fake(tmp_path, rng)
    wide = Image.fromarray(np.zeros((100, 260, 3), np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no resize warning: it fits
        class_map, over = seg.segment(wide)
    assert class_map.shape == (520, 1352) and fake.shapes == [(1, 3, 520, 1352)]
    assert over.size == wide.size


def test_segment_resizes_into_a_narrower_profile_with_a_warning(tmp_path: Path) -> None:
    from PIL import Image

    rng = ShapeRange((1, 3, 64, 64), (1, 3, 128, 128), (1, 3, 256, 256))
    seg, fake = _seg_with_fake(tmp_path, rng)
    img = Image.fromarray(np.zeros((60, 200, 3), np.uint8))
    with pytest.warns(UserWarning, match=r"outside the engine's optimization profile.*resized"):
        class_map, over = seg.segment(img, size=120)  # 120x400 preprocessed: too wide
    assert fake.shapes == [(1, 3, 77, 256)] and class_map.shape == (77, 256)
    assert over.size == img.size
    # predict() itself never resizes: the caller's array is refused with the allowed range
    with pytest.raises(ShapeError, match=r"width 400 .*allowed 64\.\.256"):
        seg.predict(np.zeros((1, 3, 120, 400), np.float32))


@pytest.mark.parametrize(
    ("hw", "expected"),
    [
        ((100, 100), None),  # fits
        ((120, 400), (77, 256)),  # too wide: scale down, ratio kept
        ((30, 40), (64, 85)),  # too small: scale up
        ((60, 1000), (64, 256)),  # cannot keep the ratio: clamp
    ],
)
def test_fit_into_profile(hw: tuple[int, int], expected: tuple[int, int] | None) -> None:
    rng = ShapeRange((1, 3, 64, 64), (1, 3, 128, 128), (1, 3, 256, 256))
    assert fit_into_profile(hw, rng) == expected
    assert fit_into_profile(hw, None) is None


# -- segmentation ---------------------------------------------------------------------------
@pytest.mark.parametrize(("h", "w"), [(32, 48), (40, 24)])
def test_segmentation_two_sizes(seg_onnx: Path, seg_model: Any, h: int, w: int) -> None:
    x = _images(3, h, w, seed=h)
    seg = SegmentationWrapper(seg_onnx, backend="onnxruntime")
    cm = seg.predict(x)
    assert cm.shape == (3, h, w) and cm.dtype == np.int64
    np.testing.assert_array_equal(cm, _ort(seg_onnx, x))
    agree = float((cm == _torch(seg_model, x)).mean())
    assert agree >= 0.999
    assert seg.output_kind == "class_map" and seg.num_classes is None
    one = seg.predict(x[0])
    assert one.shape == (1, h, w)
    np.testing.assert_array_equal(one[0], cm[0])


def test_segmentation_from_score_planes(scores_onnx: Path, seg_onnx: Path) -> None:
    x = _images(2, 24, 40, seed=3)
    seg = SegmentationWrapper(scores_onnx)
    cm = seg.predict(x)
    assert seg.output_kind == "scores" and seg.num_classes == 21
    assert cm.dtype == np.int64 and cm.shape == (2, 24, 40)
    np.testing.assert_array_equal(cm, _ort(scores_onnx, x).argmax(axis=1))
    agree = float((cm == SegmentationWrapper(seg_onnx).predict(x)).mean())
    assert agree >= 0.999


def test_segment_image_and_helpers(seg_onnx: Path) -> None:
    from PIL import Image

    from trtlab.data import load_image, preprocess_segmentation

    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 255, (30, 50, 3), dtype=np.uint8))
    seg = SegmentationWrapper(seg_onnx)
    class_map, over = seg.segment(img, size=20)
    x = preprocess_segmentation(img, size=20)
    assert class_map.shape == x.shape[1:] == (20, 33)
    np.testing.assert_array_equal(class_map, seg.predict(x)[0])
    assert isinstance(over, Image.Image) and over.size == img.size
    shares = seg.class_shares(class_map)
    assert sum(shares.values()) == pytest.approx(1.0)
    _ids, counts = np.unique(class_map, return_counts=True)
    assert max(shares.values()) == pytest.approx(counts.max() / class_map.size)
    full = seg.overlay(img, class_map, alpha=1.0)
    plain = seg.overlay(img, np.zeros_like(class_map), alpha=1.0)  # all background
    np.testing.assert_array_equal(np.asarray(plain), np.asarray(load_image(img)))
    assert full.size == img.size


# -- import cost --------------------------------------------------------------------------------
def test_import_is_light() -> None:
    code = (
        "import sys, trtlab.wrappers; "
        "heavy = [m for m in ('torch', 'onnxruntime', 'tensorrt', 'onnx') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
