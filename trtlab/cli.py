"""The ``trtlab`` command: ``doctor``, ``quickstart``, ``export``, ``bench`` (+ TensorRT ``build``).

Subcommands are registered in :data:`COMMANDS`; a module listed in :data:`PLUGIN_MODULES` may add
more by calling :func:`register` when imported (the TensorRT layer adds ``build`` that way), so
this file does not import TensorRT code. User errors (any ``TrtlabError``) print ``error: ...`` and
exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trtlab import __version__
from trtlab._lazy import has_module
from trtlab.errors import TrtlabError

#: Exit status for user errors (bad arguments, missing files, missing backends).
EXIT_USAGE = 2


@dataclass(frozen=True)
class Command:
    """One subcommand: how to declare its arguments and how to run it (returns an exit status)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}

#: Modules imported (when present) before parsing; each may call :func:`register`.
PLUGIN_MODULES: tuple[str, ...] = ("trtlab.trt.cli",)


def register(command: Command) -> Command:
    """Add or replace a subcommand (extension point for ``build`` and friends)."""
    COMMANDS[command.name] = command
    return command


# -- doctor ---------------------------------------------------------------------------------------


def _doctor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _doctor(args: argparse.Namespace) -> int:
    from trtlab.doctor import doctor

    report = doctor()
    print(report.to_json() if args.json else str(report))
    return 0 if report.cpu_path_ok else 1


# -- quickstart -----------------------------------------------------------------------------------


def _quickstart_args(p: argparse.ArgumentParser) -> None:
    from trtlab.quickstart import PRECISIONS

    p.add_argument("--images", nargs="+", metavar="IMAGE", help="image files (default: demo set)")
    p.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "onnxruntime", "tensorrt"),
        help="runtime for the exported model (auto: TensorRT when available, else ONNX Runtime)",
    )
    p.add_argument(
        "--precision",
        default=None,
        choices=PRECISIONS,
        help="default: fp16 on TensorRT, fp32 on ONNX Runtime",
    )
    p.add_argument("--iterations", type=int, default=None, help="timed runs per backend")
    p.add_argument("--warmup", type=int, default=None, help="untimed runs before timing")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for both backends")
    p.add_argument(
        "--weights",
        default="default",
        help="'default' (pretrained when obtainable, else random with a warning) or 'random'",
    )
    p.add_argument(
        "--json", action="store_true", help="print the result as JSON (progress goes to stderr)"
    )


def _quickstart(args: argparse.Namespace) -> int:
    from trtlab.quickstart import run_quickstart

    result = run_quickstart(
        images=args.images,
        backend=args.backend,
        precision=args.precision,
        iterations=args.iterations,
        warmup=args.warmup,
        threads=args.threads,
        weights=args.weights,
        out=(lambda line: print(line, file=sys.stderr)) if args.json else print,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    return 0 if result.parity_ok else 1


# -- export ---------------------------------------------------------------------------------------


def _export_args(p: argparse.ArgumentParser) -> None:
    from trtlab import models

    p.add_argument(
        "model",
        choices=[*models.MODEL_SPECS, *models.TEST_MODEL_SPECS],
        help="which model to export (tiny_* are small random test models)",
    )
    p.add_argument(
        "-o", "--output", metavar="PATH", help="where to write the .onnx (default: cache)"
    )
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: trtlab's choice)")
    p.add_argument("--weights", default="default", help="'default' or 'random'")


def _export(args: argparse.Namespace) -> int:
    from trtlab import export

    weights = None if str(args.weights).lower() in ("random", "none") else args.weights
    path = export.export_model(args.model, weights=weights, path=args.output, opset=args.opset)
    if path.cached:
        print(
            f"{args.model}: cache hit, {path} (exported earlier; --output PATH writes a new file)"
        )
    else:
        print(f"exported {args.model} (weights {path.weights}) in {path.seconds:.1f} s -> {path}")
    print(export.check_onnx(path))
    return 0


# -- bench ----------------------------------------------------------------------------------------


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a model name (resnet50, ...) or an .onnx / engine file")
    p.add_argument(
        "--backend", default="auto", choices=("auto", "torch", "onnxruntime", "tensorrt")
    )
    p.add_argument("--batch", type=int, nargs="+", default=[1], help="batch size(s) to time")
    p.add_argument("--iterations", type=int, default=None)
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--min-time", type=float, default=None, dest="min_time", help="seconds per size")
    p.add_argument("--json", action="store_true", help="print results as JSON")


def _bench(args: argparse.Namespace) -> int:
    from trtlab.bench import sweep
    from trtlab.runners import runner

    r = runner(args.source, backend=args.backend)
    print(f"benchmarking {args.source}: {r.describe()}", file=sys.stderr if args.json else None)
    results = sweep(
        r,
        batches=args.batch,
        warmup=args.warmup,
        iterations=args.iterations,
        min_time_s=args.min_time,
        callback=None if args.json else print,
    )
    if args.json:
        print(json.dumps([res.to_dict() for res in results], indent=2))
    return 0


register(Command("doctor", "check what is installed and what runs where", _doctor_args, _doctor))
register(
    Command(
        "quickstart",
        "the TensorRT quick-start in one command: ResNet-50 -> ONNX -> best backend",
        _quickstart_args,
        _quickstart,
    )
)
register(Command("export", "export a model to ONNX and check it", _export_args, _export))
register(Command("bench", "time a model on a backend", _bench_args, _bench))


# -- entry point ----------------------------------------------------------------------------------


def _load_plugins() -> None:
    for module in PLUGIN_MODULES:
        if has_module(module):
            importlib.import_module(module)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="trtlab",
        description="PyTorch -> ONNX -> TensorRT, step by step, checked numerically (CPU too).",
    )
    parser.add_argument("--version", action="version", version=f"trtlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``trtlab`` command; returns the exit status (0 ok, 1 check failed, 2 user error)."""
    with contextlib.suppress(TrtlabError):  # a broken optional plugin must not take the CLI down
        _load_plugins()
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return run(args)
    except TrtlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = [
    "COMMANDS",
    "EXIT_USAGE",
    "PLUGIN_MODULES",
    "Command",
    "build_parser",
    "main",
    "register",
]
