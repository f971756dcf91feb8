"""Real text, degraded step by step: each transformation keeps some statistics and destroys others.

- :func:`char_noise`: each character replaced, at rate p, by a uniform draw from the alphabet
  (possibly itself). Keeps the length; at p = 1 nothing of the text is left.
- :func:`word_shuffle`: the words (maximal runs of non-whitespace) permuted, the whitespace left
  where it was. Keeps the multiset of words and of characters; destroys syntax and meaning.
- :func:`char_shuffle`: all characters permuted. Keeps only the unigram statistics.
- :class:`NgramSurrogate`: a Markov chain of order n fitted to the text's (n+1)-gram counts and
  sampled. Keeps the statistics up to length n+1 (within sampling error) and nothing longer.

Every function takes an explicit seed (numpy ``Generator``) and is deterministic given it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..base.bits import entropy_bits


def _check_rate(p: float) -> float:
    if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
        raise ValueError(f"noise rate must be a number in [0, 1]; got {p!r}")
    return float(p)


def char_noise(ids: np.ndarray, rate: float, alphabet_size: int, rng: np.random.Generator) -> np.ndarray:
    """Replace each symbol with probability ``rate`` by a uniform draw from ``alphabet_size``."""
    rate = _check_rate(rate)
    ids = np.asarray(ids)
    if alphabet_size < 1 or (len(ids) and ids.max() >= alphabet_size):
        raise ValueError("alphabet_size must exceed every symbol of the text")
    out = ids.copy()
    hit = rng.random(len(ids)) < rate
    out[hit] = rng.integers(0, alphabet_size, size=int(hit.sum()))
    return out


_WORD = re.compile(r"\S+")


def word_shuffle(text: str, rng: np.random.Generator) -> str:
    """Permute the words; every whitespace run stays where it was."""
    words = _WORD.findall(text)
    gaps = _WORD.split(text)  # len(words) + 1 whitespace runs, possibly empty at the ends
    order = rng.permutation(len(words))
    parts = [gaps[0]]
    for i, j in enumerate(order):
        parts += [words[j], gaps[i + 1]]
    return "".join(parts)


def char_shuffle(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.asarray(ids))


@dataclass(frozen=True)
class NgramSurrogate:
    """Order-``order`` Markov chain fitted to the (order+1)-gram counts of ``ids``.

    Unseen contexts cannot occur when sampling (every context the chain reaches was seen with a
    successor), except the final context of the text: its successor falls back to the unigram
    distribution.
    """

    order: int
    alphabet_size: int
    contexts: dict  # context code -> (symbols, cumulative probabilities)
    unigram: np.ndarray
    # Bits per symbol of the fitted chain: Σ_c w_c H[X | c], w_c the contexts' frequencies in the
    # fitted text. Those frequencies are the chain's stationary distribution up to the text's two
    # ends (each context is entered and left equally often but for the first and last), so this is
    # the surrogate's entropy rate to O(order / len(ids)): it equals the plug-in h(order + 1).
    entropy_rate: float = float("nan")

    @classmethod
    def fit(cls, ids: np.ndarray, order: int, alphabet_size: int) -> "NgramSurrogate":
        if not isinstance(order, int) or order < 0:
            raise ValueError(f"order must be an integer >= 0; got {order!r}")
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) <= order:
            raise ValueError(f"need more than order = {order} symbols")
        k = alphabet_size
        code = np.zeros(len(ids) - order, dtype=np.int64)
        for j in range(order):
            code = code * k + ids[j:len(ids) - order + j]
        pair = code * k + ids[order:]
        uniq, counts = np.unique(pair, return_counts=True)
        ctx, sym = uniq // k, uniq % k
        contexts = {}
        starts = np.flatnonzero(np.r_[True, ctx[1:] != ctx[:-1]])
        ends = np.r_[starts[1:], len(ctx)]
        rate = 0.0
        for a, b in zip(starts, ends):
            c = counts[a:b].astype(float)
            contexts[int(ctx[a])] = (sym[a:b], np.cumsum(c) / c.sum())
            rate += c.sum() / len(pair) * float(entropy_bits(c / c.sum()))
        unigram = np.bincount(ids, minlength=k) / len(ids)
        return cls(order, k, contexts, unigram, float(rate))

    def sample(self, n: int, rng: np.random.Generator, start: np.ndarray | None = None) -> np.ndarray:
        """``n`` symbols; the first ``order`` come from ``start`` (a seen context) or are drawn."""
        k, o = self.alphabet_size, self.order
        out = np.empty(n, dtype=np.int64)
        if o:
            seed_ctx = start if start is not None else None
            if seed_ctx is None:
                keys = list(self.contexts)
                c = keys[int(rng.integers(len(keys)))]
                seed_ctx = [(c // k**(o - 1 - j)) % k for j in range(o)]
            out[:o] = seed_ctx
        u = rng.random(n)
        ctx = 0
        for j in range(o):
            ctx = ctx * k + int(out[j])
        mod = k**o if o else 1
        cum_uni = np.cumsum(self.unigram)
        for i in range(o, n):
            entry = self.contexts.get(ctx)
            if entry is None:
                x = int(np.searchsorted(cum_uni, u[i], side="right"))
            else:
                syms, cum = entry
                x = int(syms[min(np.searchsorted(cum, u[i], side="right"), len(syms) - 1)])
            out[i] = x
            ctx = (ctx * k + x) % mod if o else 0
        return out
