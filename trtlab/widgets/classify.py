"""ClassifierDemo: pick an image, run a classifier, see the top-k chart and where it ran.

The demo is a thin layer over :func:`trtlab.data.preprocess_imagenet`, a runner and
:func:`trtlab.data.topk`; the chart is :func:`trtlab.viz.topk_bar` rendered to PNG. Every result
says which backend and device produced it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as W
import numpy as np
from traitlets import Any as AnyTrait
from traitlets import Float, List, Unicode, observe

from trtlab.errors import InputError
from trtlab.widgets._common import (
    WidgetBase,
    describe_exception,
    esc,
)
from trtlab.widgets.build import PRECISIONS as BUILD_PRECISIONS
from trtlab.widgets.images import ImagePicker

#: Precisions each backend offers in the dropdown: TensorRT builds one engine per precision (the
#: BuildPanel's choices, derived from trtlab.trt.precision.PRECISIONS); the others run FP32.
DEFAULT_PRECISIONS: dict[str, tuple[str, ...]] = {
    "torch": ("fp32",),
    "onnxruntime": ("fp32",),
    "tensorrt": BUILD_PRECISIONS,
}

RunnerFactory = Callable[[str, str], Any]


def is_runner(obj: Any) -> bool:
    """A runner is callable and says its backend; a factory is a bare callable."""
    return callable(obj) and hasattr(obj, "backend") and not isinstance(obj, type)


def _source_factory(source: str | os.PathLike[str]) -> RunnerFactory:
    """Factory for a model path/name: ``trtlab.runners.runner(source, backend=...)``."""

    def make(backend: str, precision: str) -> Any:
        from trtlab.runners import runner

        kwargs: dict[str, Any] = {}
        if backend == "tensorrt" and precision != "fp32":
            kwargs["precision"] = precision
        return runner(source, backend=backend, **kwargs)

    return make


def _available_backends(source: Any) -> list[str]:
    from trtlab.runners import available_backends

    found = list(available_backends())
    if isinstance(source, (str, os.PathLike)) and str(source).endswith((".onnx", ".engine")):
        found = [b for b in found if b != "torch"]
    return found


def default_preprocess(image: Any) -> np.ndarray:
    """ImageNet preprocessing with a batch axis: ``[1, 3, 224, 224]`` float32."""
    from trtlab.data import preprocess_imagenet

    x = np.asarray(preprocess_imagenet(image))
    return x[None] if x.ndim == 3 else x


def first_output(outputs: Any, preferred: Sequence[str] = ()) -> np.ndarray:
    """The output array a demo shows: ``preferred`` names first, else the first output."""
    if isinstance(outputs, Mapping):
        if not outputs:
            raise InputError("the runner returned no outputs", hint="check the model's outputs")
        for name in preferred:
            if name in outputs:
                return np.asarray(outputs[name])
        return np.asarray(next(iter(outputs.values())))
    return np.asarray(outputs)


def predict_topk(logits: np.ndarray, k: int, labels: Sequence[str] | None) -> list[Any]:
    """Top-k ``Prediction``s of the first image (adapter over ``trtlab.data.topk``)."""
    from trtlab.data import topk

    rows = topk(np.asarray(logits), k, labels)
    return list(rows[0])


class ClassifierDemo(WidgetBase):
    """Image picker + classifier + top-k chart.

    ``runner_or_factory``: a runner (anything callable with a ``backend`` attribute, e.g.
    ``trtlab.runner("resnet50.onnx")``), a factory ``(backend, precision) -> runner``, or a model
    path/name handed to :func:`trtlab.runners.runner`. The backend dropdown lists only backends
    this machine has (or the runner's own backend).
    """

    backend = Unicode("", help="backend used for the next run")
    precision = Unicode("fp32", help="precision used for the next run (TensorRT only)")
    predictions: List[Any] = List(help="top-k Predictions of the last run")
    latency_ms = Float(0.0, help="inference time of the last run (ms)")
    chart_png = AnyTrait(b"", help="PNG bytes of the top-k chart")

    def __init__(
        self,
        runner_or_factory: Any = None,
        *,
        picker: ImagePicker | None = None,
        images: Mapping[str, Any] | Sequence[Any] | None = None,
        labels: Sequence[str] | None = None,
        k: int = 5,
        preprocess: Callable[[Any], np.ndarray] | None = None,
        backends: Sequence[str] | None = None,
        precisions: Mapping[str, Sequence[str]] | None = None,
        output_names: Sequence[str] = ("logits", "output"),
        auto_run: bool = True,
    ) -> None:
        super().__init__()
        if runner_or_factory is None:
            runner_or_factory = "resnet50"
        if k < 1:
            raise InputError(f"k must be >= 1, got {k}", hint="e.g. k=5")
        self.k = int(k)
        self.output_names = tuple(output_names)
        self._labels = labels
        self._preprocess = preprocess or default_preprocess
        self._runners: dict[tuple[str, str], Any] = {}
        self._owned: list[Any] = []  # runners made by the factory: closed by close()
        self._precisions = {b: tuple(p) for b, p in (precisions or DEFAULT_PRECISIONS).items()}
        if is_runner(runner_or_factory):
            self._factory: RunnerFactory | None = None
            fixed = str(runner_or_factory.backend)
            # a fixed runner has one precision: its own when it says (a TensorRT engine may be fp16)
            own = str(getattr(runner_or_factory, "precision", None) or "fp32")
            self._runners[(fixed, own)] = runner_or_factory
            options = [fixed]
            self._precisions = {fixed: (own,)}
        elif callable(runner_or_factory):
            self._factory = runner_or_factory
            options = list(backends) if backends is not None else _available_backends(None)
        elif isinstance(runner_or_factory, (str, os.PathLike)):
            self._factory = _source_factory(runner_or_factory)
            options = (
                list(backends) if backends is not None else _available_backends(runner_or_factory)
            )
        else:
            raise InputError(
                f"ClassifierDemo needs a runner, a factory (backend, precision) -> runner, or a "
                f"model path; got {type(runner_or_factory).__name__}",
                hint="e.g. ClassifierDemo(trtlab.runner('resnet50.onnx'))",
            )
        if not options:
            raise InputError(
                "no backend is available to run the classifier",
                hint="pip install onnxruntime (CPU) — `trtlab doctor` lists what is missing",
            )
        self.picker = picker or ImagePicker(images)
        self.backend_dd = W.Dropdown(options=options, value=options[0], description="backend")
        self.precision_dd = W.Dropdown(description="precision")
        self.run_button = W.Button(description="Classify", icon="play", button_style="primary")
        self.run_button.on_click(lambda _b: self.run())
        self.chart = W.Image(format="png", layout=W.Layout(max_width="600px"))
        self.widget = W.VBox(
            [
                self.picker.widget,
                W.HBox([self.backend_dd, self.precision_dd, self.run_button]),
                self.error_box,
                self.status_box,
                self.chart,
            ]
        )
        self._auto = False
        self.backend_dd.observe(lambda c: setattr(self, "backend", c["new"]), names="value")
        self.precision_dd.observe(
            lambda c: setattr(self, "precision", c["new"] or "fp32"), names="value"
        )
        self.backend = options[0]
        self._update_precisions()
        self._auto = auto_run
        self.picker.observe(self._on_image, names="image")
        if auto_run and self.picker.image is not None:
            self.run()

    # -- runners -----------------------------------------------------------------------------
    @property
    def labels(self) -> Sequence[str] | None:
        return self._labels

    def get_runner(self) -> Any:
        """The runner for the current backend/precision (made once by the factory, then reused)."""
        key = (self.backend, self.precision)
        if key not in self._runners:
            if self._factory is None:
                raise InputError(
                    f"this demo has one fixed runner; backend/precision {key} is not available",
                    hint="pass a factory (backend, precision) -> runner to switch backends",
                )
            self._runners[key] = self._factory(*key)
            self._owned.append(self._runners[key])
        return self._runners[key]

    def close(self) -> None:
        """Close the runners this demo made (not one passed in) and the widget tree."""
        from trtlab._closing import Closeable

        owned, self._owned = self._owned, []
        for made in owned:
            if isinstance(made, Closeable):
                made.close()
        self._runners = {k: r for k, r in self._runners.items() if r not in owned}
        super().close()

    # -- actions -----------------------------------------------------------------------------
    def run(self) -> list[Any]:
        """Classify the picked image; update chart, status and ``predictions``. Errors show."""
        image = self.picker.image
        if image is None:
            self.error = "choose or upload an image first"
            return []
        try:
            runner = self.get_runner()
            x = self._preprocess(image)
            start = time.perf_counter()
            outputs = runner(x)
            elapsed = (time.perf_counter() - start) * 1000.0
            logits = first_output(outputs, self.output_names)
            preds = predict_topk(logits, self.k, self._labels)
            from trtlab.viz import figure_to_png, topk_bar

            device = str(getattr(runner, "device", "?"))
            backend = str(getattr(runner, "backend", self.backend))
            fig = topk_bar(preds, title=f"{self.picker.source} — {backend} on {device}")
            png = figure_to_png(fig)
        except Exception as exc:  # shown in the widget instead of a traceback
            self.error = describe_exception(exc)
            return []
        self.error = ""
        self.latency_ms = elapsed
        self.predictions = preds
        self.chart_png = png
        top = preds[0] if preds else None
        best = f" — top-1: <b>{esc(top.label)}</b> ({100 * top.probability:.1f}%)" if top else ""
        self.status = (
            f"Result from backend=<b>{esc(backend)}</b> device=<b>{esc(device)}</b> "
            f"precision={esc(self.precision)} in {elapsed:.1f} ms{best}"
        )
        return preds

    # -- observers ---------------------------------------------------------------------------
    def _on_image(self, _change: Mapping[str, Any]) -> None:
        if self._auto:
            self.run()

    def _update_precisions(self) -> None:
        options = list(self._precisions.get(self.backend, ("fp32",)))
        keep = self.precision if self.precision in options else options[0]
        self.precision_dd.options = options
        self.precision_dd.value = keep
        self.precision_dd.disabled = len(options) == 1

    @observe("backend")
    def _on_backend(self, change: Mapping[str, Any]) -> None:
        auto, self._auto = self._auto, False  # one run per backend change, not one per dropdown
        try:
            if self.backend_dd.value != change["new"]:
                self.backend_dd.value = change["new"]
            self._update_precisions()
        finally:
            self._auto = auto
        if auto and self.picker.image is not None:
            self.run()

    @observe("precision")
    def _on_precision(self, change: Mapping[str, Any]) -> None:
        if self.precision_dd.value != change["new"]:
            self.precision_dd.value = change["new"]
        if self._auto and self.picker.image is not None and change["old"] != change["new"]:
            self.run()

    @observe("chart_png")
    def _show_chart(self, change: Mapping[str, Any]) -> None:
        self.chart.value = change["new"] or b""
