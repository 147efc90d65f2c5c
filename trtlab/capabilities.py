"""What this machine can do, probed once: GPU, TensorRT (full / lean, version), cuda-python, ORT.

Why one module: "is TensorRT usable here" and "which backend does ``auto`` mean" used to be answered
in five places that disagreed (one ignored cuda-python, so ``runner(x, backend="auto")`` on a GPU
machine without cuda-python built an engine for minutes and then failed). Every layer now asks
:func:`probe`, :func:`can_build_engines`, :func:`can_run_engines` and :func:`select_backend`;
``trtlab doctor`` is a report over the same answers.

Import-light by design (``%%requires`` and the CLI call it on CPU laptops):

- **GPU**: ``nvidia-smi`` in a subprocess (fork-safe, no CUDA context in this process), filtered by
  ``CUDA_VISIBLE_DEVICES``; without ``nvidia-smi``, the driver library through :mod:`ctypes`
  (``cuInit`` + device queries); ``torch.cuda`` only if torch is *already* imported.
  ``/proc/driver/nvidia`` is not trusted: containers without GPU access still see the host's.
- **TensorRT**: the bindings are imported when installed, because only the imported module tells a
  builder (``tensorrt.Builder``) from a lean runtime and gives the version that
  :func:`trtlab.trt._compat.import_tensorrt` will hand out: both read :func:`find_tensorrt`, so
  ``require_full_tensorrt()`` and ``probe().tensorrt_full`` always agree.
- **cuda-python**: ``find_spec("cuda.bindings")`` and the distribution version (no import).
- **ONNX Runtime providers**: ``onnxruntime.get_available_providers()`` when onnxruntime is already
  imported (exact); otherwise read from which wheel is installed (``onnxruntime-gpu`` has CUDA and
  TensorRT providers, ``onnxruntime`` only CPU), without importing it. ``ort_providers_exact`` says
  which. ``trtlab doctor`` imports onnxruntime anyway and re-probes, so its report is exact.
- torch, onnxruntime and onnx are never imported here.

``probe()`` caches its answer for the process; ``probe(refresh=True)`` re-probes (after a
``pip install``), and tests monkeypatch :func:`probe` or pass a :class:`Capabilities` to the
``caps=`` arguments.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from trtlab.errors import BackendError, ConfigError, DependencyError, InputError

#: Every backend a :class:`~trtlab.runners.Runner` can have (one home; others import it).
BACKENDS: tuple[str, ...] = ("torch", "onnxruntime", "tensorrt")
#: The backends that can run an ``.onnx`` file (TensorRT builds an engine from it first).
ONNX_BACKENDS: tuple[str, ...] = ("onnxruntime", "tensorrt")

SourceKind = Literal["onnx", "engine", "module"]

#: Every name ``%%requires`` accepts, with what it means (:func:`requirement_set` says which hold).
REQUIREMENTS: dict[str, str] = {
    "cpu": "always present: the CPU path (PyTorch + ONNX Runtime) can be tried",
    "torch": "PyTorch is installed",
    "torchvision": "torchvision is installed (imported through trtlab's CPU shim)",
    "onnx": "the onnx package is installed",
    "onnxruntime": "ONNX Runtime is installed",
    "onnxruntime-gpu": "ONNX Runtime has the CUDA execution provider",
    "gpu": "an NVIDIA GPU is visible to the driver",
    "cuda": "CUDA is usable from Python (PyTorch CUDA build, or cuda-python with a GPU)",
    "cuda-python": "cuda-python (cuda.bindings) is installed",
    "pycuda": "pycuda is installed",
    "tensorrt": "the full TensorRT Python package (builder + runtime) imports",
    "tensorrt-lean": "a runtime-only TensorRT (the lean bindings) imports",
    "jupyter": "a Jupyter front end (JupyterLab or Notebook) and ipykernel are installed",
    "widgets": "ipywidgets is installed",
    "tritonclient": "tritonclient (Triton's client and model-config protobuf) is installed",
    "pytriton": "PyTriton (a real Triton server) is installed (its own venv: make triton-venv)",
}

#: Import names tried, in order. ``*_bindings`` are what the bare ``-bindings`` wheels install
#: (the ``tensorrt``/``tensorrt_lean`` meta wheels add the short names).
FULL_MODULES: tuple[str, ...] = ("tensorrt", "tensorrt_bindings")
LEAN_MODULES: tuple[str, ...] = ("tensorrt_lean", "tensorrt_lean_bindings")

#: onnxruntime wheels -> the execution providers they ship (used when onnxruntime is not imported).
_ORT_WHEELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "onnxruntime-gpu",
        ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
    ),
    ("onnxruntime-openvino", ("OpenVINOExecutionProvider", "CPUExecutionProvider")),
    ("onnxruntime-directml", ("DmlExecutionProvider", "CPUExecutionProvider")),
    ("onnxruntime", ("CPUExecutionProvider",)),
)

_INSTALL_TENSORRT = (
    "use NVIDIA's TensorRT container (nvcr.io/nvidia/tensorrt) or "
    "pip install tensorrt --extra-index-url https://pypi.nvidia.com (on a CUDA GPU machine)"
)
_INSTALL_CUDA_PYTHON = "pip install 'trtlab[gpu]' (installs cuda-python)"
_INSTALL_ORT = "pip install onnxruntime (or onnxruntime-gpu on a CUDA machine)"


# -- versions ------------------------------------------------------------------------------------
def parse_version(text: str | Sequence[int]) -> tuple[int, ...]:
    """``"10.13.3.9"`` -> ``(10, 13, 3, 9)``; tuples pass through; stops at the first non-digit."""
    if not isinstance(text, str):
        return tuple(int(p) for p in text)
    parts: list[int] = []
    for piece in text.strip().split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    if not parts:
        raise ConfigError(
            f"not a TensorRT version: {text!r}; expected something like '10.13.3.9'",
            hint="pass the version as a string 'MAJOR.MINOR[.PATCH[.BUILD]]' or a tuple of ints",
        )
    return tuple(parts)


def version_str(version: Sequence[int]) -> str:
    """``(10, 13, 3, 9)`` -> ``"10.13.3.9"``."""
    return ".".join(str(int(p)) for p in version)


def module_version(module: ModuleType) -> tuple[int, ...] | None:
    """Version of an imported TensorRT module (``__version__``), or None if it has none."""
    raw = getattr(module, "__version__", None)
    if not isinstance(raw, str):
        return None
    try:
        return parse_version(raw)
    except ConfigError:
        return None


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without __spec__
        return name in sys.modules and sys.modules[name] is not None


# -- TensorRT ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorRTFind:
    """Which TensorRT modules import here. ``lean_module`` is a runtime without a builder."""

    full_module: str | None = None
    lean_module: str | None = None
    full_version: tuple[int, ...] | None = None
    lean_version: tuple[int, ...] | None = None
    errors: tuple[str, ...] = ()

    @property
    def version(self) -> tuple[int, ...] | None:
        """The version that builds here, else the lean runtime's."""
        return self.full_version or self.lean_version


def is_full_tensorrt(module: ModuleType) -> bool:
    """The full TensorRT has a Builder; the lean runtime only deserializes and runs."""
    return hasattr(module, "Builder")


def _import(name: str) -> tuple[ModuleType | None, str | None]:
    """The module, or None and why (None as the reason when it simply is not installed)."""
    if name not in sys.modules and not _has_module(name):
        return None, None
    try:
        return importlib.import_module(name), None
    except ModuleNotFoundError as exc:
        if exc.name == name or sys.modules.get(name, 0) is None:
            return None, None  # not installed, or blocked on purpose (sys.modules[name] = None)
        return None, f"{name}: {type(exc).__name__}: {exc}"
    except Exception as exc:  # ImportError, or OSError when native libraries are missing
        return None, f"{name}: {type(exc).__name__}: {exc}"


def find_tensorrt() -> TensorRTFind:
    """Import the installed TensorRT bindings and say which is a builder and which a runtime.

    Not cached (cheap once imported), so it sees monkeypatched ``sys.modules`` in tests. A
    ``tensorrt`` module without ``Builder`` counts as a lean runtime, never as full TensorRT.
    """
    full: tuple[str, tuple[int, ...] | None] | None = None
    lean: tuple[str, tuple[int, ...] | None] | None = None
    errors: list[str] = []
    for name in LEAN_MODULES + FULL_MODULES:
        module, error = _import(name)
        if error:
            errors.append(error)
        if module is None:
            continue
        if is_full_tensorrt(module):
            full = full or (name, module_version(module))
        else:
            lean = lean or (name, module_version(module))
    return TensorRTFind(
        full_module=full[0] if full else None,
        lean_module=lean[0] if lean else None,
        full_version=full[1] if full else None,
        lean_version=lean[1] if lean else None,
        errors=tuple(errors),
    )


# -- GPU -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Gpu:
    names: tuple[str, ...] = ()
    compute_capability: tuple[int, int] | None = None
    driver_version: str | None = None
    memory_mib: int | None = None
    source: str = "none"
    detail: str = ""


def _run(cmd: list[str], timeout: float = 10.0) -> str | None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _visible(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    """Apply ``CUDA_VISIBLE_DEVICES`` (indices or UUIDs) the way CUDA does; note when it hides."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return rows, ""
    picked: list[dict[str, str]] = []
    for token in (t.strip() for t in env.split(",")):
        if token.startswith("MIG-"):
            return rows, ""  # MIG instances: nvidia-smi rows do not map one-to-one; keep all
        match = [r for r in rows if r.get("index") == token or r.get("uuid", "").startswith(token)]
        if not token or not match:
            break  # CUDA stops at the first invalid entry
        picked.append(match[0])
    note = "" if picked else f"CUDA_VISIBLE_DEVICES={env!r} hides every GPU"
    return picked, note


def _gpu_from_smi() -> _Gpu | None:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    fields = ["index", "uuid", "name", "compute_cap", "driver_version", "memory.total"]
    out = _run([smi, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"])
    if out is None:  # drivers older than 510 have no compute_cap field
        fields.remove("compute_cap")
        out = _run([smi, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"])
    if out is None:
        return _Gpu(detail="nvidia-smi is installed but failed (driver not loaded?)")
    rows = [
        dict(zip(fields, (c.strip() for c in line.split(",")), strict=False))
        for line in out.strip().splitlines()
        if line.strip()
    ]
    rows, note = _visible(rows)
    if not rows:
        return _Gpu(detail=note or "nvidia-smi lists no GPU")
    first = rows[0]
    cc: tuple[int, int] | None = None
    match = re.fullmatch(r"(\d+)\.(\d+)", first.get("compute_cap", ""))
    if match:
        cc = (int(match.group(1)), int(match.group(2)))
    memory = first.get("memory.total", "")
    return _Gpu(
        names=tuple(r.get("name", "?") for r in rows),
        compute_capability=cc,
        driver_version=first.get("driver_version") or None,
        memory_mib=int(memory) if memory.isdigit() else None,
        source="nvidia-smi",
    )


def _libcuda() -> ctypes.CDLL | None:
    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so")
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _cuda_driver_version(lib: ctypes.CDLL | None) -> str | None:
    """The CUDA version the driver supports (``cuDriverGetVersion`` needs no ``cuInit``)."""
    if lib is None:
        return None
    version = ctypes.c_int(0)
    try:
        if lib.cuDriverGetVersion(ctypes.byref(version)) != 0 or version.value <= 0:
            return None
    except AttributeError:
        return None
    return f"{version.value // 1000}.{(version.value % 1000) // 10}"


def _gpu_from_libcuda(lib: ctypes.CDLL | None) -> _Gpu | None:
    """Ask the driver directly (only where nvidia-smi is missing: this initialises CUDA here)."""
    if lib is None:
        return None
    try:
        if lib.cuInit(0) != 0:
            return _Gpu(detail="the CUDA driver library loads but cuInit failed (no usable GPU)")
        count = ctypes.c_int(0)
        if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
            return _Gpu(detail="the CUDA driver sees no device")
        names = []
        for i in range(count.value):
            device = ctypes.c_int(0)
            buf = ctypes.create_string_buffer(256)
            if lib.cuDeviceGet(ctypes.byref(device), i) == 0:
                lib.cuDeviceGetName(buf, 256, device)
            names.append(buf.value.decode(errors="replace") or "?")
        device = ctypes.c_int(0)
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        lib.cuDeviceGet(ctypes.byref(device), 0)
        # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
        ok = lib.cuDeviceGetAttribute(ctypes.byref(major), 75, device) == 0
        ok = ok and lib.cuDeviceGetAttribute(ctypes.byref(minor), 76, device) == 0
    except (AttributeError, OSError) as exc:
        return _Gpu(detail=f"the CUDA driver library failed: {exc}")
    cc = (major.value, minor.value) if ok and major.value > 0 else None
    return _Gpu(names=tuple(names), compute_capability=cc, source="libcuda")


def _gpu_from_torch() -> _Gpu | None:
    torch = sys.modules.get("torch")  # only when the user already imported it
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return None
        cc = tuple(int(v) for v in torch.cuda.get_device_capability(0))
        names = tuple(str(torch.cuda.get_device_name(i)) for i in range(torch.cuda.device_count()))
    except Exception:
        return None
    return _Gpu(names=names, compute_capability=(cc[0], cc[1]), source="torch")


def _torch_cuda() -> bool | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return bool(torch.cuda.is_available())
    except Exception:
        return False


# -- the answer ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capabilities:
    """What this machine can do. Build one by hand in tests; :func:`probe` measures the real one.

    ``gpu_name``/``compute_capability`` describe the first visible GPU; ``tensorrt_version`` is
    the full TensorRT's when there is one, else the lean runtime's; ``tensorrt_lean`` is True for
    any runtime-only TensorRT (the lean bindings, or a ``tensorrt`` module without ``Builder``);
    ``torch_cuda`` is None unless torch was already imported (the probe never imports it).
    """

    gpu: bool = False
    gpu_name: str | None = None
    compute_capability: tuple[int, int] | None = None
    cuda_python: bool = False
    tensorrt_full: bool = False
    tensorrt_lean: bool = False
    tensorrt_version: tuple[int, ...] | None = None
    ort_providers: tuple[str, ...] = ()
    torch_cuda: bool | None = None
    # details for reports (doctor, skip messages)
    gpu_names: tuple[str, ...] = ()
    gpu_memory_mib: int | None = None
    gpu_source: str = "none"
    gpu_detail: str = ""
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    cuda_python_version: str | None = None
    tensorrt_module: str | None = None
    tensorrt_lean_module: str | None = None
    tensorrt_lean_version: tuple[int, ...] | None = None
    tensorrt_errors: tuple[str, ...] = ()
    torch: bool = False
    onnxruntime: bool = False
    onnxruntime_version: str | None = None
    ort_providers_exact: bool = False
    torchvision: bool = False
    onnx: bool = False
    pycuda: bool = False
    jupyter: bool = False
    widgets: bool = False
    tritonclient: bool = False
    pytriton: bool = False

    @property
    def gpu_count(self) -> int:
        return len(self.gpu_names) if self.gpu_names else int(self.gpu)

    @property
    def sm(self) -> str | None:
        """``"sm_90"`` for compute capability 9.0 (how TensorRT and trtexec name it)."""
        cc = self.compute_capability
        return f"sm_{cc[0]}{cc[1]}" if cc else None

    def can_build_engines(self) -> bool:
        """Full TensorRT + a GPU + cuda-python (``Engine`` moves buffers through cuda-python)."""
        return self.tensorrt_full and self.gpu and self.cuda_python

    def can_run_engines(self) -> bool:
        """Full or lean TensorRT + a GPU + cuda-python."""
        return (self.tensorrt_full or self.tensorrt_lean) and self.gpu and self.cuda_python

    def missing_for(self, need: Literal["build", "run", "gpu"]) -> list[str]:
        """Why ``need`` (build or run engines, use the GPU) is impossible here; [] if it is."""
        reasons = []
        if need == "build" and not self.tensorrt_full:
            if self.tensorrt_lean:
                reasons.append(
                    "only the lean TensorRT runtime is installed, which runs engines but cannot "
                    "build them"
                )
            else:
                reasons.append("the full TensorRT package (with the builder) is not installed")
        if need == "run" and not (self.tensorrt_full or self.tensorrt_lean):
            reasons.append("no TensorRT Python package (full or lean) is installed")
        if not self.gpu:
            reasons.append(
                "no CUDA GPU is visible" + (f" ({self.gpu_detail})" if self.gpu_detail else "")
            )
        if not self.cuda_python:
            reasons.append("cuda-python (cuda.bindings) is not installed")
        return reasons

    def summary(self) -> str:
        """One line for notebook headers and pytest: what this machine can do."""
        gpu = (
            f"GPU {self.gpu_name}" + (f" ({self.sm})" if self.sm else "") if self.gpu else "no GPU"
        )
        version = f" {version_str(self.tensorrt_version)}" if self.tensorrt_version else ""
        if self.tensorrt_full:
            trt = f"TensorRT{version}"
        elif self.tensorrt_lean:
            trt = f"TensorRT lean{version}"
        else:
            trt = "no TensorRT"
        cuda = "cuda-python" if self.cuda_python else "no cuda-python"
        ort = "ORT " + ",".join(p.removesuffix("ExecutionProvider") for p in self.ort_providers)
        return f"{gpu}; {trt}; {cuda}; {ort if self.ort_providers else 'no ONNX Runtime'}"


def _ort_providers() -> tuple[tuple[str, ...], bool]:
    ort = sys.modules.get("onnxruntime")
    if ort is not None:
        try:
            return tuple(str(p) for p in ort.get_available_providers()), True
        except Exception:
            pass
    for dist, providers in _ORT_WHEELS:
        if _dist_version(dist) is not None:
            return providers, False
    return (("CPUExecutionProvider",), False) if _has_module("onnxruntime") else ((), False)


def _probe_gpu(lib: ctypes.CDLL | None) -> _Gpu:
    """nvidia-smi first; the driver library only where nvidia-smi is missing; torch if imported."""
    smi = _gpu_from_smi()
    if smi is not None and (smi.names or "hides" in smi.detail):
        return smi
    driver = _gpu_from_libcuda(lib) if smi is None else None
    if driver is not None and driver.names:
        return driver
    from_torch = _gpu_from_torch()
    if from_torch is not None:
        return from_torch
    details = [smi.detail if smi is not None else "nvidia-smi not found"]
    if smi is None:
        details.append(driver.detail if driver is not None else "no CUDA driver library")
    return _Gpu(detail="; ".join(d for d in details if d))


def _measure() -> Capabilities:
    lib = _libcuda()
    gpu = _probe_gpu(lib)
    trt = find_tensorrt()
    providers, exact = _ort_providers()
    return Capabilities(
        gpu=bool(gpu.names),
        gpu_name=gpu.names[0] if gpu.names else None,
        compute_capability=gpu.compute_capability,
        cuda_python=_has_module("cuda.bindings"),
        tensorrt_full=trt.full_module is not None,
        tensorrt_lean=trt.lean_module is not None,
        tensorrt_version=trt.version,
        ort_providers=providers,
        torch_cuda=_torch_cuda(),
        gpu_names=gpu.names,
        gpu_memory_mib=gpu.memory_mib,
        gpu_source=gpu.source,
        gpu_detail=gpu.detail,
        driver_version=gpu.driver_version,
        cuda_driver_version=_cuda_driver_version(lib),
        cuda_python_version=_dist_version("cuda-bindings", "cuda-python"),
        tensorrt_module=trt.full_module,
        tensorrt_lean_module=trt.lean_module,
        tensorrt_lean_version=trt.lean_version,
        tensorrt_errors=trt.errors,
        torch=_has_module("torch"),
        onnxruntime=_has_module("onnxruntime"),
        onnxruntime_version=_dist_version("onnxruntime", "onnxruntime-gpu"),
        ort_providers_exact=exact,
        torchvision=_has_module("torchvision"),
        onnx=_has_module("onnx"),
        pycuda=_has_module("pycuda"),
        jupyter=bool(_dist_version("jupyterlab", "notebook") and _dist_version("ipykernel")),
        widgets=_has_module("ipywidgets"),
        tritonclient=_has_module("tritonclient"),
        pytriton=_has_module("pytriton"),
    )


_cache: list[Capabilities] = []
_lock = threading.Lock()


def probe(refresh: bool = False) -> Capabilities:
    """This machine's :class:`Capabilities`, measured once per process (``refresh=True``: again)."""
    with _lock:
        if refresh or not _cache:
            _cache[:] = [_measure()]
        return _cache[0]


def requirement_set(caps: Capabilities | None = None, *, refresh: bool = False) -> frozenset[str]:
    """The :data:`REQUIREMENTS` names this machine meets (what ``%%requires`` checks against)."""
    caps = caps if caps is not None else probe(refresh)
    have = {"cpu"}
    flags = {
        "torch": caps.torch,
        "torchvision": caps.torchvision,
        "onnx": caps.onnx,
        "onnxruntime": caps.onnxruntime,
        "onnxruntime-gpu": "CUDAExecutionProvider" in caps.ort_providers,
        "gpu": caps.gpu,
        "cuda": bool(caps.torch_cuda) or (caps.gpu and caps.cuda_python),
        "cuda-python": caps.cuda_python,
        "pycuda": caps.pycuda,
        "tensorrt": caps.tensorrt_full,
        "tensorrt-lean": caps.tensorrt_lean,
        "jupyter": caps.jupyter,
        "widgets": caps.widgets,
        "tritonclient": caps.tritonclient,
        "pytriton": caps.pytriton,
    }
    have.update(name for name, ok in flags.items() if ok)
    return frozenset(have)


def can_build_engines(caps: Capabilities | None = None) -> bool:
    """True when TensorRT engines can be built here (full TensorRT, GPU, cuda-python)."""
    return (caps or probe()).can_build_engines()


def can_run_engines(caps: Capabilities | None = None) -> bool:
    """True when TensorRT engines can be run here (full or lean TensorRT, GPU, cuda-python)."""
    return (caps or probe()).can_run_engines()


def available_backends(caps: Capabilities | None = None) -> list[str]:
    """Backends usable here, in :data:`BACKENDS` order (tensorrt where engines can be built)."""
    caps = caps or probe()
    found = []
    if caps.torch:
        found.append("torch")
    if caps.onnxruntime:
        found.append("onnxruntime")
    if caps.can_build_engines():
        found.append("tensorrt")
    return found


def tensorrt_missing_error(
    what: str, *, need: Literal["build", "run"] = "build", caps: Capabilities | None = None
) -> BackendError:
    """The error for "TensorRT was needed for ``what``": every reason it is missing, and the fix."""
    caps = caps or probe()
    reasons = caps.missing_for(need) or ["TensorRT did not pass the availability check"]
    fixes = []
    if not caps.tensorrt_full and not (need == "run" and caps.tensorrt_lean):
        fixes.append(_INSTALL_TENSORRT)
    if not caps.gpu:
        fixes.append("run on a machine with an NVIDIA GPU and driver (nvidia-smi must work)")
    if not caps.cuda_python:
        fixes.append(_INSTALL_CUDA_PYTHON)
    return BackendError(
        f"{what} needs TensorRT, which is not available here: {'; '.join(reasons)}",
        hint="; ".join(fixes or ["see `trtlab doctor`"])
        + "; on this machine use the .onnx file with backend='onnxruntime' instead",
    )


def check_backend(requested: object, *, caps: Capabilities | None = None) -> str:
    """``requested`` if it is ``"auto"`` or one of :data:`BACKENDS`, else :class:`InputError`."""
    valid = ("auto", *BACKENDS)
    if not isinstance(requested, str) or requested not in valid:
        raise InputError(
            f"unknown backend {requested!r}; valid backends: {', '.join(valid)}",
            hint=f"this machine has: {', '.join(available_backends(caps)) or 'none'}",
        )
    return requested


def select_backend(
    kind: SourceKind,
    requested: str = "auto",
    *,
    what: str | None = None,
    caps: Capabilities | None = None,
) -> str:
    """The backend that runs a ``kind`` source: ``"tensorrt"``, ``"onnxruntime"`` or ``"torch"``.

    ``auto`` means: an ``.onnx`` file runs on TensorRT where engines can be *built* here (full
    TensorRT, GPU and cuda-python), else on ONNX Runtime; an engine needs TensorRT; an
    ``nn.Module`` runs on torch. An explicit ``requested`` backend is checked the same way, so the
    failure comes now, with its reason, instead of after a minutes-long build. ``what`` names the
    source in messages (e.g. the file name).
    """
    check_backend(requested, caps=caps)
    caps = caps or probe()
    label = what or {"onnx": "an ONNX model", "engine": "a TensorRT engine"}.get(kind, "a model")
    if kind == "module":
        if requested not in ("auto", "torch"):
            raise InputError(
                f"an nn.Module runs with backend='torch', got backend={requested!r}",
                hint="export it first: path = trtlab.export_onnx(model, 'model.onnx', example), "
                "then trtlab.runner(path, backend=...)",
            )
        if not caps.torch:
            raise DependencyError(
                "an nn.Module needs PyTorch, which is not installed here",
                hint="pip install 'torch==2.13.0' (CPU) or use an NVIDIA PyTorch container",
            )
        return "torch"
    if kind == "engine":
        if requested not in ("auto", "tensorrt"):
            raise InputError(
                f"{label} is a TensorRT engine; only backend='tensorrt' can run it, "
                f"got backend={requested!r}",
                hint="run the .onnx file with onnxruntime instead",
            )
        if not caps.can_run_engines():
            raise tensorrt_missing_error(f"running {label}", need="run", caps=caps)
        return "tensorrt"
    if kind == "onnx":
        if requested == "torch":
            raise InputError(
                f"{label} cannot run with backend='torch'",
                hint="use backend='onnxruntime' or 'tensorrt' (or 'auto'); for 'torch' pass the "
                "nn.Module",
            )
        if requested == "tensorrt" or (requested == "auto" and caps.can_build_engines()):
            if not caps.can_build_engines():
                raise tensorrt_missing_error(f"backend='tensorrt' for {label}", caps=caps)
            return "tensorrt"
        if not caps.onnxruntime:
            why = "" if requested != "auto" else " (and TensorRT cannot build engines here)"
            raise DependencyError(
                f"{label} needs ONNX Runtime{why}, which is not installed", hint=_INSTALL_ORT
            )
        return "onnxruntime"
    raise InputError(
        f"select_backend(kind={kind!r}): expected 'onnx', 'engine' or 'module'",
        hint="pass the kind of source to run: an ONNX file, a TensorRT engine or an nn.Module",
    )


def default_precision(backend: str, *, caps: Capabilities | None = None) -> str:
    """The precision ``backend`` uses unless told otherwise (a ``trt.precision.PRECISIONS`` name).

    TensorRT: ``fp16`` (tensor cores, the point of the course), but ``fp32`` on GPUs known to
    predate FP16 tensor cores (compute capability below 7.0). ONNX Runtime and torch: ``fp32``
    (their reduced-precision CPU paths are slow or missing here).
    """
    if backend not in BACKENDS:
        raise InputError(
            f"default_precision: unknown backend {backend!r}; "
            f"expected one of {', '.join(BACKENDS)}",
            hint="pass 'tensorrt', 'onnxruntime' or 'torch' (the runner's .backend)",
        )
    if backend != "tensorrt":
        return "fp32"
    cc = (caps or probe()).compute_capability
    return "fp32" if cc is not None and cc < (7, 0) else "fp16"


__all__ = [
    "BACKENDS",
    "FULL_MODULES",
    "LEAN_MODULES",
    "ONNX_BACKENDS",
    "REQUIREMENTS",
    "Capabilities",
    "TensorRTFind",
    "available_backends",
    "can_build_engines",
    "can_run_engines",
    "check_backend",
    "default_precision",
    "find_tensorrt",
    "is_full_tensorrt",
    "module_version",
    "parse_version",
    "probe",
    "requirement_set",
    "select_backend",
    "tensorrt_missing_error",
    "version_str",
]
