"""Shared test setup: quick, offline, and a private cache directory per session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TRTLAB_QUICK", "1")
os.environ.setdefault("TRTLAB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test writes ONNX files and engines into a throwaway cache directory."""
    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
