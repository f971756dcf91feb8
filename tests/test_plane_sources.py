"""The (h, E) plane's sources: exact h on target, E as the closed forms say, and E against the
mixed-state sum where the sum is cheap."""

import math

import numpy as np
import pytest

from middleground.sources import plane


@pytest.mark.parametrize("family,parameter", [("iid", None), ("period", 2), ("period", 8), ("period", 64),
                                              ("order", 1), ("order", 3), ("order", 5)])
@pytest.mark.parametrize("share", [0.2, 0.5, 0.8])
def test_every_member_has_the_h_it_was_placed_at(family, parameter, share):
    source = plane.plane_source(family, parameter, share)
    assert source.entropy_rate == pytest.approx(2.0 * share, abs=1e-8)
    assert source.alphabet_size == 4


def test_the_iid_control_has_no_structure_and_is_the_distribution_it_names():
    s = plane.plane_source("iid", None, 0.5)
    assert s.truth().E == pytest.approx(0.0, abs=1e-12)
    p = s.T.sum(axis=(1, 2))
    assert p == pytest.approx(sorted(p, reverse=True)) and -(p * np.log2(p)).sum() == pytest.approx(1.0)
    # the sample's symbol frequencies are those probabilities
    freq = np.bincount(s.sample(200_000, np.random.default_rng(0)), minlength=4) / 200_000
    assert freq == pytest.approx(p, abs=0.005)


@pytest.mark.parametrize("p", plane.PERIODS)
def test_a_noisy_period_holds_log2_p_bits_of_structure_at_any_h(p):
    for share in (0.2, 0.8):
        assert plane.plane_source("period", p, share).truth().E == pytest.approx(math.log2(p))


def test_the_period_families_e_agrees_with_the_mixed_state_sum_where_it_is_cheap():
    s = plane.plane_source("period", 2, 0.5)
    assert s.excess_entropy_sum()[0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("order,temperature", [(1, 0.3), (3, 0.5), (5, 2.0)])
def test_the_fast_markov_entropy_rate_is_the_exact_one(order, temperature):
    exact = plane.hmm.MarkovChain.random(4, order, temperature, 0).entropy_rate
    assert plane.markov_entropy_rate(order, temperature) == pytest.approx(exact, abs=1e-10)


def test_at_matched_h_structure_grows_with_the_markov_order():
    E = [plane.plane_source("order", o, 0.5).truth().E for o in plane.ORDERS]
    assert all(e > 0 for e in E) and E[-1] > E[0]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="family must be one of"):
        plane.plane_source("zipf", None, 0.5)
    with pytest.raises(ValueError, match="period must be one of"):
        plane.plane_source("period", 3, 0.5)
    with pytest.raises(ValueError, match="order must be one of"):
        plane.plane_source("order", 6, 0.5)
    with pytest.raises(ValueError, match="family 'iid' takes no parameter"):
        plane.plane_source("iid", 2, 0.5)
    with pytest.raises(ValueError, match="share must be in"):
        plane.plane_source("iid", None, 1.0)
    assert plane.label("period", 8) == "period 8" and plane.label("iid", None) == "i.i.d."


def test_a_sweep_cell_of_the_plane_trains_and_is_scored_against_its_exact_floor():
    from middleground.sweeps import knob

    cells = [{**c, "n_val": 256 * 33, "n_prompts": 64, "curve_points": 4}
             for c in knob.cells("period-8", [0.3], [0], iters=16)]
    (result,) = knob.train_group(cells)
    assert result["h"] == pytest.approx(0.6, abs=1e-8) and result["E"] == pytest.approx(3.0)
    final = result["final"]
    assert final["optimal_bits"] > 0 and math.isfinite(final["excess_floor"]) and final["n_windows"] == 256
    with pytest.raises(ValueError, match="family must be one of"):
        plane.member("period-3", 0.5)
