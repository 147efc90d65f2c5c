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
from trtlab.errors import DTypeError, EngineError, InputError, ShapeError
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


def test_bf16_without_ml_dtypes_names_the_package() -> None:
    """In a fresh process (numpy only knows "bfloat16" once ml_dtypes was imported)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['ml_dtypes'] = None\n"
        "from trtlab.errors import DependencyError\n"
        "from trtlab.trt import runtime as rt\n"
        "try:\n    rt.numpy_dtype('BF16')\n"
        "except DependencyError as exc:\n    print('DEPENDENCY', 'ml_dtypes' in str(exc))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert "DEPENDENCY True" in proc.stdout, proc.stderr[-800:]


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
    module = _faketrt.make_module(
        _faketrt.host_kernel(fake_cuda._queue), is_device_ptr=fake_cuda.is_device_ptr
    )
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
        # one graph per context: the last shape change (5 -> 3) re-captured it for batch 3
        assert list(eng._res.graphs) == [(("x", (3, 4)),)]
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


# -- the TensorRT contract (each test failed before its fix, against the stricter stand-in) -------
def test_cuda_graph_is_recaptured_after_a_shape_change(
    fake_trt: Any, fake_cuda: FakeCudart
) -> None:
    """B1: a graph is tied to its context's state; a shape change needs enqueue + re-capture."""
    with Engine(_faketrt.PLAN, use_cuda_graph=True) as eng:
        # largest first, so no buffer growth drops graphs: only the shape change can
        for i, batch in enumerate([5, 5, 3, 3, 5, 5]):
            x = _x(batch, i)
            np.testing.assert_array_equal(eng.infer({"x": x})["y"], 2 * x + 1)
        assert eng._res.engine.violations == []  # no graph replayed on a changed context
        assert eng.graph_disabled_reason is None
        # warm-up + capture for 5, 3 and 5 again; the other three calls were replays
        assert eng._res.context.executions == 6
        assert fake_cuda.calls.count("cudaGraphLaunch") == 3
        assert len(eng._res.graphs) == 1  # one graph per execution context


def test_failed_capture_clears_the_sticky_cuda_error(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    """B1: as trtexec does, a failed capture is followed by cudaGetLastError."""
    fake_cuda.fail_in_capture["cudaMemcpyAsync"] = (
        fake_cuda.cudaError_t.cudaErrorStreamCaptureInvalidated
    )
    with (
        Engine(_faketrt.PLAN, use_cuda_graph=True) as eng,
        pytest.warns(RuntimeWarning, match="CUDA graph capture failed"),
    ):
        eng.infer({"x": _x(2)})
    assert fake_cuda.last_error == fake_cuda.cudaError_t.cudaSuccess
    assert "cudaGetLastError" in fake_cuda.calls


def test_vectorized_io_format_is_refused_with_the_fix(fake_trt: Any) -> None:
    """B3: a CHW32 input needs a padded, reordered buffer: refuse it instead of undersizing."""
    with Engine(_faketrt.PLAN_CHW32) as eng:
        x = eng.tensor("x")
        assert (x.format, x.vectorized_dim, x.components) == ("CHW32", 1, 32)
        assert eng.tensor("y").format == "LINEAR"
        assert "CHW32" in str(eng)
        with pytest.raises(EngineError) as info:
            eng.infer({"x": _x(2)})
        text = str(info.value)
        assert "'x'" in text and "CHW32" in text and "--inputIOFormats" in text
        assert eng._res.context.executions == 0


class _TorchLikeStream:
    """What torch.cuda.Stream offers trtlab: a ``cuda_stream`` int (and no ``__int__``)."""

    def __init__(self, handle: int) -> None:
        self.cuda_stream = handle


def test_infer_accepts_torch_streams_ints_and_trtlab_streams(fake_trt: Any) -> None:
    """B6: infer(stream=torch.cuda.Stream) raised TypeError (TensorRT wants an int handle)."""
    with Engine(_faketrt.PLAN) as eng, cuda.Stream() as s:
        x = _x(2)
        for stream in (_TorchLikeStream(s.handle), s.handle, s):
            np.testing.assert_array_equal(eng.infer(x, stream=stream)["y"], 2 * x + 1)
        with pytest.raises(InputError, match="stream"):
            eng.infer(x, stream="default")  # type: ignore[arg-type]


def test_infer_makes_the_engine_device_current(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    """B8: an engine on GPU 1 must run with GPU 1 current, whatever the caller set since."""
    fake_cuda.devices = 2
    with Engine(_faketrt.PLAN, device=1) as eng:
        assert fake_cuda.current == 0  # construction leaves the caller's device alone
        x = _x(2)
        np.testing.assert_array_equal(eng.infer(x)["y"], 2 * x + 1)
        assert fake_cuda.current == 0  # and so does infer
        assert eng._res.engine.device == 1


def test_host_located_output_is_read_from_host_memory(fake_trt: Any, fake_cuda: FakeCudart) -> None:
    """B8: a HOST output gets a host address (TensorRT refuses a device one) and is returned."""
    with Engine(_faketrt.PLAN_HOST_OUTPUT, use_cuda_graph=True) as eng:
        assert eng.tensor("y_shape").location == "HOST"
        for batch in (3, 5):
            x = _x(batch)
            out = eng.infer({"x": x})
            assert out["y_shape"].tolist() == [batch, 4]
            np.testing.assert_array_equal(out["y"], 2 * x + 1)
        # the host writes host outputs during enqueue: a graph replay would not, so no graphs
        assert eng.graph_disabled_reason and "HOST" in eng.graph_disabled_reason


def test_plugins_are_initialized_before_deserializing(
    fake_cuda: FakeCudart, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B8: init_libnvinfer_plugins(logger, "") before deserialize_cuda_engine (full TensorRT)."""
    module = _faketrt.make_module(_faketrt.host_kernel(fake_cuda._queue), full=True)
    monkeypatch.setattr(rt, "_import_runtime_module", lambda kind: module)
    with Engine(_faketrt.PLAN_PLUGINS) as eng:
        assert eng.runtime_kind == "full"
        assert eng.infer(_x(1))["idx"].tolist() == [0]
    calls = module.calls
    assert calls.index("init_libnvinfer_plugins") < calls.index("deserialize_cuda_engine")


def test_load_failures_are_engine_load_errors(
    fake_trt: Any, fake_cuda: FakeCudart, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told apart by type (EngineLoadError), not by message text."""
    from trtlab.errors import EngineLoadError

    with pytest.raises(EngineLoadError, match="deserialize_cuda_engine returned None"):
        Engine(b"not a plan")

    def boom(self: Any, data: bytes) -> None:
        raise RuntimeError("std::exception: Serialization failed")

    monkeypatch.setattr(fake_trt.Runtime, "deserialize_cuda_engine", boom)
    with pytest.raises(EngineLoadError, match="Serialization failed") as info:
        Engine(_faketrt.PLAN)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert fake_cuda.streams == set()


def test_provenance_is_checked_before_deserializing(
    fake_trt: Any, fake_cuda: FakeCudart, tmp_path: Any
) -> None:
    from trtlab.errors import EngineCompatibilityError
    from trtlab.trt.provenance import Provenance, write_provenance

    path = tmp_path / "net.engine"
    path.write_bytes(_faketrt.PLAN)
    write_provenance(path, Provenance("10.13.3.9", "NVIDIA L4", (8, 9)))
    with pytest.raises(EngineCompatibilityError, match=r"10\.13") as info:
        Engine(path)
    assert "sm_89" in str(info.value) and "sm_90" in str(info.value)
    assert "deserialize_cuda_engine" not in fake_trt.calls
    write_provenance(path, Provenance("11.4.0.106", "Fake GPU 80GB", (9, 0)))
    with Engine(path) as eng:  # matching provenance loads
        assert eng.infer(_x(1))["y"].shape == (1, 4)


@pytest.mark.parametrize("code", ["cudaErrorNoDevice", "cudaErrorInsufficientDriver"])
def test_no_gpu_is_one_message_with_one_fix(
    fake_trt: Any, fake_cuda: FakeCudart, code: str
) -> None:
    """Issue 9: Engine(junk) without a GPU gave the CUDA hint and the Engine hint (two fixes)."""
    fake_cuda.fail["cudaGetDeviceCount"] = fake_cuda.cudaError_t[code]
    with pytest.raises(EngineError, match="need a CUDA GPU") as info:
        Engine(b"junk")
    text = str(info.value)
    assert text.count("How to fix") == 1, text
    assert code in text and "onnxruntime" in text


# -- device-resident inputs and outputs (issue 8 item 3) -----------------------------------------
def test_device_outputs_and_device_inputs_need_no_copies(
    fake_trt: Any, fake_cuda: FakeCudart
) -> None:
    from trtlab.cuda import DeviceArray

    with Engine(_faketrt.PLAN) as eng:
        x = _x(3)
        out = eng.infer({"x": x}, outputs="device")
        y = out["y"]
        assert isinstance(y, DeviceArray) and y.shape == (3, 4) and y.dtype == np.float32
        np.testing.assert_array_equal(y.numpy(), 2 * x + 1)
        np.testing.assert_array_equal(out["idx"].numpy(), np.arange(3))
        # feed the device output back in: no host<->device copy on the way
        fake_cuda.calls.clear()
        again = eng.infer({"x": y}, outputs="device")
        assert "cudaMemcpyAsync" not in fake_cuda.calls and "cudaMemcpy" not in fake_cuda.calls
        np.testing.assert_array_equal(again["y"].numpy(), 2 * (2 * x + 1) + 1)
        # device inputs default to device outputs; outputs="numpy" copies back
        auto = eng.infer({"x": y})
        assert isinstance(auto["y"], DeviceArray)
        host = eng.infer({"x": y}, outputs="numpy")
        np.testing.assert_array_equal(host["y"], 2 * (2 * x + 1) + 1)
        with pytest.raises(DTypeError, match="expects dtype float32, got int64"):
            eng.infer({"x": out["idx"]})
        with pytest.raises(InputError, match="outputs"):
            eng.infer(x, outputs="gpu")  # type: ignore[arg-type]


class _CudaArrayLike:
    """A CuPy/Numba-style object: only ``__cuda_array_interface__``."""

    def __init__(self, ptr: int, shape: tuple[int, ...], typestr: str, strides: Any = None):
        self.__cuda_array_interface__ = {
            "data": (ptr, False),
            "shape": shape,
            "typestr": typestr,
            "strides": strides,
            "version": 3,
        }


def test_cuda_array_interface_inputs(fake_trt: Any) -> None:
    with Engine(_faketrt.PLAN) as eng, cuda.DeviceBuffer(2 * 4 * 4) as buf:
        x = _x(2)
        buf.copy_from_host(x)
        out = eng.infer({"x": _CudaArrayLike(buf.ptr, (2, 4), "<f4")}, outputs="numpy")
        np.testing.assert_array_equal(out["y"], 2 * x + 1)
        with pytest.raises(ShapeError, match="contiguous"):
            eng.infer({"x": _CudaArrayLike(buf.ptr, (2, 4), "<f4", strides=(4, 8))})


def test_trt_runner_device_path(fake_trt: Any) -> None:
    from trtlab.cuda import DeviceArray
    from trtlab.runners.trt import TrtRunner

    with TrtRunner(_faketrt.PLAN) as runner:
        x = _x(2)
        out = runner(x, outputs="device")
        assert isinstance(out["y"], DeviceArray)
        back = runner({"x": out["y"]}, outputs="numpy")
        np.testing.assert_array_equal(back["y"], 2 * (2 * x + 1) + 1)
        np.testing.assert_array_equal(runner(x)["y"], 2 * x + 1)  # numpy stays the default


class _CpuDlpack:
    """A DLPack producer on the CPU (what jax/cupy-on-host hand over): becomes a numpy input."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._array.__dlpack_device__()


def test_dlpack_inputs_and_mixed_feeds(fake_trt: Any) -> None:
    with Engine(_faketrt.PLAN) as eng:
        x = _x(2)
        out = eng.infer({"x": _CpuDlpack(x)})
        np.testing.assert_array_equal(out["y"], 2 * x + 1)
        with pytest.raises(DTypeError, match="numpy array, a torch CUDA tensor or a device"):
            eng.infer({"x": [[1.0, 2.0, 3.0, 4.0]]})
