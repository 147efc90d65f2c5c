"""FP16/BF16 ONNX conversion and the per-version precision plan (no TensorRT needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _legacy_export import legacy_export

from trtlab.errors import ConfigError, InputError
from trtlab.trt.precision import (
    BuildPlan,
    bfloat16_bits_to_float32,
    convert_onnx_precision,
    normalize_precision,
    onnx_float_types,
    plan_precision,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxconverter_common")


@pytest.fixture(scope="module")
def classifier_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trtlab.models import tiny_classifier

    path = tmp_path_factory.mktemp("prec") / "tiny.onnx"
    return legacy_export(tiny_classifier(), path, (1, 3, 32, 32), {0: "batch"})


@pytest.fixture(scope="module")
def segmenter_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trtlab.models import tiny_segmenter

    path = tmp_path_factory.mktemp("prec") / "seg.onnx"
    return legacy_export(tiny_segmenter(), path, (1, 3, 32, 32), {0: "batch", 2: "h", 3: "w"})


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def test_fp16_conversion_types_and_numerics(classifier_onnx: Path, tmp_path: Path) -> None:
    dst = convert_onnx_precision(classifier_onnx, tmp_path / "fp16.onnx", "fp16")
    types = onnx_float_types(dst)
    assert types["initializers"].get("FLOAT16", 0) >= 4  # 2 conv + linear weights and biases
    assert "FLOAT" not in types["initializers"]
    assert types["inputs"] == {"input": "FLOAT"}
    assert types["outputs"] == {"output": "FLOAT"}
    assert types["casts"] >= 2  # fp32 -> fp16 at the input, back at the output
    x = np.random.default_rng(0).standard_normal((3, 3, 32, 32)).astype(np.float32)
    ref, got = _run(classifier_onnx, x), _run(dst, x)
    assert got.dtype == np.float32 and got.shape == ref.shape == (3, 10)
    err = float(np.abs(ref - got).max())
    assert err < 1e-2 * max(1.0, float(np.abs(ref).max()))
    assert err > 0  # really computed in fp16 (bit-identical output would mean nothing changed)


def test_fp16_keeps_int64_argmax_output(segmenter_onnx: Path, tmp_path: Path) -> None:
    dst = convert_onnx_precision(segmenter_onnx, tmp_path / "seg16.onnx", "fp16")
    types = onnx_float_types(dst)
    assert types["outputs"] == {"output": "INT64"}
    x = np.random.default_rng(1).standard_normal((2, 3, 32, 40)).astype(np.float32)
    ref, got = _run(segmenter_onnx, x), _run(dst, x)
    assert got.dtype == np.int64 and got.shape == (2, 32, 40)
    assert float(np.mean(ref == got)) > 0.97  # argmax flips only where scores nearly tie


def test_block_list_keeps_op_in_fp32(classifier_onnx: Path, tmp_path: Path) -> None:
    dst = convert_onnx_precision(classifier_onnx, tmp_path / "b.onnx", "fp16", block_list=["Gemm"])
    model = onnx.load(str(dst))
    floats = {t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    assert len(floats) == 2  # Gemm weight + bias stayed fp32
    with pytest.raises(InputError, match="NoSuchOp"):
        convert_onnx_precision(
            classifier_onnx, tmp_path / "c.onnx", "fp16", block_list=["NoSuchOp"]
        )


def test_bf16_conversion(classifier_onnx: Path, tmp_path: Path) -> None:
    dst = convert_onnx_precision(classifier_onnx, tmp_path / "bf16.onnx", "bf16")
    types = onnx_float_types(dst)
    assert set(types["initializers"]) == {"BFLOAT16"}
    assert types["inputs"] == {"input": "FLOAT"} and types["outputs"] == {"output": "FLOAT"}
    model, original = onnx.load(str(dst)), onnx.load(str(classifier_onnx))
    onnx.checker.check_model(model)
    to = [a.i for n in model.graph.node if n.op_type == "Cast" for a in n.attribute]
    assert onnx.TensorProto.BFLOAT16 in to and onnx.TensorProto.FLOAT16 not in to
    # weights are the FP32 originals rounded to bf16 (not via fp16's clamped range)
    orig = {t.name: onnx.numpy_helper.to_array(t) for t in original.graph.initializer}
    for t in model.graph.initializer:
        bits = np.frombuffer(t.raw_data, dtype=np.uint16).reshape(tuple(t.dims))
        back = bfloat16_bits_to_float32(bits)
        np.testing.assert_allclose(back, orig[t.name], rtol=2**-8, atol=1e-30)
    # numerics through ONNX's reference evaluator (ONNX Runtime's CPU Conv has no bf16 kernel)
    ref_eval = pytest.importorskip("onnx.reference")
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    got = ref_eval.ReferenceEvaluator(str(dst)).run(None, {"input": x})[0]
    ref = _run(classifier_onnx, x)
    assert np.abs(ref - got).max() < 3e-2 * max(1.0, float(np.abs(ref).max()))


def test_bf16_rounding_is_nearest_even() -> None:
    from trtlab.trt.precision import _float32_to_bfloat16_bits

    values = np.array([1.0, 1.0 + 2**-8, 1.0 + 3 * 2**-8, -2.5, 1e30, np.inf], dtype=np.float32)
    back = bfloat16_bits_to_float32(_float32_to_bfloat16_bits(values))
    assert back[0] == 1.0
    assert back[1] == 1.0  # tie -> even mantissa
    assert back[2] == 1.0 + 2 * 2**-7  # tie -> even (rounds up)
    assert back[3] == -2.5
    assert abs(back[4] - 1e30) / 1e30 < 2**-8  # keeps fp32 range (fp16 would overflow)
    assert np.isinf(back[5])
    assert np.isnan(bfloat16_bits_to_float32(_float32_to_bfloat16_bits(np.array([np.nan]))))[0]


def test_conversion_rejects_bad_requests(classifier_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        convert_onnx_precision(classifier_onnx, tmp_path / "x.onnx", "fp32")
    half = convert_onnx_precision(classifier_onnx, tmp_path / "h.onnx", "fp16")
    with pytest.raises(InputError, match="already"):
        convert_onnx_precision(half, tmp_path / "hh.onnx", "fp16")
    assert not (tmp_path / "hh.onnx").exists()


def test_normalize_precision() -> None:
    assert normalize_precision("FP16") == "fp16"
    assert normalize_precision("float16") == "fp16"
    assert normalize_precision("bfloat16") == "bf16"
    with pytest.raises(ConfigError, match="int8"):
        normalize_precision("int8")


# -- plan tables ---------------------------------------------------------------------------------
V10, V11 = "10.13.3.9", "11.4.0.106"

PLAN_TABLE = [
    # version, precision, strongly_typed, builder_flags, cleared, network_flags, transform
    (V10, "fp32", False, (), ("TF32",), (), None),
    (V10, "tf32", False, ("TF32",), (), (), None),
    (V10, "fp16", False, ("FP16",), (), (), None),
    (V10, "bf16", False, ("BF16",), (), (), None),
    (V11, "fp32", True, (), ("TF32",), ("STRONGLY_TYPED",), None),
    (V11, "tf32", True, ("TF32",), (), ("STRONGLY_TYPED",), None),
    (V11, "fp16", True, (), (), ("STRONGLY_TYPED",), "fp16"),
    (V11, "bf16", True, (), (), ("STRONGLY_TYPED",), "bf16"),
]


@pytest.mark.parametrize(
    ("version", "precision", "strong", "flags", "cleared", "net", "transform"), PLAN_TABLE
)
def test_plan_table(
    version: str,
    precision: str,
    strong: bool,
    flags: tuple[str, ...],
    cleared: tuple[str, ...],
    net: tuple[str, ...],
    transform: str | None,
) -> None:
    plan = plan_precision(precision, version)
    assert isinstance(plan, BuildPlan)
    assert plan.strongly_typed is strong
    assert plan.builder_flags == flags
    assert plan.cleared_flags == cleared
    assert plan.network_flags == net
    assert plan.onnx_transform == transform
    assert plan.trt_version == tuple(int(p) for p in version.split("."))
    assert precision in plan.describe()


def test_plan_never_uses_weak_flags_on_11() -> None:
    removed = {"FP16", "BF16", "INT8", "FP8", "OBEY_PRECISION_CONSTRAINTS"}
    for precision in ("fp32", "tf32", "fp16", "bf16"):
        plan = plan_precision(precision, (11, 0))
        assert not removed & set(plan.builder_flags)
        assert "EXPLICIT_BATCH" not in plan.network_flags


def test_plan_strongly_typed_override() -> None:
    plan = plan_precision("fp16", V10, strongly_typed=True)
    assert plan.onnx_transform == "fp16" and plan.network_flags == ("STRONGLY_TYPED",)
    assert plan.builder_flags == ()
    with pytest.raises(ConfigError, match="strongly typed"):
        plan_precision("fp16", V11, strongly_typed=False)
