"""Figures of chapter backprop."""

from __future__ import annotations

import altair as alt

from ...experiments.backprop import BackpropResult
from .. import charts


def training_curves(result: BackpropResult):
    """Training loss per step of both implementations, overlaid."""
    curves = alt.Chart(alt.Data(values=list(result.records))).mark_line().encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("loss:Q", title="training cross-entropy (nats per character)"),
        color=alt.Color("implementation:N", title="gradients from"),
        strokeDash=alt.StrokeDash("implementation:N", title="gradients from"),
        tooltip=[alt.Tooltip("implementation:N"), alt.Tooltip("step:Q"),
                 alt.Tooltip("loss:Q", format=".12f")],
    )
    return charts.finish(curves, "The hand-written GPT trains exactly like torch's",
                         "Training loss per step of the numpy GPT with hand-derived gradients and "
                         "hand-written AdamW, overlaid on the same model trained by torch autograd and "
                         "torch.optim.AdamW.",
                         subtitle="the two lines coincide; hover to compare the values")
