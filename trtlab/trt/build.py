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

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, Union

from trtlab._io import atomic_write_bytes
from trtlab.config import cache_dir
from trtlab.errors import BuildError, ConfigError, EngineLoadError, InputError, ShapeError
from trtlab.onnx_meta import input_specs
from trtlab.tensors import TensorSpec
from trtlab.trt._compat import LogCapture, init_plugins, require_full_tensorrt, trt_logger
from trtlab.trt.cache import EngineCache, file_lock, key_of_identity, onnx_digest
from trtlab.trt.precision import (
    CONVERSION_RECIPE,
    BuildPlan,
    convert_onnx_precision,
    normalize_precision,
    ort_parity_skip,
)
from trtlab.trt.precision import plan_precision as _plan_precision
from trtlab.trt.profiles import (
    Profile,
    ProfilesArg,
    ShapeRange,
    as_shape_range,
    parse_profiles,
    shape_str,
    validate_profiles,
)
from trtlab.trt.progress import ProgressArg, make_progress_monitor, make_tracker
from trtlab.trt.provenance import (
    Provenance,
    build_identity,
    check_provenance,
    read_provenance,
    write_provenance,
)

if TYPE_CHECKING:
    import tensorrt
    from typing_extensions import Unpack  # typing.Unpack is 3.11+

#: Back-compat names: profiles live in :mod:`trtlab.trt.profiles` (one type, one validator).
ShapeTriple = ShapeRange
ResolvedProfile = Profile
CacheArg = Union[bool, EngineCache, str, os.PathLike[str], None]
TimingCacheArg = Union[bool, str, os.PathLike[str], None]


class PlanOptions(TypedDict, total=False):
    """The options :func:`build_engine` forwards to :func:`plan_build` (defaults live there)."""

    precision: str
    workspace: int | str | None
    profiles: ProfilesArg
    timing_cache: TimingCacheArg
    strongly_typed: bool | None
    optimization_level: int | None
    detailed: bool
    version_compatible: bool
    exclude_lean_runtime: bool


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
    """The ONNX model's real inputs (initializers excluded), read by :mod:`trtlab.onnx_meta`."""
    return input_specs(onnx_path)


#: Back-compat name of :func:`trtlab.trt.profiles.as_shape_range`.
profile_triple = as_shape_range


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
    provenance: Provenance | None = None

    @property
    def size_mb(self) -> float:
        return len(self.engine) / 1e6

    @property
    def ort_parity_skip(self) -> str | None:
        """Why the ONNX Runtime check of the graph TensorRT parsed is skipped (BF16), or None.

        Print it and compare the engine with the FP32 ONNX model instead.
        """
        return ort_parity_skip(self.plan.onnx_transform) if self.plan.onnx_transform else None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the engine atomically to ``path`` with its provenance sidecar; remember it."""
        self.path = atomic_write_bytes(path, self.engine)
        if self.provenance is not None:
            write_provenance(self.path, self.provenance)
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
        if self.ort_parity_skip:
            lines.append(f"  note: {self.ort_parity_skip}")
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


def converted_onnx_path(onnx_path: Path, transform: str) -> Path:
    """Where the FP16/BF16 copy of ``onnx_path`` is kept (content-addressed, in the cache dir).

    The name holds the source's sha256 and the conversion recipe, so a changed model or a changed
    converter (block list, Cast clean-up) never reuses a stale copy.
    """
    digest = onnx_digest(onnx_path)[:16]
    return cache_dir() / "onnx" / f"{onnx_path.stem}-{digest}-{transform}-{CONVERSION_RECIPE}.onnx"


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
    *,
    version_compatible: bool = False,
    exclude_lean_runtime: bool = False,
) -> dict[str, Any]:
    """The options that change the engine (everything in the cache key besides ONNX/TRT/GPU)."""
    return {
        "precision": plan.precision,
        "strongly_typed": plan.strongly_typed,
        "builder_flags": list(plan.builder_flags),
        "cleared_flags": list(plan.cleared_flags),
        "network_flags": list(plan.network_flags),
        "onnx_transform": plan.onnx_transform,
        "onnx_conversion": CONVERSION_RECIPE if plan.onnx_transform else None,
        "profiles": [{k: [list(s) for s in v] for k, v in p.items()} for p in profiles],
        "workspace": workspace,
        "optimization_level": optimization_level,
        "profiling_verbosity": "DETAILED" if detailed else "LAYER_NAMES_ONLY",
        "version_compatible": bool(version_compatible),
        "exclude_lean_runtime": bool(exclude_lean_runtime),
    }


def check_compatibility_options(version_compatible: bool, exclude_lean_runtime: bool) -> None:
    """``exclude_lean_runtime`` only means something for a version-compatible plan.

    TensorRT silently ignores ``EXCLUDE_LEAN_RUNTIME`` without ``VERSION_COMPATIBLE``; a user who
    asks for it expects a smaller, version-compatible plan, so say so instead of ignoring it.
    """
    if exclude_lean_runtime and not version_compatible:
        raise ConfigError(
            "exclude_lean_runtime=True only applies to version-compatible engines, but "
            "version_compatible=False",
            hint="pass version_compatible=True as well (the plan then needs the lean runtime "
            "library of the TensorRT that runs it), or drop exclude_lean_runtime",
        )


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


# -- the build, in steps ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BuildRequest:
    """Everything decided before TensorRT builds: checked options, plan, identity, cache key."""

    onnx_path: Path
    precision: str
    plan: BuildPlan
    profiles: list[ResolvedProfile]
    workspace: int | None
    optimization_level: int | None
    detailed: bool
    version_compatible: bool
    exclude_lean_runtime: bool
    options: dict[str, Any]
    trt_version: str
    gpu_name: str
    compute_capability: tuple[int, int]
    identity: dict[str, Any]
    cache_key: str
    timing_cache_path: Path | None
    notes: list[str] = field(default_factory=list)

    def provenance(self, *, cache_key: str | None = None) -> Provenance:
        """The provenance sidecar for an engine built from this request."""
        return Provenance.from_identity(
            self.identity, onnx_path=str(self.onnx_path), cache_key=cache_key or self.cache_key
        )


def _enum_flags(enum: Any, names: Sequence[str], what: str, version: str) -> int:
    flags = 0
    for name in names:
        flags |= 1 << int(_enum_member(enum, name, what, version))
    return flags


def create_network(
    trt: Any, builder: Any, logger: Any, plan: BuildPlan, onnx_file: Path, capture: LogCapture
) -> tuple[Any, Any]:
    """Step 1: network with the plan's creation flags, filled by the ONNX parser.

    Returns ``(network, parser)``; the parser must stay alive as long as the network (TensorRT
    keeps weights it owns). Raises :class:`BuildError` listing every parser issue.
    """
    version = str(trt.__version__)
    flags = _enum_flags(
        trt.NetworkDefinitionCreationFlag,
        plan.network_flags,
        "NetworkDefinitionCreationFlag",
        version,
    )
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_file)):
        issues = [parser_issue(i, parser.get_error(i)) for i in range(parser.num_errors)]
        raise parser_error(onnx_file, issues, capture.tail(10))
    return network, parser


def _uncovered_inputs(network: Any, profiles: Sequence[ResolvedProfile]) -> list[str]:
    dynamic = []
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if any(int(d) < 0 for d in tensor.shape):
            dynamic.append(str(tensor.name))
    return [n for n in dynamic if any(n not in p for p in profiles) or not profiles]


def create_config(trt: Any, builder: Any, network: Any, request: BuildRequest) -> Any:
    """Step 2: the builder config: pool, precision and compatibility flags, profiles.

    Every dynamic network input must be in every profile (TensorRT refuses the build otherwise);
    checked here so the error names the input instead of an "Error Code 4" at the end.
    """
    version = request.trt_version
    config = builder.create_builder_config()
    if request.workspace is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, request.workspace)
    flags = list(request.plan.builder_flags)
    if request.version_compatible:
        flags.append("VERSION_COMPATIBLE")
        if request.exclude_lean_runtime:
            flags.append("EXCLUDE_LEAN_RUNTIME")
    for name in flags:
        config.set_flag(_enum_member(trt.BuilderFlag, name, "BuilderFlag", version))
    for name in request.plan.cleared_flags:
        config.clear_flag(_enum_member(trt.BuilderFlag, name, "BuilderFlag", version))
    if request.optimization_level is not None:
        config.builder_optimization_level = int(request.optimization_level)
    config.profiling_verbosity = (
        trt.ProfilingVerbosity.DETAILED
        if request.detailed
        else trt.ProfilingVerbosity.LAYER_NAMES_ONLY
    )
    profiles = [p for p in request.profiles if p]
    uncovered = _uncovered_inputs(network, profiles)
    if uncovered:
        raise ShapeError(
            f"the parsed network has dynamic input(s) {uncovered} that the optimization "
            "profile(s) do not cover; TensorRT needs min/opt/max sizes for every dynamic input",
            hint=f"pass profiles={{'{uncovered[0]}': (min_shape, opt_shape, max_shape)}}",
        )
    net_inputs = {network.get_input(i).name for i in range(network.num_inputs)}
    for index, profile in enumerate(profiles):
        opt_profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in profile.items():
            if name in net_inputs:
                opt_profile.set_shape(name, tuple(lo), tuple(opt), tuple(hi))
        if int(config.add_optimization_profile(opt_profile)) < 0:
            raise ShapeError(
                f"TensorRT refused optimization profile {index}: {profile}",
                hint="each dim needs min <= opt <= max and the model's fixed sizes",
            )
    return config


def attach_timing_cache(config: Any, timing_file: Path | None) -> Any:
    """Load ``timing_file`` (or start empty) into ``config``; returns the ITimingCache or None."""
    if timing_file is None:
        return None
    blob = timing_file.read_bytes() if timing_file.is_file() else b""
    timing = config.create_timing_cache(blob)
    if timing is None and blob:
        timing = config.create_timing_cache(b"")  # unreadable file: start over, keep building
    if timing is None or not config.set_timing_cache(timing, False):
        raise BuildError(
            f"TensorRT refused the timing cache {timing_file}",
            hint="delete the file (it may be from another TensorRT version or GPU)",
        )
    return timing


def save_timing_cache(config: Any, timing: Any, timing_file: Path) -> Path:
    """Merge ``timing`` with the cache on disk and write it back atomically, under a file lock.

    Two builds sharing one timing cache (two notebooks, a CLI build beside a notebook) each load
    the file, time tactics, and save; writing only their own cache would drop the other build's
    entries. Like Polygraphy's ``save_timing_cache``: lock, re-read, ``combine``, replace.
    """
    timing = config.get_timing_cache() or timing  # the cache the builder updated in place
    with file_lock(timing_file):
        if timing_file.is_file():
            on_disk = config.create_timing_cache(timing_file.read_bytes())
            if on_disk is not None:
                timing.combine(on_disk, False)  # a mismatching cache is dropped, not merged
        atomic_write_bytes(timing_file, bytes(timing.serialize()))
    return timing_file


def serialize_network(
    builder: Any, network: Any, config: Any, request: BuildRequest, tracker: Any, capture: Any
) -> bytes:
    """Step 3: ``build_serialized_network``; a None result becomes a BuildError with the log."""
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        if tracker is not None and tracker.cancelled:
            raise BuildError(
                f"build of {request.onnx_path.name} was cancelled", hint="start the build again"
            )
        tail = "\n".join(f"    {line}" for line in capture.tail(15)) or "    (no log)"
        raise BuildError(
            f"TensorRT's builder returned no engine for {request.onnx_path} "
            f"(precision={request.precision}, TensorRT {request.trt_version}); last log lines:"
            f"\n{tail}",
            hint="read the errors above: unsupported layer/precision on this GPU, too little "
            "workspace, or profile shapes the model cannot run",
        )
    return bytes(serialized)


def plan_build(
    onnx: str | os.PathLike[str],
    *,
    precision: str = "fp32",
    workspace: int | str | None = None,
    profiles: ProfilesArg = None,
    timing_cache: TimingCacheArg = None,
    strongly_typed: bool | None = None,
    optimization_level: int | None = None,
    detailed: bool = True,
    version_compatible: bool = False,
    exclude_lean_runtime: bool = False,
) -> BuildRequest:
    """Check every option and compute the build's identity; imports TensorRT only for its version.

    Profiles and options are checked before TensorRT is required, so a bad call fails the same
    way on a CPU-only machine.
    """
    onnx_path = Path(onnx)
    prec = normalize_precision(precision)
    if optimization_level is not None and not 0 <= int(optimization_level) <= 5:
        raise ConfigError(
            f"optimization_level must be 0..5, got {optimization_level}",
            hint="3 is TensorRT's default; higher builds longer for faster engines",
        )
    check_compatibility_options(version_compatible, exclude_lean_runtime)
    workspace_bytes = parse_size(workspace) if workspace is not None else None
    specs = onnx_input_specs(onnx_path)
    resolved = validate_profiles(specs, profiles)
    notes = [
        f"input '{s.name}' has no profile: built for batch 1 ({shape_str(resolved[0][s.name][0])})"
        for s in specs
        if s.dynamic_axes and (profiles is None or s.name not in _first_profile_names(profiles))
    ]
    if version_compatible:
        notes.append(
            "version-compatible plan: runs on later TensorRT versions (and the lean runtime)"
            + (", lean runtime not embedded" if exclude_lean_runtime else "")
        )

    require_full_tensorrt("build a TensorRT engine")
    import tensorrt as trt

    version = str(trt.__version__)
    plan = _plan_precision(prec, version, strongly_typed=strongly_typed)
    options = build_options(
        plan,
        resolved,
        workspace_bytes,
        optimization_level,
        detailed,
        version_compatible=version_compatible,
        exclude_lean_runtime=exclude_lean_runtime,
    )
    gpu_name, capability = gpu_identity()
    identity = build_identity(
        onnx_sha256=onnx_digest(onnx_path),
        options=options,
        trt_version=version,
        gpu_name=gpu_name,
        compute_capability=capability,
    )
    return BuildRequest(
        onnx_path=onnx_path,
        precision=prec,
        plan=plan,
        profiles=resolved,
        workspace=workspace_bytes,
        optimization_level=optimization_level,
        detailed=detailed,
        version_compatible=bool(version_compatible),
        exclude_lean_runtime=bool(exclude_lean_runtime),
        options=options,
        trt_version=version,
        gpu_name=gpu_name,
        compute_capability=(int(capability[0]), int(capability[1])),
        identity=identity,
        cache_key=key_of_identity(identity),
        timing_cache_path=_timing_cache_file(timing_cache, version, gpu_name),
        notes=notes,
    )


class BuildOutput(NamedTuple):
    """What one TensorRT build (or a cache hit, with ``seconds=0``) hands back."""

    engine: bytes
    built_onnx: Path
    io: list[dict[str, Any]]
    log: list[str]
    seconds: float


def run_build(
    request: BuildRequest, *, progress: ProgressArg = True, log_level: str = "info"
) -> BuildOutput:
    """Run TensorRT for ``request``: ``(engine, built_onnx, io, log, seconds)`` (no caching)."""
    import tensorrt as trt

    built_onnx = prepare_onnx(request.onnx_path, request.plan)
    capture = LogCapture(min_severity=log_level)
    logger = trt_logger(trt, capture=capture)
    tracker = make_tracker(progress)
    start = time.perf_counter()
    try:
        init_plugins(trt)
        builder = trt.Builder(logger)
        network, parser = create_network(trt, builder, logger, request.plan, built_onnx, capture)
        config = create_config(trt, builder, network, request)
        timing = attach_timing_cache(config, request.timing_cache_path)
        monitor = None  # kept referenced until the build ends (TensorRT holds a raw pointer)
        if tracker is not None:
            monitor = make_progress_monitor(tracker)
            config.progress_monitor = monitor
        io = _io_table(network, request.profiles[0])
        engine_bytes = serialize_network(builder, network, config, request, tracker, capture)
        del monitor, parser
        if timing is not None and request.timing_cache_path is not None:
            save_timing_cache(config, timing, request.timing_cache_path)
    finally:
        if tracker is not None:
            tracker.close()
    seconds = time.perf_counter() - start
    return BuildOutput(engine_bytes, built_onnx, io, capture.messages(), seconds)


def build_engine(
    onnx: str | os.PathLike[str],
    engine_path: str | os.PathLike[str] | None = None,
    *,
    progress: ProgressArg = True,
    cache: CacheArg = True,
    log_level: str = "info",
    **options: Unpack[PlanOptions],
) -> BuildResult:
    """Build a TensorRT engine from an ONNX file; see the module docstring for the rules.

    ``options`` are :func:`plan_build`'s (``precision="fp32"``, ``workspace``, ``profiles``,
    ``timing_cache``, ``strongly_typed``, ``optimization_level``, ``detailed=True``,
    ``version_compatible=False``, ``exclude_lean_runtime=False``).

    ``workspace``: bytes or ``"4GiB"``. ``timing_cache``: a file to load/update (merged under a
    lock, so concurrent builds keep each other's entries), ``True`` for one per TensorRT version
    and GPU in the cache dir. ``progress``: True (console bar), a callable receiving
    :class:`~trtlab.trt.progress.ProgressEvent`, or a ProgressTracker (cancellable). ``cache``:
    True (``cache_dir()/engines``), an :class:`EngineCache`/directory, or False. ``detailed``:
    build with ``ProfilingVerbosity.DETAILED`` so :func:`inspect_engine` shows per-layer data.
    ``version_compatible``: ``BuilderFlag.VERSION_COMPATIBLE``, a plan later TensorRT versions
    and the lean runtime load; ``exclude_lean_runtime`` leaves the lean runtime out of such a
    plan (smaller; the runtime side then provides it). Every engine written to a path gets a
    ``<engine>.json`` provenance sidecar (:mod:`trtlab.trt.provenance`). Raises
    :class:`BuildError` (parser errors, builder failure) with the log tail.
    """
    request = plan_build(onnx, **options)
    engine_cache = _cache_of(cache)
    if engine_cache is not None:
        entry = engine_cache.get(request.cache_key)
        if entry is not None:
            meta = entry.meta
            if read_provenance(entry.path) is None:  # entries from before provenance existed
                write_provenance(entry.path, request.provenance())
            hit_path = entry.path
            if engine_path:
                hit_path = atomic_write_bytes(engine_path, entry.data)
                write_provenance(hit_path, request.provenance())
            hit = BuildOutput(
                entry.data,
                Path(meta.get("built_onnx_path", request.onnx_path)),
                list(meta.get("io", [])),
                [f"[INFO] engine cache hit: {entry.path}"],
                0.0,
            )
            return _result(request, hit, hit_path, request.provenance(), cache_hit=True)

    output = run_build(request, progress=progress, log_level=log_level)
    prov = request.provenance()
    path: Path | None = None
    if engine_cache is not None:
        path = engine_cache.put(
            request.cache_key,
            output.engine,
            {
                "onnx_path": str(request.onnx_path),
                "built_onnx_path": str(output.built_onnx),
                "options": request.options,
                "tensorrt": request.trt_version,
                "gpu": request.gpu_name,
                "compute_capability": list(request.compute_capability),
                "build_time_s": round(output.seconds, 3),
                "io": output.io,
            },
        )
        write_provenance(path, prov)
    if engine_path is not None:
        path = atomic_write_bytes(engine_path, output.engine)
        write_provenance(path, prov)
    return _result(request, output, path, prov, cache_hit=False)


def _result(
    request: BuildRequest,
    output: BuildOutput,
    path: Path | None,
    provenance: Provenance,
    *,
    cache_hit: bool,
) -> BuildResult:
    """A :class:`BuildResult` for ``request``: what a fresh build or a cache hit adds to it."""
    same = {name: getattr(request, name) for name in _RESULT_FIELDS_FROM_REQUEST}
    return BuildResult(
        engine=output.engine,
        path=path,
        build_time_s=output.seconds,
        cache_hit=cache_hit,
        io=output.io,
        built_onnx_path=output.built_onnx,
        log=output.log,
        notes=list(request.notes),
        provenance=provenance,
        **same,
    )


#: BuildResult fields that repeat the request's value of the same name.
_RESULT_FIELDS_FROM_REQUEST = (
    "precision",
    "plan",
    "trt_version",
    "profiles",
    "onnx_path",
    "cache_key",
    "timing_cache_path",
)


def _first_profile_names(profiles: ProfilesArg) -> set[str]:
    """Inputs the caller's first profile names (any form, trtexec text included)."""
    return set(parse_profiles(profiles)[0])


# -- loaders ---------------------------------------------------------------------------------------
#: An ONNX source for a loader: a path, or a loader (e.g. ``OnnxFromTorch``) returning one.
OnnxSource = Union[str, os.PathLike[str], Callable[[], Any]]
#: An engine source: serialized bytes, or a loader returning them.
EngineSource = Union[bytes, bytearray, memoryview, Callable[[], Any]]


def _resolve(value: Any) -> Any:
    """Polygraphy's rule: a loader argument is a value or a callable that produces it."""
    return value() if callable(value) else value


class EngineFromOnnx:
    """Loader twin of :func:`build_engine`: configure now, build (or fetch from cache) on call.

    ``onnx`` is a path or a loader that returns one, so steps chain without temp variables:
    ``EngineFromOnnx(OnnxFromTorch(model, x), precision="fp16")()`` exports, then builds, and
    returns the engine bytes. The full :class:`BuildResult` of the last call is in ``.result``.
    Same keywords as :func:`build_engine`.
    """

    def __init__(self, onnx: OnnxSource, **kwargs: Any) -> None:
        if not callable(onnx) and not isinstance(onnx, (str, os.PathLike)):
            raise InputError(
                f"EngineFromOnnx needs an ONNX path or a loader returning one, got "
                f"{type(onnx).__name__}",
                hint="pass 'model.onnx' or OnnxFromTorch(model, example_input)",
            )
        self.onnx = onnx
        self.kwargs = kwargs
        self.result: BuildResult | None = None

    def __call__(self) -> bytes:
        source = _resolve(self.onnx)
        if not isinstance(source, (str, os.PathLike)):
            raise InputError(
                f"the ONNX loader {self.onnx!r} returned {type(source).__name__}, expected a path",
                hint="chain loaders that produce an ONNX file path (e.g. OnnxFromTorch)",
            )
        self.result = build_engine(source, **self.kwargs)
        return self.result.engine

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        src = repr(str(self.onnx)) if isinstance(self.onnx, (str, os.PathLike)) else repr(self.onnx)
        return f"EngineFromOnnx({src}{', ' if opts else ''}{opts})"


class SaveEngine:
    """Loader: runs ``engine`` (bytes or a loader) and writes it atomically to ``path``.

    When ``engine`` is an :class:`EngineFromOnnx`, the engine's provenance sidecar is written
    beside it too, so the saved file is checked on load like any engine trtlab built.
    Returns the bytes, so it chains further (``Engine(SaveEngine(EngineFromOnnx(...), p)())``).
    """

    def __init__(self, engine: EngineSource, path: str | os.PathLike[str]) -> None:
        self.engine = engine
        self.path = Path(path)

    @property
    def source(self) -> EngineSource:
        """The engine source (old name of :attr:`engine`)."""
        return self.engine

    def __call__(self) -> bytes:
        data = _resolve(self.engine)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InputError(
                f"SaveEngine needs engine bytes or a loader returning them, got "
                f"{type(data).__name__}",
                hint="pass EngineFromOnnx(...) or BuildResult.engine",
            )
        data = bytes(data)
        atomic_write_bytes(self.path, data)
        result = getattr(self.engine, "result", None)
        if isinstance(result, BuildResult) and result.provenance is not None:
            write_provenance(self.path, result.provenance)
        return data

    def __repr__(self) -> str:
        return f"SaveEngine({self.engine!r}, {str(self.path)!r})"


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


def inspect_engine(
    engine: bytes | str | os.PathLike[str] | BuildResult, *, allow_host_code: bool | None = None
) -> list[dict[str, Any]]:
    """Per-layer information of an engine (type, precision, tactic, shapes when built DETAILED).

    Needs TensorRT and a GPU to deserialize the engine. A version-compatible plan embeds the lean
    runtime (host code), which TensorRT only runs when ``engine_host_code_allowed`` is set:
    ``allow_host_code=None`` allows it when the engine's provenance (a :class:`BuildResult`, or
    the ``<engine>.json`` beside a path) says trtlab built it version-compatible; pass True only
    for plans you trust. A path's provenance is checked against this machine first.
    """
    prov: Provenance | None = None
    path_arg: Path | None = None
    if isinstance(engine, BuildResult):
        data, prov = engine.engine, engine.provenance
    elif isinstance(engine, (bytes, bytearray, memoryview)):
        data = bytes(engine)
    else:
        path_arg = Path(engine)
        prov = read_provenance(path_arg)
        data = path_arg.read_bytes()
    require_full_tensorrt("inspect a TensorRT engine")
    import tensorrt as trt

    if path_arg is not None and prov is not None:
        gpu_name, capability = gpu_identity()
        check_provenance(
            path_arg,
            trt_version=str(trt.__version__),
            gpu_name=gpu_name,
            compute_capability=capability,
        )
    if allow_host_code is None:
        allow_host_code = bool(
            prov is not None and prov.version_compatible and not prov.exclude_lean_runtime
        )
    capture = LogCapture(min_severity="warning")
    logger = trt_logger(trt, capture=capture)
    init_plugins(trt)
    runtime = trt.Runtime(logger)
    if allow_host_code:
        runtime.engine_host_code_allowed = True
    cuda_engine = runtime.deserialize_cuda_engine(data)
    if cuda_engine is None:
        raise EngineLoadError(
            "TensorRT could not deserialize the engine:\n" + "\n".join(capture.tail(10)),
            hint="engines only load with the TensorRT version and GPU they were built for; a "
            "version-compatible plan from a source you trust needs allow_host_code=True",
        )
    inspector = cuda_engine.create_engine_inspector()
    return parse_engine_information(
        inspector.get_engine_information(trt.LayerInformationFormat.JSON)
    )


__all__ = [
    "BuildOutput",
    "BuildRequest",
    "BuildResult",
    "EngineFromOnnx",
    "ParserIssue",
    "PlanOptions",
    "ProfilesArg",
    "SaveEngine",
    "attach_timing_cache",
    "build_engine",
    "build_options",
    "check_compatibility_options",
    "converted_onnx_path",
    "create_config",
    "create_network",
    "gpu_identity",
    "inspect_engine",
    "onnx_input_specs",
    "parse_engine_information",
    "parse_size",
    "parser_issue",
    "plan_build",
    "prepare_onnx",
    "ResolvedProfile",
    "ShapeTriple",
    "profile_triple",
    "run_build",
    "save_timing_cache",
    "serialize_network",
    "shape_str",
    "validate_profiles",
]
