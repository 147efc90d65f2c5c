"""trtlab.triton without a server: repository layout, batch mapping, and Triton's own config schema.

Every config is parsed with Triton's ``ModelConfig`` protobuf (tritonclient). ONNX paths run on
real exported models; engine paths on the stand-in TensorRT (``tests/_faketrt.py``: input ``x``
``[-1, 4]``, profile 0 batch 1..8, profile 1 batch 9..16), whose IO table is what Triton's
TensorRT backend reads from a real plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _faketrt
import numpy as np
import pytest
from _fakecuda import FakeCudart

from trtlab import cuda
from trtlab import triton as tt
from trtlab.errors import ConfigError, DependencyError, InputError
from trtlab.trt import runtime as rt

pb2 = pytest.importorskip("tritonclient.grpc.model_config_pb2", reason="needs tritonclient[grpc]")


def _reparse(repo: tt.ModelRepository) -> Any:
    """The file on disk parsed by Triton's schema (not the text trtlab kept in memory)."""
    from google.protobuf import text_format

    return text_format.Parse(repo.config_path.read_text(), pb2.ModelConfig())


# -- ONNX: real files ----------------------------------------------------------------------------
def test_onnx_classifier_repository(tiny_classifier_onnx: Path, tmp_path: Path) -> None:
    repo = tt.make_model_repository(
        "tiny", tiny_classifier_onnx, tmp_path / "models", labels=[f"c{i}" for i in range(10)]
    )
    assert repo.model_path == tmp_path / "models" / "tiny" / "1" / "model.onnx"
    assert repo.model_path.read_bytes() == tiny_classifier_onnx.read_bytes()
    assert (tmp_path / "models" / "tiny" / "labels.txt").read_text().splitlines()[9] == "c9"
    cfg = _reparse(repo)
    assert cfg.name == "tiny" and cfg.platform == "onnxruntime_onnx"
    assert cfg.max_batch_size == tt.DEFAULT_ONNX_MAX_BATCH
    (inp,) = cfg.input
    assert inp.name == "input" and inp.data_type == pb2.TYPE_FP32
    assert list(inp.dims) == [3, 32, 32]  # batch dim dropped because max_batch_size > 0
    (out,) = cfg.output
    assert list(out.dims) == [10] and out.label_filename == "labels.txt"
    assert cfg.HasField("dynamic_batching")
    assert cfg.instance_group[0].count == 1
    assert cfg.instance_group[0].kind == pb2.ModelInstanceGroup.KIND_AUTO


def test_onnx_without_batching_keeps_full_dims(tiny_classifier_onnx: Path, tmp_path: Path) -> None:
    repo = tt.make_model_repository("tiny", tiny_classifier_onnx, tmp_path, max_batch_size=0)
    cfg = _reparse(repo)
    assert cfg.max_batch_size == 0 and list(cfg.input[0].dims) == [-1, 3, 32, 32]
    assert not cfg.HasField("dynamic_batching")


def test_onnx_segmenter_dynamic_hw_int64(tiny_segmenter_onnx: Path, tmp_path: Path) -> None:
    repo = tt.make_model_repository(
        "seg", tiny_segmenter_onnx, tmp_path, instances=3, kind="cpu", preferred_batch_sizes=[2, 4]
    )
    cfg = _reparse(repo)
    assert list(cfg.input[0].dims) == [3, -1, -1]
    assert cfg.output[0].data_type == pb2.TYPE_INT64 and list(cfg.output[0].dims) == [-1, -1]
    assert list(cfg.dynamic_batching.preferred_batch_size) == [2, 4]
    assert cfg.instance_group[0].count == 3
    assert cfg.instance_group[0].kind == pb2.ModelInstanceGroup.KIND_CPU
    with pytest.raises(InputError, match="dynamic dims"):
        repo.perf_analyzer_steps()
    steps = repo.perf_analyzer_steps(shapes={"input": [3, 64, 64]})
    assert [s.title.split(".")[0] for s in steps] == ["1", "2", "3"]
    assert "--shape" in steps[0].command and "input:3,64,64" in steps[0].command
    assert "count: 2" in steps[2].config_change


@pytest.fixture(scope="module")
def fixed_batch_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import tiny_classifier

    path = tmp_path_factory.mktemp("fixed") / "fixed.onnx"
    return export_onnx(
        tiny_classifier(10),
        path,
        torch.randn(1, 3, 32, 32),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes=None,
    )


def test_fixed_batch_onnx_refuses_batching(fixed_batch_onnx: Path, tmp_path: Path) -> None:
    # Triton's onnxruntime backend refuses max_batch_size > 0 when the model's dim 0 is not -1.
    with pytest.raises(ConfigError, match=r"dim 0 of input, logits .* is fixed") as info:
        tt.make_model_repository("fixed", fixed_batch_onnx, tmp_path, max_batch_size=4)
    assert "max_batch_size=0" in str(info.value)
    repo = tt.make_model_repository("fixed", fixed_batch_onnx, tmp_path)  # derived: no batching
    assert _reparse(repo).max_batch_size == 0 and _reparse(repo).input[0].dims[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_batch_size": 0, "dynamic_batching": True}, ConfigError, "needs max_batch_size > 0"),
        ({"max_batch_size": 4, "preferred_batch_sizes": [8]}, ConfigError, r"\[8\] are outside"),
        ({"instances": 0}, InputError, "instances must be an int >= 1"),
        ({"max_batch_size": -1}, InputError, "max_batch_size must be an int >= 0"),
        ({"kind": "tpu"}, InputError, "kind must be"),
    ],
)
def test_bad_options_refused(
    tiny_classifier_onnx: Path, tmp_path: Path, kwargs: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        tt.make_model_repository("tiny", tiny_classifier_onnx, tmp_path, **kwargs)
    assert not (tmp_path / "tiny" / "config.pbtxt").exists()


def test_bad_inputs_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="plain folder name"):
        tt.make_model_repository("a/b", tmp_path / "x.onnx", tmp_path)
    with pytest.raises(Exception, match="model file not found"):
        tt.make_model_repository("m", tmp_path / "missing.onnx", tmp_path)
    (tmp_path / "weights.pt").write_bytes(b"x")
    with pytest.raises(InputError, match=r"expected a \.onnx file or a TensorRT engine"):
        tt.make_model_repository("m", tmp_path / "weights.pt", tmp_path)


# -- engines on the stand-in TensorRT ------------------------------------------------------------
@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    backend = FakeCudart()
    module = _faketrt.make_module(_faketrt.host_kernel(backend._queue))
    monkeypatch.setattr(rt, "_import_runtime_module", lambda kind: module)
    path = tmp_path / "fake.engine"
    path.write_bytes(_faketrt.PLAN)
    with cuda.use_backend(backend):
        yield path


def test_engine_profile_sets_max_batch(fake_engine: Path, tmp_path: Path) -> None:
    repo = tt.make_model_repository("fake", fake_engine, tmp_path / "repo")
    assert repo.model_path.name == "model.plan"
    assert repo.model_path.read_bytes() == _faketrt.PLAN
    cfg = _reparse(repo)
    assert cfg.platform == "tensorrt_plan" and cfg.max_batch_size == 8  # profile 0 max batch
    assert cfg.instance_group[0].kind == pb2.ModelInstanceGroup.KIND_GPU
    assert list(cfg.input[0].dims) == [4]
    idx = next(o for o in cfg.output if o.name == "idx")
    # [-1] minus the batch dim is empty: Triton refuses empty dims, so dims [1] + reshape [].
    assert list(idx.dims) == [1] and idx.HasField("reshape") and list(idx.reshape.shape) == []
    assert idx.data_type == pb2.TYPE_INT64
    cmd = repo.server_command(release="25.10")
    assert "nvcr.io/nvidia/tritonserver:25.10-py3" in cmd
    assert all(p.startswith("127.0.0.1:") for p in cmd[cmd.index("-p") + 1 :: 2][:3])


def test_engine_max_batch_above_profile_refused(fake_engine: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only supports max-batch 8") as info:
        tt.make_model_repository("fake", fake_engine, tmp_path, max_batch_size=16)
    assert "set max_batch_size <= 8" in str(info.value)
    repo = tt.make_model_repository("fake", fake_engine, tmp_path, max_batch_size=4)
    assert _reparse(repo).max_batch_size == 4


def test_engine_profile_min_batch_above_one_refused(fake_engine: Path, tmp_path: Path) -> None:
    # Profile 1 takes batch 9..16: Triton would send batch 1 and get "between 9 and 16".
    with pytest.raises(ConfigError, match="profile min batch is 9") as info:
        tt.make_model_repository("fake", fake_engine, tmp_path, profiles=(1,))
    assert "min batch 1" in str(info.value)
    repo = tt.make_model_repository("fake", fake_engine, tmp_path, profiles=(1,), max_batch_size=0)
    assert list(_reparse(repo).input[0].dims) == [-1, 4]
    assert list(_reparse(repo).instance_group[0].profile) == ["1"]


def test_engine_on_cpu_instances_refused(fake_engine: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only runs on GPUs"):
        tt.make_model_repository("fake", fake_engine, tmp_path, kind="cpu")


def test_engine_io_max_batch_is_min_over_inputs() -> None:
    prof = rt.ProfileShape
    io = [
        rt.EngineTensor("a", "input", "FLOAT", (-1, 3), (prof((1, 3), (4, 3), (16, 3)),)),
        rt.EngineTensor("b", "input", "HALF", (-1, 2), (prof((1, 2), (2, 2), (4, 2)),)),
        rt.EngineTensor("y", "output", "FLOAT", (-1, 5)),
    ]
    art = tt.engine_io(io, Path("x.plan"))
    assert art.engine_max_batch == 4 and art.inputs[1].data_type == "TYPE_FP16"
    with pytest.raises(Exception, match="no Triton type"):
        tt.engine_io([rt.EngineTensor("q", "input", "FP4", (-1, 2))], Path("x.plan"))


# -- Triton's schema and load-time rules ---------------------------------------------------------
GOOD = """
name: "m"
platform: "tensorrt_plan"
max_batch_size: 4
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("dims: [ 4 ] } ]\noutput", "dims: [ ] } ]\noutput"), "must specify 'dims'"),
        (("dims: [ 4 ] } ]\noutput", "dims: [ 0 ] } ]\noutput"), "must be >= 1 or -1"),
        (("max_batch_size: 4", "max_batch_size: 4\ninstance_group [ { count: 1 kind: KIND_CPU } ]"),
         "no KIND_CPU"),
        (("max_batch_size: 4",
          "max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 8 ] }"),
         "preferred size 8"),
        (('platform: "tensorrt_plan"', ""), "neither 'platform' nor 'backend'"),
        (("data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput", "dims: [ 4 ] } ]\noutput"),
         "must specify 'data_type'"),
        (("max_batch_size: 4", "max_batch_size: 4\ninstance_group [ { count: -1 } ]"),
         "count must be >= 1"),
    ],
)  # fmt: skip
def test_validate_config_refuses_what_triton_refuses(change: tuple[str, str], message: str) -> None:
    tt.validate_config(tt.parse_config(GOOD))
    bad = GOOD.replace(*change)
    assert bad != GOOD
    with pytest.raises(ConfigError, match=message):
        tt.validate_config(tt.parse_config(bad))


def test_parse_config_uses_the_schema() -> None:
    with pytest.raises(ConfigError, match="does not parse as Triton's ModelConfig"):
        tt.parse_config(GOOD + "max_batch: 3\n")  # a field the proto does not have
    with pytest.raises(ConfigError, match="does not parse"):
        tt.parse_config(GOOD.replace("TYPE_FP32", "TYPE_FLOAT32", 1))


# -- container tags, load report, missing PyTriton -----------------------------------------------
def test_tritonserver_image_matches_tensorrt() -> None:
    assert tt.tritonserver_image("10.13.3.9") == "nvcr.io/nvidia/tritonserver:25.10-py3"
    assert tt.tritonserver_image((10, 8)) == "nvcr.io/nvidia/tritonserver:25.01-py3"
    assert tt.tritonserver_image("24.12") == "nvcr.io/nvidia/tritonserver:24.12-py3"
    with pytest.raises(ConfigError, match=r"no known Triton release ships TensorRT 9\.0"):
        tt.tritonserver_image("9.0")


def test_load_report_percentiles() -> None:
    report = tt.LoadReport(2, 10, 0, 2.0, tuple(float(i) for i in range(1, 11)))
    assert report.percentile(50) == pytest.approx(5.5)
    assert report.percentile(90) == pytest.approx(9.1)
    assert report.throughput == pytest.approx(5.0)
    assert "p99" in report.summary() and "10 requests from 2 clients" in report.summary()


def test_serve_local_without_pytriton_names_the_venv(
    tiny_classifier_onnx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pytriton", None)
    monkeypatch.setitem(sys.modules, "pytriton.triton", None)
    server = tt.serve_local(tiny_classifier_onnx, backend="onnxruntime")
    assert server.max_batch_size == 8 and server.http_url.startswith("127.0.0.1:")
    with pytest.raises(DependencyError, match="numpy<2") as info:
        server.start()
    assert "make triton-venv" in str(info.value)


def test_serve_local_fixed_batch_refuses_batching(fixed_batch_onnx: Path) -> None:
    with pytest.raises(ConfigError, match="dynamic dim 0"):
        tt.serve_local(fixed_batch_onnx, backend="onnxruntime", max_batch_size=4)
    assert tt.serve_local(fixed_batch_onnx, backend="onnxruntime").max_batch_size == 0


def test_dtype_maps_cover_numpy() -> None:
    assert tt.NUMPY_TO_TRITON[np.dtype(np.float32).name] == "TYPE_FP32"
    for triton_type in tt.NUMPY_TO_TRITON.values():
        assert triton_type in pb2.DataType.keys()  # noqa: SIM118 (protobuf enum)
