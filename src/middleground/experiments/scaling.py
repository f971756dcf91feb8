"""The scaling chapter's experiment: a ladder of model sizes trained on the same tokens.

:func:`scaling_family` trains the ladder (chapter scaling and ``benchmarks/gpu_check.py`` call it);
:func:`run` is the whole chapter, and :func:`summarise` turns the ladder's records into every value
and claim the chapter states (:class:`ScalingResult`): the law fitted to all sizes but the largest
and its prediction of the largest (:func:`extrapolate`), the seeds' spread, the paired gap test
(:func:`gap_test`), and the FLOPs per size (:func:`flops_table`). Each takes plain records, so the
tests feed it fabricated ladders with known answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from ..base.profiles import ChapterConfig

from ..gpt import training_log
from ..gpt.core import TrainConfig
from ..gpt.device import Device, pick
from ..gpt.flops import flops_per_token, matmul_peak
from ..gpt.model import GPTConfig
from ..gpt.text import shakespeare_char
from ..gpt.train import fit, split_loss
from .report import Findings, Result


# (n_layer, n_head, n_embd): each rung multiplies the non-embedding parameter count by about 2-4.
SCALING_LADDER = [(1, 2, 16), (2, 2, 24), (2, 2, 32), (3, 3, 48), (4, 4, 64), (4, 4, 96),
                  (4, 4, 128), (6, 6, 192), (6, 8, 256), (6, 6, 384)]


def rung_model(rung: tuple[int, int, int], vocab_size: int, block_size: int) -> GPTConfig:
    """The GPT of one rung ``(n_layer, n_head, n_embd)`` of :data:`SCALING_LADDER`."""
    n_layer, n_head, n_embd = rung
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer,
                     n_head=n_head, n_embd=n_embd, dropout=0.0, bias=False)


def non_embedding_params(model) -> int:
    """Kaplan et al.'s N: every parameter except the token and position tables."""
    return model.num_params(include_position=False) - model.wte.weight.numel()


def scaling_family(n_sizes: int, max_iters: int, batch_size: int, block_size: int, n_seeds: int,
                   seed: int, device: Device | None = None) -> tuple[list[dict], float]:
    """Train the first ``n_sizes`` rungs of the ladder, ``n_seeds`` seeds each, on the same tokens.

    Every run sees the same number of training tokens D = max_iters * batch_size * block_size, so
    this measures L(N) at fixed D. Returns one record per run (loss over the whole validation split,
    parameter counts, 6ND, the counted FLOPs, wall time) and the measured matmul peak.
    """
    if not 1 <= n_sizes <= len(SCALING_LADDER):
        raise ValueError(f"n_sizes must be in [1, {len(SCALING_LADDER)}]; got {n_sizes}")
    device = device or pick()
    train, val, vocab = shakespeare_char()
    tokens = max_iters * batch_size * block_size
    records = []
    for n_layer, n_head, n_embd in SCALING_LADDER[:n_sizes]:
        cfg = rung_model((n_layer, n_head, n_embd), len(vocab), block_size)
        for s in range(n_seeds):
            tc = TrainConfig(max_iters=max_iters, lr_decay_iters=max_iters, batch_size=batch_size,
                             learning_rate=1e-3 if n_embd >= 256 else 2e-3, min_lr=1e-4,
                             warmup_iters=min(100, max_iters // 10), eval_interval=max_iters,
                             eval_iters=4, seed=seed + s)
            t0 = time.perf_counter()
            run = fit(cfg, tc, train, val, device, on_start=training_log.from_settings())
            wall = time.perf_counter() - t0
            n_no_pos = run.model.num_params(include_position=False)
            records.append({
                "size": f"{n_layer}L×{n_embd}",
                "seed": seed + s, "N": non_embedding_params(run.model),
                "D": tokens,
                "val_loss": split_loss(run.model, val, block_size, device),
                # the same fixed number of windows from each split: like with like, for the gap
                "train_loss_batches": run.history[-1]["train_loss"],
                "val_loss_batches": run.history[-1]["val_loss"],
                "wall_s": wall,
                "flops_6ND": 6 * non_embedding_params(run.model) * tokens,
                "flops_counted": flops_per_token(cfg, n_no_pos) * tokens,
                "train_s": sum(run.iter_seconds)})
    return records, matmul_peak(device.torch, device.autocast_dtype or torch.float32)


# ---------------------------------------------------------------------------------------------
# The chapter: the ladder's fit, its test on the held-out size, the gap test and the FLOPs, as one
# result. scipy (through measures.scaling) is imported only where it is used: gpu_check.py imports
# this module on a machine with torch and numpy alone.

def losses_by_size(records: list[dict]) -> dict[int, list[float]]:
    """Each size's seed losses on the whole validation split, by non-embedding parameter count."""
    by_size: dict[int, list[float]] = {}
    for r in records:
        by_size.setdefault(r["N"], []).append(r["val_loss"])
    return by_size


@dataclass(frozen=True)
class Extrapolation:
    """The law fitted to all sizes but the largest, and its test on the largest: the prediction
    with its bootstrap 90 % interval, the held-out size's mean loss over seeds and their range,
    and the bootstrap's 90 % interval of the exponent."""

    sizes: list
    fit: Any
    boot: Mapping[str, Any]
    predicted: float
    lo: float
    hi: float
    actual: float
    actual_lo: float
    actual_hi: float
    alpha_lo: float
    alpha_hi: float

    @property
    def held_out(self):
        return self.sizes[-1]

    @property
    def fit_sizes(self):
        return self.sizes[:-1]

    @property
    def error(self) -> float:
        """Trained minus predicted loss of the held-out size."""
        return self.actual - self.predicted

    @property
    def inside(self) -> bool:
        """Whether the held-out size's loss lies in the prediction's 90 % interval."""
        return bool(self.lo <= self.actual <= self.hi)


def extrapolate(by_size: Mapping[int, list[float]], draws: int, seed: int) -> Extrapolation:
    """Fit ``E + A N^-alpha`` to the seed means of every size but the largest, bootstrap over seeds
    (``draws`` refits), and predict the largest."""
    from ..measures import scaling

    sizes = sorted(by_size)
    held_out = sizes[-1]
    fit_sizes = sizes[:-1]
    fit = scaling.fit_power_law(fit_sizes, [np.mean(by_size[n]) for n in fit_sizes])
    boot = scaling.bootstrap({n: by_size[n] for n in fit_sizes}, held_out, draws=draws, seed=seed)
    predicted = float(fit.predict(held_out))
    lo, hi = (float(v) for v in np.percentile(boot["prediction"], [5, 95]))
    actual = float(np.mean(by_size[held_out]))
    actual_lo, actual_hi = min(by_size[held_out]), max(by_size[held_out])
    alpha_lo, alpha_hi = (float(v) for v in np.percentile(boot["alpha"], [5, 95]))
    return Extrapolation(sizes, fit, boot, predicted, lo, hi, actual, actual_lo, actual_hi,
                         alpha_lo, alpha_hi)


def seed_spread(by_size: Mapping[int, list[float]]) -> float:
    """The mean over sizes of the range (max minus min) of the seeds' losses."""
    return float(np.mean([np.ptp(by_size[n]) for n in sorted(by_size)]))


def spread_options(spread: float) -> list[tuple[str, bool]]:
    """How much seeds of one size differ (chapter training cites the words)."""
    return [("seeds of one size differ by less than a hundredth of a nat", spread < 0.01),
            ("seeds of one size differ by a few hundredths of a nat", spread < 0.1),
            ("seeds of one size differ by more than a tenth of a nat", True)]


def pass_words(passes: float) -> list[tuple[str, bool]]:
    """How many passes over the training split every run makes, in words."""
    return [("less than half a pass", passes < 0.5), ("between half a pass and one pass", passes < 1),
            ("between one and two passes", passes < 2), ("several passes", True)]


def gap_test(records: list[dict]) -> dict:
    """Held-out minus training loss on the same fixed windows of each split (the runs' last
    evaluation), for the smallest and the largest size, and their difference paired by seed.

    The splits are different plays, so a model that memorised nothing shows a gap too: the
    smallest size's gap is the baseline. Every size is scored on the very same windows, so the
    choice of windows cancels from the difference between sizes, seed by seed; the seeds' spread
    is what is left, and the 97.5 % t quantile for that many seeds says whether it is real.
    Returns the mean gaps (``small``, ``large``), the paired ``excess``, its standard error ``se``,
    the quantile ``t``, the number of ``seeds`` and the largest ``size``'s name.
    """
    from scipy import stats

    def gaps_of(size):
        return {r["seed"]: r["val_loss_batches"] - r["train_loss_batches"]
                for r in records if r["size"] == size}

    order_sizes = list(dict.fromkeys(r["size"] for r in records))
    small, large = gaps_of(order_sizes[0]), gaps_of(order_sizes[-1])
    paired = np.array([large[sd] - small[sd] for sd in sorted(small)])
    return {"small": float(np.mean(list(small.values()))),
            "large": float(np.mean(list(large.values()))),
            "excess": float(paired.mean()),
            "se": float(paired.std(ddof=1) / np.sqrt(len(paired))),
            "t": float(stats.t.ppf(0.975, len(paired) - 1)),
            "seeds": len(paired), "size": order_sizes[-1]}


def gap_options(excess: float, se: float, t: float, passes: float) -> list[tuple[str, bool]]:
    """Whether the largest size's gap exceeds the smallest's beyond the seeds' spread."""
    seen = "less than one pass, so rather what differs between the splits than memorised windows" \
        if passes < 1 else "more than one pass: memorisation, or what differs between the splits"
    return [
        ("within the seeds' spread, the largest size shows no more gap than the smallest",
         abs(excess) < t * se),
        (f"the largest size fits the training plays better than the held-out ones, beyond the seeds' "
         f"spread ({seen})", excess > 0),
        ("the largest size's gap is smaller than the smallest's, beyond the seeds' spread", True)]


def conclusion_options(inside: bool, actual: float, predicted: float) -> list[tuple[str, bool]]:
    """The test's conclusion: passed (inside the interval), or failed, better or worse."""
    return [
        ("Here the law passed the test: a curve through cheaper runs said, within the spread its own "
         "fit allows, what the larger run would reach.", inside),
        ("Here the law failed the test as posed: the held-out model is "
         + ("better" if actual < predicted else "worse")
         + " than the curve predicts, by more than the bootstrap interval allows. That interval "
         "reflects only seed noise in the fitted points, not the possibility that the three-parameter "
         "law has the wrong shape over this small range; compare the size of the miss with the seed "
         "spread before reading much into it.", True)]


def flops_table(records: list[dict], sizes: list, peak: float) -> list[dict]:
    """Per size: 6ND, the counted FLOPs, their ratio, the mean training seconds, and the MFU (mean
    over seeds of counted FLOPs per training second, over the measured peak)."""
    rows = []
    for n in sizes:
        rs = [r for r in records if r["N"] == n]
        achieved = np.mean([r["flops_counted"] / r["train_s"] for r in rs])
        rows.append({"size": rs[0]["size"], "N": n, "6ND": rs[0]["flops_6ND"],
                     "counted": rs[0]["flops_counted"],
                     "ratio": rs[0]["flops_counted"] / rs[0]["flops_6ND"],
                     "train_s": float(np.mean([r["train_s"] for r in rs])),
                     "mfu": float(achieved / peak)})
    return rows


@dataclass(frozen=True)
class ScalingResult(Result):
    """The runs (``points``: one per run, fitted or held out), the fitted curve and the prediction's
    interval (``band``), the exponents beside the published ones, the FLOPs per size, and every
    value and claim the chapter states."""

    points: tuple[dict, ...]
    curve: tuple[dict, ...]
    band: tuple[dict, ...]
    exponents: tuple[dict, ...]
    flops: tuple[dict, ...]



def mfu_options(small: float, large: float) -> list[tuple[str, bool]]:
    """How the smallest and largest models' shares of the measured peak compare, in words."""
    return [("a small model's step is dominated by the fixed cost of launching many small "
             "operations, not by arithmetic", small < large),
            ("here the smallest model did not use less of the peak than the largest, so on this run "
             "timing noise (other work on the machine) outweighed the fixed cost of launching many "
             "small operations that usually holds small models back", True)]

def summarise(records: list[dict], peak: float, n_seeds: int, draws: int, seed: int,
              train_chars: int, gpu_tokens: int, gpu_largest_n: int) -> ScalingResult:
    """The chapter's numbers from the ladder's runs (:func:`scaling_family`'s records and peak),
    the training split's length, and the ``gpu`` profile's tokens per run and largest ``N``."""
    from ..measures import scaling

    found = Findings()
    by_size = losses_by_size(records)
    ex = extrapolate(by_size, draws, seed)
    sizes, held_out, fit_sizes, fit = ex.sizes, ex.held_out, ex.fit_sizes, ex.fit
    spread = seed_spread(by_size)
    found.value("sc_n_sizes", len(sizes))
    found.value("sc_n_fit", len(fit_sizes))
    found.value("sc_seeds", n_seeds)
    found.value("sc_N_min", f"{sizes[0]:,}")
    found.value("sc_N_max_fit", f"{fit_sizes[-1]:,}")
    found.value("sc_N_held", f"{held_out:,}")
    found.value("sc_ratio", held_out / fit_sizes[-1])
    found.value("sc_tokens", f"{records[0]['D']:,}")
    found.value("sc_alpha", fit.alpha)
    found.value("sc_alpha_se", fit.stderr["alpha"])
    found.value("sc_alpha_lo", ex.alpha_lo)
    found.value("sc_alpha_hi", ex.alpha_hi)
    found.value("sc_E", fit.E)
    found.value("sc_E_se", fit.stderr["E"])
    found.value("sc_A", fit.A)
    found.value("sc_pred", ex.predicted)
    found.value("sc_pred_lo", ex.lo)
    found.value("sc_pred_hi", ex.hi)
    found.value("sc_actual", ex.actual)
    found.value("sc_actual_lo", ex.actual_lo)
    found.value("sc_actual_hi", ex.actual_hi)
    found.value("sc_error", ex.error)
    found.value("sc_seed_spread", spread)
    found.value("sc_boot_failed", ex.boot["failed"])
    found.value("sc_boot_draws", ex.boot["draws"])
    rungs = [b / a for a, b in zip(sizes, sizes[1:])]
    found.value("sc_rung_min", min(rungs))
    found.value("sc_rung_max", max(rungs))
    found.value("sc_decades", float(np.log10(held_out / sizes[0])))
    found.claim("the fitted sizes lie below the smallest models of the published fits (10^7 parameters)",
                fit_sizes[-1] < 1e7, fit_sizes[-1])
    # Chapter training cites this spread ("a few hundredths of a nat" in the published build).
    found.value("sc_spread_words", found.choose(spread_options(spread), spread)
                .removeprefix("seeds of one size differ by "))

    passes = records[0]["D"] / train_chars
    found.value("sc_train_chars", f"{train_chars:,}")
    found.value("sc_passes", passes)
    words = pass_words(passes)
    chosen = found.choose([(f"every run sees {w} over the training split", c) for w, c in words],
                          passes)
    found.value("sc_pass_words", next(w for w, _ in words if f" {w} " in chosen))
    gap = gap_test(records)
    found.value("sc_gap_small", gap["small"])
    found.value("sc_gap_large", gap["large"])
    found.value("sc_gap_excess", gap["excess"])
    found.value("sc_gap_excess_se", gap["se"])
    found.value("sc_gap_t", gap["t"])
    found.value("sc_gap_seeds", gap["seeds"])
    found.value("sc_gap_size", gap["size"])
    found.value("sc_gap_words", found.choose(
        gap_options(gap["excess"], gap["se"], gap["t"], passes),
        {"excess": gap["excess"], "se": gap["se"], "t": gap["t"]}))
    found.value("sc_gpu_passes", gpu_tokens / train_chars)
    found.value("sc_gpu_tokens_per_param", gpu_tokens / gpu_largest_n)

    found.value("sc_verdict", "inside" if ex.inside else "outside")
    found.value("sc_conclusion", found.choose(conclusion_options(ex.inside, ex.actual, ex.predicted),
                                              {"actual": ex.actual, "interval": (ex.lo, ex.hi)}))
    points = [{"N": r["N"], "loss": r["val_loss"], "seed": r["seed"], "size": r["size"],
               "role": "held out" if r["N"] == held_out else "fitted"} for r in records]
    grid = np.geomspace(sizes[0] / 1.3, held_out * 1.3, 60)
    curve = [{"N": float(n), "loss": float(fit.predict(n))} for n in grid]
    band = [{"N": float(held_out), "lo": float(ex.lo), "hi": float(ex.hi), "pred": ex.predicted}]

    exponents = [{"fit": "this chapter", "alpha": fit.alpha, "E": fit.E,
                  "form": "L = E + A/N^α at fixed D (nats/char)"}] + scaling.PUBLISHED
    for i, p in enumerate(scaling.PUBLISHED):
        found.value(f"sc_pub_{i}_alpha", p["alpha"])
        found.value(f"sc_pub_{i}_E", p["E"])

    flops_rows = flops_table(records, sizes, peak)
    found.value("sc_peak", peak / 1e9)
    found.value("sc_ratio_small", flops_rows[0]["ratio"])
    found.value("sc_ratio_large", flops_rows[-1]["ratio"])
    found.value("sc_mfu_small", 100 * flops_rows[0]["mfu"])
    found.value("sc_mfu_large", 100 * flops_rows[-1]["mfu"])
    found.value("sc_total_pflop", sum(r["flops_counted"] for r in records) / 1e15)
    found.value("sc_total_s", sum(r["wall_s"] for r in records))
    found.claim("the full count exceeds 6ND for every size (6ND undercounts)",
                all(r["ratio"] > 1 for r in flops_rows), [r["ratio"] for r in flops_rows])
    found.claim("6ND is closer to the full count for the largest model than for the smallest",
                flops_rows[-1]["ratio"] < flops_rows[0]["ratio"],
                {"smallest": flops_rows[0]["ratio"], "largest": flops_rows[-1]["ratio"]})
    # A comparison of two timings: on a loaded machine it can come out either way, so the words
    # are chosen from this run's figures rather than asserted.
    found.value("sc_mfu_reading", found.choose(mfu_options(flops_rows[0]["mfu"], flops_rows[-1]["mfu"]),
                                               {"smallest": flops_rows[0]["mfu"],
                                                "largest": flops_rows[-1]["mfu"]}))
    return ScalingResult(points=tuple(points), curve=tuple(curve), band=tuple(band),
                         exponents=tuple(exponents), flops=tuple(flops_rows), **found.done())


def run(cfg: ChapterConfig) -> ScalingResult:
    """Chapter scaling: the ladder at ``cfg``'s sizes and seeds, trained and summarised."""
    from ..base.profiles import resolve
    from ..gpt.model import GPT
    from ..gpt.text import SHAKESPEARE_VOCAB_SIZE

    device = pick()
    records, peak = scaling_family(cfg.n_sizes, cfg.max_iters, cfg.batch_size, cfg.block_size,
                                   cfg.n_seeds, cfg.seed, device)
    train_chars = len(shakespeare_char()[0])
    gpu_scaling = resolve("scaling", "gpu")
    gpu_tokens = gpu_scaling.max_iters * gpu_scaling.batch_size * gpu_scaling.block_size
    largest = SCALING_LADDER[gpu_scaling.n_sizes - 1]
    largest_n = non_embedding_params(GPT(rung_model(largest, SHAKESPEARE_VOCAB_SIZE,
                                                    gpu_scaling.block_size)))
    return summarise(records, peak, cfg.n_seeds, cfg.bootstrap_draws, cfg.seed, train_chars,
                     gpu_tokens, largest_n)
