"""Runners: one interface (``Runner``) over PyTorch, ONNX Runtime and TensorRT.

``runner(source)`` picks the best backend this machine has (decided by
:func:`trtlab.capabilities.select_backend`): TensorRT for ``.onnx`` files where engines can be
built (full TensorRT, a GPU and cuda-python), otherwise ONNX Runtime; PyTorch for ``nn.Module``.
Backend modules are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtlab import capabilities
from trtlab._lazy import lazy_attributes
from trtlab.errors import BackendError, FileFormatError, InputError
from trtlab.runners.base import Runner, TensorSpec

if TYPE_CHECKING:
    from trtlab.runners.ort import OnnxRuntimeRunner
    from trtlab.runners.torch_runner import TorchRunner
    from trtlab.runners.trt import TrtRunner

ONNX_SUFFIXES = (".onnx",)
ENGINE_SUFFIXES = (".engine", ".plan", ".trt")

_LAZY = {
    "TorchRunner": "trtlab.runners.torch_runner",
    "OnnxRuntimeRunner": "trtlab.runners.ort",
    "TrtRunner": "trtlab.runners.trt",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


def tensorrt_available() -> bool:
    """True when TensorRT engines can be built and run here (full TensorRT, GPU, cuda-python)."""
    return capabilities.can_build_engines()


def available_backends() -> list[str]:
    """Backends usable on this machine, in order torch, onnxruntime, tensorrt (no heavy imports)."""
    return capabilities.available_backends()


def tensorrt_missing_error(what: str) -> BackendError:
    """The error for "TensorRT was needed for ``what``": why it is missing and what to do."""
    return capabilities.tensorrt_missing_error(what)


def _is_torch_module(source: object) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(source, torch.nn.Module)


def _onnx_runner(path: Path | bytes, backend: str, kw: dict[str, Any]) -> Runner:
    what = f"the ONNX model {path.name}" if isinstance(path, Path) else "an ONNX model"
    backend = capabilities.select_backend("onnx", backend, what=what)
    if backend == "onnxruntime":
        from trtlab.runners.ort import OnnxRuntimeRunner

        return OnnxRuntimeRunner(path, **kw)
    from trtlab.runners import trt as trt_runners

    from_onnx = getattr(trt_runners.TrtRunner, "from_onnx", None)
    if from_onnx is None:
        raise BackendError(
            "this trtlab build has no TrtRunner.from_onnx",
            hint="build an engine with trtlab.build_engine(onnx_path) and pass the .engine",
        )
    runner_: Runner = from_onnx(path, **kw)
    return runner_


def runner(source: Any, backend: str = "auto", **kw: Any) -> Runner:
    """Make a runner for ``source`` on ``backend``: auto, torch, onnxruntime or tensorrt.

    ``source`` may be an ``nn.Module`` (torch), a model name from ``models.MODEL_SPECS`` (torch, or
    exported to ONNX for the other backends), an ``.onnx`` path or its bytes, or a serialized
    TensorRT engine (``.engine``/``.plan``/``.trt``). Extra keyword arguments go to the runner.
    """
    capabilities.check_backend(backend)
    if isinstance(source, Runner):
        if backend not in ("auto", source.backend):
            raise InputError(
                f"source is already a {source.backend} runner, backend={backend!r} was asked",
                hint="pass the model or file instead of a runner",
            )
        return source
    if _is_torch_module(source):
        capabilities.select_backend("module", backend)
        from trtlab.runners.torch_runner import TorchRunner

        return TorchRunner(source, **kw)
    if isinstance(source, (bytes, bytearray)):
        return _onnx_runner(bytes(source), backend, kw)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        suffix = path.suffix.lower()
        if suffix in ONNX_SUFFIXES:
            return _onnx_runner(path, backend, kw)
        if suffix in ENGINE_SUFFIXES:
            capabilities.select_backend("engine", backend, what=f"the engine {path.name}")
            from trtlab.runners.trt import TrtRunner

            return TrtRunner(path, **kw)
        if suffix == "" and isinstance(source, str) and not path.exists():
            from trtlab import models

            if source in models.MODEL_SPECS or source in models.TEST_MODEL_SPECS:
                if backend in ("auto", "torch"):
                    from trtlab.runners.torch_runner import TorchRunner

                    return TorchRunner(source, **kw)
                from trtlab import export

                weights = kw.pop("weights", "default")
                return _onnx_runner(export.export_model(source, weights=weights), backend, kw)
        raise FileFormatError(
            f"cannot tell which backend runs {str(source)!r}: expected an nn.Module, a model name, "
            f"a .onnx file or a TensorRT engine ({', '.join(ENGINE_SUFFIXES)})",
            hint="rename the file with its proper suffix, or pass backend= with a known file type",
        )
    raise InputError(
        f"runner() cannot run a {type(source).__name__}",
        hint="pass an nn.Module, a model name, an .onnx path (or bytes) or an engine path",
    )


__all__ = [
    "ENGINE_SUFFIXES",
    "ONNX_SUFFIXES",
    "OnnxRuntimeRunner",
    "Runner",
    "TensorSpec",
    "TorchRunner",
    "TrtRunner",
    "available_backends",
    "runner",
    "tensorrt_available",
    "tensorrt_missing_error",
]
