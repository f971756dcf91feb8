"""Figures of chapter calculus."""

from __future__ import annotations

import altair as alt

from ...experiments.calculus import TOL, CalculusResult
from .. import charts

FLOOR = 1e-17  # zero errors are drawn at this floor on the log axis


def gradient_errors(result: CalculusResult):
    """Each component's largest relative error against autograd, as bars on a log axis, with the
    test suite's tolerance marked."""
    plot_rows = [{**r, "shown": max(r["max_rel_error"], FLOOR)} for r in result.rows]
    bars = alt.Chart(alt.Data(values=plot_rows)).mark_bar().encode(
        y=alt.Y("component:N", title=None, sort=None),
        x=alt.X("shown:Q", title="max relative error vs autograd", scale=alt.Scale(type="log", domainMin=FLOOR)),
        tooltip=[alt.Tooltip("component:N"), alt.Tooltip("max_rel_error:Q", format=".2e")],
    )
    rule = alt.Chart(alt.Data(values=[{"tol": TOL}])).mark_rule(color="#D55E00", strokeDash=[4, 4]).encode(
        x=alt.X("tol:Q", title="max relative error vs autograd"),
        tooltip=[alt.Tooltip("tol:Q", title="test tolerance", format=".0e")])
    return charts.finish(bars + rule, "Hand gradients agree with autograd to rounding error",
                         "Maximum relative error of each hand-derived gradient against torch autograd in "
                         "float64, on a log scale, with the test suite's tolerance of 1e-8 marked.",
                         subtitle="dashed: the tolerance the tests enforce (1e-8)")
