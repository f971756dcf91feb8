"""How much arithmetic a GPT does, and how fast this machine can do it.

Model-FLOPs utilisation (MFU) is the share of the hardware's matmul peak that a training run turns
into *model* arithmetic. Two conventions have to be fixed for the number to mean anything:

- **FLOPs per token** follow nanoGPT's ``estimate_mfu`` (after the PaLM paper, appendix B):
  ``6 N + 12 L H Q T`` for N parameters without the position table, L layers, H heads of width Q
  and context T. ``6N`` is forward plus backward of every weight matrix (2 flops per
  multiply-add, backward twice forward); the second term is attention's QKᵀ and AV products,
  counted without the causal half-saving, as nanoGPT does.
- **The peak** is *measured* here, not read from a datasheet: the best rate of a large square
  matmul in the precision the run trains in (fp32 on the CPU, bf16 on CUDA), timed at start-up.
  A datasheet peak would flatter nobody and mislead everybody about a 2-core cloud slice.

What it does not do: count the optimiser, layer norms or softmax (they are not "model FLOPs").
"""

from __future__ import annotations

import time

import torch

from .model import GPTConfig


def flops_per_token(cfg: GPTConfig, n_params_without_position: int) -> int:
    """nanoGPT's training FLOPs per token: ``6 N + 12 L H Q T``."""
    head_dim = cfg.n_embd // cfg.n_head
    return 6 * n_params_without_position + 12 * cfg.n_layer * cfg.n_head * head_dim * cfg.block_size


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def matmul_peak(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                sizes: tuple[int, ...] | None = None, seconds: float = 0.25) -> float:
    """Best measured matmul rate in FLOP/s over square sizes, each timed for about ``seconds``."""
    device = torch.device(device)
    if sizes is None:
        sizes = (1024, 2048) if device.type == "cpu" else (4096, 8192)
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        a @ b  # warm-up: first call pays for allocation and kernel selection
        _sync(device)
        reps, elapsed = 0, 0.0
        start = time.perf_counter()
        while elapsed < seconds or reps < 2:
            a @ b
            reps += 1
            _sync(device)
            elapsed = time.perf_counter() - start
        best = max(best, 2 * n**3 * reps / elapsed)
    return best
