"""trtlab.compare: parity reports pass when they should and FAIL when they should."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trtlab.compare import TOLERANCES, ParityReport, Tolerance, compare, get_tolerance
from trtlab.errors import DTypeError, InputError, ParityError, ShapeError


@pytest.fixture
def logits(rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((8, 100)).astype(np.float32)
    x[np.arange(8), rng.integers(0, 100, 8)] += 4.0  # clear winners: no near ties
    return x


def test_tolerances_are_ordered_by_precision() -> None:
    order = ["fp32", "tf32", "fp16", "bf16"]
    assert list(TOLERANCES) == order
    l2 = [TOLERANCES[p].max_rel_l2 for p in order]
    assert l2 == sorted(l2) and TOLERANCES["fp32"].max_rel_l2 <= 1e-5
    pixels = [TOLERANCES[p].min_pixel for p in order]
    assert pixels == sorted(pixels, reverse=True)
    assert get_tolerance("FP16") is TOLERANCES["fp16"]
    with pytest.raises(InputError, match="fp8"):
        get_tolerance("fp8")


def test_identical_and_tiny_noise_pass(logits: np.ndarray, rng: np.random.Generator) -> None:
    report = compare({"logits": logits}, {"logits": logits.copy()}, reference_name="torch",
                     candidate_name="onnxruntime")  # fmt: skip
    assert report and report.passed and isinstance(report, ParityReport)
    m = report["logits"].metrics
    assert report["logits"].kind == "logits"
    assert m["rel_l2"] == 0.0 and m["top1_agreement"] == 1.0 and m["topk_overlap"] == 1.0
    noisy = logits + rng.standard_normal(logits.shape).astype(np.float32) * 1e-6
    assert compare(logits, noisy)
    text = str(report)
    assert "Parity onnxruntime vs torch (precision fp32): PASS" in text
    assert repr(report) == text


def test_perturbed_logits_fail_fp32_but_pass_fp16(
    logits: np.ndarray, rng: np.random.Generator
) -> None:
    noisy = logits * (1 + 5e-3 * rng.standard_normal(logits.shape)).astype(np.float32)
    fp32 = compare(logits, noisy, precision="fp32")
    assert not fp32
    rel = fp32["output"].metrics["rel_l2"]
    assert 1e-3 < rel < 1e-2
    assert any("relative L2" in r for r in fp32["output"].reasons)
    assert compare(logits, noisy, precision="fp16")  # within fp16's 3e-2
    assert compare(logits, noisy, tolerance=Tolerance(1, 1, 1e-2, 1.0, 1.0))


def test_swapped_top1_fails(logits: np.ndarray) -> None:
    swapped = logits.copy()
    top, low = int(np.argmax(logits[3])), int(np.argmin(logits[3]))
    swapped[3, [top, low]] = swapped[3, [low, top]]
    report = compare(logits, swapped, precision="bf16")
    out = report["output"]
    assert not report and out.metrics["top1_agreement"] == pytest.approx(7 / 8)
    assert any("top-1 class differs on 1 of 8 rows" in r for r in out.reasons)
    with pytest.raises(ParityError, match="disagrees"):
        report.raise_for_failure()
    assert compare(logits, logits).raise_for_failure().passed


def test_near_ties_count_as_agreement() -> None:
    ref = np.array([[1.0, 1.0 + 1e-6, -3.0], [5.0, 0.0, 0.0]], np.float32)
    cand = np.array([[1.0 + 2e-6, 1.0, -3.0], [5.0, 0.0, 0.0]], np.float32)
    report = compare(ref, cand, precision="fp32")
    m = report["output"].metrics
    assert m["top1_agreement"] == 0.5 and m["near_ties"] == 1 and m["top1_tie_aware"] == 1.0
    assert report  # rel L2 ~1e-6 and the flip is inside a tie
    # a tie row where the candidate picks a non-tied class still fails
    bad = cand.copy()
    bad[0] = [0.0, 0.0, 9.0]
    assert not compare(ref, bad, tolerance=Tolerance(1e-4, 1e-4, 100.0, 1.0, 1.0))


def test_class_map_pixel_fraction(rng: np.random.Generator) -> None:
    ref = rng.integers(0, 21, (2, 50, 50)).astype(np.int64)
    cand = ref.copy()
    flat = cand.reshape(-1)
    flat[:3] = (flat[:3] + 1) % 21  # 3 of 5000 = 0.06 %: within fp32's 0.1 %
    report = compare({"classes": ref}, {"classes": cand.astype(np.int32)})
    out = report["classes"]
    assert out.kind == "classmap" and report
    assert out.metrics["mismatched_pixels"] == 3 and out.metrics["pixel_agreement"] == 0.9994
    flat[:110] = (flat[:110] + 1) % 21  # 2.2 % differ: fails fp32 and fp16, passes bf16
    assert not compare(ref, cand, precision="fp32")
    assert not compare(ref, cand, precision="fp16")
    assert compare(ref, cand, precision="bf16")
    assert "110 of 5000 pixels differ" in str(compare(ref, cand))


def test_nan_and_inf_fail(logits: np.ndarray) -> None:
    bad = logits.copy()
    bad[0, 0] = np.nan
    bad[1, 1] = np.inf
    report = compare(logits, bad, precision="bf16")
    assert not report
    assert "candidate has 1 NaN and 1 inf values" in report["output"].reasons[0]
    tensor = compare(np.ones(4), np.array([1.0, np.nan, 1.0, 1.0]))
    assert not tensor and tensor["output"].kind == "tensor"


def test_tensor_kind_elementwise(rng: np.random.Generator) -> None:
    ref = rng.standard_normal((2, 3, 4)).astype(np.float32)
    assert compare(ref, ref + 1e-6)
    cand = ref.copy()
    cand[1, 2, 3] += 0.01  # one element far off, rel L2 still small-ish
    report = compare(ref, cand, tolerance=Tolerance(1e-4, 1e-4, 1.0, 1.0, 1.0))
    assert not report
    assert "1 of 24 elements outside" in report["output"].reasons[0]
    assert "[1, 2, 3]" in report["output"].reasons[0]
    forced = compare(ref[:, :, 0], ref[:, :, 0], kind="tensor")
    assert forced["output"].kind == "tensor"


def test_mismatch_errors(logits: np.ndarray) -> None:
    with pytest.raises(ShapeError, match=r"\[8, 100\].*\[4, 100\]"):
        compare({"logits": logits}, {"logits": logits[:4]})
    with pytest.raises(DTypeError, match="int64"):
        compare(logits, logits.astype(np.int64))
    with pytest.raises(InputError, match="names differ"):
        compare({"a": logits}, {"b": logits})
    with pytest.raises(InputError, match=r"\['c'\]"):
        compare({"a": logits}, {"a": logits}, names=["c"])
    with pytest.raises(InputError, match="kind"):
        compare(logits, logits, kind="pixels")
    with pytest.raises(ShapeError, match="logits"):
        compare(logits[0], logits[0], kind="logits")
    with pytest.raises(DTypeError):
        compare([1, 2], [1, 2])
    with pytest.raises(InputError, match="precision"):
        compare(logits, logits, precision="int8")


def test_names_subset_and_kind_mapping(logits: np.ndarray) -> None:
    ref = {"logits": logits, "feat": logits[:, :3]}
    cand = {"logits": logits, "feat": logits[:, :3] + 1}
    assert compare(ref, cand, names=["logits"])
    report = compare(ref, cand, kind={"feat": "tensor"})
    assert [o.kind for o in report.outputs] == ["logits", "tensor"]
    assert [o.name for o in report.failures] == ["feat"]


def test_torch_tensors_are_accepted(logits: np.ndarray) -> None:
    import torch

    assert compare(torch.from_numpy(logits), logits)


def test_html_and_dict(logits: np.ndarray, rng: np.random.Generator) -> None:
    noisy = logits + 0.01
    report = compare(logits, noisy, reference_name="torch", candidate_name="tensorrt")
    html = report._repr_html_()
    rel = report["output"].metrics["rel_l2"]
    assert f"{rel:.3g}" in html and f"{rel:.3g}" in str(report)
    assert "FAIL" in html and "#cf222e" in html and "tensorrt vs torch" in html
    ok_html = compare(logits, logits)._repr_html_()
    assert "PASS" in ok_html and "#1a7f37" in ok_html
    d = report.to_dict()
    json.dumps(d)  # JSON-ready
    assert d["passed"] is False and d["candidate_name"] == "tensorrt"
    assert d["outputs"][0]["metrics"]["rel_l2"] == rel and d["tolerance"]["max_rel_l2"] == 1e-5


def test_trtlab_compare_is_callable_after_submodule_import(logits: np.ndarray) -> None:
    import trtlab
    import trtlab.compare

    assert trtlab.compare(logits, logits, precision="fp16").passed  # the module forwards
