"""Process, port and /dev/shm checks for the real-server tests (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path

LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
#: Loopback as /proc/net/tcp{,6} write it: 127.0.0.1, ::ffff:127.0.0.1 (gRPC's v4-mapped), ::1.
LOOPBACK_ADDRS = frozenset(
    {LOOPBACK_HEX, "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}
)


def listening() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket on this machine (IPv4 and IPv6)."""
    out: set[tuple[str, int]] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] != "0A":  # LISTEN
                continue
            addr, port = parts[1].split(":")
            out.add((addr, int(port, 16)))
    return out


def descendants(pid: int | None = None) -> set[int]:
    """Pids of every live descendant of ``pid`` (default: this process)."""
    root = pid or os.getpid()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":  # zombies are gone already (exited, awaiting reap)
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        children = {p for p, pp in parents.items() if pp in frontier and p not in found}
        found |= children
        frontier = children
    return found


def shm_entries() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()
