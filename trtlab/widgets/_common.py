"""Shared pieces of the trtlab widgets: the display base class, HTML helpers, status colours.

Every widget keeps its state in traitlets on a plain :class:`traitlets.HasTraits` object and builds
its view in ``.widget`` (an ``ipywidgets`` box). Tests drive the traits and the child widgets
directly; notebooks just display the object.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as W
from traitlets import HasTraits, Unicode, observe

#: Row colours (background, text) by status kind; tests and the browser check read these.
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "ok": ("#e6f4ea", "#137333"),
    "warn": ("#fef7e0", "#8a5a00"),
    "fail": ("#fce8e6", "#c5221f"),
    "info": ("#f1f3f4", "#3c4043"),
}

_OK_WORDS = {"ok", "pass", "passed", "true", "yes", "found", "available", "present", "success"}
_WARN_WORDS = {"warn", "warning", "optional", "skip", "skipped", "partial", "degraded", "old"}
_FAIL_WORDS = {"missing", "fail", "failed", "error", "false", "no", "absent", "broken", "bad"}


def status_kind(status: Any) -> str:
    """Map a status value (bool, enum, text) to ``ok``/``warn``/``fail``/``info``."""
    if isinstance(status, bool):
        return "ok" if status else "fail"
    text = str(getattr(status, "value", status)).strip().lower()
    text = text.rsplit(".", 1)[-1]  # "Status.OK" -> "ok"
    if text in _OK_WORDS:
        return "ok"
    if text in _WARN_WORDS:
        return "warn"
    if text in _FAIL_WORDS:
        return "fail"
    return "info"


def esc(value: Any) -> str:
    """HTML-escape ``str(value)`` for element text (every user-visible value goes through this)."""
    return html.escape("" if value is None else str(value), quote=False)


def badge(text: str, kind: str) -> str:
    """A small coloured pill, e.g. PASS in green."""
    bg, fg = STATUS_STYLES.get(kind, STATUS_STYLES["info"])
    return (
        f'<span class="trtlab-badge" data-status="{kind}" style="background:{bg};color:{fg};'
        f'border:1px solid {fg};border-radius:10px;padding:1px 8px;font-weight:600">'
        f"{esc(text)}</span>"
    )


def table_html(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    kinds: Sequence[str] | None = None,
    raw_columns: Iterable[int] = (),
) -> str:
    """An HTML table; row ``i`` gets the colours of ``kinds[i]`` and ``data-status`` for tests.

    Cells are escaped except the columns in ``raw_columns`` (which hold trusted trtlab HTML).
    """
    raw = set(raw_columns)
    head = "".join(f'<th style="text-align:left;padding:2px 8px">{esc(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        kind = kinds[i] if kinds is not None else "info"
        bg, fg = STATUS_STYLES.get(kind, STATUS_STYLES["info"])
        cells = "".join(
            f'<td style="padding:2px 8px">{cell if j in raw else esc(cell)}</td>'
            for j, cell in enumerate(row)
        )
        body.append(f'<tr data-status="{kind}" style="background:{bg};color:{fg}">{cells}</tr>')
    return (
        '<table class="trtlab-table" style="border-collapse:collapse;font-size:90%">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def error_html(message: str) -> str:
    """The visible error box widgets show instead of a traceback ('' hides it)."""
    if not message:
        return ""
    bg, fg = STATUS_STYLES["fail"]
    text = esc(message).replace("\n", "<br>")
    return (
        f'<div class="trtlab-error" style="background:{bg};color:{fg};border-left:4px solid {fg};'
        f'padding:4px 8px;white-space:normal">{text}</div>'
    )


def note_html(message: str, kind: str = "info") -> str:
    """A coloured note line (reasons, explanations)."""
    bg, fg = STATUS_STYLES.get(kind, STATUS_STYLES["info"])
    return (
        f'<div class="trtlab-note" data-status="{kind}" style="background:{bg};color:{fg};'
        f'padding:4px 8px">{message}</div>'
    )


def describe_exception(exc: BaseException) -> str:
    """One readable paragraph for an exception (the trtlab message already has the fix)."""
    return f"{type(exc).__name__}: {exc}"


class WidgetBase(HasTraits):
    """State in traits, view in ``self.widget``; displays as its widget in Jupyter.

    Every widget reports problems through the ``error`` trait (shown in ``error_box`` as a red
    note instead of a traceback) and what produced its last result through ``status`` (shown in
    ``status_box``); subclasses place the two boxes in their layout.
    """

    widget: W.Box
    error = Unicode("", help="last error shown to the user ('' when none)")
    status = Unicode("", help="which backend/device produced the last result ('' when none)")

    def __init__(self, **kwargs: Any) -> None:
        self.error_box = W.HTML()
        self.status_box = W.HTML()
        super().__init__(**kwargs)

    @observe("error")
    def _show_error(self, change: Mapping[str, Any]) -> None:
        self.error_box.value = error_html(change["new"])

    @observe("status")
    def _show_status(self, change: Mapping[str, Any]) -> None:
        self.status_box.value = note_html(change["new"], "ok") if change["new"] else ""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Close the widget tree (frees the front-end models)."""
        _close_tree(self.widget)


def _close_tree(widget: Any) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()
