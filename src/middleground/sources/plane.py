"""Sources placed on the (h, E) plane: entropy rate and structure set independently.

The two knobs of :mod:`.knobs` move h and E together (the noise knob holds E = 3 bits while h
rises; the temperature knob's E falls as h rises), so along them "the middle of h" and "much
structure" cannot be told apart. The families here cross the two, all over the four-symbol alphabet
of the knobs and all hidden-Markov with exact h and E:

- ``iid``: biased independent draws, the E = 0 control at any h;
- ``period``: a random word of minimal period p with symbols replaced at a rate, E = log2 p
  exactly whatever h (p = 2, 8, 32, 64 give E = 1, 3, 5, 6 bits);
- ``order``: Markov chains of order 1 to 5 at a matched h (their E grows with the order).

Each family's member is named by its *h share*, h / log2 4, found by bisection on the family's
own parameter (:func:`plane_source`): the same share means the same h across families, so a
difference in a model's behaviour at equal h is the structure's.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..base import checks
from . import hmm
from .knobs import KNOB_K, periodic_word

PLANE_FAMILIES = ("iid", "period", "order")
PERIODS = (2, 8, 32, 64)
ORDERS = (1, 2, 3, 4, 5)
_BISECTIONS = 60


def biased_iid(q: float) -> hmm.HMM:
    """Independent draws with P(r) ∝ q^r over the four symbols (q = 1: uniform noise; q → 0: one
    symbol always), as a one-state hidden-Markov source: h = H(P), E = 0."""
    q = checks.real("q", q, 0.0, 1.0, low_open=True)
    w = q ** np.arange(KNOB_K, dtype=float)
    p = w / w.sum()
    return hmm.HMM(p.reshape(KNOB_K, 1, 1), name=f"biased i.i.d. (q={q:.4g})")


def _member(family: str, parameter, u: float):
    if family == "iid":
        return biased_iid(u)
    if family == "period":
        return hmm.noisy_periodic(periodic_word(parameter, np.random.default_rng(0)), KNOB_K, u)
    return hmm.MarkovChain.random(KNOB_K, parameter, math.exp(u), seed=0)


def markov_entropy_rate(order: int, temperature: float) -> float:
    """h of ``MarkovChain.random(4, order, temperature, 0)`` without building its (4, 4^order,
    4^order) matrices: the stationary distribution by power iteration of the lazy chain (half a
    step of staying put, which has the same stationary distribution and no period) over the
    chain's four successors per context, each step O(4^order), to 1e-13 in total variation. A
    nearly deterministic chain that has not mixed in 20,000 steps is handed to the exact solver
    (:func:`middleground.sources.hmm.stationary`). The bisection of :func:`plane_source` calls
    this dozens of times; the chain it returns has its h from the exact solver."""
    probs = hmm.markov_probs(KNOB_K, order, temperature, 0)
    S = len(probs)
    successor = (np.arange(S)[:, None] * KNOB_K + np.arange(KNOB_K)[None, :]) % S
    pi = np.full(S, 1.0 / S)
    for _ in range(20_000):
        new = 0.5 * (pi + np.bincount(successor.ravel(), weights=(pi[:, None] * probs).ravel(), minlength=S))
        done = np.abs(new - pi).sum() < 1e-13
        pi = new
        if done:
            break
    else:
        P = np.zeros((S, S))
        np.add.at(P, (np.repeat(np.arange(S), KNOB_K), successor.ravel()), probs.ravel())
        pi = hmm.stationary(P)
    return float(pi @ -(probs * np.log2(probs)).sum(1))


def _entropy_rate(family: str, parameter, u: float) -> float:
    if family == "order":
        return markov_entropy_rate(parameter, math.exp(u))
    return _member(family, parameter, u).entropy_rate


@functools.lru_cache(maxsize=None)
def plane_source(family: str, parameter: int | None, share: float) -> hmm.HMM:
    """The member of ``family`` whose exact h is ``share`` · 2 bits.

    ``parameter``: None for ``iid``, the period p for ``period``, the Markov order for ``order``.
    The family's own knob is found by bisection (h rises monotonically along each: q for ``iid``,
    the replacement rate for ``period``, log τ for ``order``), to 1e-9 bit."""
    checks.one_of("family", family, PLANE_FAMILIES)
    if family == "iid" and parameter is not None:
        raise ValueError(f"family 'iid' takes no parameter; got {parameter!r}")
    if family == "period":
        checks.one_of("period", parameter, PERIODS)
    if family == "order":
        checks.one_of("order", parameter, ORDERS)
    share = checks.real("share", share, 0.0, 1.0, low_open=True, high_open=True)
    target = share * math.log2(KNOB_K)
    lo, hi = {"iid": (1e-9, 1.0), "period": (0.0, 1.0), "order": (math.log(0.02), math.log(50.0))}[family]
    if not _entropy_rate(family, parameter, lo) < target < _entropy_rate(family, parameter, hi):
        raise ValueError(f"share {share} is outside what family {family!r} (parameter {parameter}) reaches")
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if _entropy_rate(family, parameter, mid) < target:
            lo = mid
        else:
            hi = mid
    return _member(family, parameter, 0.5 * (lo + hi))


def label(family: str, parameter: int | None) -> str:
    """A setting's family as a reader reads it: "i.i.d.", "period 8", "order 3"."""
    return {"iid": "i.i.d.", "period": f"period {parameter}", "order": f"order {parameter}"}[family]


# The families as one name each, for sweep cells (a cell's family is a string, its knob the h share).
NAMES = {"iid": ("iid", None), **{f"period-{p}": ("period", p) for p in PERIODS},
         **{f"markov-{o}": ("order", o) for o in ORDERS}}


def member(name: str, share) -> hmm.HMM:
    """The source a sweep cell names: family ``name`` (one of :data:`NAMES`) at h share ``share``."""
    checks.one_of("family", name, tuple(NAMES))
    family, parameter = NAMES[name]
    return plane_source(family, parameter, float(checks.real("share", share)))
