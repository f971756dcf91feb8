"""The roofline of one training step: is each matrix product limited by arithmetic or by memory?

A product of an (M × K) and a (K × N) matrix does ``2 M K N`` flops and, at the least, reads both
operands and writes the result: ``(M K + K N + M N)`` elements. Their ratio, the *arithmetic
intensity* I (flops per byte), decides which resource bounds it (Williams, Waterman and Patterson
2009): a machine with peak P flop/s and memory bandwidth B byte/s runs it at most at
``min(P, I · B)``. The *balance point* ``P / B`` is the intensity a product needs to use the whole
peak. The backward pass repeats each product twice with the same three shapes (one for the input's
gradient, one for the weight's), so the forward list is the step's list, three times over.

- :func:`step_matmuls`: every matrix product of a GPT's training step, with its shape and count.
- :func:`intensity`: flops per byte at a given element size (4 for float32, 2 for bf16).
- :func:`memory_bandwidth`: measured here, as the best rate of a large copy.
- :func:`time_matmul`: the rate this machine reaches on one product's shape.

What it leaves out: caches (a product whose operands stay in cache beats its roofline), and the
element-wise work between products (layer norms, GELU, softmax), which is all memory traffic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .flops import _sync
from .model import GPTConfig


@dataclass(frozen=True)
class Matmul:
    name: str
    m: int
    k: int
    n: int
    count: int  # independent products of this shape per forward pass (layers × heads × ...)
    batched: bool = False  # run as one batched product over ``count`` (attention's per-head products)

    @property
    def flops(self) -> int:
        """Forward and backward: three products of this shape, ``count`` times."""
        return 3 * 2 * self.m * self.k * self.n * self.count


def step_matmuls(cfg: GPTConfig, batch_size: int) -> list[Matmul]:
    """The matrix products of one training step of ``cfg`` at ``batch_size`` windows."""
    rows, c, t, q = batch_size * cfg.block_size, cfg.n_embd, cfg.block_size, cfg.n_embd // cfg.n_head
    heads = batch_size * cfg.n_head * cfg.n_layer
    return [
        Matmul("attention q, k, v", rows, c, 3 * c, cfg.n_layer),
        Matmul("attention scores QKᵀ", t, q, t, heads, batched=True),
        Matmul("attention × V", t, t, q, heads, batched=True),
        Matmul("attention output", rows, c, c, cfg.n_layer),
        Matmul("MLP up", rows, c, 4 * c, cfg.n_layer),
        Matmul("MLP down", rows, 4 * c, c, cfg.n_layer),
        Matmul("output layer", rows, c, cfg.vocab_size, 1),
    ]


def intensity(mm: Matmul, bytes_per_element: int) -> float:
    """Flops per byte of one product: ``2 M K N / (bytes · (M K + K N + M N))``."""
    return 2 * mm.m * mm.k * mm.n / (bytes_per_element * (mm.m * mm.k + mm.k * mm.n + mm.m * mm.n))


def attainable(intensity_flops_per_byte: float, peak: float, bandwidth: float) -> float:
    """The roofline: ``min(peak, intensity × bandwidth)``."""
    return min(peak, intensity_flops_per_byte * bandwidth)


def memory_bandwidth(device: torch.device | str = "cpu", n_bytes: int = 256 * 2**20,
                     seconds: float = 0.25) -> float:
    """Best measured rate (bytes/s) of copying an ``n_bytes`` tensor into another: each copy reads
    and writes ``n_bytes``. The size is far beyond any cache, so this is the memory's rate."""
    device = torch.device(device)
    a = torch.ones(n_bytes // 4, device=device)
    b = torch.empty_like(a)
    b.copy_(a)
    _sync(device)
    best = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or best == 0.0:
        t0 = time.perf_counter()
        b.copy_(a)
        _sync(device)
        best = max(best, 2 * n_bytes / (time.perf_counter() - t0))
    return best


def time_matmul(mm: Matmul, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                seconds: float = 0.1) -> float:
    """Best measured rate (flop/s) of the forward product of ``mm``'s shape (batched over its
    ``count`` when ``mm.batched``, as attention's per-head products run), on ``device``."""
    device = torch.device(device)
    batch = mm.count if mm.batched else 1
    a = torch.randn(batch, mm.m, mm.k, device=device, dtype=dtype)
    b = torch.randn(batch, mm.k, mm.n, device=device, dtype=dtype)
    torch.bmm(a, b)
    _sync(device)
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds or best == 0.0:
        t0 = time.perf_counter()
        torch.bmm(a, b)
        _sync(device)
        best = max(best, 2 * batch * mm.m * mm.k * mm.n / (time.perf_counter() - t0))
    return best
