"""Import torchvision on a CPU-only torch (the one place this workaround lives).

Why: the only torchvision 0.28.0 wheel on PyPI is a CUDA build. Its ``__init__`` registers
Python "fake" kernels for its C++ operators (``torchvision::nms``, ``roi_align``, ...) which
requires the operator *schemas* to exist. On the CPU torch wheel the compiled extension that
defines them fails to load, so ``import torchvision`` dies with
``RuntimeError: operator torchvision::nms does not exist``.

The fix: before importing torchvision, try to load torchvision's own compiled extension (which
defines the schemas); only where that fails, define the schemas (only the schemas, no kernels)
with ``torch.library``. Models, transforms and weight metadata then work; detection ops
(``torchvision.ops.nms`` ...) raise if called, which trtlab never does (it uses PIL/numpy, not
``torchvision.io`` or ``torchvision.ops``). Defining the schemas *without* trying the extension
first is wrong on a healthy CUDA install: the extension then registers them a second time and
PyTorch aborts the process (seen on the H100 machine with torch 2.11+cu130).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

from trtlab._lazy import lazy_import

# The only operators torchvision 0.28's import registers fake kernels for unconditionally
# (``_meta_registrations.py``); everything else is guarded by ``extension._has_ops()``.
_SCHEMAS: dict[str, str] = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}

_lock = threading.Lock()
_library: object | None = None  # keep the torch.library.Library alive for the process


def _missing_schemas(torch: ModuleType) -> list[str]:
    missing = []
    for name in _SCHEMAS:
        try:
            torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
        except RuntimeError:
            missing.append(name)
    return missing


def _extension_loads(torch: ModuleType) -> bool:
    """Load torchvision's compiled ops when they fit this torch (they then define the schemas)."""
    spec = importlib.util.find_spec("torchvision")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for lib in sorted(Path(folder).glob("_C.*")):
            if lib.suffix in (".so", ".pyd"):
                try:
                    torch.ops.load_library(str(lib))
                except (OSError, RuntimeError):
                    return False  # e.g. a CUDA torchvision wheel on a CPU-only torch
                return True
    return False


def import_torchvision() -> ModuleType:
    """Return the ``torchvision`` module, registering missing op schemas first if needed."""
    global _library
    torch = lazy_import("torch", purpose="load torchvision models")
    with _lock:
        missing = [] if "torchvision" in sys.modules else _missing_schemas(torch)
        if missing and _library is None and not _extension_loads(torch):
            lib = torch.library.Library("torchvision", "DEF")
            for name in missing:
                lib.define(_SCHEMAS[name])
            _library = lib
    return lazy_import("torchvision", purpose="build ResNet-50 / FCN-ResNet-101")
