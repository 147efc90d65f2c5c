"""trtlab — PyTorch -> ONNX -> TensorRT, step by step, checked numerically, on GPU or CPU.

``import trtlab`` is cheap: it imports neither torch, onnxruntime nor tensorrt. Public names are
resolved lazily from their submodules on first access (PEP 562).
"""

from __future__ import annotations

from typing import Any

from trtlab import errors
from trtlab._lazy import lazy_attributes

# every error class, public from the package root too (the one list is errors.__all__)
from trtlab.errors import *  # noqa: F403

__version__ = "0.1.0"

# public name -> submodule that defines it (imported on first attribute access)
_LAZY: dict[str, str] = {
    # models
    "resnet50": "trtlab.models",
    "fcn_resnet101": "trtlab.models",
    "load_model": "trtlab.models",
    # data
    "demo_images": "trtlab.data",
    "load_image": "trtlab.data",
    "imagenet_labels": "trtlab.data",
    "voc_labels": "trtlab.data",
    "preprocess_imagenet": "trtlab.data",
    "preprocess_segmentation": "trtlab.data",
    "topk": "trtlab.data",
    # export / compare
    "export_onnx": "trtlab.export",
    "export_model": "trtlab.export",
    "check_onnx": "trtlab.onnx_meta",
    "onnx_specs": "trtlab.onnx_meta",
    "OnnxFromTorch": "trtlab.export",
    "compare": "trtlab.compare",
    "ParityReport": "trtlab.compare",
    # runners
    "runner": "trtlab.runners",
    "available_backends": "trtlab.runners",
    "TorchRunner": "trtlab.runners",
    "OnnxRuntimeRunner": "trtlab.runners",
    "TensorSpec": "trtlab.runners",
    # benchmarks, doctor
    "benchmark": "trtlab.bench",
    "doctor": "trtlab.doctor",
    # TensorRT layer and wrappers
    "Profile": "trtlab.trt.profiles",
    "ShapeRange": "trtlab.trt.profiles",
    "default_profile": "trtlab.trt.profiles",
    "validate_profiles": "trtlab.trt.profiles",
    "build_engine": "trtlab.trt.build",
    "EngineFromOnnx": "trtlab.trt.build",
    "Engine": "trtlab.trt.runtime",
    "TrtRunner": "trtlab.runners",
    "ONNXClassifierWrapper": "trtlab.wrappers",
    "SegmentationWrapper": "trtlab.wrappers",
}

__all__ = ["__version__", *_LAZY]
__all__ += errors.__all__


__getattr__ = lazy_attributes(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext trtlab`` registers the ``%%requires`` cell magic (see ``trtlab.magics``)."""
    from trtlab.magics import load_ipython_extension as _load

    _load(ipython)
