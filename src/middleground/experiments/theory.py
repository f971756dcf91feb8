"""The theory chapter's experiments: belief geometry, the complexity-entropy map, learning curves.

**Part 1, belief-state geometry.** Shai et al. (2024) train a small transformer on the Mess3 process
(Marzen and Crutchfield 2017), a three-state hidden Markov source whose observer beliefs fill a
fractal inside the probability simplex, and find that an affine map of the residual stream recovers
the exact belief at every position. This module reproduces that test with the book's own parts and
puts every probe score beside its baselines (:mod:`middleground.measures.probes`): the same probe
on an untrained network of the same shape, a table of the last k symbols, and a shuffled-target
control.

- :func:`belief_windows`: independent stationary windows of a source and the exact belief after
  every prefix of each (the probe's targets, from :func:`middleground.sources.beliefs`);
- :func:`train_models`: one stacked ensemble per model width, its members the knob's sources, so
  each member is the run a single trainer would give (the ensemble's guarantee);
- :func:`excess_over_floor`: each model's held-out loss minus the exact optimal predictor's on the
  same windows (paired, in bits), so a model "at the floor" is judged to within its standard error;
- :func:`probe_rows`: probe scores per layer and for all layers concatenated, beside the baselines.

What it does not show: that the model *uses* the belief (a probe reads, it does not intervene),
nor anything about sources whose beliefs are not a function of a short context.

**Part 2, the map.** :func:`mechanics_rows` (exact C_μ and friends, :mod:`middleground.sources.cmech`),
:func:`belief_complexity` (for sources without a finite C_μ) and :func:`ladder_points` (the knob
settings of chapter ladder with their trained models' excess loss).

**Part 3, learning curves.** :func:`learning_curves`: held-out loss against training-set size,
every size one member of one stacked ensemble.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch

from ..base.bits import NATS_TO_BITS
from ..gpt.core import TrainConfig, window_losses
from ..gpt.device import Device, pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPT, GPTConfig
from ..measures import probes
from ..base.bits import entropy_bits
from ..sources import beliefs, cmech
from ..sources.floor import paired_floor_bits, sample_windows
from ..sources.hmm import HMM

BLOCK = 10  # Shai et al.'s context length for Mess3


def model_config(width: int, alphabet_size: int = 3) -> GPTConfig:
    """Shai et al.'s shape (4 layers, one head) at a given width; 64 is theirs."""
    return GPTConfig(vocab_size=alphabet_size, block_size=BLOCK, n_layer=4, n_head=1,
                     n_embd=int(width), bias=True)


def mess3_widths(top_width: int) -> list[int]:
    """The three Mess3 model widths: a quarter, a half and all of ``top_width``."""
    return [top_width // 4, top_width // 2, top_width]


def train_config(iters: int, seed: int) -> TrainConfig:
    return TrainConfig(max_iters=int(iters), batch_size=64, learning_rate=3e-3, min_lr=3e-4,
                       warmup_iters=min(100, int(iters) // 10), eval_interval=int(iters),
                       eval_iters=8, seed=int(seed))


def belief_windows(source: HMM, n_windows: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """``n_windows`` stationary windows of ``BLOCK + 1`` symbols, and the exact belief (N, BLOCK, S)
    after each prefix ``x_0..x_i`` (i < BLOCK), the state of knowledge at the model's position i."""
    windows = sample_windows(source, n_windows, BLOCK + 1, np.random.default_rng(seed))
    eta = np.tile(source.start, (n_windows, 1))
    out = np.empty((n_windows, BLOCK, source.n_states))
    for i in range(BLOCK):
        eta = beliefs.condition(beliefs.predict(eta, source.T), windows[:, i])
        out[:, i] = eta
    return windows, out


def data_seed(seed: int, source, stream: int) -> list[int]:
    """The seed of one data stream: the run's seed, the source's name (a stable CRC, since
    Python's hash() is salted) and which stream (1 training, 2 validation, 3+ probes)."""
    return [int(seed), zlib.crc32(source.name.encode("utf-8")), int(stream)]


@dataclass
class Trained:
    """The models of one width, one per source, with their training seed."""

    width: int
    models: list[GPT]
    seconds: float


def train_models(sources: list[HMM], widths, iters: int, n_train: int, seed: int,
                 device: Device | None = None) -> list[Trained]:
    """For each width, one ensemble whose member m trains on ``n_train`` symbols of ``sources[m]``
    with weights and batches from ``seed``. A member's data are drawn from the seed and its source's
    name alone (:func:`data_seed`), so they do not depend on the other sources or their order."""
    device = device or pick()
    streams = [s.sample(n_train, np.random.default_rng(data_seed(seed, s, 1))) for s in sources]
    vals = [s.sample(8 * 64 * (BLOCK + 1), np.random.default_rng(data_seed(seed, s, 2))) for s in sources]
    out = []
    for width in widths:
        cfg = model_config(width, sources[0].alphabet_size)
        run = fit_ensemble(cfg, train_config(iters, seed), streams, vals, [seed] * len(sources), device)
        out.append(Trained(int(width), [run.model.member(m).eval() for m in range(len(sources))],
                           run.seconds))
    return out


def untrained(width: int, seed: int, alphabet_size: int = 3) -> GPT:
    torch.manual_seed(seed)
    return GPT(model_config(width, alphabet_size)).eval()


def excess_over_floor(model: GPT, source: HMM, windows: np.ndarray, device: Device | None = None) -> dict:
    """Held-out bits of ``model`` on ``windows`` (N, BLOCK + 1) minus the exact optimal predictor's
    on the same windows and positions: mean and paired standard error, plus both levels."""
    device = device or pick()
    w = torch.as_tensor(windows)
    model_bits = window_losses(model.to(device.torch), (w[:, :-1], w[:, 1:]), device) * NATS_TO_BITS
    # The optimal predictor scores positions 1..BLOCK of each window, as the model does.
    optimal = paired_floor_bits(source, windows)
    d = model_bits - optimal
    return {"model_bits": float(model_bits.mean()), "optimal_bits": float(optimal.mean()),
            "excess": float(d.mean()), "excess_se": float(d.std(ddof=1) / np.sqrt(len(d)))}


@torch.no_grad()
def residual_features(model: GPT, windows: np.ndarray) -> np.ndarray:
    """The residual stream at every depth for every window position: (n_layer + 1, N * BLOCK, C),
    rows in the order of ``windows[:, :BLOCK]`` flattened."""
    dev = next(model.parameters()).device
    R = model.residual_stream(torch.as_tensor(windows[:, :BLOCK], device=dev)).float().cpu().numpy()
    return R.reshape(R.shape[0], -1, R.shape[-1])


def _concat(R: np.ndarray) -> np.ndarray:
    return np.concatenate(list(R), axis=1)


def probe_rows(model: GPT, blank: GPT, train: tuple, test: tuple, alphabet_size: int,
               lookup_ks=(1, 2, 3, 4, 5, 6), seed: int = 0) -> list[dict]:
    """Probe scores on the test windows, fitted on the train windows: the trained model per layer
    and concatenated, the untrained model concatenated, the shuffled control, and k-symbol lookups.
    ``train`` and ``test`` are (windows, beliefs) pairs from :func:`belief_windows`."""
    (wtr, btr), (wte, bte) = train, test
    ytr, yte = btr.reshape(-1, btr.shape[-1]), bte.reshape(-1, bte.shape[-1])
    Rtr, Rte = residual_features(model, wtr), residual_features(model, wte)
    rows = []
    for layer in range(len(Rtr)):
        name = "embedding" if layer == 0 else f"after block {layer}"
        rows.append({"what": f"trained, {name}", "kind": "probe", "layer": layer,
                     **probes.probe_scores(Rtr[layer], ytr, Rte[layer], yte, seed=seed, group_size=BLOCK)})
    rows.append({"what": "trained, all layers", "kind": "probe", "layer": None,
                 **probes.probe_scores(_concat(Rtr), ytr, _concat(Rte), yte, seed=seed, group_size=BLOCK)})
    Utr, Ute = residual_features(blank, wtr), residual_features(blank, wte)
    rows.append({"what": "untrained, all layers", "kind": "baseline", "layer": None,
                 **probes.probe_scores(_concat(Utr), ytr, _concat(Ute), yte, seed=seed, group_size=BLOCK)})
    rows.append({"what": "shuffled beliefs, all layers", "kind": "control", "layer": None,
                 **probes.shuffled_control(_concat(Rtr), ytr, _concat(Rte), yte, seed=seed, group_size=BLOCK)})
    pos_tr = np.tile(np.arange(BLOCK), len(wtr))
    pos_te = np.tile(np.arange(BLOCK), len(wte))
    ctx_tr, ctx_te = np.repeat(wtr[:, :BLOCK], BLOCK, axis=0), np.repeat(wte[:, :BLOCK], BLOCK, axis=0)
    for k in lookup_ks:
        r = probes.lookup_baseline(ctx_tr, pos_tr, ytr, ctx_te, pos_te, yte, k, alphabet_size, BLOCK)
        rows.append({"what": f"lookup of the last {k} symbols", "kind": "baseline", "layer": None, **r})
    return rows


def simplex_points(beliefs_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """2-D coordinates of 3-state beliefs in an equilateral triangle, and a colour per belief
    (its three probabilities as red, green and blue), so true and predicted points can share it."""
    b = np.asarray(beliefs_xyz, dtype=float)
    if b.ndim != 2 or b.shape[1] != 3:
        raise ValueError(f"beliefs must have shape (N, 3); got {b.shape}")
    x = b[:, 1] + 0.5 * b[:, 2]
    y = (np.sqrt(3) / 2) * b[:, 2]
    c = np.clip(b, 0, 1)
    c = c / np.maximum(c.max(axis=1, keepdims=True), 1e-12)
    colours = ["#%02x%02x%02x" % tuple(int(round(255 * v)) for v in row) for row in c]
    return x, y, colours


# --- Part 2: the complexity-entropy map ---------------------------------------------------------

def mechanics_rows(sources) -> list[dict]:
    """The exact computational-mechanics quantities of each source (:func:`cmech.summary`), one
    record per source, with None where a quantity has no exact value (non-unifilar sources)."""
    return [cmech.summary(s) for s in sources]


def belief_complexity(source: HMM, L: int, decimals: int) -> dict:
    """How complex the set of beliefs an observer can hold is, after ``L`` symbols: the number of
    distinct beliefs at a resolution of ``decimals`` decimal places and the entropy of their
    distribution (bits). For a unifilar source that synchronises this tends to C_μ; for Mess3 it
    grows without bound as the resolution sharpens (the beliefs form a fractal)."""
    beliefs_, probs = cmech.mixed_state_distribution(source.T, source.start, L, decimals=decimals)
    return {"n_beliefs": int(len(probs)), "belief_entropy": float(entropy_bits(probs))}


def ladder_points(rows: list[dict], top_width: int) -> list[dict]:
    """One point per knob setting of the ladder's runs: exact h and E, and the largest model's
    excess loss above the finite-context floor, averaged over seeds with its standard error."""
    out = []
    for fam in sorted({r["family"] for r in rows}):
        for kv in sorted({r["knob"] for r in rows if r["family"] == fam}):
            ex = [r["excess_floor"] for r in rows
                  if r["family"] == fam and r["knob"] == kv and r["width"] == top_width]
            r0 = next(r for r in rows if r["family"] == fam and r["knob"] == kv)
            out.append({"family": f"{fam} knob", "knob": kv, "h": r0["h"], "E": r0["E"],
                        "region": r0["region"], "excess": float(np.mean(ex)),
                        "excess_se": float(np.std(ex, ddof=1) / np.sqrt(len(ex))) if len(ex) > 1 else None})
    return out


# --- Part 3: learning curves predicted from data statistics -------------------------------------

CURVE_WIDTH = 48  # width of every learning-curve model
CURVE_BATCH = 32  # windows per step of the learning-curve runs


def curve_sizes(n: int) -> list[int]:
    """``n`` training-set sizes (in windows), a factor 4 apart from 32."""
    return [32 * 4**i for i in range(n)]


def curve_config(width: int, alphabet_size: int, block: int) -> GPTConfig:
    return GPTConfig(vocab_size=alphabet_size, block_size=int(block), n_layer=3, n_head=2,
                     n_embd=int(width), bias=False)


def learning_curves(sources: list, sizes, iters: int, width: int, seed: int, block: int,
                    n_val: int = 2000, device: Device | None = None) -> list[dict]:
    """Held-out loss against training-set size: for every source and every size P (in windows of
    ``block + 1`` symbols, i.e. sentences for a grammar whose sentences have that length), one
    member of a single stacked ensemble trains ``iters`` steps on the first P windows of a stream
    drawn from ``[seed, source name, 1]`` (so the P windows of a smaller set are the first of every
    larger one).

    Early stopping without peeking: at each of the run's 11 evaluations every member is scored on
    a *selection* set (the trainer's fixed validation batches) and on a separate *test* set of
    ``n_val`` fresh windows, window by window. The checkpoint kept is the one with the lowest
    selection loss; the test loss reported is that checkpoint's, with its standard error over test
    windows (``test_windows`` keeps the windows, so a caller can pair them with an exact optimum)."""
    device = device or pick()
    span = int(block) + 1
    full = {s.name: s.sample(max(sizes) * span, np.random.default_rng(data_seed(seed, s, 1)))
            for s in sources}
    vals = {s.name: s.sample(n_val * span, np.random.default_rng(data_seed(seed, s, 2))) for s in sources}
    tests = {s.name: s.sample(n_val * span, np.random.default_rng(data_seed(seed, s, 6))).reshape(n_val, span)
             for s in sources}
    members = [(s, int(P)) for s in sources for P in sizes]
    cfg = curve_config(width, sources[0].alphabet_size, block)
    tc = TrainConfig(max_iters=int(iters), batch_size=CURVE_BATCH, learning_rate=3e-3, min_lr=3e-4,
                     warmup_iters=min(50, int(iters) // 10), eval_interval=max(1, int(iters) // 10),
                     eval_iters=max(1, n_val // 64), seed=int(seed))  # selection: about n_val / 2 windows
    test_x = torch.stack([torch.as_tensor(tests[s.name][:, :-1]) for s, _ in members])
    test_y = torch.stack([torch.as_tensor(tests[s.name][:, 1:]) for s, _ in members])

    def on_eval(model, step):  # per-member, per-window test bits at this checkpoint
        bits = window_losses(model, (test_x, test_y), device) * NATS_TO_BITS  # (M, n_val)
        return {"test_bits": bits.tolist()}

    run = fit_ensemble(cfg, tc, [full[s.name][: P * span] for s, P in members],
                       [vals[s.name] for s, _ in members], [int(seed)] * len(members), device,
                       stride=span, on_eval=on_eval)
    rows = []
    for m, (s, P) in enumerate(members):
        sel = [r["val_loss"][m] for r in run.history]
        best = int(np.argmin(sel))
        bits = np.asarray(run.history[best]["extra"]["test_bits"][m])
        rows.append({"source": s.name, "P": P, "tokens": P * span,
                     "test_bits": float(bits.mean()), "test_se": float(bits.std(ddof=1) / np.sqrt(len(bits))),
                     "window_bits": bits, "test_windows": tests[s.name],
                     "best_step": int(run.history[best]["step"]), "last_step": int(run.history[-1]["step"]),
                     "epochs": iters * tc.batch_size / P})
    return rows
