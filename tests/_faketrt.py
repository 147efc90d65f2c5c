"""A stand-in TensorRT runtime module for testing ``trtlab.trt.runtime.Engine`` without TensorRT.

It implements the named-tensor API subset the Engine uses (see ``RUNTIME_API_USED``) for one
small network: input ``x`` float32 ``[-1, 4]`` (profile 0: batch 1..8, profile 1: batch 9..16),
outputs ``y = 2 * x + 1`` float32 ``[-1, 4]`` and ``idx = arange(batch)`` int64 ``[-1]``.
The arithmetic is done by a pluggable *kernel* that is queued on the CUDA stream passed to
``execute_async_v3``: a host kernel for the fake CUDA runtime (CPU tests) or a torch kernel on the
real stream (GPU tests), so buffer handling, copies and CUDA-graph capture are exercised for real.

The stand-in refuses what real TensorRT refuses (read from TensorRT's Python API docs for
``IExecutionContext``/``ICudaEngine``, Polygraphy's TRT runner and trtexec's CUDA-graph code), so
a test that passes here does not rely on a permissive fake:

* ``execute_async_v3`` returns False (and logs an error) unless every input shape and every IO
  address is set, the engine's device is the current device, and, inside a stream capture, an
  ordinary enqueue ran since the context last changed (TensorRT's "enqueue once before capture");
* streams and addresses must be ints (pybind11 raises ``TypeError`` for anything else);
* ``set_input_shape`` outside the active profile returns False;
* a captured graph is tied to the context state (shapes, addresses, profile) at capture time:
  replaying it after that context changed records a violation and poisons the outputs;
* other plans select variants: :data:`PLAN_CHW32` (vectorized input format),
  :data:`PLAN_HOST_OUTPUT` (a shape-tensor output located on the HOST) and :data:`PLAN_PLUGINS`
  (deserializes only after ``init_libnvinfer_plugins``, on the full module).
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable
from typing import Any

PLAN = b"FAKEPLAN-v1" + bytes(64)
PLAN_CHW32 = b"FAKEPLAN-chw32" + bytes(61)
PLAN_HOST_OUTPUT = b"FAKEPLAN-hostout" + bytes(59)
PLAN_PLUGINS = b"FAKEPLAN-plugins" + bytes(59)
PLANS = (PLAN, PLAN_CHW32, PLAN_HOST_OUTPUT, PLAN_PLUGINS)


class DataType(enum.Enum):
    FLOAT = 0
    HALF = 1
    BF16 = 2
    INT8 = 3
    INT32 = 4
    INT64 = 5
    BOOL = 6
    UINT8 = 7
    FP8 = 8
    INT4 = 9
    FP4 = 10
    E8M0 = 11


class TensorIOMode(enum.Enum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


class TensorLocation(enum.Enum):
    DEVICE = 0
    HOST = 1


class TensorFormat(enum.Enum):
    LINEAR = 0
    CHW2 = 1
    HWC8 = 2
    CHW4 = 3
    CHW16 = 4
    CHW32 = 5
    HWC = 8


class Severity(enum.Enum):
    INTERNAL_ERROR = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    VERBOSE = 4


class ILogger:
    Severity = Severity

    def __init__(self) -> None:
        pass


Kernel = Callable[["IExecutionContext", int, int], None]  # (context, stream, batch)

TENSORS = {
    "x": (TensorIOMode.INPUT, DataType.FLOAT, (-1, 4)),
    "y": (TensorIOMode.OUTPUT, DataType.FLOAT, (-1, 4)),
    "idx": (TensorIOMode.OUTPUT, DataType.INT64, (-1,)),
}
#: Extra output of :data:`PLAN_HOST_OUTPUT`: the shape of ``y``, computed on the host.
HOST_OUTPUT = ("y_shape", (TensorIOMode.OUTPUT, DataType.INT64, (2,)))
PROFILES = [((1, 4), (2, 4), (8, 4)), ((9, 4), (12, 4), (16, 4))]


def _require_int(what: str, value: Any) -> int:
    """pybind11's conversion: ints only (a torch stream or a DeviceBuffer is a TypeError)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(
            f"{what}(): incompatible function arguments; expected int, got {type(value).__name__}"
        )
    return value


def _current_device() -> int:
    from trtlab import cuda

    return cuda.current_device()


def _is_capturing(stream: int) -> bool:
    from trtlab import cuda

    return stream != 0 and cuda.Stream.wrap(stream).is_capturing()


class IExecutionContext:
    def __init__(self, engine: ICudaEngine) -> None:
        self.engine = engine
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.addresses: dict[str, int] = {}
        self.profile = 0
        self.executions = 0
        #: bumped on every change that a captured graph would bake in (shapes, addresses, profile)
        self.epoch = 0
        self._flushed_epoch = -1  # epoch of the last enqueue outside a capture

    def _log(self, text: str) -> None:
        self.engine.logger.log(Severity.ERROR, text)

    def set_optimization_profile_async(self, profile: int, stream: int) -> bool:
        _require_int("set_optimization_profile_async", stream)
        if not 0 <= profile < len(PROFILES):
            self._log(f"setOptimizationProfileAsync: profile {profile} out of range")
            return False
        self.profile = profile
        self.shapes.clear()
        self.epoch += 1
        return True

    def set_input_shape(self, name: str, shape: Any) -> bool:
        lo, _, hi = PROFILES[self.profile]
        shape = tuple(int(d) for d in shape)
        if name != "x" or len(shape) != 2 or not (lo[0] <= shape[0] <= hi[0] and shape[1] == 4):
            self._log(f"setInputShape: bad shape {shape} for {name!r} in profile {self.profile}")
            return False
        if self.shapes.get(name) != shape:
            self.shapes[name] = shape
            self.epoch += 1
        return True

    def infer_shapes(self) -> list[str]:
        return [] if "x" in self.shapes else ["x"]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        batch = self.shapes["x"][0] if "x" in self.shapes else -1
        return {"x": (batch, 4), "y": (batch, 4), "idx": (batch,), "y_shape": (2,)}[name]

    def set_tensor_address(self, name: str, ptr: int) -> bool:
        ptr = _require_int("set_tensor_address", ptr)
        if ptr == 0 or name not in self.engine.tensors:
            self._log(f"setTensorAddress: invalid address or unknown tensor {name!r}")
            return False
        location = self.engine.get_tensor_location(name)
        if location == TensorLocation.HOST and self.engine.is_device_ptr(ptr):
            self._log(f"setTensorAddress: {name!r} is a host tensor; got a device address")
            return False
        if self.addresses.get(name) != int(ptr):
            self.addresses[name] = int(ptr)
            self.epoch += 1
        return True

    def execute_async_v3(self, stream: int) -> bool:
        stream = _require_int("execute_async_v3", stream)
        if set(self.addresses) != set(self.engine.tensors) or "x" not in self.shapes:
            self._log("enqueueV3: not all input shapes / tensor addresses are set")
            return False
        if _current_device() != self.engine.device:
            self._log(
                f"enqueueV3: the engine lives on device {self.engine.device}, but device "
                f"{_current_device()} is current"
            )
            return False
        if _is_capturing(stream):
            if self._flushed_epoch != self.epoch:
                self._log(
                    "enqueueV3: the context changed since the last enqueue; call enqueueV3 once "
                    "outside stream capture before capturing"
                )
                return False
        else:
            self._flushed_epoch = self.epoch
        self.executions += 1
        batch = self.shapes["x"][0]
        if "y_shape" in self.engine.tensors:  # host output: written by the host during enqueue
            import ctypes

            host = (ctypes.c_int64 * 2).from_address(self.addresses["y_shape"])
            host[0], host[1] = batch, 4
        self.engine.kernel(self, stream, batch)
        return True


class ICudaEngine:
    def __init__(self, logger: Any, kernel: Kernel, plan: bytes, module: Any) -> None:
        self.logger = logger
        self.kernel = kernel
        self.plan = plan
        self.module = module
        self.name = "fake_net"
        self.tensors = dict(TENSORS)
        if plan == PLAN_HOST_OUTPUT:
            self.tensors[HOST_OUTPUT[0]] = HOST_OUTPUT[1]
        self.num_io_tensors = len(self.tensors)
        self.num_optimization_profiles = len(PROFILES)
        self.device_memory_size_v2 = 1234
        self.device = _current_device()
        #: stale-graph replays seen by the host kernel (should stay empty)
        self.violations: list[str] = []

    def is_device_ptr(self, ptr: int) -> bool:
        hook = getattr(self.module, "is_device_ptr", None)
        return bool(hook(ptr)) if hook is not None else False

    def get_tensor_name(self, index: int) -> str:
        return list(self.tensors)[index]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return self.tensors[name][0]

    def get_tensor_dtype(self, name: str) -> DataType:
        return self.tensors[name][1]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return self.tensors[name][2]

    def get_tensor_location(self, name: str) -> TensorLocation:
        return TensorLocation.HOST if name == HOST_OUTPUT[0] else TensorLocation.DEVICE

    def is_shape_inference_io(self, name: str) -> bool:
        return name == HOST_OUTPUT[0]

    def get_tensor_format(self, name: str) -> TensorFormat:
        return (
            TensorFormat.CHW32 if self.plan == PLAN_CHW32 and name == "x" else TensorFormat.LINEAR
        )

    def get_tensor_vectorized_dim(self, name: str) -> int:
        return 1 if self.get_tensor_format(name) == TensorFormat.CHW32 else -1

    def get_tensor_components_per_element(self, name: str) -> int:
        return 32 if self.get_tensor_format(name) == TensorFormat.CHW32 else 1

    def get_tensor_profile_shape(self, name: str, profile: int) -> list[tuple[int, ...]]:
        return list(PROFILES[profile])

    def create_execution_context(self) -> IExecutionContext:
        return IExecutionContext(self)


def make_module(
    kernel: Kernel,
    *,
    start_error: str | None = None,
    full: bool = False,
    is_device_ptr: Callable[[int], bool] | None = None,
) -> types.ModuleType:
    """A module object that looks like ``tensorrt_lean`` to trtlab (``full=True``: ``tensorrt``).

    ``mod.calls`` records the order of ``Runtime``, ``init_libnvinfer_plugins`` and
    ``deserialize_cuda_engine`` calls. ``is_device_ptr`` lets the stand-in tell device from host
    addresses (host-located tensors refuse device addresses, as in TensorRT).
    """
    mod = types.ModuleType("fake_tensorrt" if full else "fake_tensorrt_lean")
    mod.__version__ = "11.4.0.106"  # type: ignore[attr-defined]
    calls: list[str] = []
    state = {"plugins": False}

    class Runtime:
        def __init__(self, logger: Any) -> None:
            calls.append("Runtime")
            self.logger = logger
            self.engine_host_code_allowed = False
            if start_error:
                logger.log(Severity.ERROR, start_error)

        def deserialize_cuda_engine(self, data: bytes) -> ICudaEngine | None:
            calls.append("deserialize_cuda_engine")
            plan = bytes(data)
            if plan not in PLANS:
                self.logger.log(Severity.ERROR, "Serialization assertion failed: magic mismatch")
                return None
            if plan == PLAN_PLUGINS and not state["plugins"]:
                self.logger.log(
                    Severity.ERROR,
                    "getPluginCreator could not find plugin FakePlugin version 1 (plugin "
                    "registry not initialized)",
                )
                return None
            return ICudaEngine(self.logger, kernel, plan, mod)

    mod.Runtime = Runtime  # type: ignore[attr-defined]
    mod.ILogger = ILogger  # type: ignore[attr-defined]
    mod.DataType = DataType  # type: ignore[attr-defined]
    mod.TensorIOMode = TensorIOMode  # type: ignore[attr-defined]
    mod.TensorLocation = TensorLocation  # type: ignore[attr-defined]
    mod.TensorFormat = TensorFormat  # type: ignore[attr-defined]
    mod.calls = calls  # type: ignore[attr-defined]
    mod.is_device_ptr = is_device_ptr  # type: ignore[attr-defined]
    if full:

        def init_libnvinfer_plugins(logger: Any, namespace: str) -> bool:
            if not isinstance(namespace, str):
                raise TypeError("init_libnvinfer_plugins(): namespace must be a str")
            calls.append("init_libnvinfer_plugins")
            state["plugins"] = True
            return True

        class Builder:  # presence marks the full package
            pass

        mod.init_libnvinfer_plugins = init_libnvinfer_plugins  # type: ignore[attr-defined]
        mod.Builder = Builder  # type: ignore[attr-defined]
    return mod


def host_kernel(queue: Callable[[int, Callable[[], None]], Any]) -> Kernel:
    """Kernel for the fake CUDA runtime: numpy on the 'device' (host) memory, via its queue.

    The work is queued with the context state it was enqueued under; a replay (CUDA graph) after
    that context changed is what TensorRT calls undefined behaviour: recorded in
    ``engine.violations`` and the outputs are poisoned with NaN / -1.
    """
    import ctypes

    import numpy as np

    def kernel(ctx: IExecutionContext, stream: int, batch: int) -> None:
        xa, ya, ia = ctx.addresses["x"], ctx.addresses["y"], ctx.addresses["idx"]
        epoch = ctx.epoch

        def run() -> None:
            x = np.ctypeslib.as_array((ctypes.c_float * (batch * 4)).from_address(xa))
            y = np.ctypeslib.as_array((ctypes.c_float * (batch * 4)).from_address(ya))
            i = np.ctypeslib.as_array((ctypes.c_int64 * batch).from_address(ia))
            if ctx.epoch != epoch:
                ctx.engine.violations.append(
                    f"graph captured at context epoch {epoch} replayed at epoch {ctx.epoch}"
                )
                y[:] = np.nan
                i[:] = -1
                return
            y[:] = 2 * x + 1
            i[:] = np.arange(batch)

        queue(stream, run)

    return kernel


def torch_kernel() -> Kernel:
    """Kernel for a real GPU: torch ops on the given CUDA stream, writing through raw addresses."""
    import numpy as np
    import torch

    from trtlab.cuda import as_torch

    def kernel(ctx: IExecutionContext, stream: int, batch: int) -> None:
        x = as_torch(ctx.addresses["x"], (batch, 4), np.float32)
        y = as_torch(ctx.addresses["y"], (batch, 4), np.float32)
        i = as_torch(ctx.addresses["idx"], (batch,), np.int64)
        with torch.cuda.stream(torch.cuda.ExternalStream(stream)):
            torch.mul(x, 2, out=y)
            y.add_(1)
            torch.arange(batch, out=i)

    return kernel
