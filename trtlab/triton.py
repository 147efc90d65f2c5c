"""Serve trtlab models with NVIDIA Triton Inference Server: repositories, a local server, clients.

Three jobs, one home:

* :func:`make_model_repository` writes ``<repo>/<name>/config.pbtxt`` + ``<name>/1/model.plan``
  (``tensorrt_plan``) or ``model.onnx`` (``onnxruntime_onnx``) with inputs, outputs, dtypes and
  dims read from the artifact itself, and maps the engine's optimization profile onto Triton's
  ``max_batch_size``. Configs Triton would reject at load time are refused here, with the number
  to change. Every generated ``config.pbtxt`` is parsed back with Triton's own model-config
  protobuf (``tritonclient.grpc.model_config_pb2``), never checked by string matching.
* :func:`serve_local` starts a real Triton server (PyTriton bundles one) on 127.0.0.1 that serves
  a trtlab runner (ONNX Runtime on CPU, TensorRT on a GPU). PyTriton needs ``numpy<2``, so it lives
  in its own virtual environment (``make triton-venv``); the main one only needs ``tritonclient``.
* :class:`TritonClient` talks to any Triton server over HTTP or gRPC with timeouts, and
  :func:`bounded_load` sends a fixed number of requests from a few concurrent clients and reports
  latency percentiles.

Why the batch mapping matters: with ``max_batch_size > 0`` Triton *drops* the first dim from every
``dims`` and sends batches of 1..``max_batch_size``; a TensorRT engine only accepts batches inside
its profile, so Triton refuses to load a config whose ``max_batch_size`` exceeds the smallest
profile max of dim 0 ("configuration specified max-batch 8 but TensorRT engine only supports
max-batch 1"), and a profile whose min batch is above 1 fails every small request at run time
("expected the shape of dimension 0 to be between 4 and 8").
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from trtlab._closing import Closeable
from trtlab._io import atomic_write_text
from trtlab.errors import (
    BackendError,
    ConfigError,
    DependencyError,
    DTypeError,
    FileFormatError,
    InputError,
)

if TYPE_CHECKING:
    from trtlab.runners.base import Runner
    from trtlab.trt.io_table import EngineTensor

Platform = Literal["tensorrt_plan", "onnxruntime_onnx"]
Protocol = Literal["http", "grpc"]
InstanceKind = Literal["auto", "gpu", "cpu"]

#: The only address trtlab's servers listen on and its clients talk to by default.
LOOPBACK = "127.0.0.1"
#: ``max_batch_size`` chosen for an ONNX model whose dim 0 is dynamic everywhere.
DEFAULT_ONNX_MAX_BATCH = 8
#: Triton's queue delay when trtlab turns dynamic batching on (microseconds).
DEFAULT_QUEUE_DELAY_US = 100

#: numpy dtype name -> Triton config data type (``model_config.proto`` ``DataType``).
NUMPY_TO_TRITON: dict[str, str] = {
    "bool": "TYPE_BOOL",
    "uint8": "TYPE_UINT8",
    "uint16": "TYPE_UINT16",
    "uint32": "TYPE_UINT32",
    "uint64": "TYPE_UINT64",
    "int8": "TYPE_INT8",
    "int16": "TYPE_INT16",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "float16": "TYPE_FP16",
    "float32": "TYPE_FP32",
    "float64": "TYPE_FP64",
    "bfloat16": "TYPE_BF16",
}
#: Triton config data type -> the datatype string of the inference protocol (clients use it).
TRITON_TO_WIRE: dict[str, str] = {t: t.removeprefix("TYPE_") for t in NUMPY_TO_TRITON.values()}

#: Triton container release -> the TensorRT it ships (NVIDIA's Triton release notes / frameworks
#: support matrix). An engine only loads with the TensorRT that built it, and Triton's
#: ``tensorrt_plan`` backend links the TensorRT of its own release, so the server's release must
#: be the one whose TensorRT built the plan (the ``nvcr.io/nvidia/tensorrt`` container of the same
#: YY.MM carries the same TensorRT). Check the release notes before relying on a row.
TRITON_RELEASES: dict[str, str] = {
    "24.05": "10.0.1",
    "24.08": "10.3.0",
    "24.10": "10.5.0",
    "24.12": "10.7.0",
    "25.01": "10.8.0",
    "25.03": "10.9.0",
    "25.05": "10.10.0",
    "25.06": "10.11.0",
    "25.08": "10.13.2",
    "25.10": "10.13.3",
}
TRITON_IMAGE = "nvcr.io/nvidia/tritonserver:{release}-py3"


# -- what the artifact says ---------------------------------------------------------------------
@dataclass(frozen=True)
class IOTensor:
    """One model input/output as Triton sees it: full shape (``-1`` = dynamic) and Triton type."""

    name: str
    data_type: str
    shape: tuple[int, ...]
    is_shape_tensor: bool = False

    @property
    def wire_dtype(self) -> str:
        return TRITON_TO_WIRE[self.data_type]


@dataclass(frozen=True)
class ArtifactIO:
    """Inputs/outputs of an ONNX file or engine plus the batch range its profile allows."""

    kind: Literal["onnx", "engine"]
    path: Path
    inputs: tuple[IOTensor, ...]
    outputs: tuple[IOTensor, ...]
    #: Engines: max over the served profiles of the smallest profile-max of dim 0 across inputs
    #: (Triton's own rule); ``None`` for ONNX (no limit but the dims).
    engine_max_batch: int | None = None
    #: Engines: the largest profile-min of dim 0 across inputs of profile 0.
    engine_min_batch: int | None = None
    trt_version: str | None = None

    def batchable(self) -> list[str]:
        """Names of the tensors whose dim 0 is *not* dynamic (empty: batching is possible)."""
        return [t.name for t in (*self.inputs, *self.outputs) if not t.shape or t.shape[0] != -1]


def _triton_type(np_name: str, where: str) -> str:
    if np_name not in NUMPY_TO_TRITON:
        raise DTypeError(
            f"{where} has dtype {np_name}, which Triton's model config has no type for "
            f"(supported: {', '.join(sorted(NUMPY_TO_TRITON))})",
            hint="cast at the model's edges before export/build (e.g. keep FP8/INT4 inside)",
        )
    return NUMPY_TO_TRITON[np_name]


def _onnx_io(path: Path) -> ArtifactIO:
    try:
        import onnx
        from onnx import helper
    except ImportError as exc:  # pragma: no cover - onnx is a core dependency
        raise DependencyError(
            "reading an ONNX file needs the onnx package", hint="pip install onnx"
        ) from exc
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise FileFormatError(
            f"{path} is not a readable ONNX model: {exc}",
            hint="re-export it (trtlab.export_onnx) or check it with trtlab.check_onnx(path)",
        ) from exc
    initializers = {i.name for i in model.graph.initializer}

    def convert(values: Any, role: str) -> tuple[IOTensor, ...]:
        out: list[IOTensor] = []
        for v in values:
            if v.name in initializers:
                continue
            ttype = v.type.tensor_type
            np_name = np.dtype(helper.tensor_dtype_to_np_dtype(ttype.elem_type)).name
            dims = tuple(
                int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else -1
                for d in ttype.shape.dim
            )
            out.append(IOTensor(v.name, _triton_type(np_name, f"ONNX {role} '{v.name}'"), dims))
        return tuple(out)

    return ArtifactIO(
        "onnx", path, convert(model.graph.input, "input"), convert(model.graph.output, "output")
    )


def engine_io(
    io: Sequence[EngineTensor], path: Path, *, profiles: Sequence[int] = (0,)
) -> ArtifactIO:
    """An :class:`ArtifactIO` from an engine's IO table (``Engine.io``), Triton's batch rule."""
    inputs: list[IOTensor] = []
    outputs: list[IOTensor] = []
    for t in io:
        from trtlab.trt.io_table import TRT_TO_NUMPY

        np_name = TRT_TO_NUMPY.get(t.trt_dtype)
        if np_name is None:
            raise DTypeError(
                f"engine tensor '{t.name}' is {t.trt_dtype}, which has no Triton type",
                hint="give the engine FP32/FP16/INT8/INT32/INT64/BOOL inputs and outputs",
            )
        tensor = IOTensor(
            t.name,
            _triton_type(np_name, f"engine tensor '{t.name}'"),
            tuple(int(d) for d in t.shape),
            t.is_shape_tensor,
        )
        (inputs if t.is_input else outputs).append(tensor)
    max_batch: int | None = None
    min_batch: int | None = None
    batch_inputs = [t for t in io if t.is_input and not t.is_shape_tensor and t.profiles]
    if batch_inputs:
        n_profiles = len(batch_inputs[0].profiles)
        for p in profiles:
            if not 0 <= p < n_profiles:
                raise InputError(
                    f"profile {p} does not exist; the engine has {n_profiles} profile(s)",
                    hint=f"pick profiles from 0..{n_profiles - 1}",
                )
        max_batch = max(min(t.profiles[p].max[0] for t in batch_inputs) for p in profiles)
        min_batch = max(t.profiles[profiles[0]].min[0] for t in batch_inputs)
    return ArtifactIO(
        "engine", path, tuple(inputs), tuple(outputs), max_batch, min_batch, _engine_trt(path)
    )


def _engine_trt(path: Path) -> str | None:
    try:
        from trtlab.trt.provenance import read_provenance
    except ImportError:  # pragma: no cover - provenance ships with trtlab
        return None
    prov = read_provenance(path) if path.is_file() else None
    return prov.trt_version if prov and prov.trt_version else None


def read_artifact_io(
    artifact: str | os.PathLike[str], *, profiles: Sequence[int] = (0,)
) -> ArtifactIO:
    """Inputs/outputs of an ``.onnx`` file (read with onnx) or an engine (TensorRT's IO table)."""
    path = Path(artifact).expanduser()
    if not path.is_file():
        raise FileFormatError(
            f"model file not found: {path}",
            hint="export (trtlab.export_onnx) or build (trtlab.build_engine) it first",
        )
    from trtlab.runners import ENGINE_SUFFIXES, ONNX_SUFFIXES

    suffix = path.suffix.lower()
    if suffix in ONNX_SUFFIXES:
        return _onnx_io(path)
    if suffix in ENGINE_SUFFIXES:
        from trtlab.trt.runtime import Engine

        with Engine(path) as eng:  # deserializing needs TensorRT + a GPU, as Triton does
            return engine_io(eng.io, path, profiles=profiles)
    raise InputError(
        f"cannot serve {path.name}: expected a .onnx file or a TensorRT engine "
        f"({', '.join(ENGINE_SUFFIXES)})",
        hint="pass the exported .onnx or the built .engine/.plan",
    )


# -- the config ---------------------------------------------------------------------------------
def _module(name: str) -> ModuleType:
    """Import an optional, untyped dependency by name (tritonclient, protobuf, pytriton)."""
    return importlib.import_module(name)


def _model_config_pb2() -> ModuleType:
    try:
        _module("google.protobuf.text_format")
        return _module("tritonclient.grpc.model_config_pb2")
    except ImportError as exc:
        raise DependencyError(
            "validating a Triton config needs Triton's model-config protobuf from tritonclient",
            hint="pip install 'tritonclient[grpc]' (in trtlab's [dev] extra)",
        ) from exc


def parse_config(text: str) -> Any:
    """Parse ``config.pbtxt`` text with Triton's ``ModelConfig`` protobuf (ConfigError if bad)."""
    pb2 = _model_config_pb2()
    text_format = _module("google.protobuf.text_format")
    try:
        return text_format.Parse(text, pb2.ModelConfig())
    except text_format.ParseError as exc:
        raise ConfigError(
            f"config.pbtxt does not parse as Triton's ModelConfig: {exc}",
            hint="compare the field names with Triton's model_config.proto",
        ) from exc


def validate_config(config: Any) -> None:
    """The load-time checks Triton's core makes on a ``ModelConfig`` (ConfigError with the fix)."""
    pb2 = _model_config_pb2()
    name = config.name or "<unnamed>"
    if not config.name:
        raise ConfigError("the config has no 'name'", hint="set name to the model's folder name")
    if not (config.platform or config.backend):
        raise ConfigError(
            f"model '{name}' names neither 'platform' nor 'backend'",
            hint="platform: 'tensorrt_plan' or 'onnxruntime_onnx'",
        )
    mbs = int(config.max_batch_size)
    if mbs < 0:
        raise ConfigError(
            f"model '{name}': max_batch_size must be >= 0, got {mbs}",
            hint="0 disables batching; N > 0 lets Triton batch up to N",
        )
    if not config.input or not config.output:
        raise ConfigError(f"model '{name}' needs at least one input and one output")
    for role, tensors in (("input", config.input), ("output", config.output)):
        for t in tensors:
            where = f"model '{name}' {role} '{t.name}'"
            if not t.name:
                raise ConfigError(f"model '{name}': an {role} has no name")
            if t.data_type == pb2.TYPE_INVALID:
                raise ConfigError(f"{where} must specify 'data_type'")
            if len(t.dims) == 0:
                raise ConfigError(
                    f"{where} must specify 'dims' (Triton refuses empty dims)",
                    hint="a batch-only tensor gets dims: [ 1 ] with reshape: { shape: [ ] }",
                )
            if any(d < 1 and d != -1 for d in t.dims):
                raise ConfigError(
                    f"{where} dims {list(t.dims)}: each dim must be >= 1 or -1 (variable)"
                )
            if t.HasField("reshape") and len(t.reshape.shape) == 0 and mbs == 0:
                raise ConfigError(
                    f"{where} cannot have an empty reshape in a non-batching model",
                    hint="set max_batch_size > 0 or drop the reshape",
                )
    if config.HasField("dynamic_batching"):
        for size in config.dynamic_batching.preferred_batch_size:
            if size <= 0 or size > mbs:
                raise ConfigError(
                    f"model '{name}': dynamic batching preferred size {size} must be between 1 "
                    f"and max_batch_size ({mbs})",
                    hint="lower preferred_batch_size or raise max_batch_size",
                )
    for group in config.instance_group:
        if group.count < 0:  # 0 means unset: Triton normalizes it to 1
            raise ConfigError(
                f"model '{name}': instance_group count must be >= 1, got {group.count}"
            )
        if config.platform == "tensorrt_plan" and group.kind == pb2.ModelInstanceGroup.KIND_CPU:
            raise ConfigError(
                f"model '{name}': the TensorRT backend has no KIND_CPU instances",
                hint="use kind='gpu' (TensorRT engines only run on a GPU)",
            )


def _dims(values: Sequence[int]) -> str:
    return "[ " + ", ".join(str(int(d)) for d in values) + " ]"


def _tensor_block(t: IOTensor, mbs: int, label: str | None) -> str:
    dims = t.shape[1:] if mbs > 0 else t.shape
    lines = [f'    name: "{t.name}"', f"    data_type: {t.data_type}"]
    if t.is_shape_tensor:
        lines.append("    is_shape_tensor: true")
    if dims:
        lines.append(f"    dims: {_dims(dims)}")
    else:  # batch-only tensor: Triton refuses empty dims, so dims [1] reshaped to []
        lines += ["    dims: [ 1 ]", "    reshape: { shape: [ ] }"]
    if label:
        lines.append(f'    label_filename: "{label}"')
    return "  {\n" + "\n".join(lines) + "\n  }"


@dataclass(frozen=True)
class BatchingPlan:
    """What trtlab decided about batching, and why (printed by notebooks)."""

    max_batch_size: int
    dynamic_batching: bool
    preferred_batch_sizes: tuple[int, ...]
    reason: str


def plan_batching(
    io: ArtifactIO,
    max_batch_size: int | None,
    dynamic_batching: bool | None,
    preferred_batch_sizes: Sequence[int] = (),
) -> BatchingPlan:
    """Map the artifact's dim 0 / profile onto ``max_batch_size``; refuse what Triton refuses."""
    if max_batch_size is not None and (
        isinstance(max_batch_size, bool)
        or not isinstance(max_batch_size, int)
        or max_batch_size < 0
    ):
        raise InputError(
            f"max_batch_size must be an int >= 0 or None, got {max_batch_size!r}",
            hint="None derives it from the model; 0 disables Triton's batching",
        )
    fixed = io.batchable()
    kind = "engine" if io.kind == "engine" else "ONNX model"
    if max_batch_size is None:
        if fixed:
            mbs, reason = 0, f"dim 0 of {', '.join(fixed)} is fixed, so Triton cannot batch"
        elif io.engine_max_batch is not None:
            mbs = io.engine_max_batch
            reason = f"the engine's profile allows batch up to {mbs}"
        else:
            mbs = DEFAULT_ONNX_MAX_BATCH
            reason = f"dim 0 is dynamic everywhere; trtlab's default max batch {mbs}"
    else:
        mbs = max_batch_size
        reason = f"max_batch_size={mbs} as asked"
        if mbs > 0 and fixed:
            raise ConfigError(
                f"max_batch_size={mbs} makes Triton treat dim 0 as the batch, but dim 0 of "
                f"{', '.join(fixed)} in this {kind} is fixed ({io.path.name})",
                hint="pass max_batch_size=0 (Triton sends the full shape), or re-export/rebuild "
                "with a dynamic batch axis",
            )
        if mbs > 0 and io.engine_max_batch is not None and mbs > io.engine_max_batch:
            raise ConfigError(
                f"max_batch_size={mbs} but the TensorRT engine only supports max-batch "
                f"{io.engine_max_batch} (its optimization profile's max of dim 0); Triton "
                "refuses to load this config",
                hint=f"set max_batch_size <= {io.engine_max_batch}, or rebuild the engine with "
                f"a profile max batch >= {mbs}",
            )
    if mbs > 0 and io.engine_min_batch is not None and io.engine_min_batch > 1:
        raise ConfigError(
            f"the engine's profile min batch is {io.engine_min_batch}, but Triton sends batches "
            f"of 1..{mbs}: every smaller request would fail with 'expected the shape of "
            f"dimension 0 to be between {io.engine_min_batch} and {io.engine_max_batch}'",
            hint="rebuild the engine with profile min batch 1 (min=(1, ...)), or serve with "
            "max_batch_size=0",
        )
    prefs = tuple(int(p) for p in preferred_batch_sizes)
    if dynamic_batching is None:
        dyn = mbs > 1
    else:
        dyn = bool(dynamic_batching)
        if dyn and mbs == 0:
            raise ConfigError(
                "dynamic_batching=True needs max_batch_size > 0 (Triton only batches along dim 0 "
                "of a batching model)",
                hint="set max_batch_size to the largest batch the model takes, or drop "
                "dynamic_batching",
            )
    bad = [p for p in prefs if p < 1 or p > mbs]
    if bad:
        raise ConfigError(
            f"preferred batch sizes {bad} are outside 1..max_batch_size ({mbs})",
            hint="each preferred_batch_size must be between 1 and max_batch_size",
        )
    if prefs and not dyn:
        raise ConfigError(
            "preferred_batch_sizes given without dynamic batching",
            hint="pass dynamic_batching=True (and max_batch_size > 0)",
        )
    return BatchingPlan(mbs, dyn, prefs, reason)


def render_config(
    name: str,
    io: ArtifactIO,
    plan: BatchingPlan,
    *,
    instances: int = 1,
    kind: InstanceKind = "auto",
    queue_delay_us: int = DEFAULT_QUEUE_DELAY_US,
    label_file: str | None = None,
) -> str:
    """The ``config.pbtxt`` text (validated by parsing with Triton's protobuf)."""
    platform: Platform = "tensorrt_plan" if io.kind == "engine" else "onnxruntime_onnx"
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
        raise InputError(
            f"instances must be an int >= 1, got {instances!r}",
            hint="instances=2 runs two copies of the model (Triton's instance_group count)",
        )
    if kind not in ("auto", "gpu", "cpu"):
        raise InputError(f"kind must be 'auto', 'gpu' or 'cpu', got {kind!r}")
    if kind == "cpu" and platform == "tensorrt_plan":
        raise ConfigError(
            "kind='cpu' with a TensorRT engine: Triton's TensorRT backend only runs on GPUs",
            hint="use kind='gpu' (or 'auto'), or serve the .onnx with ONNX Runtime on CPU",
        )
    group_kind = {"auto": "KIND_GPU" if platform == "tensorrt_plan" else "KIND_AUTO"}.get(
        kind, f"KIND_{kind.upper()}"
    )
    parts = [
        f"# generated by trtlab.triton.make_model_repository: {plan.reason}",
        f'name: "{name}"',
        f'platform: "{platform}"',
        f"max_batch_size: {plan.max_batch_size}",
        "input [\n"
        + ",\n".join(_tensor_block(t, plan.max_batch_size, None) for t in io.inputs)
        + "\n]",
        "output [\n"
        + ",\n".join(
            _tensor_block(t, plan.max_batch_size, label_file if i == 0 else None)
            for i, t in enumerate(io.outputs)
        )
        + "\n]",
        f"instance_group [ {{ count: {instances} kind: {group_kind} }} ]",
    ]
    if plan.dynamic_batching:
        inner = f"  max_queue_delay_microseconds: {int(queue_delay_us)}"
        if plan.preferred_batch_sizes:
            inner = f"  preferred_batch_size: {_dims(plan.preferred_batch_sizes)}\n" + inner
        parts.append("dynamic_batching {\n" + inner + "\n}")
    text = "\n".join(parts) + "\n"
    validate_config(parse_config(text))
    return text


# -- the repository -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRepository:
    """A written model repository entry and the commands that serve and measure it."""

    root: Path
    name: str
    platform: Platform
    config_path: Path
    model_path: Path
    config_text: str
    batching: BatchingPlan
    io: ArtifactIO
    label_path: Path | None = None

    @property
    def max_batch_size(self) -> int:
        return self.batching.max_batch_size

    def config(self) -> Any:
        """The config as Triton's ``ModelConfig`` message (parsed from the file on disk)."""
        return parse_config(self.config_path.read_text())

    def server_command(self, *, release: str | None = None, gpus: str = "all") -> list[str]:
        """``docker run ... tritonserver`` for this repository, ports published on 127.0.0.1."""
        image = tritonserver_image(release or self.io.trt_version)
        return [
            "docker", "run", "--rm", f"--gpus={gpus}", "--shm-size=1g",
            "-p", f"{LOOPBACK}:8000:8000", "-p", f"{LOOPBACK}:8001:8001",
            "-p", f"{LOOPBACK}:8002:8002",
            "-v", f"{self.root.resolve()}:/models:ro",
            image, "tritonserver", "--model-repository=/models", "--strict-model-config=true",
        ]  # fmt: skip

    def perf_analyzer_steps(self, **kw: Any) -> list[PerfStep]:
        """Baseline -> dynamic batching -> more instances (see :func:`perf_analyzer_steps`)."""
        return perf_analyzer_steps(self, **kw)


def tritonserver_image(trt_version: str | Sequence[int] | None = None) -> str:
    """The Triton container whose TensorRT can load an engine built by ``trt_version``.

    A release name ("25.10") is taken as is. ``None`` gives the newest release trtlab knows.
    """
    if trt_version is None:
        return TRITON_IMAGE.format(release=max(TRITON_RELEASES))
    if isinstance(trt_version, str) and trt_version in TRITON_RELEASES:
        return TRITON_IMAGE.format(release=trt_version)
    parts = (
        [int(p) for p in str(trt_version).replace("-", ".").split(".") if p.isdigit()]
        if isinstance(trt_version, str)
        else [int(v) for v in trt_version]
    )
    want = tuple(parts[:3])
    matches = [
        rel
        for rel, v in TRITON_RELEASES.items()
        if tuple(int(p) for p in v.split("."))[: len(want)] == want
        or tuple(int(p) for p in v.split("."))[:2] == want[:2]
    ]
    if not matches:
        known = ", ".join(f"{r} (TensorRT {v})" for r, v in TRITON_RELEASES.items())
        raise ConfigError(
            f"no known Triton release ships TensorRT {'.'.join(map(str, want))}; "
            f"trtlab knows {known}",
            hint="rebuild the engine in the TensorRT container of a listed release (same YY.MM as "
            "the tritonserver image), or look the version up in NVIDIA's frameworks support matrix",
        )
    exact = [r for r in matches if tuple(int(p) for p in TRITON_RELEASES[r].split(".")) == want]
    return TRITON_IMAGE.format(release=max(exact or matches))


def _copy_onnx(src: Path, dest: Path) -> None:
    """Copy an ONNX file and the external-data files it references (same relative names)."""
    import onnx

    from trtlab.onnx_meta import external_data_locations

    proto = onnx.load(str(src), load_external_data=False)
    _atomic_copy(src, dest)
    for rel in external_data_locations(proto):
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise FileFormatError(
                f"{src.name} references external data outside its folder: {rel}",
                hint="re-save the model with external data beside it (onnx.save(..., location=))",
            )
        _atomic_copy(src.parent / rel, dest.parent / rel)


def _atomic_copy(src: Path, dest: Path) -> None:
    from trtlab._io import atomic_path

    if not src.is_file():
        raise FileFormatError(f"file not found: {src}", hint="re-export the model")
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)


def make_model_repository(
    name: str,
    artifact: str | os.PathLike[str],
    repo_dir: str | os.PathLike[str],
    *,
    max_batch_size: int | None = None,
    dynamic_batching: bool | None = None,
    preferred_batch_sizes: Sequence[int] = (),
    queue_delay_us: int = DEFAULT_QUEUE_DELAY_US,
    instances: int = 1,
    kind: InstanceKind = "auto",
    labels: Sequence[str] | None = None,
    version: int = 1,
    profiles: Sequence[int] = (0,),
) -> ModelRepository:
    """Write ``repo_dir/name/{config.pbtxt, <version>/model.plan|onnx, labels.txt}``.

    Dims and dtypes come from the artifact; ``max_batch_size=None`` derives it (engine: its
    profile's max batch; ONNX: 8 when dim 0 is dynamic everywhere, else 0). ``dynamic_batching``
    ``None`` turns it on whenever ``max_batch_size > 1``. Raises ``ConfigError`` naming the number
    to change for anything Triton would refuse to load.
    """
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise InputError(
            f"model name must be a plain folder name, got {name!r}",
            hint="e.g. name='resnet50' (Triton's model name is the folder name)",
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"version must be an int >= 1, got {version!r}", hint="use version=1")
    io = read_artifact_io(artifact, profiles=profiles)
    plan = plan_batching(io, max_batch_size, dynamic_batching, preferred_batch_sizes)
    label_file = "labels.txt" if labels else None
    text = render_config(
        name, io, plan, instances=instances, kind=kind, queue_delay_us=queue_delay_us,
        label_file=label_file,
    )  # fmt: skip
    if io.kind == "engine" and profiles != (0,):
        groups = f"instance_group [ {{ count: {instances} kind: KIND_GPU profile: "
        groups += "[ " + ", ".join(f'"{p}"' for p in profiles) + " ] } ]"
        text = (
            "\n".join(
                groups if line.startswith("instance_group") else line for line in text.splitlines()
            )
            + "\n"
        )
        validate_config(parse_config(text))
    root = Path(repo_dir).expanduser()
    model_dir = root / name
    platform: Platform = "tensorrt_plan" if io.kind == "engine" else "onnxruntime_onnx"
    model_path = model_dir / str(version) / ("model.plan" if io.kind == "engine" else "model.onnx")
    if io.kind == "onnx":
        _copy_onnx(io.path, model_path)
    else:
        _atomic_copy(io.path, model_path)
    label_path = None
    if labels:
        label_path = atomic_write_text(model_dir / "labels.txt", "\n".join(labels) + "\n")
    config_path = atomic_write_text(model_dir / "config.pbtxt", text)
    validate_config(parse_config(config_path.read_text()))
    return ModelRepository(
        root, name, platform, config_path, model_path, text, plan, io, label_path
    )


# -- perf_analyzer ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PerfStep:
    """One step of Triton's tuning sequence: what to change in the config, then what to run."""

    title: str
    config_change: str
    command: list[str]


def perf_analyzer_steps(
    repo: ModelRepository,
    *,
    url: str = f"{LOOPBACK}:8001",
    protocol: Protocol = "grpc",
    concurrency: str = "1:8:1",
    shapes: Mapping[str, Sequence[int]] | None = None,
    instances: int = 2,
) -> list[PerfStep]:
    """Triton's conceptual-guide sequence: baseline, + dynamic batching, + more instances.

    Each step measures throughput/latency over the same concurrency range so the effect of the
    one config change stands out. ``shapes`` fills dynamic non-batch dims (``-1``).
    """
    base = ["perf_analyzer", "-m", repo.name, "-u", url, "-i", protocol]
    base += [
        "--concurrency-range",
        concurrency,
        "--percentile=95",
        "--measurement-mode=count_windows",
    ]
    mbs = repo.max_batch_size
    for t in repo.io.inputs:
        dims = t.shape[1:] if mbs > 0 else t.shape
        if any(d < 0 for d in dims):
            if not shapes or t.name not in shapes:
                raise InputError(
                    f"input '{t.name}' has dynamic dims {list(dims)}: perf_analyzer needs a shape",
                    hint=f"pass shapes={{'{t.name}': [...]}} (without the batch dim when "
                    "max_batch_size > 0)",
                )
            base += ["--shape", f"{t.name}:" + ",".join(str(int(d)) for d in shapes[t.name])]
    batch = ["-b", "1"] if mbs > 0 else []
    return [
        PerfStep(
            "1. baseline: one instance, no dynamic batching",
            "remove the dynamic_batching block (or make_model_repository(..., "
            "dynamic_batching=False))",
            [*base, *batch],
        ),
        PerfStep(
            "2. dynamic batching: the server merges concurrent requests",
            f"dynamic_batching {{ max_queue_delay_microseconds: {DEFAULT_QUEUE_DELAY_US} }}"
            + ("" if mbs > 1 else "  (needs max_batch_size > 1: rebuild with a wider profile)"),
            [*base, *batch],
        ),
        PerfStep(
            f"3. more instances: {instances} copies of the model run concurrently",
            f"instance_group [ {{ count: {instances} kind: "
            f"{'KIND_GPU' if repo.platform == 'tensorrt_plan' else 'KIND_AUTO'} }} ]",
            [*base, *batch],
        ),
    ]


# -- clients ------------------------------------------------------------------------------------
def _client_module(protocol: Protocol) -> ModuleType:
    if protocol not in ("http", "grpc"):
        raise InputError(f"protocol must be 'http' or 'grpc', got {protocol!r}")
    try:
        mod = _module(f"tritonclient.{protocol}")
    except ImportError as exc:
        raise DependencyError(
            f"a Triton {protocol} client needs tritonclient",
            hint="pip install 'tritonclient[http,grpc]' (the triton venv has it: make triton-venv)",
        ) from exc
    return mod


class TritonClient(Closeable):
    """A small client over tritonclient HTTP or gRPC with timeouts on every call.

    ``infer`` returns ``{output: array}`` like a trtlab runner; a Triton error (wrong shape, wrong
    dtype, unknown model) becomes ``BackendError`` carrying Triton's own message.
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        protocol: Protocol = "http",
        timeout_s: float = 10.0,
        inputs: Sequence[IOTensor] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        self.url, self.model, self.protocol, self.timeout_s = url, model, protocol, timeout_s
        self._mod = _client_module(protocol)
        if protocol == "http":
            self._client: Any = self._mod.InferenceServerClient(
                url, connection_timeout=timeout_s, network_timeout=timeout_s
            )
        else:
            self._client = self._mod.InferenceServerClient(url)
        self._outputs = list(outputs) if outputs is not None else None
        self._dtypes: dict[str, str] = {t.name: t.wire_dtype for t in inputs or ()}

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        server_error = _module("tritonclient.utils").InferenceServerException

        try:
            return fn()
        except server_error as exc:
            raise BackendError(
                f"Triton at {self.url} ({self.protocol}) refused {what} for model "
                f"'{self.model}': {exc.message()}",
                hint="compare the request with client.metadata() (names, shapes, dtypes)",
            ) from exc

    def ready(self) -> bool:
        kw = {} if self.protocol == "http" else {"client_timeout": self.timeout_s}
        try:
            return bool(self._client.is_model_ready(self.model, **kw))
        except Exception:
            return False

    def metadata(self) -> Any:
        kw = {} if self.protocol == "http" else {"client_timeout": self.timeout_s, "as_json": True}
        return self._call("metadata", lambda: self._client.get_model_metadata(self.model, **kw))

    def infer(
        self, feed: Mapping[str, np.ndarray], *, datatype: Mapping[str, str] | None = None
    ) -> dict[str, np.ndarray]:
        """One request; ``datatype`` overrides the wire dtype (tests send wrong ones on purpose)."""
        np_to_triton_dtype = _module("tritonclient.utils").np_to_triton_dtype

        items = []
        for name, value in feed.items():
            arr = np.ascontiguousarray(value)
            dt = (datatype or {}).get(name) or np_to_triton_dtype(arr.dtype)
            item = self._mod.InferInput(name, list(arr.shape), dt)
            item.set_data_from_numpy(arr)
            items.append(item)
        outs = [self._mod.InferRequestedOutput(n) for n in self._outputs] if self._outputs else None
        kw: dict[str, Any] = {"outputs": outs}
        if self.protocol == "grpc":
            kw["client_timeout"] = self.timeout_s
        result = self._call("the request", lambda: self._client.infer(self.model, items, **kw))
        response = result.get_response()
        names = (
            [o["name"] for o in response["outputs"]]
            if isinstance(response, dict)
            else [o.name for o in response.outputs]
        )
        return {n: result.as_numpy(n) for n in names}

    def close(self) -> None:
        self._client.close()


# -- bounded load -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadReport:
    """Latency percentiles of a fixed number of requests from a few concurrent clients."""

    clients: int
    requests: int
    errors: int
    wall_s: float
    latencies_ms: tuple[float, ...] = field(repr=False)

    def percentile(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies_ms), q)) if self.latencies_ms else 0.0

    @property
    def throughput(self) -> float:
        return (self.requests - self.errors) / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.requests} requests from {self.clients} clients in {self.wall_s:.2f} s "
            f"({self.throughput:.1f} req/s, {self.errors} errors): p50 {self.percentile(50):.2f} ms"
            f", p90 {self.percentile(90):.2f} ms, p99 {self.percentile(99):.2f} ms, "
            f"mean {statistics.fmean(self.latencies_ms) if self.latencies_ms else 0:.2f} ms"
        )


def bounded_load(
    make_client: Callable[[], TritonClient],
    feed: Mapping[str, np.ndarray],
    *,
    clients: int = 4,
    requests_per_client: int = 25,
    deadline_s: float = 60.0,
) -> LoadReport:
    """``clients`` threads each send ``requests_per_client`` requests (bounded count and time)."""
    if clients < 1 or requests_per_client < 1:
        raise InputError("clients and requests_per_client must be >= 1")
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        with make_client() as client:
            for _ in range(requests_per_client):
                if time.monotonic() > stop_at:
                    with lock:
                        errors[0] += 1
                    continue
                t0 = time.perf_counter()
                try:
                    client.infer(feed)
                except BackendError:
                    with lock:
                        errors[0] += 1
                    continue
                with lock:
                    lat.append((time.perf_counter() - t0) * 1e3)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for fut in [pool.submit(worker) for _ in range(clients)]:
            fut.result()
    return LoadReport(
        clients, clients * requests_per_client, errors[0], time.perf_counter() - start, tuple(lat)
    )


# -- a local server -----------------------------------------------------------------------------
def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now (bound on loopback, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pytriton() -> ModuleType:
    try:
        return _module("pytriton.triton")
    except ImportError as exc:
        raise DependencyError(
            "serve_local needs PyTriton (nvidia-pytriton), which bundles a Triton server; it "
            "requires numpy<2, so trtlab keeps it in its own virtual environment",
            hint="make triton-venv, then run with .venv-triton/bin/python",
        ) from exc


def python_libdir() -> str:
    """Python's LIBDIR: PyTriton's Triton loads libpython from there (LD_LIBRARY_PATH)."""
    import sysconfig

    return str(sysconfig.get_config_var("LIBDIR") or Path(sys.executable).parent.parent / "lib")


def _as_runner(source: Any, backend: str) -> Runner:
    from trtlab.runners import runner
    from trtlab.runners.base import Runner

    if isinstance(source, Runner):
        return source
    return runner(source, backend=backend)


class LocalServer(Closeable):
    """A running Triton server on 127.0.0.1 serving one trtlab runner (from :func:`serve_local`).

    ``http_url``/``grpc_url`` are ``127.0.0.1:PORT``; ``client(protocol)`` makes a client;
    ``stop()`` (or leaving ``with``) shuts the server down and waits for its processes to exit.
    """

    def __init__(
        self,
        model: Runner,
        *,
        name: str,
        max_batch_size: int,
        http_port: int,
        grpc_port: int,
        exit_timeout_s: int,
        timeout_s: float,
    ) -> None:
        self.runner, self.name, self.max_batch_size = model, name, max_batch_size
        self.http_port, self.grpc_port, self.timeout_s = http_port, grpc_port, timeout_s
        self.exit_timeout_s = exit_timeout_s
        self._triton: Any = None
        specs = model.inputs
        self.inputs = tuple(
            IOTensor(s.name, _triton_type(s.dtype.name, f"input '{s.name}'"), _full(s.shape))
            for s in specs
        )
        self.outputs = tuple(
            IOTensor(s.name, _triton_type(s.dtype.name, f"output '{s.name}'"), _full(s.shape))
            for s in model.outputs
        )

    @property
    def http_url(self) -> str:
        return f"{LOOPBACK}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"{LOOPBACK}:{self.grpc_port}"

    def describe(self) -> str:
        return (
            f"Triton (PyTriton) model '{self.name}' on http://{self.http_url} and "
            f"grpc://{self.grpc_url}, {self.runner.describe()}"
        )

    def client(self, protocol: Protocol = "http") -> TritonClient:
        url = self.http_url if protocol == "http" else self.grpc_url
        return TritonClient(
            url, self.name, protocol=protocol, timeout_s=self.timeout_s, inputs=self.inputs
        )

    def _infer_fn(self) -> Callable[..., dict[str, np.ndarray]]:
        names = [t.name for t in self.inputs]
        run = self.runner

        def infer(**inputs: np.ndarray) -> dict[str, np.ndarray]:
            return run({n: inputs[n] for n in names})

        return infer

    def start(self) -> LocalServer:
        pt = _pytriton()
        mc = _module("pytriton.model_config")
        DynamicBatcher, ModelConfig, Tensor = mc.DynamicBatcher, mc.ModelConfig, mc.Tensor

        libdir = python_libdir()
        ld = os.environ.get("LD_LIBRARY_PATH", "")
        if libdir not in ld.split(":"):
            os.environ["LD_LIBRARY_PATH"] = f"{libdir}:{ld}" if ld else libdir
        cut = 1 if self.max_batch_size > 0 else 0
        config = pt.TritonConfig(
            http_address=LOOPBACK,
            http_port=self.http_port,
            grpc_address=LOOPBACK,
            grpc_port=self.grpc_port,
            allow_metrics=False,
            metrics_address=LOOPBACK,
            allow_sagemaker=False,
            allow_vertex_ai=False,
            exit_timeout_secs=self.exit_timeout_s,
        )
        triton = pt.Triton(config=config)
        self._triton = triton
        try:
            triton.bind(
                model_name=self.name,
                infer_func=_batch_wrap(self._infer_fn(), pt),
                inputs=[
                    Tensor(name=t.name, dtype=np.dtype(_np_of(t)), shape=t.shape[cut:])
                    for t in self.inputs
                ],
                outputs=[
                    Tensor(name=t.name, dtype=np.dtype(_np_of(t)), shape=t.shape[cut:])
                    for t in self.outputs
                ],
                config=ModelConfig(
                    max_batch_size=self.max_batch_size,
                    batcher=DynamicBatcher(max_queue_delay_microseconds=DEFAULT_QUEUE_DELAY_US),
                    batching=self.max_batch_size > 0,
                ),
                strict=True,
            )
            triton.run()
        except Exception as exc:
            self.stop()
            raise BackendError(
                f"PyTriton could not start Triton on {LOOPBACK}: {exc}",
                hint=f"LD_LIBRARY_PATH must contain {libdir}; ports {self.http_port}/"
                f"{self.grpc_port} must be free",
            ) from exc
        return self

    def stop(self) -> None:
        """Stop the server and its processes (idempotent)."""
        triton, self._triton = self._triton, None
        if triton is not None:
            triton.stop()

    def close(self) -> None:
        """Same as :meth:`stop`, so ``with LocalServer(...)`` stops it on the way out."""
        self.stop()

    def __enter__(self) -> LocalServer:
        return self if self._triton is not None else self.start()


def _full(shape: Sequence[Any]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d >= 0 else -1 for d in shape)


def _np_of(t: IOTensor) -> str:
    return {v: k for k, v in NUMPY_TO_TRITON.items()}[t.data_type]


def _batch_wrap(fn: Callable[..., dict[str, np.ndarray]], pt: ModuleType) -> Callable[..., Any]:
    wrapped: Callable[..., Any] = _module("pytriton.decorators").batch(fn)
    return wrapped


def serve_local(
    runner_or_path: Any,
    *,
    name: str = "model",
    backend: str = "auto",
    max_batch_size: int | None = None,
    http_port: int | None = None,
    grpc_port: int | None = None,
    exit_timeout_s: int = 5,
    timeout_s: float = 10.0,
) -> LocalServer:
    """Serve a runner (or an ``.onnx``/engine path) with a real Triton on 127.0.0.1 via PyTriton.

    Use as a context manager: ``with serve_local(path) as server: server.client("grpc").infer(x)``.
    ``max_batch_size=None``: 8 when dim 0 is dynamic, else 0. PyTriton's exit timeout is kept short
    (``exit_timeout_s``) so stopping takes seconds, not a minute.
    """
    model = _as_runner(runner_or_path, backend)
    specs = model.inputs + model.outputs
    dyn0 = all(s.shape and not (isinstance(s.shape[0], int) and s.shape[0] >= 0) for s in specs)
    mbs = (DEFAULT_ONNX_MAX_BATCH if dyn0 else 0) if max_batch_size is None else max_batch_size
    if mbs > 0 and not dyn0:
        raise ConfigError(
            f"max_batch_size={mbs} needs a dynamic dim 0 on every input and output of {model.name}",
            hint="pass max_batch_size=0 or re-export with a dynamic batch axis",
        )
    server = LocalServer(
        model,
        name=name,
        max_batch_size=mbs,
        http_port=http_port or free_port(),
        grpc_port=grpc_port or free_port(),
        exit_timeout_s=exit_timeout_s,
        timeout_s=timeout_s,
    )
    return server


__all__ = [
    "DEFAULT_ONNX_MAX_BATCH",
    "LOOPBACK",
    "NUMPY_TO_TRITON",
    "TRITON_RELEASES",
    "ArtifactIO",
    "BatchingPlan",
    "IOTensor",
    "LoadReport",
    "LocalServer",
    "ModelRepository",
    "PerfStep",
    "TritonClient",
    "bounded_load",
    "engine_io",
    "free_port",
    "make_model_repository",
    "parse_config",
    "perf_analyzer_steps",
    "plan_batching",
    "python_libdir",
    "read_artifact_io",
    "render_config",
    "serve_local",
    "tritonserver_image",
    "validate_config",
]
