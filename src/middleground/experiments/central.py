"""The central test's analysis over ladders of model sizes: the control first, then the question.

Input: a ladder per setting (:class:`Ladder`: sizes N, and per seed and size the excess loss above
the exact floor and the exact continuations out of n prompts), built from sweep runs by
:func:`ladders`. :func:`analyse` then answers, in this order:

1. **The control.** At the ends of the knob (ordered and noisy settings), where nothing should be
   hard, does the loss of the target rung fall inside its 95 % prediction interval at the plan's
   rate, and does the law beat persistence (:func:`middleground.measures.extrapolation.control_verdict`)?
   The verdict rests on the fixed-floor law; the free-asymptote law's coverage is shown beside it
   as a check (``laws_agree``). If the control fails, nothing
   below can say anything about the middle, and the verdict says so first.
2. **The primary statistics**, for loss and capability on their own scales (the excess's relative
   error; the exact-match rate's error): coverage and skill over persistence over all settings,
   and the paired difference of the two skills with a bootstrap interval over settings.
3. **The plane**: the pre-stated error model over (h share, E) per metric
   (:func:`middleground.measures.extrapolation.interior_effect`).
4. **Transitions**: per setting, the size N* where the excess halves from the smallest rung and
   where exact match crosses 0.5, with intervals, and whether the rungs below foresaw it.

Every p-value of the secondary analyses goes through Holm's correction together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..base import checks
from ..measures import extrapolation as ex
from ..measures import regions
from ..sources import plane
from ..sources.knobs import KNOB_K
from ..sweeps import cache, knob
from . import frozen_plan
from .central_design import PLAN, Design, choose_rates, design, plane_cells, tuning_cells
from .frozen_plan import FrozenPlan
from .report import Findings, Result

VERDICTS = ("control fails", "control passes")
LEARNT = 4  # a smallest rung within this many resolutions of the floor: learnt at every size


@dataclass(frozen=True)
class Ladder:
    """One setting trained at every size with the same seeds."""

    family: str
    knob: object
    h: float
    E: float
    share: float
    region: str
    N: tuple[float, ...]
    excess: tuple[tuple[float, ...], ...]  # seeds × sizes, bits above the floor
    k: tuple[tuple[int, ...], ...]         # seeds × sizes, exact continuations
    n: int                                 # prompts per run

    def arrays(self):
        return np.array(self.N), np.array(self.excess, dtype=float), np.array(self.k, dtype=float)


def ladders(rows: list[dict], widths: list[int], alphabet_size: int) -> list[Ladder]:
    """One :class:`Ladder` per (family, knob) of ``rows`` (one row per run: family, knob, seed,
    width, N, h, E and the run's final evaluation), sizes in the order of ``widths``. Every
    setting must have every width for every one of its seeds."""
    out = []
    for family, kv in sorted({(r["family"], r["knob"]) for r in rows}, key=lambda t: (t[0], str(t[1]))):
        rs = [r for r in rows if r["family"] == family and r["knob"] == kv]
        seeds = sorted({r["seed"] for r in rs})
        grid = {(r["seed"], r["width"]): r for r in rs}
        missing = [(s, w) for s in seeds for w in widths if (s, w) not in grid]
        if missing:
            raise ValueError(f"setting {family} {kv}: runs missing for (seed, width) {missing[:3]}")
        h, E = rs[0]["h"], rs[0]["E"]
        out.append(Ladder(
            family=family, knob=kv, h=float(h), E=float(E),
            share=regions.h_share(h, alphabet_size), region=regions.region(h, E, alphabet_size),
            N=tuple(float(grid[seeds[0], w]["N"]) for w in widths),
            excess=tuple(tuple(float(grid[s, w]["excess_floor"]) for w in widths) for s in seeds),
            k=tuple(tuple(int(grid[s, w]["exact_count"]) for w in widths) for s in seeds),
            n=int(rs[0]["n_prompts"])))
    return out


def _skill_difference(loss: list, cap: list, n_boot: int, seed: int) -> dict:
    """Skill over persistence of loss minus that of capability, paired by setting, with a 95 %
    bootstrap interval over settings: above 0, capability is the less predictable. None where
    either skill is undefined (persistence exact everywhere); resamples where either is undefined
    are left out, and ``resamples_used`` says how many remained."""
    def difference(rows):
        a, b = ex.skill_score(loss, rows), ex.skill_score(cap, rows)
        return None if a is None or b is None else a - b

    rng = np.random.default_rng([seed, 61])
    boot = [difference(rng.integers(0, len(loss), len(loss))) for _ in range(n_boot)]
    boot = [b for b in boot if b is not None]
    point = difference(np.arange(len(loss)))
    interval = (tuple(float(v) for v in np.percentile(boot, ex.INTERVAL))
                if point is not None and boot else (None, None))
    return {"difference": point, "interval": interval, "resamples_used": len(boot)}


def analyse(settings: list[Ladder], n_fit: int, target: int, min_coverage: float,
            resolution: float, n_boot: int, n_perm: int, seed: int = 0,
            control_min_E: float = 0.0) -> dict:
    """The control, the primary statistics, the plane and the transitions (see the module's
    docstring) for ladders fitted on rungs ``0 .. n_fit - 1`` and predicting rung ``target``.
    The control's settings are the ends (ordered or noisy) with E of at least ``control_min_E``
    bits: an end with nothing to learn has a flat excess that says nothing about extrapolation."""
    if not settings:
        raise ValueError("analyse needs at least one setting")
    checks.real("min_coverage", min_coverage, 0.0, 1.0)
    checks.real("control_min_E", control_min_E, 0.0)
    per = []
    for i, s in enumerate(settings):
        N, excess, k = s.arrays()
        learnt = bool(excess[:, 0].mean() < LEARNT * resolution)
        per.append({
            "setting": s,
            "loss": ex.loss_prediction(N, excess, n_fit, target, "fixed floor", resolution, n_boot, seed + i),
            "loss_free": ex.loss_prediction(N, excess, n_fit, target, "free asymptote", resolution, n_boot,
                                            seed + i) if n_fit >= 3 else None,
            "capability": ex.capability_prediction(N, k, s.n, n_fit, target, n_boot, seed + i),
            # a setting learnt already at the smallest size has no halving to find, only noise
            "excess_halves": None if learnt else ex.transition_size(
                N, excess, 0.5 * excess[:, 0].mean(), rising=False, n_boot=n_boot, seed=seed + i),
            "excess_halves_foreseen": None if learnt else ex.predicted_transition(
                N, excess, 0.5 * excess[:, 0].mean(), rising=False, kind="fixed floor"),
            "learnt_at_every_size": learnt,
            "match_half": ex.transition_size(N, k / s.n, 0.5, rising=True, n_boot=n_boot, seed=seed + i,
                                             binomial_n=s.n),
            "match_half_foreseen": ex.predicted_transition(N, k, 0.5, rising=True, kind="logistic line", n=s.n),
        })
    ends = [p for p in per if p["setting"].region in (regions.ORDERED, regions.NOISY)
            and p["setting"].E >= control_min_E]
    if not ends:
        raise ValueError(f"the control needs settings at the ends (ordered or noisy regions) with "
                         f"E >= {control_min_E:g} bit")
    control = ex.control_verdict([p["loss"] for p in ends], min_coverage, n_boot, seed)
    free_ends = [p["loss_free"] for p in ends if p["loss_free"] is not None]
    free = ex.coverage(free_ends) if free_ends else None
    out = {"control": control, "verdict": VERDICTS[int(control["passes"])],
           "control_settings": [p["setting"] for p in ends],
           # the mutual check, shown beside the verdict (which rests on the fixed-floor law, as stated)
           "control_free_asymptote": free,
           "laws_agree": free is not None and (free["rate"] >= min_coverage) == control["passes"],
           "n_ends": len(ends), "per_setting": per}
    losses, caps = [p["loss"] for p in per], [p["capability"] for p in per]
    out["primary"] = {"loss": {"coverage": ex.coverage(losses), "skill": ex.skill(losses, n_boot, seed)},
                      "capability": {"coverage": ex.coverage(caps), "skill": ex.skill(caps, n_boot, seed)},
                      "skill_difference": _skill_difference(losses, caps, n_boot, seed)}
    shares = [p["setting"].share for p in per]
    Es = [p["setting"].E for p in per]
    plane = {}
    for metric, preds in (("loss", losses), ("capability", caps)):
        try:
            plane[metric] = ex.interior_effect(shares, Es, [q.error for q in preds], n_perm, seed)
        except ValueError as err:  # too few settings, or h and E not separated by them
            plane[metric] = {"unavailable": str(err)}
    out["plane"] = plane
    names, pvals = [], []
    for metric, fit in plane.items():
        if "p_value" in fit:
            names.append(f"interior effect on {metric} error")
            pvals.append(fit["p_value"])
    out["holm"] = dict(zip(names, ex.holm(pvals).tolist())) if pvals else {}
    return out


# ---------------------------------------------------------------------------------------------
# The experiment: the plan's runs trained (or read from the sweep cache), analysed and worded.


@dataclass(frozen=True)
class CentralResult(Result):
    """The central test on the (h, E) plane as its plan states it: the plan's identity, the
    declared learning-rate choice, every setting's ladder, the control's verdict, the primary
    statistics, the plane's error model, the transitions, and every value and claim the chapters
    state (keys ``ct_*``)."""

    plan_sha256: str
    design: Design
    rate_rows: tuple[dict, ...]        # per width and candidate rate: tuning excess, chosen
    ladder_rows: tuple[dict, ...]      # per setting and width: mean excess and exact match
    scatter_rows: tuple[dict, ...]     # per setting and metric: predicted, interval, actual
    plane_rows: tuple[dict, ...]       # per setting: h share, E, role, both errors
    transition_rows: tuple[dict, ...]  # per setting: N* of the excess halving and of exact match 0.5
    plane_fits: Mapping[str, Any]      # per metric: the error model's coefficients, p, Holm p, vertex
    fit_rows: tuple[dict, ...]         # per metric: the fitted error model along h share at median E
    primary_table: str                 # Markdown: coverage and skill, control and both metrics
    transition_table: str              # Markdown: N* per setting with intervals, and foreseen
    verdict: str                       # one of VERDICTS
    counts: Mapping[str, int]


def role(setting: Ladder, control_min_E: float) -> str:
    """What a setting is in the test: a control end, an E = 0 setting, or a middle/shallow one."""
    if setting.region in (regions.ORDERED, regions.NOISY):
        if setting.E >= control_min_E:
            return f"control ({setting.region} end)"
        return f"{setting.region} end, E = 0" if setting.E < 1e-9 else f"{setting.region} end"
    return setting.region


def _name(s: Ladder) -> str:
    family, parameter = plane.NAMES[s.family]
    return f"{plane.label(family, parameter)}, h share {s.share:.2f}"


def plane_rows(design: Design, cells: list[dict], results: list[dict]) -> list[dict]:
    """One row per run of the test, as :func:`ladders` takes them."""
    N_of = dict(zip(design.widths, design.N))
    return [{"family": c["family"], "knob": c["knob"], "seed": c["seed"], "width": c["model"]["n_embd"],
             "N": N_of[c["model"]["n_embd"]], "h": r["h"], "E": r["E"], **r["final"]}
            for c, r in zip(cells, results)]


def interval_text(lo, hi, digits: int = 2) -> str:
    """A 95 % interval as "a to b" ("–" for an end the data leave open)."""
    def one(v):
        return "–" if v is None else f"{v:.{digits}f}"
    return f"{one(lo)} to {one(hi)}"


def coverage_text(cov: dict) -> str:
    lo, hi = cov["interval"]
    return f"{cov['covered']} of {cov['n']} (rate {cov['rate']:.2f}, 95 % interval {lo:.2f} to {hi:.2f})"


def skill_text(sk: dict) -> str:
    if sk["skill"] is None:
        return "undefined (persistence exact everywhere)"
    return f"{sk['skill']:.2f} (95 % interval {interval_text(*sk['interval'])}; better than persistence on {sk['wins']} of {sk['n']})"


def verdict_sentence(control: dict, min_coverage: float, meets_size_criteria: bool) -> str:
    """The control's verdict, first, as the chapter and the introduction state it, to follow
    "The verdict is"."""
    cov, sk = control["coverage"], control["skill"]
    held = f"its 95 % intervals held {cov['covered']} of {cov['n']} control losses"
    skill = ("its skill over persistence is undefined" if sk["skill"] is None else
             f"its skill over persistence is {sk['skill']:.2f}, 95 % interval {interval_text(*sk['interval'])}")
    if not meets_size_criteria:
        return ("only a rehearsal: this quick run's ladder misses the plan's size criteria, so it tests "
                f"the code path, not the hypothesis ({held}; {skill})")
    if control["passes"]:
        return (f"that the control passes: the plan's fixed-floor law extrapolated loss at the ends ({held}, "
                f"at least {min_coverage:.0%} as required; {skill}, above 0)")
    return (f"inconclusive, because the plan's fixed-floor law failed the control ({held}, where the plan "
            f"requires {min_coverage:.0%}; {skill})")


def consequence_sentence(control: dict, meets_size_criteria: bool) -> str:
    """What the verdict means for everything after it."""
    if control["passes"] and meets_size_criteria:
        return "The comparisons below can therefore speak about the middle."
    return ("Nothing below is therefore evidence about the middle; it is shown so that the reader sees "
            "what the instrument did.")


FLAT = 0.8  # a ladder whose largest fitted rung keeps this share of the smallest's excess did not move


def diagnose(settings: list[Ladder], n_fit: int, resolution: float) -> dict:
    """What the control's ladders did before the target, setting by setting: reached the floor
    (the largest fitted rung's mean excess within :data:`LEARNT` resolutions of it: little is left
    for a law to extrapolate), rose somewhere along the fitted rungs by more than two resolutions
    (not monotone: no decreasing law fits it), did not move (kept :data:`FLAT` of the smallest
    rung's excess), or was still falling."""
    out = {"at the floor": [], "not monotone": [], "did not move": [], "still falling": []}
    for s in settings:
        _, ex, _ = s.arrays()
        means = ex[:, :n_fit].mean(0)
        first, last = float(means[0]), float(means[-1])
        if last < LEARNT * resolution:
            kind = "at the floor"
        elif np.any(np.diff(means) > 2 * resolution):
            kind = "not monotone"
        elif last >= FLAT * first:
            kind = "did not move"
        else:
            kind = "still falling"
        out[kind].append(_name(s))
    return out


def _count(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def diagnosis_sentence(d: dict, resolution: float) -> str:
    n = sum(len(v) for v in d.values())
    parts = []
    if d["at the floor"]:
        parts.append(f"{_count(len(d['at the floor']), 'reaches', 'reach')} within {LEARNT * resolution:.3g} "
                     f"bits of the floor by the largest fitted rung ({'; '.join(d['at the floor'])}), where "
                     f"little is left to extrapolate")
    if d["not monotone"]:
        parts.append(f"{_count(len(d['not monotone']), 'rises', 'rise')} somewhere along the fitted rungs "
                     f"({'; '.join(d['not monotone'])}), which no decreasing law fits")
    if d["did not move"]:
        parts.append(f"{_count(len(d['did not move']), 'barely moves', 'barely move')} with size "
                     f"({'; '.join(d['did not move'])})")
    if d["still falling"]:
        parts.append(f"{_count(len(d['still falling']), 'is', 'are')} still falling ({'; '.join(d['still falling'])})")
    return f"of the {n} control settings, " + ", ".join(parts)


def misses_sentence(per_ends: list[dict]) -> str:
    """Each control loss outside its interval, named with the direction of the miss."""
    misses = [p for p in per_ends if not p["loss"].covered]
    if not misses:
        return "every control loss fell inside its interval"
    words = []
    for p in misses:
        q = p["loss"]
        way = "less" if q.actual > q.interval[1] else "more"
        words.append(f"{_name(p['setting'])} (predicted {q.predicted:.4f}, {q.interval[0]:.4f} to "
                     f"{q.interval[1]:.4f}; actual {q.actual:.4f}: {way} improvement than predicted)")
    lead = "1 control loss fell outside its interval" if len(misses) == 1 else \
        f"{len(misses)} control losses fell outside their intervals"
    return f"{lead}: " + "; ".join(words)


def width_text(predictions: list, relative: bool) -> str:
    """The median width of the 95 % intervals: as the ratio of their ends (loss, a log scale) or
    in rate points (capability)."""
    if relative:
        ratios = [q.interval[1] / q.interval[0] for q in predictions if q.interval[0] > 0]
        return f"median ratio of interval ends {np.median(ratios):.2f}" if ratios else "widths undefined"
    return f"median interval width {np.median([q.interval[1] - q.interval[0] for q in predictions]):.2f}"


def rate_sentence(rates: dict[int, float], design: Design) -> str:
    """What the declared learning-rate sweep chose, and whether the target width trained at the
    rate of the rungs fitted below it."""
    top = max(design.learning_rates)
    at_top = sum(rates[w] == top for w in design.widths)
    fitted = {rates[w] for w in design.widths[:design.n_fit]}
    target = rates[design.widths[design.target]]
    words = f"the sweep chose the largest candidate, {top:g}, for {at_top} of the {len(design.widths)} widths"
    if at_top:
        words += " (so the best rate may lie beyond the grid)"
    if fitted == {target}:
        return words + f", and the target width trained at the fitted rungs' rate, {target:g}"
    return words + (f", and the target width trained at {target:g}, not at the rate(s) of the rungs fitted below "
                    f"it ({', '.join(f'{r:g}' for r in sorted(fitted))}): the schedule changes at the rung "
                    f"being predicted")


def primary_sentence(difference: dict, control_passes: bool) -> str:
    """Decision 2 of the plan: is capability less predictable than loss?"""
    d, (lo, hi) = difference["difference"], difference["interval"]
    if d is None:
        return "the skill difference is undefined (persistence exact everywhere for one metric)"
    tail = "" if control_passes else " (shown for completeness; with the control failing it is not evidence)"
    if lo is not None and lo > 0:
        return f"capability is less predictable than loss{tail}"
    if hi is not None and hi < 0:
        return f"capability is more predictable than loss{tail}"
    return f"no difference between the two metrics' skill is resolved{tail}"


def plane_sentence(fit: dict, holm_p: float | None, metric: str) -> str:
    """Decision 3 of the plan for one metric, with the square term's estimate and both p-values."""
    if "unavailable" in fit:
        return f"the error model could not be fitted ({fit['unavailable']})"
    b2 = fit["coef"][2]
    shape = "bulges inside" if b2 < 0 else "bends the other way, up at the ends"
    stats = f"b2 = {b2:+.3g} (permutation p = {fit['p_value']:.2f}, Holm-corrected {holm_p:.2f})"
    if holm_p is not None and holm_p < 0.05 and fit["interior"]:
        return f"the error bulges inside the plane, {stats}"
    return f"no interior bulge is resolved: the fitted curve {shape}, {stats}"


def transition_rows(per: list[dict]) -> list[dict]:
    out = []
    for p in per:
        s = p["setting"]
        for what, key, foreseen in (("excess halves", "excess_halves", "excess_halves_foreseen"),
                                     ("exact match crosses 0.5", "match_half", "match_half_foreseen")):
            t, f = p[key], p[foreseen]
            out.append({"setting": _name(s), "family": s.family, "share": s.share, "E": max(s.E, 0.0),
                        "transition": what, "N_largest": float(s.N[-1]),
                        "N_star": None if t is None else t["N_star"],
                        "censored": "learnt at every size" if t is None else t["censored"],
                        "lo": None if t is None else t["interval"][0],
                        "hi": None if t is None else t["interval"][1],
                        "foreseen": None if f is None else f["N_star_predicted"]})
    return out


FORESEEN_CAP = 100  # a foreseen N* this many times beyond the largest rung is said as such


def _size(v) -> str:
    return "–" if v is None else f"{v:,.0f}"


def transition_table(rows: list[dict]) -> str:
    """One line per setting: where the excess halves and where exact match crosses 0.5, each
    with its 95 % interval, and where the rungs below would have put it."""
    def cell(r):
        if r["N_star"] is None:
            return {"below": "before the smallest rung", "above": "beyond the largest rung"}.get(
                r["censored"], r["censored"] or "–")
        return f"{_size(r['N_star'])} ({_size(r['lo'])} to {_size(r['hi'])})"

    def foreseen(r):
        v = r["foreseen"]
        if v is not None and v > FORESEEN_CAP * largest:
            return f"beyond {FORESEEN_CAP:g}× the largest rung"
        return _size(v)

    largest = max(r["N_largest"] for r in rows) if rows else 0.0
    by = {}
    for r in rows:
        by.setdefault(r["setting"], {})[r["transition"]] = r
    lines = ["| setting | E (bits) | excess halves at N (95 %) | foreseen | exact match 0.5 at N (95 %) | foreseen |",
             "|---|---:|---|---:|---|---:|"]
    for name, t in by.items():
        a, b = t["excess halves"], t["exact match crosses 0.5"]
        lines.append(f"| {name} | {max(a['E'], 0.0):.2f} | {cell(a)} | {foreseen(a)} | {cell(b)} | "
                     f"{foreseen(b)} |")
    return "\n".join(lines)


def primary_table(out: dict) -> str:
    """Coverage of the 95 % intervals and skill over persistence: the control's (loss at its
    ends) and both metrics' over every setting."""
    rows = [("control: loss at the ends", out["control"]["coverage"], out["control"]["skill"])]
    for metric in ("loss", "capability"):
        rows.append((f"{metric}, every setting", out["primary"][metric]["coverage"], out["primary"][metric]["skill"]))
    lines = ["| predictions | inside their 95 % interval | skill over persistence (95 %) |", "|---|---|---|"]
    for name, cov, sk in rows:
        lo, hi = cov["interval"]
        skill = ("undefined" if sk["skill"] is None else
                 f"{sk['skill']:.2f} ({interval_text(*sk['interval'])})")
        lines.append(f"| {name} | {cov['covered']} of {cov['n']} ({lo:.2f} to {hi:.2f}) | {skill} |")
    return "\n".join(lines)


def bayes_verdicts(rows: list[dict], width: int) -> dict[str, int]:
    """At ``width``, per setting: the model's loss minus the count-based Bayes predictor's on the
    same windows (mean over seeds, its standard error from the runs' paired ones), counted as
    better, worse (beyond two standard errors) or within them."""
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["width"] == width:
            by.setdefault((r["family"], r["knob"]), []).append(r)
    out = {"better": 0, "worse": 0, "within": 0}
    for runs in by.values():
        gap = float(np.mean([r["model_minus_bayes"] for r in runs]))
        se = math.sqrt(sum(r["model_minus_bayes_se"] ** 2 for r in runs)) / len(runs)
        out["better" if gap < -2 * se else "worse" if gap > 2 * se else "within"] += 1
    return out


def bayes_sentence(v: dict[str, int]) -> str:
    return (f"at the target size the model is better than the count-based Bayes predictor on "
            f"{v['better']} settings, worse on {v['worse']} and within two standard errors on {v['within']}")


def summarise(design: Design, plan: FrozenPlan, rate_rows: list[dict], rates: dict[int, float],
              sets: list[Ladder], out: dict, counts: Mapping[str, int], rows: list[dict]) -> CentralResult:
    """Every value, table and chosen sentence of the test, from the analysis ``out`` of
    :func:`analyse` over the ladders ``sets`` built from the run ``rows``."""
    found = Findings()
    d = design
    found.value("ct_plan_file", "src/middleground/experiments/plans/central.toml")
    found.value("ct_plan_sha", plan.sha256[:12])
    found.value("ct_plan_commit", plan.first_commit[:10] if plan.first_commit else
                "unknown (not a git checkout)")
    found.value("ct_plan_changes", "none" if not plan.changes else "; ".join(
        f"{c.date}: {c.change} ({c.reason})" for c in plan.changes))
    found.value("ct_n_settings", len(sets))
    found.value("ct_n_control", out["n_ends"])
    found.value("ct_widths", ", ".join(str(w) for w in d.widths))
    found.value("ct_N_min", f"{d.N[0]:,}")
    found.value("ct_N_fit_max", f"{d.N[d.n_fit - 1]:,}")
    found.value("ct_N_target", f"{d.N[d.target]:,}")
    found.value("ct_fit_span", f"{d.fit_span:.1f}")
    found.value("ct_target_ratio", f"{d.target_ratio:.1f}")
    found.value("ct_steps", f"{d.steps:,}")
    found.value("ct_n_seeds", len(d.seeds))
    found.value("ct_n_train", f"{d.n_train:,}")
    found.value("ct_rates", ", ".join(f"{w}: {rates[w]:g}" for w in d.widths))
    found.value("ct_candidates", ", ".join(f"{r:g}" for r in d.learning_rates))
    found.value("ct_min_coverage", f"{d.min_coverage:.0%}")
    found.value("ct_size_criteria", found.choose([
        (f"meets the plan's size criteria ({d.n_fit} fitted rungs over {d.fit_span:.1f}x, target "
         f"{d.target_ratio:.1f}x beyond)", d.meets_size_criteria),
        (f"is a rehearsal that misses the plan's size criteria ({d.n_fit} fitted rungs over "
         f"{d.fit_span:.1f}x, target {d.target_ratio:.1f}x beyond)", True)], d.fit_span))
    control = out["control"]
    found.value("ct_verdict", found.chosen(verdict_sentence(control, d.min_coverage, d.meets_size_criteria),
                                           control["passes"]))
    found.value("ct_n_fit", d.n_fit)
    found.value("ct_consequence", found.chosen(consequence_sentence(control, d.meets_size_criteria),
                                               control["passes"]))
    ends = [p for p in out["per_setting"] if p["setting"] in out["control_settings"]]
    found.value("ct_misses", found.chosen(misses_sentence(ends), control["coverage"]["covered"]))
    found.value("ct_control_width", width_text([p["loss"] for p in ends], relative=True))
    found.value("ct_loss_width", width_text([p["loss"] for p in out["per_setting"]], relative=True))
    found.value("ct_cap_width", width_text([p["capability"] for p in out["per_setting"]], relative=False))
    free_ends = [p["loss_free"] for p in ends if p["loss_free"] is not None]
    found.value("ct_free_skill", skill_text(ex.skill(free_ends, d.n_boot, 0)) if free_ends else "not computed")
    found.value("ct_diagnosis", found.chosen(
        diagnosis_sentence(diagnose(out["control_settings"], d.n_fit, d.resolution), d.resolution),
        control["coverage"]["rate"]))
    found.value("ct_rate_note", found.chosen(rate_sentence(rates, d), rates))
    found.value("ct_control_coverage", coverage_text(control["coverage"]))
    found.value("ct_control_skill", skill_text(control["skill"]))
    free = out["control_free_asymptote"]
    found.value("ct_free_coverage", coverage_text(free) if free else "not computed")
    found.value("ct_laws_agree", found.choose([
        ("judged by coverage alone (the plan does not define the check further), the two laws agree",
         out["laws_agree"]),
        ("judged by coverage alone (the plan does not define the check further), the two laws disagree, "
         "so the coverage half of the verdict depends on the law", True)], out["laws_agree"]))
    prim = out["primary"]
    for metric, key in (("loss", "loss"), ("capability", "cap")):
        found.value(f"ct_{key}_coverage", coverage_text(prim[metric]["coverage"]))
        found.value(f"ct_{key}_skill", skill_text(prim[metric]["skill"]))
    diff = prim["skill_difference"]
    found.value("ct_skill_difference", "undefined" if diff["difference"] is None else
                f"{diff['difference']:+.2f} (95 % interval {interval_text(*diff['interval'])})")
    found.value("ct_primary", found.chosen(primary_sentence(diff, control["passes"]), diff["difference"]))
    holm = out["holm"]
    for metric in ("loss", "capability"):
        name = f"interior effect on {metric} error"
        fit = out["plane"][metric]
        found.value(f"ct_plane_{metric[:3]}", found.chosen(plane_sentence(fit, holm.get(name), metric),
                                                           holm.get(name)))
    per = out["per_setting"]
    learnt = sum(p["learnt_at_every_size"] for p in per)
    halves = [p["excess_halves"] for p in per if p["excess_halves"] is not None]
    inside = sum(t["N_star"] is not None for t in halves)
    crosses = sum(p["match_half"]["N_star"] is not None for p in per)
    found.value("ct_learnt", learnt)
    found.value("ct_halves_inside", inside)
    found.value("ct_match_crosses", crosses)
    found.value("ct_n_runs", counts["cells"])
    # the count-based baseline beside the largest model, from the runs' own paired figures
    found.value("ct_bayes", found.chosen(bayes_sentence(bayes_verdicts(rows, d.widths[d.target])),
                                         d.widths[d.target]))
    roles = {(s.family, s.knob): role(s, d.control_min_E) for s in sets}
    ladder_rows = []
    for s in sets:
        N, excess, k = s.arrays()
        for j, w in enumerate(d.widths):
            ladder_rows.append({"setting": _name(s), "family": s.family, "share": s.share, "E": max(s.E, 0.0),
                                "role": roles[s.family, s.knob], "width": w, "N": float(N[j]),
                                "excess": float(excess[:, j].mean()), "exact": float(k[:, j].sum() / (s.n * len(k))),
                                "fitted": j < d.n_fit, "target": j == d.target})
    scatter, plane_table = [], []
    for p in per:
        s = p["setting"]
        for metric, pred in (("loss (excess, bits)", p["loss"]), ("capability (exact match)", p["capability"])):
            scatter.append({"setting": _name(s), "role": roles[s.family, s.knob], "metric": metric,
                            "predicted": pred.predicted, "lo": pred.interval[0], "hi": pred.interval[1],
                            "actual": pred.actual, "persistence": pred.persistence, "covered": pred.covered,
                            "error": pred.error, "persistence_error": pred.persistence_error})
        plane_table.append({"setting": _name(s), "share": s.share, "E": max(s.E, 0.0), "role": roles[s.family, s.knob],
                            "loss_error": p["loss"].error, "capability_error": p["capability"].error})
    transitions = transition_rows(per)
    fits, fit_line = {}, []
    E_mid = float(np.median([s.E for s in sets]))
    for metric, key in (("loss", "loss_error"), ("capability", "capability_error")):
        fit = out["plane"][metric]
        fits[metric] = MappingProxyType({**fit, "holm_p": holm.get(f"interior effect on {metric} error")})
        if "coef" in fit:
            b0, b1, b2, b3 = fit["coef"]
            for i in range(33):
                x = 0.1 + 0.8 * i / 32
                fit_line.append({"metric": key, "share": x, "E": E_mid, "fit": b0 + b1 * x + b2 * x * x + b3 * E_mid})
    return CentralResult(plan_sha256=plan.sha256, design=d, rate_rows=tuple(rate_rows),
                         ladder_rows=tuple(ladder_rows), scatter_rows=tuple(scatter),
                         plane_rows=tuple(plane_table), transition_rows=tuple(transitions),
                         plane_fits=MappingProxyType(fits), fit_rows=tuple(fit_line),
                         primary_table=primary_table(out), transition_table=transition_table(transitions),
                         verdict=out["verdict"], counts=MappingProxyType(dict(counts)), **found.done())


def check_plan(result: CentralResult, plan_path: Path | str = PLAN) -> FrozenPlan:
    """The committed plan at ``plan_path``, after checking that ``result`` was computed under it
    (:class:`~middleground.experiments.frozen_plan.PlanMismatch` otherwise): a chapter never
    shows numbers beside a plan that did not produce them."""
    plan = frozen_plan.load(plan_path)
    frozen_plan.check_result(plan, result.plan_sha256)
    return plan


def run(profile: str, plan_path: Path | str = PLAN) -> CentralResult:
    """The central test as the plan at ``plan_path`` states it for ``profile``: the declared
    learning-rate sweep, then the test's runs (both through the sweep cache, under "central"),
    then :func:`analyse` and :func:`summarise`."""
    plan = frozen_plan.load(plan_path)
    d = design(plan, profile)
    tune = tuning_cells(d)
    tuned, tune_counts = cache.run("central", tune, knob.group_key, knob.train_group)
    rates, rate_rows = choose_rates(d, tune, tuned)
    cells = plane_cells(d, rates)
    results, counts = cache.run("central", cells, knob.group_key, knob.train_group)
    rows = plane_rows(d, cells, results)
    sets = ladders(rows, list(d.widths), KNOB_K)
    out = analyse(sets, d.n_fit, d.target, d.min_coverage, d.resolution, d.n_boot, d.n_perm,
                  control_min_E=d.control_min_E)
    total = {k: counts[k] + tune_counts[k] for k in counts}
    return summarise(d, plan, rate_rows, rates, sets, out, total, rows)
