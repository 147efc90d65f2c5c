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
import importlib.metadata
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from trtlab import config
from trtlab._io import atomic_dir, atomic_path, check_destination, file_sha256
from trtlab.errors import (
    DTypeError,
    ExportError,
    InputError,
    TrtlabError,
)
from trtlab.onnx_meta import OnnxSummary, check_onnx

if TYPE_CHECKING:
    import onnx
    import torch

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
    with atomic_dir(target) as tmpdir:
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


# -- export checks: opset honoured, trace generalises ------------------------------------------


def _check_export_options(exporter: Any, opset: Any) -> None:
    """Exporter and opset, checked before any model is built or traced."""
    if exporter not in ("dynamo", "legacy"):
        raise InputError(
            f"exporter must be 'dynamo' or 'legacy', got {exporter!r}", hint="use 'dynamo'"
        )
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < 7:
        raise InputError(f"opset must be an int >= 7, got {opset!r}", hint="e.g. opset=18")
    if exporter == "dynamo" and opset < DYNAMO_MIN_OPSET:
        raise InputError(
            f"the dynamo exporter implements opset >= {DYNAMO_MIN_OPSET}, got opset={opset} "
            "(torch would silently export opset 18 and try to convert it down)",
            hint=f"use opset={DYNAMO_MIN_OPSET} (TensorRT 10+ parses it), or exporter='legacy'",
        )
    _check_opset_ceiling(opset)


def _check_opset_ceiling(opset: int) -> None:
    """Refuse an opset newer than the installed ``onnx`` knows, before anything runs."""
    import onnx.defs

    newest = int(onnx.defs.onnx_opset_version())
    if opset > newest:
        raise InputError(
            f"opset={opset} is newer than the installed onnx {onnx.__version__} implements "
            f"(opset <= {newest})",
            hint=f"use opset={DEFAULT_OPSET} (TensorRT 10+ parses it), or upgrade onnx",
        )


def _produced_opset(proto: onnx.ModelProto) -> int:
    return next((int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)


def _check_produced_opset(proto: onnx.ModelProto, opset: int, exporter: str) -> None:
    """The exporter may silently fall back to another opset (dynamo: ask 99, get 18): refuse."""
    got = _produced_opset(proto)
    if got != opset:
        raise ExportError(
            f"asked for opset {opset}, but the {exporter} exporter of torch "
            f"{_torch_version()} produced opset {got} (it cannot honour opset {opset})",
            hint=f"pass opset={got} (what this torch produces), or use another torch version",
        )


@contextlib.contextmanager
def _record_tracer_warnings(sink: list[str]) -> Iterator[None]:
    """Collect torch's TracerWarnings (a traced Python branch); re-emit every other warning."""
    import torch

    tracer: type[Warning] = torch.jit.TracerWarning  # type: ignore[attr-defined]  # not re-exported
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", tracer)
        yield
    for w in caught:
        if issubclass(w.category, tracer):
            sink.append(str(w.message).splitlines()[0].split(". ")[0][:200])
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _flatten_tensors(value: Any) -> list[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _flatten_tensors(v)]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten_tensors(v)]
    return []


def _trace_variants(
    args: tuple[torch.Tensor, ...], dynamic: Sequence[Sequence[int]] = ()
) -> list[tuple[str, tuple[torch.Tensor, ...]]]:
    """Inputs unlike the example (other sign, values, dynamic sizes): a hard-wired branch shows.

    ``dynamic[i]``: the dynamic axes of input ``i``; they are doubled in the last variant, so a
    branch on a dynamic *size* (``if x.shape[2] > 64``) is caught as well.
    """
    import torch

    gen = torch.Generator().manual_seed(1234)

    def fresh(a: torch.Tensor, shape: Sequence[int] | None = None) -> torch.Tensor:
        if not a.is_floating_point():
            return a
        size = tuple(a.shape) if shape is None else tuple(shape)
        return (torch.randn(size, generator=gen) * 2.0 + 0.5).to(a.dtype)

    negated = tuple(-a if a.is_floating_point() else a for a in args)
    variants = [
        ("the example input negated", negated),
        ("a fresh random input", tuple(fresh(a) for a in args)),
    ]
    axes = list(dynamic) + [()] * (len(args) - len(dynamic))
    if any(axes) and all(a.is_floating_point() or not ax for a, ax in zip(args, axes, strict=True)):
        resized = tuple(
            fresh(a, [d * 2 if i in ax else d for i, d in enumerate(a.shape)]) if ax else fresh(a)
            for a, ax in zip(args, axes, strict=True)
        )
        variants.append(("an input with its dynamic dims doubled", resized))
    return variants


def _mismatch(ref: np.ndarray, got: np.ndarray) -> str | None:
    if ref.shape != got.shape:
        return f"shape {list(got.shape)} where PyTorch gives {list(ref.shape)}"
    if ref.size == 0:
        return None
    if np.issubdtype(ref.dtype, np.floating):
        r64, g64 = ref.astype(np.float64), np.asarray(got, dtype=np.float64)
        # NaN/inf where PyTorch has the same NaN/inf are agreement (e.g. log of a negated input)
        special = ~np.isfinite(r64) | ~np.isfinite(g64)
        agree = (np.isnan(r64) & np.isnan(g64)) | (np.isinf(r64) & (r64 == g64))
        if (special & ~agree).any():
            return "NaN/inf values where PyTorch gives other values"
        keep = ~special
        r, d = r64[keep], np.abs(g64[keep] - r64[keep])
        if not r.size:
            return None
        rel = float(np.linalg.norm(d)) / (float(np.linalg.norm(r)) or 1.0)
        if rel > 1e-3 and float(d.max()) > 1e-4:
            return f"relative L2 error {rel:.3g} against PyTorch"
        return None
    differ = float(np.mean(ref != got))
    return f"{differ:.1%} of the values differ from PyTorch" if differ > 0.01 else None


def _check_trace_generalises(
    model: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    proto: onnx.ModelProto,
    tracer_warnings: list[str],
    dynamic: Sequence[Sequence[int]] = (),
) -> None:
    """After TracerWarnings, run the ONNX graph on other inputs and compare with PyTorch.

    The legacy exporter records the one Python branch the example took; a model whose control
    flow depends on the data then exports "successfully" and is silently wrong elsewhere.
    """
    import torch

    name = type(model).__name__
    first = tracer_warnings[0]
    try:
        import onnxruntime as ort
    except ImportError:
        warnings.warn(
            f"the legacy exporter warned while tracing {name} ({first}); onnxruntime is not "
            "installed, so the export could not be checked on a second input: it may have "
            "hard-wired one branch of data-dependent control flow",
            UserWarning,
            stacklevel=3,
        )
        return
    if proto.ByteSize() >= PROTOBUF_LIMIT - (64 << 20):
        log.warning("%s: too large to re-check in memory after tracer warnings (%s)", name, first)
        return
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    in_names = [i.name for i in sess.get_inputs()]
    if len(in_names) != len(args):
        return
    variants = _trace_variants(args, dynamic)
    for label, variant in variants:
        with _eval_mode(model), torch.no_grad():
            try:
                ref = [t.detach().cpu().numpy() for t in _flatten_tensors(model(*variant))]
            except Exception:  # the model refuses this input: not a trace problem
                continue
        hint = (
            "replace the Python `if` on tensor values or sizes with torch.where (or "
            "torch.cond) and export with exporter='dynamo'"
        )
        try:
            got = sess.run(None, {n: v.numpy() for n, v in zip(in_names, variant, strict=True)})
        except Exception as exc:  # PyTorch ran this input, the traced graph cannot
            raise ExportError(
                f"the legacy exporter traced {name} into a graph that only fits the example: "
                f"torch warned '{first}' while tracing, and on {label} PyTorch runs but the "
                f"exported model fails ({_first_line(exc)}); no file was written",
                hint=hint,
            ) from exc
        if len(got) != len(ref):
            return
        for i, (r, g) in enumerate(zip(ref, got, strict=True)):
            why = _mismatch(r, np.asarray(g))
            if why is not None:
                raise ExportError(
                    f"the legacy exporter hard-wired one branch of {name}'s data-dependent "
                    f"control flow: torch warned '{first}' while tracing, and on {label} the "
                    f"exported output {i} has {why}; no file was written",
                    hint=hint,
                )
    log.info(
        "%s: tracer warnings (%s), but the export matches PyTorch on %d more inputs",
        name,
        first,
        len(variants),
    )


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
    _check_export_options(exporter, opset)
    args = _as_example_tuple(example_inputs)
    in_names = _check_names("input", input_names, len(args))
    out_names = _check_names("output", output_names, None)
    dyn = _check_dynamic_axes(dynamic_axes, [*(in_names or []), *(out_names or [])])
    target = check_destination(path, what="ONNX file")

    t0 = time.perf_counter()
    tracer_warnings: list[str] = []
    try:
        with _quiet_torch_onnx(), _eval_mode(model), torch.no_grad():
            call = _ExportCall(model, args, in_names, out_names, dyn, opset, verbose)
            if exporter == "dynamo":
                proto = _export_dynamo(call)
            else:
                with _record_tracer_warnings(tracer_warnings):
                    proto = _export_legacy(call)
    except TrtlabError:
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
    _check_produced_opset(proto, opset, exporter)
    _check_dims_dynamic(proto, dyn)
    _rename_dims(proto, dyn)
    if tracer_warnings:
        names = [v.name for v in proto.graph.input][: len(args)]
        dyn_axes = [sorted(dyn.get(n, {})) for n in names]
        _check_trace_generalises(model, args, proto, tracer_warnings, dyn_axes)
    _save_proto(proto, target, external_data=external_data)
    log.info("exported %s to %s in %.1f s", type(model).__name__, target, time.perf_counter() - t0)
    return target


@dataclass(frozen=True)
class _ExportCall:
    """One checked ``export_onnx`` call, handed whole to the exporter that runs it."""

    model: torch.nn.Module
    args: tuple[torch.Tensor, ...]
    in_names: list[str] | None
    out_names: list[str] | None
    dyn: dict[str, dict[int, str]]
    opset: int
    verbose: bool


def _export_dynamo(c: _ExportCall) -> onnx.ModelProto:
    import torch
    from torch.export import Dim

    names = c.in_names or [f"input_{i}" for i in range(len(c.args))]
    shapes = tuple({axis: Dim.DYNAMIC for axis in c.dyn.get(n, {})} or None for n in names)
    program = torch.onnx.export(
        c.model, c.args, None, input_names=c.in_names, output_names=c.out_names,
        dynamic_shapes=shapes if any(s for s in shapes) else None, opset_version=c.opset,
        dynamo=True, verbose=c.verbose, optimize=True,
    )  # fmt: skip
    if program is None:  # pragma: no cover - torch returns the program when f is None
        raise ExportError("torch.onnx.export returned no program", hint="upgrade torch")
    proto: onnx.ModelProto = program.model_proto
    return proto


def _export_legacy(c: _ExportCall) -> onnx.ModelProto:
    import onnx
    import torch

    with tempfile.TemporaryDirectory(prefix="trtlab-legacy-") as tmpdir:
        tmp = Path(tmpdir) / "model.onnx"
        torch.onnx.export(
            c.model, c.args, str(tmp), input_names=c.in_names, output_names=c.out_names,
            dynamic_axes=c.dyn or None, opset_version=c.opset, dynamo=False, verbose=c.verbose,
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
            try:  # the unique name is reserved by an empty file: remove it if the export fails
                return export_onnx(self.model, name, self.example_inputs, **self.options)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
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


def _torch_version() -> str:
    """torch's version without importing torch (``importlib.metadata``), e.g. ``2.13.0+cpu``."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _torch_tag() -> str:
    """``torch2.13``: the exporter's behaviour changes between torch minor versions."""
    m = re.match(r"(\d+)\.(\d+)", _torch_version())
    return f"torch{m.group(1)}.{m.group(2)}" if m else "torch-unknown"


def model_onnx_path(
    name: str, weights_tag: str, opset: int, exporter: Exporter = DEFAULT_EXPORTER
) -> Path:
    """Cache location: ``cache_dir()/onnx/<name>-<tag>-opset<N>[-legacy]-torch<X.Y>.onnx``.

    Everything that changes the file's content is in its name (model, weights, opset, exporter,
    torch version), so a new torch never reuses an old torch's export.
    """
    suffix = "" if exporter == DEFAULT_EXPORTER else f"-{exporter}"
    stem = f"{name}-{weights_tag}-opset{opset}{suffix}-{_torch_tag()}"
    return config.cache_dir() / "onnx" / f"{stem}.onnx"


class CacheWarning(UserWarning):
    """A cached file failed verification and is being rebuilt."""


def cache_record_path(onnx_path: str | os.PathLike[str]) -> Path:
    """The verification record beside a cached ONNX file: ``<file>.onnx.trtlab.json``."""
    p = Path(onnx_path)
    return p.with_name(p.name + ".trtlab.json")


def _cache_meta(name: str, tag: str, opset: int, exporter: str) -> dict[str, Any]:
    return {
        "format": 1,
        "model": name,
        "weights": tag,
        "opset": opset,
        "exporter": exporter,
        "torch": _torch_version(),
    }


def _write_cache_record(target: Path, meta: dict[str, Any]) -> None:
    """Record the file's hash (and its external data's) right after the export wrote it."""
    from trtlab._io import atomic_write_text

    if not target.is_file():
        return
    record = dict(meta, size=target.stat().st_size, sha256=file_sha256(target))
    data = target.with_name(target.name + ".data")
    if data.is_file():
        record["data_sha256"] = file_sha256(data)
    atomic_write_text(cache_record_path(target), json.dumps(record, indent=1, sort_keys=True))


def verify_cached_onnx(target: str | os.PathLike[str], meta: Mapping[str, Any]) -> str | None:
    """None when ``target`` is exactly what the export recorded; else the reason it is not."""
    path = Path(target)
    record_path = cache_record_path(path)
    if not path.is_file():
        return f"{path} is not a file"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"it has no verification record {record_path.name} (written by an older trtlab?)"
    except (OSError, ValueError) as exc:
        return f"its verification record {record_path.name} is unreadable ({exc})"
    if not isinstance(record, dict):
        return f"its verification record {record_path.name} is not a JSON object"
    for key, want in meta.items():
        if record.get(key) != want:
            return f"it was exported with {key}={record.get(key)!r}, this run needs {want!r}"
    size = path.stat().st_size
    if record.get("size") != size:
        return f"its size is {size} bytes, the export wrote {record.get('size')} (truncated?)"
    if file_sha256(path) != record.get("sha256"):
        return "its SHA-256 differs from the one recorded at export time (altered or corrupt)"
    data = path.with_name(path.name + ".data")
    if "data_sha256" in record and (
        not data.is_file() or file_sha256(data) != record["data_sha256"]
    ):
        return f"its external data file {data.name} is missing or altered"
    return None


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

    Without ``path`` the file is :func:`model_onnx_path`; when it exists *and* matches the
    SHA-256 recorded beside it at export time (:func:`cache_record_path`) it is returned as is
    (``result.cached is True``); a junk, truncated or altered file is re-exported with a
    :class:`CacheWarning`. ``force=True`` re-exports regardless. Random-weight models (offline
    fallback or ``weights=None``) are cached under the tag ``random`` (they are seeded, hence
    reproducible), never under the pretrained name. An explicit ``path`` is always (re)written.
    """
    from trtlab import models

    spec = models.get_spec(name)
    opset = spec.opset if opset is None else opset
    exporter = DEFAULT_EXPORTER if exporter is None else exporter
    _check_export_options(exporter, opset)  # fail before building and tracing the model
    if path is not None:
        check_destination(path, what="ONNX file")
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
    corrupt: str | None = None
    if path is None and target.exists() and not force:
        corrupt = verify_cached_onnx(target, _cache_meta(name, tag, opset, exporter))
        if corrupt is None:
            result.cached = True
            log.info("using cached %s (verified)", target)
            return result
        warnings.warn(
            f"cached ONNX {target} is not usable: {corrupt}; re-exporting it",
            CacheWarning,
            stacklevel=2,
        )
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
    try:
        export_onnx(
            model, target, example, input_names=[spec.input_name],
            output_names=[spec.output_name], dynamic_axes=spec.dynamic_axes, opset=opset,
            exporter=exporter,
        )  # fmt: skip
    except TrtlabError as exc:
        if corrupt is None:
            raise
        raise ExportError(
            f"the cached ONNX {target} is corrupt ({corrupt}) and re-exporting it failed: {exc}",
            hint=f"delete {target} and {cache_record_path(target)}, then run again",
        ) from exc
    result.seconds = time.perf_counter() - t0
    if path is None:
        _write_cache_record(target, _cache_meta(name, tag, opset, exporter))
    return result


# -- checking --------------------------------------------------------------------------------


# ``OnnxSummary`` and ``check_onnx`` live in :mod:`trtlab.onnx_meta` (the one ONNX metadata
# reader, next to TensorSpec); they are re-exported here so ``trtlab.export.check_onnx`` works.


__all__ = [
    "DEFAULT_EXPORTER",
    "DEFAULT_OPSET",
    "CacheWarning",
    "ExportedPath",
    "OnnxFromTorch",
    "OnnxSummary",
    "check_onnx",
    "export_model",
    "cache_record_path",
    "export_onnx",
    "model_onnx_path",
    "verify_cached_onnx",
]
