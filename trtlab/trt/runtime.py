"""Run a serialized TensorRT engine from Python: loading, shape checks, execution, clean-up.

:class:`Engine` loads a plan with the full ``tensorrt`` package or the lean runtime
(``tensorrt_lean``): it checks the GPU and the engine's provenance sidecar first, registers
TensorRT's plugins (full package), deserializes (failures are :class:`EngineLoadError`), reads the
IO table (``trtlab/trt/io_table.py``), checks input shapes against the optimization profile
*before* TensorRT sees them (so the error names the allowed range), and runs ``execute_async_v3``
on a CUDA stream with the engine's GPU made current for the call:

* numpy in, numpy out: inputs are staged through pinned host memory, copied to device buffers
  that are reused (and grown) across calls, and outputs copied back;
* device in, device out (zero copies): torch CUDA tensors, ``__cuda_array_interface__`` /
  ``__dlpack__`` arrays and :class:`trtlab.cuda.DeviceArray` are bound in place; outputs are
  torch tensors (torch inputs) or ``DeviceArray`` (``outputs="device"`` also for numpy inputs);
* ``use_cuda_graph=True``: the copies and the execution are captured into one CUDA graph per
  execution context and replayed with one launch while the input shapes stay the same; a shape
  change re-runs TensorRT once and re-captures (TensorRT ties a graph to the context's state).

Engines with vectorized/HWC IO formats are refused with the fix (build with linear IO formats);
HOST-located outputs (shape tensors) are bound to pinned host memory. Every device resource is
freed deterministically by ``close()`` / ``with Engine(...)`` and, as a safety net, by a
``weakref.finalize`` when the object is garbage collected.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from trtlab._closing import Closeable
from trtlab.errors import (
    CudaError,
    DTypeError,
    EngineError,
    EngineLoadError,
    FileFormatError,
    InputError,
    ShapeError,
)
from trtlab.tensors import check_input_names

# The IO table lives in trtlab/trt/io_table.py; re-exported so `from trtlab.trt.runtime import X`
# keeps working for these names.
from trtlab.trt import io_table
from trtlab.trt.io_table import (  # noqa: F401 (some only re-exported, see __all__)
    TRT_DTYPE_BITS,
    TRT_TO_NUMPY,
    EngineTensor,
    ProfileShape,
    check_shape,
    format_io_table,
    numpy_dtype,
    read_io_table,
    trt_dtype_name,
    unsupported_format_error,
)

if TYPE_CHECKING:
    import tensorrt as trt

    from trtlab.cuda import CudaGraph, DeviceBuffer, PinnedHostBuffer, Stream
    from trtlab.trt._compat import LogCapture, Prefer

RuntimeKind = Literal["auto", "full", "lean"]

#: Every TensorRT attribute the runtime path touches, by class. ``tests/unit/test_lean_bindings.py``
#: checks (a) that this list equals what an AST scan of this file and ``io_table.py`` finds on the
#: objects named ``trt_mod`` (the module), ``trt_runtime``, ``engine`` and ``context`` (also as
#: ``x._engine`` etc.), and (b) that each exists in the real lean bindings. Keep the naming
#: convention.
#: Full-package-only calls (``init_libnvinfer_plugins``) go through ``getattr`` and are not listed.
RUNTIME_API_USED: dict[str, tuple[str, ...]] = {
    "module": ("Runtime", "__version__"),
    "Runtime": ("deserialize_cuda_engine", "engine_host_code_allowed"),
    "ICudaEngine": (
        "create_execution_context",
        "device_memory_size_v2",
        "get_tensor_components_per_element",
        "get_tensor_dtype",
        "get_tensor_format",
        "get_tensor_location",
        "get_tensor_mode",
        "get_tensor_name",
        "get_tensor_profile_shape",
        "get_tensor_shape",
        "get_tensor_vectorized_dim",
        "is_shape_inference_io",
        "name",
        "num_io_tensors",
        "num_optimization_profiles",
    ),
    "IExecutionContext": (
        "execute_async_v3",
        "get_tensor_shape",
        "infer_shapes",
        "set_input_shape",
        "set_optimization_profile_async",
        "set_tensor_address",
    ),
    # Enum members compared by ``.name`` (strings, so the AST scan cannot see them).
    "TensorIOMode": ("INPUT", "OUTPUT"),
    "TensorLocation": ("DEVICE", "HOST"),
}


def _text_table(rows: list[list[str]]) -> str:
    """``format_io_table`` rows as text: header, a dashed rule, aligned columns."""
    from trtlab._tables import text_table

    return text_table(rows[1:], header=rows[0], rule=True)


# -- loading ------------------------------------------------------------------------------------
EngineSource = str | os.PathLike[str] | bytes | bytearray | memoryview


def _read_source(source: Any) -> tuple[bytes, str]:
    """Plan bytes and a description of where they came from."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        where = f"<{len(data)} bytes>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileFormatError(
                f"engine file not found: {path}",
                hint="build it first (`trtlab build model.onnx` or trtlab.trt.build.build_engine)",
            )
        data = path.read_bytes()
        where = str(path)
    else:
        try:  # IHostMemory and other buffer-protocol objects
            data = bytes(memoryview(source))
        except TypeError as exc:
            raise InputError(
                f"expected an engine path, bytes or IHostMemory, got {type(source).__name__}",
                hint="pass the .engine file path or the serialized bytes",
            ) from exc
        where = f"<{type(source).__name__}, {len(data)} bytes>"
    if not data:
        raise FileFormatError(
            f"engine {where} is empty (0 bytes); expected a serialized TensorRT plan",
            hint="the build probably failed or was interrupted: rebuild the engine",
        )
    return data, where


def _import_runtime_module(kind: str) -> ModuleType:
    from trtlab.trt._compat import import_tensorrt

    if kind not in ("auto", "full", "lean"):
        raise InputError(
            f"runtime must be 'auto', 'full' or 'lean', got {kind!r}",
            hint="use runtime='auto' (full TensorRT if installed, else the lean runtime)",
        )
    prefer: dict[str, Prefer] = {"auto": "any", "full": "full", "lean": "lean"}
    return import_tensorrt(prefer[kind], purpose="run TensorRT engines")


def _require_gpu(device: int) -> str:
    """Check that a GPU answers before TensorRT is touched; return ``cuda:N (name)``.

    Without this check the TensorRT runtime constructs on a machine without a usable GPU and
    then crashes the process in ``deserialize_cuda_engine`` (seen with the lean 11.4 bindings).
    The CUDA error's own hint is left out: one message, one "How to fix" line.
    """
    from trtlab import cuda

    try:
        count = cuda.device_count(strict=True)
    except CudaError as exc:
        reason = str(exc.args[0]).split("\n  How to fix:", 1)[0]
        raise EngineError(
            f"TensorRT engines need a CUDA GPU; none is usable here ({reason})",
            hint="run on a machine with an NVIDIA GPU and a working driver (`nvidia-smi` lists "
            "it), or use the ONNX Runtime backend "
            "(trtlab.runners.runner(path_to_onnx, backend='onnxruntime'))",
        ) from exc
    if not 0 <= device < count:
        raise InputError(
            f"device {device} does not exist; this machine has {count} GPU(s) (0..{count - 1})",
            hint="pass device=0",
        )
    return f"cuda:{device} ({cuda.device_name(device)})"


def _gpu_summary(device: int) -> str:
    try:
        from trtlab import cuda

        major, minor = cuda.compute_capability(device)
        return f"{cuda.device_name(device)}, compute capability {major}.{minor}"
    except Exception:
        return "unknown GPU"


def _new_runtime(trt_mod: ModuleType, logger: Any) -> trt.Runtime:
    trt_runtime: trt.Runtime = trt_mod.Runtime(logger)
    return trt_runtime


# -- resources ----------------------------------------------------------------------------------
@dataclass
class _Resources:
    """Everything an Engine owns on the GPU; released once, in dependency order.

    Kept separate from :class:`Engine` so the ``weakref.finalize`` callback holds no reference
    to the Engine itself.
    """

    logger: Any = None  # TensorRT keeps a raw pointer to it: must outlive the runtime
    trt_runtime: Any = None
    engine: Any = None
    context: Any = None
    stream: Any = None
    device: dict[str, Any] = field(default_factory=dict)
    pinned: dict[str, Any] = field(default_factory=dict)
    #: at most one entry: a captured graph belongs to the context state it was captured in
    graphs: dict[Any, Any] = field(default_factory=dict)
    #: (tensor, shape) -> numpy view of its pinned staging memory; dropped with those buffers
    views: dict[tuple[str, tuple[int, ...]], np.ndarray] = field(default_factory=dict)

    def drop_graphs(self) -> None:
        for graph in self.graphs.values():
            graph.close()
        self.graphs.clear()

    def release(self) -> None:
        self.views.clear()
        # A broken context cannot be synchronized; free everything anyway.
        with contextlib.suppress(Exception):
            if self.stream is not None and not self.stream.closed:
                self.stream.synchronize()
        for group in (self.graphs, self.device, self.pinned):
            for item in group.values():
                with contextlib.suppress(Exception):
                    item.close()
            group.clear()
        # TensorRT objects: context before engine before runtime.
        self.context = None
        self.engine = None
        self.trt_runtime = None
        self.logger = None
        if self.stream is not None:
            with contextlib.suppress(Exception):
                self.stream.close()
            self.stream = None


#: What ``Engine.infer`` returns: ``auto`` follows the inputs (numpy in -> numpy out, device in ->
#: device out), ``numpy`` always copies to the host, ``device`` never does.
OutputKind = Literal["auto", "numpy", "device"]
_OUTPUT_KINDS = ("auto", "numpy", "device")


# -- the engine ---------------------------------------------------------------------------------
class Engine(Closeable):
    """A deserialized TensorRT engine with an execution context, ready to run.

    >>> with Engine("resnet50.engine") as eng:            # doctest: +SKIP
    ...     print(eng)                                    # IO table with profile ranges
    ...     out = eng.infer({"input": x})                 # numpy in, numpy out
    """

    def __init__(
        self,
        source: EngineSource | Any,
        *,
        runtime: RuntimeKind = "auto",
        profile: int = 0,
        use_cuda_graph: bool = False,
        allow_host_code: bool = False,
        device: int = 0,
        log_severity: str = "warning",
    ) -> None:
        from trtlab import cuda
        from trtlab.trt._compat import module_version, version_str

        data, self.source = _read_source(source)
        trt_mod = _import_runtime_module(runtime)
        self.runtime_kind: str = "full" if hasattr(trt_mod, "Builder") else "lean"
        version = module_version(trt_mod)
        self.tensorrt_version: str = version_str(version) if version else str(trt_mod.__version__)
        self.device = _require_gpu(device)
        self._device_index = device
        self.use_cuda_graph = use_cuda_graph
        self.graph_disabled_reason: str | None = None
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
        with cuda.device_guard(device):
            if isinstance(source, (str, os.PathLike)):
                self._check_provenance(source)
            self._load(trt_mod, data, allow_host_code=allow_host_code, log_severity=log_severity)
            if profile != 0:
                self.select_profile(profile)

    def _check_provenance(self, path: str | os.PathLike[str]) -> None:
        """Explain a TensorRT-version / GPU mismatch from the engine's sidecar, before TensorRT
        fails with "Serialization assertion" (no sidecar: nothing to check)."""
        from trtlab import cuda
        from trtlab.trt.provenance import check_provenance

        check_provenance(
            path,
            trt_version=self.tensorrt_version,
            gpu_name=cuda.device_name(self._device_index),
            compute_capability=cuda.compute_capability(self._device_index),
        )

    def _load(
        self, trt_mod: ModuleType, data: bytes, *, allow_host_code: bool, log_severity: str
    ) -> None:
        from trtlab import cuda
        from trtlab.trt._compat import init_plugins, trt_logger

        logger = trt_logger(trt_mod, min_severity=log_severity)
        self._log: LogCapture = logger.capture
        self._res.logger = logger
        trt_runtime = _new_runtime(trt_mod, logger)
        self._res.trt_runtime = trt_runtime
        if self._log.errors():
            self.close()
            raise EngineError(
                f"the TensorRT {self.runtime_kind} runtime could not start: "
                + "; ".join(r.message for r in self._log.errors()),
                hint="check `nvidia-smi` and that the TensorRT build matches the driver's CUDA",
            )
        if allow_host_code:
            trt_runtime.engine_host_code_allowed = True
        init_plugins(trt_mod)
        try:
            engine = trt_runtime.deserialize_cuda_engine(data)
        except Exception as exc:  # some versions raise instead of returning None
            error = self._deserialize_error(f"deserialize_cuda_engine raised {exc!r}")
            self.close()
            raise error from exc
        if engine is None:
            error = self._deserialize_error("deserialize_cuda_engine returned None")
            self.close()
            raise error
        self._res.engine = engine
        self._io = read_io_table(engine)
        self._inputs = tuple(t for t in self._io if t.is_input)
        self._outputs = tuple(t for t in self._io if not t.is_input)
        self._bad_format = next((t for t in self._io if not t.is_linear), None)
        host = [t.name for t in self._io if t.location != "DEVICE"]
        if host:
            self.graph_disabled_reason = (
                f"the engine has HOST-located IO tensors {host}: TensorRT writes them from the "
                "host during execute_async_v3, which a CUDA graph replay would not do"
            )
        self.name: str = str(engine.name)
        self.num_profiles = int(engine.num_optimization_profiles)
        context = engine.create_execution_context()
        if context is None:
            self.close()
            raise EngineError(
                "TensorRT could not create an execution context (usually out of GPU memory): "
                + "; ".join(self._log.tail(5)),
                hint="free GPU memory (close other engines/notebooks) or use smaller profiles",
            )
        self._res.context = context
        self._res.stream = cuda.Stream()
        self.profile = 0
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._bound: dict[str, int] = {}
        self._out_shapes: dict[Any, dict[str, tuple[int, ...]]] = {}

    # -- errors -------------------------------------------------------------------------------
    def _deserialize_error(self, what: str) -> EngineLoadError:
        log = "\n    ".join(self._log.tail(8)) or "(TensorRT logged nothing)"
        lean = (
            " The lean runtime only loads engines built with version compatibility "
            "(version_compatible=True / BuilderFlag.VERSION_COMPATIBLE)."
            if self.runtime_kind == "lean"
            else ""
        )
        return EngineLoadError(
            f"TensorRT {self.tensorrt_version} ({self.runtime_kind} runtime) could not "
            f"deserialize the engine {self.source}: {what}. An engine only loads with the "
            "TensorRT version that built it and on the GPU model it was built for; this is "
            f"{_gpu_summary(self._device_index)}.{lean}\n"
            f"  TensorRT said:\n    {log}",
            hint="rebuild the engine here from the ONNX file: `trtlab build model.onnx` or "
            "trtlab.trt.build.build_engine(onnx_path, cache=False)",
        )

    def _context(self) -> trt.IExecutionContext:
        context: trt.IExecutionContext | None = self._res.context
        if context is None:
            raise EngineError(
                f"engine {self.source} was closed; expected an open Engine",
                hint="create a new Engine (or use it inside `with Engine(...) as eng:`)",
            )
        return context

    # -- metadata -----------------------------------------------------------------------------
    @property
    def io(self) -> list[EngineTensor]:
        """All IO tensors (inputs and outputs) in TensorRT's order."""
        return list(self._io)

    @property
    def inputs(self) -> list[EngineTensor]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[EngineTensor]:
        return list(self._outputs)

    def tensor(self, name: str) -> EngineTensor:
        """The IO tensor called ``name`` (``InputError`` listing the names otherwise)."""
        for t in self._io:
            if t.name == name:
                return t
        raise InputError(
            f"engine has no tensor {name!r}; its tensors are {[t.name for t in self._io]}",
            hint="use the names from engine.io",
        )

    @property
    def stream(self) -> Stream:
        """The engine's own CUDA stream (used when ``infer`` gets no stream)."""
        stream: Stream | None = self._res.stream
        if stream is None:
            raise EngineError(f"engine {self.source} was closed", hint="create a new Engine")
        return stream

    @property
    def device_index(self) -> int:
        """The GPU this engine lives on (made current around every call)."""
        return self._device_index

    @property
    def device_memory_size(self) -> int:
        """Scratch memory the execution context needs, in bytes (``device_memory_size_v2``)."""
        engine: trt.ICudaEngine | None = self._res.engine
        if engine is None:
            raise EngineError(f"engine {self.source} was closed", hint="create a new Engine")
        return int(engine.device_memory_size_v2)

    @property
    def closed(self) -> bool:
        return self._res.context is None

    def log_messages(self) -> list[str]:
        """TensorRT's log lines for this engine (``[SEVERITY] text``)."""
        return self._log.messages()

    def __str__(self) -> str:
        head = (
            f"TensorRT engine {self.name or self.source} ({self.runtime_kind} runtime "
            f"{self.tensorrt_version}, {self.device}, profile {self.profile} of "
            f"{self.num_profiles})"
        )
        return head + "\n" + _text_table(format_io_table(self._io, self.profile))

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._io)} IO tensors"
        return f"<Engine {self.source!r} {self.runtime_kind} {self.tensorrt_version} ({state})>"

    def _repr_html_(self) -> str:
        rows = format_io_table(self._io, self.profile)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td><code>{html.escape(c)}</code></td>" for c in r) + "</tr>"
            for r in rows[1:]
        )
        caption = html.escape(
            f"{self.name or self.source}: {self.runtime_kind} runtime {self.tensorrt_version}, "
            f"{self.device}, profile {self.profile}/{self.num_profiles}"
        )
        return (
            f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )

    # -- shapes -------------------------------------------------------------------------------
    def select_profile(self, profile: int) -> None:
        """Switch the execution context to optimization profile ``profile``."""
        from trtlab import cuda

        if not 0 <= profile < self.num_profiles:
            raise InputError(
                f"profile {profile} does not exist; this engine has {self.num_profiles} "
                f"optimization profile(s) (0..{self.num_profiles - 1})",
                hint="use profile=0, or rebuild with more profiles",
            )
        context = self._context()
        with cuda.device_guard(self._device_index):
            self._res.drop_graphs()
            if not context.set_optimization_profile_async(profile, self.stream.handle):
                raise EngineError(
                    f"TensorRT refused optimization profile {profile}: "
                    + "; ".join(self._log.tail(3)),
                    hint="each profile can be active in one execution context at a time",
                )
            self.stream.synchronize()
        self.profile = profile
        self._shapes.clear()

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        """Set a dynamic input's shape, validated against the active profile first.

        A shape change invalidates the captured CUDA graph (it is tied to the context state).
        """
        if self._shapes.get(name) == tuple(shape):  # validated and set by an earlier call
            return
        tensor = self.tensor(name)
        if not tensor.is_input:
            raise InputError(
                f"'{name}' is an output; only inputs have settable shapes",
                hint=f"inputs are {[t.name for t in self.inputs]}",
            )
        got = check_shape(tensor, shape, self.profile)
        if self._shapes.get(name) == got:
            return
        context = self._context()
        self._res.drop_graphs()
        if not context.set_input_shape(name, got):
            raise ShapeError(
                f"TensorRT rejected shape {list(got)} for input '{name}': "
                + "; ".join(self._log.tail(3)),
                hint="check engine.io for the allowed ranges",
            )
        self._shapes[name] = got

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """Output shapes for the input shapes set so far (all inputs must be set).

        Cached per (profile, input shapes): the same inputs always give the same output shapes,
        and asking TensorRT costs several calls per tensor on every ``infer``.
        """
        key = (self.profile, tuple(sorted(self._shapes.items())))
        cached = self._out_shapes.get(key)
        if cached is not None:
            return dict(cached)
        context = self._context()
        missing = context.infer_shapes()
        if missing:
            raise ShapeError(
                f"input shapes are not all set: TensorRT cannot infer shapes for {list(missing)}",
                hint="call set_input_shape for every dynamic input (infer() does this for you)",
            )
        shapes: dict[str, tuple[int, ...]] = {}
        for t in self._outputs:
            shape = tuple(int(d) for d in context.get_tensor_shape(t.name))
            if any(d < 0 for d in shape):
                raise EngineError(
                    f"output '{t.name}' has a data-dependent shape {list(shape)} (known only "
                    "after execution), which trtlab's Engine does not support",
                    hint="give the output a shape computable from the input shapes (e.g. pad "
                    "NonZero/NMS results to a fixed maximum)",
                )
            shapes[t.name] = shape
        self._out_shapes[key] = dict(shapes)
        return shapes

    # -- execution ----------------------------------------------------------------------------
    def _bind(self, name: str, ptr: int) -> None:
        if self._bound.get(name) == ptr:
            return
        context = self._context()
        self._res.drop_graphs()  # a graph bakes in the addresses it was captured with
        if not context.set_tensor_address(name, ptr):
            raise EngineError(
                f"TensorRT rejected the address 0x{ptr:x} for tensor '{name}': "
                + "; ".join(self._log.tail(3)),
                hint="device tensors need 256-byte aligned device pointers, HOST tensors host "
                "pointers",
            )
        self._bound[name] = ptr

    def _execute(self, stream_handle: int) -> None:
        context = self._context()
        if not context.execute_async_v3(stream_handle):
            raise EngineError(
                "TensorRT execute_async_v3 failed: " + "; ".join(self._log.tail(5)),
                hint="check the input shapes/dtypes; see engine.log_messages() for details",
            )

    def _normalize_feed(self, feed: Any) -> dict[str, Any]:
        inputs = self._inputs
        if not isinstance(feed, Mapping):
            if len(inputs) != 1:
                raise InputError(
                    f"engine has {len(inputs)} inputs {[t.name for t in inputs]}, got a single "
                    f"{type(feed).__name__}",
                    hint="pass a dict {input_name: array}",
                )
            feed = {inputs[0].name: feed}
        check_input_names([t.name for t in inputs], feed, owner="engine", where="engine.inputs")
        for t in inputs:
            if t.is_shape_tensor or t.location != "DEVICE":
                raise EngineError(
                    f"input '{t.name}' is a shape tensor in host memory, which trtlab's Engine "
                    "does not feed",
                    hint="export the model so that shapes are computed inside the graph",
                )
        return dict(feed)

    def infer(
        self,
        feed: Mapping[str, Any] | Any,
        stream: Stream | int | Any | None = None,
        *,
        outputs: OutputKind = "auto",
    ) -> dict[str, Any]:
        """Run the engine once.

        ``feed`` maps input names to numpy arrays (copied to the GPU through pinned memory),
        torch CUDA tensors, or any device array (``__cuda_array_interface__``: CuPy, Numba,
        :class:`trtlab.cuda.DeviceArray`; ``__dlpack__`` objects too), used in place with zero
        copies. A single value is accepted for single-input engines.

        ``outputs="auto"`` returns numpy arrays (synchronized) for numpy inputs, and device
        tensors for device inputs: torch CUDA tensors when the inputs are torch, else
        :class:`~trtlab.cuda.DeviceArray` (queued on the stream, not synchronized).
        ``outputs="numpy"`` always copies back; ``outputs="device"`` never does.

        ``stream``: a :class:`trtlab.cuda.Stream`, a ``torch.cuda.Stream`` or an int handle;
        default: torch's current stream for torch inputs, else the engine's own stream.
        The engine's GPU is made current for the call and the caller's device restored after.
        """
        from trtlab import cuda

        if outputs not in _OUTPUT_KINDS:
            raise InputError(
                f"outputs must be one of {list(_OUTPUT_KINDS)}, got {outputs!r}",
                hint="use outputs='numpy' for host arrays or outputs='device' for GPU tensors",
            )
        if self._bad_format is not None:
            raise unsupported_format_error(self._bad_format)
        feed = self._normalize_feed(feed)
        previous = cuda.current_device()
        switch = previous != self._device_index
        if switch:
            cuda.set_device(self._device_index)
        try:
            return self._run(feed, stream, outputs)
        finally:
            if switch:
                cuda.set_device(previous)

    __call__ = infer

    def _run(self, feed: dict[str, Any], stream: Any, outputs: OutputKind) -> dict[str, Any]:
        from trtlab.cuda.adapters import from_dlpack, is_torch_tensor

        kinds: dict[str, str] = {}
        for name, value in feed.items():
            if (
                not isinstance(value, np.ndarray)
                and hasattr(value, "__dlpack_device__")
                and not is_torch_tensor(value)
                and not hasattr(value, "__cuda_array_interface__")
            ):
                value = feed[name] = from_dlpack(value)
            if isinstance(value, np.ndarray):
                kinds[name] = "host"
            elif is_torch_tensor(value):
                kinds[name] = "torch"
            elif hasattr(value, "__cuda_array_interface__"):
                kinds[name] = "device"
            else:
                raise DTypeError(
                    f"input '{name}' must be a numpy array, a torch CUDA tensor or a device "
                    f"array (__cuda_array_interface__ / __dlpack__), got {type(value).__name__}",
                    hint="convert with np.asarray(x)",
                )
        all_host = all(k == "host" for k in kinds.values())
        if all_host and outputs != "device":
            return self._infer_numpy(feed, stream)
        torch_in = any(k == "torch" for k in kinds.values())
        out_kind = "numpy" if outputs == "numpy" else ("torch" if torch_in else "device")
        return self._infer_device(feed, kinds, stream, out_kind)

    def _check_dtype(self, t: EngineTensor, got: np.dtype[Any]) -> None:
        if got != t.dtype:
            raise DTypeError(
                f"input '{t.name}' expects dtype {t.dtype}, got {got}",
                hint=f"convert with x.astype(np.{t.dtype.name})",
            )

    def _ensure(self, t: EngineTensor, nbytes: int, *, pinned: bool, device: bool = True) -> bool:
        """Grow the device (and pinned staging) buffer of ``t``; True when reallocated.

        HOST-located tensors get pinned memory only (TensorRT reads/writes them on the host).
        """
        from trtlab import cuda

        name = t.name
        device = device and t.location == "DEVICE"
        pinned = pinned or t.location != "DEVICE"
        changed = False
        dev = self._res.device.get(name)
        if device and (dev is None or dev.nbytes < nbytes):
            if dev is not None:
                dev.close()
            self._res.device[name] = cuda.DeviceBuffer(nbytes)
            changed = True
        if pinned:
            pin = self._res.pinned.get(name)
            if pin is None or pin.nbytes < nbytes:
                if pin is not None:
                    pin.close()
                self._res.views.clear()  # they point into the old memory
                self._res.pinned[name] = cuda.PinnedHostBuffer((max(1, nbytes),), np.uint8)
                changed = True
        if changed:
            self._res.drop_graphs()
        return changed

    def _address(self, t: EngineTensor) -> int:
        """Where TensorRT reads/writes ``t``: its device buffer, or pinned memory for HOST ones."""
        if t.location != "DEVICE":
            return int(self._res.pinned[t.name].ptr)
        return int(self._res.device[t.name].ptr)

    def _staging(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        """A view of ``name``'s pinned staging memory as ``shape``/``dtype`` (made once per shape:
        building a numpy view over raw memory is a good part of a small call's cost)."""
        view = self._res.views.get((name, shape))
        if view is None:
            pin: PinnedHostBuffer = self._res.pinned[name]
            nbytes = math.prod(shape) * dtype.itemsize
            view = pin.array[:nbytes].view(dtype).reshape(shape)
            self._res.views[(name, shape)] = view
        return view

    def _enqueue_numpy(
        self, in_shapes: dict[str, tuple[int, ...]], out_shapes: dict[str, tuple[int, ...]], s: int
    ) -> None:
        """Queue H2D copies, the execution and D2H copies on stream ``s`` (capturable)."""
        from trtlab.cuda import memcpy_dtoh_async, memcpy_htod_async

        device: dict[str, DeviceBuffer] = self._res.device
        for t in self._inputs:
            memcpy_htod_async(
                device[t.name].ptr, self._staging(t.name, in_shapes[t.name], t.dtype), s
            )
        for t in self._io:
            self._bind(t.name, self._address(t))
        self._execute(s)
        for t in self._outputs:
            if t.location == "DEVICE":
                memcpy_dtoh_async(
                    self._staging(t.name, out_shapes[t.name], t.dtype), device[t.name].ptr, s
                )

    def _infer_numpy(self, feed: dict[str, Any], stream: Any) -> dict[str, Any]:
        from trtlab import cuda

        arrays: dict[str, np.ndarray] = {}
        for t in self._inputs:
            value = feed[t.name]
            self._check_dtype(t, value.dtype)
            self.set_input_shape(t.name, value.shape)
            arrays[t.name] = value
        out_shapes = self.output_shapes()
        in_shapes = {n: tuple(a.shape) for n, a in arrays.items()}
        for t in self._io:
            shape = in_shapes[t.name] if t.is_input else out_shapes[t.name]
            self._ensure(t, math.prod(shape) * t.dtype.itemsize, pinned=True)
        for t in self._inputs:
            np.copyto(self._staging(t.name, in_shapes[t.name], t.dtype), arrays[t.name])

        handle = self.stream.handle if stream is None else cuda.stream_handle(stream)
        key = tuple(sorted(in_shapes.items()))
        use_graph = self.use_cuda_graph and self.graph_disabled_reason is None and handle != 0
        # One graph per execution context: any change of shapes or addresses since the capture
        # dropped it (set_input_shape/_bind/_ensure), so a hit here replays on the same state.
        graph: CudaGraph | None = self._res.graphs.get(key) if use_graph else None
        if graph is not None:
            graph.launch(handle)
        else:
            self._enqueue_numpy(in_shapes, out_shapes, handle)  # also TensorRT's pre-capture run
            if use_graph:
                self._capture(key, in_shapes, out_shapes, cuda.Stream.wrap(handle))
        cuda.Stream.wrap(handle).synchronize()
        return {
            t.name: self._staging(t.name, out_shapes[t.name], t.dtype).copy() for t in self._outputs
        }

    def _capture(
        self,
        key: Any,
        in_shapes: dict[str, tuple[int, ...]],
        out_shapes: dict[str, tuple[int, ...]],
        stream: Stream,
    ) -> None:
        """Record the copies + execution for this shape signature into a CUDA graph.

        Called right after a normal (warm-up) run with the same shapes, which TensorRT needs
        before capture. A failure disables graphs for this engine with a warning (the plain
        path keeps working) and clears CUDA's sticky error, as trtexec does.
        """
        from trtlab.cuda import abort_capture, clear_last_error

        try:
            stream.begin_capture("thread_local")
        except CudaError as exc:
            clear_last_error()
            self.graph_disabled_reason = str(exc)
            return
        try:
            self._enqueue_numpy(in_shapes, out_shapes, stream.handle)
        except (CudaError, EngineError) as exc:
            abort_capture(stream)
            self._disable_graphs(exc)
            return
        try:
            self._res.graphs[key] = stream.end_capture()
        except CudaError as exc:
            self._disable_graphs(exc)

    def _disable_graphs(self, exc: Exception) -> None:
        """A capture failed: clear CUDA's sticky error, record why, warn, run without graphs."""
        from trtlab.cuda import clear_last_error

        clear_last_error()
        self.graph_disabled_reason = str(exc)
        warnings.warn(
            f"CUDA graph capture failed, running without graphs: {exc}",
            RuntimeWarning,
            stacklevel=5,
        )

    def _infer_device(
        self, feed: dict[str, Any], kinds: dict[str, str], stream: Any, out_kind: str
    ) -> dict[str, Any]:
        """Device inputs bound in place; outputs allocated per call (torch / DeviceArray) or
        staged to numpy. No synchronization unless host results are asked for or numpy inputs
        were staged (their pinned staging is reused by the next call)."""
        from trtlab import cuda
        from trtlab.cuda.adapters import cuda_array_info, from_torch

        torch: Any = None
        first_torch = next((feed[n] for n, k in kinds.items() if k == "torch"), None)
        if first_torch is not None or out_kind == "torch":
            from trtlab._lazy import lazy_import

            torch = lazy_import("torch", purpose="run TensorRT on torch CUDA tensors")
        if stream is not None:
            handle = cuda.stream_handle(stream)
        elif first_torch is not None:
            handle = int(torch.cuda.current_stream(first_torch.device).cuda_stream)
        else:
            handle = self.stream.handle

        host: dict[str, np.ndarray] = {}
        for t in self._inputs:
            value, kind = feed[t.name], kinds[t.name]
            if kind == "host":
                self._check_dtype(t, value.dtype)
                self.set_input_shape(t.name, value.shape)
                host[t.name] = value
                continue
            if kind == "torch":
                ptr, shape, dtype = from_torch(value)
            else:
                ptr, shape, dtype, producer = cuda_array_info(value)
                if producer is not None and producer != handle:
                    cuda.Stream.wrap(producer).synchronize()  # CAI v3: honour its stream
            self._check_dtype(t, dtype)
            self.set_input_shape(t.name, shape)
            self._bind(t.name, ptr)
        out_shapes = self.output_shapes()
        for name, value in host.items():
            t = self.tensor(name)
            self._ensure(t, value.nbytes, pinned=True)
            staging = self._staging(name, value.shape, t.dtype)
            np.copyto(staging, value)
            cuda.memcpy_htod_async(self._res.device[name].ptr, staging, handle)
            self._bind(name, self._address(t))

        results: dict[str, Any] = {}
        staged: list[EngineTensor] = []
        device = first_torch.device if first_torch is not None else None
        for t in self._outputs:
            shape = out_shapes[t.name]
            nbytes = math.prod(shape) * t.dtype.itemsize
            if t.location != "DEVICE" or out_kind == "numpy":
                self._ensure(t, nbytes, pinned=True)
                self._bind(t.name, self._address(t))
                staged.append(t)
            elif out_kind == "torch":
                from trtlab.cuda.adapters import numpy_to_torch_dtype

                if device is None:
                    device = torch.device("cuda", self._device_index)
                out = torch.empty(shape, dtype=numpy_to_torch_dtype(t.dtype), device=device)
                if stream is not None and handle != torch.cuda.current_stream(device).cuda_stream:
                    # written on another stream than torch allocated it on: tell the allocator
                    out.record_stream(torch.cuda.ExternalStream(handle, device=device))
                results[t.name] = out
                self._bind(t.name, int(out.data_ptr()))
            else:
                arr = cuda.DeviceArray.empty(shape, t.dtype, stream=handle)
                results[t.name] = arr
                self._bind(t.name, arr.ptr)
        self._execute(handle)
        if host and not staged:
            # the pinned staging of numpy inputs is reused next call: the H2D copies must be done
            cuda.Stream.wrap(handle).synchronize()
        if staged:
            for t in staged:
                if t.location == "DEVICE":
                    cuda.memcpy_dtoh_async(
                        self._staging(t.name, out_shapes[t.name], t.dtype),
                        self._res.device[t.name].ptr,
                        handle,
                    )
            cuda.Stream.wrap(handle).synchronize()
            for t in staged:
                value = self._staging(t.name, out_shapes[t.name], t.dtype).copy()
                results[t.name] = torch.from_numpy(value) if out_kind == "torch" else value
        return {t.name: results[t.name] for t in self.outputs}

    # -- clean-up -----------------------------------------------------------------------------
    def close(self) -> None:
        """Free the execution context, engine, buffers, graphs and stream now (idempotent)."""
        self._finalizer()


# the IO-table names re-exported above are listed once, in io_table.__all__
__all__ = ["RUNTIME_API_USED", "Engine", "OutputKind", *io_table.__all__]
