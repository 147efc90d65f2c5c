"""A real Triton server (PyTriton's bundled tritonserver) on 127.0.0.1 serving trtlab runners.

Checks: HTTP and gRPC answers equal the local ONNX Runtime runner (parity report printed); a
bounded load of 4 concurrent clients x 25 requests with latency percentiles; malformed requests
get Triton's error quickly; stopping leaves no process, port or /dev/shm segment behind; only
loopback sockets are opened.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _serverchecks import LOOPBACK_ADDRS, descendants, listening, shm_entries

from trtlab.compare import compare
from trtlab.errors import BackendError
from trtlab.runners.ort import OnnxRuntimeRunner
from trtlab.triton import TritonClient, bounded_load, serve_local

pytest.importorskip(
    "pytriton", reason="needs PyTriton (nvidia-pytriton, numpy<2): run `make triton-tests`"
)
pytestmark = pytest.mark.timeout(300)


def _x(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _parity(local: Any, server: Any, shape: tuple[int, ...]) -> None:
    for batch in (1, 2):
        x = _x((batch, *shape), seed=batch)
        ref = local({"input": x})
        for protocol in ("http", "grpc"):
            with server.client(protocol) as client:
                got = client.infer({"input": x})
            report = compare(
                ref,
                got,
                reference_name=f"local {local.describe()}",
                candidate_name=f"Triton {protocol} batch {batch}",
            )
            print(report)
            assert report.passed, report
            assert got["logits"].shape == (batch, 10 if shape[1] == 32 else 1000)


def test_tiny_http_grpc_parity(tiny_server: Any, tiny_onnx: Path) -> None:
    print(tiny_server.describe())
    _parity(OnnxRuntimeRunner(tiny_onnx), tiny_server, (3, 32, 32))


def test_bounded_concurrent_load(tiny_server: Any) -> None:
    feed = {"input": _x((1, 3, 32, 32))}
    for protocol in ("http", "grpc"):
        report = bounded_load(
            lambda p=protocol: tiny_server.client(p), feed, clients=4, requests_per_client=25
        )
        print(f"{protocol}: {report.summary()}")
        assert report.errors == 0 and len(report.latencies_ms) == 100
        assert report.percentile(50) <= report.percentile(99)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_malformed_requests_get_tritons_error(tiny_server: Any, protocol: str) -> None:
    x = _x((1, 3, 32, 32))
    with tiny_server.client(protocol) as client:
        with pytest.raises(BackendError, match=r"unexpected shape for input 'input'"):
            client.infer({"input": x[:, :2]})
        with pytest.raises(BackendError, match=r"FP64"):
            client.infer({"input": x.astype(np.float64)})
        with pytest.raises(BackendError, match=r"(unexpected|got 2) inputs?.*'nope'"):
            client.infer({"input": x, "nope": x})
        assert client.infer({"input": x})["logits"].shape == (1, 10)  # still serving
    url = tiny_server.http_url if protocol == "http" else tiny_server.grpc_url
    with TritonClient(url, "no_such_model", protocol=protocol, timeout_s=5) as client:
        assert not client.ready()
        with pytest.raises(BackendError, match="no_such_model"):
            client.infer({"input": x})


def _our_listeners(pids: set[int]) -> set[tuple[str, int]]:
    """Listening sockets owned by ``pids`` (matched by socket inode)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    out: set[tuple[str, int]] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:
                addr, port = parts[1].split(":")
                out.add((addr, int(port, 16)))
    return out


def _refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_resnet50_parity_and_clean_stop(resnet50_onnx: Path) -> None:
    local = OnnxRuntimeRunner(resnet50_onnx)
    shm_before = shm_entries()
    kids_before = descendants()
    server = serve_local(local, name="resnet50", max_batch_size=2, timeout_s=60).start()
    try:
        print(server.describe())
        kids = descendants() - kids_before
        assert kids, "PyTriton should run tritonserver as a child process"
        ours = _our_listeners(kids | {os.getpid()})
        print("listening:", sorted(ours))
        assert {server.http_port, server.grpc_port} <= {port for _, port in ours}
        assert all(addr in LOOPBACK_ADDRS for addr, _ in ours), f"non-loopback listener: {ours}"
        shm_during = shm_entries() - shm_before
        print("new /dev/shm entries while serving:", sorted(shm_during))
        _parity(local, server, (3, 224, 224))
    finally:
        server.stop()
    alive = [p for p in kids if p in descendants()]
    assert not alive, f"processes left after stop: {alive}"
    assert _refused(server.http_port) and _refused(server.grpc_port)
    left = shm_during & shm_entries()
    assert not left, f"/dev/shm segments left after stop: {sorted(left)}"
    assert not {port for _, port in listening()} & {server.http_port, server.grpc_port}


def test_perf_analyzer_against_the_server(tiny_server: Any) -> None:
    exe = shutil.which("perf_analyzer")
    if exe is None:
        libc = "-".join(platform.libc_ver())
        pytest.skip(
            "perf_analyzer is not installed: PyPI's perf-analyzer wheels are "
            f"manylinux_2_38 (glibc >= 2.38) and this machine has {libc}; use the Triton SDK "
            "container (nvcr.io/nvidia/tritonserver:<release>-py3-sdk) instead"
        )
    cmd = [
        exe, "-m", "tiny", "-u", tiny_server.grpc_url, "-i", "grpc", "-b", "1",
        "--concurrency-range", "1:2", "--measurement-mode", "count_windows",
        "--measurement-request-count", "20", "--percentile=95",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    print(done.stdout[-3000:])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Concurrency: 2" in done.stdout
