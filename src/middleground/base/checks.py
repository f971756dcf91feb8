"""Checks of a public function's arguments: one clear ValueError, naming the parameter and what it
allows, instead of a traceback from deep inside numpy or a silently wrong answer.

- :func:`integer`: a whole number (a Python ``int`` or a numpy integer scalar; never a bool, never
  a float such as 5.0 or 5.5), optionally within bounds; returns a Python ``int``, so later
  arithmetic (``k ** order``, say) cannot overflow a fixed-width type.
- :func:`real`: a finite real number (ints and numpy scalars included; never a bool, NaN or
  ±inf), optionally within open or closed bounds; returns a Python ``float``.
- :func:`reals`: an array of finite real numbers of a given dimension and least length, optionally
  bounded below; returns a float64 array.
- :func:`symbols`: an integer array of a given dimension whose values lie in
  ``[0, alphabet_size)``; returns an int64 array.
- :func:`rng`: a ``numpy.random.Generator`` (the package never seeds from global state).
- :func:`one_of`: a value from a fixed set of choices.

Every message reads ``"<name> must be <what is allowed>; got <value>"``, so a test can match the
parameter's name at the start. What this module does not do: convert. A string "5" is not an
integer here; callers that accept strings (a command line) parse them first.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _show(value) -> str:
    """``repr(value)``, cut to 80 characters (a 400-digit int or a long list stays readable)."""
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _fmt(bound) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """The allowed range in words: "in [0, 1)", ">= 2", "< 5", or "" when unbounded."""
    if low is not None and high is not None:
        return (f"in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}"
                f"{')' if high_open else ']'}")
    if low is not None:
        return f"{'>' if low_open else '>='} {_fmt(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_fmt(high)}"
    return ""


def integer(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python int, if it is an integer (Python or numpy, not bool) with
    ``low <= value <= high`` (either bound may be None)."""
    what = f"an integer {_interval(low, high, False, False)}".rstrip()
    if _is_bool(value) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be {what}; got {_show(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be {what}; got {_show(value)}")
    return v


def real(name: str, value, low: float | None = None, high: float | None = None, *,
         low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a Python float, if it is a finite real number (Python or numpy, not bool) within
    the bounds: ``low < value`` when ``low_open`` else ``low <= value``, likewise for ``high``."""
    words = _interval(low, high, low_open, high_open)
    if words.startswith("in"):
        what = words  # "noise must be in [0, 1]": a bounded interval implies a finite number
    else:
        what = f"a finite number {words}".rstrip()
    bad = _is_bool(value) or not isinstance(value, (numbers.Real, np.integer, np.floating))
    if not bad:
        try:
            v = float(value)
        except (OverflowError, ValueError, TypeError):  # an int beyond float range, say
            bad = True
        else:
            bad = not math.isfinite(v)
    if bad:
        raise ValueError(f"{name} must be {what}; got {_show(value)}")
    if low is not None and (v <= low if low_open else v < low):
        raise ValueError(f"{name} must be {what}; got {_show(value)}")
    if high is not None and (v >= high if high_open else v > high):
        raise ValueError(f"{name} must be {what}; got {_show(value)}")
    return v


def reals(name: str, x, ndim: int = 1, min_len: int = 0, low: float | None = None, *,
          low_open: bool = False) -> np.ndarray:
    """``x`` as a float64 array of ``ndim`` dimensions and at least ``min_len`` entries along the
    first axis, every entry finite (and above ``low``, if given)."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a {ndim}-d array of finite numbers; got "
                         f"{type(x).__name__}") from None
    if a.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array of finite numbers; got shape {a.shape}")
    if len(a) < min_len:
        raise ValueError(f"{name} must have at least {min_len} "
                         f"entr{'y' if min_len == 1 else 'ies'}; got {len(a)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must hold finite numbers only (no NaN or inf)")
    if low is not None and a.size and (np.any(a <= low) if low_open else np.any(a < low)):
        raise ValueError(f"{name} must hold numbers {'>' if low_open else '>='} {_fmt(low)}; "
                         f"got min {a.min():g}")
    return a


def symbols(name: str, x, alphabet_size: int, ndim: int = 1) -> np.ndarray:
    """``x`` as an int64 array of ``ndim`` dimensions whose entries are symbols of the alphabet
    ``{0, ..., alphabet_size - 1}``. An empty array passes (with any dtype): callers that need
    symbols check the length themselves."""
    A = integer("alphabet_size", alphabet_size, 1, 2**63 - 1)
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a {ndim}-d array of symbols; got {type(x).__name__}") from None
    if a.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array of symbols; got shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer symbols; got dtype {a.dtype}")
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or hi >= A:
        raise ValueError(f"{name} has symbols outside [0, {A}) (alphabet_size = {A}): "
                         f"min {lo}, max {hi}")
    return a.astype(np.int64, copy=False)


def rng(name: str, value) -> np.random.Generator:
    """``value`` if it is a ``numpy.random.Generator``."""
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)); "
                         f"got {type(value).__name__}")
    return value


def one_of(name: str, value, choices) -> object:
    """``value`` if it is one of ``choices`` (compared with ==, so 1 and 1.0 are the same)."""
    try:
        ok = value in tuple(choices)
    except (TypeError, ValueError):  # an incomparable value (an array, say) is not a choice
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; "
                         f"got {_show(value)}")
    return value
