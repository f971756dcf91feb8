"""Learning curves against known answers: when a curve has made most of its drop."""

import numpy as np

from middleground.measures import curves

STEPS = np.arange(0, 1001, 50)


def test_steps_to_plateau_finds_the_step_by_which_most_of_the_drop_happened():
    excess = np.where(STEPS < 300, 1.0, 0.0)
    assert curves.steps_to_plateau(STEPS, excess) == 300
    smooth = np.exp(-STEPS / 100.0)  # 90 % of the drop by s = 100 ln 10 = 230
    assert curves.steps_to_plateau(STEPS, smooth) == 250  # the first evaluation after it
