"""Numerical parity between two backends' outputs, with per-precision tolerances.

``compare(torch_out, ort_out, precision="fp32")`` returns a :class:`ParityReport` that is truthy
when every output passes, prints as a table and renders as a coloured HTML table in Jupyter.

Three kinds of outputs are judged differently:

* ``logits`` (float ``[N, C]``): relative L2 error and top-1 agreement. Rows where the reference's
  best two logits lie within ``atol + rtol * |best|`` are *near ties*: either answer agrees (a
  random-weight model has many). Top-k overlap and max abs error are reported, not gated.
* ``classmap`` (integer ids, e.g. FCN's ``[N, H, W]``): fraction of pixels with the same class.
* ``tensor`` (anything else): every element within ``atol + rtol * |ref|`` and relative L2 bounded.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from trtlab._lazy import make_module_callable
from trtlab._tables import Cell, Html, HtmlCell, html_table, text_table
from trtlab.errors import DTypeError, InputError, ParityError, ShapeError

Kind = Literal["logits", "classmap", "tensor"]
KINDS: tuple[str, ...] = ("logits", "classmap", "tensor")


@dataclass(frozen=True)
class Tolerance:
    """Pass limits for one precision.

    ``rtol``/``atol``: element-wise bound ``|c - r| <= atol + rtol * |r|`` (tensors; also the
    near-tie margin for logits). ``max_rel_l2``: ``||c - r|| / ||r||``. ``min_top1``: fraction of
    non-tied rows whose top-1 class agrees. ``min_pixel``: fraction of equal class-map pixels.
    """

    rtol: float
    atol: float
    max_rel_l2: float
    min_top1: float
    min_pixel: float


#: Why these numbers: fp32 engines reorder sums (errors ~1e-7 relative per op, ~1e-6 after 100
#: layers), so 1e-5 relative L2 leaves margin while catching real bugs (wrong preprocessing or
#: weights give ~1). TF32 and FP16 keep 10 mantissa bits (eps ~1e-3); over ResNet depth that is a
#: few 1e-3 relative L2, bounded at 1e-2 / 3e-2. BF16 keeps 7 bits (eps ~8e-3): bounded at 1e-1.
#: Segmentation pixels flip where two classes are nearly tied (object borders): 0.1% at fp32,
#: 1-2% at reduced precision, 5% at bf16.
TOLERANCES: dict[str, Tolerance] = {
    "fp32": Tolerance(rtol=1e-4, atol=1e-4, max_rel_l2=1e-5, min_top1=1.0, min_pixel=0.999),
    "tf32": Tolerance(rtol=1e-2, atol=1e-2, max_rel_l2=1e-2, min_top1=1.0, min_pixel=0.99),
    "fp16": Tolerance(rtol=3e-2, atol=3e-2, max_rel_l2=3e-2, min_top1=0.99, min_pixel=0.98),
    "bf16": Tolerance(rtol=1e-1, atol=1e-1, max_rel_l2=1e-1, min_top1=0.98, min_pixel=0.95),
}


def get_tolerance(precision: str) -> Tolerance:
    """The :data:`TOLERANCES` entry of ``precision``; InputError for unknown names."""
    key = str(precision).lower()
    if key not in TOLERANCES:
        raise InputError(
            f"unknown precision {precision!r}: expected one of {sorted(TOLERANCES)}",
            hint="or pass tolerance=Tolerance(...) explicitly",
        )
    return TOLERANCES[key]


@dataclass
class OutputParity:
    """The verdict on one output: metrics, pass/fail and the reasons of a failure."""

    name: str
    kind: Kind
    shape: tuple[int, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    passed: bool = True
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape"] = list(self.shape)
        return d


def _fmt(key: str, value: float) -> str:
    """One formatting for text and HTML (so tests and readers see the same numbers)."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if key in ("top1_agreement", "top1_tie_aware", "topk_overlap", "pixel_agreement", "within_tol"):
        return f"{value:.2%}"
    if key in ("mismatched_pixels", "near_ties", "nonfinite", "rows", "pixels", "k"):
        return f"{int(value)}"
    return f"{value:.3g}"


#: Metrics shown in the summary table per kind (all metrics are in ``to_dict()``).
_SHOWN: dict[str, tuple[str, ...]] = {
    "logits": ("rel_l2", "max_abs", "top1_agreement", "near_ties", "topk_overlap"),
    "classmap": ("pixel_agreement", "mismatched_pixels"),
    "tensor": ("rel_l2", "max_abs", "within_tol"),
}
#: Columns of the report table (text and HTML).
_HEADER = ("output", "kind", "shape", "metrics", "limits", "result")


@dataclass
class ParityReport:
    """Per-output parity verdicts; ``bool(report)`` is True when all outputs pass."""

    outputs: list[OutputParity]
    precision: str
    tolerance: Tolerance
    reference_name: str = "reference"
    candidate_name: str = "candidate"

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outputs)

    def __bool__(self) -> bool:
        return self.passed

    def __getitem__(self, name: str) -> OutputParity:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)

    @property
    def failures(self) -> list[OutputParity]:
        return [o for o in self.outputs if not o.passed]

    def _headline(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"Parity {self.candidate_name} vs {self.reference_name} "
            f"(precision {self.precision}): {verdict}"
        )

    def _limits(self, kind: str) -> str:
        t = self.tolerance
        if kind == "logits":
            return f"rel_l2<={t.max_rel_l2:.3g}, top1>={t.min_top1:.2%}"
        if kind == "classmap":
            return f"pixels>={t.min_pixel:.2%}"
        return f"|d|<={t.atol:.3g}+{t.rtol:.3g}|ref|, rel_l2<={t.max_rel_l2:.3g}"

    def _rows(self) -> list[list[str]]:
        rows = []
        for o in self.outputs:
            metrics = ", ".join(
                f"{k}={_fmt(k, o.metrics[k])}" for k in _SHOWN[o.kind] if k in o.metrics
            )
            rows.append(
                [
                    o.name,
                    o.kind,
                    "x".join(map(str, o.shape)),
                    metrics,
                    self._limits(o.kind),
                    "PASS" if o.passed else "FAIL",
                ]
            )
        return rows

    def __str__(self) -> str:
        reasons = {i: [f"    - {r}" for r in o.reasons] for i, o in enumerate(self.outputs)}
        table = text_table(self._rows(), header=_HEADER, extra=reasons)
        return f"{self._headline()}\n{table}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        ok, bad = "#1a7f37", "#cf222e"
        color = ok if self.passed else bad
        body: list[list[HtmlCell]] = []
        for o, r in zip(self.outputs, self._rows(), strict=True):
            style = f"color:white;background:{ok if o.passed else bad};font-weight:bold"
            body.append([*r[:-1], Cell(r[-1], style=style)])
            if o.reasons:
                text = Html("<br>".join(html.escape(x) for x in o.reasons))
                body.append([Cell(text, style=f"color:{bad}", colspan=len(_HEADER))])
        return (
            f"<div class='trtlab-parity'><b style='color:{color}'>"
            f"{html.escape(self._headline())}</b>{html_table(body, header=_HEADER)}</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (metrics as floats)."""
        return {
            "passed": self.passed,
            "precision": self.precision,
            "tolerance": asdict(self.tolerance),
            "reference_name": self.reference_name,
            "candidate_name": self.candidate_name,
            "outputs": [o.to_dict() for o in self.outputs],
        }

    def raise_for_failure(self) -> ParityReport:
        """Raise :class:`ParityError` (with the table) when any output fails; else return self."""
        if not self.passed:
            names = ", ".join(o.name for o in self.failures)
            raise ParityError(
                f"{self.candidate_name} disagrees with {self.reference_name} on {names}:\n{self}",
                hint="check preprocessing, weights and precision; a looser precision "
                "(compare(..., precision='fp16')) applies only to reduced-precision engines",
            )
        return self


# -- metrics ---------------------------------------------------------------------------------


def _to_numpy(x: Any, what: str) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        return np.asarray(x.detach().cpu().numpy())
    if isinstance(x, (np.generic, int, float)):
        return np.asarray(x)
    raise DTypeError(
        f"{what} must be a numpy array, got {type(x).__name__}",
        hint="convert with np.asarray(x) (torch: x.detach().cpu().numpy())",
    )


def _as_dict(x: Any, what: str) -> dict[str, np.ndarray]:
    if isinstance(x, Mapping):
        return {str(k): _to_numpy(v, f"{what}[{k!r}]") for k, v in x.items()}
    return {"output": _to_numpy(x, what)}


def _rel_l2(ref: np.ndarray, diff: np.ndarray) -> float:
    denom = float(np.linalg.norm(ref))
    num = float(np.linalg.norm(diff))
    return num / denom if denom > 0 else num


def _auto_kind(ref: np.ndarray, cand: np.ndarray) -> Kind:
    if np.issubdtype(ref.dtype, np.integer) or ref.dtype == np.bool_:
        return "classmap"
    if ref.ndim == 2 and ref.shape[1] >= 2:
        return "logits"
    return "tensor"


def _nonfinite_reasons(ref: np.ndarray, cand: np.ndarray, out: OutputParity) -> bool:
    """Record NaN/inf in either side; True when the numeric metrics are meaningless."""
    bad = False
    for side, arr in (("candidate", cand), ("reference", ref)):
        if not np.issubdtype(arr.dtype, np.floating):
            continue
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        if n_nan or n_inf:
            bad = True
            out.reasons.append(f"{side} has {n_nan} NaN and {n_inf} inf values")
            if side == "candidate":
                out.metrics["nonfinite"] = float(n_nan + n_inf)
    return bad


def _empty_fails(ref: np.ndarray, out: OutputParity) -> bool:
    """An empty output proves nothing: it fails instead of passing vacuously."""
    if ref.size:
        return False
    out.reasons.append(
        f"output is empty (shape {list(ref.shape)}): nothing was compared; check the batch size "
        "and that the model produced data"
    )
    out.passed = False
    return True


def _compare_float(
    ref: np.ndarray, cand: np.ndarray, out: OutputParity, tol: Tolerance, k: int
) -> None:
    r = ref.astype(np.float64)
    c = cand.astype(np.float64)
    if _empty_fails(ref, out):
        return
    if _nonfinite_reasons(ref, cand, out):
        out.passed = False
        return
    diff = c - r
    absd = np.abs(diff)
    m = out.metrics
    m["max_abs"] = float(absd.max()) if absd.size else 0.0
    m["mean_abs"] = float(absd.mean()) if absd.size else 0.0
    m["rel_l2"] = _rel_l2(r, diff)
    if m["rel_l2"] > tol.max_rel_l2:
        out.reasons.append(f"relative L2 error {m['rel_l2']:.3g} > {tol.max_rel_l2:.3g}")
    if out.kind == "tensor":
        within = absd <= tol.atol + tol.rtol * np.abs(r)
        m["within_tol"] = float(within.mean()) if within.size else 1.0
        if m["within_tol"] < 1.0:
            flat = int(np.argmax(absd - tol.rtol * np.abs(r)))
            worst = tuple(int(i) for i in np.unravel_index(flat, r.shape))
            out.reasons.append(
                f"{int((~within).sum())} of {within.size} elements outside "
                f"atol={tol.atol:.3g} + rtol={tol.rtol:.3g}*|ref| (worst at {list(worst)}: "
                f"ref {r[worst]:.6g}, got {c[worst]:.6g})"
            )
    else:  # logits [N, C]
        n, classes = r.shape
        kk = max(1, min(k, classes))
        top_r = np.argmax(r, axis=1)
        top_c = np.argmax(c, axis=1)
        agree = top_r == top_c
        srt = np.sort(r, axis=1)
        best, second = srt[:, -1], srt[:, -2]
        tie = (best - second) <= tol.atol + tol.rtol * np.abs(best)
        # a disagreement on a near-tied row is fine if the candidate picked one of the tied ones
        picked = r[np.arange(n), top_c]
        ok_tie = tie & (best - picked <= tol.atol + tol.rtol * np.abs(best))
        decisive = ~tie
        m["rows"] = float(n)
        m["k"] = float(kk)
        m["top1_agreement"] = float(agree.mean())
        m["near_ties"] = float(tie.sum())
        good = agree | ok_tie
        m["top1_tie_aware"] = float(good.mean())
        tk_r = np.argsort(-r, axis=1, kind="stable")[:, :kk]
        tk_c = np.argsort(-c, axis=1, kind="stable")[:, :kk]
        overlap = [len(set(a) & set(b)) / kk for a, b in zip(tk_r, tk_c, strict=True)]
        m["topk_overlap"] = float(np.mean(overlap))
        if m["top1_tie_aware"] < tol.min_top1:
            rows = np.flatnonzero(~good)[:5].tolist()
            out.reasons.append(
                f"top-1 class differs on {int((~good).sum())} of {n} rows "
                f"({int(decisive.sum())} without near ties), e.g. rows {rows}: ref "
                f"{top_r[rows].tolist()} vs {top_c[rows].tolist()}; agreement "
                f"{m['top1_tie_aware']:.2%} < {tol.min_top1:.2%}"
            )
    out.passed = not out.reasons


def _compare_classmap(ref: np.ndarray, cand: np.ndarray, out: OutputParity, tol: Tolerance) -> None:
    if _empty_fails(ref, out):
        return
    same = ref.astype(np.int64) == cand.astype(np.int64)
    m = out.metrics
    m["pixels"] = float(same.size)
    m["mismatched_pixels"] = float(same.size - int(same.sum()))
    m["pixel_agreement"] = float(same.mean()) if same.size else 1.0
    if m["pixel_agreement"] < tol.min_pixel:
        out.reasons.append(
            f"{int(m['mismatched_pixels'])} of {same.size} pixels differ: agreement "
            f"{m['pixel_agreement']:.2%} < {tol.min_pixel:.2%}"
        )
    out.passed = not out.reasons


def compare(
    reference: Any,
    candidate: Any,
    *,
    precision: str = "fp32",
    kind: str | Mapping[str, str] = "auto",
    names: Sequence[str] | None = None,
    k: int = 5,
    tolerance: Tolerance | None = None,
    reference_name: str = "reference",
    candidate_name: str = "candidate",
) -> ParityReport:
    """Compare ``candidate`` outputs against ``reference`` outputs (runner dicts or arrays).

    ``kind``: ``"auto"`` (integer -> classmap, float ``[N, C]`` -> logits, else tensor), one
    kind for all outputs, or ``{name: kind}``. ``names`` restricts the outputs compared.
    ``tolerance`` overrides the :data:`TOLERANCES` entry of ``precision``.
    """
    tol = tolerance if tolerance is not None else get_tolerance(precision)
    if not isinstance(tol, Tolerance):
        raise InputError(
            f"tolerance must be a Tolerance, got {type(tol).__name__}",
            hint="e.g. Tolerance(rtol=1e-3, atol=1e-3, max_rel_l2=1e-3, min_top1=1, min_pixel=1)",
        )
    if not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive int, got {k!r}", hint="e.g. k=5")
    ref = _as_dict(reference, reference_name)
    cand = _as_dict(candidate, candidate_name)
    if names is None:
        if set(ref) != set(cand):
            raise InputError(
                f"output names differ: {reference_name} has {sorted(ref)}, "
                f"{candidate_name} has {sorted(cand)}",
                hint="pass names=[...] to compare a subset, or rename the outputs",
            )
        chosen = list(ref)
    else:
        chosen = [names] if isinstance(names, str) else list(names)
        missing = [n for n in chosen if n not in ref or n not in cand]
        if missing:
            raise InputError(
                f"outputs {missing} are not in both: {reference_name} has {sorted(ref)}, "
                f"{candidate_name} has {sorted(cand)}",
                hint="use names present in both output dicts",
            )
    if not chosen:
        raise InputError(
            f"nothing to compare: {reference_name} and {candidate_name} have no outputs",
            hint="pass the runners' output dicts (runner(x)), not empty ones",
        )
    results = []
    for name in chosen:
        r, c = ref[name], cand[name]
        if r.shape != c.shape:
            raise ShapeError(
                f"output '{name}': {reference_name} has shape {list(r.shape)}, "
                f"{candidate_name} has {list(c.shape)}",
                hint="run both with the same input (batch size, image size)",
            )
        r_int = np.issubdtype(r.dtype, np.integer) or r.dtype == np.bool_
        c_int = np.issubdtype(c.dtype, np.integer) or c.dtype == np.bool_
        numeric = all(np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_ for a in (r, c))
        if r_int != c_int or not numeric:
            raise DTypeError(
                f"output '{name}': {reference_name} is {r.dtype}, {candidate_name} is {c.dtype}; "
                "cannot compare integer class ids with floating point scores",
                hint="compare like with like (both class maps, or both logits)",
            )
        want = kind.get(name, "auto") if isinstance(kind, Mapping) else kind
        if want == "auto":
            chosen_kind: Kind = _auto_kind(r, c)
        elif want in KINDS:
            chosen_kind = want  # type: ignore[assignment]
        else:
            raise InputError(
                f"kind {want!r} for output '{name}': expected 'auto' or one of {list(KINDS)}",
                hint="e.g. kind='tensor'",
            )
        if chosen_kind == "logits" and (r.ndim != 2 or r.shape[1] < 2 or r_int):
            raise ShapeError(
                f"output '{name}' compared as logits must be float [N, C>=2], got "
                f"{r.dtype} {list(r.shape)}",
                hint="use kind='tensor'",
            )
        out = OutputParity(name=name, kind=chosen_kind, shape=tuple(int(d) for d in r.shape))
        if chosen_kind == "classmap":
            if not r_int:
                raise DTypeError(
                    f"output '{name}' compared as classmap must hold integers, got {r.dtype}",
                    hint="take argmax first, or use kind='tensor'",
                )
            _compare_classmap(r, c, out, tol)
        else:
            _compare_float(r, c, out, tol, k)
        results.append(out)
    return ParityReport(
        outputs=results,
        precision=str(precision).lower() if tolerance is None else f"{precision} (custom)",
        tolerance=tol,
        reference_name=reference_name,
        candidate_name=candidate_name,
    )


__all__ = [
    "KINDS",
    "TOLERANCES",
    "OutputParity",
    "ParityReport",
    "Tolerance",
    "compare",
    "get_tolerance",
]


make_module_callable(__name__, compare)  # `trtlab.compare(...)` works after `import trtlab.compare`
