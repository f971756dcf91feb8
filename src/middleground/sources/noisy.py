"""Any source seen through memoryless noise: each symbol replaced, at a rate, by a uniform draw.

Exact values where the noisy source has a finite unifilar machine (iid and periodic bases),
converging bounds where it is a non-unifilar hidden-Markov source, and channel bounds otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..base import checks
from ..base.bits import entropy_bits
from . import hmm
from .processes import IID, Periodic, Source, Truth


@dataclass(frozen=True)
class Noisy(Source):
    """Any source with each symbol replaced, at ``rate``, by a uniform draw from its alphabet.

    h: exact for iid and periodic bases (the result is iid, or a unifilar noisy periodic machine);
    for hidden-Markov bases, exact mixed-state bounds from :mod:`.hmm`; for any other
    base, the channel bounds H_c ≤ h ≤ min(log2 k, h_base + H_c), where H_c is the entropy that
    the noise adds to one known symbol. Both hold for every stationary source and memoryless noise.
    """

    base: Source
    rate: float

    def __post_init__(self):
        checks.real("noise rate", self.rate, 0.0, 1.0)
        if not isinstance(self.base, Source):
            raise ValueError(f"base must be a Source; got {type(self.base).__name__}")

    @property
    def name(self) -> str:
        return f"{self.base.name} + noise {self.rate:g}"

    @property
    def alphabet_size(self) -> int:
        return self.base.alphabet_size

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        x = self.base.sample(n, rng).copy()
        hit = rng.random(n) < self.rate
        x[hit] = rng.integers(0, self.alphabet_size, size=int(hit.sum()))
        return x

    def channel_entropy(self) -> float:
        k, p = self.alphabet_size, self.rate
        return float(entropy_bits([1 - p + p / k] + [p / k] * (k - 1)))

    def as_exact(self) -> Source | None:
        """An equivalent source with exact values, where one exists."""
        k, p = self.alphabet_size, self.rate
        if isinstance(self.base, IID):
            q = (1 - p) * np.asarray(self.base.probs) + p / k
            return IID(tuple(q), name=self.name)
        if isinstance(self.base, Periodic):
            return hmm.noisy_periodic(self.base.pattern[: self.base.period], k, p)
        if isinstance(self.base, hmm.HMM):
            return hmm.with_noise(self.base, p)
        return None

    def truth(self, L: int = 6) -> Truth:
        exact = self.as_exact()
        if exact is not None and (not isinstance(exact, hmm.HMM) or exact.unifilar):
            return Truth("exact", exact.entropy_rate, exact.entropy_rate,
                         exact.excess_entropy if self.rate < 1 else 0.0)
        if exact is not None:
            lo, hi = exact.entropy_rate_bounds(L)
            return Truth("bounded", float(lo), float(hi), None,
                         note=f"mixed-state bounds from words of length {L}")
        hc = self.channel_entropy()
        base = self.base.truth()
        return Truth("bounded", hc, min(math.log2(self.alphabet_size), base.h_high + hc), None,
                     note="channel bounds H_c <= h <= h_base + H_c")

    @property
    def entropy_rate(self) -> float:
        t = self.truth()
        if t.kind != "exact":
            raise ValueError(f"{self.name}: h is only bounded, in [{t.h_low:.6f}, {t.h_high:.6f}]; "
                             "use truth()")
        return t.h_low

    @property
    def excess_entropy(self) -> float:
        return self.truth().E

    @property
    def statistical_complexity(self) -> float:
        """C_μ of the equivalent exact source (:meth:`as_exact`): exact for noise over iid or a
        periodic word (a unifilar machine); for noise over a general HMM the result is not unifilar,
        and the error says so (its causal states are its mixed states, in general infinitely many)."""
        exact = self.as_exact()
        if exact is None:
            return super().statistical_complexity  # raises NoExactValue with the source's name
        return exact.statistical_complexity
