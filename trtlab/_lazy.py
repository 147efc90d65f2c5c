"""Lazy imports of heavy libraries, with install hints (Polygraphy style).

``import trtlab`` must stay fast and work on a bare CPU machine, so torch, onnxruntime, tensorrt,
cuda-python and ipywidgets are imported only where used, through :func:`lazy_import`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from trtlab.errors import DependencyError

#: How to install each optional module; keys are import names.
INSTALL_HINTS: dict[str, str] = {
    "torch": "pip install 'torch==2.13.0' (CPU) or use an NVIDIA PyTorch container",
    "torchvision": "pip install 'torchvision==0.28.0' (pinned: unpinned pulls CUDA packages)",
    "onnx": "pip install onnx",
    "onnxscript": "pip install onnxscript (needed by torch.onnx's dynamo exporter)",
    "onnxruntime": "pip install onnxruntime (or onnxruntime-gpu on a CUDA machine)",
    "onnxconverter_common": "pip install onnxconverter-common (FP16 conversion of ONNX graphs)",
    "tensorrt": (
        "use NVIDIA's TensorRT container (nvcr.io/nvidia/tensorrt) or "
        "pip install tensorrt --extra-index-url https://pypi.nvidia.com (on a CUDA GPU machine)"
    ),
    "tensorrt_lean": "pip install tensorrt-lean-cu13-libs tensorrt-lean-cu13-bindings",
    "cuda": "pip install 'trtlab[gpu]' (installs cuda-python)",
    "cuda.bindings": "pip install 'trtlab[gpu]' (installs cuda-python)",
    "pycuda": "pip install pycuda (needs the CUDA toolkit headers; cuda-python is the default)",
    "ipywidgets": "pip install ipywidgets",
    "matplotlib": "pip install matplotlib",
    "tqdm": "pip install tqdm",
    "PIL": "pip install pillow",
}


def has_module(name: str) -> bool:
    """True when ``name`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def lazy_import(name: str, *, purpose: str | None = None) -> ModuleType:
    """Import ``name`` now, or raise :class:`DependencyError` with the install hint.

    ``purpose`` completes the sentence "needed to ..." in the error message.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        root = name.split(".")[0]
        hint = INSTALL_HINTS.get(name) or INSTALL_HINTS.get(root) or f"pip install {root}"
        why = f" (needed to {purpose})" if purpose else ""
        raise DependencyError(
            f"Python module '{name}' is not importable{why}: {exc}", hint=hint
        ) from exc


def make_module_callable(module_name: str, function: Callable[..., Any]) -> None:
    """Make ``trtlab.<name>(...)`` work although ``<name>`` is both a submodule and a function.

    ``trtlab.compare`` and ``trtlab.doctor`` are exported lazily as functions, but once any code
    imports the submodule of the same name, Python binds the package attribute to the module.
    Calling the module then forwards to ``function``, so both spellings keep working.
    """

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

    sys.modules[module_name].__class__ = _CallableModule


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A PEP 562 module ``__getattr__`` for ``package``: ``table`` maps public name -> submodule.

    The submodule is imported on first access and the value cached in the package's namespace,
    so the package itself imports nothing heavy.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
