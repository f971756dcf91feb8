"""The introduction's experiment: one tiny GPT trained on noise, on a periodic word and on text.

The introduction's summary of the knob sweep comes from :func:`middleground.sweeps.knob.results`.
"""

from __future__ import annotations

import numpy as np

from ..base import data
from ..base.bits import NATS_TO_BITS
from ..gpt import text
from ..gpt.core import TrainConfig
from ..gpt.device import Device
from ..gpt.model import GPTConfig
from ..gpt.train import fit
from ..sources.processes import IID, Periodic


def three_sources(period: int = 16, seed: int = 0, synthetic_length: int = 200_000):
    """Uniform noise, a periodic word, and Tiny Shakespeare, all over the same 65-symbol alphabet.

    Returns ``({name: (train_tokens, val_tokens, exact_h_bits_or_None)}, alphabet_size)``. Tiny
    Shakespeare is split 90/10 by position as in nanoGPT; the synthetic sources get independent
    draws for validation.
    """
    corpus = data.read_text("tinyshakespeare")
    vocab = text.CharVocab.from_text(corpus)
    k = len(vocab)
    rng = np.random.default_rng(seed)
    noise = IID.uniform(k)
    periodic = Periodic.random(period, k, rng)
    n_val = synthetic_length // 10
    out = {}
    for src in (noise, periodic):
        out[src.name] = (src.sample(synthetic_length, rng), src.sample(n_val, rng), src.entropy_rate)
    train, val = text.split(vocab.encode(corpus))
    out["Tiny Shakespeare"] = (train, val, None)
    return out, k


def teaser_model(vocab_size: int, n_embd: int, block_size: int) -> GPTConfig:
    """The teaser's GPT: two layers, four heads."""
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=2, n_head=4, n_embd=n_embd)


def teaser(steps: int, n_embd: int, block_size: int, batch_size: int, n_seeds: int, seed: int,
           device: Device | None = None) -> tuple[list[dict], dict]:
    """Train one tiny GPT per source and seed; return loss-curve records (bits) and run facts."""
    datasets, k = three_sources(seed=seed)
    model_cfg = teaser_model(k, n_embd, block_size)
    records, n_params = [], None
    for name, (train, val, h) in datasets.items():
        for s in range(n_seeds):
            tc = TrainConfig(max_iters=steps, batch_size=batch_size, seed=seed + s,
                             learning_rate=3e-3, min_lr=3e-4, beta2=0.95,
                             eval_interval=max(1, steps // 10), eval_iters=8,
                             warmup_iters=max(1, min(20, steps // 10)))
            run = fit(model_cfg, tc, train, val, device)
            n_params = run.n_params
            for row in run.history:
                records.append({"source": name, "seed": seed + s, "step": row["step"],
                                "val_bits": row["val_loss"] * NATS_TO_BITS,
                                "exact_h": h})
    return records, {"n_params": n_params}
