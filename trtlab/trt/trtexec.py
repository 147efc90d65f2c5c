"""trtexec: find it, give it the right flags for this TensorRT version, read its perf summary.

``trtexec`` is TensorRT's command-line builder/benchmark (in NVIDIA's containers at
``/usr/src/tensorrt/bin/trtexec``; pip wheels ship none). trtlab uses it in two ways:

* :func:`trtexec_args` writes the same build :func:`~trtlab.trt.build.build_engine` does, as trtexec
  flags. On TensorRT 10 reduced precision is ``--fp16``/``--bf16``; on 11 those flags are gone
  (strong typing only), so the args point at the FP16/BF16-converted ONNX and add
  ``--stronglyTyped``.
* :func:`parse_trtexec_output` turns trtexec's "Performance summary" into numbers
  (:class:`TrtexecResult`), for tables and plots next to trtlab's own benchmarks.

``trtlab build`` accepts trtexec's flag names where they overlap (:func:`parse_build_args`), and
runs trtexec when it is installed, else the same build through the Python API.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtlab.errors import BackendError, ConfigError, DependencyError, InputError, ShapeError
from trtlab.trt.build import (
    ProfilesArg,
    ResolvedProfile,
    converted_onnx_path,
    onnx_input_specs,
    parse_size,
    profile_triple,
    shape_str,
    validate_profiles,
)
from trtlab.trt.precision import PRECISIONS, plan_precision

# -- finding trtexec -------------------------------------------------------------------------------
STANDARD_LOCATIONS = ("/usr/src/tensorrt/bin/trtexec", "/opt/tensorrt/bin/trtexec")


def find_trtexec() -> Path | None:
    """``trtexec`` on PATH, in NVIDIA's container location, or under ``$TENSORRT_HOME/bin``."""
    found = shutil.which("trtexec")
    candidates = [Path(found)] if found else []
    candidates += [Path(p) for p in STANDARD_LOCATIONS]
    for var in ("TENSORRT_HOME", "TRT_HOME"):
        home = os.environ.get(var)
        if home:
            candidates.append(Path(home) / "bin" / "trtexec")
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


# -- building the command line ---------------------------------------------------------------------
def _mem_pool_value(size: int) -> str:
    """Bytes -> trtexec pool size (``4096M``; ``B`` suffix where MiB would round)."""
    mib = 1 << 20
    return f"{size // mib}M" if size % mib == 0 else f"{size}B"


def _resolve_profiles(onnx: Path, profiles: ProfilesArg) -> list[ResolvedProfile]:
    if Path(onnx).is_file():
        return validate_profiles(onnx_input_specs(onnx), profiles)
    if profiles is None:
        return [{}]
    raw = [profiles] if isinstance(profiles, Mapping) else list(profiles)
    return [{name: profile_triple(name, value) for name, value in p.items()} for p in raw]


def trtexec_args(
    onnx: str | os.PathLike[str],
    engine: str | os.PathLike[str] | None,
    *,
    precision: str = "fp32",
    profiles: ProfilesArg = None,
    workspace: int | str | None = None,
    timing_cache: str | os.PathLike[str] | None = None,
    trt_version: str | Sequence[int],
    strongly_typed: bool | None = None,
    optimization_level: int | None = None,
    detailed: bool = True,
    converted_onnx: str | os.PathLike[str] | None = None,
    extra: Iterable[str] = (),
) -> list[str]:
    """trtexec flags (without the program name) for the build :func:`build_engine` would do.

    ``trt_version`` is the TensorRT trtexec belongs to. When the plan converts the ONNX graph
    (FP16/BF16 on 11.x), ``--onnx`` names ``converted_onnx`` (default: the path
    :func:`~trtlab.trt.build.prepare_onnx` writes); create it first with
    :func:`~trtlab.trt.build.prepare_onnx` (``run_trtexec_build`` does).
    """
    plan = plan_precision(precision, trt_version, strongly_typed=strongly_typed)
    onnx_path = Path(onnx)
    resolved = _resolve_profiles(onnx_path, profiles)
    if len(resolved) > 1:
        raise ConfigError(
            f"trtexec_args supports one optimization profile, got {len(resolved)}",
            hint="build several profiles with trtlab.build_engine (Python API)",
        )
    model = onnx_path
    if plan.onnx_transform:
        model = (
            Path(converted_onnx)
            if converted_onnx is not None
            else converted_onnx_path(onnx_path, plan.onnx_transform)
        )
    args = [f"--onnx={model}"]
    if engine is not None:
        args.append(f"--saveEngine={engine}")
    profile = resolved[0]
    if profile:
        for flag, index in (("--minShapes", 0), ("--optShapes", 1), ("--maxShapes", 2)):
            spec = ",".join(
                f"{name}:{shape_str(triple[index])}" for name, triple in profile.items()
            )
            args.append(f"{flag}={spec}")
    if workspace is not None:
        args.append(f"--memPoolSize=workspace:{_mem_pool_value(parse_size(workspace))}")
    flag_names = {"FP16": "--fp16", "BF16": "--bf16"}
    for name in plan.builder_flags:
        if name in flag_names:
            args.append(flag_names[name])
        # TF32 is trtexec's default; nothing to add.
    if "TF32" in plan.cleared_flags:
        args.append("--noTF32")
    if plan.strongly_typed:
        args.append("--stronglyTyped")
    if timing_cache is not None:
        args.append(f"--timingCacheFile={timing_cache}")
    if optimization_level is not None:
        args.append(f"--builderOptimizationLevel={int(optimization_level)}")
    if detailed:
        args.append("--profilingVerbosity=detailed")
    args.extend(extra)
    return args


# -- parsing the output ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    """min/max/mean/median and percentiles (``{99.0: ms}``) of one trtexec metric, in ms."""

    min: float
    max: float
    mean: float
    median: float
    percentiles: dict[float, float] = field(default_factory=dict)

    def p(self, q: float) -> float | None:
        """Percentile ``q`` (e.g. 99) if trtexec reported it."""
        return self.percentiles.get(float(q))


@dataclass
class TrtexecResult:
    """Numbers from a trtexec run; fields are None when the log did not contain them."""

    tensorrt_version: str | None = None
    throughput_qps: float | None = None
    latency: Stats | None = None
    gpu_compute: Stats | None = None
    enqueue: Stats | None = None
    h2d: Stats | None = None
    d2h: Stats | None = None
    total_host_walltime_s: float | None = None
    total_gpu_compute_s: float | None = None
    engine_build_s: float | None = None
    engine_size_mib: float | None = None
    passed: bool | None = None
    returncode: int | None = None
    command: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def has_summary(self) -> bool:
        return self.throughput_qps is not None or self.latency is not None

    def as_dict(self) -> dict[str, Any]:
        """Flat dict for tables (``latency_mean_ms``, ``gpu_compute_p99_ms`` ...)."""
        out: dict[str, Any] = {
            "tensorrt_version": self.tensorrt_version,
            "throughput_qps": self.throughput_qps,
        }
        for name in ("latency", "gpu_compute", "enqueue", "h2d", "d2h"):
            stats: Stats | None = getattr(self, name)
            if stats is None:
                continue
            for key in ("min", "max", "mean", "median"):
                out[f"{name}_{key}_ms"] = getattr(stats, key)
            for q, v in stats.percentiles.items():
                out[f"{name}_p{q:g}_ms"] = v
        return out


_PREFIX = re.compile(r"^(?:\[[^\]]*\]\s*)+")
_NUMBER = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_STAT_NAMES = {
    "Latency": "latency",
    "Host Latency": "latency",
    "GPU Compute Time": "gpu_compute",
    "GPU Compute": "gpu_compute",
    "Enqueue Time": "enqueue",
    "H2D Latency": "h2d",
    "D2H Latency": "d2h",
}
_STAT_LINE = re.compile(
    r"^("
    + "|".join(re.escape(k) for k in sorted(_STAT_NAMES, key=len, reverse=True))
    + r"):\s*(.*)$"
)
_KV = re.compile(r"\b(min|max|mean|median)\s*=\s*" + _NUMBER + r"\s*ms")
_PCT = re.compile(r"percentile\(\s*" + _NUMBER + r"\s*%\s*\)\s*=\s*" + _NUMBER + r"\s*ms")
_BANNER = re.compile(r"\[TensorRT v(\d+)\]")


def _strip(line: str) -> str:
    return _PREFIX.sub("", line.strip()).strip()


def _parse_stats(body: str) -> Stats | None:
    values = {k: float(v) for k, v in _KV.findall(body)}
    if not {"min", "max", "mean", "median"} <= values.keys():
        return None
    pct = {float(q): float(v) for q, v in _PCT.findall(body)}
    return Stats(values["min"], values["max"], values["mean"], values["median"], pct)


def banner_version(digits: str) -> str:
    """``"100300"`` -> ``"10.3.0"``, ``"110400"`` -> ``"11.4.0"``, ``"8601"`` -> ``"8.6.1"``."""
    if len(digits) >= 6:
        return f"{int(digits[:-4])}.{int(digits[-4:-2])}.{int(digits[-2:])}"
    if len(digits) == 4:
        return f"{int(digits[0])}.{int(digits[1])}.{int(digits[2:])}"
    return digits


def parse_trtexec_output(text: str) -> TrtexecResult:
    """Read trtexec's log: version, performance summary, build time, engine size, pass/fail.

    Lines may carry ``[date] [I]`` prefixes or not; metrics missing from the log stay None.
    """
    result = TrtexecResult(text=text)
    banner: str | None = None
    for raw in text.splitlines():
        line = _strip(raw)
        if not line and "&&&&" not in raw:
            continue
        if "&&&&" in raw:
            m = _BANNER.search(raw)
            if m and banner is None:
                banner = banner_version(m.group(1))
            if "&&&& PASSED" in raw:
                result.passed = True
            elif "&&&& FAILED" in raw:
                result.passed = False
            continue
        m = re.match(r"^TensorRT version:\s*([\d.]+)", line)
        if m:
            result.tensorrt_version = m.group(1)
            continue
        m = re.match(r"^Throughput:\s*" + _NUMBER + r"\s*qps", line)
        if m:
            result.throughput_qps = float(m.group(1))
            continue
        m = _STAT_LINE.match(line)
        if m:
            stats = _parse_stats(m.group(2))
            attr = _STAT_NAMES[m.group(1)]
            if stats is not None and (getattr(result, attr) is None or m.group(1) == "Latency"):
                setattr(result, attr, stats)
            continue
        m = re.match(r"^Total Host Walltime:\s*" + _NUMBER + r"\s*s", line)
        if m:
            result.total_host_walltime_s = float(m.group(1))
            continue
        m = re.match(r"^Total GPU Compute Time:\s*" + _NUMBER + r"\s*s", line)
        if m:
            result.total_gpu_compute_s = float(m.group(1))
            continue
        m = re.match(r"^Engine built in\s*" + _NUMBER + r"\s*sec", line)
        if m:
            result.engine_build_s = float(m.group(1))
            continue
        m = re.search(r"Created engine with size:\s*" + _NUMBER + r"\s*MiB", line)
        if m:
            result.engine_size_mib = float(m.group(1))
    if result.tensorrt_version is None:
        result.tensorrt_version = banner
    return result


# -- running ---------------------------------------------------------------------------------------
def run_trtexec(
    args: Sequence[str],
    on_line: Callable[[str], Any] | None = print,
    *,
    trtexec: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> TrtexecResult:
    """Run trtexec with ``args``, streaming each output line to ``on_line``; parse the log.

    ``check=True`` raises :class:`BackendError` (with the last lines) on a non-zero exit.
    """
    exe = Path(trtexec) if trtexec is not None else find_trtexec()
    if exe is None:
        raise DependencyError(
            "trtexec was not found (PATH, /usr/src/tensorrt/bin, $TENSORRT_HOME/bin)",
            hint="use NVIDIA's TensorRT container, or build with trtlab.build_engine / "
            "`trtlab build` (Python API), which needs no trtexec",
        )
    command = [str(exe), *args]
    lines: list[str] = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        errors="replace",
    ) as proc:
        for line in proc.stdout or ():
            line = line.rstrip("\n")
            lines.append(line)
            if on_line is not None:
                on_line(line)
        returncode = proc.wait(timeout=timeout)
    result = parse_trtexec_output("\n".join(lines))
    result.returncode = returncode
    result.command = command
    if check and returncode != 0:
        tail = "\n".join(f"    {line}" for line in lines[-15:])
        raise BackendError(
            f"trtexec exited with status {returncode}:\n{tail}",
            hint="read the [E] lines above; the same build through the Python API "
            "(trtlab.build_engine) reports parser errors per node",
        )
    return result


# -- `trtlab build`: trtexec-compatible flags ------------------------------------------------
def _parse_shape_list(flag: str, text: str | None) -> dict[str, tuple[int, ...]]:
    """``"input:1x3x224x224,mask:1x1"`` -> ``{"input": (1, 3, 224, 224), "mask": (1, 1)}``."""
    if not text:
        return {}
    out: dict[str, tuple[int, ...]] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, dims = item.rpartition(":")
        name = name.strip().strip("'\"")
        if not sep or not name:
            raise ShapeError(
                f"{flag}: cannot read {item!r}; expected name:NxCxHxW",
                hint=f"e.g. {flag}=input:1x3x224x224",
            )
        try:
            shape = tuple(int(d) for d in dims.lower().split("x")) if dims else ()
        except ValueError:
            raise ShapeError(
                f"{flag}: shape {dims!r} of input '{name}' is not NxCxHxW integers",
                hint=f"e.g. {flag}={name}:1x3x224x224",
            ) from None
        out[name] = shape
    return out


def _parse_mem_pool(text: str | None) -> int | None:
    """``"workspace:4096M"`` -> bytes; a bare number is MiB, as in trtexec."""
    if not text:
        return None
    workspace: int | None = None
    for item in text.split(","):
        pool, sep, size = item.partition(":")
        if not sep:
            raise ConfigError(
                f"--memPoolSize: cannot read {item!r}", hint="e.g. --memPoolSize=workspace:4096M"
            )
        if pool.strip() != "workspace":
            raise ConfigError(
                f"--memPoolSize: pool {pool!r} is not supported by `trtlab build`",
                hint="only the workspace pool can be set (e.g. workspace:4096M)",
            )
        size = size.strip()
        if re.fullmatch(r"\d+(\.\d+)?", size):
            size += "M"
        workspace = parse_size(size)
    return workspace


def add_build_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``build`` options, spelled like trtexec's where they overlap."""
    parser.add_argument("--onnx", required=True, help="ONNX model to build")
    parser.add_argument("--saveEngine", dest="save_engine", help="where to write the engine")
    parser.add_argument("--minShapes", dest="min_shapes", help="e.g. input:1x3x224x224")
    parser.add_argument("--optShapes", dest="opt_shapes", help="e.g. input:8x3x224x224")
    parser.add_argument("--maxShapes", dest="max_shapes", help="e.g. input:16x3x224x224")
    parser.add_argument("--shapes", dest="shapes", help="fixed shapes: min=opt=max")
    parser.add_argument("--memPoolSize", dest="mem_pool", help="workspace:4096M (MiB default)")
    parser.add_argument("--fp16", action="store_true", help="FP16 (11.x: converted ONNX)")
    parser.add_argument("--bf16", action="store_true", help="BF16 (11.x: converted ONNX)")
    parser.add_argument("--noTF32", dest="no_tf32", action="store_true", help="strict FP32")
    parser.add_argument("--precision", choices=PRECISIONS, help="trtlab spelling of the above")
    parser.add_argument(
        "--stronglyTyped", dest="strongly_typed", action="store_true", help="strongly typed"
    )
    parser.add_argument("--timingCacheFile", dest="timing_cache", help="timing cache file")
    parser.add_argument(
        "--builderOptimizationLevel", dest="optimization_level", type=int, help="0..5"
    )
    parser.add_argument("--no-cache", dest="no_cache", action="store_true", help="skip cache")
    parser.add_argument(
        "--backend",
        choices=("auto", "trtexec", "python"),
        default="auto",
        help="auto: trtexec when installed, else the Python API",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _build_parser() -> argparse.ArgumentParser:
    return add_build_arguments(
        argparse.ArgumentParser(prog="trtlab build", description="Build a TensorRT engine")
    )


def build_kwargs_from_namespace(ns: argparse.Namespace) -> dict[str, Any]:
    """argparse result of :func:`add_build_arguments` -> :func:`build_engine` keyword arguments."""
    chosen = [name for name, on in (("fp16", ns.fp16), ("bf16", ns.bf16)) if on]
    if len(chosen) > 1:
        raise ConfigError(
            "--fp16 and --bf16 were both given; trtlab builds one reduced precision at a time",
            hint="pick one of --fp16 / --bf16",
        )
    if ns.precision and chosen and ns.precision != chosen[0]:
        raise ConfigError(
            f"--precision={ns.precision} contradicts --{chosen[0]}", hint="give only one of them"
        )
    precision = ns.precision or (chosen[0] if chosen else ("fp32" if ns.no_tf32 else "tf32"))
    if ns.no_tf32 and precision == "tf32":
        raise ConfigError("--noTF32 contradicts --precision=tf32", hint="give only one of them")

    mins = _parse_shape_list("--minShapes", ns.min_shapes)
    opts = _parse_shape_list("--optShapes", ns.opt_shapes)
    maxs = _parse_shape_list("--maxShapes", ns.max_shapes)
    fixed = _parse_shape_list("--shapes", ns.shapes)
    profiles: dict[str, tuple[tuple[int, ...], ...]] = {}
    for name in list(dict.fromkeys([*mins, *opts, *maxs])):
        opt = opts.get(name)
        if opt is None:
            raise ShapeError(
                f"input '{name}' has --minShapes/--maxShapes but no --optShapes",
                hint=f"add --optShapes={name}:NxCxHxW",
            )
        profiles[name] = (mins.get(name, opt), opt, maxs.get(name, opt))
    for name, shape in fixed.items():
        if name in profiles:
            raise InputError(
                f"input '{name}' is given in --shapes and in --min/opt/maxShapes",
                hint="use --shapes for a fixed size, or the three profile flags",
            )
        profiles[name] = (shape, shape, shape)
    return {
        "onnx": ns.onnx,
        "engine_path": ns.save_engine,
        "precision": precision,
        "workspace": _parse_mem_pool(ns.mem_pool),
        "profiles": profiles or None,
        "timing_cache": ns.timing_cache,
        "strongly_typed": True if ns.strongly_typed else None,
        "optimization_level": ns.optimization_level,
        "cache": not ns.no_cache,
        "progress": not ns.quiet,
    }


def parse_build_args(argv: Sequence[str]) -> dict[str, Any]:
    """``trtlab build`` / trtexec-style flags -> :func:`build_engine` keyword arguments (pure)."""
    return build_kwargs_from_namespace(_build_parser().parse_args(list(argv)))


def add_build_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``trtlab build`` to the CLI's ``add_subparsers()`` result; it runs :func:`run_build`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build",
        help="build a TensorRT engine from ONNX (trtexec-style flags)",
        description="Build a TensorRT engine from an ONNX file. Uses trtexec when installed, "
        "else TensorRT's Python API; precision flags follow the installed TensorRT "
        "(10.x: builder flags; 11.x: strongly typed FP16/BF16 ONNX).",
    )
    add_build_arguments(parser)
    parser.set_defaults(func=run_build)
    return parser


def run_build(args: argparse.Namespace) -> int:
    """Run ``trtlab build``: trtexec when available (``--backend auto``), else ``build_engine``."""
    from trtlab.trt._compat import tensorrt_version, version_str
    from trtlab.trt.build import build_engine, prepare_onnx

    kwargs = build_kwargs_from_namespace(args)
    exe = find_trtexec() if args.backend in ("auto", "trtexec") else None
    if args.backend == "trtexec" and exe is None:
        raise DependencyError(
            "--backend trtexec asked, but trtexec was not found",
            hint="use --backend python (needs the tensorrt Python package)",
        )
    if exe is not None:
        version = tensorrt_version("full")
        if version is None:
            raise DependencyError(
                "trtexec found, but the tensorrt Python package (needed to pick the precision "
                "recipe for this version) is not importable",
                hint="use NVIDIA's TensorRT container, where both are installed",
            )
        plan = plan_precision(kwargs["precision"], version, strongly_typed=kwargs["strongly_typed"])
        onnx = Path(kwargs["onnx"])
        converted = prepare_onnx(onnx, plan)
        argv = trtexec_args(
            onnx,
            kwargs["engine_path"],
            precision=kwargs["precision"],
            profiles=kwargs["profiles"],
            workspace=kwargs["workspace"],
            timing_cache=kwargs["timing_cache"],
            trt_version=version_str(version),
            strongly_typed=kwargs["strongly_typed"],
            optimization_level=kwargs["optimization_level"],
            converted_onnx=converted,
            extra=("--skipInference",),
        )
        print(plan.describe())
        print("$ " + " ".join([str(exe), *argv]))
        result = run_trtexec(argv, None if args.quiet else print, trtexec=exe)
        return 0 if result.returncode == 0 else 1
    build = build_engine(kwargs.pop("onnx"), **kwargs)
    print(build.summary())
    if build.path is not None:
        print(f"engine: {build.path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m trtlab.trt.trtexec ...`` == ``trtlab build ...``."""
    ns = _build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return run_build(ns)


__all__ = [
    "STANDARD_LOCATIONS",
    "Stats",
    "TrtexecResult",
    "add_build_arguments",
    "add_build_subcommand",
    "banner_version",
    "build_kwargs_from_namespace",
    "find_trtexec",
    "parse_build_args",
    "parse_trtexec_output",
    "run_build",
    "run_trtexec",
    "trtexec_args",
]


if __name__ == "__main__":
    sys.exit(main())
