"""Data-parallel training with ``torchrun``: which process this is, and how a batch is shared.

    torchrun --nproc_per_node=2 -m middleground.gpt.train --device=cpu ...

``torchrun`` starts one process per rank and tells each, through the environment (``WORLD_SIZE``,
``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``), who it is and where to meet the others.
:func:`join` reads that, starts the process group (gloo on a CPU, NCCL on CUDA) and returns a
:class:`World`; launched without torchrun it returns a world of one, and nothing else changes.

How a step is shared (nanoGPT's semantics, made exact): a step trains on ``batch_size ×
gradient_accumulation_steps`` windows, drawn by the run's own generator, which every rank holds in
the same state, so every rank draws the *same* windows. Rank ``r`` of ``W`` takes its
``gradient_accumulation_steps / W`` micro-batches of ``batch_size`` windows (:func:`shard`),
accumulates their gradients without synchronising, and DDP averages the gradients across ranks
on the last one. The update is therefore the one a single process makes on the whole batch, up to
the order of floating-point sums: a run's numbers do not depend on how many processes trained it,
and a checkpoint resumes under any world size. (With dropout, each rank draws its own masks, so
runs agree in distribution, not to the bit.)

Checks: each step's loss is averaged over the ranks before it is checked, so a rank whose loss
turns non-finite stops every rank, before rank 0 could checkpoint weights the averaged (NaN)
gradients have already spoiled. A checkpoint holds every rank's dropout stream, so a resume under
the same number of processes continues exactly; under another number, ranks beyond the first
reseed from the seed, their rank and the iteration.

What it does not do: shard evaluation (every rank evaluates the same fixed batches and gets the
same numbers; only rank 0 reports and writes) or split the data across nodes' disks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..base import settings


@dataclass(frozen=True)
class World:
    size: int = 1
    rank: int = 0
    local_rank: int = 0
    created: bool = False  # this module started the process group (and so must end it)

    @property
    def main(self) -> bool:
        """The process that reports, evaluates for the record and writes files."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    text = settings.external(name)
    if text is None or text == "":
        return default
    if not text.isdigit():
        raise ValueError(f"environment variable {name} must be a non-negative integer; got {text!r}")
    return int(text)


def size_from_env() -> int:
    """How many processes torchrun started (1 without torchrun)."""
    return max(1, _env_int("WORLD_SIZE", 1))


def rank_from_env() -> int:
    """This process's rank; 0 without torchrun (whatever a stray ``RANK`` says)."""
    return _env_int("RANK", 0) if size_from_env() > 1 else 0


def select_local_gpu() -> None:
    """Under torchrun with CUDA, make this process's GPU the current one before anything touches
    CUDA (else every rank opens a context on GPU 0)."""
    if size_from_env() > 1 and torch.cuda.is_available():
        torch.cuda.set_device(_env_int("LOCAL_RANK", 0))


def mean_across(value: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of ``value`` over all ranks (every rank gets it); ``value`` itself on one."""
    if world.size == 1:
        return value
    total = value.detach().clone().float()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)  # gloo has no AVG
    return total / world.size


def gather_objects(obj, world: World) -> list:
    """``obj`` of every rank, in rank order (a collective: every rank must call it)."""
    if world.size == 1:
        return [obj]
    out = [None] * world.size
    dist.all_gather_object(out, obj)
    return out


def join(device_type: str) -> World:
    """This process's place in a torchrun launch (a world of one without torchrun).

    Starts the process group if torchrun launched several processes and no one has started it:
    NCCL for CUDA, gloo otherwise."""
    size = size_from_env()
    if size <= 1:
        return World()
    rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    if not 0 <= rank < size:
        raise ValueError(f"RANK must be in [0, WORLD_SIZE={size}); got {rank}")
    created = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
        created = True
    return World(size=size, rank=rank, local_rank=local_rank, created=created)


def leave(world: World) -> None:
    """End the process group if :func:`join` started it."""
    if world.created and dist.is_initialized():
        dist.destroy_process_group()


def check_divisible(accumulation: int, world: World) -> None:
    if accumulation % world.size:
        raise ValueError(f"gradient_accumulation_steps ({accumulation}) must be a multiple of the "
                         f"number of processes ({world.size}): each one takes an equal share of "
                         "the step's micro-batches")


def shard(x: torch.Tensor, y: torch.Tensor, accumulation: int, world: World):
    """This rank's micro-batches of a step's windows ``x, y`` (all ranks hold the same ones):
    ``accumulation / world.size`` consecutive micro-batches, as a list of ``(x, y)`` pairs."""
    check_divisible(accumulation, world)
    per_rank = accumulation // world.size
    micro = x.shape[0] // accumulation
    start = world.rank * per_rank * micro
    return [(x[start + i * micro: start + (i + 1) * micro], y[start + i * micro: start + (i + 1) * micro])
            for i in range(per_rank)]


def threads_per_process() -> int:
    """This process's share of the CPU cores when ``LOCAL_WORLD_SIZE`` processes share one node
    (torchrun sets it): oversubscribed threads make every one of them slower."""
    local = max(1, _env_int("LOCAL_WORLD_SIZE", 1))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // local)
