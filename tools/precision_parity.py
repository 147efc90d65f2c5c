"""Measure FP16 ONNX conversions against FP32 on ONNX Runtime CPU (docs/precision_conversion.md).

Converters compared on ResNet-50 and FCN-ResNet-101 (random seeded weights, TRTLAB_OFFLINE=1):

- ``trtlab``: :func:`trtlab.trt.precision.convert_onnx_precision` (onnxconverter-common plus
  trtlab's FP32 block list and Cast clean-up; the route trtlab's TensorRT 11 builds use);
- ``occ-default``: onnxconverter-common with its default block list only (trtlab before issue 11);
- ``autocast``: NVIDIA ModelOpt's ``modelopt.onnx.autocast.convert_to_f16`` (keep_io_types=True),
  run with ``--modelopt-python`` (a separate venv: ModelOpt pulls its own torch/CUDA/onnx).

Usage: ``TRTLAB_OFFLINE=1 python tools/precision_parity.py --out /tmp/parity
[--modelopt-python /tmp/mo/bin/python]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

AUTOCAST = """
import sys, onnx
from modelopt.onnx.autocast import convert_to_f16
model = onnx.load(sys.argv[1])
out = convert_to_f16(model, low_precision_type="fp16", keep_io_types=True)
onnx.save(out, sys.argv[2])
"""


def _occ_default(src: Path, dst: Path) -> None:
    import onnx
    from onnxconverter_common import float16

    model = float16.convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    onnx.save(model, str(dst))


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(None, {sess.get_inputs()[0].name: x})[0])


def _metrics(ref: np.ndarray, got: np.ndarray) -> dict[str, float]:
    if ref.dtype.kind in "iu":  # FCN head: class ids per pixel
        return {"pixel_agreement": float(np.mean(ref == got))}
    ref64, got64 = ref.astype(np.float64), got.astype(np.float64)
    rel_l2 = float(np.linalg.norm(got64 - ref64) / max(np.linalg.norm(ref64), 1e-30))
    top1 = float(np.mean(ref.argmax(-1) == got.argmax(-1)))
    return {"rel_l2": rel_l2, "top1_agreement": top1}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("/tmp/parity"))
    ap.add_argument("--modelopt-python", default=None)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import onnxconverter_common
    import onnxruntime
    import torch

    from trtlab.export import export_model
    from trtlab.trt.precision import CONVERSION_RECIPE, convert_onnx_precision

    cases = {"resnet50": (8, 3, 224, 224), "fcn_resnet101": (2, 3, 256, 256)}
    rows: list[dict[str, Any]] = []
    for name, shape in cases.items():
        src = Path(export_model(name, weights=None, path=args.out / f"{name}.onnx"))
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        ref = _run(src, x)
        converters: dict[str, Any] = {
            f"trtlab ({CONVERSION_RECIPE})": lambda s, d: convert_onnx_precision(s, d, "fp16"),
            "occ-default": _occ_default,
        }
        if args.modelopt_python:
            converters["autocast"] = lambda s, d: subprocess.run(
                [args.modelopt_python, "-c", AUTOCAST, str(s), str(d)], check=True
            )
        for label, convert in converters.items():
            dst = args.out / f"{name}-{label.split()[0]}.onnx"
            row: dict[str, Any] = {
                "model": name,
                "input": "x".join(map(str, shape)),
                "converter": label,
            }
            t0 = time.perf_counter()
            try:
                convert(src, dst)
                row["convert_s"] = round(time.perf_counter() - t0, 1)
                row.update(_metrics(ref, _run(dst, x)))
            except Exception as exc:  # reported in the table
                row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(
        f"\nmachine: {platform.machine()} {platform.processor() or ''}, Python "
        f"{platform.python_version()}, torch {torch.__version__}, onnxruntime "
        f"{onnxruntime.__version__}, onnxconverter-common {onnxconverter_common.__version__}"
    )
    (args.out / "parity.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
