"""Optimization profiles: one type (Profile of ShapeRange), one validator, one default.

Pure Python: no TensorRT and (except the ONNX-file test) no onnx. The rules checked here are
TensorRT's own (``IOptimizationProfile.set_shape``: one rank for min/opt/max, ``min <= opt <=
max`` per axis, fixed network dims must be matched exactly) plus trtlab's choice that a dynamic
height/width never gets a guessed size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtlab.errors import InputError, ShapeError
from trtlab.tensors import TensorSpec
from trtlab.trt import build as B
from trtlab.trt.profiles import (
    Profile,
    ShapeRange,
    as_shape_range,
    check_shape,
    default_profile,
    parse_profile_text,
    parse_profiles,
    parse_shapes,
    validate_profiles,
)

F32 = np.dtype("float32")
CLS = TensorSpec("input", ("N", 3, 224, 224), F32)
SEG = TensorSpec("input", ("N", 3, "H", "W"), F32)
STATIC = TensorSpec("mask", (1, 4), F32)
R224 = ShapeRange((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))


# -- ShapeRange / Profile ------------------------------------------------------------------------
def test_shape_range_is_the_tuple_triple() -> None:
    lo, opt, hi = R224
    assert (lo, opt, hi) == (R224.min, R224.opt, R224.max) and R224[2] == (8, 3, 224, 224)
    assert R224 == ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))  # old triples compare
    assert hash(R224) == hash(tuple(R224))
    assert R224.contains((5, 3, 224, 224)) and not R224.contains((9, 3, 224, 224))
    assert not R224.contains((1, 3, 224))
    assert ShapeRange.fixed((2, 3)).is_fixed and str(ShapeRange.fixed((2, 3))) == "2x3"
    with pytest.raises(ShapeError, match="different ranks"):
        ShapeRange((1, 3), (1, 3, 4), (1, 3, 4))
    with pytest.raises(ShapeError, match="sequence of ints"):
        ShapeRange((1.5, 3), (1, 3), (1, 3))  # type: ignore[arg-type]


def test_profile_is_an_immutable_hashable_mapping() -> None:
    p = Profile({"input": ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))})
    assert p["input"] == R224 and list(p) == ["input"] and len(p) == 1
    assert p == Profile({"input": R224}) and hash(p) == hash(Profile({"input": R224}))
    assert p == {"input": R224}
    with pytest.raises(TypeError):
        p["input"] = R224  # type: ignore[index]
    assert p.to_json() == {"input": [[1, 3, 224, 224], [4, 3, 224, 224], [8, 3, 224, 224]]}
    assert p.trtexec_args() == [
        "--minShapes=input:1x3x224x224",
        "--optShapes=input:4x3x224x224",
        "--maxShapes=input:8x3x224x224",
    ]
    with pytest.raises(InputError, match="input names"):
        Profile({0: R224})  # type: ignore[dict-item]


def test_check_shape_names_the_range() -> None:
    assert check_shape("input", np.array([2, 3, 224, 224]), R224) == (2, 3, 224, 224)
    with pytest.raises(ShapeError, match=r"profile 1: axis 0: 9 not in \[1, 8\]"):
        check_shape("input", (9, 3, 224, 224), R224, profile=1)
    with pytest.raises(ShapeError, match=r"axis 1: 4 != 3 \(fixed\)"):
        check_shape("input", (1, 4, 224, 224), R224)
    with pytest.raises(ShapeError, match="rank 4"):
        check_shape("input", (3, 224, 224), R224)


# -- the user forms, all through one validator ---------------------------------------------------
def test_profiles_resolve() -> None:
    got = validate_profiles(
        [CLS], {"input": [(1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224)]}
    )
    assert got == [Profile({"input": R224})] and isinstance(got[0], Profile)
    fixed = validate_profiles([CLS], {"input": (2, 3, 224, 224)})
    assert fixed == [{"input": ((2, 3, 224, 224),) * 3}]
    as_dict = validate_profiles(
        [CLS],
        {"input": {"min": (1, 3, 224, 224), "opt": (2, 3, 224, 224), "max": (2, 3, 224, 224)}},
    )
    assert as_dict[0]["input"].opt == (2, 3, 224, 224)
    assert validate_profiles([CLS], {"input": R224}) == [{"input": R224}]
    assert validate_profiles([CLS], [Profile({"input": R224})]) == [{"input": R224}]


def test_trtexec_text_forms() -> None:
    assert parse_shapes("input:1x3x224x224, 'in:0':2x4") == {
        "input": (1, 3, 224, 224),
        "in:0": (2, 4),
    }
    text = "--minShapes=input:1x3x224x224 --optShapes=input:4x3x224x224 maxShapes=input:8x3x224x224"
    assert validate_profiles([CLS], text) == [{"input": R224}]
    short = "min=input:1x3x224x224 opt=input:4x3x224x224 max=input:8x3x224x224"
    assert validate_profiles([CLS], short) == [{"input": R224}]
    assert validate_profiles([CLS], "input:2x3x224x224") == [
        {"input": ShapeRange.fixed((2, 3, 224, 224))}
    ]
    assert validate_profiles([CLS], {"input": "2x3x224x224"})[0]["input"].is_fixed
    # trtexec's rule: an input named only in opt uses opt for min and max
    assert parse_profile_text("opt=input:4x3x224x224")["input"] == ((4, 3, 224, 224),) * 3
    assert Profile(parse_profile_text(short)).trtexec_args()[0] == "--minShapes=input:1x3x224x224"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("input=1x3", "name:AxBxC"),
        ("input:1x3,input:1x4", "twice"),
        ("min=input:1x3 max=input:4x3", "no opt"),
        ("min=input:1x3 opt=input:2x3 max=input:4x3 extra", "cannot read"),
        ("min=mask:1x3 opt=input:2x3", "no opt shape for"),
    ],
)
def test_trtexec_text_errors(text: str, match: str) -> None:
    with pytest.raises(ShapeError, match=match):
        parse_profile_text(text)


def test_profiles_default_batch_one_and_static_inputs() -> None:
    assert validate_profiles([CLS, STATIC], None) == [{"input": ((1, 3, 224, 224),) * 3}]
    assert validate_profiles([STATIC], None) == [{}]


def test_profiles_several() -> None:
    got = validate_profiles([CLS], [{"input": (1, 3, 224, 224)}, {"input": (8, 3, 224, 224)}])
    assert [p["input"].min[0] for p in got] == [1, 8]


@pytest.mark.parametrize(
    ("specs", "profiles", "error", "match"),
    [
        ([CLS], {"image": (1, 3, 224, 224)}, InputError, r"\['image'\].*\['input'\]"),
        ([CLS], {"input": (1, 3, 224)}, ShapeError, "rank 3.*rank 4"),
        ([CLS], {"input": [(1, 3, 224, 224), (1, 3, 224, 224)]}, ShapeError, "2 shapes"),
        (
            [CLS],
            {"input": [(1, 3, 224), (1, 3, 224, 224), (1, 3, 224, 224)]},
            ShapeError,
            "different ranks",
        ),
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
        ([CLS], {"input": (1.5, 3, 224, 224)}, ShapeError, "non-integer"),
        ([CLS], {"input": "one by three"}, ShapeError, "sequence of ints"),
        ([CLS], {"input": {"min": (1, 3, 224, 224)}}, ShapeError, r"missing \['opt', 'max'\]"),
        (
            [SEG],
            None,
            ShapeError,
            r"axis 2 \('H'\), axis 3 \('W'\) and no profile[\s\S]*\(4, 3, 1024, 1024\)",
        ),
        ([CLS], "input:1x3", ShapeError, "rank 2.*rank 4"),
        ([CLS], 42, InputError, "must be a dict"),
        ([CLS], [42], InputError, r"profiles\[0\]"),
    ],
)
def test_profile_errors(specs: list[TensorSpec], profiles: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        validate_profiles(specs, profiles)


def test_parse_profiles_checks_form_without_a_model() -> None:
    assert parse_profiles({"input": R224}) == [{"input": R224}]
    assert parse_profiles(None) == [{}]
    with pytest.raises(ShapeError, match="min <= opt <= max"):
        parse_profiles({"input": ((4, 3), (2, 3), (8, 3))})


def test_as_shape_range_forms() -> None:
    assert as_shape_range("x", R224) is R224
    assert as_shape_range("x", ["1x3", "2x3", "4x3"]) == ((1, 3), (2, 3), (4, 3))
    assert as_shape_range("x", (2, 3)).is_fixed


# -- one default, from the model's own dims ------------------------------------------------------
def test_default_profile_uses_the_models_dims() -> None:
    small = TensorSpec("input", ("N", 3, 32, 32), F32)  # not 224: the model says 32
    assert default_profile([small]) == {"input": ((1, 3, 32, 32),) * 3}
    assert default_profile([small], batch=(1, 4, 8)) == {
        "input": ((1, 3, 32, 32), (4, 3, 32, 32), (8, 3, 32, 32))
    }
    assert default_profile([SEG, STATIC], batch=(1, 2, 4), hw=(128, 520, 2560)) == {
        "input": ((1, 3, 128, 128), (2, 3, 520, 520), (4, 3, 2560, 2560))
    }
    assert default_profile([SEG], hw=64) == {"input": ((1, 3, 64, 64),) * 3}
    fixed_batch = TensorSpec("input", (4, 3, "H", "W"), F32)
    assert default_profile([fixed_batch], batch=(1, 2, 8), hw=16)["input"].max == (4, 3, 16, 16)
    assert default_profile([STATIC]) == {}
    with pytest.raises(ShapeError, match="no profile"):
        default_profile([SEG])
    with pytest.raises(InputError, match="1 <= min <= opt <= max"):
        default_profile([CLS], batch=(4, 2, 1))
    with pytest.raises(InputError, match="triple of ints"):
        default_profile([CLS], batch="big")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="TensorSpecs"):
        default_profile([1, 2])


def test_default_profile_from_onnx_file(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["output"])],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, "H", "W"])],
    )
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert default_profile(path, batch=(1, 2, 4), hw=(8, 16, 32))["input"] == (
        (1, 3, 8, 8),
        (2, 3, 16, 16),
        (4, 3, 32, 32),
    )
    assert default_profile(onnx.load(str(path)), hw=8) == {"input": ((1, 3, 8, 8),) * 3}


# -- the old names in trt/build keep working ------------------------------------------------------
def test_build_module_reexports_the_one_implementation() -> None:
    assert B.validate_profiles is validate_profiles
    assert B.profile_triple("input", (1, 3, 224, 224)) == ShapeRange.fixed((1, 3, 224, 224))
    assert B.ResolvedProfile is Profile and B.ShapeTriple is ShapeRange
    from trtlab.trt.runtime import ProfileShape

    assert ProfileShape is ShapeRange


def test_build_notes_see_profiles_given_as_text() -> None:
    # build_engine's "no profile: built for batch 1" note read only dicts before
    assert B._first_profile_names("input:1x3x224x224") == {"input"}
    assert B._first_profile_names([{"input": R224}, {"other": R224}]) == {"input"}
    assert B._first_profile_names(None) == set()
