"""A tiny but real sweep for the fault and cluster tests: each cell trains a small GPT with the
book's trainer on its own iid data, and its result is the run's evaluation history. Importable by
name, so a fork server or a Dask worker can run it."""

import os
from pathlib import Path

import numpy as np

from middleground.gpt.model import GPTConfig
from middleground.gpt.train import TrainConfig, fit
from middleground.sources.processes import IID
from middleground.sweeps import cache as sweep

NAME = "faults"


def tiny_cells(n_groups=8, per_group=2):
    return [{"width": 8 * (1 + g), "seed": s} for g in range(n_groups) for s in range(per_group)]


def by_width(cell):
    return (cell["width"],)


def train_tiny(cells):
    """One group: a tiny GPT per cell on its own iid data, its history as the result."""
    out = []
    for c in cells:
        tokens = IID.uniform(6).sample(3000, np.random.default_rng(c["seed"]))
        cfg = GPTConfig(vocab_size=6, block_size=8, n_layer=1, n_head=2, n_embd=c["width"])
        tc = TrainConfig(max_iters=40, batch_size=8, eval_interval=10, eval_iters=2, warmup_iters=2,
                         seed=c["seed"])
        out.append(fit(cfg, tc, tokens[:2500], tokens[2500:]).history)
    return out


def run_sweep(root, cells=None, executor=None):
    """The sweep into the cache at ``root``: (results, counts)."""
    os.environ["MIDDLEGROUND_SWEEP_CACHE"] = str(root)
    return sweep.run(NAME, tiny_cells() if cells is None else cells, by_width, train_tiny, executor)


def trainer_file() -> Path:
    return Path(__file__)
