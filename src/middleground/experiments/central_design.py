"""The central test's design, read from its frozen plan: which runs to train, and at what rate.

The plan (``plans/central.toml``, :mod:`.frozen_plan`) states the settings, sizes, schedule and
statistics per profile; :func:`design` reads one profile's part into a :class:`Design` and checks
it before anything trains: every setting names a source of the (h, E) plane, the widths grow,
and (for ``full`` and ``gpu``) the size criteria the plan states hold: at least 5 fitted rungs
spanning at least ``min_fit_span`` times in non-embedding parameters, and a target at least
``min_target_ratio`` times beyond the largest fitted one. ``quick`` is a rehearsal of the code
path and is allowed to miss them (:attr:`Design.meets_size_criteria` says so).

:func:`tuning_cells` are the declared learning-rate sweep (every candidate rate at every width on
the tuning settings, with the tuning seed), :func:`choose_rates` picks each width's rate from
their results by the plan's rule, and :func:`plane_cells` are the test's runs at those rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..base import checks
from ..sources import plane
from ..sweeps import knob
from .frozen_plan import FrozenPlan, PlanError

PLAN = Path(__file__).with_name("plans") / "central.toml"
PROFILES = ("quick", "full", "gpu")
CURVE_POINTS = 2      # the test needs no learning curves: the start and the end of each run
CURVE_PROMPTS = 8
TIE = 1e-9            # bits: rates whose mean excesses differ by less are tied (the smaller wins)


@dataclass(frozen=True)
class Design:
    """One profile's part of the plan, checked."""

    profile: str
    settings: tuple[tuple[str, float], ...]   # (plane family name, h share)
    control_min_E: float
    widths: tuple[int, ...]
    n_fit: int
    target: int
    steps: int
    n_train: int
    seeds: tuple[int, ...]
    eval_symbols: int
    eval_prompts: int
    learning_rates: tuple[float, ...]
    tuning_settings: tuple[tuple[str, float], ...]
    tuning_seed: int
    resolution: float
    n_boot: int
    n_perm: int
    min_coverage: float
    min_fit_span: float
    min_target_ratio: float
    N: tuple[int, ...]                        # non-embedding parameters per width

    @property
    def fit_span(self) -> float:
        return self.N[self.n_fit - 1] / self.N[0]

    @property
    def target_ratio(self) -> float:
        return self.N[self.target] / self.N[self.n_fit - 1]

    @property
    def meets_size_criteria(self) -> bool:
        return (self.n_fit >= 5 and self.fit_span >= self.min_fit_span
                and self.target_ratio >= self.min_target_ratio)


def parse_setting(text: str) -> tuple[str, float]:
    """``"period-8@0.15"`` -> ``("period-8", 0.15)``; the name must be one of the plane's."""
    name, at, share = str(text).partition("@")
    if not at or name not in plane.NAMES:
        raise PlanError(f"a setting is written family@share with family one of "
                        f"{', '.join(plane.NAMES)}; got {text!r}")
    try:
        value = float(share)
    except ValueError:
        raise PlanError(f"the h share of setting {text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise PlanError(f"the h share of setting {text!r} must lie strictly between 0 and 1")
    return name, value


def _per_profile(section, key: str, profile: str, plan: FrozenPlan):
    table = section.get(key)
    if not hasattr(table, "get") or profile not in table:
        raise PlanError(f"the plan {plan.path.name} states no {key!r} for profile {profile!r}")
    return table[profile]


def design(plan: FrozenPlan, profile: str) -> Design:
    """The plan's design for ``profile`` (one of :data:`PROFILES`), checked; raises
    :class:`~middleground.experiments.frozen_plan.PlanError` naming what is wrong."""
    checks.one_of("profile", profile, PROFILES)
    st, sz, sc, stats, dec = (plan.section(n) for n in ("settings", "sizes", "schedule", "statistics", "decision"))
    if profile not in st:
        raise PlanError(f"the plan {plan.path.name} lists no settings for profile {profile!r}")
    settings = tuple(parse_setting(t) for t in st[profile])
    if len(set(settings)) != len(settings):
        raise PlanError(f"the plan {plan.path.name} lists a setting twice for profile {profile!r}")
    if profile not in sz or profile not in sc:
        raise PlanError(f"the plan {plan.path.name} states no sizes or schedule for profile {profile!r}")
    sizes, schedule = sz[profile], sc[profile]
    widths = tuple(int(w) for w in sizes["widths"])
    if len(widths) < 3 or any(w % 2 or w < 4 for w in widths) or list(widths) != sorted(set(widths)):
        raise PlanError(f"widths must be at least three even numbers >= 4, increasing; got {list(widths)}")
    n_fit, target = int(sizes["n_fit"]), int(sizes["target"])
    if not 2 <= n_fit < len(widths) or not n_fit <= target < len(widths):
        raise PlanError(f"n_fit must be in [2, {len(widths) - 1}] and target in [n_fit, {len(widths) - 1}]; "
                        f"got n_fit={n_fit}, target={target}")
    rates = tuple(float(r) for r in _per_profile(sc, "learning_rates", profile, plan))
    if not rates or any(not 0 < r < 1 for r in rates) or list(rates) != sorted(set(rates)):
        raise PlanError(f"learning_rates must be increasing rates in (0, 1); got {list(rates)}")
    seeds = tuple(int(s) for s in schedule["seeds"])
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise PlanError(f"at least two distinct seeds are needed (intervals rest on their spread); got {list(seeds)}")
    tuning_seed = int(sc["tuning_seed"])
    if tuning_seed in seeds:
        raise PlanError(f"the tuning seed {tuning_seed} must not be a test seed")
    tuning = tuple(parse_setting(t) for t in _per_profile(sc, "tuning_settings", profile, plan))
    if set(tuning) & set(settings):
        raise PlanError("a tuning setting must not be a test setting")
    d = Design(
        profile=profile, settings=settings, control_min_E=float(st["control_min_E"]),
        widths=widths, n_fit=n_fit, target=target, steps=int(schedule["steps"]),
        n_train=int(schedule["n_train"]), seeds=seeds, eval_symbols=int(schedule["eval_symbols"]),
        eval_prompts=int(schedule["eval_prompts"]), learning_rates=rates, tuning_settings=tuning,
        tuning_seed=tuning_seed, resolution=float(_per_profile(stats, "resolution", profile, plan)),
        n_boot=int(_per_profile(stats, "n_boot", profile, plan)),
        n_perm=int(_per_profile(stats, "n_perm", profile, plan)),
        min_coverage=float(dec["min_coverage"]), min_fit_span=float(sz["min_fit_span"]),
        min_target_ratio=float(sz["min_target_ratio"]),
        N=tuple(knob.non_embedding_params(w) for w in widths))
    if profile != "quick" and not d.meets_size_criteria:
        raise PlanError(f"profile {profile!r} misses the plan's size criteria: {d.n_fit} fitted rungs "
                        f"spanning {d.fit_span:.1f}x (at least 5 and {d.min_fit_span:g}x), target "
                        f"{d.target_ratio:.1f}x beyond (at least {d.min_target_ratio:g}x)")
    return d


def _cells(d: Design, settings, seeds, width: int, rate: float) -> list[dict]:
    return [c for name, share in settings
            for c in knob.cells(name, [share], list(seeds), d.steps, n_embd=width, n_val=d.eval_symbols,
                                n_prompts=d.eval_prompts, curve_points=CURVE_POINTS,
                                curve_prompts=min(CURVE_PROMPTS, d.eval_prompts), learning_rate=rate,
                                min_lr=rate / 10, n_train=d.n_train)]


def tuning_cells(d: Design) -> list[dict]:
    """The declared learning-rate sweep: every candidate at every width on every tuning setting,
    with the tuning seed."""
    return [c for w in d.widths for r in d.learning_rates
            for c in _cells(d, d.tuning_settings, [d.tuning_seed], w, r)]


def choose_rates(d: Design, cells: list[dict], results: list[dict]) -> tuple[dict[int, float], list[dict]]:
    """Each width's rate by the plan's rule (lowest mean final excess over the tuning settings; a
    tie within :data:`TIE` bits goes to the smaller rate), and one row per width and candidate."""
    excess: dict[tuple[int, float], list[float]] = {}
    for c, r in zip(cells, results):
        excess.setdefault((c["model"]["n_embd"], c["learning_rate"]), []).append(r["final"]["excess_floor"])
    chosen, rows = {}, []
    for w in d.widths:
        means = {}
        for rate in d.learning_rates:
            values = excess.get((w, rate))
            if not values or len(values) != len(d.tuning_settings):
                raise ValueError(f"the tuning runs of width {w} at rate {rate:g} are missing")
            means[rate] = float(sum(values) / len(values))
        best = min(means.values())
        chosen[w] = min(rate for rate, m in means.items() if m <= best + TIE)
        rows += [{"width": w, "N": d.N[d.widths.index(w)], "learning_rate": rate, "mean_excess": m,
                  "chosen": rate == chosen[w]} for rate, m in means.items()]
    return chosen, rows


def plane_cells(d: Design, rates: dict[int, float]) -> list[dict]:
    """The test's runs: every setting and seed at every width, each width at its chosen rate."""
    missing = [w for w in d.widths if w not in rates or not math.isfinite(rates[w])]
    if missing:
        raise ValueError(f"no learning rate chosen for width(s) {missing}")
    return [c for w in d.widths for c in _cells(d, d.settings, d.seeds, w, rates[w])]
