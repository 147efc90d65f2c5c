"""``trtlab doctor``: what is installed, what runs where, and the exact command to fix each gap.

A *report* over :mod:`trtlab.capabilities`, which makes the decisions (is TensorRT usable, which
backend ``auto`` means, what ``%%requires`` sees); no core module imports this one. The doctor
adds what only a report needs: it imports torch, onnx and ONNX Runtime to show their versions and
to prove they import, then re-probes the capabilities so the providers it shows are exact.
Nothing here raises because something is missing: a failed probe becomes a ``Check`` row.
"""

from __future__ import annotations

import dataclasses
import html
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from trtlab import capabilities as _caps
from trtlab._lazy import INSTALL_HINTS, has_module, make_module_callable
from trtlab._tables import Cell, Html, HtmlCell, html_table, text_table
from trtlab.capabilities import FULL_MODULES, LEAN_MODULES, REQUIREMENTS, Capabilities, version_str
from trtlab.errors import TrtlabError

Status = Literal["ok", "missing", "warn", "error"]

#: Every capability name ``%%requires`` accepts, with what it means (home: trtlab.capabilities).
CAPABILITIES: dict[str, str] = REQUIREMENTS

_STATUS_MARK = {"ok": "ok", "missing": "missing", "warn": "warn", "error": "ERROR"}
_STATUS_COLOR = {"ok": "#1a7f37", "missing": "#6e7781", "warn": "#9a6700", "error": "#cf222e"}


@dataclass
class Check:
    """One row of the report: a component, its state, and how to fix it when it is not ``ok``."""

    name: str
    status: Status
    version: str = ""
    detail: str = ""
    fix: str = ""
    required: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(repr=False)
class DoctorReport:
    """All checks plus what they add up to (capabilities, CPU path, preferred backend)."""

    checks: list[Check]
    capabilities: set[str]
    elapsed_s: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name.lower() == name.lower():
                return check
        raise KeyError(f"no check named {name!r}; checks: {[c.name for c in self.checks]}")

    @property
    def cpu_path_ok(self) -> bool:
        """True when PyTorch, torchvision, onnx and ONNX Runtime all work (the notebooks' floor)."""
        return {"torch", "torchvision", "onnx", "onnxruntime"} <= self.capabilities

    def _machine(self) -> Capabilities:
        """The capability set as a :class:`Capabilities`, so the rules live in one place."""
        have = self.capabilities
        return Capabilities(
            gpu="gpu" in have,
            cuda_python="cuda-python" in have,
            tensorrt_full="tensorrt" in have,
            tensorrt_lean="tensorrt-lean" in have,
            torch="torch" in have,
            onnxruntime="onnxruntime" in have,
        )

    @property
    def tensorrt_path_ok(self) -> bool:
        """True when engines can be built and run here (full TensorRT, a GPU and cuda-python)."""
        return self._machine().can_build_engines()

    @property
    def preferred_backend(self) -> str:
        """The backend ``auto`` picks for an ONNX model here (:func:`select_backend`'s rule)."""
        try:
            return _caps.select_backend("onnx", caps=self._machine())
        except TrtlabError:
            return "torch" if "torch" in self.capabilities else "none"

    @property
    def problems(self) -> list[Check]:
        """Rows that are ``error``, or ``missing``/``warn`` while required."""
        return [c for c in self.checks if c.status == "error" or (c.required and not c.ok)]

    def summary(self) -> str:
        """Two lines a notebook or the CLI prints under the table."""
        cpu = "usable" if self.cpu_path_ok else "NOT usable (see the fixes above)"
        if self.tensorrt_path_ok:
            trt = "available: engines are built and run with TensorRT"
        else:
            why = "; ".join(self._machine().missing_for("build"))
            trt = f"not available ({why}): ONNX Runtime stands in for TensorRT"
        return f"CPU path (PyTorch + ONNX Runtime): {cpu}\nTensorRT path: {trt}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": [asdict(c) for c in self.checks],
            "capabilities": sorted(self.capabilities),
            "cpu_path_ok": self.cpu_path_ok,
            "tensorrt_path_ok": self.tensorrt_path_ok,
            "preferred_backend": self.preferred_backend,
            "elapsed_s": round(self.elapsed_s, 3),
            **self.extras,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        rows = [[_STATUS_MARK[c.status], c.name, c.version or "-", c.detail] for c in self.checks]
        fixes = {i: [f"fix: {c.fix}"] for i, c in enumerate(self.checks) if not c.ok and c.fix}
        table = text_table(rows, indent="  ", extra=fixes, extra_column=2)
        return "\n".join(
            [
                f"trtlab doctor ({self.elapsed_s:.1f} s)",
                table,
                self.summary(),
                "capabilities: " + ", ".join(sorted(self.capabilities)),
            ]
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        left = "text-align:left"
        body: list[list[HtmlCell]] = [
            [
                Cell(
                    _STATUS_MARK[c.status],
                    style=f"color:{_STATUS_COLOR[c.status]};font-weight:bold",
                ),
                c.name,
                c.version or "-",
                Cell(c.detail, style=left),
                Cell(Html(f"<code>{esc(c.fix)}</code>" if c.fix and not c.ok else ""), style=left),
            ]
            for c in self.checks
        ]
        table = html_table(body, header=("status", "component", "version", "detail", "fix"))
        summary = "<br>".join(esc(line) for line in self.summary().splitlines())
        caps = esc(", ".join(sorted(self.capabilities)))
        return (
            f"<div class='trtlab-doctor'>{table}"
            f"<p>{summary}<br>capabilities: <code>{caps}</code></p></div>"
        )


# -- probes ---------------------------------------------------------------------------------------


def _dist_version(*names: str) -> str:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return ""


def gpu_present() -> bool:
    """True when an NVIDIA GPU is visible (old name; new code asks ``capabilities.probe().gpu``)."""
    return _caps.probe().gpu


def _check_python() -> Check:
    v = sys.version_info
    ok = v >= (3, 10)
    return Check(
        "Python",
        "ok" if ok else "error",
        platform.python_version(),
        sys.executable,
        "" if ok else "use Python 3.10 or newer",
        required=True,
    )


def _check_os() -> Check:
    return Check("OS", "ok", platform.release(), platform.platform(terse=True))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _check_cpu() -> Check:
    total = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = total
    cores = f"{usable} usable core(s)" + (f" of {total}" if usable != total else "")
    return Check("CPU", "ok", platform.machine(), f"{_cpu_model()}, {cores}")


def _check_gpu() -> Check:
    caps = _caps.probe()
    if caps.gpu:
        cuda = f"CUDA {caps.cuda_driver_version}; " if caps.cuda_driver_version else ""
        sm = f" ({caps.sm})" if caps.sm else ""
        names = "; ".join(caps.gpu_names)
        detail = f"{cuda}{caps.gpu_count} GPU(s): {names}{sm}; found by {caps.gpu_source}"
        return Check("GPU / driver", "ok", caps.driver_version or "", detail)
    why = f" ({caps.gpu_detail})" if caps.gpu_detail else ""
    return Check(
        "GPU / driver",
        "missing",
        "",
        f"no NVIDIA GPU found{why}; fine: the CPU path runs ONNX Runtime instead of TensorRT",
        "TensorRT needs a machine with an NVIDIA GPU and driver (nvidia-smi must work)",
    )


def _check_torch(extras: dict[str, Any]) -> Check:
    if not has_module("torch"):
        return Check("torch", "missing", "", "PyTorch not installed", INSTALL_HINTS["torch"], True)
    try:
        import torch
    except Exception as exc:
        return Check("torch", "error", "", f"import failed: {exc}", INSTALL_HINTS["torch"], True)
    cuda = bool(torch.cuda.is_available())
    extras["torch_cuda"] = cuda
    extras["torch_threads"] = torch.get_num_threads()
    if cuda:
        detail = f"CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s) visible"
    elif torch.version.cuda:
        detail = f"CUDA {torch.version.cuda} build, but no GPU visible"
    else:
        detail = "CPU build (CUDA available: no)"
    return Check(
        "torch",
        "ok",
        str(torch.__version__),
        f"{detail}; {torch.get_num_threads()} threads",
        required=True,
    )


def _check_torchvision() -> Check:
    fix = INSTALL_HINTS["torchvision"]
    if not has_module("torchvision"):
        return Check("torchvision", "missing", "", "not installed", fix, True)
    try:
        from trtlab._tv_shim import import_torchvision

        version = str(import_torchvision().__version__)
    except Exception as exc:
        return Check("torchvision", "error", "", f"import failed: {exc}", fix, True)
    return Check("torchvision", "ok", version, "imports through trtlab's shim", required=True)


def _check_onnx() -> Check:
    try:
        import onnx
    except Exception as exc:
        status: Status = "missing" if not has_module("onnx") else "error"
        return Check("onnx", status, "", f"not importable: {exc}", INSTALL_HINTS["onnx"], True)
    return Check(
        "onnx",
        "ok",
        str(onnx.__version__),
        f"max opset {onnx.defs.onnx_opset_version()}",
        required=True,
    )


def _check_onnxruntime(extras: dict[str, Any]) -> Check:
    fix = INSTALL_HINTS["onnxruntime"]
    try:
        import onnxruntime
    except Exception as exc:
        status: Status = "missing" if not has_module("onnxruntime") else "error"
        return Check("onnxruntime", status, "", f"not importable: {exc}", fix, True)
    providers = list(onnxruntime.get_available_providers())
    extras["onnxruntime_providers"] = providers
    short = [p.replace("ExecutionProvider", "") for p in providers]
    return Check(
        "onnxruntime",
        "ok",
        str(onnxruntime.__version__),
        "providers: " + ", ".join(short),
        required=True,
    )


def _import_errors(caps: Capabilities, names: tuple[str, ...]) -> list[str]:
    return [e for e in caps.tensorrt_errors if e.split(":", 1)[0] in names]


def _check_tensorrt() -> Check:
    caps = _caps.probe()
    fix = INSTALL_HINTS["tensorrt"]
    if not caps.tensorrt_full:
        errors = _import_errors(caps, FULL_MODULES)
        if errors:
            return Check("TensorRT", "error", "", f"import failed: {errors[0]}", fix)
        detail = "full TensorRT (builder) not installed"
        if caps.tensorrt_lean_module in FULL_MODULES:
            detail = f"'{caps.tensorrt_lean_module}' has no Builder: a runtime only, cannot build"
        return Check("TensorRT", "missing", "", detail, fix)
    version = version_str(caps.tensorrt_version or ()) or "?"
    missing = caps.missing_for("build")
    if missing:
        how = INSTALL_HINTS["cuda"] if caps.gpu else "run on a machine with an NVIDIA GPU"
        detail = f"installed, but {'; '.join(missing)}: engines cannot be built here"
        return Check("TensorRT", "warn", version, detail, how)
    return Check("TensorRT", "ok", version, f"builder and runtime ({caps.tensorrt_module})")


def _check_tensorrt_lean() -> Check:
    caps = _caps.probe()
    fix = INSTALL_HINTS["tensorrt_lean"]
    if caps.tensorrt_lean:
        version = version_str(caps.tensorrt_lean_version or ()) or "?"
        return Check(
            "TensorRT lean", "ok", version, f"runtime-only bindings ({caps.tensorrt_lean_module})"
        )
    errors = _import_errors(caps, LEAN_MODULES)
    if errors:
        return Check("TensorRT lean", "error", "", f"import failed: {errors[0]}", fix)
    return Check("TensorRT lean", "missing", "", "lean runtime bindings not installed", fix)


def _check_cuda_python() -> Check:
    caps = _caps.probe()
    fix = INSTALL_HINTS["cuda"]
    if not caps.cuda_python:
        return Check("cuda-python", "missing", "", "not installed (optional on CPU)", fix)
    detail = "cuda.bindings importable" + ("" if caps.gpu else " (no GPU: device calls will fail)")
    return Check("cuda-python", "ok", caps.cuda_python_version or "", detail)


def _check_pycuda() -> Check:
    if not has_module("pycuda"):
        return Check(
            "pycuda",
            "missing",
            "",
            "not installed (optional; cuda-python is the default)",
            INSTALL_HINTS["pycuda"],
        )
    return Check("pycuda", "ok", _dist_version("pycuda"), "installed")


def _check_jupyter() -> Check:
    lab = _dist_version("jupyterlab")
    nb = _dist_version("notebook")
    kernel = _dist_version("ipykernel")
    parts = [f"jupyterlab {lab}" if lab else "", f"notebook {nb}" if nb else ""]
    front = ", ".join(p for p in parts if p)
    if (lab or nb) and kernel:
        return Check("Jupyter", "ok", lab or nb, f"{front}; ipykernel {kernel}")
    missing = [n for n, v in (("jupyterlab", lab or nb), ("ipykernel", kernel)) if not v]
    return Check(
        "Jupyter",
        "missing",
        lab or nb,
        f"missing: {', '.join(missing)}",
        "pip install " + " ".join(missing),
    )


def _check_widgets() -> Check:
    version = _dist_version("ipywidgets")
    if version and has_module("ipywidgets"):
        return Check("ipywidgets", "ok", version, "interactive notebook controls")
    return Check("ipywidgets", "missing", "", "not installed", INSTALL_HINTS["ipywidgets"])


def _safe(name: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as exc:  # a doctor never raises because a probe broke
        return Check(name, "error", "", f"probe failed: {type(exc).__name__}: {exc}")


def _probe_after_imports(extras: dict[str, Any]) -> None:
    """Re-probe now that torch/onnxruntime are imported (exact providers, torch CUDA)."""
    try:
        caps = _caps.probe(refresh=True)
    except Exception as exc:  # the checks reading it will show the failure as rows
        extras["probe_error"] = f"{type(exc).__name__}: {exc}"
        return
    extras["machine"] = dataclasses.asdict(caps)


#: capability name -> the row that must be ``ok`` for the doctor to confirm it.
_CONFIRMED_BY = {
    "torch": "torch",
    "torchvision": "torchvision",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "onnxruntime-gpu": "onnxruntime",
    "gpu": "GPU / driver",
    "cuda-python": "cuda-python",
    "pycuda": "pycuda",
    "tensorrt-lean": "TensorRT lean",
    "jupyter": "Jupyter",
    "widgets": "ipywidgets",
}


def doctor() -> DoctorReport:
    """Probe the environment and return a :class:`DoctorReport` (never raises on missing parts)."""
    start = time.perf_counter()
    extras: dict[str, Any] = {}
    # the heavy imports first: the capabilities probe then sees torch CUDA and exact providers
    torch_check = _safe("torch", lambda: _check_torch(extras))
    tv_check = _safe("torchvision", _check_torchvision)
    onnx_check = _safe("onnx", _check_onnx)
    ort_check = _safe("onnxruntime", lambda: _check_onnxruntime(extras))
    _probe_after_imports(extras)
    checks = [
        _safe("Python", _check_python),
        _safe("OS", _check_os),
        _safe("CPU", _check_cpu),
        _safe("GPU / driver", _check_gpu),
        torch_check,
        tv_check,
        onnx_check,
        ort_check,
        _safe("TensorRT", _check_tensorrt),
        _safe("TensorRT lean", _check_tensorrt_lean),
        _safe("cuda-python", _check_cuda_python),
        _safe("pycuda", _check_pycuda),
        _safe("Jupyter", _check_jupyter),
        _safe("ipywidgets", _check_widgets),
    ]
    by_name = {c.name: c for c in checks}
    try:
        caps = set(_caps.requirement_set())
    except Exception:
        caps = {"cpu"}
    for cap, row in _CONFIRMED_BY.items():
        if cap in caps and not by_name[row].ok:
            caps.discard(cap)  # installed, but the doctor saw it fail (or its probe broke)
    if by_name["TensorRT"].status not in ("ok", "warn"):
        caps.discard("tensorrt")
    if not (extras.get("torch_cuda") or {"gpu", "cuda-python"} <= caps):
        caps.discard("cuda")
    import trtlab

    extras["trtlab_version"] = trtlab.__version__
    return DoctorReport(checks, caps, time.perf_counter() - start, extras)


def capabilities(*, refresh: bool = False) -> frozenset[str]:
    """The ``%%requires`` names this machine meets (:func:`trtlab.capabilities.requirement_set`).

    Light: probed once per process without importing torch or onnxruntime (``refresh=True``
    re-probes). :func:`doctor` refines the same set by importing each package.
    """
    return _caps.requirement_set(refresh=refresh)


__all__ = ["CAPABILITIES", "Check", "DoctorReport", "capabilities", "doctor", "gpu_present"]


make_module_callable(__name__, doctor)  # `trtlab.doctor(...)` works after `import trtlab.doctor`
