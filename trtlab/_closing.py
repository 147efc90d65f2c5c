"""``with obj:`` for objects that own resources (buffers, streams, engines, sessions).

One mixin instead of the same ``__enter__``/``__exit__`` pair in every class: subclasses implement
:meth:`close` (idempotent) and get the context-manager protocol for free.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="Closeable")


class Closeable:
    """Mixin: ``with obj:`` returns ``obj`` and calls ``obj.close()`` on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
