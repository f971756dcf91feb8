"""Computational mechanics of finite-state sources: ε-machines and what they store.

A *unifilar* presentation ``T[x, s, t] = P(emit x and move to t | in s)`` (state and symbol fix the
next state) becomes the ε-machine once states with identical futures are merged (:func:`minimize`;
Travers and Crutchfield 2011, "Equivalence of history and generator ε-machines": an irreducible
unifilar machine whose states are probabilistically distinct *is* the ε-machine). On it (bits):

- **Statistical complexity** ``C_μ = H[π]`` over the causal states: the memory an optimal
  predictor needs (Crutchfield and Feldman 2003, "Regularities unseen, randomness observed";
  Feldman, McTague and Crutchfield 2008).
- **Crypticity** ``χ = C_μ − E``: stored information that the observed past never shows
  (Crutchfield, Ellison and Mahoney 2009). E is the source's exact excess entropy.
- **Markov order** R: the smallest R with ``h(R+1) = h``. On the ε-machine this is the first
  length after which *every* word of positive probability leaves the observer certain of the
  causal state, an exact (tolerance-free) test; ``None`` when it is not reached (the even process).
- **Synchronisation** (Crutchfield and Feldman 2003, sec. on synchronisation): the average state
  uncertainty ``𝓗(L) = H[S_L | X_1..X_L]`` of an observer who knows the machine and starts from π,
  the synchronisation information ``S = Σ_{L≥0} 𝓗(L)``, the first L with ``𝓗(L) < tol``, and the
  mean number of symbols until the observer is certain of the state (Feldman and Crutchfield 2004,
  "Synchronizing to periodicity", their τ).
- **Transient information** ``T = Σ_{L≥0} [E + h L − H(L)]`` (Crutchfield and Feldman 2003).

A *non-unifilar* source (Mess3, noise over the golden mean) generally has infinitely many causal
states: its mixed states (beliefs, :mod:`.beliefs`) after ever longer words. Their number and the
entropy of their distribution grow without bound (Jurgens and Crutchfield 2021, "Divergent
predictive states"), so C_μ has no finite exact value. :func:`mixed_state_distribution` and
:func:`belief_entropy` give the distribution over distinct beliefs after words of length L and its
entropy at a chosen resolution, a finite stand-in that grows with L and with the resolution.

Functions take arrays ``(T, start)``; those that take a source read ``source.T`` and
``source.start`` (any :class:`.hmm.HMM`), or build the presentation of an iid or periodic source.
This module does not import :mod:`.hmm` (which imports it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import checks
from ..base.bits import entropy_bits
from .processes import IID, NoExactValue, Periodic, Source

DECIMALS = 12  # beliefs and probabilities equal to 12 places are the same (1e-12, as in .hmm)


# --- input checks --------------------------------------------------------------------------------

def _check(T, start) -> tuple[np.ndarray, np.ndarray]:
    T = np.asarray(T, dtype=float)
    if T.ndim != 3 or T.shape[1] != T.shape[2] or min(T.shape) < 1:
        raise ValueError(f"T must have shape (alphabet, states, states) with both >= 1; "
                         f"got {T.shape}")
    if np.any(T < 0) or not np.allclose(T.sum(axis=(0, 2)), 1.0, atol=1e-9):
        raise ValueError("T[x, s, t] must be non-negative and sum to 1 over (x, t) for every s")
    start = np.asarray(start, dtype=float)
    if start.shape != (T.shape[1],) or np.any(start < 0) or abs(start.sum() - 1.0) > 1e-9:
        raise ValueError(f"start must be a probability vector over the {T.shape[1]} states; "
                         f"got {start!r}")
    return T, start


def _check_stationary(T: np.ndarray, start: np.ndarray) -> None:
    if np.abs(start @ T.sum(axis=0) - start).max() > 1e-9:
        raise ValueError("start must be the stationary distribution of the chain "
                         "(C_μ and the causal states are properties of the stationary process)")


def _is_unifilar(T: np.ndarray) -> bool:
    return bool(np.all((T > 0).sum(axis=2) <= 1))


def _positive_tol(tol) -> None:
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1); got {tol!r}")


# --- the ε-machine -------------------------------------------------------------------------------

def minimize(T, start) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(T_min, pi_min, partition)``: a unifilar presentation with its states of equal futures
    merged, by probabilistic Moore partition refinement.

    Two states are equivalent iff, for every symbol, they emit it with the same probability (to
    1e-12) and move to equivalent states; refinement starts from "all states equal" and splits
    classes until no signature differs. For a unifilar machine this is exactly "same distribution
    over futures", so the result is the ε-machine's recurrent part when the presentation is
    irreducible (Travers and Crutchfield 2011). ``start`` must be stationary; states it gives
    probability 0 are transient and dropped (``partition`` is -1 there, else the class index).
    ``pi_min`` is ``start`` summed over each class: the stationary distribution of ``T_min``.
    """
    T, start = _check(T, start)
    if not _is_unifilar(T):
        raise ValueError("not unifilar: C_mu needs the epsilon-machine; a non-unifilar presentation "
                         "has in general infinitely many causal states (its mixed states): use "
                         "mixed_state_distribution / belief_entropy at a resolution instead")
    _check_stationary(T, start)
    keep = np.nonzero(start > 0)[0]
    emit = np.round(T.sum(axis=2), DECIMALS)  # P(x | s), (k, S)
    nxt = T.argmax(axis=2)  # the one successor of (s, x); only read where P(x | s) > 0
    cls = {int(s): 0 for s in keep}
    n_classes = 1
    while True:
        sigs: dict = {}
        new = {}
        for s in keep:
            sig = (cls[int(s)],) + tuple(
                (float(emit[x, s]), cls[int(nxt[x, s])] if emit[x, s] > 0 else -1)
                for x in range(T.shape[0]))
            new[int(s)] = sigs.setdefault(sig, len(sigs))
        cls = new
        if len(sigs) == n_classes:  # no class split: the partition is stable
            break
        n_classes = len(sigs)
    partition = np.full(T.shape[1], -1, dtype=np.int64)
    for s, c in cls.items():
        partition[s] = c
    rep = np.array([next(s for s in keep if cls[int(s)] == c) for c in range(n_classes)])
    T_min = np.zeros((T.shape[0], n_classes, n_classes))
    for c, s in enumerate(rep):
        for x in range(T.shape[0]):
            if T[x, s].sum() > 0:
                T_min[x, c, partition[nxt[x, s]]] = T[x, s].sum()
    pi_min = np.bincount(partition[keep], weights=start[keep], minlength=n_classes)
    return T_min, pi_min, partition


def statistical_complexity(T, start) -> float:
    """``C_μ = H[π]`` over the causal states of the minimized machine, in bits (Crutchfield and
    Feldman 2003; Feldman, McTague and Crutchfield 2008). ValueError when ``T`` is not unifilar."""
    _, pi_min, _ = minimize(T, start)
    return float(entropy_bits(pi_min))


def presentation(source) -> tuple[np.ndarray, np.ndarray]:
    """``(T, start)`` of a source with a finite-state presentation: a hidden-Markov source (read
    from ``source.T`` and ``source.start``), iid (one state) or periodic (one state per phase), or
    a source whose ``as_exact()`` returns one of these (noise over iid or periodic words)."""
    if hasattr(source, "T") and hasattr(source, "start"):
        return np.asarray(source.T, float), np.asarray(source.start, float)
    if isinstance(source, IID):
        return np.asarray(source.probs, float).reshape(-1, 1, 1), np.ones(1)
    if isinstance(source, Periodic):
        p, word = source.period, source.pattern
        T = np.zeros((source.alphabet_size, p, p))
        for i in range(p):
            T[word[i], i, (i + 1) % p] = 1.0
        return T, np.full(p, 1.0 / p)
    exact = source.as_exact() if hasattr(source, "as_exact") else None
    if exact is not None:
        return presentation(exact)
    raise NoExactValue(f"{getattr(source, 'name', source)!s} has no finite-state presentation here "
                       "(hidden-Markov, iid and periodic sources have one)")


def epsilon_machine(source) -> tuple[np.ndarray, np.ndarray]:
    """``(T_min, pi_min)``: the minimized presentation of ``source`` (see :func:`minimize`)."""
    T_min, pi_min, _ = minimize(*presentation(source))
    return T_min, pi_min


def crypticity(source: Source) -> float:
    """``χ = C_μ − E`` in bits (Crutchfield, Ellison and Mahoney 2009): the part of the stored
    state information that past and future do not share. Uses the source's exact C_μ and E."""
    return float(source.statistical_complexity - source.excess_entropy)


# --- mixed states --------------------------------------------------------------------------------

def _mixed_states(T: np.ndarray, start: np.ndarray, max_beliefs: int = 200_000):
    """Yield ``(beliefs, weights)`` after 0, 1, 2, ... symbols: the distinct beliefs (n, S) over
    hidden states reached by words of that length, merged when equal to 12 places, and the total
    probability of the words leading to each (words of probability 0 are left out)."""
    eta, w = start[None, :], np.ones(1)
    L = 0
    while True:
        yield eta, w
        L += 1
        joint = np.einsum("ns,xst->nxt", eta, T)  # P(x, next state | belief)
        px = joint.sum(axis=2)
        seen = px > 1e-300
        new = joint[seen] / px[seen][:, None]
        mass = (w[:, None] * px)[seen]
        # Words that lead to the same belief merge: one representative, their probabilities summed.
        _, first, inverse = np.unique(np.round(new, DECIMALS), axis=0, return_index=True,
                                      return_inverse=True)
        eta, w = new[first], np.bincount(inverse.reshape(-1), weights=mass)
        if len(eta) > max_beliefs:
            raise RuntimeError(f"more than {max_beliefs} distinct mixed states after {L} symbols; "
                               "ask for shorter words")


def mixed_state_distribution(T, start, L: int, decimals: int = DECIMALS,
                             max_beliefs: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """``(beliefs, probs)``: the distinct beliefs over hidden states after words of length exactly
    ``L`` drawn from ``start``, and their probabilities (Crutchfield, Ellison and Mahoney 2009:
    the mixed-state presentation at depth L). Beliefs are propagated at 12 places and then merged
    when equal to ``decimals`` places (a grid of resolution 10^-decimals; the representative is
    one of the merged beliefs). Sorted by decreasing probability."""
    T, start = _check(T, start)
    checks.integer("L", L, 0)
    if not isinstance(decimals, (int, np.integer)) or not 0 <= decimals <= DECIMALS:
        raise ValueError(f"decimals must be an integer in [0, {DECIMALS}]; got {decimals!r}")
    states = _mixed_states(T, start, max_beliefs)
    for _ in range(L + 1):
        eta, w = next(states)
    _, first, inverse = np.unique(np.round(eta, decimals), axis=0, return_index=True,
                                  return_inverse=True)
    eta, w = eta[first], np.bincount(inverse.reshape(-1), weights=w)
    order = np.argsort(-w, kind="stable")
    return eta[order], w[order]


def belief_entropy(T, start, L: int, decimals: int, max_beliefs: int = 200_000) -> float:
    """Entropy (bits) of the distribution over distinct beliefs after words of length ``L``, with
    beliefs equal to ``decimals`` places counted as one: the information an observer's belief
    holds at that resolution. For a unifilar machine that synchronises it tends to C_μ as L grows;
    for a non-unifilar source it grows with L and with the resolution (its C_μ is infinite)."""
    _, probs = mixed_state_distribution(T, start, L, decimals, max_beliefs)
    return float(entropy_bits(probs))


# --- quantities of the ε-machine -----------------------------------------------------------------

def markov_order(source, L_max: int = 64) -> int | None:
    """The Markov order R: the smallest R with ``h(R+1) = h`` (Crutchfield and Feldman 2003), or
    ``None`` when it is not reached by ``L_max`` (the even process has none: R is infinite).

    Computed exactly on the ε-machine: h(R+1) = h iff every word of length R and positive
    probability determines the causal state, i.e. every mixed state after R symbols is a single
    state (then the next symbol depends on the past only through those R symbols; conversely at
    order R the causal state is a function of the last R symbols). No tolerance is involved.
    """
    checks.integer("L_max", L_max, 0)
    T_min, pi_min = epsilon_machine(source)
    for L, (eta, _) in enumerate(_mixed_states(T_min, pi_min)):
        if np.all(np.count_nonzero(eta, axis=1) == 1):
            return L
        if L >= L_max:
            return None


@dataclass(frozen=True)
class Synchronisation:
    """How an observer who knows the ε-machine and starts from π comes to know its state.

    ``uncertainty[L]`` = 𝓗(L) = H[S_L | X_1..X_L] (bits) for L = 0 .. the last length computed;
    ``information`` = S = Σ_L 𝓗(L); ``time``: the first L with 𝓗(L) < tol (None if not reached);
    ``mean_time``: the mean number of symbols until the belief is a single state (None when that
    does not happen with probability → 1 within the horizon); ``converged``: 𝓗 fell below tol.
    """

    uncertainty: np.ndarray
    information: float
    time: int | None
    mean_time: float | None
    converged: bool


def synchronisation(source, L_max: int = 500, tol: float = 1e-12) -> Synchronisation:
    """The average state uncertainty after L symbols, exact from the mixed states of the
    minimal machine started at π (Crutchfield and Feldman 2003, the synchronisation information
    S = Σ_{L≥0} 𝓗(L) with 𝓗(0) = C_μ), its first length below ``tol``, and the mean number of
    symbols until certainty, τ = Σ_{L≥0} P(not yet certain after L) (Feldman and Crutchfield 2004).

    Stops at the first L where both 𝓗(L) and P(not certain) are below ``tol``, or at ``L_max``.
    """
    checks.integer("L_max", L_max, 0)
    _positive_tol(tol)
    T_min, pi_min = epsilon_machine(source)
    uncertainty, unsure = [], []
    for L, (eta, w) in enumerate(_mixed_states(T_min, pi_min)):
        uncertainty.append(float(w @ entropy_bits(eta, axis=1)))
        unsure.append(float(w[np.count_nonzero(eta, axis=1) > 1].sum()))
        if (uncertainty[-1] < tol and unsure[-1] < tol) or L >= L_max:
            break
    H = np.array(uncertainty)
    below = np.nonzero(H < tol)[0]
    return Synchronisation(
        uncertainty=H, information=float(H.sum()),
        time=int(below[0]) if len(below) else None,
        mean_time=float(sum(unsure)) if unsure[-1] < tol else None,
        converged=bool(H[-1] < tol))


def transient_information(source, tol: float = 1e-12, L_max: int = 2000) -> float:
    """``T = Σ_{L≥0} [E + h L − H(L)]`` in bits (Crutchfield and Feldman 2003): how much the block
    entropy falls short of its asymptote E + hL on the way, the uncertainty paid while
    synchronising.

    Summed as ``T = Σ_{m≥1} m [h(m) − h]``, the same series regrouped: E + hL − H(L) =
    Σ_{m>L} [h(m) − h] since E = Σ_{m≥1} [h(m) − h] and H(L) = Σ_{m≤L} h(m). So no truncated E
    enters. h(m) is exact from the mixed states of the ε-machine and h(m) − h decreases to 0;
    the sum stops at the first m whose term m [h(m) − h] is below ``tol`` (RuntimeError if that
    does not happen by ``L_max``). Unifilar sources only (h must be exact).
    """
    _positive_tol(tol)
    checks.integer("L_max", L_max, 1)
    T_min, pi_min = epsilon_machine(source)
    h = float(pi_min @ entropy_bits(T_min.sum(axis=2), axis=0))  # Σ_s π_s H[X | s]
    total = 0.0
    for m, (eta, w) in enumerate(_mixed_states(T_min, pi_min), start=1):
        h_m = float(w @ entropy_bits(np.einsum("ns,xst->nx", eta, T_min), axis=1))  # H[X_m | X^{m-1}]
        term = m * max(h_m - h, 0.0)  # h(m) >= h; a negative difference is rounding
        total += term
        if term < tol:
            return total
        if m >= L_max:
            raise RuntimeError(f"transient information did not converge to {tol} by L = {L_max}")


# --- one record ----------------------------------------------------------------------------------

def summary(source, L_max: int = 500, tol: float = 1e-12, bounds_L: int = 8) -> dict:
    """Every exact quantity of this module for one source, as a dict (bits):

    ``name, unifilar, h, E, C_mu, crypticity, markov_order, sync_time, mean_sync_time,
    sync_information, transient_information, n_causal_states``.

    A non-unifilar hidden-Markov source has none of these exactly: they are ``None`` there, and
    ``h_bounds`` holds rigorous (lower, upper) bounds on h from words of length ``bounds_L``;
    :func:`belief_entropy` is the finite stand-in for its (infinite) C_μ.
    """
    T, start = presentation(source)
    name = getattr(source, "name", type(source).__name__)
    if not _is_unifilar(T):
        lo, hi = source.entropy_rate_bounds(bounds_L)
        return dict(name=name, unifilar=False, h=None, h_bounds=(lo, hi), E=None, C_mu=None,
                    crypticity=None, markov_order=None, sync_time=None, mean_sync_time=None,
                    sync_information=None, transient_information=None, n_causal_states=None,
                    note="not unifilar: its causal states are its mixed states, generally "
                         "infinitely many; see belief_entropy for C_mu at a resolution")
    T_min, pi_min, _ = minimize(T, start)
    C_mu = float(entropy_bits(pi_min))
    E = float(source.excess_entropy)
    sync = synchronisation(source, L_max=L_max, tol=tol)
    return dict(name=name, unifilar=True, h=float(source.entropy_rate), h_bounds=None, E=E,
                C_mu=C_mu, crypticity=C_mu - E, markov_order=markov_order(source, L_max),
                sync_time=sync.time, mean_sync_time=sync.mean_time,
                sync_information=sync.information,
                transient_information=transient_information(source, tol=tol),
                n_causal_states=int(len(pi_min)), note="")

