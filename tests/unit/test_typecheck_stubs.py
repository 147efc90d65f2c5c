"""tools/typecheck.py really uses the in-tree TensorRT stubs (the check cannot pass vacuously).

A snippet using APIs removed from TensorRT must fail type-checking: ``builder.max_batch_size`` (gone
since 10) under both stub versions, ``trt.BuilderFlag.FP16`` (gone in 11) only under 11.4. A correct
TensorRT 10+ snippet must pass under both; if the stubs were not found, ``import tensorrt`` itself
would be an error and the "clean" case would fail.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
V10, V11 = "10.13.3.9", "11.4.0.106"

pytest.importorskip("mypy")


def _typecheck_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trtlab_typecheck", ROOT / "tools/typecheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _typecheck_tool()

SNIPPET = """\
import tensorrt as trt


def legacy(builder: trt.Builder) -> int:
    return builder.max_batch_size


def weak_fp16(config: trt.IBuilderConfig) -> None:
    config.set_flag(trt.BuilderFlag.FP16)


def modern(logger: trt.ILogger) -> bytes:
    builder = trt.Builder(logger)
    flag = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flag)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file("m.onnx"):
        return b"".join(parser.get_error(i).desc().encode() for i in range(parser.num_errors))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1 << 30)
    config.set_flag(trt.BuilderFlag.TF32)
    profile = builder.create_optimization_profile()
    profile.set_shape("input", (1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8))
    config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    return bytes(plan)


reveal_type(trt.Builder)
"""


def _line(text: str) -> int:
    """1-based line of the snippet that contains ``text``."""
    return next(i for i, line in enumerate(SNIPPET.splitlines(), 1) if text in line)


def _errors(output: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for line in output.splitlines():
        m = re.match(r".*snippet\.py:(\d+): (error|note): (.*)", line)
        if m:
            found[int(m.group(1))] = found.get(int(m.group(1)), "") + m.group(3)
    return found


def test_stub_versions_present() -> None:
    assert tool.stub_versions() == [V10, V11]
    targets = tool.trt_targets()
    assert "trtlab/trt" in targets


@pytest.mark.parametrize("version", [V10, V11])
def test_stubs_are_used(version: str, tmp_path: Path) -> None:
    result = tool.check_snippet(SNIPPET, version, tmp_path / version)
    found = _errors(result.output)
    assert result.returncode == 1, result.output
    legacy, fp16 = _line("max_batch_size"), _line("BuilderFlag.FP16")
    assert '"Builder" has no attribute "max_batch_size"' in found.get(legacy, ""), result.output
    # BuilderFlag.FP16 exists on 10.13, not on 11.4
    if version == V11:
        assert 'has no attribute "FP16"' in found.get(fp16, ""), result.output
    else:
        assert fp16 not in found, result.output
    # the TensorRT 10+ code is clean on both, and "tensorrt" resolved to the stub classes
    modern = range(_line("def modern"), _line("return bytes(plan)") + 1)
    assert not [n for n in found if n in modern], result.output
    assert "tensorrt._api.Builder" in found.get(_line("reveal_type"), ""), result.output
    assert "Cannot find implementation" not in result.output


def test_missing_stubs_would_be_noticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any stub path, `import tensorrt` fails the check (no silent Any)."""
    monkeypatch.setattr(tool, "TYPINGS", tmp_path / "no-typings")
    monkeypatch.setattr(tool, "CONFIG", tmp_path / "mypy.ini")
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n")
    result = tool.check_snippet("import tensorrt\n", "0.0", tmp_path / "s")
    assert result.returncode == 1
    assert "tensorrt" in result.output
