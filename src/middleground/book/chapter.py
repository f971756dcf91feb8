"""One chapter run: what every chapter's first code cell needs, in one call.

A chapter is a thin view over a tested experiment. Its cells are::

    ch = setup("knob", globals())        # parameters, run times, claims, charts, device
    result = knob.run(ch.cfg)            # the experiment: one tested function, one typed result
    ch.publish(result)                   # glue every quoted value, check every claim
    figures.excess(result)               # the charts, drawn from the result
    ch.provenance()                      # the closing box

:func:`setup` reads the chapter's parameters (the names its ``parameters`` cell declares, from
:mod:`middleground.base.profiles`) out of the notebook's namespace, resolves them against the
profile (the device decides when none is given), glues the recorded run times the "Run this
chapter" box quotes, switches Altair to the book's offline renderer and picks the device.

What this module does not do: compute anything the prose states. Numbers come from
:mod:`middleground.experiments`; this module only hands them to myst-nb and to
:class:`~middleground.book.claims.Claims`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Mapping

from ..base.profiles import ChapterConfig, parameters, resolve
from ..experiments.report import Result
from . import charts, provenance
from .claims import Claims


def trained_message(counts: Mapping[str, int]) -> str:
    """"54 runs; 6 trained now in 1 ensemble, 48 reused from the cache" for a sweep's counts."""
    groups = counts["groups"]
    trained = (f"{counts['executed']} trained now in {groups} ensemble{'' if groups == 1 else 's'}, "
               if counts["executed"] else "none trained now, ")
    return f"{counts['cells']} runs; {trained}{counts['reused']} reused from the cache"


@dataclass
class Published:
    """What :meth:`Chapter.publish` shows under the experiment's call."""

    result: Result
    device: str
    profile: str

    def _lines(self) -> list[str]:
        lines = [f"profile {self.profile} on {self.device}", self.result.summary()]
        counts = getattr(self.result, "counts", None)
        if counts:
            lines.append(trained_message(counts))
        return lines

    def _repr_html_(self) -> str:
        return "<p class=\"mg-result\">" + "<br>".join(html.escape(x) for x in self._lines()) + "</p>"

    def __repr__(self) -> str:
        return "\n".join(self._lines())


@dataclass
class Chapter:
    cfg: ChapterConfig
    claims: Claims | None  # None: a page that states no claim (the appendix)
    device_name: str

    def publish(self, result: Result) -> Published:
        """Glue every value of ``result`` under its key, and record every claim (a claim that does
        not hold stops a published build, :class:`~middleground.book.claims.ClaimFailed`)."""
        from myst_nb import glue

        if not isinstance(result, Result):
            raise TypeError(f"publish takes an experiment's Result; got {type(result).__name__}")
        if result.claims and self.claims is None:
            raise ValueError(f"chapter {self.cfg.chapter!r} was set up without claims, but its "
                             f"result states {len(result.claims)}")
        for claim in result.claims:
            self.claims(claim.text, claim.holds, claim.value)
        for key, value in result.values.items():
            glue(key, value, display=False)
        return Published(result, self.device_name, self.cfg.profile)

    def provenance(self, device_name: str | None = None) -> provenance.Box:
        """The closing box; ``device_name`` where the chapter ran elsewhere than :attr:`device_name`
        says (chapter backprop computes on the CPU in float64 whatever the device)."""
        return provenance.box(self.cfg, device_name or self.device_name, claims=self.claims)


def setup(chapter: str, namespace: Mapping[str, Any], *, states_claims: bool = True,
          run_box: bool = True) -> Chapter:
    """Resolve ``chapter``'s parameters from ``namespace`` (the notebook's ``globals()``), glue its
    recorded run times (``run_box``: the page has a "Run this chapter" box), start its claims
    (``states_claims``: the page states claims of its own; the appendix only lists the others'),
    enable the charts and pick the device (and, on the CPU, the allocator policy of a training
    process: :mod:`middleground.gpt.allocator`)."""
    from myst_nb import glue

    from ..gpt import allocator
    from ..gpt.device import default_profile, pick

    given = {name: namespace.get(name) for name in parameters(chapter)}
    cfg = resolve(chapter, namespace.get("profile") or default_profile(), **given)
    if run_box:
        for key, text in provenance.run_times(chapter).items():
            glue(key, text, display=False)
    charts.enable()
    device = pick()
    if device.type == "cpu":  # a chapter's kernel is a training process: its allocator policy
        allocator.keep_freed_memory()
    return Chapter(cfg, Claims(cfg) if states_claims else None, device.name)
