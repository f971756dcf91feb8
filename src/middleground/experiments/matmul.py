"""The matmul chapter's experiment: how much of a numpy GPT's forward pass is matrix multiplication."""

from __future__ import annotations

import time

import numpy as np

from ..mechanics import numpy_gpt
from ..mechanics.config import GPTConfig


def matmul_share(params, cfg: GPTConfig, idx: np.ndarray, repeats: int) -> dict:
    """Median wall time of the numpy forward, and of the same matmuls alone (same shapes, same data
    type), replayed. Their ratio is the share of the forward spent in matrix multiplication."""
    B, T = idx.shape
    C, H, V = cfg.n_embd, cfg.n_head, cfg.vocab_size
    D = C // H
    shapes = []
    for _ in range(cfg.n_layer):
        shapes += [((B * T, C), (C, 3 * C)), ((B, H, T, D), (B, H, D, T)), ((B, H, T, T), (B, H, T, D)),
                   ((B * T, C), (C, C)), ((B * T, C), (C, 4 * C)), ((B * T, 4 * C), (4 * C, C))]
    shapes.append(((B * T, C), (C, V)))
    rng = np.random.default_rng(0)
    operands = [(rng.normal(size=a), rng.normal(size=b)) for a, b in shapes]

    def median_time(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    forward = median_time(lambda: numpy_gpt.forward(params, cfg, idx))
    matmuls = median_time(lambda: [a @ b for a, b in operands])
    return {"forward_s": forward, "matmul_s": matmuls, "share": matmuls / forward}
