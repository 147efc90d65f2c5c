"""Doctor report: structure, capabilities on this machine, JSON, rendering, never raising."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

import trtlab
from trtlab import capabilities as machine
from trtlab._lazy import has_module
from trtlab.doctor import CAPABILITIES, Check, DoctorReport, capabilities, doctor

# ``trtlab.doctor`` is both a submodule and a function; import_module always gives the module
doctor_module = importlib.import_module("trtlab.doctor")

EXPECTED_ROWS = [
    "Python",
    "OS",
    "CPU",
    "GPU / driver",
    "torch",
    "torchvision",
    "onnx",
    "onnxruntime",
    "TensorRT",
    "TensorRT lean",
    "cuda-python",
    "pycuda",
    "Jupyter",
    "ipywidgets",
]


@pytest.fixture(scope="module")
def report() -> DoctorReport:
    return doctor()


def test_rows_and_statuses(report: DoctorReport) -> None:
    assert [c.name for c in report.checks] == EXPECTED_ROWS
    for c in report.checks:
        assert c.status in ("ok", "missing", "warn", "error")
        if c.status != "ok":
            assert c.fix or c.name in ("GPU / driver",), c
    assert report["python"].status == "ok"
    assert report["torch"].version.startswith("2.")
    with pytest.raises(KeyError):
        report["nope"]


def test_capabilities_match_the_machine(report: DoctorReport) -> None:
    caps = report.capabilities
    assert caps <= set(CAPABILITIES)
    assert {"cpu", "torch", "torchvision", "onnx", "onnxruntime"} <= caps
    assert ("tensorrt" in caps) == has_module("tensorrt")
    assert ("gpu" in caps) == machine.probe().gpu
    assert ("tensorrt-lean" in caps) == (
        has_module("tensorrt_lean") or has_module("tensorrt_lean_bindings")
    )
    assert ("widgets" in caps) == has_module("ipywidgets")
    assert report.cpu_path_ok is True
    assert report.tensorrt_path_ok == ({"tensorrt", "gpu", "cuda-python"} <= caps)
    assert report.tensorrt_path_ok == machine.can_build_engines()
    assert report.preferred_backend == machine.select_backend("onnx")
    # the light set (%%requires) and the doctor's agree wherever the doctor saw things import
    assert caps <= capabilities() == machine.requirement_set()


def test_preferred_backend_is_the_capabilities_rule() -> None:
    """TensorRT and a GPU without cuda-python: "auto" is ONNX Runtime, and the summary says why."""
    r = DoctorReport([Check("x", "ok")], {"cpu", "torch", "onnxruntime", "tensorrt", "gpu"})
    assert not r.tensorrt_path_ok
    assert r.preferred_backend == "onnxruntime"
    assert "cuda-python" in r.summary()
    full = DoctorReport([Check("x", "ok")], r.capabilities | {"cuda-python"})
    assert full.tensorrt_path_ok and full.preferred_backend == "tensorrt"
    lean = DoctorReport([Check("x", "ok")], {"cpu", "onnxruntime", "tensorrt-lean", "gpu"})
    assert lean.preferred_backend == "onnxruntime" and "lean" in lean.summary()
    assert DoctorReport([], {"cpu"}).preferred_backend == "none"


def test_no_core_module_imports_the_doctor() -> None:
    """doctor is a report over trtlab.capabilities; only the user surfaces may import it."""
    root = Path(trtlab.__file__).parent
    surfaces = {root / "doctor.py", root / "cli.py", root / "__init__.py"}
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path in surfaces or "widgets" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if "trtlab.doctor" in names:
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_cpu_path_needs_all_four() -> None:
    r = DoctorReport([Check("x", "ok")], {"cpu", "torch", "onnx", "onnxruntime"})
    assert not r.cpu_path_ok  # torchvision missing
    assert r.preferred_backend == "onnxruntime"
    assert "NOT usable" in r.summary()


def test_json_round_trip(report: DoctorReport) -> None:
    data = json.loads(report.to_json())
    assert data["cpu_path_ok"] is True
    assert data["capabilities"] == sorted(report.capabilities)
    assert [c["name"] for c in data["checks"]] == EXPECTED_ROWS
    assert set(data["checks"][0]) == {"name", "status", "version", "detail", "fix", "required"}
    assert (
        "onnxruntime_providers" in data and "CPUExecutionProvider" in data["onnxruntime_providers"]
    )


def test_text_and_html(report: DoctorReport) -> None:
    text = str(report)
    lines = text.splitlines()
    # aligned table: every row's version column starts at the same offset
    rows = [
        ln
        for ln in lines[1 : 1 + len(EXPECTED_ROWS) + 10]
        if ln.startswith("  ") and "fix:" not in ln
    ]
    offsets = {
        ln.index(c.version or "-", 2 + 7 + 2 + len(c.name))
        for ln, c in zip(rows, report, strict=False)
    }
    assert len(offsets) == 1
    assert "CPU path (PyTorch + ONNX Runtime): usable" in text
    html = report._repr_html_()
    assert html.count("<tr>") == len(EXPECTED_ROWS) + 1
    assert "capabilities" in html


def test_probe_failures_become_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> Check:
        raise RuntimeError("driver exploded")

    monkeypatch.setattr(doctor_module, "_check_gpu", boom)
    r = doctor()
    assert r["GPU / driver"].status == "error"
    assert "driver exploded" in r["GPU / driver"].detail
    assert "gpu" not in r.capabilities


def test_missing_tensorrt_row_has_fix(report: DoctorReport) -> None:
    if has_module("tensorrt"):
        pytest.skip("tensorrt is installed here")
    row = report["TensorRT"]
    assert row.status == "missing"
    assert "nvcr.io/nvidia/tensorrt" in row.fix


def test_module_and_function_both_callable() -> None:
    # importing the submodule rebinds trtlab.doctor to the module; both spellings must work
    assert callable(trtlab.doctor)
    assert isinstance(doctor_module(), DoctorReport)
