"""``trtlab build``: registered with :mod:`trtlab.cli` (which imports this module as a plugin).

The arguments and the command live in :mod:`trtlab.trt.trtexec` (trtexec-compatible flag names);
this module only registers them, so ``trtlab.cli`` never imports TensorRT code itself.
"""

from __future__ import annotations

import argparse

from trtlab.cli import Command, register


def _configure(parser: argparse.ArgumentParser) -> None:
    from trtlab.trt.trtexec import add_build_arguments

    add_build_arguments(parser)


def _run(args: argparse.Namespace) -> int:
    from trtlab.trt.trtexec import run_build

    return run_build(args)


BUILD = register(
    Command(
        name="build",
        help="build a TensorRT engine from ONNX (trtexec-style flags; trtexec or Python API)",
        configure=_configure,
        run=_run,
    )
)
