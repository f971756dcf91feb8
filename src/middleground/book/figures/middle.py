"""Figures of chapter middle."""

from __future__ import annotations

import altair as alt

from ...experiments.middle import E_MIN, REGION_ORDER, MiddleResult
from .. import charts

# One colour per region of REGION_ORDER (ordered, middle, shallow, noisy, none).
REGION_COLOURS = ["#0072B2", "#D55E00", "#CC79A7", "#009E73", "#999999"]


def strips(result: MiddleResult):
    """Eighty symbols of every source, most random first."""
    strip = alt.Chart(alt.Data(values=list(result.strip_rows))).mark_rect().encode(
        x=alt.X("position:O", title="position in the sample", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("source:N", title=None, sort=list(result.strip_order)),
        color=alt.Color("symbol:Q", title="symbol", scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("position:Q"), alt.Tooltip("symbol:Q")],
    ).properties(width=560)
    return charts.finish(strip, "Thirteen sources, from noise to order",
                         "Eighty consecutive symbols of each source as coloured cells, one row per "
                         "source, sorted from the most random (entropy rate relative to the alphabet) "
                         "to the most ordered.",
                         subtitle="rows sorted by h / log2(alphabet size), most random first")


def knobs(result: MiddleResult):
    """Exact h and E along the temperature knob and the noise knob."""
    long_rows = []
    for r in result.temp_rows + result.noise_rows:
        long_rows.append({**r, "quantity": "entropy rate h"})
        if r["E"] is not None:
            long_rows.append({**r, "quantity": "excess entropy E", "h": r["E"], "h_low": r["E"],
                              "h_high": r["E"]})
    tip = [alt.Tooltip("knob:N"), alt.Tooltip("value:Q", title="knob value", format=".3g"),
           alt.Tooltip("quantity:N"), alt.Tooltip("h:Q", title="bits", format=".4f"),
           alt.Tooltip("h_low:Q", title="lower bound", format=".4f"),
           alt.Tooltip("h_high:Q", title="upper bound", format=".4f"), alt.Tooltip("kind:N")]
    temp_chart = alt.Chart(alt.Data(values=[r for r in long_rows if r["knob"].startswith("Markov")])).mark_line(
        point=True).encode(
        x=alt.X("value:Q", scale=alt.Scale(type="log"), title="temperature τ (log scale)"),
        y=alt.Y("h:Q", title="bits"), color=alt.Color("quantity:N", title="quantity"), tooltip=tip,
    ).properties(width=250, title="Markov chain, order 2, four symbols")
    noise_chart = alt.Chart(alt.Data(values=[r for r in long_rows if r["knob"].startswith("noise")])).mark_line(
        point=True).encode(
        x=alt.X("value:Q", title="noise rate"), y=alt.Y("h:Q", title="bits"),
        color=alt.Color("quantity:N", title="quantity"),
        strokeDash=alt.StrokeDash("knob:N", title="base source"), tooltip=tip,
    ).properties(width=250, title="noise on a period-8 word and on the Markov chain")
    return charts.finish(alt.hconcat(temp_chart, noise_chart), "Two knobs between order and noise",
                         "Exact entropy rate and excess entropy in bits. Left: against the temperature "
                         "of an order-2 Markov chain, log scale. Right: against the noise rate applied "
                         "to a period-8 word and to the Markov chain at temperature 1, whose entropy "
                         "rate is bracketed by exact bounds.",
                         subtitle="lines: exact values (noisy Markov chain: midpoint of exact bounds, "
                                  "E unknown)")


def block_entropies(result: MiddleResult):
    """H(L) of every source, exact solid, estimated dashed."""
    curves = alt.Chart(alt.Data(values=list(result.curve_rows))).mark_line(point=True).encode(
        x=alt.X("L:Q", title="word length L"),
        y=alt.Y("H:Q", title="block entropy H(L) (bits)"),
        color=alt.Color("source:N", title="source", sort=list(result.strip_order)),
        strokeDash=alt.StrokeDash("kind:N", title="value", sort=["exact", "estimated"]),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("L:Q"), alt.Tooltip("H:Q", format=".4f"),
                 alt.Tooltip("kind:N")],
    ).properties(width=520, height=340)
    return charts.finish(curves, "Block entropy H(L) of every source",
                         "Block entropy in bits against word length for each source of the gallery; "
                         "solid lines are exact, dashed are Miller–Madow estimates.",
                         subtitle="slope → entropy rate h; intercept of the asymptote → excess entropy E")


# The estimators the convergence chart draws (the study computes more).
SHOWN = ["plugin h(4)", "miller-madow h(4)", "grassberger h(4)", "grassberger h(8)", "zlib", "bz2",
         "lzma"]


def convergence(result: MiddleResult):
    """Mean estimation error against sample size, one panel per source of the study."""
    rows = [r for r in result.conv_rows if r["estimator"] in SHOWN]
    conv = alt.Chart(alt.Data(values=rows)).mark_line(point=True, opacity=0.75).encode(
        x=alt.X("n:Q", scale=alt.Scale(type="log"), title="sample size n (symbols, log scale)"),
        y=alt.Y("mean(error):Q", title="estimate − exact h (bits/symbol)"),
        color=alt.Color("estimator:N", title="estimator", sort=SHOWN),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("estimator:N"), alt.Tooltip("n:Q", format=","),
                 alt.Tooltip("mean(error):Q", format="+.4f", title="mean error (bits)"),
                 alt.Tooltip("stdev(error):Q", format=".4f", title="spread over seeds")],
    ).properties(width=230, height=180)
    zero = alt.Chart().mark_rule(color="#333").encode(y=alt.datum(0))
    return charts.finish(alt.layer(conv, zero).facet(facet=alt.Facet("source:N", title=None), columns=2,
                                                     data=alt.Data(values=rows)),
                         "How estimators of the entropy rate converge",
                         "Mean estimation error in bits per symbol (estimate minus the exact entropy "
                         "rate, midpoint of exact bounds for the noisy golden mean) against sample size "
                         "on a log axis, one panel per source, one line per estimator.",
                         subtitle="zero line: the exact value; mean over seeds, spread in the tooltip")


def complexity_entropy(result: MiddleResult):
    """E against h for every source of the diagram, coloured by region."""
    rows = list(result.ce_rows)
    ce_tip = [alt.Tooltip("name:N", title="source"), alt.Tooltip("region:N"),
              alt.Tooltip("h:Q", format=".4f"), alt.Tooltip("alphabet:Q", title="alphabet size"),
              alt.Tooltip("share:Q", format=".3f", title="h / log2 |A|"),
              alt.Tooltip("E:Q", format=".4f"), alt.Tooltip("kind:N"),
              alt.Tooltip("knob:Q", format=".3g", title="knob (τ or noise rate)")]
    ce_paths = alt.Chart(alt.Data(values=[r for r in rows if r["knob"] is not None])).mark_line(
        color="#bbb", strokeWidth=1).encode(
        x=alt.X("h:Q", title="entropy rate h (bits/symbol)"),
        y=alt.Y("E:Q", title="excess entropy E (bits)"),
        detail="family:N", order="knob:Q",
        tooltip=[alt.Tooltip("family:N")])
    ce_points = alt.Chart(alt.Data(values=rows)).mark_point(filled=True, size=60, opacity=0.85).encode(
        x=alt.X("h:Q", title="entropy rate h (bits/symbol)"),
        y=alt.Y("E:Q", title="excess entropy E (bits)"),
        color=alt.Color("region:N", title="region", scale=alt.Scale(domain=list(REGION_ORDER),
                                                                      range=REGION_COLOURS)),
        shape=alt.Shape("family:N", title="family", legend=alt.Legend(labelLimit=260)),
        tooltip=ce_tip)
    ce_floor = alt.Chart(alt.Data(values=[{"E": E_MIN}])).mark_rule(
        strokeDash=[5, 4], color="#D55E00").encode(
        y=alt.Y("E:Q", title="excess entropy E (bits)"),
        tooltip=[alt.Tooltip("E:Q", title="E the middle needs (bits)")])
    ce = alt.layer(ce_paths, ce_floor, ce_points).properties(width=520, height=340)
    return charts.finish(ce, "Complexity against entropy, by region",
                         "Excess entropy against entropy rate for Markov chains of orders 1 to 3 along "
                         "the temperature knob, noisy periodic words of periods 2, 4 and 8 along the "
                         "noise knob, the golden-mean and even processes, iid and Zipf sources, two "
                         "truncated Santa Fe processes, and two cellular automata whose values are "
                         "estimated; colour is each point's region (ordered, middle, shallow, noisy) by "
                         "the definition below, grey lines join the settings of one knob, and a dashed "
                         "rule marks half a bit of excess entropy.",
                         subtitle="colour: region (h as a share of log2 of each source's alphabet); "
                                  "dashed: E = 0.5 bit; cellular automata estimated, no region")


def explorer(result: MiddleResult):
    """The temperature knob behind a slider: a sample, the exact h and E, every estimator."""
    points = len(result.explorer_temps)
    knob = alt.param(name="knob", value=points // 2,
                     bind=alt.binding_range(min=0, max=points - 1, step=1,
                                            name="temperature index (0 = coldest) "))
    label_rows = [{"index": i, "label": f"τ = {t:.3g}"} for i, t in enumerate(result.explorer_temps)]
    strip_view = alt.Chart(alt.Data(values=list(result.explorer_strips))).mark_rect().encode(
        x=alt.X("position:O", title="position", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("symbol:N", title="symbol", scale=alt.Scale(scheme="tableau10")),
        tooltip=[alt.Tooltip("position:Q"), alt.Tooltip("symbol:N")],
    ).transform_filter(alt.datum.index == knob).properties(width=520, height=40)
    label_view = alt.Chart(alt.Data(values=label_rows)).mark_text(align="left", fontSize=14).encode(
        text="label:N").transform_filter(alt.datum.index == knob).properties(width=520, height=20)
    bars = alt.Chart(alt.Data(values=list(result.explorer_values))).mark_bar().encode(
        y=alt.Y("quantity:N", title=None, sort=None),
        x=alt.X("bits:Q", title="bits (per symbol for h and its estimates)",
                scale=alt.Scale(domain=[0, 4.2])),
        color=alt.Color("group:N", title=None),
        tooltip=[alt.Tooltip("quantity:N"), alt.Tooltip("bits:Q", format=".4f"),
                 alt.Tooltip("tau:Q", format=".3g", title="temperature")],
    ).transform_filter(alt.datum.index == knob).properties(width=520)
    explorer_chart = alt.vconcat(label_view, strip_view, bars).add_params(knob)
    return charts.finish(explorer_chart, "Explorer: the temperature knob, exact values and estimators",
                         "A slider selects the temperature of the order-2 Markov chain; the chart shows "
                         "a sample of 96 symbols, the exact entropy rate and excess entropy, and the "
                         "value of each estimator on a sample, all precomputed.",
                         subtitle="drag the slider below the chart")


def text(result: MiddleResult):
    """Tiny Shakespeare's h(L), both versions, with Shannon's F_N and the upper bounds."""
    measured = [r for r in result.text_rows if r["what"] != "Shannon 1951, F_N"]
    line = alt.Chart(alt.Data(values=measured)).mark_line(point=True).encode(
        x=alt.X("L:Q", title="word length L"), y=alt.Y("h:Q", title="h(L) (bits per symbol)"),
        color=alt.Color("text:N", title="text"),
        tooltip=[alt.Tooltip("text:N"), alt.Tooltip("L:Q"), alt.Tooltip("h:Q", format=".3f"),
                 alt.Tooltip("sd:Q", format=".3f", title="sd over quarters")])
    bars_sd = alt.Chart(alt.Data(values=[{**r, "lo": r["h"] - r["sd"], "hi": r["h"] + r["sd"]}
                                         for r in measured])).mark_errorbar().encode(
        x=alt.X("L:Q", title="word length L"), y=alt.Y("lo:Q", title="h(L) (bits per symbol)"), y2="hi:Q",
        color=alt.Color("text:N", title="text"),
        tooltip=[alt.Tooltip("text:N"), alt.Tooltip("L:Q"), alt.Tooltip("sd:Q", format=".3f")])
    shannon = alt.Chart(alt.Data(values=[r for r in result.text_rows
                                         if r["what"] == "Shannon 1951, F_N"])).mark_point(
        shape="diamond", size=90, filled=True, color="black").encode(
        x=alt.X("L:Q", title="word length L"), y=alt.Y("h:Q", title="h(L) (bits per symbol)"),
        tooltip=[alt.Tooltip("what:N"), alt.Tooltip("L:Q"), alt.Tooltip("h:Q", format=".2f")])
    upper = alt.Chart(alt.Data(values=[
        {"what": f"{name} (65 characters)", "h": v} for name, v in result.text_compress.items()] + [
        {"what": "GPT held-out cross-entropy (65 characters)", "h": result.text_gpt}])).mark_rule(
        strokeDash=[4, 3], color="#888").encode(
        y=alt.Y("h:Q", title="h(L) (bits per symbol)"),
        tooltip=[alt.Tooltip("what:N", title="upper bound"), alt.Tooltip("h:Q", format=".3f")])
    return charts.finish(line + bars_sd + shannon + upper, "Tiny Shakespeare between noise and structure",
                         "Conditional block entropy h(L) in bits per symbol against word length for the "
                         "65-character text and its 27-letter version, with error bars from four "
                         "disjoint quarters; diamonds are Shannon's 1951 letter statistics for English; "
                         "dashed rules are compressor rates and a trained GPT's held-out cross-entropy "
                         "on the 65-character text.",
                         subtitle="dashed rules: upper bounds (compressors, GPT); error bars: sd over "
                                  "quarters")
