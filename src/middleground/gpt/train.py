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
with exactly the losses the uninterrupted run would have had (on the same device). Checkpoints and
the ``--json`` summary are written to a temporary file and renamed, so an interrupted write never
leaves a half-written file under the real name.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..base.files import write_bytes, write_json
from .core import EVAL_SEED, TrainConfig, adamw, as_tokens, evaluate, fixed_batches, lr_at, random_batch, step
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


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable, or belongs to another model."""


def save_checkpoint(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes(path, buffer.getvalue())  # atomic: the old checkpoint stays valid until the new one is whole


def load_checkpoint(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train without resume first")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is unreadable ({type(e).__name__}: {e}); "
                              "delete it and train again") from None


@dataclass
class Run:
    """What a training run leaves: the model, its evaluation history and its per-iteration times."""

    model: GPT
    model_cfg: GPTConfig
    train_cfg: TrainConfig
    device: Device
    history: list[dict]
    iter_seconds: list[float] = field(default_factory=list)

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
               "best_val_loss": min(r["val_loss"] for r in self.history)}
        # The first iterations pay for allocation (and compilation): keep them out of the median.
        steady = self.iter_seconds[min(10, len(self.iter_seconds) // 5):]
        if steady:
            sec = statistics.median(steady)
            tokens = self.train_cfg.batch_size * self.model_cfg.block_size
            out.update(ms_per_iter=1e3 * sec, tokens_per_s=tokens / sec)
            if peak_flops:
                out.update(peak_flops=peak_flops, mfu=fpt * tokens / sec / peak_flops)
        return out


def fit(model_cfg: GPTConfig, tc: TrainConfig, train_tokens, val_tokens,
        device: Device | None = None, *, out_dir: Path | None = None, resume: bool = False,
        stop_after: int | None = None, progress: bool = False,
        on_eval: Callable[[GPT, dict], None] | None = None) -> Run:
    """Train a GPT from scratch (or from ``out_dir``'s checkpoint when ``resume``).

    ``out_dir``: write ``ckpt.pt`` after every evaluation. ``stop_after``: stop after that many
    iterations, as an interruption would, with a checkpoint (the schedule still follows
    ``max_iters``). ``on_eval(model, row)`` is called after each evaluation, e.g. to sample text.
    """
    device = device or pick()
    if resume and out_dir is None:
        raise ValueError("resume needs out_dir, the folder holding the checkpoint")
    tokens = {name: as_tokens(t, model_cfg.vocab_size, model_cfg.block_size, name)
              for name, t in (("train", train_tokens), ("val", val_tokens))}
    evals = {name: fixed_batches(t, model_cfg.block_size, tc.batch_size, tc.eval_iters, EVAL_SEED[name])
             for name, t in tokens.items()}

    torch.manual_seed(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)
    model = GPT(model_cfg).to(device.torch)
    opt = adamw(model, tc, device)
    history: list[dict] = []
    start = 0
    if resume:
        state = load_checkpoint(Path(out_dir) / CHECKPOINT_NAME)
        if state["model_cfg"] != asdict(model_cfg):
            raise CheckpointError(f"checkpoint in {out_dir} is for model {state['model_cfg']}, "
                                  f"not {asdict(model_cfg)}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["batch_rng"])
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"])
        history, start = state["history"], state["iter"]
    step_model = torch.compile(model) if tc.compile else model

    def clip(m):
        if tc.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip, foreach=True)

    def record(it: int) -> None:
        row = {"step": it, "lr": lr_at(max(it - 1, 0), tc),
               "train_loss": evaluate(step_model, evals["train"], device),
               "val_loss": evaluate(step_model, evals["val"], device)}
        history.append(row)
        if on_eval is not None:
            on_eval(model, row)

    def checkpoint(it: int) -> None:
        if out_dir is None:
            return
        state = {"model_cfg": asdict(model_cfg), "train_cfg": asdict(tc), "iter": it,
                 "model": model.state_dict(), "optimizer": opt.state_dict(),
                 "batch_rng": gen.get_state(), "torch_rng": torch.get_rng_state(),
                 "history": history}
        if device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state()
        save_checkpoint(Path(out_dir) / CHECKPOINT_NAME, state)

    if start == 0:
        record(0)
    end = tc.max_iters if stop_after is None else min(tc.max_iters, stop_after)
    iter_seconds = []
    from tqdm import tqdm  # plain tqdm: tqdm.auto warns (on stderr) in notebooks without widgets

    bar = tqdm(total=tc.max_iters, initial=start, disable=not progress, file=sys.stderr,
               mininterval=1.0, unit="it", dynamic_ncols=True)
    model.train()
    for it in range(start, end):
        t0 = time.perf_counter()
        x, y = random_batch(tokens["train"], model_cfg.block_size, tc.batch_size, gen)
        loss = step(step_model, opt, x, y, lr_at(it, tc), device, clip)
        loss_value = loss.item()  # also synchronises the device, so the timing below is honest
        iter_seconds.append(time.perf_counter() - t0)
        if not math.isfinite(loss_value):
            bar.close()
            raise FloatingPointError(f"training loss became {loss_value} at iteration {it}; "
                                     "lower learning_rate or enable grad_clip")
        bar.update(1)
        if (it + 1) % tc.eval_interval == 0 or it + 1 == end:
            record(it + 1)
            checkpoint(it + 1)
            bar.set_postfix(train=f"{history[-1]['train_loss']:.3f}",
                            val=f"{history[-1]['val_loss']:.3f}")
    bar.close()
    return Run(model, model_cfg, tc, device, history, iter_seconds)


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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m middleground.gpt.train",
        description="Train a character-level GPT (nanoGPT-compatible flag names). "
                    "Losses are in nats per character.")
    g = p.add_argument_group("data and output")
    g.add_argument("--dataset", default="shakespeare_char", choices=sorted(DATASETS))
    g.add_argument("--out_dir", type=Path, default=None, help="write ckpt.pt here after each eval")
    g.add_argument("--resume", type=_bool, nargs="?", const=True, default=False,
                   help="continue from out_dir/ckpt.pt")
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
    parser = _parser()
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample must be >= 0; got {args.sample}")
    if args.resume and args.out_dir is None:
        parser.error("--resume needs --out_dir, the folder holding ckpt.pt")
    try:
        device = pick(None if args.device == "auto" else args.device)
        tc = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
        train, val, vocab = DATASETS[args.dataset]()
        model_cfg = GPTConfig(vocab_size=len(vocab), block_size=args.block_size,
                              n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                              dropout=args.dropout, bias=args.bias)
    except ValueError as e:
        parser.error(str(e))

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

    try:
        run = fit(model_cfg, tc, train, val, device, out_dir=args.out_dir, resume=args.resume,
                  progress=True, on_eval=report)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
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
    if args.json is not None:
        s.update(dataset=args.dataset, model=asdict(model_cfg), train=asdict(tc), history=run.history)
        write_json(args.json, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
