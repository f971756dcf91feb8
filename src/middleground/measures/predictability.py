"""The central test: can small models predict a large one, and is that harder in the middle?

For every knob setting, a ladder of model sizes N is trained (:mod:`middleground.sweeps.knob`).
The laws below are fitted to the smaller rungs and predict the largest:

- **loss**: excess loss above the finite-context floor, ``excess(N) = A N^(−α)`` (the floor is
  known exactly, so the asymptote is not a free parameter); error in bits;
- **capability**: the exact-match rate, a sigmoid in log N, i.e. ``logit p(N) = a + b log N``;
  error on the log-odds scale, with rates smoothed as (k + ½)/(n + 1) so 0 of 512 is finite.

Neither error is divided by anything, so a metric that did not move costs no instability.
:func:`region_contrast` is the statistic stated in chapter ``ladder`` before its results: the mean
error of the middle settings minus that of the ends, with a permutation p-value (region labels
shuffled among the settings of each family), and :func:`central_test` adds its bootstrap interval
(seeds resampled as whole ladders, prompts resampled within every run) and :func:`decision` the
pre-stated rule. :func:`within_run` is the second, clearly separate measure: a run's final loss
extrapolated from its own post-warmup start in cumulative learning rate (which a cosine schedule
needs), ``E + A S^(−α)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..base import checks
from .regions import MIDDLE, NOISY, ORDERED

ALPHA_GRID = np.linspace(0.0, 3.0, 601)  # exponents searched; 0.005 apart
LEVEL = 0.05                              # significance level of the decision rule

# The bootstraps' random streams, np.random.default_rng([seed, STREAM]): named and distinct, so
# the central test and the contrast interval never draw from one stream.
CENTRAL_BOOTSTRAP_STREAM = 31
CONTRAST_BOOTSTRAP_STREAM = 37


@dataclass(frozen=True)
class DecayFit:
    """``y(x) = E + A x^(−α)`` with A ≥ 0 (E fixed or fitted), by least squares."""

    E: float
    A: float
    alpha: float

    def predict(self, x) -> np.ndarray:
        return self.E + self.A * np.asarray(x, dtype=float) ** -self.alpha


def fit_decay(x, y, E: float | None = None) -> DecayFit:
    """Least-squares fit of ``E + A x^(−α)``, α on :data:`ALPHA_GRID`, A ≥ 0; with ``E`` given
    only A and α are fitted. A grid, not a local optimiser: every fit is deterministic and never
    fails, and a flat curve gets A = 0 (a flat prediction) rather than a wild exponent."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or len(x) < (2 if E is not None else 3):
        raise ValueError(f"x and y must be 1-D of equal length, at least {2 if E is not None else 3}; "
                         f"got shapes {x.shape} and {y.shape}")
    if np.any(x <= 0) or not np.all(np.isfinite(x)) or not np.all(np.isfinite(y)):
        raise ValueError("x must be positive and finite, and y finite")
    if E is not None:
        checks.real("E", E)
    z = x[None, :] ** -ALPHA_GRID[:, None]  # every exponent of the grid at once: (grid, points)
    if E is not None:
        A = np.maximum(0.0, (z @ (y - E)) / np.einsum("gi,gi->g", z, z))
        e = np.full(len(ALPHA_GRID), float(E))
    else:
        zc, yc = z - z.mean(1, keepdims=True), y - y.mean()
        var = np.einsum("gi,gi->g", zc, zc)
        A = np.where(var > 0, np.maximum(0.0, (zc @ yc) / np.where(var > 0, var, 1.0)), 0.0)
        e = y.mean() - A * z.mean(1)
    sse = np.sum((y[None, :] - e[:, None] - A[:, None] * z) ** 2, axis=1)
    i = int(np.argmin(sse))  # the first (smallest α) of equal fits: a flat curve gets α = 0
    return DecayFit(float(e[i]), float(A[i]), float(ALPHA_GRID[i]) if A[i] > 0 else 0.0)


def smoothed_rate(k, n) -> np.ndarray:
    """(k + ½)/(n + 1): a rate that is never 0 or 1, so its log-odds is finite."""
    return (np.asarray(k, dtype=float) + 0.5) / (np.asarray(n, dtype=float) + 1.0)


def logit(p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


def fit_logit_line(N, k, n) -> tuple[float, float]:
    """``logit p(N) = a + b log N`` by least squares on smoothed rates: ``(a, b)``."""
    u, v = np.log(np.asarray(N, dtype=float)), logit(smoothed_rate(k, n))
    if len(u) < 2:
        raise ValueError("need at least two sizes to fit a line in log N")
    b, a = np.polyfit(u, v, 1)
    return float(a), float(b)


def size_predictions(N, excess, k, n, target=None) -> dict:
    """Fit the smaller sizes (all but the last) and predict the last, for every metric.

    ``N``: sizes, increasing; ``excess``: excess loss above the floor at each size (bits);
    ``k``/``n``: exact continuations and prompts at each size; ``target`` (optional): the
    cross-entropy of the true continuation at each size (bits/symbol), the capability made
    continuous. Returns predictions, actual values and errors (loss and the continuous capability
    in bits, exact match in log-odds and, as a check, on the rate scale). All are 1-d of one
    length, at least 3 (two sizes to fit, one to predict), with 0 <= k <= n."""
    checks.reals("N", N, min_len=3, low=0.0, low_open=True)
    N, excess = np.asarray(N, dtype=float), np.asarray(excess, dtype=float)
    if np.any(np.diff(N) <= 0):
        raise ValueError("sizes N must be strictly increasing")
    # Counts must be finite; the fitted losses are checked by fit_decay (the last may be NaN).
    k_a, n_a = checks.reals("k", k), checks.reals("n", n)
    for name, values in (("excess", excess), ("k", k_a), ("n", n_a)) + (
            (("target", np.asarray(target, dtype=float)),) if target is not None else ()):
        if values.shape != N.shape:
            raise ValueError(f"{name} must be 1-d with one entry per size in N ({len(N)}); got "
                             f"shape {values.shape}")
    if np.any(k_a < 0) or np.any(k_a > n_a):
        raise ValueError("k (exact continuations) must lie in [0, n] (prompts) at every size")
    law = fit_decay(N[:-1], excess[:-1], E=0.0)
    loss_pred = float(law.predict(N[-1]))
    a, b = fit_logit_line(N[:-1], np.asarray(k)[:-1], np.asarray(n)[:-1])
    logit_pred = a + b * np.log(N[-1])
    logit_actual = float(logit(smoothed_rate(k[-1], n[-1])))
    rate_pred = float(1.0 / (1.0 + np.exp(-logit_pred)))
    out = {"loss_pred": loss_pred, "loss_actual": float(excess[-1]),
           "loss_error": abs(loss_pred - float(excess[-1])), "loss_alpha": law.alpha,
           "cap_pred": rate_pred, "cap_actual": float(smoothed_rate(k[-1], n[-1])),
           "cap_error": abs(float(logit_pred) - logit_actual), "cap_slope": b,
           # The same prediction scored on the rate's own bounded scale: a check of the log-odds
           # scale, which magnifies differences near 0 and 1.
           "cap_rate_error": abs(rate_pred - float(smoothed_rate(k[-1], n[-1])))}
    if target is not None:
        target = np.asarray(target, dtype=float)
        t_pred = float(fit_decay(N[:-1], target[:-1], E=0.0).predict(N[-1]))
        out.update(target_pred=t_pred, target_actual=float(target[-1]),
                   target_error=abs(t_pred - float(target[-1])))
    return out


def _contrast(errors, middle, ends) -> float:
    return float(errors[middle].mean() - errors[ends].mean())


def region_contrast(errors, regions, families, n_perm: int, seed: int = 0,
                    ends: tuple = (ORDERED, NOISY)) -> dict:
    """Mean error of the middle settings minus that of the ``ends`` (both, or one of them), and
    the one-sided permutation p-value of a difference at least that large when the labels are
    shuffled among the settings of each family (settings in other regions are left out). Also the
    lower-tail and two-sided p-values; ``labellings``, the number of distinct ways the shuffles can
    label the settings, and ``min_p``, the smallest p-value they can give (1 / labellings); and
    ``detectable``: the smallest difference that would have reached p < 0.05 with these settings
    (the 95th percentile of the shuffled differences; meaningful only when ``min_p`` < 0.05)."""
    errors = np.asarray(errors, dtype=float)
    regions, families = np.asarray(regions), np.asarray(families)
    keep = np.array([r == MIDDLE or r in ends for r in regions])
    errors, middle, families = errors[keep], regions[keep] == MIDDLE, families[keep]
    if middle.all() or not middle.any():
        raise ValueError("the contrast needs settings both in the middle and at the ends")
    observed = _contrast(errors, middle, ~middle)
    rng = np.random.default_rng(seed)
    labels = np.tile(middle, (n_perm, 1))
    for fam in np.unique(families):  # shuffle within each family, all permutations at once
        idx = np.nonzero(families == fam)[0]
        labels[:, idx] = rng.permuted(labels[:, idx], axis=1)
    d = (labels * errors).sum(1) / labels.sum(1) - (~labels * errors).sum(1) / (~labels).sum(1)
    # Distinct labellings the shuffles can produce: with few settings the smallest reachable p is
    # 1 / that number, and a test that cannot reach its level must say so rather than "fail".
    labellings = int(np.prod([math.comb(int((families == f).sum()), int(middle[families == f].sum()))
                              for f in np.unique(families)]))
    upper = float((1 + np.sum(d >= observed - 1e-12)) / (1 + n_perm))
    lower = float((1 + np.sum(d <= observed + 1e-12)) / (1 + n_perm))
    return {"difference": observed, "middle_mean": float(errors[middle].mean()),
            "ends_mean": float(errors[~middle].mean()), "p_value": upper, "p_lower": lower,
            "p_two_sided": min(1.0, 2 * min(upper, lower)),
            "detectable": float(np.percentile(d, 95)), "labellings": labellings,
            "min_p": 1.0 / labellings,
            "n_middle": int(middle.sum()), "n_ends": int((~middle).sum())}


METRICS = (("loss", "loss_error"), ("capability", "cap_error"), ("capability rate", "cap_rate_error"),
           ("capability continuous", "target_error"))
SIDES = (("", (ORDERED, NOISY)), ("vs ordered", (ORDERED,)), ("vs noisy", (NOISY,)))


def central_test(settings: list[dict], n_boot: int, n_perm: int, seed: int = 0) -> dict:
    """The test of chapter ``ladder`` on a list of knob settings.

    Each setting: ``{"family", "region", "N": sizes, "excess": (seeds, sizes) bits,
    "k": (seeds, sizes) exact continuations, "n": prompts per run}`` and optionally ``"target"``:
    (seeds, sizes) cross-entropy of the true continuation. A setting's curves are the means over
    its seeds (exact match: the pooled rate).

    Returns, per metric, the contrast of the middle with both ends (and with each end alone) with
    its permutation p-values and a hierarchical bootstrap 95 % interval: settings resampled within
    each family and region, then, for every pick, seeds as whole ladders and each run's prompts
    (binomially). Per setting, the predictions with intervals over seeds and prompts. Intervals of
    absolute errors lean upward (an error cannot be negative), so a point estimate can sit near the
    lower end of its interval.
    ``"loss"`` and ``"capability"`` enter the decision rule; ``"capability rate"`` (the exact-match
    error on the rate scale) and ``"capability continuous"`` (the continuation's cross-entropy, the
    metric-mirage check) are reported beside it."""
    rng = np.random.default_rng([seed, CENTRAL_BOOTSTRAP_STREAM])
    has_target = all("target" in s for s in settings)
    metrics = [m for m in METRICS if has_target or m[0] != "capability continuous"]

    def predict(s, rows, k):
        ex = np.asarray(s["excess"], dtype=float)[rows]
        n = s["n"] * k.shape[0]
        target = np.asarray(s["target"], dtype=float)[rows].mean(0) if has_target else None
        return size_predictions(s["N"], ex.mean(0), k.sum(0), np.full(len(s["N"]), n), target)

    point = [predict(s, np.arange(len(s["excess"])), np.asarray(s["k"])) for s in settings]
    regions = np.array([s["region"] for s in settings])
    families = np.array([s["family"] for s in settings])
    strata = [np.nonzero((families == f) & (regions == r))[0]
              for f in np.unique(families) for r in np.unique(regions)]
    strata = [idx for idx in strata if len(idx)]
    boot = {(metric, side): [] for metric, _ in metrics for side, _ in SIDES}
    per_setting = [[] for _ in settings]
    def redraw(s):
        """One setting again: seeds as whole ladders, then each run's prompts, drawn binomially
        at the smoothed rate (k + ½)/(n + 1) so that a count of 0 or n can vary too. The prompts
        of one seed are the same at every size; drawing them independently per size ignores that
        pairing, which can only widen the capability's interval."""
        k = np.asarray(s["k"])
        rows = rng.integers(0, k.shape[0], k.shape[0])
        return predict(s, rows, rng.binomial(s["n"], smoothed_rate(k[rows], s["n"])))

    for _ in range(n_boot):
        for i, s in enumerate(settings):
            per_setting[i].append(redraw(s))
        picked = np.concatenate([rng.choice(idx, len(idx)) for idx in strata])  # settings
        draws = [redraw(settings[i]) for i in picked]  # every pick its own seeds and prompts
        for metric, key in metrics:
            e = np.array([d[key] for d in draws])
            reg = regions[picked]
            for side, ends in SIDES:
                boot[metric, side].append(_contrast(e, reg == MIDDLE, np.isin(reg, ends)))
    out = {"settings": [], "metrics": [m for m, _ in metrics]}
    for metric, key in metrics:
        errors = [p[key] for p in point]
        res = region_contrast(errors, regions, families, n_perm, seed)
        res["interval"] = [float(v) for v in np.percentile(boot[metric, ""], [2.5, 97.5])]
        for side, ends in SIDES[1:]:
            one = region_contrast(errors, regions, families, n_perm, seed, ends=ends)
            one["interval"] = [float(v) for v in np.percentile(boot[metric, side], [2.5, 97.5])]
            res[side] = one
        res["by family"] = {f: region_contrast(np.array(errors)[families == f], regions[families == f],
                                               families[families == f], n_perm, seed)
                            for f in np.unique(families)}
        out[metric] = res
    keys = [k for p in point[:1] for k in p if k.endswith(("_pred", "_actual", "_error"))]
    for s, p, draws in zip(settings, point, per_setting):
        row = {"family": s["family"], "region": s["region"], **p}
        for key in keys:
            row[key + "_interval"] = [float(v) for v in np.percentile([d[key] for d in draws], [2.5, 97.5])]
        out["settings"].append(row)
    return out


def contrast_interval(errors_by_setting, regions, families, n_boot: int, seed: int = 0) -> list[float]:
    """95 % interval of the middle-minus-ends difference of per-run errors (one array of seeds per
    setting) by the hierarchical bootstrap of :func:`central_test`: settings within each family and
    region, then seeds within each setting."""
    rng = np.random.default_rng([seed, CONTRAST_BOOTSTRAP_STREAM])
    regions, families = np.asarray(regions), np.asarray(families)
    strata = [idx for f in np.unique(families) for r in np.unique(regions)
              if len(idx := np.nonzero((families == f) & (regions == r))[0])]
    out = []
    for _ in range(n_boot):
        picked = np.concatenate([rng.choice(idx, len(idx)) for idx in strata])
        e = np.array([np.mean(rng.choice(np.asarray(errors_by_setting[i]), len(errors_by_setting[i])))
                      for i in picked])
        reg = regions[picked]
        out.append(_contrast(e, reg == MIDDLE, np.isin(reg, (ORDERED, NOISY))))
    return [float(v) for v in np.percentile(out, [2.5, 97.5])]


def significant(result: dict, level: float = LEVEL) -> bool:
    """Harder to predict in the middle: permutation p below ``level``, the bootstrap interval
    above 0, and the middle's mean error above each end's separately (so a large error at one end
    cannot pass for a middle effect)."""
    sides_ok = all(result[side]["difference"] > 0 for side, _ in SIDES[1:] if side in result)
    return result["p_value"] < level and result["interval"][0] > 0 and sides_ok


def decision(test: dict, level: float = LEVEL) -> str:
    """The pre-stated rule: ``"supported"`` when capability errors are significantly larger in the
    middle and loss errors are not; ``"both"`` when both are; ``"loss only"``; ``"neither"``."""
    cap, loss = significant(test["capability"], level), significant(test["loss"], level)
    return {(True, False): "supported", (True, True): "both", (False, True): "loss only",
            (False, False): "neither"}[(cap, loss)]


def within_run(steps, lr_area, values, warmup: int, fit_fraction: float, actual: float) -> dict:
    """Extrapolate a run's final loss from its own start: fit ``E + A S^(−α)`` in cumulative
    learning rate S to the evaluations after the warmup and up to ``fit_fraction`` of the run, and
    predict the value at the end; the error (bits) is against ``actual``. ``steps``,
    ``lr_area`` and ``values`` are 1-d of one non-zero length; steps and areas finite (the
    values are checked where fitted)."""
    steps, S = checks.reals("steps", steps, min_len=1), checks.reals("lr_area", lr_area, min_len=1)
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-d array; got shape {values.shape}")
    if not len(steps) == len(S) == len(values):
        raise ValueError(f"steps, lr_area and values must have the same length; got {len(steps)}, "
                         f"{len(S)} and {len(values)}")
    checks.real("warmup", warmup, 0.0)
    checks.real("fit_fraction", fit_fraction, 0.0, 1.0, low_open=True, high_open=True)
    checks.real("actual", actual)
    mask = (steps > warmup) & (steps <= fit_fraction * steps[-1])
    if mask.sum() < 4:
        raise ValueError(f"only {int(mask.sum())} evaluations between the warmup and fit_fraction; "
                         "raise fit_fraction")
    fit = fit_decay(S[mask], values[mask])
    pred = float(fit.predict(S[-1]))
    return {"prediction": pred, "actual": float(actual), "error": abs(pred - float(actual)),
            "alpha": fit.alpha, "n_fitted": int(mask.sum())}
