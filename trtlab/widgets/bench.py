"""BenchmarkPanel: run a batch-size sweep and watch the chart and table fill in, result by result.

A thin layer over :func:`trtlab.bench.sweep` (injectable as ``sweep_fn``): its ``callback`` appends
each :class:`~trtlab.bench.BenchResult` to ``results``, which redraws
:func:`trtlab.viz.throughput_vs_batch` (or :func:`trtlab.viz.latency_percentiles`) and the table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as W
from traitlets import Any as AnyTrait
from traitlets import Bool, List, Unicode, observe, validate

from trtlab.errors import InputError
from trtlab.widgets._common import WidgetBase, describe_exception, esc, note_html, table_html

if TYPE_CHECKING:
    from trtlab.bench import BenchResult

CHARTS = ("throughput", "latency")


def _default_sweep(subject: Any) -> Callable[..., Any]:
    from trtlab.bench import sweep

    return functools.partial(sweep, subject)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def result_row(result: BenchResult) -> tuple[Any, ...]:
    """One table row: name, backend, device, batch, median/p90/p99 (ms), throughput (items/s).

    p90/p99 read "n/a" when the result has too few samples for them (see ``trtlab.bench``).
    """
    return (
        result.name,
        result.backend,
        result.device,
        result.batch,
        f"{result.median:.2f}",
        _ms(result.p90),
        _ms(result.p99),
        f"{result.throughput:.1f}",
    )


class BenchmarkPanel(WidgetBase):
    """Batch sizes, iterations and a Run button; a live chart and a results table.

    ``sweep_fn(batches=[...], callback=f, iterations=n)`` must call ``f(result)`` after each
    batch size (as :func:`trtlab.bench.sweep` does). Pass ``runner=`` instead to sweep that runner
    with the default :func:`trtlab.bench.sweep`.
    """

    results: List[Any] = List(help="BenchResults received so far (in arrival order)")
    running = Bool(False, help="True while a sweep runs")
    chart = Unicode("throughput", help="'throughput' (vs batch) or 'latency' (percentiles)")
    chart_png = AnyTrait(b"", help="PNG bytes of the current chart")

    def __init__(
        self,
        sweep_fn: Callable[..., Any] | None = None,
        *,
        runner: Any = None,
        batches: Sequence[int] = (1, 2, 4, 8),
        iterations: int | None = None,
        chart: str = "throughput",
    ) -> None:
        super().__init__()
        if sweep_fn is None:
            if runner is None:
                raise InputError(
                    "BenchmarkPanel needs sweep_fn= or runner=",
                    hint="e.g. BenchmarkPanel(runner=trtlab.runner('resnet50.onnx'))",
                )
            sweep_fn = _default_sweep(runner)
        self._sweep_fn = sweep_fn
        self.figure: Any = None
        self.batches_input = W.Text(value=", ".join(str(b) for b in batches), description="batches")
        self.iterations_input = W.BoundedIntText(
            value=iterations or 0,
            min=0,
            max=100_000,
            description="iterations",
            tooltip="0: trtlab's default (fewer in TRTLAB_QUICK mode)",
        )
        self.chart_dd = W.Dropdown(options=list(CHARTS), value=chart, description="chart")
        self.run_button = W.Button(description="Run sweep", icon="play", button_style="primary")
        self.run_button.on_click(lambda _b: self.run())
        self.progress = W.IntProgress(value=0, min=0, max=len(batches), description="0/0")
        self.chart_image = W.Image(format="png", layout=W.Layout(max_width="640px"))
        self.table = W.HTML()
        self.widget = W.VBox(
            [
                W.HBox([self.batches_input, self.iterations_input]),
                W.HBox([self.chart_dd, self.run_button, self.progress]),
                self.error_box,
                self.status_box,
                self.chart_image,
                self.table,
            ]
        )
        self.chart_dd.observe(lambda c: setattr(self, "chart", c["new"]), names="value")
        self.chart = chart

    def parse_batches(self) -> list[int]:
        """Batch sizes from the text box (``"1, 2, 4"``); raises :class:`InputError` when bad."""
        text = self.batches_input.value.replace(";", ",")
        try:
            batches = [int(p) for p in text.replace(" ", ",").split(",") if p.strip()]
        except ValueError as exc:
            raise InputError(
                f"batches must be whole numbers separated by commas, got {text!r}",
                hint="e.g. 1, 2, 4, 8",
            ) from exc
        if not batches or min(batches) < 1:
            raise InputError(f"batches must be >= 1, got {text!r}", hint="e.g. 1, 2, 4, 8")
        return batches

    def run(self) -> list[Any]:
        """Run the sweep now; the chart and table update as each result arrives."""
        try:
            batches = self.parse_batches()
        except InputError as exc:
            self.error = describe_exception(exc)
            return []
        self.error = ""
        self.results = []
        self.progress.max, self.progress.value = len(batches), 0
        self.progress.description = f"0/{len(batches)}"
        kwargs: dict[str, Any] = {"batches": batches, "callback": self.add_result}
        if self.iterations_input.value:
            kwargs["iterations"] = int(self.iterations_input.value)
        self.running = True
        try:
            returned = self._sweep_fn(**kwargs)
        except Exception as exc:  # shown in the widget; results so far stay visible
            self.error = describe_exception(exc)
            return list(self.results)
        finally:
            self.running = False
        if not self.results and returned:  # a sweep function that ignored the callback
            for result in returned:
                self.add_result(result)
        return list(self.results)

    def add_result(self, result: Any) -> None:
        """The sweep callback: append ``result`` and redraw (also usable by hand).

        ``result`` is a :class:`~trtlab.bench.BenchResult` (or its ``to_dict()`` row, read with
        ``BenchResult.from_dict``); anything else is shown as an error.
        """
        from trtlab.bench import as_results

        try:
            (converted,) = as_results([result])
        except InputError as exc:
            self.error = describe_exception(exc)
            return
        self.results = [*self.results, converted]

    # -- observers -------------------------------------------------------------------------------
    @observe("results", "chart")
    def _render(self, _change: Mapping[str, Any]) -> None:
        if self.chart_dd.value != self.chart:
            self.chart_dd.value = self.chart
        n = len(self.results)
        self.progress.value = min(n, self.progress.max)
        self.progress.description = f"{n}/{self.progress.max}"
        if not self.results:
            self.figure, self.chart_png, self.table.value = None, b"", ""
            self.chart_image.value = b""
            return
        from trtlab.viz import figure_to_png, latency_percentiles, throughput_vs_batch

        try:
            draw = throughput_vs_batch if self.chart == "throughput" else latency_percentiles
            self.figure = draw(self.results)
            self.chart_png = figure_to_png(self.figure)
        except Exception as exc:
            self.error = describe_exception(exc)
            return
        self.chart_image.value = self.chart_png
        self.table.value = table_html(
            ["name", "backend", "device", "batch", "median ms", "p90 ms", "p99 ms", "items/s"],
            [result_row(r) for r in self.results],
        )
        last = self.results[-1]
        self.status_box.value = note_html(
            esc(f"{n} result(s); last: batch {last.batch} on {last.backend} / {last.device}")
        )

    @observe("running")
    def _on_running(self, change: Mapping[str, Any]) -> None:
        self.run_button.disabled = bool(change["new"])
        self.run_button.description = "Running..." if change["new"] else "Run sweep"

    @validate("chart")
    def _check_chart(self, proposal: Mapping[str, Any]) -> str:
        value = str(proposal["value"])
        if value not in CHARTS:
            raise InputError(f"chart must be one of {CHARTS}, got {value!r}", hint="'throughput'")
        return value
