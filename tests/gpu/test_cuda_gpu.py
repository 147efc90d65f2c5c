"""trtlab.cuda on a real GPU: allocations, copies, pinned memory, streams, events, graphs, torch.

Every copy test poisons the destination first and uses fresh random data, so an unwritten or
misplaced byte fails the comparison.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trtlab import cuda
from trtlab.errors import CudaError, InputError

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("gpu")]

MiB = 1 << 20
SIZES = [1, 3, 4096, MiB + 7, 64 * MiB, 256 * MiB]


def _random_bytes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=n, dtype=np.uint8)


def test_device_info() -> None:
    assert cuda.device_count() >= 1
    name = cuda.device_name(0)
    assert name and "\0" not in name
    major, minor = cuda.compute_capability(0)
    assert major >= 7, (major, minor)
    assert cuda.driver_version() >= (12, 0)
    free, total = cuda.mem_get_info()
    assert 0 < free <= total
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            assert name == torch.cuda.get_device_name(0)
            assert (major, minor) == torch.cuda.get_device_capability(0)
    print(cuda.describe(0))


@pytest.mark.parametrize("nbytes", SIZES, ids=lambda n: f"{n}B")
def test_roundtrip_sync(nbytes: int) -> None:
    src = _random_bytes(nbytes, seed=nbytes)
    with cuda.DeviceBuffer(nbytes) as buf:
        buf.memset(0xA5)
        buf.copy_from_host(src)
        out = np.full(nbytes, 0x5A, dtype=np.uint8)
        buf.copy_to_host(out)
    assert np.array_equal(out, src)


@pytest.mark.parametrize("nbytes", SIZES, ids=lambda n: f"{n}B")
def test_roundtrip_async_pinned(nbytes: int) -> None:
    with (
        cuda.Stream() as stream,
        cuda.PinnedHostBuffer(nbytes, np.uint8) as src,
        cuda.PinnedHostBuffer(nbytes, np.uint8) as dst,
        cuda.DeviceBuffer(nbytes) as a,
        cuda.DeviceBuffer(nbytes) as b,
    ):
        src.array[:] = _random_bytes(nbytes, seed=nbytes + 1)
        dst.array[:] = 0x5A
        b.memset(0xA5, stream=stream)
        a.copy_from_host(src.array, stream=stream)
        cuda.memcpy_dtod(b.ptr, a.ptr, nbytes, stream=stream)
        b.copy_to_host(dst.array, stream=stream)
        stream.synchronize()
        assert np.array_equal(dst.array, src.array)


def test_typed_copy_and_partial_read() -> None:
    x = np.random.default_rng(1).standard_normal((4, 3, 5)).astype(np.float32)
    with cuda.DeviceBuffer.from_array(x) as buf:
        assert buf.nbytes == x.nbytes
        back = buf.copy_to_host(shape=x.shape, dtype=np.float32)
        assert np.array_equal(back, x)
        first = buf.copy_to_host(shape=(3,), dtype=np.float32)  # a prefix of the buffer
        assert np.array_equal(first, x.reshape(-1)[:3])


def test_pinned_memory_is_page_locked_host_memory() -> None:
    rt = cuda.runtime()
    with cuda.PinnedHostBuffer((2, 3), np.float32) as pinned, cuda.DeviceBuffer(64) as dev:
        attrs = cuda.check(rt.cudaPointerGetAttributes(pinned.ptr), "cudaPointerGetAttributes")
        assert attrs.type == rt.cudaMemoryType.cudaMemoryTypeHost
        attrs = cuda.check(rt.cudaPointerGetAttributes(dev.ptr), "cudaPointerGetAttributes")
        assert attrs.type == rt.cudaMemoryType.cudaMemoryTypeDevice
        view = pinned.array
        assert view.shape == (2, 3) and view.dtype == np.float32
        view[:] = 7.5
        assert view.__array_interface__["data"][0] == pinned.ptr


def test_stream_ordering_with_events() -> None:
    """Stream 2 copies what stream 1 uploads; only the event wait makes that safe."""
    n = 128 * MiB
    for trial in range(3):
        with (
            cuda.Stream() as s1,
            cuda.Stream() as s2,
            cuda.PinnedHostBuffer(n, np.uint8) as src,
            cuda.PinnedHostBuffer(n, np.uint8) as dst,
            cuda.DeviceBuffer(n) as d1,
            cuda.DeviceBuffer(n) as d2,
        ):
            src.array[:] = _random_bytes(n, seed=100 + trial)
            dst.array[:] = 0
            d1.memset(0xA5)
            d2.memset(0x5A)
            d1.copy_from_host(src.array, stream=s1)  # slow (tens of ms)
            uploaded = s1.record_event(timing=False)
            s2.wait_event(uploaded)
            cuda.memcpy_dtod(d2.ptr, d1.ptr, n, stream=s2)  # fast: would win a race
            d2.copy_to_host(dst.array, stream=s2)
            s2.synchronize()
            assert uploaded.query()
            assert np.array_equal(dst.array, src.array)


def test_event_timing_is_plausible() -> None:
    n = 256 * MiB
    with (
        cuda.Stream() as s,
        cuda.PinnedHostBuffer(n, np.uint8) as host,
        cuda.DeviceBuffer(n) as dev,
    ):
        host.array[:] = _random_bytes(n, seed=7)
        start, end = cuda.Event(), cuda.Event()
        dev.copy_from_host(host.array, stream=s)  # warm-up
        times = []
        for _ in range(5):
            start.record(s)
            dev.copy_from_host(host.array, stream=s)
            end.record(s)
            end.synchronize()
            times.append(cuda.Event.elapsed_ms(start, end))
        ms = float(np.median(times))
        gbps = n / (ms * 1e-3) / 1e9
        print(f"pinned H2D {n >> 20} MiB: {ms:.3f} ms, {gbps:.1f} GB/s")
        assert 1.0 < gbps < 1000.0
        with pytest.raises(InputError, match="timing"):
            cuda.elapsed_ms(cuda.Event(timing=False), end)


def test_cuda_graph_replays_memcpy_sequence() -> None:
    n = 8 * MiB + 3
    with (
        cuda.Stream() as s,
        cuda.PinnedHostBuffer(n, np.uint8) as src,
        cuda.PinnedHostBuffer(n, np.uint8) as dst,
        cuda.DeviceBuffer(n) as a,
        cuda.DeviceBuffer(n) as b,
    ):
        src.array[:] = 1
        with cuda.capture(s) as cap:
            a.copy_from_host(src.array, stream=s)
            cuda.memcpy_dtod(b.ptr, a.ptr, n, stream=s)
            b.copy_to_host(dst.array, stream=s)
        assert cap.graph is not None
        assert not s.is_capturing()
        with cap.graph as graph:
            for i in range(10):
                src.array[:] = _random_bytes(n, seed=i)
                dst.array[:] = 0
                graph.launch(s)
                s.synchronize()
                assert np.array_equal(dst.array, src.array), f"replay {i}"


def test_illegal_call_during_capture_is_reported_and_recoverable() -> None:
    with cuda.Stream() as s, cuda.DeviceBuffer(1024) as buf:
        s.begin_capture()
        with pytest.raises(CudaError) as info:
            s.synchronize()
        assert "cudaStreamSynchronize" in str(info.value)
        assert "Capture" in getattr(info.value, "code_name", "")
        cuda.abort_capture(s)
        assert not s.is_capturing()
        buf.memset(3, stream=s)
        s.synchronize()
        assert (buf.copy_to_host() == 3).all()


def test_errors_name_call_code_and_fix() -> None:
    with pytest.raises(CudaError) as info:
        cuda.DeviceBuffer(1 << 50)  # 1 PiB
    err = info.value
    assert getattr(err, "code_name", "") == "cudaErrorMemoryAllocation"
    assert "cudaMalloc" in str(err) and "How to fix" in str(err)
    with pytest.raises(CudaError, match="cudaErrorInvalidDevice"):
        cuda.set_device(cuda.device_count() + 5)
    cuda.set_device(0)


def test_finalizer_frees_device_memory() -> None:
    n = 1024 * MiB
    cuda.synchronize()
    free_before, _ = cuda.mem_get_info()
    buf = cuda.DeviceBuffer(n)
    free_held, _ = cuda.mem_get_info()
    assert free_before - free_held >= n - 64 * MiB
    del buf
    gc.collect()
    free_after, _ = cuda.mem_get_info()
    assert free_after - free_held >= n - 64 * MiB
    closed = cuda.DeviceBuffer(16)
    closed.close()
    closed.close()  # idempotent
    with pytest.raises(CudaError, match="freed"):
        _ = closed.ptr


def test_torch_zero_copy_both_ways() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    t = torch.randn(5, 7, device="cuda")
    ptr, shape, dtype = cuda.from_torch(t)
    assert (shape, dtype) == ((5, 7), np.dtype(np.float32))
    host = np.full(shape, np.nan, dtype=np.float32)
    torch.cuda.synchronize()
    cuda.memcpy_dtoh(host, ptr)
    assert np.array_equal(host, t.cpu().numpy())
    t.mul_(3)  # written by torch, read through the raw pointer
    torch.cuda.synchronize()
    cuda.memcpy_dtoh(host, ptr)
    assert np.array_equal(host, t.cpu().numpy())

    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    buf = cuda.DeviceBuffer.from_array(x)
    view = cuda.as_torch(buf, (3, 4), np.float32)
    assert view.data_ptr() == buf.ptr
    assert torch.equal(view.cpu(), torch.from_numpy(x))
    view.add_(1)  # written by torch, read through DeviceBuffer
    torch.cuda.synchronize()
    assert np.array_equal(buf.copy_to_host(shape=(3, 4), dtype=np.float32), x + 1)
    del buf
    gc.collect()  # the view keeps the buffer alive
    assert torch.equal(view.cpu(), torch.from_numpy(x + 1))

    with pytest.raises(Exception, match="contiguous"):
        cuda.from_torch(t.t())
    with pytest.raises(Exception, match="CUDA tensor"):
        cuda.from_torch(torch.zeros(3))


def test_torch_bfloat16_view() -> None:
    torch = pytest.importorskip("torch")
    ml_dtypes = pytest.importorskip("ml_dtypes")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    x = np.array([1.5, -2.0, 3.25, 0.0], dtype=ml_dtypes.bfloat16)
    buf = cuda.DeviceBuffer.from_array(x)
    view = cuda.as_torch(buf, (4,), x.dtype)
    assert view.dtype == torch.bfloat16
    assert view.float().cpu().tolist() == [1.5, -2.0, 3.25, 0.0]
    assert cuda.device_ptr(view) == buf.ptr


def test_pycuda_adapter_when_installed() -> None:
    if importlib.util.find_spec("pycuda") is None:
        pytest.skip("pycuda is not installed (cuda-python is the default binding)")
    import pycuda.autoprimaryctx  # noqa: F401
    import pycuda.driver as drv

    alloc = drv.mem_alloc(64)
    assert cuda.device_ptr(alloc) == int(alloc)


def test_lean_runtime_rejects_garbage_plan_with_engine_error() -> None:
    """The real lean TensorRT runtime on a GPU: a bad plan gives EngineError, not a crash."""
    from trtlab.trt._compat import has_lean_runtime

    if not has_lean_runtime():
        pytest.skip("the TensorRT lean runtime bindings are not installed")
    code = textwrap.dedent(
        """
        from trtlab.errors import EngineError
        from trtlab.trt.runtime import Engine
        try:
            Engine(b"not a plan" * 100, runtime="lean")
        except EngineError as exc:
            print("ENGINE_ERROR", str(exc).replace(chr(10), " | "))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )
    print(proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ENGINE_ERROR" in proc.stdout
    assert "could not deserialize" in proc.stdout
    assert "rebuild" in proc.stdout


def test_bf16_pinned_roundtrip_and_torch_streams() -> None:
    """B6 on real CUDA: a bfloat16 pinned buffer is typed, and torch streams are accepted."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    torch = pytest.importorskip("torch")
    bf16 = np.dtype(ml_dtypes.bfloat16)
    src = np.arange(64, dtype=np.float32).astype(bf16)
    ts = torch.cuda.Stream()
    with cuda.PinnedHostBuffer(src.shape, bf16) as pin, cuda.DeviceBuffer(src.nbytes) as dev:
        assert pin.array.dtype == bf16
        pin.array[:] = src
        dev.copy_from_host(pin.array, stream=ts)  # a torch stream, not an int
        ts.synchronize()
        back = torch.empty(64, dtype=torch.bfloat16, device="cuda")
        cuda.memcpy_dtod(int(back.data_ptr()), dev.ptr, src.nbytes)
        assert back.float().cpu().tolist() == list(range(64))
    assert cuda.stream_handle(ts) == ts.cuda_stream


def test_device_array_views_in_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    with cuda.Stream() as s:
        arr = cuda.DeviceArray.from_numpy(x, stream=s)
        t = torch.as_tensor(arr, device="cuda")  # __cuda_array_interface__ v3 with its stream
        assert torch.equal(t.cpu(), torch.from_numpy(x))
        np.testing.assert_array_equal(arr.numpy(), x)
        assert torch.equal(arr.torch().cpu(), torch.from_numpy(x))
