"""The standard knob sweep: the same small transformer trained across every knob family.

Each cell is one run on one source of :mod:`middleground.sources.knobs` (family, knob value,
seed). A run trains on 100,000 symbols of one realisation and is evaluated on the 20,000 that
follow it, and records, at regular steps, the held-out loss and, for the hidden-Markov families,
the continuation capability (:mod:`middleground.measures.capability`): k = 8 symbols continued
greedily after a context, scored against the true process's own greedy continuation.

Everything a run draws comes from its own seed: its data (``[seed, 1]``), its weights and training
batches (``seed``, as the single-model trainer), its evaluation batches (a constant seed over its
own validation stream) and its capability prompts (``[seed, 7]``). So a cell's numbers are the same
whether it is trained alone or in a group, and :func:`results` can reuse any cached cell.

:func:`results` is the one way the chapters ask for this sweep: it resolves the sizes of the
``knob`` chapter's profile and returns its cells and their results.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import torch

from ..base.bits import NATS_TO_BITS
from ..book.profiles import resolve
from ..gpt import decode
from ..gpt.core import TrainConfig
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..measures import capability
from ..sources.hmm import HMM
from ..sources.knobs import make_source
from . import cache

# The small transformer of every sweep (vocabulary set per source family).
SWEEP_MODEL = GPTConfig(vocab_size=4, block_size=32, n_layer=2, n_head=2, n_embd=32, bias=False)
CONTINUATION_K = 8   # symbols a continuation must get right
N_PROMPTS = 64       # continuation prompts per evaluation
N_TRAIN = 100_000    # training symbols per run
N_VAL = 20_000


def sweep_train_config(iters: int, eval_interval: int | None = None) -> TrainConfig:
    """The schedule every sweep cell uses: nanoGPT's shape, a higher rate for tiny models."""
    return TrainConfig(max_iters=iters, batch_size=16, learning_rate=3e-3, min_lr=3e-4,
                       warmup_iters=min(50, iters // 10), beta2=0.99,
                       eval_interval=eval_interval or max(1, iters // 16), eval_iters=4)


def cells(family: str, knobs, seeds, iters: int) -> list[dict]:
    out = []
    for knob in knobs:
        vocab = make_source(family, knob).alphabet_size
        model = asdict(replace(SWEEP_MODEL, vocab_size=vocab))
        for s in seeds:
            out.append({"family": family, "knob": knob if isinstance(knob, str) else float(knob),
                        "seed": int(s), "iters": int(iters), "model": model,
                        "n_train": N_TRAIN, "n_val": N_VAL, "k": CONTINUATION_K})
    return out


def group_key(cell: dict) -> tuple:
    """Cells trained together: same model, same schedule (source, knob and seed may differ)."""
    return (cell["iters"], tuple(sorted(cell["model"].items())), cell["n_train"], cell["k"])


def continuation_prompts(source, val: np.ndarray, seed: int, ctx_len: int, k: int):
    """``N_PROMPTS`` contexts from one run's validation stream, drawn with that run's seed, and the
    true process's greedy continuation of each (zeros where the source has no hidden-Markov form)."""
    rng = np.random.default_rng([seed, 7])
    starts = rng.integers(0, len(val) - ctx_len, size=N_PROMPTS)
    ctx = val[starts[:, None] + np.arange(ctx_len)]
    target = (capability.greedy_target(source, ctx, k) if isinstance(source, HMM)
              else np.zeros((N_PROMPTS, k), dtype=np.int64))
    return ctx, target


def run_data(cell: dict):
    """A run's source and its training and validation symbols, from the run's own seed.

    One realisation per run, split by position (as for text): some sources are not ergodic
    (Santa Fe's "facts" are drawn once per realisation), so validation must continue the very
    sequence the model was trained on."""
    source = make_source(cell["family"], cell["knob"])
    seq = source.sample(cell["n_train"] + cell["n_val"], np.random.default_rng([cell["seed"], 1]))
    return source, seq[:cell["n_train"]], seq[cell["n_train"]:]


def train_group(group: list[dict]) -> list[dict]:
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    tc = sweep_train_config(group[0]["iters"])
    k = group[0]["k"]
    srcs, train, val = (list(part) for part in zip(*(run_data(c) for c in group)))
    prompts = [continuation_prompts(s, v, c["seed"], cfg.block_size - k, k)
               for s, v, c in zip(srcs, val, group)]
    contexts = [p[0] for p in prompts]
    has_target = [isinstance(s, HMM) for s in srcs]
    ctx_t = torch.as_tensor(np.stack(contexts), device=device.torch)
    tgt_t = torch.as_tensor(np.stack([p[1] for p in prompts]), device=device.torch)

    def capabilities(model, step):
        model.eval()
        pred = decode.greedy(model, ctx_t, k).cpu().numpy()
        ce = decode.target_cross_entropy(model, ctx_t, tgt_t).cpu().numpy()
        model.train()
        correct = [capability.continuation_correct(s, c, p) if ok else None
                   for s, c, p, ok in zip(srcs, contexts, pred, has_target)]
        return {"exact_match": [float(c.all(axis=1).mean()) if c is not None else None
                                for c in correct],
                "token_accuracy": [float(c.mean()) if c is not None else None for c in correct],
                "target_bits": [float(c.mean() * NATS_TO_BITS) if ok else None
                                for c, ok in zip(ce, has_target)]}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, on_eval=capabilities)
    results = []
    for m, s in enumerate(srcs):
        t = s.truth()
        results.append({
            "h": t.h, "E": t.E, "steps": [r["step"] for r in run.history],
            "val_bits": [r["val_loss"][m] * NATS_TO_BITS for r in run.history],
            **{key: [r["extra"][key][m] for r in run.history]
               for key in ("exact_match", "token_accuracy", "target_bits")}})
    return results


def standard_cells(knob_points: int, n_seeds: int, iters: int, seed: int) -> list[dict]:
    """Every family along its knob: ``knob_points`` settings of temperature and noise, the orders,
    the two ε-machines and Santa Fe, each with ``n_seeds`` seeds from ``seed``."""
    seeds = [seed + i for i in range(n_seeds)]
    small = knob_points <= 3
    out = []
    out += cells("temperature", [round(float(t), 4) for t in np.geomspace(0.1, 10, knob_points)], seeds, iters)
    out += cells("noise", [round(float(r), 4) for r in np.linspace(0.0, 0.9, knob_points)], seeds, iters)
    out += cells("order", [1, 2] if small else [1, 2, 3], seeds, iters)
    out += cells("hmm", ["golden mean", "even process"], seeds, iters)
    out += cells("santa-fe", [0.5] if small else [0.3, 0.5, 0.7], seeds, iters)
    return out




def results(profile: str | None = None, seed: int = 0, **sizes) -> tuple[list[dict], list[dict], dict]:
    """The standard sweep at the ``knob`` chapter's sizes for ``profile``: ``(cells, results,
    counts)``. ``sizes`` may override ``iters``, ``n_seeds`` or ``knob_points`` (``None`` keeps the
    profile's). Every chapter that shows this sweep calls this, so all ask the cache for the very
    same runs (and only the first to run trains them)."""
    cfg = resolve("knob", profile, seed=seed, **sizes)
    todo = standard_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed)
    out, counts = cache.run("knob", todo, group_key, train_group)
    return todo, out, counts
