"""Zero-copy bridges to torch and pycuda, and dtype maps between numpy and torch.

TensorRT only needs a device address per tensor, so any library's GPU tensor can feed it without
a copy: :func:`from_torch` reads ``(ptr, shape, dtype)`` off a torch CUDA tensor, :func:`as_torch`
wraps device memory (a :class:`DeviceBuffer` or a raw address) as a torch tensor through the
``__cuda_array_interface__`` protocol, and :func:`device_ptr` accepts any of these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trtlab._lazy import lazy_import
from trtlab.errors import DTypeError, InputError, ShapeError
from trtlab.tensors import dtype_lookup, numpy_dtype_by_name

#: numpy dtype name -> torch dtype attribute name (bool, ints, floats, bfloat16 via ml_dtypes).
NUMPY_TO_TORCH: dict[str, str] = {
    "bool": "bool",
    "uint8": "uint8",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float16": "float16",
    "float32": "float32",
    "float64": "float64",
    "bfloat16": "bfloat16",
    "float8_e4m3fn": "float8_e4m3fn",
}
TORCH_TO_NUMPY: dict[str, str] = {v: k for k, v in NUMPY_TO_TORCH.items()}

#: ``np.dtype`` for a name, including ml_dtypes' ``bfloat16`` / ``float8_*`` (one home: tensors).
numpy_dtype = numpy_dtype_by_name


def torch_dtype_name(dtype: Any) -> str:
    """``torch.float32`` -> ``"float32"``."""
    return str(dtype).removeprefix("torch.")


def numpy_to_torch_dtype(dtype: Any) -> Any:
    """The torch dtype for a numpy dtype (``DTypeError`` when torch has none)."""
    torch = lazy_import("torch", purpose="exchange tensors with PyTorch")
    name = np.dtype(dtype).name
    missing = f"numpy dtype {name} has no torch equivalent"
    hint = "cast the array first (x.astype(np.float32))"
    return getattr(torch, dtype_lookup(NUMPY_TO_TORCH, name, missing=missing, hint=hint))


def torch_to_numpy_dtype(dtype: Any) -> np.dtype[Any]:
    """The numpy dtype for a torch dtype (bfloat16 through ml_dtypes)."""
    name = torch_dtype_name(dtype)
    missing = f"torch dtype {name} has no numpy equivalent"
    hint = "cast the tensor first (t.float())"
    return numpy_dtype(dtype_lookup(TORCH_TO_NUMPY, name, missing=missing, hint=hint))


def is_torch_tensor(obj: Any) -> bool:
    """True for a torch.Tensor, without importing torch when it is not loaded yet."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def is_cuda_tensor(obj: Any) -> bool:
    """True for a torch tensor that lives on a CUDA device."""
    return is_torch_tensor(obj) and bool(obj.is_cuda)


def from_torch(tensor: Any) -> tuple[int, tuple[int, ...], np.dtype[Any]]:
    """``(device_ptr, shape, numpy_dtype)`` of a contiguous torch CUDA tensor (no copy)."""
    if not is_torch_tensor(tensor):
        raise DTypeError(
            f"expected a torch.Tensor, got {type(tensor).__name__}",
            hint="pass torch.from_numpy(x).cuda()",
        )
    if not tensor.is_cuda:
        raise InputError(
            f"expected a CUDA tensor, got one on {tensor.device}",
            hint="move it with tensor.cuda() (or pass a numpy array for the copying path)",
        )
    if not tensor.is_contiguous():
        raise ShapeError(
            f"expected a contiguous tensor, got strides {tuple(tensor.stride())} for shape "
            f"{tuple(tensor.shape)}",
            hint="pass tensor.contiguous()",
        )
    return (
        int(tensor.data_ptr()),
        tuple(int(d) for d in tensor.shape),
        torch_to_numpy_dtype(tensor.dtype),
    )


class _CudaArray:
    """Minimal ``__cuda_array_interface__`` holder; keeps ``owner`` alive as long as the view."""

    def __init__(self, ptr: int, shape: tuple[int, ...], dtype: np.dtype[Any], owner: Any) -> None:
        self._owner = owner
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": dtype.str,
            "data": (int(ptr), False),
            "version": 2,
        }


def as_torch(
    memory: Any,
    shape: tuple[int, ...],
    dtype: Any,
    *,
    owner: Any = None,
) -> Any:
    """A torch CUDA tensor viewing ``memory`` (DeviceBuffer or int address); no copy.

    The returned tensor keeps ``owner`` (default: ``memory`` itself) alive, so a DeviceBuffer
    cannot be garbage collected while the tensor exists.
    """
    torch = lazy_import("torch", purpose="view GPU memory as a torch tensor")
    dt = np.dtype(dtype)
    if dt.name not in NUMPY_TO_TORCH:
        raise DTypeError(
            f"dtype {dt.name} cannot be viewed as a torch tensor; expected one of "
            f"{sorted(NUMPY_TO_TORCH)}",
            hint="copy to host with DeviceBuffer.copy_to_host instead",
        )
    shape = tuple(int(d) for d in shape)
    need = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    size = getattr(memory, "nbytes", None)
    if isinstance(size, int) and need > size:
        raise ShapeError(
            f"shape {list(shape)} {dt} needs {need} bytes, the buffer has {size}",
            hint="allocate a larger DeviceBuffer",
        )
    ptr = device_ptr(memory)
    if dt.name in ("bfloat16", "float8_e4m3fn"):
        # __cuda_array_interface__ has no typestr for these: view as raw bytes, then reinterpret.
        raw = torch.as_tensor(
            _CudaArray(ptr, (need,), np.dtype(np.uint8), owner if owner is not None else memory),
            device="cuda",
        )
        return raw.view(getattr(torch, NUMPY_TO_TORCH[dt.name])).view(shape)
    holder = _CudaArray(ptr, shape, dt, owner if owner is not None else memory)
    return torch.as_tensor(holder, device="cuda")


def cuda_array_info(value: Any) -> tuple[int, tuple[int, ...], np.dtype[Any], int | None]:
    """``(ptr, shape, dtype, stream)`` of a ``__cuda_array_interface__`` object (no copy).

    CuPy, Numba and :class:`~trtlab.cuda.DeviceArray` speak it; ``stream`` (CAI v3) is the stream
    the producer queued its writes on (None: already synchronized). Strided views are refused.
    """
    from trtlab.cuda.memory import DeviceArray

    cai = value.__cuda_array_interface__
    shape = tuple(int(d) for d in cai["shape"])
    dtype = value.dtype if isinstance(value, DeviceArray) else np.dtype(cai["typestr"])
    strides = cai.get("strides")
    if strides is not None:
        expect = [dtype.itemsize] * len(shape)
        for axis in range(len(shape) - 2, -1, -1):
            expect[axis] = expect[axis + 1] * shape[axis + 1]
        if tuple(int(s) for s in strides) != tuple(expect):
            raise ShapeError(
                f"expected a contiguous (row-major) device array, got strides {tuple(strides)} "
                f"for shape {list(shape)}",
                hint="make it contiguous first (cupy.ascontiguousarray(x), x.contiguous())",
            )
    stream = cai.get("stream")
    return int(cai["data"][0]), shape, dtype, None if stream is None else int(stream)


def from_dlpack(value: Any) -> Any:
    """A numpy array (CPU DLPack) or a torch CUDA tensor (CUDA DLPack) over the same memory."""
    device_type = int(value.__dlpack_device__()[0])
    if device_type == 1:  # kDLCPU
        return np.from_dlpack(value)
    torch = lazy_import("torch", purpose="read CUDA DLPack tensors without a copy")
    return torch.from_dlpack(value)


def from_pycuda(allocation: Any) -> int:
    """Device address of a pycuda ``DeviceAllocation`` (or ``GPUArray``), for TensorRT."""
    pycuda_driver = lazy_import("pycuda.driver", purpose="read pycuda device allocations")
    if isinstance(allocation, pycuda_driver.DeviceAllocation):
        return int(allocation)
    gpudata = getattr(allocation, "gpudata", None)
    if gpudata is not None:
        return int(gpudata)
    raise DTypeError(
        f"expected a pycuda DeviceAllocation or GPUArray, got {type(allocation).__name__}",
        hint="pass pycuda.driver.mem_alloc(n) or a pycuda.gpuarray.GPUArray",
    )


def device_ptr(obj: Any) -> int:
    """Device address of an int, DeviceBuffer, torch CUDA tensor, pycuda allocation or any
    object with ``__cuda_array_interface__`` (CuPy, Numba)."""
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return int(obj)
    ptr = getattr(obj, "ptr", None)
    if isinstance(ptr, int):
        return ptr
    if is_torch_tensor(obj):
        return from_torch(obj)[0]
    cai = getattr(obj, "__cuda_array_interface__", None)
    if isinstance(cai, dict):
        return int(cai["data"][0])
    if type(obj).__module__.startswith("pycuda"):
        return from_pycuda(obj)
    raise DTypeError(
        f"cannot get a device address from {type(obj).__name__}; expected an int, a DeviceBuffer, "
        "a torch CUDA tensor, a pycuda allocation or an object with __cuda_array_interface__",
        hint="pass buffer.ptr or tensor.data_ptr()",
    )
