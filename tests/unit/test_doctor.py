"""Doctor report: structure, capabilities on this machine, JSON, rendering, never raising."""

from __future__ import annotations

import importlib
import json

import pytest

import trtlab
from trtlab._lazy import has_module
from trtlab.doctor import CAPABILITIES, Check, DoctorReport, capabilities, doctor, gpu_present

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
    assert ("gpu" in caps) == gpu_present()
    assert ("tensorrt-lean" in caps) == (
        has_module("tensorrt_lean") or has_module("tensorrt_lean_bindings")
    )
    assert ("widgets" in caps) == has_module("ipywidgets")
    assert report.cpu_path_ok is True
    assert report.tensorrt_path_ok == ({"tensorrt", "gpu"} <= caps)
    assert report.preferred_backend == ("tensorrt" if report.tensorrt_path_ok else "onnxruntime")
    assert capabilities() == frozenset(capabilities())


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
