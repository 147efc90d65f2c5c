"""The torchvision shim: exactly one of (torchvision's own ops, trtlab's schemas) defines the ops.

Each check runs in a fresh interpreter: whether the schemas exist depends on import order, and a
double registration aborts the whole process (which a subprocess turns into a visible failure).
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import trtlab._tv_shim as shim
tv = shim.import_torchvision()
tv2 = shim.import_torchvision()  # idempotent
assert tv is tv2
ops, ours = tv.extension._has_ops(), shim._library is not None
print("ops", ops, "shim", ours)
assert ops != ours, (ops, ours)
print(type(tv.models.resnet18(weights=None)).__name__)
"""


def _run() -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-2000:]}"
    return proc.stdout


def test_import_torchvision_uses_exactly_one_definition_of_the_ops() -> None:
    out = _run()
    assert "ResNet" in out
    # On a CPU-only torch with the CUDA torchvision wheel the extension cannot load, so the
    # schemas come from trtlab; where the extension loads, trtlab must not define anything.
    assert ("ops True shim False" in out) or ("ops False shim True" in out)
