"""``with obj:`` for objects that own resources (buffers, streams, engines, sessions).

One mixin instead of the same ``__enter__``/``__exit__`` pair in every class: subclasses implement
:meth:`close` (idempotent) and get the context-manager protocol for free.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="Closeable")


class Closeable:
    """Mixin: ``with obj:`` returns ``obj`` and calls ``obj.close()`` on the way out.

    Classes whose way out is more than ``close()`` (a stream syncs first, a graph capture ends or
    aborts) override :meth:`_leave` instead of writing their own ``__exit__``.
    """

    def close(self) -> None:
        raise NotImplementedError

    def _leave(self, failed: bool) -> None:
        """What leaving the ``with`` block does; ``failed`` is True when the block raised."""
        self.close()

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave(exc_type is not None)
