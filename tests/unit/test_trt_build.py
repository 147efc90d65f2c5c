"""build_engine: profile validation, precision plan per version, cache, errors, progress.

TensorRT cannot be installed here, so the build itself runs against the strict stand-in of
``tests/_faketrt_build.py``: the TensorRT 10/11 builder API surface that ``build.py`` uses (the
names the stubs in ``typings/`` declare; ``BuilderFlag.FP16`` is absent on 11.x), refusing what
real TensorRT refuses (precision flags on strongly typed networks, uncovered dynamic inputs,
plugins before ``init_libnvinfer_plugins``, host code without ``engine_host_code_allowed``...).
It records every call, so the tests check *what* would be asked of TensorRT. The real thing is
exercised in ``tests/gpu/test_tensorrt_build.py``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from _faketrt_build import make_fake_trt, plan_summary
from _legacy_export import legacy_export

from trtlab.errors import (
    BuildError,
    ConfigError,
    DependencyError,
    EngineCompatibilityError,
    EngineLoadError,
    InputError,
    ShapeError,
)
from trtlab.trt import build as B
from trtlab.trt.cache import EngineCache, key_of_identity
from trtlab.trt.progress import ProgressEvent, ProgressTracker
from trtlab.trt.provenance import build_identity, onnx_sha256, read_provenance

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


# Profile validation (validate_profiles, defaults, trtexec text) is in test_profiles.py; the
# ONNX input reader (onnx_input_specs) in test_onnx_meta.py.


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


# -- build_engine against the strict FakeTRT (tests/_faketrt_build.py) ----------------------------
@pytest.fixture
def fake_trt(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(version: str = "10.13.3.9", **kw: Any) -> Any:
        mod = make_fake_trt(version, **kw)
        monkeypatch.setitem(sys.modules, "tensorrt", mod)
        monkeypatch.setattr(B, "gpu_identity", lambda device=0: ("Fake GPU", (8, 6)))
        return mod

    return install


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
    summary = plan_summary(result.engine)
    assert summary["flags"] == {"network": 0, "pool": {"WORKSPACE": 1 << 30}}
    assert summary["level"] == 2 and summary["verbosity"] == "DETAILED"
    assert summary["builder_flags"] == ["FP16"] and not summary["version_compatible"]
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
    assert parsed["path"] != str(tiny_onnx) and parsed["path"].endswith("-fp16-r2.onnx")
    assert parsed["init_types"] == [onnx.TensorProto.FLOAT16]
    assert result.built_onnx_path == Path(parsed["path"])
    assert result.plan.onnx_transform == "fp16" and result.plan.strongly_typed
    # the converted ONNX is cached by content: a second build reuses the file
    mtime = result.built_onnx_path.stat().st_mtime_ns
    B.build_engine(tiny_onnx, precision="fp16", progress=False, cache=False)
    assert result.built_onnx_path.stat().st_mtime_ns == mtime


def test_strongly_typed_on_10x_sets_no_precision_flag(tiny_onnx: Path, fake_trt: Any) -> None:
    """The strict fake fails a STRONGLY_TYPED build with FP16 set, as TensorRT does."""
    trt = fake_trt("10.13.3.9")
    result = B.build_engine(
        tiny_onnx, precision="fp16", strongly_typed=True, progress=False, cache=False
    )
    assert trt.calls["flags_set"] == [] and plan_summary(result.engine)["builder_flags"] == []
    # and the fake does refuse the mix, so the assertion above is not vacuous
    builder = trt.Builder(B.trt_logger(trt, capture=B.LogCapture()))
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.FP16)
    assert builder.build_serialized_network(network, config) is None


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


def test_config_refuses_profiles_missing_a_dynamic_input(seg_onnx: Path, fake_trt: Any) -> None:
    """TensorRT fails such a build at the end; create_config names the input up front."""
    trt = fake_trt()
    request = B.plan_build(seg_onnx, profiles={"input": (1, 3, 64, 64)})
    logger = B.trt_logger(trt, capture=B.LogCapture())
    builder = trt.Builder(logger)
    network, _parser = B.create_network(
        trt, builder, logger, request.plan, seg_onnx, B.LogCapture()
    )
    empty = dataclasses.replace(request, profiles=[{}])
    with pytest.raises(ShapeError, match=r"\['input'\].*do not cover"):
        B.create_config(trt, builder, network, empty)
    config = B.create_config(trt, builder, network, request)
    assert config.profiles[0].shapes["input"] == ((1, 3, 64, 64),) * 3


def test_plugins_are_registered_before_parsing(tmp_path: Path, fake_trt: Any) -> None:
    """ONNX ops served by TensorRT's plugin library only parse after init_libnvinfer_plugins."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("EfficientNMS_TRT", ["boxes"], ["out"], name="nms")],
        "g",
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 100, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 100, 4])],
    )
    path = tmp_path / "nms.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    trt = fake_trt()
    B.build_engine(path, progress=False, cache=False)
    assert trt.calls["plugins_initialized"] == [""]
    assert trt.calls["order"].index("init_plugins") < trt.calls["order"].index("parse")


def test_version_compatible_build(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    trt = fake_trt("10.13.3.9")
    result = B.build_engine(
        tiny_onnx, tmp_path / "vc.engine", version_compatible=True, progress=False, cache=False
    )
    assert "VERSION_COMPATIBLE" in trt.calls["flags_set"]
    summary = plan_summary(result.engine)
    assert summary["version_compatible"] and summary["lean_runtime_embedded"]
    prov = read_provenance(tmp_path / "vc.engine")
    assert prov is not None and prov.version_compatible and not prov.exclude_lean_runtime
    # a later TensorRT 11 runtime deserializes it (host code allowed); a plain plan does not
    plain = B.build_engine(tiny_onnx, progress=False, cache=False)
    trt11 = make_fake_trt("11.4.0.106")
    runtime = trt11.Runtime(B.trt_logger(trt11, capture=B.LogCapture()))
    assert runtime.deserialize_cuda_engine(plain.engine) is None
    assert runtime.deserialize_cuda_engine(result.engine) is None  # host code not allowed yet
    runtime.engine_host_code_allowed = True
    assert runtime.deserialize_cuda_engine(result.engine) is not None

    slim = B.build_engine(
        tiny_onnx,
        version_compatible=True,
        exclude_lean_runtime=True,
        progress=False,
        cache=False,
    )
    assert trt.calls["flags_set"][-2:] == ["VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME"]
    assert not plan_summary(slim.engine)["lean_runtime_embedded"]
    assert slim.cache_key != result.cache_key != plain.cache_key


def test_exclude_lean_runtime_needs_version_compatible(tiny_onnx: Path, fake_trt: Any) -> None:
    fake_trt()
    with pytest.raises(ConfigError, match="version_compatible=True") as info:
        B.build_engine(tiny_onnx, exclude_lean_runtime=True, progress=False, cache=False)
    assert info.value.hint


def test_inspect_version_compatible_engine(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    """A plan embedding the lean runtime needs engine_host_code_allowed to deserialize."""
    fake_trt()
    result = B.build_engine(
        tiny_onnx, tmp_path / "vc.engine", version_compatible=True, progress=False, cache=False
    )
    assert B.inspect_engine(result)[0]["Name"] == "fake"  # BuildResult: built here, trusted
    # a path: its provenance says version-compatible, so host code is allowed
    assert "VERSION_COMPATIBLE" in B.inspect_engine(tmp_path / "vc.engine")[0]["Flags"]
    with pytest.raises(EngineLoadError, match="host code") as info:
        B.inspect_engine(result.engine)  # bare bytes: trust is not assumed
    assert "allow_host_code=True" in str(info.value)
    assert B.inspect_engine(result.engine, allow_host_code=True)


def test_inspect_checks_provenance_first(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    fake_trt("10.13.3.9")
    B.build_engine(tiny_onnx, tmp_path / "e.engine", progress=False, cache=False)
    fake_trt("11.4.0.106")
    with pytest.raises(EngineCompatibilityError, match=r"TensorRT 10\.13 on sm_86.*11\.4"):
        B.inspect_engine(tmp_path / "e.engine")


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


def test_provenance_beside_every_engine_matches_cache_key(
    tiny_onnx: Path, fake_trt: Any, tmp_path: Path
) -> None:
    """One identity: the cache key is the hash of exactly what the provenance records."""
    fake_trt()
    result = B.build_engine(
        tiny_onnx, tmp_path / "m.engine", precision="fp16", progress=False, cache=tmp_path / "c"
    )
    assert result.cache_key is not None
    for engine_file in (
        tmp_path / "m.engine",
        EngineCache(tmp_path / "c").path_for(result.cache_key),
    ):
        prov = read_provenance(engine_file)
        assert prov is not None
        assert prov.trt_version == "10.13.3.9" and prov.gpu_name == "Fake GPU"
        assert prov.compute_capability == (8, 6) and prov.cache_key == result.cache_key
        assert prov.onnx_sha256 == onnx_sha256(tiny_onnx)
        assert prov.options["precision"] == "fp16" and prov.onnx_path == str(tiny_onnx)
        identity = build_identity(
            onnx_sha256=prov.onnx_sha256,
            options=prov.options,
            trt_version=prov.trt_version,
            gpu_name=prov.gpu_name,
            compute_capability=prov.compute_capability,
        )
        assert key_of_identity(identity) == result.cache_key
    # a cache hit writes the same provenance beside a new path
    hit = B.build_engine(
        tiny_onnx, tmp_path / "n.engine", precision="fp16", progress=False, cache=tmp_path / "c"
    )
    assert hit.cache_hit
    hit_prov = read_provenance(tmp_path / "n.engine")
    assert hit_prov is not None and hit_prov.cache_key == result.cache_key
    assert result.provenance is not None and hit_prov.options == result.provenance.options
    saved = result.save(tmp_path / "saved.engine")
    assert read_provenance(saved) is not None


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


def _timing_entries(path: Path) -> list[str]:
    blob = path.read_bytes()
    assert blob.startswith(b"FAKE-TIMING-CACHE")
    return list(json.loads(blob[len(b"FAKE-TIMING-CACHE") :])["entries"])


def test_timing_cache_is_loaded_and_saved(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    trt = fake_trt()
    tc = tmp_path / "t.cache"
    r1 = B.build_engine(tiny_onnx, timing_cache=tc, progress=False, cache=False)
    assert trt.calls["timing_blobs"][0] == b"" and len(_timing_entries(tc)) == 1
    saved = tc.read_bytes()
    B.build_engine(tiny_onnx, timing_cache=tc, progress=False, cache=False)
    assert trt.calls["timing_blobs"][-2] == saved  # loaded the file before building
    assert len(_timing_entries(tc)) == 1  # same build, same entry
    assert r1.timing_cache_path == tc
    default = B.build_engine(tiny_onnx, timing_cache=True, progress=False, cache=False)
    assert default.timing_cache_path is not None and default.timing_cache_path.is_file()
    assert "10.13.3.9" in default.timing_cache_path.name


def test_concurrent_builds_merge_the_timing_cache(
    tiny_onnx: Path, fake_trt: Any, tmp_path: Path
) -> None:
    """Build A loads the cache, build B finishes and saves meanwhile, then A saves: both stay."""
    trt = fake_trt()
    tc = tmp_path / "shared.cache"

    def build_b() -> None:
        B.build_engine(tiny_onnx, precision="tf32", timing_cache=tc, progress=False, cache=False)

    trt.calls["on_build"] = build_b  # runs inside build A, after A loaded the (empty) cache
    B.build_engine(tiny_onnx, precision="fp32", timing_cache=tc, progress=False, cache=False)
    entries = _timing_entries(tc)
    assert len(entries) == 2, entries  # overwriting would keep only build A's entry
    assert trt.calls["combined"] == [1]  # B found no file; A merged B's one entry
    assert (tmp_path / "shared.cache.lock").exists()


def test_timing_cache_lock_excludes_a_second_writer(tmp_path: Path) -> None:
    from trtlab.trt.cache import file_lock

    target = tmp_path / "t.cache"
    with (
        file_lock(target),
        pytest.raises(ConfigError, match="could not lock"),
        file_lock(target, timeout_s=0),
    ):
        pass
    with file_lock(target, timeout_s=0):  # released: free again
        pass


def test_engine_from_onnx_and_save_engine(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    fake_trt()
    loader = B.EngineFromOnnx(tiny_onnx, precision="fp16", progress=False, cache=False)
    assert "precision='fp16'" in repr(loader)
    data = loader()
    assert data.startswith(b"FAKE-ENGINE") and loader.result is not None
    assert loader.result.engine == data
    out = B.SaveEngine(loader, tmp_path / "sub" / "m.engine")()
    assert (tmp_path / "sub" / "m.engine").read_bytes() == out == data
    assert read_provenance(tmp_path / "sub" / "m.engine") is not None
    B.SaveEngine(b"raw", tmp_path / "raw.engine")()
    assert (tmp_path / "raw.engine").read_bytes() == b"raw"
    assert read_provenance(tmp_path / "raw.engine") is None  # unknown origin: no sidecar


def test_loaders_chain_value_or_loader(tiny_onnx: Path, fake_trt: Any, tmp_path: Path) -> None:
    """Polygraphy style: each argument is a value or a loader; calling the outer runs the chain."""
    fake_trt()
    calls: list[str] = []

    def onnx_loader() -> Path:  # stands in for OnnxFromTorch(model, example)
        calls.append("export")
        return tiny_onnx

    chain = B.SaveEngine(
        B.EngineFromOnnx(onnx_loader, progress=False, cache=False), tmp_path / "c.engine"
    )
    assert calls == []  # nothing runs until called
    data = chain()
    assert calls == ["export"] and (tmp_path / "c.engine").read_bytes() == data
    with pytest.raises(InputError, match="ONNX path or a loader"):
        B.EngineFromOnnx(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="returned int"):
        B.EngineFromOnnx(lambda: 42)()
    with pytest.raises(InputError, match="engine bytes"):
        B.SaveEngine(lambda: "not bytes", tmp_path / "x.engine")()


def test_engine_from_onnx_takes_onnx_from_torch(
    fake_trt: Any, tmp_path: Path, tiny_classifier: Any
) -> None:
    torch = pytest.importorskip("torch")
    from trtlab.export import OnnxFromTorch

    fake_trt()
    export = OnnxFromTorch(
        tiny_classifier, torch.randn(1, 3, 32, 32), path=tmp_path / "t.onnx", input_names=["input"]
    )
    loader = B.EngineFromOnnx(export, progress=False, cache=False)
    assert loader().startswith(b"FAKE-ENGINE")
    assert loader.result is not None and loader.result.onnx_path == tmp_path / "t.onnx"
