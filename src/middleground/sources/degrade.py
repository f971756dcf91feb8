"""Real text, degraded step by step: each transformation keeps some statistics and destroys others.

- :func:`char_noise`: each character replaced, at rate p, by a uniform draw from the alphabet
  (possibly itself). Keeps the length; at p = 1 nothing of the text is left.
- :func:`word_shuffle`: the words (maximal runs of non-whitespace) permuted, the whitespace left
  where it was. Keeps the multiset of words and of characters; destroys syntax and meaning.
- :func:`char_shuffle`: all characters permuted. Keeps only the unigram statistics.
- :class:`NgramSurrogate`: a Markov chain of order n fitted to the text's (n+1)-gram counts and
  sampled. Keeps the statistics up to length n+1 (within sampling error) and nothing longer.

Every function takes an explicit seed (numpy ``Generator``) and is deterministic given it, and
checks its arguments (:mod:`middleground.base.checks`): symbols must lie in ``[0, alphabet_size)``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from ..base import checks
from ..base.bits import entropy_bits

# Most bytes the (positions × (order + 1)) table of words may take when the codes of
# :meth:`NgramSurrogate.fit` would overflow 64 bits and the words are sorted as rows instead.
# Sorting copies it, so the peak memory is about three times this.
MAX_WORD_TABLE_BYTES = 2**30


def char_noise(ids: np.ndarray, rate: float, alphabet_size: int, rng: np.random.Generator) -> np.ndarray:
    """Replace each symbol with probability ``rate`` by a uniform draw from ``alphabet_size``."""
    rate = checks.real("noise rate", rate, 0.0, 1.0)
    checks.symbols("ids", ids, alphabet_size)
    checks.rng("rng", rng)
    ids = np.asarray(ids)
    out = ids.copy()
    hit = rng.random(len(ids)) < rate
    out[hit] = rng.integers(0, alphabet_size, size=int(hit.sum()))
    return out


_WORD = re.compile(r"\S+")


def word_shuffle(text: str, rng: np.random.Generator) -> str:
    """Permute the words; every whitespace run stays where it was."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str; got {type(text).__name__}")
    checks.rng("rng", rng)
    words = _WORD.findall(text)
    gaps = _WORD.split(text)  # len(words) + 1 whitespace runs, possibly empty at the ends
    order = rng.permutation(len(words))
    parts = [gaps[0]]
    for i, j in enumerate(order):
        parts += [words[j], gaps[i + 1]]
    return "".join(parts)


def char_shuffle(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The symbols of ``ids`` (a 1-d array) in a uniformly random order."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-d array; got shape {ids.shape}")
    return checks.rng("rng", rng).permutation(ids)


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
        """Count the (order+1)-grams of ``ids`` (symbols in ``[0, alphabet_size)``).

        A context is keyed by its base-k code Σ_j c_j k^(order−1−j) as a Python int. While the
        codes of (context, next symbol) fit in 64 bits they are counted as int64 codes; beyond
        (65 symbols and order >= 10, say) the words are sorted as rows of a table instead, which
        needs (len(ids) − order) · (order + 1) small integers (at most
        :data:`MAX_WORD_TABLE_BYTES`). Both give the contexts in the same (lexicographic) order."""
        order = checks.integer("order", order, 0)
        k = checks.integer("alphabet_size", alphabet_size, 1)
        ids = checks.symbols("ids", ids, k)
        if len(ids) <= order:
            raise ValueError(f"ids must hold more than order = {order} symbols; got {len(ids)}")
        if k ** (order + 1) <= 2**63:  # codes below k^(order+1) fit in int64
            code = np.zeros(len(ids) - order, dtype=np.int64)
            for j in range(order):
                code = code * k + ids[j:len(ids) - order + j]
            pair = code * k + ids[order:]
            uniq, counts = np.unique(pair, return_counts=True)
            ctx, sym = uniq // k, uniq % k
            keys = ctx
        else:
            ctx, sym, counts, keys = _count_words_as_rows(ids, order, k)
        contexts = {}
        starts = np.flatnonzero(np.r_[True, ctx[1:] != ctx[:-1]])
        ends = np.r_[starts[1:], len(ctx)]
        n_pairs = len(ids) - order
        rate = 0.0
        for a, b in zip(starts, ends):
            c = counts[a:b].astype(float)
            contexts[int(keys[a])] = (sym[a:b], np.cumsum(c) / c.sum())
            rate += c.sum() / n_pairs * float(entropy_bits(c / c.sum()))
        unigram = np.bincount(ids, minlength=k) / len(ids)
        return cls(order, k, contexts, unigram, float(rate))

    def sample(self, n: int, rng: np.random.Generator, start: np.ndarray | None = None) -> np.ndarray:
        """``n`` symbols (``n >= order``); the first ``order`` come from ``start`` (``order``
        symbols, best a seen context) or are a seen context drawn uniformly."""
        k, o = self.alphabet_size, self.order
        n = checks.integer("n", n, o)
        checks.rng("rng", rng)
        if start is not None:
            start = checks.symbols("start", start, k)
            if len(start) != o:
                raise ValueError(f"start must hold order = {o} symbols; got {len(start)}")
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


def _count_words_as_rows(ids: np.ndarray, order: int, k: int):
    """The counts of the distinct (order+1)-grams of ``ids`` when their base-k codes overflow 64
    bits: each word a row of a table, sorted lexicographically by ``np.unique(axis=0)`` (the order
    of the codes), its context's code computed as a Python int. Returns, per distinct word: a
    context label that changes exactly where the context does, the next symbol, the count, and the
    context's code."""
    n_pairs = len(ids) - order
    dtype = np.min_scalar_type(k - 1)  # uint8 for up to 256 symbols: the table stays small
    table_bytes = n_pairs * (order + 1) * dtype.itemsize
    if table_bytes > MAX_WORD_TABLE_BYTES:
        raise ValueError(f"order = {order} over {k} symbols needs a table of {n_pairs:,} words of "
                         f"{order + 1} symbols ({table_bytes:,} bytes, more than "
                         f"MAX_WORD_TABLE_BYTES = {MAX_WORD_TABLE_BYTES:,}); lower order or "
                         "fit a shorter ids")
    words = np.lib.stride_tricks.sliding_window_view(ids.astype(dtype), order + 1)
    uniq, counts = np.unique(words, axis=0, return_counts=True)
    new_ctx = np.r_[True, np.any(uniq[1:, :-1] != uniq[:-1, :-1], axis=1)]
    label = np.cumsum(new_ctx)
    codes = {}
    for i in np.flatnonzero(new_ctx):
        codes[label[i]] = functools.reduce(lambda c, s: c * k + s, uniq[i, :-1].tolist(), 0)
    keys = [codes[lab] for lab in label]
    return label, uniq[:, -1].astype(np.int64), counts, keys
