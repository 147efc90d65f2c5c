"""build_engine: profile validation, precision plan per version, cache, errors, progress.

TensorRT cannot be installed here, so the build itself runs against ``FakeTRT``: a small stand-in
module with the TensorRT 10/11 Python API surface that ``build.py`` uses (the same names the stubs
in ``typings/`` declare; names removed in 11, like ``BuilderFlag.FP16``, are absent from the 11.x
fake). It records every call, so the tests check *what* would be asked of TensorRT. The real thing
is exercised in ``tests/gpu/test_tensorrt_build.py``.
"""

from __future__ import annotations

import enum
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _legacy_export import legacy_export

from trtlab.errors import (
    BuildError,
    ConfigError,
    DependencyError,
    FileFormatError,
    InputError,
    ShapeError,
)
from trtlab.runners.base import TensorSpec
from trtlab.trt import build as B
from trtlab.trt.progress import ProgressEvent, ProgressTracker

onnx = pytest.importorskip("onnx")


# -- ONNX fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trtlab.models import tiny_classifier

    return legacy_export(
        tiny_classifier(), tmp_path_factory.mktemp("b") / "tiny.onnx", (1, 3, 32, 32), {0: "N"}
    )


@pytest.fixture(scope="module")
def seg_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trtlab.models import tiny_segmenter

    return legacy_export(
        tiny_segmenter(),
        tmp_path_factory.mktemp("b") / "seg.onnx",
        (1, 3, 32, 32),
        {0: "N", 2: "H", 3: "W"},
    )


# -- validate_profiles (pure) --------------------------------------------------------------------
F32 = np.dtype("float32")
CLS = TensorSpec("input", ("N", 3, 224, 224), F32)
SEG = TensorSpec("input", ("N", 3, "H", "W"), F32)
STATIC = TensorSpec("mask", (1, 4), F32)


def test_onnx_input_specs(tiny_onnx: Path, seg_onnx: Path) -> None:
    (spec,) = B.onnx_input_specs(tiny_onnx)
    assert spec.name == "input" and spec.shape == ("N", 3, 32, 32) and spec.dtype == F32
    assert B.onnx_input_specs(seg_onnx)[0].shape == ("N", 3, "H", "W")


def test_onnx_input_specs_errors(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="not found"):
        B.onnx_input_specs(tmp_path / "nope.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(FileFormatError, match="not a readable"):
        B.onnx_input_specs(tmp_path / "bad.onnx")


def test_profiles_resolve() -> None:
    got = B.validate_profiles(
        [CLS], {"input": [(1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224)]}
    )
    assert got == [{"input": ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))}]
    fixed = B.validate_profiles([CLS], {"input": (2, 3, 224, 224)})
    assert fixed == [{"input": ((2, 3, 224, 224),) * 3}]
    as_dict = B.validate_profiles(
        [CLS],
        {"input": {"min": (1, 3, 224, 224), "opt": (2, 3, 224, 224), "max": (2, 3, 224, 224)}},
    )
    assert as_dict[0]["input"][1] == (2, 3, 224, 224)


def test_profiles_default_batch_one_and_static_inputs() -> None:
    assert B.validate_profiles([CLS, STATIC], None) == [{"input": ((1, 3, 224, 224),) * 3}]
    assert B.validate_profiles([STATIC], None) == [{}]


def test_profiles_several() -> None:
    got = B.validate_profiles([CLS], [{"input": (1, 3, 224, 224)}, {"input": (8, 3, 224, 224)}])
    assert [p["input"][0][0] for p in got] == [1, 8]


@pytest.mark.parametrize(
    ("specs", "profiles", "error", "match"),
    [
        ([CLS], {"image": (1, 3, 224, 224)}, InputError, r"\['image'\].*\['input'\]"),
        ([CLS], {"input": (1, 3, 224)}, ShapeError, "rank 3.*rank 4"),
        ([CLS], {"input": [(1, 3, 224, 224), (1, 3, 224, 224)]}, ShapeError, "2 shapes"),
        (
            [CLS],
            {"input": [(1, 4, 224, 224), (2, 4, 224, 224), (4, 4, 224, 224)]},
            ShapeError,
            "'input' axis 1: the ONNX model fixes this dim to 3.*min=4, opt=4, max=4",
        ),
        (
            [CLS],
            {"input": [(4, 3, 224, 224), (2, 3, 224, 224), (8, 3, 224, 224)]},
            ShapeError,
            r"axis 0 \('N'\): need min <= opt <= max, got min=4 opt=2 max=8",
        ),
        ([CLS], {"input": (0, 3, 224, 224)}, ShapeError, ">= 1"),
        ([CLS], {"input": (1.5, 3, 224, 224)}, ShapeError, "non-integer|sizes"),
        ([CLS], {"input": "1x3x224x224"}, ShapeError, "sequence of ints"),
        (
            [SEG],
            None,
            ShapeError,
            r"axis 2 \('H'\), axis 3 \('W'\) and no profile[\s\S]*\(4, 3, 1024, 1024\)",
        ),
        ([CLS], "input:1x3", InputError, "must be a dict"),
        ([CLS], [42], InputError, r"profiles\[0\]"),
    ],
)
def test_profile_errors(specs: list[TensorSpec], profiles: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        B.validate_profiles(specs, profiles)


def test_parse_size() -> None:
    assert B.parse_size(1024) == 1024
    assert B.parse_size("4GiB") == 4 << 30
    assert B.parse_size("4G") == 4 << 30
    assert B.parse_size("512 MiB") == 512 << 20
    assert B.parse_size("1.5g") == 3 << 29
    assert B.parse_size("2048") == 2048
    for bad in ("four GiB", "-1", "4 parsecs", 0, True):
        with pytest.raises(ConfigError):
            B.parse_size(bad)  # type: ignore[arg-type]


def test_parser_issue_and_error_message() -> None:
    class Err:
        def code(self) -> Any:
            return types.SimpleNamespace(name="UNSUPPORTED_NODE")

        def node(self) -> int:
            return 7

        def node_name(self) -> str:
            return "/layer4/Foo"

        def node_operator(self) -> str:
            return "Foo"

        def desc(self) -> str:
            return "No importer registered for op: Foo"

    issue = B.parser_issue(0, Err())
    assert issue == B.ParserIssue(
        0, 7, "/layer4/Foo", "Foo", "No importer registered for op: Foo", "UNSUPPORTED_NODE"
    )
    err = B.parser_error(Path("m.onnx"), [issue], ["[ERROR] boom"])
    text = str(err)
    assert "node 7 '/layer4/Foo' (Foo): No importer registered for op: Foo" in text
    assert "[ERROR] boom" in text and err.hint
    # a ParserError without the newer accessors still reads
    old = B.parser_issue(1, types.SimpleNamespace(desc=lambda: "bad model"))
    assert str(old) == "model: bad model"


def test_parse_engine_information() -> None:
    detailed = json.dumps(
        {
            "Layers": [{"Name": "conv1", "LayerType": "CaskConvolution"}],
            "Bindings": ["input", "output"],
        }
    )
    assert B.parse_engine_information(detailed) == [
        {"Name": "conv1", "LayerType": "CaskConvolution"}
    ]
    names_only = json.dumps({"Layers": ["conv1", "relu1"]})
    assert B.parse_engine_information(names_only) == [{"Name": "conv1"}, {"Name": "relu1"}]
    with pytest.raises(BuildError):
        B.parse_engine_information("not json")


def test_build_checks_profiles_before_needing_tensorrt(seg_onnx: Path) -> None:
    """A bad profile is reported on a CPU-only machine too (before TensorRT is imported)."""
    with pytest.raises(ShapeError, match="'H'"):
        B.build_engine(seg_onnx, progress=False)
    with pytest.raises(ConfigError, match="optimization_level"):
        B.build_engine(seg_onnx, optimization_level=9)
    with pytest.raises(ConfigError, match="precision"):
        B.build_engine(seg_onnx, precision="int8")


def test_build_without_tensorrt_raises_dependency_error(
    tiny_onnx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import fails like a missing package
    monkeypatch.setitem(sys.modules, "tensorrt_bindings", None)
    with pytest.raises(DependencyError, match="TensorRT"):
        B.build_engine(tiny_onnx, progress=False)


# -- FakeTRT -------------------------------------------------------------------------------------
class _Enum(enum.IntEnum):
    pass


def make_fake_trt(version: str, *, fail_build: bool = False, parse_errors: int = 0) -> Any:
    """A stand-in ``tensorrt`` module (10.x or 11.x surface) that records what it is asked."""
    major = int(version.split(".")[0])
    calls: dict[str, Any] = {
        "builds": 0,
        "flags_set": [],
        "flags_cleared": [],
        "profiles": [],
        "timing_blobs": [],
        "parsed": [],
        "network_flags": [],
    }
    mod = types.ModuleType("tensorrt")
    mod.__version__ = version  # type: ignore[attr-defined]
    mod.calls = calls  # type: ignore[attr-defined]

    builder_flags = ["TF32", "FP16", "BF16", "INT8"] if major < 11 else ["TF32", "DEBUG"]
    mod.BuilderFlag = _Enum("BuilderFlag", builder_flags, start=0)  # type: ignore[attr-defined]
    net_flags = ["EXPLICIT_BATCH", "STRONGLY_TYPED"] if major < 11 else ["STRONGLY_TYPED"]
    mod.NetworkDefinitionCreationFlag = _Enum(  # type: ignore[attr-defined]
        "NetworkDefinitionCreationFlag", net_flags, start=0
    )
    mod.MemoryPoolType = _Enum("MemoryPoolType", ["WORKSPACE"], start=0)  # type: ignore[attr-defined]
    mod.ProfilingVerbosity = _Enum(  # type: ignore[attr-defined]
        "ProfilingVerbosity", ["LAYER_NAMES_ONLY", "NONE", "DETAILED"], start=0
    )
    mod.LayerInformationFormat = _Enum("LayerInformationFormat", ["ONELINE", "JSON"], start=0)  # type: ignore[attr-defined]

    class ILogger:
        Severity = _Enum(
            "Severity", ["INTERNAL_ERROR", "ERROR", "WARNING", "INFO", "VERBOSE"], start=0
        )

        def __init__(self) -> None:
            pass

    class IProgressMonitor:
        def __init__(self) -> None:
            pass

    class Tensor:
        def __init__(self, name: str, shape: list[int], dtype: str) -> None:
            self.name, self.shape = name, shape
            self.dtype = types.SimpleNamespace(name=dtype)

    class Network:
        def __init__(self, flags: int) -> None:
            self.flags = flags
            self.inputs: list[Tensor] = []
            self.outputs: list[Tensor] = []

        num_inputs = property(lambda self: len(self.inputs))
        num_outputs = property(lambda self: len(self.outputs))

        def get_input(self, i: int) -> Tensor:
            return self.inputs[i]

        def get_output(self, i: int) -> Tensor:
            return self.outputs[i]

    def _tensor(value: Any) -> Tensor:
        dims = [
            d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim
        ]
        elem = onnx.TensorProto.DataType.Name(value.type.tensor_type.elem_type)
        return Tensor(value.name, dims, elem)

    class ParserError:
        def __init__(self, i: int) -> None:
            self.i = i

        def node(self) -> int:
            return 3 + self.i

        def node_name(self) -> str:
            return f"/bad{self.i}"

        def node_operator(self) -> str:
            return "Foo"

        def desc(self) -> str:
            return f"unsupported op #{self.i}"

        def code(self) -> Any:
            return types.SimpleNamespace(name="UNSUPPORTED_NODE")

    class OnnxParser:
        def __init__(self, network: Network, logger: Any) -> None:
            self.network, self.logger = network, logger

        def parse_from_file(self, path: str) -> bool:
            model = onnx.load(path)
            calls["parsed"].append(
                {"path": path, "init_types": sorted({t.data_type for t in model.graph.initializer})}
            )
            if parse_errors:
                self.logger.log(ILogger.Severity.ERROR, "parser: giving up")
                return False
            inits = {t.name for t in model.graph.initializer}
            self.network.inputs = [_tensor(v) for v in model.graph.input if v.name not in inits]
            self.network.outputs = [_tensor(v) for v in model.graph.output]
            return True

        num_errors = property(lambda self: parse_errors)

        def get_error(self, i: int) -> ParserError:
            return ParserError(i)

    class Profile:
        def __init__(self) -> None:
            self.shapes: dict[str, tuple[Any, ...]] = {}

        def set_shape(self, name: str, lo: Any, opt: Any, hi: Any) -> None:
            self.shapes[name] = (tuple(lo), tuple(opt), tuple(hi))

    class TimingCache:
        def __init__(self, blob: bytes) -> None:
            self.blob = blob

        def serialize(self) -> bytes:
            return self.blob + b"+timing"

    class Config:
        def __init__(self) -> None:
            self.pool: dict[Any, int] = {}
            self.builder_optimization_level = 3
            self.profiling_verbosity = mod.ProfilingVerbosity.LAYER_NAMES_ONLY  # type: ignore[attr-defined]
            self.progress_monitor: Any = None
            self.profiles: list[Profile] = []
            self.timing: TimingCache | None = None

        def set_memory_pool_limit(self, pool: Any, size: int) -> None:
            self.pool[pool] = size

        def set_flag(self, flag: Any) -> None:
            calls["flags_set"].append(flag.name)

        def clear_flag(self, flag: Any) -> None:
            calls["flags_cleared"].append(flag.name)

        def add_optimization_profile(self, profile: Profile) -> int:
            self.profiles.append(profile)
            calls["profiles"].append(profile.shapes)
            return len(self.profiles) - 1

        def create_timing_cache(self, blob: bytes) -> TimingCache:
            calls["timing_blobs"].append(bytes(blob))
            return TimingCache(bytes(blob))

        def set_timing_cache(self, cache: TimingCache, ignore_mismatch: bool) -> bool:
            self.timing = cache
            return True

    class Builder:
        def __init__(self, logger: Any) -> None:
            if not isinstance(logger, ILogger):
                raise TypeError("Builder needs an ILogger")
            self.logger = logger

        def create_network(self, flags: int = 0) -> Network:
            calls["network_flags"].append(flags)
            return Network(flags)

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network: Network, config: Config) -> bytes | None:
            calls["builds"] += 1
            calls["config"] = config
            monitor = config.progress_monitor
            if monitor is not None:
                monitor.phase_start("Building engine", None, 3)
                monitor.phase_start("Tactic timing", "Building engine", 2)
                for step in range(2):
                    if not monitor.step_complete("Tactic timing", step):
                        return None
                monitor.phase_finish("Tactic timing")
                monitor.step_complete("Building engine", 0)
                monitor.phase_finish("Building engine")
            if fail_build:
                self.logger.log(ILogger.Severity.ERROR, "Error Code 4: Internal Error (no tactic)")
                return None
            summary = {
                "flags": config_flags(network, config),
                "level": config.builder_optimization_level,
                "verbosity": config.profiling_verbosity.name,
            }
            return b"FAKE-ENGINE" + json.dumps(summary).encode()

    def config_flags(network: Network, config: Config) -> dict[str, Any]:
        return {"network": network.flags, "pool": {k.name: v for k, v in config.pool.items()}}

    mod.ILogger = ILogger  # type: ignore[attr-defined]
    mod.IProgressMonitor = IProgressMonitor  # type: ignore[attr-defined]
    mod.Builder = Builder  # type: ignore[attr-defined]
    mod.OnnxParser = OnnxParser  # type: ignore[attr-defined]
    return mod


@pytest.fixture
def fake_trt(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(version: str = "10.13.3.9", **kw: Any) -> Any:
        mod = make_fake_trt(version, **kw)
        monkeypatch.setitem(sys.modules, "tensorrt", mod)
        monkeypatch.setattr(B, "gpu_identity", lambda device=0: ("Fake GPU", (8, 6)))
        return mod

    return install


# -- build_engine against FakeTRT ----------------------------------------------------------------
def test_fp16_on_10x_uses_builder_flag(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    trt = fake_trt("10.13.3.9")
    result = B.build_engine(
        tiny_onnx,
        tmp_path / "e.engine",
        precision="fp16",
        workspace="1GiB",
        optimization_level=2,
        progress=False,
        cache=False,
    )
    assert trt.calls["flags_set"] == ["FP16"] and trt.calls["flags_cleared"] == []
    assert trt.calls["network_flags"] == [0]  # weakly typed, no EXPLICIT_BATCH
    assert trt.calls["parsed"][0]["path"] == str(tiny_onnx)
    assert trt.calls["parsed"][0]["init_types"] == [onnx.TensorProto.FLOAT]
    summary = json.loads(result.engine[len(b"FAKE-ENGINE") :])
    assert summary == {
        "flags": {"network": 0, "pool": {"WORKSPACE": 1 << 30}},
        "level": 2,
        "verbosity": "DETAILED",
    }
    assert result.path == tmp_path / "e.engine"
    assert (tmp_path / "e.engine").read_bytes() == result.engine
    assert not result.cache_hit and result.precision == "fp16" and result.trt_version == "10.13.3.9"
    assert result.plan.builder_flags == ("FP16",)
    assert result.io[0]["name"] == "input" and result.io[0]["mode"] == "input"
    assert result.io[0]["shape"] == [-1, 3, 32, 32]
    assert result.io[0]["profile"] == [[1, 3, 32, 32]] * 3
    assert result.io[1] == {
        "name": "output",
        "mode": "output",
        "shape": [-1, 10],
        "dtype": "FLOAT",
        "profile": None,
    }
    assert any("batch 1" in n for n in result.notes)
    assert "FP16" in result.summary() and "min/opt/max" in result.summary()


def test_fp16_on_11x_builds_converted_graph_strongly_typed(tiny_onnx: Path, fake_trt: Any) -> None:
    trt = fake_trt("11.4.0.106")
    result = B.build_engine(tiny_onnx, precision="fp16", progress=False, cache=False)
    strongly = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    assert trt.calls["network_flags"] == [strongly]
    assert trt.calls["flags_set"] == []  # no FP16 flag exists on 11
    parsed = trt.calls["parsed"][0]
    assert parsed["path"] != str(tiny_onnx) and parsed["path"].endswith("-fp16.onnx")
    assert parsed["init_types"] == [onnx.TensorProto.FLOAT16]
    assert result.built_onnx_path == Path(parsed["path"])
    assert result.plan.onnx_transform == "fp16" and result.plan.strongly_typed
    # the converted ONNX is cached by content: a second build reuses the file
    mtime = result.built_onnx_path.stat().st_mtime_ns
    B.build_engine(tiny_onnx, precision="fp16", progress=False, cache=False)
    assert result.built_onnx_path.stat().st_mtime_ns == mtime


def test_same_call_same_effect_on_both_versions(tiny_onnx: Path, fake_trt: Any) -> None:
    """fp32: TF32 cleared on both; tf32: TF32 set on both; bf16 on 10 is a flag."""
    for version in ("10.13.3.9", "11.4.0.106"):
        trt = fake_trt(version)
        B.build_engine(tiny_onnx, precision="fp32", progress=False, cache=False)
        B.build_engine(tiny_onnx, precision="tf32", progress=False, cache=False)
        assert trt.calls["flags_cleared"] == ["TF32"] and trt.calls["flags_set"] == ["TF32"]
    trt = fake_trt("10.13.3.9")
    B.build_engine(tiny_onnx, precision="bf16", progress=False, cache=False)
    assert trt.calls["flags_set"] == ["BF16"]


def test_strongly_typed_false_on_11_is_rejected(tiny_onnx: Path, fake_trt: Any) -> None:
    fake_trt("11.4.0.106")
    with pytest.raises(ConfigError, match="strongly typed"):
        B.build_engine(tiny_onnx, precision="fp16", strongly_typed=False, progress=False)


def test_profiles_reach_the_builder(seg_onnx: Path, fake_trt: Any) -> None:
    trt = fake_trt()
    profiles = {"input": ((1, 3, 64, 64), (2, 3, 256, 256), (4, 3, 512, 512))}
    result = B.build_engine(seg_onnx, profiles=profiles, progress=False, cache=False)
    assert trt.calls["profiles"] == [profiles]
    assert result.io[0]["shape"] == [-1, 3, -1, -1]
    assert result.io[1]["dtype"] == "INT64" and result.notes == []


def test_cache_hit_on_second_identical_build(
    tiny_onnx: Path, fake_trt: Any, tmp_path: Path
) -> None:
    trt = fake_trt()
    cache = tmp_path / "engines"
    first = B.build_engine(tiny_onnx, precision="fp16", progress=False, cache=cache)
    second = B.build_engine(tiny_onnx, precision="fp16", progress=False, cache=cache)
    assert trt.calls["builds"] == 1
    assert not first.cache_hit and second.cache_hit
    assert second.engine == first.engine and second.cache_key == first.cache_key
    assert second.io == first.io and second.build_time_s == 0.0
    # a different option is a different engine
    third = B.build_engine(tiny_onnx, precision="fp32", progress=False, cache=cache)
    assert not third.cache_hit and trt.calls["builds"] == 2
    # another TensorRT version never hits the 10.x entry
    trt11 = fake_trt("11.4.0.106")
    fourth = B.build_engine(tiny_onnx, precision="fp16", progress=False, cache=cache)
    assert not fourth.cache_hit and trt11.calls["builds"] == 1
    # the default cache (cache_dir()/engines) works the same way
    B.build_engine(tiny_onnx, progress=False)
    assert B.build_engine(tiny_onnx, progress=False).cache_hit


def test_parser_errors_become_build_error(tiny_onnx: Path, fake_trt: Any) -> None:
    fake_trt(parse_errors=2)
    with pytest.raises(BuildError) as info:
        B.build_engine(tiny_onnx, progress=False, cache=False)
    text = str(info.value)
    assert "2 error(s)" in text
    assert "node 3 '/bad0' (Foo): unsupported op #0 [UNSUPPORTED_NODE]" in text
    assert "node 4 '/bad1' (Foo): unsupported op #1" in text
    assert "parser: giving up" in text  # log tail


def test_builder_returning_none_reports_log_tail(tiny_onnx: Path, fake_trt: Any) -> None:
    fake_trt(fail_build=True)
    with pytest.raises(BuildError, match=r"returned no engine[\s\S]*Error Code 4: Internal Error"):
        B.build_engine(tiny_onnx, progress=False, cache=False)


def test_progress_callback_and_cancellation(tiny_onnx: Path, fake_trt: Any) -> None:
    fake_trt()
    events: list[ProgressEvent] = []
    B.build_engine(tiny_onnx, progress=events.append, cache=False)
    phases = [(e.phase, e.step, e.done) for e in events]
    assert phases[0] == ("Building engine", 0, False)
    assert ("Tactic timing", 2, False) in phases and ("Tactic timing", 2, True) in phases
    assert phases[-1] == ("Building engine", 3, True)
    assert next(e for e in events if e.phase == "Tactic timing").parent == "Building engine"

    tracker = ProgressTracker()
    tracker.on_event = lambda e: tracker.cancel() if e.phase == "Tactic timing" else None
    with pytest.raises(BuildError, match="cancelled"):
        B.build_engine(tiny_onnx, progress=tracker, cache=False)


def test_timing_cache_is_loaded_and_saved(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    trt = fake_trt()
    tc = tmp_path / "t.cache"
    r1 = B.build_engine(tiny_onnx, timing_cache=tc, progress=False, cache=False)
    assert trt.calls["timing_blobs"] == [b""] and tc.read_bytes() == b"+timing"
    B.build_engine(tiny_onnx, timing_cache=tc, progress=False, cache=False)
    assert trt.calls["timing_blobs"] == [b"", b"+timing"]
    assert r1.timing_cache_path == tc
    default = B.build_engine(tiny_onnx, timing_cache=True, progress=False, cache=False)
    assert default.timing_cache_path is not None and default.timing_cache_path.is_file()
    assert "10.13.3.9" in default.timing_cache_path.name


def test_engine_from_onnx_and_save_engine(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    fake_trt()
    loader = B.EngineFromOnnx(tiny_onnx, precision="fp16", progress=False, cache=False)
    assert "precision='fp16'" in repr(loader)
    data = loader()
    assert data.startswith(b"FAKE-ENGINE") and loader.result is not None
    assert loader.result.engine == data
    out = B.SaveEngine(loader, tmp_path / "sub" / "m.engine")()
    assert (tmp_path / "sub" / "m.engine").read_bytes() == out == data
    B.SaveEngine(b"raw", tmp_path / "raw.engine")()
    assert (tmp_path / "raw.engine").read_bytes() == b"raw"
