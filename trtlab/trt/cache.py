"""Engine cache: a second identical build is a file read, not minutes of tactic timing.

An engine is only valid for the TensorRT version and GPU model it was built with, and depends on
every build option, so the key hashes all of them together with the ONNX bytes
(:func:`engine_cache_key`). Entries are ``<key>.engine`` plus a ``<key>.json`` sidecar with the
metadata (options, versions, build time), both written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtlab._io import atomic_write_bytes, atomic_write_text
from trtlab.config import cache_dir
from trtlab.errors import FileFormatError, InputError

ENGINE_SUFFIX = ".engine"
META_SUFFIX = ".json"
#: Bumped when the key recipe changes, so old entries are simply never hit again.
KEY_SCHEMA = 1


def _canonical(value: Any) -> Any:
    """JSON-able, order-independent form of build options (paths -> str, tuples -> lists)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def canonical_json(options: Mapping[str, Any]) -> str:
    """Canonical JSON text of ``options`` (sorted keys, no whitespace): equal dicts, equal text."""
    return json.dumps(_canonical(options), sort_keys=True, separators=(",", ":"))


def _onnx_digest(onnx: bytes | str | os.PathLike[str]) -> str:
    if isinstance(onnx, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(onnx)).hexdigest()
    path = Path(onnx)
    if not path.is_file():
        raise FileFormatError(
            f"ONNX file not found: {path}", hint="export the model first (trtlab.export_onnx)"
        )
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    # External weights (``<model>.onnx.data`` etc.) change the engine too.
    for extra in external_data_files(path):
        digest.update(extra.name.encode())
        with open(extra, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def external_data_files(path: Path) -> list[Path]:
    """Files holding ``path``'s external tensor data (empty for self-contained models)."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # not parseable here: the build reports it properly
        return []
    locations: set[str] = set()
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location":
                    locations.add(entry.value)
    return [path.parent / loc for loc in sorted(locations) if (path.parent / loc).is_file()]


def engine_cache_key(
    onnx: bytes | str | os.PathLike[str],
    options: Mapping[str, Any],
    trt_version: str,
    gpu_name: str,
    compute_capability: Sequence[int],
) -> str:
    """sha256 over the ONNX bytes, canonical JSON of ``options``, TensorRT version and GPU."""
    payload = {
        "schema": KEY_SCHEMA,
        "onnx_sha256": _onnx_digest(onnx),
        "options": _canonical(options),
        "tensorrt": str(trt_version),
        "gpu": str(gpu_name),
        "sm": [int(c) for c in compute_capability],
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """A cached engine: its path, bytes and metadata."""

    key: str
    path: Path
    data: bytes
    meta: dict[str, Any]


class EngineCache:
    """Directory of engines keyed by :func:`engine_cache_key` (default ``cache_dir()/engines``)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else cache_dir() / "engines"

    def __repr__(self) -> str:
        return f"EngineCache({str(self.directory)!r})"

    @staticmethod
    def _check_key(key: str) -> str:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise InputError(
                f"engine cache key must be a lower-case hex digest, got {key!r}",
                hint="compute it with trtlab.trt.cache.engine_cache_key(...)",
            )
        return key

    def path_for(self, key: str) -> Path:
        """Where the engine for ``key`` lives (whether or not it exists yet)."""
        return self.directory / f"{self._check_key(key)}{ENGINE_SUFFIX}"

    def meta_path_for(self, key: str) -> Path:
        return self.directory / f"{self._check_key(key)}{META_SUFFIX}"

    def __contains__(self, key: str) -> bool:
        return self.path_for(key).is_file() and self.meta_path_for(key).is_file()

    def get(self, key: str) -> CacheEntry | None:
        """The cached engine for ``key``, or None (a missing or unreadable sidecar is a miss)."""
        path, meta_path = self.path_for(key), self.meta_path_for(key)
        if not (path.is_file() and meta_path.is_file()):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = path.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("size") not in (None, len(data)):
            return None
        return CacheEntry(key, path, data, meta)

    def put(self, key: str, data: bytes, meta: Mapping[str, Any] | None = None) -> Path:
        """Store ``data`` under ``key`` with a JSON sidecar; both writes are atomic.

        The engine is written first and the sidecar last, so a crash in between leaves an entry
        that :meth:`get` treats as a miss.
        """
        path = self.path_for(key)
        payload = dict(_canonical(dict(meta or {})))
        payload.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
        payload["size"] = len(data)
        payload["key"] = key
        atomic_write_bytes(path, bytes(data))
        atomic_write_text(self.meta_path_for(key), json.dumps(payload, indent=2, sort_keys=True))
        return path

    def keys(self) -> list[str]:
        """Keys of complete entries (engine + sidecar)."""
        if not self.directory.is_dir():
            return []
        return sorted(
            p.stem
            for p in self.directory.glob(f"*{ENGINE_SUFFIX}")
            if p.with_suffix(META_SUFFIX).is_file()
        )

    def clear(self) -> int:
        """Delete every entry (and leftover temp files); returns the number of engines removed."""
        if not self.directory.is_dir():
            return 0
        removed = 0
        for p in self.directory.iterdir():
            if p.suffix == ENGINE_SUFFIX:
                removed += 1
            if p.suffix in (ENGINE_SUFFIX, META_SUFFIX) or p.name.startswith("."):
                p.unlink(missing_ok=True)
        return removed


__all__ = ["CacheEntry", "EngineCache", "canonical_json", "engine_cache_key"]
