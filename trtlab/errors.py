"""The one exception family of trtlab.

Every error a user can cause (bad input, missing dependency, wrong file, wrong shape) is a
``TrtlabError`` subclass whose message says *what was expected*, *what came*, and *how to fix it*.
Catch ``TrtlabError`` to handle all of them; catch a subclass to handle one kind.
"""

from __future__ import annotations


class TrtlabError(Exception):
    """Base class of every error trtlab raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n  How to fix: {hint}")


class DependencyError(TrtlabError, ImportError):
    """An optional library (torch, onnxruntime, tensorrt, cuda-python...) is missing or too old."""


class InputError(TrtlabError, ValueError):
    """A value passed to a public function is not what it accepts."""


class ShapeError(InputError):
    """An array or tensor has the wrong rank or dimensions (or a dim outside a profile)."""


class DTypeError(InputError, TypeError):
    """An array or tensor has the wrong element type."""


class FileFormatError(TrtlabError, OSError):
    """A file is missing, unreadable, truncated, or not of the expected format."""


class ConfigError(TrtlabError, ValueError):
    """An environment switch or option value is invalid."""


class WeightsError(TrtlabError):
    """Pretrained weights could not be obtained and ``strict=True`` was asked."""


class ExportError(TrtlabError):
    """PyTorch -> ONNX export or the ONNX checker failed."""


class BackendError(TrtlabError):
    """A runtime backend (ONNX Runtime, TensorRT, torch) failed or is not available here."""


class BuildError(BackendError):
    """Building a TensorRT engine failed (parser error, bad profile, builder returned None)."""


class EngineError(BackendError):
    """Loading or running a TensorRT engine failed (wrong version/GPU, bad shapes, execution)."""


class EngineLoadError(EngineError):
    """A serialized engine could not be deserialized (corrupt, truncated, not a plan)."""


class EngineCompatibilityError(EngineLoadError):
    """An engine's provenance (TensorRT version, GPU, compute capability) does not match here."""


class CudaError(BackendError):
    """A CUDA runtime call returned an error code."""


class ParityError(TrtlabError):
    """Raised by ``ParityReport.raise_for_failure()`` when a numerical comparison fails."""


class DestinationError(TrtlabError, OSError):
    """A path to write to is unusable: it is a folder, lies under a file, or is not writable."""


class NonFiniteError(InputError):
    """An array holds NaN or infinity where trtlab needs finite numbers."""


class ProcessTimeoutError(BackendError, TimeoutError):
    """An external tool (trtexec) ran past its time limit and was stopped."""


__all__ = [
    "BackendError",
    "BuildError",
    "ConfigError",
    "CudaError",
    "DTypeError",
    "DependencyError",
    "DestinationError",
    "EngineCompatibilityError",
    "EngineError",
    "EngineLoadError",
    "ExportError",
    "FileFormatError",
    "InputError",
    "NonFiniteError",
    "ParityError",
    "ProcessTimeoutError",
    "ShapeError",
    "TrtlabError",
    "WeightsError",
]
