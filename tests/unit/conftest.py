"""Fixtures shared by the unit tests: tiny random models and their ONNX exports (once per session).

The tiny models have the same I/O contracts as ResNet-50 (``input`` -> ``logits [N, 10]``) and
FCN-ResNet-101 (``input`` -> ``classes [N, H, W] int64``) but export in seconds. Their ONNX files
are exported with trtlab's default (dynamo) exporter into a session temp folder, with dynamic
batch (and H/W for the segmenter), input size 32x32 for the classifier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

TINY_SIZE = 32


@pytest.fixture(scope="session")
def tiny_classifier() -> Any:
    """``tiny_classifier(10)``: ``input [N, 3, 32, 32] float32 -> logits [N, 10]`` (eval mode)."""
    from trtlab.models import tiny_classifier

    return tiny_classifier(10)


@pytest.fixture(scope="session")
def tiny_segmenter() -> Any:
    """``tiny_segmenter(21)``: ``input [N, 3, H, W] float32 -> classes [N, H, W] int64``."""
    from trtlab.models import tiny_segmenter

    return tiny_segmenter(21)


@pytest.fixture(scope="session")
def tiny_onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny_onnx")


@pytest.fixture(scope="session")
def tiny_classifier_onnx(tiny_classifier: Any, tiny_onnx_dir: Path) -> Path:
    """ONNX of ``tiny_classifier``: input ``input`` [batch, 3, 32, 32], output ``logits``."""
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import TEST_MODEL_SPECS

    spec = TEST_MODEL_SPECS["tiny_classifier"]
    return export_onnx(
        tiny_classifier,
        tiny_onnx_dir / "tiny_classifier.onnx",
        torch.randn(1, 3, TINY_SIZE, TINY_SIZE),
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes=spec.dynamic_axes,
    )


@pytest.fixture(scope="session")
def tiny_segmenter_onnx(tiny_segmenter: Any, tiny_onnx_dir: Path) -> Path:
    """ONNX of ``tiny_segmenter``: ``input`` [batch, 3, height, width] -> ``classes`` int64."""
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import TEST_MODEL_SPECS

    spec = TEST_MODEL_SPECS["tiny_segmenter"]
    return export_onnx(
        tiny_segmenter,
        tiny_onnx_dir / "tiny_segmenter.onnx",
        torch.randn(1, 3, TINY_SIZE, TINY_SIZE),
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes=spec.dynamic_axes,
    )


@pytest.fixture(scope="session")
def cat_image_path() -> Path:
    """The bundled CC0 cat photo (``data/images/cat.jpg``)."""
    from trtlab.data import demo_image

    return demo_image("cat")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded numpy generator per test."""
    return np.random.default_rng(0)
