"""Chapter capabilities: the metric mirage on the standard sweep, and its own sweep of quanta.

:func:`run` computes every number and outcome-dependent sentence the chapter states
(:class:`CapabilitiesResult`). The mirage: on the temperature and noise runs of the standard sweep
(:func:`middleground.sweeps.knob.results`), exact match of a continuation against token accuracy to
the power of its length, during training and at the final evaluation, with intervals that resample
runs. The quanta: every run trains on the multitask source of
:class:`middleground.sources.tasks.Quanta` and is scored per task, on the positions that the task
determines, at every evaluation (Michaud et al. 2023); the chapter asks whether rarer skills are
learned later and how much of the average's drop is left when they arrive. The pure steps are
module functions tested on fabricated inputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np
import torch

from ..base.bits import NATS_TO_BITS
from ..base.profiles import ChapterConfig, sweep_values
from ..gpt import training_log
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..sources.tasks import Quanta
from ..sweeps import cache
from ..sweeps import knob as sweep
from ..sweeps.knob import SWEEP_MODEL, sweep_train_config
from .report import Findings, Result


QUANTA_BATCH = 32  # windows per step of the quanta runs
# Random streams, np.random.default_rng([seed, STREAM]): a quanta run's data from its own seed
# alone, whatever group it trains in; the mirage bootstrap has its own.
QUANTA_TRAIN_STREAM = 21
QUANTA_VAL_STREAM = 22
MIRAGE_BOOTSTRAP_STREAM = 41


def quanta_seeds(seed: int, n_seeds: int) -> list[int]:
    """Seeds of the quanta runs: the sweep's, and at least two (per-task spreads need a pair)."""
    return [seed + i for i in range(max(2, n_seeds))]


def quanta_cells(n_tasks: int, seeds, iters: int, k: int = 8, exponent: float = 1.5,
                 width: int = SWEEP_MODEL.n_embd) -> list[dict]:
    model = asdict(replace(SWEEP_MODEL, vocab_size=Quanta(n_tasks, k, exponent, 33).vocab_size,
                           block_size=32, n_embd=int(width)))
    return [{"family": "quanta", "n_tasks": n_tasks, "k": k, "exponent": exponent, "seed": int(s),
             "iters": int(iters), "model": model, "n_segments": 6000} for s in seeds]


def quanta_group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["n_tasks"], cell["k"], cell["exponent"],
            tuple(sorted(cell["model"].items())), cell["n_segments"])


def train_quanta_group(group: list[dict]) -> list[dict]:
    """Per-task held-out loss (bits) on the determined positions of each segment, at every eval."""
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    c0 = group[0]
    seg = cfg.block_size + 1
    q = Quanta(c0["n_tasks"], c0["k"], c0["exponent"], seg, seed=0)  # the same skills for every seed
    tc = replace(sweep_train_config(c0["iters"]), batch_size=QUANTA_BATCH)
    train, val = [], []
    for c in group:
        train.append(q.sample(c["n_segments"], np.random.default_rng([c["seed"], QUANTA_TRAIN_STREAM]))[0])
        val.append(q.sample(1000, np.random.default_rng([c["seed"], QUANTA_VAL_STREAM]))[0])
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
        bits = (-logp[:, :, 1:] * NATS_TO_BITS).cpu().numpy()  # positions after x_0 are determined
        return {"task_bits": [[float(bits[m, tasks == t].mean()) for t in range(q.n_tasks)]
                              for m in range(M)]}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, stride=seg,
                       on_eval=per_task, on_start=training_log.from_settings())
    return [{"steps": [r["step"] for r in run.history],
             "task_bits": [r["extra"]["task_bits"][m] for r in run.history],
             "frequencies": q.frequencies.tolist()} for m in range(M)]


# ---------------------------------------------------------------------------------------------
# The chapter's numbers. Every function below copies the arithmetic of the chapter it came from,
# in the same order, so that each quoted value stays bit for bit what it was.
# ---------------------------------------------------------------------------------------------

Options = list[tuple[str, bool]]  # sentences and their conditions, for Findings.choose
KNOB_FAMILIES = ("temperature", "noise")


# --- The metric mirage -----------------------------------------------------------------------

def mirage_records(cells, results, K: int) -> tuple[list[dict], list[dict]]:
    """For every evaluation during training of the temperature and noise runs: both metrics as long
    records (``metric_rows``), and exact match beside token accuracy to the power ``K`` and the
    target cross-entropy (``pair_rows``)."""
    metric_rows, pair_rows = [], []
    for c, r in zip(cells, results):
        if c["family"] not in KNOB_FAMILIES:
            continue
        for i, s in enumerate(r["steps"]):
            common = {"family": c["family"], "knob": float(c["knob"]), "seed": c["seed"], "step": s}
            metric_rows += [{**common, "metric": "exact match (all 8)", "value": r["exact_match"][i]},
                            {**common, "metric": "token accuracy", "value": r["token_accuracy"][i]}]
            pair_rows.append({**common, "exact": r["exact_match"][i],
                              "token_k": r["token_accuracy"][i] ** K,
                              "target_bits": r["target_bits"][i]})
    return metric_rows, pair_rows


def final_records(cells, results, K: int) -> list[dict]:
    """The same comparison at the end of every temperature and noise run, on all the prompts of its
    final evaluation."""
    return [{"family": c["family"], "knob": float(c["knob"]), "seed": c["seed"],
             "step": r["steps"][-1], "exact": r["final"]["exact_match"],
             "token_k": r["final"]["token_accuracy"] ** K, "target_bits": r["final"]["target_bits"],
             "n_prompts": r["final"]["n_prompts"]}
            for c, r in zip(cells, results) if c["family"] in KNOB_FAMILIES]


def agreement(rows) -> tuple[np.ndarray, float, float]:
    """The (exact, token_k) pairs of ``rows``, their correlation and their mean absolute difference."""
    pairs = np.array([[p["exact"], p["token_k"]] for p in rows])
    corr = float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1])
    mad = float(np.mean(np.abs(pairs[:, 0] - pairs[:, 1])))
    return pairs, corr, mad


def run_key(p) -> tuple:
    """A run, as (family, knob, seed)."""
    return (p["family"], p["knob"], p["seed"])


def bootstrap_runs(pair_rows, final_rows, rng, draws: int = 1000):
    """Resample whole runs (each with all its evaluations): the pooled training correlation, the
    final correlation and the final mean absolute difference of every draw (correlations only where
    both variables vary), and the runs. Training evaluations of one run are serially correlated, so
    the run, not the evaluation, is the unit."""
    run_ids = list(dict.fromkeys(run_key(p) for p in final_rows))
    curve_of = {k: np.array([[p["exact"], p["token_k"]] for p in pair_rows if run_key(p) == k]) for k in run_ids}
    final_of = {run_key(p): [p["exact"], p["token_k"]] for p in final_rows}
    boot_corr, boot_final_corr, boot_final_mad = [], [], []
    for _ in range(draws):
        pick_ids = [run_ids[i] for i in rng.integers(0, len(run_ids), len(run_ids))]
        cur = np.concatenate([curve_of[k] for k in pick_ids])
        fin = np.array([final_of[k] for k in pick_ids])
        boot_final_mad.append(float(np.mean(np.abs(fin[:, 0] - fin[:, 1]))))
        if np.ptp(cur[:, 0]) > 0 and np.ptp(cur[:, 1]) > 0:
            boot_corr.append(float(np.corrcoef(cur[:, 0], cur[:, 1])[0, 1]))
        if np.ptp(fin[:, 0]) > 0 and np.ptp(fin[:, 1]) > 0:
            boot_final_corr.append(float(np.corrcoef(fin[:, 0], fin[:, 1])[0, 1]))
    return boot_corr, boot_final_corr, boot_final_mad, run_ids


def interval(draws, digits: int) -> str:
    """The 95 % percentile interval of ``draws`` as text; none from fewer than 100 draws."""
    if len(draws) < 100:  # too few draws with any spread to give an interval
        return "no interval: too few resamples vary"
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return f"95 % interval over runs {lo:.{digits}f} to {hi:.{digits}f}"


def diagonal_shares(diff, final_diff) -> dict[str, tuple[float, float]]:
    """The shares (training, final) of exact − token_k within 0.05 of zero ("close"), more than 0.05
    above ("above") and more than 0.05 below ("below")."""
    return {"close": (float(np.mean(np.abs(diff) <= 0.05)), float(np.mean(np.abs(final_diff) <= 0.05))),
            "above": (float(np.mean(diff > 0.05)), float(np.mean(final_diff > 0.05))),
            "below": (float(np.mean(diff < -0.05)), float(np.mean(final_diff < -0.05)))}


def _percents(share) -> dict[str, tuple[str, str]]:
    return {k: tuple(f"{100 * v:.0f} %" for v in vals) for k, vals in share.items()}


def agreement_tier(share) -> str:
    """"all", "most" or "part", by the lower of the two shares within 0.05 of the diagonal."""
    c_min = min(share["close"])
    return "all" if c_min >= 0.9 else "most" if c_min >= 0.75 else "part"


def mirage_options(share) -> Options:
    """How closely exact match follows token accuracy to the K, with the shares off the diagonal."""
    pct = _percents(share)
    off = ((f"{pct['above'][0]} of those during training and {pct['above'][1]} of the final ones lie more "
            "than 0.05 above it") if max(share["above"]) > 0 else "")
    if max(share["below"]) > 0:
        below_text = f"{pct['below'][0]} and {pct['below'][1]} lie more than 0.05 below it"
        off = f"{off} ({below_text})" if off else (f"{pct['below'][0]} of those during training and "
                                                   f"{pct['below'][1]} of the final ones lie more than 0.05 below it")
    close_text = (f"{pct['close'][0]} of the evaluations during training and {pct['close'][1]} of the final "
                  "ones lie within 0.05 of the diagonal")
    tier = agreement_tier(share)
    return [(f"They agree closely: {close_text}" + (f", and only {off}" if off else ""), tier == "all"),
            (f"They agree closely for most evaluations ({close_text}), but {off}", tier == "most"),
            (f"They agree closely for only part of the evaluations: {close_text}, while {off}", tier == "part")]


def mirage_takeaway_options(share) -> Options:
    """The takeaway's "closely …", by the same tier as :func:`mirage_options`."""
    pct = _percents(share)
    tier = agreement_tier(share)
    return [("closely", tier == "all"),
            (f"closely for most runs and evaluations, but not all ({pct['above'][1]} of the final evaluations "
             "lie more than 0.05 above the independent-error line)", tier == "most"),
            (f"closely for only part of the runs ({pct['close'][1]} of the final evaluations lie within 0.05 "
             f"of the independent-error line, {pct['above'][1]} more than 0.05 above it)", tier == "part")]


# --- Quanta ----------------------------------------------------------------------------------

def quanta_records(qc, q_results):
    """The task frequencies; per seed, evaluation and task the loss on the task's determined symbols
    (``q_rows``); per seed and evaluation the frequency-weighted loss (``agg_rows``); and per task
    the first step each seed learned it (under 0.1 bit per determined symbol; None if never)."""
    freqs = np.array(q_results[0]["frequencies"])
    q_rows, agg_rows = [], []
    learned_at = {}
    for c, r in zip(qc, q_results):
        tb = np.array(r["task_bits"])  # (evals, tasks)
        agg = tb @ freqs  # loss averaged as training data weight the tasks
        for i, s in enumerate(r["steps"]):
            agg_rows.append({"seed": c["seed"], "step": s, "bits": float(agg[i])})
            for t in range(tb.shape[1]):
                q_rows.append({"seed": c["seed"], "step": s, "task": t, "rank": t + 1,
                               "frequency": float(freqs[t]), "bits": float(tb[i, t])})
        for t in range(tb.shape[1]):
            below = np.nonzero(tb[:, t] < 0.1)[0]  # learned: under 0.1 bit per determined symbol
            learned_at.setdefault(t, []).append(int(r["steps"][below[0]]) if len(below) else None)
    return freqs, q_rows, agg_rows, learned_at


def learned_steps(learned_at, n_tasks: int) -> list:
    """Per task, the mean over seeds of the step it was learned, or None unless every seed learned it."""
    return [np.mean([v for v in learned_at[t] if v is not None]) if all(v is not None for v in learned_at[t]) else None
            for t in range(n_tasks)]


def order_correlation(steps) -> tuple[int, float]:
    """How many tasks were learned, and the correlation of a learned task's frequency rank with its
    learning step (nan under three learned tasks)."""
    n_learned = sum(v is not None for v in steps)
    ranks_learned = [t + 1 for t, v in enumerate(steps) if v is not None]
    if n_learned >= 3:
        order_corr = float(np.corrcoef(ranks_learned, [steps[r - 1] for r in ranks_learned])[0, 1])
    else:
        order_corr = float("nan")
    return n_learned, order_corr


def order_options(n_learned: int, order_corr: float) -> Options:
    """Whether rarer skills are learned later, by the rank correlation."""
    return [(f"too few skills were learned ({n_learned}) to tell whether rarer ones come later", n_learned < 3),
            (f"the rarer a skill, the later it is learned, almost without exception (correlation "
             f"{order_corr:+.2f})", order_corr >= 0.8),
            (f"rarer skills tend to come later, with many exceptions (correlation {order_corr:+.2f})",
             order_corr >= 0.3),
            (f"frequency says little about when a skill is learned (correlation {order_corr:+.2f})", True)]


def aggregate_by_seed(agg_rows, qc) -> list[np.ndarray]:
    """Each seed's frequency-weighted loss over its evaluations."""
    return [np.array([r["bits"] for r in agg_rows if r["seed"] == c["seed"]]) for c in qc]


def first_drop_share(agg_by_seed) -> float:
    """The share of the whole drop of the average made by the first evaluation, mean over seeds."""
    return float(np.mean([(a[0] - a[1]) / (a[0] - a[-1]) for a in agg_by_seed]))


def first_options(first_share: float) -> Options:
    return [("most of its whole drop", first_share > 0.5),
            ("less than half of its whole drop", True)]


def left_at_half(learned_known, q_steps, agg_by_seed) -> tuple[float, float]:
    """The median learning step of the learned skills, and the share of the average's drop still
    left at the first evaluation at or after it (mean over seeds); nan for both if none was learned."""
    half_step = float(np.median(learned_known)) if learned_known else float("nan")
    left = [float((a[min(int(np.searchsorted(q_steps, half_step)), len(a) - 1)] - a[-1]) / (a[0] - a[-1]))
            for a in agg_by_seed] if learned_known else [float("nan")]
    return half_step, float(np.mean(left))


def left_options(learned_known, left_share: float) -> Options:
    """Whether the average still shows the later skills."""
    return [("no skill was learned in every seed, so there is nothing to place", not learned_known),
            ("the average hardly shows them", left_share < 0.05),
            ("the average still shows them", True)]


def michaud_options(order_corr: float, left_share: float) -> Options:
    """Whether the runs show Michaud et al.'s picture: in order of frequency, hardly in the average."""
    return [("what they do show is Michaud et al.'s picture in miniature: separate skills, learned one "
             "after another, the most exercised first, whose later arrivals barely move the average",
             order_corr >= 0.3 and left_share < 0.05),
            ("at this budget they do not show Michaud et al.'s picture of skills learned in order of "
             "frequency inside an average that hardly registers the later ones", True)]


# --- The result ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CapabilitiesResult(Result):
    """What the figures draw: both metrics per evaluation (``metric_rows``), exact match beside token
    accuracy to the K during training (``pair_rows``) and at the end (``final_rows``), the quanta
    runs' per-task and average losses (``q_rows``, ``agg_rows``, the first seed ``q_seed``); the
    standard sweep's ``counts``; and every value and claim the chapter states."""

    metric_rows: tuple[dict, ...]
    pair_rows: tuple[dict, ...]
    final_rows: tuple[dict, ...]
    q_rows: tuple[dict, ...]
    agg_rows: tuple[dict, ...]
    q_seed: int
    q_first: int
    q_last: int
    counts: Mapping[str, int]


def summarise(cells, results, counts, qc, q_results, *, seed: int, quanta_tasks: int,
              quanta_iters: int) -> CapabilitiesResult:
    """The chapter's numbers from the standard sweep (``cells``, ``results``, ``counts``) and the
    quanta runs (``qc``, ``q_results``)."""
    found = Findings()
    K = cells[0]["k"]
    metric_rows, pair_rows = mirage_records(cells, results, K)
    pairs, mirage_corr, mirage_mad = agreement(pair_rows)
    found.value("cap_mirage_corr", mirage_corr)
    found.value("cap_mirage_mad", mirage_mad)
    found.value("cap_mirage_n", len(pair_rows))
    found.value("cap_curve_prompts", cells[0]["curve_prompts"])
    final_rows = final_records(cells, results, K)
    final_pairs, final_corr, final_mad = agreement(final_rows)
    found.value("cap_final_corr", final_corr)
    found.value("cap_final_mad", final_mad)
    found.value("cap_final_n", len(final_rows))
    found.value("cap_final_prompts", final_rows[0]["n_prompts"])
    boot_corr, boot_final_corr, boot_final_mad, run_ids = bootstrap_runs(
        pair_rows, final_rows, np.random.default_rng([seed, MIRAGE_BOOTSTRAP_STREAM]))
    found.value("cap_mirage_corr_ci", interval(boot_corr, 3))
    found.value("cap_final_corr_ci", interval(boot_final_corr, 3))
    found.value("cap_final_mad_ci", interval(boot_final_mad, 3))
    found.value("cap_n_runs", len(run_ids))
    # How close to the diagonal the points lie: within 0.05 of it, more than 0.05 above, more than 0.05 below.
    diff, final_diff = pairs[:, 0] - pairs[:, 1], final_pairs[:, 0] - final_pairs[:, 1]
    share = diagonal_shares(diff, final_diff)
    found.value("cap_mirage_words", found.choose(
        mirage_options(share), {"within 0.05 / above / below (training, final)": share}))
    found.value("cap_mirage_takeaway", found.choose(mirage_takeaway_options(share), share))
    above = share["above"][0]
    found.value("cap_mirage_above_pct", 100 * above)
    final_above = share["above"][1]
    found.value("cap_final_above_pct", 100 * final_above)
    found.value("cap_mirage_below_pct", 100 * share["below"][0])
    found.value("cap_final_below_pct", 100 * share["below"][1])
    found.value("cap_k", K)

    # Quanta: skills one by one, inside one average.
    freqs, q_rows, agg_rows, learned_at = quanta_records(qc, q_results)
    # Step 0 (every task at the uniform-guess level) is off a log axis; the panels start at the
    # first evaluation after it.
    q_first, q_last = q_results[0]["steps"][1], q_results[0]["steps"][-1]
    steps = learned_steps(learned_at, len(freqs))
    n_learned, order_corr = order_correlation(steps)
    found.value("cap_q_tasks", quanta_tasks)
    found.value("cap_q_learned", n_learned)
    found.value("cap_q_order_corr", order_corr)
    found.value("cap_q_iters", quanta_iters)
    found.value("cap_q_order_words", found.choose(order_options(n_learned, order_corr),
                                                  {"learned": n_learned, "correlation": order_corr}))
    learned_known = [v for v in steps if v is not None]
    found.value("cap_q_first_learned", float("nan") if steps[0] is None else float(steps[0]))
    found.value("cap_q_last_learned", float(max(learned_known)) if learned_known else float("nan"))
    q_steps = q_results[0]["steps"]
    found.value("cap_q_first_eval", q_steps[1])
    found.value("cap_q_interval", q_steps[1] - q_steps[0])
    agg_by_seed = aggregate_by_seed(agg_rows, qc)
    first_share = first_drop_share(agg_by_seed)
    found.value("cap_q_first_share", 100 * first_share)
    found.value("cap_q_first_words", found.choose(first_options(first_share), first_share))
    # When half of the learned skills have arrived, how much of the average's drop is left?
    half_step, left_share = left_at_half(learned_known, q_steps, agg_by_seed)
    found.value("cap_q_half_step", half_step)
    found.value("cap_q_left_pct", 100 * left_share)
    found.value("cap_q_left_words", found.choose(left_options(learned_known, left_share), left_share))
    found.value("cap_q_michaud", found.choose(
        michaud_options(order_corr, left_share),
        {"order correlation": order_corr, "share of the drop left": left_share}))
    return CapabilitiesResult(metric_rows=tuple(metric_rows), pair_rows=tuple(pair_rows),
                              final_rows=tuple(final_rows), q_rows=tuple(q_rows), agg_rows=tuple(agg_rows),
                              q_seed=qc[0]["seed"], q_first=q_first, q_last=q_last,
                              counts=MappingProxyType(dict(counts)), **found.done())


def run(cfg: ChapterConfig) -> CapabilitiesResult:
    """Chapter capabilities: the standard sweep at ``cfg``'s sizes and the quanta runs (trained or
    from the cache), summarised."""
    cells, results, counts = sweep.results(cfg.profile, cfg.seed, **sweep_values(cfg))
    qc = quanta_cells(cfg.quanta_tasks, quanta_seeds(cfg.seed, cfg.n_seeds), cfg.quanta_iters, width=cfg.width)
    q_results, _ = cache.run("quanta", qc, quanta_group_key, train_quanta_group)
    return summarise(cells, results, counts, qc, q_results, seed=cfg.seed, quanta_tasks=cfg.quanta_tasks,
                     quanta_iters=cfg.quanta_iters)
