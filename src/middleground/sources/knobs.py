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

from . import hmm
from .processes import SantaFe, Source, minimal_period

FAMILIES = ("temperature", "noise", "order", "hmm", "santa-fe")

KNOB_K = 4        # alphabet of the knob sources: small enough for exact block entropies
KNOB_ORDER = 2    # Markov order of the temperature knob: 16 hidden contexts


def markov_knob(temperature: float, seed: int) -> hmm.MarkovChain:
    """The book's temperature knob: an order-2 Markov chain over 4 symbols, fixed random logits."""
    return hmm.MarkovChain.random(KNOB_K, KNOB_ORDER, float(temperature), seed)


def periodic_word(p: int, rng: np.random.Generator) -> tuple[int, ...]:
    """A random word over the knob alphabet whose minimal period is exactly ``p``."""
    while True:
        word = tuple(int(v) for v in rng.choice(KNOB_K, p))
        if minimal_period(word) == p:
            return word


def make_source(family: str, knob) -> Source:
    if family == "temperature":
        return markov_knob(float(knob), seed=0)
    if family == "noise":
        return hmm.noisy_periodic(periodic_word(8, np.random.default_rng(0)), KNOB_K, float(knob))
    if family == "order":
        return hmm.MarkovChain.random(KNOB_K, int(knob), 0.5, seed=0)
    if family == "hmm":
        return {"golden mean": hmm.golden_mean, "even process": hmm.even_process}[knob]()
    if family == "santa-fe":
        return SantaFe(float(knob), 16)
    raise ValueError(f"unknown source family {family!r}; known: {', '.join(FAMILIES)}")
