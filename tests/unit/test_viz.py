"""trtlab.viz: the figures carry the right data (bar heights, ticks, pixels, lines), headless."""

from __future__ import annotations

import subprocess
import sys
from collections import namedtuple

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from PIL import Image

from trtlab import viz
from trtlab.bench import BenchResult
from trtlab.errors import DTypeError, InputError, ShapeError

Pred = namedtuple("Pred", "index label probability")

PALETTE = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255], [10, 200, 30]], dtype=np.uint8)
LABELS = ["background", "aeroplane", "bicycle", "bird"]


def _bars(ax: object) -> list:
    return [p for c in ax.containers for p in c]  # type: ignore[attr-defined]


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    cm = np.zeros((12, 16), dtype=np.int64)
    cm[2:6, 3:9] = 1
    cm[7:11, 10:15] = 3
    return image, cm


def _result(
    name: str, backend: str, batch: int, base: float, precision: str | None = None, n: int = 120
) -> BenchResult:
    times = base + np.linspace(0.0, 1.0, n) ** 3 * base  # >= 100 samples: p99 is defined
    return BenchResult(name, backend, "cpu", batch, times, precision=precision)


# -- top-k -----------------------------------------------------------------------------------------
def test_topk_bar_heights_and_labels() -> None:
    preds = [Pred(281, "tabby", 0.61), Pred(285, "Egyptian cat", 0.2), Pred(282, "tiger cat", 0.1)]
    fig = viz.topk_bar(preds, title="cat.jpg")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    widths = [p.get_width() for p in _bars(ax)]
    assert widths == pytest.approx([0.61, 0.2, 0.1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["tabby", "Egyptian cat", "tiger cat"]
    assert ax.yaxis_inverted()  # best on top
    assert ax.get_title() == "cat.jpg"
    assert [t.get_text() for t in ax.texts] == ["61.0%", "20.0%", "10.0%"]


def test_topk_bar_accepts_tuple_and_batch_of_one() -> None:
    fig = viz.topk_bar((["a", "b"], np.array([0.7, 0.3])))
    assert [p.get_width() for p in _bars(fig.axes[0])] == pytest.approx([0.7, 0.3])
    assert fig.axes[0].get_title() == "Top-2 predictions"
    fig2 = viz.topk_bar([[Pred(1, "x", 0.9)]])
    assert [t.get_text() for t in fig2.axes[0].get_yticklabels()] == ["x"]


def test_topk_bar_errors() -> None:
    with pytest.raises(ShapeError, match="batch of 2"):
        viz.topk_bar([[Pred(1, "x", 0.9)], [Pred(2, "y", 0.8)]])
    with pytest.raises(ShapeError, match="2 labels but 3"):
        viz.topk_bar((["a", "b"], [0.1, 0.2, 0.3]))
    with pytest.raises(InputError):
        viz.topk_bar([])
    with pytest.raises(InputError, match="Prediction"):
        viz.topk_bar([0.5, 0.4])


# -- segmentation ----------------------------------------------------------------------------------
def _expected(pixel: np.ndarray, colour: np.ndarray, alpha: float) -> np.ndarray:
    return np.rint((1 - alpha) * pixel.astype(float) + alpha * colour.astype(float)).astype(
        np.uint8
    )


def test_blend_overlay_pixels(scene: tuple[np.ndarray, np.ndarray]) -> None:
    image, cm = scene
    out = viz.blend_overlay(image, cm, alpha=0.4, palette=PALETTE)
    assert out.shape == image.shape and out.dtype == np.uint8
    for y, x in [(0, 0), (3, 4), (8, 12), (11, 15)]:
        np.testing.assert_array_equal(out[y, x], _expected(image[y, x], PALETTE[cm[y, x]], 0.4))
    np.testing.assert_array_equal(viz.blend_overlay(image, cm, alpha=0.0, palette=PALETTE), image)
    np.testing.assert_array_equal(
        viz.blend_overlay(image, cm, alpha=1.0, palette=PALETTE), PALETTE[cm]
    )


def test_blend_overlay_class_subset(scene: tuple[np.ndarray, np.ndarray]) -> None:
    image, cm = scene
    out = viz.blend_overlay(image, cm, alpha=0.5, palette=PALETTE, classes=[3])
    np.testing.assert_array_equal(out[cm != 3], image[cm != 3])  # untinted: the photo
    np.testing.assert_array_equal(out[8, 12], _expected(image[8, 12], PALETTE[3], 0.5))
    assert not np.array_equal(out[cm == 3], image[cm == 3])


def test_blend_overlay_accepts_pil_and_batch_axis(scene: tuple[np.ndarray, np.ndarray]) -> None:
    image, cm = scene
    a = viz.blend_overlay(Image.fromarray(image), cm[None], alpha=0.5, palette=PALETTE)
    np.testing.assert_array_equal(a, viz.blend_overlay(image, cm, alpha=0.5, palette=PALETTE))


def test_segmentation_overlay_figure(scene: tuple[np.ndarray, np.ndarray]) -> None:
    image, cm = scene
    fig = viz.segmentation_overlay(image, cm, alpha=0.3, palette=PALETTE, labels=LABELS)
    shown = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_array_equal(shown[3, 4], _expected(image[3, 4], PALETTE[1], 0.3))
    np.testing.assert_array_equal(shown, viz.blend_overlay(image, cm, alpha=0.3, palette=PALETTE))
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["background", "aeroplane", "bird"]
    # only the toggled classes are in the legend
    fig2 = viz.segmentation_overlay(image, cm, palette=PALETTE, labels=LABELS, classes=[1])
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()] == ["aeroplane"]


def test_segmentation_overlay_errors(scene: tuple[np.ndarray, np.ndarray]) -> None:
    image, cm = scene
    with pytest.raises(ShapeError, match="does not match the image"):
        viz.segmentation_overlay(image, cm[:10], palette=PALETTE)
    with pytest.raises(ShapeError, match=r"\[H, W\]"):
        viz.blend_overlay(image, np.zeros((2, 12, 16), dtype=np.int64), palette=PALETTE)
    with pytest.raises(DTypeError, match="integer"):
        viz.blend_overlay(image, cm.astype(np.float32), palette=PALETTE)
    bad = cm.copy()
    bad[0, 0] = 7
    with pytest.raises(InputError, match=r"0\.\.3"):
        viz.blend_overlay(image, bad, palette=PALETTE)
    with pytest.raises(InputError, match="alpha"):
        viz.blend_overlay(image, cm, alpha=1.5, palette=PALETTE)
    with pytest.raises(ShapeError, match="RGB image"):
        viz.blend_overlay(image[..., 0], cm, palette=PALETTE)
    with pytest.raises(ShapeError, match="palette"):
        viz.blend_overlay(image, cm, palette=np.zeros((4, 4), dtype=np.uint8))


def test_palette_legend_entries() -> None:
    fig = viz.palette_legend(LABELS, PALETTE, present=[0, 3])
    assert len(fig.axes) == 1  # an axes-less figure would not display inline in Jupyter
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["background", "bird"]
    colours = [tuple(h.get_facecolor()[:3]) for h in legend.legend_handles]
    assert colours[1] == pytest.approx(tuple(PALETTE[3] / 255.0))
    everything = viz.palette_legend(LABELS, PALETTE)
    assert len(everything.axes[0].get_legend().get_texts()) == 4
    with pytest.raises(InputError, match="palette colour"):
        viz.palette_legend(LABELS, PALETTE, present=[9])


# -- benchmarks ------------------------------------------------------------------------------------
def test_latency_histogram_percentile_lines() -> None:
    result = _result("resnet", "onnxruntime", 1, 4.0)
    fig = viz.latency_histogram(result, percentiles=(50, 90, 99))
    ax = fig.axes[0]
    xs = [line.get_xdata()[0] for line in ax.lines]
    assert xs == pytest.approx([result.median, result.p90, result.p99])
    assert sum(p.get_height() for p in ax.patches) == result.iterations
    assert ax.get_legend().get_texts()[1].get_text() == f"p90 = {result.p90:.3g} ms"
    fig2 = viz.latency_histogram([1.0, 2.0, 3.0, 10.0], percentiles=(75,))
    assert fig2.axes[0].lines[0].get_xdata()[0] == pytest.approx(np.percentile([1, 2, 3, 10], 75))
    with pytest.raises(InputError):
        viz.latency_histogram([])
    with pytest.raises(InputError, match="outside"):
        viz.latency_histogram([1.0], percentiles=(120,))


def test_latency_percentiles_bars() -> None:
    results = [_result("m", "onnxruntime", 1, 2.0), _result("m", "torch", 1, 5.0)]
    fig = viz.latency_percentiles(results)
    heights = [p.get_height() for p in _bars(fig.axes[0])]
    expected = [r.median for r in results] + [r.p90 for r in results] + [r.p99 for r in results]
    assert heights == pytest.approx(expected)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["m / onnxruntime\nbatch 1", "m / torch\nbatch 1"]


def test_throughput_vs_batch_lines() -> None:
    results = [
        _result("m", "onnxruntime", 4, 8.0),
        _result("m", "onnxruntime", 1, 3.0),
        _result("m", "torch", 1, 6.0),
        _result("m", "torch", 4, 20.0),
    ]
    fig = viz.throughput_vs_batch(results)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["m / onnxruntime", "m / torch"]
    assert list(ax.lines[0].get_xdata()) == [1, 4]  # sorted by batch
    assert list(ax.lines[0].get_ydata()) == pytest.approx(
        [results[1].throughput, results[0].throughput]
    )
    assert list(ax.lines[1].get_ydata()) == pytest.approx(
        [results[2].throughput, results[3].throughput]
    )
    assert results[2].throughput == pytest.approx(1000.0 / results[2].median)
    # to_dict() rows work too
    fig2 = viz.throughput_vs_batch([r.to_dict() for r in results])
    assert list(fig2.axes[0].lines[1].get_ydata()) == pytest.approx(
        [results[2].throughput, results[3].throughput]
    )


def test_backend_precision_bars() -> None:
    values = {("onnxruntime", "fp32"): 4.0, ("tensorrt", "fp32"): 2.0, ("tensorrt", "fp16"): 1.0}
    fig = viz.backend_precision_bars(values)
    ax = fig.axes[0]
    heights = [p.get_height() for p in _bars(ax)]
    # precision fp32 bars first (onnxruntime, tensorrt), then fp16 (onnxruntime missing -> nan)
    assert heights[:2] == pytest.approx([4.0, 2.0])
    assert np.isnan(heights[2]) and heights[3] == pytest.approx(1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["onnxruntime", "tensorrt"]
    assert ax.get_ylabel() == "median latency (ms)"
    r32 = _result("m", "tensorrt", 8, 4.0, precision="fp32")
    r16 = _result("m", "tensorrt", 8, 2.0, precision="fp16")
    fig2 = viz.backend_precision_bars([r32, r16], metric="throughput")
    heights2 = [p.get_height() for p in _bars(fig2.axes[0])]
    assert heights2 == pytest.approx([r32.throughput, r16.throughput])
    assert fig2.axes[0].get_legend().get_texts()[1].get_text() == "fp16"
    fig3 = viz.backend_precision_bars({("tensorrt", "fp16"): r16}, metric="p99")
    assert _bars(fig3.axes[0])[0].get_height() == pytest.approx(r16.p99)
    with pytest.raises(InputError, match="metric"):
        viz.backend_precision_bars(values, metric="mean")
    with pytest.raises(InputError, match="tuples"):
        viz.backend_precision_bars({"tensorrt": 1.0})


# -- rendering -------------------------------------------------------------------------------------
def test_png_rendering_is_deterministic_and_pyplot_free() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    a = viz.figure_to_png(viz.topk_bar((["a", "b"], [0.6, 0.4])))
    b = viz.figure_to_png(viz.topk_bar((["a", "b"], [0.6, 0.4])))
    c = viz.figure_to_png(viz.topk_bar((["a", "b"], [0.5, 0.5])))
    assert a.startswith(b"\x89PNG") and a == b and a != c
    assert plt.get_fignums() == before
    assert (
        to_rgb(viz.COLORS[0]) == viz.topk_bar((["a"], [1.0])).axes[0].patches[0].get_facecolor()[:3]
    )


def test_array_to_png_roundtrip() -> None:
    arr = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    import io

    back = np.asarray(Image.open(io.BytesIO(viz.array_to_png(arr))))
    np.testing.assert_array_equal(back, arr)
    with pytest.raises(DTypeError):
        viz.array_to_png(arr.astype(np.float32))


def test_import_is_lazy() -> None:
    code = (
        "import sys, trtlab, trtlab.viz; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'; "
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_benchmark_figures_take_tables_and_skip_undefined_percentiles() -> None:
    from trtlab.bench import BenchTable

    few = _result("m", "onnxruntime", 1, 2.0, n=5)  # 5 samples: no p90/p99
    assert few.p90 is None and few.p99 is None
    fig = viz.latency_percentiles(BenchTable([few], context={}))
    heights = [p.get_height() for p in _bars(fig.axes[0])]
    assert heights[0] == pytest.approx(few.median)
    assert np.isnan(heights[1]) and np.isnan(heights[2])  # no bar rather than a made-up p99
    with pytest.raises(InputError, match="BenchResult"):
        viz.throughput_vs_batch([object()])
    with pytest.raises(InputError, match="BenchResult"):
        viz.latency_histogram(object())


def test_one_overlay_and_one_palette_home(scene: tuple[np.ndarray, np.ndarray]) -> None:
    from trtlab import data

    assert data.overlay is viz.overlay  # the re-export, not a second implementation
    image, cm = scene
    pil = viz.overlay(image, cm, alpha=0.4, palette=PALETTE, background=None)
    np.testing.assert_array_equal(
        np.asarray(pil), viz.blend_overlay(image, cm, alpha=0.4, palette=PALETTE)
    )
    kept = np.asarray(viz.overlay(image, cm, alpha=0.4, palette=PALETTE))  # background 0 untinted
    np.testing.assert_array_equal(kept[cm == 0], image[cm == 0])
    np.testing.assert_array_equal(viz.palette_array(None), data.voc_palette())
    assert viz.palette_array(np.array([[0.0, 0.5, 1.0]])).tolist() == [[0, 128, 255]]
    with pytest.raises(ShapeError, match="batch of 2"):
        viz.overlay(image, np.stack([cm, cm]))
