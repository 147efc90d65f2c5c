"""trtlab.cuda without a GPU: errors, dtype maps, buffers/streams/graphs on a fake CUDA runtime.

The fake runtime (``_fakecuda.FakeCudart``) moves real bytes through host memory and records
work queued on a capturing stream, so copy, clean-up and graph-replay logic is checked for real.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from _fakecuda import FakeCudart, cudaError_t

from trtlab import cuda
from trtlab.cuda import _rt
from trtlab.errors import CudaError, DependencyError, DTypeError, InputError, ShapeError


@pytest.fixture
def fake() -> Iterator[FakeCudart]:
    backend = FakeCudart()
    with cuda.use_backend(backend):
        yield backend


# -- error translation ----------------------------------------------------------------------------
def test_check_unpacks_values(fake: FakeCudart) -> None:
    ok = cudaError_t.cudaSuccess
    assert cuda.check((ok,)) is None
    assert cuda.check(ok) is None
    assert cuda.check((ok, 42)) == 42
    assert cuda.check((ok, 1, 2)) == (1, 2)


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (cudaError_t.cudaErrorMemoryAllocation, "out of memory"),
        (cudaError_t.cudaErrorNoDevice, "nvidia-smi"),
        (cudaError_t.cudaErrorInsufficientDriver, "driver"),
        (cudaError_t.cudaErrorStreamCaptureUnsupported, "begin_capture"),
        (cudaError_t.cudaErrorNotReady, "synchronize"),
    ],
)
def test_check_raises_named_error_with_fix(fake: FakeCudart, code: cudaError_t, fix: str) -> None:
    with pytest.raises(CudaError) as info:
        cuda.check((code, None), "cudaSomething")
    err = info.value
    text = str(err)
    assert isinstance(err, cuda.CudaCallError)
    assert err.call == "cudaSomething" and err.code == int(code) and err.code_name == code.name
    assert f"cudaSomething failed: expected cudaSuccess, got {code.name} = {int(code)}" in text
    assert "fake description" in text  # the driver's description is included
    assert "How to fix" in text and fix in text


def test_unknown_code_gets_generic_hint(fake: FakeCudart) -> None:
    with pytest.raises(CudaError, match=r"got cudaError\(7\) = 7(.|\n)*CUDA_LAUNCH_BLOCKING"):
        cuda.check((7,), "cudaX")  # a code the enum does not know


def test_error_translation_with_real_cuda_python_enum() -> None:
    rt = pytest.importorskip("cuda.bindings.runtime")
    with cuda.use_backend(rt):
        err = _rt.make_error("cudaMalloc", rt.cudaError_t.cudaErrorMemoryAllocation)
    assert err.code_name == "cudaErrorMemoryAllocation" and "out of memory" in str(err)
    assert "out of memory" in str(err).lower()


def test_every_hint_names_a_real_cuda_error() -> None:
    rt = pytest.importorskip("cuda.bindings.runtime")
    members = set(rt.cudaError_t.__members__)
    assert set(_rt.ERROR_HINTS) <= members, set(_rt.ERROR_HINTS) - members


def test_missing_cuda_python_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_rt, "_MODULE_PATHS", ("no_such_cuda_module_xyz",))
    with cuda.use_backend(None), pytest.raises(DependencyError, match=r"trtlab\[gpu\]"):
        cuda.runtime()
    with cuda.use_backend(None):
        assert not cuda.has_cuda_python()


def test_import_trtlab_cuda_does_not_import_cuda_python() -> None:
    code = "import sys, trtlab.cuda, trtlab.trt.runtime; print('cuda.bindings' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- device queries -------------------------------------------------------------------------------
def test_device_queries(fake: FakeCudart) -> None:
    assert cuda.device_count() == 1
    assert cuda.device_name(0) == "Fake GPU 80GB"
    assert cuda.compute_capability(0) == (9, 0)
    assert cuda.driver_version() == (13, 0)
    assert cuda.runtime_version() == (13, 4)
    assert cuda.describe(0) == "cuda:0 (Fake GPU 80GB, sm_90, driver CUDA 13.0)"


def test_device_count_without_gpu(fake: FakeCudart) -> None:
    fake.devices = 0
    assert cuda.device_count() == 0
    assert not cuda.is_available()
    with pytest.raises(CudaError, match="cudaErrorNoDevice"):
        cuda.device_count(strict=True)
    fake.fail["cudaGetDeviceCount"] = cudaError_t.cudaErrorInvalidValue
    with pytest.raises(CudaError):  # not a "no GPU" code: never hidden
        cuda.device_count()


# -- memory ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("nbytes", [0, 1, 3, 4096, 1 << 20])
def test_device_buffer_roundtrip(fake: FakeCudart, nbytes: int) -> None:
    src = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    with cuda.DeviceBuffer(nbytes) as buf:
        assert buf.nbytes == nbytes and buf.ptr != 0
        buf.memset(0xA5)
        buf.copy_from_host(src)
        out = np.full(nbytes, 0x5A, np.uint8)
        buf.copy_to_host(out)
        assert np.array_equal(out, src)
    assert buf.closed


def test_device_buffer_typed_and_async(fake: FakeCudart) -> None:
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    with cuda.Stream() as s, cuda.DeviceBuffer.from_array(x, stream=s) as buf:
        out = buf.copy_to_host(shape=(4, 5), dtype=np.float32, stream=s)
        s.synchronize()
        assert np.array_equal(out, x)
        assert np.array_equal(buf.copy_to_host(dtype=np.float32).reshape(4, 5), x)
        with pytest.raises(DTypeError, match="whole number"):
            buf.copy_to_host(dtype=np.dtype("V3"))


def test_device_buffer_rejects_bad_input(fake: FakeCudart) -> None:
    with pytest.raises(InputError, match=">= 0"):
        cuda.DeviceBuffer(-1)
    with cuda.DeviceBuffer(8) as buf:
        with pytest.raises(ShapeError, match="does not fit"):
            buf.copy_from_host(np.zeros(3, np.float32))
        with pytest.raises(ShapeError, match="C-contiguous"):
            buf.copy_from_host(np.zeros((2, 2), np.int8)[:, :1])
        with pytest.raises(DTypeError, match="numpy array"):
            buf.copy_from_host([1, 2])  # type: ignore[arg-type]
        with pytest.raises(InputError, match="read-only"):
            ro = np.zeros(8, np.uint8)
            ro.flags.writeable = False
            buf.copy_to_host(ro)
        with pytest.raises(ShapeError, match="larger"):
            buf.copy_to_host(np.zeros(9, np.uint8))


def test_out_of_memory_is_a_cuda_error(fake: FakeCudart) -> None:
    with pytest.raises(CudaError, match=r"cudaMalloc.*cudaErrorMemoryAllocation"):
        cuda.DeviceBuffer(fake.total_memory + 1)


def test_finalizer_frees_exactly_once(fake: FakeCudart) -> None:
    buf = cuda.DeviceBuffer(1024)
    ptr = buf.ptr
    assert fake.used_bytes() == 1024
    del buf
    gc.collect()
    assert fake.used_bytes() == 0 and fake.freed == [ptr]
    buf2 = cuda.DeviceBuffer(16)
    buf2.close()
    buf2.close()
    gc.collect()
    assert fake.calls.count("cudaFree") == 2
    with pytest.raises(CudaError, match="freed"):
        _ = buf2.ptr


def test_finalizer_survives_backend_errors(fake: FakeCudart) -> None:
    buf = cuda.DeviceBuffer(8)
    fake.memory.clear()  # the "driver" already lost the allocation: cudaFree fails
    buf.close()  # must not raise
    assert buf.closed


def test_pinned_buffer_view_and_lifetime(fake: FakeCudart) -> None:
    pinned = cuda.PinnedHostBuffer((2, 3), np.float32)
    assert pinned.nbytes == 24 and pinned.array.shape == (2, 3)
    assert pinned.array.__array_interface__["data"][0] == pinned.ptr
    pinned.array[:] = np.arange(6, dtype=np.float32).reshape(2, 3)
    view = pinned.array[1]
    del pinned
    gc.collect()
    assert fake.calls.count("cudaFreeHost") == 0  # the view keeps the memory alive
    assert view.tolist() == [3.0, 4.0, 5.0]
    del view
    gc.collect()
    assert fake.calls.count("cudaFreeHost") == 1
    with cuda.PinnedHostBuffer(4, np.uint8) as p:
        pass
    with pytest.raises(CudaError, match="freed"):
        _ = p.array
    with pytest.raises(ShapeError):
        cuda.PinnedHostBuffer((2, -1))


def test_memcpy_helpers(fake: FakeCudart) -> None:
    x = np.arange(10, dtype=np.int64)
    with cuda.DeviceBuffer(x.nbytes) as a, cuda.DeviceBuffer(x.nbytes) as b, cuda.Stream() as s:
        cuda.memcpy_htod(a.ptr, x)
        cuda.memcpy_dtod(b.ptr, a.ptr, x.nbytes, stream=s)
        out = np.zeros_like(x)
        cuda.memcpy_dtoh_async(out, b.ptr, s)
        s.synchronize()
        assert np.array_equal(out, x)


# -- streams, events, graphs ----------------------------------------------------------------------
def test_stream_and_event_lifecycle(fake: FakeCudart) -> None:
    with cuda.Stream() as s:
        handle = s.handle
        assert handle in fake.streams and int(s) == handle
        start = s.record_event()
        end = cuda.Event().record(s)
        assert end.query() and cuda.Event.elapsed_ms(start, end) == pytest.approx(1.25)
        s.wait_event(start)
        assert s.query()
    assert handle not in fake.streams and s.closed
    with pytest.raises(CudaError, match="closed"):
        _ = s.handle
    borrowed = cuda.Stream.wrap(1234)
    borrowed.close()  # never destroys a handle it does not own
    assert fake.calls.count("cudaStreamDestroy") == 1
    with pytest.raises(InputError, match="timing"):
        cuda.elapsed_ms(cuda.Event(timing=False), cuda.Event())


def test_graph_capture_replays_with_new_data(fake: FakeCudart) -> None:
    n = 64
    with (
        cuda.Stream() as s,
        cuda.PinnedHostBuffer(n, np.uint8) as src,
        cuda.PinnedHostBuffer(n, np.uint8) as dst,
        cuda.DeviceBuffer(n) as dev,
    ):
        src.array[:] = 1
        with cuda.capture(s) as cap:
            dev.copy_from_host(src.array, stream=s)
            dev.copy_to_host(dst.array, stream=s)
            assert s.is_capturing()
        assert not s.is_capturing()
        assert (dst.array != 1).all()  # capture records; nothing ran
        graph = cap.graph
        assert graph is not None
        for i in range(3):
            src.array[:] = np.random.default_rng(i).integers(0, 256, n, dtype=np.uint8)
            graph.launch(s)
            s.synchronize()
            assert np.array_equal(dst.array, src.array)
        graph.close()
        assert {"cudaGraphExecDestroy", "cudaGraphDestroy"} <= set(fake.calls)
        with pytest.raises(CudaError, match="closed"):
            graph.launch(s)


def test_capture_error_is_reported_and_aborted(fake: FakeCudart) -> None:
    with cuda.Stream() as s:
        with pytest.raises(CudaError, match="cudaStreamSynchronize"), cuda.capture(s):
            s.synchronize()  # not allowed while capturing
        assert not s.is_capturing()
        with pytest.raises(InputError, match="legacy default stream"):
            cuda.Stream.default().begin_capture()
        with pytest.raises(InputError, match="capture mode"):
            s.begin_capture("bogus")  # type: ignore[arg-type]


# -- adapters -------------------------------------------------------------------------------------
def test_dtype_maps_round_trip() -> None:
    torch = pytest.importorskip("torch")
    for np_name in cuda.adapters.NUMPY_TO_TORCH:
        tdt = cuda.numpy_to_torch_dtype(cuda.adapters.numpy_dtype(np_name))
        assert isinstance(tdt, torch.dtype)
        assert cuda.torch_to_numpy_dtype(tdt) == cuda.adapters.numpy_dtype(np_name)
    with pytest.raises(DTypeError):
        cuda.numpy_to_torch_dtype(np.complex64)
    with pytest.raises(DTypeError):
        cuda.torch_to_numpy_dtype(torch.complex64)


def test_from_torch_rejects_cpu_tensors() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(InputError, match="CUDA tensor"):
        cuda.from_torch(torch.zeros(3))
    with pytest.raises(DTypeError, match=r"torch\.Tensor"):
        cuda.from_torch(np.zeros(3))
    assert not cuda.is_cuda_tensor(torch.zeros(3))


def test_device_ptr_accepts_many_things(fake: FakeCudart) -> None:
    class CupyLike:
        def __init__(self) -> None:
            self.__cuda_array_interface__ = {"data": (0xABC0, False), "shape": (1,)}

    with cuda.DeviceBuffer(4) as buf:
        assert cuda.device_ptr(buf) == buf.ptr
    assert cuda.device_ptr(0x1234) == 0x1234
    assert cuda.device_ptr(np.int64(7)) == 7
    assert cuda.device_ptr(CupyLike()) == 0xABC0
    with pytest.raises(DTypeError, match="device address"):
        cuda.device_ptr("nope")
    with pytest.raises(DTypeError):
        cuda.device_ptr(True)


# -- contract fixes (issue 11, B6/B1/B8) ----------------------------------------------------------
def test_pinned_buffer_with_ml_dtypes_is_typed_not_void(fake: FakeCudart) -> None:
    """B6: bfloat16's array-interface typestr is '<V2'; the view must still be bfloat16."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for name in ("bfloat16", "float8_e4m3fn"):
        dt = np.dtype(getattr(ml_dtypes, name))
        with cuda.PinnedHostBuffer((2, 3), dt) as buf:
            arr = buf.array
            assert arr.dtype == dt and arr.shape == (2, 3), name
            arr[:] = np.arange(6, dtype=np.float32).reshape(2, 3).astype(dt)
            assert buf.array.astype(np.float32).tolist() == [[0, 1, 2], [3, 4, 5]]
            assert arr.base is not None  # the view keeps the buffer alive


class _TorchLikeStream:
    def __init__(self, handle: int) -> None:
        self.cuda_stream = handle


class _ProtocolStream:
    def __init__(self, handle: int) -> None:
        self._handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self._handle)


def test_stream_handle_accepts_every_stream_kind(fake: FakeCudart) -> None:
    """B6: torch streams (.cuda_stream), ints, trtlab streams and the CUDA stream protocol."""
    with cuda.Stream() as s:
        h = s.handle
        for obj in (s, h, np.int64(h), _TorchLikeStream(h), _ProtocolStream(h)):
            assert cuda.stream_handle(obj) == h, obj
        for bad in ("0", True, 1.5, None):
            with pytest.raises(InputError, match="expected a CUDA stream"):
                cuda.stream_handle(bad)
        # the async copies take a torch-style stream too
        buf = cuda.DeviceBuffer(16)
        buf.copy_from_host(np.arange(4, dtype=np.float32), stream=_TorchLikeStream(h))
        assert buf.copy_to_host(dtype=np.float32).tolist() == [0, 1, 2, 3]


def test_clear_last_error_reads_and_resets(fake: FakeCudart) -> None:
    fake.last_error = cudaError_t.cudaErrorStreamCaptureInvalidated
    assert cuda.clear_last_error() == "cudaErrorStreamCaptureInvalidated"
    assert fake.last_error == cudaError_t.cudaSuccess
    assert cuda.clear_last_error() is None


def test_device_guard_restores_the_callers_device(fake: FakeCudart) -> None:
    fake.devices = 2
    with cuda.device_guard(1):
        assert cuda.current_device() == 1
    assert cuda.current_device() == 0
    fake.calls.clear()
    with cuda.device_guard(0):  # already current: no cudaSetDevice at all
        pass
    assert "cudaSetDevice" not in fake.calls


def test_device_array_roundtrip_and_interface(fake: FakeCudart) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    with cuda.Stream() as s:
        arr = cuda.DeviceArray.from_numpy(x, stream=s)
        assert arr.shape == (3, 4) and arr.dtype == np.float32 and arr.nbytes == 48
        cai = arr.__cuda_array_interface__
        assert cai["shape"] == (3, 4) and cai["typestr"] == "<f4" and cai["version"] == 3
        assert cai["data"] == (arr.ptr, False) and cai["stream"] == s.handle
        np.testing.assert_array_equal(arr.numpy(), x)
        assert cuda.device_ptr(arr) == arr.ptr
        assert "DeviceArray [3, 4] float32" in repr(arr)
    empty = cuda.DeviceArray.empty((0, 4), np.float32)
    assert empty.numpy().shape == (0, 4) and "stream" not in empty.__cuda_array_interface__
