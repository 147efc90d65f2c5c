"""FP16/BF16 ONNX conversion and the per-version precision plan (no TensorRT needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _legacy_export import legacy_export

from trtlab.errors import ConfigError, InputError
from trtlab.trt.precision import (
    FP32_OPS,
    BuildPlan,
    bfloat16_bits_to_float32,
    convert_onnx_precision,
    normalize_precision,
    onnx_float_types,
    ort_parity_skip,
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


# -- TensorRT 11 FP16 conversion: ops kept in FP32, useless Casts removed (issue 11 B4) ----------
def _elem_types(path: Path) -> dict[str, int]:
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    types = {t.name: t.data_type for t in model.graph.initializer}
    for v in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        types[v.name] = v.type.tensor_type.elem_type
    return types


def test_fp16_keeps_argmax_softmax_topk_in_fp32(tmp_path: Path) -> None:
    """ArgMax/Softmax/TopK read FP32 data in the converted graph (FP16 flips near-ties)."""
    from onnx import TensorProto, helper

    k = helper.make_tensor("k", TensorProto.INT64, [1], [3])
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 8], np.eye(8, dtype=np.float32).ravel())
    nodes = [
        helper.make_node("MatMul", ["input", "w"], ["mm"]),
        helper.make_node("Softmax", ["mm"], ["prob"], axis=-1),
        helper.make_node("ArgMax", ["mm"], ["cls"], axis=-1, keepdims=0),
        helper.make_node("TopK", ["mm", "k"], ["top", "idx"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "heads",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 8])],
        [
            helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 8]),
            helper.make_tensor_value_info("cls", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("top", TensorProto.FLOAT, ["N", 3]),
        ],
        initializer=[w, k],
    )
    src = tmp_path / "heads.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(src))
    dst = convert_onnx_precision(src, tmp_path / "heads16.onnx", "fp16")
    model = onnx.load(str(dst))
    types = _elem_types(dst)
    for node in model.graph.node:
        if node.op_type in FP32_OPS:
            assert types[node.input[0]] == TensorProto.FLOAT, (node.op_type, node.input[0])
    assert any(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer)
    x = np.random.default_rng(3).standard_normal((5, 8)).astype(np.float32)
    sess = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    ref = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    got, want = sess.run(None, {"input": x}), ref.run(None, {"input": x})
    np.testing.assert_array_equal(got[1], want[1])


def test_fp16_segmenter_argmax_reads_fp32_without_round_trip(
    segmenter_onnx: Path, tmp_path: Path
) -> None:
    """Resize (kept FP32) feeds ArgMax directly: no FP32 -> FP16 -> FP32 Cast pair between."""
    dst = convert_onnx_precision(segmenter_onnx, tmp_path / "seg16.onnx", "fp16")
    model = onnx.load(str(dst))
    types = _elem_types(dst)
    (argmax,) = [n for n in model.graph.node if n.op_type == "ArgMax"]
    assert types[argmax.input[0]] == onnx.TensorProto.FLOAT
    producers = {o: n for n in model.graph.node for o in n.output}
    for node in model.graph.node:
        if node.op_type == "Cast":
            first = producers.get(node.input[0])
            assert first is None or first.op_type != "Cast", (
                f"Cast pair {first.name} -> {node.name}"
            )
    x = np.random.default_rng(1).standard_normal((1, 3, 24, 40)).astype(np.float32)
    assert float(np.mean(_run(segmenter_onnx, x) == _run(dst, x))) > 0.97


def test_casts_that_only_feed_shape_are_dropped(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Shape", ["input"], ["shape"]),
        helper.make_node("Relu", ["input"], ["act"]),
        helper.make_node("Shape", ["act"], ["shape2"]),
        helper.make_node("Add", ["act", "act"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "shapes",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 4])],
        [
            helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 4]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
            helper.make_tensor_value_info("shape2", TensorProto.INT64, [2]),
        ],
    )
    src = tmp_path / "shapes.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(src))
    dst = convert_onnx_precision(src, tmp_path / "shapes16.onnx", "fp16")
    model = onnx.load(str(dst))
    consumers: dict[str, list[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node.op_type)
    for node in model.graph.node:
        if node.op_type == "Cast":
            assert set(consumers.get(node.output[0], [])) != {"Shape"}, node.name
    shape_inputs = [n.input[0] for n in model.graph.node if n.op_type == "Shape"]
    assert "input" in shape_inputs  # reads the FP32 graph input directly
    x = np.ones((3, 4), np.float32)
    out = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    assert list(out[1]) == [3, 4] and list(out[2]) == [3, 4]


def test_bf16_graph_is_for_tensorrt_only(segmenter_onnx: Path, tmp_path: Path) -> None:
    """B5: ONNX Runtime and onnx.checker (full) refuse BF16 Conv at opset 18: the skip is honest."""
    dst = convert_onnx_precision(segmenter_onnx, tmp_path / "seg_bf16.onnx", "bf16")
    reason = ort_parity_skip("bf16")
    assert reason is not None and "ONNX Runtime" in reason and "bfloat16" in reason
    assert ort_parity_skip("fp16") is None and ort_parity_skip("float32") is None
    assert "TensorRT only" in onnx.load(str(dst)).doc_string
    with pytest.raises(Exception, match="bfloat16"):
        ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    with pytest.raises(onnx.shape_inference.InferenceError, match="bfloat16"):
        onnx.checker.check_model(onnx.load(str(dst)), full_check=True)
