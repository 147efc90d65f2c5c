"""Progress bookkeeping behind the TensorRT IProgressMonitor (no TensorRT needed)."""

from __future__ import annotations

import io
import threading

import pytest

from trtlab.errors import ConfigError, InputError
from trtlab.trt.progress import ProgressEvent, ProgressTracker, make_tracker


def _drive(tracker: ProgressTracker) -> list[bool]:
    answers = []
    tracker.phase_start("Build", "", 2)
    tracker.phase_start("Tactics", "Build", 3)
    for step in range(3):
        answers.append(tracker.step_complete("Tactics", step))
    tracker.phase_finish("Tactics")
    answers.append(tracker.step_complete("Build", 0))
    tracker.phase_finish("Build")
    return answers


def test_events_depth_parent_fraction() -> None:
    got: list[ProgressEvent] = []
    tracker = ProgressTracker(on_event=got.append)
    assert _drive(tracker) == [True] * 4
    assert got == tracker.events
    first = got[0]
    assert (first.phase, first.step, first.total, first.parent, first.depth) == (
        "Build",
        0,
        2,
        None,
        0,
    )
    tactics = [e for e in got if e.phase == "Tactics"]
    assert [e.step for e in tactics] == [0, 1, 2, 3, 3]
    assert all(e.parent == "Build" and e.depth == 1 for e in tactics)
    assert [e.fraction for e in tactics] == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    assert tactics[-1].done and not tactics[-2].done
    assert got[-1].phase == "Build" and got[-1].done and got[-1].step == 2
    assert tracker.open_phases == []


def test_cancel_makes_step_complete_return_false() -> None:
    tracker = ProgressTracker()
    tracker.phase_start("Build", "", 10)
    assert tracker.step_complete("Build", 0) is True
    threading.Thread(target=tracker.cancel).start()
    while not tracker.cancelled:
        pass
    assert tracker.step_complete("Build", 1) is False
    assert tracker.open_phases == ["Build"]
    tracker.close()


def test_callback_errors_never_escape() -> None:
    def bad(event: ProgressEvent) -> None:
        raise RuntimeError("widget gone")

    tracker = ProgressTracker(on_event=bad)
    assert _drive(tracker) == [True] * 4  # the build keeps going
    assert len(tracker.callback_errors) == 8  # one per event
    assert isinstance(tracker.callback_errors[0], RuntimeError)


def test_unknown_phase_steps_are_ignored() -> None:
    tracker = ProgressTracker()
    assert tracker.step_complete("never started", 3) is True
    tracker.phase_finish("never started")
    assert tracker.events == []


def test_lines_display() -> None:
    out = io.StringIO()
    tracker = ProgressTracker(display="lines", stream=out)
    _drive(tracker)
    text = out.getvalue().splitlines()
    assert text[0] == "> Build (2 steps)"
    assert text[1] == "  > Tactics (3 steps)"
    assert text[2].startswith("  < Tactics done in ")
    assert text[3].startswith("< Build done in ")


def test_tqdm_display() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()
    tracker = ProgressTracker(display="tqdm", stream=out)
    _drive(tracker)
    text = out.getvalue()
    assert "Tactics" in text and "0/3" in text  # nested bar (cleared when done)
    assert "Build: 100%" in text and "2/2" in text  # outer bar left complete


def test_make_tracker() -> None:
    assert make_tracker(False) is None and make_tracker(None) is None
    assert make_tracker(True).display == "auto"  # type: ignore[union-attr]
    got: list[ProgressEvent] = []
    tracker = make_tracker(got.append)
    assert tracker is not None and tracker.display == "none"
    tracker.phase_start("x", "", 1)
    assert got[0].phase == "x"
    same = ProgressTracker()
    assert make_tracker(same) is same
    with pytest.raises(InputError):
        make_tracker(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ProgressTracker(display="fancy")  # type: ignore[arg-type]
