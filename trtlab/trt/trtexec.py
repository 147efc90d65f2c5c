"""trtexec: find it, give it the right flags for this TensorRT version, read its perf summary.

``trtexec`` is TensorRT's command-line builder/benchmark (in NVIDIA's containers at
``/usr/src/tensorrt/bin/trtexec``; pip wheels ship none). trtlab uses it in two ways:

* :func:`trtexec_args` writes the same build :func:`~trtlab.trt.build.build_engine` does, as trtexec
  flags. On TensorRT 10 reduced precision is ``--fp16``/``--bf16``; on 11 those flags are gone
  (strong typing is the only mode; ``--stronglyTyped`` is a no-op there), so the args point at the
  FP16/BF16-converted ONNX.
* :func:`parse_trtexec_output` turns trtexec's "Performance summary" into numbers
  (:class:`TrtexecResult`), for tables and plots next to trtlab's own benchmarks.
* :func:`run_trtexec` streams trtexec's output and enforces a wall-clock ``timeout`` while it
  streams (a silent hang is stopped, not waited for).

The ``trtlab build`` command (its flags, legacy-flag hints and ``--dry-run``) lives in
:mod:`trtlab.cli`; it reads shapes with :mod:`trtlab.trt.profiles` and pools with
:func:`parse_mem_pool`.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from trtlab.errors import (
    BackendError,
    ConfigError,
    DependencyError,
    InputError,
    ProcessTimeoutError,
)
from trtlab.trt._compat import is_strongly_typed_only
from trtlab.trt.build import converted_onnx_path, onnx_input_specs, parse_size
from trtlab.trt.precision import plan_precision
from trtlab.trt.profiles import Profile, ProfilesArg, parse_profiles, validate_profiles

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


def _resolve_profiles(onnx: Path, profiles: ProfilesArg) -> list[Profile]:
    if Path(onnx).is_file():
        return validate_profiles(onnx_input_specs(onnx), profiles)
    return parse_profiles(profiles)  # no model at hand: the form only


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
    args.extend(resolved[0].trtexec_args())
    if workspace is not None:
        args.append(f"--memPoolSize=workspace:{_mem_pool_value(parse_size(workspace))}")
    flag_names = {"FP16": "--fp16", "BF16": "--bf16"}
    for name in plan.builder_flags:
        if name in flag_names:
            args.append(flag_names[name])
        # TF32 is trtexec's default; nothing to add.
    if "TF32" in plan.cleared_flags:
        args.append("--noTF32")
    if plan.strongly_typed and not is_strongly_typed_only(plan.trt_version):
        # 10.x: opt in. 11.x: strong typing is the only mode and trtexec 11 warns that
        # --stronglyTyped is a deprecated no-op (samples/common/sampleOptions.cpp), so leave it out.
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
#: One-number summary lines of the log and the TrtexecResult field each fills.
_NUMBER_LINES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Throughput:\s*" + _NUMBER + r"\s*qps"), "throughput_qps"),
    (re.compile(r"^Total Host Walltime:\s*" + _NUMBER + r"\s*s"), "total_host_walltime_s"),
    (re.compile(r"^Total GPU Compute Time:\s*" + _NUMBER + r"\s*s"), "total_gpu_compute_s"),
    (re.compile(r"^Engine built in\s*" + _NUMBER + r"\s*sec"), "engine_build_s"),
    (re.compile(r"Created engine with size:\s*" + _NUMBER + r"\s*MiB"), "engine_size_mib"),
)


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
        m = _STAT_LINE.match(line)
        if m:
            stats = _parse_stats(m.group(2))
            attr = _STAT_NAMES[m.group(1)]
            if stats is not None and (getattr(result, attr) is None or m.group(1) == "Latency"):
                setattr(result, attr, stats)
            continue
        for pattern, attr in _NUMBER_LINES:
            m = pattern.search(line)
            if m:
                setattr(result, attr, float(m.group(1)))
                break
    if result.tensorrt_version is None:
        result.tensorrt_version = banner
    return result


# -- running ---------------------------------------------------------------------------------------
#: Seconds between a timeout's SIGTERM and the SIGKILL that follows when trtexec ignores it.
KILL_GRACE_S = 5.0


def _pump(stream: IO[str] | None, sink: queue.Queue[str | None]) -> None:
    """Reader thread: every line of ``stream`` into ``sink``, then ``None`` at end of file."""
    try:
        for line in stream or ():
            sink.put(line)
    finally:
        sink.put(None)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop trtexec and anything it started: SIGTERM to its process group, then SIGKILL.

    Also run after a normal exit: a child trtexec left behind is stopped with it (an empty
    group is a no-op).
    """
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    elif proc.poll() is None:  # pragma: no cover - Windows
        proc.terminate()
    try:
        proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
        proc.wait()


def run_trtexec(
    args: Sequence[str],
    on_line: Callable[[str], Any] | None = print,
    *,
    trtexec: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> TrtexecResult:
    """Run trtexec with ``args``, streaming each output line to ``on_line``; parse the log.

    ``timeout`` (seconds, wall clock) is enforced while the output streams: a trtexec that hangs
    silently or keeps printing past it is stopped and :class:`ProcessTimeoutError` raised.
    ``check=True`` raises :class:`BackendError` (with the last lines) on a non-zero exit.
    """
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise InputError(
            f"timeout must be a finite number of seconds > 0 (or None), got {timeout!r}",
            hint="e.g. timeout=1800 for a large engine build; None waits as long as it takes",
        )
    exe = Path(trtexec) if trtexec is not None else find_trtexec()
    if exe is None:
        raise DependencyError(
            "trtexec was not found (PATH, /usr/src/tensorrt/bin, $TENSORRT_HOME/bin)",
            hint="use NVIDIA's TensorRT container, or build with trtlab.build_engine / "
            "`trtlab build` (Python API), which needs no trtexec",
        )
    command = [str(exe), *args]
    lines: list[str] = []
    sink: queue.Queue[str | None] = queue.Queue()
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = False
    # Own process group: a timeout (or Ctrl-C here) stops trtexec and any child it started.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        errors="replace",
        start_new_session=os.name == "posix",
    )
    try:
        reader = threading.Thread(target=_pump, args=(proc.stdout, sink), daemon=True)
        reader.start()
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                timed_out = True
                break
            try:
                item = sink.get(timeout=wait)
            except queue.Empty:
                timed_out = True
                break
            if item is None:
                break
            line = item.rstrip("\n")
            lines.append(line)
            if on_line is not None:
                on_line(line)
        if not timed_out:
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:  # output closed, process still running
                timed_out = True
    finally:
        _stop(proc)  # after a timeout, an error or Ctrl-C too: trtexec never outlives us
        if proc.stdout is not None:
            proc.stdout.close()
    if timed_out:
        tail = "\n".join(f"    {line}" for line in lines[-5:]) or "    (no output)"
        raise ProcessTimeoutError(
            f"trtexec ran longer than its {timeout:g} s timeout and was stopped "
            f"(pid {proc.pid}, {len(lines)} lines of output); last lines:\n{tail}",
            hint="pass a larger timeout= (large engines build for many minutes), "
            "or timeout=None to wait as long as it takes",
        )
    returncode = int(proc.returncode)
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


# -- trtexec's value syntax (shared with `trtlab build`, see trtlab.cli) --------------------------
def parse_mem_pool(text: str | None) -> int | None:
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


__all__ = [
    "KILL_GRACE_S",
    "STANDARD_LOCATIONS",
    "Stats",
    "TrtexecResult",
    "banner_version",
    "find_trtexec",
    "parse_mem_pool",
    "parse_trtexec_output",
    "run_trtexec",
    "trtexec_args",
]
