"""PyTorch runner: the reference every exported artifact is compared against.

It runs an ``nn.Module`` under ``torch.inference_mode()`` and speaks numpy at its edges, so the same
notebook code can call a PyTorch model, an ONNX Runtime session or a TensorRT engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trtlab._lazy import lazy_import
from trtlab.errors import BackendError, DTypeError, InputError
from trtlab.runners.base import Dim, Runner, TensorSpec

if TYPE_CHECKING:
    from types import ModuleType

    import torch


@dataclass(frozen=True)
class AnySpec(TensorSpec):
    """A tensor of unknown rank (no example input, no model spec): only its dtype is checked."""

    def shape_str(self) -> str:
        return "[...]"

    def check(self, array: np.ndarray, *, where: str = "") -> None:
        prefix = f"{where}: " if where else ""
        if array.dtype != self.dtype:
            raise DTypeError(
                f"{prefix}input '{self.name}' expects dtype {self.dtype}, got {array.dtype}",
                hint=f"convert with x.astype(np.{self.dtype.name})",
            )


def _torch() -> ModuleType:
    return lazy_import("torch", purpose="run PyTorch models")


def _to_numpy(value: Any) -> np.ndarray:
    torch = _torch()
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
            t = t.float()
        return np.asarray(t.cpu().numpy())
    return np.asarray(value)


def _cpu_numpy(value: Any) -> np.ndarray:
    """Hot path for CPU outputs: share the tensor's buffer (bfloat16 etc. take the slow path)."""
    try:
        out: np.ndarray = value.numpy()
    except (AttributeError, RuntimeError, TypeError):  # not a tensor, needs grad, or no numpy dtype
        return _to_numpy(value)
    return out


@contextlib.contextmanager
def fp32_precision(torch: Any, *, tf32: bool) -> Iterator[None]:
    """Run float32 convolutions/matmuls in strict IEEE FP32 (``tf32=False``) or TF32, then restore.

    PyTorch lets cuDNN convolutions use TF32 by default on Ampere and newer GPUs (about 1e-3
    relative error), which would make a "fp32" reference disagree with a strict-FP32 engine or
    ONNX Runtime. A reference runner therefore pins the mode for its own calls only.
    """
    cudnn_conv = getattr(torch.backends.cudnn, "conv", None)
    if cudnn_conv is not None and hasattr(cudnn_conv, "fp32_precision"):  # torch >= 2.9
        targets = [(cudnn_conv, "fp32_precision"), (torch.backends.cuda.matmul, "fp32_precision")]
        value: Any = "tf32" if tf32 else "ieee"
    else:
        targets = [(torch.backends.cudnn, "allow_tf32"), (torch.backends.cuda.matmul, "allow_tf32")]
        value = tf32
    saved = [getattr(obj, attr) for obj, attr in targets]
    for obj, attr in targets:
        setattr(obj, attr, value)
    try:
        yield
    finally:
        for (obj, attr), old in zip(targets, saved, strict=True):
            setattr(obj, attr, old)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; validate explicit choices."""
    torch = _torch()
    if not isinstance(device, str):
        raise InputError(f"device must be a string, got {type(device).__name__}", hint="'cpu'")
    dev = device.strip().lower()
    if dev == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if dev == "cpu":
        return "cpu"
    if dev == "cuda" or dev.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise BackendError(
                f"device={device!r} was asked but this PyTorch build sees no CUDA GPU "
                f"(torch {torch.__version__})",
                hint="use device='cpu' (or 'auto'), or a CUDA build of PyTorch on a GPU host",
            )
        index = dev.split(":", 1)[1] if ":" in dev else "0"
        if not index.isdigit() or int(index) >= torch.cuda.device_count():
            raise InputError(
                f"device={device!r}: there are {torch.cuda.device_count()} CUDA device(s)",
                hint="use 'cuda:0' .. 'cuda:N-1'",
            )
        return f"cuda:{int(index)}"
    raise InputError(
        f"device={device!r} is not one of 'auto', 'cpu', 'cuda', 'cuda:N'",
        hint="device='auto' picks the GPU when PyTorch sees one",
    )


def _model_spec(name: str) -> Any:
    from trtlab import models

    return models.get_spec(name)  # InputError listing the known names


def _spec_shapes(spec: Any) -> tuple[TensorSpec, TensorSpec]:
    """Input/output specs of a ``models.ModelSpec``: the example shape, dynamic axes named."""
    dyn_in = dict(spec.dynamic_axes.get(spec.input_name, {}))
    dyn_out = dict(spec.dynamic_axes.get(spec.output_name, {}))
    in_shape: tuple[Dim, ...] = tuple(dyn_in.get(i, d) for i, d in enumerate(spec.example_shape))
    out_shape: tuple[Dim, ...]
    out_dtype: np.dtype[Any]
    if spec.task == "segmentation":  # argmax head: class ids [N, H, W]
        n, _, h, w = spec.example_shape
        out_shape = tuple(dyn_out.get(i, d) for i, d in enumerate((n, h, w)))
        out_dtype = np.dtype(np.int64)
    else:
        out_shape = (dyn_out.get(0, "batch"), int(spec.num_classes))
        out_dtype = np.dtype(np.float32)
    return (
        TensorSpec(spec.input_name, in_shape, np.dtype(np.float32)),
        TensorSpec(spec.output_name, out_shape, out_dtype),
    )


class TorchRunner(Runner):
    """Run a PyTorch ``nn.Module`` (or a model named in ``models.MODEL_SPECS``) on numpy inputs.

    Input/output specs come from ``example_inputs`` (batch axis dynamic), from the model spec when
    ``model`` is a name such as ``"resnet50"``, or, failing both, only the dtype (float32) is known
    and output specs are filled in after the first call. The module is switched to ``eval()`` and
    moved to ``device`` on activation. Float32 math is strict IEEE FP32 unless ``tf32=True``
    (see :func:`fp32_precision`): the reference must not carry TF32's rounding on a GPU.
    """

    backend = "torch"

    def __init__(
        self,
        model: torch.nn.Module | str,
        *,
        input_names: Sequence[str] = ("input",),
        output_names: Sequence[str] | None = None,
        device: str = "auto",
        example_inputs: Any = None,
        weights: str | None = "default",
        name: str | None = None,
        tf32: bool = False,
    ) -> None:
        self._spec: Any = None
        if isinstance(model, str):
            self._spec = _model_spec(model)
            self._model_name: str | None = model
            self._module: Any = None
            default_name = model
            if tuple(input_names) == ("input",):
                input_names = (str(self._spec.input_name),)
            if output_names is None:
                output_names = (str(self._spec.output_name),)
        else:
            torch = _torch()
            if not isinstance(model, torch.nn.Module):
                raise InputError(
                    f"TorchRunner expects a torch.nn.Module or a model name, "
                    f"got {type(model).__name__}",
                    hint="e.g. TorchRunner(trtlab.resnet50()) or TorchRunner('resnet50')",
                )
            self._model_name = None
            self._module = model
            default_name = type(model).__name__
        if isinstance(input_names, str) or not input_names:
            raise InputError(
                f"input_names must be a non-empty sequence of names, got {input_names!r}",
                hint="e.g. input_names=('input',)",
            )
        super().__init__(name=name or default_name)
        self.input_names = tuple(input_names)
        self.output_names = tuple(output_names) if output_names is not None else None
        self.requested_device = device
        self.weights = weights
        self.tf32 = tf32
        self._example = example_inputs
        self._torch_device = "cpu"
        self._torch_mod: Any = None  # torch, kept after activation (no import lookup per call)
        self._outputs_known = False

    # -- lifecycle ---------------------------------------------------------------------------
    def _activate(self) -> None:
        torch = _torch()
        self._torch_mod = torch
        self._torch_device = resolve_device(self.requested_device)
        if self._module is None and self._model_name is not None:
            from trtlab import models

            self._module = models.load_model(self._model_name, weights=self.weights)
        module = self._module
        module.eval()
        module.to(self._torch_device)
        if self._torch_device.startswith("cuda"):
            index = int(self._torch_device.split(":")[1])
            self._device = f"{self._torch_device} ({torch.cuda.get_device_name(index)})"
        else:
            self._device = "cpu"
        self._inputs = self._input_specs()
        self._outputs, self._outputs_known = self._output_specs()

    def _example_arrays(self) -> list[np.ndarray] | None:
        ex = self._example
        if ex is None:
            return None
        if isinstance(ex, Mapping):
            missing = [n for n in self.input_names if n not in ex]
            if missing:
                raise InputError(
                    f"example_inputs lacks {missing}; input_names are {list(self.input_names)}",
                    hint="use the same names in example_inputs and input_names",
                )
            items = [ex[n] for n in self.input_names]
        elif isinstance(ex, (list, tuple)):
            items = list(ex)
        else:
            items = [ex]
        if len(items) != len(self.input_names):
            raise InputError(
                f"{len(items)} example input(s) for {len(self.input_names)} input name(s) "
                f"{list(self.input_names)}",
                hint="pass one example per input name",
            )
        return [_to_numpy(x) for x in items]

    def _input_specs(self) -> list[TensorSpec]:
        examples = self._example_arrays()
        if examples is not None:
            return [
                TensorSpec(n, ("batch", *a.shape[1:]) if a.ndim else (), a.dtype)
                for n, a in zip(self.input_names, examples, strict=True)
            ]
        if self._spec is not None and len(self.input_names) == 1:
            spec_in = _spec_shapes(self._spec)[0]
            return [TensorSpec(self.input_names[0], spec_in.shape, spec_in.dtype)]
        return [AnySpec(n, (), np.dtype(np.float32)) for n in self.input_names]

    def _output_specs(self) -> tuple[list[TensorSpec], bool]:
        examples = self._example_arrays()
        if examples is not None:
            outputs = self._forward([np.ascontiguousarray(a) for a in examples])
            return self._specs_from_outputs(outputs), True
        if self._spec is not None:
            spec_out = _spec_shapes(self._spec)[1]
            names = self.output_names or (spec_out.name,)
            return [TensorSpec(names[0], spec_out.shape, spec_out.dtype)], True
        names = self.output_names or ("output",)
        return [AnySpec(n, (), np.dtype(np.float32)) for n in names], False

    @staticmethod
    def _specs_from_outputs(outputs: dict[str, np.ndarray]) -> list[TensorSpec]:
        specs = []
        for n, a in outputs.items():
            shape: tuple[Dim, ...] = ("batch", *a.shape[1:]) if a.ndim else ()
            specs.append(TensorSpec(n, shape, a.dtype))
        return specs

    def _deactivate(self) -> None:
        if self._model_name is not None:
            self._module = None  # loaded by us from a name: let it be freed

    # -- inference ---------------------------------------------------------------------------
    def _name_outputs(self, raw: Any) -> dict[str, np.ndarray]:
        convert = _cpu_numpy if self._torch_device == "cpu" else _to_numpy
        if self.output_names is None and isinstance(raw, self._torch_mod.Tensor):
            return {"output": convert(raw)}  # the common case: one tensor, no names to check
        if isinstance(raw, Mapping):
            keys = [str(k) for k in raw]
            values = list(raw.values())
        elif isinstance(raw, (list, tuple)):
            keys = [f"output{i}" for i in range(len(raw))]
            values = list(raw)
        else:
            keys, values = ["output"], [raw]
        if self.output_names is not None:
            if len(self.output_names) > len(values):
                raise InputError(
                    f"{self.name}: output_names {list(self.output_names)} name "
                    f"{len(self.output_names)} outputs but the model returned {len(values)}",
                    hint="give one name per returned tensor",
                )
            keys = list(self.output_names)
            values = values[: len(keys)]
        return {k: convert(v) for k, v in zip(keys, values, strict=True)}

    def _forward(self, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
        torch = self._torch_mod if self._torch_mod is not None else _torch()
        on_cpu = self._torch_device == "cpu"
        if on_cpu:  # from_numpy shares the buffer; .to("cpu") would only add a dispatch
            tensors = [torch.from_numpy(a) for a in arrays]
        else:
            tensors = [torch.from_numpy(a).to(self._torch_device) for a in arrays]
        try:
            if on_cpu:  # TF32 exists only on CUDA: nothing to pin on the CPU path
                with torch.inference_mode():
                    raw = self._module(*tensors)
            else:
                with torch.inference_mode(), fp32_precision(torch, tf32=self.tf32):
                    raw = self._module(*tensors)
        except Exception as exc:
            shapes = [list(a.shape) for a in arrays]
            raise BackendError(
                f"PyTorch model {self.name} failed on inputs of shape {shapes}: {exc}",
                hint="check the shapes/dtypes the model expects (runner.inputs)",
            ) from exc
        return self._name_outputs(raw)

    def _infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self._forward([feed[n] for n in self.input_names])
        if not self._outputs_known:
            self._outputs = self._specs_from_outputs(outputs)
            self._outputs_known = True
        return outputs

    def synchronize(self) -> None:
        """Wait for queued CUDA work (benchmarks call this before reading the clock)."""
        if self._active and self._torch_device.startswith("cuda"):
            _torch().cuda.synchronize(self._torch_device)

    @property
    def module(self) -> Any:
        """The underlying ``nn.Module`` (loaded on first access when given a model name)."""
        self.activate()
        return self._module


__all__ = ["AnySpec", "TorchRunner", "fp32_precision", "resolve_device"]
