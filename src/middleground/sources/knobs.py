"""The book's knobs: families of sources with one parameter running from structure to noise.

- ``temperature``: an order-2 Markov chain over 4 symbols with fixed random logits divided by τ
  (τ → 0: nearly deterministic; τ → ∞: uniform noise);
- ``noise``: a period-8 word with each symbol replaced at a rate (E = 3 bits below rate 1);
- ``order``: Markov chains of order 1, 2, 3 at τ = 0.5;
- ``hmm``: the golden-mean and even processes (binary);
- ``santa-fe``: Dębowski's process with β as the knob (k_max = 16, 32 symbols).

Every member knows its exact h (and E where it is finite), so a model's loss along a knob can be
set against what is learnable.
"""

from __future__ import annotations

import numpy as np

import functools
import math

from ..base import checks
from . import hmm
from .processes import SantaFe, Source, minimal_period

FAMILIES = ("temperature", "noise", "order", "hmm", "santa-fe")
KNOBS = ("temperature", "noise")  # the two families with a continuous knob from order to noise

KNOB_K = 4        # alphabet of the knob sources: small enough for exact block entropies
KNOB_ORDER = 2    # Markov order of the temperature knob: 16 hidden contexts


def markov_knob(temperature: float, seed: int) -> hmm.MarkovChain:
    """The book's temperature knob: an order-2 Markov chain over 4 symbols, fixed random logits."""
    return hmm.MarkovChain.random(KNOB_K, KNOB_ORDER, checks.real("temperature", temperature), seed)


def periodic_word(p: int, rng: np.random.Generator) -> tuple[int, ...]:
    """A random word over the knob alphabet whose minimal period is exactly ``p``."""
    checks.integer("p", p, 1)
    checks.rng("rng", rng)
    while True:
        word = tuple(int(v) for v in rng.choice(KNOB_K, p))
        if minimal_period(word) == p:
            return word


HMM_KNOBS = {"golden mean": hmm.golden_mean, "even process": hmm.even_process}


def _number(knob, family: str) -> float:
    """The knob of a numeric family as a float (numeric strings too: sweep cells store them)."""
    try:
        value = float(knob)
    except (TypeError, ValueError):
        raise ValueError(f"knob of family {family!r} must be a number; got {knob!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"knob of family {family!r} must be a finite number; got {knob!r}")
    return value


def make_source(family: str, knob) -> Source:
    """The member of ``family`` (one of :data:`FAMILIES`) at setting ``knob``: a temperature > 0,
    a noise rate in [0, 1], a Markov order 1..6 (a whole number, 2.0 included), one of
    :data:`HMM_KNOBS`, or Santa Fe's β in (0, 1)."""
    if family == "temperature":
        return markov_knob(_number(knob, family), seed=0)
    if family == "noise":
        return hmm.noisy_periodic(periodic_word(8, np.random.default_rng(0)), KNOB_K,
                                  _number(knob, family))
    if family == "order":
        order = _number(knob, family)
        if not order.is_integer() or not 1 <= order <= 6:  # 4**6 = 4096 contexts at most
            raise ValueError(f"knob of family 'order' must be a whole number in [1, 6] (the "
                             f"Markov order); got {knob!r}")
        return hmm.MarkovChain.random(KNOB_K, int(order), 0.5, seed=0)
    if family == "hmm":
        if not isinstance(knob, str) or knob not in HMM_KNOBS:
            raise ValueError(f"knob of family 'hmm' must be one of "
                             f"{', '.join(map(repr, HMM_KNOBS))}; got {knob!r}")
        return HMM_KNOBS[knob]()
    if family == "santa-fe":
        return SantaFe(_number(knob, family), 16)
    raise ValueError(f"unknown source family {family!r}; known: {', '.join(FAMILIES)}")


# Where the settings of a knob go, as shares of the largest entropy rate log2 KNOB_K: the ends of
# a knob (shares below 1/4 and above 3/4, see measures.regions) get one or two settings each, and
# everything else goes to the middle, so a sweep samples the middle densely and its ends genuinely
# (the ordered end is a nearly deterministic source, never a constant one).
ORDERED_SHARES = (0.08, 0.16)
MIDDLE_SPAN = (0.3, 0.7)


def knob_shares(points: int) -> list[float]:
    """Target values of h / log2 KNOB_K for ``points`` settings of a knob (at least 3)."""
    points = checks.integer("knob_points", points, 3)
    ordered = [0.1] if points < 7 else list(ORDERED_SHARES)
    middle = np.linspace(*MIDDLE_SPAN, points - 2 * len(ordered)) if points > 2 * len(ordered) + 1 \
        else np.array([0.5])
    return [*ordered, *(round(float(m), 4) for m in middle), *(round(1 - o, 4) for o in reversed(ordered))]


@functools.lru_cache(maxsize=None)
def knob_for_share(family: str, share: float) -> float:
    """The knob value (temperature or noise rate) whose exact h is ``share`` · log2 KNOB_K, by
    bisection (h grows monotonically along both knobs), rounded to 4 significant digits."""
    if family not in KNOBS:
        raise ValueError(f"family must be one of {', '.join(KNOBS)}; got {family!r}")
    checks.real("share", share, 0.0, 1.0, low_open=True, high_open=True)
    target = share * math.log2(KNOB_K)
    # Temperature bisects on log τ; the noise rate on the rate itself.
    lo, hi = (math.log(0.01), math.log(100.0)) if family == "temperature" else (0.0, 1.0)
    value = (lambda u: math.exp(u)) if family == "temperature" else (lambda u: u)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if make_source(family, value(mid)).truth().h < target:
            lo = mid
        else:
            hi = mid
    return float(f"{value(0.5 * (lo + hi)):.4g}")


def knob_settings(family: str, points: int) -> list[float]:
    """``points`` knob values along ``family``, placed by :func:`knob_shares`."""
    return [knob_for_share(family, s) for s in knob_shares(points)]
