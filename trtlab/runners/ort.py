"""ONNX Runtime runner: the independent checker, and the stand-in for TensorRT on CPU machines.

By default it never uses ONNX Runtime's TensorRT execution provider, so a parity check of a TensorRT
engine against this runner compares two different implementations, not TensorRT with itself.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trtlab._io import require_file
from trtlab._lazy import lazy_import
from trtlab.errors import BackendError, FileFormatError, InputError
from trtlab.runners.base import Dim, Runner, TensorSpec
from trtlab.tensors import numpy_dtype_by_name

if TYPE_CHECKING:
    from types import ModuleType

#: Execution providers tried by default, best first. TensorRT's EP is left out on purpose (above).
DEFAULT_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")

# ONNX Runtime type strings ("tensor(float)") -> numpy dtype names. Names that numpy lacks come
# from ml_dtypes (a dependency of onnx), resolved in ort_type_to_numpy.
_ORT_TYPES: dict[str, str] = {
    "float": "float32",
    "float16": "float16",
    "double": "float64",
    "bfloat16": "bfloat16",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "bool": "bool",
    "string": "object",
    "complex64": "complex64",
    "complex128": "complex128",
    "float8e4m3fn": "float8_e4m3fn",
    "float8e4m3fnuz": "float8_e4m3fnuz",
    "float8e5m2": "float8_e5m2",
    "float8e5m2fnuz": "float8_e5m2fnuz",
    "float8e8m0": "float8_e8m0fnu",
    "int4": "int4",
    "uint4": "uint4",
    "int2": "int2",
    "uint2": "uint2",
    "float4e2m1": "float4_e2m1fn",
}


def ort_type_to_numpy(type_str: str) -> np.dtype[Any]:
    """Map an ONNX Runtime type string such as ``tensor(float16)`` to a numpy dtype.

    Raises :class:`BackendError` for non-tensor types (sequences, maps, optionals), which trtlab's
    runners do not feed or return.
    """
    if not (type_str.startswith("tensor(") and type_str.endswith(")")):
        raise BackendError(
            f"ONNX Runtime type {type_str!r} is not a plain tensor",
            hint="trtlab runners handle tensor inputs/outputs only; export the model without "
            "sequence/map/optional values",
        )
    inner = type_str[len("tensor(") : -1]
    name = _ORT_TYPES.get(inner)
    if name is None:
        raise BackendError(
            f"ONNX Runtime tensor type {type_str!r} has no numpy equivalent known to trtlab",
            hint="cast the tensor to float32/int64 in the model before export",
        )
    return numpy_dtype_by_name(name)  # bfloat16/float8/int4 through ml_dtypes


def _dims(shape: Sequence[Any] | None) -> tuple[Dim, ...]:
    """ORT shapes use ``int`` for fixed dims, ``str`` for dim_param and ``None`` for unknown."""
    out: list[Dim] = []
    for d in shape or ():
        if (isinstance(d, int) and d >= 0) or (isinstance(d, str) and d):
            out.append(d)
        else:
            out.append(None)
    return tuple(out)


def _import_ort() -> ModuleType:
    return lazy_import("onnxruntime", purpose="run ONNX models with ONNX Runtime")


#: ONNX Runtime's exception classes that mean "this is not a loadable model file".
_LOAD_ERRORS = ("InvalidProtobuf", "NoSuchFile", "InvalidGraph", "Fail", "NoModel")


def _load_error_types(ort: ModuleType) -> tuple[type[BaseException], ...]:
    """The file-format exception types of this onnxruntime build (told apart by type)."""
    try:
        state = importlib.import_module(f"{ort.__name__}.capi.onnxruntime_pybind11_state")
    except ImportError:  # a build without the pybind state module: nothing to match
        return ()
    found = (getattr(state, name, None) for name in _LOAD_ERRORS)
    return tuple(t for t in found if isinstance(t, type) and issubclass(t, BaseException))


class OnnxRuntimeRunner(Runner):
    """Run an ONNX model (a path or the serialized bytes) with ``onnxruntime.InferenceSession``.

    ``providers`` defaults to CUDA when ONNX Runtime's CUDA provider is installed, else CPU.
    ``threads`` sets ``intra_op_num_threads`` (``None``: ONNX Runtime's default, all cores).
    ``.device`` names the provider the session actually uses, e.g. ``cpu (CPUExecutionProvider)``.
    """

    backend = "onnxruntime"

    def __init__(
        self,
        source: str | os.PathLike[str] | bytes,
        *,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(source, (bytes, bytearray)):
            if not source:
                raise FileFormatError(
                    "empty bytes given as an ONNX model", hint="pass model.SerializeToString()"
                )
            self.path: Path | None = None
            self._model_bytes: bytes | None = bytes(source)
            default_name = "onnx-bytes"
        elif isinstance(source, (str, os.PathLike)):
            path = require_file(  # missing, a folder, an empty file: each says so
                source,
                what="ONNX file",
                hint="export one first, e.g. trtlab.export_onnx(model, path, example) or "
                "`trtlab export resnet50`",
            )
            self.path = path
            self._model_bytes = None
            default_name = path.stem
        else:
            raise InputError(
                f"OnnxRuntimeRunner expects a path or bytes, got {type(source).__name__}",
                hint="pass the .onnx file path (or onnx_model.SerializeToString())",
            )
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
            raise InputError(
                f"threads must be a positive int or None, got {threads!r}",
                hint="e.g. threads=2; None lets ONNX Runtime choose",
            )
        if threads is not None and threads < 1:
            raise InputError(f"threads must be >= 1, got {threads}", hint="use None for default")
        super().__init__(name=name or default_name)
        self.requested_providers = tuple(providers) if providers is not None else None
        self.threads = threads
        self._session: Any = None
        self._output_names: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def _choose_providers(self, ort: ModuleType) -> list[str]:
        available = list(ort.get_available_providers())
        if self.requested_providers is None:
            chosen = [p for p in DEFAULT_PROVIDERS if p in available]
            return chosen or available
        unknown = [p for p in self.requested_providers if p not in available]
        if unknown:
            raise InputError(
                f"execution provider(s) {unknown} are not available in this onnxruntime build; "
                f"available: {available}",
                hint="omit providers= to use the default, or install onnxruntime-gpu for CUDA",
            )
        return list(self.requested_providers)

    def _activate(self) -> None:
        ort = _import_ort()
        providers = self._choose_providers(ort)
        options = ort.SessionOptions()
        if self.threads is not None:
            options.intra_op_num_threads = self.threads
        options.log_severity_level = 3  # errors only; warnings about unused initializers are noise
        model: str | bytes = self._model_bytes if self._model_bytes is not None else str(self.path)
        try:
            session = ort.InferenceSession(model, sess_options=options, providers=providers)
        except Exception as exc:
            where = str(self.path) if self.path else "the given bytes"
            if isinstance(exc, _load_error_types(ort)):
                raise FileFormatError(
                    f"ONNX Runtime cannot load {where}: {exc}",
                    hint="re-export the model (the file may be truncated or not ONNX); "
                    "trtlab.check_onnx(path) explains what is wrong",
                ) from exc
            raise BackendError(
                f"ONNX Runtime failed to create a session for {where}: {exc}",
                hint="check `trtlab doctor` for the onnxruntime version and providers",
            ) from exc
        self._session = session
        self._inputs = [
            TensorSpec(i.name, _dims(i.shape), ort_type_to_numpy(i.type))
            for i in session.get_inputs()
        ]
        self._outputs = [
            TensorSpec(o.name, _dims(o.shape), ort_type_to_numpy(o.type))
            for o in session.get_outputs()
        ]
        self._device = self._describe_provider(session)
        self._output_names = [o.name for o in self._outputs]

    @staticmethod
    def _describe_provider(session: Any) -> str:
        used = session.get_providers()
        first = used[0] if used else "?"
        if first == "CUDAExecutionProvider":
            options = session.get_provider_options().get(first, {})
            return f"cuda:{options.get('device_id', 0)} ({first})"
        if first == "CPUExecutionProvider":
            return f"cpu ({first})"
        return f"{first.replace('ExecutionProvider', '').lower()} ({first})"

    def _deactivate(self) -> None:
        self._session = None

    # -- inference ---------------------------------------------------------------------------
    @property
    def providers(self) -> list[str]:
        """Execution providers the session uses, in priority order."""
        self.activate()
        return list(self._session.get_providers())

    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = self._output_names  # computed once at activation
        try:
            values = self._session.run(names, feed)
        except Exception as exc:
            raise BackendError(
                f"ONNX Runtime inference failed in {self.name}: {exc}",
                hint="check the input shapes against runner.inputs",
            ) from exc
        # session.run returns numpy arrays already: no per-output conversion on the hot path
        return dict(zip(names, values, strict=True))


__all__ = ["DEFAULT_PROVIDERS", "OnnxRuntimeRunner", "ort_type_to_numpy"]
