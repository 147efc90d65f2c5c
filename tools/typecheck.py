#!/usr/bin/env python3
"""Type-check trtlab (``mypy --strict``), and its TensorRT code against every in-tree stub version.

TensorRT cannot be installed on CI machines, but ``typings/tensorrt-<version>/`` holds signature
stubs of its whole Python API (generated from the real binding wheels by ``tools/gen_trt_stubs``).
This script runs:

1. ``mypy`` on the whole package with the settings of ``pyproject.toml`` (``mypy_path`` points
   at the newest stubs, so ``import tensorrt`` resolves);
2. for each ``typings/tensorrt-<version>``: ``MYPYPATH=typings/tensorrt-<version> mypy`` on the
   modules that use TensorRT (``trtlab/trt``, ``trtlab/runners/trt.py``, ``trtlab/wrappers.py``,
   ``trtlab/cuda``, and any other module that imports tensorrt). ``MYPYPATH`` is searched before
   ``mypy_path``, so each run really sees that version's API: code using ``BuilderFlag.FP16``
   fails under 11.4, code using ``max_batch_size`` fails under both.

Each run has its own mypy cache directory (``.mypy_cache/<run>``) so switching stub versions does
not invalidate the others; the per-version caches start as copies of the package run's cache, so a
cold run analyses torch & co. once. Exit status is non-zero when any run fails; the summary names
it. Cold: about 1.5 minutes on 2 cores; warm: about 15 seconds.

    python tools/typecheck.py                 # everything
    python tools/typecheck.py --only 10.13.3.9
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPINGS = ROOT / "typings"
CONFIG = ROOT / "pyproject.toml"
#: Modules that use TensorRT, checked once per stub version (those that exist are used).
TRT_TARGETS = ("trtlab/trt", "trtlab/runners/trt.py", "trtlab/wrappers.py", "trtlab/cuda")
_IMPORTS_TRT = re.compile(r"^\s*(import tensorrt|from tensorrt)\b", re.MULTILINE)


@dataclass
class RunResult:
    """Outcome of one mypy run."""

    name: str
    returncode: int
    seconds: float
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def stub_versions(typings: Path = TYPINGS) -> list[str]:
    """Versions with stubs in ``typings/``, oldest first (``["10.13.3.9", "11.4.0.106"]``)."""
    found = []
    for path in typings.glob("tensorrt-*"):
        if (path / "tensorrt" / "__init__.pyi").is_file():
            found.append(path.name.removeprefix("tensorrt-"))
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".") if p.isdigit()))


def trt_targets(root: Path = ROOT) -> list[str]:
    """The TensorRT-using paths to check per stub version (relative to ``root``)."""
    targets = [t for t in TRT_TARGETS if (root / t).exists()]
    covered = [root / t for t in targets]
    for path in sorted((root / "trtlab").rglob("*.py")):
        if any(path == c or c in path.parents for c in covered):
            continue
        if _IMPORTS_TRT.search(path.read_text(encoding="utf-8", errors="replace")):
            targets.append(str(path.relative_to(root)))
    return targets


def run_mypy(
    name: str,
    args: list[str],
    *,
    stub_version: str | None = None,
    cache: bool = True,
    cwd: Path = ROOT,
) -> RunResult:
    """Run ``python -m mypy --config-file pyproject.toml ARGS``, MYPYPATH set for a stub version."""
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    if stub_version is not None:
        env["MYPYPATH"] = str(TYPINGS / f"tensorrt-{stub_version}")
    cache_args = (
        ["--cache-dir", str(ROOT / ".mypy_cache" / name)] if cache else ["--cache-dir", os.devnull]
    )
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *cache_args, *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return RunResult(name, proc.returncode, time.perf_counter() - start, proc.stdout + proc.stderr)


def _seed_cache(name: str, source: str = "package") -> None:
    """Start a per-version cache from the package run's cache, so third-party modules (torch is
    large and typed) are analysed once, not once per stub version; only modules that depend on
    ``tensorrt`` are then re-checked against the other stubs."""
    target, origin = ROOT / ".mypy_cache" / name, ROOT / ".mypy_cache" / source
    if not target.exists() and origin.is_dir():
        shutil.copytree(origin, target)


def check_snippet(code: str, stub_version: str, workdir: Path) -> RunResult:
    """Type-check ``code`` against one stub version, exactly as the per-version runs do.

    Used by ``tests/unit/test_typecheck_stubs.py`` to prove the stubs are really consulted.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "snippet.py"
    path.write_text(code, encoding="utf-8")
    return run_mypy(f"snippet-{stub_version}", [str(path)], stub_version=stub_version, cache=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", metavar="VERSION", help="check only these stub versions"
    )
    parser.add_argument("--skip-package", action="store_true", help="skip the whole-package run")
    parser.add_argument("--no-cache", action="store_true", help="do not use/write the mypy cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)

    versions = stub_versions()
    if args.only:
        unknown = sorted(set(args.only) - set(versions))
        if unknown:
            print(f"typecheck: no stubs for {unknown}; have {versions}", file=sys.stderr)
            return 2
        versions = [v for v in versions if v in args.only]
    if not versions:
        print(f"typecheck: no TensorRT stubs under {TYPINGS}", file=sys.stderr)
        return 2

    results: list[RunResult] = []
    if not args.skip_package:
        results.append(run_mypy("package", [], cache=not args.no_cache))
    targets = trt_targets()
    for version in versions:
        if not args.no_cache:
            _seed_cache(f"tensorrt-{version}")
        results.append(
            run_mypy(f"tensorrt-{version}", targets, stub_version=version, cache=not args.no_cache)
        )

    failed = [r for r in results if not r.ok]
    for r in results:
        if not args.quiet or not r.ok:
            print(f"--- mypy [{r.name}] ---")
            print(r.output.rstrip())
    print("=== typecheck summary ===")
    print(f"TensorRT targets: {' '.join(targets)}")
    for r in results:
        print(f"  {'ok  ' if r.ok else 'FAIL'} {r.name:<22} {r.seconds:6.1f} s")
    if failed:
        print("typecheck FAILED for: " + ", ".join(r.name for r in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
