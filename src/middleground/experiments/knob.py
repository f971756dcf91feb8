"""The knob chapter's own sweep: in-context learning of Markov chains (Edelman et al. 2024).

Each run trains on segments that each come from their own order-1 chain
(:func:`middleground.sources.tasks.dirichlet_markov_segments`); the model must infer the chain
in context. Its held-out loss at each position is set beside the Bayes-optimal predictor's.
The standard sweep across the knob is :func:`middleground.sweeps.knob.results`.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import torch

from ..base.bits import NATS_TO_BITS
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..sources.tasks import bayes_position_loss, dirichlet_markov_segments
from ..sweeps.knob import SWEEP_MODEL, sweep_train_config


ICL_BATCH = 32  # windows per step of the in-context runs


def icl_alphas(knob_points: int) -> list[float]:
    """Dirichlet concentrations of the in-context runs: two under the smallest profile, else three."""
    return [0.3, 3.0] if knob_points <= 3 else [0.3, 1.0, 3.0]


def icl_cells(alphas, seeds, iters: int, k: int = 3, width: int = SWEEP_MODEL.n_embd) -> list[dict]:
    model = asdict(replace(SWEEP_MODEL, vocab_size=k, block_size=64, n_embd=int(width)))
    return [{"family": "dirichlet-markov", "alpha": float(a), "seed": int(s), "iters": int(iters),
             "k": k, "model": model, "n_segments": 4000} for a in alphas for s in seeds]


def icl_group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["k"], tuple(sorted(cell["model"].items())), cell["n_segments"])


def train_icl_group(group: list[dict]) -> list[dict]:
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    k, T = group[0]["k"], cfg.block_size
    tc = replace(sweep_train_config(group[0]["iters"]), batch_size=ICL_BATCH)
    train, val, val_segs = [], [], []
    for c in group:
        rng = np.random.default_rng([c["seed"], 11])
        train.append(dirichlet_markov_segments(c["n_segments"], T + 1, k, c["alpha"], rng).reshape(-1))
        segs = dirichlet_markov_segments(512, T + 1, k, c["alpha"], np.random.default_rng([c["seed"], 12]))
        val_segs.append(segs)
        val.append(segs.reshape(-1))
    x = torch.as_tensor(np.stack([s[:, :-1] for s in val_segs]), device=device.torch)
    y = torch.as_tensor(np.stack([s[:, 1:] for s in val_segs]), device=device.torch)

    @torch.no_grad()
    def per_position(model, step):
        model.eval()
        logits, _ = model(x)
        model.train()
        logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, y[..., None]).squeeze(-1)
        bits = (-logp.mean(dim=1) * NATS_TO_BITS).cpu().numpy()  # (M, T)
        return {"position_bits": bits.tolist()}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, stride=T + 1,
                       on_eval=per_position)
    out = []
    for m, c in enumerate(group):
        bayes = bayes_position_loss(val_segs[m], k, c["alpha"])
        out.append({"steps": [r["step"] for r in run.history],
                    "val_bits": [r["val_loss"][m] * NATS_TO_BITS for r in run.history],
                    "position_bits": [r["extra"]["position_bits"][m] for r in run.history],
                    "bayes_position_bits": bayes.tolist()})
    return out
