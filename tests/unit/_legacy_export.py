"""One quick ONNX export for tests that need a small file with an ``input``/``output`` pair.

The legacy TorchScript exporter: ~0.1 s for the tiny models (the dynamo exporter takes seconds).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def legacy_export(model: Any, path: Path, shape: tuple[int, ...], dynamic: dict[int, str]) -> Path:
    """Export ``model`` with a zero input of ``shape``; ``dynamic`` names the dynamic input axes."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(shape),),
            str(path),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": dynamic},
            dynamo=False,
        )
    return path
