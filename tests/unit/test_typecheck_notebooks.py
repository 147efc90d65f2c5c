"""tools/typecheck_notebooks.py checks the notebooks' raw TensorRT cells against each stub version.

The check must not pass vacuously: a cell calling an API removed in 11.x fails under the 11.4
stubs only, one calling an API removed in 10.x fails under both, and a cell that branches on the
version is checked branch by branch against the versions each branch runs on.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
V10, V11 = "10.13.3.9", "11.4.0.106"

pytest.importorskip("mypy")


def _load_tool() -> ModuleType:
    path = ROOT / "tools/typecheck_notebooks.py"
    spec = importlib.util.spec_from_file_location("trtlab_typecheck_notebooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _notebook(tmp_path: Path, *cells: tuple[str, str], name: str = "nb.ipynb") -> Path:
    nb: dict[str, Any] = {
        "cells": [
            {
                "cell_type": kind,
                "id": f"c{i}",
                "metadata": {},
                "source": src.splitlines(keepends=True),
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for i, (kind, src) in enumerate(cells)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


CPU_CELL = ("code", "%load_ext trtlab\nfrom pathlib import Path\nonnx_path = Path('m.onnx')\n")

BUILD_10_ONLY = """\
%%requires tensorrt gpu
import tensorrt as trt

logger = trt.Logger(trt.Logger.WARNING)
builder = trt.Builder(logger)
network = builder.create_network(0)
config = builder.create_builder_config()
config.set_flag(trt.BuilderFlag.FP16)
plan = builder.build_serialized_network(network, config)
Path("m.engine").write_bytes(bytes(memoryview(plan)))
display(onnx_path)
"""

BRANCHED = """\
%%requires tensorrt gpu
import tensorrt as trt

logger = trt.Logger(trt.Logger.WARNING)
builder = trt.Builder(logger)
major = int(trt.__version__.split(".")[0])
if major >= 11:
    network = builder.create_network(0)
else:
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
config = builder.create_builder_config()
if 11 > major:
    config.set_flag(trt.BuilderFlag.FP16)
"""

REMOVED_IN_10 = """\
%%requires tensorrt
import tensorrt as trt

builder = trt.Builder(trt.Logger())
network = builder.create_network(0)
config = builder.create_builder_config()
engine = builder.build_engine(network, config)
"""


def _check(path: Path, version: str, tmp_path: Path) -> Any:
    return tool.check_notebook(tool.extract(path), version, tmp_path / "work")


def test_only_tensorrt_cells_are_extracted_with_a_prelude(tmp_path: Path) -> None:
    gpu_only = ("code", "%%requires gpu\nimport torch\n")
    path = _notebook(tmp_path, CPU_CELL, ("markdown", "text"), gpu_only, ("code", BUILD_10_ONLY))
    extracted = tool.extract(path)
    assert [c.cell for c in extracted.cells] == ["c3"]
    assert "%%requires" not in extracted.source and "import torch" not in extracted.source
    # names from earlier CPU cells and IPython's display are declared, bound names are not
    assert extracted.prelude == ["Path", "display", "onnx_path"]
    assert "logger: Any" not in extracted.source


def test_api_removed_in_11_fails_only_against_11_stubs(tmp_path: Path) -> None:
    path = _notebook(tmp_path, CPU_CELL, ("code", BUILD_10_ONLY))
    assert _check(path, V10, tmp_path).ok
    result = _check(path, V11, tmp_path)
    assert not result.ok
    # the error points at the notebook cell and the line inside it (line 8: the set_flag call)
    assert any("nb.ipynb cell c1 line 8" in e and "FP16" in e for e in result.errors), result.errors


def test_api_removed_in_10_fails_against_both(tmp_path: Path) -> None:
    path = _notebook(tmp_path, ("code", REMOVED_IN_10))
    for version in (V10, V11):
        result = _check(path, version, tmp_path)
        assert not result.ok
        assert any("build_engine" in e for e in result.errors), result.errors


def test_version_branches_are_checked_against_their_own_version(tmp_path: Path) -> None:
    path = _notebook(tmp_path, ("code", BRANCHED))
    assert _check(path, V10, tmp_path).ok
    assert _check(path, V11, tmp_path).ok


def test_a_wrong_call_inside_the_11_branch_still_fails_under_11(tmp_path: Path) -> None:
    bad = BRANCHED.replace(
        "network = builder.create_network(0)", "network = builder.create_network_v2(0)"
    )
    path = _notebook(tmp_path, ("code", bad))
    assert _check(path, V10, tmp_path).ok  # the 11 branch cannot run on 10: not checked there
    result = _check(path, V11, tmp_path)
    assert not result.ok and any("create_network_v2" in e for e in result.errors)


def test_resolve_version_branches_keeps_lines_and_mirrors() -> None:
    code = (
        "v = trt.__version__\nm = int(v[0])\nif m >= 11:\n    a = 1\nif 11 <= m and x:\n    b = 2\n"
    )
    names = tool.version_variables(code)
    assert names == ["v", "m"]
    out10 = tool.resolve_version_branches(code, names, 10)
    out11 = tool.resolve_version_branches(code, names, 11)
    assert out10.count("\n") == code.count("\n")
    assert f"if {tool.FALSE_NAME}:" in out10 and f"if {tool.FALSE_NAME} and x:" in out10
    assert f"if {tool.TRUE_NAME}:" in out11 and f"if {tool.TRUE_NAME} and x:" in out11


def test_main_reports_failure_and_missing_notebooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _notebook(tmp_path, CPU_CELL, ("code", BUILD_10_ONLY))
    assert tool.main([str(path), "--only", V11]) == 1
    assert "FAIL nb.ipynb" in capsys.readouterr().out
    assert tool.main([str(path), "--only", V10]) == 0
    assert tool.main([str(tmp_path / "absent.ipynb")]) == 2
    assert tool.main([str(path), "--only", "9.9"]) == 2


@pytest.mark.parametrize(
    "name",
    ["01_quickstart.ipynb", "03_onnx_to_tensorrt.ipynb"],  # 02 has no TensorRT cells
)
def test_curriculum_notebooks_pass(name: str, tmp_path: Path) -> None:
    path = ROOT / "notebooks" / name
    if not path.is_file():
        pytest.skip(f"{name} not in this tree")
    extracted = tool.extract(path)
    for version in tool.stub_versions():
        result = tool.check_notebook(extracted, version, tmp_path)
        assert result.ok, "\n".join(result.errors)
