"""Figures of chapter intro."""

from __future__ import annotations

import altair as alt

from ...experiments.intro import IntroResult
from .. import charts


def teaser(result: IntroResult):
    """The teaser's held-out loss per step on each source, with the exact entropy rates dashed."""
    curves = alt.Chart(alt.Data(values=list(result.records))).mark_line(opacity=0.8).encode(
        x=alt.X("step:Q", title="optimisation step"),
        y=alt.Y("val_bits:Q", title="held-out cross-entropy (bits per symbol)"),
        color=alt.Color("source:N", title="source"),
        detail="seed:N",
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("seed:Q"), alt.Tooltip("step:Q"),
                 alt.Tooltip("val_bits:Q", title="bits/symbol", format=".3f")],
    )
    rules = alt.Chart(alt.Data(values=[{"source": k, "h": v} for k, v in result.exact.items()])).mark_rule(
        strokeDash=[4, 4]).encode(
        y=alt.Y("h:Q", title="held-out cross-entropy (bits per symbol)"),
        color=alt.Color("source:N", title="source"),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("h:Q", title="exact entropy rate h (bits)",
                                                       format=".3f")],
    )
    return charts.finish(curves + rules, "The same tiny GPT on noise, order and Shakespeare",
                         "Held-out loss in bits per symbol against training step for uniform noise, a "
                         "periodic sequence and Tiny Shakespeare; dashed lines mark the exact entropy rate "
                         "of the two synthetic sources.",
                         subtitle="dashed: exact entropy rate h; one line per seed")
