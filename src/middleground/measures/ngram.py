"""A count-based Bayes predictor: the baseline beside every model number in Part III.

When a trained network misses the entropy rate h, the gap has two possible owners: the data (too
few symbols to pin down the process, whoever learns from them) or the model (too small, or badly
trained, to use what the data hold). :class:`BayesNgram` measures the first owner. It is an ideal
learner of Markov sources that needs no training, so what it leaves above h on the same training
sequence is the price of the data alone; a network above it is paying for being a network.

The model is a Bayesian mixture over Markov orders k = 0..``max_order``:

- For each order k and each context c (the k previous symbols) the next-symbol distribution has a
  Dirichlet(1/2, ..., 1/2) prior (Krichevsky and Trofimov 1981), whose predictive after counts n is

      p_k(x | c) = (n_{k,c,x} + 1/2) / (n_{k,c} + A/2),        A the alphabet size.

- Orders have a uniform prior; the posterior weight of order k is ∝ its marginal likelihood P_k of
  ``train[max_order:]`` (the same symbols for every order, each conditioned on its own k previous
  symbols), in closed form

      ln P_k = Σ_c [ lgamma(A/2) − lgamma(n_{k,c} + A/2)
                     + Σ_x (lgamma(n_{k,c,x} + 1/2) − lgamma(1/2)) ].

- The prediction is the mixture Σ_k w_k p_k (a sum of probabilities, not a product of experts).

The counts and the weights come from the training sequence only and are *not* updated on held-out
data: the predictor is frozen after fitting, like a trained network whose weights are fixed, so the
two are compared on equal terms. :meth:`BayesNgram.window_bits` scores non-overlapping windows
exactly as the trainer scores a transformer with context L − 1: symbol j of a window is predicted
from the j symbols before it *within the window*, so only orders k <= j take part at position j.

Counts are dense arrays indexed by base-A codes of (context, next symbol), so the whole alphabet
to the power ``max_order + 1`` must fit in memory; beyond about 2^26 cells the class refuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..base import checks
from ..base.bits import NATS_TO_BITS

# Largest number of (context, next symbol) cells of the highest order: 2^26 int32 counts = 256 MiB.
MAX_CELLS = 2**26


def _sum_lgamma(counts: np.ndarray, shift: float) -> float:
    """``Σ_i lgamma(counts_i + shift) − lgamma(shift)`` over an integer array, in nats.

    Counts are integers with few distinct values, so lgamma is evaluated once per distinct value
    (weighted by how often it occurs) instead of once per cell; zero counts contribute nothing."""
    how_often = np.bincount(counts.ravel())
    values = np.nonzero(how_often)[0]
    values = values[values > 0]
    lg0 = math.lgamma(shift)
    return float(sum(int(how_often[v]) * (math.lgamma(v + shift) - lg0) for v in values.tolist()))


@dataclass(frozen=True, eq=False)
class BayesNgram:
    """Bayesian mixture of Markov orders 0..``max_order`` with KT priors; build with :meth:`fit`.

    ``counts[k]`` has shape (A^k, A): row c counts the symbols that followed context c, where the
    context's code is Σ_i c_i A^(k−1−i) over its symbols c_0 (oldest) .. c_{k−1} (newest).
    ``order_log_evidence`` is log2 P_k in bits (minus the code length of ``train[max_order:]`` under
    order k); ``order_weights`` is the posterior over orders, summing to 1."""

    alphabet_size: int
    max_order: int
    counts: tuple[np.ndarray, ...]
    order_log_evidence: np.ndarray
    order_weights: np.ndarray

    @classmethod
    def fit(cls, train, alphabet_size: int, max_order: int) -> "BayesNgram":
        A = checks.integer("alphabet_size", alphabet_size, 2)
        K = checks.integer("max_order", max_order, 0)
        if A ** (K + 1) > MAX_CELLS:
            raise ValueError(f"alphabet_size ** (max_order + 1) = {A}**{K + 1} = {A ** (K + 1)} "
                             f"count cells is more than this dense counter holds ({MAX_CELLS}); "
                             "lower max_order")
        x = checks.symbols("train", train, A)
        if len(x) < K + 2:
            raise ValueError(f"train must be at least max_order + 2 = {K + 2} symbols long; "
                             f"got {len(x)}")
        if len(x) >= 2**31:
            raise ValueError(f"train has {len(x)} symbols; counts are int32, so at most 2**31 - 1")
        n = len(x) - K
        # Code of (previous K symbols, next symbol) at every predicted position t = K..len−1,
        # oldest symbol most significant, so lower orders are the same code modulo a power of A.
        codes = np.zeros(n, dtype=np.int64)
        for back in range(K, -1, -1):
            codes = codes * A + x[K - back:len(x) - back]
        per_order = [np.bincount(codes, minlength=A ** (K + 1)).astype(np.int32)]
        # All orders count the same positions, so order k − 1 is order k with its oldest context
        # symbol summed out: exact, and cheaper than counting again.
        for _ in range(K):
            per_order.append(per_order[-1].reshape(A, -1).sum(axis=0, dtype=np.int32))
        counts = tuple(c.reshape(-1, A) for c in reversed(per_order))

        log_evidence = np.array([
            _sum_lgamma(c, 0.5) - _sum_lgamma(c.sum(axis=1), A / 2) for c in counts
        ]) * NATS_TO_BITS
        weights = _renormalised(log_evidence, K)[K]
        return cls(A, K, counts, log_evidence, weights)

    # --- prediction ----------------------------------------------------------------------------
    def predictive(self, context) -> np.ndarray:
        """P(next symbol | ``context``), shape (A,): the mixture over orders k <= len(context),
        weights renormalised over those orders; only the last ``max_order`` symbols matter."""
        A, K = self.alphabet_size, self.max_order
        c = checks.symbols("context", context, A)
        top = min(len(c), K)
        weights = _renormalised(self.order_log_evidence, K)[top]
        mix = np.zeros(A)
        code = 0
        for k in range(top + 1):
            if k:
                code += int(c[-k]) * A ** (k - 1)  # next-older symbol becomes the top digit
            row = self.counts[k][code]
            mix += weights[k] * (row + 0.5) / (row.sum() + A / 2)
        return mix

    def window_bits(self, windows) -> np.ndarray:
        """Bits paid for symbols 1..L−1 of each of ``windows`` (B, L): shape (B, L−1).

        Symbol j is predicted from the j symbols before it within its window only, so position j
        mixes orders k <= min(j, max_order) with their posterior weights renormalised: exactly how
        a transformer with context L − 1 is scored on non-overlapping windows."""
        A, K = self.alphabet_size, self.max_order
        w = checks.symbols("windows", windows, A, ndim=2)
        B, L = w.shape
        if L < 2:
            raise ValueError(f"windows must have at least 2 columns (a symbol and one to predict); "
                             f"got shape {w.shape}")
        j = np.arange(1, L)                      # positions of the predicted symbols
        weight_at = _renormalised(self.order_log_evidence, K)[np.minimum(j, K)]  # (L−1, K+1)
        # Left-pad with zeros so that every order can build a code at every position; positions
        # with fewer than k symbols before them get a harmless code and weight 0 for order k.
        padded = np.concatenate([np.zeros((B, K), dtype=np.int64), w], axis=1)
        code = w[:, 1:].copy()                   # order-0 code: the next symbol itself
        mix = np.zeros((B, L - 1))
        for k in range(K + 1):
            if k:
                code += padded[:, K + 1 - k:K + L - k] * A**k   # prepend the symbol k back
            joint = self.counts[k].ravel()
            n_next = joint[code]
            n_context = self.counts[k].sum(axis=1)[code // A]
            mix += weight_at[:, k] * (n_next + 0.5) / (n_context + A / 2)
        return -np.log2(mix)


def _renormalised(log_evidence: np.ndarray, max_order: int) -> np.ndarray:
    """Row m: the posterior over orders restricted to k <= m (zero beyond), for m = 0..max_order.

    Computed in the log domain: evidences differ by thousands of bits, and a row whose orders all
    underflowed in the full posterior must still sum to 1."""
    out = np.zeros((max_order + 1, max_order + 1))
    for m in range(max_order + 1):
        z = np.exp2(log_evidence[:m + 1] - log_evidence[:m + 1].max())
        out[m, :m + 1] = z / z.sum()
    return out
