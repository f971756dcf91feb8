"""Chapter intro's numbers from fabricated teaser curves and central tests (no training)."""

import pytest

from middleground.experiments import intro, ladder
from middleground.experiments.report import Findings


def _records():
    """Two seeds per source, two evaluations each; noise has h = 6, the periodic word h = 0."""
    out = []
    for seed, (noise, periodic, text) in enumerate([(6.004, 0.002, 2.5), (6.006, 0.004, 2.3)]):
        for step, scale in ((0, 2.0), (10, 1.0)):
            out += [{"source": "uniform noise", "seed": seed, "step": step, "val_bits": noise * scale, "exact_h": 6.0},
                    {"source": "periodic", "seed": seed, "step": step, "val_bits": periodic * scale, "exact_h": 0.0},
                    {"source": "Tiny Shakespeare", "seed": seed, "step": step, "val_bits": text * scale,
                     "exact_h": None}]
    return out


def test_final_losses_and_exact_rates():
    summary = intro.final_losses(_records())
    assert summary["uniform noise"] == pytest.approx((6.005, 6.004, 6.006))
    assert summary["Tiny Shakespeare"] == pytest.approx((2.4, 2.3, 2.5))
    assert intro.exact_rates(_records()) == {"uniform noise": 6.0, "periodic": 0.0}


def test_the_teaser_values_and_claims():
    found = Findings()
    intro.teaser_values(found, _records(), 28576, steps=10, n_seeds=2)
    r = found.done()
    v = r["values"]
    assert v["intro_params"] == "28,576" and v["intro_steps"] == 10 and v["intro_seeds_text"] == "2 seeds"
    assert v["intro_noise_h"] == 6.0
    assert v["intro_noise_excess"] == pytest.approx(0.005)
    assert v["intro_periodic_loss"] == pytest.approx(0.003)
    assert v["intro_shakespeare_loss"] == pytest.approx(2.4)
    assert v["intro_shakespeare_spread"] == pytest.approx(0.2)
    assert [c.holds for c in r["claims"]] == [True, True, True]


def test_a_teaser_that_misses_its_floors_fails_its_claims():
    records = [dict(r, val_bits=r["val_bits"] + 0.5) for r in _records()]
    found = Findings()
    intro.teaser_values(found, records, 100, steps=10, n_seeds=2)
    assert [c.holds for c in found.done()["claims"]] == [False, False, True]


def test_stated():
    res = {"difference": -1.5549, "interval": [-2.96, 0.41], "p_value": 1.0}
    assert intro.stated(res, "in log-odds", 2) == \
        "-1.55 in log-odds (95 % interval -2.96 to +0.41, permutation p = 1)"


def _test(min_p):
    cap = {"difference": 2.0, "interval": [1.0, 3.0], "p_value": 0.01, "min_p": min_p, "detectable": 0.8}
    loss = {"difference": 0.001, "interval": [-0.01, 0.01], "p_value": 0.4, "detectable": 0.004}
    return {"capability": cap, "loss": loss}


@pytest.mark.parametrize("decision", ladder.DECISIONS)
def test_the_finding_is_chapter_ladders_decision_in_the_intros_words(decision):
    found = Findings()
    intro.finding_values(found, _test(0.001), decision, n_settings=26, n_runs=468, n_rungs=6)
    r = found.done()
    v = r["values"]
    assert v["intro_finding"] == ladder.decision_sentence(decision, "intro")
    assert v["intro_D_cap"] == "+2.00 in log-odds (95 % interval +1.00 to +3.00, permutation p = 0.01)"
    assert v["intro_D_loss"] == "+0.0010 bits (95 % interval -0.0100 to +0.0100, permutation p = 0.4)"
    assert (v["intro_n_settings"], v["intro_n_runs"], v["intro_rungs"]) == (26, 468, 6)
    assert v["intro_power"].startswith(" Differences smaller than about 0.80 log-odds (capability) or 0.004 bits")
    assert [c.text for c in r["claims"]] == [v["intro_finding"], v["intro_power"]]
    assert all(c.holds for c in r["claims"])


def test_a_build_too_small_for_the_test_says_so():
    found = Findings()
    intro.finding_values(found, _test(1 / 9), "neither", 6, 36, 3)
    assert found.done()["values"]["intro_power"].startswith(" This build's profile has too few settings")
