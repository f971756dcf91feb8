"""Figures and tables of chapter theory, drawn from :class:`~middleground.experiments.theory.TheoryResult`."""

from __future__ import annotations

import math

import altair as alt
from IPython.display import Markdown

from ...experiments.theory import FLOOR_1R2, TheoryResult
from .. import charts


def probe_layers(result: TheoryResult):
    """Held-out MSE of the probe per layer, beside the untrained network and the lookup tables."""
    layer_rows = list(result.probe_rows)
    tip = [alt.Tooltip("what:N"), alt.Tooltip("mse:Q", format=".2e", title="MSE"),
           alt.Tooltip("mse_se:Q", format=".1e", title="SE"), alt.Tooltip("r2:Q", format=".4f", title="R²")]
    bars = alt.Chart(alt.Data(values=layer_rows)).mark_point(filled=True, size=70).encode(
        y=alt.Y("what:N", title=None, sort=[r["what"] for r in layer_rows]),
        x=alt.X("mse:Q", title="held-out MSE per belief component (log scale)", scale=alt.Scale(type="log")),
        color=alt.Color("kind:N", title="row"), tooltip=tip)
    errs = alt.Chart(alt.Data(values=[{**r, "lo": max(r["mse"] - 2 * r["mse_se"], 1e-9),
                                       "hi": r["mse"] + 2 * r["mse_se"]} for r in layer_rows])).mark_rule().encode(
        y=alt.Y("what:N", sort=[r["what"] for r in layer_rows]),
        x=alt.X("lo:Q", title="held-out MSE per belief component (log scale)"), x2="hi:Q")
    return charts.finish((errs + bars).properties(width=420),
                         "Where the belief is readable, and what a short memory already gives",
                         "Held-out mean squared error of a linear probe from the residual stream of the "
                         "trained Mess3 model to the exact belief, per layer and for all layers together, "
                         "beside the untrained network and lookup tables of the last k symbols.",
                         subtitle="x = 0.05, α = 0.85; bars: ±2 standard errors over test windows")


PANELS = ("exact beliefs", "probe on the trained model", "probe on an untrained model")


def simplex(result: TheoryResult):
    """Mess3's exact beliefs in the triangle beside the probes' predictions for the same rows."""
    s = result.simplex
    colours = s["colours"]
    # four decimals: a thousandth of a panel 210 pixels wide is a fifth of a pixel, and the
    # page carries 9,000 points twice (the notebook's vega-lite output and the book's HTML)
    pts = [{"panel": panel, "u": round(float(a), 4), "v": round(float(b), 4), "c": c}
           for panel, key in zip(PANELS, ("true", "trained", "untrained"))
           for a, b, c in zip(*s[key], colours)]
    frame = [{"panel": p, "u": u, "v": v, "order": i} for p in PANELS
             for i, (u, v) in enumerate([(0, 0), (1, 0), (0.5, math.sqrt(3) / 2), (0, 0)])]
    base = alt.Chart(alt.Data(values=pts)).mark_circle(size=6, opacity=0.7).encode(
        x=alt.X("u:Q", axis=None, title="simplex coordinate (probability units)", scale=alt.Scale(domain=[-0.02, 1.02])),
        y=alt.Y("v:Q", axis=None, title="simplex coordinate (probability units)", scale=alt.Scale(domain=[-0.02, 0.9])),
        color=alt.Color("c:N", scale=None),
        tooltip=[alt.Tooltip("panel:N"), alt.Tooltip("u:Q", format=".3f"), alt.Tooltip("v:Q", format=".3f")])
    tri = alt.Chart(alt.Data(values=frame)).mark_line(color="grey").encode(
        x=alt.X("u:Q", title="simplex coordinate (probability units)"),
        y=alt.Y("v:Q", title="simplex coordinate (probability units)"), order="order:Q")
    panels = alt.hconcat(*[alt.layer(tri.transform_filter(alt.datum.panel == p),
                                     base.transform_filter(alt.datum.panel == p)).properties(width=210, height=185, title=p)
                           for p in PANELS])
    return charts.finish(panels, "Mess3's belief fractal, and the same points read from the residual stream",
                         "Left: exact beliefs after each prefix of held-out windows, as points in the triangle "
                         "of distributions over three hidden states, each coloured by its own probabilities "
                         "(red, green, blue). Middle: the linear probe's prediction from the trained model's residual "
                         "stream for the same rows, in the same colours. Right: the same probe on an untrained network "
                         "of the same shape, the baseline.",
                         subtitle=f"x = 0.05, α = 0.85; all layers concatenated; {len(s['true'][0]):,} held-out rows")


def knob(result: TheoryResult):
    """Along Mess3's knob: belief-set entropy, each width's excess over the optimum, and 1 − R²."""
    knob_rows, top_width = list(result.knob_rows), result.top_width
    long = [{"x": r["x"], "width": r["width"], "what": w, "unexplained": max(r[k], FLOOR_1R2), "value": r[k]}
            for r in knob_rows for k, w in (("probe", "probe, trained"), ("untrained", "probe, untrained"))] + [
            {"x": r["x"], "width": r["width"], "what": w, "unexplained": max(r[k], FLOOR_1R2), "value": r[k]}
            for r in knob_rows if r["width"] == top_width
            for k, w in (("lookup3", "lookup, last 3"), ("best_lookup", "lookup, best k ≤ 6"))]
    left = alt.Chart(alt.Data(values=[r for r in knob_rows if r["width"] == top_width])).mark_line(point=True).encode(
        x=alt.X("x:Q", title="Mess3 x (larger: nearer noise)"),
        y=alt.Y("belief_entropy:Q", title="belief-set entropy (bits, 10 symbols, 10⁻³)"),
        tooltip=[alt.Tooltip("x:Q"), alt.Tooltip("belief_entropy:Q", format=".2f"),
                 alt.Tooltip("h:Q", format=".4f", title="h (upper bound)")]).properties(width=200)
    mem_lines = alt.Chart(alt.Data(values=[{**r, "what": f"memory {r['k']}"} for r in result.memory_rows])).mark_line(
        strokeDash=[4, 3], color="grey", opacity=0.7).encode(
        x=alt.X("x:Q", title="Mess3 x"), y=alt.Y("excess:Q", title="excess over the optimal predictor (bits)"),
        detail="what:N", tooltip=[alt.Tooltip("what:N", title="exact predictor"), alt.Tooltip("x:Q"),
                                  alt.Tooltip("excess:Q", format=".4f")])
    mid_pts = alt.Chart(alt.Data(values=knob_rows)).mark_line(point=True).encode(
        x=alt.X("x:Q", title="Mess3 x"), y=alt.Y("excess:Q", title="excess over the optimal predictor (bits)"),
        color=alt.Color("width:O", title="width"),
        tooltip=[alt.Tooltip("x:Q"), alt.Tooltip("width:Q"), alt.Tooltip("excess:Q", format=".4f"),
                 alt.Tooltip("excess_se:Q", format=".4f", title="SE"),
                 alt.Tooltip("beats_memory:Q", title="beats memory up to")])
    mid_err = alt.Chart(alt.Data(values=knob_rows)).mark_rule().encode(
        x=alt.X("x:Q", title="Mess3 x"), y=alt.Y("lo:Q", title="excess over the optimal predictor (bits)"), y2="hi:Q",
        color=alt.Color("width:O", title="width"))
    mid = alt.layer(mem_lines, mid_err, mid_pts).properties(width=220)
    right = alt.Chart(alt.Data(values=long)).mark_line(point=True).encode(
        x=alt.X("x:Q", title="Mess3 x"),
        y=alt.Y("unexplained:Q", title="1 − R² (log scale; floor 10⁻⁶)", scale=alt.Scale(type="log")),
        color=alt.Color("what:N", title="read-out"), strokeDash=alt.StrokeDash("width:O", title="width"),
        tooltip=[alt.Tooltip("x:Q"), alt.Tooltip("width:Q"), alt.Tooltip("what:N"),
                 alt.Tooltip("value:Q", format=".2e", title="1 − R²")]).properties(width=220)
    return charts.finish(alt.hconcat(left, mid, right).resolve_scale(color="independent", strokeDash="independent"),
                         "From structure to noise: what the observer holds, how close the model gets, how readable the belief is",
                         "Left: entropy of the distribution of exact beliefs after 10 symbols against Mess3's x. "
                         "Middle: each width's held-out excess loss over the exact optimal predictor, with the exact "
                         "predictors that remember 0 to 4 symbols as dashed grey lines. Right: the share of the "
                         "belief's variance a probe or a lookup table leaves unexplained.",
                         subtitle="one seed per width and setting; bars: ±2 SE over 20,000 windows")


def mechanics_table(result: TheoryResult) -> Markdown:
    """The exact computational mechanics of the classic sources, as a table."""
    return Markdown(result.mechanics_table)


def complexity_entropy_map(result: TheoryResult):
    """The (h / log2 k, E) plane with the knob settings, the gallery, 88 automata and the text."""
    enc_tip = [alt.Tooltip("name:N"), alt.Tooltip("group:N"), alt.Tooltip("h:Q", format=".3f", title="h / log2 k"),
               alt.Tooltip("E:Q", format=".3f", title="E (bits)"), alt.Tooltip("detail:N")]
    base = alt.Chart(alt.Data(values=list(result.map_points)))
    colored = base.transform_filter("isValid(datum.excess)").mark_point(filled=True, size=80).encode(
        x=alt.X("h:Q", title="entropy rate h / log2 k"), y=alt.Y("E:Q", title="excess entropy E (bits)"),
        color=alt.Color("excess:Q", title="excess loss (bits)", scale=alt.Scale(scheme="viridis")),
        shape=alt.Shape("group:N", title="family"), tooltip=enc_tip)
    others = base.transform_filter("!isValid(datum.excess)").mark_point(size=45).encode(
        x=alt.X("h:Q", title="entropy rate h / log2 k"), y=alt.Y("E:Q", title="excess entropy E (bits)"),
        shape=alt.Shape("group:N", title="family"),
        stroke=alt.Stroke("group:N", title="family", scale=alt.Scale(scheme="tableau10")), tooltip=enc_tip)
    hbars = base.transform_filter("isValid(datum.h_lo)").mark_rule(opacity=0.5).encode(
        x=alt.X("h_lo:Q", title="entropy rate h / log2 k"), x2="h_hi:Q", y=alt.Y("E:Q", title="excess entropy E (bits)"))
    ebars = base.transform_filter("isValid(datum.E_lo)").mark_rule(opacity=0.5).encode(
        x=alt.X("h:Q", title="entropy rate h / log2 k"), y=alt.Y("E_lo:Q", title="excess entropy E (bits)"), y2="E_hi:Q")
    low, high = result.middle_band
    band = alt.Chart(alt.Data(values=[{"a": low, "b": high}])).mark_rect(opacity=0.08, color="orange").encode(
        x=alt.X("a:Q", title="entropy rate h / log2 k"), x2="b:Q")
    return charts.finish(alt.layer(band, hbars, ebars, others, colored).properties(width=560, height=380).interactive(),
                         "The complexity-entropy map of the book",
                         "Entropy rate (as a share of log2 of the alphabet) against excess entropy for the knob "
                         "settings (filled, coloured by the trained model's excess loss), the gallery of exact "
                         "sources, the 88 elementary cellular automata (estimated, ±2 SE) and Tiny Shakespeare "
                         "with four degradations (at an upper bound on h, with a short-word estimate of E).",
                         subtitle="the shaded band is the middle of chapter middle's definition; hover for details; "
                                  "drag to pan, scroll to zoom")


def learning_curves(result: TheoryResult):
    """Excess loss against training-set size, and predicted against measured exponents."""
    plot_rows = [dict(r) | {"shown": max(r["excess"], 1e-4), "lo": max(r["excess"] - 2 * r["excess_se"], 1e-4),
                            "hi": max(r["excess"] + 2 * r["excess_se"], 1e-4),
                            "in fit": "fitted" if r["fitted"] else "not fitted"}
                 for r in result.curve]
    x = alt.X("P:Q", title="training sentences / windows P (log)", scale=alt.Scale(type="log"))
    y_title = "held-out excess over the exact optimum (bits, log; floor 10⁻⁴)"
    curve_line = alt.Chart(alt.Data(values=plot_rows)).mark_line().encode(
        x=x, y=alt.Y("shown:Q", title=y_title, scale=alt.Scale(type="log")),
        color=alt.Color("source:N", title="source"))
    curve_pts = alt.Chart(alt.Data(values=plot_rows)).mark_point(size=60).encode(
        x=x, y=alt.Y("shown:Q", title=y_title, scale=alt.Scale(type="log")),
        color=alt.Color("source:N", title="source"),
        fill=alt.Fill("in fit:N", title="point", scale=alt.Scale(range=["black", "white"])),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("P:Q"), alt.Tooltip("excess:Q", format=".4f"),
                 alt.Tooltip("excess_se:Q", format=".4f", title="SE"), alt.Tooltip("best_step:Q", title="chosen step"),
                 alt.Tooltip("epochs:Q", format=".1f"), alt.Tooltip("in fit:N")])
    curve_err = alt.Chart(alt.Data(values=plot_rows)).mark_rule().encode(
        x=x, y=alt.Y("lo:Q", title=y_title, scale=alt.Scale(type="log")),
        y2="hi:Q", color=alt.Color("source:N", title="source"))
    curve_chart = alt.layer(curve_err, curve_line, curve_pts).properties(width=300)
    table = result.exponents
    ex_rows = [{"source": r["source"], "what": "predicted", "alpha": r["predicted"], "lo": r["pred_lo"], "hi": r["pred_hi"]}
               for r in table] + [{"source": r["source"], "what": "measured", "alpha": r["measured"], "lo": r["lo"],
                                   "hi": r["hi"]} for r in table if r["measured"] is not None]
    pts_e = alt.Chart(alt.Data(values=ex_rows)).mark_point(filled=True, size=80).encode(
        y=alt.Y("source:N", title=None), x=alt.X("alpha:Q", title="exponent α of excess ∝ P^−α"),
        color=alt.Color("what:N", title="exponent"), yOffset="what:N",
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("what:N"), alt.Tooltip("alpha:Q", format=".2f"),
                 alt.Tooltip("lo:Q", format=".2f"), alt.Tooltip("hi:Q", format=".2f")])
    rules_e = alt.Chart(alt.Data(values=ex_rows)).mark_rule().encode(
        y="source:N", yOffset="what:N", x=alt.X("lo:Q", title="exponent α of excess ∝ P^−α"), x2="hi:Q",
        color="what:N")
    return charts.finish(alt.hconcat(curve_chart, (rules_e + pts_e).properties(width=260)),
                         "Learning curves: predicted exponents against measured ones",
                         "Left: held-out excess loss over the exact optimum against the number of training "
                         "sentences (RHM) or windows (Markov control), log-log. Right: the exponent predicted "
                         "from the data's statistics against the slope measured on the falling part of the curve, "
                         "with 95 % intervals.", subtitle="one seed per size; bars ±2 SE; filled points are the ones fitted")


def exponents_table(result: TheoryResult) -> Markdown:
    """Predicted against measured exponents, as a table."""
    return Markdown(result.alpha_table)


def mutual_information(result: TheoryResult):
    """Mutual information against distance on log-log axes, exact and estimated."""
    mi_rows = list(result.mi_rows)
    mi_chart = alt.Chart(alt.Data(values=mi_rows)).mark_line(point=True).encode(
        x=alt.X("d:Q", title="distance d (log)", scale=alt.Scale(type="log")),
        y=alt.Y("mi:Q", title="I(X₀; X_d) (bits, log)", scale=alt.Scale(type="log")),
        color=alt.Color("source:N", title="source"), strokeDash=alt.StrokeDash("kind:N", title="value"),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("d:Q"), alt.Tooltip("mi:Q", format=".2e"),
                 alt.Tooltip("low:Q", format=".2e"), alt.Tooltip("high:Q", format=".2e")])
    mi_err = alt.Chart(alt.Data(values=[r for r in mi_rows if r["low"] is not None])).mark_rule().encode(
        x=alt.X("d:Q", title="distance d (log)", scale=alt.Scale(type="log")),
        y=alt.Y("low:Q", title="I(X₀; X_d) (bits, log)", scale=alt.Scale(type="log")), y2="high:Q", color="source:N")
    return charts.finish((mi_err + mi_chart).properties(width=520, height=320),
                         "Mutual information against distance: exponential for finite machines, slower for text",
                         "Exact mutual information between symbols d apart for four finite hidden-Markov sources "
                         "and the grammar, and Miller-Madow estimates with 95 % block-bootstrap intervals for Tiny "
                         "Shakespeare, its order-3 surrogate and its word shuffle, shown only where they stand "
                         "above the estimator's noise floor.", subtitle="log-log axes: a power law is a straight line")


def text_table(result: TheoryResult) -> Markdown:
    """The texts' statistics and the exponents the theory predicts from them, as a table."""
    return Markdown(result.text_table)
