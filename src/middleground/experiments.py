"""Named experiments that chapters run: each takes plain parameters and returns plain records.

Keeping them here, not in the chapters, means the tests can run the very code the book shows.
"""

from __future__ import annotations

import math

import numpy as np

from . import data, sources, text
from .device import Device
from .model import GPTConfig
from .train import TrainConfig, fit

NATS_TO_BITS = 1.0 / math.log(2.0)


def three_sources(period: int = 16, seed: int = 0, synthetic_length: int = 200_000):
    """Uniform noise, a periodic word, and Tiny Shakespeare, all over the same 65-symbol alphabet.

    Returns ``{name: (train_tokens, val_tokens, exact_h_bits_or_None)}``. Tiny Shakespeare is
    split 90/10 by position as in nanoGPT; the synthetic sources get independent draws for
    validation.
    """
    corpus = data.read_text("tinyshakespeare")
    vocab = text.CharVocab.from_text(corpus)
    k = len(vocab)
    rng = np.random.default_rng(seed)
    noise = sources.IID.uniform(k)
    periodic = sources.Periodic.random(period, k, rng)
    n_val = synthetic_length // 10
    out = {}
    for src in (noise, periodic):
        out[src.name] = (src.sample(synthetic_length, rng), src.sample(n_val, rng), src.entropy_rate)
    train, val = text.split(vocab.encode(corpus))
    out["Tiny Shakespeare"] = (train, val, None)
    return out, k


def teaser(steps: int, n_embd: int, block_size: int, batch_size: int, n_seeds: int, seed: int,
           device: Device | None = None) -> tuple[list[dict], dict]:
    """Train one tiny GPT per source and seed; return loss-curve records (bits) and run facts."""
    datasets, k = three_sources(seed=seed)
    model_cfg = GPTConfig(vocab_size=k, block_size=block_size, n_layer=2, n_head=4, n_embd=n_embd)
    records, n_params = [], None
    for name, (train, val, h) in datasets.items():
        for s in range(n_seeds):
            tc = TrainConfig(steps=steps, batch_size=batch_size, seed=seed + s,
                             eval_interval=max(1, steps // 10),
                             warmup_steps=max(1, min(20, steps // 10)))
            model, history = fit(model_cfg, tc, train, val, device)
            n_params = model.num_params()
            for row in history:
                records.append({"source": name, "seed": seed + s, "step": row["step"],
                                "val_bits": row["val_loss"] * NATS_TO_BITS,
                                "exact_h": h})
    return records, {"n_params": n_params, "alphabet": k, "model": model_cfg}
