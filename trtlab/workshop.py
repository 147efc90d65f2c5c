"""Workshop tools: ``trtlab prefetch`` (no network or build time in class) and ``trtlab lab``.

:func:`prefetch` downloads the notebooks' pretrained weights into torch's cache, exports their
ONNX files into trtlab's cache and, where TensorRT can build engines here, builds the engines the
notebooks build (same precision and profiles, so the notebook's build is an engine-cache hit).
Offline it says what it could not fetch; the report is *usable* when at least one ONNX is ready.

:func:`lab_command` writes the JupyterLab command: bound to 127.0.0.1, a token (passed through
the ``JUPYTER_TOKEN`` environment variable, so it does not show in ``ps``), no port hopping (the
printed URL stays right), opened on ``notebooks/``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtlab._lazy import has_module
from trtlab.errors import DependencyError, InputError, TrtlabError, WeightsError

Shape = tuple[int, ...]

#: The engines notebooks 01 and 02 build (keep in step with their BATCH_PROFILE / PROFILE cells).
NOTEBOOK_ENGINES: dict[str, dict[str, tuple[Shape, Shape, Shape]]] = {
    "resnet50": {"input": ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))},
    "fcn_resnet101": {"input": ((1, 3, 128, 128), (1, 3, 520, 520), (1, 3, 1024, 1024))},
}


@dataclass(frozen=True)
class PrefetchStep:
    """One thing prefetch tried: ``status`` is ok, cached, random, skipped or failed."""

    model: str
    step: str
    status: str
    detail: str = ""
    seconds: float = 0.0


@dataclass
class PrefetchReport:
    """What :func:`prefetch` prepared and what it could not."""

    steps: list[PrefetchStep] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """True when at least one model's ONNX is ready (pretrained or random weights)."""
        return any(s.step == "onnx" and s.status in ("ok", "cached", "random") for s in self.steps)

    @property
    def missing(self) -> list[PrefetchStep]:
        """Steps that could not be done here (failed), e.g. downloads while offline."""
        return [s for s in self.steps if s.status == "failed"]


def _engine_skip_reason() -> str | None:
    from trtlab import capabilities

    if capabilities.can_build_engines():
        return None
    return (
        "TensorRT cannot build engines here (needs full TensorRT, a GPU and cuda-python; "
        "see `trtlab doctor`)"
    )


def prefetch(
    models: Sequence[str] | None = None,
    *,
    engines: bool = True,
    force: bool = False,
    out: Callable[[str], Any] | None = print,
) -> PrefetchReport:
    """Prepare ``models`` (default: the notebooks' models) for an offline classroom.

    ``engines=False`` skips the TensorRT builds; ``force=True`` exports again over the cache.
    """
    from trtlab import models as model_zoo

    names = list(models) if models else list(model_zoo.MODEL_SPECS)
    for name in names:  # every name checked before the first download
        model_zoo.get_spec(name)
    say: Callable[[str], Any] = out if out is not None else (lambda _line: None)
    report = PrefetchReport()
    onnx_paths: dict[str, Path] = {}
    total = len(names)
    for i, name in enumerate(names, 1):
        say(f"[{i}/{total}] {name}: weights + ONNX ...")
        t = time.perf_counter()
        step = _prefetch_onnx(name, force=force, say=say)
        report.steps.extend(step[0])
        if step[1] is not None:
            onnx_paths[name] = step[1]
        say(f"      done in {time.perf_counter() - t:.1f} s")

    wanted = [n for n in names if n in NOTEBOOK_ENGINES and n in onnx_paths]
    if engines and wanted:
        reason = _engine_skip_reason()
        if reason is not None:
            say(f"engines: skipped: {reason}")
            report.steps.extend(PrefetchStep(n, "engine", "skipped", reason) for n in wanted)
        else:
            report.steps.extend(_prefetch_engines(wanted, onnx_paths, say))

    for s in report.missing:
        say(f"could not prepare {s.model} {s.step}: {s.detail}")
    say(
        "prefetch: ready for the notebooks"
        if report.usable and not report.missing
        else "prefetch: partly ready (see above)"
        if report.usable
        else "prefetch: nothing usable was prepared"
    )
    return report


def _prefetch_onnx(
    name: str, *, force: bool, say: Callable[[str], Any]
) -> tuple[list[PrefetchStep], Path | None]:
    """Pretrained weights + ONNX for one model; random weights (said) when the download fails."""
    from trtlab import export
    from trtlab import models as model_zoo

    steps: list[PrefetchStep] = []
    t = time.perf_counter()
    pretrained = name in model_zoo.MODEL_SPECS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", model_zoo.RandomWeightsWarning)
            path = export.export_model(
                name, weights="default" if pretrained else None, strict=pretrained, force=force
            )
    except WeightsError as exc:
        steps.append(PrefetchStep(name, "weights", "failed", str(exc).splitlines()[0]))
        say(f"      weights: could not fetch ({str(exc).splitlines()[0]})")
        try:
            path = export.export_model(name, weights=None, force=force)
        except TrtlabError as exc2:
            steps.append(PrefetchStep(name, "onnx", "failed", str(exc2).splitlines()[0]))
            return steps, None
        steps.append(PrefetchStep(name, "onnx", "random", str(path), time.perf_counter() - t))
        say(f"      ONNX with RANDOM weights (the notebooks' offline fallback): {path}")
        return steps, Path(path)
    except TrtlabError as exc:
        steps.append(PrefetchStep(name, "onnx", "failed", str(exc).splitlines()[0]))
        say(f"      ONNX: failed ({str(exc).splitlines()[0]})")
        return steps, None
    if pretrained:
        steps.append(PrefetchStep(name, "weights", "ok", str(path.weights)))
    status = "cached" if path.cached else "ok"
    steps.append(PrefetchStep(name, "onnx", status, str(path), time.perf_counter() - t))
    say(f"      ONNX ({'cache hit' if path.cached else 'exported'}): {path}")
    return steps, Path(path)


def _prefetch_engines(
    names: Sequence[str], onnx_paths: Mapping[str, Path], say: Callable[[str], Any]
) -> list[PrefetchStep]:
    from trtlab import capabilities
    from trtlab.trt.build import build_engine

    precision = capabilities.default_precision("tensorrt")
    steps: list[PrefetchStep] = []
    for i, name in enumerate(names, 1):
        say(f"[engine {i}/{len(names)}] {name} ({precision}) ...")
        t = time.perf_counter()
        try:
            built = build_engine(
                onnx_paths[name],
                precision=precision,
                profiles=NOTEBOOK_ENGINES[name],
                progress=True,
                cache=True,
            )
        except TrtlabError as exc:
            steps.append(PrefetchStep(name, "engine", "failed", str(exc).splitlines()[0]))
            continue
        where = str(built.path) if built.path is not None else "engine cache"
        steps.append(PrefetchStep(name, "engine", "ok", where, time.perf_counter() - t))
        say(f"      engine ready: {where}")
    return steps


# -- lab -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabCommand:
    """How to start JupyterLab: ``argv``, the environment it adds, and the URL to open."""

    argv: list[str]
    env: dict[str, str]
    url: str

    def shell(self) -> str:
        """The command as one shell line (for ``--dry-run``)."""
        import shlex

        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        return f"{prefix} {shlex.join(self.argv)}".strip()


def default_notebooks_dir() -> Path | None:
    """The repository's ``notebooks/`` (beside the package), else ``./notebooks``, else None."""
    for candidate in (Path(__file__).resolve().parent.parent / "notebooks", Path("notebooks")):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def lab_command(
    *, port: int = 8888, notebooks: str | os.PathLike[str] | None = None, token: str | None = None
) -> LabCommand:
    """The JupyterLab command for ``notebooks`` on ``127.0.0.1:port`` with a token."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(f"port must be an int 1..65535, got {port!r}", hint="e.g. port=8888")
    if notebooks is not None:
        folder = Path(notebooks).expanduser()
        if not folder.is_dir():
            raise InputError(
                f"notebooks folder {folder} "
                + ("is a file" if folder.exists() else "does not exist"),
                hint="pass the folder that holds the .ipynb files, e.g. --notebooks notebooks",
            )
        folder = folder.resolve()
    else:
        found = default_notebooks_dir()
        if found is None:
            raise InputError(
                "no notebooks/ folder beside the package or in the current folder",
                hint="run from the repository root, or pass --notebooks DIR",
            )
        folder = found
    if not has_module("jupyterlab"):
        raise DependencyError(
            "JupyterLab is not installed in this Python",
            hint="pip install jupyterlab (or pip install 'trtlab[dev]')",
        )
    secret = token or os.environ.get("JUPYTER_TOKEN") or secrets.token_urlsafe(24)
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a busy port is an error, not a different URL
        f"--ServerApp.root_dir={folder}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
        argv.append("--ServerApp.allow_root=True")  # Jupyter refuses root without it
    return LabCommand(
        argv, {"JUPYTER_TOKEN": secret}, f"http://127.0.0.1:{port}/lab?token={secret}"
    )


def run_lab(command: LabCommand, *, out: Callable[[str], Any] | None = print) -> int:
    """Start JupyterLab and wait for it (Ctrl-C stops it); returns its exit status."""
    if out is not None:
        out(f"JupyterLab (notebooks) on {command.url}")
        out("stop it with Ctrl-C")
    return subprocess.call(command.argv, env={**os.environ, **command.env})


__all__ = [
    "NOTEBOOK_ENGINES",
    "LabCommand",
    "PrefetchReport",
    "PrefetchStep",
    "default_notebooks_dir",
    "lab_command",
    "prefetch",
    "run_lab",
]
