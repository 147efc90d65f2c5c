"""Resource limits checked before allocating: does one batch of inputs fit in memory?

``--batch 100000000`` would otherwise try to allocate terabytes and die in the allocator (or
the OOM killer) with no word about which number was wrong. :func:`check_batch_memory` estimates
the input bytes from the tensor specs and refuses with the estimate, the limit and what fits.
The CLI validators (:mod:`trtlab.cli`) and the library (quickstart, bench) both ask here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from trtlab.errors import InputError

if TYPE_CHECKING:
    from trtlab.tensors import TensorSpec

#: Share of the available memory one batch of inputs may take (the rest: model, outputs, copies).
BATCH_MEMORY_FRACTION = 0.5


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1024:.1f} KiB"


def batch_input_bytes(specs: Sequence[TensorSpec], batch: int) -> int:
    """Bytes one batch of ``specs`` inputs takes: dim 0 is ``batch``, other dynamic dims count 1."""
    total = 0
    for spec in specs:
        count = 1
        for axis, dim in enumerate(spec.shape):
            if axis == 0:
                count *= batch
            elif isinstance(dim, int) and dim > 0:
                count *= dim
        total += count * int(spec.dtype.itemsize)
    return total


def check_batch_memory(
    specs: Sequence[TensorSpec], batches: Sequence[int], *, limit: int | None = None
) -> None:
    """Refuse a batch whose inputs alone would not fit, *before* anything is allocated.

    ``limit`` defaults to :data:`BATCH_MEMORY_FRACTION` of :func:`available_memory`. Raises
    :class:`~trtlab.errors.InputError` with the estimate, the limit and the largest batch that fits.
    """
    if limit is None:
        free = available_memory()
        if free is None:
            return
        limit = int(free * BATCH_MEMORY_FRACTION)
    per_sample = batch_input_bytes(specs, 1)
    for batch in batches:
        need = batch_input_bytes(specs, batch)
        if need > limit:
            fits = max(limit // per_sample, 0) if per_sample else 0
            shapes = ", ".join(f"{s.name} {s.shape_str()} {s.dtype}" for s in specs)
            raise InputError(
                f"batch {batch} needs about {_gib(need)} for its inputs alone ({shapes}), more "
                f"than the {_gib(limit)} this machine can spare "
                f"({BATCH_MEMORY_FRACTION:.0%} of the memory available now)",
                hint=f"use a batch of at most {fits} here"
                if fits
                else "free memory or use a machine with more RAM",
            )


__all__ = ["BATCH_MEMORY_FRACTION", "available_memory", "batch_input_bytes", "check_batch_memory"]
