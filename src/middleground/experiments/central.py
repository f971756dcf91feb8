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

import numpy as np

from ..base import checks
from ..measures import extrapolation as ex
from ..measures import regions

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
            resolution: float, n_boot: int, n_perm: int, seed: int = 0) -> dict:
    """The control, the primary statistics, the plane and the transitions (see the module's
    docstring) for ladders fitted on rungs ``0 .. n_fit - 1`` and predicting rung ``target``."""
    if not settings:
        raise ValueError("analyse needs at least one setting")
    checks.real("min_coverage", min_coverage, 0.0, 1.0)
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
    ends = [p for p in per if p["setting"].region in (regions.ORDERED, regions.NOISY)]
    if not ends:
        raise ValueError("the control needs settings at the ends (ordered or noisy regions)")
    control = ex.control_verdict([p["loss"] for p in ends], min_coverage, n_boot, seed)
    free_ends = [p["loss_free"] for p in ends if p["loss_free"] is not None]
    free = ex.coverage(free_ends) if free_ends else None
    out = {"control": control, "verdict": VERDICTS[int(control["passes"])],
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
