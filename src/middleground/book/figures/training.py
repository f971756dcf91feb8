"""Figures of chapter training."""

from __future__ import annotations

import altair as alt

from ...experiments.training import NANOGPT_CPU_VAL, TrainingResult
from .. import charts


def loss_curves(result: TrainingResult):
    """Training and validation loss at every evaluation, with nanoGPT's published CPU-recipe value."""
    rows = [{"step": r["step"], "split": split, "loss": r[f"{split}_loss"]}
            for r in result.history for split in ("train", "val")]
    curves = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("step:Q", title="optimisation step"),
        y=alt.Y("loss:Q", title="cross-entropy (nats per character)", scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", title="split"),
        tooltip=[alt.Tooltip("split:N"), alt.Tooltip("step:Q"),
                 alt.Tooltip("loss:Q", title="nats/char", format=".4f")],
    )
    reference = alt.Chart(alt.Data(values=[{"label": "nanoGPT CPU recipe, published (about 1.88)",
                                            "loss": NANOGPT_CPU_VAL}])).mark_rule(strokeDash=[4, 4]).encode(
        y=alt.Y("loss:Q", title="cross-entropy (nats per character)"),
        tooltip=[alt.Tooltip("label:N", title="reference"), alt.Tooltip("loss:Q", format=".2f")],
    )
    return charts.finish(curves + reference, "Training and validation loss on Tiny Shakespeare",
                         "Cross-entropy in nats per character on fixed batches of the training and "
                         "validation splits against optimisation step; the dashed line is nanoGPT's "
                         "published validation loss for its CPU recipe.",
                         subtitle=f"{result.recipe}; dashed: nanoGPT's published CPU-recipe value")


def roofline(result: TrainingResult):
    """Every product of a step at its intensity and rate, under each machine's roofline."""
    machine = alt.Color("machine:N", title="machine")
    x_axis = alt.X("intensity:Q", title="arithmetic intensity (flops per byte)",
                   scale=alt.Scale(type="log"))
    y_axis = alt.Y("rate:Q", title="rate (flop/s)", scale=alt.Scale(type="log"))
    lines_ = alt.Chart(alt.Data(values=list(result.roofs))).mark_line().encode(
        x=x_axis, y=y_axis, color=machine,
        tooltip=[alt.Tooltip("machine:N"), alt.Tooltip("intensity:Q", title="flops/byte", format=".1f"),
                 alt.Tooltip("rate:Q", title="roof (flop/s)", format=".3s")])
    dots = alt.Chart(alt.Data(values=list(result.roofline_points))).mark_point(filled=True, size=60).encode(
        x=x_axis, y=y_axis, color=machine, shape=alt.Shape("product:N", title="product"),
        tooltip=[alt.Tooltip("product:N"), alt.Tooltip("machine:N"), alt.Tooltip("shape:N"),
                 alt.Tooltip("intensity:Q", title="flops/byte", format=".1f"),
                 alt.Tooltip("rate:Q", title="flop/s", format=".3s")])
    return charts.finish(lines_ + dots, "The roofline of one training step",
                         "Each matrix product of a training step placed by its arithmetic intensity "
                         "(flops per byte moved) against the rate it runs at, on log-log axes. Lines: "
                         "the roofline min(peak, intensity × bandwidth) of this machine (peak and "
                         "bandwidth measured in this run) and of an H100 in bf16 (spec sheet). Points "
                         "on this machine are measured rates of each product's shape; points for the "
                         "H100 sit on its roof (not measured).",
                         subtitle="this page's run, measured; the gpu profile's model on an H100, "
                                  "from the spec sheet")
