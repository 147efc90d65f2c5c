"""Which GPU is there: count, name, compute capability, driver and runtime versions, memory."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from trtlab.cuda._rt import CudaCallError, call, enum

#: Error codes that mean "no usable GPU here" rather than "something broke".
_NO_GPU_CODES = frozenset(
    {"cudaErrorNoDevice", "cudaErrorInsufficientDriver", "cudaErrorInitializationError"}
)


def device_count(*, strict: bool = False) -> int:
    """Number of visible CUDA devices; ``0`` on a machine without GPU or driver.

    With ``strict=True`` the reason (no device, old driver, ...) is raised as a ``CudaError``
    instead, which is what a caller that needs a GPU wants to show.
    """
    try:
        return int(call("cudaGetDeviceCount"))
    except CudaCallError as exc:
        if not strict and exc.code_name in _NO_GPU_CODES:
            return 0
        raise


def is_available() -> bool:
    """True when cuda-python imports and at least one GPU answers."""
    from trtlab.cuda._rt import has_cuda_python

    return has_cuda_python() and device_count() > 0


def current_device() -> int:
    """Index of the device the calling thread uses."""
    return int(call("cudaGetDevice"))


def set_device(device: int) -> None:
    """Make ``device`` current for the calling thread (all buffers/streams go there)."""
    call("cudaSetDevice", int(device))


@contextlib.contextmanager
def device_guard(device: int) -> Iterator[None]:
    """Make ``device`` current inside the block and restore the caller's device after it.

    Buffers, streams and TensorRT contexts belong to one GPU: work for them must be queued with
    that GPU current, whatever the caller (or torch) made current since.
    """
    previous = current_device()
    if previous == device:
        yield
        return
    set_device(device)
    try:
        yield
    finally:
        set_device(previous)


def synchronize() -> None:
    """Wait for all work on the current device."""
    call("cudaDeviceSynchronize")


def device_name(device: int = 0) -> str:
    """Marketing name of ``device``, e.g. ``NVIDIA H100 80GB HBM3``."""
    props = call("cudaGetDeviceProperties", int(device))
    raw = props.name
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).split(b"\0", 1)[0].decode(errors="replace").strip()
    return str(raw).strip()


def compute_capability(device: int = 0) -> tuple[int, int]:
    """``(major, minor)``, e.g. ``(9, 0)`` on Hopper; TensorRT engines are built per capability."""
    major = call(
        "cudaDeviceGetAttribute",
        enum("cudaDeviceAttr", "cudaDevAttrComputeCapabilityMajor"),
        int(device),
    )
    minor = call(
        "cudaDeviceGetAttribute",
        enum("cudaDeviceAttr", "cudaDevAttrComputeCapabilityMinor"),
        int(device),
    )
    return int(major), int(minor)


def _split_version(raw: int) -> tuple[int, int]:
    """CUDA encodes versions as ``1000 * major + 10 * minor`` (13000 -> (13, 0))."""
    return raw // 1000, (raw % 1000) // 10


def driver_version() -> tuple[int, int]:
    """Highest CUDA version the installed driver supports; ``(0, 0)`` without a driver."""
    return _split_version(int(call("cudaDriverGetVersion")))


def runtime_version() -> tuple[int, int]:
    """CUDA runtime version cuda-python was built for."""
    return _split_version(int(call("cudaRuntimeGetVersion")))


def mem_get_info() -> tuple[int, int]:
    """``(free, total)`` bytes of memory on the current device."""
    free, total = call("cudaMemGetInfo")
    return int(free), int(total)


def describe(device: int = 0) -> str:
    """One line for notebooks: ``cuda:0 (NVIDIA H100 80GB HBM3, sm_90, driver CUDA 13.0)``."""
    major, minor = compute_capability(device)
    dmaj, dmin = driver_version()
    return f"cuda:{device} ({device_name(device)}, sm_{major}{minor}, driver CUDA {dmaj}.{dmin})"
