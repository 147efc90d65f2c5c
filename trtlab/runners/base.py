"""The one Runner interface every backend implements.

A runner turns ``{input_name: np.ndarray}`` into ``{output_name: np.ndarray}``. Notebooks print
``runner.backend`` and ``runner.device`` so every cell says where it ran. Input validation lives
here once (names, rank, static dims, dtype), so each backend only implements loading and
inference. ``TensorSpec`` lives in :mod:`trtlab.tensors` and is re-exported here.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Union

import numpy as np

from trtlab.errors import DTypeError, InputError, ShapeError
from trtlab.tensors import Dim, TensorSpec, check_input_names

BACKENDS = ("torch", "onnxruntime", "tensorrt")


Feed = Union[Mapping[str, Any], np.ndarray, Sequence[np.ndarray]]


class Runner(abc.ABC):
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

    # -- lifecycle -------------------------------------------------------------------------
    @abc.abstractmethod
    def _activate(self) -> None:
        """Load the model; fill ``self._inputs``, ``self._outputs`` and ``self._device``."""

    @abc.abstractmethod
    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one inference on validated inputs."""

    def _deactivate(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release resources (sessions, engines, device memory)."""

    def activate(self) -> Runner:
        """Load the model now (otherwise it loads on first call)."""
        if not self._active:
            self._activate()
            self._active = True
        return self

    def close(self) -> None:
        """Release everything; the runner can be activated again later."""
        if self._active:
            self._active = False
            self._deactivate()

    def __enter__(self) -> Runner:
        return self.activate()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
    def normalize_feed(self, inputs: Feed) -> dict[str, np.ndarray]:
        """Turn an array, a list of arrays or a mapping into a validated ``{name: array}``."""
        specs = self.inputs
        if isinstance(inputs, np.ndarray):
            if len(specs) != 1:
                raise InputError(
                    f"{self.name} has {len(specs)} inputs "
                    f"({', '.join(s.name for s in specs)}), got a single array",
                    hint="pass a dict {input_name: array}",
                )
            feed = {specs[0].name: inputs}
        elif isinstance(inputs, Mapping):
            feed = dict(inputs)
        elif isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
            if len(inputs) != len(specs):
                raise InputError(
                    f"{self.name} expects {len(specs)} inputs, got a sequence of {len(inputs)}",
                    hint="pass one array per input, in the order of runner.inputs",
                )
            feed = {spec.name: arr for spec, arr in zip(specs, inputs, strict=True)}
        else:
            raise InputError(
                f"{self.name} expects a numpy array or a dict of arrays, "
                f"got {type(inputs).__name__}",
                hint="convert tensors with np.asarray(...) / tensor.cpu().numpy()",
            )
        check_input_names([s.name for s in specs], feed, owner=self.name, where="runner.inputs")
        out: dict[str, np.ndarray] = {}
        for spec in specs:
            value = feed[spec.name]
            if not isinstance(value, np.ndarray):
                raise DTypeError(
                    f"{self.name}: input '{spec.name}' must be a numpy array, "
                    f"got {type(value).__name__}",
                    hint="convert with np.asarray(x) (torch: x.detach().cpu().numpy())",
                )
            spec.check(value, where=self.name)
            out[spec.name] = np.ascontiguousarray(value)
        return out

    def __call__(self, inputs: Feed) -> dict[str, np.ndarray]:
        """Run inference: ``{input_name: array}`` (or one array) -> ``{output_name: array}``."""
        feed = self.normalize_feed(inputs)
        return self._infer(feed)

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
            self._infer(feed)


__all__ = ["BACKENDS", "Dim", "Feed", "Runner", "TensorSpec"]
