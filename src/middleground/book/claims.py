"""Claims: the prose's qualitative sentences, checked against the numbers when the chapter runs.

A sentence such as "the excess is a few hundredths of a bit" rests on a number. In a chapter it is
written next to the check that supports it::

    claim = Claims(cfg)
    claim("the excess loss is a few hundredths of a bit", 0.01 <= abs(x) < 0.1, x)

Under the ``full`` and ``gpu`` profiles as published (no parameter overridden) a claim that does not
hold stops the chapter with :class:`ClaimFailed`, naming the sentence and the value, so a build can
never publish prose its own numbers contradict. Under ``quick`` (models too small to support the
prose), and in a reader's run that overrides a parameter (an exercise: the prose was written for
the published sizes), every claim is still evaluated and recorded, and one that fails is listed,
not enforced.

Wording that depends on the outcome is chosen from the data with :meth:`Claims.choose`, which
records the sentence it picked as a claim that holds.

Every chapter's claims are written (atomically, after each claim) to
``$MIDDLEGROUND_CLAIMS_DIR/<chapter>.json`` (default ``_build/claims``); the reproduction appendix
lists them all with their values and status.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from ..base.files import write_json
from ..base import settings
from ..base.profiles import ChapterConfig

ENFORCING = ("full", "gpu")
CLAIMS_ENV = "MIDDLEGROUND_CLAIMS_DIR"


class ClaimFailed(AssertionError):
    """A sentence of the prose that the chapter's own numbers do not support."""


@dataclass(frozen=True)
class Claim:
    text: str
    holds: bool
    value: str
    enforced: bool

    @property
    def status(self) -> str:
        if self.holds:
            return "holds"
        return "FAILS" if self.enforced else "does not hold (not enforced under this profile)"


def claims_dir() -> Path:
    return settings.claims_dir()


def show(value) -> str:
    """A value as the claim list prints it: floats to 4 significant digits, sequences item by item."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} = {show(v)}" for k, v in value.items())
    return str(value)


class Claims:
    """The claims of one chapter run. Call it with a sentence, whether it holds, and the value(s)."""

    def __init__(self, cfg: ChapterConfig, folder: Path | None = None):
        self.chapter, self.profile = cfg.chapter, cfg.profile
        self.enforced = cfg.profile in ENFORCING and not cfg.overrides
        self.path = (folder or claims_dir()) / f"{cfg.chapter}.json"
        self.items: list[Claim] = []
        self._save()  # a chapter with no claim yet still replaces its old list

    def __call__(self, text: str, holds, value) -> bool:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"a claim needs its sentence as text; got {text!r}")
        holds = bool(holds)
        item = Claim(text, holds, show(value), self.enforced)
        self.items.append(item)
        self._save()
        if not holds and self.enforced:
            raise ClaimFailed(f"chapter {self.chapter!r}, profile {self.profile!r}: the claim "
                              f"{text!r} does not hold for {item.value}. Change the sentence or "
                              "choose it from the data.")
        return holds

    def choose(self, options: list[tuple[str, bool]], value) -> str:
        """The first sentence whose condition holds, recorded as a claim; ``options`` must cover
        every outcome (the last condition is usually ``True``)."""
        for text, condition in options:
            if condition:
                self(text, True, value)
                return text
        raise ValueError(f"no option holds for {show(value)}: the options must cover every outcome")

    def _save(self) -> None:
        write_json(self.path, {"chapter": self.chapter, "profile": self.profile,
                               "enforced": self.enforced,
                               "claims": [dict(asdict(c), status=c.status) for c in self.items]})

    def _repr_html_(self) -> str:
        held = sum(c.holds for c in self.items)
        return (f'<p class="mg-claims">{held} of {len(self.items)} claims on this page checked '
                f"against its numbers ({'enforced' if self.enforced else 'listed, not enforced'} "
                f"under the {self.profile} profile).</p>")

    def __repr__(self) -> str:
        return "\n".join(f"[{c.status}] {c.text} ({c.value})" for c in self.items)


def collected(folder: Path | None = None) -> list[dict]:
    """Every chapter's recorded claims in ``folder`` (default :func:`claims_dir`), by chapter."""
    import json

    folder = folder or claims_dir()
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
