"""The central test's machinery recovers known answers on synthetic curves and labels."""

import math

import numpy as np
import pytest

from middleground.measures import predictability as pr
from middleground.measures import regions
from middleground.sources import knobs

N = np.array([1e3, 2e3, 4e3, 8e3, 16e3])


def test_fit_decay_recovers_a_power_law_and_predicts_the_top():
    y = 0.05 + 3.0 * N ** -0.7
    fit = pr.fit_decay(N[:-1], y[:-1])
    assert fit.alpha == pytest.approx(0.7, abs=0.01)
    assert fit.predict(N[-1]) == pytest.approx(y[-1], rel=1e-3)
    fixed = pr.fit_decay(N[:-1], y[:-1] - 0.05, E=0.0)
    assert fixed.A == pytest.approx(3.0, rel=0.05) and fixed.alpha == pytest.approx(0.7, abs=0.01)


def test_fit_decay_of_a_flat_curve_predicts_it_flat():
    fit = pr.fit_decay(N, np.full(len(N), 0.3))
    assert fit.A == 0.0 and fit.predict(1e6) == pytest.approx(0.3)
    rising = pr.fit_decay(N, np.linspace(0.1, 0.2, len(N)), E=0.0)  # a decay cannot rise: A N^0
    assert rising.alpha == 0.0


def test_size_predictions_recover_a_sigmoid_in_log_size():
    n = 512
    p = 1.0 / (1.0 + np.exp(-(-6.0 + 0.8 * np.log(N))))
    k = p * n  # expected counts: the smoothed logit is then nearly linear
    out = pr.size_predictions(N, 2.0 * N ** -0.5, k, np.full(len(N), n))
    assert out["loss_error"] == pytest.approx(0.0, abs=1e-4)
    assert out["cap_slope"] == pytest.approx(0.8, abs=0.02)
    assert out["cap_error"] < 0.02
    flat = pr.size_predictions(N, np.zeros(len(N)), np.zeros(len(N)), np.full(len(N), n))
    assert flat["cap_error"] == pytest.approx(0.0, abs=1e-9) and flat["loss_error"] == 0.0
    jump = pr.size_predictions(N, np.zeros(len(N)), np.array([0, 0, 0, 0, n]), np.full(len(N), n))
    assert jump["cap_error"] > 5  # a capability that appears only at the top is not predicted


def test_region_contrast_detects_a_middle_effect_and_not_a_null():
    labels = ["ordered"] * 2 + ["middle"] * 5 + ["noisy"] * 2
    fams = ["a"] * 9 + ["b"] * 9
    errs = [0.1, 0.1, 1.0, 1.1, 0.9, 1.0, 1.2, 0.1, 0.2] * 2
    res = pr.region_contrast(errs, labels * 2, fams, n_perm=5000)
    assert res["difference"] == pytest.approx(np.mean(errs[2:7]) - np.mean([0.1, 0.1, 0.1, 0.2]))
    # the observed labelling is the most extreme of C(9,5)^2 = 15876 labellings
    assert res["p_value"] < 0.002
    rng = np.random.default_rng(0)
    null_p = [pr.region_contrast(rng.random(18), labels * 2, fams, 500, seed=s)["p_value"]
              for s in range(200)]
    assert 0.03 < np.mean(np.array(null_p) < 0.05) < 0.09  # about 5 % false alarms


def _settings(cap_middle_jump: bool, loss_middle_bad: bool, seeds: int = 3):
    out = []
    for fam in ("temperature", "noise"):
        for region in ["ordered"] * 2 + ["middle"] * 5 + ["noisy"] * 2:
            middle = region == "middle"
            excess = 0.5 * N ** -0.5
            if loss_middle_bad and middle:
                excess = excess.copy()
                excess[-1] = 0.0  # the top rung beats the law by far
            p = 1.0 / (1.0 + np.exp(-(-4.0 + 0.5 * np.log(N))))
            if cap_middle_jump and middle:
                p = np.array([0.01, 0.01, 0.01, 0.01, 0.9])
            out.append({"family": fam, "region": region, "N": N,
                        "excess": np.tile(excess, (seeds, 1)), "excess_se": np.full((seeds, len(N)), 1e-4),
                        "k": np.tile(np.round(p * 512), (seeds, 1)), "n": 512})
    return out


@pytest.mark.parametrize("jump, bad_loss, expected", [(True, False, "supported"), (True, True, "both"),
                                                      (False, True, "loss only"),
                                                      (False, False, "neither")])
def test_decision_rule_on_synthetic_ladders(jump, bad_loss, expected):
    test = pr.central_test(_settings(jump, bad_loss), n_boot=100, n_perm=2000)
    assert pr.decision(test) == expected
    if jump:
        lo, hi = test["capability"]["interval"]
        assert 0 < lo <= test["capability"]["difference"] <= hi


def test_within_run_extrapolation_in_learning_rate_area():
    steps = np.arange(0, 601, 25)
    area = 3e-3 * steps + 1e-6  # constant rate: area proportional to steps
    loss = 1.2 + 0.8 * np.maximum(area, 1e-3) ** -0.4
    out = pr.within_run(steps, area, loss, warmup=50, fit_fraction=0.5, actual=loss[-1])
    assert out["error"] < 1e-3 and out["alpha"] == pytest.approx(0.4, abs=0.02)
    with pytest.raises(ValueError, match="fit_fraction"):
        pr.within_run(steps, area, loss, warmup=50, fit_fraction=0.1, actual=loss[-1])


def test_the_middle_is_one_region_of_the_h_E_plane():
    assert regions.region(0.2, 3.0, 4) == regions.ORDERED
    assert regions.region(1.0, 3.0, 4) == regions.MIDDLE
    assert regions.region(1.0, 0.2, 4) == regions.SHALLOW  # partly random, little structure
    assert regions.region(1.9, 3.0, 4) == regions.NOISY
    assert regions.region(0.5, 1.0, 4) == regions.MIDDLE  # borders belong to the middle
    assert regions.region(1.5, 1.0, 4) == regions.MIDDLE
    with pytest.raises(ValueError, match="E must"):
        regions.region(1.0, math.inf, 4)
    with pytest.raises(ValueError, match="h must"):
        regions.region(2.5, 1.0, 4)
    with pytest.raises(ValueError, match="alphabet_size"):
        regions.region(0.5, 1.0, 1)


@pytest.mark.parametrize("family", knobs.KNOBS)
def test_knob_settings_sample_the_middle_densely_and_the_ends_genuinely(family):
    values = knobs.knob_settings(family, 9)
    truths = [knobs.make_source(family, v).truth() for v in values]
    labels = [regions.region(t.h, t.E, knobs.KNOB_K) for t in truths]
    assert labels.count(regions.MIDDLE) >= 5
    assert labels[:2] == [regions.ORDERED] * 2 and labels[-2:] == [regions.NOISY] * 2
    shares = [t.h / 2 for t in truths]
    assert np.allclose(shares, knobs.knob_shares(9), atol=2e-3)  # bisection hits its targets
    assert min(t.h for t in truths) > 0.1  # the ordered end is not a constant sequence
    with pytest.raises(ValueError, match="knob_points"):
        knobs.knob_shares(2)


def test_a_jump_after_the_fitted_part_is_missed_by_the_whole_jump():
    """Emergence within a run: flat while fitted, then a drop of 1 bit. No fit of the start can
    know; the error is the drop, in bits, divided by nothing."""
    steps = np.arange(0, 1001, 50)
    area = 1e-3 * steps
    loss = 2.0 - 1.0 / (1.0 + np.exp(-(steps - 800) / 20.0))
    out = pr.within_run(steps, area, loss, warmup=0, fit_fraction=0.5, actual=loss[-1])
    assert out["prediction"] == pytest.approx(2.0, abs=0.01)
    assert out["error"] == pytest.approx(1.0, abs=0.02)


def test_the_rate_scale_check_is_reported_and_bounded():
    test = pr.central_test(_settings(True, False), n_boot=50, n_perm=500)
    rate = test["capability rate"]
    assert 0 < rate["middle_mean"] <= 1 and 0 <= rate["ends_mean"] <= 1
    assert rate["difference"] > 0 and all(0 <= s["cap_rate_error"] <= 1 for s in test["settings"])


def test_a_large_error_at_one_end_cannot_pass_for_a_middle_effect():
    labels = ["ordered"] * 2 + ["middle"] * 5 + ["noisy"] * 2
    errs = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0] * 2)
    pooled = pr.region_contrast(errs, labels * 2, ["a"] * 9 + ["b"] * 9, 2000)
    vs_noisy = pr.region_contrast(errs, labels * 2, ["a"] * 9 + ["b"] * 9, 2000, ends=("noisy",))
    assert pooled["difference"] == pytest.approx(1.0 - 1.5) and vs_noisy["difference"] == pytest.approx(-2.0)
    result = {**pooled, "difference": 0.2, "p_value": 0.001, "interval": [0.1, 0.3],
              "vs ordered": {"difference": 1.0}, "vs noisy": {"difference": -2.0}}
    assert not pr.significant(result)  # pooled "significant", but the noisy end is worse
    assert pr.significant({**result, "vs noisy": {"difference": 0.1}})
    # the smallest difference these labels could have detected: the shuffles' 95th percentile
    assert 0 < pooled["detectable"] < 3.0
    assert pooled["p_two_sided"] == pytest.approx(min(1.0, 2 * min(pooled["p_value"], pooled["p_lower"])))


def test_the_continuous_capability_is_tested_beside_exact_match():
    sets = _settings(True, False)
    for s in sets:  # a cross-entropy that falls smoothly everywhere: no middle effect in it
        s["target"] = np.tile(1.0 * N ** -0.3, (s["k"].shape[0], 1))
    test = pr.central_test(sets, n_boot=50, n_perm=500)
    assert test["capability continuous"]["difference"] == pytest.approx(0.0, abs=1e-6)
    assert pr.decision(test) == "supported"  # exact match jumps in the middle; the rule uses it
    assert set(test["capability"]["by family"]) == {"temperature", "noise"}


def test_the_within_run_interval_resamples_settings_and_seeds():
    labels = ["ordered"] * 2 + ["middle"] * 5 + ["noisy"] * 2
    rng = np.random.default_rng(1)
    errs = [rng.normal(1.0 if r == "middle" else 0.2, 0.05, size=3) for r in labels]
    lo, hi = pr.contrast_interval(errs, labels, ["a"] * 9, n_boot=400)
    assert 0.65 < lo < 0.8 < hi < 0.95  # around the true difference 0.8
    same = [np.full(3, 0.5) for _ in labels]
    assert pr.contrast_interval(same, labels, ["a"] * 9, n_boot=50) == [0.0, 0.0]


def test_a_test_with_too_few_settings_says_it_cannot_reach_its_level():
    labels = ["ordered", "middle", "noisy"]
    res = pr.region_contrast([0.0, 5.0, 0.0] * 2, labels * 2, ["a"] * 3 + ["b"] * 3, 2000)
    assert res["labellings"] == 9 and res["min_p"] == pytest.approx(1 / 9)
    assert res["p_value"] > 0.05  # the most extreme labelling still cannot reach 0.05
    nine = pr.region_contrast(np.zeros(18), (["ordered"] * 2 + ["middle"] * 5 + ["noisy"] * 2) * 2,
                              ["a"] * 9 + ["b"] * 9, 100)
    assert nine["labellings"] == math.comb(9, 5) ** 2
