"""GPU memory, streams, events and CUDA graphs over cuda-python (``cuda.bindings.runtime``).

Importing this package does not import cuda-python; the first CUDA call does, and raises
``DependencyError`` with ``pip install 'trtlab[gpu]'`` when it is missing. Every CUDA error
becomes a ``CudaError`` naming the call, the error code and the usual fix.

>>> from trtlab import cuda
>>> with cuda.Stream() as s, cuda.DeviceBuffer(x.nbytes) as d:   # doctest: +SKIP
...     d.copy_from_host(x, stream=s)
"""

from __future__ import annotations

from trtlab.cuda._rt import (
    ERROR_HINTS,
    CudaCallError,
    check,
    clear_last_error,
    has_cuda_python,
    make_error,
    runtime,
    use_backend,
)
from trtlab.cuda.adapters import (
    as_torch,
    device_ptr,
    from_pycuda,
    from_torch,
    is_cuda_tensor,
    numpy_to_torch_dtype,
    torch_to_numpy_dtype,
)
from trtlab.cuda.device import (
    compute_capability,
    current_device,
    describe,
    device_count,
    device_guard,
    device_name,
    driver_version,
    is_available,
    mem_get_info,
    runtime_version,
    set_device,
    synchronize,
)
from trtlab.cuda.memory import (
    DeviceArray,
    DeviceBuffer,
    PinnedHostBuffer,
    memcpy_dtod,
    memcpy_dtoh,
    memcpy_dtoh_async,
    memcpy_htod,
    memcpy_htod_async,
)
from trtlab.cuda.stream import (
    CudaGraph,
    Event,
    Stream,
    abort_capture,
    capture,
    elapsed_ms,
    stream_handle,
)

__all__ = [
    "ERROR_HINTS",
    "CudaCallError",
    "CudaGraph",
    "DeviceArray",
    "DeviceBuffer",
    "Event",
    "PinnedHostBuffer",
    "Stream",
    "abort_capture",
    "as_torch",
    "capture",
    "check",
    "clear_last_error",
    "compute_capability",
    "current_device",
    "describe",
    "device_count",
    "device_guard",
    "device_name",
    "device_ptr",
    "driver_version",
    "elapsed_ms",
    "from_pycuda",
    "from_torch",
    "has_cuda_python",
    "is_available",
    "is_cuda_tensor",
    "make_error",
    "mem_get_info",
    "memcpy_dtod",
    "memcpy_dtoh",
    "memcpy_dtoh_async",
    "memcpy_htod",
    "memcpy_htod_async",
    "numpy_to_torch_dtype",
    "runtime",
    "runtime_version",
    "set_device",
    "stream_handle",
    "synchronize",
    "torch_to_numpy_dtype",
    "use_backend",
]
