"""The central test's analysis on fabricated ladders with known answers: a clean world where the
control passes, a world with a jump at the target where it fails, the plane, transitions, Holm."""

import math

import numpy as np
import pytest

from middleground.experiments import central

WIDTHS = [6, 8, 12, 16, 22, 44]
N = [1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 64000.0]


def rows_for(family, knob, h, E, excess_of, rate_of, seeds=3, n=512, rng=None):
    rng = rng or np.random.default_rng(0)
    out = []
    for s in range(seeds):
        for w, size in zip(WIDTHS, N):
            out.append({"family": family, "knob": knob, "seed": s, "width": w, "N": size, "h": h, "E": E,
                        "excess_floor": excess_of(size) * math.exp(rng.normal(0, 0.03)),
                        "exact_count": int(rng.binomial(n, rate_of(size))), "n_prompts": n})
    return out


def world(jump=False, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i, share in enumerate([0.1, 0.15, 0.2, 0.4, 0.5, 0.6, 0.8, 0.85, 0.9]):
        A = rng.uniform(1, 5)
        law = (lambda A: lambda size: A * size ** -0.5)(A)
        excess = (lambda law: lambda size: law(size) / (20 if size == N[-1] else 1))(law) if jump else law
        rate = lambda size: 1 / (1 + math.exp(-1.2 * math.log(size / 6000)))
        rows += rows_for("period-8", share, 2 * share, 3.0 if i % 2 else 1.0, excess, rate, rng=rng)
    return central.ladders(rows, WIDTHS, 4)


def test_ladders_are_built_per_setting_with_every_seed_and_width():
    ls = world()
    assert len(ls) == 9 and all(np.array(l.excess).shape == (3, 6) for l in ls)
    assert [l.region for l in ls[:3]] == ["ordered"] * 3 and ls[-1].region == "noisy"
    rows = rows_for("iid", 0.5, 1.0, 0.0, lambda s: 0.1, lambda s: 0.5)
    with pytest.raises(ValueError, match=r"runs missing for \(seed, width\)"):
        central.ladders(rows[1:], WIDTHS, 4)


def test_in_a_clean_world_the_control_passes_and_both_metrics_have_skill():
    out = central.analyse(world(), n_fit=5, target=5, min_coverage=0.75, resolution=1e-3,
                          n_boot=200, n_perm=500)
    assert out["verdict"] == "control passes" and out["n_ends"] == 6
    assert out["primary"]["loss"]["coverage"]["rate"] >= 0.75
    assert out["primary"]["loss"]["skill"]["skill"] > 0.5
    assert out["primary"]["capability"]["coverage"]["rate"] >= 0.75
    assert set(out["holm"]) == {"interior effect on loss error", "interior effect on capability error"}
    # the logistic capability crosses 0.5 at N = 6,000, between the third and fourth rungs
    t = out["per_setting"][0]["match_half"]
    assert 4000 < t["N_star"] < 8000


def test_with_a_jump_at_the_target_the_control_fails_and_says_why():
    out = central.analyse(world(jump=True), n_fit=5, target=5, min_coverage=0.75, resolution=1e-4,
                          n_boot=200, n_perm=500)
    assert out["verdict"] == "control fails"
    assert any("coverage 0 of 6" in r for r in out["control"]["reasons"])


def test_without_end_settings_there_is_no_control():
    middle_only = [l for l in world() if l.region == "middle"]
    with pytest.raises(ValueError, match="the control needs settings at the ends"):
        central.analyse(middle_only, 5, 5, 0.75, 1e-3, 50, 200)
