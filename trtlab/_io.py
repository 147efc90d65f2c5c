"""Atomic file writes and checked file paths: an interrupted run leaves the old file or the new one.

Every temporary file trtlab writes is named ``.<target>.trtlab-tmp-<host>-<pid>-<random><suffix>``
beside its target, so a write killed half-way (SIGKILL, power loss) leaves a temp that only
trtlab's own pattern matches. The next write into that folder removes such leftovers when they
are *stale*: written on this host by a process that no longer exists, or older than
:data:`STALE_AFTER_S` (another host, or a reused pid). Nothing else is ever deleted.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from trtlab.errors import DestinationError, FileFormatError

#: Age (seconds) after which a trtlab temp of another host or of a live pid counts as stale.
STALE_AFTER_S = 24 * 3600.0
_STAMP = "trtlab-tmp"
_TEMP_RE = re.compile(
    rf"^\.(?P<target>.+)\.{_STAMP}-(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)-[A-Za-z0-9_]+(\.[A-Za-z0-9]+)?$"
)


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def temp_prefix(target: str | os.PathLike[str]) -> str:
    """The name prefix of trtlab temps for ``target`` (pass it to ``tempfile.mkstemp``)."""
    return f".{Path(target).name}.{_STAMP}-{_host_tag()}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def is_stale_temp(path: Path, *, now: float | None = None) -> bool:
    """True when ``path`` is a trtlab temp whose writer is gone (see the module docstring)."""
    m = _TEMP_RE.match(path.name)
    if m is None:
        return False
    pid = int(m.group("pid"))
    if pid == os.getpid():
        return False  # ours: an atomic write in progress in this process
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_AFTER_S:
        return True
    return m.group("host") == _host_tag() and not _pid_alive(pid)


def clean_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove stale trtlab temps (files or temp folders) in ``folder``; return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(".") or _STAMP not in entry.name:
            continue
        path = Path(entry.path)
        if not is_stale_temp(path):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue  # another process cleaned it, or it is not ours to remove
        removed.append(path)
    return removed


def check_destination(target: str | os.PathLike[str], *, what: str = "file") -> Path:
    """Check that ``target`` can be written, *before* an expensive step produces its content.

    Raises :class:`~trtlab.errors.DestinationError` when ``target`` is a folder, when a parent
    on its path is a file, or when the folder it would go into cannot be written.
    """
    path = Path(target).expanduser()
    if path.is_dir():
        raise DestinationError(
            f"cannot write the {what} to {path}: it is a folder, expected a file path",
            hint=f"pass a file path inside it, e.g. {path / ('model' + (path.suffix or '.onnx'))}",
        )
    parent = path.parent
    while not parent.exists():
        if parent.is_symlink():  # a dangling link: mkdir would fail on it
            break
        if parent == parent.parent:
            break
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise DestinationError(
            f"cannot write the {what} to {path}: {parent} is a file, not a folder",
            hint=f"choose another path, or move {parent} away",
        )
    probe_dir = parent if parent.is_dir() else path.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=probe_dir)
    except OSError as exc:
        raise DestinationError(
            f"cannot write the {what} to {path}: the folder {probe_dir} is not writable "
            f"({errno.errorcode.get(exc.errno or 0, type(exc).__name__)}: {exc.strerror or exc})",
            hint="choose a writable folder (or fix its permissions); nothing was computed yet",
        ) from exc
    os.close(fd)
    os.unlink(probe)
    return path


def require_file(
    path: str | os.PathLike[str], *, what: str = "file", hint: str | None = None
) -> Path:
    """Return ``path`` if it is a non-empty file; else FileFormatError saying which case it is."""
    p = Path(path).expanduser()
    fix = hint or "check the path"
    if p.is_dir():
        raise FileFormatError(f"{what} {p} is a folder, expected a file", hint=fix)
    if not p.exists():
        raise FileFormatError(f"{what} {p} does not exist", hint=fix)
    if not p.is_file():
        raise FileFormatError(f"{what} {p} is not a regular file", hint=fix)
    if p.stat().st_size == 0:
        raise FileFormatError(
            f"{what} {p} is empty (0 bytes): an interrupted write or a failed download",
            hint=fix,
        )
    return p


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    The temp file lives in the same directory so the final ``os.replace`` is atomic. On any
    exception the temp file is removed and ``target`` is untouched. Stale temps of earlier,
    killed writes in that directory are removed first.
    """
    target = Path(target)
    if target.is_dir():
        raise DestinationError(
            f"cannot write to {target}: it is a folder, expected a file path",
            hint="pass a file path",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise DestinationError(
            f"cannot write to {target}: a parent on its path is a file, not a folder",
            hint="choose another path",
        ) from exc
    clean_stale_temps(target.parent)
    fd, tmp_name = tempfile.mkstemp(
        prefix=temp_prefix(target),
        suffix=suffix if suffix is not None else ".tmp",
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; give the final file the permissions a plain open() would (umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a private temp folder beside ``target`` (trtlab's temp pattern); removed afterwards.

    For writers that produce several files (ONNX + external data): write them into the folder,
    then ``os.replace`` each into place before the block ends.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target.parent)
    tmpdir = Path(tempfile.mkdtemp(prefix=temp_prefix(target), suffix=".tmpd", dir=target.parent))
    try:
        yield tmpdir
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the final path."""
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically and return the final path."""
    return atomic_write_bytes(target, text.encode("utf-8"))
