"""The ``trtlab`` command in a subprocess: exit codes, readable errors, JSON, export, bench."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trtlab.cli import COMMANDS, Command, build_parser, main, register


def _run(
    *args: str, cache: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cache is not None:
        env["TRTLAB_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "trtlab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_doctor_exit_zero_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0  # in-process; the JSON test below runs the real command
    out = capsys.readouterr().out
    assert "CPU path (PyTorch + ONNX Runtime): usable" in out
    assert "onnxruntime" in out


def test_doctor_exit_one_when_cpu_path_broken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    from trtlab.doctor import Check, DoctorReport

    broken = DoctorReport([Check("onnxruntime", "missing", fix="pip install onnxruntime")], {"cpu"})
    monkeypatch.setattr(importlib.import_module("trtlab.doctor"), "doctor", lambda: broken)
    assert main(["doctor"]) == 1
    assert "NOT usable" in capsys.readouterr().out


def test_doctor_json() -> None:
    proc = _run("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["cpu_path_ok"] is True
    assert "onnxruntime" in data["capabilities"]
    assert {c["name"] for c in data["checks"]} >= {"torch", "onnxruntime", "TensorRT"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("quickstart", "--backend", "tensorflow"), "invalid choice: 'tensorflow'"),
        (("bench", "model.onnx", "--batch", "two"), "invalid int value: 'two'"),
        (("export",), "the following arguments are required: model"),
    ],
)
def test_bad_arguments_exit_2(args: tuple[str, ...], needle: str) -> None:
    proc = _run(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_user_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    proc = _run("bench", str(tmp_path / "missing.onnx"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ONNX file not found")
    assert "How to fix" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run("quickstart", "--backend", "onnxruntime", "--precision", "fp16")
    assert proc.returncode == 2
    assert "error: precision='fp16' needs TensorRT" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "doctor" in capsys.readouterr().out
    assert main(["--version"]) == 0


def test_export_and_bench_tiny_model(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "tiny.onnx"
    proc = _run("export", "tiny_classifier", "-o", str(out), cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.stat().st_size > 0
    assert "input: float32 [batch, 3, 32, 32]" in proc.stdout
    assert "logits: float32 [batch, 10]" in proc.stdout

    proc = _run(
        "bench", str(out), "--backend", "onnxruntime", "--batch", "1", "3",
        "--iterations", "3", "--warmup", "1", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["batch"] for r in results] == [1, 3]
    assert all(r["backend"] == "onnxruntime" and r["iterations"] == 3 for r in results)
    assert all(r["median_ms"] > 0 for r in results)
    assert "backend=onnxruntime" in proc.stderr


def test_bench_torch_by_model_name() -> None:
    proc = _run("bench", "tiny_classifier", "--backend", "torch", "--iterations", "2")
    assert proc.returncode == 0, proc.stderr
    assert "[torch on cpu] batch 1: median" in proc.stdout


def test_register_extension_point(capsys: pytest.CaptureFixture[str]) -> None:
    def configure(p: object) -> None:
        p.add_argument("--flag", action="store_true")  # type: ignore[attr-defined]

    def run(args: object) -> int:
        print("hello", getattr(args, "flag"))  # noqa: B009
        return 7

    register(Command("hello", "test command", configure, run))
    try:
        assert "hello" in build_parser().format_help()
        assert main(["hello", "--flag"]) == 7
        assert "hello True" in capsys.readouterr().out
    finally:
        COMMANDS.pop("hello")
