"""The one ONNX metadata reader (onnx_specs) and check_onnx, moved here from export.py.

Dims follow TensorRT's ONNX parser (onnx-tensorrt ``convertOnnxDims``): a ``dim_value >= 0`` is
fixed (0 included), a ``dim_param`` is named-dynamic, neither (or a negative value) is dynamic.
Before this module, ``trt/build.onnx_input_specs`` turned a 0 dim into ``None`` and any
bfloat16/unknown element type into float32, while ``export._spec_of`` used a ``V2`` placeholder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtlab import models
from trtlab.errors import DTypeError, ExportError, FileFormatError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from trtlab.onnx_meta import (  # noqa: E402
    OnnxSummary,
    check_onnx,
    external_data_locations,
    input_specs,
    onnx_specs,
)


def _model(elem: int = TensorProto.FLOAT, dims: list[Any] | None = None) -> Any:
    shape = ["N", 3, 8, 8] if dims is None else dims
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])],
        "g",
        [helper.make_tensor_value_info("input", elem, shape)],
        [helper.make_tensor_value_info("output", elem, shape)],
        initializer=[helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])],
    )
    # an initializer also listed as a graph input (old exporters do this) is not a real input
    graph.input.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [2]))
    return helper.make_model(graph)


def test_specs_from_path_and_proto(tmp_path: Path) -> None:
    proto = _model()
    path = tmp_path / "m.onnx"
    onnx.save(proto, str(path))
    inputs, outputs = onnx_specs(path)
    assert [s.name for s in inputs] == ["input"] and [s.name for s in outputs] == ["output"]
    assert inputs[0].shape == ("N", 3, 8, 8) and inputs[0].dtype == np.float32
    assert onnx_specs(proto) == (inputs, outputs)
    assert input_specs(path) == inputs


def test_dims_follow_the_tensorrt_parser() -> None:
    proto = _model(dims=[None, 0, "H", 5])  # None: neither dim_value nor dim_param
    dim = proto.graph.input[0].type.tensor_type.shape.dim.add()
    dim.dim_value = -1  # negative: dynamic, as TensorRT reads it
    (spec,), _ = onnx_specs(proto)
    assert spec.shape == (None, 0, "H", 5, None)
    assert spec.dynamic_axes == (0, 2, 4)


def test_reduced_precision_dtypes_are_real_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    (spec,), (out,) = onnx_specs(_model(TensorProto.BFLOAT16))
    assert spec.dtype == np.dtype(ml_dtypes.bfloat16) and out.dtype == spec.dtype
    (f16,), _ = onnx_specs(_model(TensorProto.FLOAT16))
    assert f16.dtype == np.float16


def test_unknown_dtype_is_a_clear_error() -> None:
    with pytest.raises(DTypeError, match=r"'input' of the model has ONNX element type UNDEFINED"):
        onnx_specs(_model(TensorProto.UNDEFINED))
    proto = _model()
    seq = helper.make_tensor_sequence_value_info("output", TensorProto.FLOAT, [1])
    proto.graph.output.pop()
    proto.graph.output.append(seq)
    with pytest.raises(DTypeError, match="sequence_type value, not a tensor"):
        onnx_specs(proto)


def test_build_and_export_use_this_reader(tmp_path: Path) -> None:
    from trtlab import export
    from trtlab.trt import build

    assert export.check_onnx is check_onnx and export.OnnxSummary is OnnxSummary
    path = tmp_path / "bf16.onnx"
    onnx.save(_model(TensorProto.BFLOAT16, ["N", 0, 8]), str(path))
    (spec,) = build.onnx_input_specs(path)
    assert spec.dtype.name == "bfloat16" and spec.shape == ("N", 0, 8)


def test_reader_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"nope\.onnx"):
        onnx_specs(tmp_path / "nope.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(FileFormatError, match="not a readable"):
        onnx_specs(tmp_path / "bad.onnx")


# -- check_onnx (moved from test_export.py) ------------------------------------------------------
def test_check_onnx_summary(tiny_segmenter_onnx: Path) -> None:
    s = check_onnx(tiny_segmenter_onnx)
    assert s.opset == 18 and s.ir_version >= 8 and "pytorch" in s.producer
    assert [i.name for i in s.inputs] == ["input"] and s.inputs[0].dtype == np.float32
    assert s.outputs[0].shape == ("batch", "height", "width") and s.outputs[0].dtype == np.int64
    assert s.op_histogram["ArgMax"] == 1 and s.op_histogram["Conv"] == 2
    n_params = sum(p.numel() for p in models.tiny_segmenter().parameters())
    assert s.num_parameters >= n_params and s.num_nodes == sum(s.op_histogram.values())
    text, html = str(s), s._repr_html_()
    for needle in ("input: float32 [batch, 3, height, width]", "ArgMax", f"{s.num_parameters:,}"):
        assert needle in text and needle in html


def test_check_onnx_errors(tmp_path: Path, tiny_classifier_onnx: Path) -> None:
    with pytest.raises(FileFormatError, match=r"missing\.onnx"):
        check_onnx(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(os.urandom(64) + b"\xff" * 64)
    with pytest.raises(FileFormatError, match="junk"):
        check_onnx(junk)
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(tiny_classifier_onnx.read_bytes()[:500])
    with pytest.raises(FileFormatError, match="cut"):
        check_onnx(truncated)
    bad = helper.make_model(
        helper.make_graph(
            [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["nope"], ["z"])],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1])],
        )
    )
    onnx.save(bad, str(tmp_path / "invalid.onnx"))
    with pytest.raises(ExportError, match="checker"):
        check_onnx(tmp_path / "invalid.onnx")


def _point_to_file(tensor: Any, location: str) -> None:
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value


def test_external_data_locations_lists_each_external_file_once_sorted() -> None:
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])],
        "g",
        [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
        initializer=[
            helper.make_tensor(n, TensorProto.FLOAT, [4], [1.0] * 4) for n in ("a", "b", "c", "d")
        ],
    )
    proto = helper.make_model(graph)
    assert external_data_locations(proto) == []  # self-contained
    a, b, c, d = proto.graph.initializer
    _point_to_file(a, "z.bin")
    _point_to_file(b, "a.bin")
    _point_to_file(c, "a.bin")
    # external_data entries on a tensor stored inline are not read by ONNX: ignored here too
    d.external_data.add().CopyFrom(a.external_data[0])
    assert external_data_locations(proto) == ["a.bin", "z.bin"]
