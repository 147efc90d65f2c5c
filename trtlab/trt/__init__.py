"""TensorRT layer of trtlab: build engines (``build``), cache them (``cache``), run (``runtime``).

Importing this package imports no TensorRT; each submodule imports it inside the functions that
need it. ``_compat`` says which TensorRT is installed and what differs between versions 10 and 11.
"""

from __future__ import annotations
