"""Optimization profiles: the one type, the one validator, the one default.

A TensorRT engine with dynamic inputs carries one or more *optimization profiles*; each gives
every dynamic input a ``min``/``opt``/``max`` shape. Builds (``build_engine``, ``trtlab build``),
engines (the IO table), the wrappers and the build widget all speak :class:`Profile` of
:class:`ShapeRange`, so a range is checked the same way wherever it comes from.

Accepted user forms (all go through :func:`validate_profiles`):

* ``{"input": ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))}`` -- min, opt, max;
* ``{"input": (1, 3, 224, 224)}`` -- one shape, min = opt = max;
* ``{"input": {"min": ..., "opt": ..., "max": ...}}`` or a :class:`ShapeRange`;
* trtexec's text: ``"input:1x3x224x224"`` (fixed) or
  ``"min=input:1x3x224x224 opt=input:8x3x224x224 max=input:16x3x224x224"``;
* a list of any of these for several profiles.

A dynamic input without a profile gets :func:`default_profile`'s range, derived from the model's
own dims: batch-only dynamic inputs get batch ``(1, 1, 1)`` (a fixed-batch engine); a dynamic
height/width without a profile is an error naming the axis, because no size is safe to guess.

Pure Python (no TensorRT, no ONNX at import).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from trtlab.errors import InputError, ShapeError

if TYPE_CHECKING:
    import os

    from trtlab.tensors import TensorSpec

Shape = tuple[int, ...]


def _int_tuple(value: Any) -> tuple[int, ...] | None:
    """``value`` as a tuple of ints (numpy ints too; floats and strings refused), else None."""
    try:
        return tuple(operator.index(d) for d in value)
    except TypeError:
        return None


@dataclass(frozen=True, eq=False)
class ShapeRange:
    """Allowed shapes of one input in one optimization profile (``min <= opt <= max`` per axis).

    Iterates, compares and hashes as the tuple ``(min, opt, max)``, so ``lo, opt, hi = rng``
    works like TensorRT's ``get_tensor_profile_shape`` result and older code that kept
    ``(min, opt, max)`` tuples still compares equal.
    """

    min: Shape
    opt: Shape
    max: Shape

    def __post_init__(self) -> None:
        for which in ("min", "opt", "max"):
            value = getattr(self, which)
            shape = _int_tuple(value)
            if shape is None:
                raise ShapeError(
                    f"ShapeRange {which} {value!r} must be a sequence of ints",
                    hint="e.g. ShapeRange((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))",
                )
            object.__setattr__(self, which, shape)
        if not len(self.min) == len(self.opt) == len(self.max):
            raise ShapeError(
                f"min {list(self.min)}, opt {list(self.opt)} and max {list(self.max)} have "
                "different ranks; TensorRT needs one rank for all three",
                hint="give one size per dimension in each shape",
            )

    def check_order(self, name: str) -> None:
        """Raise :class:`ShapeError` unless ``1 <= min <= opt <= max`` on every axis."""
        for axis, (lo, opt, hi) in enumerate(zip(self.min, self.opt, self.max, strict=True)):
            if not 0 <= lo <= opt <= hi:
                raise ShapeError(
                    f"profile for input '{name}' axis {axis}: need 0 <= min <= opt <= max, got "
                    f"min={lo} opt={opt} max={hi}",
                    hint="order the three shapes as (min, opt, max)",
                )

    @classmethod
    def fixed(cls, shape: Sequence[int]) -> ShapeRange:
        """``min = opt = max = shape``."""
        s = tuple(int(d) for d in shape)
        return cls(s, s, s)

    @property
    def rank(self) -> int:
        return len(self.min)

    @property
    def is_fixed(self) -> bool:
        return self.min == self.opt == self.max

    def contains(self, shape: Sequence[int]) -> bool:
        """True when ``shape`` has this rank and every dim lies in ``[min, max]``."""
        return len(shape) == len(self.min) and all(
            lo <= int(d) <= hi for lo, d, hi in zip(self.min, shape, self.max, strict=True)
        )

    def __iter__(self) -> Iterator[Shape]:
        return iter((self.min, self.opt, self.max))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ShapeRange):
            return tuple(self) == tuple(other)
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> Shape:
        return (self.min, self.opt, self.max)[index]

    def __str__(self) -> str:
        if self.is_fixed:
            return shape_str(self.min)
        return f"{shape_str(self.min)}..{shape_str(self.opt)}..{shape_str(self.max)}"


def shape_str(shape: Sequence[int]) -> str:
    """``(1, 3, 224, 224)`` -> ``"1x3x224x224"`` (trtexec's shape syntax)."""
    return "x".join(str(int(d)) for d in shape)


def check_shape(
    name: str, shape: Sequence[int], rng: ShapeRange, *, profile: int = 0
) -> tuple[int, ...]:
    """``shape`` as ints when it fits ``rng``, else a :class:`ShapeError` naming the range.

    Runs before TensorRT sees the shape (TensorRT only logs "set_input_shape failed").
    """
    got = _int_tuple(shape)
    if got is None:
        raise ShapeError(
            f"input '{name}': shape {shape!r} has a non-integer entry",
            hint="pass a tuple of ints, e.g. x.shape",
        )
    if len(got) != rng.rank:
        raise ShapeError(
            f"input '{name}' expects rank {rng.rank} (profile {profile}: min "
            f"{list(rng.min)}, max {list(rng.max)}), got shape {list(got)} (rank {len(got)})",
            hint="add or remove the batch axis (x[None]) to match",
        )
    bad = [
        f"axis {axis}: {dim} " + (f"!= {lo} (fixed)" if lo == hi else f"not in [{lo}, {hi}]")
        for axis, (lo, dim, hi) in enumerate(zip(rng.min, got, rng.max, strict=True))
        if not lo <= dim <= hi
    ]
    if bad:
        raise ShapeError(
            f"input '{name}' shape {list(got)} is outside optimization profile {profile}: "
            f"{'; '.join(bad)} (allowed min {list(rng.min)}, opt {list(rng.opt)}, "
            f"max {list(rng.max)})",
            hint="use a shape inside the range, split the batch, or rebuild the engine with a "
            "wider profile (build_engine(..., profiles=[{name: (min, opt, max)}]))",
        )
    return got


# -- one profile ---------------------------------------------------------------------------------
class Profile(Mapping[str, ShapeRange]):
    """One optimization profile: an immutable mapping ``input name -> ShapeRange``.

    Built from anything :func:`as_shape_range` reads per input, e.g.
    ``Profile({"input": ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))})``. Compares
    equal to another Profile (or a dict of ShapeRanges) with the same ranges; hashable, so it can
    key caches.
    """

    __slots__ = ("_ranges",)

    def __init__(self, ranges: Mapping[str, Any] | None = None) -> None:
        items = dict(ranges or {})
        for name in items:
            if not isinstance(name, str):
                raise InputError(
                    f"profile keys must be input names (str), got {name!r}",
                    hint="e.g. {'input': ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))}",
                )
        self._ranges: dict[str, ShapeRange] = {
            name: as_shape_range(name, value) for name, value in items.items()
        }

    def __getitem__(self, name: str) -> ShapeRange:
        return self._ranges[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._ranges.items(), key=lambda kv: kv[0])))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._ranges) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"Profile({self._ranges!r})"

    def __str__(self) -> str:
        return ", ".join(f"{name}: {rng}" for name, rng in self._ranges.items()) or "(no inputs)"

    def to_json(self) -> dict[str, list[list[int]]]:
        """``{name: [min, opt, max]}`` with lists: what cache keys and provenance files store."""
        return {name: [list(s) for s in rng] for name, rng in self._ranges.items()}

    def trtexec_args(self) -> list[str]:
        """``--minShapes=... --optShapes=... --maxShapes=...`` (empty for no dynamic input)."""
        if not self._ranges:
            return []
        out = []
        for flag, index in (("--minShapes", 0), ("--optShapes", 1), ("--maxShapes", 2)):
            text = ",".join(
                f"{_quote(name)}:{shape_str(rng[index])}" for name, rng in self._ranges.items()
            )
            out.append(f"{flag}={text}")
        return out


def _quote(name: str) -> str:
    return f"'{name}'" if ":" in name or "," in name else name


# -- reading user forms --------------------------------------------------------------------------
_SHAPE_TEXT = re.compile(r"^\s*\d+(\s*x\s*\d+)*\s*$")
_EXAMPLE = "e.g. {'input': ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))}"


def _as_shape(value: Any, *, name: str, which: str) -> Shape:
    if isinstance(value, str) and _SHAPE_TEXT.match(value):
        return tuple(int(d) for d in value.lower().split("x"))
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ShapeError(
            f"profile for input '{name}': {which} shape must be a sequence of ints "
            f"(or text like '1x3x224x224'), got {value!r}",
            hint="write shapes as tuples, " + _EXAMPLE,
        )
    try:
        return tuple(operator.index(v) for v in value)  # ints only: 1.5 or "3" are errors
    except (TypeError, ValueError):
        raise ShapeError(
            f"profile for input '{name}': {which} shape {list(value)!r} has a non-integer entry",
            hint="use plain ints for every dimension",
        ) from None


def _is_shape_list(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, (str, bytes))
        and len(value) > 0
        and all(
            isinstance(v, str) or (isinstance(v, Sequence) and not isinstance(v, bytes))
            for v in value
        )
    )


def as_shape_range(name: str, value: Any) -> ShapeRange:
    """One input's profile value as a :class:`ShapeRange`.

    Accepts a ShapeRange, ``(min, opt, max)`` shapes, ``{"min":, "opt":, "max":}``, one shape
    (min = opt = max) and shapes as trtexec text (``"1x3x224x224"``). Checks only the form;
    :func:`validate_profiles` checks it against the model.
    """
    if isinstance(value, ShapeRange):
        return value
    if isinstance(value, Mapping):
        missing = [k for k in ("min", "opt", "max") if k not in value]
        if missing:
            raise ShapeError(
                f"profile for input '{name}' is missing {missing}",
                hint="give {'min': ..., 'opt': ..., 'max': ...} or a (min, opt, max) tuple",
            )
        lo = _as_shape(value["min"], name=name, which="min")
        opt = _as_shape(value["opt"], name=name, which="opt")
        hi = _as_shape(value["max"], name=name, which="max")
    elif _is_shape_list(value):
        if len(value) != 3:
            raise ShapeError(
                f"profile for input '{name}' has {len(value)} shapes; expected (min, opt, max)",
                hint="give three shapes, or one shape for a fixed size",
            )
        lo = _as_shape(value[0], name=name, which="min")
        opt = _as_shape(value[1], name=name, which="opt")
        hi = _as_shape(value[2], name=name, which="max")
    else:
        lo = opt = hi = _as_shape(value, name=name, which="fixed")
    if not len(lo) == len(opt) == len(hi):
        raise ShapeError(
            f"profile for input '{name}': min {list(lo)}, opt {list(opt)} and max {list(hi)} "
            "have different ranks",
            hint="give one size per dimension in each of the three shapes",
        )
    return ShapeRange(lo, opt, hi)


_FLAG = re.compile(r"^-{0,2}(min|opt|max)(?:Shapes)?=(.*)$", re.IGNORECASE)


def parse_shapes(text: str) -> dict[str, Shape]:
    """trtexec's ``--shapes`` text ``"input:1x3x224x224,mask:1x4"`` as ``{name: shape}``.

    A name with ``:`` or ``,`` goes in single quotes (``'input:0':1x3x224x224``), as in trtexec.
    """
    out: dict[str, Shape] = {}
    for part in _split_names(text):
        name, sep, dims = part.rpartition(":")
        name = name.strip().strip("'\"")
        if not sep or not name or not _SHAPE_TEXT.match(dims):
            raise ShapeError(
                f"cannot read shape {part!r} in {text!r}; expected name:AxBxC (trtexec syntax)",
                hint="e.g. 'input:1x3x224x224' or 'input:1x3x224x224,mask:1x4'",
            )
        if name in out:
            raise ShapeError(
                f"input '{name}' appears twice in {text!r}", hint="give each input once"
            )
        out[name] = tuple(int(d) for d in dims.lower().split("x"))
    return out


def _split_names(text: str) -> list[str]:
    """Split on commas outside single/double quotes."""
    parts, current, quote = [], "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def parse_profile_text(text: str) -> dict[str, Any]:
    """A profile written as trtexec text, as ``{name: value}`` for :func:`as_shape_range`.

    ``"input:1x3x224x224"`` is a fixed shape; ``"min=input:1x3x224x224 opt=input:4x3x224x224
    max=input:8x3x224x224"`` (or with ``--minShapes=`` etc., as copied from a trtexec command)
    is a range. An input named in ``opt`` but not in ``min``/``max`` uses ``opt`` there
    (trtexec's rule).
    """
    words = text.split()
    flags = [_FLAG.match(w) for w in words]
    if not any(flags):
        return dict(parse_shapes(text))
    if not all(flags):
        bad = [w for w, m in zip(words, flags, strict=True) if not m]
        raise ShapeError(
            f"cannot read {bad} in profile text {text!r}",
            hint="write 'min=input:1x3x224x224 opt=input:4x3x224x224 max=input:8x3x224x224'",
        )
    parts: dict[str, dict[str, Shape]] = {}
    for m in flags:
        assert m is not None  # noqa: S101 - checked above
        which = m.group(1).lower()
        if which in parts:
            raise ShapeError(f"'{which}=' appears twice in {text!r}", hint="give each once")
        parts[which] = parse_shapes(m.group(2))
    if "opt" not in parts:
        raise ShapeError(
            f"profile text {text!r} has no opt= shapes",
            hint="trtexec needs optShapes for every dynamic input; add opt=name:AxBxC",
        )
    out: dict[str, Any] = {}
    for name, opt in parts["opt"].items():
        out[name] = (parts.get("min", {}).get(name, opt), opt, parts.get("max", {}).get(name, opt))
    extra = sorted((set(parts.get("min", {})) | set(parts.get("max", {}))) - set(parts["opt"]))
    if extra:
        raise ShapeError(
            f"profile text {text!r} gives min/max but no opt shape for {extra}",
            hint="add opt=name:AxBxC for each of them",
        )
    return out


#: What ``profiles=`` accepts (see the module docstring).
ProfileArg = Union[Mapping[str, Any], str]
ProfilesArg = Union[ProfileArg, Sequence[ProfileArg], None]


def _raw_profiles(profiles: ProfilesArg) -> list[Mapping[str, Any]]:
    if profiles is None:
        return [{}]
    if isinstance(profiles, (Mapping, str)):
        items: list[Any] = [profiles]
    elif isinstance(profiles, Sequence) and not isinstance(profiles, bytes):
        items = list(profiles) or [{}]
    else:
        raise InputError(
            "profiles must be a dict {input_name: (min, opt, max)} (or trtexec text), "
            f"got {type(profiles).__name__}",
            hint=_EXAMPLE,
        )
    out: list[Mapping[str, Any]] = []
    for i, p in enumerate(items):
        if isinstance(p, str):
            out.append(parse_profile_text(p))
        elif isinstance(p, Mapping):
            out.append(p)
        else:
            raise InputError(
                f"profiles[{i}] must be a dict {{input_name: (min, opt, max)}} or trtexec "
                f"text, got {type(p).__name__}",
                hint="pass one dict, or a list of dicts for several profiles",
            )
    return out


def parse_profiles(profiles: ProfilesArg) -> list[Profile]:
    """The form of ``profiles`` only (no model at hand, e.g. ``trtexec_args`` without ONNX)."""
    out = [Profile(p) for p in _raw_profiles(profiles)]
    for profile in out:
        for name, rng in profile.items():
            rng.check_order(name)
    return out


# -- checking against the model ------------------------------------------------------------------
def check_range(spec: TensorSpec, rng: ShapeRange) -> None:
    """Raise :class:`ShapeError` unless ``rng`` fits ``spec`` (rank, fixed dims, ordering)."""
    rank = len(spec.shape)
    for which, shape in zip(("min", "opt", "max"), rng, strict=True):
        if len(shape) != rank:
            raise ShapeError(
                f"profile for input '{spec.name}': {which} shape {list(shape)} has rank "
                f"{len(shape)}, but the ONNX input is {spec.shape_str()} (rank {rank})",
                hint="give one size per dimension of the input",
            )
    for axis, want in enumerate(spec.shape):
        lo, opt, hi = (s[axis] for s in rng)
        if isinstance(want, int) and want >= 0:
            bad = [(w, v) for w, v in (("min", lo), ("opt", opt), ("max", hi)) if v != want]
            if bad:
                got = ", ".join(f"{w}={v}" for w, v in bad)
                raise ShapeError(
                    f"profile for input '{spec.name}' axis {axis}: the ONNX model fixes this "
                    f"dim to {want} ({spec.shape_str()}), but the profile has {got}",
                    hint=f"use {want} for axis {axis}, or re-export with that axis dynamic",
                )
            continue
        if min(lo, opt, hi) < 1:
            raise ShapeError(
                f"profile for input '{spec.name}' axis {axis}: sizes must be >= 1, got "
                f"min={lo} opt={opt} max={hi}",
                hint="use positive sizes",
            )
        if not lo <= opt <= hi:
            dim = f" ('{want}')" if isinstance(want, str) else ""
            raise ShapeError(
                f"profile for input '{spec.name}' axis {axis}{dim}: need min <= opt <= max, got "
                f"min={lo} opt={opt} max={hi}",
                hint="order the three shapes as (min, opt, max)",
            )


def validate_profiles(specs: Sequence[TensorSpec], profiles: ProfilesArg) -> list[Profile]:
    """Check ``profiles`` against the model inputs ``specs``; one :class:`Profile` per profile.

    Raises :class:`InputError` for unknown input names and :class:`ShapeError` for rank
    mismatches, sizes that contradict fixed dims, ``min <= opt <= max`` violations and dynamic
    non-batch dims without a profile. A dynamic input without a profile gets
    :func:`default_profile`'s range (batch 1); inputs with only fixed dims need none.
    """
    raw = _raw_profiles(profiles)
    by_name = {s.name: s for s in specs}
    resolved: list[Profile] = []
    for index, profile in enumerate(raw):
        where = f"profiles[{index}]" if len(raw) > 1 else "profiles"
        unknown = sorted(set(profile) - set(by_name))
        if unknown:
            raise InputError(
                f"{where} names input(s) {unknown} that the ONNX model does not have; "
                f"its inputs are {list(by_name)}",
                hint="use the input names of the ONNX model (trtlab.export uses 'input')",
            )
        out: dict[str, ShapeRange] = {}
        for spec in specs:
            if spec.name in profile:
                rng = as_shape_range(spec.name, profile[spec.name])
                check_range(spec, rng)
                out[spec.name] = rng
            elif spec.dynamic_axes:
                out[spec.name] = default_range(spec)
        resolved.append(Profile(out))
    return resolved


# -- defaults derived from the model -------------------------------------------------------------
Triple = tuple[int, int, int]


def _triple(value: int | Sequence[int], what: str) -> Triple:
    if isinstance(value, bool):
        raise InputError(f"{what} must be an int or (min, opt, max), got {value!r}", hint="e.g. 8")
    try:
        if isinstance(value, Sequence) and not isinstance(value, str):
            lo, opt, hi = (operator.index(v) for v in value)
        else:
            lo = opt = hi = operator.index(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{what} must be an int or a (min, opt, max) triple of ints, got {value!r}",
            hint=f"e.g. {what}=(1, 4, 8)",
        ) from None
    if not 1 <= lo <= opt <= hi:
        raise InputError(
            f"{what} must satisfy 1 <= min <= opt <= max, got min={lo} opt={opt} max={hi}",
            hint=f"e.g. {what}=(1, 4, 8)",
        )
    return lo, opt, hi


def default_range(
    spec: TensorSpec,
    *,
    batch: int | Sequence[int] = 1,
    hw: int | Sequence[int] | None = None,
) -> ShapeRange:
    """The range of one input from its own dims: fixed dims kept, axis 0 ``batch``, others ``hw``.

    ``batch``/``hw`` are one size or ``(min, opt, max)``. With ``hw=None`` a dynamic non-batch
    dim raises :class:`ShapeError` naming it, because no size is safe to guess for it.
    """
    b = _triple(batch, "batch")
    size = None if hw is None else _triple(hw, "hw")
    dynamic = spec.dynamic_axes
    if size is None and any(a != 0 for a in dynamic):
        names = ", ".join(
            f"axis {a}" + (f" ('{spec.shape[a]}')" if isinstance(spec.shape[a], str) else "")
            for a in dynamic
        )

        def example(n: int, s: int) -> str:
            dims = [
                d if isinstance(d, int) and d >= 0 else (n if a == 0 else s)
                for a, d in enumerate(spec.shape)
            ]
            return "(" + ", ".join(str(d) for d in dims) + ")"

        raise ShapeError(
            f"input '{spec.name}' {spec.shape_str()} has dynamic {names} and no profile; "
            "TensorRT needs min/opt/max sizes for them",
            hint=f"pass profiles={{'{spec.name}': (min, opt, max)}}, e.g. "
            f"{{'{spec.name}': ({example(1, 224)}, {example(1, 512)}, {example(4, 1024)})}}",
        )
    shapes: list[list[int]] = [[], [], []]
    for axis, dim in enumerate(spec.shape):
        if isinstance(dim, int) and dim >= 0:
            triple: Triple = (dim, dim, dim)
        elif axis == 0:
            triple = b
        else:
            assert size is not None  # noqa: S101 - checked above
            triple = size
        for i in range(3):
            shapes[i].append(triple[i])
    return ShapeRange(tuple(shapes[0]), tuple(shapes[1]), tuple(shapes[2]))


def default_profile(
    onnx_or_specs: str | os.PathLike[str] | Any | Sequence[TensorSpec],
    *,
    batch: int | Sequence[int] = 1,
    hw: int | Sequence[int] | None = None,
) -> Profile:
    """One profile for every dynamic input of a model, derived from the model's own dims.

    ``onnx_or_specs``: an ONNX path or ``ModelProto``, or input :class:`TensorSpec` s.
    ``batch``: axis 0 when it is dynamic, one size (fixed batch) or ``(min, opt, max)``;
    ``hw``: every other dynamic dim (image height/width), one size or ``(min, opt, max)``;
    ``None`` makes such a dim an error. Fixed dims come from the model (no 3x224x224 guess).
    Inputs with only fixed dims get no entry (TensorRT needs none).
    """
    specs = _specs_of(onnx_or_specs)
    return Profile({s.name: default_range(s, batch=batch, hw=hw) for s in specs if s.dynamic_axes})


def _specs_of(source: Any) -> list[TensorSpec]:
    from trtlab.tensors import TensorSpec

    if isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        specs = list(source)
        if all(isinstance(s, TensorSpec) for s in specs):
            return specs
        raise InputError(
            f"expected an ONNX path, an onnx.ModelProto or TensorSpecs, got {source!r}",
            hint="pass the ONNX file path",
        )
    from trtlab.onnx_meta import input_specs

    return input_specs(source)


__all__ = [
    "Profile",
    "ProfileArg",
    "ProfilesArg",
    "Shape",
    "ShapeRange",
    "as_shape_range",
    "check_range",
    "check_shape",
    "default_profile",
    "default_range",
    "parse_profile_text",
    "parse_profiles",
    "parse_shapes",
    "shape_str",
    "validate_profiles",
]
