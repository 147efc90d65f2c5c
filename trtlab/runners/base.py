"""The one Runner interface every backend implements.

A runner turns ``{input_name: np.ndarray}`` into ``{output_name: np.ndarray}``. Notebooks print
``runner.backend`` and ``runner.device`` so every cell says where it ran. Input validation lives
here once (names, rank, static dims, dtype), so each backend only implements loading and
inference. ``TensorSpec`` lives in :mod:`trtlab.tensors` and is re-exported here.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np

from trtlab._closing import Closeable
from trtlab.capabilities import BACKENDS
from trtlab.errors import DTypeError, InputError, NonFiniteError, ShapeError
from trtlab.tensors import Dim, TensorSpec, check_input_names

Feed = Union[Mapping[str, Any], np.ndarray, Sequence[np.ndarray]]
#: Per-input check computed at activation: spec, rank, fixed (axis, size) pairs, and the fixed
#: dims after axis 0 as one tuple when only axis 0 is dynamic (else None).
_InputCheck = tuple[TensorSpec, int, tuple[tuple[int, int], ...], Union[tuple[Any, ...], None]]


def _not_finite(value: np.ndarray) -> bool:
    """True when ``value`` holds NaN/inf: ``isfinite().all()``, measured faster than one
    ``np.add.reduce`` inside ``np.errstate`` at both a 4-element and a 224x224 image input."""
    return not bool(np.isfinite(value).all())


def _reject_nonfinite(owner: str, name: str, value: np.ndarray) -> None:
    """Raise NonFiniteError saying how many NaN/inf values ``value`` holds, and where."""
    finite = np.isfinite(value)
    if finite.all():
        return
    n_nan = int(np.isnan(value).sum())
    n_inf = int(value.size - int(finite.sum()) - n_nan)
    first = [int(i) for i in np.unravel_index(int(np.argmin(finite)), value.shape)]
    raise NonFiniteError(
        f"{owner}: input '{name}' holds {n_nan} NaN and {n_inf} infinite values (first at "
        f"{first}); the outputs would be NaN without a word",
        hint="check the preprocessing (a division by zero?); np.nan_to_num(x) replaces them",
    )


class Runner(Closeable, abc.ABC):
    """Base class of all runners: lazy activation, input checks, cleanup, metadata.

    Subclasses set ``backend`` and implement :meth:`_activate`, :meth:`_infer` and
    :meth:`_deactivate`; ``inputs``/``outputs``/``device`` become valid after activation, which
    happens on first use (or explicitly with ``with runner:``).
    """

    backend: str = "?"

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or type(self).__name__
        self._active = False
        self._inputs: list[TensorSpec] = []
        self._outputs: list[TensorSpec] = []
        self._device = "?"
        # Filled by activate(): the per-call checks, computed once (see _prepare_checks).
        self._checks: tuple[_InputCheck, ...] = ()
        self._input_names: tuple[str, ...] = ()

    # -- lifecycle -------------------------------------------------------------------------
    @abc.abstractmethod
    def _activate(self) -> None:
        """Load the model; fill ``self._inputs``, ``self._outputs`` and ``self._device``."""

    @abc.abstractmethod
    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one inference on validated inputs."""

    def _deactivate(self) -> None:
        """Release resources (sessions, engines, device memory)."""

    def activate(self) -> Runner:
        """Load the model now (otherwise it loads on first call)."""
        if not self._active:
            self._activate()
            self._prepare_checks()
            self._active = True
        return self

    def _prepare_checks(self) -> None:
        """Precompute (spec, rank, fixed axes) per input so each call validates in a few µs."""
        checks = []
        for spec in self._inputs:
            fixed = tuple(
                (axis, d) for axis, d in enumerate(spec.shape) if isinstance(d, int) and d >= 0
            )
            dims = spec.shape
            # the common layout (only axis 0 dynamic): one tuple comparison checks every dim
            tail = (
                dims[1:] if len(fixed) == len(dims) - 1 and fixed[:1] != ((0, dims[0]),) else None
            )
            checks.append((spec, len(dims), fixed, tail))
        self._checks = tuple(checks)
        self._input_names = tuple(spec.name for spec in self._inputs)

    def close(self) -> None:
        """Release everything; the runner can be activated again later."""
        if self._active:
            self._active = False
            self._deactivate()

    def __enter__(self) -> Runner:  # Closeable's __exit__ closes it again
        return self.activate()

    # -- metadata --------------------------------------------------------------------------
    @property
    def inputs(self) -> list[TensorSpec]:
        self.activate()
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorSpec]:
        self.activate()
        return list(self._outputs)

    @property
    def device(self) -> str:
        self.activate()
        return self._device

    def describe(self) -> str:
        """One line saying which backend and device this runner uses (notebooks print it)."""
        return f"backend={self.backend} device={self.device}"

    def __repr__(self) -> str:
        state = "active" if self._active else "inactive"
        return f"<{type(self).__name__} {self.name!r} backend={self.backend} ({state})>"

    # -- inference -------------------------------------------------------------------------
    def _check_array(self, index: int, value: Any) -> np.ndarray:
        """Validate one input against its precomputed check; the spec explains a mismatch."""
        spec, rank, fixed, tail = self._checks[index]
        if not isinstance(value, np.ndarray):
            raise DTypeError(
                f"{self.name}: input '{spec.name}' must be a numpy array, "
                f"got {type(value).__name__}",
                hint="convert with np.asarray(x) (torch: x.detach().cpu().numpy())",
            )
        shape = value.shape
        if (
            type(spec) is not TensorSpec  # a subclass (e.g. AnySpec) has its own rule
            or value.ndim != rank
            or value.dtype != spec.dtype
            or (shape[1:] != tail if tail is not None else any(shape[a] != d for a, d in fixed))
        ):
            spec.check(value, where=self.name)  # raises with the full explanation
        # NaN/inf in, NaN out without a word: refuse them (one cheap reduction; a sum that
        # overflows is re-checked element-wise so large finite inputs still pass).
        if value.dtype.kind == "f" and value.size and _not_finite(value):
            _reject_nonfinite(self.name, spec.name, value)
        return value if value.flags.c_contiguous else np.ascontiguousarray(value)

    def normalize_feed(self, inputs: Feed) -> dict[str, np.ndarray]:
        """Turn an array, a list of arrays or a mapping into a validated ``{name: array}``."""
        if not self._active:
            self.activate()
        names = self._input_names
        if isinstance(inputs, np.ndarray):
            if len(names) != 1:
                raise InputError(
                    f"{self.name} has {len(names)} inputs ({', '.join(names)}), got a single array",
                    hint="pass a dict {input_name: array}",
                )
            return {names[0]: self._check_array(0, inputs)}  # fast path: one array
        if isinstance(inputs, Mapping):
            feed = inputs
        elif isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
            if len(inputs) != len(names):
                raise InputError(
                    f"{self.name} expects {len(names)} inputs, got a sequence of {len(inputs)}",
                    hint="pass one array per input, in the order of runner.inputs",
                )
            feed = dict(zip(names, inputs, strict=True))
        else:
            raise InputError(
                f"{self.name} expects a numpy array or a dict of arrays, "
                f"got {type(inputs).__name__}",
                hint="convert tensors with np.asarray(...) / tensor.cpu().numpy()",
            )
        if len(feed) != len(names) or any(n not in feed for n in names):
            check_input_names(list(names), feed, owner=self.name, where="runner.inputs")
        return {n: self._check_array(i, feed[n]) for i, n in enumerate(names)}

    def __call__(self, inputs: Feed, *, check: bool = True) -> dict[str, np.ndarray]:
        """Run inference: ``{input_name: array}`` (or one array) -> ``{output_name: array}``.

        ``check=False`` skips input validation for hot loops (benchmarks) whose inputs were
        validated once, e.g. with :meth:`normalize_feed`: pass a ``{name: C-contiguous array}``
        dict (or one array for a one-input model) that matches ``runner.inputs``. A mismatch then
        fails inside the backend instead of with trtlab's explanation.
        """
        if not check:
            if not self._active:
                self.activate()
            if isinstance(inputs, dict):
                return self._infer(inputs)
            if isinstance(inputs, np.ndarray) and len(self._input_names) == 1:
                return self._infer({self._input_names[0]: inputs})
        return self._infer(self.normalize_feed(inputs))

    def sample_inputs(
        self, *, batch: int = 1, seed: int = 0, sizes: Mapping[str, int] | None = None
    ) -> dict[str, np.ndarray]:
        """Random inputs matching ``inputs``.

        Dynamic dims take ``batch`` (axis 0) or ``sizes[dim_name]``.
        """
        rng = np.random.default_rng(seed)
        sizes = dict(sizes or {})
        feed: dict[str, np.ndarray] = {}
        for spec in self.inputs:
            shape = []
            for axis, d in enumerate(spec.shape):
                if isinstance(d, int) and d >= 0:
                    shape.append(d)
                elif isinstance(d, str) and d in sizes:
                    shape.append(sizes[d])
                elif axis == 0:
                    shape.append(batch)
                else:
                    raise ShapeError(
                        f"{self.name}: cannot choose a size for dynamic axis {axis} ({d!r}) of "
                        f"input '{spec.name}' {spec.shape_str()}",
                        hint=f"pass sizes={{'{d}': N}}",
                    )
            if np.issubdtype(spec.dtype, np.floating):
                feed[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
            else:
                feed[spec.name] = rng.integers(0, 10, size=shape).astype(spec.dtype)
        return feed

    def warmup(self, iterations: int = 2, inputs: Feed | None = None) -> None:
        """Run a few inferences so lazy initialisation stays out of timings."""
        feed = self.normalize_feed(inputs) if inputs is not None else self.sample_inputs()
        for _ in range(max(0, iterations)):
            self(feed, check=False)


__all__ = ["BACKENDS", "Dim", "Feed", "Runner", "TensorSpec"]
