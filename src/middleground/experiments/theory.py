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

**The chapter.** :func:`run` does all of chapter theory for a :class:`ChapterConfig` and returns a
:class:`TheoryResult`: every value the prose quotes, every claim, and the tables the figures draw.
Its steps are pure functions of plain inputs (:func:`beats`, :func:`data_exponents`,
:func:`measured_alpha`, :func:`alpha_row`, :func:`decay_row`, the ``*_words`` sentences chosen
from the outcome), each tested on fabricated numbers with known answers.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import torch

from ..base import data
from ..base.bits import NATS_TO_BITS
from ..base.profiles import ChapterConfig
from ..gpt import training_log
from ..gpt.core import TrainConfig, window_losses
from ..gpt.device import Device, pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPT, GPTConfig
from ..measures import correlations, entropy, probes, regions, spatial
from ..base.bits import entropy_bits
from ..sources import beliefs, cmech, hmm
from ..sources.floor import finite_context_floor, memory_bits, paired_floor_bits, sample_windows
from ..sources.hmm import HMM
from ..sources.knobs import KNOB_K, markov_knob
from ..sources.processes import IID, Periodic
from ..sources.rhm import RandomHierarchy, predicted_scaling
from ..sweeps import knob
from . import middle, natural
from .report import Findings, Result

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
        run = fit_ensemble(cfg, train_config(iters, seed), streams, vals, [seed] * len(sources), device,
                           on_start=training_log.from_settings())
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
                       stride=span, on_eval=on_eval, on_start=training_log.from_settings())
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


# --- The chapter: pure steps ---------------------------------------------------------------------

MESS3_ALPHA = 0.85  # Shai et al.'s emission parameter
MEMORY_KS = range(0, 5)  # exact predictors with a memory of 0 to 4 symbols
FLOOR_1R2 = 1e-6  # 1 − R² below this is drawn at this floor of the knob figure's log axis
L_TEXT = 3  # 65³ = 274,625 words against about a million characters: H(3) is not saturated
MAP_TEXTS = ("original", "ngram 3", "word shuffle", "char shuffle", "noise 0.25")
MI_TEXTS = ("original", "ngram 3", "word shuffle")
RHM = (8, 2, 2, 5)  # the grammar: v symbols, m rules, branching s, depth L


def mess3_xs(n: int) -> list[float]:
    """``n`` settings of Mess3's x from 0.05 (structured) to 0.30 (near noise), to 3 decimals."""
    return [round(float(v), 3) for v in np.linspace(0.05, 0.30, n)]


def mean_se(d: np.ndarray) -> tuple[float, float]:
    """Mean of the paired differences ``d`` and its standard error (ddof 1)."""
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def beats(a: dict, b: dict) -> bool:
    """a's MSE below b's by more than three standard errors of the paired difference (same test rows)."""
    d, se = probes.paired_difference(a, b)
    return d < -3 * se


def beaten_memories(mem: Mapping[int, dict], ex: dict) -> list[int]:
    """The memories k (ascending) whose exact predictor pays more than the model ``ex`` by more
    than three standard errors (the two errors combined in quadrature)."""
    return [k for k in sorted(mem)
            if mem[k]["excess"] - ex["excess"] > 3 * math.hypot(mem[k]["excess_se"], ex["excess_se"])]


def longest_beaten(beat: list[int]) -> int:
    """The longest memory a model beats when it beats every shorter one too (0..k); -1 otherwise."""
    return max(beat) if beat == list(range(len(beat))) and beat else -1


def _first(options: list[tuple[str, bool]]) -> str:
    return next(text for text, condition in options if condition)


def excess_words(beaten: list[int]) -> str:
    """How the main model compares with the exact finite-memory predictors it beats."""
    kmax = max(beaten) if beaten else -1
    return _first([
        (f"below every exact predictor with a memory of at most {kmax} symbols (by more than three standard "
         "errors): the model uses more of the past than a short table would", beaten == list(range(kmax + 1)) and kmax >= 2),
        ("no better than a predictor that remembers two symbols", True)])


def vs_blank_words(cat: dict, blank: dict) -> str:
    """The probe on all layers against the same probe on the untrained network."""
    return _first([("clearly better than the same probe on the untrained network", beats(cat, blank)),
                   ("not clearly better than the same probe on the untrained network", True)])


def vs_look3_words(cat: dict, look3: dict) -> str:
    """The probe on all layers against a table of the last three symbols."""
    return _first([("and better than a table of the last three symbols", beats(cat, look3)),
                   ("but not better than a table of the last three symbols", True)])


def vs_bestk_words(cat: dict, best_k: dict) -> str:
    """The probe on all layers against the best lookup table: beats it, loses, or within error."""
    return _first([
        (f"it also beats the best lookup table (the last {best_k['k']} symbols)", beats(cat, best_k)),
        (f"yet a table of the last {best_k['k']} symbols does better still: at x = 0.05 the belief is "
         "nearly a function of a short memory, and a linear read-out of the stream does not beat a "
         "nonlinear table of it", beats(best_k, cat)),
        (f"and it is within error of the best lookup table (the last {best_k['k']} symbols)", True)])


def summary_probe_words(cat: dict, blank: dict, look3: dict, best_k: dict) -> str:
    """The chapter's closing sentence on the probe at x = 0.05."""
    return _first([
        ("the trained model's residual stream carries the exact belief in a linearly readable form, better "
         "than an untrained network of the same shape and than a table of the last three symbols; a table of "
         f"the last {best_k['k']} symbols carries it better still", beats(cat, blank) and beats(cat, look3) and beats(best_k, cat)),
        ("the trained model's residual stream carries the exact belief in a linearly readable form, better "
         "than an untrained network of the same shape and than every lookup table tried", beats(cat, blank) and beats(cat, best_k)),
        ("the probe on the trained model does not clearly beat its baselines", True)])


SHUFFLE_CLAIM = ("the shuffled control is worse than every real probe, and far worse (tenfold) than the "
                 "probe on all layers: the probe cannot fit noise")


def shuffle_is_worst(shuf: dict, rows: list[dict], cat: dict) -> bool:
    """Whether the shuffled control's MSE is above every probe row's and ten times the probe's."""
    return all(shuf["mse"] > r["mse"] for r in rows if r["kind"] == "probe") and shuf["mse"] > 10 * cat["mse"]


def floor_text(value: float, se: float | None, method: str) -> str:
    """The finite-context floor as quoted: "0.1234 (exact)" or "0.1234 ± 0.0005 (monte carlo)"."""
    return f"{value:.4f}" + (f" ± {se:.4f} ({method})" if se else " (exact)")


def best_lookup(rows) -> dict:
    """The lookup-table row with the lowest MSE."""
    return min((r for r in rows if r["what"].startswith("lookup")), key=lambda r: r["mse"])


def layer_rows(rows: list[dict]) -> list[dict]:
    """The rows of the probe figure: every probe, the untrained network and the lookup tables."""
    return [r for r in rows if r["kind"] == "probe" or r["what"].startswith("untrained")
            or r["what"].startswith("lookup")]


def knob_row(x: float, width: int, belief_entropy: float, h: float, ex: dict, rs: Mapping[str, dict],
             mem: Mapping[int, dict]) -> dict:
    """One model along the knob: its belief-set entropy, excess over the optimum (±2 SE), the
    longest memory it beats, whether its probe beats (or loses to) the untrained one, and the
    unexplained shares 1 − R² of each read-out."""
    best = best_lookup(rs.values())
    beat = beaten_memories(mem, ex)
    return {"x": x, "width": width, "belief_entropy": belief_entropy,
            "h": h, "excess": ex["excess"], "excess_se": ex["excess_se"],
            "lo": ex["excess"] - 2 * ex["excess_se"], "hi": ex["excess"] + 2 * ex["excess_se"],
            "beats_memory": longest_beaten(beat),
            "probe_wins": beats(rs["trained, all layers"], rs["untrained, all layers"]),
            "probe_loses": beats(rs["untrained, all layers"], rs["trained, all layers"]),
            "probe": 1 - rs["trained, all layers"]["r2"], "untrained": 1 - rs["untrained, all layers"]["r2"],
            "lookup3": 1 - rs["lookup of the last 3 symbols"]["r2"], "best_lookup": 1 - best["r2"],
            "best_k": best["k"]}


def belief_entropy_words(bcs: list[float]) -> str:
    """The trend of the belief-set entropy from the structured end to the noisy end."""
    return _first([
        ("falls steadily from the structured end to the noisy end", all(a > b for a, b in zip(bcs, bcs[1:]))),
        ("is lowest at the noisy end but does not fall steadily", bcs[-1] < min(bcs[:-1])),
        ("does not fall towards the noisy end", True)])


def memory_words(xs: list[float], rows: list[dict]) -> str:
    """Per setting and width, the longest exact memory each model beats."""
    words = []
    for x in xs:
        rs = sorted((r for r in rows if r["x"] == x), key=lambda r: r["width"])
        words.append(f"x = {x:g}: " + ", ".join(
            f"width {r['width']} " + ("beats no memory" if r["beats_memory"] < 0 else
                                      f"beats memories up to {r['beats_memory']}") for r in rs))
    return "; ".join(words)


def knob_probe_words(top: list[dict]) -> str:
    """At how many settings the trained probe beats (and loses to) the untrained one."""
    wins = sum(r["probe_wins"] for r in top)
    losses = sum(r["probe_loses"] for r in top)
    return (f"the trained probe beats the untrained one (paired, by more than three standard errors) "
            f"at {wins} of {len(top)} settings and loses at {losses}")


def knob_lookup_words(top: list[dict]) -> str:
    """At how many settings the best lookup table beats the trained probe (in 1 − R²)."""
    wins_lookup = sum(r["probe"] < r["best_lookup"] for r in top)
    return (f"the best lookup table of at most six symbols beats the trained probe at "
            f"{len(top) - wins_lookup} of {len(top)} settings")


def _cell(v, spec=".4f") -> str:
    return "—" if v is None else format(v, spec) if isinstance(v, float) else str(v)


def mechanics_table(mech: list[dict]) -> str:
    """The Markdown table of exact computational mechanics, one row per source (— where none;
    ∞ for a Markov order that is infinite although C_μ is finite)."""
    head = "| source | h | E | C_μ | χ = C_μ − E | Markov order | sync time | S | T |\n|---|---|---|---|---|---|---|---|---|\n"
    body = "\n".join(f"| {r['name']} | {_cell(r['h'])} | {_cell(r['E'])} | {_cell(r['C_mu'])} | {_cell(r['crypticity'])} | "
                     f"{'∞' if r['markov_order'] is None and r['C_mu'] is not None else _cell(r['markov_order'])} | "
                     f"{_cell(r['sync_time'])} | {_cell(r['sync_information'])} | {_cell(r['transient_information'])} |"
                     for r in mech)
    return head + body


def ladder_runs(cells: list[dict], results: list[dict]) -> list[dict]:
    """One row per ladder run with what :func:`ladder_points` reads: family, knob, width, exact h
    and E, region and the excess above the floor (the fields of chapter ladder's run rows)."""
    return [{"family": c["family"], "knob": c["knob"], "width": c["model"]["n_embd"], "h": r["h"],
             "E": r["E"], "region": regions.region(r["h"], r["E"], KNOB_K),
             "excess_floor": r["final"]["excess_floor"]} for c, r in zip(cells, results)]


def knob_point(p: dict) -> dict:
    """A knob setting on the map, coloured by its largest model's excess loss."""
    return {"group": p["family"], "name": f"{p['family']} {p['knob']:.4g}", "h": p["h"] / math.log2(KNOB_K),
            "E": p["E"], "excess": p["excess"], "detail": f"region {p['region']}; excess {p['excess']:.3f} bits"}


def gallery_point(t: dict, alphabet_size: int) -> dict | None:
    """A gallery source on the map from its exact truth row; None without finite exact h and E."""
    if t["E"] is None or t["h"] is None or not math.isfinite(t["E"]) or alphabet_size < 2:
        return None
    return {"group": "gallery (exact)", "name": t["source"], "h": t["h"] / math.log2(alphabet_size),
            "E": t["E"], "excess": None, "detail": t["kind"]}


def eca_point(r: dict) -> dict:
    """An elementary automaton on the map, with ±2 SE bars on h and E."""
    return {"group": f"ECA class {r['wolfram_class']}", "name": f"rule {r['rule']}", "h": r["h"], "E": r["E"],
            "excess": None, "h_lo": r["h"] - 2 * r["h_se"], "h_hi": r["h"] + 2 * r["h_se"],
            "E_lo": r["E"] - 2 * r["E_se"], "E_hi": r["E"] + 2 * r["E_se"],
            "detail": f"{r['class_name']}; class {sorted(r['members'])}; SE h {r['h_se']:.3f}, E {r['E_se']:.3f}"}


def text_point(name: str, H: np.ndarray, upper: float, n_symbols: int, L: int = L_TEXT) -> dict:
    """A text on the map: at its held-out upper bound on h (bits, alphabet 65) and the short-word
    estimate E(L) = H(L) − L·(H(L) − H(L−1)); ``saturation`` is H(L) / log2 of the sample size."""
    E_L = float(H[L] - L * (H[L] - H[L - 1]))
    return {"group": "Tiny Shakespeare (h: upper bound)", "name": name, "h": upper / math.log2(65), "E": E_L,
            "excess": None, "detail": f"h ≤ {upper:.2f} bits (best held-out compressor); E({L}) = {E_L:.2f} estimated",
            "saturation": float(H[L] / math.log2(n_symbols))}


def noise_corner(eca: list[dict]) -> list[int]:
    """The rules at the noise corner: h > 0.99 and E < 0.02 bits."""
    return [r["rule"] for r in eca if r["h"] > 0.99 and r["E"] < 0.02]


def eca_class_words(eca: list[dict]) -> str:
    """Whether Wolfram's classes map onto regions of the plane (they do not when class III has
    rules both at h > 0.99 and below h < 0.9)."""
    classes = {c: [r for r in eca if r["wolfram_class"] == c] for c in (1, 2, 3, 4)}
    c3_split = {r["rule"] for r in classes[3] if r["h"] > 0.99} and {r["rule"] for r in classes[3] if r["h"] < 0.9}
    c4_noise = noise_corner(classes[4])
    return _first([
        ("Wolfram's classes do not map onto regions: class III sits both at the noise corner and well "
         "inside the plane" + (f", and class IV includes a rule at the noise corner (rule "
                               f"{', '.join(map(str, c4_noise))}, whose class is disputed) as well as the highest E"
                               if c4_noise else ""), bool(c3_split)),
        ("Wolfram's classes overlap on the plane", True)])


def degradation_words(orig: dict, degr: Mapping[str, dict]) -> str:
    """How the degradations move the text on the map."""
    return _first([
        ("both shuffles and the order-3 surrogate lower the estimated E(3), and noise raises h",
         all(degr[n]["E"] < orig["E"] for n in ("word shuffle", "char shuffle", "ngram 3")) and degr["noise 0.25"]["h"] > orig["h"]),
        ("the degradations move the text in no single direction", True)])


def data_exponents(cov: np.ndarray, ng: np.ndarray, entropy_rate: float, N: int):
    """β from the covariance norms at distances 1..N/2 and γ from the conditional-entropy gaps
    h(n) − h (n ≤ N/2, gaps above 1e-6), each a log-log slope; the predicted α = γ/(2β) with its
    delta-method standard error. Returns (fit_b, fit_g, alpha, alpha_se)."""
    d = np.arange(1, len(cov) + 1)
    use = (d >= 1) & (d <= N // 2) & (cov > 0)
    fit_b = correlations.fit_power_law(d[use], cov[use])
    gap = ng[1:N] - entropy_rate if len(ng) > N else ng[1:] - ng[-1]
    n_ctx = np.arange(1, len(gap) + 1)
    use_g = (gap > 1e-6) & (n_ctx <= N // 2)
    fit_g = correlations.fit_power_law(n_ctx[use_g], gap[use_g])
    beta, gamma = fit_b.alpha, fit_g.alpha
    alpha_pred = gamma / (2 * beta)
    alpha_se = alpha_pred * math.hypot(fit_b.alpha_se / beta, fit_g.alpha_se / gamma)
    return fit_b, fit_g, alpha_pred, alpha_se


def measured_alpha(rows: list[dict]):
    """The rule stated in the chapter: data-limited sizes, from the smallest, while the excess keeps
    falling. Marks every row's ``fitted``; returns (the weighted power-law fit or None below three
    sizes, the rows kept, or the smallest alone when none)."""
    rows = sorted(rows, key=lambda r: r["P"])
    keep = []
    for r in rows:
        if not r["data_limited"] or r["excess"] <= 0 or (keep and r["excess"] >= keep[-1]["excess"]):
            break
        keep.append(r)
    for r in rows:
        r["fitted"] = r in keep
    if len(keep) < 3:
        return None, keep or rows[:1]
    f = correlations.fit_power_law(np.array([r["P"] for r in keep], float), np.array([r["excess"] for r in keep]),
                                   np.array([r["excess_se"] for r in keep]))
    return f, keep


def alpha_row(source: str, pred: float, pred_se: float, why: str, f, keep: list[dict]) -> dict:
    """Predicted against measured exponent: the measured 95 % interval widened by the fit's misfit,
    and the verdict "holds" when |measured − predicted| is within the two half-widths combined."""
    if f is None:
        verdict, meas, lo, hi, half = "too few falling sizes to fit", None, None, None, None
    else:
        # Widen the weighted fit's interval by its misfit: the standard errors know nothing of
        # a curve that is not quite a power law over the fitted sizes.
        inflate = max(1.0, math.sqrt(f.chi2 / f.dof)) if f.dof >= 1 else 1.0
        meas = f.alpha
        lo, hi = meas - 1.96 * f.alpha_se * inflate, meas + 1.96 * f.alpha_se * inflate
        half = math.hypot((hi - lo) / 2, 1.96 * pred_se)  # 95 % half-width of measured − predicted
        verdict = "holds" if abs(meas - pred) <= half else "fails"
    return {"source": source, "predicted": pred, "pred_lo": pred - 1.96 * pred_se,
            "pred_hi": pred + 1.96 * pred_se, "why": why, "measured": meas, "lo": lo, "hi": hi,
            "sizes": f"{keep[0]['P']}–{keep[-1]['P']}", "verdict": verdict,
            "diff": None if meas is None else f"{meas - pred:+.2f} ± {half:.2f}"}


def alpha_table(rows: list[dict]) -> str:
    """The Markdown table of predicted and measured exponents."""
    return ("| source | predicted α | from | measured α (95 %) | sizes fitted | prediction |\n|---|---|---|---|---|---|\n"
            + "\n".join(f"| {r['source']} | {r['predicted']:.2f} ({r['pred_lo']:.2f} to {r['pred_hi']:.2f}) | {r['why']} | "
                        + ("—" if r["measured"] is None else f"{r['measured']:.2f} ({r['lo']:.2f} to {r['hi']:.2f})")
                        + f" | {r['sizes']} | {r['verdict']} |" for r in rows))


def paper_vs_measured_words(paper_alpha: float, row: dict) -> str:
    """The papers' asymptotic exponent against the grammar's measured interval."""
    return _first([
        ("no measured slope to compare with the papers' asymptotic value", row["measured"] is None),
        ("the papers' asymptotic value lies outside the measured interval: at these sizes the asymptotic "
         "prediction fails", row["measured"] is not None and not (row["lo"] <= paper_alpha <= row["hi"])),
        ("the papers' asymptotic value lies inside the measured interval", True)])


def resolved_prefix(noise_floor, shuffle_floor, resolved, low) -> tuple[np.ndarray, np.ndarray]:
    """The noise floor (the larger of the χ² one and the shuffled copies') and the distances
    resolved: those whose interval's lower end stands above it, as every shorter one does."""
    floor = np.fmax(noise_floor, np.nan_to_num(shuffle_floor, nan=-np.inf))
    ok = np.cumprod(resolved & (low > floor)).astype(bool)
    return floor, ok


def decay_row(name: str, distances: np.ndarray, mi: np.ndarray, ok: np.ndarray, floor: np.ndarray) -> dict:
    """How one text's mutual information decays over its resolved tail (d ≥ 10, at least four
    distances): power law against exponential by AIC, unweighted in log space; else "too few"."""
    tail = ok & (distances >= 10)
    if tail.sum() >= 4:
        # Unweighted in log space: the bootstrap errors are tiny at short d and would let the first
        # few points decide the slope of the whole tail.
        cmp = correlations.compare_decays(distances[tail], mi[tail])
        return {"source": name, "resolved to": int(distances[ok].max()), "capped": bool(ok[-1]),
                "preferred": cmp["preferred"],
                "delta_aic": cmp["delta_aic"], "alpha": cmp["power"].alpha,
                "alpha_ci": cmp["power"].alpha_ci, "xi": cmp["exponential"].xi,
                "tail_over_floor": float(mi[ok][-1] / floor[ok][-1])}
    return {"source": name, "resolved to": int(distances[ok].max()) if ok.any() else 0, "capped": bool(ok[-1]),
            "preferred": "too few resolved distances", "delta_aic": None, "alpha": None,
            "alpha_ci": None, "xi": None, "tail_over_floor": None}


def resolved_to_text(row: dict) -> str:
    """How far the text's mutual information is resolved, "at least" when the longest distance is."""
    return (("at least " if row["capped"] else "") + str(row["resolved to"])
            + (" (the longest distance computed)" if row["capped"] else ""))


def bump_words(text_mi: Mapping[int, float], line_len: float) -> tuple[str, tuple]:
    """Whether the text's estimate rises again at the distance nearest the mean line length (above
    both neighbours); returns the sentence and the value it rests on."""
    near = min(text_mi, key=lambda d: abs(d - line_len)) if text_mi else None
    idx = sorted(text_mi).index(near) if text_mi else 0
    neigh = [text_mi[d] for d in sorted(text_mi)[max(0, idx - 1):idx + 2] if d != near]
    return _first([
        (f"the estimate rises again near d = {near}, about the mean length of a non-empty line "
         f"({line_len:.0f} characters): a bump in the middle of the tail", bool(neigh) and text_mi[near] > max(neigh)),
        ("the tail has no bump at the length of a line", True)]), (near, text_mi.get(near), neigh)


def usable_gamma(g: dict | None) -> dict | None:
    """A fit of h(n) that ran away to a negative entropy rate gives no estimate."""
    return None if g is not None and g["h"] < 0 else g


def text_prediction(name: str, dec: dict, g: dict | None) -> dict:
    """The theory's exponent for a text: β half the MI exponent (only when a power law is preferred),
    γ from its h(n) fit, and α = γ/(2β) when both exist."""
    b = dec["alpha"] / 2 if dec["alpha"] is not None and dec["preferred"] == "power law" else None
    return {"text": name, "mi_decay": dec["preferred"], "resolved": dec["resolved to"],
            "beta": b, "gamma": None if g is None else g["gamma"],
            "gamma_ci": None if g is None else g["gamma_ci"],
            "alpha": None if (b is None or g is None) else g["gamma"] / (2 * b)}


def _dash(v, spec=".2f") -> str:
    return "—" if v is None else format(v, spec)


def text_gamma_words(row: dict) -> str:
    """What the theory predicts for the original text: nothing (γ runs away or no power-law β) or α."""
    return _first([
        ("For the text the fit of h(n) runs away (its entropy rate below zero): one megabyte of block "
         "entropies up to six characters cannot pin γ, so the theory makes no prediction for the text from "
         "these statistics.", row["gamma"] is None),
        (f"For the text the prediction is α ≈ {_dash(row['alpha'])}, resting on a γ whose interval is "
         "wide.", row["alpha"] is not None),
        ("For the text there is γ but no power-law β, so no prediction.", True)])


def text_table(rows: list[dict]) -> str:
    """The Markdown table of the texts' statistics and predicted exponents."""
    return ("| text | MI decay (tail d ≥ 10) | MI resolved to d = | β (from MI) | γ (from h(n), 95 %) | predicted α = γ/(2β) |\n"
            "|---|---|---|---|---|---|\n"
            + "\n".join(f"| {r['text']} | {r['mi_decay']} | {r['resolved']} | {_dash(r['beta'])} | "
                        + ("—" if r["gamma"] is None else f"{r['gamma']:.2f} ({r['gamma_ci'][0]:.2f} to {r['gamma_ci'][1]:.2f})")
                        + f" | {_dash(r['alpha'])} |" for r in rows))


# --- The chapter: its runs and what it states -----------------------------------------------------

@dataclass(frozen=True)
class TheoryResult(Result):
    """Everything chapter theory draws, beside its quoted values and claims.

    ``probe_rows``: the probe figure's rows at x = 0.05 and the top width; ``simplex``: true and
    probed beliefs as triangle coordinates (``true``, ``trained``, ``untrained``: (u, v) arrays;
    ``colours``); ``knob_rows`` and ``memory_rows``: the models and the exact finite-memory
    predictors along Mess3's knob; ``map_points``: every point of the complexity-entropy map;
    ``curve`` and ``exponents``: the learning curves (without their per-window arrays) and the
    predicted against measured exponents; ``mi_rows``: mutual information against distance; the
    three Markdown tables; ``counts``: the ladder sweep's runs for the map."""

    top_width: int
    probe_rows: tuple[dict, ...]
    simplex: Mapping[str, Any]
    knob_rows: tuple[dict, ...]
    memory_rows: tuple[dict, ...]
    mechanics_table: str
    map_points: tuple[dict, ...]
    middle_band: tuple[float, float]
    curve: tuple[dict, ...]
    exponents: tuple[dict, ...]
    alpha_table: str
    mi_rows: tuple[dict, ...]
    text_table: str
    counts: Mapping[str, int]


def mess3_tables(mess: list[HMM], xs: list[float], trained: list[Trained], probe_windows: int, seed: int,
                 device: Device) -> tuple[dict, list[dict], list[dict], list[dict]]:
    """For every Mess3 setting: the probe's train and test sets, each model's excess over the
    optimum, the probe table and the exact finite-memory predictors' excess (memories 0 to 4), all
    on the same 20,000 evaluation windows. Returns (probe_sets, excess_rows, probe_table, memory_rows)."""
    probe_sets, excess_rows, probe_table, memory_rows = {}, [], [], []
    for i, src in enumerate(mess):
        train = belief_windows(src, probe_windows, data_seed(seed, src, 3))
        test = belief_windows(src, probe_windows // 2, data_seed(seed, src, 4))
        evals = sample_windows(src, 20_000, BLOCK + 1, np.random.default_rng(data_seed(seed, src, 5)))
        probe_sets[src.name] = (train, test)
        optimal = paired_floor_bits(src, evals)
        for k in MEMORY_KS:  # exact predictors with a memory of k symbols, on the same windows
            excess, excess_se = mean_se(memory_bits(src, evals, k) - optimal)
            memory_rows.append({"x": xs[i], "k": k, "excess": excess, "excess_se": excess_se})
        for t in trained:
            ex = excess_over_floor(t.models[i], src, evals, device)
            rows = probe_rows(t.models[i], untrained(t.width, seed), train, test, 3, seed=seed)
            excess_rows.append({"x": xs[i], "width": t.width, **ex})
            for r in rows:
                probe_table.append({"x": xs[i], "width": t.width, **r})
    return probe_sets, excess_rows, probe_table, memory_rows


def record_probes(found: Findings, main_rows: list[dict], ex_main: dict, mem_main: Mapping[int, dict],
                  floor) -> None:
    """The values and claims of part 1 at x = 0.05 and the top width: the model's excess over the
    optimum, the memories it beats, and the probe against each baseline."""
    by = {r["what"]: r for r in main_rows}
    best_k = best_lookup(main_rows)
    cat, blank, look3 = by["trained, all layers"], by["untrained, all layers"], by["lookup of the last 3 symbols"]
    shuf = by["shuffled beliefs, all layers"]
    found.value("th_model_bits", ex_main["model_bits"])
    found.value("th_opt_bits", ex_main["optimal_bits"])
    found.value("th_excess", ex_main["excess"])
    found.value("th_excess_se", ex_main["excess_se"])
    found.value("th_floor", floor_text(floor.value, floor.se, floor.method))
    beaten = beaten_memories(mem_main, ex_main)
    found.value("th_mem3_excess", mem_main[3]["excess"])
    found.value("th_mem2_excess", mem_main[2]["excess"])
    for key, r in (("cat", cat), ("blank", blank), ("look3", look3), ("shuf", shuf), ("bestk", best_k)):
        found.value(f"th_mse_{key}", f"{r['mse']:.2e} ± {r['mse_se']:.1e}")
        found.value(f"th_r2_{key}", r["r2"])
    found.value("th_best_k", best_k["k"])
    found.value("th_excess_words", found.chosen(excess_words(beaten), (ex_main["excess"], beaten)))
    found.value("th_vs_blank", found.chosen(vs_blank_words(cat, blank), (cat, blank)))
    found.value("th_vs_look3", found.chosen(vs_look3_words(cat, look3), (cat, look3)))
    found.value("th_vs_bestk", found.chosen(vs_bestk_words(cat, best_k), (cat, best_k)))
    found.value("th_summary_probe", found.chosen(summary_probe_words(cat, blank, look3, best_k),
                                            (cat["mse"], blank["mse"], look3["mse"], best_k["mse"])))
    found.claim(SHUFFLE_CLAIM, shuffle_is_worst(shuf, main_rows, cat), shuf["mse"])


def simplex_panels(model: GPT, width: int, train: tuple, test: tuple, seed: int) -> dict:
    """The simplex figure's points: 3,000 held-out exact beliefs (a seeded choice) and the all-layer
    probe's predictions for the same rows from the trained and an untrained network, as triangle
    coordinates, with each true belief's colour."""
    (wtr, btr), (wte, bte) = train, test
    Rtr, Rte = residual_features(model, wtr), residual_features(model, wte)
    probe = probes.fit_probe(np.concatenate(list(Rtr), axis=1), btr.reshape(-1, 3), seed=seed)
    pred = probe.predict(np.concatenate(list(Rte), axis=1))
    blank_net = untrained(width, seed)
    Utr, Ute = residual_features(blank_net, wtr), residual_features(blank_net, wte)
    pred_u = probes.fit_probe(np.concatenate(list(Utr), axis=1), btr.reshape(-1, 3), seed=seed).predict(
        np.concatenate(list(Ute), axis=1))
    true = bte.reshape(-1, 3)
    keep = np.random.default_rng(seed).choice(len(true), size=min(3000, len(true)), replace=False)
    tx, ty, colours = simplex_points(true[keep])
    px, py, _ = simplex_points(pred[keep])
    ux, uy, _ = simplex_points(pred_u[keep])
    return {"true": (tx, ty), "trained": (px, py), "untrained": (ux, uy), "colours": colours}


def mess3_knob_rows(mess: list[HMM], xs: list[float], trained: list[Trained], excess_rows: list[dict],
                    probe_table: list[dict], memory_rows: list[dict]) -> list[dict]:
    """:func:`knob_row` for every setting and width, with the setting's belief-set entropy (10
    symbols, 3 decimals) and the upper bound on h from words of 8."""
    rows = []
    for i, src in enumerate(mess):
        bc = belief_complexity(src, BLOCK, 3)
        mem = {r["k"]: r for r in memory_rows if r["x"] == xs[i]}
        for t in trained:
            ex = next(r for r in excess_rows if r["x"] == xs[i] and r["width"] == t.width)
            rs = {r["what"]: r for r in probe_table if r["x"] == xs[i] and r["width"] == t.width}
            rows.append(knob_row(xs[i], t.width, bc["belief_entropy"], src.entropy_rate_bounds(8)[1], ex, rs, mem))
    return rows


def record_knob(found: Findings, xs: list[float], rows: list[dict], top_width: int) -> None:
    """The values and claim of the knob section, from :func:`knob_row` records."""
    top = [r for r in rows if r["width"] == top_width]
    bcs = [r["belief_entropy"] for r in top]
    found.value("th_bc_list", ", ".join(f"{v:.2f}" for v in bcs))
    found.value("th_x_list", ", ".join(f"{x:g}" for x in xs))
    found.value("th_bc_words", found.chosen(belief_entropy_words(bcs), bcs))
    found.value("th_knob_memory_words", memory_words(xs, rows))
    found.value("th_knob_probe_words", knob_probe_words(top))
    found.value("th_knob_lookup_words", knob_lookup_words(top))


def record_mechanics(found: Findings, mech: list[dict]) -> None:
    """The golden mean's C_μ, E and crypticity, and the claims on the golden mean and even process."""
    gm = mech[0]
    found.value("th_gm_cmu", gm["C_mu"])
    found.value("th_gm_E", gm["E"])
    found.value("th_gm_chi", gm["crypticity"])
    found.claim("the golden mean's C_mu is H(1/3) = 0.918296 bits", abs(gm["C_mu"] - 0.918296) < 1e-6, gm["C_mu"])
    found.claim("the even process is not cryptic (C_mu = E) and has no finite Markov order",
                abs(mech[1]["crypticity"]) < 1e-9 and mech[1]["markov_order"] is None, mech[1])


def record_map(found: Findings, eca: list[dict], text_pts: list[dict]) -> None:
    """The values and claims of the map: the automata's noise corner, largest E and classes, and
    where the text and its degradations sit."""
    classes = {c: [r for r in eca if r["wolfram_class"] == c] for c in (1, 2, 3, 4)}
    found.value("th_eca_n", len(eca))
    found.claim("there are exactly 88 inequivalent elementary cellular automata", len(eca) == 88, len(eca))
    at_noise = noise_corner(eca)
    found.value("th_eca_noise", ", ".join(map(str, sorted(at_noise))))
    found.value("th_eca_noise_n", len(at_noise))
    maxE = max(eca, key=lambda r: r["E"])
    found.value("th_eca_maxE_rule", maxE["rule"])
    found.value("th_eca_maxE", maxE["E"])
    found.value("th_eca_maxE_h", maxE["h"])
    found.value("th_eca_maxE_class", maxE["class_name"])
    found.value("th_eca_class_words", found.chosen(eca_class_words(eca), {c: len(v) for c, v in classes.items()}))
    orig = next(p for p in text_pts if p["name"] == "original")
    found.claim("no text's H(3) is near saturation (below 80 % of log2 of the sample size)",
                all(p["saturation"] < 0.8 for p in text_pts), [p["saturation"] for p in text_pts])
    found.value("th_text_h_hi", orig["h"])
    found.value("th_text_E", orig["E"])
    found.value("th_L_text", L_TEXT)
    degr = {p["name"]: p for p in text_pts if p["name"] != "original"}
    found.value("th_text_degr_words", found.chosen(degradation_words(orig, degr),
                                              {n: (p["h"], p["E"]) for n, p in degr.items()}))


def record_exponents(found: Findings, fits: tuple, paper, table: list[dict]) -> None:
    """The grammar's data exponents, the papers' values, and predicted against measured α."""
    fit_b, fit_g, alpha_pred, alpha_se = fits
    found.value("th_beta", fit_b.alpha)
    found.value("th_beta_ci", f"{fit_b.alpha_ci[0]:.2f} to {fit_b.alpha_ci[1]:.2f}")
    found.value("th_gamma", fit_g.alpha)
    found.value("th_gamma_ci", f"{fit_g.alpha_ci[0]:.2f} to {fit_g.alpha_ci[1]:.2f}")
    found.value("th_alpha_pred", alpha_pred)
    found.value("th_alpha_pred_ci", f"{alpha_pred - 1.96 * alpha_se:.2f} to {alpha_pred + 1.96 * alpha_se:.2f}")
    found.value("th_paper_beta", paper.beta)
    found.value("th_paper_gamma", paper.gamma)
    found.value("th_paper_alpha", paper.alpha)
    r0 = table[0]
    found.value("th_paper_vs_meas", found.chosen(paper_vs_measured_words(paper.alpha, r0),
                                            (paper.alpha, r0["lo"], r0["hi"])))
    for r, tag in zip(table, ("rhm", "mc")):
        found.value(f"th_alpha_meas_{tag}", "no fit" if r["measured"] is None else f"{r['measured']:.2f} ({r['lo']:.2f} to {r['hi']:.2f})")
        found.value(f"th_verdict_{tag}", r["verdict"])
        found.value(f"th_sizes_{tag}", r["sizes"])
        found.value(f"th_diff_{tag}", r["diff"] or "no fit")


def _or_nan(v):
    return v if v is not None else float("nan")


def record_mi(found: Findings, mi_rows: list[dict], decay_rows: list[dict], markov_name: str,
              n_distances: int, line_len: float) -> None:
    """The values and claims of the mutual-information section (decay rows in the order original,
    order-3 surrogate, word shuffle)."""
    orig_decay = decay_rows[0]
    found.value("th_mi_text_to", resolved_to_text(orig_decay))
    found.value("th_mi_last", min((r["mi"] for r in mi_rows if r["source"] == "Tiny Shakespeare, original"),
                                  default=float("nan")))
    found.value("th_mi_beta", orig_decay["alpha"] / 2 if orig_decay["alpha"] is not None else float("nan"))
    found.value("th_mi_text_pref", orig_decay["preferred"])
    found.value("th_mi_text_dAIC", _or_nan(orig_decay["delta_aic"]))
    found.value("th_mi_ng3_to", decay_rows[1]["resolved to"])
    found.value("th_mi_ws_to", decay_rows[2]["resolved to"])
    found.value("th_mi_text_alpha", _or_nan(orig_decay["alpha"]))
    found.value("th_mi_text_alpha_ci", "no fit" if orig_decay["alpha_ci"] is None else
                f"{orig_decay['alpha_ci'][0]:.2f} to {orig_decay['alpha_ci'][1]:.2f}")
    found.value("th_mi_tail_ratio", _or_nan(orig_decay["tail_over_floor"]))
    text_mi = {r["d"]: r["mi"] for r in mi_rows if r["source"] == "Tiny Shakespeare, original"}
    words, value = bump_words(text_mi, line_len)
    found.value("th_mi_bump", found.chosen(words, value))
    mc_mi = [r for r in mi_rows if r["source"] == markov_name]
    found.claim("the Markov chain's exact mutual information falls below 1e-6 bits within 100 symbols (exponential decay)",
                any(r["mi"] < 1e-6 and r["d"] <= 100 for r in mc_mi) or len(mc_mi) < n_distances, [r["mi"] for r in mc_mi][:8])
    found.claim("the text's mutual information is resolved above the noise floor at longer distances than its "
                "order-3 surrogate's", orig_decay["resolved to"] > decay_rows[1]["resolved to"],
                (orig_decay["resolved to"], decay_rows[1]["resolved to"]))


def _gamma_fit(H: np.ndarray) -> dict | None:
    try:
        return correlations.conditional_entropy_decay(H, None, 1, 6)
    except (ValueError, RuntimeError):  # a fit that does not converge is reported, not hidden
        return None


def run(cfg: ChapterConfig) -> TheoryResult:
    """Chapter theory at ``cfg``'s sizes: the Mess3 models and their probes, the knob, exact
    mechanics, the complexity-entropy map, the learning curves against their predicted exponents,
    and mutual information against distance. Steps run in the chapter's order (the floating-point
    work of each is the chapter's own, unchanged)."""
    device = pick()
    found = Findings()
    found.value("th_top_width", cfg.top_width)
    found.value("th_iters", cfg.mess3_iters)
    found.value("th_probe_windows", cfg.probe_windows)
    found.value("th_x_points", cfg.x_points)

    # 1. Beliefs in the residual stream, at x = 0.05 and along the knob.
    xs = mess3_xs(cfg.x_points)
    mess = [hmm.mess3(x, MESS3_ALPHA) for x in xs]
    trained = train_models(mess, mess3_widths(cfg.top_width), cfg.mess3_iters,
                           cfg.mess3_symbols, cfg.seed, device)
    probe_sets, excess_rows, probe_table, memory_rows = mess3_tables(mess, xs, trained, cfg.probe_windows,
                                                                     cfg.seed, device)
    main_rows = [r for r in probe_table if r["x"] == xs[0] and r["width"] == cfg.top_width]
    ex_main = next(r for r in excess_rows if r["x"] == xs[0] and r["width"] == cfg.top_width)
    mem_main = {r["k"]: r for r in memory_rows if r["x"] == xs[0]}
    record_probes(found, main_rows, ex_main, mem_main, finite_context_floor(mess[0], BLOCK))
    simplex = simplex_panels(next(t for t in trained if t.width == cfg.top_width).models[0], cfg.top_width,
                             *probe_sets[mess[0].name], cfg.seed)
    knob_rows = mess3_knob_rows(mess, xs, trained, excess_rows, probe_table, memory_rows)
    record_knob(found, xs, knob_rows, cfg.top_width)

    # 2. Exact computational mechanics, and the complexity-entropy map.
    mech = mechanics_rows([hmm.golden_mean(), hmm.even_process(), Periodic((0, 0, 1), 2),
                           markov_knob(1.0, cfg.seed), markov_knob(0.3, cfg.seed), IID.uniform(KNOB_K)])
    record_mechanics(found, mech)
    eca = spatial.eca_map(cfg.eca_width, cfg.eca_steps, cfg.eca_rows, cfg.eca_L, seed=cfg.seed)
    cells, results, counts, widths = knob.ladder_results(cfg.profile, cfg.seed)
    points = [knob_point(p) for p in ladder_points(ladder_runs(cells, results), max(widths))]
    for s in middle.gallery(cfg.seed):
        p = gallery_point(middle.truth_row(s), s.alphabet_size)
        if p is not None:
            points.append(p)
    points += [eca_point(r) for r in eca]
    texts = natural.degraded_texts(list(MAP_TEXTS), cfg.seed, cfg.map_chars)
    text_pts = []
    for n in MAP_TEXTS:
        x = texts[n]
        cut = int(0.9 * len(x))
        H = entropy.block_entropies(x, L_TEXT, "miller-madow")
        upper = min(entropy.heldout_compression_rates(x[:cut], x[cut:]).values())
        text_pts.append(text_point(n, H, upper, len(x)))
    points += text_pts
    found.value("th_eca_width", cfg.eca_width)
    found.value("th_eca_steps", cfg.eca_steps)
    found.value("th_eca_rows", cfg.eca_rows)
    found.value("th_eca_L", cfg.eca_L)
    record_map(found, eca, text_pts)

    # 3. Learning curves predicted from the data's statistics.
    grammar = RandomHierarchy(*RHM, seed=cfg.seed)
    N = grammar.sentence_length
    paper = predicted_scaling(*RHM)
    fits = data_exponents(grammar.covariance_by_distance("op"), grammar.ngram_entropies(), grammar.entropy_rate, N)
    control = hmm.MarkovChain.random(8, 1, 1.0, cfg.seed)
    curve = learning_curves([grammar, control], curve_sizes(cfg.curve_sizes), cfg.curve_iters, CURVE_WIDTH,
                            cfg.seed, N - 1, n_val=cfg.curve_test_windows)
    pre = grammar.prefix_entropies()
    grammar_optimum = float((pre[N] - pre[1]) / (N - 1))  # exact mean over positions 1..N-1
    for r in curve:
        if r["source"] == grammar.name:  # exact expected optimum; the SE is the model's over test sentences
            r["excess"], r["excess_se"] = r["test_bits"] - grammar_optimum, r["test_se"]
        else:  # the exact optimal predictor on the very same test windows: a paired difference
            r["excess"], r["excess_se"] = mean_se(r["window_bits"] - paired_floor_bits(control, r["test_windows"]))
        r["data_limited"] = r["best_step"] < r["last_step"]  # it had started to overfit: more steps would not help
    table = []
    for src, pred, pred_se, why in ((grammar, fits[2], fits[3], "γ/(2β) from the exact statistics"),
                                    (control, 1.0, 0.0, "parametric rate (table of 8 × 7 free parameters)")):
        f, keep = measured_alpha([r for r in curve if r["source"] == src.name])
        table.append(alpha_row(src.name, pred, pred_se, why, f, keep))
    found.value("th_curve_sizes", cfg.curve_sizes)
    found.value("th_n_test", f"{len(curve[0]['window_bits']):,}")
    found.value("th_curve_iters", cfg.curve_iters)
    record_exponents(found, fits, paper, table)

    # Mutual information against distance: exact for finite sources and the grammar, estimated for text.
    dist = np.unique(np.geomspace(1, 1000, 22).astype(int))
    mi_rows, decay_rows = [], []
    exact_sources = [hmm.golden_mean(), hmm.even_process(), hmm.mess3(0.05, MESS3_ALPHA), markov_knob(1.0, cfg.seed)]
    for s in exact_sources:
        vals = correlations.exact_mutual_information(s.T, s.start, dist)
        mi_rows += [{"source": s.name, "kind": "exact", "d": int(dd), "mi": float(v), "low": None, "high": None}
                    for dd, v in zip(dist, vals) if v > 1e-12]
    g_mi = grammar.mi_by_distance()
    mi_rows += [{"source": "RHM grammar (per position pair)", "kind": "exact", "d": int(dd), "mi": float(g_mi[dd - 1]),
                 "low": None, "high": None} for dd in dist if dd <= N // 2 and g_mi[dd - 1] > 1e-12]
    mi_texts = natural.degraded_texts(list(MI_TEXTS), cfg.seed, cfg.mi_symbols)
    for n, x in mi_texts.items():
        # Twenty shuffled copies measure the noise floor (a 65 × 65 table is too sparse for the χ² one);
        # a distance counts as resolved when even the interval's lower end stands above that floor, and
        # so does every shorter distance.
        c = correlations.mutual_information(x, dist, 65, n_boot=50, n_shuffle=20, seed=cfg.seed)
        floor, ok = resolved_prefix(c.noise_floor, c.shuffle_floor, c.resolved, c.low)
        mi_rows += [{"source": f"Tiny Shakespeare, {n}", "kind": "estimated", "d": int(r["d"]), "mi": r["mi"],
                     "low": max(r["low"], 1e-7), "high": r["high"]} for r, keep in zip(c.rows(), ok) if keep]
        decay_rows.append(decay_row(n, c.distances, c.mi, ok, floor))
    line_len = float(np.mean([len(l) + 1 for l in data.read_text("tinyshakespeare").split("\n") if l]))
    record_mi(found, mi_rows, decay_rows, exact_sources[3].name, len(dist), line_len)

    # What the theory predicts for the text from its own statistics.
    text_rows = []
    for n, x in mi_texts.items():
        dec = next(r for r in decay_rows if r["source"] == n)
        text_rows.append(text_prediction(n, dec, usable_gamma(_gamma_fit(entropy.block_entropies(x, 6, "miller-madow")))))
    orig_t = next(r for r in text_rows if r["text"] == "original")
    found.value("th_text_gamma_words", found.chosen(text_gamma_words(orig_t), orig_t))
    found.claim("the order-3 surrogate's mutual information is resolved over too few distances to fit a tail",
                next(r for r in text_rows if r["text"] == "ngram 3")["mi_decay"] == "too few resolved distances",
                [r["mi_decay"] for r in text_rows])

    return TheoryResult(
        top_width=cfg.top_width, probe_rows=tuple(layer_rows(main_rows)), simplex=MappingProxyType(simplex),
        knob_rows=tuple(knob_rows), memory_rows=tuple(memory_rows), mechanics_table=mechanics_table(mech),
        map_points=tuple(points), middle_band=(regions.H_LOW, regions.H_HIGH),
        curve=tuple({k: v for k, v in r.items() if k not in ("window_bits", "test_windows")} for r in curve),
        exponents=tuple(table), alpha_table=alpha_table(table), mi_rows=tuple(mi_rows),
        text_table=text_table(text_rows), counts=MappingProxyType(dict(counts)), **found.done())
