"""Synthetic sources whose place between noise and structure is known exactly.

Every source draws integer sequences over an alphabet ``{0, ..., k-1}`` from a seed, and knows its
exact entropy rate ``h`` and excess entropy ``E`` in bits (Crutchfield and Feldman 2003):

- ``h = lim H(L)/L``, the irreducible randomness per symbol: what no model can predict.
- ``E = lim [H(L) - L h]``, the information the past carries about the future: the structure.

Each sample starts at a uniformly random phase, so the sequences are drawn from the stationary
process and these quantities apply to them. This module starts with the two ends of the knob,
noise and pure periodicity; the richer sources of Part III extend the same ``Source`` interface.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


class Source(ABC):
    """A stationary process: ``sample(n, rng)``, ``alphabet_size``, exact ``entropy_rate`` (bits per
    symbol) and ``excess_entropy`` (bits)."""

    name: str
    alphabet_size: int

    @property
    @abstractmethod
    def entropy_rate(self) -> float:
        """Exact h in bits per symbol."""

    @property
    @abstractmethod
    def excess_entropy(self) -> float:
        """Exact E in bits."""

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` symbols from the stationary process, as an int64 array."""


def _check_length(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"sample length n must be a positive integer; got {n!r}")


@dataclass(frozen=True)
class IID(Source):
    """Independent draws from a fixed distribution ``probs``: h = H(probs), E = 0."""

    probs: tuple[float, ...]
    name: str = "iid"

    def __post_init__(self):
        p = np.asarray(self.probs, dtype=float)
        if p.ndim != 1 or len(p) < 1 or np.any(p < 0) or not math.isclose(p.sum(), 1.0, abs_tol=1e-9):
            raise ValueError("probs must be a non-empty 1-d probability vector summing to 1")

    @classmethod
    def uniform(cls, k: int) -> "IID":
        if k < 1:
            raise ValueError(f"alphabet size k must be >= 1; got {k}")
        return cls(tuple([1.0 / k] * k), name=f"uniform noise (k={k})")

    @property
    def alphabet_size(self) -> int:
        return len(self.probs)

    @property
    def entropy_rate(self) -> float:
        p = np.asarray(self.probs)
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())

    @property
    def excess_entropy(self) -> float:
        return 0.0

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        _check_length(n)
        return rng.choice(self.alphabet_size, size=n, p=np.asarray(self.probs))


def minimal_period(pattern) -> int:
    """The smallest p such that the infinite repetition of ``pattern`` has period p."""
    x = list(pattern)
    n = len(x)
    return next(p for p in range(1, n + 1) if n % p == 0 and x == x[:p] * (n // p))


@dataclass(frozen=True)
class Periodic(Source):
    """A fixed word repeated forever, from a uniform random phase: h = 0, E = log2(p).

    ``p`` is the *minimal* period of the word, so ``(0, 1, 0, 1)`` has E = 1 bit, not 2.
    """

    pattern: tuple[int, ...]
    alphabet_size: int
    name: str = "periodic"

    def __post_init__(self):
        if len(self.pattern) < 1:
            raise ValueError("pattern must be non-empty")
        if min(self.pattern) < 0 or max(self.pattern) >= self.alphabet_size:
            raise ValueError(f"pattern symbols must lie in [0, {self.alphabet_size - 1}]")

    @classmethod
    def random(cls, period: int, k: int, rng: np.random.Generator) -> "Periodic":
        """A word of ``period`` distinct symbols drawn from ``k`` (so its minimal period is exact)."""
        if not 1 <= period <= k:
            raise ValueError(f"period must be in [1, k={k}] for distinct symbols; got {period}")
        word = tuple(int(s) for s in rng.choice(k, size=period, replace=False))
        return cls(word, k, name=f"periodic (p={period})")

    @property
    def period(self) -> int:
        return minimal_period(self.pattern)

    @property
    def entropy_rate(self) -> float:
        return 0.0

    @property
    def excess_entropy(self) -> float:
        return math.log2(self.period)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        _check_length(n)
        word = np.asarray(self.pattern[: self.period])
        phase = int(rng.integers(self.period))
        return word[(phase + np.arange(n)) % self.period]
