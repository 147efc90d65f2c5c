"""Precision planning for TensorRT builds, and FP16/BF16 ONNX conversion for strongly typed builds.

Why this module exists: TensorRT 10 picks reduced precision through *builder flags* on an FP32
network (``BuilderFlag.FP16``/``BF16``, "weak typing"). TensorRT 11 removed those flags: it is
strongly typed only, so reduced precision has to be *in the network's own types* — an FP16/BF16 ONNX
graph parsed with ``NetworkDefinitionCreationFlag.STRONGLY_TYPED``. :func:`plan_precision` turns a
user's ``precision=`` into the right recipe for the installed version as plain data (testable
without TensorRT), and :func:`convert_onnx_precision` makes the FP16/BF16 graph.

Precisions
----------
``fp32``  strict FP32: TF32 explicitly disabled.
``tf32``  FP32 network, TF32 tensor-core math allowed (``BuilderFlag.TF32``).
``fp16``  10.x: ``BuilderFlag.FP16`` on the FP32 graph. 11.x: FP16 graph + ``STRONGLY_TYPED``.
``bf16``  10.x: ``BuilderFlag.BF16`` on the FP32 graph. 11.x: BF16 graph + ``STRONGLY_TYPED``.

BF16 conversion: onnxconverter-common has no BF16 converter, so :func:`convert_onnx_precision`
first runs its FP16 converter (which decides *where* reduced precision is safe and inserts the Cast
nodes at the graph I/O and around blocked ops), then retypes every FP16 tensor to BF16 and
re-encodes the weights from the *original FP32 values* (round to nearest even), so BF16 keeps FP32's
range instead of inheriting FP16's clamping. Inputs and outputs stay FP32 (``keep_io_types``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args

from trtlab._io import atomic_path, require_file
from trtlab._lazy import lazy_import
from trtlab.errors import ConfigError, FileFormatError, InputError
from trtlab.trt._compat import is_strongly_typed_only, parse_version, version_str

if TYPE_CHECKING:
    import numpy as np

Precision = Literal["fp32", "tf32", "fp16", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)  # the one list; widgets derive subsets
ReducedPrecision = Literal["fp16", "bf16"]
Version = Union[str, Sequence[int]]

_ALIASES = {
    "float32": "fp32",
    "float": "fp32",
    "f32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "f16": "fp16",
    "bfloat16": "bf16",
}

# ONNX TensorProto element types (numbers from onnx.proto; avoids importing onnx for planning).
_FLOAT, _FLOAT16, _BFLOAT16 = 1, 10, 16

#: Ops kept in FP32 in converted graphs, on top of onnxconverter-common's default block list:
#: index-valued reductions (ArgMax/ArgMin: FP16 rounding flips near-ties, i.e. other class ids)
#: and normalizations whose exp/sum overflow or lose probability mass in FP16 (Softmax,
#: LogSoftmax), and TopK (ranking). TensorRT 11 follows the graph's types exactly, so what the
#: converter leaves in FP16 *is* FP16 on the GPU.
FP32_OPS: tuple[str, ...] = ("ArgMax", "ArgMin", "Softmax", "LogSoftmax", "TopK")

#: Names the conversion recipe in cached file names: bump it whenever the converted graph for the
#: same input changes (block list, Cast clean-up), so stale conversions are never reused.
CONVERSION_RECIPE = "r2"

#: Why BF16 graphs skip the ONNX Runtime parity check (returned by :func:`ort_parity_skip`).
BF16_ORT_REASON = (
    "BF16 ONNX graphs are for TensorRT only: ONNX Runtime has no bfloat16 Conv/Gemm kernels and "
    "onnx.checker rejects bfloat16 Conv at opset 18, so the ONNX Runtime parity step is skipped; "
    "compare the TensorRT BF16 engine against the FP32 ONNX model instead"
)


def normalize_precision(precision: str) -> str:
    """Lower-case, resolve aliases (``"float16"`` -> ``"fp16"``), reject unknown values."""
    value = _ALIASES.get(str(precision).strip().lower(), str(precision).strip().lower())
    if value not in PRECISIONS:
        raise ConfigError(
            f"precision={precision!r} is not supported; expected one of {', '.join(PRECISIONS)}",
            hint="use 'fp16' for the usual speed-up, 'fp32' for reference numbers",
        )
    return value


@dataclass(frozen=True)
class BuildPlan:
    """How to build ``precision`` on TensorRT ``trt_version``: pure data, names not enum values.

    ``builder_flags``/``cleared_flags`` are ``trt.BuilderFlag`` member names to set/clear,
    ``network_flags`` are ``trt.NetworkDefinitionCreationFlag`` member names, and
    ``onnx_transform`` says whether the ONNX file must first be converted (``"fp16"``/``"bf16"``).
    """

    precision: str
    trt_version: tuple[int, ...]
    strongly_typed: bool
    builder_flags: tuple[str, ...] = ()
    cleared_flags: tuple[str, ...] = ()
    network_flags: tuple[str, ...] = ()
    onnx_transform: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One paragraph for notebooks: what will be done and why."""
        parts = [f"precision={self.precision} on TensorRT {version_str(self.trt_version)}:"]
        parts.append("strongly typed network" if self.strongly_typed else "weakly typed network")
        if self.onnx_transform:
            parts.append(f"ONNX converted to {self.onnx_transform} first")
        if self.builder_flags:
            parts.append("builder flags " + ", ".join(self.builder_flags))
        if self.cleared_flags:
            parts.append("cleared " + ", ".join(self.cleared_flags))
        text = "; ".join(parts[1:])
        return f"{parts[0]} {text}." + ("".join(f" {n}" for n in self.notes))


#: The FP32 plans' note, by whether TF32 math is allowed.
_TF32_NOTES = {
    False: "TF32 is disabled so FP32 results match ONNX Runtime closely.",
    True: "TF32 tensor cores (Ampere+) round matmul/conv inputs to 10-bit mantissas.",
}


def plan_precision(
    precision: str, trt_version: Version, *, strongly_typed: bool | None = None
) -> BuildPlan:
    """The recipe for ``precision`` on ``trt_version`` (see the module docstring's table).

    ``strongly_typed=None`` chooses per version (10.x: weak typing, 11.x: strong typing).
    ``strongly_typed=True`` on 10.x gives the 11.x recipe (converted graph + ``STRONGLY_TYPED``),
    useful to compare both ways on one machine. ``False`` on 11.x is an error.
    """
    prec = normalize_precision(precision)
    version = parse_version(trt_version)
    only_strong = is_strongly_typed_only(version)
    if strongly_typed is False and only_strong:
        raise ConfigError(
            f"strongly_typed=False asked, but TensorRT {version_str(version)} builds strongly "
            "typed networks only (weak-typing flags FP16/BF16/INT8 were removed in 11)",
            hint="leave strongly_typed=None; precision='fp16' converts the ONNX graph to FP16",
        )
    strong = only_strong if strongly_typed is None else strongly_typed
    network_flags = ("STRONGLY_TYPED",) if strong else ()
    if prec in ("fp32", "tf32"):  # FP32 graph either way; only the TF32 flag differs
        tf32 = prec == "tf32"
        return BuildPlan(
            prec,
            version,
            strong,
            builder_flags=("TF32",) if tf32 else (),
            cleared_flags=() if tf32 else ("TF32",),
            network_flags=network_flags,
            notes=(_TF32_NOTES[tf32],),
        )
    flag = "FP16" if prec == "fp16" else "BF16"
    if strong:
        return BuildPlan(
            prec,
            version,
            True,
            network_flags=network_flags,
            onnx_transform=prec,
            notes=(
                f"The graph's weights and activations become {prec} (inputs/outputs stay float32);"
                " TensorRT follows the graph's types exactly.",
            ),
        )
    return BuildPlan(
        prec,
        version,
        False,
        builder_flags=(flag,),
        notes=(f"BuilderFlag.{flag} lets TensorRT choose {prec} kernels where faster.",),
    )


# -- ONNX conversion -----------------------------------------------------------------------------
def _float32_to_bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """FP32 -> BF16 bit patterns (uint16), round to nearest even; NaN stays NaN."""
    import numpy as np

    f32 = np.ascontiguousarray(values, dtype=np.float32)
    bits = f32.view(np.uint32).astype(np.uint64)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    rounded = ((bits + rounding) >> 16).astype(np.uint16)
    nan = np.isnan(f32)
    if nan.any():
        rounded = np.where(nan, np.uint16(0x7FC0), rounded)
    return rounded.astype(np.uint16)


def bfloat16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    """BF16 bit patterns (uint16) -> FP32 values (exact); used by tests and comparisons."""
    import numpy as np

    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def _bf16_tensor(original: Any, onnx: Any) -> Any:
    """A BFLOAT16 TensorProto with ``original``'s name, dims and values (FP32 source)."""
    from onnx import numpy_helper

    values = numpy_helper.to_array(original)
    tensor = onnx.TensorProto()
    tensor.name = original.name
    tensor.dims.extend(original.dims)
    tensor.data_type = _BFLOAT16
    tensor.raw_data = _float32_to_bfloat16_bits(values).tobytes()
    return tensor


def _retype_fp16_to_bf16(converted: Any, original: Any, onnx: Any) -> None:
    """Rewrite an FP16-converted model in place to BF16, taking weights from ``original`` (FP32)."""
    from onnx import numpy_helper

    orig_inits = {t.name: t for t in original.graph.initializer}
    orig_consts: dict[str, Any] = {}
    for node in original.graph.node:
        if node.op_type == "Constant" and node.output:
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == _FLOAT:
                    orig_consts[node.output[0]] = attr.t

    def bf16_from(tensor: Any, source: Any | None) -> Any:
        if source is None or source.data_type != _FLOAT:
            # No FP32 original (created by the converter): widen the FP16 values exactly.
            source = numpy_helper.from_array(
                numpy_helper.to_array(tensor).astype("float32"), tensor.name
            )
        out = _bf16_tensor(source, onnx)
        out.name = tensor.name
        return out

    graph = converted.graph
    for i, init in enumerate(graph.initializer):
        if init.data_type == _FLOAT16:
            graph.initializer[i].CopyFrom(bf16_from(init, orig_inits.get(init.name)))
    for node in graph.node:
        for attr in node.attribute:
            # Cast(to=), and ops with a dtype attribute (EyeLike, RandomNormal, ...).
            if attr.name in ("dtype", "to") and attr.i == _FLOAT16:
                attr.i = _BFLOAT16
            elif attr.t.data_type == _FLOAT16:
                source = orig_consts.get(node.output[0]) if node.output else None
                attr.t.CopyFrom(bf16_from(attr.t, source))
        if any(a.g.node for a in node.attribute):
            raise InputError(
                f"BF16 conversion does not handle subgraphs (node '{node.name}', "
                f"op {node.op_type})",
                hint="use precision='fp16', or remove If/Loop/Scan from the model",
            )
    for collection in (graph.input, graph.output, graph.value_info):
        for value in collection:
            if value.type.tensor_type.elem_type == _FLOAT16:
                value.type.tensor_type.elem_type = _BFLOAT16


def _split_block_list(model: Any, block_list: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """Split ``block_list`` into op types and node names found in ``model``; reject the rest."""
    if not block_list:
        return [], []
    ops = {n.op_type for n in model.graph.node}
    names = {n.name for n in model.graph.node}
    block_ops, block_nodes, unknown = [], [], []
    for item in block_list:
        if item in ops:
            block_ops.append(item)
        elif item in names:
            block_nodes.append(item)
        else:
            unknown.append(item)
    if unknown:
        raise InputError(
            f"block_list entries {unknown} are neither op types nor node names of this model",
            hint=f"op types present: {', '.join(sorted(ops))}",
        )
    return block_ops, block_nodes


def _consumers(graph: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            if name:
                out.setdefault(name, []).append(node)
    return out


def _cast_to(node: Any) -> int | None:
    for attr in node.attribute:
        if attr.name == "to":
            return int(attr.i)
    return None


def _tensor_types(model: Any, onnx: Any) -> dict[str, int]:
    """Element type of every typed tensor (inputs, initializers, inferred intermediates)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:
        inferred = model
    graph = inferred.graph
    types: dict[str, int] = {t.name: int(t.data_type) for t in graph.initializer}
    for value in (*graph.input, *graph.value_info, *graph.output):
        elem = value.type.tensor_type.elem_type
        if elem:
            types[value.name] = int(elem)
    return types


def simplify_casts(model: Any, onnx: Any) -> dict[str, int]:
    """Remove the Casts the FP16 converter leaves that change nothing but cost time or accuracy.

    - A Cast whose output only feeds ``Shape`` nodes: a shape does not depend on the element
      type, so ``Shape`` reads the Cast's input directly (TensorRT would otherwise run the
      conversion of a whole activation just to read its dims).
    - ``Cast(to=A)(Cast(to=B)(x))`` where ``x`` already has type ``A`` (e.g. FP32 -> FP16 -> FP32
      around an op kept in FP32): the consumers read ``x``, which also avoids FP16 rounding.

    Edits ``model`` in place; returns how many of each kind were removed.
    """
    graph = model.graph
    outputs = {o.name for o in graph.output}
    removed = {"shape_only": 0, "round_trip": 0}
    types = _tensor_types(model, onnx)
    changed = True
    while changed:
        changed = False
        consumers = _consumers(graph)
        producers = {out: n for n in graph.node for out in n.output}
        for node in list(graph.node):
            if node.op_type != "Cast" or not node.input or node.output[0] in outputs:
                continue
            src, dst = node.input[0], node.output[0]
            users = consumers.get(dst, [])
            if users and all(u.op_type == "Shape" for u in users):
                for user in users:
                    user.input[0] = src
                graph.node.remove(node)
                removed["shape_only"] += 1
                changed = True
                break
            first = producers.get(src)
            if first is None or first.op_type != "Cast" or not first.input:
                continue
            origin = first.input[0]
            if types.get(origin) is None or types.get(origin) != _cast_to(node):
                continue
            for user in users:
                for i, name in enumerate(user.input):
                    if name == dst:
                        user.input[i] = origin
            graph.node.remove(node)
            removed["round_trip"] += 1
            if src not in outputs and all(u is node for u in consumers.get(src, [])):
                graph.node.remove(first)  # the narrowing Cast fed only the removed one
            changed = True
            break
    if any(removed.values()):
        live = {name for n in graph.node for name in (*n.input, *n.output)}
        keep = [v for v in graph.value_info if v.name in live]
        del graph.value_info[:]
        graph.value_info.extend(keep)
    return removed


def _is_float_model(model: Any) -> bool:
    types = [t.data_type for t in model.graph.initializer]
    return _FLOAT in types or not any(t in (_FLOAT16, _BFLOAT16) for t in types)


def convert_onnx_precision(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    precision: str = "fp16",
    *,
    keep_io_types: bool = True,
    block_list: Iterable[str] | None = None,
) -> Path:
    """Write an FP16 or BF16 copy of the FP32 ONNX model ``src`` to ``dst`` (atomically).

    ``keep_io_types=True`` keeps float inputs/outputs FP32 (Cast nodes at the boundary), so the
    same input arrays work for both models. ``block_list``: extra op types or node names kept in
    FP32, on top of :data:`FP32_OPS` (ArgMax, Softmax, TopK, ...) and onnxconverter-common's
    default list (Resize, Range, ...). Casts that only feed ``Shape`` and FP32 -> FP16 -> FP32
    round trips are removed afterwards (:func:`simplify_casts`). A BF16 result is for TensorRT
    only: ONNX Runtime cannot run it (see :data:`BF16_ORT_REASON`). Returns ``dst``.
    """
    prec = normalize_precision(precision)
    if prec not in ("fp16", "bf16"):
        raise ConfigError(
            f"convert_onnx_precision makes fp16 or bf16 graphs, got precision={precision!r}",
            hint="fp32/tf32 builds use the original ONNX file unchanged",
        )
    onnx = lazy_import("onnx", purpose="convert an ONNX model's precision")
    float16 = lazy_import(
        "onnxconverter_common.float16", purpose="convert an ONNX model to FP16/BF16"
    )
    src_path = require_file(
        src, what="ONNX file", hint="export the model first (trtlab.export_onnx)"
    )
    try:
        original = onnx.load(str(src_path))
    except Exception as exc:
        raise FileFormatError(
            f"{src_path} is not a readable ONNX model: {exc}", hint="re-export the model"
        ) from exc
    if not _is_float_model(original):
        raise InputError(
            f"{src_path} already has reduced-precision weights; expected an FP32 model",
            hint="pass the original FP32 ONNX file",
        )
    block_ops, block_nodes = _split_block_list(original, block_list)
    working = onnx.ModelProto()
    working.CopyFrom(original)
    taken = {n.name for n in working.graph.node}
    for i, node in enumerate(working.graph.node):
        if not node.name:  # the converter names its Casts after nodes: unnamed ones collide
            name = f"{node.op_type}_{i}"
            while name in taken:
                name += "_"
            node.name = name
            taken.add(name)
    converted = float16.convert_float_to_float16(
        working,
        keep_io_types=keep_io_types,
        op_block_list=sorted({*float16.DEFAULT_OP_BLOCK_LIST, *FP32_OPS, *block_ops}),
        node_block_list=block_nodes,
    )
    simplify_casts(converted, onnx)
    if prec == "bf16":
        _retype_fp16_to_bf16(converted, original, onnx)
    converted.doc_string = (
        converted.doc_string
        + f"\n[trtlab] converted to {prec} (keep_io_types={keep_io_types}, recipe "
        + f"{CONVERSION_RECIPE})"
        + (
            "\n[trtlab] BF16: for TensorRT only; ONNX Runtime cannot run it"
            if prec == "bf16"
            else ""
        )
    ).strip()
    dst_path = Path(dst)
    with atomic_path(dst_path, suffix=".onnx") as tmp:
        if converted.ByteSize() > 1_800_000_000:
            onnx.save(
                converted,
                str(tmp),
                save_as_external_data=True,
                location=dst_path.name + ".data",
            )
        else:
            onnx.save(converted, str(tmp))
    return dst_path


def ort_parity_skip(precision: str) -> str | None:
    """Why ONNX Runtime cannot check a converted graph of ``precision``, or None when it can.

    Callers that compare a converted ONNX model with ONNX Runtime print this reason and skip the
    step (the TensorRT path still works): today only BF16 graphs are skipped.
    """
    return BF16_ORT_REASON if normalize_precision(precision) == "bf16" else None


def onnx_float_types(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Element-type summary of an ONNX file: ``{"initializers": {type: count}, "inputs": ...}``.

    Lets notebooks and tests show what a conversion changed without reading protobufs.
    """
    onnx = lazy_import("onnx", purpose="inspect an ONNX model")
    model = onnx.load(str(path), load_external_data=False)
    name = onnx.TensorProto.DataType.Name

    def count(types: Iterable[int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in types:
            out[name(t)] = out.get(name(t), 0) + 1
        return out

    return {
        "initializers": count(t.data_type for t in model.graph.initializer),
        "inputs": {v.name: name(v.type.tensor_type.elem_type) for v in model.graph.input},
        "outputs": {v.name: name(v.type.tensor_type.elem_type) for v in model.graph.output},
        "casts": sum(1 for n in model.graph.node if n.op_type == "Cast"),
    }


__all__ = [
    "BF16_ORT_REASON",
    "CONVERSION_RECIPE",
    "FP32_OPS",
    "PRECISIONS",
    "BuildPlan",
    "Precision",
    "bfloat16_bits_to_float32",
    "convert_onnx_precision",
    "normalize_precision",
    "onnx_float_types",
    "ort_parity_skip",
    "plan_precision",
    "simplify_casts",
]
