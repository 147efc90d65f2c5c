"""Build progress: TensorRT's ``IProgressMonitor`` phases -> console bars, widget callbacks, cancel.

Engine builds take from seconds to many minutes, so learners need to see that something happens and
be able to stop it. TensorRT reports nested *phases* (``phase_start(name, parent, num_steps)``,
``step_complete(name, step)``, ``phase_finish(name)``); returning ``False`` from ``step_complete``
cancels the build. The bookkeeping lives in :class:`ProgressTracker` (pure Python, tested without
TensorRT); :func:`make_progress_monitor` wraps it in a thin ``trt.IProgressMonitor`` subclass.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TextIO, Union

if TYPE_CHECKING:
    import tensorrt

_log = logging.getLogger("trtlab.trt.progress")

Display = Literal["auto", "tqdm", "lines", "none"]


@dataclass(frozen=True)
class ProgressEvent:
    """One progress update; ``done`` is True on ``phase_finish``; ``step`` counts finished steps."""

    phase: str
    step: int
    total: int
    parent: str | None
    done: bool
    depth: int = 0
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float:
        """Completed fraction in [0, 1] (1.0 when finished or when the phase has no steps)."""
        if self.done or self.total <= 0:
            return 1.0
        return min(1.0, max(0.0, self.step / self.total))


ProgressCallback = Callable[[ProgressEvent], Any]


@dataclass
class _Phase:
    name: str
    parent: str | None
    total: int
    depth: int
    started: float
    step: int = 0
    bar: Any = None


class _Console:
    """Console display: tqdm bars (one per open phase, nested by depth) or plain lines."""

    def __init__(self, mode: Display, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tqdm: Any = None
        if mode in ("auto", "tqdm"):
            try:
                from tqdm.auto import tqdm

                self.tqdm = tqdm
            except ImportError:
                if mode == "tqdm":
                    raise
        self.mode = mode if mode != "auto" else ("tqdm" if self.tqdm is not None else "lines")

    def start(self, phase: _Phase) -> None:
        if self.mode == "tqdm":
            phase.bar = self.tqdm(
                total=max(phase.total, 1),
                desc=("  " * phase.depth) + phase.name,
                position=phase.depth,
                leave=phase.depth == 0,
                file=self.stream,
                dynamic_ncols=True,
            )
        elif self.mode == "lines":
            indent = "  " * phase.depth
            print(f"{indent}> {phase.name} ({phase.total} steps)", file=self.stream, flush=True)

    def step(self, phase: _Phase, delta: int) -> None:
        if phase.bar is not None and delta > 0:
            phase.bar.update(delta)

    def finish(self, phase: _Phase, elapsed: float) -> None:
        if phase.bar is not None:
            remaining = max(phase.total, 1) - phase.bar.n
            if remaining > 0:
                phase.bar.update(remaining)
            phase.bar.close()
            phase.bar = None
        elif self.mode == "lines":
            indent = "  " * phase.depth
            print(f"{indent}< {phase.name} done in {elapsed:.1f} s", file=self.stream, flush=True)

    def close(self, phases: list[_Phase]) -> None:
        for phase in phases:
            if phase.bar is not None:
                phase.bar.close()
                phase.bar = None


@dataclass
class ProgressTracker:
    """Bookkeeping behind the TensorRT progress monitor (thread-safe, TensorRT-free).

    ``on_event`` receives every :class:`ProgressEvent`; ``display`` picks the console output
    (``"auto"``: tqdm if installed, else lines; ``"none"``: silent). Call :meth:`cancel` from any
    thread (a widget's Stop button) and the next ``step_complete`` returns False, which makes
    TensorRT abandon the build.
    """

    on_event: ProgressCallback | None = None
    display: Display = "none"
    stream: TextIO | None = None
    events: list[ProgressEvent] = field(default_factory=list)
    keep_events: bool = True
    callback_errors: list[BaseException] = field(default_factory=list)
    _phases: dict[str, _Phase] = field(default_factory=dict)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _console: _Console | None = None

    def __post_init__(self) -> None:
        if self.display not in ("auto", "tqdm", "lines", "none"):
            from trtlab.errors import ConfigError

            raise ConfigError(
                f"display={self.display!r} is not one of auto, tqdm, lines, none",
                hint="use display='auto' for a progress bar, 'none' for silence",
            )
        if self.display != "none":
            self._console = _Console(self.display, self.stream)

    # -- control ---------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the running build to stop at its next step."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def open_phases(self) -> list[str]:
        """Names of phases started and not yet finished, outermost first."""
        with self._lock:
            return [p.name for p in sorted(self._phases.values(), key=lambda p: p.depth)]

    # -- TensorRT callbacks ------------------------------------------------------------------------
    def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
        with self._lock:
            parent = parent_phase or None
            depth = self._phases[parent].depth + 1 if parent in self._phases else 0
            phase = _Phase(phase_name, parent, int(num_steps), depth, time.perf_counter())
            self._phases[phase_name] = phase
            if self._console is not None:
                self._guard(self._console.start, phase)
            self._emit(phase, done=False)

    def step_complete(self, phase_name: str, step: int) -> bool:
        """Record progress; returns False (stop) once :meth:`cancel` was called."""
        with self._lock:
            phase = self._phases.get(phase_name)
            if phase is not None:
                completed = int(step) + 1  # TensorRT numbers steps from 0
                delta = completed - phase.step
                phase.step = max(phase.step, completed)
                if self._console is not None:
                    self._guard(self._console.step, phase, delta)
                self._emit(phase, done=False)
        return not self.cancelled

    def phase_finish(self, phase_name: str) -> None:
        with self._lock:
            phase = self._phases.pop(phase_name, None)
            if phase is None:
                return
            phase.step = max(phase.step, phase.total)
            elapsed = time.perf_counter() - phase.started
            if self._console is not None:
                self._guard(self._console.finish, phase, elapsed)
            self._emit(phase, done=True)

    def close(self) -> None:
        """Close any bars left open (a failed or cancelled build)."""
        with self._lock:
            if self._console is not None:
                self._console.close(list(self._phases.values()))

    # -- internals ---------------------------------------------------------------------------------
    def _emit(self, phase: _Phase, *, done: bool) -> None:
        event = ProgressEvent(
            phase=phase.name,
            step=phase.step,
            total=phase.total,
            parent=phase.parent,
            done=done,
            depth=phase.depth,
            elapsed_s=time.perf_counter() - phase.started,
        )
        if self.keep_events:
            self.events.append(event)
        if self.on_event is not None:
            self._guard(self.on_event, event)

    def _guard(self, fn: Callable[..., Any], *args: Any) -> None:
        """Callbacks run inside TensorRT's C++ builder: never let an exception escape into it."""
        try:
            fn(*args)
        except Exception as exc:
            self.callback_errors.append(exc)
            _log.warning("progress callback %r failed: %s", fn, exc)


ProgressArg = Union[bool, ProgressCallback, ProgressTracker, None]


def make_tracker(progress: ProgressArg) -> ProgressTracker | None:
    """Read ``build_engine(progress=...)``: True -> console, callable -> callback, False -> none."""
    if progress is None or progress is False:
        return None
    if isinstance(progress, ProgressTracker):
        return progress
    if progress is True:
        return ProgressTracker(display="auto")
    if callable(progress):
        return ProgressTracker(on_event=progress, display="none")
    from trtlab.errors import InputError

    raise InputError(
        f"progress must be True/False, a callable(ProgressEvent) or a ProgressTracker, "
        f"got {type(progress).__name__}",
        hint="pass progress=True for a console bar",
    )


def make_progress_monitor(tracker: ProgressTracker) -> tensorrt.IProgressMonitor:
    """A ``trt.IProgressMonitor`` forwarding to ``tracker`` (needs the full TensorRT)."""
    import tensorrt as trt

    class _Monitor(trt.IProgressMonitor):
        def __init__(self, tracker: ProgressTracker) -> None:
            trt.IProgressMonitor.__init__(self)
            self.tracker = tracker

        def phase_start(self, phase_name: str, parent_phase: str, num_steps: Any) -> None:
            self.tracker.phase_start(phase_name, parent_phase, int(num_steps))

        def step_complete(self, phase_name: str, step: Any) -> bool:
            return self.tracker.step_complete(phase_name, int(step))

        def phase_finish(self, phase_name: str) -> None:
            self.tracker.phase_finish(phase_name)

    return _Monitor(tracker)


__all__ = [
    "ProgressArg",
    "ProgressCallback",
    "ProgressEvent",
    "ProgressTracker",
    "make_progress_monitor",
    "make_tracker",
]
