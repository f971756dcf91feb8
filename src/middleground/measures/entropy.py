"""Estimators of entropy rate and excess entropy from one sample, in bits.

- **Block entropies** H(L) of the empirical distribution of length-L words, L = 1..L_max, counted
  with rolling integer codes (no Python loop over words), with three corrections:
  ``"plugin"`` (none; biased low), ``"miller-madow"`` (adds (m − 1)/(2N) nats, m the number of
  distinct words seen; Miller 1955), ``"grassberger"`` (Grassberger 2003's estimator,
  H = log N − (1/N) Σ n_i G(n_i) with G(n) = ψ(n) + ½ (−1)^n [ψ((n+1)/2) − ψ(n/2)]).
  N is the number of (overlapping) words, n − L + 1. :func:`entropy_of_counts` applies the same
  three estimators to any count tables, many rows at once (for bootstrap replicates).
- **Conditional entropies** h(L) = H(L) − H(L−1), which decrease to h for the exact H(L).
- **Compression**: bits per symbol of zlib, bz2 and lzma output (one byte per symbol in); an
  upper bound on h in the limit of long samples, with a large constant overhead on short ones.
- **Excess entropy**: E(L) = H(L) − L·h(L), the finite-L estimate that approaches E from below
  for the exact H(L) (Crutchfield and Feldman 2003).
- **Hilberg fit**: H(L) ≈ h·L + A·L^β by least squares, with standard errors from the covariance.

- **Truth of a source with no exact values**: :func:`estimated_truth` (an elementary cellular
  automaton, say), and :func:`truth_of`, the exact truth where a source has one, else that estimate.

Model-based cross-entropy (an upper bound on h from a trained GPT) lives with the experiments,
because it needs the trainer: see :func:`middleground.experiments.middle.model_cross_entropy`.

What these estimators cannot do: see structure longer than L_max (or than the sample holds). With
k symbols and N words, H(L) saturates near log2 N once k^L ≫ N; the chapter shows where. Word
lengths are capped at :data:`MAX_WORD_LENGTH` (see :func:`word_counts`).
"""

from __future__ import annotations

import bz2
import functools
import lzma
import math
import zlib

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import digamma

from ..base import checks
from ..base.bits import NATS_TO_BITS
from ..sources.processes import NoExactValue, Source, Truth

CORRECTIONS = ("plugin", "miller-madow", "grassberger")
COMPRESSORS = {
    "zlib": lambda b: zlib.compress(b, 9),
    "bz2": lambda b: bz2.compress(b, 9),
    "lzma": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
}

# Longest words counted (see word_counts for why this bound).
MAX_WORD_LENGTH = 64


def _check_sample(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array of symbols; got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"{name}: symbols must be integers; got dtype {x.dtype}")
    if x.min() < 0:
        raise ValueError(f"{name}: symbols must be non-negative integers; got min {x.min()}")
    if x.max() > np.iinfo(np.int64).max:  # a uint64 beyond int64 would wrap to a negative code
        raise ValueError(f"{name}: symbols must be below 2**63; got max {x.max()}")
    return x.astype(np.int64, copy=False)


def _entropy_from_counts(counts: np.ndarray, correction: str) -> float:
    """Entropy in bits of the distribution behind ``counts`` (positive integers)."""
    N = counts.sum()
    if correction == "plugin":
        p = counts / N
        return float(-(p * np.log2(p)).sum())
    if correction == "miller-madow":
        p = counts / N
        return float(-(p * np.log2(p)).sum() + (len(counts) - 1) / (2 * N) * NATS_TO_BITS)
    if correction == "grassberger":
        n = counts.astype(float)
        G = digamma(n) + 0.5 * (-1.0) ** n * (digamma((n + 1) / 2) - digamma(n / 2))
        return float((math.log(N) - (n * G).sum() / N) * NATS_TO_BITS)
    raise ValueError(f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}")


def entropy_of_counts(counts, correction: str = "plugin") -> np.ndarray | float:
    """Entropy in bits of the distribution behind each row of ``counts`` (last axis = cells).

    The same three estimators as :func:`block_entropies` (see the module docstring for their
    formulas and sources), vectorised over leading axes, with empty cells allowed (they are
    ignored; Miller–Madow's m counts the non-empty cells of each row). A 1-d array gives a float.
    Used for the many resampled count tables of a bootstrap.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}")
    n = np.asarray(counts, dtype=float)
    if n.ndim < 1 or n.shape[-1] < 1:
        raise ValueError("counts must have at least one cell along the last axis")
    if not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise ValueError("counts must be non-negative integers")
    N = n.sum(axis=-1)
    if np.any(N <= 0):
        raise ValueError("every row of counts must have a positive total")
    seen = n > 0
    safe = np.where(seen, n, 1.0)  # empty cells contribute nothing; avoid log(0) and ψ(0)
    if correction == "grassberger":
        G = digamma(safe) + 0.5 * (-1.0) ** safe * (digamma((safe + 1) / 2) - digamma(safe / 2))
        out = (np.log(N) - np.where(seen, n * G, 0.0).sum(axis=-1) / N) * NATS_TO_BITS
    else:
        p = n / N[..., None]
        out = -np.where(seen, p * np.log2(np.where(seen, p, 1.0)), 0.0).sum(axis=-1)
        if correction == "miller-madow":
            out = out + (seen.sum(axis=-1) - 1) / (2 * N) * NATS_TO_BITS
    return float(out) if out.ndim == 0 else out


def word_counts(x, L_max: int):
    """Yield, for L = 1..L_max, the counts of the distinct length-L words of ``x``, in the
    lexicographic order of the words.

    Words are integer codes built by a rolling update, ``code_L = code_{L-1} · k + x[i+L-1]``.
    Symbol values above the sample length (2^61, say) are first replaced by their rank among the
    distinct symbols, so k <= n; before the codes could overflow 64 bits they are replaced by
    their rank among the distinct words (``np.unique``), which keeps them below n · k. Ranks keep
    the order of symbols and words, so the counts come out exactly as without ranking. Counting
    uses ``np.bincount`` while the code space is small and sorting otherwise.

    ``L_max`` must be below the sample length (at least two word positions) and at most
    :data:`MAX_WORD_LENGTH` = 64. The cap bounds the work (one pass over the sample per length),
    and little is lost to it: the plug-in H(L) never exceeds log2 N for N words while the true
    H(L) >= L·h, so once L·h > log2 N the estimate is bounded by the sample size, not by the
    source. For h >= 1/2 bit and fewer than 2^32 symbols that is so by L = 64; the book's longest
    words have 24 symbols.
    """
    x = _check_sample(x)
    checks.integer("L_max", L_max, 1, MAX_WORD_LENGTH)
    if L_max >= len(x):
        raise ValueError(f"L_max must be below the sample length {len(x)} (at least two words of "
                         f"the longest length); got {L_max}")
    k = int(x.max()) + 1
    if k > len(x):  # sparse symbol values: rank them 0..m-1, in order, so k <= n
        symbols, x = np.unique(x, return_inverse=True)
        x, k = x.astype(np.int64).reshape(-1), len(symbols)
    codes = x.copy()
    space = k  # codes lie in [0, space)
    for L in range(1, L_max + 1):
        if L > 1:
            if space * k >= 2**62:
                codes, inverse = np.unique(codes, return_inverse=True)
                codes, space = inverse.astype(np.int64), len(codes)
                if space * k >= 2**63:  # only for samples of more than 2^31 symbols
                    raise ValueError(f"x of {len(x)} symbols over {k} values is too long for "
                                     "64-bit word codes")
            codes = codes[:-1] * k + x[L - 1:]
            space *= k
        if space <= 1 << 24:
            counts = np.bincount(codes, minlength=0)
            yield counts[counts > 0]
        else:
            s = np.sort(codes)
            edges = np.flatnonzero(np.diff(s)) + 1
            yield np.diff(np.concatenate([[0], edges, [len(s)]]))


def block_entropies(x, L_max: int, correction: str = "plugin") -> np.ndarray:
    """Estimated H(0..L_max) in bits (H(0) = 0); ``L_max`` in [1, :data:`MAX_WORD_LENGTH`] and
    below ``len(x)`` (see :func:`word_counts`)."""
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}")
    return np.array([0.0] + [_entropy_from_counts(c, correction) for c in word_counts(x, L_max)])


def conditional_entropies(H: np.ndarray) -> np.ndarray:
    """h(L) = H(L) − H(L−1) for L = 1..len(H)−1."""
    return np.diff(np.asarray(H, dtype=float))


def excess_entropy(H: np.ndarray) -> float:
    """E(L) = H(L) − L·h(L) at the largest L of ``H``."""
    H = np.asarray(H, dtype=float)
    L = len(H) - 1
    if L < 1:
        raise ValueError("need H(1) at least")
    return float(H[L] - L * (H[L] - H[L - 1]))


def compression_rates(x) -> dict[str, float]:
    """Bits per symbol after each compressor, one byte per symbol in (alphabets up to 256)."""
    x = _check_sample(x)
    if x.max() > 255:
        raise ValueError("compression estimates take alphabets of at most 256 symbols")
    data = x.astype(np.uint8).tobytes()
    return {name: 8.0 * len(f(data)) / len(x) for name, f in COMPRESSORS.items()}


def hilberg_fit(H: np.ndarray, L_min: int = 1) -> dict:
    """Fit H(L) = h·L + A·L^β for L ≥ L_min; return h, A, β with standard errors.

    Dębowski's form of Hilberg's conjecture: the sub-extensive part of H(L) grows as a power of L
    (β ≈ 0.5 was Hilberg's reading of Shannon's data). β near 0 or a tiny A means no power-law
    growth; the fit's uncertainties say how well the data constrain β.
    """
    H = np.asarray(H, dtype=float)
    L = np.arange(len(H), dtype=float)
    mask = L >= max(1, L_min)
    if mask.sum() < 4:
        raise ValueError("the Hilberg fit needs at least 4 block lengths")
    Lm, Hm = L[mask], H[mask]
    h0 = max(float(Hm[-1] - Hm[-2]), 1e-6)
    params, cov = curve_fit(lambda l, h, A, b: h * l + A * l**b, Lm, Hm,
                            p0=(h0, max(float(Hm[0]), 1e-3), 0.5),
                            bounds=([0.0, 0.0, 0.0], [np.inf, np.inf, 1.0]), maxfev=20_000)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    return {"h": float(params[0]), "A": float(params[1]), "beta": float(params[2]),
            "h_se": float(se[0]), "A_se": float(se[1]), "beta_se": float(se[2])}


@functools.lru_cache(maxsize=64)
def estimated_truth(source: Source, n: int = 200_000, L: int = 10) -> Truth:
    """h and E of ``source`` estimated from Miller–Madow block entropies of one seeded sample of
    ``n`` symbols, up to words of length ``L``: ``kind`` says "estimated". Computed once per
    (source, n, L): the sample is seeded, so the estimate is too."""
    H = block_entropies(source.sample(n, np.random.default_rng(12345)), L, correction="miller-madow")
    h = float(H[L] - H[L - 1])
    return Truth("estimated", h, h, float(H[L] - L * h),
                 note=f"Miller–Madow block entropies of {n:,} symbols, L = {L}")


def truth_of(source: Source) -> Truth:
    """The source's exact (or bounded) truth where it has one, else :func:`estimated_truth`."""
    try:
        return source.truth()
    except NoExactValue:
        return estimated_truth(source)


def heldout_compression_rates(train, val) -> dict[str, float]:
    """Each compressor's held-out rate on ``val`` after ``train``, in bits per symbol of ``val``:
    ``8 · (|C(train + val)| − |C(train)|) / len(val)``, one byte per symbol.

    This is the compressor's cost of the new text given everything before it, which is what a
    model's held-out cross-entropy measures; the whole-file rate ``|C(train + val)| / n`` instead
    averages over text the compressor has already seen. (zlib's 32 KB window sees only the end of
    ``train``; bz2's 900 KB blocks and xz's dictionary see more: that difference is part of what is
    measured.)"""
    a, b = _check_sample(train, "train"), _check_sample(val, "val")
    if max(a.max(), b.max()) > 255:
        raise ValueError("compression estimates take alphabets of at most 256 symbols")
    ta, tb = a.astype(np.uint8).tobytes(), b.astype(np.uint8).tobytes()
    return {name: 8.0 * (len(f(ta + tb)) - len(f(ta))) / len(b) for name, f in COMPRESSORS.items()}
