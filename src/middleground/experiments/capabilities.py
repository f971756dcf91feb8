"""The capabilities chapter's own sweep: many skills with Zipf-distributed frequencies (quanta).

Every run trains on the multitask source of :class:`middleground.sources.tasks.Quanta` and is
scored per task, on the positions that the task determines, at every evaluation (Michaud et al.
2023). Capabilities along the knob come from the standard sweep,
:func:`middleground.sweeps.knob.results`, and their extrapolation from
:mod:`middleground.measures.curves`.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import torch

from ..base.bits import NATS_TO_BITS
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..sources.tasks import Quanta
from ..sweeps.knob import SWEEP_MODEL, sweep_train_config


QUANTA_BATCH = 32  # windows per step of the quanta runs


def quanta_seeds(seed: int, n_seeds: int) -> list[int]:
    """Seeds of the quanta runs: the sweep's, and at least two (per-task spreads need a pair)."""
    return [seed + i for i in range(max(2, n_seeds))]


def quanta_cells(n_tasks: int, seeds, iters: int, k: int = 8, exponent: float = 1.5,
                 width: int = SWEEP_MODEL.n_embd) -> list[dict]:
    model = asdict(replace(SWEEP_MODEL, vocab_size=Quanta(n_tasks, k, exponent, 33).vocab_size,
                           block_size=32, n_embd=int(width)))
    return [{"family": "quanta", "n_tasks": n_tasks, "k": k, "exponent": exponent, "seed": int(s),
             "iters": int(iters), "model": model, "n_segments": 6000} for s in seeds]


def quanta_group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["n_tasks"], cell["k"], cell["exponent"],
            tuple(sorted(cell["model"].items())), cell["n_segments"])


def train_quanta_group(group: list[dict]) -> list[dict]:
    """Per-task held-out loss (bits) on the determined positions of each segment, at every eval."""
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    c0 = group[0]
    seg = cfg.block_size + 1
    q = Quanta(c0["n_tasks"], c0["k"], c0["exponent"], seg, seed=0)  # the same skills for every seed
    tc = replace(sweep_train_config(c0["iters"]), batch_size=QUANTA_BATCH)
    train, val = [], []
    for c in group:
        train.append(q.sample(c["n_segments"], np.random.default_rng([c["seed"], 21]))[0])
        val.append(q.sample(1000, np.random.default_rng([c["seed"], 22]))[0])
    # A fixed evaluation set with every task equally represented: 24 segments per task.
    tasks = np.repeat(np.arange(q.n_tasks), 24)
    rng = np.random.default_rng(23)
    perms = q.permutations
    segs = np.empty((len(tasks), seg), dtype=np.int64)
    segs[:, 0] = q.k + tasks
    segs[:, 1] = rng.integers(0, q.k, size=len(tasks))
    for j in range(2, seg):
        segs[:, j] = perms[tasks, segs[:, j - 1]]
    M = len(group)
    x = torch.as_tensor(np.broadcast_to(segs[:, :-1], (M, *segs[:, :-1].shape)).copy(), device=device.torch)
    y = torch.as_tensor(np.broadcast_to(segs[:, 1:], (M, *segs[:, 1:].shape)).copy(), device=device.torch)

    @torch.no_grad()
    def per_task(model, step):
        model.eval()
        logits, _ = model(x)
        model.train()
        logp = torch.log_softmax(logits.float(), -1).gather(-1, y[..., None]).squeeze(-1)
        bits = (-logp[:, :, 1:] * NATS_TO_BITS).cpu().numpy()  # positions after x_0 are determined
        return {"task_bits": [[float(bits[m, tasks == t].mean()) for t in range(q.n_tasks)]
                              for m in range(M)]}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, stride=seg,
                       on_eval=per_task)
    return [{"steps": [r["step"] for r in run.history],
             "task_bits": [r["extra"]["task_bits"][m] for r in run.history],
             "frequencies": q.frequencies.tolist()} for m in range(M)]
