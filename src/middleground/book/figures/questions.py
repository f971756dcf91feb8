"""Figures of chapter questions."""

from __future__ import annotations

import altair as alt
from IPython.display import Markdown

from ...experiments.questions import QuestionsResult
from .. import charts


def beliefs(result: QuestionsResult):
    """Distinct observer beliefs against word length, with and without noise."""
    return charts.finish(
        alt.Chart(alt.Data(values=list(result.beliefs))).mark_line(point=True).encode(
            x=alt.X("L:Q", title="word length L"),
            y=alt.Y("beliefs:Q", title="distinct observer beliefs (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("source:N", title="source"),
            tooltip=[alt.Tooltip("source:N"), alt.Tooltip("L:Q"), alt.Tooltip("beliefs:Q")]),
        "Noise multiplies what an observer must remember",
        "Number of distinct beliefs about the hidden state after words of each length, on a log axis, "
        "for the golden-mean process and the same process with noise.",
        subtitle="beliefs reachable after L symbols")


def _ladder_panel(rows, law_rows, y_title, fmt):
    x_axis = alt.X("N:Q", title="non-embedding parameters N", scale=alt.Scale(type="log"))
    kind_color = alt.Color("kind:N", title=None)
    tips = [alt.Tooltip("kind:N"), alt.Tooltip("width:Q"), alt.Tooltip("N:Q", format=","),
            alt.Tooltip("value:Q", format=fmt, title=y_title)]
    y = alt.Y("value:Q", title=y_title)
    pts = alt.Chart(alt.Data(values=list(rows))).mark_point(filled=True, size=60).encode(
        x=x_axis, y=y, color=kind_color, tooltip=tips)
    line = alt.Chart(alt.Data(values=list(law_rows))).mark_line(strokeDash=[4, 3]).encode(
        x=x_axis, y=y, color=kind_color,
        tooltip=[alt.Tooltip("kind:N"), alt.Tooltip("N:Q", format=",.0f"),
                 alt.Tooltip("value:Q", format=fmt, title=y_title)])
    return (line + pts).properties(width=250, height=210)


def example(result: QuestionsResult):
    """The chosen setting's ladder: seeds, means, the laws fitted below and their predictions."""
    ex = result.example
    return charts.finish(
        alt.hconcat(_ladder_panel(ex["loss"], ex["loss_law"], "excess loss above the floor (bits/symbol)", ".4f"),
                    _ladder_panel(ex["capability"], ex["capability_law"], "exact match (all 8 right)", ".3f")),
        "One knob setting: the smaller models predict the largest",
        "For the chosen knob setting, the excess loss above the finite-context floor (left) and the "
        "exact-match rate (right) against model size on a log axis: one point per seed, the means over "
        "seeds, the law fitted to the smaller sizes (dashed) and its prediction for the largest.",
        subtitle="change family and knob_index in the parameters cell")


def table(result: QuestionsResult) -> Markdown:
    """Question 3's table, as Markdown."""
    return Markdown(result.table)
