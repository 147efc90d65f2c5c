"""PyTorch -> ONNX: atomic, cached export with named dynamic dims, and a readable ONNX summary.

Exporter choice: ``exporter="dynamo"`` (``torch.onnx.export(..., dynamo=True)``) is the default.
It is torch.onnx's own default since PyTorch 2.9, the TorchScript ("legacy") exporter is
deprecated there and slated for removal, and its graphs are cleaner (no ``Identity`` chains).
It is slower (ResNet-50 ~8 s vs ~2.5 s on 2 CPU cores) and needs opset >= 18; ``export_model``
caches the result, so the cost is paid once. ``exporter="legacy"`` stays available for old torch
versions and opsets < 18.

Always export with a *small* example input and dynamic dims: the exporters trace with the example
and memory grows with it (the legacy exporter peaks at ~11 GB for FCN-ResNet-101 at 1026x1282).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import re
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from trtlab import config
from trtlab._io import atomic_path
from trtlab.errors import DTypeError, ExportError, FileFormatError, InputError

if TYPE_CHECKING:
    import onnx
    import torch

    from trtlab.tensors import TensorSpec

    _PathBase = Path
else:
    _PathBase = type(Path())  # the concrete Path class; Path itself is not subclassable < 3.12

log = logging.getLogger("trtlab.export")

Exporter = Literal["dynamo", "legacy"]
DEFAULT_EXPORTER: Exporter = "dynamo"
DEFAULT_OPSET = 18
#: Minimum opset the dynamo exporter implements (it would otherwise silently convert).
DYNAMO_MIN_OPSET = 18
#: protobuf cannot serialise a single message >= 2 GiB: larger models need external data.
PROTOBUF_LIMIT = 2**31 - 1
DynamicAxes = Mapping[str, Mapping[int, str]]
_OFFLINE_WHY = "TRTLAB_OFFLINE=1 forbids downloading and the checkpoint is not cached"


# -- helpers ---------------------------------------------------------------------------------


def _as_example_tuple(example_inputs: Any) -> tuple[torch.Tensor, ...]:
    import torch

    items = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    if not items:
        raise InputError("example_inputs is empty", hint="pass one example tensor per model input")
    out: list[torch.Tensor] = []
    for i, x in enumerate(items):
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x))
        if not isinstance(x, torch.Tensor):
            raise DTypeError(
                f"example input {i} must be a torch.Tensor or numpy array, got {type(x).__name__}",
                hint="e.g. torch.randn(1, 3, 224, 224)",
            )
        if x.dtype == torch.float64:
            raise DTypeError(
                f"example input {i} is float64; the ONNX input would be double, which TensorRT "
                "does not accept",
                hint="use float32: x.float() / x.astype(np.float32)",
            )
        if not (x.dtype.is_floating_point or x.dtype in (torch.int64, torch.int32, torch.bool)):
            raise DTypeError(
                f"example input {i} has dtype {x.dtype}; expected float32/float16/int64/int32/bool",
                hint="convert with x.float()",
            )
        out.append(x)
    return tuple(out)


def _check_names(kind: str, names: Sequence[str] | None, count: int | None) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
        raise InputError(
            f"{kind}_names must be a list of non-empty strings, got {names!r}",
            hint=f'e.g. {kind}_names=["{kind}"]',
        )
    if len(set(names)) != len(names):
        raise InputError(f"{kind}_names has duplicates: {list(names)}", hint="use unique names")
    if count is not None and len(names) != count:
        raise InputError(
            f"{len(names)} {kind}_names {list(names)} for {count} example inputs",
            hint="give one name per example input",
        )
    return list(names)


def _check_dynamic_axes(
    dynamic_axes: DynamicAxes | None, names: list[str]
) -> dict[str, dict[int, str]]:
    if not dynamic_axes:
        return {}
    out: dict[str, dict[int, str]] = {}
    for tensor, axes in dynamic_axes.items():
        if tensor not in names:
            raise InputError(
                f"dynamic_axes names tensor {tensor!r}, which is not among inputs/outputs {names}",
                hint="pass input_names/output_names that include it",
            )
        if not isinstance(axes, Mapping):
            raise InputError(
                f"dynamic_axes[{tensor!r}] must map axis -> dim name, got {axes!r}",
                hint='e.g. {"input": {0: "batch"}}',
            )
        out[tensor] = {int(a): str(n) for a, n in axes.items()}
    return out


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"


def _describe_failure(exc: BaseException) -> str:
    """The exporter's message plus the innermost cause (dynamo wraps the real error twice)."""
    root = exc
    seen = {id(exc)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        root = nxt
    if root is exc:
        return _first_line(exc)
    return f"{_first_line(exc)} (caused by {_first_line(root)})"


@contextlib.contextmanager
def _quiet_torch_onnx() -> Iterator[None]:
    """Hide torch.onnx's deprecation chatter; real warnings (UserWarning) still show."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Export in eval mode (BatchNorm/Dropout inference behaviour), restoring the caller's mode."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _rename_dims(proto: onnx.ModelProto, dyn: dict[str, dict[int, str]]) -> None:
    """Give the exporter's symbols (``s77``...) the user's dim names, in the whole graph."""
    graph = proto.graph
    by_name = {v.name: v for v in [*graph.input, *graph.output]}
    mapping: dict[str, str] = {}
    for tensor in [v.name for v in graph.input]:
        dims = by_name[tensor].type.tensor_type.shape.dim
        for axis, new in dyn.get(tensor, {}).items():
            if axis < len(dims) and dims[axis].HasField("dim_param"):
                mapping.setdefault(dims[axis].dim_param, new)
    values = [*graph.input, *graph.output, *graph.value_info]
    for v in values:
        for d in v.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param in mapping:
                d.dim_param = mapping[d.dim_param]
    for tensor in [v.name for v in graph.output]:
        dims = by_name[tensor].type.tensor_type.shape.dim
        for axis, new in dyn.get(tensor, {}).items():
            if axis < len(dims) and not dims[axis].HasField("dim_value"):
                dims[axis].dim_param = new


def _check_dims_dynamic(proto: onnx.ModelProto, dyn: dict[str, dict[int, str]]) -> None:
    for v in proto.graph.input:
        dims = v.type.tensor_type.shape.dim
        for axis in dyn.get(v.name, {}):
            if axis >= len(dims):
                raise InputError(
                    f"dynamic_axes names axis {axis} of input '{v.name}', which has rank "
                    f"{len(dims)}",
                    hint="axes count from 0",
                )
            if dims[axis].HasField("dim_value"):
                raise ExportError(
                    f"axis {axis} of input '{v.name}' was exported as the fixed size "
                    f"{dims[axis].dim_value}, not as a dynamic dim",
                    hint="the model specialises on this size; try another example size",
                )


def _initializer_bytes(proto: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) for t in proto.graph.initializer)


def _save_proto(proto: onnx.ModelProto, target: Path, *, external_data: bool) -> None:
    """Write ``proto`` atomically; with external data the weights go to ``<name>.data``."""
    import onnx

    if not external_data and _initializer_bytes(proto) >= PROTOBUF_LIMIT - (64 << 20):
        warnings.warn(
            f"{target.name}: the weights exceed protobuf's 2 GB limit; writing them to "
            f"{target.name}.data (external data)",
            UserWarning,
            stacklevel=3,
        )
        external_data = True
    if not external_data:
        with atomic_path(target) as tmp:
            onnx.save_model(proto, str(tmp))
        return
    # Save both files in a private folder beside the target, then move them in (data first).
    data_name = target.name + ".data"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as tmpdir:
        tmp_model = Path(tmpdir) / target.name
        onnx.save_model(
            proto,
            str(tmp_model),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data_name,
            size_threshold=1024,
        )
        if (Path(tmpdir) / data_name).exists():
            os.replace(Path(tmpdir) / data_name, target.parent / data_name)
        os.replace(tmp_model, target)


# -- export ----------------------------------------------------------------------------------


def export_onnx(
    model: torch.nn.Module,
    path: str | os.PathLike[str],
    example_inputs: Any,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: DynamicAxes | None = None,
    opset: int = DEFAULT_OPSET,
    exporter: Exporter = DEFAULT_EXPORTER,
    external_data: bool = False,
    verbose: bool = False,
) -> Path:
    """Export ``model`` to ``path`` (written atomically) and return the path.

    ``example_inputs``: one tensor/array or a tuple, one per model input; keep it small.
    ``dynamic_axes``: ``{tensor_name: {axis: dim_name}}``; the names become the ONNX
    ``dim_param`` of inputs *and* outputs with both exporters. ``external_data=True`` writes the
    weights to ``<path>.data`` (automatic above protobuf's 2 GB limit). The model is exported in
    eval mode; its own mode is restored afterwards.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InputError(
            f"export_onnx expects a torch.nn.Module, got {type(model).__name__}",
            hint="e.g. trtlab.models.resnet50()",
        )
    if exporter not in ("dynamo", "legacy"):
        raise InputError(
            f"exporter must be 'dynamo' or 'legacy', got {exporter!r}", hint="use 'dynamo'"
        )
    if not isinstance(opset, int) or opset < 7:
        raise InputError(f"opset must be an int >= 7, got {opset!r}", hint="e.g. opset=18")
    if exporter == "dynamo" and opset < DYNAMO_MIN_OPSET:
        raise InputError(
            f"the dynamo exporter implements opset >= {DYNAMO_MIN_OPSET}, got opset={opset} "
            "(torch would silently export opset 18 and try to convert it down)",
            hint=f"use opset={DYNAMO_MIN_OPSET} (TensorRT 10+ parses it), or exporter='legacy'",
        )
    args = _as_example_tuple(example_inputs)
    in_names = _check_names("input", input_names, len(args))
    out_names = _check_names("output", output_names, None)
    dyn = _check_dynamic_axes(dynamic_axes, [*(in_names or []), *(out_names or [])])
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputError(f"{target} is a folder", hint="pass a file path ending in .onnx")

    t0 = time.perf_counter()
    try:
        with _quiet_torch_onnx(), _eval_mode(model), torch.no_grad():
            if exporter == "dynamo":
                proto = _export_dynamo(model, args, in_names, out_names, dyn, opset, verbose)
            else:
                proto = _export_legacy(model, args, in_names, out_names, dyn, opset, verbose)
    except (InputError, ExportError):
        raise
    except Exception as exc:
        raise ExportError(
            f"exporting {type(model).__name__} with the {exporter} exporter (opset {opset}) "
            f"failed: {_describe_failure(exc)}",
            hint=(
                "try exporter='legacy'"
                if exporter == "dynamo"
                else "try exporter='dynamo' with opset >= 18"
            )
            + "; check the model for unsupported operators (see the chained exception)",
        ) from exc
    _check_dims_dynamic(proto, dyn)
    _rename_dims(proto, dyn)
    _save_proto(proto, target, external_data=external_data)
    log.info("exported %s to %s in %.1f s", type(model).__name__, target, time.perf_counter() - t0)
    return target


def _export_dynamo(
    model: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    in_names: list[str] | None,
    out_names: list[str] | None,
    dyn: dict[str, dict[int, str]],
    opset: int,
    verbose: bool,
) -> onnx.ModelProto:
    import torch
    from torch.export import Dim

    names = in_names or [f"input_{i}" for i in range(len(args))]
    shapes = tuple({axis: Dim.DYNAMIC for axis in dyn.get(n, {})} or None for n in names)
    program = torch.onnx.export(
        model, args, None, input_names=in_names, output_names=out_names,
        dynamic_shapes=shapes if any(s for s in shapes) else None, opset_version=opset,
        dynamo=True, verbose=verbose, optimize=True,
    )  # fmt: skip
    if program is None:  # pragma: no cover - torch returns the program when f is None
        raise ExportError("torch.onnx.export returned no program", hint="upgrade torch")
    proto: onnx.ModelProto = program.model_proto
    return proto


def _export_legacy(
    model: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    in_names: list[str] | None,
    out_names: list[str] | None,
    dyn: dict[str, dict[int, str]],
    opset: int,
    verbose: bool,
) -> onnx.ModelProto:
    import onnx
    import torch

    with tempfile.TemporaryDirectory(prefix="trtlab-legacy-") as tmpdir:
        tmp = Path(tmpdir) / "model.onnx"
        torch.onnx.export(
            model, args, str(tmp), input_names=in_names, output_names=out_names,
            dynamic_axes=dyn or None, opset_version=opset, dynamo=False, verbose=verbose,
            do_constant_folding=True,
        )  # fmt: skip
        proto: onnx.ModelProto = onnx.load(str(tmp))  # also reads external data, if any
    return proto


class OnnxFromTorch:
    """Loader twin of :func:`export_onnx` (Polygraphy style): configure now, export on call.

    ``OnnxFromTorch(model, example)(path)`` exports and returns the path; without any path the
    file goes to ``cache_dir()/onnx/<ModelClass>-<unique>.onnx``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        example_inputs: Any,
        *,
        path: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        self.model = model
        self.example_inputs = example_inputs
        self.path = path
        self.options = options

    def __call__(self, path: str | os.PathLike[str] | None = None) -> Path:
        target = path if path is not None else self.path
        if target is None:
            folder = config.cache_dir() / "onnx"
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                prefix=f"{type(self.model).__name__}-", suffix=".onnx", dir=folder
            )
            os.close(fd)
            target = name
        return export_onnx(self.model, target, self.example_inputs, **self.options)

    def __repr__(self) -> str:
        return f"OnnxFromTorch({type(self.model).__name__}, path={self.path!r}, {self.options})"


class ExportedPath(_PathBase):
    """The path of an ONNX file from :func:`export_model`, plus how it came to be.

    ``cached``: True when the file already existed and was reused (no export ran);
    ``weights``: the weight tag in the name (``IMAGENET1K_V1`` ... or ``random``);
    ``seconds``: export time (0 for a cache hit). Behaves as a normal ``pathlib.Path``.
    """

    cached: bool = False
    weights: str = ""
    seconds: float = 0.0


def model_onnx_path(
    name: str, weights_tag: str, opset: int, exporter: Exporter = DEFAULT_EXPORTER
) -> Path:
    """Cache location of a model export: ``cache_dir()/onnx/<name>-<tag>-opset<N>.onnx``."""
    suffix = "" if exporter == DEFAULT_EXPORTER else f"-{exporter}"
    return config.cache_dir() / "onnx" / f"{name}-{weights_tag}-opset{opset}{suffix}.onnx"


def export_model(
    name: str,
    *,
    weights: Any = "default",
    path: str | os.PathLike[str] | None = None,
    opset: int | None = None,
    exporter: Exporter | None = None,
    strict: bool = False,
    force: bool = False,
) -> ExportedPath:
    """Export a :data:`trtlab.models.MODEL_SPECS` model (or a tiny test model), cached.

    Without ``path`` the file is :func:`model_onnx_path`; when it exists it is returned as is
    (``result.cached is True``) unless ``force=True``. Random-weight models (offline fallback or
    ``weights=None``) are cached under the tag ``random`` (they are seeded, hence reproducible),
    never under the pretrained name. An explicit ``path`` is always (re)written.
    """
    from trtlab import models

    spec = models.get_spec(name)
    opset = spec.opset if opset is None else opset
    exporter = DEFAULT_EXPORTER if exporter is None else exporter
    model = None
    if name in models.MODEL_SPECS:
        enum = models.resolve_weights(name, weights)
        if enum is None:
            tag = models.RANDOM_TAG
        elif models.checkpoint_path(enum).is_file():
            tag = str(enum.name)
        elif config.offline():  # known outcome: warn (or raise) now, skip building the model
            models.warn_random_weights(name, enum, _OFFLINE_WHY, strict=strict)
            tag = models.RANDOM_TAG
        else:  # the tag is known only after trying to get the weights
            model = models.load_model(name, weights, strict=strict)
            tag = str(getattr(model, "trtlab_weights", models.RANDOM_TAG))
    else:
        if weights not in (None, "default", models.RANDOM_TAG):
            raise InputError(
                f"{name} is a random test model; got weights={weights!r}",
                hint="pass weights=None (or leave the default)",
            )
        tag = models.RANDOM_TAG
    target = Path(path) if path is not None else model_onnx_path(name, tag, opset, exporter)
    result = ExportedPath(target)
    result.weights = tag
    if path is None and target.is_file() and not force:
        result.cached = True
        log.info("using cached %s", target)
        return result
    if model is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", models.RandomWeightsWarning)  # warned above already
            model = models.load_model(name, weights, strict=strict)
        tag = str(getattr(model, "trtlab_weights", tag))
        if path is None and tag != result.weights:  # the cached checkpoint was unusable
            target = model_onnx_path(name, tag, opset, exporter)
            result = ExportedPath(target)
            result.weights = tag
    import torch

    gen = torch.Generator().manual_seed(0)
    example = torch.randn(spec.example_shape, generator=gen)
    t0 = time.perf_counter()
    export_onnx(
        model, target, example, input_names=[spec.input_name], output_names=[spec.output_name],
        dynamic_axes=spec.dynamic_axes, opset=opset, exporter=exporter,
    )  # fmt: skip
    result.seconds = time.perf_counter() - t0
    return result


# -- checking --------------------------------------------------------------------------------


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


def _spec_of(value: Any) -> TensorSpec:
    import onnx

    from trtlab.tensors import TensorSpec

    tt = value.type.tensor_type
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(str(d.dim_param))
        else:
            dims.append(None)
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type))
    except Exception:  # bfloat16/float8 have no numpy dtype
        dtype = np.dtype("V2")
    return TensorSpec(value.name, tuple(dims), dtype)


def _count_ops(graph: Any, counter: Counter[str]) -> None:
    for node in graph.node:
        std = node.domain in ("", "ai.onnx")
        counter[node.op_type if std else f"{node.domain}.{node.op_type}"] += 1
        for attr in node.attribute:
            if attr.HasField("g"):
                _count_ops(attr.g, counter)
            for g in attr.graphs:
                _count_ops(g, counter)


def check_onnx(path: str | os.PathLike[str]) -> OnnxSummary:
    """Run the full ONNX checker (incl. strict shape inference) and summarise the model.

    Missing or unreadable files raise ``FileFormatError``; a parsable but invalid model raises
    ``ExportError`` with the checker's message.
    """
    import onnx

    p = Path(path).expanduser()
    if not p.is_file():
        raise FileFormatError(
            f"ONNX file {p} does not exist", hint="export it first (trtlab.export.export_model)"
        )
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
    try:
        onnx.checker.check_model(str(p), full_check=True)
    except Exception as exc:  # ValidationError, InferenceError
        raise ExportError(
            f"ONNX checker rejected {p}: {type(exc).__name__}: {exc}",
            hint="re-export with a supported opset; report the model if it persists",
        ) from exc
    init_names = {t.name for t in proto.graph.initializer}
    counter: Counter[str] = Counter()
    _count_ops(proto.graph, counter)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    data_file_bytes = sum(
        (p.parent / e.value).stat().st_size
        for e in {
            ent.value: ent
            for t in proto.graph.initializer
            for ent in t.external_data
            if ent.key == "location"
        }.values()
        if (p.parent / e.value).is_file()
    )
    return OnnxSummary(
        path=p,
        file_size=p.stat().st_size + data_file_bytes,
        opset=int(opset),
        ir_version=int(proto.ir_version),
        producer=f"{proto.producer_name} {proto.producer_version}".strip(),
        inputs=[_spec_of(v) for v in proto.graph.input if v.name not in init_names],
        outputs=[_spec_of(v) for v in proto.graph.output],
        op_histogram=counter,
        num_parameters=int(sum(int(np.prod(t.dims)) for t in proto.graph.initializer)),
        num_nodes=sum(counter.values()),
    )


__all__ = [
    "DEFAULT_EXPORTER",
    "DEFAULT_OPSET",
    "ExportedPath",
    "OnnxFromTorch",
    "OnnxSummary",
    "check_onnx",
    "export_model",
    "export_onnx",
    "model_onnx_path",
]
