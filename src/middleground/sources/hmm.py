"""Finite hidden Markov sources, with exact block entropies from their mixed states.

A source with S hidden states over the alphabet ``{0, ..., k-1}`` is a stack of *labelled
transition matrices* ``T[x, s, t] = P(emit x and move to t | in s)`` (Crutchfield and Feldman 2003;
Crutchfield, Ellison and Mahoney 2009). Summed over x they form a stochastic matrix whose stationary
distribution π starts every sample, so samples come from the stationary process.

Exact information quantities (bits):

- **Block entropy** H(L) of every word length L, without enumerating the k^L words: an observer's
  belief about the hidden state after a word (its *mixed state*) is all that matters for what comes
  next, so we propagate the distribution over distinct beliefs. Words leading to the same belief
  are merged; for the sources of this book the number of distinct beliefs stays small.
- **Entropy rate** h. If the source is *unifilar* (state and symbol determine the next state, as in
  an ε-machine) and the observer synchronises, ``h = Σ_s π_s H[X | s]`` exactly. Otherwise h has no
  closed form, and we return rigorous bounds: ``H(X_L | X_1..L-1, S_0) ≤ h ≤ H(X_L | X_1..L-1)``
  (Cover and Thomas, theorem 4.5.1), both exact for each L and converging to h as L grows.
- **Excess entropy** ``E = Σ_L [h(L) - h]`` with ``h(L) = H(L) - H(L-1)``, summed until the terms
  fall below ``tol``. For an order-k Markov chain the sum stops at L = k and equals the closed form
  ``H(k) - k h``; for the even process it converges geometrically.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..base import checks
from ..base.bits import entropy_bits
from . import beliefs, cmech
from .processes import Source, check_length, minimal_period


def stationary(P: np.ndarray) -> np.ndarray:
    """The stationary distribution of a stochastic matrix, or an error if it is not unique.

    First by least squares on ``π (P − I) = 0, Σ π = 1``, accepted when the residual and the rank
    of ``I − P`` say the answer is unique. A chain with some transitions near 0 (a Markov chain at
    a very low temperature, whose floored probabilities are 1e-12) is *nearly* decomposable, and
    those numerical tests then fail although the chain has one stationary distribution. So a
    failure is settled by the structure of P instead: the stationary distribution is unique exactly
    when the graph of positive transitions has one closed class (Norris 1997, "Markov chains":
    every finite closed class is recurrent, theorem 1.5.6, and an irreducible recurrent finite
    chain has exactly one invariant distribution, theorem 1.7.7; transient states carry none). It
    is computed on that class by the Grassmann–Taksar–Heyman elimination (:func:`_gth`), which has
    no subtractions and so keeps tiny probabilities accurate.
    """
    S = P.shape[0]
    A = np.vstack([P.T - np.eye(S), np.ones(S)])
    b = np.zeros(S + 1)
    b[-1] = 1.0
    pi, *_ = np.linalg.lstsq(A, b, rcond=None)
    # A reducible chain has several stationary vectors; the least-squares one would then be a mix.
    if (np.abs(pi @ P - pi).max() <= 1e-9 and not np.any(pi < -1e-12)
            and np.linalg.matrix_rank(np.eye(S) - P, tol=1e-10) == S - 1):
        pi = np.clip(pi, 0.0, None)
        return pi / pi.sum()
    closed = _closed_classes(P)
    if len(closed) != 1:
        raise ValueError(f"the chain is reducible: it has {len(closed)} closed classes of states, "
                         "so its stationary distribution is not unique")
    pi = np.zeros(S)
    pi[closed[0]] = _gth(P[np.ix_(closed[0], closed[0])])
    return pi


def _closed_classes(P: np.ndarray) -> list[np.ndarray]:
    """The closed communicating classes of P: strongly connected sets of states (in the graph of
    positive transitions) that no positive transition leaves."""
    n, label = connected_components(P > 0, directed=True, connection="strong")
    src, dst = np.nonzero(P > 0)
    leaves = np.zeros(n, dtype=bool)
    leaves[label[src][label[src] != label[dst]]] = True
    return [np.flatnonzero(label == c) for c in range(n) if not leaves[c]]


def _gth(P: np.ndarray) -> np.ndarray:
    """Stationary distribution of an irreducible stochastic matrix by the Grassmann–Taksar–Heyman
    algorithm (Grassmann, Taksar and Heyman 1985, "Regenerative analysis and steady state
    distributions for Markov chains", Operations Research 33, 1107–1116; Stewart 2009,
    "Probability, Markov chains, queues, and simulation", section 10.2).

    States are eliminated from the last: the chain watched only on states 0..k−1 has transitions
    ``p_ij + p_ik p_kj / s_k`` with ``s_k = Σ_{j<k} p_kj`` (the mass leaving k downwards, used in
    place of 1 − p_kk), and back-substitution gives ``π_k = Σ_{i<k} π_i p_ik / s_k`` from π_0 = 1.
    Only sums and products of non-negative numbers occur, so every π_k has small relative error
    however close to decomposable the chain is."""
    A = np.array(P, dtype=float)
    n = len(A)
    for k in range(n - 1, 0, -1):
        s = A[k, :k].sum()  # > 0: an irreducible chain can always leave k downwards, eventually
        A[:k, k] /= s
        A[:k, :k] += np.outer(A[:k, k], A[k, :k])
    pi = np.zeros(n)
    pi[0] = 1.0
    for k in range(1, n):
        pi[k] = pi[:k] @ A[:k, k]
    return pi / pi.sum()


@dataclass(frozen=True, eq=False)
class HMM(Source):
    """A finite-state source given by labelled transition matrices ``T[x, s, t]``."""

    T: np.ndarray
    name: str = "hmm"
    start: np.ndarray | None = field(default=None, repr=False)  # None: the stationary distribution

    def __post_init__(self):
        T = np.asarray(self.T, dtype=float)
        if T.ndim != 3 or T.shape[1] != T.shape[2] or T.shape[0] < 1 or T.shape[1] < 1:
            raise ValueError("T must have shape (alphabet, states, states) with both >= 1")
        if np.any(T < 0) or not np.allclose(T.sum(axis=(0, 2)), 1.0, atol=1e-9):
            raise ValueError("T[x, s, t] must be non-negative and sum to 1 over (x, t) for every s")
        object.__setattr__(self, "T", T)
        if self.start is None:
            pi = stationary(T.sum(axis=0))
        else:
            pi = checks.reals("start", self.start)
            if len(pi) != T.shape[1] or np.any(pi < 0) or abs(pi.sum() - 1.0) > 1e-9:
                raise ValueError(f"start must be a probability vector over the {T.shape[1]} "
                                 f"hidden states (non-negative, summing to 1); got {pi!r}")
        object.__setattr__(self, "start", pi)

    @property
    def alphabet_size(self) -> int:
        return self.T.shape[0]

    @property
    def n_states(self) -> int:
        return self.T.shape[1]

    @property
    def unifilar(self) -> bool:
        """Each (state, symbol) leads to at most one next state."""
        return bool(np.all((self.T > 0).sum(axis=2) <= 1))

    # --- sampling --------------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` symbols. The hidden chain is inherently sequential, so this is one loop, kept to
        a bisection in a precomputed cumulative table per step (about a second per 10^6 symbols)."""
        check_length(n)
        checks.rng("rng", rng)
        k, S = self.alphabet_size, self.n_states
        # Outcome (x, t) of state s flattened to x * S + t, with its cumulative probability.
        cum = np.cumsum(self.T.transpose(1, 0, 2).reshape(S, k * S), axis=1)
        cum[:, -1] = 1.0 + 1e-9  # u < 1 always lands on a real outcome despite rounding
        rows = cum.tolist()
        u = rng.random(n).tolist()
        out = [0] * n
        s = int(rng.choice(S, p=self.start))
        for i in range(n):
            x, s = divmod(bisect_right(rows[s], u[i]), S)
            out[i] = x
        return np.asarray(out, dtype=np.int64)

    # --- exact quantities ------------------------------------------------------------------
    def conditional_entropies(self, start=None, max_beliefs: int = 200_000):
        """Yield h(1), h(2), ... exactly: h(L) = H(L) − H(L−1) = E_belief H[X_L | belief], where the
        belief is the distribution over hidden states after the first L−1 symbols."""
        start = self.start if start is None else np.asarray(start, float)
        mixed = {tuple(np.round(start, 12)): (1.0, start)}
        L = 0
        while True:
            L += 1
            nxt: dict = {}
            h_step = 0.0
            for w, eta in mixed.values():
                joint = beliefs.predict(eta, self.T)  # P(x, next state | belief)
                px = joint.sum(axis=1)
                h_step += w * float(entropy_bits(px))
                for x in np.nonzero(px > 1e-300)[0]:
                    new = beliefs.condition(joint, x)
                    key = tuple(np.round(new, 12))  # words that lead to the same belief merge
                    old = nxt.get(key)
                    nxt[key] = (w * px[x] + (old[0] if old else 0.0), new)
            yield h_step
            if len(nxt) > max_beliefs:
                raise RuntimeError(f"more than {max_beliefs} distinct mixed states after "
                                   f"{L} symbols; ask for shorter words")
            mixed = nxt

    def block_entropies(self, L_max: int, start=None, max_beliefs: int = 200_000) -> np.ndarray:
        """Exact H(0), H(1), ..., H(L_max) in bits; RuntimeError when the words of some length
        below L_max lead to more than ``max_beliefs`` distinct mixed states."""
        checks.integer("L_max", L_max, 0)
        steps = self.conditional_entropies(start, max_beliefs=max_beliefs)
        return np.concatenate([[0.0], np.cumsum([next(steps) for _ in range(L_max)])])

    def conditional_given_state(self, L: int) -> float:
        """``H(X_L | X_1..L-1, S_0)`` in bits: a lower bound on h that rises to it with L."""
        total = 0.0
        for s in np.nonzero(self.start > 0)[0]:
            delta = np.zeros(self.n_states)
            delta[s] = 1.0
            H = self.block_entropies(L, start=delta)
            total += self.start[s] * (H[L] - H[L - 1])
        return total

    @property
    def entropy_rate(self) -> float:
        if not self.unifilar:
            raise ValueError(f"{self.name} is not unifilar: h has no closed form; "
                             "use entropy_rate_bounds(L)")
        per_state = entropy_bits(self.T.sum(axis=2), axis=0)  # H[X | s]
        return float(self.start @ per_state)

    def entropy_rate_bounds(self, L: int) -> tuple[float, float]:
        """Rigorous ``(lower, upper)`` bounds on h from words of length L (exact when unifilar)."""
        if L < 1:
            raise ValueError(f"L must be >= 1; got {L}")
        H = self.block_entropies(L)
        return float(self.conditional_given_state(L)), float(H[L] - H[L - 1])

    def excess_entropy_sum(self, tol: float = 1e-12, L_max: int = 2000) -> tuple[float, int]:
        """``(E, L)``: E = Σ_L [h(L) − h], stopped at the first L > 1 whose term is below ``tol``
        (h(L) decreases to h, so every term is non-negative). Unifilar sources only."""
        h = self.entropy_rate
        E = 0.0
        for L, h_L in enumerate(self.conditional_entropies(), start=1):
            E += h_L - h
            if L > 1 and h_L - h < tol:
                return float(E), L
            if L >= L_max:
                raise RuntimeError(f"excess entropy did not converge to {tol} by L = {L_max}")

    @property
    def excess_entropy(self) -> float:
        return self.excess_entropy_sum()[0]

    @property
    def statistical_complexity(self) -> float:
        """C_μ = H[π] over the causal states, in bits: the states of this machine with equal
        futures merged (:func:`.cmech.statistical_complexity`). Unifilar sources only."""
        if not self.unifilar:
            raise ValueError(f"{self.name} is not unifilar: C_mu needs the epsilon-machine, and "
                             "the causal states of a non-unifilar source are its mixed states, in "
                             "general infinitely many (see cmech.belief_entropy)")
        return cmech.statistical_complexity(self.T, self.start)


# --- the classic ε-machines ----------------------------------------------------------------------

def golden_mean() -> HMM:
    """No two 1s in a row. States A (may emit 0 or 1, fair) and B (after a 1: must emit 0).

    h = 2/3 bit, E = log2(3) − 4/3 ≈ 0.2516 bit (Crutchfield and Feldman 2003).
    """
    T = np.zeros((2, 2, 2))
    T[0, 0, 0] = 0.5  # A --0--> A
    T[1, 0, 1] = 0.5  # A --1--> B
    T[0, 1, 0] = 1.0  # B --0--> A
    return HMM(T, name="golden mean")


def even_process() -> HMM:
    """1s come in blocks of even length, separated by 0s. Not Markov of any finite order.

    h = 2/3 bit, E = log2(3) − 2/3 ≈ 0.9183 bit (Crutchfield and Feldman 2003).
    """
    T = np.zeros((2, 2, 2))
    T[0, 0, 0] = 0.5  # A --0--> A
    T[1, 0, 1] = 0.5  # A --1--> B
    T[1, 1, 0] = 1.0  # B --1--> A (completes the pair)
    return HMM(T, name="even process")


def mess3(x: float = 0.05, alpha: float = 0.85) -> HMM:
    """Mess3: three hidden states, three symbols, a fractal of beliefs (attributed to Marzen and
    Crutchfield 2017, "Nearly maximally predictive features and their dimensions"; used by Shai et
    al. 2024, "Transformers represent belief state geometry in their residual stream", with
    x = 0.05, α = 0.85).

    With β = (1 − α)/2 and y = 1 − 2x, the labelled matrices (row: from, column: to) are
    T^(A) = [[αy, βx, βx], [αx, βy, βx], [αx, βx, βy]] and T^(B), T^(C) the same with the α column
    moved to state B, C, as in the ``mess3`` of Astera-org/simplexity, which updates a belief as
    ``η T^(x)`` (our ``T[x, s, t]``). Equivalently: the hidden chain stays with probability y and
    moves to each other state with probability x, and the symbol names the *new* state with
    probability α, each other symbol with probability β. Σ_x T^(x) is doubly stochastic, so π is
    uniform whatever α. Not unifilar unless α = 1 (then the symbol names the state): a symbol
    leaves the new state uncertain, and the observer's beliefs fill a fractal.
    """
    try:
        x = checks.real("x", x, 0.0, 0.5, low_open=True)
    except ValueError:
        raise ValueError(f"x must be in (0, 1/2] (x = 0 freezes the hidden state; above 1/2 the "
                         f"stay probability 1 - 2x is negative); got {x!r}") from None
    alpha = checks.real("alpha", alpha, 0.0, 1.0)
    beta, y = (1.0 - alpha) / 2.0, 1.0 - 2.0 * x
    move = np.full((3, 3), x) + (y - x) * np.eye(3)  # P(next state t | state s)
    emit = np.full((3, 3), beta) + (alpha - beta) * np.eye(3)  # P(symbol | new state t), [t, x]
    T = np.einsum("st,tx->xst", move, emit)
    return HMM(T, name=f"Mess3 (x={x:g}, α={alpha:g})")


@dataclass(frozen=True, eq=False)
class NoisyPeriodic(HMM):
    """A repeated word whose every symbol is replaced, with probability ``noise``, by a uniform
    draw from the alphabet (possibly the same symbol).

    The phase advances whatever is emitted, so the machine is unifilar and h = H(emission), the
    mean entropy of one noisy symbol, exactly. For noise < 1 the phase is a function of the
    infinite past and also of the infinite future, and past and future are independent given it,
    so E = I(past; future) = H(phase) = log2(p), whatever the noise (p the minimal period). At
    noise = 1 every phase emits uniform noise and E = 0. The tests check both against the
    mixed-state sum.
    """

    period: int = 1
    noise: float = 0.0

    @property
    def excess_entropy(self) -> float:
        return 0.0 if self.noise >= 1.0 else math.log2(self.period)


def noisy_periodic(pattern, alphabet_size: int, noise: float) -> NoisyPeriodic:
    """:class:`NoisyPeriodic` for ``pattern`` (reduced to its minimal period) over the alphabet."""

    alphabet_size = checks.integer("alphabet_size", alphabet_size, 1)
    noise = checks.real("noise", noise, 0.0, 1.0)
    if len(pattern) == 0:
        raise ValueError(f"pattern must be non-empty with symbols in [0, {alphabet_size - 1}]")
    pattern = tuple(int(s) for s in checks.symbols("pattern", list(pattern), alphabet_size))
    p = minimal_period(pattern)
    pattern = pattern[:p]
    T = np.zeros((alphabet_size, p, p))
    for i, sym in enumerate(pattern):
        T[:, i, (i + 1) % p] = noise / alphabet_size
        T[sym, i, (i + 1) % p] += 1.0 - noise
    return NoisyPeriodic(T, name=f"noisy periodic (p={p}, noise={noise:g})", period=p,
                         noise=float(noise))


def with_noise(source: HMM, rate: float) -> HMM:
    """Each emitted symbol replaced by a uniform draw at ``rate``; the hidden chain moves as if
    the clean symbol had been emitted. The result is generally *not* unifilar."""
    if not isinstance(source, HMM):
        raise ValueError(f"source must be a hidden-Markov source (hmm.HMM); got {type(source).__name__}")
    rate = checks.real("noise rate", rate, 0.0, 1.0)
    k = source.alphabet_size
    mix = (1.0 - rate) * np.eye(k) + rate / k  # mix[x_clean, y_seen]
    T = np.einsum("xst,xy->yst", source.T, mix)
    return HMM(T, name=f"{source.name} + noise {rate:g}", start=source.start)


# --- Markov chains with a temperature knob -------------------------------------------------------

@dataclass(frozen=True, eq=False)
class MarkovChain(HMM):
    """Order-``order`` Markov chain over ``k`` symbols; P(x | last ``order`` symbols) is a softmax
    of fixed random logits divided by ``temperature``. τ → 0: deterministic; τ → ∞: uniform noise.

    Closed forms: h = Σ_s π_s H[X | s], E = H(order) − order · h, where H(order) is the entropy of
    π itself (the stationary distribution over contexts is the distribution of order-blocks).
    """

    order: int = 1
    temperature: float = 1.0

    @classmethod
    def random(cls, k: int, order: int, temperature: float, seed: int) -> "MarkovChain":
        """The chain with logits drawn from N(0, 1) by ``seed``. Irreducible at every temperature
        > 0: each transition probability is floored at 1e-12 (below, where the softmax underflows),
        so every context can reach every other within ``order`` steps, and :func:`stationary`
        finds the unique stationary distribution even when the chain is nearly deterministic."""
        probs = markov_probs(k, order, temperature, seed)
        S = k**order
        T = np.zeros((k, S, S))
        for s in range(S):
            for x in range(k):
                T[x, s, (s * k + x) % S] = probs[s, x]  # new context: drop the oldest symbol
        return cls(T, name=f"Markov (k={k}, order={order}, τ={temperature:g})", order=order,
                   temperature=float(temperature))

    @property
    def excess_entropy(self) -> float:
        return float(entropy_bits(self.start)) - self.order * self.entropy_rate


def markov_probs(k: int, order: int, temperature: float, seed: int) -> np.ndarray:
    """The conditional table of :meth:`MarkovChain.random`: (k**order contexts, k) probabilities,
    context ``s`` followed by ``x`` leading to context ``(s * k + x) % k**order``."""
    k = checks.integer("alphabet size k", k, 2)
    order = checks.integer("order", order, 1)
    temperature = checks.real("temperature", temperature, 0.0, low_open=True)
    seed = checks.integer("seed", seed, 0)
    if k**order > 4096:
        raise ValueError(f"k**order = {k**order} contexts is more than this module handles (4096)")
    logits = np.random.default_rng(seed).normal(size=(k**order, k))
    with np.errstate(over="ignore"):
        z = logits / temperature
    if not np.all(np.isfinite(z)):
        # τ so small that logits / τ overflows: shift each row's largest logit to 0 first, the
        # same softmax with no inf − inf (only such tiny τ take this path, so the chains of
        # every other temperature keep their exact bits).
        with np.errstate(over="ignore"):
            z = (logits - logits.max(axis=1, keepdims=True)) / temperature
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    # Floor so that every transition stays possible: the chain remains irreducible even at
    # very low temperature, where the softmax underflows. The floor (1e-12) changes h by less
    # than 1e-9 bit.
    probs = np.maximum(probs, 1e-12)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs
