"""Demo images, label lists, pre- and post-processing: numpy + PIL only.

Why not torchvision here: the same code runs next to every backend (ONNX Runtime, TensorRT), and
the preprocessing is small enough to read in one screen. It reproduces torchvision's presets for
PIL images (``ResNet50_Weights.IMAGENET1K_V1.transforms()``, ``FCN_ResNet101_Weights...``):
resize the shorter side with PIL's antialiased bilinear filter, centre-crop, scale to [0, 1],
normalise with the ImageNet mean/std. The tests compare against torchvision itself.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from trtlab import config
from trtlab.errors import (
    DTypeError,
    FileFormatError,
    InputError,
    NonFiniteError,
    ShapeError,
    TrtlabError,
)

if TYPE_CHECKING:
    from PIL import Image

ImageSource = Union[str, Path, bytes, bytearray, memoryview, "Image.Image", np.ndarray]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Images whose shorter side is at least this many times the target size are shrunk while
#: decoding (JPEG ``draft``) and by an integer box ``reduce`` before the antialiased resize:
#: memory stays near one decoded image. Smaller images take the exact torchvision path.
REDUCE_FACTOR = 4
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")
#: PIL's EXIF orientation values -> the transpose that undoes them.
_EXIF_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}  # Image.Transpose values


# -- files -----------------------------------------------------------------------------------


def demo_images() -> list[Path]:
    """The bundled demo images (CC0 / public domain, see ``data/LICENSES.md``), sorted by name."""
    folder = config.data_dir() / "images"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def demo_image(name: str = "cat") -> Path:
    """One demo image by stem (``cat``, ``astronaut``, ``coffee``, ``rocket``)."""
    images = {p.stem: p for p in demo_images()}
    if name not in images:
        raise InputError(
            f"no demo image named {name!r}: expected one of {sorted(images)}",
            hint="list them with trtlab.data.demo_images()",
        )
    return images[name]


def _rgb_from_array(a: np.ndarray) -> Image.Image:
    from PIL import Image

    return Image.fromarray(a.astype(np.uint8), "L").convert("RGB")


#: Non-8-bit images trtlab scales to 0..255: the largest value it accepts, what the values mean,
#: and the fix for an image outside that range (scaled, never clipped: clipping hides a bad scale).
_PIXEL_SCALE: dict[str, tuple[float, str, str]] = {
    "integer": (65535, "16-bit data (0..65535)", "rescale it to 0..255 and pass a uint8 array"),
    "float": (
        1.0,
        "intensities in [0, 1]",
        "scale it to [0, 1] (or to a uint8 array 0..255) first",
    ),
}


def _check_pixel_range(a: np.ndarray, kind: str, what: str, mode: str) -> None:
    top, meaning, hint = _PIXEL_SCALE[kind]
    lo, hi = a.min().item(), a.max().item()
    if lo < 0 or hi > top:
        shown = f"{lo}..{hi}" if kind == "integer" else f"{lo:.4g}..{hi:.4g}"
        image = "32-bit integer" if kind == "integer" else "float"
        raise FileFormatError(
            f"{what} is a {image} image (PIL mode {mode}) with values {shown}; "
            f"trtlab reads {kind} images as {meaning}",
            hint=hint,
        )


def _to_rgb(img: Image.Image, what: str) -> Image.Image:
    """Any PIL mode -> 8-bit RGB, *scaled* (never clipped); refuse modes with no clear meaning.

    16-bit (``I;16*``) and 32-bit integer (``I``, values 0..65535) images are 16-bit data:
    divided by 257. Float (``F``) images must hold values in [0, 1]: multiplied by 255.
    Transparency is dropped as torchvision's ``convert("RGB")`` does (P/PA via RGBA, so no
    warning; premultiplied La/RGBa are un-premultiplied first). LAB goes through a real
    LAB -> sRGB colour transform (PIL's ``convert`` would reinterpret the channels). CMYK,
    YCbCr, HSV, 1, L, LA, RGBA, RGBX convert with PIL's own rules.
    """
    w, h = img.size
    if w == 0 or h == 0:
        raise ShapeError(
            f"{what} has zero size ({w}x{h} pixels)", hint="pass an image with pixels in it"
        )
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _SIXTEEN_BIT or mode == "I":
        a = np.asarray(img)
        _check_pixel_range(a, "integer", what, mode)
        scaled = (a.astype(np.uint32) * 255 + 32767) // 65535  # round(a / 257)
        return _rgb_from_array(scaled)
    if mode == "F":
        a = np.asarray(img, dtype=np.float32)
        if not np.isfinite(a).all():
            raise NonFiniteError(
                f"{what} is a float image (PIL mode F) with NaN or infinite pixels",
                hint="replace them (np.nan_to_num) and pass a uint8 array",
            )
        _check_pixel_range(a, "float", what, mode)
        return _rgb_from_array(np.rint(a * 255.0))
    try:
        if mode == "LAB":  # PIL's plain convert() reinterprets the channels: use a colour transform
            from PIL import ImageCms

            lab, srgb = ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB")
            transform = ImageCms.buildTransform(lab, srgb, "LAB", "RGB")
            out = ImageCms.applyTransform(img, transform)
            if out is None:  # pragma: no cover - only with inPlace=True
                raise ValueError("the LAB -> sRGB transform returned nothing")
            return out
        if mode in ("P", "PA") and ("transparency" in img.info or mode == "PA"):
            img = img.convert("RGBA")
        elif mode in ("La", "RGBa"):  # premultiplied alpha: un-premultiply first
            img = img.convert("LA" if mode == "La" else "RGBA")
        return img.convert("RGB")
    except Exception as exc:  # ValueError/OSError from PIL, PyCMSError from ImageCms
        raise FileFormatError(
            f"{what} has PIL mode {mode}, which cannot be converted to RGB ({exc})",
            hint="convert it to an RGB JPEG/PNG first (e.g. with an image editor or PIL)",
        ) from exc


def _exif_orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not make the pixels unreadable
        return 1


#: Modes whose channels average linearly under ``Image.reduce`` (not P: indices; not HSV: hue).
_REDUCIBLE = ("L", "LA", "La", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "I", "F")


def _shrink(img: Image.Image, reduce_for: int | None) -> Image.Image:
    """Integer box-reduce huge images towards 2x the target size (bounded memory).

    Palette and 1-bit images are expanded first (averaging palette indices is meaningless);
    16-bit images go through 32-bit ``I`` (PIL cannot reduce ``I;16``).
    """
    if reduce_for is None or min(img.size) < REDUCE_FACTOR * reduce_for:
        return img
    if img.mode in ("P", "PA"):
        keep_alpha = img.mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if keep_alpha else "RGB")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in _SIXTEEN_BIT:
        img = img.convert("I")
    if img.mode not in _REDUCIBLE:
        return img
    return img.reduce(max(1, min(img.size) // (2 * reduce_for)))


def load_image(src: ImageSource, *, reduce_for: int | None = None) -> Image.Image:
    """Open ``src`` (path, encoded bytes, PIL image or HxWx3 uint8 array) as an RGB PIL image.

    The pixels are decoded right away, so a truncated file fails here, not later. The EXIF
    orientation is applied (a phone photo comes out upright). Non-8-bit images are scaled to
    8 bits, never clipped (see :func:`_to_rgb`). ``reduce_for``: the shorter side the caller will
    resize to; images at least :data:`REDUCE_FACTOR` times larger are shrunk while decoding so
    memory stays bounded (a 12000x12000 JPEG decodes at 1/8 scale). Decompression bombs (PIL's
    pixel limit) raise FileFormatError.
    """
    from PIL import Image, UnidentifiedImageError

    if reduce_for is not None and (
        isinstance(reduce_for, bool) or not isinstance(reduce_for, int) or reduce_for < 1
    ):
        raise InputError(f"reduce_for must be a positive int or None, got {reduce_for!r}")
    if isinstance(src, Image.Image):
        orientation = _exif_orientation(src)
        out = _to_rgb(_shrink(src, reduce_for), "the PIL image")
        if orientation in _EXIF_TRANSPOSE:
            return out.transpose(_EXIF_TRANSPOSE[orientation])  # type: ignore[arg-type]
        return out.copy() if out is src else out
    if isinstance(src, np.ndarray):
        if src.dtype != np.uint8:
            raise DTypeError(
                f"image array must be uint8, got {src.dtype}",
                hint="convert with np.clip(x, 0, 255).astype(np.uint8)"
                + (" (16-bit data: (x // 257).astype(np.uint8))" if src.dtype == np.uint16 else ""),
            )
        if src.ndim == 2 or (src.ndim == 3 and src.shape[2] in (3, 4)):
            if 0 in src.shape[:2]:
                raise ShapeError(
                    f"image array has zero size (shape {list(src.shape)})",
                    hint="pass an image with pixels in it",
                )
            return Image.fromarray(src).convert("RGB")
        raise ShapeError(
            f"image array must be HxW or HxWx3/4, got shape {list(src.shape)}",
            hint="channels-last uint8; for CHW use x.transpose(1, 2, 0)",
        )
    if isinstance(src, (bytes, bytearray, memoryview)):
        what = f"<{len(src)} bytes>"
        opener: Any = io.BytesIO(bytes(src))
    elif isinstance(src, (str, Path)):
        path = Path(src).expanduser()
        what = str(path)
        if path.is_dir():
            raise FileFormatError(
                f"image path {path} is a folder, expected an image file",
                hint="pass one file inside it, e.g. "
                + str(next(iter(sorted(path.glob("*.jpg"))), path / "image.jpg")),
            )
        if not path.is_file():
            raise FileFormatError(
                f"image file {path} does not exist",
                hint="check the path; demo images: trtlab.data.demo_images()",
            )
        opener = path
    else:
        raise InputError(
            "load_image expects a path, bytes, a PIL image or a uint8 array, "
            f"got {type(src).__name__}",
            hint="pass e.g. trtlab.data.demo_images()[0]",
        )
    try:
        with Image.open(opener) as img:
            w, h = img.size
            if (
                reduce_for is not None
                and img.format == "JPEG"
                and min(w, h) >= REDUCE_FACTOR * reduce_for
            ):
                k = 2 * reduce_for / min(w, h)
                img.draft("RGB", (max(1, int(w * k)), max(1, int(h * k))))
            img.load()
            orientation = _exif_orientation(img)
            out = _to_rgb(_shrink(img, reduce_for), what)
    except TrtlabError:
        raise
    except Image.DecompressionBombError as exc:
        raise FileFormatError(
            f"{what} is too large to decode safely ({exc})",
            hint="downscale the image first, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust it",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FileFormatError(
            f"{what} is not a readable image ({type(exc).__name__}: {exc})",
            hint="use a JPEG/PNG file; re-download it if it is truncated",
        ) from exc
    if orientation in _EXIF_TRANSPOSE:
        out = out.transpose(_EXIF_TRANSPOSE[orientation])  # type: ignore[arg-type]
    return out


@functools.cache
def _read_labels(path: Path, expected: int) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FileFormatError(
            f"label list {path} cannot be read: {exc}",
            hint="regenerate it with python tools/make_data.py",
        ) from exc
    labels = tuple(line.strip() for line in lines if line.strip())
    if len(labels) != expected:
        raise FileFormatError(
            f"label list {path} should have {expected} names, has {len(labels)}",
            hint="regenerate it with python tools/make_data.py",
        )
    return labels


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names, index = class id (from torchvision's weight metadata)."""
    return list(_read_labels(config.data_dir() / "labels" / "imagenet_classes.txt", 1000))


def voc_labels() -> list[str]:
    """The 21 Pascal VOC class names; index 0 is ``__background__``."""
    return list(_read_labels(config.data_dir() / "labels" / "voc_classes.txt", 21))


def voc_palette(num_classes: int = 256) -> np.ndarray:
    """The standard Pascal VOC colour map ``[num_classes, 3] uint8`` (default all 256 entries).

    Colour of class ``i``: its bits are spread over R, G, B from the most significant bit down
    (1 -> (128, 0, 0), 15 "person" -> (192, 128, 128)). Index the first 21 for the VOC classes.
    """
    ids = np.arange(num_classes, dtype=np.int64)
    palette = np.zeros((num_classes, 3), dtype=np.int64)
    c = ids.copy()
    for j in range(8):
        for ch in range(3):
            palette[:, ch] |= ((c >> ch) & 1) << (7 - j)
        c >>= 3
    return palette.astype(np.uint8)


# -- preprocessing ---------------------------------------------------------------------------


def _resize_shorter(img: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size``; longer = int(size * long / short) like torchvision."""
    from PIL import Image

    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    if short == size:
        return img
    new_long = int(size * long / short)
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    # PIL's bilinear resize is antialiased when downscaling, like torchvision on PIL images.
    return img.resize((new_w, new_h), Image.Resampling.BILINEAR)


def _center_crop(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if w < size or h < size:
        raise ShapeError(
            f"cannot centre-crop {size}x{size} from an image of {w}x{h}",
            hint="resize first (resize >= crop)",
        )
    top = round((h - size) / 2.0)
    left = round((w - size) / 2.0)
    return img.crop((left, top, left + size, top + size))


def _normalize(img: Image.Image, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    x: np.ndarray = np.asarray(img, dtype=np.float32) / np.float32(255.0)  # HWC in [0, 1]
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(std, dtype=np.float32)
    y: np.ndarray = (x - m) / s
    return np.ascontiguousarray(y.transpose(2, 0, 1), dtype=np.float32)


def preprocess_imagenet(
    img: ImageSource,
    *,
    resize: int = 256,
    crop: int = 224,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> np.ndarray:
    """ImageNet classification preprocessing -> ``float32 [3, crop, crop]``.

    Defaults are ResNet-50 ``IMAGENET1K_V1`` (resize 256, crop 224); for ``IMAGENET1K_V2`` pass
    ``resize=232`` (see :func:`trtlab.models.preprocess_config`).
    """
    for key, value in (("resize", resize), ("crop", crop)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"{key} must be a positive int, got {value!r}", hint="e.g. 224")
    if crop > resize:
        raise InputError(
            f"crop ({crop}) must not exceed resize ({resize})", hint="e.g. resize=256, crop=224"
        )
    pil = load_image(img, reduce_for=int(resize))
    return _normalize(_center_crop(_resize_shorter(pil, resize), crop), mean, std)


def preprocess_segmentation(
    img: ImageSource,
    *,
    size: int | None = 520,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> np.ndarray:
    """FCN preprocessing (torchvision's segmentation preset) -> ``float32 [3, H, W]``.

    Resizes the shorter side to ``size`` (520 like torchvision; smaller is faster on CPU;
    None keeps the image size), no crop, then normalises.
    """
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1
    ):
        raise InputError(f"size must be a positive int or None, got {size!r}", hint="e.g. 520")
    pil = load_image(img, reduce_for=None if size is None else int(size))
    if size is not None:
        pil = _resize_shorter(pil, int(size))
    return _normalize(pil, mean, std)


def make_batch(items: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Stack equal ``[C,H,W]`` arrays into ``[N,C,H,W]`` (a single array: add the batch axis)."""
    if isinstance(items, np.ndarray):
        items = [items]
    if not isinstance(items, Sequence) or not items:
        raise InputError(
            f"make_batch expects a non-empty list of arrays, got {type(items).__name__}",
            hint="e.g. make_batch([preprocess_imagenet(p) for p in demo_images()])",
        )
    for i, a in enumerate(items):
        if not isinstance(a, np.ndarray):
            raise DTypeError(
                f"make_batch item {i} is a {type(a).__name__}, expected a numpy array",
                hint="convert with np.asarray(x)",
            )
    first = items[0]
    for i, a in enumerate(items):
        if a.shape != first.shape:
            raise ShapeError(
                f"make_batch item {i} has shape {list(a.shape)}, item 0 has {list(first.shape)}",
                hint="resize/crop all images to the same size (segmentation: fixed size=)",
            )
        if a.dtype != first.dtype:
            raise DTypeError(
                f"make_batch item {i} has dtype {a.dtype}, item 0 has {first.dtype}",
                hint="convert all with .astype(np.float32)",
            )
    return np.ascontiguousarray(np.stack(items, axis=0))


# -- classification post-processing ----------------------------------------------------------


def _float_array(x: Any, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        raise DTypeError(
            f"{what} must be floating point, got {arr.dtype}",
            hint="pass the raw logits (float32/float16)",
        )
    return arr


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax (float64 internally, same float dtype out as in)."""
    x = _float_array(logits, "softmax input")
    z = x.astype(np.float64) - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)
    return out


@dataclass(frozen=True)
class Prediction:
    """One top-k entry: class index, its label and softmax probability."""

    index: int
    label: str
    probability: float

    def __str__(self) -> str:
        return f"{self.label} ({self.index}): {self.probability:.1%}"


def _resolve_labels(labels: Sequence[str] | str | None, num_classes: int) -> Sequence[str] | None:
    if labels is None:
        if num_classes == 1000:
            return imagenet_labels()
        if num_classes == 21:
            return voc_labels()
        return None
    if isinstance(labels, str):
        table = {"imagenet": imagenet_labels, "voc": voc_labels}
        if labels not in table:
            raise InputError(
                f"labels={labels!r}: expected a list of names, 'imagenet', 'voc' or None",
                hint="e.g. labels=trtlab.data.imagenet_labels()",
            )
        labels = table[labels]()
    if len(labels) != num_classes:
        raise ShapeError(
            f"{len(labels)} labels for {num_classes} classes",
            hint="pass the label list that matches the model's output",
        )
    return labels


def topk(
    logits: np.ndarray, k: int = 5, labels: Sequence[str] | str | None = None
) -> list[list[Prediction]]:
    """Top-``k`` classes per row of ``logits`` ``[N, C]`` (or ``[C]``: a list of one list).

    ``labels=None`` uses the ImageNet names for 1000 classes, VOC for 21, else ``"class <i>"``;
    ``"imagenet"``/``"voc"`` or an explicit list also work. Ties go to the lower index;
    ``k`` larger than ``C`` gives all ``C`` classes.
    """
    x = _float_array(logits, "topk logits")
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ShapeError(
            f"topk expects logits [N, C] or [C], got shape {list(x.shape)}",
            hint="segmentation outputs are class maps: use class_shares()",
        )
    if x.size and not np.isfinite(x).all():
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1)).tolist()
        raise NonFiniteError(
            f"topk logits hold NaN or infinite values (rows {bad[:5]}): a ranking of them "
            "is meaningless",
            hint="check the model's input for NaN/inf (runners refuse them) and its precision",
        )
    c = x.shape[1]
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive int, got {k!r}", hint="e.g. k=5")
    k = min(int(k), c)  # fewer classes than k: all of them
    names = _resolve_labels(labels, c)
    probs = softmax(x.astype(np.float64), axis=1)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [
        [
            Prediction(
                int(i), names[int(i)] if names is not None else f"class {int(i)}", float(p[i])
            )
            for i in row
        ]
        for row, p in zip(order, probs, strict=True)
    ]


# -- segmentation post-processing ------------------------------------------------------------


def _class_map(class_map: Any, num_colors: int | None = None) -> np.ndarray:
    cm = np.asarray(class_map)
    if not np.issubdtype(cm.dtype, np.integer):
        raise DTypeError(
            f"class map must hold integer class ids, got {cm.dtype}",
            hint="for score planes [N, C, H, W] take scores.argmax(1) first",
        )
    if cm.ndim not in (2, 3):
        raise ShapeError(
            f"class map must be [H, W] or [N, H, W], got shape {list(cm.shape)}",
            hint="take one image with class_map[0]",
        )
    if cm.size and cm.min() < 0:
        raise InputError(
            f"class map has negative class id {int(cm.min())}", hint="class ids start at 0"
        )
    if num_colors is not None and cm.size and cm.max() >= num_colors:
        raise InputError(
            f"class id {int(cm.max())} has no colour in a palette of {num_colors}",
            hint="pass a larger palette (voc_palette(256))",
        )
    return cm


def colorize(class_map: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Class ids ``[H, W]`` (or ``[N, H, W]``) -> RGB ``uint8 [..., 3]`` via ``palette``."""
    pal = voc_palette() if palette is None else np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != 3:
        raise ShapeError(
            f"palette must be [K, 3], got shape {list(pal.shape)}", hint="use voc_palette()"
        )
    cm = _class_map(class_map, pal.shape[0])
    colors: np.ndarray = pal.astype(np.uint8)[cm]
    return colors


from trtlab.viz import overlay  # noqa: E402  (one overlay home: trtlab.viz; re-exported)


def class_shares(
    class_map: np.ndarray, labels: Sequence[str] | Mapping[int, str] | str | None = None
) -> dict[str, float]:
    """Fraction of pixels per class present in ``class_map``, largest first.

    ``labels`` defaults to the VOC names; ids without a name are reported as ``"class <i>"``.
    """
    cm = _class_map(class_map)
    names: Sequence[str] | Mapping[int, str]
    if labels is None or labels == "voc":
        names = voc_labels()
    elif labels == "imagenet":
        names = imagenet_labels()
    elif isinstance(labels, str):
        raise InputError(
            f"labels={labels!r}: expected a list of names, a dict id->name, 'voc' or 'imagenet'",
            hint="e.g. labels=trtlab.data.voc_labels()",
        )
    else:
        names = labels
    ids, counts = np.unique(cm, return_counts=True)
    total = float(cm.size) or 1.0
    out: dict[str, float] = {}
    for i, n in sorted(
        zip(ids.tolist(), counts.tolist(), strict=True), key=lambda t: (-t[1], t[0])
    ):
        if isinstance(names, Mapping):
            name = names.get(i, f"class {i}")
        else:
            name = names[i] if i < len(names) else f"class {i}"
        out[name] = out.get(name, 0.0) + n / total
    return out


__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Prediction",
    "class_shares",
    "colorize",
    "demo_image",
    "demo_images",
    "imagenet_labels",
    "load_image",
    "make_batch",
    "overlay",
    "preprocess_imagenet",
    "preprocess_segmentation",
    "softmax",
    "topk",
    "voc_labels",
    "voc_palette",
]
