"""Figures of chapter matmul."""

from __future__ import annotations

import altair as alt

from ...experiments.matmul import MatmulResult
from .. import charts


def forward_flops(result: MatmulResult):
    """Forward FLOPs per token by operation, as bars."""
    m = result.model
    bars = alt.Chart(alt.Data(values=list(result.flop_rows))).mark_bar().encode(
        y=alt.Y("operation:N", title=None, sort="-x"),
        x=alt.X("flops:Q", title="forward FLOPs per token"),
        tooltip=[alt.Tooltip("operation:N"), alt.Tooltip("flops:Q", format=",.0f"),
                 alt.Tooltip("share:Q", format=".1%")],
    )
    return charts.finish(bars, "Where a forward pass spends its arithmetic",
                         "Forward floating-point operations per token by operation, for this chapter's model.",
                         subtitle=f"C={m.n_embd}, L={m.n_layer}, T={m.block_size}, V={m.vocab_size}")


def six_n_rule(result: MatmulResult):
    """The exact training matmul FLOPs over three versions of the 6N rule, against the context."""
    m = result.model
    long = [{"T": r["T"], "count": k, "ratio": v} for r in result.ratios for k, v in r.items() if k != "T"]
    lines = alt.Chart(alt.Data(values=long)).mark_line(point=True).encode(
        x=alt.X("T:Q", title="context length T (tokens)", scale=alt.Scale(type="log", base=2)),
        y=alt.Y("ratio:Q", title="exact training matmul FLOPs / rule"),
        color=alt.Color("count:N", title="rule"),
        tooltip=[alt.Tooltip("count:N"), alt.Tooltip("T:Q"), alt.Tooltip("ratio:Q", format=".3f")],
    )
    return charts.finish(lines, "How far the 6N rule is from the exact count",
                         "Ratio of the exact matrix-multiplication FLOPs of training (three times the forward) to "
                         "three versions of the 6N rule, against context length.",
                         subtitle=f"C={m.n_embd}, L={m.n_layer}; a ratio of 1 means the rule is exact")
