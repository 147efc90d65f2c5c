"""Tensor metadata shared by every layer: ONNX checks, TensorRT builds and engines, runners.

It sits below ``runners/``, ``export.py`` and ``trt/`` so that each of them can describe inputs
and outputs the same way without importing one another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, Union

import numpy as np

from trtlab.errors import DTypeError, InputError, ShapeError

#: A dimension: a fixed size, a symbolic name (ONNX ``dim_param``), or ``None`` (dynamic, unnamed).
Dim = Union[int, str, None]


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (with dynamic dims) and dtype of one input or output tensor."""

    name: str
    shape: tuple[Dim, ...]
    dtype: np.dtype[Any]

    @property
    def dynamic_axes(self) -> tuple[int, ...]:
        """Indices of the dims that are not fixed integers."""
        return tuple(i for i, d in enumerate(self.shape) if not isinstance(d, int) or d < 0)

    def shape_str(self) -> str:
        """Shape as text, e.g. ``[batch, 3, 224, 224]`` (``?`` for unnamed dynamic dims)."""
        parts = ["?" if d is None or (isinstance(d, int) and d < 0) else str(d) for d in self.shape]
        return "[" + ", ".join(parts) + "]"

    def __str__(self) -> str:
        return f"{self.name}: {self.dtype} {self.shape_str()}"

    def check(self, array: np.ndarray, *, where: str = "") -> None:
        """Raise ``ShapeError``/``DTypeError`` when ``array`` does not fit this spec."""
        prefix = f"{where}: " if where else ""
        if array.ndim != len(self.shape):
            raise ShapeError(
                f"{prefix}input '{self.name}' expects rank {len(self.shape)} {self.shape_str()}, "
                f"got shape {list(array.shape)} (rank {array.ndim})",
                hint="add or remove the batch axis (np.expand_dims / x[None]) to match",
            )
        for axis, (want, got) in enumerate(zip(self.shape, array.shape, strict=True)):
            if isinstance(want, int) and want >= 0 and want != got:
                raise ShapeError(
                    f"{prefix}input '{self.name}' expects {self.shape_str()}, got "
                    f"{list(array.shape)}: axis {axis} must be {want}, got {got}",
                    hint="resize/crop the input (trtlab.data.preprocess_imagenet gives 3x224x224)",
                )
        if array.dtype != self.dtype:
            raise DTypeError(
                f"{prefix}input '{self.name}' expects dtype {self.dtype}, got {array.dtype}",
                hint=f"convert with x.astype(np.{self.dtype.name})",
            )


def check_input_names(
    expected: Sequence[str], given: Iterable[str], *, owner: str, where: str
) -> None:
    """Raise ``InputError`` naming unknown and missing inputs (shared by runners and engines)."""
    got = sorted(given)
    unknown = sorted(set(got) - set(expected))
    missing = [n for n in expected if n not in got]
    if unknown or missing:
        raise InputError(
            f"{owner} expects inputs {list(expected)}, got {got}"
            + (f"; unknown: {unknown}" if unknown else "")
            + (f"; missing: {missing}" if missing else ""),
            hint=f"use the names from {where}",
        )


def numpy_dtype_by_name(name: str) -> np.dtype[Any]:
    """``np.dtype`` for a dtype name, including ml_dtypes' (``bfloat16``, ``float8_*``, ``int4``).

    The one lookup every layer uses (ONNX Runtime types, TensorRT IO, torch interop): numpy lacks
    the reduced-precision types, ml_dtypes (installed with onnx) provides them, imported only then.
    """
    try:
        return np.dtype(name)
    except TypeError:
        pass
    from trtlab._lazy import lazy_import

    ml_dtypes = lazy_import("ml_dtypes", purpose=f"represent {name} tensors in numpy")
    kind = getattr(ml_dtypes, name, None)
    if kind is None:
        raise DTypeError(
            f"no numpy dtype named {name!r}: neither numpy nor ml_dtypes "
            f"{getattr(ml_dtypes, '__version__', '')} has it",
            hint="use a numpy dtype name (float32, int64, ...) or upgrade ml_dtypes "
            "(pip install -U ml_dtypes)",
        )
    dtype: np.dtype[Any] = np.dtype(kind)
    return dtype


_V = TypeVar("_V")


def dtype_lookup(table: Mapping[str, _V], name: str, *, missing: str, hint: str) -> _V:
    """``table[name]`` for a dtype conversion table, or :class:`DTypeError` naming the choices.

    ``missing`` says what has no entry (``"numpy dtype int4 has no torch equivalent"``).
    """
    if name not in table:
        raise DTypeError(f"{missing}; expected one of {sorted(table)}", hint=hint)
    return table[name]
