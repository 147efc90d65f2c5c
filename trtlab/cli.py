"""The ``trtlab`` command: doctor, quickstart, export, build, bench, prefetch, lab.

Every subcommand's argparse code lives here, and so do the argument validators (the ``type=``
functions below), so a number such as ``--min-time nan`` or ``--batch 0`` is refused the same way
everywhere, before anything heavy runs. Handlers import their libraries lazily (``trtlab build``
imports the TensorRT layer only when it runs), so ``trtlab --help`` stays fast on any machine.

User errors (any ``TrtlabError``) print one ``error: ...`` paragraph and exit with status 2,
without a traceback; unexpected exceptions keep their traceback (they are bugs to report).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trtlab import __version__
from trtlab._limits import (
    BATCH_MEMORY_FRACTION,
    available_memory,
    batch_input_bytes,
    check_batch_memory,
)
from trtlab.errors import ConfigError, DependencyError, InputError, TrtlabError

#: Exit status for user errors (bad arguments, missing files, missing backends).
EXIT_USAGE = 2
#: Largest batch any subcommand accepts before the memory estimate (a typo guard: 1e8 -> refuse).
MAX_BATCH = 65536


# -- argument validators (type= functions: one place for every number the CLI reads) ------------


def _number(text: str, kind: Callable[[str], Any], what: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    """``type=`` for counts that must be >= 1 (iterations, threads)."""
    value: int = _number(text, int, "an integer >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """``type=`` for counts that may be 0 (warm-up runs)."""
    value: int = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def batch_size(text: str) -> int:
    """``type=`` for one batch size 1..:data:`MAX_BATCH` (memory: see ``check_batch_memory``)."""
    value: int = _number(text, int, f"a batch size 1..{MAX_BATCH}")
    if not 1 <= value <= MAX_BATCH:
        raise argparse.ArgumentTypeError(
            f"expected a batch size 1..{MAX_BATCH}, got {value}"
            + (" (a batch holds at least one sample)" if value < 1 else "")
        )
    return value


def batch_list(text: str) -> list[int]:
    """``type=`` for ``1,8,32``: batch sizes separated by commas."""
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected batch sizes like 1,8,32, got {text!r}")
    return [batch_size(p) for p in parts]


def seconds(text: str) -> float:
    """``type=`` for a duration: a finite number of seconds >= 0 (refuses nan, inf, negatives)."""
    value: float = _number(text, float, "a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text!r}")
    return value


def port_number(text: str) -> int:
    """``type=`` for a TCP port 1..65535."""
    value: int = _number(text, int, "a port number 1..65535")
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1..65535, got {value}")
    return value


def optimization_level(text: str) -> int:
    """``type=`` for TensorRT's builder optimization level 0..5."""
    value: int = _number(text, int, "an optimization level 0..5")
    if not 0 <= value <= 5:
        raise argparse.ArgumentTypeError(f"expected an optimization level 0..5, got {value}")
    return value


# -- subcommand table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One subcommand: how to declare its arguments and how to run it (returns an exit status)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# -- doctor ---------------------------------------------------------------------------------------


def _doctor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _doctor(args: argparse.Namespace) -> int:
    from trtlab.doctor import doctor

    report = doctor()
    print(report.to_json() if args.json else str(report))
    return 0 if report.cpu_path_ok else 1


# -- quickstart -----------------------------------------------------------------------------------


def _add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--force",
        "--no-cache",
        dest="force",
        action="store_true",
        help="export again even when the ONNX cache holds the file",
    )


def _quickstart_args(p: argparse.ArgumentParser) -> None:
    from trtlab.trt.precision import PRECISIONS

    p.add_argument("--images", nargs="+", metavar="IMAGE", help="image files (default: demo set)")
    p.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "onnxruntime", "tensorrt"),
        help="runtime for the exported model (auto: TensorRT when usable here, else ONNX Runtime)",
    )
    p.add_argument(
        "--precision",
        default=None,
        choices=PRECISIONS,
        help="default: the backend's (fp16 on TensorRT, fp32 on ONNX Runtime)",
    )
    p.add_argument("--iterations", type=positive_int, default=None, help="timed runs per backend")
    p.add_argument("--warmup", type=non_negative_int, default=None, help="untimed runs first")
    p.add_argument("--threads", type=positive_int, default=None, help="CPU threads for both")
    p.add_argument(
        "--weights",
        default="default",
        help="'default' (pretrained when obtainable, else random with a warning) or 'random'",
    )
    _add_force(p)
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
        force=args.force,
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
    p.add_argument(
        "--opset", type=positive_int, default=None, help="ONNX opset (default: trtlab's choice)"
    )
    p.add_argument("--weights", default="default", help="'default' or 'random'")
    _add_force(p)


def _export(args: argparse.Namespace) -> int:
    from trtlab import export
    from trtlab._io import check_destination

    if args.output is not None:  # before the model is loaded: an export takes minutes
        check_destination(args.output, what="ONNX file")
    weights = None if str(args.weights).lower() in ("random", "none") else args.weights
    path = export.export_model(
        args.model, weights=weights, path=args.output, opset=args.opset, force=args.force
    )
    if path.cached:
        print(f"{args.model}: cache hit, {path} (exported earlier; --force exports again)")
    else:
        print(f"exported {args.model} (weights {path.weights}) in {path.seconds:.1f} s -> {path}")
    print(export.check_onnx(path))
    return 0


# -- build (trtexec-compatible flags) -------------------------------------------------------------
# Flag names follow trtexec (samples/common/sampleOptions.cpp, read at TensorRT release/10.13 and
# v11.1). Flags that older guides use and current trtexec dropped are accepted with a one-line
# note when trtlab can honour their intent, or refused with the replacement when it cannot.

#: legacy flag -> (what trtlab does with it, the note or error text). ``None`` action: refuse.
LEGACY_NOTES: dict[str, str] = {
    "workspace": "--workspace={n} (MiB) was removed in TensorRT 10: read as "
    "--memPoolSize=workspace:{n}M",
    "buildOnly": "--buildOnly was renamed --skipInference; `trtlab build` only builds anyway",
    "explicitBatch": "--explicitBatch has no effect since TensorRT 10 (every network is "
    "explicit-batch): drop it",
    "explicitPrecision": "--explicitPrecision has no effect since TensorRT 10: drop it",
    "minTiming": "--minTiming was removed in TensorRT 10 and is ignored (--avgTiming remains)",
    "nvtxMode": "--nvtxMode was renamed --profilingVerbosity; trtlab builds with "
    "--profilingVerbosity=detailed",
    "best": "--best turns on every precision, INT8 too (without calibration data): trtlab "
    "builds --fp16, the part that needs no calibration",
    "inference": "{flag} is an inference option; `trtlab build` only builds "
    "(trtexec's --skipInference): time the engine with `trtlab bench ENGINE`",
}
#: legacy flag -> (error, fix) for flags whose intent trtlab cannot honour.
LEGACY_ERRORS: dict[str, tuple[str, str]] = {
    "maxBatch": (
        "--maxBatch is implicit-batch mode, removed in TensorRT 10",
        "give the batch range as shapes: --minShapes=input:1x3x224x224 "
        "--optShapes=input:8x3x224x224 --maxShapes=input:16x3x224x224",
    ),
    "batch": (
        "--batch is implicit-batch mode, removed in TensorRT 10",
        "give fixed shapes instead: --shapes=input:8x3x224x224",
    ),
    "int8": (
        "INT8 needs calibration data or Q/DQ nodes; `trtlab build` builds fp32, tf32, fp16, bf16 "
        "(and TensorRT 11 removed --int8)",
        "quantize the ONNX with NVIDIA ModelOpt (explicit Q/DQ) and build that file, or use --fp16",
    ),
    "fp8": (
        "FP8 needs a quantized (Q/DQ) ONNX; TensorRT 11 removed --fp8",
        "quantize with NVIDIA ModelOpt and build that file, or use --fp16",
    ),
    "int4": (
        "INT4 needs a quantized (Q/DQ) ONNX; TensorRT 11 removed --int4",
        "quantize with NVIDIA ModelOpt and build that file, or use --fp16",
    ),
    "calib": (
        "INT8 calibration caches are not supported (TensorRT 11 removed implicit quantization)",
        "quantize the ONNX with NVIDIA ModelOpt (explicit Q/DQ) instead",
    ),
    "loadEngine": (
        "`trtlab build` builds engines; it does not load them",
        "run an engine with `trtlab bench ENGINE`, or trtlab.runner('model.engine')",
    ),
    "uff": ("the UFF parser was removed in TensorRT 10", "export to ONNX and pass --onnx"),
    "deploy": ("the Caffe parser was removed in TensorRT 10", "export to ONNX and pass --onnx"),
    "model": ("the Caffe parser was removed in TensorRT 10", "export to ONNX and pass --onnx"),
}
#: trtexec inference/timing flags: accepted, ignored with :data:`LEGACY_NOTES` ``"inference"``.
INFERENCE_FLAGS = (
    "iterations", "warmUp", "duration", "avgRuns", "useCudaGraph", "noDataTransfers",
    "useSpinWait", "separateProfileRun", "streams", "infStreams", "exportTimes",
)  # fmt: skip


def _build_args(p: argparse.ArgumentParser) -> None:
    from trtlab.trt.precision import PRECISIONS

    p.add_argument("--onnx", required=True, help="ONNX model to build")
    p.add_argument("--saveEngine", dest="save_engine", help="where to write the engine")
    p.add_argument("--minShapes", dest="min_shapes", help="e.g. input:1x3x224x224")
    p.add_argument("--optShapes", dest="opt_shapes", help="e.g. input:8x3x224x224")
    p.add_argument("--maxShapes", dest="max_shapes", help="e.g. input:16x3x224x224")
    p.add_argument("--shapes", dest="shapes", help="fixed shapes: min=opt=max")
    p.add_argument("--memPoolSize", dest="mem_pool", help="workspace:4096M (MiB default)")
    p.add_argument("--fp16", action="store_true", help="FP16 (11.x: converted ONNX)")
    p.add_argument("--bf16", action="store_true", help="BF16 (11.x: converted ONNX)")
    p.add_argument("--noTF32", dest="no_tf32", action="store_true", help="strict FP32")
    p.add_argument("--precision", choices=PRECISIONS, help="trtlab spelling of the above")
    p.add_argument(
        "--stronglyTyped", dest="strongly_typed", action="store_true", help="strongly typed"
    )
    p.add_argument("--timingCacheFile", dest="timing_cache", help="timing cache file")
    p.add_argument(
        "--builderOptimizationLevel",
        dest="optimization_level",
        type=optimization_level,
        help="0..5 (TensorRT's default: 3)",
    )
    p.add_argument("--skipInference", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-cache", dest="no_cache", action="store_true", help="skip the cache")
    p.add_argument(
        "--backend",
        choices=("auto", "trtexec", "python"),
        default="auto",
        help="auto: trtexec when installed, else the Python API",
    )
    p.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print the trtexec command for this TensorRT version and exit",
    )
    p.add_argument(
        "--trt-version",
        dest="trt_version",
        metavar="X.Y",
        help="with --dry-run: the TensorRT version to write the command for (default: installed)",
    )
    p.add_argument(
        "--timeout", type=seconds, default=None, help="stop trtexec after this many seconds"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    legacy = p.add_argument_group("legacy trtexec flags (accepted with a migration note)")
    legacy.add_argument("--workspace", dest="legacy_workspace", type=float, help=argparse.SUPPRESS)
    for name in ("buildOnly", "explicitBatch", "explicitPrecision", "best", *LEGACY_ERRORS):
        if name in ("maxBatch", "batch", "calib", "loadEngine", "uff", "deploy", "model"):
            legacy.add_argument(f"--{name}", dest=f"legacy_{name}", help=argparse.SUPPRESS)
        else:
            legacy.add_argument(
                f"--{name}", dest=f"legacy_{name}", action="store_true", help=argparse.SUPPRESS
            )
    for name in ("minTiming", "nvtxMode", *INFERENCE_FLAGS):
        legacy.add_argument(
            f"--{name}", dest=f"legacy_{name}", nargs="?", const="", help=argparse.SUPPRESS
        )


def build_kwargs_from_namespace(ns: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """``trtlab build`` arguments -> (:func:`~trtlab.trt.build.build_engine` kwargs, notes).

    ``notes`` are the one-line migration hints for legacy flags that were accepted.
    """
    from trtlab.trt.profiles import parse_profile_text, parse_shapes
    from trtlab.trt.trtexec import parse_mem_pool

    notes: list[str] = []
    for name, (error, fix) in LEGACY_ERRORS.items():
        value = getattr(ns, f"legacy_{name}", None)
        if value not in (None, False):
            raise ConfigError(f"`trtlab build --{name}`: {error}", hint=fix)
    for name in ("buildOnly", "explicitBatch", "explicitPrecision", "minTiming", "nvtxMode"):
        if getattr(ns, f"legacy_{name}", None) not in (None, False):
            notes.append(LEGACY_NOTES[name])
    for name in INFERENCE_FLAGS:
        if getattr(ns, f"legacy_{name}", None) is not None:
            notes.append(LEGACY_NOTES["inference"].format(flag=f"--{name}"))

    chosen = [name for name, on in (("fp16", ns.fp16), ("bf16", ns.bf16)) if on]
    if getattr(ns, "legacy_best", False):
        notes.append(LEGACY_NOTES["best"])
        if not chosen:
            chosen = ["fp16"]
    if len(chosen) > 1:
        raise ConfigError(
            "--fp16 and --bf16 were both given; trtlab builds one reduced precision at a time",
            hint="pick one of --fp16 / --bf16",
        )
    if ns.precision and chosen and ns.precision != chosen[0]:
        raise ConfigError(
            f"--precision={ns.precision} contradicts --{chosen[0]}", hint="give only one of them"
        )
    precision = ns.precision or (chosen[0] if chosen else ("fp32" if ns.no_tf32 else "tf32"))
    if ns.no_tf32 and precision == "tf32":
        raise ConfigError("--noTF32 contradicts --precision=tf32", hint="give only one of them")

    workspace = parse_mem_pool(ns.mem_pool)
    legacy_ws = getattr(ns, "legacy_workspace", None)
    if legacy_ws is not None:
        if workspace is not None:
            raise ConfigError(
                "--workspace and --memPoolSize were both given",
                hint="keep --memPoolSize=workspace:NM (--workspace is TensorRT 8's spelling)",
            )
        if not (math.isfinite(legacy_ws) and legacy_ws > 0):
            raise ConfigError(
                f"--workspace expects a size in MiB > 0, got {legacy_ws:g}",
                hint="e.g. --memPoolSize=workspace:4096M",
            )
        workspace = int(legacy_ws * (1 << 20))
        notes.append(LEGACY_NOTES["workspace"].format(n=f"{legacy_ws:g}"))

    words = [
        f"{flag}={value}"
        for flag, value in (
            ("--minShapes", ns.min_shapes),
            ("--optShapes", ns.opt_shapes),
            ("--maxShapes", ns.max_shapes),
        )
        if value
    ]
    profiles: dict[str, Any] = parse_profile_text(" ".join(words)) if words else {}
    fixed = parse_shapes(ns.shapes) if ns.shapes else {}
    for name, shape in fixed.items():
        if name in profiles:
            raise InputError(
                f"input '{name}' is given in --shapes and in --min/opt/maxShapes",
                hint="use --shapes for a fixed size, or the three profile flags",
            )
        profiles[name] = (shape, shape, shape)
    kwargs = {
        "onnx": ns.onnx,
        "engine_path": ns.save_engine,
        "precision": precision,
        "workspace": workspace,
        "profiles": profiles or None,
        "timing_cache": ns.timing_cache,
        "strongly_typed": True if ns.strongly_typed else None,
        "optimization_level": ns.optimization_level,
        "cache": not ns.no_cache,
        "progress": not ns.quiet,
    }
    return kwargs, notes


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trtlab build", allow_abbrev=False)
    _build_args(parser)
    return parser


def parse_build_args(argv: Sequence[str]) -> dict[str, Any]:
    """``trtlab build`` / trtexec-style flags -> :func:`build_engine` keyword arguments (pure)."""
    return build_kwargs_from_namespace(_build_parser().parse_args(list(argv)))[0]


def _precision_notes(precision: str, strongly_typed: bool | None, version: Sequence[int]) -> str:
    """The 11.x note for --fp16/--bf16: what replaced the removed flag."""
    from trtlab.trt._compat import is_strongly_typed_only, version_str

    if precision in ("fp16", "bf16") and is_strongly_typed_only(version):
        return (
            f"TensorRT {version_str(version)} removed --{precision}: trtlab converts the ONNX to "
            f"{precision} and builds it strongly typed (trtexec 11: --onnx=<{precision} copy>)"
        )
    if strongly_typed and is_strongly_typed_only(version):
        return (
            f"--stronglyTyped is a no-op on TensorRT {version_str(version)} (strong typing is its "
            "only mode): drop it"
        )
    return ""


def _build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from trtlab import capabilities
    from trtlab._io import require_file
    from trtlab.trt import trtexec as tx
    from trtlab.trt._compat import parse_version, version_str

    kwargs, notes = build_kwargs_from_namespace(args)
    onnx = require_file(kwargs["onnx"], what="ONNX file", hint="pass --onnx=model.onnx")
    if args.trt_version is not None and not args.dry_run:
        raise ConfigError(
            "--trt-version only applies with --dry-run (a real build uses the installed TensorRT)",
            hint=f"add --dry-run, or drop --trt-version={args.trt_version}",
        )

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr)

    exe = tx.find_trtexec() if args.backend in ("auto", "trtexec") or args.dry_run else None
    if args.dry_run:
        version = (
            parse_version(args.trt_version)
            if args.trt_version is not None
            else capabilities.probe().tensorrt_version
        )
        if version is None:
            raise ConfigError(
                "--dry-run needs the TensorRT version the command is for, and none is installed",
                hint="add --trt-version=10.13 (or 11.4, ...)",
            )
        which = "given" if args.trt_version is not None else "installed"
    else:
        caps = capabilities.probe()
        version = caps.tensorrt_version if caps.tensorrt_full else None  # trtexec's, too
        which = "installed"
    precision_note = (
        ""
        if version is None
        else _precision_notes(kwargs["precision"], kwargs["strongly_typed"], version)
    )
    for note in [*notes, *([precision_note] if precision_note else [])]:
        print(f"note: {note}", file=sys.stderr)

    if args.backend == "trtexec" and exe is None and not args.dry_run:
        raise DependencyError(
            "--backend trtexec asked, but trtexec was not found",
            hint="use --backend python (needs the tensorrt Python package)",
        )
    if args.dry_run or exe is not None:
        if version is None:
            raise DependencyError(
                "trtexec found, but the tensorrt Python package (needed to pick the precision "
                "recipe for this version) is not importable",
                hint="use NVIDIA's TensorRT container, where both are installed; "
                "--dry-run --trt-version=X.Y prints the command without it",
            )
        from trtlab.trt.precision import plan_precision

        plan = plan_precision(kwargs["precision"], version, strongly_typed=kwargs["strongly_typed"])
        converted: Path | None = None
        if not args.dry_run and plan.onnx_transform:
            from trtlab.trt.build import prepare_onnx

            converted = prepare_onnx(onnx, plan)
        argv = tx.trtexec_args(
            onnx,
            kwargs["engine_path"],
            precision=kwargs["precision"],
            profiles=kwargs["profiles"],
            workspace=kwargs["workspace"],
            timing_cache=kwargs["timing_cache"],
            trt_version=version_str(version),
            strongly_typed=kwargs["strongly_typed"],
            optimization_level=kwargs["optimization_level"],
            converted_onnx=converted,
            extra=("--skipInference",),
        )
        command = [str(exe) if exe is not None else "trtexec", *argv]
        if args.dry_run:
            import shlex

            print(f"# trtexec for TensorRT {version_str(version)} ({which}): {plan.describe()}")
            if plan.onnx_transform:
                print(
                    f"# the {plan.onnx_transform} ONNX this names is written by `trtlab build` "
                    "(without --dry-run) or trtlab.trt.build.prepare_onnx"
                )
            print(shlex.join(command))
            return 0
        say(plan.describe())
        say("$ " + " ".join(command))
        result = tx.run_trtexec(
            argv, None if args.quiet else print, trtexec=exe, timeout=args.timeout
        )
        return 0 if result.returncode == 0 else 1
    from trtlab.trt.build import build_engine

    kwargs.pop("onnx")
    build = build_engine(onnx, **kwargs)
    print(build.summary())
    if build.path is not None:
        print(f"engine: {build.path}")
    return 0


# -- bench ----------------------------------------------------------------------------------------
# (block owned by helper "runners-bench")


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a model name (resnet50, tiny_classifier, ...) or an .onnx file")
    p.add_argument(
        "--backends",
        "--backend",
        dest="backends",
        default="auto",
        help="comma-separated, e.g. torch,onnxruntime,tensorrt; the first is the ratio baseline "
        "(auto: torch for a model name, the best ONNX backend for a file)",
    )
    p.add_argument(
        "--batch", type=batch_list, nargs="+", default=[[1]], help="batch sizes, e.g. 1,8,32"
    )
    p.add_argument("--precision", default="fp32", help="comma-separated, e.g. fp32,fp16")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument(
        "--min-iters",
        "--iterations",
        dest="iterations",
        type=positive_int,
        default=None,
        help="timed runs per configuration, at least",
    )
    p.add_argument("--warmup", type=non_negative_int, default=None, help="untimed runs first")
    p.add_argument(
        "--min-time",
        type=seconds,
        default=None,
        dest="min_time",
        help="seconds of timed runs per configuration, at least",
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="write the rows as JSON to PATH (no PATH: print them instead of the table)",
    )


def _bench(args: argparse.Namespace) -> int:
    from trtlab.bench import run_cli

    return run_cli(args)


# -- end of the bench block -----------------------------------------------------------------------


# -- prefetch / lab (workshop tools) --------------------------------------------------------------


def _prefetch_args(p: argparse.ArgumentParser) -> None:
    from trtlab import models

    p.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help=f"models to prepare (default: the notebooks' {', '.join(models.MODEL_SPECS)})",
    )
    p.add_argument(
        "--no-engines", dest="engines", action="store_false", help="skip the TensorRT builds"
    )
    _add_force(p)


def _prefetch(args: argparse.Namespace) -> int:
    from trtlab.workshop import prefetch

    report = prefetch(args.models or None, engines=args.engines, force=args.force, out=print)
    return 0 if report.usable else 1


def _lab_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=port_number, default=8888, help="port on 127.0.0.1")
    p.add_argument("--notebooks", metavar="DIR", help="folder to open (default: notebooks/)")
    p.add_argument("--token", help="access token (default: $JUPYTER_TOKEN or a random one)")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="print the command")


def _lab(args: argparse.Namespace) -> int:
    from trtlab.workshop import lab_command, run_lab

    command = lab_command(port=args.port, notebooks=args.notebooks, token=args.token)
    if args.dry_run:
        print(command.shell())
        print(f"# then open {command.url}")
        return 0
    return run_lab(command, out=print)


COMMANDS: tuple[Command, ...] = (
    Command("doctor", "check what is installed and what runs where", _doctor_args, _doctor),
    Command(
        "quickstart",
        "the TensorRT quick-start in one command: ResNet-50 -> ONNX -> best backend",
        _quickstart_args,
        _quickstart,
    ),
    Command("export", "export a model to ONNX and check it", _export_args, _export),
    Command(
        "build",
        "build a TensorRT engine from ONNX (trtexec-style flags; trtexec or Python API)",
        _build_args,
        _build,
    ),
    Command(
        "bench",
        "time backends, precisions and batch sizes side by side, interleaved",
        _bench_args,
        _bench,
    ),
    Command(
        "prefetch",
        "download weights, export ONNX and build engines ahead of a workshop",
        _prefetch_args,
        _prefetch,
    ),
    Command("lab", "open the notebooks in JupyterLab on 127.0.0.1", _lab_args, _lab),
)


# -- entry point ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="trtlab",
        description="PyTorch -> ONNX -> TensorRT, step by step, checked numerically (CPU too).",
    )
    parser.add_argument("--version", action="version", version=f"trtlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, allow_abbrev=False)
        cmd.configure(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``trtlab`` command; returns the exit status (0 ok, 1 check failed, 2 user error)."""
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
    "BATCH_MEMORY_FRACTION",
    "COMMANDS",
    "EXIT_USAGE",
    "INFERENCE_FLAGS",
    "LEGACY_ERRORS",
    "LEGACY_NOTES",
    "MAX_BATCH",
    "Command",
    "available_memory",
    "batch_input_bytes",
    "batch_list",
    "batch_size",
    "build_kwargs_from_namespace",
    "build_parser",
    "check_batch_memory",
    "main",
    "non_negative_int",
    "optimization_level",
    "parse_build_args",
    "port_number",
    "positive_int",
    "seconds",
]
