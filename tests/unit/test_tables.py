"""trtlab._tables: the one text/HTML table renderer behind doctor, engine IO and parity reports."""

from __future__ import annotations

from trtlab._tables import Cell, Html, html_table, text_table


def test_text_table_aligns_and_strips() -> None:
    out = text_table(
        [["x", "INPUT", "float32"], ["logits", "OUTPUT", ""]],
        header=["name", "mode", "dtype"],
        rule=True,
    )
    assert out.splitlines() == [
        "name    mode    dtype",
        "------  ------  -------",
        "x       INPUT   float32",
        "logits  OUTPUT",
    ]
    assert text_table([]) == ""


def test_text_table_extra_lines_start_under_a_column() -> None:
    rows = [["ok", "torch", "2.13", "CPU build"], ["missing", "TensorRT", "-", "not installed"]]
    out = text_table(rows, indent="  ", extra={1: ["fix: pip install tensorrt"]}, extra_column=2)
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[2].index("fix:") == lines[1].index("-") == lines[0].index("2.13")
    ragged = text_table([["a"], ["bb", "c"]])
    assert ragged.splitlines() == ["a", "bb  c"]


def test_html_table_escapes_untrusted_text_only() -> None:
    out = html_table(
        [["<img src=x>", Cell(Html("<b>ok</b>"), style="color:red"), Cell("note", colspan=3)]],
        header=["name", "status", "more"],
        caption="model <1>",
        code=True,
    )
    assert "<img" not in out and "&lt;img src=x&gt;" in out
    assert "<code>&lt;img src=x&gt;</code>" in out
    assert "<td style='color:red'><b>ok</b></td>" in out
    assert "<td colspan='3'><code>note</code></td>" in out
    assert "<caption>model &lt;1&gt;</caption>" in out
    assert out.count("<tr>") == 2 and out.startswith("<table>") and out.endswith("</table>")
