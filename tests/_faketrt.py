"""A stand-in TensorRT runtime module for testing ``trtlab.trt.runtime.Engine`` without TensorRT.

It implements the named-tensor API subset the Engine uses (see ``RUNTIME_API_USED``) for one
small network: input ``x`` float32 ``[-1, 4]`` (profile 0: batch 1..8, profile 1: batch 9..16),
outputs ``y = 2 * x + 1`` float32 ``[-1, 4]`` and ``idx = arange(batch)`` int64 ``[-1]``.
The arithmetic is done by a pluggable *kernel* that is queued on the CUDA stream passed to
``execute_async_v3``: a host kernel for the fake CUDA runtime (CPU tests) or a torch kernel on the
real stream (GPU tests), so buffer handling, copies and CUDA-graph capture are exercised for real.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable
from typing import Any

PLAN = b"FAKEPLAN-v1" + bytes(64)


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
PROFILES = [((1, 4), (2, 4), (8, 4)), ((9, 4), (12, 4), (16, 4))]


class IExecutionContext:
    def __init__(self, engine: ICudaEngine) -> None:
        self.engine = engine
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.addresses: dict[str, int] = {}
        self.profile = 0
        self.executions = 0

    def set_optimization_profile_async(self, profile: int, stream: int) -> bool:
        if not 0 <= profile < len(PROFILES):
            return False
        self.profile = profile
        self.shapes.clear()
        return True

    def set_input_shape(self, name: str, shape: Any) -> bool:
        lo, _, hi = PROFILES[self.profile]
        shape = tuple(int(d) for d in shape)
        if name != "x" or len(shape) != 2 or not (lo[0] <= shape[0] <= hi[0] and shape[1] == 4):
            self.engine.logger.log(Severity.ERROR, f"setInputShape: bad shape {shape}")
            return False
        self.shapes[name] = shape
        return True

    def infer_shapes(self) -> list[str]:
        return [] if "x" in self.shapes else ["x"]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        batch = self.shapes["x"][0] if "x" in self.shapes else -1
        return {"x": (batch, 4), "y": (batch, 4), "idx": (batch,)}[name]

    def set_tensor_address(self, name: str, ptr: int) -> bool:
        if ptr == 0 or name not in TENSORS:
            return False
        self.addresses[name] = int(ptr)
        return True

    def execute_async_v3(self, stream: int) -> bool:
        if set(self.addresses) != set(TENSORS) or "x" not in self.shapes:
            self.engine.logger.log(Severity.ERROR, "enqueueV3: addresses or shapes not set")
            return False
        self.executions += 1
        self.engine.kernel(self, int(stream), self.shapes["x"][0])
        return True


class ICudaEngine:
    def __init__(self, logger: Any, kernel: Kernel) -> None:
        self.logger = logger
        self.kernel = kernel
        self.name = "fake_net"
        self.num_io_tensors = len(TENSORS)
        self.num_optimization_profiles = len(PROFILES)
        self.device_memory_size_v2 = 1234

    def get_tensor_name(self, index: int) -> str:
        return list(TENSORS)[index]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return TENSORS[name][0]

    def get_tensor_dtype(self, name: str) -> DataType:
        return TENSORS[name][1]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return TENSORS[name][2]

    def get_tensor_location(self, name: str) -> TensorLocation:
        return TensorLocation.DEVICE

    def is_shape_inference_io(self, name: str) -> bool:
        return False

    def get_tensor_profile_shape(self, name: str, profile: int) -> list[tuple[int, ...]]:
        return list(PROFILES[profile])

    def create_execution_context(self) -> IExecutionContext:
        return IExecutionContext(self)


def make_module(kernel: Kernel, *, start_error: str | None = None) -> types.ModuleType:
    """A module object that looks like ``tensorrt_lean`` to trtlab (no ``Builder``)."""
    mod = types.ModuleType("fake_tensorrt_lean")
    mod.__version__ = "11.4.0.106"  # type: ignore[attr-defined]

    class Runtime:
        def __init__(self, logger: Any) -> None:
            self.logger = logger
            self.engine_host_code_allowed = False
            if start_error:
                logger.log(Severity.ERROR, start_error)

        def deserialize_cuda_engine(self, data: bytes) -> ICudaEngine | None:
            if bytes(data) != PLAN:
                self.logger.log(Severity.ERROR, "Serialization assertion failed: magic mismatch")
                return None
            return ICudaEngine(self.logger, kernel)

    mod.Runtime = Runtime  # type: ignore[attr-defined]
    mod.ILogger = ILogger  # type: ignore[attr-defined]
    mod.DataType = DataType  # type: ignore[attr-defined]
    mod.TensorIOMode = TensorIOMode  # type: ignore[attr-defined]
    return mod


def host_kernel(queue: Callable[[int, Callable[[], None]], Any]) -> Kernel:
    """Kernel for the fake CUDA runtime: numpy on the 'device' (host) memory, via its queue."""
    import ctypes

    import numpy as np

    def kernel(ctx: IExecutionContext, stream: int, batch: int) -> None:
        xa, ya, ia = ctx.addresses["x"], ctx.addresses["y"], ctx.addresses["idx"]

        def run() -> None:
            x = np.ctypeslib.as_array((ctypes.c_float * (batch * 4)).from_address(xa))
            y = np.ctypeslib.as_array((ctypes.c_float * (batch * 4)).from_address(ya))
            i = np.ctypeslib.as_array((ctypes.c_int64 * batch).from_address(ia))
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
