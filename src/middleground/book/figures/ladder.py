"""Figures of chapter ladder."""

from __future__ import annotations

import altair as alt
from IPython.display import Markdown

from ...experiments.ladder import LadderResult
from .. import charts


def ladders(result: LadderResult):
    """Every setting's excess loss and exact-match rate against model size."""
    color = alt.Color("share:Q", title="h / log2 4", scale=alt.Scale(scheme="viridis", domain=[0, 1]))
    tips = [alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".4g"), alt.Tooltip("region:N"),
            alt.Tooltip("N:Q", format=",", title="non-embedding parameters"),
            alt.Tooltip("excess:Q", format=".4f", title="excess above floor (bits)"),
            alt.Tooltip("exact:Q", format=".3f", title="exact match")]
    base = alt.Chart(alt.Data(values=list(result.ladder_rows))).encode(
        x=alt.X("N:Q", title="non-embedding parameters N", scale=alt.Scale(type="log")),
        color=color, detail="knob:N", tooltip=tips)
    loss_panel = base.mark_line(point=True).encode(
        y=alt.Y("excess:Q", title="excess loss above the floor (bits/symbol)",
                scale=alt.Scale(type="symlog", constant=0.01))).properties(width=230, height=200)
    cap_panel = base.mark_line(point=True).encode(
        y=alt.Y("exact:Q", title="exact match (all 8 right)")).properties(width=230, height=200)
    return charts.finish(alt.vconcat(loss_panel.facet(column=alt.Column("family:N", title=None)),
                                     cap_panel.facet(column=alt.Column("family:N", title=None))),
                         "Size ladders along both knobs",
                         "For every knob setting (colour: its exact h as a share of log2 4), the excess "
                         "loss above the finite-context floor (top, symmetric-log axis) and the exact-match "
                         "rate (bottom) against model size on a log axis, means over seeds.",
                         subtitle="one line per knob setting; the rightmost point is the one predicted")


def _error_panel(result: LadderResult, metric: str):
    rows_m = [r for r in result.prediction_rows if r["metric"] == metric]
    lo, hi = result.middle_band
    band = alt.Chart(alt.Data(values=[{"lo": lo, "hi": hi}])).mark_rect(
        opacity=0.12, color="#888").encode(x=alt.X("lo:Q", title="h / log2 4"), x2="hi:Q",
                                           tooltip=[alt.Tooltip("lo:Q", title="middle from"),
                                                    alt.Tooltip("hi:Q", title="middle to")])
    base_m = alt.Chart(alt.Data(values=rows_m)).encode(
        x=alt.X("share:Q", title="h / log2 4", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("family:N", title="knob"))
    y_title = f"error predicting the largest model, {metric}"
    points = base_m.mark_point(filled=True, size=60).encode(
        y=alt.Y("error:Q", title=y_title), shape=alt.Shape("region:N", title="region"),
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".4g"), alt.Tooltip("region:N"),
                 alt.Tooltip("predicted:Q", format=".4f"), alt.Tooltip("actual:Q", format=".4f"),
                 alt.Tooltip("error:Q", format=".4f"),
                 alt.Tooltip("error_lo:Q", format=".4f", title="95 % from"),
                 alt.Tooltip("error_hi:Q", format=".4f", title="95 % to")])
    bars = base_m.mark_rule().encode(y=alt.Y("error_lo:Q", title=y_title), y2="error_hi:Q")
    return alt.layer(band, bars, points).properties(width=240, height=220)


def errors(result: LadderResult):
    """Error of predicting the largest model, per setting, for loss and capability."""
    return charts.finish(
        alt.hconcat(_error_panel(result, "loss (bits)"), _error_panel(result, "capability (log-odds)")),
        "How wrong is the prediction of the largest model?",
        "Error of predicting the largest model of each ladder from the smaller ones, loss in bits "
        "(left) and exact match in log-odds (right), against the setting's exact h as a share of "
        "log2 4; bars are bootstrap 95 % intervals, the grey band is the middle's h range.",
        subtitle="grey band: the middle's range of h; bars: 95 % bootstrap intervals")


def baseline(result: LadderResult):
    """The largest model's loss − h beside the floor and the count-based Bayes predictor."""
    return charts.finish(alt.Chart(alt.Data(values=list(result.baseline_rows))).mark_line(point=True).encode(
        x=alt.X("share:Q", title="h / log2 4", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("above_h:Q", title="held-out loss − h (bits/symbol)"),
        color=alt.Color("predictor:N", title="predictor"),
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".4g"), alt.Tooltip("predictor:N"),
                 alt.Tooltip("above_h:Q", format=".4f", title="loss − h (bits)")]).properties(
        width=240, height=220).facet(column=alt.Column("family:N", title=None)),
        "The largest model beside the floor and a count-based baseline",
        "Held-out loss minus the exact entropy rate h for the largest model of each ladder (mean over "
        "seeds), the finite-context floor, and a Bayesian mixture of Markov orders 0 to 10 with "
        "Krichevsky–Trofimov counts fitted on the same training symbols, all on the same windows.",
        subtitle="every predictor sees at most the symbols before it in a 33-symbol window")


def within_run(result: LadderResult):
    """The largest model's learning curves, and the error of extrapolating each from its start."""
    curves_chart = alt.Chart(alt.Data(values=list(result.curve_rows))).mark_line(opacity=0.6).encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("above_h:Q", title="held-out loss − h (bits/symbol)", scale=alt.Scale(type="symlog", constant=0.01)),
        color=alt.Color("share:Q", title="h / log2 4", scale=alt.Scale(scheme="viridis", domain=[0, 1])),
        strokeWidth=alt.StrokeWidth("peak:N", title="setting", scale=alt.Scale(
            domain=["largest within-run error", "other settings"], range=[3.5, 1])),
        detail="seed:N",
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".4g"), alt.Tooltip("seed:Q"),
                 alt.Tooltip("step:Q"), alt.Tooltip("above_h:Q", format=".4f"), alt.Tooltip("peak:N", title="setting")],
    ).properties(width=240, height=200).facet(column=alt.Column("family:N", title=None))
    wr_chart = alt.Chart(alt.Data(values=list(result.within_rows))).mark_point(filled=True, size=50).encode(
        x=alt.X("share:Q", title="h / log2 4", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("error:Q", title="within-run extrapolation error (bits)"),
        color=alt.Color("family:N", title="knob"), shape=alt.Shape("region:N", title="region"),
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".4g"), alt.Tooltip("seed:Q"),
                 alt.Tooltip("prediction:Q", format=".4f"), alt.Tooltip("actual:Q", format=".4f"),
                 alt.Tooltip("error:Q", format=".4f")]).properties(width=240, height=200)
    return charts.finish(alt.vconcat(curves_chart, wr_chart),
                         "Learning curves of the largest model, and extrapolating each from its start",
                         "Top: held-out loss minus h against training step for the largest model on every "
                         "setting (colour: h as a share of log2 4; bold: the setting with the largest "
                         "within-run error). Bottom: error of extrapolating each "
                         "run's final loss from its post-warmup start in cumulative learning rate.",
                         subtitle="top: one line per run; bottom: one point per run")


# ---------------------------------------------------------------------------------------------
# The central test on the (h, E) plane (result.central: experiments.central.CentralResult)

_ROLE = alt.Color("role:N", title="setting")


def plane_rates(result: LadderResult):
    """The declared learning-rate sweep: tuning excess against the candidate rate, per width."""
    c = result.central
    chart = alt.Chart(alt.Data(values=list(c.rate_rows))).encode(
        x=alt.X("learning_rate:Q", title="peak learning rate", scale=alt.Scale(type="log")),
        y=alt.Y("mean_excess:Q", title="tuning excess above the floor (bits)",
                scale=alt.Scale(type="symlog", constant=0.01)),
        color=alt.Color("width:O", title="width", scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("width:O"), alt.Tooltip("N:Q", format=",", title="non-embedding parameters"),
                 alt.Tooltip("learning_rate:Q", format=".0e", title="rate"),
                 alt.Tooltip("mean_excess:Q", format=".4f", title="excess (bits)"),
                 alt.Tooltip("chosen:N", title="chosen")])
    layers = alt.layer(chart.mark_line(), chart.mark_point(size=70, filled=True).encode(
        shape=alt.Shape("chosen:N", title="chosen", scale=alt.Scale(domain=[True, False],
                                                                   range=["diamond", "circle"]))))
    return charts.finish(layers.properties(width=300, height=200), "The declared learning-rate sweep",
                         "For every width, the mean final excess loss on the tuning settings (tuning "
                         "seed, not a test seed) at each candidate peak rate; the diamond is the rate "
                         "the plan's rule chose for that width.",
                         subtitle="lowest excess wins; the test then trains each width at its rate")


def plane_ladders(result: LadderResult):
    """Every setting's excess and exact match against size, fitted rungs and target marked."""
    c = result.central
    tips = [alt.Tooltip("setting:N"), alt.Tooltip("role:N"), alt.Tooltip("E:Q", format=".2f", title="E (bits)"),
            alt.Tooltip("N:Q", format=",", title="non-embedding parameters"),
            alt.Tooltip("excess:Q", format=".4f", title="excess (bits)"),
            alt.Tooltip("exact:Q", format=".3f", title="exact match"), alt.Tooltip("target:N", title="target")]
    base = alt.Chart(alt.Data(values=list(c.ladder_rows))).encode(
        x=alt.X("N:Q", title="non-embedding parameters N", scale=alt.Scale(type="log")),
        color=_ROLE, detail="setting:N", tooltip=tips)
    def panel(y):
        points = base.mark_point(filled=True).encode(shape=alt.Shape("target:N", title="predicted rung"))
        return alt.layer(base.mark_line(), points).encode(y=y).properties(width=280, height=210)

    loss = panel(alt.Y("excess:Q", title="excess above the floor (bits/symbol)",
                       scale=alt.Scale(type="symlog", constant=0.003)))
    cap = panel(alt.Y("exact:Q", title="exact match (all 8 right)"))
    return charts.finish(alt.vconcat(loss, cap), "Ladders on the (h, E) plane",
                         "Every setting of the plan: excess loss above the finite-context floor (top, "
                         "symmetric-log axis) and exact-match rate (bottom) against model size, means "
                         "over seeds; colour says whether the setting is a control end, an E = 0 "
                         "setting or a middle one.",
                         subtitle="the rightmost rung is predicted from the ones before it")


def plane_control(result: LadderResult):
    """Predicted against actual at the target rung, with 95 % prediction intervals."""
    c = result.central
    panels = []
    for metric, scale in (("loss (excess, bits)", "log"), ("capability (exact match)", "linear")):
        rows = [r for r in c.scatter_rows if r["metric"] == metric]
        lo = min(min(r["lo"], r["actual"]) for r in rows)
        hi = max(max(r["hi"], r["actual"]) for r in rows)
        if scale == "log":
            lo = max(lo, 1e-4)
        line = alt.Chart(alt.Data(values=[{"v": lo}, {"v": hi}])).mark_line(
            color="#888", strokeDash=[4, 3]).encode(
            x=alt.X("v:Q", title=f"predicted {metric}", scale=alt.Scale(type=scale)),
            y=alt.Y("v:Q", title=f"actual {metric}", scale=alt.Scale(type=scale)),
            tooltip=[alt.Tooltip("v:Q", format=".3g", title="predicted = actual")])
        base = alt.Chart(alt.Data(values=rows)).encode(
            y=alt.Y("actual:Q", title=f"actual {metric}", scale=alt.Scale(type=scale)), color=_ROLE)
        bars = base.mark_rule().encode(x=alt.X("lo:Q", title=f"predicted {metric}",
                                               scale=alt.Scale(type=scale)), x2="hi:Q")
        points = base.mark_point(filled=True, size=60).encode(
            x=alt.X("predicted:Q", title=f"predicted {metric}", scale=alt.Scale(type=scale)),
            shape=alt.Shape("covered:N", title="inside its interval"),
            tooltip=[alt.Tooltip("setting:N"), alt.Tooltip("role:N"),
                     alt.Tooltip("predicted:Q", format=".4f"), alt.Tooltip("lo:Q", format=".4f", title="95 % from"),
                     alt.Tooltip("hi:Q", format=".4f", title="95 % to"), alt.Tooltip("actual:Q", format=".4f"),
                     alt.Tooltip("persistence:Q", format=".4f", title="largest fitted rung")])
        panels.append(alt.layer(line, bars, points).properties(width=260, height=240))
    return charts.finish(alt.vconcat(*panels), "Predicted against actual, at the target rung",
                         "For every setting, the law's prediction of the largest model (horizontal, "
                         "with its 95 % prediction interval as a bar) against what that model "
                         "measured (vertical); on the dashed line prediction and measurement agree. "
                         "Top: excess loss on log axes; bottom: exact-match rate.",
                         subtitle="a bar that crosses the dashed line holds the actual value")


def plane_errors(result: LadderResult):
    """The errors on the (h, E) plane: against h share, coloured by E."""
    c = result.central
    panels = []
    for key, title in (("loss_error", "loss error, |log(actual / predicted)|"),
                       ("capability_error", "capability error, |actual − predicted| rate")):
        fit = alt.Chart(alt.Data(values=[r for r in c.fit_rows if r["metric"] == key])).mark_line(
            color="#555", strokeDash=[5, 3]).encode(
            x=alt.X("share:Q", title="h / log2 4", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("fit:Q", title=title),
            tooltip=[alt.Tooltip("share:Q", format=".2f", title="h share"),
                     alt.Tooltip("E:Q", format=".2f", title="at E (bits)"),
                     alt.Tooltip("fit:Q", format=".4f", title="error model")])
        points = alt.Chart(alt.Data(values=list(c.plane_rows))).mark_point(filled=True, size=70).encode(
            x=alt.X("share:Q", title="h / log2 4", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(f"{key}:Q", title=title),
            color=alt.Color("E:Q", title="E (bits)", scale=alt.Scale(scheme="viridis")),
            shape=alt.Shape("role:N", title="setting"),
            tooltip=[alt.Tooltip("setting:N"), alt.Tooltip("role:N"), alt.Tooltip("E:Q", format=".2f"),
                     alt.Tooltip(f"{key}:Q", format=".4f", title="error")])
        panels.append(alt.layer(fit, points).properties(width=260, height=200))
    return charts.finish(alt.vconcat(*panels), "Prediction errors on the (h, E) plane",
                         "Each setting's error predicting the largest model, against its h share, "
                         "coloured by its excess entropy E; the dashed curve is the pre-stated error "
                         "model (quadratic in h share, linear in E) at the settings' median E, which "
                         "asks whether errors bulge between the ends at a given E.",
                         subtitle="loss (top) and capability (bottom)")


def primary_table(result: LadderResult) -> Markdown:
    """Coverage and skill of the control and of both metrics, as Markdown."""
    return Markdown(result.central.primary_table)


def transition_table(result: LadderResult) -> Markdown:
    """N* per setting with intervals and what the rungs below foresaw, as Markdown."""
    return Markdown(result.central.transition_table)
