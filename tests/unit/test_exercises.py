"""Exercise checks say right/wrong and why; the solver fills every exercise or refuses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtlab import exercises as ex

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import solve_notebooks


@pytest.fixture(autouse=True)
def _lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ex.STRICT_ENV, raising=False)


def test_not_attempted_is_not_an_error_unless_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    verdict = ex.check_value("q1", ..., 4.1)
    assert not verdict and not verdict.attempted and "not attempted" in str(verdict)
    monkeypatch.setenv(ex.STRICT_ENV, "1")
    with pytest.raises(ex.ExerciseError, match="q1"):
        ex.check_value("q1", ..., 4.1)


def test_value_choice_array_and_function_checks() -> None:
    assert ex.check_value("macs", 4.09, 4.1, rtol=0.01)
    wrong = ex.check_value("macs", 8.2, 4.1, rtol=0.01, why="a MAC is two FLOPs")
    assert not wrong and "expected about 4.1" in str(wrong) and "two FLOPs" in str(wrong)
    assert not ex.check_value("macs", float("nan"), 4.1)
    choices = {"fp16": "TensorRT 11 has no FP16 flag", "graph": "right: the graph carries it"}
    assert ex.check_choice("where", "Graph", "graph", choices)
    verdict = ex.check_choice("where", "fp16", "graph", choices)
    assert not verdict and "no FP16 flag" in verdict.message
    assert "not one of" in ex.check_choice("where", "int8", "graph", choices).message
    ref = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert ex.check_array("a", ref.copy(), ref)
    assert "shape [3, 2]" in ex.check_array("a", ref.T, ref).message
    assert "dtype int64" in ex.check_array("a", ref.astype(np.int64), ref).message
    assert "NaN" in ex.check_array("a", ref * np.nan, ref).message
    assert "1 of 6" in ex.check_array("a", ref + np.eye(2, 3)[0] * (ref == 0), ref).message
    assert ex.check_function("f", lambda n: n * 2, lambda n: n + n, [(1,), (5,)])
    bad = ex.check_function("f", lambda n: n * 3, lambda n: n + n, [(0,), (5,)])
    assert not bad and "for input (5,)" in bad.message
    boom = ex.check_function("f", lambda n: 1 // n, lambda n: 0, [(0,)])
    assert "ZeroDivisionError" in boom.message


def test_verdict_renders_html() -> None:
    html_ = ex.check_value("q", 1, 2)._repr_html_()
    assert "not yet" in html_ and "#cf222e" in html_


def test_check_dynamic_axes(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    def save(batch: Any) -> Path:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4])
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
        path = tmp_path / f"m_{batch}.onnx"
        onnx.save(helper.make_model(graph), str(path))
        return path

    assert ex.check_dynamic_axes("dyn", save("batch"), {"x": [0], "y": [0]})
    fixed = ex.check_dynamic_axes("dyn", save(1), {"x": [0]})
    assert not fixed and "fixed (1)" in fixed.message
    assert (
        "no tensor named 'input'" in ex.check_dynamic_axes("dyn", save("b"), {"input": [0]}).message
    )
    assert "could not read" in ex.check_dynamic_axes("dyn", tmp_path / "nope.onnx", {}).message


def _nb(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_solver_fills_exercises_and_refuses_missing_solutions() -> None:
    task = {"cell_type": "code", "metadata": {"tags": ["exercise"]}, "source": "answer = ..."}
    sol = {
        "cell_type": "markdown",
        "metadata": {"tags": ["solution"]},
        "source": "<details><summary>Solution</summary>\n\n```python\nanswer = 42\n```\n</details>",
    }
    nb, count = solve_notebooks.solve(_nb(task, {"cell_type": "code", "source": "check()"}, sol))
    assert count == 1 and "".join(nb["cells"][0]["source"]) == "answer = 42"
    lonely = {"cell_type": "code", "metadata": {"tags": ["exercise"]}, "source": "x = ..."}
    with pytest.raises(SystemExit, match="no solution"):
        solve_notebooks.solve(_nb(lonely, dict(lonely)))


def test_check_profile_covers_the_batch_range_and_explains_invalid_profiles() -> None:
    from trtlab.tensors import TensorSpec

    specs = [TensorSpec("input", ("batch", 1, 8, 8), np.dtype(np.float32))]
    good = {"input": ((1, 1, 8, 8), (8, 1, 8, 8), (32, 1, 8, 8))}
    verdict = ex.check_profile("p", good, specs, input="input", batch=(1, 32))
    assert verdict and "tuned for 8" in verdict.message
    short = {"input": ((1, 1, 8, 8), (8, 1, 8, 8), (16, 1, 8, 8))}
    verdict = ex.check_profile("p", short, specs, input="input", batch=(1, 32))
    assert not verdict and "does not cover 1..32" in verdict.message
    # invalid profiles are wrong with the validator's reason: order, fixed dims, names
    unordered = {"input": ((32, 1, 8, 8), (8, 1, 8, 8), (1, 1, 8, 8))}
    assert (
        "min <= opt <= max"
        in ex.check_profile("p", unordered, specs, input="input", batch=(1, 32)).message
    )
    wrong_hw = {"input": ((1, 1, 8, 8), (8, 1, 8, 8), (32, 1, 16, 16))}
    assert (
        "fixes this dim to 8"
        in ex.check_profile("p", wrong_hw, specs, input="input", batch=(1, 32)).message
    )
    unknown = {"images": good["input"]}
    assert (
        "does not have"
        in ex.check_profile("p", unknown, specs, input="input", batch=(1, 32)).message
    )
    assert not ex.check_profile("p", ..., specs, input="input", batch=(1, 32)).attempted
