"""Chapter ladder's experiment: the size ladder along both knobs, arranged for the central test.

The runs come from :func:`middleground.sweeps.knob.ladder_results`; this module turns them into one
row per run (:func:`runs`) and one record per knob setting with its seeds × sizes arrays
(:func:`settings`), the input of :func:`middleground.measures.predictability.central_test`.
:func:`central` does all of it for a profile, so the introduction and chapter questions quote the
very test that chapter ladder states and runs; :func:`decision_sentence` words the pre-stated
rule's outcome for all three chapters.

:func:`run` is the chapter: the ladder, its instruments (the finite-context floor of every setting),
the ladders' shape, the central test and every sentence chosen from it, the count-based baseline
and the within-run measure. Every piece is a function of plain inputs (rows, settings, the test's
dictionaries), so the tests feed them fabricated numbers with known answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..base.profiles import ChapterConfig, resolve, sweep_values
from ..measures import predictability as pr
from ..measures import regions
from ..sources.floor import finite_context_floor
from ..sources.knobs import KNOB_K, KNOBS, make_source
from ..sweeps import knob
from . import central as central_test
from .central import CentralResult
from .report import Findings, Result


def runs(cells: list[dict], results: list[dict]) -> list[dict]:
    """One row per run: its setting, seed, width, size N, region and final evaluation."""
    sizes = {w: knob.non_embedding_params(w) for w in {c["model"]["n_embd"] for c in cells}}
    out = []
    for c, r in zip(cells, results):
        out.append({"family": c["family"], "knob": c["knob"], "seed": c["seed"],
                    "width": c["model"]["n_embd"], "N": sizes[c["model"]["n_embd"]],
                    "h": r["h"], "E": r["E"], "share": r["h"] / np.log2(KNOB_K),
                    "region": regions.region(r["h"], r["E"], KNOB_K), **r["final"]})
    return out


def settings(rows: list[dict], widths: list[int]) -> list[dict]:
    """One record per knob setting, in knob order: seeds × sizes arrays of the excess loss above
    the floor, the exact continuations and the continuation's cross-entropy, as the central test
    takes them."""
    out = []
    for fam in KNOBS:
        for kv in sorted({r["knob"] for r in rows if r["family"] == fam}):
            rs = [r for r in rows if r["family"] == fam and r["knob"] == kv]
            seeds = sorted({r["seed"] for r in rs})
            grid = {(r["seed"], r["width"]): r for r in rs}

            def table(key):
                return np.array([[grid[s, w][key] for w in widths] for s in seeds])

            out.append({"family": fam, "knob": kv, "h": rs[0]["h"], "E": rs[0]["E"],
                        "share": rs[0]["share"], "region": rs[0]["region"],
                        "N": np.array([grid[seeds[0], w]["N"] for w in widths], dtype=float),
                        "excess": table("excess_floor"), "target": table("target_bits"),
                        "k": table("exact_count"), "n": rs[0]["n_prompts"]})
    return out


def central(profile: str | None, seed: int = 0) -> dict:
    """The central test at chapter ladder's sizes for ``profile``: its configuration, widths, rows,
    settings, the test itself and the decision by the pre-stated rule."""
    cfg = resolve("ladder", profile, seed=seed)
    cells, results, counts, widths = knob.ladder_results(cfg.profile, cfg.seed)
    rows = runs(cells, results)
    sets = settings(rows, widths)
    test = pr.central_test(sets, cfg.n_boot, cfg.n_perm, cfg.seed)
    return {"cfg": cfg, "widths": widths, "runs": rows, "settings": sets, "test": test,
            "decision": pr.decision(test), "counts": counts}


# ---------------------------------------------------------------------------------------------
# The pre-stated rule's outcome in words, shared by chapters ladder, intro and questions.

DECISIONS = ("supported", "both", "loss only", "neither")  # what predictability.decision returns

DECISION_SENTENCES = {
    "ladder": {
        "supported": "the hypothesis is supported at this scale: capability predictions are "
                     "significantly worse in the middle, loss predictions are not",
        "both": "the middle is harder to extrapolate for loss and capability alike, so the data do "
                "not single out capabilities",
        "loss only": "the hypothesis is contradicted where it matters: loss predictions are "
                     "significantly worse in the middle, capability predictions are not",
        "neither": "there is no evidence for the hypothesis at this scale: neither metric's "
                   "predictions are significantly worse in the middle"},
    "intro": {
        "supported": "the hypothesis is supported at this scale: predictions of the capability from "
                     "smaller models are significantly worse in the middle of the knobs than at their "
                     "ends, and predictions of the loss are not",
        "both": "the middle of a knob is harder to extrapolate for the loss and the capability alike, "
                "so the data do not single out capabilities, as the hypothesis would have it",
        "loss only": "the hypothesis is contradicted where it matters: the loss, not the capability, "
                     "is significantly harder to predict in the middle",
        "neither": "there is no evidence for the hypothesis at this scale: neither the capability nor "
                   "the loss is significantly harder to predict from smaller models in the middle of "
                   "a knob than at its ends"},
    "questions": {
        "supported": "capabilities are the less predictable where the hypothesis says they would be, "
                     "in the middle of the knobs, and loss is not",
        "both": "the middle of the knobs is harder to extrapolate for loss and capability alike, so "
                "what makes it hard is not specific to capabilities",
        "loss only": "the loss, not the capability, is the harder to predict in the middle of the knobs",
        "neither": "neither metric's predictions are significantly worse in the middle of the knobs "
                   "than at their ends, so the data do not single out capabilities there"},
}


def decision_sentence(outcome: str, chapter: str = "ladder") -> str:
    """The sentence that states ``outcome`` (one of :data:`DECISIONS`, from
    :func:`~middleground.measures.predictability.decision`) in ``chapter``'s words."""
    if outcome not in DECISIONS:
        raise ValueError(f"unknown outcome {outcome!r}; the rule gives one of {DECISIONS}")
    return DECISION_SENTENCES[chapter][outcome]


def power_sentence(capability: dict, loss: dict, chapter: str = "ladder") -> str:
    """What the test could detect, in ``chapter``'s words: that no difference can reach p < 0.05
    when the shuffles have too few labellings (``min_p`` >= 0.05), else the smallest detectable
    differences of both metrics."""
    min_p = capability["min_p"]
    if chapter == "intro":
        if min_p >= 0.05:
            return (" This build's profile has too few settings for the test to reach p < 0.05 at "
                    "all, so that verdict says nothing either way; the published (full) build has "
                    "enough")
        return (f" Differences smaller than about {capability['detectable']:.2f} log-odds (capability) "
                f"or {loss['detectable']:.3f} bits (loss) could not have reached p < 0.05 with these "
                "settings, so small effects may have been missed")
    if min_p >= 0.05:
        return (f"The shuffles can label these settings in {capability['labellings']:,} distinct ways, "
                f"so the smallest p-value they can give is {min_p:.2g}: this build cannot meet the rule "
                "for any difference, and its verdict says nothing either way")
    return (f"With these settings a difference had to exceed about {capability['detectable']:.2f} "
            f"log-odds (capability) or {loss['detectable']:.3f} bits (loss) to reach p < 0.05; "
            "smaller effects could have been missed")


def contrast_text(res: dict, digits: int = 3) -> str:
    """A contrast as the prose quotes it: difference, 95 % interval and permutation p."""
    lo, hi = res["interval"]
    return (f"{res['difference']:+.{digits}f} (95 % interval {lo:+.{digits}f} to {hi:+.{digits}f}; "
            f"permutation p = {res['p_value']:.3g})")


def seeds_text(n: int) -> str:
    """"1 seed", "3 seeds"."""
    return f"{n} seed" + ("" if n == 1 else "s")


def first_holding(options: list[tuple[str, bool]]) -> str:
    """The first sentence whose condition holds (the options must cover every outcome)."""
    for text, condition in options:
        if condition:
            return text
    raise ValueError("no option holds: the options must cover every outcome")


# ---------------------------------------------------------------------------------------------
# Settings and instruments.

def region_counts(sets: list[dict]) -> dict[str, dict[str, int]]:
    """Per knob family (in :data:`KNOBS` order): how many settings lie at the ordered end, in the
    middle and at the noisy end, and how many there are in all (``"all"``)."""
    return {fam: {**{reg: sum(s["region"] == reg for s in sets if s["family"] == fam)
                     for reg in (regions.ORDERED, regions.MIDDLE, regions.NOISY)},
                  "all": sum(s["family"] == fam for s in sets)} for fam in KNOBS}


def middle_per_knob_text(counts: dict[str, dict[str, int]]) -> str:
    """"1 of 3 on the temperature knob and 1 of 3 on the noise knob"."""
    return " and ".join(f"{c[regions.MIDDLE]} of {c['all']} on the {fam} knob" for fam, c in counts.items())


def setting_floors(sets: list[dict], block: int, seed: int) -> dict:
    """The finite-context floor of every setting, by (family, knob): exact where the observer's
    beliefs stay few, else Monte Carlo (:func:`~middleground.sources.floor.finite_context_floor`)."""
    return {(s["family"], s["knob"]): finite_context_floor(make_source(s["family"], s["knob"]), block,
                                                           n_windows=20_000, seed=seed, max_beliefs=5_000)
            for s in sets}


def with_floors(sets: list[dict], floors: Mapping) -> list[dict]:
    """``sets`` with each setting's floor (``floor``, ``floor_se``) added, in place."""
    for s in sets:
        fl = floors[s["family"], s["knob"]]
        s["floor"] = fl.value
        s["floor_se"] = fl.se
    return sets


def floor_deviations(sets: list[dict], rows: list[dict], top: int) -> list:
    """Per setting, how many standard errors the exact optimal predictor, scored on the top rung's
    own held-out windows (mean over seeds), lies from the setting's floor."""
    dev = []
    for s in sets:
        rs = [r for r in rows if r["family"] == s["family"] and r["knob"] == s["knob"] and r["width"] == top]
        se = np.hypot(np.sqrt(np.sum([r["optimal_se"] ** 2 for r in rs])) / len(rs), s["floor_se"])
        dev.append(abs(np.mean([r["optimal_bits"] for r in rs]) - s["floor"]) / se)
    return dev


# ---------------------------------------------------------------------------------------------
# The ladders.

def ladder_rows(sets: list[dict], widths: list[int]) -> list[dict]:
    """One row per setting and rung: mean excess above the floor and pooled exact-match rate."""
    rows = []
    for s in sets:
        for j, w in enumerate(widths):
            rate = s["k"][:, j].sum() / (s["n"] * s["k"].shape[0])
            rows.append({"family": s["family"], "knob": s["knob"], "share": round(s["share"], 3),
                         "region": s["region"], "width": w, "N": int(s["N"][j]),
                         "excess": float(s["excess"][:, j].mean()), "exact": float(rate)})
    return rows


def ladder_shape(sets: list[dict], widths: list[int]) -> dict[str, dict[str, int]]:
    """Per family, where along the ladder each setting changes most: how many settings have their
    largest drop in excess loss (``loss_last``) or largest change in exact match (``cap_last``) at
    the last step, how many the latter below it (``cap_early``), and how many the capability law
    under- or over-predicts at the top (``cap_under``, ``cap_over``); ``n`` settings in all."""
    shape = {}
    for fam in KNOBS:
        fs = [s for s in sets if s["family"] == fam]
        loss_step = [int(np.argmax(-np.diff(s["excess"].mean(0)))) for s in fs]
        cap_step = [int(np.argmax(np.abs(np.diff(s["k"].sum(0))))) for s in fs]
        preds = [pr.size_predictions(s["N"], s["excess"].mean(0), s["k"].sum(0),
                                     np.full(len(widths), s["n"] * s["k"].shape[0])) for s in fs]
        shape[fam] = {"n": len(fs), "loss_last": sum(i == len(widths) - 2 for i in loss_step),
                      "cap_last": sum(i == len(widths) - 2 for i in cap_step),
                      "cap_early": sum(i < len(widths) - 2 for i in cap_step),
                      "cap_under": sum(p["cap_pred"] < p["cap_actual"] for p in preds),
                      "cap_over": sum(p["cap_pred"] > p["cap_actual"] for p in preds)}
    return shape


def shape_text(shape: dict) -> str:
    """The ladder's shape per family, as the prose quotes it."""
    return "; ".join(
        f"on the {fam} knob the largest drop in excess loss is the last step for {v['loss_last']} of "
        f"{v['n']} settings and the largest change in exact match is the last step for {v['cap_last']}"
        for fam, v in shape.items())


def shape_sentence(shape: dict) -> str:
    """Where the decisive changes in exact match fall, by family: at the last step on most settings
    of one knob and lower down on the other's (two ways to fail), at the last step on both, below it
    on both, or mixed."""
    late_fam = [f for f, v in shape.items() if v["cap_last"] > 0.5 * v["n"] and v["cap_under"] > 0.5 * v["n"]]
    early_fam = [f for f, v in shape.items() if v["cap_early"] > 0.5 * v["n"] and v["cap_over"] > 0.5 * v["n"]]
    return first_holding(
        [(f"So on most {late_fam[0] if late_fam else ''} settings the decisive change in exact match comes "
          "at the very step a law fitted below it cannot see, and the law under-predicts the largest "
          f"model ({shape[late_fam[0]]['cap_under'] if late_fam else 0} of {shape[KNOBS[0]]['n']}); on most "
          f"{early_fam[0] if early_fam else ''} settings it comes lower down, and the law, extrapolating a "
          "rise that has since levelled off, over-predicts it "
          f"({shape[early_fam[0]]['cap_over'] if early_fam else 0} of {shape[KNOBS[0]]['n']}): two "
          "different ways for a small-to-large prediction to fail",
          bool(late_fam) and bool(early_fam) and late_fam != early_fam),
         ("The largest changes fall at the last step on both knobs, where no law fitted below can see them",
          all(v["cap_last"] > 0.5 * v["n"] for v in shape.values())),
         ("The largest changes fall below the last step on both knobs, so the laws have seen them",
          all(v["cap_early"] > 0.5 * v["n"] for v in shape.values())),
         ("Where the largest changes fall differs from setting to setting", True)])


# ---------------------------------------------------------------------------------------------
# The central test, in rows and words.

def prediction_rows(sets: list[dict], test: dict) -> list[dict]:
    """One row per setting and metric (loss in bits, capability in log-odds): the prediction of
    the largest model, the actual value, the error and their bootstrap intervals."""
    rows = []
    for s, t in zip(sets, test["settings"]):
        for metric, scale in (("loss", "bits"), ("capability", "log-odds")):
            key = "loss" if metric == "loss" else "cap"
            rows.append({"family": s["family"], "knob": s["knob"], "share": round(s["share"], 3),
                         "region": s["region"], "metric": f"{metric} ({scale})",
                         "error": t[f"{key}_error"], "error_lo": t[f"{key}_error_interval"][0],
                         "error_hi": t[f"{key}_error_interval"][1],
                         "predicted": t[f"{key}_pred"], "actual": t[f"{key}_actual"],
                         "pred_lo": t[f"{key}_pred_interval"][0], "pred_hi": t[f"{key}_pred_interval"][1]})
    return rows


def sides_text(res: dict, digits: int = 3) -> str:
    """The middle against each end alone, as the rule's third condition reads it."""
    return (f"{res['vs ordered']['difference']:+.{digits}f} against the ordered end and "
            f"{res['vs noisy']['difference']:+.{digits}f} against the noisy end")


def by_family_text(test: dict) -> str:
    """Both metrics' contrasts within each knob alone."""
    return "; ".join(
        f"{fam} knob: capability {r['difference']:+.3f} (p = {r['p_value']:.2g}), loss "
        f"{test['loss']['by family'][fam]['difference']:+.4f} (p = {test['loss']['by family'][fam]['p_value']:.2g})"
        for fam, r in test["capability"]["by family"].items())


def half_rule_sentence(name: str, res: dict) -> str:
    """What a metric that meets only part of the rule shows, in words chosen from its numbers."""
    p_ok, ci_ok = res["p_value"] < 0.05, res["interval"][0] > 0
    sides_ok = all(res[side]["difference"] > 0 for side in ("vs ordered", "vs noisy"))
    return first_holding(
        [(f"for the {name}, all three conditions hold", p_ok and ci_ok and sides_ok),
         (f"for the {name}, the interval lies above 0 but the permutation p-value does not reach "
          "0.05: larger errors in the middle for settings like these, but not beyond the spread among "
          "settings", ci_ok and not p_ok),
         (f"for the {name}, the permutation p-value is below 0.05 but the interval reaches 0",
          p_ok and not ci_ok),
         (f"for the {name}, p and interval agree, but the middle does not exceed both ends",
          p_ok and ci_ok and not sides_ok),
         (f"for the {name}, the interval lies wholly below 0: for settings like these the ends' errors "
          "are the larger", res["interval"][1] < 0),
         (f"for the {name}, neither the permutation p-value nor the interval indicates a middle effect",
          True)])


def rate_sentence(cap_sig: bool, rate_sig: bool, rate_difference: float) -> str:
    """Whether the rate-scale check agrees with the log-odds scale about a middle effect."""
    return first_holding(
        [("agrees: the capability's errors are significantly larger in the middle on both scales",
          cap_sig and rate_sig),
         ("agrees with the log-odds scale that there is no significant middle effect; its point estimate "
          "even favours the ends", not cap_sig and not rate_sig and rate_difference < 0),
         ("agrees with the log-odds scale: neither finds the capability's errors significantly larger in "
          "the middle", not cap_sig and not rate_sig),
         ("disagrees with the log-odds scale about significance, so the capability's verdict depends on "
          "the scale on which its errors are measured", True)])


def continuous_sentence(cap_sig: bool, cont_sig: bool) -> str:
    """The metric-mirage check: does the continuous capability show what exact match shows?"""
    return first_holding(
        [("shows no middle effect either, so there is no mirage to explain away", not cap_sig and not cont_sig),
         ("shows the middle effect too: it is not an artefact of an all-or-nothing metric", cap_sig and cont_sig),
         ("does not show the middle effect that exact match shows: by Schaeffer et al.'s criterion, the "
          "effect belongs to the metric", cap_sig and not cont_sig),
         ("shows a middle effect that exact match does not", True)])


def flat_settings(sets: list[dict]) -> list[dict]:
    """Settings whose pooled exact-match count moved by at most two prompts per seed along the ladder."""
    return [s for s in sets if np.ptp(s["k"].sum(0)) <= 2 * s["k"].shape[0]]


def flat_sentence(flat: list[dict]) -> str:
    """Which settings' exact match stayed put, and what that means for the test."""
    return first_holding(
        [("no setting's exact match stayed put across the ladder", not flat),
         (f"{len(flat)} setting" + (" kept" if len(flat) == 1 else "s kept") + " the same exact-match "
          "count (within two prompts per seed) at every size (" + ", ".join(
              f"{s['family']} {s['region']}" for s in flat) + "); they are in the test with the small "
          "errors they have, not divided by anything, and where they are middle settings the capability "
          "test has little to measure there", True)])


# ---------------------------------------------------------------------------------------------
# The count-based baseline.

def baseline_rows(sets: list[dict], rows: list[dict], top: int) -> list[dict]:
    """One row per setting for the top rung (means over seeds): exact h, floor, the model's and
    the count-based Bayes predictor's loss, their paired difference with its standard error, the
    excess above the floor, the Bayes order (median over seeds) and the verdict by two standard
    errors ("model better", "model worse" or "tie")."""
    top_rows = [r for r in rows if r["width"] == top]
    out = []
    for s in sets:
        rs = [r for r in top_rows if r["family"] == s["family"] and r["knob"] == s["knob"]]
        out.append({"family": s["family"], "knob": s["knob"], "share": round(s["share"], 3),
                    "region": s["region"], "h": s["h"], "floor": s["floor"],
                    "model": float(np.mean([r["val_bits"] for r in rs])),
                    "bayes": float(np.mean([r["bayes_bits"] for r in rs])),
                    "model_minus_bayes": float(np.mean([r["model_minus_bayes"] for r in rs])),
                    "model_minus_bayes_se": float(np.sqrt(np.sum([r["model_minus_bayes_se"] ** 2 for r in rs])) / len(rs)),
                    "excess": float(np.mean([r["excess_floor"] for r in rs]))})
    for b in out:
        rs = [r for r in top_rows if r["family"] == b["family"] and r["knob"] == b["knob"]]
        b["bayes_order"] = int(np.median([r["bayes_order"] for r in rs]))
        b["verdict"] = ("model better" if b["model_minus_bayes"] < -2 * b["model_minus_bayes_se"] else
                        "model worse" if b["model_minus_bayes"] > 2 * b["model_minus_bayes_se"] else "tie")
    return out


def predictor_rows(base: list[dict]) -> list[dict]:
    """The baseline figure's rows: loss − h of the floor, the largest model and the Bayes mixture."""
    return [{"family": b["family"], "share": b["share"], "knob": b["knob"], "predictor": name,
             "above_h": b[key] - b["h"]}
            for b in base for name, key in (("finite-context floor", "floor"),
                                            ("transformer (largest)", "model"),
                                            ("count-based Bayes", "bayes"))]


def verdict_counts(base: list[dict]) -> dict[str, dict[str, int]]:
    """Per family, how many settings the model is better on, worse on, or level with Bayes."""
    return {fam: {v: sum(b["verdict"] == v for b in base if b["family"] == fam)
                  for v in ("model better", "model worse", "tie")} for fam in KNOBS}


def bayes_orders(base: list[dict]) -> dict[str, list[int]]:
    """Per family, the distinct Markov orders the counts' posterior favours, sorted."""
    return {fam: sorted({b["bayes_order"] for b in base if b["family"] == fam}) for fam in KNOBS}


def verdict_counts_text(by_fam: dict) -> str:
    return "; ".join(
        f"{fam} knob, better on {c['model better']}, worse on {c['model worse']} and level on {c['tie']} "
        f"of its {sum(c.values())} settings" for fam, c in by_fam.items())


def bayes_takeaway(by_fam: dict) -> str:
    """Whether the counts beat the largest transformer everywhere or only somewhere."""
    return first_holding(
        [("does better than the largest transformer on every setting: at this scale what the model has "
          "not learned is mostly the model's shortfall, not the data's difficulty",
          all(c["model worse"] == sum(c.values()) for c in by_fam.values())),
         ("does better than the largest transformer on some settings and worse on others, which separates "
          "what is hard in the data from what a small model with this budget has not learned", True)])


def worst_gap_text(base: list[dict]) -> str:
    """The setting where the model falls furthest behind the counts."""
    worst = max(base, key=lambda b: b["model_minus_bayes"])
    return (f"{worst['model_minus_bayes']:+.3f} ± {worst['model_minus_bayes_se']:.3f} bits "
            f"({worst['family']} at {worst['knob']:.4g}, {worst['region']})")


def bayes_sentence(by_fam: dict, orders: dict, n_settings: int) -> str:
    """How the model compares with counting: split by family (counting wins on temperature, the
    model on most noise settings, with the orders that explain it), counting ahead on most
    settings, or the model at least as good on most."""
    t_worse = by_fam["temperature"]["model worse"] == sum(by_fam["temperature"].values())
    n_better = by_fam["noise"]["model better"] > sum(by_fam["noise"].values()) / 2
    return first_holding(
        [("The split is by family. A temperature setting is an order-2 Markov chain, which the counts "
          "capture exactly once they pick order 2, and there the transformer's loss above the floor is "
          "what a small model with this budget has not learned, not what the data hide. A noise setting "
          "is a noisy word of period 8 whose phase takes long contexts to pin down; the counts' posterior "
          f"settles on orders {min(orders['noise'])} to {max(orders['noise'])}, where the cells are still "
          "well filled, and there the transformer, which can use all 32 symbols, does better than counting",
          t_worse and n_better and orders["temperature"] == [2] and max(orders["noise"]) < 8),
         ("The count-based predictor is better on most settings of both knobs: much of what the "
          "transformer has not learned is learnable from the same symbols by counting",
          sum(c["model worse"] for c in by_fam.values()) > n_settings / 2),
         ("The transformer is at least as good as counting on most settings: what it has not learned, "
          "a counting predictor with the same data has not learned either", True)])


# ---------------------------------------------------------------------------------------------
# Within one run.

def within_run_rows(cells: list[dict], results: list[dict], top: int, warmup: int,
                    fit_fraction: float) -> tuple[list[dict], list[dict]]:
    """For every top-rung run: its within-run extrapolation (one row, with the setting's region)
    and its learning curve as loss − h per evaluation (the figure's rows)."""
    wr_rows, curve_rows = [], []
    for c, r in zip(cells, results):
        if c["model"]["n_embd"] != top:
            continue
        out = pr.within_run(r["steps"], r["lr_area"], r["val_bits"], warmup, fit_fraction,
                            r["final"]["val_bits"])
        wr_rows.append({"family": c["family"], "knob": c["knob"], "seed": c["seed"],
                        "share": r["h"] / np.log2(KNOB_K), "region": regions.region(r["h"], r["E"], KNOB_K),
                        **out})
        for s, v in zip(r["steps"], r["val_bits"]):
            curve_rows.append({"family": c["family"], "knob": c["knob"], "seed": c["seed"], "step": s,
                               "share": round(r["h"] / np.log2(KNOB_K), 3), "above_h": v - r["h"]})
    return wr_rows, curve_rows


def by_setting(wr_rows: list[dict]) -> dict[tuple, list[dict]]:
    """The within-run rows grouped by (family, knob), in first-seen order."""
    out: dict[tuple, list[dict]] = {}
    for w in wr_rows:
        out.setdefault((w["family"], w["knob"]), []).append(w)
    return out


def late_shares(cells: list[dict], results: list[dict], top: int, warmup: int,
                fit_fraction: float) -> dict[tuple, float]:
    """Per setting (mean over its top-rung runs), the share of a run's post-warmup drop that came
    after the fitted part; runs that dropped by 0.01 bits or less have no share and are left out."""
    late_share: dict[tuple, list] = {}
    for c, r in zip(cells, results):
        if c["model"]["n_embd"] != top:
            continue
        st, v = np.array(r["steps"]), np.array(r["val_bits"])
        first = v[st > warmup][0]
        fit_end = v[st <= fit_fraction * st[-1]][-1]
        total = first - r["final"]["val_bits"]
        if total > 0.01:  # runs that barely dropped have no share to speak of
            late_share.setdefault((c["family"], c["knob"]), []).append((fit_end - r["final"]["val_bits"]) / total)
    return {k: float(np.mean(v)) for k, v in late_share.items()}


def late_sentence(peak_late: float, others_late: float) -> str:
    """Whether a late drop explains the largest within-run error: the peak setting's late share
    against the others' median."""
    ratio = peak_late / others_late if others_late > 0 else float("inf")
    return first_holding(
        [("The curves show why: those runs made much more of their drop after the fitted part than the "
          "others did, so the part a law was fitted to was nearly flat while most of the drop still lay "
          "ahead, and no law fitted to a flat start can see a drop coming", ratio > 1.5 and peak_late > 0.3),
         (f"Those runs made {ratio:.1f} times as much of their drop after the fitted part as the others, "
          "but under a third of it, so a late drop explains only part of their error",
          ratio > 1.5 and peak_late <= 0.3),
         ("Those runs made less of their drop after the fitted part than the others did, so a late drop "
          "does not explain their error; the shape of the fitted part does", ratio < 1 / 1.5),
         ("Those runs made about as much of their drop after the fitted part as the others did, so a late "
          "drop does not single them out", True)])


def within_run_sentence(p_value: float, interval_low: float) -> str:
    """The within-run contrast in words (the rule's first two conditions only)."""
    return first_holding(
        [("within a run, loss is harder to extrapolate in the middle of a knob than at its ends (p below "
          "0.05 and the interval above 0, the rule's first two conditions)",
          p_value < 0.05 and interval_low > 0),
         ("within a run, loss is not significantly harder to extrapolate in the middle than at the ends",
          True)])


# ---------------------------------------------------------------------------------------------
# The chapter.

@dataclass(frozen=True)
class LadderResult(Result):
    """The ladder chapter's figures' rows, the central test, the sweep's counts, and every value
    and claim the chapter states."""

    widths: tuple[int, ...]
    ladder_rows: tuple[dict, ...]       # per setting and rung: mean excess, exact-match rate
    prediction_rows: tuple[dict, ...]   # per setting and metric: predicted, actual, error
    middle_band: tuple[float, float]    # the middle's range of h / log2|A|
    baseline_rows: tuple[dict, ...]     # per setting and predictor: loss − h
    curve_rows: tuple[dict, ...]        # top-rung learning curves, the peak setting marked
    within_rows: tuple[dict, ...]       # per top-rung run: within-run extrapolation
    test: Mapping[str, Any]             # predictability.central_test's result
    decision: str
    counts: Mapping[str, int]
    central: CentralResult              # the central test on the (h, E) plane, under its frozen plan


def summarise(cfg: ChapterConfig, cells: list[dict], results: list[dict], counts: Mapping[str, int],
              widths: list[int], N_of: Mapping[int, int], rows: list[dict], sets: list[dict],
              floors: Mapping, plane_test: CentralResult) -> LadderResult:
    """The chapter's numbers from the ladder's runs (``cells``, ``results``; as rows and settings
    by :func:`runs` and :func:`settings`), the sizes ``N_of`` of its widths and every setting's
    floor (:func:`setting_floors`), with the plane test's values and claims (``ct_*``) first."""
    central_test.check_plan(plane_test)  # numbers from another plan never reach the chapter
    found = Findings()
    for key, value in plane_test.values.items():
        found.value(key, value)
    for c in plane_test.claims:
        found.claim(c.text, c.holds, c.value)
    quick = cfg.profile == "quick"
    # The test, stated before the data: units, ladders, error model.
    found.value("te_definition", regions.DEFINITION)
    found.value("te_points", cfg.knob_points)
    found.value("te_seeds_text", seeds_text(cfg.n_seeds))
    found.value("te_rungs", len(widths))
    found.value("te_widths", ", ".join(map(str, widths)))
    found.value("te_iters", cfg.iters)
    found.value("te_N_min", f"{N_of[widths[0]]:,}")
    found.value("te_N_max", f"{N_of[widths[-1]]:,}")
    found.value("te_N_ratio", f"{N_of[widths[-1]] / N_of[widths[0]]:.0f}")
    if not quick:
        found.claim("the ladder spans at least 16 times in non-embedding parameters",
                    N_of[widths[-1]] >= 16 * N_of[widths[0]], (N_of[widths[0]], N_of[widths[-1]]))
    found.value("te_n_perm", f"{cfg.n_perm:,}")
    found.value("te_n_boot", f"{cfg.n_boot:,}")
    found.value("te_n_settings", len(sets))
    per_region = region_counts(sets)
    found.value("te_mid_per_knob", middle_per_knob_text(per_region))
    n_middle = {fam: c[regions.MIDDLE] for fam, c in per_region.items()}
    found.claim("every knob has settings at both ends and in the middle",
                all(c[reg] > 0 for c in per_region.values()
                    for reg in (regions.ORDERED, regions.MIDDLE, regions.NOISY)), n_middle)
    if not quick:
        found.claim("at least five settings of each knob lie in the middle", min(n_middle.values()) >= 5,
                    n_middle)

    # The instruments.
    max_se = max(r["val_se"] for r in rows)
    found.value("te_max_se", max_se)
    found.value("te_windows", f"{rows[0]['n_windows']:,}")
    found.value("te_prompts", rows[0]["n_prompts"])
    found.claim("every held-out loss has a standard error below 0.005 bits", max_se < 0.005, max_se)
    n_exact = sum(f.method == "exact" for f in floors.values())
    found.value("te_floor_exact", n_exact)
    found.value("te_floor_mc", len(floors) - n_exact)
    found.value("te_floor_mc_se", max([f.se for f in floors.values()] + [0.0]))
    dev = floor_deviations(sets, rows, widths[-1])
    found.value("te_floor_z", float(max(dev)))
    found.claim("on every setting the exact optimal predictor, scored on the runs' own windows, lands "
                "within 4 standard errors of the floor", max(dev) < 4, float(max(dev)))
    floor_share = [s["floor"] - s["h"] for s in sets]
    found.value("te_floor_gap_lo", min(floor_share))
    found.value("te_floor_gap_hi", max(floor_share))

    # The ladders.
    shape = ladder_shape(sets, widths)
    found.value("te_shape", shape_text(shape))
    found.value("te_last_step", f"{widths[-2]} to {widths[-1]}")
    found.value("te_shape_words", found.chosen(shape_sentence(shape), shape))

    # Predicted against actual: the central test and the rule.
    test = pr.central_test(sets, cfg.n_boot, cfg.n_perm, cfg.seed)
    cap, loss = test["capability"], test["loss"]
    found.value("te_D_cap", contrast_text(cap))
    found.value("te_D_loss", contrast_text(loss, 4))
    found.value("te_sides_cap", sides_text(cap))
    found.value("te_sides_loss", sides_text(loss, 4))
    found.value("te_detect_words", found.chosen(power_sentence(cap, loss),
                                           {"labellings": cap["labellings"], "min p": cap["min_p"]}))
    found.value("te_cap_middle", cap["middle_mean"])
    found.value("te_cap_ends", cap["ends_mean"])
    found.value("te_loss_middle", loss["middle_mean"])
    found.value("te_loss_ends", loss["ends_mean"])
    found.value("te_n_mid", cap["n_middle"])
    found.value("te_n_ends", cap["n_ends"])
    found.value("te_by_family", by_family_text(test))
    outcome = pr.decision(test)
    found.value("te_decision", found.chosen(decision_sentence(outcome, "ladder"),
                                       {"capability": cap, "loss": loss}))
    found.value("te_precise_words", found.chosen(half_rule_sentence("loss", loss), loss) + "; "
                + found.chosen(half_rule_sentence("capability", cap), cap))
    rate, cont = test["capability rate"], test["capability continuous"]
    found.value("te_D_rate", f"{contrast_text(rate)}; two-sided p = {rate['p_two_sided']:.3g}")
    found.value("te_D_cont", contrast_text(cont, 4))
    cap_sig, rate_sig, cont_sig = (pr.significant(r) for r in (cap, rate, cont))
    found.value("te_rate_words", found.chosen(rate_sentence(cap_sig, rate_sig, rate["difference"]),
                                         {"rate": rate, "log-odds": cap}))
    found.value("te_cont_words", found.chosen(continuous_sentence(cap_sig, cont_sig),
                                         {"exact match": cap, "continuous": cont}))
    flat = flat_settings(sets)
    found.value("te_flat", len(flat))
    found.value("te_flat_words", found.chosen(flat_sentence(flat), [(s["family"], s["region"]) for s in flat]))

    # The count-based baseline.
    base = baseline_rows(sets, rows, widths[-1])
    by_fam, orders = verdict_counts(base), bayes_orders(base)
    found.value("te_bayes_counts", verdict_counts_text(by_fam))
    found.value("te_bayes_takeaway", found.chosen(bayes_takeaway(by_fam), by_fam))
    found.value("te_bayes_orders", "; ".join(f"{fam}: {', '.join(map(str, o))}" for fam, o in orders.items()))
    found.value("te_bayes_worst", worst_gap_text(base))
    found.value("te_bayes_words", found.chosen(bayes_sentence(by_fam, orders, len(base)),
                                          {"by family": by_fam, "orders": orders}))

    # Within one run: the second, separate measure.
    found.value("te_fit_pct", 100 * cfg.fit_fraction)
    warmup = knob.sweep_train_config(cfg.iters).warmup_iters
    wr_rows, curve_rows = within_run_rows(cells, results, widths[-1], warmup, cfg.fit_fraction)
    wr_settings = by_setting(wr_rows)
    wr_err = [float(np.mean([w["error"] for w in ws])) for ws in wr_settings.values()]
    wr_region = [ws[0]["region"] for ws in wr_settings.values()]
    wr_family = [ws[0]["family"] for ws in wr_settings.values()]
    wr = pr.region_contrast(wr_err, wr_region, wr_family, cfg.n_perm, cfg.seed)
    wr_ci = pr.contrast_interval([[w["error"] for w in ws] for ws in wr_settings.values()], wr_region,
                                 wr_family, cfg.n_boot, cfg.seed)
    found.value("te_wr_D", f"{wr['difference']:+.4f} bits (95 % interval {wr_ci[0]:+.4f} to "
                           f"{wr_ci[1]:+.4f}; permutation p = {wr['p_value']:.3g})")
    found.value("te_wr_middle", wr["middle_mean"])
    found.value("te_wr_ends", wr["ends_mean"])
    late = late_shares(cells, results, widths[-1], warmup, cfg.fit_fraction)
    wr_peak = max(zip(wr_err, wr_settings), key=lambda t: t[0])
    found.value("te_wr_peak", f"{wr_peak[0]:.4f} bits ({wr_peak[1][0]} at {wr_peak[1][1]:.4g}, "
                              f"{wr_settings[wr_peak[1]][0]['region']})")
    peak_late = late.get(wr_peak[1], 0.0)
    others_late = float(np.median([v for k, v in late.items() if k != wr_peak[1]]))
    found.value("te_wr_late_peak", 100 * peak_late)
    found.value("te_wr_late_others", 100 * others_late)
    found.value("te_wr_late_words", found.chosen(late_sentence(peak_late, others_late),
                                            {"peak": peak_late, "others (median)": others_late}))
    found.value("te_wr_words", found.chosen(within_run_sentence(wr["p_value"], wr_ci[0]),
                                       {**wr, "interval": wr_ci}))
    for row in curve_rows:  # the runs of the setting with the largest within-run error, drawn bold
        row["peak"] = "largest within-run error" if (row["family"], row["knob"]) == wr_peak[1] else "other settings"

    return LadderResult(widths=tuple(widths), ladder_rows=tuple(ladder_rows(sets, widths)),
                        prediction_rows=tuple(prediction_rows(sets, test)),
                        middle_band=(regions.H_LOW, regions.H_HIGH),
                        baseline_rows=tuple(predictor_rows(base)), curve_rows=tuple(curve_rows),
                        within_rows=tuple(wr_rows), test=MappingProxyType(test), decision=outcome,
                        counts=MappingProxyType(dict(counts)), central=plane_test, **found.done())


def run(cfg: ChapterConfig) -> LadderResult:
    """Chapter ladder: the size ladder at ``cfg``'s sizes (trained or read from the sweep cache),
    every setting's floor, and the central test, summarised."""
    cells, results, counts, widths = knob.ladder_results(cfg.profile, cfg.seed, rungs=cfg.rungs,
                                                         **sweep_values(cfg))
    N_of = {w: knob.non_embedding_params(w) for w in widths}
    rows = runs(cells, results)
    sets = settings(rows, widths)
    floors = setting_floors(sets, cells[0]["model"]["block_size"], cfg.seed)
    with_floors(sets, floors)
    return summarise(cfg, cells, results, counts, widths, N_of, rows, sets, floors, central_test.run(cfg.profile))
