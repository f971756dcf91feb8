"""Mixed states: an observer's belief about the hidden state of a hidden-Markov source.

A source with labelled transition matrices ``T[x, s, t] = P(emit x and move to t | in s)`` is seen
only through its symbols. After a word, what an observer knows about the hidden state is a
distribution η over states, its *mixed state* (Crutchfield, Ellison and Mahoney 2009). One step:

    P(x, t | η) = Σ_s η_s T[x, s, t]            (:func:`predict`)
    η'_t = P(x, t | η) / P(x | η)               (:func:`condition`, for the x that was seen)

Exact block entropies (:mod:`.hmm`), the exact target of a continuation
(:mod:`middleground.measures.capability`) and the count of reachable beliefs all stand on these
two lines. Functions take the matrices (and a start distribution), not a source class, so this
module imports nothing else of the package.
"""

from __future__ import annotations

import numpy as np


def predict(eta: np.ndarray, T: np.ndarray) -> np.ndarray:
    """``P(x, next state | η)`` for beliefs ``η`` of shape (..., S): shape (..., X, S)."""
    return np.einsum("...s,xst->...xt", eta, T)


def condition(joint: np.ndarray, x, keep: np.ndarray | None = None) -> np.ndarray:
    """The belief after seeing ``x``: row ``x`` of ``joint`` (..., X, S), normalised.

    ``x`` is one symbol per belief (an array of shape ``joint.shape[:-2]``), or one int for all.
    Where the symbol has probability 0 there is nothing to condition on: the result is ``keep``
    there (the old belief, when given), else a row of NaN.
    """
    x = np.asarray(x)
    if joint.ndim == 2:
        nxt = joint[int(x)]
    else:
        nxt = np.take_along_axis(joint, x.reshape(*x.shape, 1, 1), axis=-2)[..., 0, :]
    mass = nxt.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = nxt / mass
    if keep is not None:
        out = np.where(mass > 0, out, keep)
    return out


def after(start: np.ndarray, T: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    """The belief after each row of ``contexts`` (B, L), every row starting from ``start``: (B, S)."""
    contexts = np.asarray(contexts)
    eta = np.tile(np.asarray(start, dtype=float), (len(contexts), 1))
    for t in range(contexts.shape[1]):
        eta = condition(predict(eta, T), contexts[:, t])
    return eta


def reachable_counts(start: np.ndarray, T: np.ndarray, L_max: int, decimals: int = 10) -> list[int]:
    """How many distinct beliefs are reachable after words of length 1, ..., ``L_max``.

    Beliefs equal to ``decimals`` places are counted once (words that lead to the same belief
    merge), so a unifilar machine that synchronises stays at a handful while noise makes the count
    grow with every symbol."""
    if not isinstance(L_max, (int, np.integer)) or L_max < 1:
        raise ValueError(f"L_max must be an integer >= 1; got {L_max!r}")
    beliefs = {tuple(np.round(np.asarray(start, dtype=float), decimals))}
    counts = []
    for _ in range(L_max):
        nxt = set()
        for b in beliefs:
            joint = predict(np.array(b), T)
            for x in np.nonzero(joint.sum(axis=1) > 1e-300)[0]:
                nxt.add(tuple(np.round(condition(joint, x), decimals)))
        beliefs = nxt
        counts.append(len(beliefs))
    return counts


def surprisal(start: np.ndarray, T: np.ndarray, x) -> np.ndarray:
    """Bits the exact optimal predictor pays for each symbol of the sequence ``x``: the belief is
    filtered symbol by symbol from ``start`` and each symbol costs ``-log2 P(x_t | x_<t)``
    (:func:`window_surprisal` for one window)."""
    return window_surprisal(start, T, np.asarray(x)[None, :])[0]


def window_surprisal(start: np.ndarray, T: np.ndarray, windows) -> np.ndarray:
    """:func:`surprisal` for every row of ``windows`` (B, L) at once: (B, L) bits, row b costing
    ``-log2 P(x_t | x_<t of row b)`` with every row filtered from ``start``.

    Rows are independent windows (what a model with a finite context sees), so nothing carries
    over from one row to the next. The loop runs over positions only. A symbol of probability 0
    costs inf, and the row's later entries are NaN, as in :func:`surprisal`.
    """
    windows = np.asarray(windows)
    if windows.ndim != 2 or not np.issubdtype(windows.dtype, np.integer):
        raise ValueError(f"windows must be a 2-D integer array (B, L); got shape {windows.shape} "
                         f"and dtype {windows.dtype}")
    if windows.size and (windows.min() < 0 or windows.max() >= T.shape[0]):
        raise ValueError(f"windows must hold symbols in [0, {T.shape[0] - 1}]")
    B, L = windows.shape
    eta = np.tile(np.asarray(start, dtype=float), (B, 1))
    rows = np.arange(B)
    out = np.empty((B, L))
    with np.errstate(divide="ignore", invalid="ignore"):  # probability 0: inf, as surprisal gives
        for t in range(L):
            seen = predict(eta, T)[rows, windows[:, t]]  # P(x_t, next state | belief), (B, S)
            p = seen.sum(axis=1)
            out[:, t] = -np.log2(p)
            eta = seen / p[:, None]
    return out
