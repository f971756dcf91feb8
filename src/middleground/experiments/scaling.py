"""The scaling chapter's experiment: a ladder of model sizes trained on the same tokens."""

from __future__ import annotations

import time

import torch

from ..gpt.core import TrainConfig
from ..gpt.device import Device, pick
from ..gpt.flops import flops_per_token, matmul_peak
from ..gpt.model import GPTConfig
from ..gpt.text import shakespeare_char
from ..gpt.train import fit, split_loss


# (n_layer, n_head, n_embd): each rung multiplies the non-embedding parameter count by about 2-4.
SCALING_LADDER = [(1, 2, 16), (2, 2, 24), (2, 2, 32), (3, 3, 48), (4, 4, 64), (4, 4, 96),
                  (4, 4, 128), (6, 6, 192), (6, 8, 256), (6, 6, 384)]


def rung_model(rung: tuple[int, int, int], vocab_size: int, block_size: int) -> GPTConfig:
    """The GPT of one rung ``(n_layer, n_head, n_embd)`` of :data:`SCALING_LADDER`."""
    n_layer, n_head, n_embd = rung
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer,
                     n_head=n_head, n_embd=n_embd, dropout=0.0, bias=False)


def non_embedding_params(model) -> int:
    """Kaplan et al.'s N: every parameter except the token and position tables."""
    return model.num_params(include_position=False) - model.wte.weight.numel()


def scaling_family(n_sizes: int, max_iters: int, batch_size: int, block_size: int, n_seeds: int,
                   seed: int, device: Device | None = None) -> tuple[list[dict], float]:
    """Train the first ``n_sizes`` rungs of the ladder, ``n_seeds`` seeds each, on the same tokens.

    Every run sees the same number of training tokens D = max_iters * batch_size * block_size, so
    this measures L(N) at fixed D. Returns one record per run (loss over the whole validation split,
    parameter counts, 6ND, the counted FLOPs, wall time) and the measured matmul peak.
    """
    if not 1 <= n_sizes <= len(SCALING_LADDER):
        raise ValueError(f"n_sizes must be in [1, {len(SCALING_LADDER)}]; got {n_sizes}")
    device = device or pick()
    train, val, vocab = shakespeare_char()
    tokens = max_iters * batch_size * block_size
    records = []
    for n_layer, n_head, n_embd in SCALING_LADDER[:n_sizes]:
        cfg = rung_model((n_layer, n_head, n_embd), len(vocab), block_size)
        for s in range(n_seeds):
            tc = TrainConfig(max_iters=max_iters, lr_decay_iters=max_iters, batch_size=batch_size,
                             learning_rate=1e-3 if n_embd >= 256 else 2e-3, min_lr=1e-4,
                             warmup_iters=min(100, max_iters // 10), eval_interval=max_iters,
                             eval_iters=4, seed=seed + s)
            t0 = time.perf_counter()
            run = fit(cfg, tc, train, val, device)
            wall = time.perf_counter() - t0
            n_no_pos = run.model.num_params(include_position=False)
            records.append({
                "size": f"{n_layer}L×{n_embd}",
                "seed": seed + s, "N": non_embedding_params(run.model),
                "D": tokens,
                "val_loss": split_loss(run.model, val, block_size, device),
                # the same fixed number of windows from each split: like with like, for the gap
                "train_loss_batches": run.history[-1]["train_loss"],
                "val_loss_batches": run.history[-1]["val_loss"],
                "wall_s": wall,
                "flops_6ND": 6 * non_embedding_params(run.model) * tokens,
                "flops_counted": flops_per_token(cfg, n_no_pos) * tokens,
                "train_s": sum(run.iter_seconds)})
    return records, matmul_peak(device.torch, device.autocast_dtype or torch.float32)
