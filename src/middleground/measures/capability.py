"""Capabilities with exact answers, and the metrics that score them.

- **Continuation**: given a context drawn from a hidden-Markov source, continue it greedily for k
  symbols. The exact target is the greedy continuation of the *true* process: the most likely
  next symbol under the Bayes belief about the hidden state (:mod:`middleground.sources.beliefs`),
  fed back k times. A model that has learned the process reproduces it; the metrics compare the two.
- **Scores**: :func:`continuation_correct` marks each symbol of a continuation right or wrong
  (ties between equally likely symbols count as right); its row-wise "all" is the exact match
  that makes abilities look "emergent", its mean the per-token accuracy (Schaeffer et al. 2023).
  The continuous counterpart, the per-token cross-entropy of the target, needs a model: it is
  :func:`middleground.gpt.decode.target_cross_entropy`.

What this module does not do: run a model. Continuations come in as arrays.
"""

from __future__ import annotations

import numpy as np

from ..base import checks
from ..sources import beliefs
from ..sources.hmm import HMM


# --- the exact target of a continuation -------------------------------------------------------

def _beliefs_after(source: HMM, contexts) -> np.ndarray:
    """The belief after each row of ``contexts``, refusing rows the source cannot emit."""
    if not isinstance(source, HMM):
        raise ValueError(f"source must be a hidden-Markov source (hmm.HMM), whose beliefs are "
                         f"exact; got {type(source).__name__}")
    contexts = checks.symbols("contexts", contexts, source.alphabet_size, ndim=2)
    eta = beliefs.after(source.start, source.T, contexts)
    # A symbol of probability 0 leaves no belief (NaN): nothing true continues such a context.
    impossible = np.flatnonzero(np.isnan(eta).any(axis=1))
    if len(impossible):
        i = int(impossible[0])
        raise ValueError(f"contexts holds {len(impossible)} row(s) that {source.name} cannot emit "
                         f"(probability 0), the first row {i}: {contexts[i].tolist()}")
    return eta


def greedy_target(source: HMM, contexts: np.ndarray, k: int) -> np.ndarray:
    """The true process's greedy continuation of each context: (B, k) symbols. Every context must
    be a word the source can emit (symbols in its alphabet, probability > 0)."""
    k = checks.integer("k", k, 1)
    eta = _beliefs_after(source, contexts)
    out = np.empty((len(eta), k), dtype=np.int64)
    for j in range(k):
        joint = beliefs.predict(eta, source.T)  # P(x, next | belief)
        out[:, j] = joint.sum(axis=2).argmax(axis=1)
        eta = beliefs.condition(joint, out[:, j])
    return out


def continuation_correct(source: HMM, contexts: np.ndarray, continuation: np.ndarray,
                         tie: float = 1e-9) -> np.ndarray:
    """(B, k) booleans: is step j of ``continuation`` a most likely next symbol of the true process,
    given the context and the continuation's own earlier symbols?

    This scores a greedy continuation without penalising the choice between exactly tied symbols
    (the golden-mean process, for instance, has a fair coin after every 0)."""
    eta = _beliefs_after(source, contexts)
    continuation = checks.symbols("continuation", continuation, source.alphabet_size, ndim=2)
    if len(continuation) != len(eta):
        raise ValueError(f"continuation must have one row per context ({len(eta)}); got "
                         f"{len(continuation)}")
    checks.real("tie", tie, 0.0)
    rows = np.arange(len(continuation))
    ok = np.empty(continuation.shape, dtype=bool)
    for j in range(continuation.shape[1]):
        joint = beliefs.predict(eta, source.T)
        px = joint.sum(axis=2)
        x = continuation[:, j]
        ok[:, j] = px[rows, x] >= px.max(axis=1) - tie
        # an impossible symbol leaves no belief to continue from: keep the old one (already wrong)
        eta = beliefs.condition(joint, x, keep=eta)
    return ok
