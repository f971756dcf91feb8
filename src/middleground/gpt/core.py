"""The training core: what every training loop of the book shares, written once.

- :class:`TrainConfig` and :func:`lr_at`: nanoGPT's settings and schedule (linear warmup, cosine
  decay to ``min_lr``, then flat).
- :func:`random_batch` and :func:`fixed_batches`: windows of a token stream and their next-symbol
  targets, drawn by a generator the caller owns, so a run's batches depend on that run alone.
- :func:`decays` and :func:`adamw`: AdamW with weight decay on matrices only (GPT-2, nanoGPT).
- :func:`step`: one optimisation step (schedule, forward, backward, clipping, update).
- :func:`evaluate`: mean held-out loss over fixed batches, chunked; :func:`window_losses`: the
  mean loss of every window separately (for standard errors and paired comparisons). Both score
  in the model's own precision, never under bf16 autocast, whatever the training used.

The single-model trainer (:mod:`.train`), the stacked ensemble (:mod:`.ensemble`) and the
numpy-against-torch comparison all use these. A model here is any module whose forward takes
``(idx, targets)`` and returns ``(logits, loss)``: one scalar loss for a GPT, one per member
``(M,)`` for an ensemble. Leading "model" axes are counted by ``batch_dims``.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from .device import Device

# Seeds of the fixed evaluation batches of each split: constants, so that every run of the same
# data is evaluated on the same windows, whatever else it trains beside.
EVAL_SEED = {"train": 1, "val": 2}


MAX_LEARNING_RATE = 1.0
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes seeds in [0, 2**64)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class TrainConfig:
    max_iters: int = 5000
    batch_size: int = 64
    learning_rate: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    lr_decay_iters: int | None = None  # None: decay over the whole run (max_iters)
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 disables clipping
    eval_interval: int = 250
    eval_iters: int = 200
    seed: int = 1337
    compile: bool = False
    # A step trains on batch_size x gradient_accumulation_steps windows, in micro-batches of
    # batch_size (shared out among torchrun's processes: see middleground.gpt.distributed).
    gradient_accumulation_steps: int = 1

    def __post_init__(self):
        for name in ("max_iters", "batch_size", "eval_interval", "eval_iters",
                     "gradient_accumulation_steps"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        if not _is_int(self.warmup_iters) or self.warmup_iters < 0:
            raise ValueError(f"warmup_iters must be an integer >= 0; got {self.warmup_iters!r}")
        if self.lr_decay_iters is not None and (
                not _is_int(self.lr_decay_iters) or self.lr_decay_iters <= self.warmup_iters):
            raise ValueError(f"lr_decay_iters must be an integer > warmup_iters "
                             f"({self.warmup_iters}); got {self.lr_decay_iters!r}")
        for name in ("learning_rate", "min_lr", "weight_decay", "beta1", "beta2", "grad_clip"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number; got {value!r}")
            object.__setattr__(self, name, float(value))  # numpy scalars become plain floats (JSON)
        # AdamW moves each weight by up to about learning_rate per step: above 1 it only diverges.
        if not 0 < self.learning_rate <= MAX_LEARNING_RATE:
            raise ValueError(f"learning_rate must be in (0, {MAX_LEARNING_RATE}]; "
                             f"got {self.learning_rate!r}")
        if not 0 <= self.min_lr <= self.learning_rate:
            raise ValueError(f"min_lr must be in [0, learning_rate={self.learning_rate}]; "
                             f"got {self.min_lr!r}")
        # Decoupled decay multiplies each weight by 1 - learning_rate * weight_decay per step.
        if not 0 <= self.weight_decay < 1 / self.learning_rate:
            raise ValueError(f"weight_decay must be in [0, 1 / learning_rate = {1 / self.learning_rate:g}); "
                             f"got {self.weight_decay!r}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1); got {getattr(self, name)!r}")
        if self.grad_clip < 0:
            raise ValueError(f"grad_clip must be a finite number >= 0 (0 disables it); "
                             f"got {self.grad_clip!r}")
        if not _is_int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be an integer in [0, 2**64 - 1] (torch's generator); "
                             f"got {self.seed!r}")
        if not isinstance(self.compile, bool):
            raise ValueError(f"compile must be True or False; got {self.compile!r}")
        # numpy integers become plain ints, so the config is JSON data
        for name in ("max_iters", "batch_size", "eval_interval", "eval_iters", "warmup_iters", "seed",
                     "gradient_accumulation_steps"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.lr_decay_iters is not None:
            object.__setattr__(self, "lr_decay_iters", int(self.lr_decay_iters))

    @property
    def decay_iters(self) -> int:
        return self.max_iters if self.lr_decay_iters is None else self.lr_decay_iters


def lr_at(it: int, tc: TrainConfig) -> float:
    """nanoGPT's schedule: linear warmup, cosine decay to ``min_lr`` at ``lr_decay_iters``, then flat."""
    if it < tc.warmup_iters:
        return tc.learning_rate * (it + 1) / (tc.warmup_iters + 1)
    if it > tc.decay_iters:
        return tc.min_lr
    ratio = (it - tc.warmup_iters) / (tc.decay_iters - tc.warmup_iters)
    return tc.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (tc.learning_rate - tc.min_lr)


def as_tokens(tokens, vocab_size: int, block_size: int, name: str) -> torch.Tensor:
    """A token stream as a long tensor, checked: at least one window, ids in [0, vocab_size)."""
    t = torch.as_tensor(np.asarray(tokens), dtype=torch.long)
    if t.dim() != 1 or len(t) < block_size + 1:
        raise ValueError(f"{name} needs at least block_size + 1 = {block_size + 1} tokens; "
                         f"got {tuple(t.shape)}")
    if int(t.min()) < 0 or int(t.max()) >= vocab_size:
        raise ValueError(f"{name} tokens must lie in [0, vocab_size={vocab_size})")
    return t


def random_batch(tokens: torch.Tensor, block_size: int, batch_size: int, gen: torch.Generator,
                 stride: int | None = None):
    """``batch_size`` random windows of ``block_size`` inputs and their next-symbol targets.

    ``stride``: windows start only at multiples of it (for streams made of independent segments
    of ``stride`` tokens, so that no window straddles two segments)."""
    if len(tokens) < block_size + 1:
        raise ValueError(f"need at least block_size + 1 = {block_size + 1} tokens; got {len(tokens)}")
    if stride is None:
        starts = torch.randint(len(tokens) - block_size, (batch_size,), generator=gen)
    else:
        starts = stride * torch.randint((len(tokens) - block_size - 1) // stride + 1, (batch_size,),
                                        generator=gen)
    chunk = tokens[starts[:, None] + torch.arange(block_size + 1)]
    return chunk[:, :-1], chunk[:, 1:]


def fixed_batches(tokens: torch.Tensor, block_size: int, batch_size: int, n: int, seed: int,
                  stride: int | None = None):
    """The same ``n`` batches every time they are asked for: comparable evaluations."""
    return random_batch(tokens, block_size, batch_size * n, torch.Generator().manual_seed(seed), stride)


def decays(ndim: int, batch_dims: int = 0) -> bool:
    """Does a parameter of ``ndim`` dimensions (``batch_dims`` of them stacking models) decay?
    Matrices and embedding tables do; gains and biases do not."""
    return ndim - batch_dims >= 2


def adamw(model: torch.nn.Module, tc: TrainConfig, device: Device, batch_dims: int = 0,
          eps: float = 1e-8) -> torch.optim.AdamW:
    params = list(model.parameters())
    groups = [{"params": [p for p in params if decays(p.dim(), batch_dims)], "weight_decay": tc.weight_decay},
              {"params": [p for p in params if not decays(p.dim(), batch_dims)], "weight_decay": 0.0}]
    # The fused kernel updates every parameter in one pass instead of a Python loop over tensors.
    return torch.optim.AdamW(groups, lr=tc.learning_rate, betas=(tc.beta1, tc.beta2), eps=eps,
                             fused=device.type in ("cuda", "cpu"))


def step(model, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, lr: float,
         device: Device, clip=None) -> torch.Tensor:
    """One optimisation step at learning rate ``lr``; returns the (detached) loss or losses.

    The loss differentiated is the sum of the model's losses, so with an ensemble each member's
    gradient is the gradient of its own loss. ``clip(model)`` rescales the gradients, if given."""
    return accumulate(model, opt, [(x, y)], lr, device, clip)


def accumulate(model, opt: torch.optim.Optimizer, micro_batches, lr: float, device: Device,
               clip=None) -> torch.Tensor:
    """One optimisation step on the gradients of several micro-batches ``[(x, y), ...]`` of equal
    size (nanoGPT's gradient accumulation): each loss is divided by their number, so the step is
    the one the whole batch would give. A DDP model synchronises gradients on the last one only.
    Returns the mean loss (detached)."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)
    n, losses = len(micro_batches), []
    for i, (x, y) in enumerate(micro_batches):
        quiet = model.no_sync() if hasattr(model, "no_sync") and i < n - 1 else contextlib.nullcontext()
        with quiet:
            with device.autocast():
                _, loss = model(x.to(device.torch), y.to(device.torch))
            (loss.sum() / n if n > 1 else loss.sum()).backward()
        losses.append(loss.detach())
    if clip is not None:
        clip(model)
    opt.step()
    return losses[0] if n == 1 else torch.stack(losses).mean(0)


@torch.no_grad()
def evaluate(model: torch.nn.Module, xy, device: Device, chunk: int = 256):
    """Mean loss (nats/symbol) over all windows of ``xy``, ``chunk`` windows at a time.

    ``xy``: inputs and targets of shape (N, T) for one model, or (M, N, T) for an ensemble (then
    one mean per member is returned, as an array)."""
    x, y = xy
    axis = x.dim() - 2  # the window axis
    was_training = model.training
    model.eval()
    total = None
    n = x.shape[axis]
    for i in range(0, n, chunk):
        width = min(chunk, n - i)
        xs, ys = x.narrow(axis, i, width), y.narrow(axis, i, width)
        # no autocast: bf16 (7 bits of mantissa) is too coarse for the 0.01-bit comparisons
        # with exact entropy rates that evaluations feed; training may use it, scoring does not
        _, loss = model(xs.to(device.torch), ys.to(device.torch))
        part = loss.double().cpu() * width
        total = part if total is None else total + part
    model.train(was_training)
    mean = total / n
    return float(mean) if mean.dim() == 0 else mean.numpy()


@torch.no_grad()
def window_losses(model: torch.nn.Module, xy, device: Device, chunk: int = 256) -> np.ndarray:
    """Mean loss (nats/symbol) of every window of ``xy`` separately: shape (N,) for one model,
    (M, N) for an ensemble with inputs (M, N, T). Windows of a long held-out stream give a mean
    loss *and* its standard error; scored beside a baseline on the same windows, a paired one."""
    x, y = xy
    axis = x.dim() - 2
    was_training = model.training
    model.eval()
    parts = []
    for i in range(0, x.shape[axis], chunk):
        width = min(chunk, x.shape[axis] - i)
        xs, ys = x.narrow(axis, i, width).to(device.torch), y.narrow(axis, i, width).to(device.torch)
        logits, _ = model(xs)  # in the model's own precision (float32): no autocast, as evaluate
        logp = torch.log_softmax(logits.double() if logits.dtype == torch.float64 else logits.float(), -1)
        parts.append(-logp.gather(-1, ys[..., None]).squeeze(-1).mean(-1).double().cpu())
    model.train(was_training)
    return torch.cat(parts, dim=axis).numpy()
