"""The C++ runtime's pure C++ part builds warning-free and its tests pass; the TensorRT sources use
only the TensorRT 10/11 API. (Compiling those against TensorRT's headers: tools/cpp_check.sh.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CPP = ROOT / "cpp"
FLAGS = ["-std=c++17", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
TRT_SOURCES = [
    CPP / "runtime" / "trt_runner.hpp",
    CPP / "runtime" / "trt_runner.cpp",
    *sorted((CPP / "apps").glob("*.cpp")),
]

#: TensorRT <= 8 calls that TensorRT 10 removed or deprecated (binding indices, implicit batch,
#: enqueue/execute v1/v2, destroy()); a port to 10/11 must use none of them.
LEGACY_API = [
    "enqueueV2", "enqueue(", "executeV2", "execute(", "getBindingIndex", "getNbBindings",
    "bindingIsInput", "getBindingDimensions", "setBindingDimensions", "getBindingDataType",
    "getMaxBatchSize", "buildEngineWithConfig", "->destroy()", ".destroy()", "setMaxBatchSize",
    "getProfileDimensions", "setOptimizationProfile(",
]  # fmt: skip


def _compiler() -> str:
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler (g++) on this machine: apt-get install g++")
    return cxx


def test_imgutil_builds_with_werror_and_passes(tmp_path: Path) -> None:
    cxx = _compiler()
    exe = tmp_path / "test_imgutil"
    sources = [
        CPP / "imgutil" / "src" / "imgutil.cpp",
        CPP / "imgutil" / "tests" / "test_imgutil.cpp",
    ]
    build = subprocess.run(
        [cxx, *FLAGS, f"-I{CPP / 'imgutil' / 'include'}", *map(str, sources), "-o", str(exe)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.stderr
    passed, failed = map(int, re.search(r"(\d+) passed, (\d+) failed", run.stdout).groups())  # type: ignore[union-attr]
    assert failed == 0 and passed >= 30


def test_cmake_project_builds_and_ctest_passes(tmp_path: Path) -> None:
    _compiler()
    if shutil.which("cmake") is None or shutil.which("ctest") is None:
        pytest.skip("cmake/ctest not installed: apt-get install cmake")
    build = tmp_path / "build"
    steps = [
        ["cmake", "-S", str(CPP), "-B", str(build), "-DTRTLAB_WITH_TENSORRT=OFF"],
        ["cmake", "--build", str(build), "-j2"],
        ["ctest", "--test-dir", str(build), "--output-on-failure"],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, (
            f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    assert "100% tests passed" in done.stdout


def test_tensorrt_sources_use_only_the_named_tensor_api() -> None:
    text = {p.name: p.read_text() for p in TRT_SOURCES}
    for name, src in text.items():
        code = re.sub(r"//.*", "", src)  # comments may name the old API to explain the new one
        used = [call for call in LEGACY_API if call in code]
        assert not used, f"{name} uses pre-TensorRT-10 API: {used}"
    runtime = text["trt_runner.cpp"]
    for call in (
        "setInputShape",
        "setTensorAddress",
        "enqueueV3",
        "getIOTensorName",
        "getProfileShape",
    ):
        assert call in runtime, call
    assert "cudaFree" in runtime and "unique_ptr" in text["trt_runner.hpp"]


def test_legacy_scan_catches_old_calls(tmp_path: Path) -> None:
    """The scan above is not vacuous: a tutorial-style TensorRT 8 line trips it."""
    old = 'context->enqueueV2(buffers, stream, nullptr); engine->getBindingIndex("input");'
    assert [c for c in LEGACY_API if c in old] == ["enqueueV2", "getBindingIndex"]


def test_cpp_check_script_runs_pure_part(tmp_path: Path) -> None:
    _compiler()
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": "/nonexistent/python"}
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "cpp_check.sh")],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 failed" in done.stdout and "SKIP:" in done.stdout


def test_overlay_tool_matches_pythons_palette(tmp_path: Path) -> None:
    """The C++ palette and blend equal trtlab.data's (the Python side of notebook 10)."""
    import numpy as np
    from PIL import Image

    from trtlab import data

    cxx = _compiler()
    exe = tmp_path / "trtlab_overlay"
    sources = [CPP / "imgutil" / "src" / "imgutil.cpp", CPP / "apps" / "overlay.cpp"]
    build = subprocess.run(
        [cxx, *FLAGS, f"-I{CPP / 'imgutil' / 'include'}", *map(str, sources), "-o", str(exe)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 21, size=(5, 7)).astype(np.uint8)
    image = rng.integers(0, 256, size=(5, 7, 3)).astype(np.uint8)
    Image.fromarray(ids, mode="L").save(tmp_path / "map.pgm")
    Image.fromarray(image, mode="RGB").save(tmp_path / "img.ppm")
    done = subprocess.run(
        [str(exe), str(tmp_path / "map.pgm"), str(tmp_path / "img.ppm"), str(tmp_path / "o.ppm")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = np.asarray(Image.open(tmp_path / "o.ppm"))
    colored = data.voc_palette(256)[ids].astype(np.float32)
    want = np.floor(0.5 * colored + 0.5 * image.astype(np.float32) + 0.5)  # C++ lround: half up
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    bad = subprocess.run(
        [str(exe), str(tmp_path / "img.ppm"), str(tmp_path / "img.ppm"), str(tmp_path / "x.ppm")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 1 and "expected a 1-channel class map" in bad.stderr
