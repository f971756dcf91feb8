"""The knob sweep: the same small transformers trained across every knob family, at several sizes.

Each cell is one run on one source of :mod:`middleground.sources.knobs` (family, knob value,
seed) with one model. A run trains on 100,000 symbols of one realisation and is evaluated on the
458,752 that follow it (under the full and gpu profiles; quick evaluates on fewer):

- during training, every ``eval_interval`` steps: held-out loss on fixed batches and the
  continuation capability on the first 64 prompts (the learning curves);
- at the end, the *final evaluation*: loss on every non-overlapping window of the whole held-out
  stream (so its standard error is a few thousandths of a bit), the exact optimal predictor with
  the same finite context and a count-based Bayes predictor (:mod:`middleground.measures.ngram`,
  fitted on the run's own training symbols) scored on the very same windows (so the excess above
  the finite-context floor and the gap to the baseline are paired differences), and the
  continuation capability
  (:mod:`middleground.measures.capability`) on 512 prompts (full and gpu profiles): k = 8 symbols continued greedily after
  a context, scored against the true process's own greedy continuation.

Everything a run draws comes from its own seed: its data (``[seed, DATA_STREAM]``), its weights and training
batches (``seed``, as the single-model trainer), its evaluation batches (a constant seed over its
own validation stream) and its capability prompts (``[seed, PROMPT_STREAM]``). So a cell's numbers are the same
whether it is trained alone or in a group, and the cache can reuse any cell.

Two views of the sweep, each resolved from its chapter's profile: :func:`results`, the standard
sweep of chapter ``knob`` (every family, one model), and :func:`ladder_results`, the model-size
ladder of chapter ``ladder`` along the two continuous knobs, whose top rung *is* the standard
sweep's model, so the two share those runs.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import functools

import numpy as np
import torch

from ..base import checks
from ..base.bits import NATS_TO_BITS
from ..base.profiles import resolve
from ..gpt import decode, training_log
from ..gpt.core import TrainConfig, lr_at, window_losses
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPT, GPTConfig
from ..measures import capability
from ..measures.ngram import BayesNgram
from ..sources.floor import paired_floor_bits
from ..sources.hmm import HMM
from ..sources import plane
from ..sources.knobs import KNOBS, knob_settings, make_source
from . import cache

# The small transformer of every sweep (vocabulary set per source family).
SWEEP_MODEL = GPTConfig(vocab_size=4, block_size=32, n_layer=2, n_head=2, n_embd=32, bias=False)
CONTINUATION_K = 8     # symbols a continuation must get right
N_PROMPTS = 512        # continuation prompts of the final evaluation
N_CURVE_PROMPTS = 64   # of those, the ones scored at every evaluation during training (full, gpu)
N_TRAIN = 100_000      # training symbols per run
# A run's random streams, each np.random.default_rng([seed, STREAM]): named, so no two uses share one
# and a run's draws depend on its own seed alone, never on its companions in a group.
DATA_STREAM = 1     # the source's training and held-out symbols
PROMPT_STREAM = 7   # the capability prompts' positions
N_VAL = 458_752        # held-out symbols: 13,901 windows of 33, so a loss has a standard error < 0.005 bits
CURVE_POINTS = 16      # evaluations during training (the learning curves), about evenly spaced
LEARNING_RATE = 3e-3   # peak AdamW rate of every sweep run unless its cell says otherwise,
MIN_LR = 3e-4          # and the rate its cosine decays to


def sweep_train_config(iters: int, eval_interval: int | None = None,
                       curve_points: int = CURVE_POINTS, learning_rate: float = LEARNING_RATE,
                       min_lr: float = MIN_LR) -> TrainConfig:
    """The schedule every sweep cell uses: nanoGPT's shape, a higher rate for tiny models (decaying
    to ``min_lr``); an evaluation every ``eval_interval`` steps, by default about ``curve_points``
    over the run."""
    return TrainConfig(max_iters=iters, batch_size=16, learning_rate=learning_rate, min_lr=min_lr,
                       warmup_iters=min(50, iters // 10), beta2=0.99,
                       eval_interval=eval_interval or max(1, iters // curve_points), eval_iters=8)


def sweep_source(family: str, knob):
    """The source of a cell: a knob family of :mod:`middleground.sources.knobs`, or a family of the
    (h, E) plane (:data:`middleground.sources.plane.NAMES`, its knob the h share)."""
    return plane.member(family, knob) if family in plane.NAMES else make_source(family, knob)


def cells(family: str, knobs, seeds, iters: int, n_embd: int = SWEEP_MODEL.n_embd,
          n_val: int = N_VAL, n_prompts: int = N_PROMPTS, curve_points: int = CURVE_POINTS,
          learning_rate: float = LEARNING_RATE, min_lr: float = MIN_LR,
          n_train: int = N_TRAIN, curve_prompts: int = N_CURVE_PROMPTS) -> list[dict]:
    """One cell per knob and seed. ``n_val`` held-out symbols and ``n_prompts`` continuation prompts
    make the final evaluation, ``curve_points`` evaluations during training the learning curves
    (the profile sets all three: quick evaluates less, for evaluation is most of what a 40-step
    run costs)."""
    checks.real("learning_rate", learning_rate, 0.0, 1.0, low_open=True)
    checks.real("min_lr", min_lr, 0.0, learning_rate)
    checks.integer("n_train", n_train, 1_000)
    if not (isinstance(curve_points, int) and 2 <= curve_points <= iters):
        raise ValueError(f"curve_points must be an integer in [2, iters={iters}]; got {curve_points!r}")
    checks.integer("curve_prompts", curve_prompts, 1)
    if not (isinstance(n_prompts, int) and n_prompts >= curve_prompts):
        raise ValueError(f"n_prompts must be an integer >= {curve_prompts} (the learning curves "
                         f"score the first {curve_prompts}); got {n_prompts!r}")
    out = []
    for knob in knobs:
        vocab = sweep_source(family, knob).alphabet_size
        model = asdict(replace(SWEEP_MODEL, vocab_size=vocab, n_embd=int(n_embd)))
        for s in seeds:
            out.append({"family": family, "knob": knob if isinstance(knob, str) else float(knob),
                        "seed": int(s), "iters": int(iters), "model": model,
                        "n_train": int(n_train), "n_val": int(n_val), "n_prompts": int(n_prompts),
                        "curve_points": int(curve_points), "curve_prompts": int(curve_prompts),
                        "learning_rate": float(learning_rate),
                        "min_lr": float(min_lr), "k": CONTINUATION_K})
    return out


def group_key(cell: dict) -> tuple:
    """Cells trained together: same model, same schedule (source, knob and seed may differ)."""
    return (cell["iters"], tuple(sorted(cell["model"].items())), cell["n_train"], cell["n_val"],
            cell["n_prompts"], cell["curve_points"], cell["curve_prompts"], cell["learning_rate"], cell["min_lr"], cell["k"])


def continuation_prompts(source, val: np.ndarray, seed: int, ctx_len: int, k: int,
                         n_prompts: int = N_PROMPTS):
    """``n_prompts`` contexts from one run's validation stream, drawn with that run's seed, and the
    true process's greedy continuation of each (zeros where the source has no hidden-Markov form)."""
    rng = np.random.default_rng([seed, PROMPT_STREAM])
    starts = rng.integers(0, len(val) - ctx_len, size=n_prompts)
    ctx = val[starts[:, None] + np.arange(ctx_len)]
    target = (capability.greedy_target(source, ctx, k) if isinstance(source, HMM)
              else np.zeros((n_prompts, k), dtype=np.int64))
    return ctx, target


def run_data(cell: dict):
    """A run's source and its training and validation symbols, from the run's own seed.

    One realisation per run, split by position (as for text): some sources are not ergodic
    (Santa Fe's "facts" are drawn once per realisation), so validation must continue the very
    sequence the model was trained on."""
    source, train, val = _data(cell["family"], cell["knob"], cell["seed"], cell["n_train"], cell["n_val"])
    return source, train.copy(), val.copy()  # copies: the memoised draw itself stays untouched


@functools.lru_cache(maxsize=512)
def _data(family, knob, seed: int, n_train: int, n_val: int):
    # Every rung of a ladder trains on the same data; drawing it once per process saves the
    # sampling loop (and the baselines below) at every other width. Pure functions of the key.
    source = sweep_source(family, knob)
    seq = source.sample(n_train + n_val, np.random.default_rng([seed, DATA_STREAM]))
    return source, seq[:n_train], seq[n_train:]


@functools.lru_cache(maxsize=512)
def _baselines(family, knob, seed: int, n_train: int, n_val: int, block: int):
    """Per-window bits of the count-based Bayes predictor and (for hidden-Markov sources) of the
    exact optimal predictor with the same finite context, on a run's final-evaluation windows."""
    source, train, val = _data(family, knob, seed, n_train, n_val)
    windows = final_windows(val, block)
    bayes = BayesNgram.fit(train, source.alphabet_size, bayes_max_order(source.alphabet_size))
    optimal = paired_floor_bits(source, windows) if isinstance(source, HMM) else None
    return bayes.window_bits(windows).mean(1), int(np.argmax(bayes.order_weights)), optimal


def bayes_max_order(alphabet_size: int) -> int:
    """The longest context of the count-based baseline: 10 symbols, fewer for large alphabets (its
    count tables have alphabet_size^(order+1) cells)."""
    return int(min(10, 26 // np.log2(alphabet_size) - 1))


def final_windows(val: np.ndarray, block: int) -> np.ndarray:
    """The held-out stream cut into non-overlapping windows of ``block + 1`` symbols: (N, block+1)."""
    n = len(val) // (block + 1)
    return np.asarray(val[: n * (block + 1)]).reshape(n, block + 1)


def train_group(group: list[dict]) -> list[dict]:
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    tc = sweep_train_config(group[0]["iters"], curve_points=group[0]["curve_points"],
                            learning_rate=group[0]["learning_rate"], min_lr=group[0]["min_lr"])
    k, n_prompts = group[0]["k"], group[0]["n_prompts"]
    srcs, train, val = (list(part) for part in zip(*(run_data(c) for c in group)))
    prompts = [continuation_prompts(s, v, c["seed"], cfg.block_size - k, k, n_prompts)
               for s, v, c in zip(srcs, val, group)]
    has_target = [isinstance(s, HMM) for s in srcs]
    ctx_t = torch.as_tensor(np.stack([p[0] for p in prompts]), device=device.torch)
    tgt_t = torch.as_tensor(np.stack([p[1] for p in prompts]), device=device.torch)

    def capabilities(model, n: int):
        """Scores of the first ``n`` prompts per member: exact match, token accuracy, target
        cross-entropy, and the number of prompts continued exactly right."""
        model.eval()
        pred = decode.greedy(model, ctx_t[:, :n], k).cpu().numpy()
        ce = decode.target_cross_entropy(model, ctx_t[:, :n], tgt_t[:, :n]).cpu().numpy()
        model.train()
        correct = [capability.continuation_correct(s, p[0][:n], pr) if ok else None
                   for s, p, pr, ok in zip(srcs, prompts, pred, has_target)]
        return {"exact_match": [float(c.all(axis=1).mean()) if c is not None else None
                                for c in correct],
                "exact_count": [int(c.all(axis=1).sum()) if c is not None else None for c in correct],
                "token_accuracy": [float(c.mean()) if c is not None else None for c in correct],
                "target_bits": [float(c.mean() * NATS_TO_BITS) if ok else None
                                for c, ok in zip(ce, has_target)]}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device,
                       on_eval=lambda model, step: capabilities(model, group[0]["curve_prompts"]),
                       on_start=training_log.from_settings())
    # The final evaluation: every window of the held-out stream, and all prompts.
    windows = [final_windows(v, cfg.block_size) for v in val]
    xy = (torch.as_tensor(np.stack([w[:, :-1] for w in windows])),
          torch.as_tensor(np.stack([w[:, 1:] for w in windows])))
    model_bits = window_losses(run.model, xy, device) * NATS_TO_BITS  # (M, windows)
    final_caps = capabilities(run.model, n_prompts)
    area = np.cumsum([0.0] + [lr_at(i, tc) for i in range(tc.max_iters)])
    results = []
    for m, s in enumerate(srcs):
        t = s.truth()
        bits = model_bits[m]
        final = {"val_bits": float(bits.mean()), "val_se": float(bits.std(ddof=1) / np.sqrt(len(bits))),
                 "n_windows": len(bits), "n_prompts": n_prompts,
                 **{key: final_caps[key][m] for key in final_caps}}
        # The count-based Bayes predictor fitted on the run's own training symbols and the exact
        # optimal predictor with the same context, both on the same windows as the model.
        c = group[m]
        bayes_bits, bayes_order, optimal = _baselines(c["family"], c["knob"], c["seed"], c["n_train"],
                                                      c["n_val"], cfg.block_size)
        vs = bits - bayes_bits
        final.update(bayes_bits=float(bayes_bits.mean()),
                     bayes_se=float(bayes_bits.std(ddof=1) / np.sqrt(len(bayes_bits))),
                     model_minus_bayes=float(vs.mean()),
                     model_minus_bayes_se=float(vs.std(ddof=1) / np.sqrt(len(vs))),
                     bayes_order=bayes_order)
        if optimal is not None:
            diff = bits - optimal
            final.update(optimal_bits=float(optimal.mean()),
                         optimal_se=float(optimal.std(ddof=1) / np.sqrt(len(optimal))),
                         excess_floor=float(diff.mean()),
                         excess_floor_se=float(diff.std(ddof=1) / np.sqrt(len(diff))))
        results.append({
            "h": t.h, "E": t.E, "steps": [r["step"] for r in run.history],
            "lr_area": [float(area[r["step"]]) for r in run.history],
            "val_bits": [r["val_loss"][m] * NATS_TO_BITS for r in run.history],
            **{key: [r["extra"][key][m] for r in run.history]
               for key in ("exact_match", "token_accuracy", "target_bits")},
            "final": final})
    return results


def evaluation(cfg) -> dict:
    """A sweep config's evaluation sizes (profile parameters ``eval_symbols``, ``eval_prompts``,
    ``curve_points``, ``curve_prompts``) as the keyword arguments of :func:`cells`."""
    return {"n_val": cfg.eval_symbols, "n_prompts": cfg.eval_prompts, "curve_points": cfg.curve_points,
            "curve_prompts": cfg.curve_prompts}


def standard_cells(knob_points: int, n_seeds: int, iters: int, seed: int,
                   width: int = SWEEP_MODEL.n_embd, n_val: int = N_VAL,
                   n_prompts: int = N_PROMPTS, curve_points: int = CURVE_POINTS,
                   curve_prompts: int = N_CURVE_PROMPTS) -> list[dict]:
    """Every family along its knob: ``knob_points`` settings of temperature and noise (placed by
    exact h, :func:`middleground.sources.knobs.knob_shares`), the orders,
    the two ε-machines and Santa Fe, each with ``n_seeds`` seeds from ``seed``, at model width
    ``width``, evaluated on ``n_val`` held-out symbols and ``n_prompts`` prompts at the end and
    ``curve_points`` times during training."""
    seeds = [seed + i for i in range(n_seeds)]
    small = knob_points <= 3
    sizes = {"n_embd": width, "n_val": n_val, "n_prompts": n_prompts, "curve_points": curve_points,
             "curve_prompts": curve_prompts}
    out = []
    for family in KNOBS:
        out += cells(family, knob_settings(family, knob_points), seeds, iters, **sizes)
    out += cells("order", [1, 2] if small else [1, 2, 3], seeds, iters, **sizes)
    out += cells("hmm", ["golden mean", "even process"], seeds, iters, **sizes)
    out += cells("santa-fe", [0.5] if small else [0.3, 0.5, 0.7], seeds, iters, **sizes)
    return out




def results(profile: str | None = None, seed: int = 0, **sizes) -> tuple[list[dict], list[dict], dict]:
    """The standard sweep at the ``knob`` chapter's sizes for ``profile``: ``(cells, results,
    counts)``. ``sizes`` may override ``iters``, ``n_seeds``, ``knob_points`` or ``width`` (``None``
    keeps the profile's). Every chapter that shows this sweep calls this, so all ask the cache for the very
    same runs (and only the first to run trains them)."""
    cfg = resolve("knob", profile, seed=seed, **sizes)
    todo = standard_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, cfg.width, **evaluation(cfg))
    out, counts = cache.run("knob", todo, group_key, train_group)
    return todo, out, counts


def non_embedding_params(n_embd: int) -> int:
    """Parameters of the sweep's model at width ``n_embd`` without its token and position
    embeddings (the output layer is tied to the token embedding): the N of a size law."""
    model = GPT(replace(SWEEP_MODEL, n_embd=int(n_embd)))
    return model.num_params(include_position=False) - model.wte.weight.numel()


def ladder_widths(rungs: int, top: int) -> list[int]:
    """``rungs`` model widths, each about √2 times the one before (so non-embedding parameters
    about double per rung), up to ``top``; even, as two heads need."""
    if not (isinstance(rungs, int) and rungs >= 3):
        raise ValueError(f"rungs must be an integer >= 3; got {rungs!r}")
    if not (isinstance(top, int) and top >= 8 and top % 2 == 0):
        raise ValueError(f"width (the top rung) must be an even integer >= 8; got {top!r}")
    widths = [2 * round(top / 2 ** (0.5 * (rungs - 1 - i)) / 2) for i in range(rungs)]
    if widths[0] < 4 or len(set(widths)) < rungs:
        raise ValueError(f"width {top} is too small for {rungs} rungs a factor √2 apart")
    return widths


def ladder_cells(knob_points: int, n_seeds: int, iters: int, seed: int, widths,
                 n_val: int = N_VAL, n_prompts: int = N_PROMPTS,
                 curve_points: int = CURVE_POINTS, curve_prompts: int = N_CURVE_PROMPTS) -> list[dict]:
    """The size ladder: every setting of both continuous knobs at every width."""
    seeds = [seed + i for i in range(n_seeds)]
    return [c for w in widths for family in KNOBS
            for c in cells(family, knob_settings(family, knob_points), seeds, iters, n_embd=w,
                           n_val=n_val, n_prompts=n_prompts, curve_points=curve_points,
                           curve_prompts=curve_prompts)]


def ladder_results(profile: str | None = None, seed: int = 0, **sizes):
    """The ladder at the ``ladder`` chapter's sizes for ``profile``: ``(cells, results, counts,
    widths)``. Its top rung is the standard sweep's model (the sweep's ``width``), so those runs
    come from the cache when chapter ``knob`` has run (and serve it when this runs first)."""
    cfg = resolve("ladder", profile, seed=seed, **sizes)
    widths = ladder_widths(cfg.rungs, cfg.width)
    todo = ladder_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, widths, **evaluation(cfg))
    out, counts = cache.run("knob", todo, group_key, train_group)
    return todo, out, counts, widths
