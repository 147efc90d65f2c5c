"""Run a serialized TensorRT engine from Python: IO table, shape checks, execution, clean-up.

:class:`Engine` loads a plan with the full ``tensorrt`` package or the lean runtime
(``tensorrt_lean``), reads its named IO tensors (TensorRT 10+ API only: no binding indices),
checks input shapes against the optimization profile *before* TensorRT sees them (so the error
names the allowed range), and runs ``execute_async_v3`` on a CUDA stream:

* numpy in, numpy out: inputs are staged through pinned host memory, copied to device buffers
  that are reused (and grown) across calls, and outputs copied back;
* torch CUDA tensors in, torch CUDA tensors out: no copies at all, work is queued on torch's
  current stream;
* ``use_cuda_graph=True``: for each input-shape signature, the copies and the execution are
  captured once into a CUDA graph and then replayed with one launch.

Every device resource is freed deterministically by ``close()`` / ``with Engine(...)`` and, as a
safety net, by a ``weakref.finalize`` when the object is garbage collected.
"""

from __future__ import annotations

import contextlib
import html
import os
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

from trtlab._closing import Closeable
from trtlab.errors import (
    CudaError,
    DependencyError,
    DTypeError,
    EngineError,
    FileFormatError,
    InputError,
    ShapeError,
)
from trtlab.tensors import check_input_names

if TYPE_CHECKING:
    import tensorrt as trt

    from trtlab.cuda import CudaGraph, DeviceBuffer, PinnedHostBuffer, Stream
    from trtlab.tensors import TensorSpec
    from trtlab.trt._compat import LogCapture, Prefer

RuntimeKind = Literal["auto", "full", "lean"]

#: Every TensorRT attribute the runtime path touches, by class. ``tests/unit/test_lean_bindings.py``
#: checks (a) that this list equals what an AST scan of this file finds on the objects named
#: ``trt_mod`` (the module), ``trt_runtime``, ``engine`` and ``context`` (also as ``x._engine``
#: etc.), and (b) that each exists in the real lean bindings. Keep the naming convention.
RUNTIME_API_USED: dict[str, tuple[str, ...]] = {
    "module": ("Runtime", "__version__"),
    "Runtime": ("deserialize_cuda_engine", "engine_host_code_allowed"),
    "ICudaEngine": (
        "create_execution_context",
        "device_memory_size_v2",
        "get_tensor_dtype",
        "get_tensor_location",
        "get_tensor_mode",
        "get_tensor_name",
        "get_tensor_profile_shape",
        "get_tensor_shape",
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

# -- data types ---------------------------------------------------------------------------------
#: TensorRT ``DataType`` member name -> numpy dtype name (``None``: no numpy type for engine IO).
#: ``bfloat16``/``float8_*`` come from the ml_dtypes package (installed with onnx). FP4 and INT4
#: are packed two values per byte, which no numpy dtype represents, so engines with such IO
#: tensors are rejected with a hint (keep sub-byte types inside the network, cast at its edges).
TRT_TO_NUMPY: dict[str, str | None] = {
    "FLOAT": "float32",
    "HALF": "float16",
    "BF16": "bfloat16",
    "INT8": "int8",
    "INT32": "int32",
    "INT64": "int64",
    "BOOL": "bool",
    "UINT8": "uint8",
    "FP8": "float8_e4m3fn",
    "E8M0": "float8_e8m0fnu",
    "INT4": None,
    "FP4": None,
}

#: Bits per element of each TensorRT data type (sizes of IO buffers).
TRT_DTYPE_BITS: dict[str, int] = {
    "FLOAT": 32,
    "HALF": 16,
    "BF16": 16,
    "INT8": 8,
    "INT32": 32,
    "INT64": 64,
    "BOOL": 8,
    "UINT8": 8,
    "FP8": 8,
    "E8M0": 8,
    "INT4": 4,
    "FP4": 4,
}

_ML_DTYPES = frozenset({"bfloat16", "float8_e4m3fn", "float8_e8m0fnu"})


def trt_dtype_name(dtype: Any) -> str:
    """``DataType.HALF`` (or ``"HALF"``) -> ``"HALF"``."""
    name = getattr(dtype, "name", dtype)
    return str(name).split(".")[-1].upper()


def numpy_dtype(trt_dtype: Any) -> np.dtype[Any]:
    """numpy dtype of a TensorRT ``DataType`` (member or name); ``DTypeError`` if it has none."""
    name = trt_dtype_name(trt_dtype)
    if name not in TRT_TO_NUMPY:
        raise DTypeError(
            f"unknown TensorRT data type {name}; expected one of {sorted(TRT_TO_NUMPY)}",
            hint="this TensorRT is newer than trtlab: add it to trtlab.trt.runtime.TRT_TO_NUMPY",
        )
    np_name = TRT_TO_NUMPY[name]
    if np_name is None:
        raise DTypeError(
            f"TensorRT {name} tensors are packed ({TRT_DTYPE_BITS[name]} bits per value) and have "
            "no numpy dtype, so trtlab cannot feed or read them as engine inputs/outputs",
            hint="keep FP4/INT4 inside the network (weights, Q/DQ) and give the engine float or "
            "int8 inputs/outputs (cast at the network edges before building)",
        )
    if np_name in _ML_DTYPES:
        try:
            import ml_dtypes
        except ImportError as exc:
            raise DependencyError(
                f"TensorRT {name} tensors need the ml_dtypes package for a numpy dtype ({np_name})",
                hint="pip install ml_dtypes (it comes with onnx)",
            ) from exc
        dt: np.dtype[Any] = np.dtype(getattr(ml_dtypes, np_name))
        return dt
    return np.dtype(np_name)


# -- IO table -----------------------------------------------------------------------------------
class ProfileShape(NamedTuple):
    """Allowed shapes of one input in one optimization profile."""

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]

    def contains(self, shape: Sequence[int]) -> bool:
        return len(shape) == len(self.min) and all(
            lo <= d <= hi for lo, d, hi in zip(self.min, shape, self.max, strict=False)
        )


@dataclass(frozen=True)
class EngineTensor:
    """One named IO tensor of an engine, as TensorRT reports it (``-1`` marks dynamic dims)."""

    name: str
    mode: Literal["input", "output"]
    trt_dtype: str
    shape: tuple[int, ...]
    profiles: tuple[ProfileShape, ...] = ()
    location: str = "DEVICE"
    is_shape_tensor: bool = False

    @property
    def is_input(self) -> bool:
        return self.mode == "input"

    @property
    def dtype(self) -> np.dtype[Any]:
        """numpy dtype (raises ``DTypeError`` for packed FP4/INT4)."""
        return numpy_dtype(self.trt_dtype)

    @property
    def is_dynamic(self) -> bool:
        return any(d < 0 for d in self.shape)

    def spec(self) -> TensorSpec:
        """The runner-level :class:`~trtlab.runners.base.TensorSpec` (dynamic dims -> ``None``)."""
        from trtlab.tensors import TensorSpec

        return TensorSpec(self.name, tuple(None if d < 0 else d for d in self.shape), self.dtype)

    def dtype_str(self) -> str:
        np_name = TRT_TO_NUMPY.get(self.trt_dtype)
        return np_name if np_name else self.trt_dtype

    def shape_str(self) -> str:
        return "[" + ", ".join("?" if d < 0 else str(d) for d in self.shape) + "]"


def check_shape(tensor: EngineTensor, shape: Sequence[int], profile: int = 0) -> tuple[int, ...]:
    """Validate an input shape against ``tensor``'s rank, fixed dims and profile range.

    Pure Python, so it runs before TensorRT sees the shape and gives an error that names the
    allowed range (TensorRT only logs "set_input_shape failed").
    """
    got = tuple(int(d) for d in shape)
    if len(got) != len(tensor.shape):
        raise ShapeError(
            f"input '{tensor.name}' expects rank {len(tensor.shape)} {tensor.shape_str()}, "
            f"got shape {list(got)} (rank {len(got)})",
            hint="add or remove the batch axis (x[None]) to match",
        )
    for axis, (want, dim) in enumerate(zip(tensor.shape, got, strict=True)):
        if want >= 0 and want != dim:
            raise ShapeError(
                f"input '{tensor.name}' expects {tensor.shape_str()}, got {list(got)}: "
                f"axis {axis} is fixed at {want} in this engine, got {dim}",
                hint="resize the input, or rebuild the engine with that axis dynamic",
            )
    if not tensor.profiles:
        return got
    if not 0 <= profile < len(tensor.profiles):
        raise InputError(
            f"profile {profile} does not exist; this engine has {len(tensor.profiles)} "
            f"optimization profile(s) (0..{len(tensor.profiles) - 1})",
            hint="pick profile=0 or rebuild with more profiles",
        )
    prof = tensor.profiles[profile]
    bad = [
        f"axis {axis}: {dim} not in [{lo}, {hi}]"
        for axis, (lo, dim, hi) in enumerate(zip(prof.min, got, prof.max, strict=True))
        if not lo <= dim <= hi
    ]
    if bad:
        raise ShapeError(
            f"input '{tensor.name}' shape {list(got)} is outside optimization profile {profile}: "
            f"{'; '.join(bad)} (allowed min {list(prof.min)}, opt {list(prof.opt)}, "
            f"max {list(prof.max)})",
            hint="use a shape inside the range, split the batch, or rebuild the engine with a "
            "wider profile (build_engine(..., profiles=[{name: (min, opt, max)}]))",
        )
    return got


def read_io_table(engine: trt.ICudaEngine) -> list[EngineTensor]:
    """The IO tensors of a deserialized engine, in TensorRT's order (named-tensor API)."""
    n_profiles = int(engine.num_optimization_profiles)
    table: list[EngineTensor] = []
    for index in range(int(engine.num_io_tensors)):
        name = engine.get_tensor_name(index)
        is_input = trt_dtype_name(engine.get_tensor_mode(name)) == "INPUT"
        shape = tuple(int(d) for d in engine.get_tensor_shape(name))
        profiles: list[ProfileShape] = []
        if is_input:
            for p in range(n_profiles):
                lo, opt, hi = engine.get_tensor_profile_shape(name, p)
                profiles.append(
                    ProfileShape(
                        tuple(int(d) for d in lo),
                        tuple(int(d) for d in opt),
                        tuple(int(d) for d in hi),
                    )
                )
        table.append(
            EngineTensor(
                name=name,
                mode="input" if is_input else "output",
                trt_dtype=trt_dtype_name(engine.get_tensor_dtype(name)),
                shape=shape,
                profiles=tuple(profiles),
                location=trt_dtype_name(engine.get_tensor_location(name)),
                is_shape_tensor=bool(engine.is_shape_inference_io(name)),
            )
        )
    return table


def format_io_table(io: Sequence[EngineTensor], profile: int = 0) -> list[list[str]]:
    """Rows ``[name, mode, dtype, shape, min, opt, max]`` for text and HTML tables."""
    rows = [["name", "mode", "dtype", "shape", "min", "opt", "max"]]
    for t in io:
        prof = t.profiles[profile] if t.profiles and profile < len(t.profiles) else None
        rng = [str(list(s)) for s in prof] if prof else ["", "", ""]
        rows.append([t.name, t.mode, t.dtype_str(), t.shape_str(), *rng])
    return rows


def _text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
    """
    from trtlab import cuda

    try:
        count = cuda.device_count(strict=True)
    except CudaError as exc:
        raise EngineError(
            f"TensorRT engines need a CUDA GPU; none is usable here ({exc.args[0]})",
            hint="run on a machine with an NVIDIA GPU, or use the ONNX Runtime backend "
            "(trtlab.runners.runner(path_to_onnx, backend='onnxruntime'))",
        ) from exc
    if not 0 <= device < count:
        raise InputError(
            f"device {device} does not exist; this machine has {count} GPU(s) (0..{count - 1})",
            hint="pass device=0",
        )
    if device != cuda.current_device():
        cuda.set_device(device)
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
    graphs: dict[Any, Any] = field(default_factory=dict)

    def drop_graphs(self) -> None:
        for graph in self.graphs.values():
            graph.close()
        self.graphs.clear()

    def release(self) -> None:
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
        from trtlab.trt._compat import module_version, trt_logger, version_str

        data, self.source = _read_source(source)
        trt_mod = _import_runtime_module(runtime)
        self.runtime_kind: str = "full" if hasattr(trt_mod, "Builder") else "lean"
        version = module_version(trt_mod)
        self.tensorrt_version: str = version_str(version) if version else str(trt_mod.__version__)
        self.device = _require_gpu(device)
        self._device_index = device
        self.use_cuda_graph = use_cuda_graph
        self.graph_disabled_reason: str | None = None

        logger = trt_logger(trt_mod, min_severity=log_severity)
        self._log: LogCapture = logger.capture
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
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
        engine = trt_runtime.deserialize_cuda_engine(data)
        if engine is None:
            message = self._deserialize_error()
            self.close()
            raise message
        self._res.engine = engine
        self._io = read_io_table(engine)
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
        if profile != 0:
            self.select_profile(profile)

    # -- errors -------------------------------------------------------------------------------
    def _deserialize_error(self) -> EngineError:
        log = "\n    ".join(self._log.tail(8)) or "(TensorRT logged nothing)"
        lean = (
            " The lean runtime only loads engines built with version compatibility "
            "(version_compatible=True / BuilderFlag.VERSION_COMPATIBLE)."
            if self.runtime_kind == "lean"
            else ""
        )
        return EngineError(
            f"TensorRT {self.tensorrt_version} ({self.runtime_kind} runtime) could not "
            f"deserialize the engine {self.source}: deserialize_cuda_engine returned None. An "
            "engine only loads with the TensorRT version that built it and on the GPU model it "
            f"was built for; this is {_gpu_summary(self._device_index)}.{lean}\n"
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
        return [t for t in self._io if t.is_input]

    @property
    def outputs(self) -> list[EngineTensor]:
        return [t for t in self._io if not t.is_input]

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
        if not 0 <= profile < self.num_profiles:
            raise InputError(
                f"profile {profile} does not exist; this engine has {self.num_profiles} "
                f"optimization profile(s) (0..{self.num_profiles - 1})",
                hint="use profile=0, or rebuild with more profiles",
            )
        context = self._context()
        if not context.set_optimization_profile_async(profile, self.stream.handle):
            raise EngineError(
                f"TensorRT refused optimization profile {profile}: " + "; ".join(self._log.tail(3)),
                hint="each profile can be active in one execution context at a time",
            )
        self.stream.synchronize()
        self.profile = profile
        self._shapes.clear()
        self._res.drop_graphs()

    def set_input_shape(self, name: str, shape: Sequence[int]) -> None:
        """Set a dynamic input's shape, validated against the active profile first."""
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
        if not context.set_input_shape(name, got):
            raise ShapeError(
                f"TensorRT rejected shape {list(got)} for input '{name}': "
                + "; ".join(self._log.tail(3)),
                hint="check engine.io for the allowed ranges",
            )
        self._shapes[name] = got

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """Output shapes for the input shapes set so far (all inputs must be set)."""
        context = self._context()
        missing = context.infer_shapes()
        if missing:
            raise ShapeError(
                f"input shapes are not all set: TensorRT cannot infer shapes for {list(missing)}",
                hint="call set_input_shape for every dynamic input (infer() does this for you)",
            )
        shapes: dict[str, tuple[int, ...]] = {}
        for t in self.outputs:
            shape = tuple(int(d) for d in context.get_tensor_shape(t.name))
            if any(d < 0 for d in shape):
                raise EngineError(
                    f"output '{t.name}' has a data-dependent shape {list(shape)} (known only "
                    "after execution), which trtlab's Engine does not support",
                    hint="give the output a shape computable from the input shapes (e.g. pad "
                    "NonZero/NMS results to a fixed maximum)",
                )
            shapes[t.name] = shape
        return shapes

    # -- execution ----------------------------------------------------------------------------
    def _bind(self, name: str, ptr: int) -> None:
        if self._bound.get(name) == ptr:
            return
        context = self._context()
        if not context.set_tensor_address(name, ptr):
            raise EngineError(
                f"TensorRT rejected the device address 0x{ptr:x} for tensor '{name}'",
                hint="addresses must be 256-byte aligned device pointers",
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
        inputs = self.inputs
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
        stream: Stream | int | None = None,
    ) -> dict[str, Any]:
        """Run the engine once.

        ``feed`` maps input names to numpy arrays (result: numpy arrays, synchronized) or to
        torch CUDA tensors (result: torch CUDA tensors, queued on ``stream`` or torch's current
        stream, no host copies and no synchronization). A single array is accepted for
        single-input engines.
        """
        from trtlab.cuda.adapters import is_torch_tensor

        feed = self._normalize_feed(feed)
        torch_inputs = [is_torch_tensor(v) for v in feed.values()]
        if any(torch_inputs):
            if not all(torch_inputs):
                raise InputError(
                    "mixed inputs: some are torch tensors, some are not; expected all numpy "
                    "arrays or all torch CUDA tensors",
                    hint="convert them all the same way",
                )
            return self._infer_torch(feed, stream)
        return self._infer_numpy(feed, stream)

    __call__ = infer

    def _check_dtype(self, t: EngineTensor, got: np.dtype[Any]) -> None:
        if got != t.dtype:
            raise DTypeError(
                f"input '{t.name}' expects dtype {t.dtype}, got {got}",
                hint=f"convert with x.astype(np.{t.dtype.name})",
            )

    def _ensure(self, name: str, nbytes: int, *, pinned: bool) -> bool:
        """Grow the device (and pinned staging) buffer of ``name``; True when reallocated."""
        from trtlab import cuda

        changed = False
        dev = self._res.device.get(name)
        if dev is None or dev.nbytes < nbytes:
            if dev is not None:
                dev.close()
            self._res.device[name] = cuda.DeviceBuffer(nbytes)
            changed = True
        if pinned:
            pin = self._res.pinned.get(name)
            if pin is None or pin.nbytes < nbytes:
                if pin is not None:
                    pin.close()
                self._res.pinned[name] = cuda.PinnedHostBuffer((max(1, nbytes),), np.uint8)
                changed = True
        if changed:
            self._res.drop_graphs()
        return changed

    def _staging(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        pin: PinnedHostBuffer = self._res.pinned[name]
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        return pin.array[:nbytes].view(dtype).reshape(shape)

    def _enqueue_numpy(
        self, in_shapes: dict[str, tuple[int, ...]], out_shapes: dict[str, tuple[int, ...]], s: int
    ) -> None:
        """Queue H2D copies, the execution and D2H copies on stream ``s`` (capturable)."""
        from trtlab.cuda import memcpy_dtoh_async, memcpy_htod_async

        device: dict[str, DeviceBuffer] = self._res.device
        for t in self.inputs:
            memcpy_htod_async(
                device[t.name].ptr, self._staging(t.name, in_shapes[t.name], t.dtype), s
            )
        for t in self._io:
            self._bind(t.name, device[t.name].ptr)
        self._execute(s)
        for t in self.outputs:
            memcpy_dtoh_async(
                self._staging(t.name, out_shapes[t.name], t.dtype), device[t.name].ptr, s
            )

    def _infer_numpy(self, feed: dict[str, Any], stream: Stream | int | None) -> dict[str, Any]:
        from trtlab import cuda

        arrays: dict[str, np.ndarray] = {}
        for t in self.inputs:
            value = feed[t.name]
            if not isinstance(value, np.ndarray):
                raise DTypeError(
                    f"input '{t.name}' must be a numpy array or a torch CUDA tensor, got "
                    f"{type(value).__name__}",
                    hint="convert with np.asarray(x)",
                )
            self._check_dtype(t, value.dtype)
            self.set_input_shape(t.name, value.shape)
            arrays[t.name] = value
        out_shapes = self.output_shapes()
        in_shapes = {n: tuple(a.shape) for n, a in arrays.items()}
        for t in self._io:
            shape = in_shapes[t.name] if t.is_input else out_shapes[t.name]
            self._ensure(
                t.name, int(np.prod(shape, dtype=np.int64)) * t.dtype.itemsize, pinned=True
            )
        for t in self.inputs:
            np.copyto(self._staging(t.name, in_shapes[t.name], t.dtype), arrays[t.name])

        s_obj = self.stream if stream is None else stream
        handle = int(s_obj)
        key = tuple(sorted(in_shapes.items()))
        graph: CudaGraph | None = self._res.graphs.get(key) if self.use_cuda_graph else None
        if graph is not None:
            graph.launch(handle)
        else:
            self._enqueue_numpy(in_shapes, out_shapes, handle)
            if self.use_cuda_graph and self.graph_disabled_reason is None and handle != 0:
                self._capture(key, in_shapes, out_shapes, cuda.Stream.wrap(handle))
        cuda.Stream.wrap(handle).synchronize()
        return {
            t.name: self._staging(t.name, out_shapes[t.name], t.dtype).copy() for t in self.outputs
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
        before capture. A failure disables graphs for this engine with a warning: the plain
        path keeps working.
        """
        from trtlab.cuda import abort_capture

        try:
            stream.begin_capture("thread_local")
        except CudaError as exc:
            self.graph_disabled_reason = str(exc)
            return
        try:
            self._enqueue_numpy(in_shapes, out_shapes, stream.handle)
        except (CudaError, EngineError) as exc:
            abort_capture(stream)
            self.graph_disabled_reason = str(exc)
            warnings.warn(
                f"CUDA graph capture failed, running without graphs: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        try:
            self._res.graphs[key] = stream.end_capture()
        except CudaError as exc:
            self.graph_disabled_reason = str(exc)
            warnings.warn(
                f"CUDA graph capture failed, running without graphs: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )

    def _infer_torch(self, feed: dict[str, Any], stream: Stream | int | None) -> dict[str, Any]:
        from trtlab._lazy import lazy_import
        from trtlab.cuda.adapters import from_torch, numpy_to_torch_dtype

        torch = lazy_import("torch", purpose="run TensorRT on torch CUDA tensors")
        first = None
        for t in self.inputs:
            tensor = feed[t.name]
            ptr, shape, dtype = from_torch(tensor)
            self._check_dtype(t, dtype)
            self.set_input_shape(t.name, shape)
            self._bind(t.name, ptr)
            first = tensor if first is None else first
        out_shapes = self.output_shapes()
        device = first.device if first is not None else torch.device("cuda", self._device_index)
        outputs: dict[str, Any] = {}
        for t in self.outputs:
            out = torch.empty(
                out_shapes[t.name], dtype=numpy_to_torch_dtype(t.dtype), device=device
            )
            outputs[t.name] = out
            self._bind(t.name, int(out.data_ptr()))
        if stream is None:
            handle = int(torch.cuda.current_stream(device).cuda_stream)
        else:
            handle = int(stream)
        self._execute(handle)
        return outputs

    # -- clean-up -----------------------------------------------------------------------------
    def close(self) -> None:
        """Free the execution context, engine, buffers, graphs and stream now (idempotent)."""
        self._finalizer()


def load_engine(source: EngineSource | Any, **kwargs: Any) -> Engine:
    """Plain-function twin of :class:`Engine` (``EngineFromBytes``/``load_engine`` naming)."""
    return Engine(source, **kwargs)


__all__ = [
    "RUNTIME_API_USED",
    "TRT_DTYPE_BITS",
    "TRT_TO_NUMPY",
    "Engine",
    "EngineTensor",
    "ProfileShape",
    "check_shape",
    "format_io_table",
    "load_engine",
    "numpy_dtype",
    "read_io_table",
    "trt_dtype_name",
]
