"""``trtlab doctor``: what is installed, what runs where, and the exact command to fix each gap.

The report drives the rest of trtlab: ``capabilities()`` decides which notebook cells run
(``%%requires tensorrt gpu``), and ``preferred_backend`` which backend stands in for TensorRT.
Nothing here raises because something is missing: a failed probe becomes a ``Check`` row.
"""

from __future__ import annotations

import functools
import html
import importlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from trtlab._lazy import INSTALL_HINTS, has_module, make_module_callable

Status = Literal["ok", "missing", "warn", "error"]

#: Every capability name ``%%requires`` accepts, with what it means.
CAPABILITIES: dict[str, str] = {
    "cpu": "always present: the CPU path (PyTorch + ONNX Runtime) can be tried",
    "torch": "PyTorch imports",
    "torchvision": "torchvision imports (through trtlab's CPU shim)",
    "onnx": "the onnx package imports",
    "onnxruntime": "ONNX Runtime imports",
    "onnxruntime-gpu": "ONNX Runtime has the CUDA execution provider",
    "gpu": "an NVIDIA GPU is visible to the driver",
    "cuda": "CUDA is usable from Python (PyTorch CUDA build, or cuda-python with a GPU)",
    "cuda-python": "cuda-python (cuda.bindings) is installed",
    "pycuda": "pycuda is installed",
    "tensorrt": "the full TensorRT Python package (builder + runtime) imports",
    "tensorrt-lean": "the lean TensorRT runtime bindings import",
    "jupyter": "a Jupyter front end (JupyterLab or Notebook) and ipykernel are installed",
    "widgets": "ipywidgets is installed",
}

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

    @property
    def tensorrt_path_ok(self) -> bool:
        """True when engines can be built and run here (full TensorRT and a GPU)."""
        return {"tensorrt", "gpu"} <= self.capabilities

    @property
    def preferred_backend(self) -> str:
        """The backend notebooks use for the "optimized" model on this machine."""
        if self.tensorrt_path_ok:
            return "tensorrt"
        if "onnxruntime" in self.capabilities:
            return "onnxruntime"
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
            why = []
            if "tensorrt" not in self.capabilities:
                why.append("no tensorrt package")
            if "gpu" not in self.capabilities:
                why.append("no GPU")
            trt = f"not available ({', '.join(why)}): ONNX Runtime stands in for TensorRT"
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
        rows = [(_STATUS_MARK[c.status], c.name, c.version or "-", c.detail) for c in self.checks]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"trtlab doctor ({self.elapsed_s:.1f} s)"]
        for check, row in zip(self.checks, rows, strict=True):
            lines.append(
                "  "
                + "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
                + f"  {row[3]}".rstrip()
            )
            if not check.ok and check.fix:
                lines.append(" " * (6 + widths[0] + widths[1]) + f"fix: {check.fix}")
        lines.append(self.summary())
        lines.append("capabilities: " + ", ".join(sorted(self.capabilities)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        body = []
        for c in self.checks:
            color = _STATUS_COLOR[c.status]
            fix = f"<code>{esc(c.fix)}</code>" if c.fix and not c.ok else ""
            body.append(
                f"<tr><td style='color:{color};font-weight:bold'>{esc(_STATUS_MARK[c.status])}</td>"
                f"<td>{esc(c.name)}</td><td>{esc(c.version or '-')}</td>"
                f"<td style='text-align:left'>{esc(c.detail)}</td>"
                f"<td style='text-align:left'>{fix}</td></tr>"
            )
        summary = "<br>".join(esc(line) for line in self.summary().splitlines())
        caps = esc(", ".join(sorted(self.capabilities)))
        return (
            "<div class='trtlab-doctor'><table>"
            "<thead><tr><th>status</th><th>component</th><th>version</th><th>detail</th>"
            "<th>fix</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
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


def _run(cmd: list[str], timeout: float = 5.0) -> str | None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def gpu_present() -> bool:
    """True when an NVIDIA GPU is visible to the driver (cheap: no torch/CUDA import)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    try:
        if gpus.is_dir() and any(gpus.iterdir()):
            return True
    except OSError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi:
        out = _run([smi, "-L"])
        if out and "GPU" in out:
            return True
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return bool(torch.cuda.is_available())
        except Exception:
            return False
    return False


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
    smi = shutil.which("nvidia-smi")
    if smi:
        query = _run([smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
        if query and query.strip():
            gpus = [line.strip() for line in query.strip().splitlines()]
            driver = gpus[0].split(",")[1].strip() if "," in gpus[0] else ""
            header = _run([smi]) or ""
            match = re.search(r"CUDA Version:\s*([\d.]+)", header)
            cuda = f"CUDA {match.group(1)}; " if match else ""
            names = "; ".join(g.split(",")[0] for g in gpus)
            return Check("GPU / driver", "ok", driver, f"{cuda}{len(gpus)} GPU(s): {names}")
    if has_module("cuda.bindings"):
        try:
            from cuda.bindings import driver as cu

            (err,) = cu.cuInit(0)
            if int(err) == 0:
                err, count = cu.cuDeviceGetCount()
                err2, version = cu.cuDriverGetVersion()
                if int(err) == 0 and count > 0:
                    ver = f"{version // 1000}.{(version % 1000) // 10}" if int(err2) == 0 else ""
                    return Check("GPU / driver", "ok", ver, f"{count} GPU(s) via cuda-python")
        except Exception:  # no driver library: same as no GPU
            pass
    return Check(
        "GPU / driver",
        "missing",
        "",
        "no NVIDIA GPU found (fine: the CPU path runs ONNX Runtime instead of TensorRT)",
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


def _check_tensorrt(gpu: bool) -> Check:
    fix = INSTALL_HINTS["tensorrt"]
    if not has_module("tensorrt"):
        return Check("TensorRT", "missing", "", "full TensorRT (builder) not installed", fix)
    try:
        import tensorrt
    except Exception as exc:
        return Check("TensorRT", "error", "", f"import failed: {exc}", fix)
    version = str(getattr(tensorrt, "__version__", "?"))
    if not gpu:
        return Check(
            "TensorRT",
            "warn",
            version,
            "installed, but no GPU: engines cannot be built here",
            "run on a machine with an NVIDIA GPU",
        )
    return Check("TensorRT", "ok", version, "builder and runtime")


def _check_tensorrt_lean() -> Check:
    fix = INSTALL_HINTS["tensorrt_lean"]
    for module in ("tensorrt_lean", "tensorrt_lean_bindings"):
        if not has_module(module):
            continue
        try:
            mod = importlib.import_module(module)
        except Exception as exc:
            return Check("TensorRT lean", "error", "", f"{module} import failed: {exc}", fix)
        version = str(getattr(mod, "__version__", "?"))
        return Check("TensorRT lean", "ok", version, f"runtime-only bindings ({module})")
    return Check("TensorRT lean", "missing", "", "lean runtime bindings not installed", fix)


def _check_cuda_python(gpu: bool) -> Check:
    fix = INSTALL_HINTS["cuda"]
    if not has_module("cuda.bindings"):
        return Check("cuda-python", "missing", "", "not installed (optional on CPU)", fix)
    version = _dist_version("cuda-bindings", "cuda-python")
    detail = "cuda.bindings importable" + ("" if gpu else " (no GPU: device calls will fail)")
    return Check("cuda-python", "ok", version, detail)


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


def doctor() -> DoctorReport:
    """Probe the environment and return a :class:`DoctorReport` (never raises on missing parts)."""
    start = time.perf_counter()
    extras: dict[str, Any] = {}
    gpu_check = _safe("GPU / driver", _check_gpu)
    gpu = gpu_check.ok
    checks = [
        _safe("Python", _check_python),
        _safe("OS", _check_os),
        _safe("CPU", _check_cpu),
        gpu_check,
        _safe("torch", lambda: _check_torch(extras)),
        _safe("torchvision", _check_torchvision),
        _safe("onnx", _check_onnx),
        _safe("onnxruntime", lambda: _check_onnxruntime(extras)),
        _safe("TensorRT", lambda: _check_tensorrt(gpu)),
        _safe("TensorRT lean", _check_tensorrt_lean),
        _safe("cuda-python", lambda: _check_cuda_python(gpu)),
        _safe("pycuda", _check_pycuda),
        _safe("Jupyter", _check_jupyter),
        _safe("ipywidgets", _check_widgets),
    ]
    by_name = {c.name: c for c in checks}
    caps = {"cpu"}
    for cap, check_name in (
        ("torch", "torch"),
        ("torchvision", "torchvision"),
        ("onnx", "onnx"),
        ("onnxruntime", "onnxruntime"),
        ("gpu", "GPU / driver"),
        ("cuda-python", "cuda-python"),
        ("pycuda", "pycuda"),
        ("tensorrt-lean", "TensorRT lean"),
        ("jupyter", "Jupyter"),
        ("widgets", "ipywidgets"),
    ):
        if by_name[check_name].ok:
            caps.add(cap)
    if by_name["TensorRT"].status in ("ok", "warn") and by_name["TensorRT"].version:
        caps.add("tensorrt")
    if "CUDAExecutionProvider" in extras.get("onnxruntime_providers", []):
        caps.add("onnxruntime-gpu")
    if extras.get("torch_cuda") or ({"gpu", "cuda-python"} <= caps):
        caps.add("cuda")
    import trtlab

    extras["trtlab_version"] = trtlab.__version__
    return DoctorReport(checks, caps, time.perf_counter() - start, extras)


@functools.lru_cache(maxsize=1)
def _cached_capabilities() -> frozenset[str]:
    return frozenset(doctor().capabilities)


def capabilities(*, refresh: bool = False) -> frozenset[str]:
    """The capability set of this machine, probed once per process (``refresh=True`` re-probes)."""
    if refresh:
        _cached_capabilities.cache_clear()
        gpu_present.cache_clear()
    return _cached_capabilities()


__all__ = ["CAPABILITIES", "Check", "DoctorReport", "capabilities", "doctor", "gpu_present"]


make_module_callable(__name__, doctor)  # `trtlab.doctor(...)` works after `import trtlab.doctor`
