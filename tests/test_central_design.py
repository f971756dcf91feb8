"""The central test as its frozen plan states it: the design read and checked before anything
trains, the declared learning-rate rule, the test's runs, and the whole experiment on synthetic
ladders with known answers (the trainer replaced by exact laws), including a result computed
under another plan being refused."""

import math

import numpy as np
import pytest

from middleground.experiments import central, central_design as cd, frozen_plan as fp
from middleground.sources import plane

COMMITTED = fp.load(cd.PLAN)

PLAN = """\
[settings]
full = ["period-8@0.15", "period-8@0.85", "period-2@0.15", "period-2@0.85", "iid@0.5", "period-8@0.5"]
control_min_E = 0.5
[sizes]
full = {{ widths = {widths}, n_fit = 5, target = 5 }}
min_fit_span = 10.0
min_target_ratio = 4.0
[schedule]
full = {{ steps = 100, n_train = 10_000, seeds = [0, 1, 2], eval_symbols = 33_000, eval_prompts = 400 }}
learning_rates = {{ full = [1e-3, 3e-3] }}
tuning_settings = {{ full = ["period-8@0.3"] }}
tuning_seed = {tuning_seed}
[statistics]
resolution = {{ full = 0.001 }}
n_boot = {{ full = 300 }}
n_perm = {{ full = 200 }}
[decision]
min_coverage = 0.75
[secondary]
tests = ["interior effect on loss error", "interior effect on capability error"]
"""
WIDE = "[6, 8, 10, 14, 20, 42]"


def plan_file(tmp_path, widths=WIDE, tuning_seed=1000, name="plan.toml"):
    path = tmp_path / name
    path.write_text(PLAN.format(widths=widths, tuning_seed=tuning_seed))
    return fp.load(path)


def test_the_committed_plan_has_a_design_for_every_profile():
    full, gpu, quick = (cd.design(COMMITTED, p) for p in ("full", "gpu", "quick"))
    for d in (full, gpu):  # the criteria: >= 5 fitted rungs over >= 10x, target >= 4x beyond
        assert d.meets_size_criteria and d.n_fit >= 5 and d.fit_span >= 10 and d.target_ratio >= 4
    assert gpu.N[gpu.target] / gpu.N[0] >= 64  # the gpu profile carries the plan over >= 64x
    assert not quick.meets_size_criteria  # a rehearsal, and its result says so
    # the control exists: ends with structure in every profile
    for d in (full, gpu, quick):
        ends = [(n, s) for n, s in d.settings if (s < 0.25 or s > 0.75)
                and plane.member(n, s).excess_entropy >= d.control_min_E]
        assert len(ends) >= 2
    # the design trains each run on fresh data under full: steps x 16 windows x 33 symbols
    assert full.n_train == full.steps * 16 * 33


def test_a_ladder_that_misses_the_size_criteria_is_refused_before_training(tmp_path):
    with pytest.raises(fp.PlanError, match=r"misses the plan's size criteria: 5 fitted rungs spanning 8\.7x \(at least 5 and 10x\)"):
        cd.design(plan_file(tmp_path, widths="[4, 6, 8, 10, 12, 24]"), "full")


@pytest.mark.parametrize("bad, message", [
    ('"period-7@0.5"', "family one of iid, period-2"),
    ('"iid@1.2"', "strictly between 0 and 1"),
    ('"iid"', "family@share"),
])
def test_a_bad_setting_is_named(tmp_path, bad, message):
    path = tmp_path / "plan.toml"
    path.write_text(PLAN.format(widths=WIDE, tuning_seed=1000).replace('"iid@0.5"', bad))
    with pytest.raises(fp.PlanError, match=message):
        cd.design(fp.load(path), "full")


def test_tuning_never_touches_the_test(tmp_path):
    with pytest.raises(fp.PlanError, match="tuning seed 1 must not be a test seed"):
        cd.design(plan_file(tmp_path, tuning_seed=1), "full")
    path = tmp_path / "clash.toml"
    path.write_text(PLAN.format(widths=WIDE, tuning_seed=1000).replace('["period-8@0.3"]', '["iid@0.5"]'))
    with pytest.raises(fp.PlanError, match="tuning setting must not be a test setting"):
        cd.design(fp.load(path), "full")
    with pytest.raises(fp.PlanError, match="no settings for profile 'gpu'"):
        cd.design(plan_file(tmp_path), "gpu")


def test_the_rate_rule_picks_the_lowest_excess_and_a_tie_goes_to_the_smaller_rate(tmp_path):
    d = cd.design(plan_file(tmp_path), "full")
    cells = cd.tuning_cells(d)
    assert len(cells) == len(d.widths) * len(d.learning_rates) * len(d.tuning_settings)
    assert {c["seed"] for c in cells} == {d.tuning_seed}
    # width 6 prefers the larger rate, width 8 ties (the smaller wins), the rest prefer the smaller
    excess = {(6, 1e-3): 0.30, (6, 3e-3): 0.20, (8, 1e-3): 0.10, (8, 3e-3): 0.10 + 1e-12}
    results = [{"final": {"excess_floor": excess.get((c["model"]["n_embd"], c["learning_rate"]),
                                                     0.05 if c["learning_rate"] == 1e-3 else 0.07)}}
               for c in cells]
    rates, rows = cd.choose_rates(d, cells, results)
    assert rates == {6: 3e-3, 8: 1e-3, 10: 1e-3, 14: 1e-3, 20: 1e-3, 42: 1e-3}
    assert sum(r["chosen"] for r in rows) == len(d.widths)
    with pytest.raises(ValueError, match="tuning runs of width 6 at rate 0.001 are missing"):
        cd.choose_rates(d, cells[1:], results[1:])
    runs = cd.plane_cells(d, rates)
    assert len(runs) == len(d.settings) * len(d.seeds) * len(d.widths)
    assert all(c["learning_rate"] == rates[c["model"]["n_embd"]] and c["min_lr"] == c["learning_rate"] / 10
               and c["n_train"] == d.n_train and c["n_val"] == d.eval_symbols for c in runs)
    with pytest.raises(ValueError, match=r"no learning rate chosen for width\(s\) \[42\]"):
        cd.plane_cells(d, {w: r for w, r in rates.items() if w != 42})


def fake_sweep(monkeypatch, law):
    """Replace training by ``law(cell, N) -> (excess, exact rate)``: each run's result is the
    law's value with a small seed-to-seed wobble, and exact counts out of the cell's prompts."""
    def fake_run(name, cells, group_key, train_group):
        out = []
        for c in cells:
            N = cd.knob.non_embedding_params(c["model"]["n_embd"])
            source = plane.member(c["family"], c["knob"])
            excess, rate = law(c, N)
            wobble = 1.0 + 0.03 * np.random.default_rng([c["seed"], c["model"]["n_embd"]]).standard_normal()
            k = int(round(min(max(rate, 0.0), 1.0) * c["n_prompts"]))
            out.append({"h": source.entropy_rate, "E": source.excess_entropy,
                        "final": {"excess_floor": excess * wobble, "exact_count": k,
                                  "n_prompts": c["n_prompts"], "model_minus_bayes": -0.1,
                                  "model_minus_bayes_se": 0.01}})
        return out, {"cells": len(cells), "reused": 0, "executed": len(cells), "groups": 1}
    monkeypatch.setattr(central.cache, "run", fake_run)


def clean(c, N):
    rate = 1 / (1 + math.exp(-(math.log(N) - math.log(3000))))
    return 0.8 * (N / 900) ** -0.6, rate


def jump_at_the_target(c, N):
    excess, rate = clean(c, N)
    return (excess / 20 if N > 20_000 else excess), rate


def test_on_a_clean_law_the_control_passes_and_the_plan_is_recorded(tmp_path, monkeypatch):
    fake_sweep(monkeypatch, clean)
    plan = plan_file(tmp_path)
    r = central.run("full", plan.path)
    assert r.verdict == "control passes" and r.values["ct_verdict"].startswith("that the control passes: the plan's fixed-floor law")
    assert r.plan_sha256 == plan.sha256 and r.values["ct_plan_changes"] == "none"
    assert r.values["ct_n_control"] == 4  # period-8 and period-2 at both ends; not the i.i.d. setting
    roles = {row["setting"]: row["role"] for row in r.plane_rows}
    assert roles["i.i.d., h share 0.50"] == "shallow"
    assert roles["period 8, h share 0.15"] == "control (ordered end)"
    # the scatter holds one prediction per setting and metric, each inside its interval
    assert len(r.scatter_rows) == 2 * 6 and all(row["covered"] for row in r.scatter_rows
                                                  if row["metric"].startswith("loss"))
    # the excess of a clean power law halves inside the ladder: 0.8 (N/900)^-0.6 halves at N ≈ 2,850
    halves = [row for row in r.transition_rows if row["transition"] == "excess halves"]
    assert all(row["N_star"] is not None and 2000 < row["N_star"] < 4000 for row in halves)
    # exact match crosses 0.5 at N = 3,000 by construction
    crosses = [row for row in r.transition_rows if row["transition"] == "exact match crosses 0.5"]
    assert all(abs(math.log(row["N_star"] / 3000)) < 0.15 for row in crosses)
    assert "| setting | E (bits) |" in r.transition_table and "control: loss at the ends" in r.primary_table
    assert all(c.holds for c in r.claims)


def test_with_a_jump_at_the_target_the_control_fails_first_and_says_why(tmp_path, monkeypatch):
    fake_sweep(monkeypatch, jump_at_the_target)
    r = central.run("full", plan_file(tmp_path).path)
    assert r.verdict == "control fails"
    assert r.values["ct_verdict"].startswith("inconclusive, because the plan's fixed-floor law failed the control "
                                             "(its 95 % intervals held 0 of 4 control losses, where the plan requires 75%")
    assert r.values["ct_consequence"].startswith("Nothing below is therefore evidence about the middle")
    assert "not evidence" in r.values["ct_primary"]
    # each miss is named with its direction: the jump made the target far better than the law said
    assert r.values["ct_misses"].startswith("4 control losses fell outside their intervals: ")
    assert r.values["ct_misses"].count("more improvement than predicted") == 4


def test_a_result_computed_under_another_plan_is_refused(tmp_path, monkeypatch):
    fake_sweep(monkeypatch, clean)
    other = central.run("full", plan_file(tmp_path).path)
    with pytest.raises(fp.PlanMismatch, match="computed under the plan with SHA-256"):
        central.check_plan(other)  # against the committed plan, as chapter ladder checks it
    same = plan_file(tmp_path, name="same.toml")  # the same bytes elsewhere: the same plan
    assert central.check_plan(other, same.path).sha256 == other.plan_sha256


def test_the_introduction_states_the_control_first_in_the_chapter_s_words(tmp_path, monkeypatch):
    from middleground.experiments import intro
    from middleground.experiments.report import Findings

    fake_sweep(monkeypatch, jump_at_the_target)
    r = central.run("full", plan_file(tmp_path).path)
    found = Findings()
    intro.plane_values(found, r)
    done = found.done()
    assert done["values"]["intro_ct_verdict"] == r.values["ct_verdict"]
    assert done["values"]["intro_ct_primary"] == r.values["ct_primary"]
    assert [c.text for c in done["claims"]] == [r.values[k] for k in ("ct_verdict", "ct_consequence", "ct_primary")]


def test_the_control_s_ladders_are_diagnosed_and_the_rate_choice_worded(tmp_path):
    def ladder(family, share, first, last):
        ex = np.array([[first, (first + last) / 2, last, last / 2]] * 2)
        return central.Ladder(family, share, 0.5, 3.0, share, "ordered", (1e3, 2e3, 4e3, 8e3),
                              tuple(map(tuple, ex)), ((1, 2, 3, 4),) * 2, 10)
    sets = [ladder("period-8", 0.15, 0.5, 0.005), ladder("period-32", 0.15, 0.13, 0.12),
            ladder("period-64", 0.15, 0.4, 0.1), ladder("markov-3", 0.15, 0.3, 0.05)]
    d = central.diagnose(sets, n_fit=3, resolution=0.003)  # floor within 4 x 0.003 = 0.012 bits
    assert d == {"at the floor": ["period 8, h share 0.15"], "not monotone": [],
                 "did not move": ["period 32, h share 0.15"],
                 "still falling": ["period 64, h share 0.15", "order 3, h share 0.15"]}
    words = central.diagnosis_sentence(d, 0.003)
    rising = ladder("period-2", 0.15, 0.3, 0.05)
    rising = central.Ladder(*[getattr(rising, f) for f in ("family", "knob", "h", "E", "share", "region", "N")],
                            excess=((0.3, 0.1, 0.2, 0.05),) * 2, k=rising.k, n=rising.n)
    assert central.diagnose([rising], n_fit=3, resolution=0.003)["not monotone"] == ["period 2, h share 0.15"]
    assert words.startswith("of the 4 control settings, 1 reaches within 0.012 bits of the floor")
    assert "1 barely moves with size" in words and "2 are still falling" in words
    design = cd.design(plan_file(tmp_path), "full")  # rates 1e-3, 3e-3; widths 6 .. 42, target 42
    same = {w: 1e-3 for w in design.widths}
    assert central.rate_sentence(same, design).endswith("the target width trained at the fitted rungs' rate, 0.001")
    changed = {**same, 42: 3e-3}
    assert "largest candidate, 0.003, for 1 of the 6 widths (so the best rate may lie beyond the grid)" in \
        central.rate_sentence(changed, design)
    assert central.rate_sentence(changed, design).endswith("the schedule changes at the rung being predicted")


def test_the_baseline_counts_and_the_plane_sentence():
    rows = [{"width": 42, "family": f, "knob": 0.5, "model_minus_bayes": gap, "model_minus_bayes_se": 0.01}
            for f, gap in (("a", -0.05), ("a", -0.04), ("b", 0.03), ("b", 0.05), ("c", 0.001), ("c", -0.002))]
    rows.append({"width": 20, "family": "d", "knob": 0.5, "model_minus_bayes": 1.0, "model_minus_bayes_se": 0.01})
    v = central.bayes_verdicts(rows, 42)  # se of a two-seed mean: sqrt(2) x 0.01 / 2 = 0.0071
    assert v == {"better": 1, "worse": 1, "within": 1}
    fit = {"coef": (1.0, -1.5, 0.9, -0.05), "p_value": 0.67, "vertex": None, "interior": False}
    assert central.plane_sentence(fit, 1.0, "loss") == ("no interior bulge is resolved: the fitted curve bends "
                                                        "the other way, up at the ends, b2 = +0.9 (permutation "
                                                        "p = 0.67, Holm-corrected 1.00)")
    bulge = {"coef": (0.0, 2.0, -2.0, 0.0), "p_value": 0.001, "vertex": 0.5, "interior": True}
    assert central.plane_sentence(bulge, 0.002, "loss").startswith("the error bulges inside the plane, b2 = -2")
