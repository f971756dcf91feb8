"""The training chapter's experiment: a GPT trained on Tiny Shakespeare with nanoGPT's recipe."""

from __future__ import annotations

import torch

from ..gpt.core import TrainConfig
from ..gpt.device import Device, pick
from ..gpt.flops import matmul_peak
from ..gpt.model import GPTConfig
from ..gpt.text import shakespeare_char
from ..gpt.train import fit, split_loss


def recipe_model(vocab_size: int, n_layer: int, n_head: int, n_embd: int, block_size: int,
                 dropout: float) -> GPTConfig:
    """nanoGPT's character model at the chapter's sizes (no biases, as its GPU recipe)."""
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
                     n_embd=n_embd, dropout=dropout, bias=False)


def shakespeare_run(n_layer: int, n_head: int, n_embd: int, block_size: int, batch_size: int,
                    max_iters: int, eval_interval: int, eval_iters: int, dropout: float,
                    learning_rate: float, seed: int, sample_chars: int, compile: bool = False,
                    device: Device | None = None) -> dict:
    """Train a GPT on Tiny Shakespeare with nanoGPT's schedule, sampling text at every evaluation.

    Returns the run, the samples (``{step, val_loss, text}``), the loss over the whole validation
    split, and the matmul peak measured on the same device (for MFU).
    """
    device = device or pick()
    train, val, vocab = shakespeare_char()
    model_cfg = recipe_model(len(vocab), n_layer, n_head, n_embd, block_size, dropout)
    tc = TrainConfig(max_iters=max_iters, lr_decay_iters=max_iters, batch_size=batch_size,
                     learning_rate=learning_rate, min_lr=learning_rate / 10,
                     warmup_iters=min(100, max_iters // 10), eval_interval=eval_interval,
                     eval_iters=eval_iters, seed=seed, compile=compile)
    newline = vocab.encode("\n")
    samples = []

    def sample(model, row):
        # Its own generator: sampling must not disturb the training run's random streams.
        gen = torch.Generator(device=device.torch).manual_seed(seed)
        start = torch.as_tensor(newline, device=device.torch)[None]
        model.eval()
        out = model.generate(start, sample_chars, generator=gen)[0, 1:].tolist()
        model.train()
        samples.append({"step": row["step"], "val_loss": row["val_loss"], "text": vocab.decode(out)})

    run = fit(model_cfg, tc, train, val, device, on_eval=sample if sample_chars else None)
    return {"run": run, "samples": samples,
            "val_loss_whole_split": split_loss(run.model, val, block_size, device),
            "peak_flops": matmul_peak(device.torch, device.autocast_dtype or torch.float32)}
