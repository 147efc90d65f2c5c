"""TensorRT runner: a serialized engine behind the common :class:`~trtlab.runners.base.Runner` API.

The runner is a thin shell over :class:`trtlab.trt.runtime.Engine`: the base class validates the
feed (names, rank, fixed dims, dtype), the Engine checks dynamic dims against the optimization
profile and runs. ``TrtRunner.from_onnx`` builds (or fetches from the engine cache) first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trtlab.errors import EngineError, InputError
from trtlab.runners.base import Runner

if TYPE_CHECKING:
    from trtlab.trt.build import BuildResult
    from trtlab.trt.runtime import Engine, OutputKind, RuntimeKind


def _is_device_value(value: Any) -> bool:
    from trtlab.cuda.adapters import is_torch_tensor

    if isinstance(value, np.ndarray):
        return False
    return (
        is_torch_tensor(value)
        or hasattr(value, "__cuda_array_interface__")
        or hasattr(value, "__dlpack__")
    )


def _has_device_values(inputs: Any) -> bool:
    """True when any input is a GPU tensor/array (the zero-copy path, no numpy validation)."""
    if isinstance(inputs, Mapping):
        return any(_is_device_value(v) for v in inputs.values())
    if isinstance(inputs, (list, tuple)):
        return any(_is_device_value(v) for v in inputs)
    return _is_device_value(inputs)


class TrtRunner(Runner):
    """Run a TensorRT engine given as a path, bytes, or an already loaded :class:`Engine`.

    An ``Engine`` passed in is borrowed (``close()`` leaves it open); an engine loaded from a path
    or bytes is owned and freed on ``close()``.
    """

    backend = "tensorrt"

    def __init__(
        self,
        engine: str | os.PathLike[str] | bytes | bytearray | Engine,
        *,
        profile: int = 0,
        runtime: RuntimeKind = "auto",
        use_cuda_graph: bool = False,
        name: str | None = None,
    ) -> None:
        from trtlab.trt.runtime import Engine

        if isinstance(engine, (str, os.PathLike)):
            default_name = Path(engine).name
        elif isinstance(engine, Engine):
            default_name = engine.name or "engine"
        elif isinstance(engine, (bytes, bytearray, memoryview)):
            default_name = "engine"
        else:
            raise InputError(
                f"TrtRunner expects an engine path, bytes or trtlab Engine, got "
                f"{type(engine).__name__}",
                hint="pass the .engine path, build_engine(...).engine, or Engine(path)",
            )
        super().__init__(name=name or default_name)
        self._source = engine
        self._profile = profile
        self._runtime: RuntimeKind = runtime
        self._use_cuda_graph = use_cuda_graph
        self._engine: Engine | None = None
        self._owns_engine = not isinstance(engine, Engine)
        self.build_result: BuildResult | None = None

    @classmethod
    def from_onnx(
        cls,
        onnx_path: str | os.PathLike[str],
        *,
        profile: int = 0,
        runtime: RuntimeKind = "auto",
        use_cuda_graph: bool = False,
        name: str | None = None,
        **build_kwargs: Any,
    ) -> TrtRunner:
        """Build an engine from ONNX (cached: a second call is a file read), then run it.

        ``build_kwargs`` go to :func:`trtlab.trt.build.build_engine` (``precision``,
        ``profiles``, ``workspace``, ``cache``, ...). The build result is kept in
        ``runner.build_result``.
        """
        from trtlab.trt.build import build_engine

        result = build_engine(onnx_path, **build_kwargs)
        runner = cls(
            result.engine,
            profile=profile,
            runtime=runtime,
            use_cuda_graph=use_cuda_graph,
            name=name or Path(onnx_path).stem,
        )
        runner.build_result = result
        return runner

    @property
    def engine(self) -> Engine:
        """The loaded :class:`Engine` (loads it on first access)."""
        self.activate()
        return self._loaded()

    def _loaded(self) -> Engine:
        if self._engine is None:
            raise EngineError(
                f"runner {self.name!r} has no loaded engine (it was closed)",
                hint="use it inside `with runner:` or call runner.activate()",
            )
        return self._engine

    def _activate(self) -> None:
        from trtlab.trt.runtime import Engine

        if isinstance(self._source, Engine):
            engine = self._source
            if engine.profile != self._profile:
                engine.select_profile(self._profile)
        else:
            engine = Engine(
                self._source,
                runtime=self._runtime,
                profile=self._profile,
                use_cuda_graph=self._use_cuda_graph,
            )
        self._engine = engine
        self._inputs = [t.spec() for t in engine.inputs]
        self._outputs = [t.spec() for t in engine.outputs]
        self._device = engine.device

    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        result: dict[str, np.ndarray] = self._loaded().infer(feed)
        return result

    def __call__(
        self,
        inputs: Any,
        *,
        check: bool = True,
        outputs: OutputKind = "auto",
        stream: Any = None,
    ) -> dict[str, Any]:
        """Run inference; numpy in, numpy out by default (validated like every runner).

        Device-resident path (no host copies): pass torch CUDA tensors or device arrays
        (``__cuda_array_interface__`` / ``__dlpack__``, e.g. :class:`trtlab.cuda.DeviceArray`)
        as inputs, and/or ``outputs="device"`` to get torch CUDA tensors (torch inputs) or
        ``DeviceArray`` outputs back, queued on ``stream`` and not synchronized. See
        :meth:`trtlab.trt.runtime.Engine.infer`.
        """
        if outputs == "auto" and stream is None and not _has_device_values(inputs):
            return super().__call__(inputs, check=check)
        if not self._active:
            self.activate()
        if _has_device_values(inputs):
            feed = inputs
            if isinstance(inputs, (list, tuple)):
                feed = dict(zip([s.name for s in self._inputs], inputs, strict=True))
        else:
            feed = self.normalize_feed(inputs) if check else inputs
        result: dict[str, Any] = self._loaded().infer(feed, stream, outputs=outputs)
        return result

    def _deactivate(self) -> None:
        if self._engine is not None and self._owns_engine:
            self._engine.close()
        self._engine = None

    def describe(self) -> str:
        engine = self.engine
        return (
            f"backend={self.backend} ({engine.runtime_kind} runtime {engine.tensorrt_version}) "
            f"device={self.device}"
        )


__all__ = ["TrtRunner"]
