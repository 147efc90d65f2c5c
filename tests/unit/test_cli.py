"""The ``trtlab`` command: exit codes, readable errors, JSON, export, bench, build flags.

Most tests call :func:`trtlab.cli.main` in-process with the heavy steps monkeypatched to fail the
test if reached (bad arguments must be refused before anything is loaded); a few run the real
command in a subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

from trtlab import cli
from trtlab.cli import COMMANDS, build_parser, main
from trtlab.errors import ConfigError, InputError, ShapeError


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
        (("bench", "model.onnx", "--batch", "two"), "argument --batch: expected a batch size"),
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
    assert proc.stderr.startswith("error:") and "missing.onnx" in proc.stderr
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


def test_command_table_without_plugin_registry() -> None:
    """One table, no plugin registry (issue 11 A); `build` is there without TensorRT code loaded."""
    names = [c.name for c in COMMANDS]
    assert names == ["doctor", "quickstart", "export", "build", "bench", "prefetch", "lab"]
    assert not hasattr(cli, "register") and not hasattr(cli, "PLUGIN_MODULES")
    assert "build" in build_parser().format_help()


def test_parser_imports_nothing_heavy() -> None:
    code = (
        "import sys; from trtlab.cli import build_parser; build_parser(); "
        "print([m for m in ('torch', 'onnx', 'onnxruntime', 'tensorrt', 'tensorrt_lean', "
        "'trtlab.trt.build', 'trtlab.trt.trtexec') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_unexpected_exceptions_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def boom() -> NoReturn:
        raise RuntimeError("a bug")

    monkeypatch.setattr(importlib.import_module("trtlab.doctor"), "doctor", boom)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["doctor"])


# -- `trtlab build` flags (trtexec spelling) ------------------------------------------------------
def _relu_onnx(path: Path, shape: list[int | str]) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    graph = helper.make_graph([helper.make_node("Relu", ["input"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_parse_build_args_trtexec_spelling() -> None:
    kw = cli.parse_build_args(
        [
            "--onnx=m.onnx",
            "--saveEngine",
            "m.engine",
            "--fp16",
            "--minShapes=input:1x3x224x224",
            "--optShapes=input:8x3x224x224",
            "--maxShapes=input:16x3x224x224",
            "--memPoolSize=workspace:4096",
            "--timingCacheFile=t.cache",
            "--builderOptimizationLevel=5",
            "--stronglyTyped",
        ]
    )
    assert kw == {
        "onnx": "m.onnx",
        "engine_path": "m.engine",
        "precision": "fp16",
        "workspace": 4096 << 20,
        "profiles": {"input": ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))},
        "timing_cache": "t.cache",
        "strongly_typed": True,
        "optimization_level": 5,
        "cache": True,
        "progress": True,
    }


def test_parse_build_args_defaults_and_variants() -> None:
    kw = cli.parse_build_args(["--onnx", "m.onnx"])
    assert kw["precision"] == "tf32"  # trtexec's default: FP32 with TF32 allowed
    assert kw["profiles"] is None and kw["workspace"] is None and kw["strongly_typed"] is None
    assert cli.parse_build_args(["--onnx=m", "--noTF32"])["precision"] == "fp32"
    assert cli.parse_build_args(["--onnx=m", "--bf16"])["precision"] == "bf16"
    assert cli.parse_build_args(["--onnx=m", "--precision", "fp16"])["precision"] == "fp16"
    assert cli.parse_build_args(["--onnx=m", "--memPoolSize=workspace:2G"])["workspace"] == 2 << 30
    assert cli.parse_build_args(["--onnx=m", "--memPoolSize=workspace:512MiB"])["workspace"] == (
        512 << 20
    )
    only_opt = cli.parse_build_args(["--onnx=m", "--optShapes=x:2x3"])["profiles"]
    assert only_opt == {"x": ((2, 3), (2, 3), (2, 3))}
    two = cli.parse_build_args(["--onnx=m", "--shapes=a:1x2,'b:0':3x4", "--no-cache", "--quiet"])
    assert two["profiles"] == {"a": ((1, 2),) * 3, "b:0": ((3, 4),) * 3}
    assert two["cache"] is False and two["progress"] is False


@pytest.mark.parametrize(
    ("argv", "error", "match"),
    [
        (["--fp16", "--bf16"], ConfigError, "both"),
        (["--precision=fp32", "--fp16"], ConfigError, "contradicts"),
        (["--precision=tf32", "--noTF32"], ConfigError, "contradicts"),
        (["--minShapes=x:1x3"], ShapeError, "optShapes"),
        (["--optShapes=x:1xq"], ShapeError, "name:AxBxC"),
        (["--optShapes=1x3"], ShapeError, "name:AxBxC"),
        (["--maxShapes=x:1x3", "--optShapes=y:1x3"], ShapeError, "no opt shape"),
        (["--memPoolSize=dlaSRAM:1"], ConfigError, "workspace"),
        (["--shapes=x:1", "--optShapes=x:1"], InputError, "both|--shapes"),
        (["--workspace=1024", "--memPoolSize=workspace:1G"], ConfigError, "both"),
        (["--workspace=0"], ConfigError, "MiB > 0"),
        (["--workspace=nan"], ConfigError, "MiB > 0"),
    ],
)
def test_parse_build_args_errors(argv: list[str], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        cli.parse_build_args(["--onnx=m.onnx", *argv])


@pytest.mark.parametrize(
    ("flags", "note", "effect"),
    [
        (
            ["--workspace=1024"],
            "--workspace=1024 (MiB) was removed",
            "--memPoolSize=workspace:1024M",
        ),
        (["--buildOnly"], "renamed --skipInference", "--skipInference"),
        (["--explicitBatch"], "no effect since TensorRT 10", "--onnx="),
        (["--explicitPrecision"], "no effect since TensorRT 10", "--onnx="),
        (["--minTiming=2"], "--minTiming was removed", "--onnx="),
        (["--nvtxMode=verbose"], "renamed --profilingVerbosity", "--profilingVerbosity=detailed"),
        (["--best"], "--best turns on every precision", "--fp16"),
        (
            ["--iterations=100", "--useCudaGraph"],
            "--useCudaGraph is an inference option",
            "--onnx=",
        ),
    ],
)
def test_build_legacy_flags_accepted_with_a_note(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    note: str,
    effect: str,
) -> None:
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    argv = ["build", f"--onnx={model}", *flags, "--dry-run", "--trt-version=10.13"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "note: " in err and note in err
    command = out.strip().splitlines()[-1]
    assert command.startswith("trtexec ") and effect in command
    for legacy in ("--workspace", "--buildOnly", "--explicitBatch", "--minTiming", "--best"):
        assert legacy not in command.split("=")[0].split()  # never passed on to trtexec 10


@pytest.mark.parametrize(
    ("flag", "needle", "fix"),
    [
        ("--maxBatch=8", "implicit-batch", "--maxShapes="),
        ("--batch=8", "implicit-batch", "--shapes="),
        ("--int8", "INT8 needs calibration", "ModelOpt"),
        ("--fp8", "FP8", "ModelOpt"),
        ("--calib=cache.bin", "calibration", "ModelOpt"),
        ("--loadEngine=m.engine", "does not load", "trtlab bench"),
        ("--uff=m.uff", "UFF parser was removed", "--onnx"),
        ("--deploy=m.prototxt", "Caffe parser", "--onnx"),
    ],
)
def test_build_legacy_flags_refused_with_the_replacement(
    capsys: pytest.CaptureFixture[str], flag: str, needle: str, fix: str
) -> None:
    assert main(["build", "--onnx=m.onnx", flag, "--dry-run", "--trt-version=10.13"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `trtlab build") and needle in err and fix in err
    assert "Traceback" not in err


def test_build_dry_run_10x(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _relu_onnx(tmp_path / "m.onnx", ["n", 4])
    argv = [
        "build", f"--onnx={model}", "--fp16", "--saveEngine=m.engine",
        "--minShapes=input:1x4", "--optShapes=input:4x4", "--maxShapes=input:8x4",
        "--dry-run", "--trt-version=10.13.3",
    ]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "note:" not in err  # nothing legacy here
    lines = out.strip().splitlines()
    assert lines[0].startswith("# trtexec for TensorRT 10.13.3 (given)")
    assert lines[-1].split() == [
        "trtexec", f"--onnx={model}", "--saveEngine=m.engine", "--minShapes=input:1x4",
        "--optShapes=input:4x4", "--maxShapes=input:8x4", "--fp16",
        "--profilingVerbosity=detailed", "--skipInference",
    ]  # fmt: skip


def test_build_dry_run_11x_fp16_uses_converted_onnx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(tmp_path / "cache"))
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    assert main(["build", f"--onnx={model}", "--fp16", "--dry-run", "--trt-version=11.4"]) == 0
    out, err = capsys.readouterr()
    assert "note: TensorRT 11.4 removed --fp16" in err
    command = out.strip().splitlines()[-1].split()
    assert command[1].startswith(f"--onnx={tmp_path / 'cache'}") and "fp16" in command[1]
    assert not {"--fp16", "--stronglyTyped"} & set(command)
    assert "# the fp16 ONNX this names is written by `trtlab build`" in out
    assert not list((tmp_path / "cache").rglob("*.onnx"))  # a dry run writes nothing


def test_build_dry_run_11x_strongly_typed_is_a_no_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    argv = ["build", f"--onnx={model}", "--stronglyTyped", "--dry-run", "--trt-version=11.4"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "--stronglyTyped is a no-op on TensorRT 11.4" in err
    assert "--stronglyTyped" not in out.strip().splitlines()[-1]


def test_build_dry_run_needs_a_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trtlab import capabilities

    caps = dataclasses.replace(capabilities.probe(), tensorrt_version=None)
    monkeypatch.setattr(capabilities, "probe", lambda refresh=False: caps)
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    assert main(["build", f"--onnx={model}", "--dry-run"]) == 2
    assert "--trt-version=10.13" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--trt-version=10.13"], "only applies with --dry-run"),
        (["--maxShape=input:8x4"], "unrecognized arguments: --maxShape"),  # no abbreviations
        (["--builderOptimizationLevel=9"], "expected an optimization level 0..5"),
        (["--timeout=nan"], "argument --timeout"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_build_bad_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    assert main(["build", f"--onnx={model}", *argv]) == 2
    assert needle in capsys.readouterr().err


def test_build_missing_onnx_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["build", f"--onnx={tmp_path / 'nope.onnx'}", "--dry-run"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_build_without_tensorrt_or_trtexec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On this CPU machine: no trtexec and no full TensorRT -> exit 2, a hint, no traceback."""
    from trtlab import capabilities
    from trtlab.trt import trtexec as tx

    if capabilities.probe().tensorrt_full:
        pytest.skip("full TensorRT is installed here")
    monkeypatch.setattr(tx, "find_trtexec", lambda: None)
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    assert main(["build", f"--onnx={model}", "--fp16", "--quiet"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error:") and "TensorRT" in err and "Traceback" not in err
    assert main(["build", "--onnx=m.onnx", "--fp16", "--bf16"]) == cli.EXIT_USAGE
    assert "both given" in capsys.readouterr().err


def test_build_runs_trtexec_with_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With trtexec present, `trtlab build` runs it with the flags of the installed version."""
    from trtlab import capabilities
    from trtlab.trt import trtexec as tx

    caps = dataclasses.replace(
        capabilities.probe(), tensorrt_full=True, tensorrt_version=(10, 13, 3)
    )
    monkeypatch.setattr(capabilities, "probe", lambda refresh=False: caps)
    monkeypatch.setattr(tx, "find_trtexec", lambda: Path("/opt/trtexec"))
    seen: dict[str, Any] = {}

    def fake_run(argv: list[str], on_line: object, **kwargs: Any) -> tx.TrtexecResult:
        seen.update(kwargs, argv=argv)
        return tx.TrtexecResult(returncode=0)

    monkeypatch.setattr(tx, "run_trtexec", fake_run)
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    assert main(["build", f"--onnx={model}", "--workspace=512", "--timeout=60", "--quiet"]) == 0
    assert "--memPoolSize=workspace:512M" in seen["argv"] and "--skipInference" in seen["argv"]
    assert seen["timeout"] == 60.0 and seen["trtexec"] == Path("/opt/trtexec")
    assert not math.isnan(seen["timeout"])


# -- prefetch / lab --------------------------------------------------------------------------------
def test_lab_dry_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["lab", "--dry-run", "--port", "9999", "--notebooks", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "--ServerApp.ip=127.0.0.1" in out and "--ServerApp.port=9999" in out
    assert "--ServerApp.port_retries=0" in out and f"--ServerApp.root_dir={tmp_path}" in out
    assert "JUPYTER_TOKEN=" in out and "http://127.0.0.1:9999/lab?token=" in out
    assert "--ServerApp.token" not in out and "--IdentityProvider.token" not in out  # not in ps


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "0"], "expected a port number 1..65535"),
        (["--port", "70000"], "expected a port number 1..65535"),
        (["--notebooks", "/nonexistent/notebooks"], "does not exist"),
    ],
)
def test_lab_bad_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    assert main(["lab", "--dry-run", *argv]) == 2
    assert needle in capsys.readouterr().err
