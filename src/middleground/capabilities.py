"""Capabilities with exact answers, and the metrics that score them.

- **Continuation**: given a context drawn from a hidden-Markov source, continue it greedily for k
  symbols. The exact target is the greedy continuation of the *true* process: the most likely
  next symbol under the Bayes belief about the hidden state, fed back k times. A model that has
  learned the process reproduces it; the metrics compare the two.
- **Metrics**: exact match of all k symbols (the all-or-nothing score that makes abilities look
  "emergent"), per-token accuracy, edit distance, and the per-token cross-entropy of the target
  (continuous; Schaeffer et al. 2023).
- **Quanta**: a multitask source whose subtasks occur with Zipf-distributed frequency (Michaud et
  al. 2023): each segment starts with a task token, then a random symbol, then the task's fixed
  permutation applied again and again. Learning a task means memorising its permutation.
- **Addition**: k-digit addition as text, with a generator and a checker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .hmm import HMM


# --- the exact target of a continuation -------------------------------------------------------

def beliefs_after(source: HMM, contexts: np.ndarray) -> np.ndarray:
    """Bayes belief over hidden states after each context (B, T), starting from π: (B, S)."""
    eta = np.tile(source.start, (len(contexts), 1))
    for t in range(contexts.shape[1]):
        # P(x_t, next | belief), for the observed x_t of each row
        nxt = np.einsum("bs,bst->bt", eta, source.T[contexts[:, t]])
        eta = nxt / nxt.sum(axis=1, keepdims=True)
    return eta


def greedy_target(source: HMM, contexts: np.ndarray, k: int) -> np.ndarray:
    """The true process's greedy continuation of each context: (B, k) symbols."""
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    eta = beliefs_after(source, np.asarray(contexts))
    out = np.empty((len(contexts), k), dtype=np.int64)
    for j in range(k):
        joint = np.einsum("bs,xst->bxt", eta, source.T)  # P(x, next | belief)
        px = joint.sum(axis=2)
        x = px.argmax(axis=1)
        out[:, j] = x
        nxt = joint[np.arange(len(x)), x]
        eta = nxt / nxt.sum(axis=1, keepdims=True)
    return out


def continuation_correct(source: HMM, contexts: np.ndarray, continuation: np.ndarray,
                         tie: float = 1e-9) -> np.ndarray:
    """(B, k) booleans: is step j of ``continuation`` a most likely next symbol of the true process,
    given the context and the continuation's own earlier symbols?

    This scores a greedy continuation without penalising the choice between exactly tied symbols
    (the golden-mean process, for instance, has a fair coin after every 0)."""
    continuation = np.asarray(continuation)
    eta = beliefs_after(source, np.asarray(contexts))
    rows = np.arange(len(continuation))
    ok = np.empty(continuation.shape, dtype=bool)
    for j in range(continuation.shape[1]):
        joint = np.einsum("bs,xst->bxt", eta, source.T)
        px = joint.sum(axis=2)
        x = continuation[:, j]
        ok[:, j] = px[rows, x] >= px.max(axis=1) - tie
        nxt = joint[rows, x]
        mass = nxt.sum(axis=1, keepdims=True)
        # an impossible symbol leaves no belief to continue from: keep the old one (already wrong)
        eta = np.where(mass > 0, nxt / np.where(mass > 0, mass, 1.0), eta)
    return ok


@torch.no_grad()
def model_greedy(model, contexts: torch.Tensor, k: int) -> torch.Tensor:
    """Greedy k-step continuation by a model taking (..., T) ids and returning (..., T, V) logits."""
    idx = contexts
    block = model.cfg.block_size
    for _ in range(k):
        logits, _ = model(idx[..., -block:])
        idx = torch.cat([idx, logits[..., -1, :].argmax(-1, keepdim=True)], dim=-1)
    return idx[..., -k:]


@torch.no_grad()
def target_cross_entropy(model, contexts: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean per-token cross-entropy (nats) of the target continuation, teacher-forced: (...,)."""
    k = targets.shape[-1]
    seq = torch.cat([contexts, targets], dim=-1)[..., -model.cfg.block_size - 1:]
    logits, _ = model(seq[..., :-1])
    logp = torch.log_softmax(logits[..., -k:, :].float(), dim=-1)
    return -logp.gather(-1, targets[..., None]).squeeze(-1).mean(-1)


# --- metrics ------------------------------------------------------------------------------------

def exact_match(pred, target) -> np.ndarray:
    """1.0 where every symbol of a row matches, else 0.0."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {target.shape}")
    return np.all(pred == target, axis=-1).astype(float)


def token_accuracy(pred, target) -> np.ndarray:
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {target.shape}")
    return np.mean(pred == target, axis=-1)


def edit_distance(a, b) -> int:
    """Levenshtein distance between two sequences (insertions, deletions, substitutions)."""
    a, b = list(a), list(b)
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i]
        for j, y in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


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
        if self.n_tasks < 1 or self.k < 2 or self.segment < 3 or self.exponent < 0:
            raise ValueError("need n_tasks >= 1, k >= 2, segment >= 3, exponent >= 0")

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
        tasks = rng.choice(self.n_tasks, size=n_segments, p=self.frequencies)
        perms = self.permutations
        seg = np.empty((n_segments, self.segment), dtype=np.int64)
        seg[:, 0] = self.k + tasks
        seg[:, 1] = rng.integers(0, self.k, size=n_segments)
        for j in range(2, self.segment):
            seg[:, j] = perms[tasks, seg[:, j - 1]]
        return seg.reshape(-1), tasks


# --- addition -------------------------------------------------------------------------------------

ADDITION_VOCAB = "0123456789+="


def addition_example(a: int, b: int, digits: int) -> str:
    """``"a+b=c"`` with a, b zero-padded to ``digits`` and c to ``digits + 1``: fixed positions."""
    if digits < 1 or not (0 <= a < 10**digits and 0 <= b < 10**digits):
        raise ValueError(f"operands must be non-negative integers with at most {digits} digits")
    return f"{a:0{digits}d}+{b:0{digits}d}={a + b:0{digits + 1}d}"


def addition_problems(n: int, digits: int, rng: np.random.Generator) -> list[str]:
    a = rng.integers(0, 10**digits, size=n)
    b = rng.integers(0, 10**digits, size=n)
    return [addition_example(int(x), int(y), digits) for x, y in zip(a, b)]


def check_addition(prompt: str, answer: str) -> bool:
    """True when ``answer`` is the correct, zero-padded sum for ``prompt`` (``"a+b="``)."""
    try:
        left, rest = prompt.split("+")
        right, empty = rest.split("=")
        if empty or not (left.isdigit() and right.isdigit()) or len(left) != len(right):
            raise ValueError
    except ValueError:
        raise ValueError(f"not an addition prompt of the form 'a+b=': {prompt!r}") from None
    return answer == f"{int(left) + int(right):0{len(left) + 1}d}"
