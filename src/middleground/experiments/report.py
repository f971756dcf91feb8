"""What an experiment hands its chapter: the values the prose quotes and the claims that check it.

An experiment function computes every number, interval, table and outcome-dependent sentence its
chapter states, and returns them in one frozen dataclass (a subclass of :class:`Result`). Two of its
fields are shared by every chapter:

- ``values``: every value the prose quotes, by the key the chapter glues it under (numbers as
  numbers, sentences and formatted figures as text);
- ``claims``: every qualitative sentence of the prose that rests on a number, as data
  (:class:`Claim`: the sentence, whether it holds, and the value it rests on).

The chapter then only draws and glues (:meth:`middleground.book.chapter.Chapter.publish`), which is
also where a claim that does not hold stops a published build. Experiments build both fields with a
:class:`Findings` recorder::

    found = Findings()
    found.value("kn_runs", len(runs))
    found.claim("the excess is a few hundredths of a bit", 0.01 <= x < 0.1, x)
    found.value("kn_words", found.choose([("small", x < 0.1), ("large", True)], x))
    return KnobResult(..., **found.done())

What this module does not do: decide whether a failing claim stops anything (the book layer's
:class:`~middleground.book.claims.Claims` does, by profile) or format values for display.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class Claim:
    """A sentence of the prose, whether the numbers support it, and the value(s) it rests on."""

    text: str
    holds: bool
    value: Any

    def __post_init__(self):
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"a claim needs its sentence as text; got {self.text!r}")
        object.__setattr__(self, "holds", bool(self.holds))


class Findings:
    """Collects an experiment's quoted values and claims in order; :meth:`done` freezes them."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._claims: list[Claim] = []

    def value(self, key: str, value: Any) -> Any:
        """Record ``value`` under ``key`` (a glue key: letters, digits and underscores, unique)."""
        if not isinstance(key, str) or not key.replace("_", "").isalnum():
            raise ValueError(f"a value's key must be letters, digits and underscores; got {key!r}")
        if key in self._values:
            raise ValueError(f"the value {key!r} is recorded twice")
        self._values[key] = value
        return value

    def claim(self, text: str, holds, value) -> bool:
        item = Claim(text, holds, value)
        self._claims.append(item)
        return item.holds

    def chosen(self, text: str, value) -> str:
        """Record ``text``, a sentence a function chose from the data, as a claim that holds."""
        self.claim(text, True, value)
        return text

    def choose(self, options: list[tuple[str, bool]], value) -> str:
        """The first sentence whose condition holds, recorded as a claim that holds; ``options``
        must cover every outcome (the last condition is usually ``True``)."""
        for text, condition in options:
            if condition:
                self.claim(text, True, value)
                return text
        raise ValueError(f"no option holds for {value!r}: the options must cover every outcome")

    def done(self) -> dict[str, Any]:
        """``values`` and ``claims``, frozen, as keyword arguments of a :class:`Result`."""
        return {"values": MappingProxyType(dict(self._values)), "claims": tuple(self._claims)}


@dataclass(frozen=True)
class Result:
    """The base of every chapter's result: the quoted values and the claims, as data."""

    values: Mapping[str, Any]
    claims: tuple[Claim, ...]

    def summary(self) -> str:
        """One paragraph for the reader: what the result holds and how its claims fared."""
        held = sum(c.holds for c in self.claims)
        others = [f.name for f in fields(self) if f.name not in ("values", "claims")]
        return (f"{type(self).__name__}: {len(self.values)} values quoted in the text, "
                f"{held} of {len(self.claims)} claims hold"
                + (f"; fields {', '.join(others)}" if others else ""))
