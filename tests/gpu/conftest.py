"""GPU test fixtures: skip (with the reason printed by ``pytest -rs``) where no GPU is usable."""

from __future__ import annotations

import functools

import pytest


@functools.cache
def gpu_skip_reason() -> str | None:
    """Why CUDA tests cannot run here, or None when cuda-python and a GPU are usable."""
    from trtlab import cuda
    from trtlab.errors import TrtlabError

    if not cuda.has_cuda_python():
        return "cuda-python is not installed (pip install 'trtlab[gpu]')"
    try:
        count = cuda.device_count(strict=True)
    except TrtlabError as exc:
        return f"no usable CUDA device: {str(exc.args[0]).splitlines()[0]}"
    if count < 1:
        return "no CUDA device visible"
    return None


@functools.cache
def tensorrt_skip_reason() -> str | None:
    """Why full-TensorRT tests cannot run here (they also need a GPU)."""
    gpu = gpu_skip_reason()
    if gpu:
        return gpu
    from trtlab.trt._compat import has_full_tensorrt

    if not has_full_tensorrt():
        return "the full TensorRT Python package (with the builder) is not installed"
    return None


@pytest.fixture(scope="session")
def gpu() -> None:
    """Skip the test unless cuda-python and a CUDA GPU are usable."""
    reason = gpu_skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def tensorrt_gpu() -> None:
    """Skip the test unless the full TensorRT and a GPU are usable."""
    reason = tensorrt_skip_reason()
    if reason:
        pytest.skip(reason)
