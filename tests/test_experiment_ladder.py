"""Chapter ladder's numbers from fabricated ladders and errors with known answers (no training)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from middleground.experiments import ladder
from middleground.measures import predictability as pr

N3 = np.array([100.0, 200.0, 400.0])
REGIONS6 = ["ordered", "ordered", "middle", "middle", "noisy", "noisy"]


def _setting(family, region, knob=0.5, loss_bump=0.0, cap_top=0, n=100):
    """A setting whose excess is exactly 10/N at every rung (a power law with α = 1, on the fit's
    grid), plus ``loss_bump`` at the top rung; exact match 0 below the top and ``cap_top`` of ``n``
    at it; two identical seeds."""
    ex = np.array([10 / N3, 10 / N3])
    ex[:, -1] += loss_bump
    k = np.zeros((2, 3), dtype=int)
    k[:, -1] = cap_top
    return {"family": family, "knob": knob, "region": region, "share": 0.5, "h": 1.0, "N": N3,
            "excess": ex, "k": k, "n": n}


def _ladders(loss_middle=0.0, cap_middle=0):
    """Six settings per knob (two per region); the middle ones carry the fabricated errors."""
    return [_setting(fam, reg, knob=i, loss_bump=loss_middle if reg == "middle" else 0.0,
                     cap_top=cap_middle if reg == "middle" else 0)
            for fam in ("temperature", "noise") for i, reg in enumerate(REGIONS6)]


# --- the decision, from fabricated errors, for each of the four outcomes -------------------------

@pytest.mark.parametrize("loss_middle, cap_middle, outcome", [
    (0.1, 0, "loss only"), (0.0, 50, "supported"), (0.1, 50, "both"), (0.0, 0, "neither")])
def test_the_decision_from_fabricated_errors(loss_middle, cap_middle, outcome):
    test = pr.central_test(_ladders(loss_middle, cap_middle), n_boot=10, n_perm=500, seed=0)
    # Loss: the law 10/N is fitted exactly below the top, so the error is the bump: 0.1 bits in the
    # middle, 0 at the ends; D = 0.1 − 0 with no spread to resample.
    assert test["loss"]["difference"] == pytest.approx(loss_middle, abs=1e-9)
    # Capability: 0 of 200 below the top is a flat logit line at logit(0.5/201); 100 of 200 at the
    # top is logit(100.5/201) = 0, so the middle's error is log(401) log-odds.
    assert test["capability"]["difference"] == pytest.approx(math.log(401) if cap_middle else 0.0, abs=1e-9)
    assert test["capability"]["labellings"] == 15 * 15  # C(6, 2) per knob
    assert pr.decision(test) == outcome
    assert ladder.decision_sentence(outcome) == ladder.DECISION_SENTENCES["ladder"][outcome]


def _contrast(p, lo, hi, vs_ordered, vs_noisy, difference=0.3):
    return {"difference": difference, "p_value": p, "interval": [lo, hi],
            "vs ordered": {"difference": vs_ordered}, "vs noisy": {"difference": vs_noisy}}


SIG = _contrast(0.01, 0.1, 0.5, 0.2, 0.4)
ONE_END = _contrast(0.01, 0.1, 0.5, 0.2, -0.1)   # a large error at the noisy end is no middle effect
NOT = _contrast(0.3, -0.1, 0.5, 0.2, 0.4)


@pytest.mark.parametrize("cap, loss, outcome", [
    (SIG, NOT, "supported"), (SIG, SIG, "both"), (NOT, SIG, "loss only"), (NOT, NOT, "neither"),
    (ONE_END, NOT, "neither"), (SIG, ONE_END, "supported")])
def test_the_rule_needs_all_three_conditions(cap, loss, outcome):
    assert pr.decision({"capability": cap, "loss": loss}) == outcome


def test_every_chapter_words_every_outcome_and_nothing_else():
    for chapter, sentences in ladder.DECISION_SENTENCES.items():
        assert set(sentences) == set(ladder.DECISIONS)
        assert len(set(sentences.values())) == 4
        assert ladder.decision_sentence("neither", chapter) == sentences["neither"]
    assert ladder.decision_sentence("supported").startswith("the hypothesis is supported")
    with pytest.raises(ValueError, match="unknown outcome"):
        ladder.decision_sentence("maybe")


# --- region counts ------------------------------------------------------------------------------

def test_region_counts_and_the_middle_per_knob():
    sets = [{"family": "temperature", "region": r} for r in ("ordered", "middle", "middle", "noisy")]
    sets += [{"family": "noise", "region": r} for r in ("ordered", "middle", "noisy", "shallow")]
    counts = ladder.region_counts(sets)
    assert counts == {"temperature": {"ordered": 1, "middle": 2, "noisy": 1, "all": 4},
                      "noise": {"ordered": 1, "middle": 1, "noisy": 1, "all": 4}}
    assert list(counts) == ["temperature", "noise"]
    assert ladder.middle_per_knob_text(counts) == "2 of 4 on the temperature knob and 1 of 4 on the noise knob"


# --- the per-setting tables ---------------------------------------------------------------------

def test_ladder_rows_are_means_over_seeds_and_pooled_rates():
    s = {"family": "noise", "knob": 0.25, "share": 0.50004, "region": "middle", "N": N3,
         "excess": np.array([[0.3, 0.2, 0.1], [0.5, 0.4, 0.3]]), "k": np.array([[1, 2, 3], [3, 4, 5]]), "n": 8}
    rows = ladder.ladder_rows([s], [16, 22, 32])
    assert [r["width"] for r in rows] == [16, 22, 32] and [r["N"] for r in rows] == [100, 200, 400]
    assert [r["excess"] for r in rows] == pytest.approx([0.4, 0.3, 0.2])
    assert [r["exact"] for r in rows] == pytest.approx([4 / 16, 6 / 16, 8 / 16])
    assert rows[0]["share"] == 0.5


def _run(family, knob, seed, width, **final):
    base = {"val_bits": 1.0, "bayes_bits": 0.9, "model_minus_bayes": 0.1, "model_minus_bayes_se": 0.01,
            "excess_floor": 0.2, "bayes_order": 2, "optimal_bits": 0.8, "optimal_se": 0.003}
    return {"family": family, "knob": knob, "seed": seed, "width": width, **{**base, **final}}


def test_baseline_rows_average_the_top_rung_and_judge_by_two_standard_errors():
    sets = [{"family": "temperature", "knob": 1.0, "share": 0.3, "region": "middle", "h": 0.6, "floor": 0.7},
            {"family": "noise", "knob": 0.1, "share": 0.8, "region": "noisy", "h": 1.6, "floor": 1.62},
            {"family": "noise", "knob": 0.2, "share": 0.9, "region": "noisy", "h": 1.8, "floor": 1.81}]
    rows = [_run("temperature", 1.0, 0, 32, val_bits=1.0, model_minus_bayes=0.10, model_minus_bayes_se=0.03,
                 bayes_order=2),
            _run("temperature", 1.0, 1, 32, val_bits=1.2, model_minus_bayes=0.20, model_minus_bayes_se=0.04,
                 bayes_order=2),
            _run("temperature", 1.0, 0, 16, val_bits=9.0),  # a lower rung: left out
            _run("noise", 0.1, 0, 32, model_minus_bayes=-0.05, model_minus_bayes_se=0.01, bayes_order=3),
            _run("noise", 0.1, 1, 32, model_minus_bayes=-0.07, model_minus_bayes_se=0.01, bayes_order=5),
            _run("noise", 0.2, 0, 32, model_minus_bayes=0.001, model_minus_bayes_se=0.01, bayes_order=6)]
    base = ladder.baseline_rows(sets, rows, 32)
    t, n1, n2 = base
    assert t["model"] == pytest.approx(1.1) and t["model_minus_bayes"] == pytest.approx(0.15)
    assert t["model_minus_bayes_se"] == pytest.approx(0.025)  # sqrt(0.03² + 0.04²) / 2
    assert t["verdict"] == "model worse" and t["bayes_order"] == 2  # 0.15 > 2 × 0.025
    assert n1["model_minus_bayes"] == pytest.approx(-0.06) and n1["verdict"] == "model better"
    assert n1["bayes_order"] == 4  # the median of 3 and 5
    assert n2["verdict"] == "tie"
    by_fam, orders = ladder.verdict_counts(base), ladder.bayes_orders(base)
    assert by_fam == {"temperature": {"model better": 0, "model worse": 1, "tie": 0},
                      "noise": {"model better": 1, "model worse": 0, "tie": 1}}
    assert orders == {"temperature": [2], "noise": [4, 6]}
    assert ladder.verdict_counts_text(by_fam) == (
        "temperature knob, better on 0, worse on 1 and level on 0 of its 1 settings; "
        "noise knob, better on 1, worse on 0 and level on 1 of its 2 settings")
    assert ladder.worst_gap_text(base) == "+0.150 ± 0.025 bits (temperature at 1, middle)"
    long = ladder.predictor_rows(base)
    assert len(long) == 9 and long[0]["above_h"] == pytest.approx(0.1) and long[1]["above_h"] == pytest.approx(0.5)


def test_the_bayes_sentences_follow_the_counts():
    worse_all = {"temperature": {"model better": 0, "model worse": 3, "tie": 0},
                 "noise": {"model better": 0, "model worse": 3, "tie": 0}}
    assert ladder.bayes_takeaway(worse_all).startswith("does better than the largest transformer on every")
    split = {"temperature": {"model better": 0, "model worse": 3, "tie": 0},
             "noise": {"model better": 2, "model worse": 1, "tie": 0}}
    assert ladder.bayes_takeaway(split).startswith("does better than the largest transformer on some")
    by_family = ladder.bayes_sentence(split, {"temperature": [2], "noise": [3, 6]}, 6)
    assert by_family.startswith("The split is by family") and "orders 3 to 6" in by_family
    # The same counts with orders that do not explain them: counting is ahead on 4 of 6.
    assert ladder.bayes_sentence(split, {"temperature": [2, 3], "noise": [3]}, 6).startswith(
        "The count-based predictor is better on most")
    assert ladder.bayes_sentence(split, {"temperature": [2, 3], "noise": [3]}, 8).startswith(
        "The transformer is at least as good")


# --- instruments ----------------------------------------------------------------------------------

def test_floors_and_their_deviations():
    sets = [{"family": "noise", "knob": 0.1}, {"family": "temperature", "knob": 1.0}]
    floors = {("noise", 0.1): SimpleNamespace(value=0.9, se=0.004, method="Monte Carlo"),
              ("temperature", 1.0): SimpleNamespace(value=0.5, se=0.0, method="exact")}
    ladder.with_floors(sets, floors)
    assert sets[0]["floor"] == 0.9 and sets[0]["floor_se"] == 0.004 and sets[1]["floor_se"] == 0.0
    rows = [_run("noise", 0.1, 0, 32, optimal_bits=0.905, optimal_se=0.006),
            _run("noise", 0.1, 1, 32, optimal_bits=0.915, optimal_se=0.008),
            _run("temperature", 1.0, 0, 32, optimal_bits=0.52, optimal_se=0.01),
            _run("temperature", 1.0, 0, 16, optimal_bits=5.0, optimal_se=0.01)]
    dev = ladder.floor_deviations(sets, rows, 32)
    # noise: |0.91 − 0.9| / hypot(sqrt(0.006² + 0.008²) / 2, 0.004) = 0.01 / hypot(0.005, 0.004)
    assert dev[0] == pytest.approx(0.01 / math.hypot(0.005, 0.004))
    assert dev[1] == pytest.approx(2.0)  # |0.52 − 0.5| / 0.01


# --- the ladders' shape ---------------------------------------------------------------------------

def _shaped(family, k_top_step):
    """k rises 0, 0, 60 (change at the last step) or 0, 60, 60 (below it); excess 10/N."""
    k = np.array([[0, 0, 60]] if k_top_step else [[0, 60, 60]])
    return {"family": family, "N": N3, "excess": np.array([10 / N3]), "k": k, "n": 100}


def test_the_shape_of_the_ladders_and_its_sentence():
    sets = [_shaped("temperature", True)] * 2 + [_shaped("noise", False)] * 2
    shape = ladder.ladder_shape(sets, [16, 22, 32])
    # A flat logit line below the top under-predicts a late rise; a rise then levelling off is
    # over-predicted by the line through it.
    assert shape["temperature"] == {"n": 2, "loss_last": 0, "cap_last": 2, "cap_early": 0,
                                    "cap_under": 2, "cap_over": 0}
    assert shape["noise"] == {"n": 2, "loss_last": 0, "cap_last": 0, "cap_early": 2,
                              "cap_under": 0, "cap_over": 2}
    assert ladder.shape_text(shape).startswith(
        "on the temperature knob the largest drop in excess loss is the last step for 0 of 2 settings "
        "and the largest change in exact match is the last step for 2; on the noise knob")
    assert ladder.shape_sentence(shape).startswith("So on most temperature settings")
    assert "(2 of 2); on most noise settings" in ladder.shape_sentence(shape)
    late = {f: {"n": 2, "cap_last": 2, "cap_early": 0, "cap_under": 0, "cap_over": 0} for f in ("temperature", "noise")}
    assert ladder.shape_sentence(late).startswith("The largest changes fall at the last step on both")
    early = {f: {"n": 2, "cap_last": 0, "cap_early": 2, "cap_under": 0, "cap_over": 0} for f in ("temperature", "noise")}
    assert ladder.shape_sentence(early).startswith("The largest changes fall below the last step")
    mixed = {f: {"n": 2, "cap_last": 1, "cap_early": 1, "cap_under": 0, "cap_over": 0} for f in ("temperature", "noise")}
    assert ladder.shape_sentence(mixed) == "Where the largest changes fall differs from setting to setting"


# --- the test in words ----------------------------------------------------------------------------

def test_contrast_texts():
    res = {"difference": -0.0099, "interval": [-0.0164, 0.001], "p_value": 0.5844,
           "vs ordered": {"difference": -0.0318}, "vs noisy": {"difference": 0.0121}}
    assert ladder.contrast_text(res, 4) == "-0.0099 (95 % interval -0.0164 to +0.0010; permutation p = 0.584)"
    assert ladder.contrast_text(res) == "-0.010 (95 % interval -0.016 to +0.001; permutation p = 0.584)"
    assert ladder.sides_text(res, 4) == "-0.0318 against the ordered end and +0.0121 against the noisy end"
    test = {"capability": {"by family": {"noise": {"difference": -1.573, "p_value": 1.0}}},
            "loss": {"by family": {"noise": {"difference": -0.0155, "p_value": 0.68}}}}
    assert ladder.by_family_text(test) == "noise knob: capability -1.573 (p = 1), loss -0.0155 (p = 0.68)"
    assert ladder.seeds_text(1) == "1 seed" and ladder.seeds_text(3) == "3 seeds"


def test_what_the_test_could_detect():
    few = {"min_p": 1 / 9, "labellings": 9, "detectable": 2.0}
    many = {"min_p": 1 / 225, "labellings": 225, "detectable": 1.234}
    loss = {"detectable": 0.0123}
    assert ladder.power_sentence(few, loss).startswith(
        "The shuffles can label these settings in 9 distinct ways, so the smallest p-value they can give is 0.11")
    assert ladder.power_sentence(many, loss).startswith(
        "With these settings a difference had to exceed about 1.23 log-odds (capability) or 0.012 bits")
    assert ladder.power_sentence(few, loss, "intro").startswith(" This build's profile has too few settings")
    assert ladder.power_sentence(many, loss, "intro").startswith(" Differences smaller than about 1.23 log-odds")


@pytest.mark.parametrize("res, start", [
    (_contrast(0.01, 0.1, 0.5, 0.2, 0.4), "for the loss, all three conditions hold"),
    (_contrast(0.2, 0.1, 0.5, 0.2, 0.4), "for the loss, the interval lies above 0 but"),
    (_contrast(0.01, -0.1, 0.5, 0.2, 0.4), "for the loss, the permutation p-value is below 0.05 but"),
    (_contrast(0.01, 0.1, 0.5, 0.2, -0.4), "for the loss, p and interval agree, but"),
    (_contrast(0.9, -0.5, -0.1, -0.2, -0.4), "for the loss, the interval lies wholly below 0"),
    (_contrast(0.9, -0.5, 0.1, 0.2, 0.4), "for the loss, neither the permutation p-value nor")])
def test_each_branch_of_the_half_rule(res, start):
    assert ladder.half_rule_sentence("loss", res).startswith(start)


def test_the_checks_beside_the_rule():
    assert ladder.rate_sentence(True, True, 0.1).startswith("agrees: the capability's errors")
    assert ladder.rate_sentence(False, False, -0.1).endswith("even favours the ends")
    assert ladder.rate_sentence(False, False, 0.1).startswith("agrees with the log-odds scale: neither")
    assert ladder.rate_sentence(True, False, 0.1).startswith("disagrees")
    assert ladder.continuous_sentence(False, False).startswith("shows no middle effect either")
    assert ladder.continuous_sentence(True, True).startswith("shows the middle effect too")
    assert ladder.continuous_sentence(True, False).startswith("does not show the middle effect")
    assert ladder.continuous_sentence(False, True) == "shows a middle effect that exact match does not"


def test_flat_settings():
    moved = {"family": "noise", "region": "middle", "k": np.array([[0, 5, 9], [0, 4, 8]])}
    kept = {"family": "temperature", "region": "ordered", "k": np.array([[10, 11, 12], [10, 10, 11]])}  # 20 → 23
    flat = ladder.flat_settings([moved, kept])
    assert flat == [kept]
    assert ladder.flat_sentence([]) == "no setting's exact match stayed put across the ladder"
    assert ladder.flat_sentence(flat).startswith("1 setting kept the same exact-match count")
    assert "(temperature ordered)" in ladder.flat_sentence(flat)
    assert ladder.flat_sentence([kept, kept]).startswith("2 settings kept")


# --- within one run -------------------------------------------------------------------------------

def test_late_shares_and_their_sentence():
    cells = [{"family": "noise", "knob": 0.1, "model": {"n_embd": 32}},
             {"family": "noise", "knob": 0.1, "model": {"n_embd": 32}},
             {"family": "noise", "knob": 0.2, "model": {"n_embd": 32}},
             {"family": "noise", "knob": 0.1, "model": {"n_embd": 16}}]
    curve = {"steps": [0, 10, 20, 30, 40], "val_bits": [3.0, 2.0, 1.8, 1.5, 1.0], "final": {"val_bits": 1.0}}
    flat = {"steps": [0, 10, 20, 30, 40], "val_bits": [3.0, 1.0, 1.0, 1.0, 1.0], "final": {"val_bits": 0.995}}
    late = ladder.late_shares(cells, [curve, curve, flat, curve], top=32, warmup=5, fit_fraction=0.5)
    # After the warmup the loss starts at 2.0; at half the run it is 1.8; the final is 1.0:
    # (1.8 − 1.0) / (2.0 − 1.0) = 0.8. The flat run dropped by 0.005 only and has no share.
    assert late == {("noise", 0.1): pytest.approx(0.8)}
    assert ladder.late_sentence(0.8, 0.2).startswith("The curves show why")
    assert ladder.late_sentence(0.25, 0.1) == (
        "Those runs made 2.5 times as much of their drop after the fitted part as the others, but under a "
        "third of it, so a late drop explains only part of their error")
    assert ladder.late_sentence(0.1, 0.3).startswith("Those runs made less of their drop")
    assert ladder.late_sentence(0.2, 0.2).startswith("Those runs made about as much")
    assert ladder.late_sentence(0.2, 0.0).startswith("Those runs made inf times")  # no others to compare


def test_within_run_grouping_and_sentence():
    rows = [{"family": "noise", "knob": 0.1, "seed": 0}, {"family": "temperature", "knob": 1.0, "seed": 0},
            {"family": "noise", "knob": 0.1, "seed": 1}]
    groups = ladder.by_setting(rows)
    assert list(groups) == [("noise", 0.1), ("temperature", 1.0)] and len(groups["noise", 0.1]) == 2
    assert ladder.within_run_sentence(0.01, 0.001).startswith("within a run, loss is harder")
    assert ladder.within_run_sentence(0.01, -0.001).startswith("within a run, loss is not significantly")
    assert ladder.within_run_sentence(0.2, 0.001).startswith("within a run, loss is not significantly")


def test_first_holding_refuses_options_that_miss_an_outcome():
    assert ladder.first_holding([("a", False), ("b", True), ("c", True)]) == "b"
    with pytest.raises(ValueError, match="no option holds"):
        ladder.first_holding([("a", False)])


def test_prediction_rows_take_each_metric_from_the_test():
    s = {"family": "noise", "knob": 0.1, "share": 0.12345, "region": "ordered"}
    t = {"loss_error": 0.01, "loss_error_interval": [0.0, 0.02], "loss_pred": 0.3, "loss_actual": 0.29,
         "loss_pred_interval": [0.28, 0.31], "cap_error": 1.5, "cap_error_interval": [1.0, 2.0],
         "cap_pred": 0.2, "cap_actual": 0.4, "cap_pred_interval": [0.1, 0.3]}
    loss, cap = ladder.prediction_rows([s], {"settings": [t]})
    assert loss["metric"] == "loss (bits)" and loss["error"] == 0.01 and loss["pred_hi"] == 0.31
    assert cap["metric"] == "capability (log-odds)" and cap["error_lo"] == 1.0 and cap["actual"] == 0.4
    assert loss["share"] == 0.123
