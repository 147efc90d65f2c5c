"""Reliability, images: every PIL mode is scaled (never clipped) or refused by name, EXIF
orientation is applied, bombs and zero-size images are trtlab errors, huge images decode in
bounded memory. Property-based over modes, sizes and array shapes (hypothesis).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from trtlab import data
from trtlab.errors import (
    DTypeError,
    FileFormatError,
    InputError,
    NonFiniteError,
    ShapeError,
    TrtlabError,
)

REPO = Path(__file__).resolve().parents[2]


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _grey(img: Image.Image) -> np.ndarray:
    rgb = np.asarray(data.load_image(img))
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    return rgb[..., 0].astype(np.int64)


# -- non-8-bit images are scaled ---------------------------------------------------------------


def test_16bit_png_is_scaled_not_clipped() -> None:
    """Class: a 16-bit PNG became white (values > 255 clipped)."""
    levels = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    raw = _png(Image.fromarray(levels))
    reopened = Image.open(io.BytesIO(raw))
    assert reopened.mode.startswith("I")  # PIL keeps 16 bits
    got = np.asarray(data.load_image(raw))[0, :, 0]
    assert got.tolist() == [0, 1, 128, 255]


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_16bit_modes_scale_by_257(mode: str) -> None:
    values = np.array([[0, 255, 256, 1000, 40000, 65535]], dtype=np.int64)
    if mode == "I":
        img = Image.fromarray(values.astype(np.int32), "I")
    else:
        img = Image.new(mode, (values.shape[1], 1))
        for i, v in enumerate(values[0]):
            img.putpixel((i, 0), int(v))
    assert _grey(img)[0].tolist() == np.rint(values[0] / 257).astype(int).tolist()


def test_32bit_integer_out_of_16bit_range_is_refused_by_name() -> None:
    img = Image.fromarray(np.array([[-5, 70000]], np.int32), "I")
    with pytest.raises(FileFormatError, match=r"PIL mode I.*-5\.\.70000"):
        data.load_image(img)


def test_float_image_in_unit_range_is_scaled() -> None:
    img = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32), "F")
    assert _grey(img)[0].tolist() == [0, 128, 255]


def test_float_image_outside_unit_range_is_refused() -> None:
    img = Image.fromarray(np.array([[0.0, 300.0]], np.float32), "F")
    with pytest.raises(FileFormatError, match=r"PIL mode F.*\[0, 1\]"):
        data.load_image(img)


def test_float_image_with_nan_is_a_nonfinite_error() -> None:
    img = Image.fromarray(np.array([[0.0, np.nan]], np.float32), "F")
    with pytest.raises(NonFiniteError, match="NaN"):
        data.load_image(img)


# -- colour and alpha modes ------------------------------------------------------------------


def test_palette_with_transparency_loads_without_pil_warning() -> None:
    p = Image.new("P", (4, 4), 1)
    p.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    p.info["transparency"] = 0
    raw = _png(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PIL: "Palette images with Transparency ... RGBA"
        out = data.load_image(raw)
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (10, 20, 30)


def test_la_and_cmyk_and_lab() -> None:
    la = Image.new("LA", (3, 2), (90, 0))  # alpha dropped, as torchvision's convert("RGB")
    assert data.load_image(_png(la)).getpixel((0, 0)) == (90, 90, 90)
    white_cmyk = Image.new("CMYK", (3, 2), (0, 0, 0, 0))
    assert data.load_image(white_cmyk).getpixel((0, 0)) == (255, 255, 255)
    lab_white = Image.new("LAB", (2, 2), (255, 128, 128))  # L=100, a=b=0
    assert min(data.load_image(lab_white).getpixel((0, 0))) >= 250  # not PIL's reinterpretation
    lab_black = Image.new("LAB", (2, 2), (0, 128, 128))
    assert max(data.load_image(lab_black).getpixel((0, 0))) <= 5


def test_premultiplied_alpha_is_unpremultiplied() -> None:
    rgba = Image.new("RGBA", (1, 1), (200, 100, 50, 128))
    premult = rgba.convert("RGBa")
    got = data.load_image(premult).getpixel((0, 0))
    assert all(abs(a - b) <= 2 for a, b in zip(got, (200, 100, 50), strict=True))


_MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr",
          "LAB", "HSV", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"]  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    mode=st.sampled_from(_MODES),
    w=st.integers(1, 24),
    h=st.integers(1, 24),
    seed=st.integers(0, 2**16),
)
def test_every_pil_mode_loads_as_rgb_or_is_refused_by_name(
    mode: str, w: int, h: int, seed: int
) -> None:
    """Property: any mode a user can hold gives RGB of the same size, or a TrtlabError naming it."""
    rng = np.random.default_rng(seed)
    img = Image.new(mode, (w, h))
    if mode == "F":
        img = Image.fromarray(rng.random((h, w), dtype=np.float32), "F")
    elif mode in ("I", *[m for m in _MODES if m.startswith("I;16")]):
        vals = rng.integers(0, 65536, size=(h, w))
        img = (
            Image.fromarray(vals.astype(np.int32), "I").convert(mode)
            if mode != "I"
            else (Image.fromarray(vals.astype(np.int32), "I"))
        )
    else:
        noise = Image.frombytes("L", (w, h), rng.integers(0, 256, w * h, dtype=np.uint8).tobytes())
        bands = [noise] * len(img.getbands())
        with contextlib.suppress(ValueError):  # modes PIL cannot merge keep their blank image
            img = Image.merge(mode, bands)
    try:
        out = data.load_image(img)
    except TrtlabError as exc:
        assert mode in str(exc)
        return
    assert out.mode == "RGB" and out.size == (w, h)


def test_exif_orientation_is_applied() -> None:
    """Class: phone photos (EXIF orientation 6) came out sideways."""
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 10, 20))  # blue band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    out = data.load_image(buf.getvalue())
    assert out.size == (20, 40)
    top = np.asarray(out)[2, 10]
    assert top[2] > 200 and top[0] < 60  # the left band is now on top
    assert data.load_image(Image.open(io.BytesIO(buf.getvalue()))).size == (20, 40)


# -- hostile and degenerate images -------------------------------------------------------------


def test_decompression_bomb_is_a_file_format_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Class: PIL's DecompressionBombError came through raw."""
    raw = _png(Image.new("L", (100, 100)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(FileFormatError, match="too large to decode safely") as info:
        data.load_image(raw)
    assert "MAX_IMAGE_PIXELS" in str(info.value)


@pytest.mark.parametrize("size", [(0, 10), (10, 0), (0, 0)])
def test_zero_size_images_are_shape_errors(size: tuple[int, int]) -> None:
    """Class: ZeroDivisionError inside the resize."""
    with pytest.raises(ShapeError, match="zero size"):
        data.preprocess_imagenet(Image.new("RGB", size))
    with pytest.raises(ShapeError, match="zero size"):
        data.preprocess_segmentation(np.zeros((size[1], size[0], 3), np.uint8))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"resize": 0}, "resize must be a positive int"), ({"crop": -1}, "crop must be"),
     ({"resize": True}, "resize must be"), ({"resize": 2.5}, "resize must be")],
)  # fmt: skip
def test_preprocess_size_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        data.preprocess_imagenet(Image.new("RGB", (300, 300)), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -3, 1.5])
def test_segmentation_size_argument(size: object) -> None:
    with pytest.raises(InputError, match="size must be a positive int or None"):
        data.preprocess_segmentation(Image.new("RGB", (30, 30)), size=size)  # type: ignore[arg-type]


def test_uint16_array_hint_says_how_to_scale() -> None:
    with pytest.raises(DTypeError, match="257"):
        data.load_image(np.zeros((4, 4, 3), np.uint16))


def test_folder_says_folder_not_missing(tmp_path: Path) -> None:
    (tmp_path / "cat.jpg").write_bytes(b"")
    with pytest.raises(FileFormatError, match="is a folder, expected an image file") as info:
        data.load_image(tmp_path)
    assert "does not exist" not in str(info.value) and "cat.jpg" in str(info.value)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 64),
    w=st.integers(1, 64),
    channels=st.sampled_from([None, 3, 4]),
    seed=st.integers(0, 2**16),
)
def test_any_uint8_array_preprocesses_to_a_finite_crop(
    h: int, w: int, channels: int | None, seed: int
) -> None:
    shape = (h, w) if channels is None else (h, w, channels)
    arr = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    x = data.preprocess_imagenet(arr, resize=32, crop=24)
    assert x.shape == (3, 24, 24) and x.dtype == np.float32 and np.isfinite(x).all()


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(0, 6), min_size=0, max_size=4).filter(
        lambda s: (
            not (len(s) == 2 and 0 not in s)
            and not (len(s) == 3 and s[2] in (3, 4) and 0 not in s[:2])
        )
    )
)
def test_bad_array_shapes_are_shape_errors(shape: list[int]) -> None:
    with pytest.raises(ShapeError):
        data.load_image(np.zeros(shape, np.uint8))


# -- huge images: bounded memory --------------------------------------------------------------

_PEAK = textwrap.dedent(
    """
    import resource, sys
    from trtlab import data
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    x = data.preprocess_imagenet(sys.argv[1])
    assert x.shape == (3, 224, 224)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
    """
)


@pytest.fixture(scope="module")
def huge_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    side = 4000
    a = np.zeros((side, side, 3), np.uint8)
    a[..., 0] = (np.arange(side) % 256)[None, :]
    a[..., 1] = (np.arange(side) % 256)[:, None]
    folder = tmp_path_factory.mktemp("huge")
    out = {"PNG": folder / "huge.png", "JPEG": folder / "huge.jpg"}
    Image.fromarray(a).save(out["PNG"], "PNG", compress_level=1)
    Image.fromarray(a).save(out["JPEG"], "JPEG", quality=80)
    return out


@pytest.mark.parametrize(("fmt", "limit"), [("PNG", 1.8), ("JPEG", 0.5)])
def test_huge_image_peak_memory_is_bounded(
    huge_images: dict[str, Path], fmt: str, limit: float
) -> None:
    """Class: a 12000x12000 PNG peaked above 1 GB (2.6x its pixels before; JPEG now 1/8 scale)."""
    raw_bytes = 4000 * 4000 * 3
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, str(huge_images[fmt])],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    grew = int(proc.stdout.strip().splitlines()[-1])
    assert grew < limit * raw_bytes, f"{fmt}: peak grew {grew / 1e6:.0f} MB"


def test_reduced_decode_stays_close_to_the_exact_path(huge_images: dict[str, Path]) -> None:
    img = Image.open(huge_images["PNG"]).crop((0, 0, 1100, 1000))
    img.load()
    exact = data._normalize(
        data._center_crop(data._resize_shorter(img, 224), 224),
        data.IMAGENET_MEAN,
        data.IMAGENET_STD,
    )
    reduced = data.preprocess_imagenet(img, resize=224, crop=224)  # 1000 >= 4 x 224: reduced
    assert np.abs(exact - reduced).mean() < 0.05  # about 2 grey levels on average


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [("I;16", 40000, 156), ("I", 65535, 255), ("F", 0.5, 128), ("L", 77, 77), ("1", 1, 255)],
)
def test_reduced_decode_keeps_the_scaling_of_every_depth(
    mode: str, value: float, expected: int
) -> None:
    """A large image of one level comes out at that level after the reduce (any bit depth)."""
    img = Image.new(mode, (1000, 1000), value)
    out = data.load_image(img, reduce_for=100)  # 1000 >= 4 x 100: reduced
    assert max(out.size) < 1000
    assert set(np.unique(np.asarray(out)).tolist()) == {expected}


def test_reduce_never_averages_palette_indices() -> None:
    pal = Image.new("P", (1000, 1000), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)  # 0 = red, 1 = blue
    pal.paste(1, (0, 0, 1000, 500))  # top half blue, bottom half red
    out = np.asarray(data.load_image(pal, reduce_for=100))
    colors = {tuple(c) for c in out.reshape(-1, 3).tolist()}
    assert colors <= {(255, 0, 0), (0, 0, 255)}  # no "average index" colours


def test_reduce_for_must_be_a_positive_int() -> None:
    with pytest.raises(InputError, match="reduce_for"):
        data.load_image(Image.new("RGB", (4, 4)), reduce_for=0)
