"""Model factories: ResNet-50 (classification) and FCN-ResNet-101 (segmentation), offline-safe.

Pretrained weights come from torchvision's checkpoint URLs through the torch hub cache
(``$TORCH_HOME/hub/checkpoints``). When they cannot be had (no network, ``TRTLAB_OFFLINE=1``, a
broken cached file) the models fall back to *random* weights with exactly one
:class:`RandomWeightsWarning`, so every notebook still runs end to end; ``strict=True`` turns the
fallback into a :class:`~trtlab.errors.WeightsError`. Random weights are seeded, so two processes
build identical "random" models (cached ONNX files of random models stay consistent).

Every returned model is in eval mode and carries ``model.trtlab_weights``: the weight tag
(``"IMAGENET1K_V1"``, ``"COCO_WITH_VOC_LABELS_V1"`` or ``"random"``) used in cache file names.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import urllib.parse
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from trtlab import config
from trtlab.errors import InputError, WeightsError

if TYPE_CHECKING:
    import torch

Weights = Any  # a weights name (str), a torchvision WeightsEnum member, or None

#: Tag used for random (untrained) weights, in ``model.trtlab_weights`` and cache file names.
RANDOM_TAG = "random"
#: Seed of the random initialisation: identical "random" models in every process.
RANDOM_SEED = 0
#: Seconds a connect or read of the weights download may stall before we fall back.
DOWNLOAD_TIMEOUT_S = 10.0


class RandomWeightsWarning(UserWarning):
    """Pretrained weights were not available; the model has random weights."""


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of trtlab needs to know about a model: names, shapes, labels, opset.

    ``example_shape`` is the (small) input used for export; ``dynamic_axes`` maps tensor name to
    ``{axis: dim_name}`` and becomes the ONNX ``dim_param`` names.
    """

    name: str
    task: Literal["classification", "segmentation"]
    input_name: str
    output_name: str
    example_shape: tuple[int, ...]
    dynamic_axes: Mapping[str, Mapping[int, str]]
    labels: Literal["imagenet", "voc"] | None
    num_classes: int
    opset: int = 18
    #: torchvision weights enum member name used for ``weights="default"`` (None: none exist)
    default_weights: str | None = None
    description: str = field(default="", compare=False)


MODEL_SPECS: dict[str, ModelSpec] = {
    "resnet50": ModelSpec(
        name="resnet50",
        task="classification",
        input_name="input",
        output_name="logits",
        example_shape=(1, 3, 224, 224),
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        labels="imagenet",
        num_classes=1000,
        default_weights="IMAGENET1K_V1",
        description="torchvision ResNet-50, ImageNet-1k logits [N, 1000]",
    ),
    "fcn_resnet101": ModelSpec(
        name="fcn_resnet101",
        task="segmentation",
        input_name="input",
        output_name="classes",
        # small on purpose: export memory grows with the example size (~11 GB at 1026x1282)
        example_shape=(1, 3, 128, 128),
        dynamic_axes={
            "input": {0: "batch", 2: "height", 3: "width"},
            "classes": {0: "batch", 1: "height", 2: "width"},
        },
        labels="voc",
        num_classes=21,
        default_weights="COCO_WITH_VOC_LABELS_V1",
        description="torchvision FCN-ResNet-101 + argmax head, VOC class map [N, H, W] int64",
    ),
}

#: Tiny random models with the same I/O contracts, for fast tests (accepted by ``load_model``).
#: Each is its full-size model's spec (task, tensor names, dynamic axes) with a small input, its
#: own class count and no pretrained weights.
TEST_MODEL_SPECS: dict[str, ModelSpec] = {
    "tiny_classifier": replace(
        MODEL_SPECS["resnet50"],
        name="tiny_classifier",
        example_shape=(1, 3, 32, 32),
        labels=None,
        num_classes=10,
        default_weights=None,
        description="2 convs + linear, random weights, logits [N, 10]",
    ),
    "tiny_segmenter": replace(
        MODEL_SPECS["fcn_resnet101"],
        name="tiny_segmenter",
        example_shape=(1, 3, 32, 32),
        default_weights=None,
        description="2 convs + bilinear upsampling + argmax, random weights, [N, H, W] int64",
    ),
}


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name`` (real or tiny test model); InputError if unknown."""
    spec = MODEL_SPECS.get(name) or TEST_MODEL_SPECS.get(name)
    if spec is None:
        known = sorted(MODEL_SPECS) + sorted(TEST_MODEL_SPECS)
        raise InputError(
            f"unknown model {name!r}: expected one of {known}",
            hint="use 'resnet50' or 'fcn_resnet101' (tiny_* are random test models)",
        )
    return spec


# -- weights ---------------------------------------------------------------------------------


def _weights_enum_class(name: str) -> Any:
    from trtlab._tv_shim import import_torchvision

    tv = import_torchvision()
    if name == "resnet50":
        return tv.models.ResNet50_Weights
    if name == "fcn_resnet101":
        return tv.models.segmentation.FCN_ResNet101_Weights
    raise InputError(
        f"model {name!r} has no pretrained weights; expected weights=None",
        hint="pass weights=None for the tiny test models",
    )


def resolve_weights(name: str, weights: Weights = "default") -> Any:
    """Turn ``weights`` into a torchvision ``WeightsEnum`` member, or None for random weights.

    Accepts ``"default"`` (trtlab's choice, see :data:`MODEL_SPECS`), torchvision's ``"DEFAULT"``
    (its newest weights), an enum member name such as ``"IMAGENET1K_V1"`` or
    ``"ResNet50_Weights.IMAGENET1K_V2"``, an enum member, or None / ``"random"`` (random weights).
    """
    spec = get_spec(name)
    if weights is None or (isinstance(weights, str) and weights.lower() == RANDOM_TAG):
        return None
    enum_cls = _weights_enum_class(name)
    if isinstance(weights, enum_cls):
        return weights
    if not isinstance(weights, str):
        raise InputError(
            f"weights for {name} must be a name, a {enum_cls.__name__} member or None, "
            f"got {type(weights).__name__}",
            hint="e.g. weights='default', weights='IMAGENET1K_V1' or weights=None",
        )
    key = weights.split(".")[-1]
    if key == "default":
        key = spec.default_weights or "DEFAULT"
    try:
        return enum_cls[key]
    except KeyError:
        options = ["default", "DEFAULT", *enum_cls.__members__]
        raise InputError(
            f"unknown weights {weights!r} for {name}: expected one of {options} or None",
            hint=f"see torchvision.models.{enum_cls.__name__}",
        ) from None


def weights_tag(name: str, weights: Weights = "default") -> str:
    """The tag a model built with ``weights`` *would* carry if the weights load (no download)."""
    enum = resolve_weights(name, weights) if name in MODEL_SPECS else None
    return RANDOM_TAG if enum is None else str(enum.name)


def checkpoint_path(weights_enum: Any) -> Path:
    """Where torch hub caches this checkpoint: ``$TORCH_HOME/hub/checkpoints/<file from URL>``."""
    import torch

    filename: str = os.path.basename(urllib.parse.urlparse(str(weights_enum.url)).path)
    return Path(str(torch.hub.get_dir())) / "checkpoints" / filename


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Bound every blocking socket call (connect, each read) of urllib inside the block.

    torch.hub opens URLs without a timeout; behind a firewall that drops packets (or a proxy
    that accepts and never answers) that would hang forever. A stalled connection now fails
    after ``seconds``; a slow but progressing download keeps going.
    """
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _state_dict(weights_enum: Any, *, progress: bool) -> tuple[dict[str, Any] | None, str]:
    """Load the checkpoint from the hub cache or download it; (state_dict, "") or (None, why)."""
    import torch

    ckpt = checkpoint_path(weights_enum)
    if ckpt.is_file():
        try:
            return torch.load(ckpt, map_location="cpu", weights_only=True), ""
        except Exception as exc:  # a truncated/corrupt file: unpickling errors of all kinds
            return None, f"the cached checkpoint {ckpt} could not be read ({exc})"
    if config.offline():
        return None, "TRTLAB_OFFLINE=1 forbids downloading and the checkpoint is not cached"
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            sd = torch.hub.load_state_dict_from_url(
                weights_enum.url,
                map_location="cpu",
                progress=progress,
                check_hash=True,
                weights_only=True,
            )
    except Exception as exc:  # URLError, timeouts, hash mismatch, disk full...
        return None, f"download of {weights_enum.url} failed ({type(exc).__name__}: {exc})"
    return sd, ""


def warn_random_weights(
    name: str, weights_enum: Any, why: str, *, strict: bool, stacklevel: int = 3
) -> None:
    """Emit the one :class:`RandomWeightsWarning` (or raise ``WeightsError`` when ``strict``)."""
    _weights_failure(name, weights_enum, why, strict=strict, stacklevel=stacklevel + 1)


def _weights_failure(
    name: str, weights_enum: Any, why: str, *, strict: bool, stacklevel: int = 4
) -> None:
    ckpt = checkpoint_path(weights_enum)
    msg = f"pretrained weights {weights_enum} for {name} are not available: {why}"
    hint = (
        f"run once with network access (and TRTLAB_OFFLINE unset) to cache them, or copy "
        f"'{ckpt.name}' (from {weights_enum.url}) into {ckpt.parent} "
        f"($TORCH_HOME/hub/checkpoints/{ckpt.name})"
    )
    if strict:
        raise WeightsError(msg, hint=hint)
    warnings.warn(
        f"{msg}. Using RANDOM weights: the model runs and exports, but its predictions are "
        f"meaningless. To get real weights: {hint}.",
        RandomWeightsWarning,
        stacklevel=stacklevel,
    )


def _seeded_build(build: Any) -> Any:
    """Call ``build()`` with torch's CPU RNG seeded, leaving the global RNG state untouched."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return build()


def _load_weights_into(
    name: str,
    model: torch.nn.Module,
    weights_enum: Any,
    *,
    strict: bool,
    progress: bool,
    drop_prefixes: tuple[str, ...] = (),
) -> str:
    """Load ``weights_enum`` into ``model``; return its tag, or ``RANDOM_TAG`` after fallback."""
    sd, why = _state_dict(weights_enum, progress=progress)
    if sd is not None:
        sd = {k: v for k, v in sd.items() if not k.startswith(drop_prefixes)}
        try:
            model.load_state_dict(sd, strict=True)
            return str(weights_enum.name)
        except RuntimeError as exc:
            why = f"the checkpoint {checkpoint_path(weights_enum)} does not fit the model ({exc})"
    _weights_failure(name, weights_enum, why, strict=strict)
    return RANDOM_TAG


# -- models ----------------------------------------------------------------------------------


@functools.cache
def _argmax_head_class() -> type[torch.nn.Module]:
    import torch

    class SegmentationArgmax(torch.nn.Module):
        """``x [N,3,H,W] float32 -> class ids [N,H,W] int64``: argmax of ``model(x)["out"]``.

        Why the argmax is inside the graph: the engine then returns one int64 per pixel instead
        of 21 float planes (~10x less to copy back), and the argmax runs on the accelerator.
        """

        def __init__(self, segmenter: torch.nn.Module) -> None:
            super().__init__()
            self.segmenter = segmenter

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.segmenter(x)["out"]
            return out.argmax(dim=1)

    return SegmentationArgmax


def _finish(model: torch.nn.Module, tag: str) -> torch.nn.Module:
    model.eval()
    object.__setattr__(model, "trtlab_weights", tag)  # a plain attribute, not a buffer
    return model


def resnet50(weights: Weights = "default", *, strict: bool = False) -> torch.nn.Module:
    """torchvision ResNet-50 in eval mode: ``input [N,3,224,224] float32 -> logits [N,1000]``.

    ``weights="default"`` is ``IMAGENET1K_V1`` (resize 256, crop 224: the classic preset that
    :func:`trtlab.data.preprocess_imagenet` implements), not torchvision's ``DEFAULT``
    (``IMAGENET1K_V2``, resize 232). Random weights (with one :class:`RandomWeightsWarning`)
    when the checkpoint is neither cached nor downloadable; ``strict=True`` raises instead.
    """
    from trtlab._tv_shim import import_torchvision

    tv = import_torchvision()
    enum = resolve_weights("resnet50", weights)
    model = _seeded_build(lambda: tv.models.resnet50(weights=None))
    tag = RANDOM_TAG
    if enum is not None:
        tag = _load_weights_into("resnet50", model, enum, strict=strict, progress=True)
    return _finish(model, tag)


def fcn_resnet101(
    weights: Weights = "default", *, strict: bool = False, aux_loss: bool = False
) -> torch.nn.Module:
    """FCN-ResNet-101 with an argmax head: ``input [N,3,H,W] float32 -> classes [N,H,W] int64``.

    The class ids are the 21 Pascal VOC classes (0 = background) of torchvision's
    ``COCO_WITH_VOC_LABELS_V1`` weights. The argmax over the 21 score planes of torchvision's
    ``"out"`` runs inside the graph: a compact int64 class map comes out of the engine, which
    does the argmax on the accelerator. ``aux_loss=True`` keeps the auxiliary classifier (only
    useful for training; it does not change the output, just costs time), otherwise it is dropped.
    """
    from trtlab._tv_shim import import_torchvision

    tv = import_torchvision()
    enum = resolve_weights("fcn_resnet101", weights)
    seg = _seeded_build(
        lambda: tv.models.segmentation.fcn_resnet101(
            weights=None, weights_backbone=None, num_classes=21, aux_loss=aux_loss
        )
    )
    tag = RANDOM_TAG
    if enum is not None:
        drop = () if aux_loss else ("aux_classifier.",)
        tag = _load_weights_into(
            "fcn_resnet101", seg, enum, strict=strict, progress=True, drop_prefixes=drop
        )
    return _finish(_argmax_head_class()(seg), tag)


def tiny_classifier(num_classes: int = 10, *, seed: int = RANDOM_SEED) -> torch.nn.Module:
    """Small random CNN with ResNet-50's contract: ``[N,3,H,W] float32 -> logits [N,C]``."""
    import torch
    from torch import nn

    def build() -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(16, num_classes),
        )

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build()
    return _finish(model, RANDOM_TAG)


def tiny_segmenter(num_classes: int = 21, *, seed: int = RANDOM_SEED) -> torch.nn.Module:
    """Small random segmenter with FCN's contract: ``[N,3,H,W] float32 -> classes [N,H,W] int64``.

    Uses the same argmax head as :func:`fcn_resnet101` around a ``{"out": scores}`` module.
    """
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TinyFCN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, num_classes, 1)
            )

        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            y = self.body(x)
            out = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
            return {"out": out}

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _argmax_head_class()(TinyFCN())
    return _finish(model, RANDOM_TAG)


def load_model(name: str, weights: Weights = "default", *, strict: bool = False) -> torch.nn.Module:
    """Build a model by name (``MODEL_SPECS`` or ``TEST_MODEL_SPECS``), in eval mode."""
    spec = get_spec(name)
    if spec.name == "resnet50":
        return resnet50(weights, strict=strict)
    if spec.name == "fcn_resnet101":
        return fcn_resnet101(weights, strict=strict)
    if weights not in (None, "default", RANDOM_TAG):
        raise InputError(
            f"{name} is a random test model; got weights={weights!r}",
            hint="pass weights=None (or leave the default)",
        )
    if spec.name == "tiny_classifier":
        return tiny_classifier(spec.num_classes)
    return tiny_segmenter(spec.num_classes)


# -- preprocessing metadata ------------------------------------------------------------------


@dataclass(frozen=True)
class PreprocessConfig:
    """The preprocessing the weights were trained with (torchvision's ``transforms()`` preset)."""

    resize: int
    crop: int | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"


def preprocess_config(name: str = "resnet50", weights: Weights = "default") -> PreprocessConfig:
    """Resize/crop/normalisation for ``name`` with ``weights`` (random weights: the default's).

    ResNet-50 ``IMAGENET1K_V1`` (trtlab's default): resize 256, crop 224. ``IMAGENET1K_V2``:
    resize 232, crop 224. FCN: resize shorter side to 520, no crop.
    """
    spec = get_spec(name)
    enum = resolve_weights(name, weights) if name in MODEL_SPECS else None
    if enum is None and spec.default_weights:
        enum = resolve_weights(name, "default")
    if enum is None:  # tiny models: the ImageNet statistics, sizes from the example input
        size = spec.example_shape[-1]
        crop = size if spec.task == "classification" else None
        return PreprocessConfig(size, crop, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    preset = enum.transforms()
    resize = int(preset.resize_size[0])
    crop = int(preset.crop_size[0]) if hasattr(preset, "crop_size") else None
    mean = tuple(float(v) for v in preset.mean)
    std = tuple(float(v) for v in preset.std)
    interp = str(getattr(preset.interpolation, "value", preset.interpolation))
    return PreprocessConfig(resize, crop, mean, std, interp)  # type: ignore[arg-type]


__all__ = [
    "MODEL_SPECS",
    "RANDOM_TAG",
    "TEST_MODEL_SPECS",
    "ModelSpec",
    "PreprocessConfig",
    "RandomWeightsWarning",
    "checkpoint_path",
    "fcn_resnet101",
    "get_spec",
    "load_model",
    "preprocess_config",
    "resnet50",
    "resolve_weights",
    "tiny_classifier",
    "tiny_segmenter",
    "warn_random_weights",
    "weights_tag",
]
