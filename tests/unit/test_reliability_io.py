"""Reliability, files: atomic writes survive SIGKILL, stale temps are cleaned (only trtlab's),
destinations are checked before work starts, unusable input files say which case they are.

Each test names the failure class of issue 9 it closes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trtlab import _io
from trtlab.errors import DestinationError, FileFormatError

REPO = Path(__file__).resolve().parents[2]
OLD = b"OLD CONTENT, must survive"


def _trtlab_temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if "trtlab-tmp" in p.name)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp_name(target: str, *, pid: int, host: str | None = None, suffix: str = ".tmp") -> str:
    host = host or _io._host_tag()
    return f".{target}.trtlab-tmp-{host}-{pid}-abc123{suffix}"


# -- interrupted writes ------------------------------------------------------------------------

_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time, pathlib
    import onnx, torch
    from trtlab import export
    from trtlab.models import tiny_classifier

    flag = pathlib.Path(sys.argv[2])

    def half_then_hang(proto, f, *args, **kwargs):  # the writer stalls mid-file
        data = proto.SerializeToString()
        with open(f, "wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            flag.write_text("half written")
            time.sleep(600)

    onnx.save_model = half_then_hang
    export.export_onnx(
        tiny_classifier(), sys.argv[1], torch.randn(1, 3, 32, 32), exporter="legacy"
    )
    """
)


def test_sigkill_mid_write_leaves_destination_intact_and_next_run_cleans(tmp_path: Path) -> None:
    """Class: partial temp left after an export is killed; a later write removes only ours."""
    import onnx
    import torch

    from trtlab.export import export_onnx
    from trtlab.models import tiny_classifier

    target = tmp_path / "m.onnx"
    target.write_bytes(OLD)
    flag = tmp_path / "flag"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(target), str(flag)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not flag.exists():
            if proc.poll() is not None:
                pytest.fail(f"writer exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("writer never reached the half-written state")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD  # the destination is intact
    left = _trtlab_temps(tmp_path)
    assert len(left) == 1 and left[0].stat().st_size > 0  # the killed write's partial temp
    assert _io.is_stale_temp(left[0])
    # files trtlab did not create, or whose writer is alive, must survive the cleanup
    foreign = [tmp_path / ".m.onnx.x1y2z3.tmp", tmp_path / "notes.tmp", tmp_path / ".m.onnx.data"]
    for p in foreign:
        p.write_bytes(b"not trtlab's")
    live = tmp_path / _temp_name("m.onnx", pid=os.getppid())
    live.write_bytes(b"a live writer's temp")

    export_onnx(tiny_classifier(), target, torch.randn(1, 3, 32, 32), exporter="legacy")
    onnx.checker.check_model(str(target))  # the next run wrote a complete file
    assert not left[0].exists()
    assert _trtlab_temps(tmp_path) == [live]
    assert all(p.read_bytes() == b"not trtlab's" for p in foreign)


def test_failed_write_inside_atomic_path_removes_its_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    target.write_bytes(OLD)
    with pytest.raises(RuntimeError, match="disk full"), _io.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == OLD and _trtlab_temps(tmp_path) == []


def test_temp_names_carry_trtlab_stamp_host_and_pid(tmp_path: Path) -> None:
    seen: list[str] = []
    with _io.atomic_path(tmp_path / "e.plan") as tmp:
        seen.append(tmp.name)
        tmp.write_bytes(b"x")
    assert seen[0].startswith(f".e.plan.trtlab-tmp-{_io._host_tag()}-{os.getpid()}-")
    assert _io._TEMP_RE.match(seen[0])


# -- the staleness rule ------------------------------------------------------------------------


def test_stale_rule_dead_pid_old_foreign_host_and_own_pid(tmp_path: Path) -> None:
    dead = tmp_path / _temp_name("a.onnx", pid=_dead_pid())
    own = tmp_path / _temp_name("a.onnx", pid=os.getpid())
    other_host_fresh = tmp_path / _temp_name("a.onnx", pid=1, host="0badf00d")
    other_host_old = tmp_path / _temp_name("b.onnx", pid=1, host="0badf00d")
    live_dir = tmp_path / _temp_name("c.onnx", pid=os.getppid(), suffix=".tmpd")
    dead_dir = tmp_path / _temp_name("c.onnx", pid=_dead_pid(), suffix=".tmpd")
    for p in (dead, own, other_host_fresh, other_host_old):
        p.write_bytes(b"t")
    for d in (live_dir, dead_dir):
        d.mkdir()
        (d / "c.onnx").write_bytes(b"t")
    old = time.time() - _io.STALE_AFTER_S - 60
    os.utime(other_host_old, (old, old))
    removed = set(_io.clean_stale_temps(tmp_path))
    assert removed == {dead, other_host_old, dead_dir}
    assert own.exists() and other_host_fresh.exists() and live_dir.is_dir()


_NAME_CHARS = st.characters(codec="ascii", categories=("L", "N"), include_characters=".-_ ~#")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(st.text(_NAME_CHARS, min_size=1, max_size=40), min_size=1, max_size=6))
def test_cleanup_never_touches_files_outside_trtlabs_pattern(
    tmp_path_factory: pytest.TempPathFactory, names: list[str]
) -> None:
    """Property: whatever the names, a file that does not match trtlab's pattern survives."""
    folder = tmp_path_factory.mktemp("foreign")
    made = []
    old = time.time() - 10 * _io.STALE_AFTER_S
    for name in set(names):
        if name in (".", "..") or _io._TEMP_RE.match(name):
            continue
        p = folder / name
        p.write_bytes(b"user data")
        os.utime(p, (old, old))  # ancient: only the name may protect it
        made.append(p)
    assert _io.clean_stale_temps(folder) == []
    assert all(p.read_bytes() == b"user data" for p in made)


# -- destinations, checked before the work ----------------------------------------------------


def test_destination_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DestinationError, match="is a folder, expected a file path"):
        _io.check_destination(tmp_path, what="ONNX file")
    with pytest.raises(DestinationError, match="is a folder"):
        _io.atomic_write_bytes(tmp_path, b"x")


def test_destination_parent_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "notadir"
    blocker.write_text("x")
    with pytest.raises(DestinationError, match=r"notadir is a file, not a folder"):
        _io.check_destination(blocker / "sub" / "m.onnx")
    with pytest.raises(DestinationError, match="is a file, not a folder"):
        _io.atomic_write_bytes(blocker / "m.onnx", b"x")
    assert blocker.read_text() == "x"


def test_destination_unwritable_folder(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes anywhere chmod forbids: use a read-only filesystem
        folder = Path("/sys")
        probe = folder / "trtlab-probe.onnx"
        try:
            os.close(os.open(probe, os.O_CREAT | os.O_WRONLY))
        except OSError:
            pass
        else:  # pragma: no cover - a writable /sys
            probe.unlink()
            pytest.skip("no read-only folder available to root here")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
    try:
        with pytest.raises(DestinationError, match="is not writable") as info:
            _io.check_destination(folder / "m.onnx", what="ONNX file")
        assert "nothing was computed yet" in str(info.value)
    finally:
        if folder != Path("/sys"):
            folder.chmod(0o700)


def test_check_destination_leaves_nothing_behind(tmp_path: Path) -> None:
    assert _io.check_destination(tmp_path / "new" / "m.onnx") == tmp_path / "new" / "m.onnx"
    assert list(tmp_path.iterdir()) == []  # no probe left, no folder created


# -- input files: each unusable case says which it is -------------------------------------------


def test_require_file_cases(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="does not exist"):
        _io.require_file(tmp_path / "missing.onnx", what="ONNX file")
    with pytest.raises(FileFormatError, match="is a folder, expected a file"):
        _io.require_file(tmp_path, what="ONNX file")
    empty = tmp_path / "empty.onnx"
    empty.touch()
    with pytest.raises(FileFormatError, match=r"empty\.onnx is empty \(0 bytes\)"):
        _io.require_file(empty, what="ONNX file")
    good = tmp_path / "ok.onnx"
    good.write_bytes(b"x")
    assert _io.require_file(good) == good


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    blob = os.urandom(3 << 20) + b"tail"  # several 1 MiB chunks
    p = tmp_path / "b.bin"
    p.write_bytes(blob)
    assert _io.file_sha256(p) == hashlib.sha256(blob).hexdigest()


# -- configuration switches ------------------------------------------------------------------


def test_cache_dir_that_is_a_file_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trtlab import config
    from trtlab.errors import ConfigError

    blocker = tmp_path / "cache"
    blocker.write_text("x")
    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(blocker))
    with pytest.raises(ConfigError, match="cannot be created") as info:
        config.cache_dir()
    assert "TRTLAB_CACHE_DIR" in str(info.value)


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_boolean_switches_refuse_unknown_values(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    from trtlab import config
    from trtlab.errors import ConfigError

    monkeypatch.setenv("TRTLAB_QUICK", raw)
    with pytest.raises(ConfigError, match=f"TRTLAB_QUICK={raw!r} is not a boolean switch"):
        config.quick()
