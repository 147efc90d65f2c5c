"""ONNX -> TensorRT engine: ``build_engine`` / ``EngineFromOnnx``, checked before the slow part.

Written to the TensorRT 10+ API only (named tensors, ``create_network(flags)``, memory pools,
``build_serialized_network``, optimization profiles, ``IProgressMonitor``, timing caches) and to
TensorRT 11's strongly typed model: ``precision=`` is planned per installed version by
:func:`trtlab.trt.precision.plan_precision` (10.x: builder flags; 11.x: FP16/BF16 ONNX graph +
``STRONGLY_TYPED``), so the same call works on both.

What happens before TensorRT is touched (all pure, CPU-testable): the ONNX inputs are read,
``profiles`` are validated against them (:func:`validate_profiles`), ``workspace`` is parsed, and
the engine cache is consulted. Only then is the builder created.

Profiles: ``{input_name: (min_shape, opt_shape, max_shape)}`` (or a single shape for min=opt=max,
or a list of such dicts for several profiles). A dynamic input without a profile gets batch 1 when
its only dynamic dim is axis 0 (a fixed-batch engine; the build result says so); any other
dynamic dim without a profile is an error that names the input and axis, because no size is safe
to guess for image height/width.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from trtlab._io import atomic_write_bytes
from trtlab.config import cache_dir
from trtlab.errors import BuildError, ConfigError, FileFormatError, InputError, ShapeError
from trtlab.tensors import TensorSpec
from trtlab.trt._compat import LogCapture, require_full_tensorrt, trt_logger
from trtlab.trt.cache import EngineCache, engine_cache_key
from trtlab.trt.precision import BuildPlan, convert_onnx_precision, normalize_precision
from trtlab.trt.precision import plan_precision as _plan_precision
from trtlab.trt.progress import ProgressArg, make_progress_monitor, make_tracker

if TYPE_CHECKING:
    import tensorrt

Shape = tuple[int, ...]
ShapeTriple = tuple[Shape, Shape, Shape]
#: One profile after validation: ``{input_name: (min, opt, max)}``.
ResolvedProfile = dict[str, ShapeTriple]
ProfileValue = Union[Sequence[int], Sequence[Sequence[int]]]
ProfilesArg = Union[Mapping[str, ProfileValue], Sequence[Mapping[str, ProfileValue]], None]
CacheArg = Union[bool, EngineCache, str, os.PathLike[str], None]
TimingCacheArg = Union[bool, str, os.PathLike[str], None]

# -- sizes ---------------------------------------------------------------------------------------
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(value: int | str) -> int:
    """Bytes from ``4096``, ``"4GiB"``, ``"512M"``, ``"1.5G"``; K/M/G are binary (1024-based).

    A bare number in a string is bytes (``"1048576"``); an int is bytes.
    """
    if isinstance(value, bool):
        raise ConfigError(f"workspace must be a size, got {value!r}", hint="e.g. workspace='4GiB'")
    if isinstance(value, int):
        if value <= 0:
            raise ConfigError(f"workspace must be positive, got {value}", hint="e.g. '4GiB'")
        return value
    match = _SIZE_RE.match(str(value))
    if not match:
        raise ConfigError(
            f"cannot read size {value!r}; expected bytes or a number with K/M/G/T (binary units)",
            hint="write e.g. '4GiB', '512MiB', '4096M' or an int number of bytes",
        )
    number, unit = float(match.group(1)), match.group(2).lower()
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"size {value!r} is not positive", hint="e.g. '4GiB'")
    return size


# -- ONNX inputs and profiles ----------------------------------------------------------------------
def onnx_input_specs(onnx_path: str | os.PathLike[str]) -> list[TensorSpec]:
    """The ONNX model's real inputs (initializers excluded) as :class:`TensorSpec` list."""
    import numpy as np
    import onnx
    from onnx import helper

    path = Path(onnx_path)
    if not path.is_file():
        raise FileFormatError(
            f"ONNX file not found: {path}", hint="export the model first (trtlab.export_onnx)"
        )
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise FileFormatError(
            f"{path} is not a readable ONNX model: {exc}", hint="re-export the model"
        ) from exc
    initializers = {t.name for t in model.graph.initializer}
    specs: list[TensorSpec] = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        ttype = value.type.tensor_type
        dims: list[int | str | None] = []
        for d in ttype.shape.dim:
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            elif d.HasField("dim_param") and d.dim_param:
                dims.append(str(d.dim_param))
            else:
                dims.append(None)
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(ttype.elem_type))
        except Exception:
            dtype = np.dtype("float32")
        specs.append(TensorSpec(value.name, tuple(dims), dtype))
    return specs


def _as_shape(value: Any, *, name: str, which: str) -> Shape:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ShapeError(
            f"profile for input '{name}': {which} shape must be a sequence of ints, got {value!r}",
            hint="write shapes as tuples, e.g. {'input': ((1, 3, 224, 224), (8, 3, 224, 224), "
            "(16, 3, 224, 224))}",
        )
    try:
        shape = tuple(operator.index(v) for v in value)  # ints only: 1.5 or "3" are errors
    except (TypeError, ValueError):
        raise ShapeError(
            f"profile for input '{name}': {which} shape {value!r} has a non-integer entry",
            hint="use plain ints for every dimension",
        ) from None
    return shape


def profile_triple(name: str, value: Any) -> ShapeTriple:
    """One input's profile value as ``(min, opt, max)``: accepts a triple, a dict or one shape."""
    if isinstance(value, Mapping):
        missing = [k for k in ("min", "opt", "max") if k not in value]
        if missing:
            raise ShapeError(
                f"profile for input '{name}' is missing {missing}",
                hint="give {'min': ..., 'opt': ..., 'max': ...} or a (min, opt, max) tuple",
            )
        return (
            _as_shape(value["min"], name=name, which="min"),
            _as_shape(value["opt"], name=name, which="opt"),
            _as_shape(value["max"], name=name, which="max"),
        )
    if (
        isinstance(value, Sequence)
        and not isinstance(value, (str, bytes))
        and value
        and all(isinstance(v, Sequence) and not isinstance(v, (str, bytes)) for v in value)
    ):
        if len(value) != 3:
            raise ShapeError(
                f"profile for input '{name}' has {len(value)} shapes; expected (min, opt, max)",
                hint="give three shapes, or one shape for a fixed size",
            )
        return (
            _as_shape(value[0], name=name, which="min"),
            _as_shape(value[1], name=name, which="opt"),
            _as_shape(value[2], name=name, which="max"),
        )
    shape = _as_shape(value, name=name, which="fixed")
    return (shape, shape, shape)


def _check_triple(spec: TensorSpec, triple: ShapeTriple) -> None:
    rank = len(spec.shape)
    for which, shape in zip(("min", "opt", "max"), triple, strict=True):
        if len(shape) != rank:
            raise ShapeError(
                f"profile for input '{spec.name}': {which} shape {list(shape)} has rank "
                f"{len(shape)}, but the ONNX input is {spec.shape_str()} (rank {rank})",
                hint="give one size per dimension of the input",
            )
    for axis, want in enumerate(spec.shape):
        lo, opt, hi = (s[axis] for s in triple)
        if min(lo, opt, hi) < 1:
            raise ShapeError(
                f"profile for input '{spec.name}' axis {axis}: sizes must be >= 1, got "
                f"min={lo} opt={opt} max={hi}",
                hint="use positive sizes",
            )
        if isinstance(want, int) and want >= 0:
            bad = [(w, v) for w, v in (("min", lo), ("opt", opt), ("max", hi)) if v != want]
            if bad:
                got = ", ".join(f"{w}={v}" for w, v in bad)
                raise ShapeError(
                    f"profile for input '{spec.name}' axis {axis}: the ONNX model fixes this "
                    f"dim to {want} ({spec.shape_str()}), but the profile has {got}",
                    hint=f"use {want} for axis {axis}, or re-export with that axis dynamic",
                )
        elif not lo <= opt <= hi:
            dim = f" ('{want}')" if isinstance(want, str) else ""
            raise ShapeError(
                f"profile for input '{spec.name}' axis {axis}{dim}: need min <= opt <= max, got "
                f"min={lo} opt={opt} max={hi}",
                hint="order the three shapes as (min, opt, max)",
            )


def _default_triple(spec: TensorSpec) -> ShapeTriple:
    """Batch-1 profile when axis 0 is the only dynamic dim, else a ShapeError naming the dims."""
    dynamic = spec.dynamic_axes
    if dynamic and dynamic != (0,):
        names = ", ".join(
            f"axis {a}" + (f" ('{spec.shape[a]}')" if isinstance(spec.shape[a], str) else "")
            for a in dynamic
        )

        def example(batch: int, size: int) -> str:
            dims = [
                d if isinstance(d, int) and d >= 0 else (batch if a == 0 else size)
                for a, d in enumerate(spec.shape)
            ]
            return "(" + ", ".join(str(d) for d in dims) + ")"

        raise ShapeError(
            f"input '{spec.name}' {spec.shape_str()} has dynamic {names} and no profile; "
            "TensorRT needs min/opt/max sizes for them",
            hint=f"pass profiles={{'{spec.name}': (min, opt, max)}}, e.g. "
            f"{{'{spec.name}': ({example(1, 224)}, {example(1, 512)}, {example(4, 1024)})}}",
        )
    shape = tuple(1 if a == 0 else int(d) for a, d in enumerate(spec.shape))  # type: ignore[arg-type]
    return (shape, shape, shape)


def validate_profiles(
    onnx_inputs: Sequence[TensorSpec], profiles: ProfilesArg
) -> list[ResolvedProfile]:
    """Check ``profiles`` against the ONNX inputs and return one resolved dict per profile.

    Raises :class:`InputError` for unknown input names and :class:`ShapeError` for rank
    mismatches, sizes that contradict fixed ONNX dims, ``min <= opt <= max`` violations and
    dynamic non-batch dims without a profile (see the module docstring for the default).
    Inputs with only fixed dims need no profile.
    """
    if profiles is None:
        raw: list[Mapping[str, Any]] = [{}]
    elif isinstance(profiles, Mapping):
        raw = [profiles]
    elif isinstance(profiles, Sequence) and not isinstance(profiles, (str, bytes)):
        raw = list(profiles) or [{}]
        for i, p in enumerate(raw):
            if not isinstance(p, Mapping):
                raise InputError(
                    f"profiles[{i}] must be a dict {{input_name: (min, opt, max)}}, "
                    f"got {type(p).__name__}",
                    hint="pass one dict, or a list of dicts for several profiles",
                )
    else:
        raise InputError(
            "profiles must be a dict {input_name: (min, opt, max)}, "
            f"got {type(profiles).__name__}",
            hint="e.g. profiles={'input': ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))}",
        )
    by_name = {s.name: s for s in onnx_inputs}
    resolved: list[ResolvedProfile] = []
    for index, profile in enumerate(raw):
        where = f"profiles[{index}]" if len(raw) > 1 else "profiles"
        unknown = sorted(set(profile) - set(by_name))
        if unknown:
            raise InputError(
                f"{where} names input(s) {unknown} that the ONNX model does not have; "
                f"its inputs are {list(by_name)}",
                hint="use the input names of the ONNX model (trtlab.export uses 'input')",
            )
        out: ResolvedProfile = {}
        for spec in onnx_inputs:
            if spec.name in profile:
                triple = profile_triple(spec.name, profile[spec.name])
                _check_triple(spec, triple)
                out[spec.name] = triple
            elif spec.dynamic_axes:
                out[spec.name] = _default_triple(spec)
        resolved.append(out)
    return resolved


def shape_str(shape: Sequence[int]) -> str:
    """``(1, 3, 224, 224)`` -> ``"1x3x224x224"`` (trtexec's shape syntax)."""
    return "x".join(str(int(d)) for d in shape)


# -- parser errors -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParserIssue:
    """One ONNX parser error: where (node index/name, op) and what."""

    index: int
    node: int
    node_name: str
    op: str
    desc: str
    code: str = ""

    def __str__(self) -> str:
        where = f"node {self.node}" if self.node >= 0 else "model"
        if self.node_name:
            where += f" '{self.node_name}'"
        if self.op:
            where += f" ({self.op})"
        code = f" [{self.code}]" if self.code else ""
        return f"{where}: {self.desc}{code}"


def _call(obj: Any, name: str, default: Any) -> Any:
    fn = getattr(obj, name, None)
    if fn is None:
        return default
    try:
        return fn() if callable(fn) else fn
    except Exception:
        return default


def parser_issue(index: int, error: Any) -> ParserIssue:
    """Read a TensorRT ``ParserError`` (methods ``node()``, ``node_name()``, ...) defensively."""
    code = _call(error, "code", "")
    return ParserIssue(
        index=index,
        node=int(_call(error, "node", -1)),
        node_name=str(_call(error, "node_name", "")),
        op=str(_call(error, "node_operator", "")),
        desc=str(_call(error, "desc", str(error))),
        code=str(getattr(code, "name", code) or ""),
    )


def parser_error(
    onnx_path: Path, issues: Sequence[ParserIssue], log_tail: Sequence[str]
) -> BuildError:
    """A BuildError listing every parser issue (node index/name, op, description)."""
    lines = [f"TensorRT's ONNX parser rejected {onnx_path} ({len(issues)} error(s)):"]
    lines += [f"  - {issue}" for issue in issues]
    if log_tail:
        lines.append("  last log lines:")
        lines += [f"    {line}" for line in log_tail]
    return BuildError(
        "\n".join(lines),
        hint="check the op's opset/support in TensorRT's ONNX operator list; simplify or "
        "re-export the model (a newer opset, constant folding) and build again",
    )


# -- GPU identity --------------------------------------------------------------------------------
def gpu_identity(device: int = 0) -> tuple[str, tuple[int, int]]:
    """``(name, (major, minor))`` of the CUDA device, for the engine cache key.

    Tries cuda-python, then torch, then ``nvidia-smi``; ``("unknown", (0, 0))`` when none works.
    """
    try:
        from cuda.bindings import runtime as cudart

        err, props = cudart.cudaGetDeviceProperties(device)
        if int(err) == 0:
            name = props.name
            name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
            return name.strip("\x00 "), (int(props.major), int(props.minor))
    except Exception:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability(device)
            return str(torch.cuda.get_device_name(device)), (int(major), int(minor))
    except Exception:
        pass
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run(
                [smi, "--query-gpu=name,compute_cap", "--format=csv,noheader", f"--id={device}"],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout.strip()
            name, cap = (p.strip() for p in out.splitlines()[0].rsplit(",", 1))
            major, minor = (int(x) for x in cap.split("."))
            return name, (major, minor)
        except Exception:
            pass
    return "unknown", (0, 0)


# -- results -------------------------------------------------------------------------------------
@dataclass
class BuildResult:
    """What a build produced and how: engine bytes, timing, cache hit, log, precision, IO table."""

    engine: bytes
    path: Path | None
    build_time_s: float
    cache_hit: bool
    precision: str
    plan: BuildPlan
    trt_version: str
    io: list[dict[str, Any]]
    profiles: list[ResolvedProfile]
    onnx_path: Path
    built_onnx_path: Path
    log: list[str] = field(default_factory=list)
    cache_key: str | None = None
    timing_cache_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def size_mb(self) -> float:
        return len(self.engine) / 1e6

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the engine atomically to ``path`` (and remember it in ``self.path``)."""
        self.path = atomic_write_bytes(path, self.engine)
        return self.path

    def summary(self) -> str:
        """A few lines for notebooks: how, how long, from cache or not, IO shapes."""
        how = "from cache" if self.cache_hit else f"built in {self.build_time_s:.1f} s"
        lines = [
            f"TensorRT {self.trt_version} engine, {self.size_mb:.1f} MB, {how}",
            self.plan.describe(),
        ]
        for t in self.io:
            prof = t.get("profile")
            extra = ""
            if prof:
                extra = "  min/opt/max " + " / ".join(shape_str(s) for s in prof)
            lines.append(f"  {t['mode']:<6} {t['name']}: {t['dtype']} {t['shape']}{extra}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<BuildResult {self.precision} TensorRT {self.trt_version} "
            f"{self.size_mb:.1f} MB cache_hit={self.cache_hit} {self.build_time_s:.1f}s>"
        )


# -- helpers around TensorRT ---------------------------------------------------------------------
def _enum_member(enum: Any, name: str, what: str, version: str) -> Any:
    """``getattr(trt.BuilderFlag, "FP16")`` with a clear error when this version lacks it."""
    member = getattr(enum, name, None)
    if member is None:
        raise BuildError(
            f"TensorRT {version} has no {what}.{name}",
            hint="this option needs another TensorRT version; see trtlab.trt.precision",
        )
    return member


def _timing_cache_file(timing_cache: TimingCacheArg, version: str, gpu: str) -> Path | None:
    if timing_cache is None or timing_cache is False:
        return None
    if timing_cache is True:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", gpu)
        return cache_dir() / "timing" / f"timing-{version}-{safe}.cache"
    return Path(timing_cache)


def _cache_of(cache: CacheArg) -> EngineCache | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return EngineCache()
    if isinstance(cache, EngineCache):
        return cache
    return EngineCache(cache)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def converted_onnx_path(onnx_path: Path, transform: str) -> Path:
    """Where the FP16/BF16 copy of ``onnx_path`` is kept (content-addressed, in the cache dir)."""
    return (
        cache_dir() / "onnx" / f"{onnx_path.stem}-{_file_sha256(onnx_path)[:16]}-{transform}.onnx"
    )


def prepare_onnx(onnx_path: Path, plan: BuildPlan) -> Path:
    """The ONNX file to parse for ``plan``: the original, or its (cached) FP16/BF16 conversion."""
    if not plan.onnx_transform:
        return onnx_path
    target = converted_onnx_path(onnx_path, plan.onnx_transform)
    if not target.is_file():
        convert_onnx_precision(onnx_path, target, plan.onnx_transform)
    return target


def build_options(
    plan: BuildPlan,
    profiles: list[ResolvedProfile],
    workspace: int | None,
    optimization_level: int | None,
    detailed: bool,
) -> dict[str, Any]:
    """The options that change the engine (everything in the cache key besides ONNX/TRT/GPU)."""
    return {
        "precision": plan.precision,
        "strongly_typed": plan.strongly_typed,
        "builder_flags": list(plan.builder_flags),
        "cleared_flags": list(plan.cleared_flags),
        "network_flags": list(plan.network_flags),
        "onnx_transform": plan.onnx_transform,
        "profiles": [{k: [list(s) for s in v] for k, v in p.items()} for p in profiles],
        "workspace": workspace,
        "optimization_level": optimization_level,
        "profiling_verbosity": "DETAILED" if detailed else "LAYER_NAMES_ONLY",
    }


def _io_table(
    network: tensorrt.INetworkDefinition, profile: ResolvedProfile
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for mode, count, get in (
        ("input", network.num_inputs, network.get_input),
        ("output", network.num_outputs, network.get_output),
    ):
        for i in range(count):
            tensor = get(i)
            dtype = tensor.dtype
            rows.append(
                {
                    "name": tensor.name,
                    "mode": mode,
                    "shape": [int(d) for d in tensor.shape],
                    "dtype": str(getattr(dtype, "name", dtype)),
                    "profile": [list(s) for s in profile[tensor.name]]
                    if tensor.name in profile
                    else None,
                }
            )
    return rows


# -- the build -----------------------------------------------------------------------------------
def build_engine(
    onnx: str | os.PathLike[str],
    engine_path: str | os.PathLike[str] | None = None,
    *,
    precision: str = "fp32",
    workspace: int | str | None = None,
    profiles: ProfilesArg = None,
    timing_cache: TimingCacheArg = None,
    strongly_typed: bool | None = None,
    optimization_level: int | None = None,
    progress: ProgressArg = True,
    cache: CacheArg = True,
    detailed: bool = True,
    log_level: str = "info",
) -> BuildResult:
    """Build a TensorRT engine from an ONNX file; see the module docstring for the rules.

    ``workspace``: bytes or ``"4GiB"``. ``timing_cache``: a file to load/update, ``True`` for one
    per TensorRT version and GPU in the cache dir. ``progress``: True (console bar), a callable
    receiving :class:`~trtlab.trt.progress.ProgressEvent`, or a ProgressTracker (cancellable).
    ``cache``: True (``cache_dir()/engines``), an :class:`EngineCache`/directory, or False.
    ``detailed``: build with ``ProfilingVerbosity.DETAILED`` so :func:`inspect_engine` shows
    per-layer data. Raises :class:`BuildError` (parser errors, builder failure) with the log tail.
    """
    onnx_path = Path(onnx)
    prec = normalize_precision(precision)
    if optimization_level is not None and not 0 <= int(optimization_level) <= 5:
        raise ConfigError(
            f"optimization_level must be 0..5, got {optimization_level}",
            hint="3 is TensorRT's default; higher builds longer for faster engines",
        )
    workspace_bytes = parse_size(workspace) if workspace is not None else None
    specs = onnx_input_specs(onnx_path)
    resolved = validate_profiles(specs, profiles)
    notes = [
        f"input '{s.name}' has no profile: built for batch 1 ({shape_str(resolved[0][s.name][0])})"
        for s in specs
        if s.dynamic_axes and (profiles is None or s.name not in _first_profile_names(profiles))
    ]

    require_full_tensorrt("build a TensorRT engine")
    import tensorrt as trt

    version = str(trt.__version__)
    plan = _plan_precision(prec, version, strongly_typed=strongly_typed)
    options = build_options(plan, resolved, workspace_bytes, optimization_level, detailed)
    gpu_name, capability = gpu_identity()
    engine_cache = _cache_of(cache)
    key = engine_cache_key(onnx_path, options, version, gpu_name, capability)
    timing_file = _timing_cache_file(timing_cache, version, gpu_name)

    if engine_cache is not None:
        entry = engine_cache.get(key)
        if entry is not None:
            meta = entry.meta
            hit_path = atomic_write_bytes(engine_path, entry.data) if engine_path else entry.path
            return BuildResult(
                engine=entry.data,
                path=hit_path,
                build_time_s=0.0,
                cache_hit=True,
                precision=prec,
                plan=plan,
                trt_version=version,
                io=list(meta.get("io", [])),
                profiles=resolved,
                onnx_path=onnx_path,
                built_onnx_path=Path(meta.get("built_onnx_path", onnx_path)),
                log=[f"[INFO] engine cache hit: {entry.path}"],
                cache_key=key,
                timing_cache_path=timing_file,
                notes=notes,
            )

    built_onnx = prepare_onnx(onnx_path, plan)
    capture = LogCapture(min_severity=log_level)
    logger = trt_logger(trt, capture=capture)
    tracker = make_tracker(progress)
    start = time.perf_counter()
    try:
        builder = trt.Builder(logger)
        flags = 0
        for name in plan.network_flags:
            member = _enum_member(
                trt.NetworkDefinitionCreationFlag, name, "NetworkDefinitionCreationFlag", version
            )
            flags |= 1 << int(member)
        network = builder.create_network(flags)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse_from_file(str(built_onnx)):
            issues = [parser_issue(i, parser.get_error(i)) for i in range(parser.num_errors)]
            raise parser_error(built_onnx, issues, capture.tail(10))

        config = builder.create_builder_config()
        if workspace_bytes is not None:
            config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
        for name in plan.builder_flags:
            config.set_flag(_enum_member(trt.BuilderFlag, name, "BuilderFlag", version))
        for name in plan.cleared_flags:
            config.clear_flag(_enum_member(trt.BuilderFlag, name, "BuilderFlag", version))
        if optimization_level is not None:
            config.builder_optimization_level = int(optimization_level)
        config.profiling_verbosity = (
            trt.ProfilingVerbosity.DETAILED if detailed else trt.ProfilingVerbosity.LAYER_NAMES_ONLY
        )
        net_inputs = {network.get_input(i).name for i in range(network.num_inputs)}
        for profile in resolved:
            if not profile:
                continue
            opt_profile = builder.create_optimization_profile()
            for name, (lo, opt, hi) in profile.items():
                if name in net_inputs:
                    opt_profile.set_shape(name, lo, opt, hi)
            config.add_optimization_profile(opt_profile)

        timing = None
        if timing_file is not None:
            blob = timing_file.read_bytes() if timing_file.is_file() else b""
            timing = config.create_timing_cache(blob)
            if not config.set_timing_cache(timing, False):
                raise BuildError(
                    f"TensorRT refused the timing cache {timing_file}",
                    hint="delete the file (it may be from another TensorRT version or GPU)",
                )
        monitor = None  # kept referenced until the build ends (TensorRT holds a raw pointer)
        if tracker is not None:
            monitor = make_progress_monitor(tracker)
            config.progress_monitor = monitor

        io = _io_table(network, resolved[0])
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            if tracker is not None and tracker.cancelled:
                raise BuildError(
                    f"build of {onnx_path.name} was cancelled", hint="start the build again"
                )
            tail = "\n".join(f"    {line}" for line in capture.tail(15)) or "    (no log)"
            raise BuildError(
                f"TensorRT's builder returned no engine for {built_onnx} "
                f"(precision={prec}, TensorRT {version}); last log lines:\n{tail}",
                hint="read the errors above: unsupported layer/precision on this GPU, too little "
                "workspace, or profile shapes the model cannot run",
            )
        engine_bytes = bytes(serialized)
        del monitor
        if timing is not None and timing_file is not None:
            atomic_write_bytes(timing_file, bytes(timing.serialize()))
    finally:
        if tracker is not None:
            tracker.close()
    build_time = time.perf_counter() - start

    path: Path | None = None
    if engine_cache is not None:
        path = engine_cache.put(
            key,
            engine_bytes,
            {
                "onnx_path": str(onnx_path),
                "built_onnx_path": str(built_onnx),
                "options": options,
                "tensorrt": version,
                "gpu": gpu_name,
                "compute_capability": list(capability),
                "build_time_s": round(build_time, 3),
                "io": io,
            },
        )
    if engine_path is not None:
        path = atomic_write_bytes(engine_path, engine_bytes)
    return BuildResult(
        engine=engine_bytes,
        path=path,
        build_time_s=build_time,
        cache_hit=False,
        precision=prec,
        plan=plan,
        trt_version=version,
        io=io,
        profiles=resolved,
        onnx_path=onnx_path,
        built_onnx_path=built_onnx,
        log=capture.messages(),
        cache_key=key,
        timing_cache_path=timing_file,
        notes=notes,
    )


def _first_profile_names(profiles: ProfilesArg) -> set[str]:
    if isinstance(profiles, Mapping):
        return set(profiles)
    if isinstance(profiles, Sequence) and profiles and isinstance(profiles[0], Mapping):
        return set(profiles[0])
    return set()


class EngineFromOnnx:
    """Loader: calling it builds (or fetches from cache) and returns the serialized engine bytes.

    ``EngineFromOnnx("model.onnx", precision="fp16")()`` -> ``bytes``; the full
    :class:`BuildResult` of the last call is in ``.result``. Same keywords as :func:`build_engine`.
    """

    def __init__(self, onnx: str | os.PathLike[str], **kwargs: Any) -> None:
        self.onnx = Path(onnx)
        self.kwargs = kwargs
        self.result: BuildResult | None = None

    def __call__(self) -> bytes:
        self.result = build_engine(self.onnx, **self.kwargs)
        return self.result.engine

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"EngineFromOnnx({str(self.onnx)!r}{', ' if opts else ''}{opts})"


class SaveEngine:
    """Loader: runs ``source`` (a loader or bytes) and writes the engine atomically to ``path``."""

    def __init__(self, source: Callable[[], bytes] | bytes, path: str | os.PathLike[str]) -> None:
        self.source = source
        self.path = Path(path)

    def __call__(self) -> bytes:
        data = self.source if isinstance(self.source, bytes) else self.source()
        atomic_write_bytes(self.path, bytes(data))
        return bytes(data)


# -- inspection ----------------------------------------------------------------------------------
def parse_engine_information(text: str) -> list[dict[str, Any]]:
    """Layers from ``IEngineInspector`` JSON: always dicts (name-only builds give ``{"Name"}``)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BuildError(
            f"engine inspector returned no JSON: {exc}", hint="rebuild with detailed=True"
        ) from exc
    layers = data.get("Layers", []) if isinstance(data, dict) else data
    out: list[dict[str, Any]] = []
    for layer in layers if isinstance(layers, list) else []:
        out.append(layer if isinstance(layer, dict) else {"Name": str(layer)})
    return out


def inspect_engine(engine: bytes | str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Per-layer information of an engine (type, precision, tactic, shapes when built DETAILED).

    Needs TensorRT and a GPU to deserialize the engine.
    """
    data = engine if isinstance(engine, bytes) else Path(engine).read_bytes()
    require_full_tensorrt("inspect a TensorRT engine")
    import tensorrt as trt

    capture = LogCapture(min_severity="warning")
    runtime = trt.Runtime(trt_logger(trt, capture=capture))
    cuda_engine = runtime.deserialize_cuda_engine(data)
    if cuda_engine is None:
        raise BuildError(
            "TensorRT could not deserialize the engine:\n" + "\n".join(capture.tail(10)),
            hint="engines only load with the TensorRT version and GPU they were built for",
        )
    inspector = cuda_engine.create_engine_inspector()
    return parse_engine_information(
        inspector.get_engine_information(trt.LayerInformationFormat.JSON)
    )


def plan_for_installed(precision: str, strongly_typed: bool | None = None) -> BuildPlan:
    """:func:`~trtlab.trt.precision.plan_precision` for the installed full TensorRT."""
    require_full_tensorrt("plan a TensorRT build")
    import tensorrt as trt

    return _plan_precision(precision, str(trt.__version__), strongly_typed=strongly_typed)


__all__ = [
    "BuildResult",
    "EngineFromOnnx",
    "ParserIssue",
    "SaveEngine",
    "build_engine",
    "build_options",
    "converted_onnx_path",
    "gpu_identity",
    "inspect_engine",
    "onnx_input_specs",
    "parse_engine_information",
    "parse_size",
    "parser_issue",
    "plan_for_installed",
    "prepare_onnx",
    "profile_triple",
    "shape_str",
    "validate_profiles",
]
