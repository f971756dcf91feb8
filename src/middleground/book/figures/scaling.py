"""Figures of chapter scaling."""

from __future__ import annotations

import altair as alt

from ...experiments.scaling import ScalingResult
from .. import charts


def law(result: ScalingResult):
    """Every run's loss against N, the law fitted without the largest size, and its prediction."""
    x = alt.X("N:Q", scale=alt.Scale(type="log"), title="non-embedding parameters N (log scale)")
    y = alt.Y("loss:Q", scale=alt.Scale(zero=False), title="validation loss (nats per character)")
    dots = alt.Chart(alt.Data(values=list(result.points))).mark_point(
        filled=True, size=60, opacity=0.8).encode(
        x=x, y=y, color=alt.Color("role:N", title="run"), shape=alt.Shape("role:N", title="run"),
        tooltip=[alt.Tooltip("size:N", title="model"), alt.Tooltip("N:Q", format=","),
                 alt.Tooltip("seed:Q"), alt.Tooltip("loss:Q", format=".4f", title="nats/char")])
    line = alt.Chart(alt.Data(values=list(result.curve))).mark_line(color="#555", strokeDash=[5, 3]).encode(
        x=x, y=y, tooltip=[alt.Tooltip("N:Q", format=",.0f"),
                           alt.Tooltip("loss:Q", format=".4f", title="fitted law")])
    error_bar = alt.Chart(alt.Data(values=list(result.band))).mark_errorbar(
        ticks=True, color="#d62728").encode(
        x=x, y=alt.Y("lo:Q", title="validation loss (nats per character)"), y2="hi:Q",
        tooltip=[alt.Tooltip("pred:Q", format=".4f", title="predicted"),
                 alt.Tooltip("lo:Q", format=".4f", title="5th percentile"),
                 alt.Tooltip("hi:Q", format=".4f", title="95th percentile")])
    return charts.finish(dots + line + error_bar, "A power law fitted on small models predicts a larger one",
                         "Validation loss against non-embedding parameter count on a log axis, one point "
                         "per seed; the dashed curve is E + A N^-alpha fitted to all but the largest "
                         "size, and the red bar is the bootstrap 90 % interval of its prediction for "
                         "the held-out size.",
                         subtitle="dashed: fit without the largest size; red: 90 % bootstrap interval "
                                  "of its prediction")


def exponents(result: ScalingResult):
    """This chapter's exponent of N beside the published ones."""
    table = alt.Chart(alt.Data(values=list(result.exponents))).mark_bar().encode(
        x=alt.X("alpha:Q", title="fitted exponent α of N"),
        y=alt.Y("fit:N", title=None, sort=None),
        color=alt.condition(alt.datum.fit == "this chapter", alt.value("#d62728"), alt.value("#4c78a8")),
        tooltip=[alt.Tooltip("fit:N"), alt.Tooltip("alpha:Q", format=".3f"),
                 alt.Tooltip("E:Q", format=".2f", title="irreducible loss E"), alt.Tooltip("form:N")])
    return charts.finish(table, "The exponent of N, here and in the literature",
                         "Horizontal bars of the fitted exponent alpha of parameter count: this "
                         "chapter's fit against Kaplan et al. 2020, Hoffmann et al. 2022 and the "
                         "Besiroglu et al. 2024 refit.",
                         subtitle="red: this chapter's fit on Tiny Shakespeare")


def flops(result: ScalingResult):
    """Counted FLOPs over 6ND, and the MFU, against N."""
    base = alt.Chart(alt.Data(values=list(result.flops))).encode(
        x=alt.X("N:Q", scale=alt.Scale(type="log"), title="non-embedding parameters N (log scale)"),
        tooltip=[alt.Tooltip("size:N", title="model"), alt.Tooltip("N:Q", format=","),
                 alt.Tooltip("6ND:Q", format=".3e", title="6ND (FLOPs)"),
                 alt.Tooltip("counted:Q", format=".3e", title="counted FLOPs"),
                 alt.Tooltip("ratio:Q", format=".2f", title="counted / 6ND"),
                 alt.Tooltip("train_s:Q", format=".1f", title="training seconds"),
                 alt.Tooltip("mfu:Q", format=".1%", title="MFU")])
    ratio_chart = base.mark_line(point=True).encode(
        y=alt.Y("ratio:Q", title="counted FLOPs / 6ND", scale=alt.Scale(zero=False)))
    mfu_chart = base.mark_line(point=True, color="#d62728").encode(
        y=alt.Y("mfu:Q", title="model-FLOPs utilisation", axis=alt.Axis(format="%")))
    return charts.finish(alt.hconcat(ratio_chart.properties(width=260), mfu_chart.properties(width=260)),
                         "How far 6ND is from the full count, and how much of the machine each size uses",
                         "Left: nanoGPT's FLOP count divided by the 6ND estimate against parameter "
                         "count. Right: model-FLOPs utilisation, counted FLOPs per second of training "
                         "over the measured matmul peak, against parameter count.",
                         subtitle="both against non-embedding parameters, log scale")
