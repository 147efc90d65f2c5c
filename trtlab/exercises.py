"""Self-checking exercises for the notebooks (ARENA / d2l style).

An exercise is three cells: a task cell the learner fills in (tagged ``exercise``, its answer
starts as ``...``), a ``check_*`` call from this module that says right or wrong *and why*, and
the solution kept out of the way in a collapsed ``<details>`` markdown cell (tagged
``solution``). ``tools/solve_notebooks.py`` copies the solution code into the task cells, so CI
runs every notebook with the exercises solved and ``TRTLAB_EXERCISES_STRICT=1``: a check that
fails then raises, and the notebook run fails with it.

Each check returns a :class:`Verdict` that prints as one line (and renders as a coloured box in
Jupyter). An answer left as ``...`` is "not attempted yet", never an error for a learner.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trtlab import config
from trtlab.errors import TrtlabError

#: Set to 1 (CI does) to make a wrong or unattempted answer raise ExerciseError.
STRICT_ENV = "TRTLAB_EXERCISES_STRICT"


class ExerciseError(TrtlabError):
    """A wrong answer while ``TRTLAB_EXERCISES_STRICT=1`` (the solved-notebook CI run)."""


@dataclass(frozen=True, repr=False)
class Verdict:
    """The outcome of one check: right or wrong, why, and what to try next."""

    exercise: str
    ok: bool
    message: str
    hint: str = ""
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        mark = "correct" if self.ok else ("not attempted yet" if not self.attempted else "not yet")
        text = f"[{self.exercise}] {mark}: {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint and not self.ok else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.ok else ("#6e7781" if not self.attempted else "#cf222e")
        mark = (
            "✔ correct"
            if self.ok
            else ("… not attempted yet" if not self.attempted else "✘ not yet")
        )
        hint = f"<br><i>hint:</i> {html.escape(self.hint)}" if self.hint and not self.ok else ""
        return (
            f"<div style='border-left:4px solid {color};padding:4px 8px'>"
            f"<b style='color:{color}'>{mark}</b> <code>{html.escape(self.exercise)}</code>: "
            f"{html.escape(self.message)}{hint}</div>"
        )


def strict() -> bool:
    """True when wrong answers must raise (the CI run of the solved notebooks)."""
    return config.env_flag(STRICT_ENV)


def _finish(verdict: Verdict) -> Verdict:
    if not verdict.ok and strict():
        raise ExerciseError(
            str(verdict), hint="compare your answer with the solution cell below it"
        )
    return verdict


def _not_attempted(exercise: str, what: str) -> Verdict:
    return _finish(Verdict(exercise, False, f"replace the ... with {what}", attempted=False))


def attempted(answer: object) -> bool:
    """False while the answer is still the ``...`` placeholder (or None)."""
    return answer is not Ellipsis and answer is not None


def check_value(
    exercise: str,
    answer: Any,
    expected: float,
    *,
    rtol: float = 1e-3,
    atol: float = 0.0,
    why: str = "",
) -> Verdict:
    """A numeric answer (a count, a size, a speed-up) within ``rtol``/``atol`` of ``expected``."""
    if not attempted(answer):
        return _not_attempted(exercise, "a number")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _finish(Verdict(exercise, False, f"expected a number, got {type(answer).__name__}"))
    ok = math.isfinite(value) and math.isclose(value, expected, rel_tol=rtol, abs_tol=atol)
    message = f"{value:g}" + (" is right" if ok else f" is off: expected about {expected:g}")
    return _finish(Verdict(exercise, ok, message + (f" ({why})" if why and ok else ""), hint=why))


def check_choice(
    exercise: str, answer: Any, expected: str, explanations: Mapping[str, str]
) -> Verdict:
    """A multiple-choice answer; every wrong choice has its own explanation of why it is wrong."""
    if not attempted(answer):
        return _not_attempted(exercise, f"one of {', '.join(map(repr, explanations))}")
    key = str(answer).strip().lower()
    choices = {k.lower(): v for k, v in explanations.items()}
    if key not in choices:
        return _finish(
            Verdict(
                exercise, False, f"{answer!r} is not one of {', '.join(map(repr, explanations))}"
            )
        )
    ok = key == expected.lower()
    return _finish(Verdict(exercise, ok, choices[key]))


def check_array(
    exercise: str,
    answer: Any,
    expected: np.ndarray,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> Verdict:
    """An array answer: shape and dtype kind first (the usual mistakes), then values."""
    if not attempted(answer):
        return _not_attempted(exercise, "an array")
    got = np.asarray(answer)
    want = np.asarray(expected)
    if got.shape != want.shape:
        return _finish(
            Verdict(
                exercise,
                False,
                f"shape {list(got.shape)}, expected {list(want.shape)}",
                hint="check the layout (NCHW vs NHWC) and whether the batch axis is there",
            )
        )
    if got.dtype.kind != want.dtype.kind:
        return _finish(
            Verdict(exercise, False, f"dtype {got.dtype}, expected a {want.dtype} array")
        )
    if got.dtype.kind in "fc" and not np.isfinite(got).all():
        return _finish(Verdict(exercise, False, "the array holds NaN or inf values"))
    close = np.isclose(got, want, rtol=rtol, atol=atol)
    if bool(close.all()):
        return _finish(Verdict(exercise, True, f"all {got.size} values match"))
    bad = int((~close).sum())
    return _finish(
        Verdict(exercise, False, f"{bad} of {got.size} values differ from the reference")
    )


def check_function(
    exercise: str,
    answer: Callable[..., Any] | Any,
    reference: Callable[..., Any],
    cases: Sequence[tuple[Any, ...]],
    *,
    compare: Callable[[Any, Any], bool] | None = None,
) -> Verdict:
    """A function the learner wrote, run on ``cases`` against the reference implementation."""
    if not attempted(answer) or not callable(answer):
        return _not_attempted(exercise, "a function")
    same = compare or (lambda a, b: bool(np.array_equal(np.asarray(a), np.asarray(b))))
    for case in cases:
        want = reference(*case)
        try:
            got = answer(*case)
        except Exception as exc:  # the learner's code: report, do not crash the notebook
            return _finish(
                Verdict(exercise, False, f"raised {type(exc).__name__}: {exc} for input {case!r}")
            )
        if not same(got, want):
            return _finish(
                Verdict(exercise, False, f"for input {case!r} returned {got!r}, expected {want!r}")
            )
    return _finish(Verdict(exercise, True, f"matches the reference on {len(cases)} cases"))


def check_dynamic_axes(
    exercise: str, onnx_path: Any, dynamic: Mapping[str, Sequence[int]]
) -> Verdict:
    """An exported ONNX file whose named inputs/outputs have the given axes symbolic (dim_param)."""
    if not attempted(onnx_path):
        return _not_attempted(exercise, "the path your export wrote")
    from trtlab._lazy import lazy_import

    onnx = lazy_import("onnx", purpose="read the exported model")
    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as exc:  # a missing or broken file is the learner's to fix
        return _finish(Verdict(exercise, False, f"could not read {onnx_path}: {exc}"))
    values = {v.name: v for v in [*model.graph.input, *model.graph.output]}
    for name, axes in dynamic.items():
        if name not in values:
            return _finish(
                Verdict(
                    exercise,
                    False,
                    f"no tensor named {name!r}; the model has {', '.join(values)}",
                    hint="pass input_names=[...] / output_names=[...] to torch.onnx.export",
                )
            )
        dims = values[name].type.tensor_type.shape.dim
        for axis in axes:
            if axis >= len(dims) or not dims[axis].dim_param:
                fixed = dims[axis].dim_value if axis < len(dims) else "missing"
                return _finish(
                    Verdict(
                        exercise,
                        False,
                        f"{name} axis {axis} is fixed ({fixed}), expected a symbolic dimension",
                        hint="mark it in dynamic_axes (legacy) or dynamic_shapes (dynamo)",
                    )
                )
    return _finish(Verdict(exercise, True, "the axes you made dynamic are symbolic in the file"))


def check_profile(
    exercise: str,
    answer: Any,
    model: Any,
    *,
    input: str,
    batch: tuple[int, int],
) -> Verdict:
    """An optimization profile (any form ``validate_profiles`` reads) for the ONNX ``model`` (a
    path, a ``ModelProto`` or its input ``TensorSpec`` s) whose ``input`` covers batch sizes
    ``batch[0]..batch[1]``. Invalid profiles are wrong with the validator's own explanation, so
    the learner meets the same message TensorRT's builder would give."""
    if not attempted(answer):
        return _not_attempted(exercise, "a profile {input_name: (min_shape, opt_shape, max_shape)}")
    from trtlab.onnx_meta import input_specs
    from trtlab.tensors import TensorSpec
    from trtlab.trt.profiles import validate_profiles

    try:
        is_specs = isinstance(model, Sequence) and not isinstance(model, (str, bytes))
        specs = [s for s in model if isinstance(s, TensorSpec)] if is_specs else input_specs(model)
        profiles = validate_profiles(specs, answer)
    except TrtlabError as exc:
        message = str(exc).split("\n")[0]
        return _finish(
            Verdict(exercise, False, f"not a valid profile: {message}", hint=exc.hint or "")
        )
    if len(profiles) != 1:
        return _finish(
            Verdict(exercise, False, f"expected one profile, got {len(profiles)}", hint="one dict")
        )
    rng = profiles[0].get(input)
    if rng is None or not rng.min:
        return _finish(Verdict(exercise, False, f"the profile has no range for input {input!r}"))
    lo, opt, hi = rng.min[0], rng.opt[0], rng.max[0]
    want_lo, want_hi = batch
    if lo > want_lo or hi < want_hi:
        return _finish(
            Verdict(
                exercise,
                False,
                f"batch {lo}..{hi} does not cover {want_lo}..{want_hi}",
                hint=f"min shape batch <= {want_lo}, max shape batch >= {want_hi}",
            )
        )
    return _finish(
        Verdict(exercise, True, f"batch {lo}..{hi} covers {want_lo}..{want_hi}, tuned for {opt}")
    )


__all__ = [
    "STRICT_ENV",
    "ExerciseError",
    "Verdict",
    "attempted",
    "check_array",
    "check_choice",
    "check_dynamic_axes",
    "check_function",
    "check_profile",
    "check_value",
    "strict",
]
