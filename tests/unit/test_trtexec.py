"""trtexec flags per TensorRT version, output parsing, running it (timeout while streaming).

`trtlab build`'s argument handling (trtexec flag names, legacy flags, --dry-run) is tested in
test_cli.py, beside the parser it lives in.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

import pytest

from trtlab.errors import (
    BackendError,
    ConfigError,
    DependencyError,
    InputError,
    ProcessTimeoutError,
    ShapeError,
)
from trtlab.trt import trtexec as tx

DATA = Path(__file__).parent / "data"
PROFILE = {"input": ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))}


def _relu_onnx(path: Path, shape: list[int | str]) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    graph = helper.make_graph([helper.make_node("Relu", ["input"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph), str(path))
    return path


# -- parsing -------------------------------------------------------------------------------------
def test_parse_10x_summary() -> None:
    r = tx.parse_trtexec_output((DATA / "trtexec_10x.txt").read_text())
    assert r.tensorrt_version == "10.13.3"
    assert r.throughput_qps == pytest.approx(797.568)
    assert r.latency is not None and r.gpu_compute is not None
    assert (r.latency.min, r.latency.max) == (pytest.approx(1.44287), pytest.approx(2.03125))
    assert r.latency.mean == pytest.approx(1.51042) and r.latency.median == pytest.approx(1.49805)
    assert r.latency.percentiles == {90.0: 1.54688, 95.0: 1.57031, 99.0: 1.71875}
    assert r.gpu_compute.p(99) == pytest.approx(1.66211)
    assert r.gpu_compute.median == pytest.approx(1.44727)
    assert r.enqueue is not None and r.enqueue.mean == pytest.approx(0.078125)
    assert r.h2d is not None and r.h2d.p(95) == pytest.approx(0.0507812)
    assert r.d2h is not None and r.d2h.max == pytest.approx(0.0117188)
    assert r.total_host_walltime_s == pytest.approx(3.00915)
    assert r.total_gpu_compute_s == pytest.approx(3.50156)
    assert r.engine_build_s == pytest.approx(39.4012)
    assert r.engine_size_mib == pytest.approx(51.2871)
    assert r.passed is True and r.has_summary
    flat = r.as_dict()
    assert flat["gpu_compute_p99_ms"] == pytest.approx(1.66211)
    assert flat["latency_mean_ms"] == pytest.approx(1.51042)


def test_parse_11x_summary_without_prefixes() -> None:
    r = tx.parse_trtexec_output((DATA / "trtexec_11x.txt").read_text())
    assert r.tensorrt_version == "11.4.0"  # from the banner: no "TensorRT version:" line
    assert r.throughput_qps == pytest.approx(1204.5)
    assert r.latency is not None and r.latency.percentiles == {50.0: 0.99, 99.0: 1.2}
    assert r.gpu_compute is not None and r.gpu_compute.mean == pytest.approx(0.95)
    assert r.d2h is not None and r.d2h.p(99) == pytest.approx(0.008)
    assert r.engine_build_s == pytest.approx(21.5)
    assert r.passed is True


def test_parse_failed_log() -> None:
    r = tx.parse_trtexec_output((DATA / "trtexec_failed.txt").read_text())
    assert r.passed is False and not r.has_summary
    assert r.latency is None and r.throughput_qps is None
    assert r.tensorrt_version == "10.13.3"


def test_banner_versions() -> None:
    assert tx.banner_version("100300") == "10.3.0"
    assert tx.banner_version("110400") == "11.4.0"
    assert tx.banner_version("101303") == "10.13.3"
    assert tx.banner_version("8601") == "8.6.1"


def test_incomplete_stat_line_is_ignored() -> None:
    r = tx.parse_trtexec_output("Latency: min = 1 ms, max = 2 ms\nThroughput: 5 qps\n")
    assert r.latency is None and r.throughput_qps == 5.0


# -- building the arguments ------------------------------------------------------------------------
def test_args_10x_fp16() -> None:
    args = tx.trtexec_args(
        "m.onnx",
        "m.engine",
        precision="fp16",
        profiles=PROFILE,
        workspace="4GiB",
        timing_cache="t.cache",
        trt_version="10.13.3.9",
        optimization_level=4,
    )
    assert args == [
        "--onnx=m.onnx",
        "--saveEngine=m.engine",
        "--minShapes=input:1x3x224x224",
        "--optShapes=input:8x3x224x224",
        "--maxShapes=input:16x3x224x224",
        "--memPoolSize=workspace:4096M",
        "--fp16",
        "--timingCacheFile=t.cache",
        "--builderOptimizationLevel=4",
        "--profilingVerbosity=detailed",
    ]


def test_args_11x_fp16_points_at_converted_onnx() -> None:
    args = tx.trtexec_args(
        "m.onnx",
        "m.engine",
        precision="fp16",
        trt_version="11.4.0.106",
        converted_onnx="m-fp16.onnx",
        detailed=False,
    )
    # trtexec 11 removed --fp16/--bf16/--int8/--best and made --stronglyTyped a deprecated no-op
    assert args == ["--onnx=m-fp16.onnx", "--saveEngine=m.engine"]
    assert not {"--fp16", "--bf16", "--int8", "--best", "--stronglyTyped"} & set(args)


def test_args_10x_strongly_typed_keeps_the_flag() -> None:
    """On 10.x strong typing is opt-in: the flag must be there (it is only dropped on 11.x)."""
    args = tx.trtexec_args(
        "m.onnx",
        None,
        precision="fp16",
        trt_version="10.13",
        strongly_typed=True,
        converted_onnx="m-fp16.onnx",
        detailed=False,
    )
    assert args == ["--onnx=m-fp16.onnx", "--stronglyTyped"]


def test_args_11x_default_converted_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(tmp_path / "c"))
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    args = tx.trtexec_args(model, None, precision="bf16", trt_version="11.4")
    assert args[0].startswith(f"--onnx={tmp_path / 'c' / 'onnx'}")
    assert re.search(r"-bf16[^/]*\.onnx$", args[0]), args[0]


def test_args_fp32_and_tf32_and_bf16_10x() -> None:
    fp32 = tx.trtexec_args("m.onnx", None, precision="fp32", trt_version="10.13", detailed=False)
    assert fp32 == ["--onnx=m.onnx", "--noTF32"]
    tf32 = tx.trtexec_args("m.onnx", None, precision="tf32", trt_version="10.13", detailed=False)
    assert tf32 == ["--onnx=m.onnx"]  # TF32 is trtexec's default
    bf16 = tx.trtexec_args("m.onnx", None, precision="bf16", trt_version="10.13", detailed=False)
    assert bf16 == ["--onnx=m.onnx", "--bf16"]
    f32_11 = tx.trtexec_args("m.onnx", None, precision="fp32", trt_version="11.4", detailed=False)
    assert f32_11 == ["--onnx=m.onnx", "--noTF32"]


def test_args_workspace_not_whole_mib() -> None:
    args = tx.trtexec_args(
        "m.onnx", None, workspace=1000, trt_version="10.13", detailed=False, precision="tf32"
    )
    assert "--memPoolSize=workspace:1000B" in args


def test_args_profiles_validated_against_onnx(tmp_path: Path) -> None:
    path = _relu_onnx(tmp_path / "relu.onnx", ["n", 3, 8, 8])
    with pytest.raises(ShapeError, match="axis 1"):
        tx.trtexec_args(
            path,
            None,
            trt_version="10.13",
            profiles={"input": ((1, 4, 8, 8), (2, 4, 8, 8), (4, 4, 8, 8))},
        )
    args = tx.trtexec_args(path, None, trt_version="10.13", detailed=False, precision="tf32")
    assert "--minShapes=input:1x3x8x8" in args  # default batch-1 profile for dynamic batch


# -- finding and running ---------------------------------------------------------------------------
def _fake_trtexec(tmp_path: Path, log: Path, code: int = 0) -> Path:
    exe = tmp_path / "bin" / "trtexec"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(
        f"#!{sys.executable}\nimport sys\nprint(open({str(log)!r}).read(), end='')\n"
        f"print('ARGS', *sys.argv[1:])\nsys.exit({code})\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_find_trtexec_from_tensorrt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(tx, "STANDARD_LOCATIONS", ())
    monkeypatch.delenv("TRT_HOME", raising=False)
    monkeypatch.delenv("TENSORRT_HOME", raising=False)
    assert tx.find_trtexec() is None
    exe = _fake_trtexec(tmp_path, DATA / "trtexec_10x.txt")
    monkeypatch.setenv("TENSORRT_HOME", str(tmp_path))
    assert tx.find_trtexec() == exe
    monkeypatch.setenv("PATH", str(exe.parent))
    monkeypatch.delenv("TENSORRT_HOME")
    assert tx.find_trtexec() == exe


def test_run_trtexec_streams_and_parses(tmp_path: Path) -> None:
    exe = _fake_trtexec(tmp_path, DATA / "trtexec_10x.txt")
    seen: list[str] = []
    r = tx.run_trtexec(["--onnx=a.onnx"], seen.append, trtexec=exe)
    assert r.returncode == 0 and r.throughput_qps == pytest.approx(797.568)
    assert seen[-1] == "ARGS --onnx=a.onnx" and len(seen) > 30
    assert r.command == [str(exe), "--onnx=a.onnx"]


def test_run_trtexec_failure_raises(tmp_path: Path) -> None:
    exe = _fake_trtexec(tmp_path, DATA / "trtexec_failed.txt", code=1)
    with pytest.raises(BackendError, match="Parsing model failed"):
        tx.run_trtexec([], None, trtexec=exe)
    r = tx.run_trtexec([], None, trtexec=exe, check=False)
    assert r.returncode == 1 and r.passed is False


def test_run_trtexec_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tx, "find_trtexec", lambda: None)
    with pytest.raises(DependencyError, match="trtexec"):
        tx.run_trtexec([], None)


def _script(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "bin" / "trtexec"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(f"#!{sys.executable}\n{body}")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _pid_from(exc: BaseException) -> int:
    m = re.search(r"pid (\d+)", str(exc))
    assert m, str(exc)
    return int(m.group(1))


@pytest.mark.timeout(120)
def test_run_trtexec_timeout_stops_a_silent_hang(tmp_path: Path) -> None:
    """B7: the timeout fires while trtexec is silent (it used to wait for stdout to close)."""
    exe = _script(
        tmp_path,
        "import time\nprint('started', flush=True)\ntime.sleep(60)\nprint('finished')\n",
    )
    seen: list[str] = []
    with pytest.raises(ProcessTimeoutError, match="timeout") as info:
        tx.run_trtexec([], seen.append, trtexec=exe, timeout=2.0)
    assert isinstance(info.value, BackendError) and isinstance(info.value, TimeoutError)
    assert "finished" not in seen
    with pytest.raises(ProcessLookupError):  # stopped and reaped, not left running
        os.kill(_pid_from(info.value), 0)


@pytest.mark.timeout(120)
def test_run_trtexec_timeout_stops_a_slow_printer(tmp_path: Path) -> None:
    """A trtexec that keeps printing past the timeout is stopped too (output never closes)."""
    exe = _script(
        tmp_path,
        "import time\nfor i in range(600):\n    print('line', i, flush=True)\n"
        "    time.sleep(0.1)\nprint('finished')\n",
    )
    seen: list[str] = []
    with pytest.raises(ProcessTimeoutError) as info:
        tx.run_trtexec([], seen.append, trtexec=exe, timeout=2.0)
    assert "finished" not in seen and len(seen) < 600
    assert "last lines" in str(info.value)
    with pytest.raises(ProcessLookupError):
        os.kill(_pid_from(info.value), 0)


def test_run_trtexec_within_timeout_is_untouched(tmp_path: Path) -> None:
    exe = _fake_trtexec(tmp_path, DATA / "trtexec_10x.txt")
    r = tx.run_trtexec(["--onnx=a.onnx"], None, trtexec=exe, timeout=300)
    assert r.returncode == 0 and r.throughput_qps == pytest.approx(797.568)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_run_trtexec_bad_timeout(timeout: float) -> None:
    with pytest.raises(InputError, match="timeout"):
        tx.run_trtexec([], None, trtexec="/bin/true", timeout=timeout)


# -- trtexec value syntax (used by `trtlab build`) -----------------------------------------------
def test_parse_mem_pool() -> None:
    assert tx.parse_mem_pool(None) is None
    assert tx.parse_mem_pool("workspace:4096") == 4096 << 20
    assert tx.parse_mem_pool("workspace:2G") == 2 << 30
    with pytest.raises(ConfigError, match="workspace"):
        tx.parse_mem_pool("dlaSRAM:1")


def test_trtexec_module_has_no_cli_code() -> None:
    """The argparse code of `trtlab build` lives in trtlab.cli only (issue 11 A)."""
    source = Path(tx.__file__).read_text()
    assert not re.search(r"^\s*(import argparse|from trtlab.cli |import trtlab.cli)", source, re.M)
    assert not hasattr(tx, "add_build_subcommand") and not hasattr(tx, "main")
