"""Entropy density h and excess entropy E of spatial configurations, from many independent rows,
and the 88 elementary cellular automata placed on the complexity–entropy plane.

**Estimator.** The rows are independent samples of one translation-invariant process (each a
cellular-automaton row grown from its own random initial row, say). Words of length L are read
at every position of every row — around the ring when ``circular`` (a row of a ring of W cells has
W words of every length), else inside the row (W − L + 1 words). From the pooled counts:

- H(L), L = 1..L_max: plug-in entropy of the word frequencies, with the Miller–Madow correction
  (m − 1)/(2N) nats by default (m distinct words seen among N; Miller 1955);
- h = h(L_max) = H(L_max) − H(L_max − 1) (Crutchfield and Feldman 2003, "Regularities unseen,
  randomness observed", Chaos 13, 25: h(L) decreases to h);
- E = Σ_{L=1}^{L_max} [h(L) − h(L_max)] = H(L_max) − L_max·h(L_max), the partial sum of their
  E = Σ_L [h(L) − h] (eq. 48) with h replaced by its finite-L estimate.

**Uncertainty.** Rows are the independent replicates (different initial conditions): every
quantity is recomputed with each row left out, and its standard error is the delete-one jackknife
``se = sqrt((n − 1)/n · Σ_i (θ_(i) − θ_(·))²)`` (Efron and Tibshirani 1993, "An introduction to the
bootstrap", eq. 11.5). This is the sampling error of the estimate at the given L_max; it says
nothing about the truncation error below. Measured over 100 seeds it matches the spread of the
estimates for structured rows (rules 18 and 110 after a few steps) and overstates it by about 40%
for independent fair bits, where the entropy's first-order fluctuation vanishes.

**What this can and cannot resolve.** With N words, H(L) can only be estimated while 2^L ≪ N (the
function refuses 2^L_max > N; a ratio N / 2^L_max of 16 or more keeps the bias of Miller–Madow
below the jackknife error for the sources tested). Both estimates target the finite-L quantities
h(L_max) ≥ h and E(L_max) ≤ E: structure longer than L_max cells (long domains, slowly annihilating
particles of rules 18, 54, 110) shows as h(L_max) above h and E(L_max) below E, and no number of
rows removes that. For a cellular automaton the configuration also depends on how long it ran:
:func:`eca_map` gives the spatial process after ``steps`` steps from independent fair cells, not
the t → ∞ limit, and requires L_max + 2·steps ≤ width / 2 so that every word, and every pair of
words, on the ring has exactly the infinite lattice's law (see :mod:`middleground.sources.automata`;
with only L_max + 2·steps ≤ width, rule 90 after 1024 steps on 4096 cells repeats every 2048 cells
and its E comes out 5 standard errors above 0).

:func:`eca_map` places each of the 88 inequivalent elementary rules on the (h, E) plane from its
spatial configurations, after Feldman, McTague and Crutchfield 2008 ("The organization of intrinsic
computation: complexity–entropy diagrams and the diversity of natural information processing",
Chaos 18, 043106), whose diagrams are "a function only of observed configurations" (abstract); the
configurations are grown as in Wolfram 1986 ("Tables of cellular automaton properties", table 6:
spatial measure entropies of the minimal representatives after 400 steps from random initial
configurations). FMC 2008's own lattice size, number of steps and word lengths were not available
to check; ours are chosen for the guarantees above.
"""

from __future__ import annotations

import math

import numpy as np

from ..base.bits import NATS_TO_BITS
from ..sources import automata

CORRECTIONS = ("plugin", "miller-madow")

# Settings of eca_map: "quick" for a draft (about 1 s for all 88 rules on one core), "full" for the
# book (6–10 s). N / 2^L_max = 64 words per possible word in both; L_max + 2·steps <= width / 2.
ECA_PROFILES = {
    "quick": {"width": 2048, "steps": 500, "n_samples": 8, "L_max": 8},
    "full": {"width": 8192, "steps": 2000, "n_samples": 16, "L_max": 11},
}


def _check_rows(rows) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.ndim != 2 or rows.shape[0] < 2 or rows.shape[1] < 1:
        raise ValueError("rows must be a 2-d array (n_rows, width) with at least 2 rows "
                         f"(the jackknife leaves one out); got shape {rows.shape}")
    if not np.issubdtype(rows.dtype, np.integer) and rows.dtype != bool:
        raise ValueError(f"rows must hold 0/1 integers; got dtype {rows.dtype}")
    if rows.min() < 0 or rows.max() > 1:
        raise ValueError("rows must hold only the symbols 0 and 1")
    return rows.astype(np.int64)


def word_counts_by_row(rows, L_max: int, circular: bool = True):
    """Yield, for L = 1..L_max, an array (n_rows, 2^L): how often each binary word of length L
    (read as a number, first cell most significant) occurs in each row."""
    rows = _check_rows(rows)
    n, W = rows.shape
    if isinstance(L_max, bool) or not isinstance(L_max, (int, np.integer)) or L_max < 1:
        raise ValueError(f"L_max must be an integer >= 1; got {L_max!r}")
    if L_max > (W if circular else W - 1):
        raise ValueError(f"L_max = {L_max} is too long for rows of {W} cells")
    offset = np.arange(n)[:, None]
    codes = rows.copy()
    for L in range(1, L_max + 1):
        if L > 1:  # append the cell L − 1 places to the right of each word's start
            nxt = np.roll(rows, -(L - 1), axis=1) if circular else rows[:, L - 1:]
            codes = 2 * (codes if circular else codes[:, :-1]) + nxt
        k = 1 << L
        yield np.bincount((codes + offset * k).ravel(), minlength=n * k).reshape(n, k)


def _entropies(counts: np.ndarray, correction: str) -> np.ndarray:
    """Entropy in bits of each row of ``counts`` (rows of non-negative integers)."""
    N = counts.sum(axis=-1, keepdims=True).astype(float)
    p = counts / N
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.where(counts > 0, p * np.log2(np.where(counts > 0, p, 1.0)), 0.0).sum(axis=-1)
    if correction == "miller-madow":
        m = (counts > 0).sum(axis=-1)
        H = H + (m - 1) / (2 * N[..., 0]) * NATS_TO_BITS
    return H


def _jackknife_se(theta_loo: np.ndarray) -> np.ndarray:
    n = theta_loo.shape[0]
    return np.sqrt((n - 1) / n * ((theta_loo - theta_loo.mean(axis=0)) ** 2).sum(axis=0))


def spatial_entropies(rows, L_max: int, correction: str = "miller-madow",
                      circular: bool = True) -> dict:
    """h and E of the process behind ``rows`` (n_rows ≥ 2 independent 0/1 rows), with jackknife
    standard errors over rows.

    Returns ``H`` (H(0..L_max), bits), ``H_se``, ``h`` = h(L_max), ``h_se``, ``E`` = E(L_max),
    ``E_se``, ``h_L`` (h(1..L_max)), ``L_max``, ``words`` (N, the number of words of each
    length) and ``correction``.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}")
    rows = _check_rows(rows)
    n, W = rows.shape
    words = n * (W if circular else W - L_max + 1)
    if isinstance(L_max, (int, np.integer)) and not isinstance(L_max, bool) and 2**L_max > words:
        raise ValueError(f"L_max = {L_max} asks for 2^{L_max} words from only {words} windows; "
                         f"choose L_max <= {int(math.log2(words))}")
    H = np.zeros(L_max + 1)
    H_loo = np.zeros((n, L_max + 1))  # H with row i left out
    for L, by_row in enumerate(word_counts_by_row(rows, L_max, circular), start=1):
        total = by_row.sum(axis=0)
        H[L] = _entropies(total[None, :], correction)[0]
        H_loo[:, L] = _entropies(total[None, :] - by_row, correction)
    h_L = np.diff(H)
    h_L_loo = np.diff(H_loo, axis=1)
    E = H[L_max] - L_max * h_L[-1]
    E_loo = H_loo[:, L_max] - L_max * h_L_loo[:, -1]
    return {
        "H": H, "H_se": _jackknife_se(H_loo),
        "h": float(h_L[-1]), "h_se": float(_jackknife_se(h_L_loo[:, -1])),
        "E": float(E), "E_se": float(_jackknife_se(E_loo)),
        "h_L": h_L, "L_max": int(L_max), "words": int(words), "correction": correction,
    }


def eca_point(rule: int, width: int, steps: int, n_samples: int, L_max: int, seed: int,
              correction: str = "miller-madow") -> dict:
    """One elementary rule on the (h, E) plane: its spatial configurations after ``steps`` steps
    from ``n_samples`` rows of independent fair cells on a ring of ``width`` cells, estimated with
    :func:`spatial_entropies`. The rows of rule r come from the generator seeded (seed, r), so a
    rule's point does not depend on which other rules are run."""
    rule = automata.check_rule(rule)
    for name, value, low in (("width", width, 64), ("steps", steps, 0), ("n_samples", n_samples, 2),
                             ("L_max", L_max, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    if 2 * (L_max + 2 * steps) > width:
        raise ValueError(f"need L_max + 2·steps <= width / 2 so that words on the ring have the "
                         f"infinite lattice's statistics; got {L_max} + 2·{steps} > {width} / 2")
    rows = automata.spatial_configurations(rule, width, steps, n_samples,
                                           np.random.default_rng([seed, rule]))
    est = spatial_entropies(rows, L_max, correction=correction, circular=True)
    c = automata.wolfram_class(rule)
    return {
        "rule": rule, "wolfram_class": c, "class_name": automata.CLASS_NAMES[c],
        "members": automata.equivalence_class(rule),
        "h": est["h"], "h_se": est["h_se"], "E": est["E"], "E_se": est["E_se"],
        "H": [float(v) for v in est["H"]], "density": float(rows.mean()),
    }


def eca_map(width: int, steps: int, n_samples: int, L_max: int, seed: int = 0,
            correction: str = "miller-madow") -> list[dict]:
    """The 88 inequivalent elementary rules on the complexity–entropy plane: one record per minimal
    representative (ascending), with ``rule``, ``wolfram_class`` (1–4), ``class_name``,
    ``members`` (its equivalence class), ``h``, ``h_se``, ``E``, ``E_se``, ``H`` (block
    entropies H(0..L_max)) and ``density`` (fraction of 1s). See :data:`ECA_PROFILES`."""
    return [eca_point(r, width, steps, n_samples, L_max, seed, correction)
            for r in automata.inequivalent_rules()]
