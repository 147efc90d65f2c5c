"""GPU test fixtures: skip (with the reason printed by ``pytest -rs``) where no GPU is usable.

The decision is :mod:`trtlab.capabilities`' (the same one ``runner(backend="auto")`` uses); the
header line pytest prints shows what it found, so a skipped run says why at the top.
"""

from __future__ import annotations

import functools

import pytest


def pytest_report_header() -> str:
    from trtlab import capabilities

    return f"trtlab capabilities: {capabilities.probe().summary()}"


@functools.cache
def gpu_skip_reason() -> str | None:
    """Why CUDA tests cannot run here, or None when cuda-python and a GPU are usable."""
    from trtlab import capabilities, cuda
    from trtlab.errors import TrtlabError

    missing = capabilities.probe().missing_for("gpu")
    if missing:
        return "; ".join(missing)
    try:  # the probe saw a GPU; make sure CUDA can really open it from this process
        count = cuda.device_count(strict=True)
    except TrtlabError as exc:
        return f"no usable CUDA device: {str(exc.args[0]).splitlines()[0]}"
    if count < 1:
        return "no CUDA device visible to cuda-python"
    return None


@functools.cache
def tensorrt_skip_reason() -> str | None:
    """Why full-TensorRT tests cannot run here (they also need a GPU and cuda-python)."""
    from trtlab import capabilities

    caps = capabilities.probe()
    if caps.can_build_engines():
        return gpu_skip_reason()
    return "; ".join(caps.missing_for("build"))


@pytest.fixture(scope="session")
def gpu() -> None:
    """Skip the test unless cuda-python and a CUDA GPU are usable."""
    reason = gpu_skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def tensorrt_gpu() -> None:
    """Skip the test unless the full TensorRT, a GPU and cuda-python are usable."""
    reason = tensorrt_skip_reason()
    if reason:
        pytest.skip(reason)
