"""What a deserialized engine's IO tensors are: names, modes, dtypes, shapes, profiles, formats.

Pure Python over TensorRT's named-tensor API (TensorRT 10+: no binding indices), split out of
``runtime.py`` so that the IO table, the dtype map and the shape check can be used (and tested)
without an execution context. :class:`~trtlab.trt.runtime.Engine` reads its table with
:func:`read_io_table` once, at load.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from trtlab.errors import DTypeError, EngineError, InputError, ShapeError
from trtlab.tensors import dtype_lookup, numpy_dtype_by_name
from trtlab.trt.profiles import ShapeRange
from trtlab.trt.profiles import check_shape as check_range

if TYPE_CHECKING:
    import tensorrt as trt

    from trtlab.tensors import TensorSpec

#: Old name of :class:`trtlab.trt.profiles.ShapeRange` (one type for a profile range).
ProfileShape = ShapeRange

# -- data types ---------------------------------------------------------------------------------
#: TensorRT ``DataType`` member name -> numpy dtype name (``None``: no numpy type for engine IO).
#: ``bfloat16``/``float8_*`` come from the ml_dtypes package (installed with onnx). FP4 and INT4
#: are packed two values per byte, which no numpy dtype represents, so engines with such IO
#: tensors are rejected with a hint (keep sub-byte types inside the network, cast at its edges).
TRT_TO_NUMPY: dict[str, str | None] = {
    "FLOAT": "float32",
    "HALF": "float16",
    "BF16": "bfloat16",
    "INT8": "int8",
    "INT32": "int32",
    "INT64": "int64",
    "BOOL": "bool",
    "UINT8": "uint8",
    "FP8": "float8_e4m3fn",
    "E8M0": "float8_e8m0fnu",
    "INT4": None,
    "FP4": None,
}

#: Bits per element of each TensorRT data type (sizes of IO buffers).
TRT_DTYPE_BITS: dict[str, int] = {
    "FLOAT": 32,
    "HALF": 16,
    "BF16": 16,
    "INT8": 8,
    "INT32": 32,
    "INT64": 64,
    "BOOL": 8,
    "UINT8": 8,
    "FP8": 8,
    "E8M0": 8,
    "INT4": 4,
    "FP4": 4,
}


def trt_dtype_name(dtype: Any) -> str:
    """``DataType.HALF`` (or ``"HALF"``) -> ``"HALF"`` (also for other TensorRT enums)."""
    name = getattr(dtype, "name", dtype)
    return str(name).split(".")[-1].upper()


def numpy_dtype(trt_dtype: Any) -> np.dtype[Any]:
    """numpy dtype of a TensorRT ``DataType`` (member or name); ``DTypeError`` if it has none."""
    name = trt_dtype_name(trt_dtype)
    missing = f"unknown TensorRT data type {name}"
    hint = "this TensorRT is newer than trtlab: add it to trtlab.trt.io_table.TRT_TO_NUMPY"
    np_name = dtype_lookup(TRT_TO_NUMPY, name, missing=missing, hint=hint)
    if np_name is None:
        raise DTypeError(
            f"TensorRT {name} tensors are packed ({TRT_DTYPE_BITS[name]} bits per value) and have "
            "no numpy dtype, so trtlab cannot feed or read them as engine inputs/outputs",
            hint="keep FP4/INT4 inside the network (weights, Q/DQ) and give the engine float or "
            "int8 inputs/outputs (cast at the network edges before building)",
        )
    return numpy_dtype_by_name(np_name)  # bfloat16/float8 through ml_dtypes, one lookup for trtlab


# -- IO table -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineTensor:
    """One named IO tensor of an engine, as TensorRT reports it (``-1`` marks dynamic dims).

    ``format``/``vectorized_dim``/``components`` are TensorRT's tensor format: ``LINEAR``
    (row-major, what numpy and torch hold) unless the engine was built with other IO formats.
    """

    name: str
    mode: Literal["input", "output"]
    trt_dtype: str
    shape: tuple[int, ...]
    profiles: tuple[ShapeRange, ...] = ()
    location: str = "DEVICE"
    is_shape_tensor: bool = False
    format: str = "LINEAR"
    vectorized_dim: int = -1
    components: int = 1

    @property
    def is_input(self) -> bool:
        return self.mode == "input"

    @functools.cached_property
    def dtype(self) -> np.dtype[Any]:
        """numpy dtype (raises ``DTypeError`` for packed FP4/INT4); looked up once per tensor."""
        return numpy_dtype(self.trt_dtype)

    @property
    def is_dynamic(self) -> bool:
        return any(d < 0 for d in self.shape)

    @property
    def is_linear(self) -> bool:
        """True for row-major memory, the only layout numpy/torch buffers have."""
        return self.format == "LINEAR"

    def spec(self) -> TensorSpec:
        """The runner-level :class:`~trtlab.tensors.TensorSpec` (dynamic dims -> ``None``)."""
        from trtlab.tensors import TensorSpec

        return TensorSpec(self.name, tuple(None if d < 0 else d for d in self.shape), self.dtype)

    def dtype_str(self) -> str:
        np_name = TRT_TO_NUMPY.get(self.trt_dtype)
        return np_name if np_name else self.trt_dtype

    def shape_str(self) -> str:
        return "[" + ", ".join("?" if d < 0 else str(d) for d in self.shape) + "]"

    def format_str(self) -> str:
        """``LINEAR``, or e.g. ``CHW32 (dim 1 x32)`` for a vectorized format."""
        if self.vectorized_dim >= 0 and self.components > 1:
            return f"{self.format} (dim {self.vectorized_dim} x{self.components})"
        return self.format


def unsupported_format_error(t: EngineTensor) -> EngineError:
    """Why trtlab will not feed ``t``: its buffer is padded/reordered, numpy's is row-major.

    Sizing a buffer as volume x itemsize undersizes vectorized formats (CHW32 pads the vector
    dim to 32), and even a correctly sized buffer would hold the data in the wrong order.
    """
    io = "inputIOFormats" if t.is_input else "outputIOFormats"
    return EngineError(
        f"{t.mode} '{t.name}' uses TensorRT tensor format {t.format_str()}; trtlab's Engine "
        "feeds and reads row-major (LINEAR) buffers only, so this engine cannot run here",
        hint=f"rebuild the engine with linear IO formats: trtlab.trt.build.build_engine(...) "
        f"(the default), or trtexec without --{io} (or --{io}=fp32:chw)",
    )


def check_shape(tensor: EngineTensor, shape: Sequence[int], profile: int = 0) -> tuple[int, ...]:
    """Validate an input shape against ``tensor``'s rank, fixed dims and profile range.

    Pure Python, so it runs before TensorRT sees the shape and gives an error that names the
    allowed range (TensorRT only logs "set_input_shape failed"). The range check itself is
    :func:`trtlab.trt.profiles.check_shape` (one home for it).
    """
    got = tuple(int(d) for d in shape)
    if len(got) != len(tensor.shape):
        raise ShapeError(
            f"input '{tensor.name}' expects rank {len(tensor.shape)} {tensor.shape_str()}, "
            f"got shape {list(got)} (rank {len(got)})",
            hint="add or remove the batch axis (x[None]) to match",
        )
    for axis, (want, dim) in enumerate(zip(tensor.shape, got, strict=True)):
        if want >= 0 and want != dim:
            raise ShapeError(
                f"input '{tensor.name}' expects {tensor.shape_str()}, got {list(got)}: "
                f"axis {axis} is fixed at {want} in this engine, got {dim}",
                hint="resize the input, or rebuild the engine with that axis dynamic",
            )
    if not tensor.profiles:
        return got
    if not 0 <= profile < len(tensor.profiles):
        raise InputError(
            f"profile {profile} does not exist; this engine has {len(tensor.profiles)} "
            f"optimization profile(s) (0..{len(tensor.profiles) - 1})",
            hint="pick profile=0 or rebuild with more profiles",
        )
    return check_range(tensor.name, got, tensor.profiles[profile], profile=profile)


def _ints(dims: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in dims)


def read_io_table(engine: trt.ICudaEngine) -> list[EngineTensor]:
    """The IO tensors of a deserialized engine, in TensorRT's order (named-tensor API)."""
    n_profiles = int(engine.num_optimization_profiles)
    table: list[EngineTensor] = []
    for index in range(int(engine.num_io_tensors)):
        name = engine.get_tensor_name(index)
        is_input = trt_dtype_name(engine.get_tensor_mode(name)) == "INPUT"
        profiles: list[ShapeRange] = []
        if is_input:
            for p in range(n_profiles):
                lo, opt, hi = engine.get_tensor_profile_shape(name, p)
                profiles.append(ShapeRange(_ints(lo), _ints(opt), _ints(hi)))
        table.append(
            EngineTensor(
                name=name,
                mode="input" if is_input else "output",
                trt_dtype=trt_dtype_name(engine.get_tensor_dtype(name)),
                shape=_ints(engine.get_tensor_shape(name)),
                profiles=tuple(profiles),
                location=trt_dtype_name(engine.get_tensor_location(name)),
                is_shape_tensor=bool(engine.is_shape_inference_io(name)),
                format=trt_dtype_name(engine.get_tensor_format(name)),
                vectorized_dim=int(engine.get_tensor_vectorized_dim(name)),
                components=int(engine.get_tensor_components_per_element(name)),
            )
        )
    return table


def format_io_table(io: Sequence[EngineTensor], profile: int = 0) -> list[list[str]]:
    """Rows ``[name, mode, dtype, shape, min, opt, max]`` for text and HTML tables.

    A ``format`` column is added when any tensor is not LINEAR or not on the device.
    """
    unusual = any(not t.is_linear or t.location != "DEVICE" for t in io)
    rows = [["name", "mode", "dtype", "shape", "min", "opt", "max"]]
    if unusual:
        rows[0].append("format")
    for t in io:
        prof = t.profiles[profile] if t.profiles and profile < len(t.profiles) else None
        rng = [str(list(s)) for s in prof] if prof else ["", "", ""]
        row = [t.name, t.mode, t.dtype_str(), t.shape_str(), *rng]
        if unusual:
            row.append(t.format_str() + ("" if t.location == "DEVICE" else f", {t.location}"))
        rows.append(row)
    return rows


__all__ = [
    "TRT_DTYPE_BITS",
    "TRT_TO_NUMPY",
    "EngineTensor",
    "ProfileShape",
    "check_shape",
    "format_io_table",
    "numpy_dtype",
    "read_io_table",
    "trt_dtype_name",
    "unsupported_format_error",
]
