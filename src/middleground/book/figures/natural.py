"""Figures of chapter natural."""

from __future__ import annotations

import altair as alt

from ...experiments.natural import NaturalResult
from .. import charts


def degradations(result: NaturalResult):
    """Bits per character by every estimate, against the noise rate and for the other degradations."""
    noise_rows = [r for r in result.rows if r["p"] is not None]
    other_rows = [r for r in result.rows if r["p"] is None or r["text"] == "original"]
    tip = [alt.Tooltip("text:N"), alt.Tooltip("estimator:N"), alt.Tooltip("bits:Q", format=".3f"),
           alt.Tooltip("sd:Q", format=".3f", title="spread (halves or seeds)")]
    noise_chart = alt.Chart(alt.Data(values=noise_rows)).mark_line(point=True).encode(
        x=alt.X("p:Q", title="character noise rate p"),
        y=alt.Y("bits:Q", title="bits per character"),
        color=alt.Color("estimator:N", title="estimate"), tooltip=tip).properties(width=260)
    other_chart = alt.Chart(alt.Data(values=other_rows)).mark_point(filled=True, size=70).encode(
        x=alt.X("bits:Q", title="bits per character"),
        y=alt.Y("text:N", title=None,
                sort=["original", "ngram 3", "ngram 1", "word shuffle", "char shuffle"]),
        color=alt.Color("estimator:N", title="estimate"), tooltip=tip).properties(width=260)
    return charts.finish(alt.hconcat(noise_chart, other_chart),
                         "Tiny Shakespeare, degraded: what each estimate sees",
                         "Bits per character estimated by block entropies on the whole text, and by "
                         "three compressors and a trained GPT on the held-out tenth: left, against the "
                         "character-noise rate; right, for the original, two n-gram surrogates, the word "
                         "shuffle and the character shuffle.",
                         subtitle="compressors: C(train + val) − C(train) per character of val, like "
                                  "the GPT's held-out loss")


def capabilities(result: NaturalResult):
    """Exact match of both capabilities against the noise rate and against the held-out loss."""
    noise_caps = [r for r in result.cap_rows if r["p"] is not None]
    cap_tip = [alt.Tooltip("text:N"), alt.Tooltip("capability:N"), alt.Tooltip("seed:Q"),
               alt.Tooltip("exact:Q", format=".3f", title="exact match"),
               alt.Tooltip("chars:Q", format=".3f", title="per-character accuracy"),
               alt.Tooltip("loss:Q", format=".3f", title="held-out bits/char"),
               alt.Tooltip("n:Q", title="prompts")]
    vs_p = alt.Chart(alt.Data(values=noise_caps)).mark_line(point=True).encode(
        x=alt.X("p:Q", title="character noise rate p"),
        y=alt.Y("mean(exact):Q", title="exact match (mean over seeds)"),
        color=alt.Color("capability:N", title="capability"), tooltip=cap_tip).properties(width=260)
    vs_loss = alt.Chart(alt.Data(values=list(result.cap_rows))).mark_point(filled=True, size=60).encode(
        x=alt.X("loss:Q", title="held-out loss (bits per character)"),
        y=alt.Y("exact:Q", title="exact match"),
        color=alt.Color("capability:N", title="capability"),
        shape=alt.Shape("text:N", title="text"), tooltip=cap_tip).properties(width=260)
    return charts.finish(alt.hconcat(vs_p, vs_loss), "Capabilities on real text, as the text is degraded",
                         "Exact-match rate of word completion and speaker-name completion: left, against "
                         "the character-noise rate; right, against each model's held-out loss for every "
                         "degradation and seed.",
                         subtitle="targets: the clean text for noise, the degraded text itself otherwise")


def excess(result: NaturalResult):
    """E(L) of the text, its surrogate, its word shuffle and the exact Santa Fe process."""
    chart = alt.Chart(alt.Data(values=list(result.E_rows))).mark_line(point=True).encode(
        x=alt.X("L:Q", title="word length L"), y=alt.Y("E:Q", title="E(L) = H(L) − L·h(L) (bits)"),
        color=alt.Color("text:N", title="sequence"), strokeDash=alt.StrokeDash("kind:N", title="value"),
        tooltip=[alt.Tooltip("text:N"), alt.Tooltip("L:Q"), alt.Tooltip("E:Q", format=".3f")],
    ).properties(width=520)
    return charts.finish(chart, "Excess entropy at finite length",
                         "The finite-length excess entropy estimate against word length for Tiny "
                         "Shakespeare, its order-3 surrogate and its word shuffle (Miller–Madow), and the "
                         "exact value for a Santa Fe process with beta 0.5.",
                         subtitle="estimates are biased at large L, where words become sparse")


def strongest(result: NaturalResult):
    """The strongest model's held-out bits beside counting, the surrogate and the compressors."""
    bars_rows = list(result.strong_bars)
    order = [r["what"] for r in sorted(bars_rows, key=lambda r: r["bits"])]
    bars = alt.Chart(alt.Data(values=bars_rows)).mark_bar().encode(
        y=alt.Y("what:N", title=None, sort=order), x=alt.X("bits:Q", title="bits per character"),
        color=alt.Color("kind:N", title="kind"),
        tooltip=[alt.Tooltip("what:N"), alt.Tooltip("bits:Q", format=".3f")])
    whisk = alt.Chart(alt.Data(values=[r for r in bars_rows if "lo" in r])).mark_rule(color="black").encode(
        y=alt.Y("what:N", sort=order), x=alt.X("lo:Q", title="bits per character"), x2="hi:Q")
    return charts.finish((bars + whisk).properties(width=420),
                         "The strongest model against counting, the surrogate and compressors",
                         "Held-out bits per character on the last tenth of Tiny Shakespeare: the "
                         "chapter's strongest GPT, the small sweep GPT, a count-based Bayes predictor of "
                         "orders 0 to 3 fitted on the same training text, the in-sample entropy rate of "
                         "the order-3 surrogate chain, and three compressors measured as the cost of the "
                         "tenth given the rest.",
                         subtitle="whiskers: ±2 standard errors over held-out windows")
