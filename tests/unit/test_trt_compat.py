"""TensorRT detection, versions and the capturing logger (_compat)."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from trtlab.errors import ConfigError, DependencyError
from trtlab.trt import _compat as C


def test_parse_and_format_versions() -> None:
    assert C.parse_version("10.13.3.9") == (10, 13, 3, 9)
    assert C.parse_version("11.4.0.106") == (11, 4, 0, 106)
    assert C.parse_version("10.0.1b2") == (10, 0, 1)
    assert C.parse_version((10, 13)) == (10, 13)
    assert C.version_str((11, 4, 0)) == "11.4.0"
    with pytest.raises(ConfigError):
        C.parse_version("latest")


def test_strongly_typed_only() -> None:
    assert C.is_strongly_typed_only("11.0") and C.is_strongly_typed_only((12, 1))
    assert not C.is_strongly_typed_only("10.13.3.9") and not C.is_strongly_typed_only(None)


def test_import_tensorrt_prefers_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    full = types.ModuleType("tensorrt")
    full.Builder = object  # type: ignore[attr-defined]
    full.__version__ = "10.13.3.9"  # type: ignore[attr-defined]
    lean = types.ModuleType("tensorrt_lean")
    lean.__version__ = "11.4.0.106"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tensorrt", full)
    monkeypatch.setitem(sys.modules, "tensorrt_lean", lean)
    assert C.import_tensorrt("full") is full
    assert C.import_tensorrt("any") is full
    assert C.import_tensorrt("lean") is lean
    assert C.has_full_tensorrt() and C.has_lean_runtime()
    assert C.tensorrt_version("full") == (10, 13, 3, 9)
    assert C.tensorrt_version("lean") == (11, 4, 0, 106)
    # a module without a Builder is not a full TensorRT
    monkeypatch.setitem(sys.modules, "tensorrt", types.ModuleType("tensorrt"))
    monkeypatch.setitem(sys.modules, "tensorrt_bindings", None)
    assert not C.has_full_tensorrt()
    assert C.tensorrt_version("full") is None
    with pytest.raises(DependencyError, match="no Builder"):
        C.import_tensorrt("full", purpose="build")
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(DependencyError, match=r"needed to build[\s\S]*How to fix"):
        C.import_tensorrt("full", purpose="build")
    with pytest.raises(ConfigError):
        C.import_tensorrt("best")  # type: ignore[arg-type]


def test_log_capture_levels_and_forwarding(caplog: pytest.LogCaptureFixture) -> None:
    cap = C.LogCapture(min_severity="warning")
    with caplog.at_level(logging.DEBUG, logger="trtlab.trt"):
        cap.log("ERROR", "bad thing")
        cap.log(types.SimpleNamespace(name="WARNING"), "careful")
        cap.log(3, "info is below the threshold")
        cap.log("VERBOSE", "noise")
    assert [r.severity for r in cap.records] == ["ERROR", "WARNING"]
    assert cap.tail(1) == ["[WARNING] careful"] and cap.tail(0) == []
    assert [str(r) for r in cap.errors()] == ["[ERROR] bad thing"]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "bad thing"),
        (logging.WARNING, "careful"),
    ]
    with pytest.raises(ConfigError):
        C.LogCapture(min_severity="loud")


def test_log_capture_is_bounded() -> None:
    cap = C.LogCapture(min_severity="verbose", max_records=3)
    for i in range(5):
        cap.log("INFO", f"m{i}")
    assert cap.messages() == ["[INFO] m2", "[INFO] m3", "[INFO] m4"] and cap.dropped == 2
    cap.clear()
    assert cap.records == [] and cap.dropped == 0


def test_severity_names() -> None:
    assert C.severity_name(0) == "INTERNAL_ERROR" and C.severity_name(4) == "VERBOSE"
    assert C.severity_name("warning") == "WARNING" and C.severity_name(object()) == "INFO"


def test_trt_logger_with_lean_bindings() -> None:
    """The lean bindings import on CPU: the logger really subclasses their ILogger."""
    lean = pytest.importorskip("tensorrt_lean_bindings")
    cap = C.LogCapture()
    logger = C.trt_logger(lean, capture=cap)
    assert isinstance(logger, lean.ILogger) and logger.capture is cap
    logger.log(lean.ILogger.Severity.ERROR, "from python")
    logger.log(lean.ILogger.Severity.VERBOSE, "dropped")
    assert cap.messages() == ["[ERROR] from python"]
    assert type(C.trt_logger(lean)) is type(logger)  # the subclass is made once per module


def test_builderless_tensorrt_is_lean_for_every_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import tensorrt`` without ``Builder``: require_full, has_* and the probe all agree."""
    from trtlab import capabilities

    runtime_only = types.ModuleType("tensorrt")
    runtime_only.__version__ = "11.4.0.106"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tensorrt", runtime_only)
    for name in ("tensorrt_bindings", "tensorrt_lean", "tensorrt_lean_bindings"):
        monkeypatch.setitem(sys.modules, name, None)
    assert not C.has_full_tensorrt()
    assert C.has_lean_runtime()
    assert C.tensorrt_version("full") is None and C.tensorrt_version("lean") == (11, 4, 0, 106)
    assert C.import_tensorrt("lean") is runtime_only and C.import_tensorrt("any") is runtime_only
    with pytest.raises(DependencyError, match="tensorrt has no Builder"):
        C.require_full_tensorrt()
    caps = capabilities.probe(refresh=True)
    try:
        assert (caps.tensorrt_full, caps.tensorrt_lean) == (False, True)
        assert caps.tensorrt_lean_module == "tensorrt" and caps.tensorrt_version == (11, 4, 0, 106)
        assert not caps.can_build_engines()
    finally:
        monkeypatch.undo()
        capabilities.probe(refresh=True)


def test_full_tensorrt_found_under_its_bindings_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Builder-less ``tensorrt`` does not hide a full ``tensorrt_bindings``."""
    monkeypatch.setitem(sys.modules, "tensorrt", types.ModuleType("tensorrt"))
    full = types.ModuleType("tensorrt_bindings")
    full.Builder = object  # type: ignore[attr-defined]
    full.__version__ = "10.13.3.9"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tensorrt_bindings", full)
    assert C.has_full_tensorrt() and C.require_full_tensorrt() is full
    assert C.tensorrt_version("full") == (10, 13, 3, 9)
