"""ParityView: a numerical parity report as a coloured table with a PASS/FAIL badge."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import ipywidgets as W
import numpy as np
from traitlets import Any as AnyTrait
from traitlets import Bool, List, observe

from trtlab.widgets._common import WidgetBase, badge, esc, field, note_html, table_html

_PASS_NAMES = ("passed", "ok", "pass_", "success")
_SKIP_KEYS = {"name", "output", *_PASS_NAMES, "pass", "status", "message", "detail", "reasons"}


def _passed(obj: Any) -> bool | None:
    for name in (*_PASS_NAMES, "pass"):
        value = field(obj, name)
        if value is None:
            continue
        if callable(value):
            value = value()
        return bool(value)
    return None


def _as_mapping(entry: Any) -> dict[str, Any]:
    if isinstance(entry, Mapping):
        return dict(entry)
    to_dict = getattr(entry, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return dataclasses.asdict(entry)
    return {k: v for k, v in vars(entry).items() if not k.startswith("_")}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def parity_rows(report: Any) -> list[dict[str, Any]]:
    """One row per compared output: ``name``, ``kind``, ``shape``, ``passed``, metrics, message.

    Reads :class:`trtlab.compare.OutputParity` (``metrics`` dict, ``reasons`` list), its
    ``to_dict()``, or flat mappings with numeric fields.
    """
    outputs = field(report, "outputs")
    if outputs is None and callable(getattr(report, "to_dict", None)):
        outputs = report.to_dict().get("outputs")
    if outputs is None:
        return []
    items = (
        list(outputs.items())
        if isinstance(outputs, Mapping)
        else [(None, entry) for entry in outputs]
    )
    rows = []
    for key, entry in items:
        data = _as_mapping(entry)
        name = key if key is not None else data.get("name", data.get("output", "?"))
        passed = _passed(entry)
        source = data["metrics"] if isinstance(data.get("metrics"), Mapping) else data
        metrics = {
            str(k): float(v) for k, v in source.items() if k not in _SKIP_KEYS and _is_number(v)
        }
        reasons = data.get("reasons") or []
        message = "; ".join(str(r) for r in reasons) if isinstance(reasons, list) else ""
        message = message or str(data.get("message", data.get("detail", "")) or "")
        shape = data.get("shape")
        rows.append(
            {
                "name": str(name),
                "kind": str(data.get("kind", "") or ""),
                "shape": "x".join(str(d) for d in shape)
                if isinstance(shape, (list, tuple))
                else "",
                "passed": bool(passed),
                "metrics": metrics,
                "message": message,
            }
        )
    return rows


def report_passed(report: Any, rows: list[dict[str, Any]]) -> bool:
    """The report's own verdict when it has one, else all rows passed."""
    verdict = _passed(report)
    if verdict is not None:
        return verdict
    if rows:
        return all(r["passed"] for r in rows)
    return bool(report)


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
        self.widget = W.VBox([self.header, self.table, self.notes])
        self.report = report

    @observe("report")
    def _render(self, change: Mapping[str, Any]) -> None:
        report = change["new"]
        if report is None:
            self.rows, self.passed = [], False
            self.header.value = f"<b>{esc(self.title)}</b>: no report yet"
            self.table.value = self.notes.value = ""
            return
        rows = parity_rows(report)
        self.rows = rows
        self.passed = report_passed(report, rows)
        who = ""
        cand, ref = field(report, "candidate_name"), field(report, "reference_name")
        if cand and ref:
            who = f": {esc(cand)} vs {esc(ref)}"
        precision = field(report, "precision")
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
