"""The book's one definition of "the middle", on the (h, E) plane of exact values.

Chapter ``middle`` shows that h (how much each symbol is new) and E (how much the past says about
the future) are independent coordinates, so the middle ground is a *region* of that plane, not a
point on a line. This module draws its borders, once, and every chapter, sweep and test asks it:

- **ordered**: h below a quarter of its maximum log2|A| (most of each symbol is determined);
- **noisy**: h above three quarters of it (most of each symbol is new);
- **middle**: h between the two *and* E at least half a bit (the past tells at least half a
  bit about the future: structure that reaches beyond one symbol's distribution);
- **shallow**: h between the two but E below half a bit (partly random, with little structure,
  like a biased i.i.d. source): neither end, and not the middle either.

Sources without a finite E (Santa Fe, E = ∞) or without an exact value have no place here.
"""

from __future__ import annotations

import math

from ..base import checks

ORDERED = "ordered"
MIDDLE = "middle"
NOISY = "noisy"
SHALLOW = "shallow"
REGIONS = (ORDERED, MIDDLE, NOISY, SHALLOW)

H_LOW = 0.25      # share of log2|A| below which a source is ordered
H_HIGH = 0.75     # share above which it is noisy
E_MIN = 0.5       # bits of excess entropy the middle needs

DEFINITION = (f"h between {H_LOW:g} and {H_HIGH:g} of its maximum log2|A| and excess entropy E "
              f"of at least {E_MIN:g} bit")


def h_share(h: float, alphabet_size: int) -> float:
    """h as a share of its maximum, log2 of the alphabet size."""
    alphabet_size = checks.integer("alphabet_size", alphabet_size, 2)
    h_max = math.log2(alphabet_size)
    try:  # rounding may put an exact h a hair outside [0, h_max]: 1e-9 bit of slack
        h = checks.real("h", h, -1e-9, h_max + 1e-9)
    except ValueError:
        raise ValueError(f"h must lie in [0, log2 {alphabet_size} = {h_max:.4g}]; got {h!r}") from None
    return min(max(h / h_max, 0.0), 1.0)


def region(h: float, E: float, alphabet_size: int) -> str:
    """Which region of the (h, E) plane a source with exact ``h`` and ``E`` (bits) lies in:
    one of :data:`ORDERED`, :data:`MIDDLE`, :data:`NOISY`, :data:`SHALLOW`."""
    try:
        checks.real("E", E, -1e-9)
    except ValueError:
        raise ValueError(f"E must be a finite number >= 0 (sources with infinite E have no region); "
                         f"got {E!r}") from None
    share = h_share(h, alphabet_size)
    if share < H_LOW:
        return ORDERED
    if share > H_HIGH:
        return NOISY
    return MIDDLE if E >= E_MIN else SHALLOW


def is_end(name: str) -> bool:
    """Ordered or noisy: the two ends of a knob that the middle is compared with."""
    if name not in REGIONS:
        raise ValueError(f"region must be one of {', '.join(REGIONS)}; got {name!r}")
    return name in (ORDERED, NOISY)
