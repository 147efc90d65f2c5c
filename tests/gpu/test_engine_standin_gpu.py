"""trtlab.trt.runtime.Engine on a real GPU with a stand-in for TensorRT (``tests/_faketrt.py``).

TensorRT cannot be installed on the test GPU machine, so the engine's arithmetic is done by torch
kernels queued on the stream ``execute_async_v3`` receives. Everything around it is real: CUDA
buffers, pinned staging, H2D/D2H copies, buffer growth, CUDA-graph capture and replay on the
GPU, the zero-copy torch / device-array paths, torch streams, and several GPUs where present.

Run on the GPU machine: ``pytest tests/gpu/test_engine_standin_gpu.py -v -rs``.
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
        assert len(eng._res.graphs) == 1  # one graph per execution context, being replayed
        # replays do not call execute_async_v3: warm-up + capture per new signature only.
        # New signatures: 4, 2, 8 (grows buffers), then 4 again -> 4 x 2.
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


def test_graph_recaptured_when_shapes_alternate(standin: Any) -> None:
    """B1: shape changes without buffer growth; each change re-captures the one graph."""
    with Engine(_faketrt.PLAN, use_cuda_graph=True) as eng:
        for i, batch in enumerate([5, 5, 3, 3, 5, 5, 3]):
            x = _x(batch, 20 + i)
            np.testing.assert_array_equal(eng.infer({"x": x})["y"], 2 * x + 1)
        assert eng.graph_disabled_reason is None, eng.graph_disabled_reason
        assert eng._res.context.executions == 8  # 4 signatures x (warm-up + capture)


def test_torch_stream_and_device_outputs_on_gpu(standin: Any) -> None:
    """B6 + issue 8: torch streams accepted; device outputs stay on the GPU (no copies)."""
    import torch

    from trtlab.cuda import DeviceArray

    with Engine(_faketrt.PLAN) as eng:
        s = torch.cuda.Stream()
        x = torch.randn(4, 4, device="cuda")
        s.wait_stream(torch.cuda.current_stream())  # x was made on the current stream
        with torch.cuda.stream(s):
            out = eng.infer({"x": x}, stream=s)
        s.synchronize()
        assert torch.equal(out["y"], 2 * x + 1)
        assert "x" not in eng._res.device  # the torch input was bound in place
        xn = _x(3, 7)
        dev = eng.infer({"x": xn}, outputs="device")
        assert isinstance(dev["y"], DeviceArray)
        np.testing.assert_array_equal(dev["y"].numpy(), 2 * xn + 1)
        viewed = torch.as_tensor(dev["y"], device="cuda")  # __cuda_array_interface__ v3
        assert torch.equal(viewed.cpu(), torch.from_numpy(2 * xn + 1))
        chained = eng.infer({"x": dev["y"]}, outputs="numpy")
        np.testing.assert_array_equal(chained["y"], 2 * (2 * xn + 1) + 1)
        host = eng.infer({"x": x}, outputs="numpy")
        np.testing.assert_array_equal(host["y"], (2 * x + 1).cpu().numpy())


def test_host_output_and_plugins_on_gpu(monkeypatch: pytest.MonkeyPatch, standin: Any) -> None:
    """B8: a HOST-located output is read from pinned memory; plugins initialized first."""
    module = _faketrt.make_module(_faketrt.torch_kernel(), full=True)
    monkeypatch.setattr(rt, "_import_runtime_module", lambda kind: module)
    with Engine(_faketrt.PLAN_HOST_OUTPUT) as eng:
        x = _x(6, 1)
        out = eng.infer({"x": x})
        assert out["y_shape"].tolist() == [6, 4]
        np.testing.assert_array_equal(out["y"], 2 * x + 1)
    with Engine(_faketrt.PLAN_PLUGINS) as eng:
        assert eng.infer({"x": _x(1, 0)})["idx"].tolist() == [0]
    assert module.calls.index("init_libnvinfer_plugins") < module.calls.index(
        "deserialize_cuda_engine"
    )


def test_engine_on_second_gpu(standin: Any) -> None:
    """B8: an engine on cuda:1 runs while cuda:0 is current, and leaves cuda:0 current."""
    import torch

    from trtlab import cuda

    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs (run on nvidia-h200-x2)")
    cuda.set_device(0)
    with Engine(_faketrt.PLAN, device=1) as eng:
        assert cuda.current_device() == 0
        x = _x(4, 2)
        np.testing.assert_array_equal(eng.infer({"x": x})["y"], 2 * x + 1)
        assert cuda.current_device() == 0
        xt = torch.randn(2, 4, device="cuda:1")
        assert torch.equal(eng.infer({"x": xt})["y"], 2 * xt + 1)
