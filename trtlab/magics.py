"""``%%requires tensorrt gpu``: run a notebook cell only where its hardware and libraries exist.

Load with ``%load_ext trtlab``. A cell whose needs are not met prints one line saying what is
missing and what this machine has, instead of failing, so the same notebook runs top to bottom
on a CPU laptop and on a GPU server. The names and their meaning are
:data:`trtlab.capabilities.REQUIREMENTS`; what this machine has is
:func:`trtlab.capabilities.requirement_set` (probed once per process, without importing torch).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from trtlab.errors import InputError


def _usage_error(message: str) -> Exception:
    """IPython shows exactly ``UsageError`` (not subclasses) as one line without a traceback."""
    try:
        from IPython.core.error import UsageError
    except ImportError:  # pragma: no cover - magics only run inside IPython
        return RuntimeError(message)
    return UsageError(message)


def parse_requirements(line: str) -> list[str]:
    """Split ``"tensorrt, gpu"`` / ``"tensorrt gpu"`` into names; reject unknown ones."""
    from trtlab.capabilities import REQUIREMENTS as CAPABILITIES

    names = [n for n in re.split(r"[\s,]+", line.strip().lower()) if n]
    if not names:
        raise InputError(
            "%%requires needs at least one capability name",
            hint="e.g. %%requires tensorrt gpu; valid names: " + ", ".join(CAPABILITIES),
        )
    unknown = [n for n in names if n not in CAPABILITIES]
    if unknown:
        raise InputError(
            f"%%requires: unknown capability {', '.join(unknown)}; valid names: "
            + ", ".join(CAPABILITIES),
            hint="run trtlab.doctor() to see what this machine has",
        )
    return list(dict.fromkeys(names))


def missing_requirements(names: list[str], have: frozenset[str] | set[str]) -> list[str]:
    """The requested names this machine lacks, in the order asked."""
    return [n for n in names if n not in have]


def skip_message(missing: list[str], have: frozenset[str] | set[str]) -> str:
    """The one line printed instead of running a cell."""
    return f"skipped: needs {', '.join(missing)} — this machine has: {', '.join(sorted(have))}"


def make_requires_magic(
    shell: Any, capabilities: Callable[[], frozenset[str]] | None = None
) -> Callable[[str, str], Any]:
    """Build the ``%%requires`` cell magic bound to ``shell`` (``capabilities`` is for tests)."""

    def requires(line: str, cell: str) -> Any:
        try:
            names = parse_requirements(line)
        except InputError as exc:
            raise _usage_error(str(exc)) from None
        if capabilities is None:
            from trtlab.capabilities import requirement_set

            have = requirement_set()
        else:
            have = capabilities()
        missing = missing_requirements(names, have)
        if missing:
            print(skip_message(missing, have))
            return None
        result = shell.run_cell(cell, store_history=False)
        if result.error_before_exec is not None or result.error_in_exec is not None:
            # the traceback is already shown; fail the outer cell too so nbval/CI notice
            raise _usage_error("the cell under %%requires raised an error (traceback above)")
        return None  # the inner run already displayed the cell's value

    requires.__doc__ = (
        "Run the cell only if all named capabilities exist, e.g. `%%requires tensorrt gpu`."
    )
    return requires


def _figure_png(fig: Any) -> bytes:
    from trtlab.viz import figure_to_png

    return figure_to_png(fig)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext trtlab``: register ``%%requires``, and show trtlab's figures as images.

    ``trtlab.viz`` builds ``matplotlib.figure.Figure`` objects without pyplot (deterministic, no
    global state), and IPython only renders those after ``%matplotlib inline``; registering the
    PNG formatter by type name makes a figure returned by a cell show as a picture, without
    importing matplotlib here.
    """
    ipython.register_magic_function(make_requires_magic(ipython), "cell", "requires")
    formatter = ipython.display_formatter.formatters.get("image/png")
    if formatter is not None:
        formatter.for_type_by_name("matplotlib.figure", "Figure", _figure_png)


__all__ = [
    "load_ipython_extension",
    "make_requires_magic",
    "missing_requirements",
    "parse_requirements",
    "skip_message",
]
