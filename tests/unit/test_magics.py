"""``%%requires`` in a headless IPython shell: runs, skips with one line, rejects unknown names."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("IPython")
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from trtlab import capabilities as machine
from trtlab.capabilities import REQUIREMENTS as CAPABILITIES
from trtlab.capabilities import requirement_set as capabilities
from trtlab.errors import InputError
from trtlab.magics import (
    make_requires_magic,
    missing_requirements,
    parse_requirements,
    skip_message,
)


@pytest.fixture(scope="module")
def shell() -> Iterator[Any]:
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "trtlab")
    yield sh
    InteractiveShell.clear_instance()


def test_load_ext_registers_cell_magic(shell: Any) -> None:
    assert "requires" in shell.magics_manager.magics["cell"]


def test_parse_requirements() -> None:
    assert parse_requirements("tensorrt gpu") == ["tensorrt", "gpu"]
    assert parse_requirements(" TensorRT,gpu , tensorrt") == ["tensorrt", "gpu"]
    with pytest.raises(InputError, match="valid names: cpu, torch"):
        parse_requirements("tensorrt warp-drive")
    with pytest.raises(InputError, match="at least one"):
        parse_requirements("   ")


def test_skip_message_is_one_line() -> None:
    msg = skip_message(["tensorrt", "gpu"], {"onnxruntime", "cpu"})
    assert msg == "skipped: needs tensorrt, gpu — this machine has: cpu, onnxruntime"
    assert missing_requirements(["cpu", "gpu"], {"cpu"}) == ["gpu"]


def test_cell_runs_when_requirements_met(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run_cell("%%requires cpu onnxruntime\nran_here = 40 + 2\nprint('ran', ran_here)")
    assert result.success
    assert shell.user_ns["ran_here"] == 42
    assert "ran 42" in capsys.readouterr().out


def test_cell_skipped_when_missing(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    have = capabilities()
    if {"tensorrt", "gpu"} <= have:
        pytest.skip("this machine has TensorRT and a GPU; the skip path is tested with a fake set")
    shell.user_ns.pop("skipped_cell_ran", None)
    result = shell.run_cell("%%requires tensorrt gpu\nskipped_cell_ran = True\nprint('ran')")
    assert result.success
    assert "skipped_cell_ran" not in shell.user_ns
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    missing = [n for n in ("tensorrt", "gpu") if n not in have]
    assert out.startswith(f"skipped: needs {', '.join(missing)} — this machine has: ")
    assert "onnxruntime" in out


def test_skip_with_injected_capabilities(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    class FakeShell:
        def run_cell(self, cell: str, store_history: bool = False) -> Any:
            calls.append(cell)
            raise AssertionError("must not run")

    magic = make_requires_magic(FakeShell(), lambda: frozenset({"cpu", "torch"}))
    assert magic("gpu", "x = 1") is None
    assert calls == []
    assert capsys.readouterr().out == "skipped: needs gpu — this machine has: cpu, torch\n"


def test_unknown_name_is_a_usage_error(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run_cell("%%requires tensorrt quantum\nx = 1")
    assert not result.success
    assert type(result.error_in_exec) is UsageError  # IPython prints it as one line
    err = capsys.readouterr().err
    assert "unknown capability quantum" in err
    for name in CAPABILITIES:
        assert name in err


def test_errors_inside_the_cell_fail_the_cell(shell: Any) -> None:
    result = shell.run_cell("%%requires cpu\n1 / 0")
    assert not result.success
    assert "raised an error" in str(result.error_in_exec)


def test_default_magic_asks_capabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an injected set, ``%%requires`` uses trtlab.capabilities (not a doctor run)."""
    ran: list[str] = []

    class FakeShell:
        def run_cell(self, cell: str, store_history: bool = False) -> Any:
            ran.append(cell)
            return type("Result", (), {"error_before_exec": None, "error_in_exec": None})()

    gpu_host = machine.Capabilities(gpu=True, cuda_python=True, tensorrt_full=True)
    monkeypatch.setattr(machine, "probe", lambda refresh=False: gpu_host)
    magic = make_requires_magic(FakeShell())
    magic("tensorrt gpu cuda", "x = 1")
    assert ran == ["x = 1"]


def test_requires_imports_no_doctor_and_no_heavy_library() -> None:
    code = (
        "import sys, trtlab.magics as m\n"
        "class S:\n"
        "    def run_cell(self, cell, store_history=False):\n"
        "        return type('R', (), {'error_before_exec': None, 'error_in_exec': None})()\n"
        "m.make_requires_magic(S())('cpu', 'x = 1')\n"
        "print([n for n in ('trtlab.doctor', 'torch', 'onnxruntime', 'onnx') if n in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_extension_shows_trtlab_figures_as_png() -> None:
    """A viz Figure returned by a cell renders as an image after %load_ext trtlab (no pyplot)."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    import trtlab

    shell = InteractiveShell.instance()
    try:
        png = shell.display_formatter.formatters["image/png"]
        png.pop(Figure, None)  # whatever an earlier %matplotlib in this process registered
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1])
        assert "image/png" not in shell.display_formatter.format(fig)[0]
        trtlab.load_ipython_extension(shell)
        assert png.lookup_by_type(Figure) is trtlab.magics._figure_png
        after = shell.display_formatter.format(fig)[0]
        assert after["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
        assert "requires" in shell.magics_manager.magics["cell"]
    finally:
        InteractiveShell.clear_instance()
