"""The same small transformer trained across the knob (chapters 7 and 8).

Source families, each with exact h (and E where known):

- ``temperature``: the order-2 Markov chain of chapter 6 at temperature τ;
- ``noise``: a period-8 word with each symbol replaced at a rate (E = 3 bits below rate 1);
- ``order``: Markov chains of order 1, 2, 3 at τ = 0.5;
- ``hmm``: the golden-mean and even processes (binary);
- ``santa-fe``: Dębowski's process with β as the knob (k_max = 16, 32 symbols).

Every run records the held-out loss at regular steps and, for the hidden-Markov families, the
continuation capability of :mod:`middleground.capabilities` at the same steps, so chapter 8 can
compare how predictable loss and capability are from the early part of a run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import torch

from . import capabilities, hmm
from .device import pick
from .ensemble import fit_ensemble
from .measure import KNOB_K, markov_knob, periodic_word
from .model import GPTConfig
from .sources import SantaFe, Source
from .sweep import SWEEP_MODEL, sweep_train_config

LN2 = math.log(2.0)
CONTINUATION_K = 8   # symbols a continuation must get right
N_TRAIN = 100_000    # training symbols per run
N_VAL = 20_000


def make_source(family: str, knob) -> Source:
    if family == "temperature":
        return markov_knob(float(knob), seed=0)
    if family == "noise":
        return hmm.noisy_periodic(periodic_word(8, np.random.default_rng(0)), KNOB_K, float(knob))
    if family == "order":
        return hmm.MarkovChain.random(KNOB_K, int(knob), 0.5, seed=0)
    if family == "hmm":
        return {"golden mean": hmm.golden_mean, "even process": hmm.even_process}[knob]()
    if family == "santa-fe":
        return SantaFe(float(knob), 16)
    raise ValueError(f"unknown source family {family!r}; known: temperature, noise, order, hmm, santa-fe")


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


def train_group(group: list[dict]) -> list[dict]:
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    tc = sweep_train_config(group[0]["iters"])
    k = group[0]["k"]
    srcs = [make_source(c["family"], c["knob"]) for c in group]
    # One realisation per run, split by position (as for text): some sources are not ergodic
    # (Santa Fe's "facts" are drawn once per realisation), so validation must continue the very
    # sequence the model was trained on.
    seqs = [s.sample(c["n_train"] + c["n_val"], np.random.default_rng([c["seed"], 1]))
            for s, c in zip(srcs, group)]
    train = [x[:c["n_train"]] for x, c in zip(seqs, group)]
    val = [x[c["n_train"]:] for x, c in zip(seqs, group)]
    # Continuation contexts: 64 windows of block_size - k symbols from each validation stream.
    ctx_len = cfg.block_size - k
    rng = np.random.default_rng(7)
    contexts, targets = [], []
    for s, v in zip(srcs, val):
        starts = rng.integers(0, len(v) - ctx_len, size=64)
        ctx = v[starts[:, None] + np.arange(ctx_len)]
        contexts.append(ctx)
        targets.append(capabilities.greedy_target(s, ctx, k) if isinstance(s, hmm.HMM)
                       else np.zeros((64, k), dtype=np.int64))
    has_target = [isinstance(s, hmm.HMM) for s in srcs]
    ctx_t = torch.as_tensor(np.stack(contexts), device=device.torch)
    tgt_t = torch.as_tensor(np.stack(targets), device=device.torch)

    def capability(model, step):
        model.eval()
        pred = capabilities.model_greedy(model, ctx_t, k).cpu().numpy()
        ce = capabilities.target_cross_entropy(model, ctx_t, tgt_t).cpu().numpy()
        model.train()
        correct = [capabilities.continuation_correct(s, c, p) if ok else None
                   for s, c, p, ok in zip(srcs, contexts, pred, has_target)]
        return {"exact_match": [float(c.all(axis=1).mean()) if c is not None else None
                                for c in correct],
                "token_accuracy": [float(c.mean()) if c is not None else None for c in correct],
                "target_bits": [float(c.mean() / LN2) if ok else None
                                for c, ok in zip(ce, has_target)]}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, on_eval=capability)
    results = []
    for m, (c, s) in enumerate(zip(group, srcs)):
        t = s.truth()
        results.append({
            "h": t.h, "E": t.E, "steps": [r["step"] for r in run.history],
            "val_bits": [r["val_loss"][m] / LN2 for r in run.history],
            **{key: [r["extra"][key][m] for r in run.history]
               for key in ("exact_match", "token_accuracy", "target_bits")},
            "seconds_group": run.seconds, "members_in_group": len(group)})
    return results


def steps_to_plateau(steps, excess, fraction: float = 0.9) -> int:
    """First step by which ``fraction`` of the total drop in excess loss has happened."""
    excess = np.asarray(excess)
    target = excess[0] - fraction * (excess[0] - excess[-1])
    return int(steps[int(np.argmax(excess <= target))])


# --- in-context learning of Markov chains (Edelman et al. 2024) ------------------------------------

def dirichlet_markov_segments(n_segments: int, length: int, k: int, alpha: float,
                              rng: np.random.Generator) -> np.ndarray:
    """Segments of ``length`` symbols, each from its own order-1 chain whose rows are drawn from
    a symmetric Dirichlet(α); the first symbol is uniform. Returns (n_segments, length)."""
    if alpha <= 0:
        raise ValueError(f"concentration alpha must be positive; got {alpha!r}")
    P = rng.dirichlet(np.full(k, alpha), size=(n_segments, k))  # (n, from, to)
    cum = np.cumsum(P, axis=2)
    out = np.empty((n_segments, length), dtype=np.int64)
    out[:, 0] = rng.integers(0, k, size=n_segments)
    u = rng.random((n_segments, length))
    rows = np.arange(n_segments)
    for t in range(1, length):
        c = cum[rows, out[:, t - 1]]
        out[:, t] = np.minimum((u[:, t, None] > c).sum(axis=1), k - 1)
    return out


def bayes_position_loss(segments: np.ndarray, k: int, alpha: float) -> np.ndarray:
    """Per-position loss (bits) of the Bayes-optimal in-context predictor, averaged over segments:
    P(next = j | current = i, past) = (n_ij + α) / (n_i + k α) with n the transitions seen so far.
    Position t predicts symbol t+1; returns (length - 1,)."""
    n, L = segments.shape
    counts = np.zeros((n, k, k))
    rows = np.arange(n)
    out = np.empty(L - 1)
    for t in range(L - 1):
        i, j = segments[:, t], segments[:, t + 1]
        p = (counts[rows, i, j] + alpha) / (counts[rows, i].sum(axis=1) + k * alpha)
        out[t] = -np.log2(p).mean()
        counts[rows, i, j] += 1
    return out


def icl_cells(alphas, seeds, iters: int, k: int = 3) -> list[dict]:
    model = asdict(replace(SWEEP_MODEL, vocab_size=k, block_size=64))
    return [{"family": "dirichlet-markov", "alpha": float(a), "seed": int(s), "iters": int(iters),
             "k": k, "model": model, "n_segments": 4000} for a in alphas for s in seeds]


def icl_group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["k"], tuple(sorted(cell["model"].items())), cell["n_segments"])


def train_icl_group(group: list[dict]) -> list[dict]:
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    k, T = group[0]["k"], cfg.block_size
    tc = replace(sweep_train_config(group[0]["iters"]), batch_size=32)
    train, val, val_segs = [], [], []
    for c in group:
        rng = np.random.default_rng([c["seed"], 11])
        train.append(dirichlet_markov_segments(c["n_segments"], T + 1, k, c["alpha"], rng).reshape(-1))
        segs = dirichlet_markov_segments(512, T + 1, k, c["alpha"], np.random.default_rng([c["seed"], 12]))
        val_segs.append(segs)
        val.append(segs.reshape(-1))
    x = torch.as_tensor(np.stack([s[:, :-1] for s in val_segs]), device=device.torch)
    y = torch.as_tensor(np.stack([s[:, 1:] for s in val_segs]), device=device.torch)

    @torch.no_grad()
    def per_position(model, step):
        model.eval()
        logits, _ = model(x)
        model.train()
        logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, y[..., None]).squeeze(-1)
        bits = (-logp.mean(dim=1) / LN2).cpu().numpy()  # (M, T)
        return {"position_bits": bits.tolist()}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, stride=T + 1,
                       on_eval=per_position)
    out = []
    for m, c in enumerate(group):
        bayes = bayes_position_loss(val_segs[m], k, c["alpha"])
        out.append({"steps": [r["step"] for r in run.history],
                    "val_bits": [r["val_loss"][m] / LN2 for r in run.history],
                    "position_bits": [r["extra"]["position_bits"][m] for r in run.history],
                    "bayes_position_bits": bayes.tolist(),
                    "bayes_bits": float(bayes.mean()), "uniform_bits": math.log2(k)})
    return out


def standard_cells(knob_points: int, n_seeds: int, iters: int, seed: int) -> list[dict]:
    """The sweep of chapters 7 and 8 (the same cells, so chapter 8 reuses chapter 7's cache)."""
    seeds = [seed + i for i in range(n_seeds)]
    small = knob_points <= 3
    out = []
    out += cells("temperature", [round(float(t), 4) for t in np.geomspace(0.1, 10, knob_points)], seeds, iters)
    out += cells("noise", [round(float(r), 4) for r in np.linspace(0.0, 0.9, knob_points)], seeds, iters)
    out += cells("order", [1, 2] if small else [1, 2, 3], seeds, iters)
    out += cells("hmm", ["golden mean", "even process"], seeds, iters)
    out += cells("santa-fe", [0.5] if small else [0.3, 0.5, 0.7], seeds, iters)
    return out


# --- quanta: many skills with Zipf-distributed frequencies (Michaud et al. 2023) -------------------

def quanta_cells(n_tasks: int, seeds, iters: int, k: int = 8, exponent: float = 1.5) -> list[dict]:
    model = asdict(replace(SWEEP_MODEL, vocab_size=k + n_tasks, block_size=32))
    return [{"family": "quanta", "n_tasks": n_tasks, "k": k, "exponent": exponent, "seed": int(s),
             "iters": int(iters), "model": model, "n_segments": 6000} for s in seeds]


def quanta_group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["n_tasks"], cell["k"], cell["exponent"],
            tuple(sorted(cell["model"].items())), cell["n_segments"])


def train_quanta_group(group: list[dict]) -> list[dict]:
    """Per-task held-out loss (bits) on the determined positions of each segment, at every eval."""
    from .capabilities import Quanta

    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    c0 = group[0]
    seg = cfg.block_size + 1
    q = Quanta(c0["n_tasks"], c0["k"], c0["exponent"], seg, seed=0)  # the same skills for every seed
    tc = replace(sweep_train_config(c0["iters"]), batch_size=32)
    train, val = [], []
    for c in group:
        train.append(q.sample(c["n_segments"], np.random.default_rng([c["seed"], 21]))[0])
        val.append(q.sample(1000, np.random.default_rng([c["seed"], 22]))[0])
    # A fixed evaluation set with every task equally represented: 24 segments per task.
    tasks = np.repeat(np.arange(q.n_tasks), 24)
    rng = np.random.default_rng(23)
    perms = q.permutations
    segs = np.empty((len(tasks), seg), dtype=np.int64)
    segs[:, 0] = q.k + tasks
    segs[:, 1] = rng.integers(0, q.k, size=len(tasks))
    for j in range(2, seg):
        segs[:, j] = perms[tasks, segs[:, j - 1]]
    M = len(group)
    x = torch.as_tensor(np.broadcast_to(segs[:, :-1], (M, *segs[:, :-1].shape)).copy(), device=device.torch)
    y = torch.as_tensor(np.broadcast_to(segs[:, 1:], (M, *segs[:, 1:].shape)).copy(), device=device.torch)

    @torch.no_grad()
    def per_task(model, step):
        model.eval()
        logits, _ = model(x)
        model.train()
        logp = torch.log_softmax(logits.float(), -1).gather(-1, y[..., None]).squeeze(-1)
        bits = (-logp[:, :, 1:] / LN2).cpu().numpy()  # positions after x_0 are determined
        return {"task_bits": [[float(bits[m, tasks == t].mean()) for t in range(q.n_tasks)]
                              for m in range(M)]}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, stride=seg,
                       on_eval=per_task)
    return [{"steps": [r["step"] for r in run.history],
             "task_bits": [r["extra"]["task_bits"][m] for r in run.history],
             "frequencies": q.frequencies.tolist()} for m in range(M)]


# --- extrapolating a run from its beginning ---------------------------------------------------------

def extrapolate(steps, values, fit_fraction: float, floor_at_zero: bool = True) -> dict:
    """Fit ``value(s) = E + A s^(−α)`` to the evaluations with 0 < s ≤ fit_fraction · S and predict
    the value at S, the last step. Constant fitted values are predicted as constant; a failed fit
    falls back to the last fitted value (and says so)."""
    from .scaling import fit_power_law

    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    S = steps[-1]
    mask = (steps > 0) & (steps <= fit_fraction * S)
    xs, ys = steps[mask], values[mask]
    out = {"actual": float(values[-1]), "fitted_points": int(mask.sum())}
    if len(xs) < 4:
        raise ValueError(f"only {len(xs)} evaluations in the fitted part; raise fit_fraction")
    if np.ptp(ys) < 1e-9:
        out.update(prediction=float(ys[-1]), method="constant")
        return out
    try:
        # power laws fall: fit the mirror image of rising metrics
        sign = 1.0 if ys[0] >= ys[-1] else -1.0
        shift = 0.0 if sign > 0 else float(ys.max()) + 1e-6
        f = fit_power_law(xs, sign * ys + shift)
        pred = (float(f.predict(S)) - shift) * sign
        out.update(prediction=pred, method="power law")
    except (RuntimeError, ValueError):
        out.update(prediction=float(ys[-1]), method="last value (fit failed)")
    if floor_at_zero:
        out["prediction"] = max(0.0, out["prediction"])
    return out


def extrapolation_errors(cells: list[dict], results: list[dict], fit_fraction: float) -> list[dict]:
    """For every run with an exact capability target and each of loss, token accuracy and exact
    match: the extrapolation from the first ``fit_fraction`` of the run, and its error, also
    normalised by how much the metric moved over the run (floored at 0.001)."""
    rows = []
    for c, r in zip(cells, results):
        if r["exact_match"][-1] is None:
            continue  # no exact target (Santa Fe)
        for metric, values in (("loss", r["val_bits"]), ("token accuracy", r["token_accuracy"]),
                               ("exact match", r["exact_match"])):
            ex = extrapolate(r["steps"], values, fit_fraction)
            pred = ex["prediction"] if metric == "loss" else min(ex["prediction"], 1.0)
            moved = abs(values[-1] - values[0])
            rows.append({"family": c["family"], "knob": str(c["knob"]), "seed": c["seed"],
                         "h": r["h"], "metric": metric, "predicted": pred, "actual": ex["actual"],
                         "abs_error": abs(pred - ex["actual"]),
                         "norm_error": abs(pred - ex["actual"]) / max(moved, 1e-3),
                         "method": ex["method"]})
    return rows


def where_on_knob(h: float, h_max: float = math.log2(KNOB_K)) -> str:
    """"the ordered end", "the middle" or "the noise end" of a knob, by h as a share of h_max."""
    share = h / h_max
    return "the ordered end" if share < 0.25 else "the noise end" if share > 0.75 else "the middle"


def error_peak(errors: list[dict], metric: str = "exact match",
               families=("temperature", "noise")) -> dict:
    """The knob setting with the largest mean normalised error of ``metric`` (mean over seeds)."""
    by_setting: dict[tuple, list[float]] = {}
    for e in errors:
        if e["metric"] == metric and e["family"] in families:
            by_setting.setdefault((e["family"], e["knob"], round(e["h"], 4)), []).append(e["norm_error"])
    (family, knob_value, h), values = max(by_setting.items(), key=lambda kv: np.mean(kv[1]))
    return {"family": family, "knob": knob_value, "h": h, "error": float(np.mean(values)),
            "where": where_on_knob(h)}
