"""ParityView: a numerical parity report as a coloured table with a PASS/FAIL badge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as W
from traitlets import Any as AnyTrait
from traitlets import Bool, List, observe

from trtlab.errors import InputError
from trtlab.widgets._common import (
    WidgetBase,
    badge,
    describe_exception,
    esc,
    note_html,
    table_html,
)


def _report_dict(report: Any) -> Mapping[str, Any]:
    """A :class:`~trtlab.compare.ParityReport` (or its ``to_dict()``) as the ``to_dict()`` form."""
    from trtlab.compare import ParityReport

    if isinstance(report, ParityReport):
        return report.to_dict()
    if isinstance(report, Mapping) and isinstance(report.get("outputs"), list):
        return report
    raise InputError(
        f"ParityView shows a trtlab.compare.ParityReport (or its to_dict()), got "
        f"{type(report).__name__}",
        hint="pass trtlab.compare(reference_outputs, candidate_outputs)",
    )


def parity_rows(report: Any) -> list[dict[str, Any]]:
    """One row per compared output: ``name``, ``kind``, ``shape``, ``passed``, metrics, message.

    Reads a :class:`trtlab.compare.ParityReport` or its ``to_dict()`` (the JSON a notebook saved):
    each output's ``metrics`` dict and ``reasons`` list, as :class:`~trtlab.compare.OutputParity`
    defines them.
    """
    rows = []
    for out in _report_dict(report)["outputs"]:
        shape = out.get("shape") or []
        rows.append(
            {
                "name": str(out["name"]),
                "kind": str(out.get("kind", "")),
                "shape": "x".join(str(int(d)) for d in shape),
                "passed": bool(out["passed"]),
                "metrics": {str(k): float(v) for k, v in dict(out.get("metrics", {})).items()},
                "message": "; ".join(str(r) for r in out.get("reasons", [])),
            }
        )
    return rows


def report_passed(report: Any) -> bool:
    """The report's own verdict (``ParityReport.passed``)."""
    return bool(_report_dict(report)["passed"])


class ParityView(WidgetBase):
    """Show a :class:`trtlab.compare.ParityReport`: green rows pass, red rows fail."""

    report = AnyTrait(None, allow_none=True, help="the ParityReport shown")
    rows: List[dict[str, Any]] = List(help="parity_rows(report)")
    passed = Bool(False, help="overall verdict")

    def __init__(self, report: Any = None, *, title: str = "Numerical parity") -> None:
        super().__init__()
        self.title = title
        self.header = W.HTML()
        self.table = W.HTML()
        self.notes = W.HTML()
        self.widget = W.VBox([self.header, self.error_box, self.table, self.notes])
        self.report = report

    @observe("report")
    def _render(self, change: Mapping[str, Any]) -> None:
        report = change["new"]
        if report is None:
            self.rows, self.passed = [], False
            self.header.value = f"<b>{esc(self.title)}</b>: no report yet"
            self.table.value = self.notes.value = ""
            return
        try:
            data = _report_dict(report)
        except InputError as exc:
            self.error = describe_exception(exc)
            self.rows, self.passed = [], False
            self.header.value = f"<b>{esc(self.title)}</b>: no report shown"
            self.table.value = self.notes.value = ""
            return
        self.error = ""
        rows = parity_rows(data)
        self.rows = rows
        self.passed = report_passed(data)
        who = ""
        cand, ref = data.get("candidate_name"), data.get("reference_name")
        if cand and ref:
            who = f": {esc(cand)} vs {esc(ref)}"
        precision = data.get("precision")
        if precision:
            who += f" (precision {esc(precision)})"
        self.header.value = f"<b>{esc(self.title)}</b>{who} " + badge(
            "PASS" if self.passed else "FAIL", "ok" if self.passed else "fail"
        )
        # One compact "metrics" cell per row (name=value lines): a column per metric name would
        # make the table wider than a notebook's output area.
        table_rows = [
            (
                badge("pass" if r["passed"] else "FAIL", "ok" if r["passed"] else "fail"),
                r["name"],
                r["kind"],
                r["shape"],
                "<br>".join(f"{esc(m)}={_fmt(v)}" for m, v in r["metrics"].items()) or "-",
            )
            for r in rows
        ]
        self.table.value = table_html(
            ["", "output", "kind", "shape", "metrics"],
            table_rows,
            kinds=["ok" if r["passed"] else "fail" for r in rows],
            raw_columns=(0, 4),
        )
        messages = [f"{esc(r['name'])}: {esc(r['message'])}" for r in rows if r["message"]]
        self.notes.value = note_html("<br>".join(messages)) if messages else ""


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"
