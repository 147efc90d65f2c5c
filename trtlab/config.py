"""Environment switches, read at call time (so tests and notebooks can flip them).

| variable          | effect                                                                  |
|-------------------|-------------------------------------------------------------------------|
| ``TRTLAB_QUICK``  | ``1``: small inputs, few iterations (CI, laptops). Default ``0``.        |
| ``TRTLAB_OFFLINE``| ``1``: never try to download weights; fall back to random weights.      |
| ``TRTLAB_CACHE_DIR`` | where ONNX files, engines and timing caches go. Default             |
|                   | ``$XDG_CACHE_HOME/trtlab`` (``~/.cache/trtlab``).                        |
| ``TRTLAB_DATA_DIR``  | override the demo-data directory (images, label lists).              |
"""

from __future__ import annotations

import os
from pathlib import Path

from trtlab.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_flag(name: str, default: bool = False) -> bool:
    """Read a boolean environment switch; reject values that are neither true nor false."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a boolean switch: expected one of 1/0, true/false, yes/no, on/off",
        hint=f"export {name}=1 (or unset it)",
    )


def quick() -> bool:
    """True in quick mode (``TRTLAB_QUICK=1``): small sizes and few repeats for CI and laptops."""
    return env_flag("TRTLAB_QUICK")


def offline() -> bool:
    """True when downloads are forbidden (``TRTLAB_OFFLINE=1``)."""
    return env_flag("TRTLAB_OFFLINE")


def cache_dir() -> Path:
    """Directory for exported ONNX files, engines and timing caches (created on demand)."""
    raw = os.environ.get("TRTLAB_CACHE_DIR")
    if raw:
        path = Path(raw).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "trtlab"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cache directory {path} cannot be created: {exc}",
            hint="set TRTLAB_CACHE_DIR to a writable directory",
        ) from exc
    return path


def data_dir() -> Path:
    """Directory holding the demo images (``images/``) and label lists (``labels/``).

    Looked up in order: ``TRTLAB_DATA_DIR``; ``trtlab/_data`` inside an installed wheel; the
    repository's top-level ``data/`` (editable installs and a source checkout).
    """
    candidates: list[Path] = []
    raw = os.environ.get("TRTLAB_DATA_DIR")
    if raw:
        candidates.append(Path(raw).expanduser())
    here = Path(__file__).resolve().parent
    candidates += [here / "_data", here.parent / "data"]
    for path in candidates:
        if (path / "images").is_dir():
            return path
    raise ConfigError(
        "demo data directory not found; looked in: " + ", ".join(str(p) for p in candidates),
        hint="set TRTLAB_DATA_DIR to a folder with images/ and labels/, or reinstall trtlab",
    )
