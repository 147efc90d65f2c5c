"""BuildPanel: the TensorRT engine build as a form: precision, batch profile, workspace, Build.

A thin layer over :func:`trtlab.trt.build.build_engine` (injectable as ``build_fn``): its
``progress`` callback receives :class:`~trtlab.trt.progress.ProgressEvent` objects that move the
progress bar; the returned result fills the summary (engine size, build time, cache hit) and log.
Where TensorRT cannot build (no package, no GPU) the panel says why and stays disabled.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, Int, Unicode, observe

from trtlab.errors import InputError, TrtlabError
from trtlab.trt import precision as trt_precision
from trtlab.widgets._common import WidgetBase, describe_exception, esc, note_html, table_html

if TYPE_CHECKING:
    from trtlab.trt.build import BuildResult
    from trtlab.trt.profiles import Profile
    from trtlab.trt.progress import ProgressEvent

#: The dropdown's choices, from the one list in trtlab.trt.precision: the number formats, without
#: tf32 (FP32 storage with TF32 math; still available as build_engine(precision="tf32")).
PRECISIONS: tuple[str, ...] = tuple(p for p in trt_precision.PRECISIONS if p != "tf32")

EXPLANATION = (
    "<b>Build a TensorRT engine</b> from the ONNX file. <i>precision</i>: which number formats "
    "TensorRT may use (fp16/bf16 are faster on tensor cores, slightly less exact); "
    "<i>profile</i>: the smallest, typical and largest batch the engine must accept (TensorRT "
    "tunes kernels for <i>opt</i>); <i>workspace</i>: scratch memory the builder may use to try "
    "faster tactics. Engines are cached: the same ONNX file and settings rebuild instantly."
)


def tensorrt_status() -> tuple[bool, str]:
    """``(can_build, reason)``, decided by :func:`trtlab.capabilities.probe` (one home)."""
    from trtlab import capabilities

    caps = capabilities.probe()
    if caps.can_build_engines():
        return True, ""
    if not caps.tensorrt_full:
        return False, (
            "TensorRT (the full package with the builder) is not installed here, so engines "
            "cannot be built on this machine. The notebooks use ONNX Runtime instead. To build "
            "engines, run on a machine with an NVIDIA GPU and TensorRT (NVIDIA's TensorRT "
            "container, or pip install tensorrt) — `trtlab doctor` shows what is missing."
        )
    if not caps.gpu:
        return False, (
            "TensorRT is installed but no CUDA GPU is visible: TensorRT builds engines for a "
            "specific GPU, so building needs one. `trtlab doctor` shows the driver status."
        )
    return False, (
        "TensorRT and a GPU are here, but cuda-python is not installed: trtlab moves engine "
        "inputs and outputs through it. Install it with pip install 'trtlab[gpu]'."
    )


def _default_build_fn() -> Callable[..., Any]:
    from trtlab.trt.build import build_engine

    fn: Callable[..., Any] = build_engine
    return fn


def event_fraction(event: ProgressEvent) -> float:
    """Overall progress of a ProgressEvent in [0, 1]: the top-level phase drives the bar."""
    return event.fraction


def batch_profiles(
    onnx_path: str | os.PathLike[str], batch: tuple[int, int, int], other_dims: int = 224
) -> Profile:
    """The profile for ``build_engine(profiles=...)`` from the panel's controls.

    Axis 0 of every input with a dynamic batch gets ``batch`` = (min, opt, max); other dynamic
    dims (e.g. FCN's height/width) get ``other_dims``; fixed dims are read from the ONNX file
    (:func:`trtlab.trt.profiles.default_profile`, the one default-profile builder).
    """
    from trtlab.trt.profiles import default_profile

    return default_profile(onnx_path, batch=batch, hw=int(other_dims))


#: BuildResult's fields the summary shows (a mapping must use these names: nothing is guessed).
_SUMMARY_FIELDS = ("engine", "path", "build_time_s", "cache_hit", "log")


def result_summary(result: BuildResult | Mapping[str, Any]) -> dict[str, Any]:
    """Engine path, size (bytes), build time (s), cache hit and log lines of a build result.

    ``result`` is a :class:`trtlab.trt.build.BuildResult`, or a mapping with the same field names
    (what an injected ``build_fn`` in tests or a saved summary returns).
    """
    if isinstance(result, Mapping):
        values = {name: result.get(name) for name in _SUMMARY_FIELDS}
    else:
        values = {name: getattr(result, name) for name in _SUMMARY_FIELDS}
    path, engine = values["path"], values["engine"]
    size: int | None = None
    if isinstance(engine, (bytes, bytearray, memoryview)):
        size = len(engine)
    elif path is not None and Path(path).is_file():
        size = Path(path).stat().st_size
    log = values["log"] or []
    if isinstance(log, str):
        log = log.splitlines()
    return {
        "engine_path": str(path) if path is not None else "",
        "engine_size": size,
        "build_time_s": values["build_time_s"],
        "cache_hit": bool(values["cache_hit"]),
        "log": [str(x) for x in log],
    }


class BuildPanel(WidgetBase):
    """Precision / batch profile / workspace controls, Build button, live progress, log, summary.

    ``build_fn(onnx_path, precision=..., workspace=..., profiles=..., progress=callback)``
    defaults to :func:`trtlab.trt.build.build_engine`. ``check_fn() -> (ok, reason)`` decides
    whether building is possible (default: full TensorRT and a GPU). An injected ``build_fn`` is
    assumed runnable unless ``check_fn`` is given too, so tests and demos can drive the panel.
    """

    onnx_path = Unicode("", help="ONNX file to build from")
    precision = Unicode("fp16", help="fp32, fp16 or bf16")
    min_batch = Int(1)
    opt_batch = Int(4)
    max_batch = Int(8)
    workspace_mib = Int(1024, help="builder workspace limit (MiB)")
    other_dims = Int(224, help="size of dynamic non-batch dims (e.g. image height/width)")
    available = Bool(False, help="True when this machine can build")
    reason = Unicode("", help="why the panel is disabled ('' when available)")
    progress = Float(0.0, help="build progress 0..1 (top-level phase)")
    phase = Unicode("", help="the phase TensorRT is in")
    building = Bool(False)
    result = AnyTrait(None, allow_none=True, help="the last build result")
    summary = AnyTrait(None, allow_none=True, help="result_summary(result)")
    log = Unicode("", help="progress and builder log text")

    def __init__(
        self,
        onnx_path: str | os.PathLike[str] | None = None,
        *,
        build_fn: Callable[..., Any] | None = None,
        check_fn: Callable[[], tuple[bool, str]] | None = None,
        precisions: Sequence[str] = PRECISIONS,
        build_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._build_fn = build_fn
        self._extra = dict(build_kwargs or {})
        if check_fn is None:
            check_fn = (lambda: (True, "")) if build_fn is not None else tensorrt_status
        self.events: list[Any] = []
        self.intro = W.HTML(EXPLANATION)
        self.reason_box = W.HTML()
        self.path_text = W.Text(description="ONNX file", layout=W.Layout(width="480px"))
        self.precision_dd = W.Dropdown(options=list(precisions), description="precision")
        self.min_input = W.BoundedIntText(min=1, max=4096, description="min batch")
        self.opt_input = W.BoundedIntText(min=1, max=4096, description="opt batch")
        self.max_input = W.BoundedIntText(min=1, max=4096, description="max batch")
        self.other_input = W.BoundedIntText(
            min=1, max=8192, description="H/W size", tooltip="size of dynamic non-batch dims"
        )
        self.workspace_slider = W.IntSlider(min=64, max=16384, step=64, description="workspace MiB")
        self.build_button = W.Button(
            description="Build engine", icon="cogs", button_style="primary"
        )
        self.build_button.on_click(lambda _b: self.build())
        self.progress_bar = W.IntProgress(value=0, min=0, max=100, description="0%")
        self.phase_label = W.HTML()
        self.log_area = W.Textarea(disabled=True, layout=W.Layout(width="100%", height="140px"))
        self.summary_box = W.HTML()
        self.controls: list[W.Widget] = [
            self.path_text,
            self.precision_dd,
            self.min_input,
            self.opt_input,
            self.max_input,
            self.other_input,
            self.workspace_slider,
            self.build_button,
        ]
        if self.precision not in precisions:
            self.precision = precisions[0]
        for widget, trait in (
            (self.path_text, "onnx_path"),
            (self.precision_dd, "precision"),
            (self.min_input, "min_batch"),
            (self.opt_input, "opt_batch"),
            (self.max_input, "max_batch"),
            (self.other_input, "other_dims"),
            (self.workspace_slider, "workspace_mib"),
        ):
            _link(widget, self, trait)
        self.widget = W.VBox(
            [
                self.intro,
                self.reason_box,
                self.path_text,
                self.precision_dd,
                W.HBox([self.min_input, self.opt_input, self.max_input]),
                self.other_input,
                self.workspace_slider,
                W.HBox([self.build_button, self.progress_bar, self.phase_label]),
                self.error_box,
                self.summary_box,
                self.log_area,
            ]
        )
        if onnx_path is not None:
            self.onnx_path = str(onnx_path)
        try:
            ok, why = check_fn()
        except Exception as exc:
            ok, why = False, f"could not check for TensorRT: {describe_exception(exc)}"
        self.reason = "" if ok else (why or "TensorRT is not available here")
        self.available = bool(ok)
        self._on_state({})  # also when ``available`` kept its default (no change event)

    # -- actions -------------------------------------------------------------------------------
    def profile(self) -> tuple[int, int, int]:
        """``(min, opt, max)`` batch; raises :class:`InputError` unless 1 <= min <= opt <= max."""
        lo, opt, hi = self.min_batch, self.opt_batch, self.max_batch
        if not 1 <= lo <= opt <= hi:
            raise InputError(
                f"batch profile must satisfy 1 <= min <= opt <= max, got min={lo} opt={opt} "
                f"max={hi}",
                hint="e.g. min=1, opt=4, max=8",
            )
        return lo, opt, hi

    def build_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``build_fn`` from the current controls."""
        lo, opt, hi = self.profile()
        if self.workspace_mib <= 0:
            raise InputError(f"workspace must be > 0 MiB, got {self.workspace_mib}", hint="1024")
        return {
            "precision": self.precision,
            "workspace": self.workspace_mib * 1024 * 1024,
            "profiles": batch_profiles(self.onnx_path, (lo, opt, hi), self.other_dims),
            "progress": self.on_progress,
            **self._extra,
        }

    def build(self) -> Any:
        """Build now (blocking; the bar and log update live). Returns the result or ``None``."""
        if not self.available:
            self.error = self.reason
            return None
        if not self.onnx_path:
            self.error = "enter the path of the ONNX file to build from"
            return None
        try:
            kwargs = self.build_arguments()
        except TrtlabError as exc:  # bad profile, unreadable ONNX file
            self.error = describe_exception(exc)
            return None
        build_fn = self._build_fn or _default_build_fn()
        self.error, self.events, self.log = "", [], ""
        self.result, self.summary = None, None
        self.progress, self.phase = 0.0, "starting"
        self.building = True
        try:
            result = build_fn(self.onnx_path, **kwargs)
        except Exception as exc:  # a failed build is shown, with TensorRT's own message
            self.error = describe_exception(exc)
            self.phase = "failed"
            return None
        finally:
            self.building = False
        self.progress, self.phase = 1.0, "done"
        self.result = result
        return result

    def on_progress(self, event: ProgressEvent) -> None:
        """Progress callback handed to the builder (one ProgressEvent at a time)."""
        self.events.append(event)
        depth, name, step, total, done = (
            event.depth,
            event.phase,
            event.step,
            event.total,
            event.done,
        )
        line = f"{'  ' * depth}{name}: {'done' if done else f'{step}/{total}'}"
        self.log = f"{self.log}{line}\n"
        if depth == 0:
            self.progress = max(self.progress, event_fraction(event))
        self.phase = name

    # -- observers -----------------------------------------------------------------------------
    @observe("available", "building")
    def _on_state(self, _change: Mapping[str, Any]) -> None:
        disabled = not self.available or self.building
        for widget in self.controls:
            widget.disabled = disabled
        self.reason_box.value = note_html(esc(self.reason), "fail") if self.reason else ""

    @observe("progress")
    def _on_progress(self, change: Mapping[str, Any]) -> None:
        percent = round(100 * float(change["new"]))
        self.progress_bar.value = percent
        self.progress_bar.description = f"{percent}%"
        self.progress_bar.bar_style = "success" if percent >= 100 else ""

    @observe("phase")
    def _on_phase(self, change: Mapping[str, Any]) -> None:
        self.phase_label.value = esc(change["new"])

    @observe("log")
    def _on_log(self, change: Mapping[str, Any]) -> None:
        self.log_area.value = change["new"]

    @observe("result")
    def _on_result(self, change: Mapping[str, Any]) -> None:
        if change["new"] is None:
            self.summary_box.value = ""
            return
        info = result_summary(change["new"])
        self.summary = info
        size = info["engine_size"]
        seconds = info["build_time_s"]
        rows = [
            ("engine", info["engine_path"] or "-"),
            ("engine size", f"{size / (1024 * 1024):.2f} MiB" if size is not None else "-"),
            ("build time", f"{float(seconds):.1f} s" if seconds is not None else "-"),
            ("cache hit", "yes (loaded from the engine cache)" if info["cache_hit"] else "no"),
        ]
        self.summary_box.value = table_html(["", ""], rows, kinds=["ok"] * len(rows))
        if info["log"]:
            self.log = self.log + "\n".join(info["log"]) + "\n"


def _link(widget: Any, owner: BuildPanel, trait: str) -> None:
    """Two-way link between a control's ``value`` and a panel trait (panel value wins at start)."""
    from traitlets import link

    widget.value = getattr(owner, trait)
    link((widget, "value"), (owner, trait))
