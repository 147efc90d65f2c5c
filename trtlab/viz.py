"""Matplotlib figures for the notebooks and widgets: predictions, segmentation, latency, throughput.

Every function returns a :class:`matplotlib.figure.Figure` built directly (never ``plt.figure``), so
nothing leaks into pyplot's global state, it works headless, and widgets can render it to PNG with
:func:`figure_to_png`. Sizes, colours and ordering are fixed: the same data gives the same figure.

Inputs are the real types: predictions are ``trtlab.data.Prediction`` objects or
``(labels, probabilities)``; benchmark results are :class:`trtlab.bench.BenchResult` objects, a
:class:`trtlab.bench.BenchTable`, or rows saved by them (read back with ``BenchResult.from_dict``),
and a histogram also takes a plain list of latencies.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trtlab.errors import DTypeError, InputError, ShapeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL.Image import Image as PILImage

    from trtlab.bench import BenchResult

__all__ = [
    "COLORS",
    "array_to_png",
    "backend_precision_bars",
    "blend_overlay",
    "figure_to_png",
    "latency_histogram",
    "latency_percentiles",
    "overlay",
    "palette_array",
    "palette_legend",
    "rgb_array",
    "segmentation_overlay",
    "throughput_vs_batch",
    "topk_bar",
]

#: Fixed series colours (matplotlib's tab10), so figures do not depend on rcParams.
COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_DPI = 100


# -- rendering -----------------------------------------------------------------------------------
def _new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure with an Agg canvas (so it renders with no display and no backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig: Figure, *, dpi: float | None = None) -> bytes:
    """PNG bytes of ``fig`` (no timestamp/version metadata, so equal figures give equal bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or _DPI, metadata={"Software": None})
    return buf.getvalue()


def array_to_png(array: np.ndarray) -> bytes:
    """PNG bytes of an ``[H, W, 3]`` (or ``[H, W]``) uint8 array, for ``ipywidgets.Image``."""
    from PIL import Image

    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise DTypeError(
            f"array_to_png expects a uint8 image, got dtype {arr.dtype}",
            hint="convert with np.clip(x, 0, 255).astype(np.uint8)",
        )
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ShapeError(
            f"array_to_png expects [H, W], [H, W, 3] or [H, W, 4], got {list(arr.shape)}",
            hint="pass one image, channels last",
        )
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG")
    return buf.getvalue()


# -- classification ------------------------------------------------------------------------------
def _prediction_lists(predictions: Any) -> tuple[list[str], list[float]]:
    """``[Prediction, ...]``, ``[[Prediction, ...]]`` (batch of 1) or ``(labels, probs)``."""
    if (
        isinstance(predictions, tuple)
        and len(predictions) == 2
        and not hasattr(predictions[0], "probability")
    ):
        labels = [str(x) for x in predictions[0]]
        probs = [float(p) for p in np.asarray(predictions[1], dtype=np.float64).reshape(-1)]
        if len(labels) != len(probs):
            raise ShapeError(
                f"topk_bar got {len(labels)} labels but {len(probs)} probabilities",
                hint="pass (labels, probabilities) of equal length",
            )
        return labels, probs
    items = list(predictions)
    if items and not hasattr(items[0], "probability") and isinstance(items[0], Sequence):
        if len(items) != 1:
            raise ShapeError(
                f"topk_bar draws one image's predictions, got a batch of {len(items)}",
                hint="pass predictions[i] for the image you want to show",
            )
        items = list(items[0])
    labels, probs = [], []
    for item in items:
        if not (hasattr(item, "label") and hasattr(item, "probability")):
            raise InputError(
                f"topk_bar expects Prediction objects (label, probability), got "
                f"{type(item).__name__}",
                hint="pass trtlab.data.topk(...)[0] or a (labels, probabilities) tuple",
            )
        labels.append(str(item.label))
        probs.append(float(item.probability))
    return labels, probs


def topk_bar(predictions: Any, *, title: str | None = None) -> Figure:
    """Horizontal bars of the top-k classes, best on top, with the probability written beside each.

    ``predictions``: a list of ``Prediction(index, label, probability)`` (one image), a batch of one
    such list, or a ``(labels, probabilities)`` tuple.
    """
    labels, probs = _prediction_lists(predictions)
    if not labels:
        raise InputError("topk_bar got no predictions", hint="pass at least one (label, prob)")
    fig = _new_figure(6.0, 0.45 * len(labels) + 1.2)
    ax = fig.add_subplot()
    ypos = np.arange(len(labels))
    ax.barh(ypos, probs, color=COLORS[0], height=0.6)
    ax.set_yticks(ypos, labels=labels)
    ax.invert_yaxis()
    ax.set_xlim(0.0, max(1.0, max(probs)) * 1.15)
    ax.set_xlabel("probability")
    for y, p in zip(ypos, probs, strict=True):
        ax.text(p + 0.01, float(y), f"{100.0 * p:.1f}%", va="center", fontsize=9)
    ax.set_title(title if title is not None else f"Top-{len(labels)} predictions")
    return fig


# -- segmentation --------------------------------------------------------------------------------
def rgb_array(image: Any) -> np.ndarray:
    """PIL image or ``[H, W, 3]`` array (uint8, or float in 0..1) -> ``[H, W, 3]`` uint8."""
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL.Image.Image
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ShapeError(
            f"expected an RGB image [H, W, 3] (or a PIL image), got shape {list(arr.shape)}",
            hint="pass the PIL image from trtlab.data.load_image, or img.convert('RGB')",
        )
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    raise DTypeError(
        f"expected a uint8 (0..255) or float (0..1) image, got dtype {arr.dtype}",
        hint="convert with np.asarray(pil_image) or x.astype(np.uint8)",
    )


def _class_map_array(class_map: Any, hw: tuple[int, int], n_classes: int) -> np.ndarray:
    """Validate a class map against the image size and the palette; drop a batch axis of 1."""
    cm = np.asarray(class_map)
    if cm.ndim == 3 and cm.shape[0] == 1:
        cm = cm[0]
    if cm.ndim != 2:
        raise ShapeError(
            f"class map must be [H, W] (or [1, H, W]), got shape {list(cm.shape)}",
            hint="take one image of the batch: outputs['classes'][0]",
        )
    if not np.issubdtype(cm.dtype, np.integer):
        raise DTypeError(
            f"class map must hold integer class ids, got dtype {cm.dtype}",
            hint="use the argmax head's 'classes' output, or logits.argmax(axis=1)",
        )
    if tuple(cm.shape) != hw:
        raise ShapeError(
            f"class map {list(cm.shape)} does not match the image {list(hw)} (H, W)",
            hint="resize the image to the model input size, or resize the class map with "
            "nearest-neighbour (PIL Image.NEAREST)",
        )
    if cm.size and (int(cm.min()) < 0 or int(cm.max()) >= n_classes):
        raise InputError(
            f"class ids must be in 0..{n_classes - 1} (palette size {n_classes}), got "
            f"{int(cm.min())}..{int(cm.max())}",
            hint="pass a palette with one colour per class",
        )
    return cm


def palette_array(palette: Any = None) -> np.ndarray:
    """``[K, 3]`` uint8 colours: ``palette`` (uint8, or float in 0..1) or the VOC palette.

    The one palette reader: overlays, legends and the segmentation explorer all use it.
    """
    if palette is None:
        from trtlab.data import voc_palette

        palette = voc_palette()
    pal = np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != 3:
        raise ShapeError(
            f"palette must be [num_classes, 3] RGB, got shape {list(pal.shape)}",
            hint="use trtlab.data.voc_palette()",
        )
    if np.issubdtype(pal.dtype, np.floating) and pal.size and float(pal.max()) <= 1.0:
        pal = np.rint(pal * 255.0)
    out: np.ndarray = np.clip(pal, 0, 255).astype(np.uint8)
    return out


def blend_overlay(
    image: Any,
    class_map: Any,
    *,
    alpha: float = 0.5,
    palette: Any = None,
    classes: Iterable[int] | None = None,
) -> np.ndarray:
    """Blend class colours over an image: ``round((1 - alpha) * pixel + alpha * palette[class])``.

    Only pixels whose class is in ``classes`` (all classes when ``None``) are tinted; the others
    keep the image colour, so unticking a class in the explorer shows the photo underneath.
    Returns ``[H, W, 3]`` uint8. Raises :class:`ShapeError` when map and image differ in size.
    """
    if not (isinstance(alpha, (int, float)) and 0.0 <= float(alpha) <= 1.0):
        raise InputError(f"alpha must be in [0, 1], got {alpha!r}", hint="e.g. alpha=0.5")
    img = rgb_array(image)
    pal = palette_array(palette)
    cm = _class_map_array(class_map, (img.shape[0], img.shape[1]), len(pal))
    colours = pal[cm].astype(np.float64)
    blended = np.rint((1.0 - float(alpha)) * img.astype(np.float64) + float(alpha) * colours)
    out: np.ndarray = np.clip(blended, 0, 255).astype(np.uint8)
    if classes is not None:
        mask = np.isin(cm, np.asarray(sorted({int(c) for c in classes}), dtype=np.int64))
        out = np.where(mask[..., None], out, img).astype(np.uint8)
    return out


def overlay(
    image: Any,
    class_map: Any,
    alpha: float = 0.5,
    *,
    palette: Any = None,
    background: int | None = 0,
) -> PILImage:
    """The coloured class map blended over ``image``, as a PIL image (the one overlay home).

    Unlike :func:`blend_overlay` it takes any image source ``trtlab.data.load_image`` reads and
    resizes the class map (nearest) to the image. Pixels of class ``background`` keep the photo
    (``None`` tints every pixel). ``trtlab.data.overlay`` is this function.
    """
    from PIL import Image

    from trtlab.data import load_image

    cm = np.asarray(class_map)
    if cm.ndim == 3:
        if cm.shape[0] != 1:
            raise ShapeError(
                f"overlay takes one class map, got a batch of {cm.shape[0]}",
                hint="pass class_map[i]",
            )
        cm = cm[0]
    if not np.issubdtype(cm.dtype, np.integer):
        raise DTypeError(
            f"class map must hold integer class ids, got dtype {cm.dtype}",
            hint="for score planes [N, C, H, W] take scores.argmax(1) first",
        )
    if cm.size and int(cm.min()) < 0:
        raise InputError(
            f"class map has negative class id {int(cm.min())}", hint="class ids start at 0"
        )
    pil = load_image(image).convert("RGB")
    if cm.ndim == 2 and (cm.shape[1], cm.shape[0]) != pil.size:
        resized = Image.fromarray(cm.astype(np.int32)).resize(pil.size, Image.Resampling.NEAREST)
        cm = np.asarray(resized).astype(np.int64)
    shown = None if background is None else [int(c) for c in np.unique(cm) if c != background]
    return Image.fromarray(blend_overlay(pil, cm, alpha=alpha, palette=palette, classes=shown))


def segmentation_overlay(
    image: Any,
    class_map: Any,
    *,
    alpha: float = 0.5,
    palette: Any = None,
    classes: Iterable[int] | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The image with its class map blended on top (see :func:`blend_overlay`).

    With ``labels`` (e.g. ``trtlab.data.voc_labels()``) a legend names the classes that are present
    and shown.
    """
    shown = None if classes is None else sorted({int(c) for c in classes})
    blended = blend_overlay(image, class_map, alpha=alpha, palette=palette, classes=shown)
    h, w = blended.shape[:2]
    width = 6.0
    extra = 2.2 if labels is not None else 0.0
    fig = _new_figure(width + extra, max(2.0, width * h / max(w, 1)))
    ax = fig.add_subplot()
    ax.imshow(blended, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title if title is not None else f"Segmentation overlay (alpha={alpha:.2f})")
    if labels is not None:
        pal = palette_array(palette)
        cm = np.asarray(class_map)
        present = [int(c) for c in np.unique(cm)]
        if shown is not None:
            present = [c for c in present if c in shown]
        _add_palette_legend(ax, labels, pal, present, outside=True)
    return fig


def _add_palette_legend(
    target: Any, labels: Sequence[str], pal: np.ndarray, ids: Sequence[int], *, outside: bool
) -> None:
    from matplotlib.patches import Patch

    handles = []
    for c in ids:
        if not 0 <= c < len(pal):
            raise InputError(
                f"class id {c} has no palette colour (palette has {len(pal)})",
                hint="pass a palette with one row per class",
            )
        name = labels[c] if c < len(labels) else f"class {c}"
        handles.append(Patch(facecolor=pal[c] / 255.0, edgecolor="black", label=name))
    if outside:
        target.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
    else:
        target.legend(handles=handles, loc="center", fontsize=9, frameon=False)


def palette_legend(
    labels: Sequence[str], palette: Any, *, present: Iterable[int] | None = None
) -> Figure:
    """A legend-only figure: one colour swatch per class (only ``present`` ones when given)."""
    pal = palette_array(palette)
    ids = list(range(min(len(labels), len(pal)))) if present is None else [int(c) for c in present]
    fig = _new_figure(2.6, 0.28 * max(len(ids), 1) + 0.4)
    # The legend sits on a hidden axes: IPython's inline display skips figures without axes.
    ax = fig.add_subplot()
    ax.set_axis_off()
    _add_palette_legend(ax, labels, pal, ids, outside=False)
    return fig


# -- benchmarks ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Row:
    name: str
    backend: str
    batch: int
    times: np.ndarray
    median: float
    p90: float  # nan when the result has too few samples for it (bench.PERCENTILE_MIN_SAMPLES)
    p99: float
    throughput: float
    precision: str | None


def _row_of(result: BenchResult) -> _Row:
    return _Row(
        name=result.name,
        backend=result.backend,
        batch=result.batch,
        times=result.times_ms,
        median=result.median,
        p90=math.nan if result.p90 is None else result.p90,
        p99=math.nan if result.p99 is None else result.p99,
        throughput=result.throughput,
        precision=result.precision,
    )


def _bench_rows(results: Any) -> list[_Row]:
    """Rows of a :class:`~trtlab.bench.BenchTable`, BenchResults or their ``to_dict()`` rows."""
    from trtlab.bench import as_results

    return [_row_of(r) for r in as_results(results)]


def _times_of(result: Any) -> tuple[np.ndarray, str]:
    from trtlab.bench import BenchResult

    if isinstance(result, BenchResult):
        row = _row_of(result)
        label = " ".join(p for p in (row.name, row.backend, f"batch {row.batch}") if p)
        return row.times, label
    if isinstance(result, (Sequence, np.ndarray)) and not isinstance(result, (str, bytes)):
        times = np.asarray(result, dtype=np.float64).reshape(-1)
        if times.size == 0:
            raise InputError("latency_histogram got no timings", hint="pass a non-empty list")
        return times, ""
    raise InputError(
        f"latency_histogram expects a BenchResult or a list of latencies (ms), got "
        f"{type(result).__name__}",
        hint="pass trtlab.bench.benchmark(...) or result.times_ms",
    )


def latency_histogram(
    result: Any, *, percentiles: Sequence[float] = (50, 90, 99), bins: int = 30
) -> Figure:
    """Histogram of per-iteration latencies with a vertical line at each percentile.

    ``result``: a BenchResult or a list of latencies in milliseconds. The lines sit at
    ``np.percentile(times_ms, p)`` and their legend says the value.
    """
    times, label = _times_of(result)
    for p in percentiles:
        if not 0 <= float(p) <= 100:
            raise InputError(f"percentile {p} is outside 0..100", hint="e.g. (50, 90, 99)")
    fig = _new_figure(6.0, 3.5)
    ax = fig.add_subplot()
    ax.hist(times, bins=bins, color=COLORS[0], alpha=0.75)
    for i, p in enumerate(percentiles):
        x = float(np.percentile(times, float(p)))
        ax.axvline(
            x, color=COLORS[(i + 1) % len(COLORS)], linestyle="--", label=f"p{p:g} = {x:.3g} ms"
        )
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("iterations")
    ax.set_title("Latency distribution" + (f" — {label}" if label else ""))
    if percentiles:
        ax.legend(fontsize=9)
    return fig


def _series_label(row: _Row) -> str:
    parts = [row.name, row.backend]
    if row.precision:
        parts.append(str(row.precision))
    return " / ".join(p for p in parts if p) or "result"


def latency_percentiles(results: Sequence[Any]) -> Figure:
    """Grouped bars of p50 / p90 / p99 latency, one group per result (name, backend, batch)."""
    rows = _bench_rows(results)
    if not rows:
        raise InputError("latency_percentiles got no results", hint="pass a list of BenchResult")
    fig = _new_figure(max(5.0, 1.2 * len(rows) + 2.0), 3.8)
    ax = fig.add_subplot()
    x = np.arange(len(rows), dtype=np.float64)
    width = 0.26
    for i, (key, attr) in enumerate((("p50", "median"), ("p90", "p90"), ("p99", "p99"))):
        ax.bar(
            x + (i - 1) * width, [getattr(r, attr) for r in rows], width, label=key, color=COLORS[i]
        )
    ax.set_xticks(x, labels=[f"{_series_label(r)}\nbatch {r.batch}" for r in rows], fontsize=8)
    ax.set_ylabel("latency (ms)")
    ax.set_title("Latency percentiles")
    ax.legend(fontsize=9)
    return fig


def throughput_vs_batch(results: Sequence[Any]) -> Figure:
    """Throughput (items/s) against batch size, one line per (name, backend, precision) series."""
    rows = _bench_rows(results)
    if not rows:
        raise InputError("throughput_vs_batch got no results", hint="pass a list of BenchResult")
    series: dict[str, list[_Row]] = {}
    for row in rows:
        series.setdefault(_series_label(row), []).append(row)
    fig = _new_figure(6.0, 3.8)
    ax = fig.add_subplot()
    batches: set[int] = set()
    for i, (label, items) in enumerate(series.items()):
        items = sorted(items, key=lambda r: r.batch)
        xs = [r.batch for r in items]
        batches.update(xs)
        ax.plot(
            xs,
            [r.throughput for r in items],
            marker="o",
            color=COLORS[i % len(COLORS)],
            label=label,
        )
    ax.set_xscale("log", base=2)
    ticks = sorted(batches)
    ax.set_xticks(ticks, labels=[str(b) for b in ticks])
    ax.set_xlabel("batch size")
    ax.set_ylabel("throughput (items/s)")
    ax.set_ylim(bottom=0)
    ax.set_title("Throughput vs batch size")
    ax.legend(fontsize=9)
    return fig


_METRICS = {
    "median": "median latency (ms)",
    "p90": "p90 latency (ms)",
    "p99": "p99 latency (ms)",
    "throughput": "throughput (items/s)",
}


def _metric_value(value: Any, metric: str) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return float(getattr(_bench_rows([value])[0], metric))


def backend_precision_bars(results: Any, *, metric: str = "median") -> Figure:
    """Grouped bars: one group per backend, one bar per precision.

    ``results``: a mapping ``{(backend, precision): number or BenchResult}``, or a list of
    BenchResults that carry ``backend`` and ``precision``. ``metric`` picks what a BenchResult
    contributes: ``median``, ``p90``, ``p99`` or ``throughput``.
    """
    if metric not in _METRICS:
        raise InputError(
            f"metric must be one of {sorted(_METRICS)}, got {metric!r}", hint="e.g. 'median'"
        )
    values: dict[tuple[str, str], float] = {}
    if isinstance(results, Mapping):
        for key, value in results.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise InputError(
                    f"keys must be (backend, precision) tuples, got {key!r}",
                    hint="e.g. {('onnxruntime', 'fp32'): 4.2}",
                )
            values[(str(key[0]), str(key[1]))] = _metric_value(value, metric)
    else:
        for row in _bench_rows(results):
            values[(row.backend or "?", str(row.precision or "fp32"))] = float(getattr(row, metric))
    if not values:
        raise InputError("backend_precision_bars got no values", hint="pass at least one entry")
    backends = list(dict.fromkeys(k[0] for k in values))
    precisions = list(dict.fromkeys(k[1] for k in values))
    fig = _new_figure(max(5.0, 1.6 * len(backends) + 2.0), 3.8)
    ax = fig.add_subplot()
    x = np.arange(len(backends), dtype=np.float64)
    width = 0.8 / len(precisions)
    for i, prec in enumerate(precisions):
        heights = [values.get((b, prec), math.nan) for b in backends]
        ax.bar(
            x + (i - (len(precisions) - 1) / 2) * width,
            heights,
            width,
            label=prec,
            color=COLORS[i % len(COLORS)],
        )
    ax.set_xticks(x, labels=backends)
    ax.set_ylabel(_METRICS[metric])
    ax.set_title(f"{_METRICS[metric]} by backend and precision")
    ax.legend(title="precision", fontsize=9)
    return fig
