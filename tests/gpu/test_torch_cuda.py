"""TorchRunner on a CUDA GPU: device reporting, and parity with ONNX Runtime on the CPU.

The reference is ONNX Runtime's CPU provider in fp32 (an independent implementation). Tolerances
are those of ``trtlab.compare.TOLERANCES``, chosen by what the GPU actually computes (measured on
an H100, docs/MEASUREMENTS.md):

* ``fp32`` limits (relative L2 <= 1e-5): TorchRunner pins strict IEEE FP32 by default, whatever
  PyTorch's global flags say (PyTorch's own default runs cuDNN convolutions in TF32). Measured
  1.8e-6 for ResNet-50.
* ``TorchRunner(tf32=True)`` is judged at the ``tf32`` limits (measured 5e-4, limit 1e-2), and
  must differ from strict FP32 on a GPU with TF32 (compute capability >= 8), or it did nothing.
* ``.half()`` models are judged at the ``fp16`` limits (measured 7e-4, limit 3e-2).

Skips (reason printed by ``pytest -rs``) where PyTorch sees no CUDA GPU.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtlab import data, models
from trtlab.compare import compare
from trtlab.export import export_model, export_onnx
from trtlab.runners.ort import OnnxRuntimeRunner
from trtlab.runners.torch_runner import TorchRunner

pytestmark = [pytest.mark.gpu]


def _cuda_skip_reason() -> str | None:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__} sees no CUDA GPU (built for CUDA {torch.version.cuda})"
    return None


@pytest.fixture(scope="module", autouse=True)
def _cuda_torch() -> None:
    reason = _cuda_skip_reason()
    if reason:
        pytest.skip(reason)


def precision_flags() -> tuple[object, ...]:
    """PyTorch's global float32 precision switches (new API where it exists, else legacy)."""
    import torch

    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        return (conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision)
    return (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)


def half_module(module: Any) -> Any:
    """A float16 copy of ``module`` that takes float32 input and returns float32 (ints as is)."""
    import torch

    class Half(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner.half()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y: torch.Tensor = self.inner(x.half())
            return y.float() if y.is_floating_point() else y

    return Half(copy.deepcopy(module)).eval()


def _ort(path: Path) -> OnnxRuntimeRunner:
    return OnnxRuntimeRunner(path, providers=["CPUExecutionProvider"])


# -- device reporting ----------------------------------------------------------------------------


def test_device_string_names_the_gpu() -> None:
    import torch

    runner = TorchRunner("tiny_classifier", device="cuda")
    out = runner(np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32))
    assert runner.device == f"cuda:0 ({torch.cuda.get_device_name(0)})"
    assert next(runner.module.parameters()).device.type == "cuda"
    assert out["logits"].shape == (2, 10) and out["logits"].dtype == np.float32
    assert np.isfinite(out["logits"]).all()
    print(runner.describe())


def test_auto_device_is_the_gpu() -> None:
    import trtlab

    runner = trtlab.runner("tiny_classifier", backend="torch")
    runner.activate()
    assert runner.backend == "torch"
    assert runner.device.startswith("cuda:0 (")


def test_benchmark_labels_cuda_results() -> None:
    """bench.benchmark on a CUDA runner says where it ran (what the notebooks print)."""
    from trtlab.bench import benchmark

    runner = TorchRunner("tiny_classifier", device="cuda")
    x = np.random.default_rng(1).standard_normal((8, 3, 32, 32)).astype(np.float32)
    result = benchmark(runner, x, warmup=2, iterations=5)
    assert result.backend == "torch"
    assert result.device == runner.device and result.device.startswith("cuda:0 (")
    assert result.batch == 8 and result.iterations == 5
    assert np.all(result.times_ms > 0)
    print(result)


# -- parity: tiny models -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny_classifier", "tiny_segmenter"])
def test_tiny_models_match_onnxruntime_fp32(name: str, tmp_path: Path) -> None:
    onnx_path = export_model(name, path=tmp_path / f"{name}.onnx")
    shape = (3, 3, 32, 32) if name == "tiny_classifier" else (3, 3, 48, 64)  # FCN: any H, W
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    torch_out = TorchRunner(name, device="cuda")(x)  # strict FP32 by default
    ort_out = _ort(onnx_path)(x)
    report = compare(
        ort_out, torch_out, precision="fp32", reference_name="ort-cpu", candidate_name="torch-cuda"
    )
    print(report)
    report.raise_for_failure()


# -- parity: ResNet-50, random weights -----------------------------------------------------------


@pytest.fixture(scope="module")
def resnet50_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One random-weight ResNet-50, its ONNX export, demo images and ONNX Runtime's logits."""
    module = models.resnet50(weights=None)
    onnx_path = tmp_path_factory.mktemp("r50") / "resnet50.onnx"
    spec = models.get_spec("resnet50")
    import torch

    example = torch.randn(spec.example_shape, generator=torch.Generator().manual_seed(0))
    export_onnx(
        module,
        onnx_path,
        example,
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        dynamic_axes=spec.dynamic_axes,
        opset=spec.opset,
    )
    images = [data.preprocess_imagenet(p) for p in data.demo_images()]
    x = data.make_batch(images + [a[:, :, ::-1].copy() for a in images])  # [8, 3, 224, 224]
    ref = _ort(onnx_path)(x)
    return {"module": module, "x": x, "ref": ref}


def _resnet_parity(
    case: dict[str, Any], module: Any, precision: str, *, tf32: bool = False
) -> tuple[Any, Any]:
    """(report at ``precision``, the torch outputs) of ``module`` on CUDA vs ORT CPU fp32."""
    runner = TorchRunner(
        module, device="cuda", output_names=("logits",), name="resnet50", tf32=tf32
    )
    out = runner(case["x"])
    report = compare(
        case["ref"],
        out,
        precision=precision,
        reference_name="ort-cpu-fp32",
        candidate_name=f"torch-cuda ({precision} limits)",
    )
    print(report)
    return report, out


def test_resnet50_fp32_matches_onnxruntime(resnet50_case: dict[str, Any]) -> None:
    """Global flags untouched (PyTorch: TF32 convolutions): the runner must still be strict."""
    report, _ = _resnet_parity(resnet50_case, resnet50_case["module"], "fp32")
    assert report["logits"].metrics["rel_l2"] < 1e-5
    report.raise_for_failure()


def test_resnet50_tf32_within_tf32_limits(resnet50_case: dict[str, Any]) -> None:
    import torch

    report, _ = _resnet_parity(resnet50_case, resnet50_case["module"], "tf32", tf32=True)
    rel = report["logits"].metrics["rel_l2"]
    if torch.cuda.get_device_capability(0)[0] >= 8:  # TF32 exists from Ampere on
        assert rel > 2e-5, f"tf32=True as close as strict FP32 ({rel:.2e}): TF32 not engaged"
    report.raise_for_failure()


def test_runner_leaves_global_precision_flags_alone(resnet50_case: dict[str, Any]) -> None:
    before = precision_flags()
    for tf32 in (False, True):
        TorchRunner(resnet50_case["module"], device="cuda", tf32=tf32)(resnet50_case["x"][:1])
        assert precision_flags() == before, (tf32, before, precision_flags())


def test_resnet50_fp16_within_fp16_limits(resnet50_case: dict[str, Any]) -> None:
    report, _ = _resnet_parity(resnet50_case, half_module(resnet50_case["module"]), "fp16")
    rel = report["logits"].metrics["rel_l2"]
    assert rel > 1e-5, f"fp16 output as close as fp32 ({rel:.2e}): did it run in half precision?"
    report.raise_for_failure()
