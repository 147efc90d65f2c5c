"""The runtime code against the REAL TensorRT lean bindings (installed from PyPI, import on CPU).

1. An AST scan of ``trtlab/trt/runtime.py`` and ``trtlab/trt/io_table.py`` collects every
   attribute used on the objects named ``trt_mod`` / ``trt_runtime`` / ``engine`` /
   ``context`` and must equal ``RUNTIME_API_USED`` (so the list cannot drift from the code).
2. Every entry of ``RUNTIME_API_USED`` must exist on the real lean classes.
3. The dtype map must cover exactly the real ``DataType`` members.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from trtlab.trt import runtime as rt

lean = pytest.importorskip(
    "tensorrt_lean_bindings", reason="tensorrt-lean-cu13-bindings is not installed"
)

RUNTIME_PY = Path(rt.__file__)
#: the runtime path's TensorRT calls live in these two modules (the IO table was split out)
RUNTIME_SOURCES = (RUNTIME_PY, RUNTIME_PY.with_name("io_table.py"))
#: variable-name convention in runtime.py -> the TensorRT class it holds
ROLES = {
    "trt_mod": "module",
    "trt_runtime": "Runtime",
    "engine": "ICudaEngine",
    "context": "IExecutionContext",
}


def _role(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return ROLES.get(node.id)
    if isinstance(node, ast.Attribute):  # self._engine, res.context, ...
        return ROLES.get(node.attr.lstrip("_"))
    return None


def scan_api_use(source: str) -> dict[str, set[str]]:
    """Attributes read, called or assigned on TensorRT objects in ``source``."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            role = _role(node.value)
            if role is not None:
                found.setdefault(role, set()).add(node.attr)
    return found


def test_scanner_finds_what_it_should() -> None:
    code = textwrap.dedent(
        """
        def f(self, engine, trt_mod):
            engine.get_tensor_name(0)
            self._context.execute_async_v3(0)
            x = self.engine_like.nothing  # not a role name: ignored
            trt_runtime = trt_mod.Runtime(None)
            trt_runtime.engine_host_code_allowed = True
        """
    )
    assert scan_api_use(code) == {
        "ICudaEngine": {"get_tensor_name"},
        "IExecutionContext": {"execute_async_v3"},
        "module": {"Runtime"},
        "Runtime": {"engine_host_code_allowed"},
    }


def test_declared_api_matches_the_code() -> None:
    used: dict[str, set[str]] = {}
    for path in RUNTIME_SOURCES:
        for role, attrs in scan_api_use(path.read_text()).items():
            used.setdefault(role, set()).update(attrs)
    declared = {k: set(v) for k, v in rt.RUNTIME_API_USED.items() if k in set(ROLES.values())}
    missing = {k: v - declared.get(k, set()) for k, v in used.items()}
    stale = {k: v - used.get(k, set()) for k, v in declared.items()}
    assert used == declared, (
        f"update RUNTIME_API_USED in trtlab/trt/runtime.py: used but not declared {missing}, "
        f"declared but unused {stale}"
    )


def _lean_class(name: str) -> Any:
    return lean if name == "module" else getattr(lean, name)


@pytest.mark.parametrize(
    ("cls", "attr"),
    [(cls, attr) for cls, attrs in rt.RUNTIME_API_USED.items() for attr in attrs],
)
def test_api_exists_in_real_lean_bindings(cls: str, attr: str) -> None:
    target = _lean_class(cls)
    if cls in ("TensorIOMode", "TensorLocation"):
        assert attr in target.__members__, f"{cls}.{attr} missing in lean {lean.__version__}"
    else:
        assert hasattr(target, attr), f"{cls}.{attr} missing in lean {lean.__version__}"


def test_compat_logger_uses_only_existing_api() -> None:
    from trtlab.trt._compat import trt_logger

    logger = trt_logger(lean, min_severity="info")
    assert isinstance(logger, lean.ILogger)
    logger.log(lean.ILogger.Severity.WARNING, "hello")
    assert logger.capture.messages() == ["[WARNING] hello"]


def test_dtype_map_covers_every_real_datatype() -> None:
    members = set(lean.DataType.__members__)
    assert set(rt.TRT_TO_NUMPY) == members
    assert set(rt.TRT_DTYPE_BITS) == members
    for name, member in lean.DataType.__members__.items():
        assert rt.trt_dtype_name(member) == name
        real_size = member.itemsize  # None for E8M0 in 11.4, 0.5 for the packed types
        if real_size is not None:
            assert real_size * 8 == rt.TRT_DTYPE_BITS[name], name
        if rt.TRT_TO_NUMPY[name] is not None:
            assert rt.numpy_dtype(member).itemsize * 8 == rt.TRT_DTYPE_BITS[name], name


def test_io_mode_and_location_names_read_from_real_enums() -> None:
    assert rt.trt_dtype_name(lean.TensorIOMode.INPUT) == "INPUT"
    assert rt.trt_dtype_name(lean.TensorLocation.DEVICE) == "DEVICE"


def test_runtime_constructs_on_cpu_but_reports_no_cuda() -> None:
    """On a machine without a GPU, ``Runtime(logger)`` constructs but logs a CUDA init error.

    (Calling ``deserialize_cuda_engine`` on such a runtime crashes the process, which is why
    ``Engine`` checks for a GPU first; this test never calls it.) Run in a subprocess so a crash
    here cannot take the test session down.
    """
    code = textwrap.dedent(
        """
        import tensorrt_lean_bindings as trt
        from trtlab.trt._compat import trt_logger
        logger = trt_logger(trt, min_severity="warning")
        runtime = trt.Runtime(logger)
        print("CONSTRUCTED", type(runtime).__name__)
        for line in logger.capture.messages():
            print(line)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    if "CONSTRUCTED" not in proc.stdout:
        pytest.skip(f"lean Runtime(logger) did not construct here: {proc.stderr[-300:]}")
    from trtlab import cuda

    if cuda.is_available():
        pytest.skip("a GPU is present: the no-GPU behaviour cannot be observed")
    assert "[ERROR]" in proc.stdout and "CUDA" in proc.stdout, proc.stdout


def test_engine_refuses_to_deserialize_without_gpu() -> None:
    """Without a GPU, Engine raises EngineError instead of letting TensorRT crash the process."""
    from trtlab import cuda

    if not cuda.has_cuda_python():
        pytest.skip("cuda-python is not installed")
    if cuda.is_available():
        pytest.skip("a GPU is present")
    code = textwrap.dedent(
        """
        from trtlab.errors import EngineError
        from trtlab.trt.runtime import Engine
        try:
            Engine(b"x" * 64, runtime="lean")
        except EngineError as exc:
            print("ENGINE_ERROR", str(exc).splitlines()[0])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert "ENGINE_ERROR TensorRT engines need a CUDA GPU" in proc.stdout
