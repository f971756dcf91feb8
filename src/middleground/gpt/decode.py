"""Decoding with a model: greedy continuation and the loss of a given continuation.

Both work for the single GPT of :mod:`.model` (ids of shape (B, T)) and for the stacked ensemble
of :mod:`.ensemble` (ids of shape (M, B, T)): any module that maps (..., T) ids to (..., T, V)
logits and has ``cfg.block_size``. Sampling with a temperature is :meth:`.model.GPT.generate`.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def greedy(model, contexts: torch.Tensor, k: int) -> torch.Tensor:
    """Greedy k-step continuation of ``contexts`` (..., T): (..., k) ids."""
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    idx = contexts
    block = model.cfg.block_size
    for _ in range(k):
        logits, _ = model(idx[..., -block:])
        idx = torch.cat([idx, logits[..., -1, :].argmax(-1, keepdim=True)], dim=-1)
    return idx[..., -k:]


@torch.no_grad()
def target_cross_entropy(model, contexts: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean per-token cross-entropy (nats) of ``targets`` after ``contexts``, teacher-forced: (...,)."""
    k = targets.shape[-1]
    seq = torch.cat([contexts, targets], dim=-1)[..., -model.cfg.block_size - 1:]
    logits, _ = model(seq[..., :-1])
    logp = torch.log_softmax(logits[..., -k:, :].float(), dim=-1)
    return -logp.gather(-1, targets[..., None]).squeeze(-1).mean(-1)
