"""Learning-curve extrapolation against curves with known answers: power laws (falling and
rising), a sigmoid whose jump comes after the fitted part, constants, and plateaus."""

import numpy as np
import pytest

from middleground.measures import curves

STEPS = np.arange(0, 1001, 50)


def test_a_power_law_is_extrapolated_to_its_true_end():
    values = 0.5 + 3.0 * np.maximum(STEPS, 1) ** -0.6
    ex = curves.extrapolate(STEPS, values, fit_fraction=0.5)
    truth = 0.5 + 3.0 * 1000 ** -0.6
    assert ex["method"] == "power law"
    assert ex["prediction"] == pytest.approx(truth, rel=1e-4) and ex["actual"] == pytest.approx(truth)
    assert ex["abs_error"] < 1e-4


def test_a_rising_power_law_is_fitted_as_its_mirror_image():
    values = 0.9 - 0.8 * np.maximum(STEPS, 1) ** -0.5  # an accuracy creeping up to 0.9
    ex = curves.extrapolate(STEPS, values, fit_fraction=0.5, ceiling=1.0)
    assert ex["method"] == "power law"
    assert ex["prediction"] == pytest.approx(values[-1], abs=2e-3)


def test_a_sigmoid_that_jumps_after_the_fitted_part_is_missed_by_the_jump():
    """Emergence: flat near 0 while fitted, then a jump to 1. No fit of the start can know; the
    error is the whole jump, and normalised by how far the metric moved it is about 1."""
    values = 1.0 / (1.0 + np.exp(-(STEPS - 800) / 20.0))
    ex = curves.extrapolate(STEPS, values, fit_fraction=0.5, ceiling=1.0)
    assert ex["prediction"] < 0.05 and ex["actual"] > 0.99
    assert ex["abs_error"] == pytest.approx(ex["actual"] - ex["prediction"])
    assert ex["norm_error"] == pytest.approx(1.0, abs=0.05)


def test_constants_are_predicted_as_constants_and_predictions_are_clipped():
    ex = curves.extrapolate(STEPS, np.full(len(STEPS), 0.25), fit_fraction=0.5)
    assert ex["method"] == "constant" and ex["prediction"] == 0.25 and ex["abs_error"] == 0.0
    rising = 0.2 + 0.001 * STEPS  # a straight line would predict 1.2 at the end: clipped to 1
    assert curves.extrapolate(STEPS, rising, 0.5, ceiling=1.0)["prediction"] <= 1.0
    with pytest.raises(ValueError, match="raise fit_fraction"):
        curves.extrapolate(STEPS, np.ones(len(STEPS)), fit_fraction=0.1)


def test_steps_to_plateau_finds_the_step_by_which_most_of_the_drop_happened():
    excess = np.where(STEPS < 300, 1.0, 0.0)
    assert curves.steps_to_plateau(STEPS, excess) == 300
    smooth = np.exp(-STEPS / 100.0)  # 90 % of the drop by s = 100 ln 10 = 230
    assert curves.steps_to_plateau(STEPS, smooth) == 250  # the first evaluation after it
