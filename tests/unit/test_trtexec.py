"""trtexec flags per TensorRT version, output parsing, and `trtlab build` argument handling."""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path

import pytest

from trtlab.errors import BackendError, ConfigError, DependencyError, InputError, ShapeError
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
    assert args == ["--onnx=m-fp16.onnx", "--saveEngine=m.engine", "--stronglyTyped"]
    assert not {"--fp16", "--bf16", "--int8", "--best"} & set(args)


def test_args_11x_default_converted_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(tmp_path / "c"))
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    args = tx.trtexec_args(model, None, precision="bf16", trt_version="11.4")
    assert args[0].startswith(f"--onnx={tmp_path / 'c' / 'onnx'}") and args[0].endswith(
        "-bf16.onnx"
    )


def test_args_fp32_and_tf32_and_bf16_10x() -> None:
    fp32 = tx.trtexec_args("m.onnx", None, precision="fp32", trt_version="10.13", detailed=False)
    assert fp32 == ["--onnx=m.onnx", "--noTF32"]
    tf32 = tx.trtexec_args("m.onnx", None, precision="tf32", trt_version="10.13", detailed=False)
    assert tf32 == ["--onnx=m.onnx"]  # TF32 is trtexec's default
    bf16 = tx.trtexec_args("m.onnx", None, precision="bf16", trt_version="10.13", detailed=False)
    assert bf16 == ["--onnx=m.onnx", "--bf16"]
    f32_11 = tx.trtexec_args("m.onnx", None, precision="fp32", trt_version="11.4", detailed=False)
    assert f32_11 == ["--onnx=m.onnx", "--noTF32", "--stronglyTyped"]


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


# -- `trtlab build` arguments ----------------------------------------------------------------------
def test_parse_build_args_trtexec_spelling() -> None:
    kw = tx.parse_build_args(
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
    kw = tx.parse_build_args(["--onnx", "m.onnx"])
    assert kw["precision"] == "tf32"  # trtexec's default: FP32 with TF32 allowed
    assert kw["profiles"] is None and kw["workspace"] is None and kw["strongly_typed"] is None
    assert tx.parse_build_args(["--onnx=m", "--noTF32"])["precision"] == "fp32"
    assert tx.parse_build_args(["--onnx=m", "--bf16"])["precision"] == "bf16"
    assert tx.parse_build_args(["--onnx=m", "--precision", "fp16"])["precision"] == "fp16"
    assert tx.parse_build_args(["--onnx=m", "--memPoolSize=workspace:2G"])["workspace"] == 2 << 30
    assert tx.parse_build_args(["--onnx=m", "--memPoolSize=workspace:512MiB"])["workspace"] == (
        512 << 20
    )
    only_opt = tx.parse_build_args(["--onnx=m", "--optShapes=x:2x3"])["profiles"]
    assert only_opt == {"x": ((2, 3), (2, 3), (2, 3))}
    two = tx.parse_build_args(["--onnx=m", "--shapes=a:1x2,'b:0':3x4", "--no-cache", "--quiet"])
    assert two["profiles"] == {"a": ((1, 2),) * 3, "b:0": ((3, 4),) * 3}
    assert two["cache"] is False and two["progress"] is False


@pytest.mark.parametrize(
    ("argv", "error", "match"),
    [
        (["--fp16", "--bf16"], ConfigError, "both"),
        (["--precision=fp32", "--fp16"], ConfigError, "contradicts"),
        (["--precision=tf32", "--noTF32"], ConfigError, "contradicts"),
        (["--minShapes=x:1x3"], ShapeError, "optShapes"),
        (["--optShapes=x:1xq"], ShapeError, "integers"),
        (["--optShapes=1x3"], ShapeError, "name:NxCxHxW"),
        (["--memPoolSize=dlaSRAM:1"], ConfigError, "workspace"),
        (["--shapes=x:1", "--optShapes=x:1"], InputError, "both|--shapes"),
    ],
)
def test_parse_build_args_errors(argv: list[str], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        tx.parse_build_args(["--onnx=m.onnx", *argv])


def test_add_build_subcommand_wires_run_build() -> None:
    parser = argparse.ArgumentParser(prog="trtlab")
    sub = parser.add_subparsers(dest="command")
    tx.add_build_subcommand(sub)
    ns = parser.parse_args(["build", "--onnx=m.onnx", "--fp16"])
    assert ns.func is tx.run_build
    assert tx.build_kwargs_from_namespace(ns)["precision"] == "fp16"


def test_run_build_without_tensorrt_or_trtexec(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On this CPU machine: no trtexec and no full TensorRT -> a DependencyError with a hint."""
    monkeypatch.setattr(tx, "find_trtexec", lambda: None)
    from trtlab.trt import _compat

    if _compat.has_full_tensorrt():
        pytest.skip("full TensorRT is installed here")
    _relu_onnx(tmp_path / "m.onnx", [1, 4])
    parser = argparse.ArgumentParser()
    tx.add_build_subcommand(parser.add_subparsers())
    ns = parser.parse_args(["build", f"--onnx={tmp_path / 'm.onnx'}", "--quiet"])
    with pytest.raises(DependencyError, match="TensorRT"):
        ns.func(ns)


def test_trtlab_cli_build_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`trtlab build` is registered via trtlab.trt.cli; errors print without a traceback."""
    from trtlab import cli
    from trtlab.trt import _compat

    if _compat.has_full_tensorrt():
        pytest.skip("full TensorRT is installed here")
    monkeypatch.setattr(tx, "find_trtexec", lambda: None)
    model = _relu_onnx(tmp_path / "m.onnx", [1, 4])
    assert cli.main(["build", f"--onnx={model}", "--fp16", "--quiet"]) == cli.EXIT_USAGE
    assert "TensorRT (full) is not importable" in capsys.readouterr().err
    assert cli.main(["build", "--onnx=m.onnx", "--fp16", "--bf16"]) == cli.EXIT_USAGE
    assert "both given" in capsys.readouterr().err
