"""trtlab.capabilities: one cached probe, and the one rule for which backend runs what.

GPUs are faked at the lowest level the probe reads (an ``nvidia-smi`` script on ``PATH``) and
TensorRT by modules in ``sys.modules``, so the real finding and parsing code runs.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import stat
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from trtlab import capabilities as C
from trtlab.capabilities import Capabilities
from trtlab.errors import BackendError, DependencyError, InputError
from trtlab.trt.precision import PRECISIONS

BUILD_HOST = Capabilities(
    gpu=True,
    gpu_name="NVIDIA H200",
    compute_capability=(9, 0),
    cuda_python=True,
    tensorrt_full=True,
    tensorrt_version=(10, 13, 3, 9),
    ort_providers=("CPUExecutionProvider",),
    torch=True,
    onnxruntime=True,
)
CPU_HOST = Capabilities(torch=True, onnxruntime=True, ort_providers=("CPUExecutionProvider",))


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    """Throw the cached probe away before and after (a faked machine must not leak)."""
    C._cache.clear()
    yield
    C._cache.clear()


def _fake_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[str]) -> None:
    """Put an ``nvidia-smi`` on PATH that lists ``rows`` (CSV: index, uuid, name, cc, ...)."""
    script = tmp_path / "nvidia-smi"
    body = "\\n".join(rows)
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f'  *--query-gpu*) printf "{body}\\n" ;;\n'
        '  -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-aaaa)" ;;\n'
        '  *) echo "| NVIDIA-SMI 570.10   Driver Version: 570.10   CUDA Version: 13.0 |" ;;\n'
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def _fake_full_tensorrt(monkeypatch: pytest.MonkeyPatch, version: str = "10.13.3.9") -> None:
    full = types.ModuleType("tensorrt")
    full.Builder = object  # type: ignore[attr-defined]
    full.__version__ = version  # type: ignore[attr-defined]
    full.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)
    monkeypatch.setitem(sys.modules, "tensorrt", full)


H200_ROWS = ["0, GPU-aaaa, NVIDIA H200, 9.0, 570.10, 143771"]


# -- probe ---------------------------------------------------------------------------------------
def test_probe_is_cached_and_refresh_reprobes(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = C._measure

    def counting() -> Capabilities:
        calls.append(1)
        return real()

    monkeypatch.setattr(C, "_measure", counting)
    first = C.probe()
    assert C.probe() is first and len(calls) == 1
    again = C.probe(refresh=True)
    assert len(calls) == 2 and again is not first and again == first
    assert C.probe() is again


def test_probe_reads_nvidia_smi(
    fresh_probe: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_smi(tmp_path, monkeypatch, [*H200_ROWS, "1, GPU-bbbb, NVIDIA L4, 8.9, 570.10, 23034"])
    caps = C.probe(refresh=True)
    assert caps.gpu and caps.gpu_source == "nvidia-smi"
    assert caps.gpu_names == ("NVIDIA H200", "NVIDIA L4") and caps.gpu_count == 2
    assert (caps.gpu_name, caps.compute_capability, caps.sm) == ("NVIDIA H200", (9, 0), "sm_90")
    assert caps.driver_version == "570.10" and caps.gpu_memory_mib == 143771
    # CUDA_VISIBLE_DEVICES is honoured the way CUDA does: by index or UUID, empty hides all
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert C.probe(refresh=True).gpu_names == ("NVIDIA L4",)
    assert C.probe().compute_capability == (8, 9)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa")
    assert C.probe(refresh=True).gpu_names == ("NVIDIA H200",)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    hidden = C.probe(refresh=True)
    assert not hidden.gpu and "hides every GPU" in hidden.gpu_detail


def test_old_driver_without_compute_cap_field(
    fresh_probe: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        "  *compute_cap*) echo 'Field \"compute_cap\" is not a valid field'; exit 2 ;;\n"
        "  *--query-gpu*) echo '0, GPU-cccc, Tesla T4, 470.1, 15109' ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    caps = C.probe(refresh=True)
    assert caps.gpu and caps.gpu_name == "Tesla T4" and caps.compute_capability is None


def test_ort_providers_exact_when_imported(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("onnxruntime")
    fake.get_available_providers = lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "onnxruntime", fake)
    caps = C.probe(refresh=True)
    assert caps.ort_providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert caps.ort_providers_exact
    assert "onnxruntime-gpu" in C.requirement_set(caps)


def test_probe_imports_no_torch_or_onnxruntime() -> None:
    code = (
        "import json, sys; from trtlab import capabilities as c; caps = c.probe(); "
        "print(json.dumps({'loaded': [m for m in ('torch', 'onnxruntime', 'onnx', 'trtlab.doctor')"
        " if m in sys.modules], 'providers': list(caps.ort_providers),"
        " 'exact': caps.ort_providers_exact}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["loaded"] == []
    if data["providers"]:  # read from the installed wheel, not from onnxruntime itself
        assert "CPUExecutionProvider" in data["providers"] and data["exact"] is False


# -- the backend rule ----------------------------------------------------------------------------
def test_select_backend_truth_table() -> None:
    no_cuda_python = replace(BUILD_HOST, cuda_python=False)
    lean_only = Capabilities(
        **{**BUILD_HOST.__dict__, "tensorrt_full": False, "tensorrt_lean": True}
    )
    cases = [
        (BUILD_HOST, "onnx", "auto", "tensorrt"),
        (BUILD_HOST, "onnx", "onnxruntime", "onnxruntime"),
        (BUILD_HOST, "engine", "auto", "tensorrt"),
        (BUILD_HOST, "module", "auto", "torch"),
        (CPU_HOST, "onnx", "auto", "onnxruntime"),
        (CPU_HOST, "module", "torch", "torch"),
        # the bug: a GPU host with TensorRT but without cuda-python used to pick TensorRT
        (no_cuda_python, "onnx", "auto", "onnxruntime"),
        # the lean runtime runs engines but cannot build them from ONNX
        (lean_only, "onnx", "auto", "onnxruntime"),
        (lean_only, "engine", "auto", "tensorrt"),
    ]
    for caps, kind, requested, expected in cases:
        got = C.select_backend(kind, requested, caps=caps)  # type: ignore[arg-type]
        assert got == expected, (caps.summary(), kind, requested)


def test_select_backend_refusals_say_why() -> None:
    no_cuda_python = replace(BUILD_HOST, cuda_python=False)
    with pytest.raises(BackendError, match="cuda-python") as info:
        C.select_backend("onnx", "tensorrt", caps=no_cuda_python)
    assert "trtlab[gpu]" in str(info.value)
    lean_only = replace(BUILD_HOST, tensorrt_full=False, tensorrt_lean=True)
    with pytest.raises(BackendError, match="lean TensorRT runtime"):
        C.select_backend("onnx", "tensorrt", caps=lean_only)
    with pytest.raises(BackendError, match="no CUDA GPU") as info:
        C.select_backend("engine", what="the engine m.plan", caps=CPU_HOST)
    assert "running the engine m.plan" in str(info.value)
    with pytest.raises(InputError, match="only backend='tensorrt'"):
        C.select_backend("engine", "onnxruntime", caps=BUILD_HOST)
    with pytest.raises(InputError, match="cannot run with backend='torch'"):
        C.select_backend("onnx", "torch", caps=BUILD_HOST)
    with pytest.raises(InputError, match="export it first"):
        C.select_backend("module", "tensorrt", caps=BUILD_HOST)
    with pytest.raises(InputError, match="valid backends: auto, torch, onnxruntime, tensorrt"):
        C.select_backend("onnx", "tensorflow", caps=CPU_HOST)
    with pytest.raises(InputError, match="expected 'onnx', 'engine' or 'module'"):
        C.select_backend("pickle", caps=CPU_HOST)  # type: ignore[arg-type]
    with pytest.raises(DependencyError, match="needs ONNX Runtime"):
        C.select_backend("onnx", caps=Capabilities())
    with pytest.raises(DependencyError, match="needs PyTorch"):
        C.select_backend("module", caps=Capabilities())


def test_can_build_and_run_engines() -> None:
    assert BUILD_HOST.can_build_engines() and BUILD_HOST.can_run_engines()
    lean = Capabilities(gpu=True, cuda_python=True, tensorrt_lean=True)
    assert lean.can_run_engines() and not lean.can_build_engines()
    assert not Capabilities(tensorrt_full=True, cuda_python=True).can_run_engines()  # no GPU
    assert C.can_build_engines(BUILD_HOST) and not C.can_run_engines(CPU_HOST)
    assert C.available_backends(BUILD_HOST) == ["torch", "onnxruntime", "tensorrt"]
    assert C.available_backends(CPU_HOST) == ["torch", "onnxruntime"]


def test_tensorrt_missing_error_lists_every_reason() -> None:
    err = C.tensorrt_missing_error("the demo", caps=Capabilities(tensorrt_lean=True))
    text = str(err)
    assert text.startswith("the demo needs TensorRT")
    for part in ("lean TensorRT runtime", "no CUDA GPU", "cuda-python", "nvcr.io/nvidia/tensorrt"):
        assert part in text, part
    assert "backend='onnxruntime'" in (err.hint or "")


def test_default_precision() -> None:
    assert C.default_precision("tensorrt", caps=BUILD_HOST) == "fp16"
    pascal = replace(BUILD_HOST, compute_capability=(6, 1))
    assert C.default_precision("tensorrt", caps=pascal) == "fp32"
    assert C.default_precision("onnxruntime", caps=BUILD_HOST) == "fp32"
    assert C.default_precision("torch", caps=BUILD_HOST) == "fp32"
    for backend in C.BACKENDS:
        assert C.default_precision(backend, caps=BUILD_HOST) in PRECISIONS
    with pytest.raises(InputError, match="unknown backend 'tvm'"):
        C.default_precision("tvm")


def test_requirement_set_from_capabilities() -> None:
    names = C.requirement_set(BUILD_HOST)
    assert {"cpu", "gpu", "tensorrt", "cuda-python", "cuda", "torch", "onnxruntime"} <= names
    assert "tensorrt-lean" not in names and "onnxruntime-gpu" not in names
    assert names <= set(C.REQUIREMENTS)
    assert C.requirement_set(Capabilities()) == frozenset({"cpu"})
    assert "cuda" in C.requirement_set(Capabilities(torch_cuda=True))


def test_backend_tuples_have_one_home() -> None:
    from trtlab import quickstart, wrappers
    from trtlab.runners import base

    assert base.BACKENDS is C.BACKENDS
    assert quickstart.BACKENDS == wrappers.WRAPPER_BACKENDS == ("auto", *C.ONNX_BACKENDS)
    assert quickstart.PRECISIONS is PRECISIONS


# -- the bug, end to end through runner() --------------------------------------------------------
def test_auto_runner_without_cuda_python_uses_onnxruntime(
    fresh_probe: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GPU host with full TensorRT but no cuda-python must not start a TensorRT build."""
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from trtlab.runners import runner

    doctor = importlib.import_module("trtlab.doctor")

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "relu.onnx"
    onnx.save(model, str(path))

    _fake_smi(tmp_path, monkeypatch, H200_ROWS)
    _fake_full_tensorrt(monkeypatch)
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)  # cuda-python not installed
    clear = getattr(doctor.gpu_present, "cache_clear", None)  # the old, cached GPU check
    if clear is not None:
        clear()
    caps = C.probe(refresh=True)
    assert caps.gpu and caps.tensorrt_full and not caps.cuda_python

    r = runner(path)
    assert r.backend == "onnxruntime"
    engine = tmp_path / "relu.engine"
    engine.write_bytes(b"\0")
    with pytest.raises(BackendError, match="cuda-python"):
        runner(engine)
    if clear is not None:
        clear()
