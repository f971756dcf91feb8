"""Chapter questions' experiment: the numbers behind the three open questions.

1. :func:`belief_rows` counts the observer beliefs of the golden-mean process with and without
   noise, and the entropy-rate bounds of the noisy one pin its h (:func:`width_text`).
2. One knob setting of chapter ladder's size ladders up close (:func:`example`): the laws fitted to
   the smaller models, their predictions of the largest, and where its errors rank among all
   settings (:func:`rank_of`, :func:`third`); then the whole central test, worded by
   :func:`middleground.experiments.ladder.decision_sentence`.
3. The table a theory would have to predict, from the standard knob sweep (:func:`theory_table`).

The runs are the very runs of chapters knob and ladder (the same profile and seed ask the sweep
cache for them). :func:`run` is the chapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..base.profiles import ChapterConfig
from ..measures import curves, regions
from ..measures import predictability as pr
from ..sources import beliefs, hmm
from ..sweeps import knob
from . import ladder
from .report import Findings, Result

# ---------------------------------------------------------------------------------------------
# 1. The observer's beliefs.


def belief_rows(noise_rate: float, L_max: int) -> tuple[list[dict], Any]:
    """Distinct observer beliefs after words of length 1 to ``L_max``, for the golden-mean process
    and the same process with noise at ``noise_rate`` (clean rows first); and the noisy source."""
    clean = hmm.golden_mean()
    noisy = hmm.with_noise(clean, noise_rate)
    rows = [{"source": name, "L": L + 1, "beliefs": c}
            for name, src in (("golden mean", clean), (f"golden mean + noise {noise_rate:g}", noisy))
            for L, c in enumerate(beliefs.reachable_counts(src.start, src.T, L_max))]
    return rows, noisy


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def width_text(width: float) -> str:
    """A bound's width in scientific notation with a superscript exponent ("4.3 × 10⁻⁸"), or "0"."""
    mantissa, exponent = f"{width:.1e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPT)}" if width > 0 else "0"


# ---------------------------------------------------------------------------------------------
# 2. One knob setting up close, and the whole test.

def chosen_setting(sets: list[dict], family: str, knob_index: int) -> tuple[int, dict]:
    """The ``knob_index``-th setting of ``family`` (in knob order) and its index among all."""
    fam_settings = [(i, s) for i, s in enumerate(sets) if s["family"] == family]
    if not 0 <= knob_index < len(fam_settings):
        raise ValueError(f"knob_index must be in [0, {len(fam_settings) - 1}] for the {family} family "
                         f"under this profile; got {knob_index}")
    return fam_settings[knob_index]


def seed_sd_sentence(n_seeds: int, seed_sd: float) -> str:
    """The spread of the largest model's excess between seeds, or that one seed has none."""
    if n_seeds > 1:
        return f"between its {n_seeds} seeds that excess has a standard deviation of {seed_sd:.4f} bits"
    return "with one seed there is no spread between seeds to show"


def logodds_sentence(cap_pred: float, cap_actual: float, cap_error: float, d_rate: float) -> tuple[str, dict]:
    """How much the log-odds scale magnifies this setting's rate difference ``d_rate`` compared
    with the same difference centred on a rate of one half; and the values it rests on."""
    coincide = d_rate < 1e-9  # the same rate up to rounding
    centred = float("nan") if coincide else float(pr.logit(0.5 + d_rate / 2) - pr.logit(0.5 - d_rate / 2))
    magnify = float("nan") if coincide else cap_error / centred
    rates_text = f"{cap_pred:.3f} predicted and {cap_actual:.3f} actual"
    options = [
        (f"Log-odds magnify small rate differences near rates of 0 or 1, and these rates ({rates_text}) "
         f"are near {'0' if cap_actual < 0.5 else '1'}: the rate difference of {d_rate:.3f} is "
         f"{cap_error:.2f} in log-odds, {magnify:.1f} times the {centred:.3f} that the same "
         "difference would be around a rate of one half", not coincide and magnify >= 2),
        (f"Log-odds magnify small rate differences near rates of 0 or 1, but these rates ({rates_text}) "
         f"are far enough from both that the magnification is small: the rate difference of {d_rate:.3f} "
         f"is {cap_error:.2f} in log-odds, {magnify:.1f} times the {centred:.3f} that the same "
         "difference would be around a rate of one half", not coincide and magnify < 2),
        ("The predicted and the actual rate coincide, so the error is zero on both scales", coincide)]
    return ladder.first_holding(options), {"rate error": d_rate, "log-odds error": cap_error,
                                    "same difference around 1/2": centred, "magnification": magnify}


def rank_of(value: float, others: list[float]) -> int:
    """Where ``value`` ranks among ``others`` (itself included): 1 = the largest."""
    return 1 + sum(o > value for o in others)


def third(rank: int, n: int) -> str:
    """Where a rank falls among ``n`` settings: only the outer thirds count as large or small."""
    return "largest" if rank <= n / 3 else "smallest" if rank > 2 * n / 3 else "middle"


WHERE = {"largest": "among the largest third", "smallest": "among the smallest third",
         "middle": "in the middle third"}


def example_sentence(pos_cap: str, pos_loss: str) -> str:
    """Which metric this setting makes the harder to predict, from the thirds its two errors fall in."""
    options = [
        ("Measured against the other settings, here the capability is the harder to predict and the "
         "loss the easier: the capability error is among the largest third, the loss error among the "
         "smallest", (pos_cap, pos_loss) == ("largest", "smallest")),
        ("Measured against the other settings, here the loss is the harder to predict and the "
         "capability the easier: the loss error is among the largest third, the capability error among "
         "the smallest", (pos_loss, pos_cap) == ("largest", "smallest")),
        ("Both errors are among the largest third: this setting is hard to extrapolate for loss and "
         "capability alike", (pos_cap, pos_loss) == ("largest", "largest")),
        ("Both errors are among the smallest third: this setting is easy to extrapolate for loss and "
         "capability alike", (pos_cap, pos_loss) == ("smallest", "smallest")),
        ("Both errors are mid-ranked, neither among the largest third nor among the smallest, so this "
         "setting makes neither metric the harder to predict", (pos_cap, pos_loss) == ("middle", "middle"))]
    for one, other, p_one, p_other in (("capability", "loss", pos_cap, pos_loss),
                                       ("loss", "capability", pos_loss, pos_cap)):
        for outer in ("largest", "smallest"):
            options.append(
                (f"The {one} error is {WHERE[outer]} but the {other} error is mid-ranked, too near the "
                 "median to call either metric the harder to predict here", (p_one, p_other) == (outer, "middle")))
    return ladder.first_holding(options)


def rate_rank_sentence(pos_rate: str, pos_cap: str) -> str:
    """Whether the capability error ranks in the same third on the rate scale as in log-odds."""
    if pos_rate == pos_cap:
        return f"in the same third as its log-odds error ({WHERE[pos_rate]})"
    return (f"{WHERE[pos_rate]}, not in the same third as its log-odds error ({WHERE[pos_cap]}), so where "
            "this setting's capability error ranks depends on the scale")


def flat_sentence(k_sum, n_total: int) -> str:
    """What exact match did along the ladder: never right, always right, or from how many to how many."""
    k_first, k_last = int(k_sum[0]), int(k_sum[-1])
    return ladder.first_holding(
        [("No continuation was right at any size, so the sigmoid predicts the largest model exactly: a "
          "capability that never appears is easy to predict, and this setting says nothing about how "
          "predictable its emergence would be", bool(np.all(k_sum == 0))),
         ("Every continuation was right at every size, so there was nothing to predict for the "
          "capability", bool(np.all(k_sum == n_total))),
         (f"Across the ladder exact match moved from {k_first} to {k_last} of {n_total} continuations", True)])


def conditions(res: dict) -> dict[str, bool]:
    """The decision rule's three conditions for one metric's contrast, by name."""
    return {f"p below {pr.LEVEL:g}": res["p_value"] < pr.LEVEL, "interval above zero": res["interval"][0] > 0,
            "middle above each end": all(res[side]["difference"] > 0 for side in ("vs ordered", "vs noisy"))}


def partial_passes(test: dict) -> dict[str, list[str]]:
    """The metrics that meet some but not all of the rule's conditions, with those they meet; only
    p or interval make a partial pass worth noting (the point estimates alone are no evidence)."""
    partial = {}
    for name, res in (("exact match", test["capability"]), ("loss", test["loss"])):
        held = [c for c, ok in conditions(res).items() if ok]
        if len(held) < 3 and any(not c.startswith("middle") for c in held):
            partial[name] = held
    return partial


def rule_note(partial: dict[str, list[str]]) -> str:
    """The rule restated, with the partial passes that it does not count."""
    rule = (f"The rule counts a difference only when its permutation p is below {pr.LEVEL:g}, its 95 % "
            "interval lies above zero and the middle's mean error exceeds that of each end separately")
    notes = [f"for the {name} only {' and '.join(held)} " + ("holds" if len(held) == 1 else "hold")
             for name, held in partial.items()]
    if notes:
        return (rule + "; " + "; ".join(notes) + ", so " + ("that difference is" if len(notes) == 1 else
                                                           "those differences are") + " not established")
    return rule


ARITHMETIC = ("loss is an average over many predictions, each improving a little, and averages of many "
              "small smooth improvements are smooth; an exact-match score is a threshold on a product "
              "of such improvements, and thresholds turn smooth change into steps whose timing "
              "depends on where the threshold falls")


def theory_sentence(decision: str) -> str:
    """What a theory would have to explain, given the central test's outcome."""
    return ladder.first_holding(
        [("At this scale the test found no capability-specific middle effect, so there is nothing of "
          "that kind here for a theory to explain yet. If such effects appear at larger scale, one part "
          f"of an explanation could be arithmetic: {ARITHMETIC}",
          decision in ("neither", "loss only")),
         ("At this scale the test found the middle harder to extrapolate for loss and capability alike, "
          "so a theory would first have to explain why the middle of a knob is hard to extrapolate at "
          "all, for an average as much as for a threshold. If capability-specific effects appear at "
          f"larger scale, one part of an explanation could be arithmetic: {ARITHMETIC}",
          decision == "both"),
         ("At this scale the test found capability predictions worse in the middle and loss predictions "
          "not. One candidate part of an explanation is arithmetic, and this book has not tested it: "
          f"{ARITHMETIC}", decision == "supported")])


def example_rows(st: dict, N, widths: list[int], pred: dict, law, a: float, b: float) -> dict[str, list[dict]]:
    """The example figure's rows: per seed and mean at every size (excess and exact-match rate),
    the predictions for the largest, and both laws on a grid of sizes."""
    n_seeds = st["excess"].shape[0]
    excess_mean = st["excess"].mean(0)
    k_sum, n_total = st["k"].sum(0), st["n"] * n_seeds
    N_grid = np.geomspace(N[0], N[-1], 40)
    loss_rows, cap_rows = [], []
    for j, w in enumerate(widths):
        part = "fitted" if j < len(widths) - 1 else "predicted (actual)"
        for s_i in range(n_seeds):
            loss_rows.append({"N": N[j], "width": w, "value": float(st["excess"][s_i, j]), "kind": "one seed"})
            cap_rows.append({"N": N[j], "width": w, "value": float(st["k"][s_i, j] / st["n"]), "kind": "one seed"})
        loss_rows.append({"N": N[j], "width": w, "value": float(excess_mean[j]), "kind": f"mean, {part}"})
        cap_rows.append({"N": N[j], "width": w, "value": float(k_sum[j] / n_total), "kind": f"mean, {part}"})
    loss_rows.append({"N": N[-1], "width": widths[-1], "value": pred["loss_pred"], "kind": "prediction"})
    cap_rows.append({"N": N[-1], "width": widths[-1], "value": pred["cap_pred"], "kind": "prediction"})
    loss_law = [{"N": float(x), "value": float(law.predict(x)), "kind": "law fitted to the smaller sizes"}
                for x in N_grid]
    cap_law = [{"N": float(x), "value": float(1 / (1 + np.exp(-(a + b * np.log(x))))),
                "kind": "law fitted to the smaller sizes"} for x in N_grid]
    return {"loss": loss_rows, "capability": cap_rows, "loss_law": loss_law, "capability_law": cap_law}


def example(found: Findings, central: dict, N, family: str, knob_index: int) -> dict[str, list[dict]]:
    """Question 2's example: the chosen setting of chapter ladder's ``central`` test (sizes ``N``),
    its predictions of the largest model and where its errors rank; records its values and
    claims and returns the figure's rows."""
    widths, sets, test = central["widths"], central["settings"], central["test"]
    i_chosen, st = chosen_setting(sets, family, knob_index)
    n_seeds_q = st["excess"].shape[0]
    excess_mean = st["excess"].mean(0)                    # bits above the finite-context floor
    # The final evaluation's standard error of the largest model's mean excess (held-out windows, not
    # seeds), and beside it the spread of that excess between seeds.
    top_runs = [r for r in central["runs"]
                if (r["family"], r["knob"], r["width"]) == (st["family"], st["knob"], widths[-1])]
    eval_se_top = float(np.sqrt(np.sum([r["excess_floor_se"] ** 2 for r in top_runs])) / len(top_runs))
    seed_sd_top = float(np.std(st["excess"][:, -1], ddof=1)) if n_seeds_q > 1 else float("nan")
    k_sum, n_total = st["k"].sum(0), st["n"] * n_seeds_q  # exact continuations, pooled over seeds
    pred = pr.size_predictions(N, excess_mean, k_sum, np.full(len(N), n_total))
    row = test["settings"][i_chosen]                       # the same predictions with bootstrap intervals
    law = pr.fit_decay(N[:-1], excess_mean[:-1], E=0.0)
    a, b = pr.fit_logit_line(N[:-1], k_sum[:-1], np.full(len(N) - 1, n_total))
    rows = example_rows(st, N, widths, pred, law, a, b)

    found.value("q_family", family)
    found.value("q_knob", f"{st['knob']:.4g}")
    found.value("q_region", st["region"])
    found.value("q_share", float(st["share"]))
    found.value("q_widths", ", ".join(map(str, widths)))
    found.value("q_seeds", n_seeds_q)
    found.value("q_N_top", f"{int(N[-1]):,}")
    found.value("q_loss_pred", pred["loss_pred"])
    found.value("q_loss_actual", f"{pred['loss_actual']:.4f} ± {eval_se_top:.4f}")
    found.value("q_seed_sd", found.chosen(seed_sd_sentence(n_seeds_q, seed_sd_top), seed_sd_top))
    found.value("q_loss_err", pred["loss_error"])
    found.value("q_loss_err_ci", "{:.4f} to {:.4f}".format(*row["loss_error_interval"]))
    found.value("q_cap_pred", f"{pred['cap_pred']:.3g}")
    found.value("q_cap_actual", f"{int(k_sum[-1])} of {n_total}")
    found.value("q_cap_actual_rate", pred["cap_actual"])
    found.value("q_cap_err", pred["cap_error"])
    found.value("q_cap_err_ci", "{:.2f} to {:.2f}".format(*row["cap_error_interval"]))
    found.value("q_cap_rate_err", pred["cap_rate_error"])
    found.value("q_cap_rate_err_ci", "{:.3f} to {:.3f}".format(*row["cap_rate_error_interval"]))
    # Log-odds magnify rate differences near 0 and 1: the same rate difference, centred on one half,
    # is a smaller log-odds difference. How much smaller, for this setting's pair of rates?
    sentence, value = logodds_sentence(pred["cap_pred"], pred["cap_actual"], pred["cap_error"],
                                       pred["cap_rate_error"])
    found.value("q_logodds_words", found.chosen(sentence, value))
    # Each metric against itself: where does this setting's error rank among all settings?
    n_set = len(test["settings"])
    loss_rank, cap_rank, rate_rank = (rank_of(pred[key], [t[key] for t in test["settings"]])
                                      for key in ("loss_error", "cap_error", "cap_rate_error"))
    found.value("q_n_settings", n_set)
    found.value("q_loss_rank", loss_rank)
    found.value("q_cap_rank", cap_rank)
    found.value("q_rate_rank", rate_rank)
    pos_loss, pos_cap, pos_rate = third(loss_rank, n_set), third(cap_rank, n_set), third(rate_rank, n_set)
    found.value("q_example", found.chosen(example_sentence(pos_cap, pos_loss),
                                            {"loss rank": loss_rank, "capability rank": cap_rank,
                                             "settings": n_set}))
    found.value("q_rate_rank_words", found.chosen(rate_rank_sentence(pos_rate, pos_cap),
                                                    {"log-odds rank": cap_rank, "rate rank": rate_rank,
                                                     "settings": n_set}))
    found.value("q_flat_words", found.chosen(flat_sentence(k_sum, n_total), [int(v) for v in k_sum]))
    return rows


def whole_test(found: Findings, test: dict, decision: str) -> None:
    """Question 2 over all settings: the central test's contrasts, its verdict in this chapter's
    words, the partial passes the rule does not count, and what a theory would have to explain."""
    found.value("q_D_cap", ladder.contrast_text(test["capability"], 3))
    found.value("q_D_loss", ladder.contrast_text(test["loss"], 4))
    found.value("q_verdict", found.chosen(ladder.decision_sentence(decision, "questions"),
                                            {"decision": decision, "capability": test["capability"],
                                             "loss": test["loss"]}))
    found.value("q_D_rate", ladder.contrast_text(test["capability rate"], 3))
    partial = partial_passes(test)
    found.value("q_rule_note", found.chosen(rule_note(partial), {"partial passes": partial}))
    found.value("q_theory", found.chosen(theory_sentence(decision), {"decision": decision}))


# ---------------------------------------------------------------------------------------------
# 3. What a theory would have to predict.

def theory_table(cells: list[dict], results: list[dict]) -> tuple[str, int]:
    """The standard sweep as a Markdown table, one row per setting of each family (region, exact
    h and E, excess above the floor ± se, steps to 90 %, exact match and its spread over seeds);
    and the prompts per run of the last setting's first run, which the prose quotes."""
    lines = ["| source family | knob | region | exact h (bits) | exact E (bits) "
             "| excess above the floor (bits, ± se) | steps to 90 % | exact match (mean) "
             "| exact match (sd across seeds) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for fam in ("temperature", "noise", "order", "hmm"):
        # numeric knobs in numeric order, named ones (the hmm family) by name
        for kv in sorted({c["knob"] for c in cells if c["family"] == fam},
                         key=lambda k: (isinstance(k, str), k if isinstance(k, str) else float(k))):
            cs = [(c, r) for c, r in zip(cells, results) if c["family"] == fam and c["knob"] == kv]
            rs = [r for _, r in cs]
            fin = [r["final"] for r in rs]
            # The final evaluation: excess over the exact optimal predictor on the same windows (paired),
            # mean over seeds with its standard error; exact match on all the final prompts.
            if all(f.get("excess_floor") is not None for f in fin):
                exc = np.mean([f["excess_floor"] for f in fin])
                exc_se = np.sqrt(np.sum([f["excess_floor_se"] ** 2 for f in fin])) / len(fin)
                exc_text = f"{exc:.4f} ± " + (f"{exc_se:.4f}" if exc_se >= 5e-5 else "< 0.0001")
            else:
                exc_text = "–"
            plat = np.mean([curves.steps_to_plateau(r["steps"], np.array(r["val_bits"]) - r["h"]) for r in rs])
            em = [f["exact_match"] for f in fin]
            em_sd = f"{np.std(em, ddof=1):.3f}" if len(em) > 1 else "– (one seed)"
            h, E = rs[0]["h"], rs[0]["E"]
            reg = (regions.region(h, E, cs[0][0]["model"]["vocab_size"])
                   if E is not None and np.isfinite(E) else "–")
            lines.append(f"| {fam} | {kv if isinstance(kv, str) else f'{kv:.4g}'} | {reg} | {h:.3f} | "
                         f"{'–' if E is None else f'{E:.3f}'} | {exc_text} | {plat:.0f} | {np.mean(em):.3f} | "
                         f"{em_sd} |")
    return "\n".join(lines), fin[0]["n_prompts"]


# ---------------------------------------------------------------------------------------------
# The chapter.

@dataclass(frozen=True)
class QuestionsResult(Result):
    """The belief counts of question 1, the example's rows of question 2 (``example``: loss and
    capability points and laws), the table of question 3 (Markdown), the knob sweep's counts, and
    every value and claim the chapter states."""

    beliefs: tuple[dict, ...]
    example: Mapping[str, tuple[dict, ...]]
    table: str
    counts: Mapping[str, int]


def run(cfg: ChapterConfig) -> QuestionsResult:
    """Chapter questions at ``cfg``'s parameters: question 1 from the sources, questions 2 and 3
    from the runs of chapters ladder and knob (read from the sweep cache, or trained there)."""
    cells, results, counts = knob.results(cfg.profile, cfg.seed)  # the very runs of the knob chapter
    found = Findings()
    # 1. Beliefs and bounds.
    q1, noisy = belief_rows(cfg.noise_rate, cfg.L_max)
    L_bounds = min(cfg.L_max, 10)
    lo, hi = (float(v) for v in noisy.entropy_rate_bounds(L_bounds))
    found.value("q_noise", cfg.noise_rate)
    found.value("q_L", cfg.L_max)
    found.value("q_clean_beliefs", q1[cfg.L_max - 1]["beliefs"])
    found.value("q_noisy_beliefs", q1[-1]["beliefs"])
    found.value("q_h_lo", lo)
    found.value("q_h_hi", hi)
    found.value("q_L_bounds", L_bounds)
    width = hi - lo
    found.value("q_h_width", width_text(width))
    found.claim("the bounds are ordered and pin the noisy entropy rate to within a thousandth of a bit",
                0 <= width < 1e-3, width)
    clean_n, noisy_n = q1[cfg.L_max - 1]["beliefs"], q1[-1]["beliefs"]
    found.claim("noise multiplies the beliefs an observer must track (at least tenfold by the longest word)",
                noisy_n >= 10 * clean_n, (clean_n, noisy_n))
    # 2. The very test of chapter ladder (same profile, same seed): its ladders, settings and statistic.
    central = ladder.central(cfg.profile, cfg.seed)
    N = np.array([knob.non_embedding_params(w) for w in central["widths"]], dtype=float)
    rows = example(found, central, N, cfg.family, cfg.knob_index)
    whole_test(found, central["test"], central["decision"])
    # 3. The table a theory would have to predict.
    table, prompts = theory_table(cells, results)
    found.value("q_table_prompts", prompts)
    return QuestionsResult(beliefs=tuple(q1), example=MappingProxyType({k: tuple(v) for k, v in rows.items()}),
                           table=table, counts=MappingProxyType(dict(counts)), **found.done())
