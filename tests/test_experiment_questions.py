"""Chapter questions' numbers from fabricated ladders, tests and sweeps with known answers."""

import math

import numpy as np
import pytest

from middleground.experiments import ladder, questions
from middleground.experiments.report import Findings

N3 = np.array([100.0, 200.0, 400.0])


def test_the_width_of_the_bounds_in_words():
    assert questions.width_text(4.26e-8) == "4.3 × 10⁻⁸"
    assert questions.width_text(0.00123) == "1.2 × 10⁻³"
    assert questions.width_text(0.0) == "0"


def test_the_beliefs_of_the_clean_and_the_noisy_process():
    rows, noisy = questions.belief_rows(0.1, 4)
    assert [r["L"] for r in rows] == [1, 2, 3, 4] * 2
    assert rows[0]["source"] == "golden mean" and rows[-1]["source"] == "golden mean + noise 0.1"
    # The clean process is unifilar: at most one belief per hidden state (two) after any word.
    assert all(r["beliefs"] <= 2 for r in rows[:4])
    assert [r["beliefs"] for r in rows[4:]] == sorted(r["beliefs"] for r in rows[4:])


def _setting(knob, region, excess, k, n=100):
    return {"family": "noise", "knob": knob, "region": region, "share": 0.5, "N": N3,
            "excess": np.array(excess), "k": np.array(k), "n": n}


def _central():
    """Three noise settings; the second has excess exactly 10/N on average (0.1, 0.05, 0.025) and
    no exact continuation at any size."""
    sets = [_setting(0.1, "ordered", [[0.2, 0.1, 0.05]] * 2, [[5, 10, 20]] * 2),
            _setting(0.25, "middle", [[0.1, 0.05, 0.02], [0.1, 0.05, 0.03]], [[0, 0, 0]] * 2),
            _setting(0.9, "noisy", [[0.2, 0.1, 0.05]] * 2, [[0, 0, 0]] * 2)]
    runs = [{"family": "noise", "knob": 0.25, "width": 32, "excess_floor_se": 0.002},
            {"family": "noise", "knob": 0.25, "width": 32, "excess_floor_se": 0.004},
            {"family": "noise", "knob": 0.25, "width": 16, "excess_floor_se": 9.0}]
    rows = [{"loss_error": e, "cap_error": c, "cap_rate_error": r} for e, c, r in
            ((0.03, 2.0, 0.1), (0.0, 0.0, 0.0), (0.01, 1.0, 0.05))]
    rows[1].update(loss_error_interval=[0.001, 0.002], cap_error_interval=[0.0, 3.7],
                   cap_rate_error_interval=[0.0, 0.016])
    return {"widths": [16, 22, 32], "settings": sets, "runs": runs, "test": {"settings": rows}}


def test_the_example_setting_up_close():
    found = Findings()
    rows = questions.example(found, _central(), N3, "noise", 1)
    r = found.done()
    v = r["values"]
    assert (v["q_knob"], v["q_region"], v["q_widths"], v["q_seeds"], v["q_N_top"]) == \
        ("0.25", "middle", "16, 22, 32", 2, "400")
    assert v["q_loss_pred"] == pytest.approx(0.025)  # 10/N fitted on 100 and 200, at 400
    assert v["q_loss_actual"] == "0.0250 ± 0.0022"  # sqrt(0.002² + 0.004²) / 2
    assert v["q_seed_sd"] == "between its 2 seeds that excess has a standard deviation of 0.0071 bits"
    assert v["q_loss_err"] == pytest.approx(0.0, abs=1e-12)
    assert v["q_loss_err_ci"] == "0.0010 to 0.0020"
    assert v["q_cap_pred"] == "0.00249" and v["q_cap_actual"] == "0 of 200"  # 0.5 / 201
    assert v["q_cap_actual_rate"] == pytest.approx(0.5 / 201)
    assert (v["q_cap_err_ci"], v["q_cap_rate_err_ci"]) == ("0.00 to 3.70", "0.000 to 0.016")
    assert v["q_logodds_words"] == "The predicted and the actual rate coincide, so the error is zero on both scales"
    # No error is larger than another's zero: all three rank last of three, the smallest third.
    assert (v["q_n_settings"], v["q_loss_rank"], v["q_cap_rank"], v["q_rate_rank"]) == (3, 3, 3, 3)
    assert v["q_example"].startswith("Both errors are among the smallest third")
    assert v["q_rate_rank_words"] == "in the same third as its log-odds error (among the smallest third)"
    assert v["q_flat_words"].startswith("No continuation was right at any size")
    assert len(r["claims"]) == 5 and all(c.holds for c in r["claims"])
    means = [p["value"] for p in rows["loss"] if p["kind"].startswith("mean")]
    assert means == pytest.approx([0.1, 0.05, 0.025])
    assert rows["loss"][-1] == {"N": 400.0, "width": 32, "value": pytest.approx(0.025), "kind": "prediction"}
    assert len(rows["loss_law"]) == len(rows["capability_law"]) == 40


def test_a_knob_index_outside_the_family_is_refused():
    with pytest.raises(ValueError, match=r"knob_index must be in \[0, 2\] for the noise family"):
        questions.chosen_setting(_central()["settings"], "noise", 3)
    assert questions.chosen_setting(_central()["settings"], "noise", 2)[0] == 2


def test_one_seed_has_no_spread():
    assert questions.seed_sd_sentence(1, float("nan")) == "with one seed there is no spread between seeds to show"


def test_how_much_log_odds_magnify():
    # Rates 0.05 and 0.15: 1.2098 log-odds apart; the same 0.1 around one half is
    # logit(0.55) − logit(0.45) = 2 log(11/9) = 0.4013, so 3.0 times as much.
    err = abs(math.log(0.05 / 0.95) - math.log(0.15 / 0.85))
    text, value = questions.logodds_sentence(0.05, 0.15, err, 0.1)
    assert value["same difference around 1/2"] == pytest.approx(2 * math.log(11 / 9))
    assert value["magnification"] == pytest.approx(err / (2 * math.log(11 / 9)))
    assert "are near 0: the rate difference of 0.100 is 1.21 in log-odds, 3.0 times the 0.401" in text
    text, value = questions.logodds_sentence(0.45, 0.55, 2 * math.log(11 / 9), 0.1)
    assert "far enough from both" in text and "1.0 times" in text
    text, value = questions.logodds_sentence(0.3, 0.3, 0.0, 0.0)
    assert text.startswith("The predicted and the actual rate coincide") and math.isnan(value["magnification"])


def test_ranks_and_thirds():
    assert questions.rank_of(0.5, [0.1, 0.5, 0.9, 0.7]) == 3
    assert questions.rank_of(0.9, [0.1, 0.5, 0.9]) == 1
    assert [questions.third(r, 6) for r in range(1, 7)] == ["largest", "largest", "middle", "middle",
                                                            "smallest", "smallest"]


@pytest.mark.parametrize("pos_cap, pos_loss, start", [
    ("largest", "smallest", "Measured against the other settings, here the capability is the harder"),
    ("smallest", "largest", "Measured against the other settings, here the loss is the harder"),
    ("largest", "largest", "Both errors are among the largest third"),
    ("smallest", "smallest", "Both errors are among the smallest third"),
    ("middle", "middle", "Both errors are mid-ranked"),
    ("largest", "middle", "The capability error is among the largest third but the loss error is mid-ranked"),
    ("smallest", "middle", "The capability error is among the smallest third but the loss"),
    ("middle", "largest", "The loss error is among the largest third but the capability error is mid-ranked"),
    ("middle", "smallest", "The loss error is among the smallest third but the capability")])
def test_every_pair_of_thirds_has_its_sentence(pos_cap, pos_loss, start):
    assert questions.example_sentence(pos_cap, pos_loss).startswith(start)


def test_the_rate_rank_and_the_flat_ladder():
    assert questions.rate_rank_sentence("middle", "largest") == (
        "in the middle third, not in the same third as its log-odds error (among the largest third), so "
        "where this setting's capability error ranks depends on the scale")
    assert questions.flat_sentence(np.array([10, 10, 10]), 10).startswith("Every continuation was right")
    assert questions.flat_sentence(np.array([1, 4, 9]), 10) == \
        "Across the ladder exact match moved from 1 to 9 of 10 continuations"


def _res(p, lo, vs_ordered, vs_noisy):
    return {"p_value": p, "interval": [lo, lo + 1], "vs ordered": {"difference": vs_ordered},
            "vs noisy": {"difference": vs_noisy}}


def test_partial_passes_and_the_rule_note():
    assert questions.conditions(_res(0.01, -0.1, 1, -1)) == {
        "p below 0.05": True, "interval above zero": False, "middle above each end": False}
    test = {"capability": _res(0.01, -0.1, 1, 1), "loss": _res(0.5, -0.1, 1, 1)}
    partial = questions.partial_passes(test)
    # The loss meets only the point-estimate condition, which is no evidence: not noted.
    assert partial == {"exact match": ["p below 0.05", "middle above each end"]}
    assert questions.rule_note(partial).endswith(
        "separately; for the exact match only p below 0.05 and middle above each end hold, so that "
        "difference is not established")
    two = {"exact match": ["p below 0.05"], "loss": ["interval above zero"]}
    assert questions.rule_note(two).endswith("for the loss only interval above zero holds, so those "
                                             "differences are not established")
    assert questions.rule_note({}).endswith("exceeds that of each end separately")
    assert questions.partial_passes({"capability": _res(0.01, 0.1, 1, 1), "loss": _res(0.5, -0.1, -1, 1)}) == {}


@pytest.mark.parametrize("decision, start", [
    ("neither", "At this scale the test found no capability-specific"),
    ("loss only", "At this scale the test found no capability-specific"),
    ("both", "At this scale the test found the middle harder"),
    ("supported", "At this scale the test found capability predictions worse")])
def test_the_theory_sentence_follows_the_decision(decision, start):
    assert questions.theory_sentence(decision).startswith(start)


def test_the_whole_test_in_the_chapters_words():
    res = {"difference": 0.5, "interval": [0.1, 0.9], "p_value": 0.01, "vs ordered": {"difference": 1},
           "vs noisy": {"difference": 1}}
    test = {"capability": res, "loss": res, "capability rate": res}
    found = Findings()
    questions.whole_test(found, test, "both")
    v = found.done()["values"]
    assert v["q_D_cap"] == "+0.500 (95 % interval +0.100 to +0.900; permutation p = 0.01)"
    assert v["q_D_loss"] == "+0.5000 (95 % interval +0.1000 to +0.9000; permutation p = 0.01)"
    assert v["q_verdict"] == ladder.decision_sentence("both", "questions")
    assert v["q_rule_note"].endswith("separately")  # both pass all three: nothing partial
    assert v["q_theory"].startswith("At this scale the test found the middle harder")


def test_the_table_a_theory_would_have_to_predict():
    model = {"vocab_size": 4}
    cells = [{"family": "noise", "knob": 0.1, "model": model}, {"family": "noise", "knob": 0.1, "model": model},
             {"family": "hmm", "knob": "golden mean", "model": model}]
    curve = {"steps": [0, 10, 20], "val_bits": [2.0, 1.05, 1.0], "h": 1.0, "E": 1.0}
    results = [dict(curve, final={"excess_floor": 0.02, "excess_floor_se": 0.003, "exact_match": 0.5, "n_prompts": 512}),
               dict(curve, final={"excess_floor": 0.04, "excess_floor_se": 0.004, "exact_match": 0.7, "n_prompts": 512}),
               dict(curve, E=None, final={"excess_floor": None, "exact_match": 0.25, "n_prompts": 256})]
    table, prompts = questions.theory_table(cells, results)
    lines = table.splitlines()
    assert len(lines) == 4 and prompts == 256  # the last setting's first run
    # Excess (0.02 + 0.04) / 2 ± sqrt(0.003² + 0.004²) / 2; 90 % of the drop (1.0 to 0.1) is done by step 10, where the excess is 0.05.
    assert lines[2] == "| noise | 0.1 | middle | 1.000 | 1.000 | 0.0300 ± 0.0025 | 10 | 0.600 | 0.141 |"
    assert lines[3] == "| hmm | golden mean | – | 1.000 | – | – | 10 | 0.250 | – (one seed) |"
