"""trtlab.data: demo files, labels, preprocessing against torchvision itself, post-processing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from trtlab import config, data
from trtlab._tv_shim import import_torchvision
from trtlab.errors import DTypeError, FileFormatError, InputError, ShapeError

STD_MIN = min(data.IMAGENET_STD)
#: torchvision's *tensor* resize (its own antialias kernel) rounds differently from PIL: at most
#: one grey level per pixel, i.e. 1/255 before normalisation, 1/255/std after.
ONE_LEVEL = 1.0 / 255.0 / STD_MIN + 1e-6


@pytest.fixture(scope="module")
def tv():  # type: ignore[no-untyped-def]
    return import_torchvision()


def test_demo_images_are_small_licensed_rgb() -> None:
    images = data.demo_images()
    assert [p.name for p in images] == ["astronaut.jpg", "cat.jpg", "coffee.jpg", "rocket.jpg"]
    licenses = (config.data_dir() / "LICENSES.md").read_text()
    for p in images:
        assert p.stat().st_size < 150_000
        assert f"images/{p.name}" in licenses
        img = data.load_image(p)
        assert img.mode == "RGB" and min(img.size) >= 224
    assert "CC0" in licenses and "public domain" in licenses
    assert data.demo_image("cat").name == "cat.jpg"
    with pytest.raises(InputError, match="astronaut"):
        data.demo_image("dog")


def test_labels_match_torchvision_metadata(tv) -> None:  # type: ignore[no-untyped-def]
    imagenet, voc = data.imagenet_labels(), data.voc_labels()
    assert imagenet == tv.models.ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
    meta = tv.models.segmentation.FCN_ResNet101_Weights.COCO_WITH_VOC_LABELS_V1.meta
    assert voc == meta["categories"]
    assert len(imagenet) == 1000 and imagenet[0] == "tench" and imagenet[281] == "tabby"
    assert voc[0] == "__background__" and voc[8] == "cat" and voc[15] == "person"
    imagenet.append("mutated")  # callers get copies; the cache stays intact
    assert len(data.imagenet_labels()) == 1000


def test_voc_palette_standard_values() -> None:
    pal = data.voc_palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    expected = {
        0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128),
        8: (64, 0, 0), 15: (192, 128, 128), 20: (0, 64, 128), 255: (224, 224, 192),
    }  # fmt: skip
    for i, rgb in expected.items():
        assert tuple(pal[i]) == rgb, i
    assert len({tuple(c) for c in pal[:21]}) == 21
    assert data.voc_palette(21).shape == (21, 3)


@pytest.mark.parametrize("name", ["cat", "astronaut", "rocket"])
def test_preprocess_imagenet_matches_torchvision(tv, name: str) -> None:  # type: ignore[no-untyped-def]
    import torch

    img = data.load_image(data.demo_image(name))
    ours = data.preprocess_imagenet(img)
    assert ours.shape == (3, 224, 224) and ours.dtype == np.float32
    preset = tv.models.ResNet50_Weights.IMAGENET1K_V1.transforms()
    # on a PIL image torchvision resizes with PIL too: identical up to float rounding
    ref_pil = preset(img).numpy()
    assert np.abs(ours - ref_pil).max() <= 1e-6
    # on a uint8 tensor torchvision uses its own antialias kernel: within one grey level
    tensor = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1)
    diff = np.abs(ours - preset(tensor).numpy())
    assert diff.max() <= ONE_LEVEL and diff.mean() < 5e-3
    v2 = tv.models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert np.abs(data.preprocess_imagenet(img, resize=232) - v2(img).numpy()).max() <= 1e-6


def test_preprocess_segmentation_matches_torchvision(tv) -> None:  # type: ignore[no-untyped-def]
    img = data.load_image(data.demo_image("cat"))  # 451x300: resize makes it 520 x 781
    preset = tv.models.segmentation.FCN_ResNet101_Weights.COCO_WITH_VOC_LABELS_V1.transforms()
    ours = data.preprocess_segmentation(img)
    ref = preset(img).numpy()
    assert ours.shape == ref.shape == (3, 520, 781)
    assert np.abs(ours - ref).max() <= 1e-6
    small = data.preprocess_segmentation(img, size=128)
    assert small.shape == (3, 128, 192)
    assert data.preprocess_segmentation(img, size=None).shape == (3, 300, 451)
    with pytest.raises(InputError):
        data.preprocess_segmentation(img, size=0)


def test_preprocess_normalisation_is_exact() -> None:
    flat = Image.new("RGB", (300, 260), (255, 0, 128))
    x = data.preprocess_imagenet(flat)
    expected = (np.array([1.0, 0.0, 128 / 255]) - data.IMAGENET_MEAN) / data.IMAGENET_STD
    np.testing.assert_allclose(x[:, 100, 100], expected, rtol=1e-6)
    with pytest.raises(InputError, match="crop"):
        data.preprocess_imagenet(flat, resize=200, crop=224)


def test_load_image_sources(cat_image_path: Path) -> None:
    raw = cat_image_path.read_bytes()
    from_path = data.load_image(str(cat_image_path))
    from_bytes = data.load_image(raw)
    assert from_path.size == (451, 300) and from_bytes.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(from_path), np.asarray(from_bytes))
    grey = data.load_image(Image.new("L", (4, 3), 7))
    assert grey.mode == "RGB" and grey.getpixel((0, 0)) == (7, 7, 7)
    arr = np.zeros((5, 6, 3), np.uint8)
    assert data.load_image(arr).size == (6, 5)
    rgba = Image.new("RGBA", (2, 2), (1, 2, 3, 4))
    assert data.load_image(rgba).getpixel((0, 0)) == (1, 2, 3)


def test_load_image_errors(tmp_path: Path, cat_image_path: Path) -> None:
    with pytest.raises(FileFormatError, match="does not exist"):
        data.load_image(tmp_path / "missing.jpg")
    with pytest.raises(FileFormatError, match="folder"):
        data.load_image(tmp_path)
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("hello")
    with pytest.raises(FileFormatError, match=r"notes\.jpg"):
        data.load_image(bogus)
    truncated = tmp_path / "half.jpg"
    truncated.write_bytes(cat_image_path.read_bytes()[:5000])
    with pytest.raises(FileFormatError, match=r"half\.jpg"):
        data.load_image(truncated)
    with pytest.raises(FileFormatError, match="bytes"):
        data.load_image(b"\x00\x01garbage")
    with pytest.raises(InputError, match="int"):
        data.load_image(42)  # type: ignore[arg-type]
    with pytest.raises(DTypeError):
        data.load_image(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ShapeError):
        data.load_image(np.zeros((3, 5, 5), np.uint8))


def test_make_batch() -> None:
    a = np.ones((3, 4, 4), np.float32)
    b = data.make_batch([a, a * 2])
    assert b.shape == (2, 3, 4, 4) and b.flags.c_contiguous and b[1].max() == 2
    assert data.make_batch(a).shape == (1, 3, 4, 4)
    with pytest.raises(ShapeError, match="item 1"):
        data.make_batch([a, np.ones((3, 5, 4), np.float32)])
    with pytest.raises(DTypeError, match="item 1"):
        data.make_batch([a, a.astype(np.float16)])
    with pytest.raises(InputError):
        data.make_batch([])


def test_softmax() -> None:
    x = np.array([[1000.0, 1000.0, -1000.0], [0.0, np.log(3.0), 0.0]], np.float32)
    p = data.softmax(x)
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(p[1], [0.2, 0.6, 0.2], rtol=1e-6)
    with pytest.raises(DTypeError):
        data.softmax(np.array([1, 2]))


def test_topk() -> None:
    logits = np.array([[0.0, 2.0, 1.0, 3.0], [5.0, 0.0, 0.0, 0.0]], np.float32)
    preds = data.topk(logits, k=2, labels=["a", "b", "c", "d"])
    assert [[p.index for p in row] for row in preds] == [[3, 1], [0, 1]]  # tie -> lower index
    assert preds[0][0].label == "d"
    e = np.exp([0.0, 2.0, 1.0, 3.0])
    assert preds[0][0].probability == pytest.approx(e[3] / e.sum(), rel=1e-6)
    assert str(preds[0][0]).startswith("d (3): ")
    single = data.topk(logits[0], k=1)
    assert len(single) == 1 and single[0][0].label == "class 3"
    imagenet = np.zeros(1000, np.float32)
    imagenet[281] = 10
    assert data.topk(imagenet, k=1)[0][0].label == "tabby"  # 1000 classes: ImageNet names
    assert data.topk(np.zeros((1, 21), np.float32), 1, "voc")[0][0].label == "__background__"
    assert len(data.topk(logits, k=5)[0]) == 4  # k > C: all classes
    with pytest.raises(InputError, match="k must"):
        data.topk(logits, k=0)
    with pytest.raises(ShapeError):
        data.topk(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(DTypeError):
        data.topk(np.zeros((1, 3), np.int64))
    with pytest.raises(ShapeError, match="3 labels for 4"):
        data.topk(logits, labels=["a", "b", "c"])


def test_colorize_overlay_class_shares() -> None:
    cm = np.array([[0, 1], [15, 15]], np.int64)
    rgb = data.colorize(cm)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert tuple(rgb[0, 1]) == (128, 0, 0) and tuple(rgb[1, 0]) == (192, 128, 128)
    assert data.colorize(cm[None]).shape == (1, 2, 2, 3)
    with pytest.raises(InputError, match="no colour"):
        data.colorize(cm, data.voc_palette(10))
    with pytest.raises(DTypeError):
        data.colorize(cm.astype(np.float32))
    with pytest.raises(InputError, match="negative"):
        data.colorize(cm - 1)

    base = Image.new("RGB", (4, 4), (100, 100, 100))
    out = data.overlay(base, cm, alpha=0.5)  # 2x2 map resized (nearest) to 4x4
    px = np.asarray(out)
    assert out.size == (4, 4)
    assert tuple(px[0, 0]) == (100, 100, 100)  # background keeps the image
    assert tuple(px[0, 3]) == (114, 50, 50)  # 0.5 * 100 + 0.5 * (128, 0, 0)
    assert tuple(px[3, 3]) == (146, 114, 114)
    all_px = np.asarray(data.overlay(base, cm, alpha=1.0, background=None))
    assert tuple(all_px[0, 0]) == (0, 0, 0)
    with pytest.raises(InputError, match="alpha"):
        data.overlay(base, cm, alpha=2)

    shares = data.class_shares(cm)
    assert shares == {"person": 0.5, "__background__": 0.25, "aeroplane": 0.25}
    assert list(shares) == ["person", "__background__", "aeroplane"]
    assert data.class_shares(np.array([[30]]), ["x"]) == {"class 30": 1.0}
    assert data.class_shares(cm, {15: "human"})["human"] == 0.5


def test_image_bytes_roundtrip_via_buffer() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, format="PNG")
    assert data.load_image(memoryview(buf.getvalue())).getpixel((3, 3)) == (10, 20, 30)
