"""pytest plugin for the notebook run: total time per notebook, printed after the run.

The curriculum has a time budget on the 2-core CI machine (issue 10: the whole CPU curriculum in
under 10 minutes); this prints where the time goes, one line per notebook, slowest first.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_totals: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: Any) -> None:
    _totals[report.nodeid.split("::")[0].rsplit("/", 1)[-1]] += report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _totals:
        return
    terminalreporter.section("time per notebook")
    for name, seconds in sorted(_totals.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
    terminalreporter.write_line(f"{sum(_totals.values()):7.1f} s  total")
