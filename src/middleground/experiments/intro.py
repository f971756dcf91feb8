"""The introduction's experiment: one tiny GPT trained on noise, on a periodic word and on text,
and the book's finding in one paragraph.

The teaser (:func:`teaser`) trains the same model on the two ends of the knob and on Tiny
Shakespeare; :func:`teaser_values` states where it ends. The finding is chapter ladder's central
test (:func:`middleground.experiments.ladder.central`, the same runs through the sweep cache),
worded by :func:`middleground.experiments.ladder.decision_sentence`, so it cannot drift from that
chapter. :func:`run` is the chapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..base import data
from ..base.bits import NATS_TO_BITS
from ..base.profiles import ChapterConfig
from ..gpt import text, training_log
from ..gpt.core import TrainConfig
from ..gpt.device import Device, pick
from ..gpt.model import GPTConfig
from ..gpt.train import fit
from ..sources.processes import IID, Periodic
from . import central as central_test
from . import ladder
from .report import Findings, Result


def three_sources(period: int = 16, seed: int = 0, synthetic_length: int = 200_000):
    """Uniform noise, a periodic word, and Tiny Shakespeare, all over the same 65-symbol alphabet.

    Returns ``({name: (train_tokens, val_tokens, exact_h_bits_or_None)}, alphabet_size)``. Tiny
    Shakespeare is split 90/10 by position as in nanoGPT; the synthetic sources get independent
    draws for validation.
    """
    corpus = data.read_text("tinyshakespeare")
    vocab = text.CharVocab.from_text(corpus)
    k = len(vocab)
    rng = np.random.default_rng(seed)
    noise = IID.uniform(k)
    periodic = Periodic.random(period, k, rng)
    n_val = synthetic_length // 10
    out = {}
    for src in (noise, periodic):
        out[src.name] = (src.sample(synthetic_length, rng), src.sample(n_val, rng), src.entropy_rate)
    train, val = text.split(vocab.encode(corpus))
    out["Tiny Shakespeare"] = (train, val, None)
    return out, k


def teaser_model(vocab_size: int, n_embd: int, block_size: int) -> GPTConfig:
    """The teaser's GPT: two layers, four heads."""
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=2, n_head=4, n_embd=n_embd)


def teaser(steps: int, n_embd: int, block_size: int, batch_size: int, n_seeds: int, seed: int,
           device: Device | None = None) -> tuple[list[dict], dict]:
    """Train one tiny GPT per source and seed; return loss-curve records (bits) and run facts."""
    datasets, k = three_sources(seed=seed)
    model_cfg = teaser_model(k, n_embd, block_size)
    records, n_params = [], None
    for name, (train, val, h) in datasets.items():
        for s in range(n_seeds):
            tc = TrainConfig(max_iters=steps, batch_size=batch_size, seed=seed + s,
                             learning_rate=3e-3, min_lr=3e-4, beta2=0.95,
                             eval_interval=max(1, steps // 10), eval_iters=8,
                             warmup_iters=max(1, min(20, steps // 10)))
            run = fit(model_cfg, tc, train, val, device, on_start=training_log.from_settings())
            n_params = run.n_params
            for row in run.history:
                records.append({"source": name, "seed": seed + s, "step": row["step"],
                                "val_bits": row["val_loss"] * NATS_TO_BITS,
                                "exact_h": h})
    return records, {"n_params": n_params}


def final_losses(records: list[dict]) -> dict[str, tuple[float, float, float]]:
    """Per source, the held-out loss at the last step: mean, smallest and largest over seeds."""
    final_step = max(r["step"] for r in records)
    final: dict[str, list] = {}
    for r in records:
        if r["step"] == final_step:
            final.setdefault(r["source"], []).append(r["val_bits"])
    return {name: (float(np.mean(v)), float(np.min(v)), float(np.max(v))) for name, v in final.items()}


def exact_rates(records: list[dict]) -> dict[str, float]:
    """The exact entropy rate of every source that has one (the two synthetic ones)."""
    return {r["source"]: r["exact_h"] for r in records if r["exact_h"] is not None}


def teaser_values(found: Findings, records: list[dict], n_params: int, steps: int, n_seeds: int) -> None:
    """Record where the teaser ends on each source, and check the three claims about it: noise and
    the periodic word end within a hundredth of a bit of their exact h, Shakespeare in between."""
    summary = final_losses(records)
    noise_name, periodic_name = [n for n in summary if n != "Tiny Shakespeare"]
    exact = exact_rates(records)
    found.value("intro_params", f"{n_params:,}")
    found.value("intro_steps", steps)
    found.value("intro_seeds", n_seeds)
    found.value("intro_seeds_text", ladder.seeds_text(n_seeds))
    found.value("intro_noise_h", exact[noise_name])
    found.value("intro_noise_loss", summary[noise_name][0])
    found.value("intro_noise_excess", summary[noise_name][0] - exact[noise_name])
    found.value("intro_periodic_loss", summary[periodic_name][0])
    found.value("intro_shakespeare_loss", summary["Tiny Shakespeare"][0])
    found.value("intro_shakespeare_spread", summary["Tiny Shakespeare"][2] - summary["Tiny Shakespeare"][1])
    noise_excess = summary[noise_name][0] - exact[noise_name]
    found.claim("on noise the model ends within a hundredth of a bit of the exact entropy rate",
                abs(noise_excess) < 0.01, noise_excess)
    found.claim("on the periodic sequence the model ends within a hundredth of a bit of h = 0",
                abs(summary[periodic_name][0]) < 0.01, summary[periodic_name][0])
    found.claim("on Tiny Shakespeare the model ends between the two: well above zero, well below noise",
                0.1 < summary["Tiny Shakespeare"][0] < exact[noise_name] - 1, summary["Tiny Shakespeare"][0])


def stated(res: dict, unit: str, digits: int) -> str:
    """A contrast of the central test as the introduction states it, unit included."""
    lo, hi = res["interval"]
    return (f"{res['difference']:+.{digits}f} {unit} (95 % interval {lo:+.{digits}f} to "
            f"{hi:+.{digits}f}, permutation p = {res['p_value']:.3g})")


def finding_values(found: Findings, test: dict, decision: str, n_settings: int, n_runs: int,
                   n_rungs: int) -> None:
    """Record the central test's summary (chapter ladder's ``test`` and ``decision``) and the two
    sentences chosen from it: the finding by the pre-stated rule and what the test could detect."""
    found.value("intro_D_cap", stated(test["capability"], "in log-odds", 2))
    found.value("intro_D_loss", stated(test["loss"], "bits", 4))
    found.value("intro_n_settings", n_settings)
    found.value("intro_n_runs", n_runs)
    found.value("intro_rungs", n_rungs)
    finding = ladder.decision_sentence(decision, "intro")
    found.claim(finding, True, {"decision": decision, "capability": test["capability"], "loss": test["loss"]})
    found.value("intro_finding", finding)
    power = ladder.power_sentence(test["capability"], test["loss"], "intro")
    found.claim(power, True, test["capability"]["min_p"])
    found.value("intro_power", power)


def plane_values(found: Findings, plane) -> None:
    """The central test on the (h, E) plane as the introduction states it, control first: the
    verdict, the control's coverage and skill, both metrics' skill and their difference, and the
    plane's two error models, all worded by chapter ladder's functions (:mod:`.central`)."""
    v = plane.values
    for key in ("ct_verdict", "ct_consequence", "ct_diagnosis", "ct_rate_note", "ct_free_coverage",
                "ct_laws_agree", "ct_control_coverage", "ct_control_skill", "ct_loss_skill", "ct_cap_skill",
                "ct_skill_difference", "ct_primary", "ct_plane_los", "ct_plane_cap", "ct_n_settings",
                "ct_n_control", "ct_N_min", "ct_N_target", "ct_plan_sha", "ct_plan_commit"):
        found.value(f"intro_{key}", v[key])
    for c in plane.claims:
        if c.text in (v["ct_verdict"], v["ct_consequence"], v["ct_primary"]):
            found.claim(c.text, c.holds, c.value)


@dataclass(frozen=True)
class IntroResult(Result):
    """The teaser's loss curves (``records``, bits per symbol), the exact entropy rates of its
    synthetic sources, the central test's decision, and every value and claim the chapter states."""

    records: tuple[dict, ...]
    exact: Mapping[str, float]
    decision: str
    test: Mapping[str, Any]


def run(cfg: ChapterConfig) -> IntroResult:
    """Chapter intro: the teaser at ``cfg``'s sizes on the picked device, and chapter ladder's
    central test for ``cfg``'s profile and seed."""
    records, facts = teaser(cfg.steps, cfg.n_embd, cfg.block_size, cfg.batch_size, cfg.n_seeds,
                            cfg.seed, pick())
    found = Findings()
    teaser_values(found, records, facts["n_params"], cfg.steps, cfg.n_seeds)
    plane_values(found, central_test.run(cfg.profile))
    central = ladder.central(cfg.profile, cfg.seed)
    finding_values(found, central["test"], central["decision"], len(central["settings"]),
                   len(central["runs"]), len(central["widths"]))
    return IntroResult(records=tuple(records), exact=MappingProxyType(exact_rates(records)),
                       decision=central["decision"], test=MappingProxyType(central["test"]),
                       **found.done())
