"""Engine cache: a second identical build is a file read, not minutes of tactic timing.

An engine is only valid for the TensorRT version and GPU model it was built with, and depends on
every build option, so the key hashes all of them together with the ONNX bytes
(:func:`engine_cache_key`). Entries are ``<key>.engine`` plus a ``<key>.json`` sidecar with the
metadata (options, versions, build time), both written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtlab._io import atomic_write_bytes, atomic_write_text, require_file
from trtlab.config import cache_dir
from trtlab.errors import ConfigError, InputError

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


def onnx_digest(onnx: bytes | str | os.PathLike[str]) -> str:
    """sha256 of ONNX bytes (or a file plus its external-data files)."""
    if isinstance(onnx, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(onnx)).hexdigest()
    path = require_file(onnx, what="ONNX file", hint="export the model first (trtlab.export_onnx)")
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
    from trtlab.onnx_meta import external_data_locations

    locations = external_data_locations(model)
    return [path.parent / loc for loc in locations if (path.parent / loc).is_file()]


def engine_cache_key(
    onnx: bytes | str | os.PathLike[str],
    options: Mapping[str, Any],
    trt_version: str,
    gpu_name: str,
    compute_capability: Sequence[int],
) -> str:
    """sha256 over the ONNX bytes, canonical JSON of ``options``, TensorRT version and GPU.

    The fields are :func:`trtlab.trt.provenance.build_identity`'s, the same the engine's
    provenance sidecar records; use :func:`key_of_identity` when the identity is at hand.
    """
    from trtlab.trt.provenance import build_identity

    identity = build_identity(
        onnx_sha256=onnx_digest(onnx),
        options=options,
        trt_version=trt_version,
        gpu_name=gpu_name,
        compute_capability=compute_capability,
    )
    return key_of_identity(identity)


def key_of_identity(identity: Mapping[str, Any]) -> str:
    """The cache key of a :func:`~trtlab.trt.provenance.build_identity` dict."""
    from trtlab.trt.provenance import identity_digest

    return identity_digest(identity, KEY_SCHEMA)


LOCK_SUFFIX = ".lock"


@contextlib.contextmanager
def file_lock(target: str | os.PathLike[str], *, timeout_s: float = 600.0) -> Iterator[Path]:
    """Hold an exclusive lock on ``<target>.lock`` (read-merge-write of a shared cache file).

    Processes and threads that merge into the same file (timing caches) take turns; the lock file
    itself is left in place (deleting it would race with a waiter). POSIX ``flock``; on systems
    without it (Windows) the ``msvcrt`` byte lock. Raises :class:`ConfigError` after
    ``timeout_s`` seconds of waiting, naming the lock file.
    """
    lock_path = Path(os.fspath(target) + LOCK_SUFFIX)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with open(lock_path, "a+b") as handle:
        while True:
            try:
                _flock(handle, lock=True)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        f"could not lock {lock_path} within {timeout_s:g} s: another build is "
                        "writing the same cache file",
                        hint="wait for it to finish, or delete the .lock file if no build runs",
                    ) from None
                time.sleep(0.05)
        try:
            yield lock_path
        finally:
            _flock(handle, lock=False)


def _flock(handle: Any, *, lock: bool) -> None:
    """Take (non-blocking, exclusive) or release the OS lock on ``handle``: flock, or msvcrt."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        mode = msvcrt.LK_NBLCK if lock else msvcrt.LK_UNLCK  # type: ignore[attr-defined,unused-ignore]
        msvcrt.locking(handle.fileno(), mode, 1)  # type: ignore[attr-defined,unused-ignore]
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB if lock else fcntl.LOCK_UN)


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


__all__ = [
    "CacheEntry",
    "EngineCache",
    "canonical_json",
    "engine_cache_key",
    "file_lock",
    "key_of_identity",
    "onnx_digest",
]
