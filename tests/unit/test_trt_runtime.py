"""trtlab.trt.runtime without TensorRT or a GPU: dtype map, profile checks, and the Engine itself
on a stand-in TensorRT module (``tests/_faketrt.py``) over the fake CUDA runtime."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import Any

import _faketrt
import numpy as np
import pytest
from _fakecuda import FakeCudart

from trtlab import cuda
from trtlab.errors import DependencyError, DTypeError, EngineError, InputError, ShapeError
from trtlab.trt import runtime as rt
from trtlab.trt.runtime import Engine, EngineTensor, ProfileShape


# -- pure helpers ---------------------------------------------------------------------------------
def test_dtype_map_values() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    assert rt.numpy_dtype("FLOAT") == np.float32
    assert rt.numpy_dtype("HALF") == np.float16
    assert rt.numpy_dtype("INT64") == np.int64
    assert rt.numpy_dtype("BOOL") == np.bool_
    assert rt.numpy_dtype("BF16") == np.dtype(ml_dtypes.bfloat16)
    assert rt.numpy_dtype("FP8") == np.dtype(ml_dtypes.float8_e4m3fn)
    assert rt.numpy_dtype(_faketrt.DataType.UINT8) == np.uint8  # enum members work too
    for packed in ("INT4", "FP4"):
        with pytest.raises(DTypeError, match="packed"):
            rt.numpy_dtype(packed)
    with pytest.raises(DTypeError, match="unknown TensorRT data type"):
        rt.numpy_dtype("FLOAT128")
    for name, bits in rt.TRT_DTYPE_BITS.items():
        if rt.TRT_TO_NUMPY[name]:
            assert rt.numpy_dtype(name).itemsize * 8 == bits, name


def test_bf16_without_ml_dtypes_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    with pytest.raises(DependencyError, match="ml_dtypes"):
        rt.numpy_dtype("BF16")


TENSOR = EngineTensor(
    "input",
    "input",
    "FLOAT",
    (-1, 3, 224, 224),
    (ProfileShape((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224)),),
)


def test_check_shape_accepts_profile_range() -> None:
    assert rt.check_shape(TENSOR, (1, 3, 224, 224)) == (1, 3, 224, 224)
    assert rt.check_shape(TENSOR, [8, 3, 224, 224]) == (8, 3, 224, 224)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((9, 3, 224, 224), r"outside optimization profile 0: axis 0: 9 not in \[1, 8\]"),
        ((0, 3, 224, 224), r"axis 0: 0 not in \[1, 8\]"),
        ((2, 3, 225, 224), r"axis 2 is fixed at 224 in this engine, got 225"),
        ((3, 224, 224), r"expects rank 4 \[\?, 3, 224, 224\], got shape \[3, 224, 224\]"),
    ],
)
def test_check_shape_errors_name_the_range(shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ShapeError, match=message) as info:
        rt.check_shape(TENSOR, shape)
    assert "How to fix" in str(info.value)


def test_check_shape_unknown_profile() -> None:
    with pytest.raises(InputError, match="profile 3 does not exist"):
        rt.check_shape(TENSOR, (1, 3, 224, 224), profile=3)


def test_engine_tensor_spec_and_table() -> None:
    spec = TENSOR.spec()
    assert spec.shape == (None, 3, 224, 224) and spec.dtype == np.float32
    rows = rt.format_io_table([TENSOR])
    assert rows[1] == [
        "input",
        "input",
        "float32",
        "[?, 3, 224, 224]",
        "[1, 3, 224, 224]",
        "[4, 3, 224, 224]",
        "[8, 3, 224, 224]",
    ]


def test_runtime_choice_is_validated() -> None:
    with pytest.raises(InputError, match="'auto', 'full' or 'lean'"):
        rt._import_runtime_module("gpu")


# -- the Engine on stand-ins ----------------------------------------------------------------------
@pytest.fixture
def fake_cuda() -> Iterator[FakeCudart]:
    backend = FakeCudart()
    with cuda.use_backend(backend):
        yield backend


@pytest.fixture
def fake_trt(fake_cuda: FakeCudart, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = _faketrt.make_module(_faketrt.host_kernel(fake_cuda._queue))
    monkeypatch.setattr(rt, "_import_runtime_module", lambda kind: module)
    return module


def _x(batch: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, 4)).astype(np.float32)


def test_engine_io_table_and_repr(fake_trt: Any) -> None:
    with Engine(_faketrt.PLAN) as eng:
        assert [t.name for t in eng.inputs] == ["x"]
        assert [t.name for t in eng.outputs] == ["y", "idx"]
        x = eng.tensor("x")
        assert x.shape == (-1, 4) and x.dtype == np.float32
        assert x.profiles[1] == ProfileShape((9, 4), (12, 4), (16, 4))
        assert eng.tensor("idx").dtype == np.int64 and eng.tensor("idx").profiles == ()
        assert eng.runtime_kind == "lean" and eng.device == "cuda:0 (Fake GPU 80GB)"
        text = str(eng)
        assert "x     input   float32  [?, 4]  [1, 4]  [2, 4]  [8, 4]" in text
        assert "<td><code>idx</code></td>" in eng._repr_html_()
        assert eng.device_memory_size == 1234
        with pytest.raises(InputError, match="no tensor 'z'"):
            eng.tensor("z")


def test_engine_infer_numpy_and_buffer_reuse(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    with Engine(_faketrt.PLAN) as eng:
        for batch, seed in [(4, 0), (2, 1), (4, 2)]:
            x = _x(batch, seed)
            out = eng.infer({"x": x})
            np.testing.assert_array_equal(out["y"], 2 * x + 1)
            np.testing.assert_array_equal(out["idx"], np.arange(batch))
        # buffers were sized by the first (largest) call and then reused: 3 device + 3 pinned
        assert fake_cuda.calls.count("cudaMalloc") == 3
        assert fake_cuda.calls.count("cudaMallocHost") == 3
        eng.infer({"x": _x(8)})  # larger: buffers grow
        assert fake_cuda.calls.count("cudaMalloc") == 6
        single = eng.infer(_x(1))  # a bare array for a single-input engine
        assert single["y"].shape == (1, 4)
        # results are copies, not views of the reused staging buffers
        a = eng.infer({"x": _x(2, 5)})["y"]
        before = a.copy()
        eng.infer({"x": _x(2, 6)})
        np.testing.assert_array_equal(a, before)


def test_engine_rejects_bad_feeds_before_tensorrt(fake_trt: Any) -> None:
    with Engine(_faketrt.PLAN) as eng:
        with pytest.raises(ShapeError, match=r"axis 0: 9 not in \[1, 8\]"):
            eng.infer({"x": _x(9)})
        with pytest.raises(ShapeError, match="fixed at 4"):
            eng.infer({"x": np.zeros((2, 5), np.float32)})
        with pytest.raises(DTypeError, match="expects dtype float32, got float64"):
            eng.infer({"x": np.zeros((2, 4))})
        with pytest.raises(InputError, match="missing"):
            eng.infer({})
        with pytest.raises(InputError, match="unknown"):
            eng.infer({"x": _x(1), "w": _x(1)})
        with pytest.raises(InputError, match="output"):
            eng.set_input_shape("y", (1, 4))
        assert eng._res.context.executions == 0  # nothing reached TensorRT


def test_engine_profiles(fake_trt: Any) -> None:
    with Engine(_faketrt.PLAN, profile=1) as eng:
        assert eng.profile == 1
        out = eng.infer({"x": _x(12)})
        assert out["y"].shape == (12, 4)
        with pytest.raises(ShapeError, match=r"profile 1: axis 0: 2 not in \[9, 16\]"):
            eng.infer({"x": _x(2)})
        eng.select_profile(0)
        assert eng.infer({"x": _x(2)})["y"].shape == (2, 4)
        with pytest.raises(InputError, match="profile 5 does not exist"):
            eng.select_profile(5)


def test_cuda_graph_replay(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    with Engine(_faketrt.PLAN) as plain, Engine(_faketrt.PLAN, use_cuda_graph=True) as eng:
        for i, batch in enumerate([3, 3, 3, 5, 5, 3]):
            x = _x(batch, i)
            got = eng.infer({"x": x})
            np.testing.assert_array_equal(got["y"], plain.infer({"x": x})["y"])
            np.testing.assert_array_equal(got["y"], 2 * x + 1)
        assert eng.graph_disabled_reason is None
        # batch 5 grew the buffers, which dropped the batch-3 graph; the last batch-3 call
        # captured it again on the (now larger) buffers
        assert sorted(k[0][1][0] for k in eng._res.graphs) == [3, 5]
        # TensorRT was called twice per new shape signature (warm-up run, then inside the
        # capture), never for replays
        assert eng._res.context.executions == 6
        assert fake_cuda.calls.count("cudaGraphLaunch") == 3


def test_cuda_graph_capture_failure_falls_back(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    fake_cuda.fail["cudaStreamBeginCapture"] = fake_cuda.cudaError_t.cudaErrorNotPermitted
    with Engine(_faketrt.PLAN, use_cuda_graph=True) as eng:
        x = _x(2)
        np.testing.assert_array_equal(eng.infer({"x": x})["y"], 2 * x + 1)
        assert eng.graph_disabled_reason and "cudaStreamBeginCapture" in eng.graph_disabled_reason
        np.testing.assert_array_equal(eng.infer({"x": x})["y"], 2 * x + 1)


def test_execution_failure_is_engine_error(fake_trt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with Engine(_faketrt.PLAN) as eng:
        monkeypatch.setattr(eng._res.context, "execute_async_v3", lambda stream: False)
        with pytest.raises(EngineError, match="execute_async_v3 failed"):
            eng.infer({"x": _x(1)})


def test_deserialize_failure_explains_version_and_gpu(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    with pytest.raises(EngineError) as info:
        Engine(b"engine built elsewhere")
    text = str(info.value)
    assert "deserialize_cuda_engine returned None" in text
    assert "TensorRT version that built it" in text and "Fake GPU 80GB" in text
    assert "compute capability 9.0" in text
    assert "magic mismatch" in text  # TensorRT's own log lines are included
    assert "lean runtime only loads engines built with version compatibility" in text
    assert "trtlab build" in text and "cache=False" in text
    assert fake_cuda.streams == set()  # nothing leaked


def test_runtime_start_error_and_missing_gpu(
    fake_cuda: FakeCudart, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    module = _faketrt.make_module(lambda c, s, b: None, start_error="CUDA initialization failure")
    monkeypatch.setattr(rt, "_import_runtime_module", lambda kind: module)
    with pytest.raises(EngineError, match="could not start: CUDA initialization failure"):
        Engine(_faketrt.PLAN)
    fake_cuda.devices = 0
    with pytest.raises(EngineError, match="need a CUDA GPU") as info:
        Engine(_faketrt.PLAN)
    assert "onnxruntime" in str(info.value)
    with pytest.raises(Exception, match="not found"):
        Engine(tmp_path / "missing.engine")
    empty = tmp_path / "empty.engine"
    empty.write_bytes(b"")
    with pytest.raises(Exception, match="empty"):
        Engine(empty)


def test_engine_from_file_and_cleanup(fake_trt: Any, fake_cuda: FakeCudart, tmp_path: Any) -> None:
    path = tmp_path / "net.engine"
    path.write_bytes(_faketrt.PLAN)
    eng = Engine(path)
    assert eng.source == str(path)
    eng.infer({"x": _x(2)})
    assert fake_cuda.memory and fake_cuda.streams
    eng.close()
    eng.close()  # idempotent
    assert not fake_cuda.memory
    assert not [p for p in fake_cuda.host_memory if p >= 0]  # pinned staging freed too
    assert fake_cuda.streams == set()
    with pytest.raises(EngineError, match="closed"):
        eng.infer({"x": _x(1)})
    # garbage collection frees everything too (weakref.finalize)
    eng2 = Engine(path)
    eng2.infer({"x": _x(2)})
    del eng2
    gc.collect()
    assert not fake_cuda.memory and fake_cuda.streams == set()


def test_trt_runner_on_stand_ins(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    from trtlab.runners.trt import TrtRunner

    with TrtRunner(_faketrt.PLAN) as runner:
        assert runner.backend == "tensorrt"
        assert runner.device == "cuda:0 (Fake GPU 80GB)"
        assert [(s.name, s.shape) for s in runner.inputs] == [("x", (None, 4))]
        assert [(s.name, s.shape, s.dtype) for s in runner.outputs] == [
            ("y", (None, 4), np.dtype(np.float32)),
            ("idx", (None,), np.dtype(np.int64)),
        ]
        x = _x(3)
        np.testing.assert_array_equal(runner(x)["y"], 2 * x + 1)
        with pytest.raises(DTypeError):
            runner(x.astype(np.float64))
        assert "lean runtime 11.4.0.106" in runner.describe()
    assert not fake_cuda.memory  # the runner owned the engine and closed it
    with Engine(_faketrt.PLAN) as eng:
        with TrtRunner(eng) as borrowed:
            borrowed(_x(1))
        assert not eng.closed  # a borrowed engine stays open
    with pytest.raises(InputError, match="engine path"):
        TrtRunner(42)  # type: ignore[arg-type]


def test_trt_runner_from_onnx_uses_build_engine(
    fake_trt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from trtlab.runners.trt import TrtRunner
    from trtlab.trt import build

    calls: list[tuple[Any, dict[str, Any]]] = []

    def fake_build(onnx: Any, **kw: Any) -> Any:
        calls.append((onnx, kw))
        return types.SimpleNamespace(engine=_faketrt.PLAN, path=None)

    monkeypatch.setattr(build, "build_engine", fake_build)
    runner = TrtRunner.from_onnx("model.onnx", precision="fp16", profiles={"x": (1, 2, 8)})
    assert calls == [("model.onnx", {"precision": "fp16", "profiles": {"x": (1, 2, 8)}})]
    assert runner.name == "model" and runner.build_result is not None
    with runner:
        assert runner(_x(2))["idx"].tolist() == [0, 1]


def test_failure_inside_capture_warns_and_falls_back(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    fake_cuda.fail_in_capture["cudaMemcpyAsync"] = (
        fake_cuda.cudaError_t.cudaErrorStreamCaptureInvalidated
    )
    with Engine(_faketrt.PLAN, use_cuda_graph=True) as eng:
        x = _x(3)
        with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
            out = eng.infer({"x": x})
        np.testing.assert_array_equal(out["y"], 2 * x + 1)  # the warm-up result is returned
        assert eng.graph_disabled_reason and "cudaErrorStreamCaptureInvalidated" in (
            eng.graph_disabled_reason
        )
        assert not fake_cuda.capturing  # the broken capture was ended
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no second attempt, no second warning
            np.testing.assert_array_equal(eng.infer({"x": x})["y"], 2 * x + 1)
        assert not eng._res.graphs
