"""Reliability, numbers: NaN/inf inputs are refused by every runner, ``compare`` fails on
non-finite or empty data instead of passing, ``topk`` refuses to rank NaN.

The decision per API is documented in docs/reliability.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from trtlab import data
from trtlab.compare import compare
from trtlab.errors import InputError, NonFiniteError
from trtlab.runners.ort import OnnxRuntimeRunner


@pytest.fixture(scope="module")
def ort_runner(tiny_classifier_onnx: Path) -> OnnxRuntimeRunner:
    return OnnxRuntimeRunner(tiny_classifier_onnx, threads=1).activate()


def _x(batch: int = 1) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((batch, 3, 32, 32)).astype(np.float32)


# -- runners refuse NaN / inf ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_runner_refuses_nonfinite_input(ort_runner: OnnxRuntimeRunner, bad: float) -> None:
    """Class: NaN/inf inputs ran through and returned NaN logits without a word."""
    x = _x(2)
    x[1, 2, 3, 4] = bad
    with pytest.raises(NonFiniteError, match=r"input 'input' holds .* \(first at \[1, 2, 3, 4\]\)"):
        ort_runner(x)
    with pytest.raises(NonFiniteError):
        ort_runner({"input": x})
    with pytest.raises(NonFiniteError):
        ort_runner([x])


def test_runner_counts_nan_and_inf(ort_runner: OnnxRuntimeRunner) -> None:
    x = _x()
    x[0, 0, 0, :3] = np.nan
    x[0, 1, 0, :2] = np.inf
    with pytest.raises(NonFiniteError, match="3 NaN and 2 infinite"):
        ort_runner(x)


def test_huge_but_finite_input_is_accepted(ort_runner: OnnxRuntimeRunner) -> None:
    """The fast check sums the array: an overflowing sum must not reject finite data."""
    x = np.full((1, 3, 32, 32), 3e38, np.float32)
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.add.reduce(x, None))  # the sum overflows...
    out = ort_runner(x)  # ...but every element is finite: accepted
    assert set(out) == {"logits"}


def test_nonfinite_error_is_an_input_error(ort_runner: OnnxRuntimeRunner) -> None:
    x = _x()
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(InputError):
        ort_runner(x)


@settings(max_examples=30, deadline=None)
@given(
    index=st.tuples(st.integers(0, 2), st.integers(0, 31), st.integers(0, 31)),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_any_single_nonfinite_pixel_is_found(
    tiny_classifier_onnx: Path, index: tuple[int, int, int], bad: float
) -> None:
    runner = _shared_runner(tiny_classifier_onnx)
    x = _x()
    x[(0, *index)] = bad
    with pytest.raises(NonFiniteError, match=str(list((0, *index)))):
        runner.normalize_feed(x)


_RUNNERS: dict[Path, OnnxRuntimeRunner] = {}


def _shared_runner(path: Path) -> OnnxRuntimeRunner:
    if path not in _RUNNERS:
        _RUNNERS[path] = OnnxRuntimeRunner(path, threads=1).activate()
    return _RUNNERS[path]


# -- compare: non-finite and empty data fail -----------------------------------------------------


@pytest.mark.parametrize(
    "shape_kind",
    [((0, 10), "logits"), ((0, 4, 4), "tensor"), ((0,), "tensor"), ((2, 0), "tensor")],
)
def test_compare_fails_on_empty_float_outputs(shape_kind: tuple[tuple[int, ...], str]) -> None:
    """Class: parity on empty outputs passed (nothing compared, all good)."""
    shape, kind = shape_kind
    a = np.zeros(shape, np.float32)
    report = compare(a, a.copy(), kind=kind)
    assert not report and "output is empty" in str(report)


def test_compare_fails_on_empty_classmap() -> None:
    a = np.zeros((0, 8, 8), np.int64)
    report = compare(a, a.copy())
    assert not report and report.outputs[0].kind == "classmap"
    assert "nothing was compared" in report.outputs[0].reasons[0]


def test_compare_with_no_outputs_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nothing to compare"):
        compare({}, {})


@pytest.mark.parametrize("side", ["reference", "candidate"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_compare_fails_on_nonfinite(side: str, bad: float) -> None:
    ref = np.random.default_rng(0).standard_normal((4, 10)).astype(np.float32)
    cand = ref.copy()
    (ref if side == "reference" else cand)[1, 3] = bad
    report = compare(ref, cand)
    assert not report and side in str(report)


@settings(max_examples=50, deadline=None)
@given(
    arr=hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
        elements=st.floats(-1e3, 1e3, width=32),
    ),
    where=st.integers(0, 10_000),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_compare_never_passes_with_a_nonfinite_value(
    arr: np.ndarray, where: int, bad: float
) -> None:
    """Property: one NaN/inf anywhere in the candidate, and parity fails (any shape/kind)."""
    cand = arr.copy()
    cand.flat[where % cand.size] = bad
    assert not compare(arr, cand, kind="tensor")
    assert compare(arr, arr.copy(), kind="tensor")  # the same data still passes


# -- post-processing ---------------------------------------------------------------------------


def test_topk_refuses_nonfinite_logits() -> None:
    logits = np.zeros((3, 10), np.float32)
    logits[2, 4] = np.nan
    with pytest.raises(NonFiniteError, match=r"rows \[2\]"):
        data.topk(logits)
    logits[2, 4] = np.inf
    with pytest.raises(NonFiniteError):
        data.topk(logits)


def test_softmax_propagates_nan_as_math_does() -> None:
    """softmax is arithmetic: NaN in, NaN out (documented); topk/compare are where it is caught."""
    out = data.softmax(np.array([[0.0, np.nan]], np.float32))
    assert np.isnan(out).all()
