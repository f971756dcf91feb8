"""Learning curves: when a run has learned, and how well its start predicts its end.

- :func:`steps_to_plateau`: the first step by which most of the drop in excess loss has happened.
- :func:`extrapolate`: fit ``E + A s^(−α)`` to the first part of a curve and predict its end.
- :func:`extrapolation_errors`: that, for loss and the capability metrics of every run of a sweep.
- :func:`error_peak` and :func:`where_on_knob`: the knob setting where the extrapolation of a metric
  misses most, and which end of the knob it sits at.
"""

from __future__ import annotations

import math

import numpy as np

from ..sources.knobs import KNOB_K
from .scaling import fit_power_law


ORDERED = "the ordered part (h below a quarter of its maximum)"
MIDDLE = "the middle (h between a quarter and three quarters of its maximum)"
NOISY = "the noisy part (h above three quarters of its maximum)"


def steps_to_plateau(steps, excess, fraction: float = 0.9) -> int:
    """First step by which ``fraction`` of the total drop in excess loss has happened."""
    excess = np.asarray(excess)
    target = excess[0] - fraction * (excess[0] - excess[-1])
    return int(steps[int(np.argmax(excess <= target))])


def extrapolate(steps, values, fit_fraction: float, ceiling: float | None = None) -> dict:
    """Fit ``value(s) = E + A s^(−α)`` to the evaluations with 0 < s ≤ fit_fraction · S and predict
    the value at S, the last step, clipped to [0, ``ceiling``] (metrics here are non-negative; rates
    are at most 1). Constant fitted values are predicted as constant; a failed fit falls back to
    the last fitted value (and says so). Also returns the absolute error of the prediction and that
    error divided by how far the metric moved over the run (that divisor floored at 0.001)."""
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    S = steps[-1]
    mask = (steps > 0) & (steps <= fit_fraction * S)
    xs, ys = steps[mask], values[mask]
    out = {"actual": float(values[-1])}
    if len(xs) < 4:
        raise ValueError(f"only {len(xs)} evaluations in the fitted part; raise fit_fraction")
    if np.ptp(ys) < 1e-9:
        out.update(prediction=float(ys[-1]), method="constant")
    else:
        out.update(_power_law_prediction(xs, ys, S, ceiling))
    out["prediction"] = float(np.clip(out["prediction"], 0.0, np.inf if ceiling is None else ceiling))
    out["abs_error"] = abs(out["prediction"] - out["actual"])
    out["norm_error"] = out["abs_error"] / max(abs(float(values[-1] - values[0])), 1e-3)
    return out


def _power_law_prediction(xs, ys, S, ceiling) -> dict:
    try:
        # Power laws fall to a floor E >= 0: fit a rising metric as its distance to the ceiling
        # (an error rate), or, with no ceiling, to a bound well above the values seen.
        sign = 1.0 if ys[0] >= ys[-1] else -1.0
        shift = 0.0 if sign > 0 else (ceiling if ceiling is not None else float(2 * ys.max() - ys.min()))
        f = fit_power_law(xs, sign * ys + shift)
        return {"prediction": (float(f.predict(S)) - shift) * sign, "method": "power law"}
    except (RuntimeError, ValueError):
        return {"prediction": float(ys[-1]), "method": "last value (fit failed)"}


def extrapolation_errors(cells: list[dict], results: list[dict], fit_fraction: float) -> list[dict]:
    """For every run with an exact capability target and each of loss, token accuracy and exact
    match: the extrapolation from the first ``fit_fraction`` of the run, and its error, also
    normalised by how much the metric moved over the run (floored at 0.001)."""
    rows = []
    for c, r in zip(cells, results):
        if r["exact_match"][-1] is None:
            continue  # no exact target (Santa Fe)
        for metric, values in (("loss", r["val_bits"]), ("token accuracy", r["token_accuracy"]),
                               ("exact match", r["exact_match"])):
            ex = extrapolate(r["steps"], values, fit_fraction, ceiling=None if metric == "loss" else 1.0)
            rows.append({"family": c["family"], "knob": str(c["knob"]), "seed": c["seed"],
                         "h": r["h"], "metric": metric, "predicted": ex["prediction"],
                         "actual": ex["actual"], "abs_error": ex["abs_error"],
                         "norm_error": ex["norm_error"], "method": ex["method"]})
    return rows


def where_on_knob(h: float, h_max: float = math.log2(KNOB_K)) -> str:
    """Which part of a knob ``h`` sits in, by h as a share of h_max, with that definition in the
    words: the ordered part (below a quarter), the middle, or the noisy part (above three quarters)."""
    share = h / h_max
    if not 0.0 <= share <= 1.0 + 1e-9:
        raise ValueError(f"h must lie in [0, h_max = {h_max}]; got {h!r}")
    if share < 0.25:
        return ORDERED
    return NOISY if share > 0.75 else MIDDLE


def error_peak(errors: list[dict], metric: str = "exact match",
               families=("temperature", "noise")) -> dict:
    """The knob setting with the largest mean normalised error of ``metric`` (mean over seeds)."""
    by_setting: dict[tuple, list[float]] = {}
    for e in errors:
        if e["metric"] == metric and e["family"] in families:
            by_setting.setdefault((e["family"], e["knob"], round(e["h"], 4)), []).append(e["norm_error"])
    (family, knob_value, h), values = max(by_setting.items(), key=lambda kv: np.mean(kv[1]))
    return {"family": family, "knob": knob_value, "h": h, "error": float(np.mean(values)),
            "where": where_on_knob(h)}
