"""ImagePicker: choose a demo image from a thumbnail gallery, or upload your own.

Uploads are checked by :func:`validate_upload` (size limit, real image format, pixel limit, mode
conversion to RGB). A bad file shows a red message in the widget instead of a traceback.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W
from traitlets import Any as AnyTrait
from traitlets import Unicode, observe

from trtlab.errors import FileFormatError, InputError, TrtlabError
from trtlab.widgets._common import WidgetBase, describe_exception, error_html, esc

#: Uploads larger than this are refused before decoding (bytes).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Decoded images larger than this are refused (pixels; ~50 megapixels).
DEFAULT_MAX_PIXELS = 50_000_000
#: Image formats PIL may decode for an upload.
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def _to_rgb(img: Any) -> Any:
    """Any PIL mode -> RGB: transparency over white, 16-bit/float greyscale rescaled to 8 bit."""
    import numpy as np
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.rint(scaled).astype(np.uint8), mode="L").convert("RGB")
    return img.convert("RGB")


def validate_upload(
    data: bytes | bytearray | memoryview,
    *,
    name: str = "upload",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Any:
    """Check an uploaded file and return it as an RGB ``PIL.Image``.

    Raises :class:`InputError` for a file that is too large (bytes or pixels) and
    :class:`FileFormatError` for one that is empty, not an image, of an unsupported format, or
    truncated. Animated images give their first frame.
    """
    from PIL import Image, UnidentifiedImageError

    raw = bytes(data)
    if not raw:
        raise FileFormatError(f"{name!r} is empty (0 bytes)", hint="choose a JPEG or PNG image")
    if len(raw) > max_bytes:
        raise InputError(
            f"{name!r} is {_mib(len(raw))}; the limit is {_mib(max_bytes)}",
            hint="downscale or compress the image (a few hundred KiB is plenty: the model "
            "sees 224x224 pixels)",
        )
    try:
        img = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as exc:
        raise InputError(
            f"{name!r} has too many pixels to decode safely: {exc}", hint="downscale the image"
        ) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise FileFormatError(
            f"{name!r} is not an image PIL can read (expected one of {', '.join(ALLOWED_FORMATS)})",
            hint="upload a .jpg or .png file",
        ) from exc
    if img.format not in ALLOWED_FORMATS:
        raise FileFormatError(
            f"{name!r} is a {img.format} file; expected one of {', '.join(ALLOWED_FORMATS)}",
            hint="convert it to PNG or JPEG first",
        )
    width, height = img.size
    if width * height > max_pixels:
        raise InputError(
            f"{name!r} is {width}x{height} = {width * height:,} pixels; the limit is "
            f"{max_pixels:,}",
            hint="downscale the image",
        )
    try:
        img.seek(0)
        img.load()
    except (OSError, ValueError) as exc:
        raise FileFormatError(
            f"{name!r} could not be decoded ({exc}); the file may be truncated",
            hint="re-export the image and upload it again",
        ) from exc
    return _to_rgb(img)


def _demo_sources() -> dict[str, Any]:
    """``{name: path}`` of the bundled demo images (adapter over ``trtlab.data.demo_images``)."""
    from trtlab.data import demo_images

    return _normalize_sources(demo_images())


def _normalize_sources(images: Any) -> dict[str, Any]:
    if isinstance(images, Mapping):
        return {str(k): v for k, v in images.items()}
    out: dict[str, Any] = {}
    for item in images:
        if isinstance(item, (str, os.PathLike)):
            out[Path(item).stem] = item
        elif hasattr(item, "convert"):  # PIL image
            out[f"image {len(out) + 1}"] = item
        else:
            raise InputError(
                f"images must be paths, PIL images or a {{name: path}} mapping, got "
                f"{type(item).__name__}",
                hint="e.g. ImagePicker(images={'cat': 'data/images/cat.jpg'})",
            )
    return out


def _load_source(source: Any) -> Any:
    """A gallery entry -> RGB PIL image (paths go through ``trtlab.data.load_image``)."""
    if hasattr(source, "convert"):
        return _to_rgb(source)
    from trtlab.data import load_image

    return load_image(source)


def _thumbnail_png(img: Any, size: int) -> bytes:
    thumb = img.copy()
    thumb.thumbnail((size, size))
    buf = io.BytesIO()
    thumb.save(buf, format="PNG")
    return buf.getvalue()


class ImagePicker(WidgetBase):
    """Thumbnail gallery of demo images plus a file upload; the chosen image is in ``image``.

    ``images``: ``None`` (the bundled demo images), a ``{name: path or PIL image}`` mapping, or a
    list of paths. Other widgets observe ``image`` to run a model on each new choice.
    """

    image = AnyTrait(None, allow_none=True, help="the chosen image, RGB PIL.Image")
    source = Unicode("", help="name of the chosen image (gallery name or uploaded file name)")

    def __init__(
        self,
        images: Mapping[str, Any] | Sequence[Any] | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        thumb_size: int = 96,
        select: str | bool | None = True,
    ) -> None:
        super().__init__()
        self.max_bytes = int(max_bytes)
        self.max_pixels = int(max_pixels)
        self.sources = _demo_sources() if images is None else _normalize_sources(images)
        self.buttons: dict[str, W.Button] = {}
        tiles = []
        for name, src in self.sources.items():
            button = W.Button(description=name, layout=W.Layout(width=f"{thumb_size + 8}px"))
            button.on_click(lambda _b, n=name: self.select(n))
            self.buttons[name] = button
            try:
                thumb = W.Image(value=_thumbnail_png(_load_source(src), thumb_size), format="png")
            except TrtlabError as exc:
                thumb = W.HTML(error_html(describe_exception(exc)))
            tiles.append(W.VBox([thumb, button]))
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="Upload image")
        self.upload.observe(self._on_upload, names="value")
        self.preview = W.Image(format="png", layout=W.Layout(max_width="320px"))
        self.caption = W.HTML()
        limit = W.HTML(
            f"<small>JPEG/PNG/GIF/BMP/WEBP/TIFF, up to {esc(_mib(self.max_bytes))}</small>"
        )
        self.widget = W.VBox(
            [
                W.HBox(tiles, layout=W.Layout(flex_flow="row wrap")),
                W.HBox([self.upload, limit]),
                self.error_box,
                W.HBox([self.preview, self.caption]),
            ]
        )
        if select is True and self.sources:
            self.select(next(iter(self.sources)))
        elif isinstance(select, str):
            self.select(select)

    # -- actions ---------------------------------------------------------------------------
    def select(self, name: str) -> None:
        """Choose the gallery image ``name``."""
        if name not in self.sources:
            self.error = f"no gallery image named {name!r}; choose one of {sorted(self.sources)}"
            return
        try:
            img = _load_source(self.sources[name])
        except TrtlabError as exc:
            self.error = describe_exception(exc)
            return
        self.error = ""
        self._set(img, name)

    def load_bytes(self, name: str, data: bytes | bytearray | memoryview) -> bool:
        """Validate an uploaded file; on success it becomes ``image``. Returns success."""
        try:
            img = validate_upload(
                data, name=name, max_bytes=self.max_bytes, max_pixels=self.max_pixels
            )
        except TrtlabError as exc:
            self.error = describe_exception(exc)
            return False
        self.error = ""
        self._set(img, name)
        return True

    def _set(self, img: Any, name: str) -> None:
        # source first, so observers of ``image`` already see the new name
        self.source = name
        self.image = img

    # -- observers ---------------------------------------------------------------------------
    def _on_upload(self, change: Mapping[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        item = files[-1]
        self.load_bytes(str(item.get("name", "upload")), item.get("content", b""))

    @observe("image")
    def _show_preview(self, change: Mapping[str, Any]) -> None:
        img = change["new"]
        if img is None:
            self.preview.value = b""
            self.caption.value = ""
            return
        self.preview.value = _thumbnail_png(img, 320)
        self.caption.value = (
            f"<b>{esc(self.source)}</b><br>{img.size[0]}x{img.size[1]} px, {esc(img.mode)}"
        )
