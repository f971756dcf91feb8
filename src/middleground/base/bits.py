"""Information in bits: the unit of every entropy in the book.

torch's cross-entropy is in nats; :data:`NATS_TO_BITS` converts it. :func:`entropy_bits` is the
Shannon entropy of a distribution along one axis, with 0 log 0 = 0.
"""

from __future__ import annotations

import math

import numpy as np

NATS_TO_BITS = 1.0 / math.log(2.0)


def entropy_bits(p, axis: int = -1) -> np.ndarray | float:
    """``-Σ p log2 p`` along ``axis`` (terms with p = 0 contribute 0)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=axis)
