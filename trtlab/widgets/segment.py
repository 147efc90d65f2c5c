"""SegmentationExplorer: class map over the image, opacity slider, per-class toggles, pixel shares.

A thin layer over a segmentation function (or runner), :func:`trtlab.viz.blend_overlay` and a pixel
count. Only classes present in the map get a toggle; each toggle carries the class colour and its
VOC name, so the toggles are also the legend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as W
import numpy as np
from traitlets import Any as AnyTrait
from traitlets import Dict, Float, List, link, observe, validate

from trtlab.errors import InputError, ShapeError
from trtlab.widgets._common import (
    WidgetBase,
    describe_exception,
    esc,
    table_html,
)
from trtlab.widgets.classify import first_output, is_runner
from trtlab.widgets.images import ImagePicker


def default_preprocess(image: Any) -> np.ndarray:
    """Segmentation preprocessing with a batch axis: ``[1, 3, H, W]`` float32."""
    from trtlab.data import preprocess_segmentation

    x = np.asarray(preprocess_segmentation(image))
    return x[None] if x.ndim == 3 else x


def resize_nearest(class_map: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of an ``[h, w]`` class map (class ids must not be interpolated)."""
    cm = np.asarray(class_map)
    h, w = cm.shape
    if (h, w) == (height, width):
        return cm
    rows = np.minimum((np.arange(height) * h) // height, h - 1)
    cols = np.minimum((np.arange(width) * w) // width, w - 1)
    out: np.ndarray = cm[rows[:, None], cols[None, :]]
    return out


def pixel_shares(class_map: np.ndarray) -> dict[int, float]:
    """``{class_id: fraction of pixels}`` for the classes present, largest first."""
    cm = np.asarray(class_map).reshape(-1)
    if cm.size == 0:
        return {}
    counts = np.bincount(cm.astype(np.int64))
    present = np.nonzero(counts)[0]
    order = sorted(present.tolist(), key=lambda c: (-int(counts[c]), int(c)))
    return {int(c): float(counts[c]) / cm.size for c in order}


def _runner_class_map_fn(
    runner: Any, preprocess: Callable[[Any], np.ndarray]
) -> Callable[[Any], np.ndarray]:
    def class_map(image: Any) -> np.ndarray:
        outputs = runner(preprocess(image))
        cm = first_output(outputs, ("classes", "output"))
        if cm.ndim == 4:  # raw logits [N, C, H, W] from a model without the argmax head
            cm = cm.argmax(axis=1)
        return cm

    return class_map


def _default_labels() -> list[str]:
    from trtlab.data import voc_labels

    return list(voc_labels())


class SegmentationExplorer(WidgetBase):
    """Explore a segmentation: overlay, opacity, which classes are tinted, and how much of each.

    ``runner_or_class_map_fn``: a runner whose output is the ``classes`` map ``[1, H, W]`` (or
    logits ``[1, C, H, W]``), or a function ``image -> [H, W]`` class ids. A map at the model's
    input size is resized (nearest) to the image. Class ``background`` (VOC: 0) starts unticked,
    so the photo shows through around the objects (like :func:`trtlab.data.overlay`); ``None``
    tints every class.
    """

    image = AnyTrait(None, allow_none=True, help="RGB PIL image being explored")
    class_map = AnyTrait(None, allow_none=True, help="[H, W] int class ids at the image size")
    alpha = Float(0.5, help="overlay opacity, 0..1")
    present: List[int] = List(help="class ids present in the map")
    shown: List[int] = List(help="class ids tinted in the overlay")
    shares: Dict[int, float] = Dict(help="{class_id: pixel fraction}")
    overlay_png = AnyTrait(b"", help="PNG bytes of the current overlay")

    def __init__(
        self,
        runner_or_class_map_fn: Any,
        *,
        image: Any = None,
        picker: ImagePicker | bool = True,
        images: Mapping[str, Any] | Sequence[Any] | None = None,
        labels: Sequence[str] | None = None,
        palette: Any = None,
        preprocess: Callable[[Any], np.ndarray] | None = None,
        alpha: float = 0.5,
        background: int | None = 0,
    ) -> None:
        super().__init__()
        self.background = background
        self.labels = list(labels) if labels is not None else _default_labels()
        from trtlab.viz import palette_array

        self.palette = palette_array(palette)  # the one palette reader (VOC by default)
        self._runner = runner_or_class_map_fn if is_runner(runner_or_class_map_fn) else None
        if self._runner is not None:
            self._class_map_fn = _runner_class_map_fn(
                self._runner, preprocess or default_preprocess
            )
        elif callable(runner_or_class_map_fn):
            self._class_map_fn = runner_or_class_map_fn
        else:
            raise InputError(
                "SegmentationExplorer needs a runner or a function image -> class map, got "
                f"{type(runner_or_class_map_fn).__name__}",
                hint="e.g. SegmentationExplorer(trtlab.runner('fcn.onnx'))",
            )
        self.opacity = W.FloatSlider(
            value=alpha, min=0.0, max=1.0, step=0.05, description="opacity", readout_format=".2f"
        )
        link((self.opacity, "value"), (self, "alpha"))
        self.overlay = W.Image(format="png", layout=W.Layout(max_width="640px"))
        self.toggle_box = W.VBox()
        self.toggles: dict[int, W.Checkbox] = {}
        self.share_table = W.HTML()
        self.all_button = W.Button(description="all", layout=W.Layout(width="60px"))
        self.none_button = W.Button(description="none", layout=W.Layout(width="60px"))
        self.all_button.on_click(lambda _b: setattr(self, "shown", list(self.present)))
        self.none_button.on_click(lambda _b: setattr(self, "shown", []))
        side = W.VBox(
            [
                W.HTML("<b>classes</b> (tick to tint)"),
                W.HBox([self.all_button, self.none_button]),
                self.toggle_box,
                self.share_table,
            ]
        )
        children: list[W.Widget] = []
        self.picker: ImagePicker | None = None
        if isinstance(picker, ImagePicker):
            self.picker = picker
        elif picker and image is None:
            self.picker = ImagePicker(images)
        if self.picker is not None:
            children.append(self.picker.widget)
            self.picker.observe(lambda c: self.set_image(c["new"]), names="image")
        children += [
            self.opacity,
            self.error_box,
            self.status_box,
            # flex-start: otherwise the row stretches the image to the legend's height
            W.HBox([self.overlay, side], layout=W.Layout(align_items="flex-start")),
        ]
        self.widget = W.VBox(children)
        start = image if image is not None else (self.picker.image if self.picker else None)
        if start is not None:
            self.set_image(start)

    # -- actions -------------------------------------------------------------------------------
    def set_image(self, image: Any) -> None:
        """Segment ``image`` and show it (errors appear in the widget)."""
        if image is None:
            return
        try:
            from trtlab.viz import rgb_array

            rgb = rgb_array(image)
            cm = np.asarray(self._class_map_fn(image))
            if cm.ndim == 3 and cm.shape[0] == 1:
                cm = cm[0]
            if cm.ndim != 2 or not np.issubdtype(cm.dtype, np.integer):
                raise ShapeError(
                    f"the segmentation must give an integer [H, W] class map, got "
                    f"{cm.dtype} {list(cm.shape)}",
                    hint="use the model with the argmax head (output 'classes')",
                )
            cm = resize_nearest(cm, rgb.shape[0], rgb.shape[1])
        except Exception as exc:  # shown in the widget instead of a traceback
            self.error = describe_exception(exc)
            return
        self.error = ""
        if self._runner is not None:
            self.status = (
                f"Class map from backend=<b>{esc(getattr(self._runner, 'backend', '?'))}</b> "
                f"device=<b>{esc(getattr(self._runner, 'device', '?'))}</b>"
            )
        with self.hold_trait_notifications():
            self.image = image
            self.class_map = cm

    def overlay_array(self) -> np.ndarray:
        """The current overlay as ``[H, W, 3]`` uint8 (what ``overlay_png`` encodes)."""
        from trtlab.viz import blend_overlay

        return blend_overlay(
            self.image, self.class_map, alpha=self.alpha, palette=self.palette, classes=self.shown
        )

    def figure(self) -> Any:
        """The current view as a matplotlib figure (for saving or a static notebook output)."""
        from trtlab.viz import segmentation_overlay

        return segmentation_overlay(
            self.image,
            self.class_map,
            alpha=self.alpha,
            palette=self.palette,
            classes=self.shown,
            labels=self.labels,
        )

    # -- observers -----------------------------------------------------------------------------
    @validate("alpha")
    def _check_alpha(self, proposal: Mapping[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:
            raise InputError(f"alpha must be in [0, 1], got {value}", hint="e.g. 0.5")
        return value

    @observe("class_map")
    def _on_class_map(self, change: Mapping[str, Any]) -> None:
        cm = change["new"]
        if cm is None:
            return
        self.shares = pixel_shares(cm)
        present = sorted(self.shares)
        self._build_toggles(present)
        with self.hold_trait_notifications():
            self.present = present
            self.shown = [c for c in present if c != self.background]
        self._render()
        self._render_table()

    @observe("alpha", "image")
    def _on_view_change(self, _change: Mapping[str, Any]) -> None:
        self._render()

    @observe("shown")
    def _on_shown(self, change: Mapping[str, Any]) -> None:
        shown = set(change["new"])
        for cid, box in self.toggles.items():
            if box.value != (cid in shown):
                box.value = cid in shown
        self._render()

    # -- rendering -----------------------------------------------------------------------------
    def _name(self, cid: int) -> str:
        return self.labels[cid] if 0 <= cid < len(self.labels) else f"class {cid}"

    def _swatch(self, cid: int) -> str:
        r, g, b = (int(v) for v in self.palette[cid]) if cid < len(self.palette) else (0, 0, 0)
        return (
            f'<span style="display:inline-block;width:14px;height:14px;margin-top:6px;'
            f'background:rgb({r},{g},{b});border:1px solid #333"></span>'
        )

    def _build_toggles(self, present: list[int]) -> None:
        self.toggles = {}
        rows = []
        for cid in present:
            box = W.Checkbox(
                value=cid != self.background, description=self._name(cid), indent=False
            )
            box.observe(lambda c, cid=cid: self._on_toggle(cid, bool(c["new"])), names="value")
            self.toggles[cid] = box
            rows.append(W.HBox([W.HTML(self._swatch(cid)), box]))
        self.toggle_box.children = rows

    def _on_toggle(self, cid: int, on: bool) -> None:
        shown = [c for c in self.shown if c != cid]
        if on:
            shown.append(cid)
        if sorted(shown) != sorted(self.shown):
            self.shown = sorted(shown)

    def _render(self) -> None:
        if self.image is None or self.class_map is None:
            return
        from trtlab.viz import array_to_png

        try:
            self.overlay_png = array_to_png(self.overlay_array())
        except Exception as exc:
            self.error = describe_exception(exc)
            return
        self.overlay.value = self.overlay_png

    def _render_table(self) -> None:
        total = int(np.asarray(self.class_map).size)
        rows = [
            (self._swatch(cid), cid, self._name(cid), round(share * total), f"{100 * share:.1f}%")
            for cid, share in self.shares.items()
        ]
        self.share_table.value = table_html(
            ["", "id", "class", "pixels", "share"], rows, raw_columns=(0,)
        )
