"""ONNX metadata: the one reader of a model's inputs/outputs, and ``check_onnx``.

Every layer that asks "what does this ONNX file take and return?" (``check_onnx``, TensorRT
builds, default optimization profiles, the wrappers, the build widget) reads it here, so they
agree on two details that used to differ:

* **Dims** follow TensorRT's ONNX parser: a ``dim_value >= 0`` is a fixed size (0 is a real,
  empty dim), a ``dim_param`` is a named dynamic dim (its name, a ``str``), and a dim with
  neither (or a negative value) is dynamic and unnamed (``None``).
* **Dtypes**: every ONNX element type that ``onnx.helper`` maps to numpy is that dtype;
  bfloat16, float8, int4 and float4 come as ``ml_dtypes`` types, which ``onnx`` installs. An
  element type with no numpy equivalent (``UNDEFINED``, or a type newer than the installed
  ``onnx``) raises :class:`~trtlab.errors.DTypeError`: a placeholder dtype would only fail later,
  further from the cause. A non-tensor value (sequence, map, optional) raises it too.

``onnx`` is imported inside the functions, so ``import trtlab.onnx_meta`` stays light.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from trtlab._io import require_file
from trtlab.errors import DTypeError, ExportError, FileFormatError
from trtlab.tensors import Dim, TensorSpec

if TYPE_CHECKING:
    import onnx

#: What :func:`onnx_specs` reads: a path, or a loaded ``onnx.ModelProto``.
OnnxSource = Union[str, "os.PathLike[str]", "onnx.ModelProto"]


def _load(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """The model proto (no external weights), or a ``FileFormatError`` saying why not."""
    import onnx

    p = require_file(
        path,
        what="ONNX file",
        hint="export it first (trtlab.export.export_model or trtlab.export_onnx)",
    )  # missing, a folder and an empty file each say so (trtlab._io)
    try:
        proto = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, OSError, ...: not an ONNX file
        raise FileFormatError(
            f"{p} is not a readable ONNX model ({type(exc).__name__}: {exc})",
            hint="re-export it; the file may be truncated or not an ONNX file",
        ) from exc
    if not proto.graph.node and not proto.graph.output:
        raise FileFormatError(
            f"{p} parsed as protobuf but holds no ONNX graph",
            hint="re-export it; the file may be truncated or not an ONNX file",
        )
    return proto


def _dim(d: Any) -> Dim:
    if d.HasField("dim_param") and d.dim_param:
        return str(d.dim_param)
    if d.HasField("dim_value") and d.dim_value >= 0:
        return int(d.dim_value)
    return None


def value_spec(value: Any, *, where: str = "") -> TensorSpec:
    """One ONNX ``ValueInfoProto`` as :class:`TensorSpec` (see the module docstring's rules)."""
    import onnx

    kind = value.type.WhichOneof("value")
    origin = f" of {where}" if where else ""
    if kind != "tensor_type":
        raise DTypeError(
            f"'{value.name}'{origin} is an ONNX {kind or 'untyped'} value, not a tensor",
            hint="trtlab runs models whose inputs and outputs are plain tensors",
        )
    tt = value.type.tensor_type
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type))
    except (KeyError, TypeError, ValueError):
        names = {v: k for k, v in onnx.TensorProto.DataType.items()}
        raise DTypeError(
            f"tensor '{value.name}'{origin} has ONNX element type "
            f"{names.get(tt.elem_type, 'unknown')} ({tt.elem_type}), which has no numpy dtype "
            f"in onnx {onnx.__version__}",
            hint="re-export the model with typed inputs/outputs, or upgrade onnx "
            "(pip install -U onnx ml_dtypes)",
        ) from None
    return TensorSpec(value.name, tuple(_dim(d) for d in tt.shape.dim), dtype)


def onnx_specs(source: OnnxSource) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """``(inputs, outputs)`` of an ONNX model; initializers listed as graph inputs are skipped."""
    if isinstance(source, (str, os.PathLike)):
        proto = _load(source)
        where = Path(source).name
    else:
        proto, where = source, "the model"
    init_names = {t.name for t in proto.graph.initializer}
    inputs = [value_spec(v, where=where) for v in proto.graph.input if v.name not in init_names]
    outputs = [value_spec(v, where=where) for v in proto.graph.output]
    return inputs, outputs


# -- check_onnx ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OnnxSummary:
    """What is inside an ONNX file: opset, IO with dynamic dims, operators, parameter count."""

    path: Path
    file_size: int
    opset: int
    ir_version: int
    producer: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    op_histogram: Counter[str] = field(default_factory=Counter)
    num_parameters: int = 0
    num_nodes: int = 0

    def _rows(self) -> list[tuple[str, str]]:
        top = ", ".join(f"{op} x{n}" for op, n in self.op_histogram.most_common(8))
        more = len(self.op_histogram) - 8
        return [
            ("file", f"{self.path.name} ({self.file_size / 1e6:.1f} MB)"),
            ("opset / IR", f"{self.opset} / {self.ir_version}"),
            ("producer", self.producer or "?"),
            *[("input", str(s)) for s in self.inputs],
            *[("output", str(s)) for s in self.outputs],
            ("parameters", f"{self.num_parameters:,}"),
            ("nodes", f"{self.num_nodes} ({len(self.op_histogram)} op types)"),
            ("top ops", top + (f", ... (+{more})" if more > 0 else "")),
        ]

    def __str__(self) -> str:
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
            for k, v in self._rows()
        )
        return f"<table class='trtlab-onnx-summary'>{body}</table>"


def _count_ops(graph: Any, counter: Counter[str]) -> None:
    for node in graph.node:
        std = node.domain in ("", "ai.onnx")
        counter[node.op_type if std else f"{node.domain}.{node.op_type}"] += 1
        for attr in node.attribute:
            if attr.HasField("g"):
                _count_ops(attr.g, counter)
            for g in attr.graphs:
                _count_ops(g, counter)


def external_data_locations(proto: onnx.ModelProto) -> list[str]:
    """The files (relative to the model) holding the model's external tensor data, sorted.

    One reader for the copy to a Triton repository, the engine cache key and ``check_onnx``.
    """
    import onnx

    return sorted(
        {
            entry.value
            for tensor in proto.graph.initializer
            if tensor.data_location == onnx.TensorProto.EXTERNAL
            for entry in tensor.external_data
            if entry.key == "location"
        }
    )


def _external_bytes(proto: Any, folder: Path) -> int:
    locations = external_data_locations(proto)
    return sum((folder / loc).stat().st_size for loc in locations if (folder / loc).is_file())


def check_onnx(path: str | os.PathLike[str]) -> OnnxSummary:
    """Run the full ONNX checker (incl. strict shape inference) and summarise the model.

    Missing or unreadable files raise ``FileFormatError``; a parsable but invalid model raises
    ``ExportError`` with the checker's message.
    """
    import onnx

    p = Path(path).expanduser()
    proto = _load(p)
    try:
        onnx.checker.check_model(str(p), full_check=True)
    except Exception as exc:  # ValidationError, InferenceError
        raise ExportError(
            f"ONNX checker rejected {p}: {type(exc).__name__}: {exc}",
            hint="re-export with a supported opset; report the model if it persists",
        ) from exc
    counter: Counter[str] = Counter()
    _count_ops(proto.graph, counter)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    inputs, outputs = onnx_specs(proto)
    return OnnxSummary(
        path=p,
        file_size=p.stat().st_size + _external_bytes(proto, p.parent),
        opset=int(opset),
        ir_version=int(proto.ir_version),
        producer=f"{proto.producer_name} {proto.producer_version}".strip(),
        inputs=inputs,
        outputs=outputs,
        op_histogram=counter,
        num_parameters=int(sum(int(np.prod(t.dims)) for t in proto.graph.initializer)),
        num_nodes=sum(counter.values()),
    )


def input_specs(source: OnnxSource) -> list[TensorSpec]:
    """Just the inputs of :func:`onnx_specs` (what builds and profiles need)."""
    return onnx_specs(source)[0]


__all__ = [
    "OnnxSummary",
    "check_onnx",
    "external_data_locations",
    "input_specs",
    "onnx_specs",
    "value_spec",
]
