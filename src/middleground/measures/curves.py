"""Learning curves: when a run has learned.

- :func:`steps_to_plateau`: the first step by which most of the drop in excess loss has happened.

How well a run's start predicts its end, and small models a large one, is
:mod:`middleground.measures.predictability`.
"""

from __future__ import annotations

import numpy as np


def steps_to_plateau(steps, excess, fraction: float = 0.9) -> int:
    """First step by which ``fraction`` of the total drop in excess loss has happened."""
    excess = np.asarray(excess)
    target = excess[0] - fraction * (excess[0] - excess[-1])
    return int(steps[int(np.argmax(excess <= target))])
