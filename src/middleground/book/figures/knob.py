"""Figures of chapter knob."""

from __future__ import annotations

import altair as alt

from ...experiments.knob import PREDICTORS, KnobResult
from .. import charts

EXCESS_TITLE = "excess loss above the finite-context floor (bits/symbol)"


def _excess_panel(result: KnobResult, x, x_title):
    tip = [alt.Tooltip("family:N"), alt.Tooltip("knob:N"), alt.Tooltip("seed:Q"), alt.Tooltip("region:N"),
           alt.Tooltip("h:Q", format=".3f", title="exact h (bits)"),
           alt.Tooltip("h_share:Q", format=".3f", title="h share, h / log2|A|"),
           alt.Tooltip("E:Q", format=".3f", title="exact E (bits)"),
           alt.Tooltip("final_bits:Q", format=".4f", title="held-out loss (bits)"),
           alt.Tooltip("excess:Q", format=".4f", title="excess above the floor (bits)"),
           alt.Tooltip("excess_se:Q", format=".4f", title="its standard error")]
    base = alt.Chart(alt.Data(values=list(result.hmm_rows))).encode(
        x=alt.X(x, title=x_title), color=alt.Color("family:N", title="source family"), tooltip=tip)
    bars = base.mark_rule(opacity=0.5).encode(
        y=alt.Y("excess_lo:Q", title=EXCESS_TITLE, scale=alt.Scale(type="symlog", constant=0.01)),
        y2="excess_hi:Q")
    points = base.mark_point(filled=True, opacity=0.8, size=45).encode(
        y=alt.Y("excess:Q", title=EXCESS_TITLE, scale=alt.Scale(type="symlog", constant=0.01)))
    return alt.layer(bars, points).properties(width=260)


def excess(result: KnobResult):
    """Every hidden-Markov run's excess above the floor, against the h share and against E."""
    return charts.finish(alt.hconcat(_excess_panel(result, "h_share:Q", "h share: exact h / log2 |A|"),
                                     _excess_panel(result, "E:Q", "exact excess entropy E (bits)")),
                         "What the model has not learned, against the h share and against E",
                         "Excess loss in bits per symbol above the finite-context floor (the model's "
                         "held-out loss minus that of the exact optimal predictor with the same 32-symbol "
                         "context, on the same windows) for every hidden-Markov run, against the exact "
                         "entropy rate as a share of its maximum, h / log2 of the alphabet size (left), "
                         "and the exact excess entropy (right), on a symmetric-log "
                         "axis; bars are ± 2 standard errors.",
                         subtitle="one point per run (source setting × seed); Santa Fe is shown below")


def predictors(result: KnobResult):
    """Per family, loss − h of the transformer, the count-based baseline and the floor (or oracle)."""
    pred_color = alt.Color("predictor:N", title="predictor", scale=alt.Scale(domain=PREDICTORS))
    pred_tip = [alt.Tooltip("family:N"), alt.Tooltip("knob:N"), alt.Tooltip("predictor:N"),
                alt.Tooltip("h:Q", format=".3f", title="exact h (bits)"),
                alt.Tooltip("above_h:Q", format=".4f", title="loss − h (bits)"),
                alt.Tooltip("se:Q", format=".4f", title="standard error"),
                alt.Tooltip("model_minus_bayes:Q", format="+.4f", title="transformer − Bayes (bits)"),
                alt.Tooltip("model_minus_bayes_se:Q", format=".4f", title="its standard error"),
                alt.Tooltip("bayes_order:Q", title="Bayes: heaviest Markov order")]

    def family_panel(fam):
        base = alt.Chart(alt.Data(values=[r for r in result.long_rows if r["family"] == fam])).encode(
            x=alt.X("h:Q", title="exact h (bits/symbol)", scale=alt.Scale(zero=False)),
            color=pred_color, tooltip=pred_tip)
        lines = base.mark_line(point=True).encode(y=alt.Y("above_h:Q", title="held-out loss − h (bits/symbol)"))
        bars = base.mark_rule().encode(y=alt.Y("lo:Q", title="held-out loss − h (bits/symbol)"), y2="hi:Q")
        return alt.layer(lines, bars).properties(width=150, height=200, title=fam)

    return charts.finish(alt.hconcat(*[family_panel(f) for f in result.families]).resolve_scale(y="independent"),
                         "The model beside a count-based baseline and the floor, family by family",
                         "Held-out loss minus the exact entropy rate h, in bits per symbol, for the "
                         "transformer (mean over seeds, bars ± 2 standard errors), a Bayesian mixture of "
                         "Markov orders with Krichevsky–Trofimov counts fitted on the same training symbols, "
                         "and the finite-context floor; for Santa Fe instead the exact optimal predictor that "
                         "knows the realisation's facts and, for reference only, the stationary floor. All "
                         "on the same windows, against the setting's exact h.",
                         subtitle="one panel per source family; every predictor sees only its window")


def learning_curves(result: KnobResult):
    """The knob runs' held-out loss above the floor against training step, one line per run."""
    curve_chart = alt.Chart(alt.Data(values=list(result.curve_rows))).mark_line(opacity=0.7).encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("excess:Q", title="held-out loss − floor (bits/symbol)",
                scale=alt.Scale(type="symlog", constant=0.01)),
        color=alt.Color("knob:Q", title="knob value", scale=alt.Scale(scheme="viridis")),
        detail="seed:N",
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob:Q", format=".4g"), alt.Tooltip("region:N"),
                 alt.Tooltip("seed:Q"), alt.Tooltip("step:Q"), alt.Tooltip("excess:Q", format=".4f")],
    ).properties(width=260, height=220).facet(column=alt.Column("family:N", title=None))
    return charts.finish(curve_chart, "Learning curves across the temperature and noise knobs",
                         "Held-out loss above the finite-context floor in bits per symbol, on the fixed "
                         "evaluation batches of training, on a symmetric-log axis against training step, "
                         "one line per run; colour is the temperature (left) or the noise rate (right).",
                         subtitle="colour: knob value; one line per seed")


def disagreement(result: KnobResult):
    """Steps to 90 % of the drop, and the seeds' spread of loss and accuracy, per knob setting."""
    base = alt.Chart(alt.Data(values=list(result.spread))).encode(
        x=alt.X("h:Q", title="exact entropy rate h at that knob setting (bits/symbol)"),
        color=alt.Color("family:N", title="knob"),
        tooltip=[alt.Tooltip("family:N"), alt.Tooltip("knob_value:Q", format=".4g", title="knob"),
                 alt.Tooltip("region:N"), alt.Tooltip("h:Q", format=".3f"),
                 alt.Tooltip("plateau:Q", format=".0f", title="steps to 90 %"),
                 alt.Tooltip("loss_sd:Q", format=".4f", title="sd of final loss"),
                 alt.Tooltip("loss_se:Q", format=".4f", title="largest standard error of one run's loss"),
                 alt.Tooltip("acc_sd:Q", format=".3f", title="sd of continuation accuracy")])
    plateau_chart = base.mark_line(point=True).encode(
        y=alt.Y("plateau:Q", title="steps to 90 % of the drop")).properties(width=220)
    loss_sd_chart = base.mark_line(point=True).encode(
        y=alt.Y("loss_sd:Q", title="seed sd of final loss (bits)")).properties(width=220)
    acc_sd_chart = base.mark_line(point=True).encode(
        y=alt.Y("acc_sd:Q", title="seed sd of continuation accuracy")).properties(width=220)
    return charts.finish(alt.hconcat(plateau_chart, loss_sd_chart, acc_sd_chart),
                         "Speed of learning, and disagreement between seeds, along the knob",
                         "Against the exact entropy rate of each knob setting: mean steps to reach 90 % of "
                         "the total drop in loss (left), and the standard deviation across seeds of the "
                         "final held-out loss (middle) and of the continuation accuracy on all prompts "
                         "(right), both from the final evaluation.",
                         subtitle="temperature and noise knobs; sd across seeds")


def in_context(result: KnobResult):
    """Loss above Bayes over training with the unigram levels, and loss per position at the end."""
    who_dash = alt.StrokeDash("who:N", title="predictor",
                              scale=alt.Scale(domain=["model", "Bayes-optimal", "in-context unigram"],
                                              range=[[1, 0], [6, 3], [2, 2]]))
    train_chart = alt.Chart(alt.Data(values=list(result.icl_rows))).mark_line(point=True).encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("late_excess:Q", title="loss above Bayes, positions ≥ 32 (bits)"),
        color=alt.Color("alpha:N", title="concentration α"), detail="seed:N",
        tooltip=[alt.Tooltip("alpha:Q"), alt.Tooltip("seed:Q"), alt.Tooltip("step:Q"),
                 alt.Tooltip("late_excess:Q", format=".4f"),
                 alt.Tooltip("above_unigram:Q", format=".4f", title="above the unigram predictor"),
                 alt.Tooltip("icl_score:Q", format=".3f", title="in-context score")],
    )
    unigram_rule = alt.Chart(alt.Data(values=list(result.unigram_level))).mark_rule(strokeDash=[2, 2]).encode(
        y=alt.Y("unigram_excess:Q", title="loss above Bayes, positions ≥ 32 (bits)"),
        color=alt.Color("alpha:N", title="concentration α"),
        tooltip=[alt.Tooltip("alpha:Q"),
                 alt.Tooltip("unigram_excess:Q", format=".4f", title="in-context unigram, above Bayes")])
    pos_chart = alt.Chart(alt.Data(values=list(result.pos_rows))).mark_line().encode(
        x=alt.X("position:Q", title="position in the sequence"),
        y=alt.Y("mean(bits):Q", title="loss at that position (bits)"),
        color=alt.Color("alpha:N", title="concentration α"),
        strokeDash=who_dash, detail="who:N",
        tooltip=[alt.Tooltip("alpha:Q"), alt.Tooltip("who:N"), alt.Tooltip("position:Q"),
                 alt.Tooltip("mean(bits):Q", format=".3f", title="bits")],
    ).properties(width=260)
    return charts.finish(alt.hconcat((train_chart + unigram_rule).properties(width=260), pos_chart),
                         "Learning a Markov chain in context",
                         "Left: loss above the Bayes-optimal in-context predictor at positions with at "
                         "least 32 symbols of context, against training step, per concentration and seed; "
                         "the dotted rule at each concentration is where the in-context unigram predictor "
                         "sits. Right: loss at each position of the sequence at the end of training, for "
                         "the model (solid), the Bayes-optimal predictor (dashed) and the in-context "
                         "unigram predictor (dotted), mean over seeds.",
                         subtitle="dotted: the in-context unigram predictor; dashed: the Bayes-optimal one")
