"""Which TensorRT is here, and the few things that differ between TensorRT 10 and 11.

Shared by the build side (``trt/build.py``) and the runtime side (``trt/runtime.py``). Keep this API
small and stable; nothing here imports TensorRT at module import time. *Which* TensorRT is
installed is decided once, in :func:`trtlab.capabilities.find_tensorrt`; this module imports it.

Public API
----------
- :func:`import_tensorrt` ``(prefer="full"|"lean"|"any") -> module`` (``DependencyError`` if absent)
- :func:`tensorrt_version` ``(prefer="any") -> tuple[int, ...] | None``
- :func:`has_full_tensorrt`, :func:`has_lean_runtime`
- :func:`is_strongly_typed_only` ``(version)`` (True from TensorRT 11 on)
- :func:`parse_version`, :func:`version_str`
- :class:`LogCapture` (pure Python: stores TensorRT log messages, forwards to :mod:`logging`)
- :func:`trt_logger` ``(module=None, *, capture=None, min_severity="info")`` -> an instance of
  ``module.ILogger`` that writes into a :class:`LogCapture` (available as ``logger.capture``)

Static typing: code that builds engines should call :func:`require_full_tensorrt` for the friendly
error and then ``import tensorrt as trt`` inside the function, so mypy checks every call against
the in-tree stubs (``typings/tensorrt-<version>``, see ``tools/typecheck.py``).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from trtlab._lazy import INSTALL_HINTS
from trtlab.capabilities import (
    FULL_MODULES,
    LEAN_MODULES,
    find_tensorrt,
    module_version,
    parse_version,
    version_str,
)
from trtlab.errors import ConfigError, DependencyError

Prefer = Literal["full", "lean", "any"]

#: TensorRT severities from most to least severe, and the :mod:`logging` level each maps to.
SEVERITIES: tuple[str, ...] = ("INTERNAL_ERROR", "ERROR", "WARNING", "INFO", "VERBOSE")
_LOGGING_LEVEL = {
    "INTERNAL_ERROR": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "VERBOSE": logging.DEBUG,
}

_log = logging.getLogger("trtlab.trt")


# -- versions and finding the module: one home, trtlab.capabilities ------------------------------
def is_strongly_typed_only(version: str | Sequence[int] | None) -> bool:
    """True when this TensorRT has no weak-typing precision flags (FP16/BF16/INT8): 11 and later."""
    if version is None:
        return False
    return parse_version(version)[0] >= 11


def _check_prefer(prefer: Prefer) -> None:
    if prefer not in ("full", "lean", "any"):
        raise ConfigError(
            f"prefer={prefer!r} is not one of 'full', 'lean', 'any'",
            hint="use prefer='full' to build engines, 'lean' or 'any' to run them",
        )


def import_tensorrt(prefer: Prefer = "any", *, purpose: str | None = None) -> ModuleType:
    """Import TensorRT, or raise :class:`DependencyError` with install hints.

    ``prefer="full"`` needs the builder; ``"lean"`` wants the lean runtime (and falls back to the
    full one, which runs any engine); ``"any"`` takes the full one first. The choice is
    :func:`trtlab.capabilities.find_tensorrt`'s, so it always agrees with ``probe()``: a
    ``tensorrt`` module without ``Builder`` is a lean runtime for both.
    """
    _check_prefer(prefer)
    found = find_tensorrt()
    if prefer == "full":
        name, tried = found.full_module, FULL_MODULES
    elif prefer == "lean":
        name, tried = found.lean_module or found.full_module, LEAN_MODULES + FULL_MODULES
    else:
        name, tried = found.full_module or found.lean_module, FULL_MODULES + LEAN_MODULES
    if name is None:
        if prefer == "full" and found.lean_module:
            error = f"{found.lean_module} has no Builder (lean runtime only)"
        else:
            error = "; ".join(found.errors) or "not installed"
        why = f" (needed to {purpose})" if purpose else ""
        key = "tensorrt_lean" if prefer == "lean" else "tensorrt"
        raise DependencyError(
            f"TensorRT ({prefer}) is not importable{why}: tried {', '.join(tried)}; {error}",
            hint=INSTALL_HINTS[key],
        )
    return importlib.import_module(name)


def require_full_tensorrt(purpose: str = "build a TensorRT engine") -> ModuleType:
    """Import the full TensorRT (with builder and ONNX parser) or raise ``DependencyError``."""
    return import_tensorrt("full", purpose=purpose)


def has_full_tensorrt() -> bool:
    """True when TensorRT with the builder imports here (it may still lack a GPU to build on)."""
    return find_tensorrt().full_module is not None


def has_lean_runtime() -> bool:
    """True when a runtime-only TensorRT imports (lean bindings, or a Builder-less ``tensorrt``)."""
    return find_tensorrt().lean_module is not None


def tensorrt_version(prefer: Prefer = "any") -> tuple[int, ...] | None:
    """Installed TensorRT version as a tuple (``(10, 13, 3, 9)``), or None when none imports.

    ``prefer="full"`` reports only a TensorRT that can build (the version precision planning uses).
    """
    _check_prefer(prefer)
    found = find_tensorrt()
    if prefer == "full":
        return found.full_version
    if prefer == "lean":
        return found.lean_version
    return found.version


# -- logging -------------------------------------------------------------------------------------
def severity_name(severity: object) -> str:
    """Normalise a TensorRT severity (enum member, int or name) to ``"WARNING"`` etc."""
    name = getattr(severity, "name", None)
    if isinstance(name, str) and name.upper() in _LOGGING_LEVEL:
        return name.upper()
    if isinstance(severity, str) and severity.upper() in _LOGGING_LEVEL:
        return severity.upper()
    try:
        index = int(severity)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "INFO"
    return SEVERITIES[index] if 0 <= index < len(SEVERITIES) else "VERBOSE"


@dataclass(frozen=True)
class LogRecord:
    """One TensorRT log message."""

    severity: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.message}"


@dataclass
class LogCapture:
    """Stores TensorRT messages at ``min_severity`` or worse and forwards them to :mod:`logging`.

    Pure Python so it is testable without TensorRT; :func:`trt_logger` wraps it in an ``ILogger``.
    ``max_records`` bounds memory (verbose builds log hundreds of thousands of lines).
    """

    min_severity: str = "INFO"
    logger_name: str = "trtlab.trt"
    max_records: int = 20000
    records: list[LogRecord] = field(default_factory=list)
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.min_severity.upper()
        if name not in _LOGGING_LEVEL:
            raise ConfigError(
                f"min_severity={self.min_severity!r} is not a TensorRT severity",
                hint=f"use one of {', '.join(s.lower() for s in SEVERITIES)}",
            )
        self.min_severity = name

    def wants(self, severity: str) -> bool:
        """True when a message of ``severity`` is at least as severe as ``min_severity``."""
        return SEVERITIES.index(severity) <= SEVERITIES.index(self.min_severity)

    def log(self, severity: object, message: str) -> None:
        """Record and forward one message (called by TensorRT, possibly from builder threads)."""
        name = severity_name(severity)
        if not self.wants(name):
            return
        with self._lock:
            if len(self.records) >= self.max_records:
                self.records.pop(0)
                self.dropped += 1
            self.records.append(LogRecord(name, message))
        logging.getLogger(self.logger_name).log(_LOGGING_LEVEL[name], "%s", message)

    def errors(self) -> list[LogRecord]:
        """Messages of severity ERROR or INTERNAL_ERROR."""
        return [r for r in self.records if r.severity in ("ERROR", "INTERNAL_ERROR")]

    def tail(self, n: int = 20) -> list[str]:
        """The last ``n`` messages as ``[SEVERITY] text`` lines (for error reports)."""
        return [str(r) for r in self.records[-n:]] if n > 0 else []

    def messages(self) -> list[str]:
        """All stored messages as ``[SEVERITY] text`` lines."""
        return [str(r) for r in self.records]

    def clear(self) -> None:
        with self._lock:
            self.records.clear()
            self.dropped = 0


_LOGGER_CLASSES: dict[int, type] = {}


def _logger_class(module: ModuleType) -> type:
    """A subclass of ``module.ILogger`` (full or lean) whose ``log`` writes into a LogCapture."""
    key = id(module.ILogger)
    cls = _LOGGER_CLASSES.get(key)
    if cls is None:
        base: type = module.ILogger

        def __init__(self: Any, capture: LogCapture) -> None:
            base.__init__(self)  # type: ignore[misc]
            self.capture = capture

        def log(self: Any, severity: object, msg: str) -> None:
            self.capture.log(severity, msg)

        cls = type("CapturingLogger", (base,), {"__init__": __init__, "log": log})
        _LOGGER_CLASSES[key] = cls
    return cls


def trt_logger(
    module: ModuleType | None = None,
    *,
    capture: LogCapture | None = None,
    min_severity: str = "INFO",
) -> Any:
    """A TensorRT logger (instance of ``module.ILogger``) that stores messages in ``.capture``.

    ``module`` defaults to :func:`import_tensorrt` ``("any")``. The return type is ``Any`` because
    its base class depends on which TensorRT module (full or lean) it is for; keep a reference to
    ``capture`` (or read ``logger.capture``) to get the messages. Pass ``min_severity="verbose"``
    to keep everything (large).
    """
    if module is None:
        module = import_tensorrt("any", purpose="create a TensorRT logger")
    cap = capture if capture is not None else LogCapture(min_severity=min_severity)
    return _logger_class(module)(cap)


# -- plugins -------------------------------------------------------------------------------------
#: One logger per TensorRT module for its plugin library: TensorRT keeps the pointer for the life
#: of the process, so it must not be an Engine's logger (freed on close).
_PLUGIN_LOGGERS: dict[int, Any] = {}


def init_plugins(trt_mod: ModuleType) -> None:
    """``init_libnvinfer_plugins(logger, "")`` once per module, before any deserialization.

    Engines that use TensorRT's bundled plugins (NMS, ...) only deserialize after the plugin
    creators are registered (Polygraphy and trtexec do the same). The lean runtime has no plugin
    library, hence ``getattr``; the full package always has it. The builder calls it before
    parsing too (``*_TRT`` ONNX ops need the plugin creators).
    """
    init = getattr(trt_mod, "init_libnvinfer_plugins", None)
    if init is None or id(trt_mod) in _PLUGIN_LOGGERS:
        return
    logger = trt_logger(trt_mod, min_severity="error")
    _PLUGIN_LOGGERS[id(trt_mod)] = (trt_mod, logger)  # keeps both alive
    init(logger, "")


__all__ = [
    "FULL_MODULES",
    "LEAN_MODULES",
    "SEVERITIES",
    "LogCapture",
    "LogRecord",
    "has_full_tensorrt",
    "has_lean_runtime",
    "init_plugins",
    "import_tensorrt",
    "is_strongly_typed_only",
    "module_version",
    "parse_version",
    "require_full_tensorrt",
    "severity_name",
    "tensorrt_version",
    "trt_logger",
    "version_str",
]
