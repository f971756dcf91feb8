"""Synthetic sources whose place between noise and structure is known exactly.

Every source draws integer sequences over an alphabet ``{0, ..., k-1}`` from a seed, and knows its
exact entropy rate ``h`` and excess entropy ``E`` in bits (Crutchfield and Feldman 2003):

- ``h = lim H(L)/L``, the irreducible randomness per symbol: what no model can predict.
- ``E = lim [H(L) - L h]``, the information the past carries about the future: the structure.

Each sample starts from the stationary distribution (a uniformly random phase, for periodic
words), so these quantities apply to the sequences drawn. Every source also says how well its
values are known, through :meth:`Source.truth`: ``exact`` (closed form, or a convergent exact
computation) or ``bounded`` (rigorous lower and upper bounds on h). A source with neither (an
elementary cellular automaton) raises :class:`NoExactValue`; the estimators of
:mod:`middleground.measures.entropy` then give an ``estimated`` truth from a long sample.

This module holds the sources with closed forms that need no hidden states: iid (uniform, Zipf),
periodic words, Dębowski's Santa Fe process and elementary cellular automata. Finite hidden-Markov
sources (Markov chains with a temperature, ε-machines, noisy periodic words) are in :mod:`.hmm`;
noise over any source in :mod:`.noisy`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..base import checks
from ..base.bits import entropy_bits


@dataclass(frozen=True)
class Truth:
    """What is known about a source, in bits: h within [h_low, h_high] (equal when exact), E (None
    when infinite or unknown), and how these were obtained."""

    kind: str  # "exact" | "bounded" | "estimated"
    h_low: float
    h_high: float
    E: float | None
    note: str = ""

    @property
    def h(self) -> float:
        """The midpoint of the bounds (the exact value when kind is "exact")."""
        return 0.5 * (self.h_low + self.h_high)


class NoExactValue(ValueError):
    """Asked for the exact h or E of a source for which none is known."""


class Source(ABC):
    """A stationary process: ``sample(n, rng)``, ``alphabet_size``, exact ``entropy_rate`` (bits per
    symbol) and ``excess_entropy`` (bits)."""

    name: str
    alphabet_size: int

    def truth(self) -> Truth:
        h = self.entropy_rate
        return Truth("exact", h, h, self.excess_entropy)

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

    @property
    def statistical_complexity(self) -> float:
        """Exact C_μ in bits: the entropy of the causal states (Crutchfield and Feldman 2003).
        Sources override this where it is known; here there is none."""
        raise NoExactValue(f"{self.name} has no known statistical complexity C_mu")


def check_length(n: int) -> None:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
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
        k = checks.integer("alphabet size k", k, 1)
        return cls(tuple([1.0 / k] * k), name=f"uniform noise (k={k})")

    @classmethod
    def zipf(cls, k: int, exponent: float) -> "IID":
        """P(rank r) ∝ r^(−exponent), r = 1..k: the rank-frequency law of words in language."""
        k = checks.integer("alphabet size k", k, 1)
        checks.real("Zipf exponent", exponent, 0.0)
        w = np.arange(1, k + 1, dtype=float) ** -exponent
        return cls(tuple(w / w.sum()), name=f"Zipf (k={k}, s={exponent:g})")

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

    @property
    def statistical_complexity(self) -> float:
        """0: every past predicts the same future, so there is one causal state."""
        return 0.0

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        check_length(n)
        checks.rng("rng", rng)
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
        k = checks.integer("alphabet_size", self.alphabet_size, 1)
        if isinstance(self.pattern, (str, bytes)) or not hasattr(self.pattern, "__len__"):
            raise ValueError(f"pattern must be a sequence of integer symbols; got {self.pattern!r}")
        if len(self.pattern) < 1:
            raise ValueError("pattern must be non-empty")
        for i, sym in enumerate(self.pattern):  # 1.5 or True is no symbol, and 1.0 is no int
            checks.integer(f"pattern[{i}]", sym)
        if min(self.pattern) < 0 or max(self.pattern) >= k:
            raise ValueError(f"pattern symbols must lie in [0, {k - 1}]; got {tuple(self.pattern)}")
        # Python ints in a tuple: hashable, and equal patterns give equal sources.
        object.__setattr__(self, "pattern", tuple(int(sym) for sym in self.pattern))
        object.__setattr__(self, "alphabet_size", k)

    @classmethod
    def random(cls, period: int, k: int, rng: np.random.Generator) -> "Periodic":
        """A word of ``period`` distinct symbols drawn from ``k`` (so its minimal period is exact)."""
        k = checks.integer("k", k, 1)
        checks.rng("rng", rng)
        if isinstance(period, (bool, np.bool_)) or not isinstance(period, (int, np.integer)) \
                or not 1 <= period <= k:
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

    @property
    def statistical_complexity(self) -> float:
        """log2(p): the causal states are the p phases, equally likely (C_μ = E, no crypticity)."""
        return math.log2(self.period)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        check_length(n)
        checks.rng("rng", rng)
        word = np.asarray(self.pattern[: self.period])
        phase = int(rng.integers(self.period))
        return word[(phase + np.arange(n)) % self.period]


@dataclass(frozen=True)
class SantaFe(Source):
    """Dębowski's Santa Fe process: X_i = (K_i, z_{K_i}), symbol ``2 K_i + z_{K_i}``.

    K_i are iid with P(K = k) ∝ k^(−1/β), k = 1..k_max; z_1..z_k_max are fair bits drawn once per
    sequence (fixed "facts" that the text keeps restating). Every new distinct K reveals one bit,
    so with D(L) the number of distinct values among L draws of K:

    - H(L) = L · H(K) + E[D(L)] exactly, with E[D(L)] = Σ_k [1 − (1 − p_k)^L];
    - h = H(K), and E = k_max bits (all facts eventually known);
    - without truncation E[D(L)] grows like L^β: Hilberg's law (Dębowski 2011). With k_max finite,
      the growth follows L^β until L approaches the point where most facts have been seen.
    """

    beta: float
    k_max: int

    @property
    def name(self) -> str:
        return f"Santa Fe (β={self.beta:g}, k_max={self.k_max})"

    def __post_init__(self):
        checks.real("beta", self.beta, 0.0, 1.0, low_open=True, high_open=True)
        checks.integer("k_max", self.k_max, 1)

    @property
    def k_probs(self) -> np.ndarray:
        w = np.arange(1, self.k_max + 1, dtype=float) ** (-1.0 / self.beta)
        return w / w.sum()

    @property
    def alphabet_size(self) -> int:
        return 2 * self.k_max

    @property
    def entropy_rate(self) -> float:
        return float(entropy_bits(self.k_probs))

    @property
    def excess_entropy(self) -> float:
        return float(self.k_max)

    @property
    def statistical_complexity(self) -> float:
        """k_max bits. Every K has positive probability, so the infinite past reveals all k_max
        facts almost surely; given them the future is iid, and distinct facts give distinct
        futures. The causal states are the 2^k_max fact vectors, uniform: C_μ = k_max = E (no
        crypticity). The process is a non-ergodic mixture of 2^k_max iid processes, and C_μ
        grows without bound with k_max, as E does (infinite for the untruncated process)."""
        return float(self.k_max)

    def expected_distinct(self, L) -> np.ndarray:
        """E[D(L)], the expected number of distinct K among L draws (vectorised over L)."""
        L = np.atleast_1d(np.asarray(L, dtype=float))
        log_q = np.log1p(-self.k_probs)
        rows = max(1, 4_000_000 // self.k_max)  # bound the (len(L), k_max) temporary to ~32 MB
        return np.concatenate([(1.0 - np.exp(np.outer(L[i:i + rows], log_q))).sum(axis=1)
                               for i in range(0, len(L), rows)])

    def block_entropies(self, L_max: int) -> np.ndarray:
        """Exact H(0), ..., H(L_max) in bits (the formula of the class docstring)."""
        checks.integer("L_max", L_max, 0)
        L = np.arange(L_max + 1)
        out = L * self.entropy_rate + self.expected_distinct(L)
        out[0] = 0.0
        return out

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        check_length(n)
        checks.rng("rng", rng)
        facts = rng.integers(0, 2, size=self.k_max)
        k = rng.choice(self.k_max, size=n, p=self.k_probs)
        return 2 * k + facts[k]


@dataclass(frozen=True)
class ElementaryCA(Source):
    """Wolfram's elementary cellular automaton ``rule`` on a ring of ``width`` cells, read as a
    binary sequence row after row (the space-time diagram in reading order).

    There is no closed form for h or E: :meth:`truth` raises :class:`NoExactValue`, and
    :func:`middleground.measures.entropy.estimated_truth` estimates them from a long sample. Each sample starts from a uniformly random row and discards ``burn_in``
    rows of transients.
    """

    rule: int
    width: int = 64
    burn_in: int = 64

    @property
    def name(self) -> str:
        return f"ECA rule {self.rule}"

    def __post_init__(self):
        checks.integer("rule", self.rule, 0, 255)
        checks.integer("width", self.width, 3)
        checks.integer("burn_in", self.burn_in, 0)

    alphabet_size = 2

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        check_length(n)
        checks.rng("rng", rng)
        table = np.array([(self.rule >> i) & 1 for i in range(8)], dtype=np.int8)
        rows = -(-n // self.width)
        row = rng.integers(0, 2, size=self.width, dtype=np.int8)
        out = np.empty((rows, self.width), dtype=np.int8)
        for t in range(self.burn_in + rows):
            if t >= self.burn_in:
                out[t - self.burn_in] = row
            row = table[4 * np.roll(row, 1) + 2 * row + np.roll(row, -1)]
        return out.reshape(-1)[:n].astype(np.int64)

    def truth(self) -> Truth:
        raise NoExactValue(f"{self.name} has no known h or E; estimate them with "
                           "middleground.measures.entropy.estimated_truth(source)")

    @property
    def entropy_rate(self) -> float:
        return self.truth().h

    @property
    def excess_entropy(self) -> float:
        return self.truth().E
