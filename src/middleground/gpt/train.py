"""Training a GPT: AdamW, warmup then cosine decay, clipping, held-out evals, checkpoints, a CLI.

The loop follows nanoGPT's ``train.py``, and so do the names, so that its recipes carry over:

    python -m middleground.gpt.train --dataset shakespeare_char --n_layer 4 --n_head 4 --n_embd 128 \\
        --block_size 64 --batch_size 12 --max_iters 2000 --lr_decay_iters 2000 --dropout 0.0

Defaults are those of nanoGPT's ``config/train_shakespeare_char.py``, its GPU recipe (6 layers of
width 384, context 256, batch 64, dropout 0.2, 5,000 iterations, lr 1e-3 decaying to 1e-4 after
100 warmup iterations, β₂ = 0.99, weight decay 0.1 on matrices only, clip at 1.0).

Two deliberate differences from nanoGPT, both for comparability between evaluations:
evaluation uses ``eval_iters`` *fixed* batches of each split (nanoGPT draws fresh random ones), and
``train_loss`` in the history is that evaluation on training batches, not a running average.
Losses are in nats per symbol, as torch's cross-entropy gives them.

Reproducibility: one seed sets the initial weights, the batch sampler and dropout. A checkpoint
holds weights, optimiser moments, both random states and the history, so a resumed run continues
with exactly the losses the uninterrupted run would have had (on the same device). A resumed run
must use the checkpoint's training configuration, unless ``allow_changes`` (``--allow_changes``)
says otherwise; either way every *segment* of the run (the iteration it started at and the
configuration it used) is recorded in the checkpoint and the summary.

Faults: checkpoints and the ``--json`` summary are written to a temporary file, synced and renamed
(:mod:`middleground.base.files`), so an interrupted write never leaves a half-written file under
the real name, and the temporary files of killed runs are removed by the next run. A checkpoint is
verified before it is used (the CRC-32 of every part of torch's zip archive), so a damaged one is
refused rather than trained on. One trainer at a time may use an ``out_dir``
(:mod:`middleground.base.locks`). Output locations are checked before any work starts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import statistics
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..base import settings
from ..base.data import DataError
from ..base.files import OutputPathError, WriteError, check_output_file, check_output_folder, \
    remove_stale_partials, write_bytes, write_json
from ..base.locks import FolderBusy, exclusive
from . import allocator, distributed, training_log
from .core import EVAL_SEED, TrainConfig, accumulate, adamw, as_tokens, evaluate, fixed_batches, lr_at, \
    random_batch
from .distributed import World
from .device import Device, pick
from .flops import flops_per_token, matmul_peak
from .model import GPT, GPTConfig
from .text import shakespeare_char

CHECKPOINT_NAME = "ckpt.pt"


@torch.no_grad()
def split_loss(model: torch.nn.Module, tokens, block_size: int, device: Device,
               chunk: int = 256) -> float:
    """Mean cross-entropy over a *whole* split, cut into consecutive non-overlapping windows.

    Each window is scored at every position, as in training, so this is the exact value that the
    random-window evaluation estimates; it leaves out only the final partial window.
    """
    t = torch.as_tensor(np.asarray(tokens), dtype=torch.long)
    n = (len(t) - 1) // block_size
    if n < 1:
        raise ValueError(f"need at least block_size + 1 = {block_size + 1} tokens; got {len(t)}")
    x = t[: n * block_size].view(n, block_size)
    y = t[1: n * block_size + 1].view(n, block_size)
    return evaluate(model, (x, y), device, chunk)


class BadInput(ValueError):
    """Input the command line can only refuse (found after its arguments were parsed)."""


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, damaged, belongs to another model, or does not fit the run."""


# What a checkpoint of this trainer holds; anything lacking one of these is someone else's file.
CHECKPOINT_KEYS = ("model_cfg", "train_cfg", "iter", "model", "optimizer", "batch_rng", "torch_rng",
                   "history")


def save_checkpoint(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes(path, buffer.getvalue())  # atomic: the old checkpoint stays valid until the new one is whole


def verify_checkpoint(path: Path) -> None:
    """Raise :class:`CheckpointError` unless every part of ``path`` passes its CRC-32 check.

    torch writes a checkpoint as a zip archive and records each part's CRC-32, but does not check
    them when loading: flipped bytes load silently (and, say, a negative second moment later turns
    training into NaN). Reading each part through :mod:`zipfile` checks them."""
    advice = f"delete {path} and train again, or restore a good copy"
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise CheckpointError(f"checkpoint {path} is damaged or not a checkpoint ({e}); {advice}") from None
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is damaged: its part {bad!r} fails its CRC-32 check "
                              f"(bit rot or an incomplete copy); {advice}")


def load_checkpoint(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train without resume first")
    verify_checkpoint(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is unreadable ({type(e).__name__}: {e}); "
                              "delete it and train again") from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"{path} is not a checkpoint of this trainer (it lacks "
                              f"{', '.join(missing)}); point out_dir at a folder of its own")
    return state


def config_changes(old: dict, new: dict) -> dict[str, tuple]:
    """The settings that differ between two training configurations: name -> (old, new)."""
    return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


@dataclass
class Run:
    """What a training run leaves: the model, its evaluation history and its per-iteration times."""

    model: GPT
    model_cfg: GPTConfig
    train_cfg: TrainConfig
    device: Device
    history: list[dict]
    iter_seconds: list[float] = field(default_factory=list)
    # Each process that trained this run: the iteration it started from and the configuration it
    # used (a resumed run adds one; they differ only if the resume allowed changes).
    segments: list[dict] = field(default_factory=list)
    processes: int = 1  # torchrun's world size: throughput counts all, the peak is per process

    @property
    def n_params(self) -> int:
        return self.model.num_params()

    def summary(self, peak_flops: float | None = None) -> dict:
        """Parameter counts, median ms/iter, tokens/s, MFU (if a peak is given), final losses."""
        n_no_pos = self.model.num_params(include_position=False)
        fpt = flops_per_token(self.model_cfg, n_no_pos)
        out = {"n_params": self.model.num_params(), "n_params_without_position": n_no_pos,
               "flops_per_token": fpt, "device": self.device.name,
               "iters": self.history[-1]["step"], "final": self.history[-1],
               "best_val_loss": min(r["val_loss"] for r in self.history),
               "segments": self.segments}
        # The first iterations pay for allocation (and compilation): keep them out of the median.
        steady = self.iter_seconds[min(10, len(self.iter_seconds) // 5):]
        if steady:
            sec = statistics.median(steady)
            tc = self.train_cfg
            tokens = tc.batch_size * tc.gradient_accumulation_steps * self.model_cfg.block_size
            out.update(ms_per_iter=1e3 * sec, tokens_per_s=tokens / sec)
            if peak_flops:  # against the peak of every process's device together
                total = peak_flops * self.processes
                out.update(peak_flops=total, mfu=fpt * tokens / sec / total)
        return out


def fit(model_cfg: GPTConfig, tc: TrainConfig, train_tokens, val_tokens,
        device: Device | None = None, *, out_dir: Path | None = None, resume: bool = False,
        allow_changes: bool = False, stop_after: int | None = None, progress: bool = False,
        on_eval: Callable[[GPT, dict], None] | None = None,
        on_start: Callable[[GPTConfig, int, int, int], None] | None = None) -> Run:
    """Train a GPT from scratch (or from ``out_dir``'s checkpoint when ``resume``).

    ``out_dir``: write ``ckpt.pt`` after every evaluation; the folder is locked while the run
    lasts (:class:`~middleground.base.locks.FolderBusy` if another trainer holds it). ``resume``
    refuses a checkpoint trained with another configuration (:class:`CheckpointError`, naming
    each difference) unless ``allow_changes``. ``stop_after``: stop after that many iterations,
    as an interruption would, with a checkpoint (the schedule still follows ``max_iters``).
    ``on_eval(model, row)`` is called after each evaluation, e.g. to sample text.
    ``on_start(model_cfg, windows_per_step, steps, members)`` is called once as training starts
    (rank 0 only), e.g. :func:`middleground.gpt.training_log.record` to log what a build trains.
    Only training happens here: process-wide policies (the allocator, thread counts) belong to the
    program that calls it.
    """
    device = device or pick()
    if resume and out_dir is None:
        raise ValueError("resume needs out_dir, the folder holding the checkpoint")
    tokens = {name: as_tokens(t, model_cfg.vocab_size, model_cfg.block_size, name)
              for name, t in (("train", train_tokens), ("val", val_tokens))}
    world = distributed.join(device.type)  # a world of one unless torchrun started this process
    try:
        distributed.check_divisible(tc.gradient_accumulation_steps, world)
        if world.size > 1 and device.type == "cuda":
            torch.cuda.set_device(world.local_rank)
        if world.size > 1 and device.type == "cpu" and not settings.external("OMP_NUM_THREADS"):
            # processes sharing a node's cores each take their share (torchrun sets
            # OMP_NUM_THREADS=1 itself; other launchers may not), never all of them each
            torch.set_num_threads(distributed.threads_per_process())
        with contextlib.ExitStack() as held:
            if out_dir is not None and world.main:  # only rank 0 writes
                out_dir = check_output_folder(out_dir, "out_dir")
                held.enter_context(exclusive(out_dir, "out_dir"))
                remove_stale_partials(out_dir)  # left by a killed run; ours start after the lock
            return _train(model_cfg, tc, tokens, device, out_dir, resume, allow_changes, stop_after,
                          progress and world.main, on_eval if world.main else None, on_start, world)
    finally:
        distributed.leave(world)


# Offsets of the torch seed that drives dropout on ranks other than 0: each rank its own stream
# (rank 0 keeps the single-process one), and, when a checkpoint is resumed under another number of
# processes, a stream of its own from the resumed iteration on. Named so they are never reused.
RANK_DROPOUT_STRIDE = 7919
RESUME_DROPOUT_STRIDE = 104729


def _rank_seed(tc: TrainConfig, rank: int, resumed_at: int | None = None) -> int:
    seed = tc.seed + RANK_DROPOUT_STRIDE * rank
    return seed if resumed_at is None else seed + RESUME_DROPOUT_STRIDE * resumed_at


class _Training:
    """One run's state and its steps: :meth:`restore`, :meth:`step`, :meth:`evaluate`,
    :meth:`checkpoint`. :func:`_train` strings them together."""

    def __init__(self, model_cfg: GPTConfig, tc: TrainConfig, tokens: dict, device: Device,
                 out_dir: Path | None, on_eval, world: World):
        self.model_cfg, self.tc, self.tokens, self.device = model_cfg, tc, tokens, device
        self.out_dir, self.on_eval, self.world = out_dir, on_eval, world
        # evaluation batches of a whole step's windows, whatever the micro-batches or processes
        self.step_windows = tc.batch_size * tc.gradient_accumulation_steps
        self.evals = {name: fixed_batches(t, model_cfg.block_size, self.step_windows, tc.eval_iters,
                                          EVAL_SEED[name]) for name, t in tokens.items()}
        torch.manual_seed(tc.seed)
        self.gen = torch.Generator().manual_seed(tc.seed)  # the same on every rank: same windows
        self.model = GPT(model_cfg).to(device.torch)
        if world.rank > 0:  # dropout masks of its own; rank 0 keeps the single-process stream
            torch.manual_seed(_rank_seed(tc, world.rank))
        self.opt = adamw(self.model, tc, device)
        self.history: list[dict] = []
        self.segments: list[dict] = []
        self.start = 0

    def restore(self, allow_changes: bool) -> None:
        """Continue from the checkpoint in ``out_dir``: refused (:class:`CheckpointError`) when it
        is for another model, past ``max_iters``, or (unless ``allow_changes``) trained with
        another configuration."""
        tc, out_dir, world = self.tc, self.out_dir, self.world
        state = load_checkpoint(Path(out_dir) / CHECKPOINT_NAME)
        if state["model_cfg"] != asdict(self.model_cfg):
            raise CheckpointError(f"checkpoint in {out_dir} is for model {state['model_cfg']}, "
                                  f"not {asdict(self.model_cfg)}")
        if state["iter"] > tc.max_iters:
            raise CheckpointError(f"the checkpoint in {out_dir} is at iteration {state['iter']}, past "
                                  f"max_iters = {tc.max_iters}; set max_iters >= {state['iter']} to continue")
        # a setting added after the checkpoint was written counts as its default then
        defaults = {f.name: f.default for f in fields(TrainConfig)}
        changes = config_changes({**defaults, **state["train_cfg"]}, asdict(tc))
        if changes and not allow_changes:
            said = "; ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changes.items())
            raise CheckpointError(
                f"the checkpoint in {out_dir} was trained with another configuration ({said}); "
                "resume with the checkpoint's settings, or allow the changes (--allow_changes; "
                "each segment's settings are then recorded)")
        self.segments = state.get("segments") or [{"start_iter": 0, "train_cfg": state["train_cfg"]}]
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.gen.set_state(state["batch_rng"])
        by_rank = state.get("torch_rng_by_rank")
        if by_rank is not None and len(by_rank) == world.size:  # each rank's own dropout stream
            torch.set_rng_state(by_rank[world.rank])
        else:
            torch.set_rng_state(state["torch_rng"])
            if world.rank > 0:  # another number of processes: a stream of its own from here
                torch.manual_seed(_rank_seed(tc, world.rank, resumed_at=state["iter"]))
        if self.device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"])
        self.history, self.start = state["history"], state["iter"]

    def evaluate(self, it: int) -> dict:
        """Evaluate on the fixed batches of both splits, append the row to the history."""
        row = {"step": it, "lr": lr_at(max(it - 1, 0), self.tc),
               # the eager model: compiling evaluation too would recompile for eval mode and its
               # batch shape, for no gain (as the ensemble trainer)
               "train_loss": evaluate(self.model, self.evals["train"], self.device),
               "val_loss": evaluate(self.model, self.evals["val"], self.device)}
        self.history.append(row)
        if self.on_eval is not None:
            self.on_eval(self.model, row)
        return row

    def checkpoint(self, it: int) -> None:
        """Write ``ckpt.pt`` (rank 0 only; every rank contributes its dropout stream)."""
        if self.out_dir is None:
            return
        world, device = self.world, self.device
        rng_by_rank = distributed.gather_objects(torch.get_rng_state(), world)  # every rank calls it
        if not world.main:
            return
        state = {"model_cfg": asdict(self.model_cfg), "train_cfg": asdict(self.tc), "iter": it,
                 "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                 "batch_rng": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                 "history": self.history, "segments": self.segments}
        if world.size > 1:
            state["torch_rng_by_rank"] = rng_by_rank
        if device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state()
        save_checkpoint(Path(self.out_dir) / CHECKPOINT_NAME, state)

    def step(self, train_model, it: int) -> float:
        """One optimisation step on a whole step's windows; the loss averaged over the ranks.
        Raises :class:`FloatingPointError` (naming the remedy) when it is not finite."""
        tc = self.tc
        x, y = random_batch(self.tokens["train"], self.model_cfg.block_size, self.step_windows, self.gen)
        micro = distributed.shard(x, y, tc.gradient_accumulation_steps, self.world)
        loss = accumulate(train_model, self.opt, micro, lr_at(it, tc), self.device, self._clip)
        loss = distributed.mean_across(loss, self.world)  # every rank stops if any one diverges
        value = loss.item()  # also synchronises the device, so the caller's timing is honest
        if not math.isfinite(value):
            advice = (f"lower learning_rate (gradients are already clipped at norm {tc.grad_clip})"
                      if tc.grad_clip > 0 else "lower learning_rate or enable grad_clip")
            kept = (f"; the checkpoint in {self.out_dir} (iteration {self.history[-1]['step']}) "
                    "predates it" if self.out_dir is not None and self.history[-1]["step"] > 0 else "")
            raise FloatingPointError(f"training loss became {value} at iteration {it}; {advice}{kept}")
        return value

    def _clip(self, _model) -> None:
        if self.tc.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.tc.grad_clip, foreach=True)

    def train_model(self):
        """The module the steps run: compiled when asked, wrapped in DDP under torchrun (gradients
        averaged across ranks after each step's last micro-batch)."""
        step_model = torch.compile(self.model) if self.tc.compile else self.model
        if self.world.size > 1:
            return torch.nn.parallel.DistributedDataParallel(
                step_model, device_ids=[self.world.local_rank] if self.device.type == "cuda" else None)
        return step_model


def _train(model_cfg, tc, tokens, device, out_dir, resume, allow_changes, stop_after, progress,
           on_eval, on_start, world: World) -> Run:
    run = _Training(model_cfg, tc, tokens, device, out_dir, on_eval, world)
    if resume:
        run.restore(allow_changes)
    run.segments = run.segments + [{"start_iter": run.start, "train_cfg": asdict(tc),
                                    "processes": world.size}]
    if world.main and on_start is not None:
        on_start(model_cfg, run.step_windows, tc.max_iters, 1)
    train_model = run.train_model()
    if run.start == 0:
        run.evaluate(0)
    end = tc.max_iters if stop_after is None else min(tc.max_iters, stop_after)
    iter_seconds = []
    bar = _progress_bar(tc.max_iters, run.start) if progress else None
    run.model.train()
    try:  # the bar is closed however the loop ends, so an error message is the last line
        for it in range(run.start, end):
            t0 = time.perf_counter()
            run.step(train_model, it)
            iter_seconds.append(time.perf_counter() - t0)
            if bar is not None:
                bar.update(1)
            if (it + 1) % tc.eval_interval == 0 or it + 1 == end:
                row = run.evaluate(it + 1)
                run.checkpoint(it + 1)
                if bar is not None:
                    bar.set_postfix(train=f"{row['train_loss']:.3f}", val=f"{row['val_loss']:.3f}")
    finally:
        if bar is not None:
            bar.close()
    return Run(run.model, model_cfg, tc, device, run.history, iter_seconds, run.segments, world.size)


def _progress_bar(total: int, start: int):
    """tqdm's bar on stderr, or ``None`` (no bar) where tqdm is not installed: the training layer
    itself needs torch and numpy alone, as on a lent GPU machine with nothing else."""
    try:
        from tqdm import tqdm  # plain tqdm: tqdm.auto warns (on stderr) in notebooks without widgets
    except ImportError:
        return None
    return tqdm(total=total, initial=start, file=sys.stderr, mininterval=1.0, unit="it",
                dynamic_ncols=True)


# --- datasets the command line knows -----------------------------------------------------------

DATASETS = {"shakespeare_char": shakespeare_char}


# --- command line ------------------------------------------------------------------------------

def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not the usage text of thirty flags
        self.exit(2, f"error: {message} (--help lists the flags)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m middleground.gpt.train",
        description="Train a character-level GPT (nanoGPT-compatible flag names). "
                    "Losses are in nats per character.")
    g = p.add_argument_group("data and output")
    g.add_argument("--dataset", default="shakespeare_char", choices=sorted(DATASETS))
    g.add_argument("--out_dir", type=Path, default=None, help="write ckpt.pt here after each eval")
    g.add_argument("--resume", type=_bool, nargs="?", const=True, default=False,
                   help="continue from out_dir/ckpt.pt (with the settings it was trained with)")
    g.add_argument("--allow_changes", type=_bool, nargs="?", const=True, default=False,
                   help="let --resume continue with other training settings (recorded per segment)")
    g.add_argument("--json", type=Path, default=None, help="write the run summary here")
    g.add_argument("--sample", type=int, default=0, help="print this many generated characters")
    m = p.add_argument_group("model")
    for name, default in (("n_layer", 6), ("n_head", 6), ("n_embd", 384), ("block_size", 256)):
        m.add_argument(f"--{name}", type=int, default=default)
    m.add_argument("--dropout", type=float, default=0.2)
    m.add_argument("--bias", type=_bool, nargs="?", const=True, default=False)
    t = p.add_argument_group("training")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        if f.name == "compile":
            continue
        kind = int if f.name == "lr_decay_iters" else type(getattr(defaults, f.name))
        t.add_argument(f"--{f.name}", type=kind, default=getattr(defaults, f.name))
    t.add_argument("--device", default="auto", choices=("auto", "cuda", "mps", "cpu"))
    t.add_argument("--compile", type=_bool, nargs="?", const=True, default=False)
    return p


def main(argv: list[str] | None = None) -> int:
    """The command line. Exit status: 0 done; 2 bad input (a value, a path, a checkpoint that
    does not fit), refused before training where it can be; 1 a failure on the way (the corpus
    unavailable, the folder busy, divergence, a full disk). Either way one line on stderr says
    what happened, and no file is left half-written."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample must be >= 0; got {args.sample}")
    if args.resume and args.out_dir is None:
        parser.error("--resume needs --out_dir, the folder holding ckpt.pt")
    if args.allow_changes and not args.resume:
        parser.error("--allow_changes only applies with --resume")
    try:
        distributed.select_local_gpu()  # before anything touches CUDA
        tc = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
        distributed.check_divisible(tc.gradient_accumulation_steps, World(size=distributed.size_from_env()))
        model_cfg = GPTConfig(vocab_size=1, block_size=args.block_size, n_layer=args.n_layer,
                              n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout, bias=args.bias)
        # Every output location is checked before anything is loaded or trained.
        if args.out_dir is not None:
            check_output_folder(args.out_dir, "--out_dir")
        if args.json is not None:
            check_output_file(args.json, "--json")
        device = pick(None if args.device == "auto" else args.device)
    except (ValueError, OutputPathError) as e:
        parser.error(str(e))
    try:
        with contextlib.ExitStack() as held:
            if args.out_dir is not None and _main_process():  # a second trainer stops here
                held.enter_context(exclusive(args.out_dir, "--out_dir"))
            return _run(args, tc, model_cfg, device)
    except (CheckpointError, BadInput) as e:  # input that does not fit: the checkpoint, the data
        return _fail(e, 2)
    except (FolderBusy, DataError, FloatingPointError, WriteError) as e:
        return _fail(e, 1)


def _fail(error: BaseException, status: int) -> int:
    text = " ".join(str(error).split()) if isinstance(error, DataError) else str(error)
    if isinstance(error, WriteError):
        text = f"could not write {error.filename}: {error.strerror}"
    print(f"error: {text}", file=sys.stderr)
    return status


def _main_process() -> bool:
    """Rank 0 of a torchrun launch, or the only process: the one that reports and writes."""
    return distributed.rank_from_env() == 0


def _run(args, tc: TrainConfig, model_cfg: GPTConfig, device: Device) -> int:
    quiet = not _main_process()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull if quiet else sys.stdout):
        return _train_and_report(args, tc, model_cfg, device, quiet)


def _train_and_report(args, tc: TrainConfig, model_cfg: GPTConfig, device: Device, quiet: bool) -> int:
    train, val, vocab = DATASETS[args.dataset]()
    model_cfg = replace(model_cfg, vocab_size=len(vocab))
    for name, split in (("train", train), ("val", val)):
        if len(split) < model_cfg.block_size + 1:
            raise BadInput(f"--block_size {model_cfg.block_size} is too long for the {name} split of "
                             f"{args.dataset} ({len(split):,} symbols); use at most {len(split) - 1}")
    peak = matmul_peak(device.torch, device.autocast_dtype or torch.float32)
    probe = GPT(model_cfg)
    n, n_no_pos = probe.num_params(), probe.num_params(include_position=False)
    del probe
    print(f"device: {device.name}; matmul peak measured at start-up: {peak / 1e9:.1f} GFLOP/s")
    print(f"dataset: {args.dataset}, {len(train):,} train / {len(val):,} val symbols, "
          f"vocabulary {len(vocab)}")
    print(f"parameters: {n:,} including the position table ({n - n_no_pos:,}); "
          f"{n_no_pos:,} without it, tied output weights counted once")

    def report(_model, row):
        print(f"step {row['step']:>6}: train {row['train_loss']:.4f}, val {row['val_loss']:.4f} "
              f"nats/char, lr {row['lr']:.2e}", flush=True)

    if device.type == "cpu":  # a process-wide policy, set by the program, not by the trainer
        allocator.keep_freed_memory()
    run = fit(model_cfg, tc, train, val, device, out_dir=args.out_dir, resume=args.resume,
              allow_changes=args.allow_changes, progress=True, on_eval=report,
              on_start=training_log.from_settings())
    s = run.summary(peak)
    if "ms_per_iter" in s:
        print(f"speed: {s['ms_per_iter']:.1f} ms/iter (median), {s['tokens_per_s']:,.0f} tokens/s, "
              f"MFU {100 * s['mfu']:.1f}% of the measured peak "
              f"({s['flops_per_token'] / 1e6:.2f} MFLOP/token, nanoGPT's 6N + 12LHQT)")
    print(f"final: train {s['final']['train_loss']:.4f}, val {s['final']['val_loss']:.4f} nats/char; "
          f"best val {s['best_val_loss']:.4f}")
    if args.sample:
        gen = torch.Generator(device=device.torch).manual_seed(tc.seed)
        start = torch.zeros((1, 1), dtype=torch.long, device=device.torch)
        print(vocab.decode(run.model.eval().generate(start, args.sample, generator=gen)[0].tolist()))
    if args.json is not None and not quiet:
        s.update(dataset=args.dataset, model=asdict(model_cfg), train=asdict(tc), history=run.history)
        write_json(args.json, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
