"""Access to the CUDA runtime bindings (cuda-python) and translation of its error codes.

cuda-python returns ``(cudaError_t, *values)`` tuples instead of raising, so every call goes
through :func:`check`, which turns a non-success code into :class:`~trtlab.errors.CudaError` that
names the call, the code and the usual fix. The backend module is looked up lazily (``import
trtlab.cuda`` works without cuda-python) and can be swapped for a fake in tests
(:func:`use_backend`): that is how the error and clean-up logic is tested without a GPU.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from trtlab._lazy import INSTALL_HINTS
from trtlab.errors import CudaError, DependencyError

#: Import paths of the CUDA runtime module, newest layout first (cuda-python >= 12.6, then older).
_MODULE_PATHS = ("cuda.bindings.runtime", "cuda.cudart")

_backend: Any = None

#: How to fix the errors a tutorial user meets most; keys are cudaError_t member names.
ERROR_HINTS: dict[str, str] = {
    "cudaErrorNoDevice": (
        "no CUDA GPU is visible: check `nvidia-smi`, CUDA_VISIBLE_DEVICES and that the container "
        "was started with GPUs (docker run --gpus all); on a CPU machine use ONNX Runtime"
    ),
    "cudaErrorInsufficientDriver": (
        "the NVIDIA driver is older than the CUDA version cuda-python was built for (or no driver "
        "is installed): upgrade the driver, or install a cuda-python whose major version matches "
        "the driver (`nvidia-smi` shows the highest CUDA it supports)"
    ),
    "cudaErrorMemoryAllocation": (
        "the GPU is out of memory: use a smaller batch or input size, close other notebooks/"
        "processes holding GPU memory (`nvidia-smi`), or free engines with engine.close()"
    ),
    "cudaErrorInvalidValue": (
        "an argument was invalid (null or freed pointer, size 0 or too large, wrong copy kind); "
        "this is usually a bug in the calling code: check sizes and that buffers are still open"
    ),
    "cudaErrorInvalidDevice": "the device index does not exist: use 0..device_count()-1",
    "cudaErrorInvalidResourceHandle": (
        "a stream, event or graph was used after it was destroyed, or on another device"
    ),
    "cudaErrorIllegalAddress": (
        "a kernel accessed memory out of bounds; the CUDA context is now unusable: restart the "
        "Python process (Jupyter: restart the kernel) and check buffer sizes and tensor shapes"
    ),
    "cudaErrorLaunchFailure": (
        "a kernel failed; the CUDA context is now unusable: restart the Python process"
    ),
    "cudaErrorStreamCaptureUnsupported": (
        "the operation is not allowed while a stream is being captured into a CUDA graph "
        "(synchronization, cudaMalloc, legacy default stream): do it before begin_capture()"
    ),
    "cudaErrorStreamCaptureInvalidated": (
        "the graph capture was invalidated by a disallowed operation during capture: keep only "
        "asynchronous work on the capturing stream between begin_capture() and end_capture()"
    ),
    "cudaErrorStreamCaptureImplicit": (
        "the legacy default stream was used while another stream was capturing: use an explicit "
        "Stream() for all work, or capture with mode='thread_local'"
    ),
    "cudaErrorNotReady": "the work has not finished yet: call synchronize() before reading results",
    "cudaErrorInitializationError": (
        "CUDA could not initialise: check the driver installation (`nvidia-smi`) and that the "
        "process did not fork after CUDA was initialised"
    ),
    "cudaErrorNotPermitted": "the operation is not permitted in the current state of the stream",
}

_DEFAULT_HINT = (
    "see the CUDA runtime documentation for this code; set CUDA_LAUNCH_BLOCKING=1 to make the "
    "failing call report itself"
)


def _import_runtime() -> Any:
    errors: list[str] = []
    for path in _MODULE_PATHS:
        try:
            return importlib.import_module(path)
        except ImportError as exc:
            errors.append(f"{path}: {exc}")
    raise DependencyError(
        "the CUDA runtime bindings (cuda-python) are not importable (needed for GPU buffers, "
        "streams and TensorRT inference): " + "; ".join(errors),
        hint=INSTALL_HINTS["cuda"],
    )


def runtime() -> Any:
    """The CUDA runtime module (``cuda.bindings.runtime``), imported on first use."""
    global _backend
    if _backend is None:
        _backend = _import_runtime()
    return _backend


def has_cuda_python() -> bool:
    """True when cuda-python's runtime module imports (says nothing about a GPU being present)."""
    try:
        runtime()
    except DependencyError:
        return False
    return True


@contextlib.contextmanager
def use_backend(backend: Any) -> Iterator[Any]:
    """Temporarily replace the CUDA runtime module (tests use a fake one)."""
    global _backend
    saved = _backend
    _backend = backend
    try:
        yield backend
    finally:
        _backend = saved


def error_name(code: Any) -> str:
    """Name of a ``cudaError_t`` (``cudaErrorNoDevice``), also for plain ints."""
    name = getattr(code, "name", None)
    if isinstance(name, str):
        return name
    try:
        rt = runtime()
        return str(rt.cudaError_t(int(code)).name)
    except Exception:
        return f"cudaError({int(code)})"


def error_string(code: Any) -> str:
    """The driver's one-line description of ``code`` (empty when it cannot be had)."""
    try:
        rt = runtime()
        result = rt.cudaGetErrorString(code)
        text = result[1] if isinstance(result, tuple) else result
        return text.decode() if isinstance(text, bytes) else str(text)
    except Exception:
        return ""


def _is_success(code: Any) -> bool:
    try:
        return int(code) == 0
    except (TypeError, ValueError):
        return False


class CudaCallError(CudaError):
    """A CUDA runtime call returned an error; ``call``, ``code`` and ``code_name`` say which."""

    def __init__(self, message: str, *, call: str, code: int, code_name: str, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.call = call
        self.code = code
        self.code_name = code_name


def make_error(call: str, code: Any) -> CudaCallError:
    """The :class:`CudaError` for ``call`` failing with ``code`` (expected / got / how to fix)."""
    name = error_name(code)
    text = error_string(code)
    detail = f" ({text})" if text and text != name else ""
    return CudaCallError(
        f"CUDA call {call} failed: expected cudaSuccess, got {name} = {int(code)}{detail}",
        call=call,
        code=int(code),
        code_name=name,
        hint=ERROR_HINTS.get(name, _DEFAULT_HINT),
    )


def check(result: Any, call: str = "CUDA call") -> Any:
    """Unpack a cuda-python result, raising :class:`CudaError` unless the code is success.

    ``(err,)`` or a bare ``err`` returns ``None``; ``(err, value)`` returns ``value``;
    ``(err, a, b, ...)`` returns ``(a, b, ...)``.
    """
    if isinstance(result, tuple):
        if not result:
            raise CudaError(f"{call} returned an empty result tuple, expected (cudaError_t, ...)")
        code, values = result[0], result[1:]
    else:
        code, values = result, ()
    if not _is_success(code):
        raise make_error(call, code)
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return values


def clear_last_error() -> str | None:
    """Read and reset CUDA's sticky error left by a failed asynchronous call (cudaGetLastError).

    trtexec does this after a failed CUDA-graph capture, so the next, unrelated call does not
    report the old error. Returns the error's name, or None when there was none.
    """
    fn = getattr(runtime(), "cudaGetLastError", None)
    if fn is None:
        return None
    result = fn()
    code = result[0] if isinstance(result, tuple) else result
    return None if _is_success(code) else error_name(code)


def call(name: str, *args: Any) -> Any:
    """Call ``cudart.<name>(*args)`` and :func:`check` its result."""
    rt = runtime()
    fn = getattr(rt, name, None)
    if fn is None:
        raise DependencyError(
            f"cuda-python's runtime module has no function {name}: the installed cuda-python is "
            "too old or too new for trtlab",
            hint="pip install -U 'cuda-python>=12.6'",
        )
    return check(fn(*args), name)


def enum(type_name: str, member: str) -> Any:
    """``cudart.<type_name>.<member>`` (a name in the runtime module's enums)."""
    return getattr(getattr(runtime(), type_name), member)
