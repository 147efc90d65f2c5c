"""Real TensorRT builds (NVIDIA container): ResNet-50 and FCN-ResNet-101 from ONNX.

Skipped, with the reason printed by ``pytest -rs``, unless the full TensorRT Python package and a
CUDA GPU are usable (fixture ``tensorrt_gpu`` in ``tests/gpu/conftest.py``). Weights are random
(seeded): these tests are about building, not accuracy. Run with ``make gpu-tests`` or
``pytest tests/gpu/test_tensorrt_build.py -m tensorrt -rs``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtlab.errors import BuildError, ShapeError

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu, pytest.mark.usefixtures("tensorrt_gpu")]

RESNET_PROFILE = {"input": ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))}
FCN_PROFILE = {"input": ((1, 3, 128, 128), (1, 3, 256, 256), (2, 3, 384, 384))}


def _export(name: str, directory: Path) -> Path:
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import get_spec, load_model

    spec = get_spec(name)
    model = load_model(name, weights=None)  # random, seeded: no download needed
    return export_onnx(
        model,
        directory / f"{name}.onnx",
        torch.zeros(spec.example_shape),
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes={k: dict(v) for k, v in spec.dynamic_axes.items()},
        opset=spec.opset,
    )


@pytest.fixture(scope="module")
def resnet_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export("resnet50", tmp_path_factory.mktemp("resnet"))


@pytest.fixture(scope="module")
def fcn_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export("fcn_resnet101", tmp_path_factory.mktemp("fcn"))


def _deserialize(data: bytes) -> Any:
    import tensorrt as trt

    from trtlab.trt._compat import LogCapture, trt_logger

    runtime = trt.Runtime(trt_logger(trt, capture=LogCapture()))
    engine = runtime.deserialize_cuda_engine(data)
    assert engine is not None
    return runtime, engine


def _profile_of(engine: Any, name: str) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(d) for d in s) for s in engine.get_tensor_profile_shape(name, 0))


def _ort(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def _trt_run(engine_bytes: bytes, x: np.ndarray) -> np.ndarray:
    from trtlab.trt.runtime import Engine

    engine = Engine(engine_bytes)
    out = engine.infer({"input": x})
    return np.asarray(next(iter(out.values())))


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_resnet50_dynamic_batch(resnet_onnx: Path, precision: str, tmp_path: Path) -> None:
    from trtlab.trt.build import build_engine, inspect_engine

    result = build_engine(
        resnet_onnx,
        tmp_path / f"resnet50-{precision}.engine",
        precision=precision,
        profiles=RESNET_PROFILE,
        workspace="2GiB",
        progress=False,
        cache=False,
    )
    assert result.path is not None and result.path.stat().st_size == len(result.engine)
    assert result.size_mb > 10 and not result.cache_hit and result.build_time_s > 0
    _, engine = _deserialize(result.engine)
    assert _profile_of(engine, "input") == RESNET_PROFILE["input"]
    assert result.io[0]["profile"] == [list(s) for s in RESNET_PROFILE["input"]]
    assert result.io[1]["name"] == "logits"

    layers = inspect_engine(result.engine)
    assert len(layers) > 10 and all("Name" in layer for layer in layers)
    text = json.dumps(layers)
    if precision == "fp16":
        assert "Half" in text  # FP16 kernels were chosen (10.x flag / 11.x FP16 graph)
    else:
        assert "Half" not in text

    x = np.random.default_rng(0).standard_normal((3, 3, 224, 224)).astype(np.float32)
    ref, got = _ort(resnet_onnx, x), _trt_run(result.engine, x)
    assert got.shape == (3, 1000)
    tol = 1e-2 if precision == "fp32" else 1e-1
    assert np.abs(got - ref).max() <= tol * max(1.0, float(np.abs(ref).max()))


def test_fcn_dynamic_n_h_w(fcn_onnx: Path) -> None:
    from trtlab.trt.build import build_engine

    result = build_engine(fcn_onnx, profiles=FCN_PROFILE, progress=False, cache=False)
    _, engine = _deserialize(result.engine)
    assert _profile_of(engine, "input") == FCN_PROFILE["input"]
    assert result.io[1]["name"] == "classes" and result.io[1]["dtype"] in ("INT64", "INT32")
    x = np.random.default_rng(1).standard_normal((2, 3, 160, 200)).astype(np.float32)
    got = _trt_run(result.engine, x)
    assert got.shape == (2, 160, 200)
    agree = float(np.mean(got == _ort(fcn_onnx, x)))
    assert agree > 0.95


def test_cache_hit_on_second_build(resnet_onnx: Path, tmp_path: Path) -> None:
    from trtlab.trt.build import build_engine

    kwargs: dict[str, Any] = {
        "precision": "fp16",
        "profiles": RESNET_PROFILE,
        "progress": False,
        "cache": tmp_path / "engines",
    }
    first = build_engine(resnet_onnx, **kwargs)
    second = build_engine(resnet_onnx, **kwargs)
    # a hit is the same bytes without a build (no timing assertion: a loaded machine breaks those)
    assert not first.cache_hit and second.cache_hit
    assert second.engine == first.engine
    _deserialize(second.engine)  # a cached engine loads on this TensorRT/GPU


def test_bad_profile_is_a_clear_error(resnet_onnx: Path, fcn_onnx: Path) -> None:
    from trtlab.trt.build import build_engine

    with pytest.raises(ShapeError, match="axis 1"):
        build_engine(
            resnet_onnx,
            profiles={"input": ((1, 4, 224, 224), (2, 4, 224, 224), (4, 4, 224, 224))},
            progress=False,
            cache=False,
        )
    with pytest.raises(ShapeError, match="no profile"):
        build_engine(fcn_onnx, progress=False, cache=False)


def test_parser_error_names_the_node(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    from trtlab.trt.build import build_engine

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("NoSuchOp", ["input"], ["y"], name="mystery", domain="trtlab.test")
    graph = helper.make_graph([node], "g", [x], [y])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("trtlab.test", 1)]
    )
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    with pytest.raises(BuildError, match=r"'mystery' \(NoSuchOp\)"):
        build_engine(path, progress=False, cache=False)


def test_timing_cache_reuse(resnet_onnx: Path, tmp_path: Path) -> None:
    from trtlab.trt.build import build_engine

    cache_file = tmp_path / "timing.cache"
    first = build_engine(
        resnet_onnx, precision="fp16", timing_cache=cache_file, progress=False, cache=False
    )
    size = cache_file.stat().st_size
    assert size > 0
    second = build_engine(
        resnet_onnx, precision="fp16", timing_cache=cache_file, progress=False, cache=False
    )
    assert cache_file.stat().st_size >= size
    # the speed-up from a warm timing cache is reported, not asserted (machine-speed dependent)
    print(f"timing cache cold: {first.build_time_s:.1f} s, warm: {second.build_time_s:.1f} s")


def test_progress_events_and_cancel(resnet_onnx: Path) -> None:
    from trtlab.trt.build import build_engine
    from trtlab.trt.progress import ProgressEvent, ProgressTracker

    events: list[ProgressEvent] = []
    build_engine(resnet_onnx, progress=events.append, cache=False)
    assert events and any(e.done for e in events)
    assert {e.phase for e in events if e.depth == 0}

    tracker = ProgressTracker()
    tracker.on_event = lambda e: tracker.cancel()
    with pytest.raises(BuildError, match="cancelled"):
        build_engine(resnet_onnx, precision="fp16", progress=tracker, cache=False)


# -- issue 11: version compatibility, provenance, shared timing cache ---------------------------
@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import tiny_classifier

    return export_onnx(
        tiny_classifier(10),
        tmp_path_factory.mktemp("tiny") / "tiny.onnx",
        torch.zeros(1, 3, 32, 32),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )


def test_version_compatible_plan_needs_host_code_permission(
    tiny_onnx: Path, tmp_path: Path
) -> None:
    """The contract tests/_faketrt_build.py encodes, checked against real TensorRT."""
    import tensorrt as trt

    from trtlab.trt._compat import LogCapture, trt_logger
    from trtlab.trt.build import build_engine, inspect_engine
    from trtlab.trt.provenance import read_provenance

    result = build_engine(
        tiny_onnx, tmp_path / "vc.engine", version_compatible=True, progress=False, cache=False
    )
    prov = read_provenance(tmp_path / "vc.engine")
    assert prov is not None and prov.version_compatible and prov.trt_version == trt.__version__
    runtime = trt.Runtime(trt_logger(trt, capture=LogCapture()))
    assert runtime.deserialize_cuda_engine(result.engine) is None  # embedded lean runtime
    runtime.engine_host_code_allowed = True
    assert runtime.deserialize_cuda_engine(result.engine) is not None
    assert inspect_engine(tmp_path / "vc.engine")  # provenance allows host code
    slim = build_engine(
        tiny_onnx, version_compatible=True, exclude_lean_runtime=True, progress=False, cache=False
    )
    assert len(slim.engine) < len(result.engine)  # the lean runtime is not embedded


def test_version_compatible_plan_loads_in_lean_runtime(tiny_onnx: Path) -> None:
    lean = pytest.importorskip("tensorrt_lean", reason="tensorrt_lean (lean runtime) not installed")
    from trtlab.trt._compat import LogCapture, trt_logger
    from trtlab.trt.build import build_engine

    plain = build_engine(tiny_onnx, progress=False, cache=False)
    vc = build_engine(
        tiny_onnx, version_compatible=True, exclude_lean_runtime=True, progress=False, cache=False
    )
    runtime = lean.Runtime(trt_logger(lean, capture=LogCapture()))
    assert runtime.deserialize_cuda_engine(plain.engine) is None
    assert runtime.deserialize_cuda_engine(vc.engine) is not None


def test_provenance_explains_a_mismatch(tiny_onnx: Path, tmp_path: Path) -> None:
    import tensorrt as trt

    from trtlab.errors import EngineCompatibilityError
    from trtlab.trt.build import build_engine, gpu_identity
    from trtlab.trt.provenance import check_provenance

    build_engine(tiny_onnx, tmp_path / "e.engine", progress=False, cache=False)
    name, cap = gpu_identity()
    check_provenance(
        tmp_path / "e.engine", trt_version=trt.__version__, gpu_name=name, compute_capability=cap
    )
    with pytest.raises(EngineCompatibilityError, match="built with TensorRT"):
        check_provenance(
            tmp_path / "e.engine", trt_version="99.0", gpu_name=name, compute_capability=cap
        )


def test_concurrent_builds_share_one_timing_cache(tiny_onnx: Path, tmp_path: Path) -> None:
    """Two builds at once into one timing cache: the file stays loadable and keeps both."""
    import threading

    import tensorrt as trt

    from trtlab.trt._compat import LogCapture, trt_logger
    from trtlab.trt.build import build_engine

    def keys(path: Path) -> int:
        builder = trt.Builder(trt_logger(trt, capture=LogCapture()))
        cache = builder.create_builder_config().create_timing_cache(path.read_bytes())
        assert cache is not None
        return len(cache.queryKeys())

    alone = {}
    for precision in ("fp32", "fp16"):
        path = tmp_path / f"{precision}.cache"
        build_engine(tiny_onnx, precision=precision, timing_cache=path, progress=False, cache=False)
        alone[precision] = keys(path)
    shared = tmp_path / "shared.cache"
    errors: list[BaseException] = []

    def run(precision: str) -> None:
        try:
            build_engine(
                tiny_onnx, precision=precision, timing_cache=shared, progress=False, cache=False
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in ("fp32", "fp16")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert keys(shared) >= max(alone.values())
