"""Real-Triton tests: run in the PyTriton venv (``make triton-tests``), skipped elsewhere.

The folder is not named ``triton``: with ``tests/`` on sys.path that would shadow OpenAI's
``triton`` package, which torch's exporter imports.

PyTriton bundles a real ``tritonserver`` and needs ``numpy<2``, so these tests live outside the
main unit suite. Everything listens on 127.0.0.1 only and every request loop is bounded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("TRTLAB_QUICK", "1")
os.environ.setdefault("TRTLAB_OFFLINE", "1")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("triton_models")


@pytest.fixture(scope="session")
def tiny_onnx(model_dir: Path) -> Path:
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import tiny_classifier

    return export_onnx(
        tiny_classifier(10),
        model_dir / "tiny.onnx",
        torch.randn(1, 3, 32, 32),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )


@pytest.fixture(scope="session")
def resnet50_onnx(model_dir: Path) -> Path:
    """ResNet-50 with seeded random weights (no download), dynamic batch."""
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import resnet50

    return export_onnx(
        resnet50(weights=None),
        model_dir / "resnet50.onnx",
        torch.randn(1, 3, 224, 224),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )


@pytest.fixture(scope="module")
def tiny_server(tiny_onnx: Path) -> Iterator[Any]:
    from trtlab.triton import serve_local

    with serve_local(tiny_onnx, name="tiny", backend="onnxruntime", timeout_s=10) as server:
        yield server
