"""Engine provenance: what built an engine, kept beside it, checked before TensorRT loads it.

A serialized engine only loads with the TensorRT version and GPU architecture it was built for;
TensorRT itself says so with a terse "Serialization assertion" or a null engine. trtlab writes a
``<engine>.json`` sidecar next to every engine it builds (TensorRT version, GPU name + compute
capability, build options, ONNX sha256) and :func:`check_provenance` compares it with this
machine first, so a mismatch reads "built with TensorRT 10.13 on sm_90, this is 11.4 on sm_89:
rebuild with ...".

The same fields make the engine cache key (:func:`build_identity` is the one recipe both use), so
a cache entry and its provenance can never disagree about what the engine is.

Compatibility rules (TensorRT's "Engine Compatibility" documentation): a plan runs only with the
TensorRT version that built it, unless built ``version_compatible`` (then any later runtime of the
same major, and TensorRT 10 -> 11 / 8 -> 10 across one major); and only on the compute capability
it was built for, unless built with a hardware-compatibility level (Ampere and later). A different
GPU *model* of the same compute capability loads (TensorRT warns about performance), so that is a
warning here too, not an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trtlab._io import atomic_write_text
from trtlab.errors import EngineCompatibilityError, FileFormatError

#: Bumped when the sidecar layout changes; a newer schema than this is still read field by field.
PROVENANCE_SCHEMA = 1
SIDECAR_SUFFIX = ".json"

#: Cross-major pairs TensorRT supports for version-compatible plans (built major -> runtime major).
_CROSS_MAJOR = {(8, 10), (10, 11)}


def version_tuple(version: str | Sequence[int]) -> tuple[int, ...]:
    """``"10.13.3.9"`` or ``(10, 13, 3)`` -> ``(10, 13, 3, 9)`` / ``(10, 13, 3)``."""
    if isinstance(version, str):
        parts = re.findall(r"\d+", version)
        return tuple(int(p) for p in parts)
    return tuple(int(v) for v in version)


def _version_str(version: str | Sequence[int]) -> str:
    return version if isinstance(version, str) else ".".join(str(int(v)) for v in version)


def _short(version: str | Sequence[int]) -> str:
    """``"10.13.3.9"`` -> ``"10.13"`` (how people name TensorRT releases)."""
    parts = version_tuple(version)
    return ".".join(str(p) for p in parts[:2]) if parts else str(version)


def sm(capability: Sequence[int]) -> str:
    """``(8, 9)`` -> ``"sm_89"``."""
    cap = [int(c) for c in capability]
    return f"sm_{cap[0]}{cap[1]}" if len(cap) >= 2 else "sm_?"


def onnx_sha256(onnx: bytes | str | os.PathLike[str]) -> str:
    """sha256 of the ONNX bytes plus any external-data files (what the engine was built from)."""
    from trtlab.trt.cache import onnx_digest

    return onnx_digest(onnx)


def build_identity(
    *,
    onnx_sha256: str,
    options: Mapping[str, Any],
    trt_version: str,
    gpu_name: str,
    compute_capability: Sequence[int],
) -> dict[str, Any]:
    """The identity of a build: hashed into the engine cache key and recorded as provenance.

    One function so the cache and the sidecar cannot describe the same engine differently.
    """
    from trtlab.trt.cache import _canonical

    return {
        "onnx_sha256": str(onnx_sha256),
        "options": _canonical(dict(options)),
        "tensorrt": str(trt_version),
        "gpu": str(gpu_name),
        "sm": [int(c) for c in compute_capability],
    }


@dataclass(frozen=True)
class Provenance:
    """Who built an engine, from what, with which options (the ``<engine>.json`` sidecar)."""

    trt_version: str
    gpu_name: str
    compute_capability: tuple[int, int]
    onnx_sha256: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    version_compatible: bool = False
    exclude_lean_runtime: bool = False
    hardware_compatibility_level: str | None = None
    onnx_path: str | None = None
    cache_key: str | None = None
    created: str = ""
    trtlab_version: str = ""
    schema: int = PROVENANCE_SCHEMA

    @classmethod
    def from_identity(cls, identity: Mapping[str, Any], **extra: Any) -> Provenance:
        """A Provenance from :func:`build_identity`'s dict (plus sidecar-only fields)."""
        options = dict(identity.get("options", {}))
        cap = [*[int(c) for c in identity.get("sm", (0, 0))][:2], 0, 0]
        return cls(
            trt_version=str(identity.get("tensorrt", "")),
            gpu_name=str(identity.get("gpu", "")),
            compute_capability=(cap[0], cap[1]),
            onnx_sha256=str(identity.get("onnx_sha256", "")),
            options=options,
            version_compatible=bool(options.get("version_compatible", False)),
            exclude_lean_runtime=bool(options.get("exclude_lean_runtime", False)),
            hardware_compatibility_level=options.get("hardware_compatibility_level"),
            **extra,
        )

    def to_json(self) -> str:
        data = asdict(self)
        data["compute_capability"] = list(self.compute_capability)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Provenance:
        """Read a sidecar dict; unknown keys (a newer schema) are ignored, missing ones default."""
        cap = [*[int(c) for c in data.get("compute_capability", (0, 0))][:2], 0, 0]
        hw = data.get("hardware_compatibility_level")
        return cls(
            trt_version=str(data.get("trt_version", "")),
            gpu_name=str(data.get("gpu_name", "")),
            compute_capability=(cap[0], cap[1]),
            onnx_sha256=str(data.get("onnx_sha256", "")),
            options=dict(data.get("options", {}) or {}),
            version_compatible=bool(data.get("version_compatible", False)),
            exclude_lean_runtime=bool(data.get("exclude_lean_runtime", False)),
            hardware_compatibility_level=str(hw) if hw else None,
            onnx_path=data.get("onnx_path"),
            cache_key=data.get("cache_key"),
            created=str(data.get("created", "")),
            trtlab_version=str(data.get("trtlab_version", "")),
            schema=int(data.get("schema", PROVENANCE_SCHEMA)),
        )

    def describe(self) -> str:
        """``"TensorRT 10.13 on sm_90 (NVIDIA H200)"`` plus the compatibility mode."""
        text = f"TensorRT {_short(self.trt_version)} on {sm(self.compute_capability)}"
        if self.gpu_name:
            text += f" ({self.gpu_name})"
        if self.version_compatible:
            text += ", version-compatible"
        if self.hardware_compatibility_level:
            text += f", hardware-compatible ({self.hardware_compatibility_level})"
        return text


def provenance_path(engine_path: str | os.PathLike[str]) -> Path:
    """``model.engine`` -> ``model.engine.json`` (the sidecar's place)."""
    path = Path(engine_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _trtlab_version() -> str:
    try:
        from importlib.metadata import version

        return version("trtlab")
    except Exception:
        return ""


def write_provenance(engine_path: str | os.PathLike[str], prov: Provenance) -> Path:
    """Write ``prov`` atomically to ``<engine_path>.json``; returns the sidecar path."""
    if not prov.created or not prov.trtlab_version:
        from dataclasses import replace

        prov = replace(
            prov,
            created=prov.created or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            trtlab_version=prov.trtlab_version or _trtlab_version(),
        )
    return atomic_write_text(provenance_path(engine_path), prov.to_json() + "\n")


def read_provenance(engine_path: str | os.PathLike[str]) -> Provenance | None:
    """The engine's sidecar, or None when there is none (an engine trtlab did not build).

    A sidecar that exists but is not valid JSON is a :class:`FileFormatError`: silently ignoring
    it would skip the very check it exists for.
    """
    path = provenance_path(engine_path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileFormatError(
            f"engine provenance {path} is not readable JSON ({exc})",
            hint=f"delete {path.name} (the engine then loads unchecked) or rebuild the engine",
        ) from exc
    if not isinstance(data, dict):
        raise FileFormatError(
            f"engine provenance {path} holds {type(data).__name__}, expected a JSON object",
            hint=f"delete {path.name} or rebuild the engine",
        )
    return Provenance.from_mapping(data)


def version_mismatch(prov: Provenance, trt_version: str | Sequence[int]) -> str | None:
    """Why ``prov``'s plan cannot run on TensorRT ``trt_version``, or None when it can."""
    built, here = version_tuple(prov.trt_version), version_tuple(trt_version)
    if not built or not here:
        return None
    if not prov.version_compatible:
        # TensorRT compares the full version; the sidecar may carry fewer components.
        n = min(len(built), len(here), 3)
        if built[:n] == here[:n]:
            return None
        return "engines load only with the TensorRT version that built them"
    if here < built:
        return "version-compatible engines run on the same or a later TensorRT, not an older one"
    if built[0] == here[0] or (built[0], here[0]) in _CROSS_MAJOR:
        return None
    return (
        f"version-compatible TensorRT {built[0]} engines do not run on TensorRT {here[0]} "
        "(supported: within a major, 8 -> 10, 10 -> 11)"
    )


def capability_mismatch(prov: Provenance, compute_capability: Sequence[int]) -> str | None:
    """Why ``prov``'s plan cannot run on ``compute_capability``, or None when it can."""
    built = tuple(int(c) for c in prov.compute_capability)
    here = tuple(int(c) for c in compute_capability)
    if built == (0, 0) or here == (0, 0) or built == here:
        return None  # unknown on either side: leave the verdict to TensorRT
    if prov.hardware_compatibility_level:
        if here >= (8, 0):
            return None
        return (
            f"hardware-compatible engines ({prov.hardware_compatibility_level}) need Ampere "
            "(sm_80) or later"
        )
    return "engines load only on the GPU architecture (compute capability) that built them"


def check_provenance(
    engine_path: str | os.PathLike[str],
    *,
    trt_version: str | Sequence[int],
    gpu_name: str | None,
    compute_capability: Sequence[int] | None,
) -> None:
    """Raise :class:`EngineCompatibilityError` when the engine at ``engine_path`` cannot load here.

    Call it before deserializing an engine from a path. No sidecar: nothing to check (returns).
    A different GPU model of the same architecture only warns (TensorRT loads it, maybe slower).
    """
    prov = read_provenance(engine_path)
    if prov is None:
        return
    cap = tuple(compute_capability) if compute_capability else (0, 0)
    reasons = [
        r
        for r in (version_mismatch(prov, trt_version), capability_mismatch(prov, cap))
        if r is not None
    ]
    name = Path(engine_path).name
    if reasons:
        here = f"TensorRT {_short(trt_version)} on {sm(cap) if cap != (0, 0) else 'an unknown GPU'}"
        if gpu_name:
            here += f" ({gpu_name})"
        onnx = prov.onnx_path or "the ONNX model"
        raise EngineCompatibilityError(
            f"{name} was built with {prov.describe()}, this is {here}: " + "; ".join(reasons),
            hint=f"rebuild with trtlab.build_engine({onnx!r}, ...) on this machine (the engine "
            "cache keeps one engine per TensorRT version and GPU), or build with "
            "version_compatible=True to run one plan on later TensorRT versions",
        )
    same_arch = tuple(prov.compute_capability) == tuple(cap)
    if (
        same_arch
        and gpu_name
        and prov.gpu_name
        and prov.gpu_name != gpu_name
        and prov.gpu_name != "unknown"
    ):
        warnings.warn(
            f"{name} was built on {prov.gpu_name}, this GPU is {gpu_name} (same "
            f"{sm(cap)}): it loads, but tactics were timed on the other model; rebuild here for "
            "best speed",
            RuntimeWarning,
            stacklevel=2,
        )


def identity_digest(identity: Mapping[str, Any], schema: int) -> str:
    """sha256 of ``identity`` in canonical JSON (the engine cache key)."""
    from trtlab.trt.cache import canonical_json

    payload = {"schema": schema, **identity}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


__all__ = [
    "PROVENANCE_SCHEMA",
    "Provenance",
    "build_identity",
    "capability_mismatch",
    "check_provenance",
    "identity_digest",
    "onnx_sha256",
    "provenance_path",
    "read_provenance",
    "sm",
    "version_mismatch",
    "version_tuple",
    "write_provenance",
]
