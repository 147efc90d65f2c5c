"""trtlab.trt.runtime.Engine on a real GPU with a stand-in for TensorRT (``tests/_faketrt.py``).

TensorRT cannot be installed on the test GPU machine, so the engine's arithmetic is done by torch
kernels queued on the stream ``execute_async_v3`` receives. Everything around it is real: CUDA
buffers, pinned staging, H2D/D2H copies, buffer growth, CUDA-graph capture and replay on the
H100, and the zero-copy torch path.
"""

from __future__ import annotations

from typing import Any

import _faketrt
import numpy as np
import pytest

from trtlab.trt import runtime as rt
from trtlab.trt.runtime import Engine

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("gpu")]


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Any:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    module = _faketrt.make_module(_faketrt.torch_kernel())
    monkeypatch.setattr(rt, "_import_runtime_module", lambda kind: module)
    return module


def _x(batch: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, 4)).astype(np.float32)


def test_numpy_path_with_growing_buffers(standin: Any) -> None:
    with Engine(_faketrt.PLAN) as eng:
        assert eng.device.startswith("cuda:0 (")
        for i, batch in enumerate([2, 8, 1, 5, 8]):
            x = _x(batch, i)
            out = eng.infer({"x": x})
            np.testing.assert_array_equal(out["y"], 2 * x + 1)
            np.testing.assert_array_equal(out["idx"], np.arange(batch))


def test_cuda_graph_replay_on_gpu(standin: Any) -> None:
    with Engine(_faketrt.PLAN, use_cuda_graph=True) as eng:
        for i, batch in enumerate([4, 4, 4, 4, 2, 2, 8, 8, 4]):
            x = _x(batch, 10 + i)
            out = eng.infer({"x": x})
            np.testing.assert_array_equal(out["y"], 2 * x + 1)
            np.testing.assert_array_equal(out["idx"], np.arange(batch))
        assert eng.graph_disabled_reason is None, eng.graph_disabled_reason
        assert eng._res.graphs  # graphs were captured and are being replayed
        # replays do not call execute_async_v3: warm-up + capture per new signature only.
        # New signatures: 4, 2, 8 (grows buffers, drops all graphs), then 4 again -> 4 x 2.
        assert eng._res.context.executions == 8


def test_torch_zero_copy_path_on_gpu(standin: Any) -> None:
    import torch

    with Engine(_faketrt.PLAN) as eng:
        x = torch.randn(3, 4, device="cuda")
        out = eng.infer({"x": x})
        assert out["y"].is_cuda and out["y"].shape == (3, 4)
        torch.cuda.synchronize()
        assert torch.equal(out["y"], 2 * x + 1)
        assert out["idx"].tolist() == [0, 1, 2]
        with pytest.raises(Exception, match="expects dtype float32"):
            eng.infer({"x": x.double()})
        # numpy and torch calls can alternate on one engine
        xn = _x(2, 3)
        np.testing.assert_array_equal(eng.infer({"x": xn})["y"], 2 * xn + 1)


def test_engine_cleanup_returns_gpu_memory(standin: Any) -> None:
    import gc

    from trtlab import cuda

    cuda.synchronize()
    eng = Engine(_faketrt.PLAN)
    eng.infer({"x": _x(8, 0)})
    assert eng._res.device and eng._res.pinned
    buffers = list(eng._res.device.values())
    eng.close()
    assert all(b.closed for b in buffers)
    eng2 = Engine(_faketrt.PLAN)
    eng2.infer({"x": _x(8, 0)})
    buffers = list(eng2._res.device.values())
    del eng2
    gc.collect()
    assert all(b.closed for b in buffers)
