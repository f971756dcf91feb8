"""Extrapolating a ladder of model sizes: the control of the central test and its primary statistics.

A *ladder* is one setting trained at sizes N (increasing) with the same seeds at every size, so a
seed is a whole ladder. The first rungs are fitted; a law predicts a rung beyond them. Before the
middle of the knob is asked anything, the *control* asks whether this works at all where it
should: does loss extrapolate at the ends of the knob?

- **Loss** is the excess above the exact finite-context floor, scored as a relative error,
  ``log(actual / predicted)`` (the excess shrinks with size, so an absolute error in bits would
  shrink with it wherever little is left to learn). Two laws check each other: the *fixed-floor*
  law ``excess = A N^(−α)`` (the floor is known exactly) and the *free-asymptote* law
  ``excess = E + A N^(−α)`` (E fitted: what the law thinks will never be learnt).
- **Capability** is the exact-match rate, fitted as ``logit p = a + b log N`` on smoothed rates
  and scored on the rate scale, whose sampling noise is binomial.

Each prediction carries a 95 % *prediction interval* built without looking at the predicted rung
(:func:`loss_prediction`, :func:`capability_prediction`): a parametric bootstrap that moves every
fitted rung by the seed-to-seed noise the fitted rungs show, refits the law (the fit's own
uncertainty) and adds the predicted rung's sampling noise. Across settings, :func:`coverage`
counts how often the actual value falls inside (about 95 % when the law holds and the noise is
as modelled; the tests check it on simulated ladders) and :func:`skill` compares the law
with *persistence*, the forecast that the next rung equals the largest fitted one. A law that does
not beat persistence has learnt nothing about the size axis.

:func:`transition_size` finds where a curve crosses a level (excess halving, exact match crossing
0.5) with a seed-bootstrap interval, :func:`predicted_transition` asks whether the smaller rungs
saw it coming, :func:`interior_effect` fits the pre-stated error model over the (h, E) plane, and
:func:`holm` corrects a family of p-values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..base import checks
from .predictability import fit_decay, fit_logit_line, logit, smoothed_rate

Z95 = 1.959963984540054  # the normal 97.5 % quantile
INTERVAL = (2.5, 97.5)   # percentiles of every 95 % interval here


def _ladder(N, values, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Sizes (1-d, positive, strictly increasing) and a (seeds, sizes) array of finite values."""
    N = checks.reals("N", N, min_len=3, low=0.0, low_open=True)
    if np.any(np.diff(N) <= 0):
        raise ValueError("sizes N must be strictly increasing")
    v = checks.reals(name, values, ndim=2, min_len=1)
    if v.shape[1] != len(N):
        raise ValueError(f"{name} must have one column per size in N ({len(N)}); got shape {v.shape}")
    return N, v


def _fit_count(n_fit, n_sizes: int) -> int:
    n_fit = checks.integer("n_fit", n_fit, 2, n_sizes - 1)
    return n_fit


@dataclass(frozen=True)
class Prediction:
    """One rung predicted from the rungs below it, on the metric's own scale."""

    law: str                       # "fixed floor", "free asymptote" or "logistic line"
    predicted: float
    interval: tuple[float, float]  # 95 % prediction interval for the observed value
    actual: float
    persistence: float             # the largest fitted rung's value
    error: float                   # the law's error: |log ratio| for loss, |difference| for rates
    persistence_error: float

    @property
    def covered(self) -> bool:
        return self.interval[0] <= self.actual <= self.interval[1]

    @property
    def beats_persistence(self) -> bool:
        return self.error < self.persistence_error


LOSS_LAWS = ("fixed floor", "free asymptote")


def _loss_law(law: str, N, y, target: float) -> float:
    if law == "fixed floor":
        return float(fit_decay(N, y, E=0.0).predict(target))
    return float(fit_decay(N, y).predict(target))


def _pooled_spread(columns: np.ndarray) -> float:
    """The standard deviation within columns (seeds of one rung), pooled over the columns: with
    three seeds one rung alone gives two degrees of freedom, five fitted rungs give ten."""
    if columns.shape[0] < 2:
        return 0.0
    return float(np.sqrt(np.mean(np.var(columns, axis=0, ddof=1))))


def _t_over_z(df: int) -> float:
    """The Student t 97.5 % quantile over the normal one, by a Cornish-Fisher expansion (no
    scipy; within 0.2 % of the exact quantile for df >= 3): a noise whose variance is estimated
    on ``df`` degrees of freedom widens the interval by this factor."""
    z = Z95
    t = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2) \
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    return t / z


def _needs_seeds(S: int) -> None:
    if S < 2:
        raise ValueError("at least two seeds per rung are needed: the interval rests on their spread")


def loss_prediction(N, excess, n_fit: int, target: int, law: str = "fixed floor",
                    resolution: float = 1e-3, n_boot: int = 1000, seed: int = 0) -> Prediction:
    """Predict the mean excess at rung ``target`` from rungs ``0 .. n_fit - 1``.

    ``excess``: (seeds, sizes) bits above the floor; values below ``resolution`` (the smallest
    excess the evaluation resolves, a few standard errors of a window mean) are read as
    ``resolution``, so the log ratio stays finite where a model reached the floor.

    The interval is a parametric bootstrap, because a handful of seeds is too few to resample.
    A run's deviation from its rung's mean has two parts that the data cannot separate well, so
    both are estimated, pooled over the fitted rungs, and the larger is used at every rung: an
    absolute one in bits (the evaluation's and training's noise at an excess near the floor) and
    a relative one (the spread of runs of a model that is far from it), never below half the
    resolution. Each of ``n_boot`` draws moves every fitted mean by that noise over √seeds, refits
    the law and predicts, then adds the target mean's own noise at the predicted excess; the noise
    is widened by t/z for the degrees of freedom it was estimated on. Error:
    ``|log(actual / predicted)|``."""
    checks.one_of("law", law, LOSS_LAWS)
    N, ex = _ladder(N, excess, "excess")
    n_fit = _fit_count(n_fit, len(N))
    target = checks.integer("target", target, n_fit, len(N) - 1)
    if law == "free asymptote" and n_fit < 3:
        raise ValueError("the free-asymptote law needs n_fit >= 3 rungs (three parameters)")
    resolution = checks.real("resolution", resolution, 0.0, low_open=True)
    n_boot = checks.integer("n_boot", n_boot, 10)
    ex = np.maximum(ex, resolution)
    S = ex.shape[0]
    _needs_seeds(S)
    fitted, means = N[:n_fit], ex[:, :n_fit].mean(0)
    pred = max(_loss_law(law, fitted, means, N[target]), resolution)
    widen = _t_over_z(n_fit * (S - 1))
    absolute = max(_pooled_spread(ex[:, :n_fit]), 0.5 * resolution)
    relative = _pooled_spread(np.log(ex[:, :n_fit]))

    def sd_of_mean(level):  # one rung's mean over S seeds
        return widen * np.maximum(absolute, relative * np.asarray(level)) / math.sqrt(S)

    rng = np.random.default_rng([seed, 41])
    draws = np.empty(n_boot)
    for b in range(n_boot):
        moved = np.maximum(means + rng.normal(0.0, 1.0, n_fit) * sd_of_mean(means), resolution)
        p_b = max(_loss_law(law, fitted, moved, N[target]), resolution)
        draws[b] = max(p_b + rng.normal(0.0, 1.0) * float(sd_of_mean(p_b)), resolution)
    lo, hi = np.percentile(draws, INTERVAL)
    actual, last = float(ex[:, target].mean()), float(ex[:, n_fit - 1].mean())
    # a relative tolerance, so that an interval of equal ends at the resolution holds a run there
    lo, hi = float(lo) * (1 - 1e-9), float(hi) * (1 + 1e-9)
    return Prediction(law, pred, (lo, hi), actual, last,
                      abs(math.log(actual / pred)), abs(math.log(actual / last)))


def _sigmoid(x):
    """1 / (1 + e^-x) without overflow: beyond |x| = 500 the rate is 0 or 1 to double precision,
    and an overflow warning on stderr would stop the strict render of the chapter that printed it."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500.0, 500.0)))


def fit_logistic(N, k, m) -> tuple[float, float]:
    """``logit p(N) = a + b log N`` by binomial maximum likelihood on counts ``k`` of ``m``
    (Newton's method), so that a rung at 0 of 1,536 weighs as the binomial says rather than as a
    point on the log-odds scale. A tiny ridge (1e-6) keeps a curve that is all 0 or all 1 finite;
    starts from the least-squares line of the smoothed rates."""
    u = np.log(np.asarray(N, dtype=float))
    k, m = np.asarray(k, dtype=float), np.asarray(m, dtype=float)
    a, b = fit_logit_line(N, k, m)
    uc = u.mean()
    theta = np.array([a + b * uc, b])  # centred: intercept at the mean log N
    X = np.column_stack([np.ones_like(u), u - uc])
    for _ in range(100):
        p = _sigmoid(X @ theta)
        grad = X.T @ (k - m * p) - 1e-6 * theta
        H = (X * (m * p * (1 - p))[:, None]).T @ X + 1e-6 * np.eye(2)
        step = np.linalg.solve(H, grad)
        theta = theta + step
        if np.abs(step).max() < 1e-10:
            break
    return float(theta[0] - theta[1] * uc), float(theta[1])


def capability_prediction(N, k, n: int, n_fit: int, target: int, n_boot: int = 1000,
                          seed: int = 0) -> Prediction:
    """Predict the exact-match rate at rung ``target`` from rungs ``0 .. n_fit - 1``.

    ``k``: (seeds, sizes) exact continuations out of ``n`` prompts per run. The law is the
    logistic line in log N, fitted by binomial maximum likelihood to the pooled counts
    (:func:`fit_logistic`). The interval is a parametric bootstrap: a run's log-odds differ from
    its rung's by the between-seed spread beyond binomial noise (pooled over the fitted rungs,
    widened by t/z); each of ``n_boot`` draws redraws every fitted run (that spread, then its
    ``n`` prompts binomially), refits, and draws the target's ``seeds`` runs the same way around
    the prediction. Error: ``|actual − predicted|`` on the rate scale."""
    N, k = _ladder(N, k, "k")
    n = checks.integer("n", n, 1)
    if np.any(k < 0) or np.any(k > n) or np.any(k != np.round(k)):
        raise ValueError(f"k must hold whole counts in [0, n={n}]")
    n_fit = _fit_count(n_fit, len(N))
    target = checks.integer("target", target, n_fit, len(N) - 1)
    n_boot = checks.integer("n_boot", n_boot, 10)
    S = k.shape[0]
    _needs_seeds(S)
    fitted = N[:n_fit]

    def line(counts):
        return fit_logistic(fitted, counts.sum(0), np.full(n_fit, n * counts.shape[0]))

    a, b = line(k[:, :n_fit])
    pred = float(1.0 / (1.0 + math.exp(-(a + b * math.log(N[target])))))
    rates = smoothed_rate(k[:, :n_fit], n)
    binomial_var = np.mean(1.0 / (n * rates * (1.0 - rates)))  # the log-odds' sampling variance
    tau = _t_over_z(n_fit * (S - 1)) * math.sqrt(max(0.0, _pooled_spread(logit(rates)) ** 2 - binomial_var))
    centre = a + b * np.log(fitted)
    rng = np.random.default_rng([seed, 43])
    observed = np.empty(n_boot)
    for i in range(n_boot):
        p_runs = _sigmoid(centre + rng.normal(0.0, tau, (S, n_fit)))
        a_b, b_b = line(rng.binomial(n, p_runs))
        run_logits = a_b + b_b * math.log(N[target]) + rng.normal(0.0, tau, S)
        observed[i] = rng.binomial(n, _sigmoid(run_logits)).sum() / (n * S)
    lo, hi = np.percentile(observed, INTERVAL)
    actual, last = float(k[:, target].sum() / (n * S)), float(k[:, n_fit - 1].sum() / (n * S))
    return Prediction("logistic line", pred, (float(lo), float(hi)), actual, last,
                      abs(actual - pred), abs(actual - last))


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """The exact binomial interval of a proportion (Clopper and Pearson, 1934), by bisection on
    the binomial tail (no scipy): the ``level`` interval of ``successes / trials``."""
    trials = checks.integer("trials", trials, 1)
    successes = checks.integer("successes", successes, 0, trials)
    alpha = 1.0 - checks.real("level", level, 0.0, 1.0, low_open=True, high_open=True)

    def tail_at_least(p):  # P(X >= successes) under Binomial(trials, p)
        return sum(math.comb(trials, j) * p ** j * (1 - p) ** (trials - j) for j in range(successes, trials + 1))

    def tail_at_most(p):
        return sum(math.comb(trials, j) * p ** j * (1 - p) ** (trials - j) for j in range(0, successes + 1))

    def solve(f, target, increasing):
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if (f(mid) < target) == increasing:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    lower = 0.0 if successes == 0 else solve(tail_at_least, alpha / 2, True)
    upper = 1.0 if successes == trials else solve(tail_at_most, alpha / 2, False)
    return lower, upper


def coverage(predictions: list[Prediction]) -> dict:
    """How many of the predictions' 95 % intervals hold the actual value, with the exact 95 %
    interval of that rate (honest intervals cover 95 %; far less means they are too narrow or the
    law is wrong)."""
    if not predictions:
        raise ValueError("coverage needs at least one prediction")
    hits = sum(p.covered for p in predictions)
    return {"covered": hits, "n": len(predictions), "rate": hits / len(predictions),
            "interval": clopper_pearson(hits, len(predictions))}


def skill_score(predictions: list[Prediction], rows) -> float | None:
    """``1 − Σ error² / Σ persistence error²`` over the predictions at ``rows`` (indices, repeats
    allowed, as a bootstrap draws them); None where persistence is exact on every one of them."""
    e = sum(predictions[i].error ** 2 for i in rows)
    q = sum(predictions[i].persistence_error ** 2 for i in rows)
    return float(1.0 - e / q) if q > 0 else None


def skill(predictions: list[Prediction], n_boot: int = 2000, seed: int = 0) -> dict:
    """Skill over persistence, ``1 − Σ error² / Σ persistence error²`` (1: perfect, 0: no better
    than "the next rung equals the largest fitted one", below 0: worse), with a 95 % bootstrap
    interval over the settings, and the number of settings on which the law beats persistence.

    Where persistence is exact on every setting (nothing moved between the last fitted rung and
    the target) skill is undefined: ``skill`` and the interval are None. Resamples that happen to
    draw only such settings are left out of the interval, and ``resamples_used`` says how many
    remained."""
    if not predictions:
        raise ValueError("skill needs at least one prediction")
    e = np.array([p.error for p in predictions]) ** 2
    q = np.array([p.persistence_error for p in predictions]) ** 2
    rng = np.random.default_rng([seed, 47])
    boot = [skill_score(predictions, rng.integers(0, len(e), len(e)))
            for _ in range(checks.integer("n_boot", n_boot, 10))]
    boot = [b for b in boot if b is not None]
    point = skill_score(predictions, range(len(e)))
    interval = (tuple(float(v) for v in np.percentile(boot, INTERVAL))
                if point is not None and boot else (None, None))
    return {"skill": point, "interval": interval, "resamples_used": len(boot),
            "wins": int(np.sum(e < q)), "n": len(e)}


def control_verdict(predictions: list[Prediction], min_coverage: float, n_boot: int = 2000,
                    seed: int = 0) -> dict:
    """The control's pre-stated rule: loss is predictable at the ends when the coverage of its
    intervals is at least ``min_coverage`` and its skill over persistence is positive with 95 %
    confidence (the lower end of the skill's interval above 0)."""
    checks.real("min_coverage", min_coverage, 0.0, 1.0)
    cov, sk = coverage(predictions), skill(predictions, n_boot, seed)
    reasons = []
    if cov["rate"] < min_coverage:
        reasons.append(f"coverage {cov['covered']} of {cov['n']} is below {min_coverage:.0%}")
    if sk["skill"] is None:
        reasons.append("persistence is exact at every setting: the sizes left nothing to predict")
    elif not sk["interval"][0] > 0:
        reasons.append(f"skill over persistence {sk['skill']:.2f} "
                       f"(95 % interval {sk['interval'][0]:.2f} to {sk['interval'][1]:.2f}) is not above 0")
    return {"passes": not reasons, "coverage": cov, "skill": sk, "reasons": reasons}


# ---------------------------------------------------------------------------------------------
# Transitions


def _crossing(logN: np.ndarray, curve: np.ndarray, level: float, rising: bool):
    """log N of the first crossing of ``level`` by linear interpolation in log N; ``-inf`` if the
    smallest rung is already past it, ``+inf`` if no rung reaches it."""
    past = curve >= level if rising else curve <= level
    if past[0]:
        return -math.inf
    if not past.any():
        return math.inf
    j = int(np.argmax(past))
    a, b = curve[j - 1], curve[j]
    t = (level - a) / (b - a)
    return float(logN[j - 1] + t * (logN[j] - logN[j - 1]))


def transition_size(N, values, level: float, rising: bool, n_boot: int = 2000, seed: int = 0,
                    binomial_n: int | None = None) -> dict:
    """The size N* at which the mean curve over seeds first crosses ``level`` (``rising``: from
    below, as exact match crossing 0.5; else from above, as the excess falling to half), by linear
    interpolation in log N, with a 95 % interval.

    The interval is a parametric bootstrap (three seeds are too few to resample: their resamples
    span little more than their range): each draw moves every rung's mean by the between-seed
    spread pooled over the rungs, over √seeds and widened by t/z, never below the binomial noise
    of a rate of ``binomial_n`` prompts per run where ``values`` are rates.

    Censored answers are said as such: ``N_star`` is None with ``censored`` "below" (the smallest
    rung is already past the level) or "above" (no rung reaches it); an interval end is None when
    at least 2.5 % of the draws are censored on that side."""
    N, v = _ladder(N, values, "values")
    checks.real("level", level)
    S = v.shape[0]
    _needs_seeds(S)
    logN, mean = np.log(N), v.mean(0)
    point = _crossing(logN, mean, level, rising)
    var = np.full(len(N), _pooled_spread(v) ** 2)
    if binomial_n is not None:
        p = np.clip(mean, 0.5 / binomial_n, 1 - 0.5 / binomial_n)
        var = np.maximum(var, p * (1 - p) / checks.integer("binomial_n", binomial_n, 1))
    sd = _t_over_z(len(N) * (S - 1)) * np.sqrt(var / S)
    rng = np.random.default_rng([seed, 53])
    boot = np.array([_crossing(logN, mean + rng.normal(0.0, 1.0, len(N)) * sd, level, rising)
                     for _ in range(checks.integer("n_boot", n_boot, 10))])
    # order statistics, not interpolation: a censored draw is ±inf and stays one
    lo = float(np.percentile(boot, INTERVAL[0], method="lower"))
    hi = float(np.percentile(boot, INTERVAL[1], method="higher"))
    return {"N_star": None if math.isinf(point) else float(math.exp(point)),
            "censored": None if not math.isinf(point) else ("below" if point < 0 else "above"),
            "interval": (None if math.isinf(lo) else float(math.exp(lo)),
                         None if math.isinf(hi) else float(math.exp(hi))),
            "level": float(level)}


def predicted_transition(N, values, level: float, rising: bool, kind: str, n: int | None = None) -> dict:
    """Could the rungs below the transition have seen it coming? Fit the law of ``kind`` to the
    rungs before the first one past ``level`` (at least two; three for "free asymptote") and solve
    it for the crossing: ``{"N_star_predicted", "fitted_rungs"}``, None where the fitted law never
    crosses, or where too few rungs lie below the transition.

    ``kind``: "logistic line" (``values`` are counts out of ``n`` prompts per run, as exact match),
    "fixed floor" or "free asymptote" (``values`` are excess losses)."""
    checks.one_of("kind", kind, ("logistic line",) + LOSS_LAWS)
    N, v = _ladder(N, values, "values")
    checks.real("level", level)
    if kind == "logistic line":
        n = checks.integer("n", n, 1)
    elif rising:
        raise ValueError(f"a loss law ({kind}) falls with size: a rising crossing cannot be foreseen by it")
    curve = v.sum(0) / (n * v.shape[0]) if kind == "logistic line" else v.mean(0)
    past = curve >= level if rising else curve <= level
    below = int(np.argmax(past)) if past.any() else len(N)
    need = 3 if kind == "free asymptote" else 2
    if below < need:
        return {"N_star_predicted": None, "fitted_rungs": below}
    if kind == "logistic line":
        if not 0 < level < 1:
            raise ValueError(f"level must be a rate in (0, 1) for a logistic line; got {level!r}")
        a, b = fit_logistic(N[:below], v[:, :below].sum(0), np.full(below, n * v.shape[0]))
        goal = math.log(level / (1 - level))
        star = math.exp((goal - a) / b) if (b > 0 if rising else b < 0) else None
    else:
        fit = fit_decay(N[:below], curve[:below], E=0.0 if kind == "fixed floor" else None)
        gap = level - fit.E
        star = ((gap / fit.A) ** (-1.0 / fit.alpha)
                if fit.A > 0 and fit.alpha > 0 and gap > 0 else None)
    return {"N_star_predicted": None if star is None else float(star), "fitted_rungs": below}


# ---------------------------------------------------------------------------------------------
# The plane and many tests


def interior_effect(h_share, E, errors, n_perm: int = 10_000, seed: int = 0) -> dict:
    """The pre-stated error model over the (h, E) plane: ``error = b0 + b1 s + b2 s² + b3 E`` by
    least squares, s the h share. An interior bump (errors largest between the ends, whatever the
    structure E) is ``b2 < 0`` with its vertex ``−b1 / (2 b2)`` inside the settings' range of s (a
    curve concave but monotone over the range has b2 < 0 too, and is not a bump: ``interior``
    says which). The one-sided p-value of ``b2 < 0`` is Freedman and Lane's (1983) permutation
    test: the residuals of the model without s² are permuted and added back to its fit, so the
    other terms' effects stay in every permutation and the test keeps its power."""
    s = checks.reals("h_share", h_share, min_len=5)
    e = checks.reals("E", E)
    y = checks.reals("errors", errors)
    if not len(s) == len(e) == len(y):
        raise ValueError(f"h_share, E and errors need one entry per setting; got {len(s)}, {len(e)}, {len(y)}")
    X = np.column_stack([np.ones_like(s), s, s * s, e])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("the settings do not separate h share, its square and E (rank-deficient design)")
    solve = np.linalg.pinv(X)
    coef = solve @ y
    reduced = X[:, [0, 1, 3]]
    fit_reduced = reduced @ (np.linalg.pinv(reduced) @ y)
    residual = y - fit_reduced
    rng = np.random.default_rng([seed, 59])
    perm = np.array([solve[2] @ (fit_reduced + rng.permutation(residual))
                     for _ in range(checks.integer("n_perm", n_perm, 100))])
    p = float((1 + np.sum(perm <= coef[2] + 1e-15)) / (1 + len(perm)))
    vertex = float(-coef[1] / (2 * coef[2])) if coef[2] < 0 else None
    return {"coef": tuple(float(c) for c in coef), "p_value": p, "vertex": vertex,
            "interior": vertex is not None and float(s.min()) < vertex < float(s.max()),
            "residual_sd": float(np.std(y - X @ coef, ddof=X.shape[1])) if len(y) > X.shape[1] else None}


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment (1979) of a family of p-values: each adjusted value is
    ``max over earlier steps of min(1, (m − rank) p)``, in the input order. Rejecting where the
    adjusted value is below α controls the family-wise error rate at α."""
    p = checks.reals("p_values", p_values, min_len=1)
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("p_values must lie in [0, 1]")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
