"""``trtlab._closing.Closeable``: one ``with`` protocol for every resource-owning class."""

from __future__ import annotations

from typing import Any

import pytest

from trtlab._closing import Closeable


class _Log(Closeable):
    def __init__(self) -> None:
        self.events: list[str] = []

    def close(self) -> None:
        self.events.append("close")


class _Hooked(_Log):
    def _leave(self, failed: bool) -> None:
        self.events.append(f"leave failed={failed}")


def test_with_returns_the_object_and_closes_it_on_success_and_on_error() -> None:
    obj = _Log()
    with obj as got:
        assert got is obj
    assert obj.events == ["close"]
    with pytest.raises(RuntimeError), obj:
        raise RuntimeError("boom")
    assert obj.events == ["close", "close"]


def test_leave_hook_replaces_close_and_is_told_whether_the_block_raised() -> None:
    obj = _Hooked()
    with obj:
        pass
    with pytest.raises(ValueError), obj:
        raise ValueError("x")
    assert obj.events == ["leave failed=False", "leave failed=True"]


def test_local_server_with_block_stops_the_server() -> None:
    from trtlab.triton import LocalServer

    stopped: list[bool] = []

    class _FakeTriton:
        def stop(self) -> None:
            stopped.append(True)

    server: Any = LocalServer.__new__(LocalServer)  # skip __init__: no PyTriton needed
    server._triton = _FakeTriton()
    with server as got:  # already started: __enter__ does not start it again
        assert got is server
    assert stopped == [True] and server._triton is None
