"""Tasks with exact answers: sequences whose optimal predictions are known in closed form.

- **In-context Markov chains** (Edelman et al. 2024): segments, each from its own order-1 chain
  drawn from a Dirichlet prior; the Bayes-optimal predictor counts transitions inside the segment,
  so its per-position loss is known exactly.
- **Quanta** (Michaud et al. 2023): a multitask source whose subtasks occur with Zipf-distributed
  frequency; each segment is a task token, a random symbol, then the task's fixed permutation
  applied again and again. Learning a task means memorising its permutation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import checks


# --- in-context learning of Markov chains ----------------------------------------------------------

def _check_alpha(alpha) -> float:
    try:
        return checks.real("alpha", alpha, 0.0, low_open=True)
    except ValueError:
        raise ValueError(f"concentration alpha must be positive and finite; got {alpha!r}") from None


def dirichlet_markov_segments(n_segments: int, length: int, k: int, alpha: float,
                              rng: np.random.Generator) -> np.ndarray:
    """Segments of ``length`` symbols, each from its own order-1 chain whose rows are drawn from
    a symmetric Dirichlet(α); the first symbol is uniform. Returns (n_segments, length)."""
    checks.integer("n_segments", n_segments, 1)
    checks.integer("length", length, 1)
    checks.integer("k", k, 1)
    _check_alpha(alpha)
    checks.rng("rng", rng)
    P = rng.dirichlet(np.full(k, alpha), size=(n_segments, k))  # (n, from, to)
    cum = np.cumsum(P, axis=2)
    out = np.empty((n_segments, length), dtype=np.int64)
    out[:, 0] = rng.integers(0, k, size=n_segments)
    u = rng.random((n_segments, length))
    rows = np.arange(n_segments)
    for t in range(1, length):
        c = cum[rows, out[:, t - 1]]
        out[:, t] = np.minimum((u[:, t, None] > c).sum(axis=1), k - 1)
    return out


def bayes_position_loss(segments: np.ndarray, k: int, alpha: float) -> np.ndarray:
    """Per-position loss (bits) of the Bayes-optimal in-context predictor, averaged over segments:
    P(next = j | current = i, past) = (n_ij + α) / (n_i + k α) with n the transitions seen so far.
    Position t predicts symbol t+1; returns (length - 1,)."""
    k = checks.integer("k", k, 1)
    segments = checks.symbols("segments", segments, k, ndim=2)
    if segments.shape[0] < 1 or segments.shape[1] < 2:
        raise ValueError(f"segments must have at least one row of at least 2 symbols; got shape "
                         f"{segments.shape}")
    alpha = _check_alpha(alpha)
    n, L = segments.shape
    counts = np.zeros((n, k, k))
    rows = np.arange(n)
    out = np.empty(L - 1)
    for t in range(L - 1):
        i, j = segments[:, t], segments[:, t + 1]
        p = (counts[rows, i, j] + alpha) / (counts[rows, i].sum(axis=1) + k * alpha)
        out[t] = -np.log2(p).mean()
        counts[rows, i, j] += 1
    return out


# --- quanta: a multitask source with Zipf-distributed task frequencies ----------------------------

@dataclass(frozen=True)
class Quanta:
    """``n_tasks`` tasks over ``k`` symbols; task t has frequency ∝ (t+1)^(−exponent) and a fixed
    random permutation σ_t. A segment is [task token k+t, x_0 uniform, σ_t(x_0), σ_t²(x_0), ...]
    of ``segment`` tokens. Vocabulary: k + n_tasks.

    Exact per-segment information: the task token (entropy of the Zipf law) and x_0 (log2 k) are
    unpredictable; every later symbol is determined by the task and the previous symbol, so a
    model that knows σ_t predicts it with zero loss. Per-task loss on those positions therefore
    measures whether the "quantum" t has been learned.
    """

    n_tasks: int
    k: int
    exponent: float
    segment: int
    seed: int = 0

    def __post_init__(self):
        checks.integer("n_tasks", self.n_tasks, 1)
        checks.integer("k", self.k, 2)
        checks.real("exponent", self.exponent, 0.0)
        checks.integer("segment", self.segment, 3)
        checks.integer("seed", self.seed, 0)

    @property
    def vocab_size(self) -> int:
        return self.k + self.n_tasks

    @property
    def frequencies(self) -> np.ndarray:
        w = np.arange(1, self.n_tasks + 1, dtype=float) ** -self.exponent
        return w / w.sum()

    @property
    def permutations(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return np.stack([rng.permutation(self.k) for _ in range(self.n_tasks)])

    def sample(self, n_segments: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n_segments`` segments concatenated, and the task of each segment."""
        checks.integer("n_segments", n_segments, 1)
        checks.rng("rng", rng)
        tasks = rng.choice(self.n_tasks, size=n_segments, p=self.frequencies)
        perms = self.permutations
        seg = np.empty((n_segments, self.segment), dtype=np.int64)
        seg[:, 0] = self.k + tasks
        seg[:, 1] = rng.integers(0, self.k, size=n_segments)
        for j in range(2, self.segment):
            seg[:, j] = perms[tasks, seg[:, j - 1]]
        return seg.reshape(-1), tasks
