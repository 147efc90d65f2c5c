"""Device and pinned host memory, and copies between them.

``DeviceBuffer`` is untyped bytes on the GPU (TensorRT wants an address per tensor; the dtype and
shape live in the engine). ``PinnedHostBuffer`` is page-locked host memory seen as a numpy array:
copies from it are truly asynchronous and run at full PCIe/NVLink speed, copies from ordinary
(pageable) numpy arrays are staged by the driver and block the host.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import numpy as np

from trtlab._closing import Closeable
from trtlab.cuda._rt import call, enum, runtime
from trtlab.cuda.stream import Stream, stream_handle
from trtlab.errors import CudaError, DTypeError, InputError, ShapeError

StreamLike = Stream | int | None


def _stream_handle(stream: Any) -> int | None:
    return None if stream is None else stream_handle(stream)


def _free_quietly(backend: Any, fn_name: str, ptr: int) -> None:
    """Finalizer body; must not raise (it may run at interpreter exit after CUDA shut down)."""
    with contextlib.suppress(Exception):
        getattr(backend, fn_name)(ptr)


def _kind(name: str) -> Any:
    return enum("cudaMemcpyKind", name)


def _host_ptr(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def _check_host_array(array: Any, *, what: str, writeable: bool = False) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise DTypeError(
            f"{what} must be a numpy array, got {type(array).__name__}",
            hint="convert with np.asarray(x)",
        )
    if not array.flags.c_contiguous:
        raise ShapeError(
            f"{what} must be C-contiguous (one block of memory), got a strided view",
            hint="pass np.ascontiguousarray(x)",
        )
    if writeable and not array.flags.writeable:
        raise InputError(f"{what} must be writeable, got a read-only array", hint="pass a copy")
    return array


# -- raw copies ---------------------------------------------------------------------------------
def memcpy_htod(dst_ptr: int, src: np.ndarray, stream: StreamLike = None) -> None:
    """Copy a host array to device address ``dst_ptr`` (synchronous when ``stream`` is None).

    With a stream the copy is only queued: keep ``src`` alive and unchanged until the stream
    is synchronized.
    """
    src = _check_host_array(src, what="source array")
    _memcpy(int(dst_ptr), _host_ptr(src), src.nbytes, "HostToDevice", _stream_handle(stream))


def memcpy_dtoh(dst: np.ndarray, src_ptr: int, stream: StreamLike = None) -> np.ndarray:
    """Copy ``dst.nbytes`` bytes from device address ``src_ptr`` into host array ``dst``."""
    dst = _check_host_array(dst, what="destination array", writeable=True)
    _memcpy(_host_ptr(dst), int(src_ptr), dst.nbytes, "DeviceToHost", _stream_handle(stream))
    return dst


def memcpy_htod_async(dst_ptr: int, src: np.ndarray, stream: Stream | int) -> None:
    """Queue a host-to-device copy on ``stream`` (fully async only from pinned memory)."""
    src = _check_host_array(src, what="source array")
    _memcpy(int(dst_ptr), _host_ptr(src), src.nbytes, "HostToDevice", stream_handle(stream))


def memcpy_dtoh_async(dst: np.ndarray, src_ptr: int, stream: Stream | int) -> None:
    """Queue a device-to-host copy on ``stream``; read ``dst`` only after synchronizing."""
    dst = _check_host_array(dst, what="destination array", writeable=True)
    _memcpy(_host_ptr(dst), int(src_ptr), dst.nbytes, "DeviceToHost", stream_handle(stream))


def memcpy_dtod(dst_ptr: int, src_ptr: int, nbytes: int, stream: StreamLike = None) -> None:
    """Copy ``nbytes`` between two device addresses."""
    _memcpy(int(dst_ptr), int(src_ptr), int(nbytes), "DeviceToDevice", _stream_handle(stream))


def _memcpy(dst: int, src: int, nbytes: int, direction: str, handle: int | None) -> None:
    """``cudaMemcpy`` (``handle`` None: returns when done) or ``cudaMemcpyAsync`` on ``handle``.

    ``direction`` is the ``cudaMemcpyKind`` member without its prefix (``"HostToDevice"``).
    """
    kind = _kind("cudaMemcpy" + direction)
    if handle is None:
        call("cudaMemcpy", dst, src, nbytes, kind)
    else:
        call("cudaMemcpyAsync", dst, src, nbytes, kind, handle)


# -- buffers ------------------------------------------------------------------------------------
class DeviceBuffer(Closeable):
    """``nbytes`` of GPU memory (cudaMalloc), freed by ``close()``, ``with``, or garbage collection.

    Zero-byte buffers allocate one byte so that ``ptr`` is a valid, non-null address (TensorRT
    rejects null addresses even for empty tensors).
    """

    def __init__(self, nbytes: int) -> None:
        nbytes = int(nbytes)
        if nbytes < 0:
            raise InputError(
                f"DeviceBuffer size must be >= 0 bytes, got {nbytes}",
                hint="pass array.nbytes",
            )
        self._nbytes = nbytes
        self._ptr = int(call("cudaMalloc", max(1, nbytes)))
        self._finalizer = weakref.finalize(self, _free_quietly, runtime(), "cudaFree", self._ptr)

    @classmethod
    def from_array(cls, array: np.ndarray, stream: StreamLike = None) -> DeviceBuffer:
        """A new buffer holding a copy of ``array``."""
        array = _check_host_array(array, what="array")
        buf = cls(array.nbytes)
        buf.copy_from_host(array, stream=stream)
        return buf

    @property
    def ptr(self) -> int:
        """Device address as an int."""
        if not self._finalizer.alive:
            raise CudaError(
                "this DeviceBuffer was freed; expected an open buffer",
                hint="allocate a new DeviceBuffer (or keep the old one open while it is used)",
            )
        return self._ptr

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __int__(self) -> int:
        return self.ptr

    def copy_from_host(self, array: np.ndarray, stream: StreamLike = None) -> DeviceBuffer:
        """Copy ``array`` to the start of this buffer (async on ``stream`` if given)."""
        array = _check_host_array(array, what="source array")
        if array.nbytes > self._nbytes:
            raise ShapeError(
                f"array of {array.nbytes} bytes does not fit: expected at most {self._nbytes} "
                f"bytes (this DeviceBuffer's size), got shape {list(array.shape)} {array.dtype}",
                hint="allocate a larger DeviceBuffer(array.nbytes)",
            )
        memcpy_htod(self.ptr, array, stream)
        return self

    def copy_to_host(
        self,
        out: np.ndarray | None = None,
        *,
        dtype: Any = np.uint8,
        shape: tuple[int, ...] | None = None,
        stream: StreamLike = None,
    ) -> np.ndarray:
        """Copy the buffer's bytes into ``out`` (or a new array of ``shape``/``dtype``).

        Without ``out`` and ``shape`` the whole buffer comes back as a 1-D array of ``dtype``.
        With a stream the copy is queued; synchronize before reading the result.
        """
        if out is None:
            dt = np.dtype(dtype)
            if shape is None:
                if self._nbytes % dt.itemsize:
                    raise DTypeError(
                        f"buffer of {self._nbytes} bytes is not a whole number of {dt} items",
                        hint="pass shape= or a dtype whose itemsize divides the buffer size",
                    )
                shape = (self._nbytes // dt.itemsize,)
            out = np.empty(shape, dtype=dt)
        out = _check_host_array(out, what="destination array", writeable=True)
        if out.nbytes > self._nbytes:
            raise ShapeError(
                f"destination of {out.nbytes} bytes is larger than this DeviceBuffer "
                f"({self._nbytes} bytes)",
                hint="pass a smaller out= array or shape=",
            )
        return memcpy_dtoh(out, self.ptr, stream)

    def memset(self, value: int, stream: StreamLike = None) -> DeviceBuffer:
        """Set every byte to ``value`` (0..255); tests use it to poison memory before reads."""
        handle = _stream_handle(stream)
        if handle is None:
            call("cudaMemset", self.ptr, int(value) & 0xFF, self._nbytes)
        else:
            call("cudaMemsetAsync", self.ptr, int(value) & 0xFF, self._nbytes, handle)
        return self

    def close(self) -> None:
        """Free the memory now (idempotent)."""
        self._finalizer()

    free = close

    def __repr__(self) -> str:
        where = "freed" if self.closed else f"0x{self._ptr:x}"
        return f"<DeviceBuffer {self._nbytes} bytes at {where}>"


class _ArrayView:
    """Exposes raw host memory to numpy while keeping its owner alive (``array.base`` chain)."""

    def __init__(self, owner: PinnedHostBuffer, ptr: int, shape: tuple[int, ...], dtype: Any):
        self._owner = owner
        self.__array_interface__ = {
            "data": (ptr, False),
            "shape": shape,
            "typestr": np.dtype(dtype).str,
            "descr": np.dtype(dtype).descr,
            "version": 3,
        }


class PinnedHostBuffer(Closeable):
    """Page-locked host memory (cudaMallocHost) with a numpy view: ``buf.array``.

    Any numpy view taken from ``array`` keeps the memory alive, so garbage collection cannot free
    it under a live array; ``close()`` frees it at once, after which old views must not be used.
    """

    def __init__(self, shape: int | tuple[int, ...], dtype: Any = np.float32) -> None:
        shape_t = (
            (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
        )
        if any(d < 0 for d in shape_t):
            raise ShapeError(
                f"PinnedHostBuffer shape must have dims >= 0, got {list(shape_t)}",
                hint="pass the array shape, e.g. (1, 3, 224, 224)",
            )
        self.dtype = np.dtype(dtype)
        self.shape = shape_t
        self.nbytes = int(np.prod(shape_t, dtype=np.int64)) * self.dtype.itemsize
        self._ptr = int(call("cudaMallocHost", max(1, self.nbytes)))
        self._finalizer = weakref.finalize(
            self, _free_quietly, runtime(), "cudaFreeHost", self._ptr
        )

    @property
    def ptr(self) -> int:
        """Host address as an int."""
        if not self._finalizer.alive:
            raise CudaError("this PinnedHostBuffer was freed", hint="allocate a new one")
        return self._ptr

    @property
    def array(self) -> np.ndarray:
        """The memory as a numpy array of ``shape``/``dtype`` (writes go straight to it).

        Each access makes a new view whose ``base`` keeps this buffer alive (no reference cycle:
        numpy arrays are invisible to the cycle collector, so a cached view would leak).
        """
        if not self._finalizer.alive:
            raise CudaError("this PinnedHostBuffer was freed", hint="allocate a new one")
        if self.dtype.kind != "V" or self.dtype.fields:
            return np.asarray(_ArrayView(self, self._ptr, self.shape, self.dtype))
        # ml_dtypes (bfloat16, float8_*) have typestr '<V2': the array interface would hand
        # numpy a void array, so view raw bytes and reinterpret them as the real dtype.
        raw = np.asarray(_ArrayView(self, self._ptr, (self.nbytes,), np.uint8))
        typed: np.ndarray = raw.view(self.dtype).reshape(self.shape)
        return typed

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Free the pinned memory now (idempotent)."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"<PinnedHostBuffer {list(self.shape)} {self.dtype} ({self.nbytes} bytes)>"


class DeviceArray:
    """A typed view of device memory (address, shape, dtype) that keeps its owner alive.

    What :meth:`trtlab.trt.runtime.Engine.infer` returns with ``outputs="device"`` when the inputs
    are not torch tensors, and what it accepts back as an input without a copy. It speaks
    ``__cuda_array_interface__`` (v3, with the stream it was produced on), so CuPy, Numba and
    ``torch.as_tensor(..., device="cuda")`` read it in place; :meth:`numpy` copies it to the host.
    """

    def __init__(
        self,
        ptr: int,
        shape: tuple[int, ...],
        dtype: Any,
        *,
        owner: Any = None,
        stream: StreamLike = None,
    ) -> None:
        self.ptr = int(ptr)
        self.shape = tuple(int(d) for d in shape)
        self.dtype: np.dtype[Any] = np.dtype(dtype)
        self.owner = owner  # a DeviceBuffer (or anything) whose lifetime bounds the memory
        self.stream = _stream_handle(stream)

    @classmethod
    def empty(cls, shape: tuple[int, ...], dtype: Any, *, stream: StreamLike = None) -> DeviceArray:
        """A new, uninitialised device array backed by its own :class:`DeviceBuffer`."""
        dt = np.dtype(dtype)
        buf = DeviceBuffer(int(np.prod(shape, dtype=np.int64)) * dt.itemsize)
        return cls(buf.ptr, shape, dt, owner=buf, stream=stream)

    @classmethod
    def from_numpy(cls, array: np.ndarray, *, stream: StreamLike = None) -> DeviceArray:
        """A device copy of a host array (queued on ``stream`` when given)."""
        array = _check_host_array(np.ascontiguousarray(array), what="array")
        out = cls.empty(array.shape, array.dtype, stream=stream)
        memcpy_htod(out.ptr, array, stream)
        return out

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        cai: dict[str, Any] = {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "data": (self.ptr, False),
            "strides": None,
            "version": 3,
        }
        if self.stream:  # 0 is not allowed in v3 ("no synchronization" is None)
            cai["stream"] = self.stream
        return cai

    def synchronize(self) -> None:
        """Wait until the work that produces this array has finished."""
        if self.stream is not None:
            call("cudaStreamSynchronize", self.stream)

    def numpy(self) -> np.ndarray:
        """A host copy (waits for the producing stream first)."""
        self.synchronize()
        out = np.empty(self.shape, dtype=self.dtype)
        if out.nbytes:
            memcpy_dtoh(out.view(np.uint8).reshape(-1), self.ptr)
        return out

    def torch(self) -> Any:
        """A torch CUDA tensor over the same memory (no copy; keeps this array alive)."""
        from trtlab.cuda.adapters import as_torch

        self.synchronize()
        return as_torch(self.ptr, self.shape, self.dtype, owner=self)

    def __repr__(self) -> str:
        return f"<DeviceArray {list(self.shape)} {self.dtype} at 0x{self.ptr:x}>"
