"""Figures of chapter capabilities."""

from __future__ import annotations

import altair as alt

from ...experiments.capabilities import CapabilitiesResult
from .. import charts


def metrics(result: CapabilitiesResult):
    """Exact match and token accuracy over training, mean over seeds, per knob value."""
    lines = alt.Chart(alt.Data(values=list(result.metric_rows))).mark_line(opacity=0.75).encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("mean(value):Q", title="score (mean over seeds)"),
        color=alt.Color("knob:Q", title="knob value", scale=alt.Scale(scheme="viridis")),
        strokeDash=alt.StrokeDash("metric:N", title="metric"),
        detail="knob:Q",
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".3g"), alt.Tooltip("metric:N"),
                 alt.Tooltip("step:Q"), alt.Tooltip("mean(value):Q", format=".3f", title="score")],
    ).properties(width=260, height=220).facet(column=alt.Column("family:N", title=None))
    return charts.finish(lines, "Exact match and token accuracy over training",
                         "The continuation capability scored two ways against training step, mean over "
                         "seeds: exact match of all eight symbols (dashed) and per-token accuracy "
                         "(solid); colour is the knob value.",
                         subtitle="same model outputs, two metrics")


def mirage(result: CapabilitiesResult):
    """Exact match against token accuracy to the K, during training and at the final evaluation."""
    scatter = alt.Chart(alt.Data(values=list(result.pair_rows))).mark_point(opacity=0.4, filled=True).encode(
        x=alt.X("token_k:Q", title="token accuracy to the power 8"),
        y=alt.Y("exact:Q", title="exact match (all 8 right)"),
        color=alt.Color("family:N", title="knob"),
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".3g"), alt.Tooltip("seed:Q"),
                 alt.Tooltip("step:Q"), alt.Tooltip("exact:Q", format=".3f"),
                 alt.Tooltip("token_k:Q", format=".3f", title="accuracy^8"),
                 alt.Tooltip("target_bits:Q", format=".3f", title="target cross-entropy (bits/token)")])
    final_marks = alt.Chart(alt.Data(values=list(result.final_rows))).mark_point(
        shape="diamond", size=90, filled=False, strokeWidth=1.5).encode(
        x=alt.X("token_k:Q", title="token accuracy to the power 8"),
        y=alt.Y("exact:Q", title="exact match (all 8 right)"),
        color=alt.Color("family:N", title="knob"),
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".3g"), alt.Tooltip("seed:Q"),
                 alt.Tooltip("n_prompts:Q", title="prompts (final evaluation)"),
                 alt.Tooltip("exact:Q", format=".3f"),
                 alt.Tooltip("token_k:Q", format=".3f", title="accuracy^8"),
                 alt.Tooltip("target_bits:Q", format=".3f", title="target cross-entropy (bits/token)")])
    diagonal = alt.Chart(alt.Data(values=[{"a": 0.0}, {"a": 1.0}])).mark_line(color="#999").encode(
        x=alt.X("a:Q", title="token accuracy to the power 8"), y=alt.Y("a:Q", title="exact match (all 8 right)"),
        tooltip=[alt.Tooltip("a:Q", title="independent errors")])
    return charts.finish(scatter + final_marks + diagonal,
                         "Exact match against token accuracy to the eighth power",
                         f"Exact match against per-token accuracy raised to the eighth power: filled dots, "
                         f"one per run and evaluation during training ({result.values['cap_curve_prompts']} "
                         f"prompts each); open diamonds, one per run at its final evaluation "
                         f"({result.final_rows[0]['n_prompts']} prompts); the grey diagonal is what independent "
                         "per-token errors give.",
                         subtitle="grey: exact match if the eight tokens were right independently")


def quanta(result: CapabilitiesResult):
    """Per-task loss of the first seed, and the frequency-weighted average per seed, on a log axis."""
    log_step = alt.X("step:Q", title="training step (log scale)",
                     scale=alt.Scale(type="log", domain=[result.q_first, result.q_last], nice=False))
    per_task = alt.Chart(alt.Data(values=[r for r in result.q_rows
                                          if r["seed"] == result.q_seed and r["step"] > 0])).mark_line(
        opacity=0.8).encode(
        x=log_step,
        y=alt.Y("bits:Q", title="loss on the task's determined symbols (bits)"),
        color=alt.Color("rank:Q", title="task rank (1 = most frequent)", scale=alt.Scale(scheme="plasma")),
        detail="task:N",
        tooltip=[alt.Tooltip("rank:Q"), alt.Tooltip("frequency:Q", format=".3f"),
                 alt.Tooltip("step:Q"), alt.Tooltip("bits:Q", format=".3f")]).properties(width=260)
    aggregate = alt.Chart(alt.Data(values=[r for r in result.agg_rows if r["step"] > 0])).mark_line(point=True).encode(
        x=log_step,
        y=alt.Y("bits:Q", title="frequency-weighted loss (bits)"),
        detail="seed:N",
        tooltip=[alt.Tooltip("seed:Q"), alt.Tooltip("step:Q"), alt.Tooltip("bits:Q", format=".4f")],
    ).properties(width=260)
    return charts.finish(alt.hconcat(per_task, aggregate), "Many skills, one average",
                         "Left: loss on the determined symbols of each subtask against training step on "
                         "a log axis from the first evaluation after step 0, colour by frequency rank "
                         "(first seed). Right: the frequency-weighted average over tasks, per seed, on "
                         "the same axis.",
                         subtitle=f"{result.values['cap_q_tasks']} subtasks with Zipf frequencies (exponent 1.5)")
