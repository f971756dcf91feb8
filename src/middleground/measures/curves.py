"""Learning curves: when a run has learned.

- :func:`steps_to_plateau`: the first step by which most of the drop in excess loss has happened.

How well a run's start predicts its end, and small models a large one, is
:mod:`middleground.measures.predictability`.
"""

from __future__ import annotations

import numpy as np

from ..base import checks


def steps_to_plateau(steps, excess, fraction: float = 0.9) -> int:
    """First step by which ``fraction`` of the total drop in excess loss has happened.

    ``steps`` and ``excess`` are 1-d, of equal non-zero length, finite; ``fraction`` in [0, 1]."""
    steps_a = checks.reals("steps", steps, min_len=1)
    checks.reals("excess", excess, min_len=1)
    if len(steps_a) != len(np.asarray(excess)):
        raise ValueError(f"steps and excess must have the same length; got {len(steps_a)} and "
                         f"{len(np.asarray(excess))}")
    fraction = checks.real("fraction", fraction, 0.0, 1.0)
    excess = np.asarray(excess)
    target = excess[0] - fraction * (excess[0] - excess[-1])
    return int(steps[int(np.argmax(excess <= target))])
