"""What a training plan costs, and a dry run that proves it starts.

A :class:`Training` is one shape of run a chapter makes: a model configuration, the windows per
step, the steps, how many runs of that shape, and how many of them train together as one stacked
ensemble. From it:

- :meth:`Training.flops`: training arithmetic by nanoGPT's count (:func:`.flops.flops_per_token`)
  over every run's tokens; evaluations are not counted.
- :meth:`Training.memory_bytes`: the peak memory of one ensemble (or one model) while it trains:
  16 bytes per parameter (float32 weights, gradients and AdamW's two moments) plus the activations
  kept for the backward pass. The activations are *measured*, not guessed: forward passes at one
  and at two windows under the run's autocast count every tensor autograd saves
  (:func:`activations`), which splits them into a fixed part (autocast's bf16 copies of the
  weights) and a part per window, scaled by the run's windows and members. Framework
  workspace, the allocator's slack and evaluation batches are not included.
- :func:`gpu_seconds`: the FLOPs divided by a share (MFU) of an H100-class GPU's dense bf16 peak, a
  spec-sheet estimate until a GPU run measures it.
- :func:`dry_run`: the real model and optimiser, two steps of the training core on random windows
  of the real context length, optionally under ``torch.compile``: shapes, dtypes and autocast fail
  here, in seconds on a CPU, rather than an hour into a GPU job.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch

from .core import TrainConfig, accumulate, adamw
from .device import Device
from .ensemble import EnsembleGPT, clip_per_member
from .flops import flops_per_token
from .model import GPT, GPTConfig

# NVIDIA H100 SXM5 datasheet: 989 TFLOP/s dense bf16 on tensor cores (1,979 "with sparsity"),
# 3.35 TB/s of HBM3 bandwidth. The H200 has the same compute and 4.8 TB/s.
H100_BF16_FLOPS = 989e12
H100_MEMORY_BYTES_PER_S = 3.35e12
H100_FP32_FLOPS = 67e12  # without tensor cores
ASSUMED_MFU = 0.40
STATE_BYTES_PER_PARAM = 16  # float32 weight + gradient + AdamW's first and second moments


@dataclass(frozen=True)
class Training:
    """``runs`` runs of one model shape; ``members`` of them (at most) train together as one
    stacked ensemble (1: the single-model trainer). ``cached``: trained through the sweep cache,
    so a build may reuse the runs instead of training them."""

    what: str
    model: GPTConfig
    batch_size: int
    steps: int
    runs: int
    members: int = 1
    cached: bool = False
    eval_tokens: int = 0  # forward-only tokens each run scores (evaluations, final scoring)

    def __post_init__(self):
        for name in ("batch_size", "steps", "runs", "members"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Training.{name} must be a positive integer; got {value!r}")

    @property
    def n_params(self) -> int:
        """Parameters of one model (tied output weights counted once)."""
        return _param_counts(self.model)[0]

    @property
    def tokens(self) -> int:
        """Training tokens of every run together."""
        return self.runs * self.steps * self.batch_size * self.model.block_size

    def flops(self) -> float:
        """Training FLOPs of every run (forward and backward), nanoGPT's count."""
        return float(self.tokens * flops_per_token(self.model, _param_counts(self.model)[1]))

    def eval_flops(self) -> float:
        """Forward-only FLOPs of every run's evaluations: a third of the training count per token
        (backward is twice forward in that count)."""
        return float(self.runs * self.eval_tokens * flops_per_token(self.model, _param_counts(self.model)[1]) / 3)

    def gpu_seconds(self, mfu: float = ASSUMED_MFU) -> float:
        """Training at ``mfu`` of the H100's dense bf16 peak, plus evaluations at ``mfu`` of its
        float32 peak (this book scores in float32, and PyTorch keeps TF32 off for float32 matmuls)."""
        return gpu_seconds(self.flops(), mfu) + gpu_seconds(self.eval_flops(), mfu, H100_FP32_FLOPS)

    def memory_bytes(self, autocast_dtype: torch.dtype | None = torch.bfloat16) -> int:
        """Peak training memory of one ensemble (or model): states plus measured activations."""
        act = activations(self.model, autocast_dtype, stacked=self.members > 1)
        return self.members * (STATE_BYTES_PER_PARAM * self.n_params + act.at(self.batch_size))

    def row(self) -> dict:
        return {"what": self.what, **{k: v for k, v in asdict(self.model).items()},
                "batch_size": self.batch_size, "steps": self.steps, "runs": self.runs,
                "members": self.members, "cached": self.cached, "params": self.n_params, "tokens": self.tokens,
                "flops": self.flops(), "eval_flops": self.eval_flops()}


def evaluations(steps: int, interval: int) -> int:
    """How many evaluations a trainer makes: at step 0, every ``interval`` steps and at the end."""
    return 1 + steps // interval + (steps % interval != 0)


def gpu_seconds(flops: float, mfu: float = ASSUMED_MFU, peak: float = H100_BF16_FLOPS) -> float:
    """Seconds for ``flops`` of training at ``mfu`` of ``peak`` FLOP/s."""
    if not 0 < mfu <= 1:
        raise ValueError(f"mfu must be in (0, 1]; got {mfu!r}")
    return flops / (mfu * peak)


_COUNTS: dict[GPTConfig, tuple[int, int]] = {}


def _param_counts(cfg: GPTConfig) -> tuple[int, int]:
    if cfg not in _COUNTS:
        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            model = GPT(cfg)
        _COUNTS[cfg] = (model.num_params(), model.num_params(include_position=False))
    return _COUNTS[cfg]


@dataclass(frozen=True)
class Activations:
    """What autograd keeps for the backward pass of one model: ``fixed`` bytes whatever the batch
    (autocast's low-precision copies of the weights) and ``per_window`` bytes per window."""

    fixed: int
    per_window: int

    def at(self, windows: int) -> int:
        return self.fixed + windows * self.per_window


_ACTIVATIONS: dict[tuple, Activations] = {}


def _saved_bytes(model: torch.nn.Module, idx: torch.Tensor, autocast_dtype) -> int:
    """Bytes of the distinct storages autograd saves in one forward pass of ``model`` on ``idx``,
    the model's own parameters (and views of them) excluded."""
    own = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
            Device("cpu", "cpu", autocast_dtype).autocast():
        _, loss = model(idx, idx)
    del loss
    return sum(seen.values())


def activations(cfg: GPTConfig, autocast_dtype: torch.dtype | None = torch.bfloat16,
                stacked: bool = False) -> Activations:
    """Activation memory of ``cfg`` in training mode (dropout masks count), measured on the CPU
    at one and at two windows: the difference is the cost of a window, the rest is fixed.
    ``stacked``: as one member of an :class:`~.ensemble.EnsembleGPT` (its layer norms keep one
    tensor more than ``GPT``'s). On the CPU, attention with dropout falls back to an unfused kernel
    that keeps the T × T probabilities; a GPU's fused kernel does not, so for rows with dropout
    the figure overstates a GPU's."""
    key = (cfg, autocast_dtype, stacked)
    if key not in _ACTIVATIONS:
        torch.manual_seed(0)
        model = (EnsembleGPT.fresh(cfg, [0]) if stacked else GPT(cfg)).train()
        shape = (1,) if stacked else ()
        one, two = (_saved_bytes(model, torch.randint(cfg.vocab_size, (*shape, w, cfg.block_size)),
                                 autocast_dtype) for w in (1, 2))
        _ACTIVATIONS[key] = Activations(fixed=2 * one - two, per_window=two - one)
    return _ACTIVATIONS[key]


def dry_run(training: Training, device: Device, steps: int = 2, batch_size: int = 2,
            compile: bool = False, max_members: int = 2) -> dict:
    """Build ``training``'s model (a stacked ensemble of ``min(members, max_members)`` when it
    trains as one) with its optimiser and take ``steps`` steps of the training core on random
    windows of its real context length. Raises if a loss is not finite, a weight stops being
    float32 or the weights do not move. Returns the losses and the seconds taken."""
    cfg = training.model
    members = min(training.members, max_members)
    tc = TrainConfig(max_iters=steps, batch_size=batch_size, warmup_iters=0, seed=0)
    gen = torch.Generator().manual_seed(0)
    if training.members == 1:
        torch.manual_seed(0)
        model, shape, batch_dims = GPT(cfg), (batch_size, cfg.block_size), 0

        def clip(m):
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
    else:
        model = EnsembleGPT.fresh(cfg, list(range(members)))
        shape, batch_dims = (members, batch_size, cfg.block_size), 1

        def clip(m):
            clip_per_member(model, tc.grad_clip)
    model = model.to(device.torch).train()
    opt = adamw(model, tc, device, batch_dims=batch_dims)
    runner = torch.compile(model) if compile else model
    before = [p.detach().clone() for p in model.parameters()]
    losses, start = [], time.perf_counter()
    for _ in range(steps):
        x = torch.randint(cfg.vocab_size, shape, generator=gen)
        y = torch.randint(cfg.vocab_size, shape, generator=gen)
        loss = accumulate(runner, opt, [(x, y)], tc.learning_rate, device, clip)
        losses.append(loss.detach().float().cpu().reshape(-1).tolist())
    seconds = time.perf_counter() - start
    if not all(math.isfinite(v) for row in losses for v in row):
        raise FloatingPointError(f"dry run of {training.what!r}: a loss is not finite: {losses}")
    for p, old in zip(model.parameters(), before):
        if p.dtype != torch.float32:
            raise TypeError(f"dry run of {training.what!r}: a weight became {p.dtype}, not float32")
    if all(torch.equal(p.detach(), old) for p, old in zip(model.parameters(), before)):
        raise RuntimeError(f"dry run of {training.what!r}: no weight moved in {steps} steps")
    return {"losses": losses, "seconds": seconds, "members": members, "compiled": compile}
