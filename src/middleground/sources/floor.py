"""The finite-context floor: the least loss a model with context T can reach on a source.

A model trained and scored on non-overlapping windows of T + 1 symbols predicts the symbol at
position i (i = 1..T) from the i symbols before it *in the window*; nothing before the window
reaches it. Even the exact optimal predictor then pays, on average,

    floor(T) = (1/T) Σ_{i=1..T} H(X_{i+1} | X_1..X_i) = (H(T+1) − H(1)) / T   bits per symbol

(stationary source, H(L) the block entropy). The first positions of every window see little
context and pay more than the entropy rate h, so the floor lies above h:

    floor(T) − h = (1/T) Σ_{L=2..T+1} [h(L) − h]  →  (E − (H(1) − h)) / T,

a 1/T tail set by how much structure (excess entropy E) the source spreads beyond one symbol.
The book measures a model's *excess loss* above this floor, not above h: the gap to h that a finite
context forces is the source's doing, not the model's. :func:`paired_floor_bits` gives the same
quantity window by window, so a model's loss on the very windows it was scored on can be compared
pairwise.

The floor is exact (from the mixed-state block entropies of :mod:`.hmm`) while words of length T
lead to few distinct beliefs, as for Markov chains and synchronising ε-machines. Under noise the
beliefs multiply with every symbol; the floor is then a Monte Carlo mean over independent
stationary windows, each scored by the exact optimal filter (:func:`.beliefs.window_surprisal`),
with an honest standard error because the windows are independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import checks
from .beliefs import window_surprisal
from .hmm import HMM


@dataclass(frozen=True)
class Floor:
    """The finite-context floor of one source at one context length."""

    value: float  # bits per symbol
    se: float  # standard error; 0.0 when exact
    method: str  # "exact" or "Monte Carlo (n windows)"
    T: int  # context length: windows of T + 1 symbols, T of them predicted


def _check_source(source) -> None:
    if not isinstance(source, HMM):
        raise ValueError(f"source must be a hidden-Markov source (hmm.HMM), whose optimal "
                         f"predictor is known exactly; got {type(source).__name__}")


def sample_windows(source: HMM, n_windows: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``n_windows`` independent windows of ``length`` symbols, each started from ``source.start``
    (the stationary distribution): (n_windows, length) int64.

    Distributed exactly as ``source.sample(length, rng)`` drawn once per window, but all windows
    move together, so the loop runs over positions only.
    """
    _check_source(source)
    checks.integer("n_windows", n_windows, 1)
    checks.integer("length", length, 1)
    checks.rng("rng", rng)
    k, S = source.alphabet_size, source.n_states
    # Outcome (x, t) of state s flattened to x * S + t. Rows normalised by their own total, so the
    # last positive outcome ends exactly at 1.0 and u < 1 never lands on an impossible one.
    cum = np.cumsum(source.T.transpose(1, 0, 2).reshape(S, k * S), axis=1)
    cum /= cum[:, -1:]
    state = rng.choice(S, size=n_windows, p=source.start)
    out = np.empty((n_windows, length), dtype=np.int64)
    for t in range(length):
        u = rng.random(n_windows)
        outcome = (cum[state] <= u[:, None]).sum(axis=1)  # bisect_right, row by row
        out[:, t], state = np.divmod(outcome, S)
    return out


def paired_floor_bits(source: HMM, windows) -> np.ndarray:
    """Per window, the mean bits the exact optimal predictor pays over positions 1..L−1 (position
    0 has no context within the window and is not scored): shape (B,), for windows (B, L)."""
    _check_source(source)
    windows = np.asarray(windows)
    if windows.ndim != 2 or windows.shape[1] < 2:
        raise ValueError(f"windows must have shape (B, L) with L >= 2; got {windows.shape}")
    return window_surprisal(source.start, source.T, windows)[:, 1:].mean(axis=1)


def finite_context_floor(source: HMM, T: int, n_windows: int = 20_000, seed: int = 0,
                         max_beliefs: int = 20_000) -> Floor:
    """``floor(T) = (H(T+1) − H(1)) / T``: exact while words of length up to T reach at most
    ``max_beliefs`` distinct mixed states, else a Monte Carlo mean over ``n_windows`` independent
    stationary windows of T + 1 symbols (seeded by ``seed``) with its standard error."""
    _check_source(source)
    checks.integer("T", T, 1)
    checks.integer("n_windows", n_windows, 2)  # two at least, for a standard error
    checks.integer("max_beliefs", max_beliefs, 1)
    try:
        H = source.block_entropies(T + 1, max_beliefs=max_beliefs)
    except RuntimeError:  # the beliefs multiply (noise): the exact sum is out of reach
        pass
    else:
        return Floor(value=float((H[T + 1] - H[1]) / T), se=0.0, method="exact", T=T)
    windows = sample_windows(source, n_windows, T + 1, np.random.default_rng(seed))
    bits = paired_floor_bits(source, windows)
    return Floor(value=float(bits.mean()), se=float(bits.std(ddof=1) / np.sqrt(n_windows)),
                 method=f"Monte Carlo ({n_windows} windows)", T=T)


def memory_bits(source: HMM, windows, k: int) -> np.ndarray:
    """Per window, the mean bits the exact predictor *with a memory of k symbols* pays over
    positions 1..L−1: symbol i is predicted from the last min(i, k) symbols before it, with the exact
    law P(x_i | those symbols) of the stationary source (filtered from ``source.start``). Shape (B,).

    k = 0 is the memoryless predictor (the symbol frequencies); k ≥ L − 1 is the optimal predictor
    of :func:`paired_floor_bits`. A model's loss on the same windows says which memory it beats."""
    _check_source(source)
    windows = np.asarray(windows)
    if windows.ndim != 2 or windows.shape[1] < 2:
        raise ValueError(f"windows must have shape (B, L) with L >= 2; got {windows.shape}")
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be an integer >= 0; got {k!r}")
    L = windows.shape[1]
    if k >= L - 1:
        return paired_floor_bits(source, windows)
    cols = []
    for i in range(1, L):
        sub = windows[:, max(0, i - k):i + 1]  # the last min(i, k) symbols and the one predicted
        cols.append(window_surprisal(source.start, source.T, sub)[:, -1])
    return np.stack(cols, axis=1).mean(axis=1)
