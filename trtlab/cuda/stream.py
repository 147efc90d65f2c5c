"""Streams, events and CUDA graphs over the CUDA runtime.

Handles are kept as plain ints (what TensorRT's ``execute_async_v3`` and torch's
``cuda_stream`` use). Objects created here own their handle and free it exactly once: through
``close()``, the context manager, or a ``weakref.finalize`` when garbage collected. Objects made
with :meth:`Stream.wrap` borrow a handle someone else owns and never destroy it.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any, Literal

from trtlab._closing import Closeable
from trtlab.cuda._rt import call, enum, make_error, runtime
from trtlab.errors import CudaError, InputError

CaptureMode = Literal["thread_local", "global", "relaxed"]

_CAPTURE_MODES: dict[str, str] = {
    "global": "cudaStreamCaptureModeGlobal",
    "thread_local": "cudaStreamCaptureModeThreadLocal",
    "relaxed": "cudaStreamCaptureModeRelaxed",
}


def _destroy_quietly(backend: Any, fn_name: str, handle: int) -> None:
    """Finalizer body: free ``handle``; errors at interpreter exit are not actionable, so ignore."""
    with contextlib.suppress(Exception):
        getattr(backend, fn_name)(handle)


class _Owned(Closeable):
    """A handle freed once by ``fn_name``; subclasses add behaviour."""

    _kind = "handle"

    def __init__(self, handle: int, destroy: str | None) -> None:
        self._handle = int(handle)
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if destroy is not None:
            self._finalizer = weakref.finalize(
                self, _destroy_quietly, runtime(), destroy, self._handle
            )
        self._closed = False

    @property
    def handle(self) -> int:
        """The raw handle as an int (pass it to TensorRT or other CUDA libraries)."""
        if self._closed:
            raise CudaError(
                f"this {self._kind} was closed; expected an open {self._kind}",
                hint=f"create a new {self._kind} instead of reusing a closed one",
            )
        return self._handle

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Free the handle now (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()

    def __int__(self) -> int:
        return self.handle

    def _query(self, fn_name: str) -> bool:
        """Non-blocking CUDA query: done -> True, ``cudaErrorNotReady`` -> False, else raise."""
        code = getattr(runtime(), fn_name)(self.handle)
        code = code[0] if isinstance(code, tuple) else code
        if int(code) == 0:
            return True
        if getattr(code, "name", "") == "cudaErrorNotReady":
            return False
        raise make_error(fn_name, code)


class Stream(_Owned):
    """A CUDA stream: work queued on it runs in order, and concurrently with other streams.

    ``non_blocking=True`` (default) means it does not implicitly synchronise with the legacy
    default stream, which is what TensorRT and graph capture want.
    """

    _kind = "Stream"

    def __init__(self, *, non_blocking: bool = True, _handle: int | None = None) -> None:
        if _handle is not None:
            super().__init__(_handle, None)
            return
        flags = int(runtime().cudaStreamNonBlocking) if non_blocking else 0
        raw = call("cudaStreamCreateWithFlags", flags)
        super().__init__(int(raw), "cudaStreamDestroy")

    @classmethod
    def wrap(cls, handle: int) -> Stream:
        """Borrow an existing stream (e.g. ``torch.cuda.current_stream().cuda_stream``)."""
        return cls(_handle=int(handle))

    @classmethod
    def default(cls) -> Stream:
        """The legacy default stream (handle 0); it cannot be captured into a graph."""
        return cls(_handle=0)

    def synchronize(self) -> None:
        """Block the host until all work queued on this stream has finished."""
        call("cudaStreamSynchronize", self.handle)

    def query(self) -> bool:
        """True when all queued work has finished (never blocks)."""
        return self._query("cudaStreamQuery")

    def wait_event(self, event: Event) -> None:
        """Make later work on this stream wait until ``event`` has happened (no host block)."""
        call("cudaStreamWaitEvent", self.handle, event.handle, 0)

    def record_event(self, *, timing: bool = True) -> Event:
        """A new event recorded at the current end of this stream."""
        event = Event(timing=timing)
        event.record(self)
        return event

    # -- graph capture ---------------------------------------------------------------------
    def begin_capture(self, mode: CaptureMode = "thread_local") -> None:
        """Start recording the work queued on this stream into a CUDA graph (nothing runs)."""
        if self._handle == 0:
            raise InputError(
                "the legacy default stream cannot be captured; expected a trtlab.cuda.Stream()",
                hint="capture on s = trtlab.cuda.Stream()",
            )
        if mode not in _CAPTURE_MODES:
            raise InputError(
                f"capture mode must be one of {sorted(_CAPTURE_MODES)}, got {mode!r}",
                hint="use mode='thread_local' (the safe default)",
            )
        call(
            "cudaStreamBeginCapture",
            self.handle,
            enum("cudaStreamCaptureMode", _CAPTURE_MODES[mode]),
        )

    def end_capture(self) -> CudaGraph:
        """Stop recording and instantiate the recorded work as a launchable :class:`CudaGraph`."""
        graph = call("cudaStreamEndCapture", self.handle)
        return CudaGraph(int(graph))

    def is_capturing(self) -> bool:
        """True between :meth:`begin_capture` and :meth:`end_capture`."""
        status = call("cudaStreamIsCapturing", self.handle)
        return getattr(status, "name", "") == "cudaStreamCaptureStatusActive" or int(status) == 1

    def _leave(self, failed: bool) -> None:
        """Leaving ``with stream:`` waits for its queued work, then frees it."""
        if not self._closed and self._finalizer is not None:
            try:
                self.synchronize()
            finally:
                self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"0x{self._handle:x}"
        owned = "" if self._finalizer is not None else " borrowed"
        return f"<Stream {state}{owned}>"


def stream_handle(stream: Any) -> int:
    """The ``cudaStream_t`` (an int, what TensorRT wants) of any stream object trtlab meets.

    Accepts a :class:`Stream`, an int handle, a ``torch.cuda.Stream``/``ExternalStream``
    (``.cuda_stream``) and objects with the CUDA stream protocol (``__cuda_stream__``, e.g.
    cuda.core streams). TensorRT's ``execute_async_v3`` raises ``TypeError`` for anything else.
    """
    if isinstance(stream, Stream):
        return stream.handle
    if isinstance(stream, bool):
        pass
    elif isinstance(stream, int):
        return int(stream)
    else:
        torch_handle = getattr(stream, "cuda_stream", None)
        if isinstance(torch_handle, int):
            return torch_handle
        protocol = getattr(stream, "__cuda_stream__", None)
        if callable(protocol):
            return int(protocol()[1])
        if hasattr(stream, "__index__"):  # numpy integers
            return int(stream.__index__())
    raise InputError(
        f"expected a CUDA stream (trtlab.cuda.Stream, torch.cuda.Stream or an int handle), got "
        f"{type(stream).__name__}",
        hint="pass stream=trtlab.cuda.Stream(), torch.cuda.current_stream() or stream.cuda_stream",
    )


class Event(_Owned):
    """A marker in a stream: used to order streams and to time GPU work without host jitter."""

    _kind = "Event"

    def __init__(self, *, timing: bool = True, blocking: bool = False) -> None:
        rt = runtime()
        flags = 0 if timing else int(rt.cudaEventDisableTiming)
        if blocking:
            flags |= int(rt.cudaEventBlockingSync)
        raw = call("cudaEventCreateWithFlags", flags)
        super().__init__(int(raw), "cudaEventDestroy")
        self.timing = timing

    def record(self, stream: Stream | int | None = None) -> Event:
        """Record this event at the current end of ``stream`` (default stream when ``None``)."""
        handle = 0 if stream is None else stream_handle(stream)
        call("cudaEventRecord", self.handle, handle)
        return self

    def synchronize(self) -> None:
        """Block the host until the work before this event has finished."""
        call("cudaEventSynchronize", self.handle)

    def query(self) -> bool:
        """True when the event has happened (never blocks)."""
        return self._query("cudaEventQuery")

    @staticmethod
    def elapsed_ms(start: Event, end: Event) -> float:
        """Milliseconds of GPU time between two recorded events (call after ``end`` happened)."""
        return elapsed_ms(start, end)


def elapsed_ms(start: Event, end: Event) -> float:
    """Milliseconds between ``start`` and ``end``; both need ``timing=True``."""
    if not (start.timing and end.timing):
        raise InputError(
            "elapsed_ms needs two events created with timing=True, got one with timing=False",
            hint="create events with Event(timing=True)",
        )
    return float(call("cudaEventElapsedTime", start.handle, end.handle))


class CudaGraph(_Owned):
    """A captured and instantiated CUDA graph: replays a fixed sequence of GPU work in one launch.

    Replays use the *same* device addresses as the capture, so the buffers captured must stay
    alive and must not move; write new inputs into them before each :meth:`launch`.
    """

    _kind = "CudaGraph"

    def __init__(self, graph: int) -> None:
        self._graph = int(graph)
        try:
            exec_handle = call("cudaGraphInstantiate", self._graph, 0)
        except CudaError:
            _destroy_quietly(runtime(), "cudaGraphDestroy", self._graph)
            raise
        super().__init__(int(exec_handle), "cudaGraphExecDestroy")
        self._graph_finalizer = weakref.finalize(
            self, _destroy_quietly, runtime(), "cudaGraphDestroy", self._graph
        )

    def launch(self, stream: Stream | int) -> None:
        """Queue one replay of the graph on ``stream``."""
        call("cudaGraphLaunch", self.handle, stream_handle(stream))

    def close(self) -> None:
        super().close()
        self._graph_finalizer()

    def __repr__(self) -> str:
        return f"<CudaGraph {'closed' if self._closed else 'ready'}>"


class capture(Closeable):
    """Context manager: capture the work queued on ``stream`` inside the block into ``g.graph``.

    If the block raises, the capture is ended and discarded, so the stream is usable again.
    """

    def __init__(self, stream: Stream, mode: CaptureMode = "thread_local") -> None:
        self.stream = stream
        self.mode: CaptureMode = mode
        self.graph: CudaGraph | None = None

    def __enter__(self) -> capture:
        self.stream.begin_capture(self.mode)
        return self

    def _leave(self, failed: bool) -> None:
        """Keep the recorded graph, or discard it when the block raised."""
        if failed:
            abort_capture(self.stream)
            return
        self.graph = self.stream.end_capture()


def abort_capture(stream: Stream) -> None:
    """End a capture and throw the partial graph away (after a failure inside the capture)."""
    rt = runtime()
    result = rt.cudaStreamEndCapture(stream.handle)
    if isinstance(result, tuple) and len(result) > 1 and result[1] is not None:
        try:
            if int(result[1]):
                _destroy_quietly(rt, "cudaGraphDestroy", int(result[1]))
        except (TypeError, ValueError):
            pass
