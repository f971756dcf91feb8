"""Scaling laws: fit ``L(N) = E + A·N^(−α)``, with uncertainties, and extrapolate.

Two sources of uncertainty are reported, because they answer different questions:

- the **covariance** of the least-squares fit (``scipy.optimize.curve_fit``), which assumes the
  law is exactly right and the residuals are independent noise;
- a **bootstrap over seeds**: each model size was trained with several seeds; resampling the seeds
  at every size and refitting shows how much the fit (and its extrapolation) depends on which
  runs happened to be drawn.

The fit is done in ``log N`` with ``A`` parametrised as ``A = exp(a)``, which keeps the problem well
scaled when N spans orders of magnitude. What this module does not do: fit the joint law
``L(N, D)`` of Hoffmann et al.; the book's budget trains one data size per model size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from ..base import checks

# Published fits, as the papers state them (loss in nats/token, N in parameters).
# Kaplan et al. 2020, eq. 1.1: L(N) = (N_c / N)^α_N, α_N = 0.076, N_c = 8.8e13 (non-embedding N).
# Hoffmann et al. 2022, approach 3: L = E + A/N^α + B/D^β with E 1.69, A 406.4, α 0.34, B 410.7, β 0.28.
# Besiroglu et al. 2024, their refit of approach 3: E 1.82, A 482.01, α 0.3478, B 2085.43, β 0.3658.
PUBLISHED = [
    {"fit": "Kaplan et al. 2020", "cite": "kaplan2020scaling", "alpha": 0.076, "E": 0.0,
     "form": "L = (N_c/N)^α"},
    {"fit": "Hoffmann et al. 2022", "cite": "hoffmann2022training", "alpha": 0.34, "E": 1.69,
     "form": "L = E + A/N^α + B/D^β"},
    {"fit": "Besiroglu et al. 2024", "cite": "besiroglu2024chinchilla", "alpha": 0.3478, "E": 1.82,
     "form": "L = E + A/N^α + B/D^β"},
]


def power_law(n, E: float, A: float, alpha: float):
    """``E + A · n^(−α)``."""
    return E + A * np.power(np.asarray(n, dtype=float), -alpha)


@dataclass(frozen=True)
class PowerLawFit:
    E: float
    A: float
    alpha: float
    covariance: np.ndarray  # of (E, log A, alpha)

    @property
    def stderr(self) -> dict[str, float]:
        e, log_a, alpha = np.sqrt(np.clip(np.diag(self.covariance), 0, None))
        return {"E": float(e), "A": float(self.A * log_a), "alpha": float(alpha)}

    def predict(self, n):
        return power_law(n, self.E, self.A, self.alpha)


def fit_power_law(n, loss, sigma=None) -> PowerLawFit:
    """Least-squares fit of ``E + A n^(−α)``; needs at least four distinct sizes.

    ``sigma``: per-point standard deviations (e.g. the spread over seeds), or None for equal weights.
    Sizes ``n`` must be positive and finite, losses positive and finite (E lies in [0, min loss]).
    """
    n = checks.reals("n", n, low=0.0, low_open=True)
    loss = checks.reals("loss", loss, low=0.0, low_open=True)
    if n.shape != loss.shape:
        raise ValueError(f"n and loss must be 1-d arrays of the same length; got {len(n)} and "
                         f"{len(loss)}")
    if len(np.unique(n)) < 4:
        raise ValueError(f"a three-parameter law needs at least 4 distinct sizes in n; got "
                         f"{len(np.unique(n))}")
    if sigma is not None:
        sig = checks.reals("sigma", sigma, low=0.0, low_open=True)
        if sig.shape != n.shape:
            raise ValueError(f"sigma must be None or one positive number per size ({len(n)}); got "
                             f"{len(sig)}")
    log_n = np.log(n)

    def model(x, E, log_a, alpha):
        return E + np.exp(log_a - alpha * x)

    # Start from E just below the smallest loss and a line through the log-log residual.
    E0 = 0.9 * loss.min()
    slope, intercept = np.polyfit(log_n, np.log(np.maximum(loss - E0, 1e-9)), 1)
    p0 = (E0, intercept, max(-slope, 1e-3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)  # an unusable covariance is an error here
        params, cov = curve_fit(model, log_n, loss, p0=p0, sigma=sigma,
                                absolute_sigma=sigma is not None,
                                bounds=([0.0, -50.0, 0.0], [loss.min(), 50.0, 5.0]), maxfev=20_000)
    E, log_a, alpha = params
    return PowerLawFit(float(E), float(np.exp(log_a)), float(alpha), cov)


def bootstrap(n_by_seed: dict[float, list[float]], predict_at: float, draws: int = 1000,
              seed: int = 0) -> dict:
    """Resample seeds within every size, refit, and collect α, E and the prediction at ``predict_at``.

    ``n_by_seed``: size -> the losses of its seeds (at least 4 positive sizes, each with at least
    one loss, all finite). Draws whose fit fails are counted, not hidden.
    Returns arrays of the fitted values and the number of failed fits.
    """
    if not isinstance(n_by_seed, dict) or len(n_by_seed) < 4:
        raise ValueError(f"n_by_seed must be a dict of at least 4 sizes -> seed losses; got "
                         f"{type(n_by_seed).__name__} of {len(n_by_seed) if hasattr(n_by_seed, '__len__') else 0}")
    checks.reals("n_by_seed sizes", list(n_by_seed), low=0.0, low_open=True)
    for size, losses in n_by_seed.items():
        checks.reals(f"n_by_seed[{size!r}]", losses, min_len=1)
    checks.real("predict_at", predict_at, 0.0, low_open=True)
    checks.integer("draws", draws, 1)
    checks.integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    sizes = sorted(n_by_seed)
    alphas, Es, preds, failed = [], [], [], 0
    for _ in range(draws):
        means = [np.mean(rng.choice(n_by_seed[s], size=len(n_by_seed[s]))) for s in sizes]
        try:
            f = fit_power_law(sizes, means)
        except (RuntimeError, ValueError, OptimizeWarning):
            failed += 1
            continue
        alphas.append(f.alpha)
        Es.append(f.E)
        preds.append(float(f.predict(predict_at)))
    return {"alpha": np.array(alphas), "E": np.array(Es), "prediction": np.array(preds),
            "failed": failed, "draws": draws}
