"""EnvironmentCard: the ``trtlab doctor`` report as a colour-coded table with the fixes shown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as W
from traitlets import Any as AnyTrait
from traitlets import List, observe

from trtlab.widgets._common import (
    WidgetBase,
    badge,
    describe_exception,
    esc,
    note_html,
    status_kind,
    table_html,
)

if TYPE_CHECKING:
    from trtlab.doctor import DoctorReport


def _default_doctor() -> DoctorReport:
    from trtlab.doctor import doctor

    return doctor()


def check_rows(report: DoctorReport) -> list[dict[str, Any]]:
    """The report's :class:`~trtlab.doctor.Check` rows as table rows with a colour ``kind``.

    ``missing`` is red for a required component and amber for an optional one; ``error`` is red.
    """
    rows = []
    for check in report.checks:
        kind = status_kind(check.status)
        if check.status == "missing" and not check.required:
            kind = "warn"
        rows.append(
            {
                "name": check.name,
                "status": check.status,
                "version": check.version,
                "detail": check.detail,
                "fix": check.fix if kind != "ok" else "",
                "required": check.required,
                "kind": kind,
            }
        )
    return rows


class EnvironmentCard(WidgetBase):
    """What is installed here, coloured by status, with the command that fixes each gap.

    ``doctor_fn`` (default :func:`trtlab.doctor.doctor`) is called on creation and by the Refresh
    button; its report lands in ``report``.
    """

    report = AnyTrait(None, allow_none=True, help="the last DoctorReport")
    rows: List[dict[str, Any]] = List(
        help="normalised check rows (name, status, version, detail, fix, kind)"
    )

    def __init__(
        self, doctor_fn: Callable[[], DoctorReport] | None = None, *, run: bool = True
    ) -> None:
        super().__init__()
        self._doctor_fn = doctor_fn or _default_doctor
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.header = W.HTML("<b>trtlab environment</b>")
        self.table = W.HTML()
        self.summary = W.HTML()
        self.widget = W.VBox(
            [W.HBox([self.header, self.refresh_button]), self.error_box, self.table, self.summary]
        )
        if run:
            self.refresh()

    def refresh(self) -> None:
        """Run the doctor again (e.g. after ``pip install``) and redraw."""
        self.refresh_button.disabled = True
        try:
            self.report = self._doctor_fn()
            self.error = ""
        except Exception as exc:  # shown, not raised: the card must not break a notebook
            self.error = describe_exception(exc)
        finally:
            self.refresh_button.disabled = False

    @observe("report")
    def _render(self, change: Mapping[str, Any]) -> None:
        report: DoctorReport | None = change["new"]
        if report is None:
            self.rows, self.table.value, self.summary.value = [], "", ""
            return
        self.rows = check_rows(report)
        cells = [
            (
                badge(r["status"] or "?", r["kind"]),
                r["name"],
                r["version"] or "-",
                r["detail"],
                r["fix"],
            )
            for r in self.rows
        ]
        self.table.value = table_html(
            ["status", "component", "version", "detail", "how to fix"],
            cells,
            kinds=[r["kind"] for r in self.rows],
            raw_columns=(0,),
        )
        caps = report.capabilities
        backend = report.preferred_backend
        parts = [esc(line) for line in report.summary().splitlines() if line]
        if backend:
            parts.append(f"Preferred backend here: <b>{esc(backend)}</b>")
        parts.append("Capabilities: " + ", ".join(f"<code>{esc(c)}</code>" for c in sorted(caps)))
        self.summary.value = note_html("<br>".join(parts))
