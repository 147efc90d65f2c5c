"""A fake CUDA runtime module for CPU tests of trtlab.cuda and trtlab.trt.runtime.

It mimics the parts of ``cuda.bindings.runtime`` trtlab calls, with the same ``(error, value)``
return convention. "Device" memory is ordinary host memory (so copies really move bytes and
results can be checked), freed memory is poisoned, stream work runs immediately unless the stream
is capturing, in which case it is recorded and replayed by graph launches, as on a GPU.
"""

from __future__ import annotations

import ctypes
import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class cudaError_t(enum.IntEnum):
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorMemoryAllocation = 2
    cudaErrorInitializationError = 3
    cudaErrorInsufficientDriver = 35
    cudaErrorNoDevice = 100
    cudaErrorInvalidDevice = 101
    cudaErrorInvalidResourceHandle = 400
    cudaErrorNotReady = 600
    cudaErrorNotPermitted = 800
    cudaErrorStreamCaptureUnsupported = 900
    cudaErrorStreamCaptureInvalidated = 901


class cudaMemcpyKind(enum.IntEnum):
    cudaMemcpyHostToHost = 0
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2
    cudaMemcpyDeviceToDevice = 3


class cudaStreamCaptureMode(enum.IntEnum):
    cudaStreamCaptureModeGlobal = 0
    cudaStreamCaptureModeThreadLocal = 1
    cudaStreamCaptureModeRelaxed = 2


class cudaStreamCaptureStatus(enum.IntEnum):
    cudaStreamCaptureStatusNone = 0
    cudaStreamCaptureStatusActive = 1


class cudaDeviceAttr(enum.IntEnum):
    cudaDevAttrComputeCapabilityMajor = 75
    cudaDevAttrComputeCapabilityMinor = 76


OK = cudaError_t.cudaSuccess
cudaStreamNonBlocking = 1
cudaEventDisableTiming = 2
cudaEventBlockingSync = 1


@dataclass
class _Props:
    name: bytes = b"Fake GPU 80GB\x00\x00\x00"


@dataclass
class FakeCudart:
    """Instance used as the runtime module (``trtlab.cuda.use_backend(FakeCudart())``)."""

    devices: int = 1
    total_memory: int = 1 << 30
    fail: dict[str, cudaError_t] = field(default_factory=dict)
    fail_in_capture: dict[str, cudaError_t] = field(default_factory=dict)
    memory: dict[int, Any] = field(default_factory=dict)
    host_memory: dict[int, Any] = field(default_factory=dict)
    streams: set[int] = field(default_factory=set)
    events: dict[int, float] = field(default_factory=dict)
    graphs: dict[int, list[Callable[[], None]]] = field(default_factory=dict)
    execs: dict[int, list[Callable[[], None]]] = field(default_factory=dict)
    capturing: dict[int, list[Callable[[], None]]] = field(default_factory=dict)
    freed: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    clock: float = 0.0
    current: int = 0  # cudaSetDevice / cudaGetDevice (per process here, per thread in CUDA)
    #: sticky error of the last failed asynchronous call, read and reset by cudaGetLastError
    last_error: cudaError_t = cudaError_t.cudaSuccess
    _ids: Any = field(default_factory=lambda: itertools.count(0x1000, 0x10))

    # enums and constants, as module attributes
    cudaError_t = cudaError_t
    cudaMemcpyKind = cudaMemcpyKind
    cudaStreamCaptureMode = cudaStreamCaptureMode
    cudaStreamCaptureStatus = cudaStreamCaptureStatus
    cudaDeviceAttr = cudaDeviceAttr
    cudaStreamNonBlocking = cudaStreamNonBlocking
    cudaEventDisableTiming = cudaEventDisableTiming
    cudaEventBlockingSync = cudaEventBlockingSync

    def _failing(self, name: str) -> cudaError_t | None:
        self.calls.append(name)
        return self.fail.get(name)

    def _queue(self, stream: int, op: Callable[[], None]) -> cudaError_t:
        """Run ``op`` now, or record it when ``stream`` is capturing."""
        if stream in self.capturing:
            self.capturing[stream].append(op)
        else:
            op()
        return OK

    def is_device_ptr(self, ptr: int) -> bool:
        """True when ``ptr`` lies in memory from cudaMalloc (the stand-in TensorRT asks)."""
        return any(
            base <= int(ptr) < base + len(buf) for base, buf in self.memory.items() if base >= 0
        )

    def used_bytes(self) -> int:
        return sum(len(buf) for buf in self.memory.values())

    # -- errors / device --------------------------------------------------------------------
    def cudaGetErrorString(self, code: Any) -> tuple[cudaError_t, bytes]:
        return OK, f"fake description of {cudaError_t(int(code)).name}".encode()

    def cudaGetDeviceCount(self) -> tuple[cudaError_t, int]:
        if err := self._failing("cudaGetDeviceCount"):
            return err, 0
        if self.devices == 0:
            return cudaError_t.cudaErrorNoDevice, 0
        return OK, self.devices

    def cudaGetDevice(self) -> tuple[cudaError_t, int]:
        return OK, self.current

    def cudaSetDevice(self, device: int) -> tuple[cudaError_t]:
        self.calls.append("cudaSetDevice")
        if not 0 <= device < self.devices:
            return (cudaError_t.cudaErrorInvalidDevice,)
        self.current = int(device)
        return (OK,)

    def cudaGetLastError(self) -> tuple[cudaError_t]:
        self.calls.append("cudaGetLastError")
        err, self.last_error = self.last_error, cudaError_t.cudaSuccess
        return (err,)

    def cudaDeviceSynchronize(self) -> tuple[cudaError_t]:
        return (OK,)

    def cudaGetDeviceProperties(self, device: int) -> tuple[cudaError_t, Any]:
        if not 0 <= device < self.devices:
            return cudaError_t.cudaErrorInvalidDevice, None
        return OK, _Props()

    def cudaDeviceGetAttribute(self, attr: Any, device: int) -> tuple[cudaError_t, int]:
        return OK, {75: 9, 76: 0}[int(attr)]

    def cudaDriverGetVersion(self) -> tuple[cudaError_t, int]:
        return OK, 13000

    def cudaRuntimeGetVersion(self) -> tuple[cudaError_t, int]:
        return OK, 13040

    def cudaMemGetInfo(self) -> tuple[cudaError_t, int, int]:
        return OK, self.total_memory - self.used_bytes(), self.total_memory

    # -- memory -----------------------------------------------------------------------------
    def _alloc(self, table: dict[int, Any], size: int) -> tuple[cudaError_t, int]:
        if size <= 0:
            return cudaError_t.cudaErrorInvalidValue, 0
        if table is self.memory and self.used_bytes() + size > self.total_memory:
            return cudaError_t.cudaErrorMemoryAllocation, 0
        buf = ctypes.create_string_buffer(size)
        ctypes.memset(buf, 0xEE, size)  # uninitialised memory is never zeros
        ptr = ctypes.addressof(buf)
        table[ptr] = buf
        return OK, ptr

    def _free(self, table: dict[int, Any], ptr: int) -> tuple[cudaError_t]:
        buf = table.pop(int(ptr), None)
        if buf is None:
            return (cudaError_t.cudaErrorInvalidValue,)
        ctypes.memset(buf, 0xDD, len(buf))
        self.freed.append(int(ptr))
        # keep the poisoned bytes alive so stale pointers read garbage instead of crashing
        self.host_memory.setdefault(-int(ptr), buf)
        return (OK,)

    def cudaMalloc(self, size: int) -> tuple[cudaError_t, int]:
        if err := self._failing("cudaMalloc"):
            return err, 0
        return self._alloc(self.memory, size)

    def cudaFree(self, ptr: int) -> tuple[cudaError_t]:
        self.calls.append("cudaFree")
        return self._free(self.memory, ptr)

    def cudaMallocHost(self, size: int) -> tuple[cudaError_t, int]:
        if err := self._failing("cudaMallocHost"):
            return err, 0
        return self._alloc(self.host_memory, size)

    def cudaFreeHost(self, ptr: int) -> tuple[cudaError_t]:
        self.calls.append("cudaFreeHost")
        return self._free(self.host_memory, ptr)

    def _live(self, ptr: int, n: int) -> bool:
        for table in (self.memory, self.host_memory):
            for base, buf in table.items():
                if base >= 0 and base <= ptr and ptr + n <= base + len(buf):
                    return True
        return False

    def cudaMemcpy(self, dst: int, src: int, n: int, kind: Any) -> tuple[cudaError_t]:
        if err := self._failing("cudaMemcpy"):
            return (err,)
        ctypes.memmove(int(dst), int(src), int(n))
        return (OK,)

    def cudaMemcpyAsync(
        self, dst: int, src: int, n: int, kind: Any, stream: int
    ) -> tuple[cudaError_t]:
        if err := self._failing("cudaMemcpyAsync"):
            return (err,)
        if int(stream) in self.capturing and "cudaMemcpyAsync" in self.fail_in_capture:
            self.last_error = self.fail_in_capture["cudaMemcpyAsync"]
            return (self.last_error,)
        d, s, count = int(dst), int(src), int(n)
        return (self._queue(int(stream), lambda: ctypes.memmove(d, s, count)),)

    def cudaMemset(self, ptr: int, value: int, n: int) -> tuple[cudaError_t]:
        ctypes.memset(int(ptr), value, int(n))
        return (OK,)

    def cudaMemsetAsync(self, ptr: int, value: int, n: int, stream: int) -> tuple[cudaError_t]:
        p, count = int(ptr), int(n)
        return (self._queue(int(stream), lambda: ctypes.memset(p, value, count)),)

    # -- streams, events, graphs ------------------------------------------------------------
    def cudaStreamCreateWithFlags(self, flags: int) -> tuple[cudaError_t, int]:
        if err := self._failing("cudaStreamCreateWithFlags"):
            return err, 0
        handle = next(self._ids)
        self.streams.add(handle)
        return OK, handle

    def cudaStreamDestroy(self, stream: int) -> tuple[cudaError_t]:
        self.calls.append("cudaStreamDestroy")
        if stream not in self.streams:
            return (cudaError_t.cudaErrorInvalidResourceHandle,)
        self.streams.discard(stream)
        return (OK,)

    def cudaStreamSynchronize(self, stream: int) -> tuple[cudaError_t]:
        if int(stream) in self.capturing:
            return (cudaError_t.cudaErrorStreamCaptureUnsupported,)
        if int(stream) != 0 and int(stream) not in self.streams and stream < 0x1000:
            return (cudaError_t.cudaErrorInvalidResourceHandle,)
        return (OK,)

    def cudaStreamQuery(self, stream: int) -> tuple[cudaError_t]:
        return (OK,)

    def cudaStreamWaitEvent(self, stream: int, event: int, flags: int) -> tuple[cudaError_t]:
        return (OK,)

    def cudaStreamBeginCapture(self, stream: int, mode: Any) -> tuple[cudaError_t]:
        if err := self._failing("cudaStreamBeginCapture"):
            return (err,)
        self.capturing[int(stream)] = []
        return (OK,)

    def cudaStreamEndCapture(self, stream: int) -> tuple[cudaError_t, int | None]:
        ops = self.capturing.pop(int(stream), None)
        if ops is None:
            return cudaError_t.cudaErrorInvalidValue, None
        handle = next(self._ids)
        self.graphs[handle] = ops
        return OK, handle

    def cudaStreamIsCapturing(self, stream: int) -> tuple[cudaError_t, cudaStreamCaptureStatus]:
        active = int(stream) in self.capturing
        return OK, cudaStreamCaptureStatus(int(active))

    def cudaGraphInstantiate(self, graph: int, flags: int) -> tuple[cudaError_t, int]:
        handle = next(self._ids)
        self.execs[handle] = list(self.graphs[int(graph)])
        return OK, handle

    def cudaGraphLaunch(self, graph_exec: int, stream: int) -> tuple[cudaError_t]:
        self.calls.append("cudaGraphLaunch")
        ops = self.execs.get(int(graph_exec))
        if ops is None:
            return (cudaError_t.cudaErrorInvalidResourceHandle,)
        for op in ops:
            self._queue(int(stream), op)
        return (OK,)

    def cudaGraphExecDestroy(self, graph_exec: int) -> tuple[cudaError_t]:
        self.calls.append("cudaGraphExecDestroy")
        return (
            (OK,)
            if self.execs.pop(int(graph_exec), None) is not None
            else (cudaError_t.cudaErrorInvalidResourceHandle,)
        )

    def cudaGraphDestroy(self, graph: int) -> tuple[cudaError_t]:
        self.calls.append("cudaGraphDestroy")
        return (
            (OK,)
            if self.graphs.pop(int(graph), None) is not None
            else (cudaError_t.cudaErrorInvalidResourceHandle,)
        )

    def cudaEventCreateWithFlags(self, flags: int) -> tuple[cudaError_t, int]:
        handle = next(self._ids)
        self.events[handle] = -1.0
        return OK, handle

    def cudaEventDestroy(self, event: int) -> tuple[cudaError_t]:
        self.calls.append("cudaEventDestroy")
        self.events.pop(int(event), None)
        return (OK,)

    def cudaEventRecord(self, event: int, stream: int) -> tuple[cudaError_t]:
        self.clock += 1.25
        self.events[int(event)] = self.clock
        return (OK,)

    def cudaEventSynchronize(self, event: int) -> tuple[cudaError_t]:
        return (OK,)

    def cudaEventQuery(self, event: int) -> tuple[cudaError_t]:
        if self.events.get(int(event), -1.0) < 0:
            return (cudaError_t.cudaErrorNotReady,)
        return (OK,)

    def cudaEventElapsedTime(self, start: int, end: int) -> tuple[cudaError_t, float]:
        return OK, self.events[int(end)] - self.events[int(start)]
