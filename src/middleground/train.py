"""The training loop: AdamW, linear warmup then cosine decay, gradient clipping, held-out evals.

Batches are random windows of ``block_size + 1`` symbols from a 1-d token array, drawn from a
seeded generator, so a run is reproducible from its seed on a given device. Validation loss is the
mean over ``eval_iters`` fixed batches of the held-out split, so successive evaluations are
comparable. Losses are in nats per symbol, as torch's cross-entropy gives them.

What it does not do yet: checkpoints and a command line (Part II adds them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .device import Device, pick
from .model import GPT, GPTConfig


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 400
    batch_size: int = 32
    learning_rate: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_interval: int = 50
    eval_iters: int = 8
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "eval_interval", "eval_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1; got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive; got {self.learning_rate}")


def lr_at(step: int, tc: TrainConfig) -> float:
    """Linear warmup to ``learning_rate``, then cosine decay to ``min_lr_ratio * learning_rate``."""
    if step < tc.warmup_steps:
        return tc.learning_rate * (step + 1) / tc.warmup_steps
    progress = (step - tc.warmup_steps) / max(1, tc.steps - tc.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return tc.learning_rate * (tc.min_lr_ratio + (1 - tc.min_lr_ratio) * cosine)


def batch(tokens: torch.Tensor, block_size: int, batch_size: int, gen: torch.Generator):
    if len(tokens) < block_size + 1:
        raise ValueError(f"need at least block_size + 1 = {block_size + 1} tokens; got {len(tokens)}")
    starts = torch.randint(len(tokens) - block_size, (batch_size,), generator=gen)
    window = starts[:, None] + torch.arange(block_size + 1)
    chunk = tokens[window]
    return chunk[:, :-1], chunk[:, 1:]


@torch.no_grad()
def evaluate(model: GPT, batches, device: Device) -> float:
    model.eval()
    losses = []
    for x, y in batches:
        with device.autocast():
            _, loss = model(x.to(device.torch), y.to(device.torch))
        losses.append(loss.item())
    model.train()
    return float(np.mean(losses))


def fit(model_cfg: GPTConfig, tc: TrainConfig, train_tokens: np.ndarray, val_tokens: np.ndarray,
        device: Device | None = None) -> tuple[GPT, list[dict]]:
    """Train a fresh GPT; return it and its history of ``{step, lr, train_loss, val_loss}``."""
    device = device or pick()
    torch.manual_seed(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)
    train_t = torch.as_tensor(train_tokens, dtype=torch.long)
    val_t = torch.as_tensor(val_tokens, dtype=torch.long)
    val_batches = [batch(val_t, model_cfg.block_size, tc.batch_size,
                         torch.Generator().manual_seed(10_000 + i)) for i in range(tc.eval_iters)]

    model = GPT(model_cfg).to(device.torch)
    decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices decay; biases and norms do not
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tc.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=tc.learning_rate, betas=(0.9, 0.95))
    history = [{"step": 0, "lr": 0.0, "train_loss": float("nan"),
                "val_loss": evaluate(model, val_batches, device)}]
    running = []
    for step in range(tc.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, tc)
        x, y = batch(train_t, model_cfg.block_size, tc.batch_size, gen)
        with device.autocast():
            _, loss = model(x.to(device.torch), y.to(device.torch))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        opt.step()
        running.append(loss.item())
        if (step + 1) % tc.eval_interval == 0 or step + 1 == tc.steps:
            history.append({"step": step + 1, "lr": lr_at(step, tc),
                            "train_loss": float(np.mean(running)),
                            "val_loss": evaluate(model, val_batches, device)})
            running = []
    return model, history
