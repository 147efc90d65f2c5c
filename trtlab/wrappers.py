"""Teaching-level wrappers: classify or segment images with one object, on any backend.

:class:`ONNXClassifierWrapper` keeps the constructor learners know from NVIDIA's TensorRT
quick-start notebooks (a model file, a target dtype) but fixes what that helper hard-coded: the
class count and tensor names are read from the model, any batch size works (the batch is split
into chunks an engine's optimization profile accepts), nothing is loaded until the first
``predict``, and ``.onnx`` files run on ONNX Runtime where TensorRT is missing.
:class:`SegmentationWrapper` does the same for FCN-style models that return a class map.

Input rule (both wrappers): a float array ``[N, 3, H, W]`` (or one image ``[3, H, W]``) is cast
to the model's input dtype (float64 -> float32, or float32 -> float16 for an engine with half
precision inputs). Integer or bool arrays raise :class:`~trtlab.errors.DTypeError`: they are
almost always raw pixels that still need ``trtlab.data.preprocess_imagenet``.

Batches and TensorRT profiles: an engine accepts batch sizes ``min..max`` of its optimization
profile (a fixed-batch model: exactly ``B``). ``predict`` splits a larger batch into chunks of
``max`` and pads a chunk smaller than ``min`` by repeating its last image; the padded rows are
dropped from the result. In ``predict``, image height/width outside the profile raise
:class:`~trtlab.errors.ShapeError` naming the allowed range (resizing silently would change the
answer); ``SegmentationWrapper.segment``, which resizes anyway, resizes into the profile and
says so with a warning. :func:`plan_batches` is the pure function that decides the chunks.

Profiles are :class:`trtlab.trt.profiles.Profile` objects; ``profiles=`` takes every form
:func:`trtlab.trt.profiles.validate_profiles` reads (dicts of ``(min, opt, max)``, trtexec text).
The backend choice (``"auto"``) and the default precision come from :mod:`trtlab.capabilities`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trtlab._closing import Closeable
from trtlab.capabilities import ONNX_BACKENDS
from trtlab.errors import (
    DTypeError,
    EngineCompatibilityError,
    EngineLoadError,
    FileFormatError,
    InputError,
    ShapeError,
    TrtlabError,
)
from trtlab.runners import ENGINE_SUFFIXES, ONNX_SUFFIXES
from trtlab.trt.profiles import Profile, ProfilesArg, ShapeRange, default_profile, parse_profiles

if TYPE_CHECKING:
    from typing import Self

    from PIL import Image

    from trtlab.data import ImageSource, Prediction
    from trtlab.runners.base import Runner, TensorSpec

#: ``backend=`` values the wrappers accept.
WRAPPER_BACKENDS = ("auto", *ONNX_BACKENDS)

#: Default TensorRT profile for image height/width of segmentation models built from ONNX:
#: ``(min, opt, max)``, the same for both axes so portrait and landscape images fit. 520 is
#: torchvision's FCN preprocessing size (shorter side); 2560 covers NVIDIA's tutorial images
#: (1x3x1026x1282 and 1x3x1440x2560) at full size and ``segment()`` of images up to ~4.9:1.
DEFAULT_SEGMENTATION_SIZES = (128, 520, 2560)

Shape = tuple[int, ...]
#: Back-compat name of what ``profiles=`` accepts (:data:`trtlab.trt.profiles.ProfilesArg`).
Profiles = ProfilesArg


# -- batching (pure) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchChunk:
    """Rows ``start:stop`` of the caller's batch, run with ``pad`` extra copies of the last row."""

    start: int
    stop: int
    pad: int = 0

    @property
    def rows(self) -> int:
        """Real rows in this chunk (the ones returned to the caller)."""
        return self.stop - self.start

    @property
    def batch(self) -> int:
        """Batch size the model sees (real rows + padding)."""
        return self.rows + self.pad


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def plan_batches(n: int, min_batch: int = 1, max_batch: int | None = None) -> list[BatchChunk]:
    """Split ``n`` rows into chunks a model with batch range ``[min_batch, max_batch]`` accepts.

    Chunks hold at most ``max_batch`` rows (``None``: no limit, one chunk). A chunk with fewer
    than ``min_batch`` rows is padded up to ``min_batch`` (a fixed-batch model has
    ``min_batch == max_batch``). Why pad instead of failing: a fixed-batch engine is common
    (the quick-start builds batch 32) and a learner's last partial batch should still run.
    """
    if not _is_int(n) or n < 1:
        raise ShapeError(
            f"a batch needs at least one image, got n={n!r}",
            hint="pass an array [N, 3, H, W] with N >= 1 (or one image [3, H, W])",
        )
    if not _is_int(min_batch) or min_batch < 1:
        raise InputError(f"min_batch must be an int >= 1, got {min_batch!r}", hint="e.g. 1")
    if max_batch is not None and (not _is_int(max_batch) or max_batch < min_batch):
        raise InputError(
            f"max_batch must be None or an int >= min_batch ({min_batch}), got {max_batch!r}",
            hint="check the engine's optimization profile (min <= max)",
        )
    step = int(n) if max_batch is None else int(max_batch)
    chunks: list[BatchChunk] = []
    for start in range(0, int(n), step):
        stop = min(start + step, int(n))
        chunks.append(BatchChunk(start, stop, max(0, int(min_batch) - (stop - start))))
    return chunks


def batch_limits(
    spec: TensorSpec, profile: ShapeRange | tuple[Shape, Shape] | None = None
) -> tuple[int, int | None]:
    """``(min, max)`` batch sizes of an input: fixed dim, else the profile, else ``(1, None)``.

    ``profile``: the input's :class:`ShapeRange` (or a ``(min_shape, max_shape)`` pair).
    """
    dim = spec.shape[0] if spec.shape else None
    if isinstance(dim, int) and dim >= 0:
        return dim, dim
    if isinstance(profile, ShapeRange):
        return profile.min[0], profile.max[0]
    if profile is not None:
        return int(profile[0][0]), int(profile[1][0])
    return 1, None


def run_in_chunks(
    fn: Any, x: np.ndarray, min_batch: int = 1, max_batch: int | None = None
) -> list[np.ndarray]:
    """Call ``fn(chunk) -> array [batch, ...]`` over :func:`plan_batches` chunks of ``x``.

    Returns one array per chunk with the padding rows removed.
    """
    outs: list[np.ndarray] = []
    for chunk in plan_batches(int(x.shape[0]), min_batch, max_batch):
        part = x[chunk.start : chunk.stop]
        if chunk.pad:
            part = np.concatenate([part, np.repeat(part[-1:], chunk.pad, axis=0)], axis=0)
        y = np.asarray(fn(np.ascontiguousarray(part)))
        if y.ndim == 0 or y.shape[0] != chunk.batch:
            raise ShapeError(
                f"the model returned shape {list(y.shape)} for a batch of {chunk.batch}; "
                "expected the batch on axis 0",
                hint="wrappers need models whose output has the batch as its first axis",
            )
        outs.append(y[: chunk.rows])
    return outs


# -- input checks ---------------------------------------------------------------------------------
def as_image_batch(x: Any, dtype: np.dtype[Any]) -> tuple[np.ndarray, bool]:
    """Images ``[N,3,H,W]`` (or one ``[3,H,W]``) cast to ``dtype``, and whether N=1 was added.

    The rule: any floating array is cast to the model's input dtype; integer/bool arrays are
    refused (unnormalized pixels) with :class:`DTypeError`.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"expected an image array [N, 3, H, W], got {type(x).__name__}: {exc}",
            hint="stack images with trtlab.data.make_batch([...])",
        ) from exc
    if arr.dtype.kind != "f":
        extra = " (raw pixels?)" if arr.dtype.kind in "iub" else f" ({type(x).__name__} given)"
        raise DTypeError(
            f"images must be a floating-point array, got dtype {arr.dtype}{extra}",
            hint="preprocess first: trtlab.data.preprocess_imagenet(image) gives float32 "
            "[3, 224, 224]; or convert normalized data with x.astype(np.float32)",
        )
    single = arr.ndim == 3
    if single:
        arr = arr[None]
    if arr.ndim != 4:
        raise ShapeError(
            f"expected images [N, 3, H, W] or one image [3, H, W], got shape {list(arr.shape)}",
            hint="HWC images need x.transpose(2, 0, 1); trtlab.data.preprocess_* do that",
        )
    if arr.shape[0] == 0:
        raise ShapeError("got an empty batch (N = 0)", hint="pass at least one image [1, 3, H, W]")
    return np.ascontiguousarray(arr.astype(dtype, copy=False)), single


def _check_model_file(file: Any, cls: str) -> Path:
    """Existence, suffix and non-emptiness of a model file; cheap, so done in the constructor."""
    if not isinstance(file, (str, os.PathLike)):
        raise InputError(
            f"{cls} expects a model file path, got {type(file).__name__}",
            hint="pass the path of an .onnx file or a TensorRT engine (.engine/.trt/.plan)",
        )
    path = Path(file).expanduser()
    suffixes = (*ONNX_SUFFIXES, *ENGINE_SUFFIXES)
    if path.suffix.lower() not in suffixes:
        raise FileFormatError(
            f"{cls} cannot tell what {path.name!r} is: expected a file ending in "
            f"{', '.join(suffixes)}, got suffix {path.suffix or '(none)'!r}",
            hint="export with trtlab.export_onnx(model, 'model.onnx', example) or build an engine "
            "with trtlab.build_engine('model.onnx', 'model.engine'); rename a file whose suffix is "
            "wrong",
        )
    if not path.exists():
        raise FileFormatError(
            f"model file not found: {path}",
            hint="check the path (relative to the notebook folder), or create it first: "
            "trtlab.export_onnx(...) / `trtlab export resnet50`",
        )
    if not path.is_file():
        raise FileFormatError(f"{path} is not a file", hint="pass the model file, not a folder")
    if path.stat().st_size == 0:
        raise FileFormatError(
            f"model file {path} is empty (0 bytes)",
            hint="an export or build was interrupted: export/build it again",
        )
    return path


def _quickstart_arguments(second: Any, target_dtype: Any) -> tuple[int | None, int | None, Any]:
    """``(num_classes, batch, target_dtype)`` from NVIDIA's quick-start argument forms.

    ``second`` is a class count (``1000``), an output shape (``[BATCH_SIZE, 1000]``), a dtype
    (``np.float16``, today's guide passes it second) or None.
    """
    if second is None:
        return None, None, target_dtype
    if isinstance(second, bool):
        raise InputError(
            f"num_classes must be a positive int or None, got {second!r}",
            hint="leave it out: the class count is read from the model",
        )
    if _is_int(second):
        if second < 1:
            raise InputError(
                f"num_classes must be a positive int or None, got {second!r}",
                hint="leave it out: the class count is read from the model",
            )
        return int(second), None, target_dtype
    if isinstance(second, Sequence) and not isinstance(second, str):
        if len(second) != 2 or not all(_is_int(d) and d >= 1 for d in second):
            raise InputError(
                f"an output shape must be [BATCH_SIZE, NUM_CLASSES] with positive ints, got "
                f"{list(second)!r}",
                hint="e.g. ONNXClassifierWrapper('model.onnx', [32, 1000], target_dtype=np.float32)"
                ", or leave it out: the shape is read from the model",
            )
        return int(second[1]), int(second[0]), target_dtype
    if target_dtype is not None:
        raise InputError(
            f"got two dtypes: {second!r} as the second argument and target_dtype={target_dtype!r}",
            hint="the second argument is the class count or output shape [BATCH_SIZE, "
            "NUM_CLASSES]; give the dtype once, as target_dtype=...",
        )
    return None, None, second


def _check_target_dtype(target_dtype: Any) -> np.dtype[Any]:
    try:
        dt: np.dtype[Any] = np.dtype(target_dtype)
    except TypeError as exc:
        raise InputError(
            f"target_dtype must be a floating numpy dtype, got {target_dtype!r}",
            hint="e.g. target_dtype=np.float32 (or np.float16). The second argument may also be "
            "the class count (1000) or the output shape [BATCH_SIZE, 1000], checked against the "
            "model",
        ) from exc
    if dt.kind != "f":
        raise InputError(
            f"target_dtype must be a floating dtype for logits, got {dt}",
            hint="use np.float32 or np.float16",
        )
    return dt


# -- shared machinery -----------------------------------------------------------------------------
class _ImageModelWrapper(Closeable):
    """Lazy runner, backend choice, IO selection and chunked execution shared by the wrappers."""

    def __init__(
        self,
        file: str | os.PathLike[str],
        *,
        backend: str,
        precision: str | None,
        max_batch: int,
        profiles: ProfilesArg,
    ) -> None:
        cls = type(self).__name__
        self.path = _check_model_file(file, cls)
        self.is_engine = self.path.suffix.lower() in ENGINE_SUFFIXES
        if not isinstance(backend, str) or backend not in WRAPPER_BACKENDS:
            raise InputError(
                f"backend={backend!r}: expected one of {', '.join(WRAPPER_BACKENDS)}",
                hint="'auto' uses TensorRT where it is installed (GPU), else ONNX Runtime",
            )
        if self.is_engine and backend == "onnxruntime":
            raise InputError(
                f"{self.path.name} is a TensorRT engine; ONNX Runtime cannot run it",
                hint="pass the .onnx file for backend='onnxruntime', or use backend='tensorrt'",
            )
        from trtlab.trt.precision import normalize_precision

        # None: capabilities.default_precision(backend), decided when the backend is
        self._precision = None if precision is None else normalize_precision(precision)
        if not _is_int(max_batch) or max_batch < 1:
            raise InputError(
                f"max_batch must be an int >= 1, got {max_batch!r}",
                hint="the largest batch a TensorRT engine built from ONNX accepts, e.g. 32",
            )
        self.max_batch = int(max_batch)
        # the form is checked now (cheap); the fit to the model when the engine is built
        self.profiles: list[Profile] | None = (
            parse_profiles(profiles) if profiles is not None else None
        )
        self._requested_backend = backend
        self._backend: str | None = None
        self._runner: Runner | None = None
        self._input: TensorSpec | None = None
        self._output: TensorSpec | None = None
        self._limits: tuple[int, int | None] = (1, None)
        self._profile: ShapeRange | None = None

    # -- backend and loading --------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``"tensorrt"`` or ``"onnxruntime"``: decided without loading the model."""
        if self._runner is not None:
            return self._runner.backend
        if self._backend is None:
            if self.is_engine or self._requested_backend != "auto":
                # an engine runs on TensorRT only; an explicit choice is checked when loading
                self._backend = "tensorrt" if self.is_engine else self._requested_backend
            else:
                from trtlab.capabilities import select_backend

                self._backend = select_backend("onnx", "auto", what=self.path.name)
        return self._backend

    @property
    def precision(self) -> str:
        """The TensorRT build precision: as given, else the backend's default (capabilities)."""
        if self._precision is None:
            from trtlab.capabilities import default_precision

            self._precision = default_precision(self.backend)
        return self._precision

    @property
    def loaded(self) -> bool:
        """True once the session/engine exists (after the first ``predict`` or ``load()``)."""
        return self._runner is not None

    def load(self) -> Self:
        """Create the session or engine now (``predict`` does it on first use)."""
        self._load()
        return self

    @property
    def runner(self) -> Runner:
        """The underlying :class:`~trtlab.runners.base.Runner` (loads the model)."""
        return self._load()

    def _default_profiles(self) -> Profile:
        """Batch ``(1, max_batch // 2, max_batch)`` and :meth:`_default_hw` for other dynamic
        axes, from the model's own dims (:func:`trtlab.trt.profiles.default_profile`)."""
        top = self.max_batch
        return default_profile(self.path, batch=(1, max(1, top // 2), top), hw=self._default_hw())

    def _default_hw(self) -> tuple[int, int, int] | None:
        """Range for dynamic non-batch dims; None: such a dim needs ``profiles=`` (an error)."""
        return None

    def _make_runner(self) -> Runner:
        from trtlab import runners

        backend = self.backend
        kwargs: dict[str, Any] = {}
        if backend == "tensorrt" and not self.is_engine:
            profiles = self.profiles if self.profiles is not None else [self._default_profiles()]
            kwargs = {"precision": self.precision, "profiles": profiles}
        elif backend == "onnxruntime" and self.precision != "fp32":
            warnings.warn(
                f"precision={self.precision!r} applies to TensorRT engines built from ONNX; "
                "ONNX Runtime runs the graph as exported",
                UserWarning,
                stacklevel=5,
            )
        return runners.runner(self.path, backend=backend, **kwargs)

    def _load(self) -> Runner:
        if self._runner is not None:
            return self._runner
        runner = self._make_runner()
        try:
            runner.activate()
        except EngineCompatibilityError:
            raise  # its provenance message already says what to rebuild with
        except EngineLoadError as exc:
            # deserialize_cuda_engine cannot tell a corrupt file from a foreign version/GPU.
            raise EngineLoadError(
                f"{self.path} could not be loaded as a TensorRT engine: it is corrupt, truncated, "
                f"or was built by another TensorRT version or GPU model ({exc})",
                hint="rebuild it here from the ONNX file: trtlab.build_engine('model.onnx', "
                f"'{self.path.name}'), or pass the .onnx file to {type(self).__name__}",
            ) from exc
        try:
            self._bind(runner)
        except TrtlabError:
            runner.close()
            raise
        self._runner = runner
        return runner

    def _bind(self, runner: Runner) -> None:
        """Pick the image input and the output, read limits; raise if the model does not fit."""
        cls = type(self).__name__
        inputs = runner.inputs
        if len(inputs) != 1:
            raise InputError(
                f"{cls} needs a model with one image input, {self.path.name} has {len(inputs)}: "
                + ", ".join(str(s) for s in inputs),
                hint="use trtlab.runner(path) for models with several inputs",
            )
        spec = inputs[0]
        if len(spec.shape) != 4:
            raise InputError(
                f"{cls} needs an image input [N, 3, H, W]; {self.path.name} has {spec}",
                hint="use trtlab.runner(path) for other models",
            )
        if spec.dtype.kind != "f" and spec.dtype.name != "bfloat16":
            raise InputError(
                f"{cls} feeds float images; {self.path.name}'s input is {spec}",
                hint="use trtlab.runner(path) and feed the dtype the model wants",
            )
        self._input = spec
        self._output = self._pick_output(runner.outputs)
        self._profile = _profile_bounds(runner, spec.name)
        self._limits = batch_limits(spec, self._profile)

    def _pick_output(self, outputs: list[TensorSpec]) -> TensorSpec:
        raise NotImplementedError

    # -- metadata -------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        """Where inference runs, e.g. ``cpu (CPUExecutionProvider)`` (loads the model)."""
        return self._load().device

    @property
    def input_name(self) -> str:
        """Name of the image input, read from the model (loads it)."""
        self._load()
        assert self._input is not None  # noqa: S101 - set by _bind
        return self._input.name

    @property
    def output_name(self) -> str:
        """Name of the output this wrapper returns, read from the model (loads it)."""
        self._load()
        assert self._output is not None  # noqa: S101 - set by _bind
        return self._output.name

    @property
    def batch_range(self) -> tuple[int, int | None]:
        """``(min, max)`` batch per model call (``None``: unlimited); larger batches are chunked."""
        self._load()
        return self._limits

    # -- running --------------------------------------------------------------------------------
    def _check_dims(self, shape: Sequence[int]) -> None:
        """Non-batch dims against the engine profile, with a message naming the allowed range."""
        if self._profile is None:
            return
        lo, hi = self._profile.min, self._profile.max
        for axis in range(1, len(shape)):
            if not lo[axis] <= shape[axis] <= hi[axis]:
                what = {1: "channels", 2: "height", 3: "width"}.get(axis, f"axis {axis}")
                raise ShapeError(
                    f"input '{self.input_name}' {what} {shape[axis]} is outside the engine's "
                    f"optimization profile: allowed {lo[axis]}..{hi[axis]} (images "
                    f"{list(lo[1:])} to {list(hi[1:])}), got shape {list(shape)}",
                    hint="resize the image into that range, or rebuild with a wider profile: "
                    f"{type(self).__name__}(onnx_path, profiles={{'{self.input_name}': "
                    "(min_shape, opt_shape, max_shape)}})",
                )

    def _run(self, batch: Any, per_chunk: Any = None) -> tuple[np.ndarray, bool]:
        runner = self._load()
        assert self._input is not None and self._output is not None  # noqa: S101
        arr, single = as_image_batch(batch, self._input.dtype)
        self._check_dims(arr.shape)
        name_in, name_out = self._input.name, self._output.name

        def call(x: np.ndarray) -> np.ndarray:
            y = runner({name_in: x})[name_out]
            return y if per_chunk is None else per_chunk(y)

        parts = run_in_chunks(call, arr, *self._limits)
        return (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)), single

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the session/engine; a later ``predict`` loads it again."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()

    def _repr_fields(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        try:
            backend = self.backend
        except TrtlabError:  # no usable backend here: the repr still shows, predict explains
            backend = f"{self._requested_backend} (none usable here)"
        parts = [f"{self.path.name!r}", f"backend={backend}"]
        if self._runner is not None and self._input is not None and self._output is not None:
            lo, hi = self._limits
            parts += [
                f"device={self._runner.device!r}",
                f"input={self._input}",
                f"output={self._output}",
                f"batch={lo}..{'any' if hi is None else hi}",
                *self._repr_fields(),
            ]
        else:
            parts.append("not loaded")
        return f"<{type(self).__name__} " + " ".join(parts) + ">"


def _profile_bounds(runner: Runner, name: str) -> ShapeRange | None:
    """The :class:`ShapeRange` of input ``name`` in the engine's active profile (TensorRT)."""
    if runner.backend != "tensorrt":
        return None
    engine = getattr(runner, "engine", None)
    if engine is None:
        return None
    for tensor in engine.inputs:
        if tensor.name == name and tensor.profiles:
            prof = tensor.profiles[int(getattr(engine, "profile", 0))]
            return ShapeRange(prof.min, prof.opt, prof.max)
    return None


# -- classification -------------------------------------------------------------------------------
class ONNXClassifierWrapper(_ImageModelWrapper):
    """Classify image batches with an ONNX model or a TensorRT engine: ``predict(x) -> [N, C]``.

    >>> clf = ONNXClassifierWrapper("resnet50.onnx", target_dtype=np.float16)  # doctest: +SKIP
    >>> clf.predict(batch).shape                                                # doctest: +SKIP
    (5, 1000)

    NVIDIA's quick-start forms all work, each checked against the model when it loads:
    ``(file, target_dtype=...)`` (today's guide; ``(file, np.float16)`` too),
    ``(file, [BATCH_SIZE, 1000], target_dtype=...)`` (older copies: the output shape) and
    ``(file, 1000, target_dtype)`` (the class count). A class count or batch that does not match
    the model raises :class:`~trtlab.errors.InputError`; the count is always read from the model.

    ``file``: ``.onnx`` (``backend="auto"``: TensorRT where engines can be built here, after a
    cached build with ``precision`` and batch ``1..max_batch``; else ONNX Runtime) or a TensorRT
    engine ``.engine``/``.trt``/``.plan``. ``target_dtype``: dtype of the returned logits.
    ``precision``: default :func:`trtlab.capabilities.default_precision` of the backend.
    ``max_batch``: default the quick-start's ``BATCH_SIZE`` when given, else 32. ``profiles``
    overrides the build profile (any form :func:`trtlab.trt.profiles.validate_profiles` reads).
    """

    def __init__(
        self,
        file: str | os.PathLike[str],
        num_classes: Any = None,
        target_dtype: Any = None,
        *,
        backend: str = "auto",
        precision: str | None = None,
        max_batch: int | None = None,
        profiles: ProfilesArg = None,
    ) -> None:
        classes, batch, dtype = _quickstart_arguments(num_classes, target_dtype)
        self.target_dtype = _check_target_dtype(np.float32 if dtype is None else dtype)
        self._expected_classes = classes
        self._expected_batch = batch
        self._num_classes: int | None = None
        if max_batch is None:
            max_batch = 32 if batch is None else batch
        super().__init__(
            file, backend=backend, precision=precision, max_batch=max_batch, profiles=profiles
        )

    def _pick_output(self, outputs: list[TensorSpec]) -> TensorSpec:
        ranked = [o for o in outputs if len(o.shape) == 2]
        if not ranked:
            raise InputError(
                f"{self.path.name} is not a classifier: expected an output [N, num_classes], got "
                + ", ".join(str(o) for o in outputs),
                hint="class maps [N, H, W] (segmentation) go to trtlab.SegmentationWrapper",
            )
        out = ranked[0]
        dim = out.shape[1]
        self._num_classes = dim if isinstance(dim, int) and dim >= 0 else None
        if self._num_classes is not None:
            self._check_classes(self._num_classes, out.name)
        fixed = out.shape[0]
        want = self._expected_batch
        if want is not None and isinstance(fixed, int) and fixed >= 0 and fixed != want:
            raise InputError(
                f"output shape [{want}, ...] was given, but {self.path.name} has a fixed batch of "
                f"{fixed} (output '{out.name}' {out.shape_str()})",
                hint=f"pass [{fixed}, {self._num_classes or 'num_classes'}], or just "
                "target_dtype=... (the shape is read from the model)",
            )
        return out

    def _check_classes(self, found: int, output: str) -> None:
        if self._expected_classes is not None and found != self._expected_classes:
            raise InputError(
                f"num_classes={self._expected_classes} was given (the quick-start's class count "
                f"or output shape [BATCH_SIZE, {self._expected_classes}]), but "
                f"{self.path.name} outputs "
                f"{found} classes (output '{output}' {[None, found]})",
                hint=f"drop num_classes (it is read from the model) or pass num_classes={found}; "
                "or check that this is the model you meant",
            )

    @property
    def num_classes(self) -> int | None:
        """Classes the model outputs (loads it; None only if the model leaves it dynamic and
        nothing has been predicted yet)."""
        self._load()
        return self._num_classes

    def predict(self, batch: Any) -> np.ndarray:
        """Logits ``[N, num_classes]`` in ``target_dtype`` for images ``[N, 3, H, W]``.

        One image ``[3, H, W]`` gives ``[1, num_classes]``. Any ``N`` works (see the module
        docstring for how TensorRT profiles are handled).
        """
        logits, _ = self._run(batch)
        if logits.ndim != 2:
            raise ShapeError(
                f"{self.output_name} came back with shape {list(logits.shape)}, expected [N, C]",
                hint="is this a classifier?",
            )
        if self._num_classes is None:
            self._check_classes(int(logits.shape[1]), self.output_name)
            self._num_classes = int(logits.shape[1])
        return logits.astype(self.target_dtype, copy=False)

    __call__ = predict

    def predict_topk(
        self, batch: Any, k: int = 5, labels: Sequence[str] | str | None = None
    ) -> list[list[Prediction]]:
        """Top-``k`` classes per image: ``[[Prediction(index, label, probability), ...], ...]``.

        ``labels``: ``"imagenet"``, ``"voc"``, a list of names, or None (ImageNet names for 1000
        classes, VOC for 21, else ``"class <i>"``).
        """
        from trtlab.data import topk

        return topk(self.predict(batch).astype(np.float32), k=k, labels=labels)

    def _repr_fields(self) -> list[str]:
        return [f"num_classes={self._num_classes}", f"target_dtype={self.target_dtype}"]


# -- segmentation ---------------------------------------------------------------------------------
def fit_into_profile(hw: tuple[int, int], profile: ShapeRange | None) -> tuple[int, int] | None:
    """``(height, width)`` to resize an image to so it fits ``profile`` (axes 2, 3); None: it fits.

    Scales both sides by one factor (aspect ratio kept), then clamps a side the profile cannot
    hold at that ratio. Pure, so the rule is testable without an engine.
    """
    if profile is None or profile.rank != 4:
        return None
    h, w = hw
    (hmin, wmin), (hmax, wmax) = profile.min[2:], profile.max[2:]
    if hmin <= h <= hmax and wmin <= w <= wmax:
        return None
    scale = min(hmax / h, wmax / w) if h > hmax or w > wmax else max(hmin / h, wmin / w)
    nh = min(max(round(h * scale), hmin), hmax)
    nw = min(max(round(w * scale), wmin), wmax)
    return nh, nw


class SegmentationWrapper(_ImageModelWrapper):
    """Per-pixel classes from an FCN-style model: ``predict(x [N,3,H,W]) -> class map [N,H,W]``.

    Works with trtlab's FCN export (argmax inside the graph: int64 class map out) and with a
    model that returns score planes ``[N, C, H, W]`` (the argmax then runs here in numpy, per
    chunk). On TensorRT, images must fit the engine profile; an engine built here from ONNX gets
    height/width ``DEFAULT_SEGMENTATION_SIZES`` (min, opt, max) and batch ``1..max_batch``
    unless ``profiles=`` says otherwise. ONNX Runtime takes any size.
    """

    def __init__(
        self,
        file: str | os.PathLike[str],
        *,
        backend: str = "auto",
        precision: str | None = None,
        max_batch: int = 4,
        profiles: ProfilesArg = None,
    ) -> None:
        self.output_kind: str | None = None
        super().__init__(
            file, backend=backend, precision=precision, max_batch=max_batch, profiles=profiles
        )

    def _default_hw(self) -> tuple[int, int, int] | None:
        return DEFAULT_SEGMENTATION_SIZES

    def _pick_output(self, outputs: list[TensorSpec]) -> TensorSpec:
        for out in outputs:
            if len(out.shape) == 3 and out.dtype.kind in "iu":
                self.output_kind = "class_map"
                return out
        for out in outputs:
            if len(out.shape) == 4 and out.dtype.kind == "f":
                self.output_kind = "scores"
                return out
        raise InputError(
            f"{self.path.name} is not a segmentation model: expected an integer class map "
            "[N, H, W] or float scores [N, C, H, W], got " + ", ".join(str(o) for o in outputs),
            hint="classifiers ([N, C] logits) go to trtlab.ONNXClassifierWrapper",
        )

    @property
    def num_classes(self) -> int | None:
        """Score planes of a ``[N, C, H, W]`` output; None for a class-map output (ids only)."""
        self._load()
        if self.output_kind == "scores" and self._output is not None:
            dim = self._output.shape[1]
            return dim if isinstance(dim, int) else None
        return None

    def predict(self, batch: Any) -> np.ndarray:
        """Class ids ``int64 [N, H, W]`` for images ``[N, 3, H, W]`` (one image: ``[1, H, W]``)."""

        def to_classes(y: np.ndarray) -> np.ndarray:
            arr = np.asarray(y)
            if self.output_kind == "scores":
                classes: np.ndarray = arr.argmax(axis=1)
                return classes
            return arr

        classes, _ = self._run(batch, per_chunk=to_classes)
        return classes.astype(np.int64, copy=False)

    __call__ = predict

    def segment(
        self, image: ImageSource, *, size: int | None = 520, alpha: float = 0.5
    ) -> tuple[np.ndarray, Image.Image]:
        """Preprocess one image (``trtlab.data.preprocess_segmentation``), segment it, overlay.

        Returns ``(class_map [H, W] int64, overlay PIL image)``. The class map has the size the
        model saw (shorter side ``size``); the overlay has the original image's size.
        """
        from trtlab.data import load_image, preprocess_segmentation

        pil = load_image(image)
        x = preprocess_segmentation(pil, size=size)
        self._load()  # the engine's profile decides whether x must shrink or grow
        h, w = (int(d) for d in x.shape[1:])
        fit = fit_into_profile((h, w), self._profile)
        if fit is not None and self._profile is not None:
            from PIL import Image as PILImage

            lo, hi = self._profile.min, self._profile.max
            warnings.warn(
                f"segment(): the image is {h}x{w} after preprocessing, outside the engine's "
                f"optimization profile (height {lo[2]}..{hi[2]}, width {lo[3]}..{hi[3]}); "
                f"resized it to {fit[0]}x{fit[1]} (aspect ratio kept where the profile allows). "
                "The class map has that size, the overlay the image's. To segment it unresized, "
                "build with a wider profile: SegmentationWrapper(onnx_path, "
                "profiles={'input': (min_shape, opt_shape, max_shape)})",
                UserWarning,
                stacklevel=2,
            )
            resized = pil.resize((fit[1], fit[0]), PILImage.Resampling.BILINEAR)
            x = preprocess_segmentation(resized, size=None)
        class_map = self.predict(x[None])[0]
        return class_map, self.overlay(pil, class_map, alpha)

    @staticmethod
    def overlay(image: ImageSource, class_map: np.ndarray, alpha: float = 0.5) -> Image.Image:
        """Colour the class map over ``image`` (delegates to :func:`trtlab.data.overlay`)."""
        from trtlab.data import overlay

        return overlay(image, class_map, alpha)

    @staticmethod
    def class_shares(
        class_map: np.ndarray, labels: Sequence[str] | Mapping[int, str] | str | None = None
    ) -> dict[str, float]:
        """Share of pixels per class, largest first (VOC names by default)."""
        from trtlab.data import class_shares

        return class_shares(class_map, labels)

    def _repr_fields(self) -> list[str]:
        return [f"output_kind={self.output_kind}"]


__all__ = [
    "DEFAULT_SEGMENTATION_SIZES",
    "WRAPPER_BACKENDS",
    "BatchChunk",
    "ONNXClassifierWrapper",
    "SegmentationWrapper",
    "as_image_batch",
    "batch_limits",
    "fit_into_profile",
    "plan_batches",
    "run_in_chunks",
]
