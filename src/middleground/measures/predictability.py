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

from dataclasses import dataclass

import numpy as np

from .regions import MIDDLE, is_end

ALPHA_GRID = np.linspace(0.0, 3.0, 601)  # exponents searched; 0.005 apart
LEVEL = 0.05                              # significance level of the decision rule


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
        raise ValueError(f"x and y must be 1-D of equal length, at least {2 if E is not None else 3}")
    if np.any(x <= 0) or not np.all(np.isfinite(y)):
        raise ValueError("x must be positive and y finite")
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


def size_predictions(N, excess, k, n) -> dict:
    """Fit the smaller sizes (all but the last) and predict the last, for both metrics.

    ``N``: sizes, increasing; ``excess``: excess loss above the floor at each size (bits);
    ``k``/``n``: exact continuations and prompts at each size. Returns predictions, actual values
    and errors (loss in bits, capability in log-odds)."""
    N, excess = np.asarray(N, dtype=float), np.asarray(excess, dtype=float)
    if np.any(np.diff(N) <= 0):
        raise ValueError("sizes N must be strictly increasing")
    law = fit_decay(N[:-1], excess[:-1], E=0.0)
    loss_pred = float(law.predict(N[-1]))
    a, b = fit_logit_line(N[:-1], np.asarray(k)[:-1], np.asarray(n)[:-1])
    logit_pred = a + b * np.log(N[-1])
    logit_actual = float(logit(smoothed_rate(k[-1], n[-1])))
    return {"loss_pred": loss_pred, "loss_actual": float(excess[-1]),
            "loss_error": abs(loss_pred - float(excess[-1])), "loss_alpha": law.alpha,
            "cap_pred": float(1.0 / (1.0 + np.exp(-logit_pred))),
            "cap_actual": float(smoothed_rate(k[-1], n[-1])),
            "cap_error": abs(float(logit_pred) - logit_actual), "cap_slope": b,
            # The same prediction scored on the rate's own bounded scale: a robustness check of
            # the log-odds scale, which magnifies differences near 0 and 1.
            "cap_rate_error": abs(float(1.0 / (1.0 + np.exp(-logit_pred))) - float(smoothed_rate(k[-1], n[-1])))}


def region_contrast(errors, regions, families, n_perm: int, seed: int = 0) -> dict:
    """Mean error of the middle settings minus that of the ends (ordered and noisy), and the
    one-sided permutation p-value of a difference at least that large when the labels are shuffled
    among the settings of each family (settings in no region compared here are left out)."""
    errors = np.asarray(errors, dtype=float)
    regions, families = np.asarray(regions), np.asarray(families)
    keep = np.array([r == MIDDLE or is_end(r) for r in regions])
    errors, middle, families = errors[keep], regions[keep] == MIDDLE, families[keep]
    if middle.all() or not middle.any():
        raise ValueError("the contrast needs settings both in the middle and at the ends")
    observed = float(errors[middle].mean() - errors[~middle].mean())
    rng = np.random.default_rng(seed)
    labels = np.tile(middle, (n_perm, 1))
    for fam in np.unique(families):  # shuffle within each family, all permutations at once
        idx = np.nonzero(families == fam)[0]
        labels[:, idx] = rng.permuted(labels[:, idx], axis=1)
    d = (labels * errors).sum(1) / labels.sum(1) - (~labels * errors).sum(1) / (~labels).sum(1)
    p = float((1 + np.sum(d >= observed - 1e-12)) / (1 + n_perm))
    return {"difference": observed, "middle_mean": float(errors[middle].mean()),
            "ends_mean": float(errors[~middle].mean()), "p_value": p,
            "n_middle": int(middle.sum()), "n_ends": int((~middle).sum())}


def central_test(settings: list[dict], n_boot: int, n_perm: int, seed: int = 0) -> dict:
    """The test of chapter ``ladder`` on a list of knob settings.

    Each setting: ``{"family", "region", "N": sizes, "excess": (seeds, sizes) bits,
    "excess_se": (seeds, sizes), "k": (seeds, sizes) exact continuations, "n": prompts per run}``.
    A setting's curves are the means over its seeds (capability: the pooled rate). Returns, per
    metric, the contrast with its permutation p-value and a bootstrap 95 % interval (seeds resampled
    as whole ladders within each setting, the excess redrawn within its standard error, prompts
    redrawn binomially within each run), and per setting the predictions with their intervals.
    ``"capability rate"`` is the capability's error on the rate scale, a robustness check that the
    decision rule does not use."""
    rng = np.random.default_rng([seed, 31])

    def predict(s, excess, k):
        n = s["n"] * k.shape[0]
        return size_predictions(s["N"], excess.mean(0), k.sum(0), np.full(len(s["N"]), n))

    point = [predict(s, np.asarray(s["excess"]), np.asarray(s["k"])) for s in settings]
    regions = [s["region"] for s in settings]
    families = [s["family"] for s in settings]
    metrics = (("loss", "loss_error"), ("capability", "cap_error"), ("capability rate", "cap_rate_error"))
    boot = {metric: [] for metric, _ in metrics}
    per_setting = [[] for _ in settings]
    for _ in range(n_boot):
        draws = []
        for i, s in enumerate(settings):
            ex, se, k = (np.asarray(s[key], dtype=float) for key in ("excess", "excess_se", "k"))
            rows = rng.integers(0, ex.shape[0], ex.shape[0])
            ex_b = ex[rows] + se[rows] * rng.standard_normal(ex[rows].shape)
            k_b = rng.binomial(s["n"], k[rows] / s["n"])
            draws.append(predict(s, ex_b, k_b))
            per_setting[i].append(draws[-1])
        for metric, key in metrics:
            e = np.array([d[key] for d in draws])
            middle = np.array([r == MIDDLE for r in regions])
            ends = np.array([is_end(r) for r in regions])
            boot[metric].append(e[middle].mean() - e[ends].mean())
    out = {"settings": []}
    for metric, key in metrics:
        res = region_contrast([p[key] for p in point], regions, families, n_perm, seed)
        res["interval"] = [float(v) for v in np.percentile(boot[metric], [2.5, 97.5])]
        out[metric] = res
    for s, p, draws in zip(settings, point, per_setting):
        row = {"family": s["family"], "region": s["region"], **p}
        for key in ("loss_pred", "loss_actual", "cap_pred", "cap_actual", "loss_error", "cap_error",
                    "cap_rate_error"):
            row[key + "_interval"] = [float(v) for v in np.percentile([d[key] for d in draws], [2.5, 97.5])]
        out["settings"].append(row)
    return out


def significant(result: dict, level: float = LEVEL) -> bool:
    """The middle is worse: permutation p below ``level`` and the bootstrap interval above 0."""
    return result["p_value"] < level and result["interval"][0] > 0


def decision(test: dict, level: float = LEVEL) -> str:
    """The pre-stated rule: ``"supported"`` when capability errors are significantly larger in the
    middle and loss errors are not; ``"both"`` when both are; ``"loss only"``; ``"neither"``."""
    cap, loss = significant(test["capability"], level), significant(test["loss"], level)
    return {(True, False): "supported", (True, True): "both", (False, True): "loss only",
            (False, False): "neither"}[(cap, loss)]


def within_run(steps, lr_area, values, warmup: int, fit_fraction: float, actual: float) -> dict:
    """Extrapolate a run's final loss from its own start: fit ``E + A S^(−α)`` in cumulative
    learning rate S to the evaluations after the warmup and up to ``fit_fraction`` of the run, and
    predict the value at the end; the error (bits) is against ``actual``."""
    steps, S, values = (np.asarray(v, dtype=float) for v in (steps, lr_area, values))
    if not 0.0 < fit_fraction < 1.0:
        raise ValueError(f"fit_fraction must lie in (0, 1); got {fit_fraction!r}")
    mask = (steps > warmup) & (steps <= fit_fraction * steps[-1])
    if mask.sum() < 4:
        raise ValueError(f"only {int(mask.sum())} evaluations between the warmup and fit_fraction; "
                         "raise fit_fraction")
    fit = fit_decay(S[mask], values[mask])
    pred = float(fit.predict(S[-1]))
    return {"prediction": pred, "actual": float(actual), "error": abs(pred - float(actual)),
            "alpha": fit.alpha, "n_fitted": int(mask.sum())}
