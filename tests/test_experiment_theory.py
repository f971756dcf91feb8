"""Chapter theory's steps on fabricated numbers with known answers (no training)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from middleground.experiments import theory as th
from middleground.experiments.report import Findings


# --- part 1: Mess3, the probe and its baselines ---------------------------------------------------

def row(what, level, kind="probe", k=None, r2=0.5, mse=None):
    """A probe-table row whose per-group errors are ``level`` and ``level + 0.01`` alternately, so
    the paired difference of two rows is a constant (its standard error zero)."""
    return {"what": what, "kind": kind, "k": k, "r2": r2, "mse": level if mse is None else mse,
            "mse_se": 0.001, "group_mse": [level, level + 0.01, level, level + 0.01]}


def test_mess3_settings_and_training_symbols():
    assert th.mess3_xs(2) == [0.05, 0.3]
    assert th.mess3_xs(6) == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    # sizes live in the profiles, not in the experiment's code
    from middleground.base.profiles import resolve
    assert resolve("theory", "quick").mess3_symbols == 200_000
    assert resolve("theory", "full").mess3_symbols == resolve("theory", "gpu").mess3_symbols == 2_000_000
    assert not any('profile ==' in line or 'profile !=' in line
                   for line in open(th.__file__, encoding="utf-8"))


def test_mean_se_of_four_differences():
    mean, se = th.mean_se(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5
    assert se == pytest.approx(math.sqrt(5 / 3) / 2)  # sample sd √(5/3) over √4


def test_beats_needs_three_standard_errors_of_the_paired_difference():
    b = {"group_mse": [1.0, 1.0, 1.0, 1.0]}
    # differences −1, −1.2, −0.8, −1: mean −1, se 0.0816; −1 < −0.245
    assert th.beats({"group_mse": [0.0, -0.2, 0.2, 0.0]}, b)
    # differences −0.1, −0.3, 0.1, −0.1: mean −0.1, se 0.0816; −0.1 > −0.245
    assert not th.beats({"group_mse": [0.9, 0.7, 1.1, 0.9]}, b)
    assert not th.beats(b, b)  # equal: d = 0 is not below −0


def test_beaten_memories_and_the_longest_run_from_zero():
    mem = {k: {"excess": e, "excess_se": 0.001} for k, e in ((0, 0.5), (1, 0.2), (2, 0.05), (3, 0.011))}
    ex = {"excess": 0.01, "excess_se": 0.001}  # 3·hypot(0.001, 0.001) = 0.0042: memory 3 is not beaten
    assert th.beaten_memories(mem, ex) == [0, 1, 2]
    assert th.longest_beaten([0, 1, 2]) == 2
    assert th.longest_beaten([0, 2]) == -1  # a gap: not a run from zero
    assert th.longest_beaten([1]) == -1
    assert th.longest_beaten([]) == -1


def test_excess_words_each_branch():
    assert th.excess_words([0, 1, 2]).startswith("below every exact predictor with a memory of at most 2 symbols")
    for beaten in ([0, 1], [0, 2], []):  # too short, a gap, none
        assert th.excess_words(beaten) == "no better than a predictor that remembers two symbols"


GOOD, MID, BAD = 0.1, 0.5, 0.9


def test_probe_against_each_baseline_each_branch():
    cat, worse, same = row("cat", MID), row("b", BAD), row("b", MID)
    assert th.vs_blank_words(cat, worse) == "clearly better than the same probe on the untrained network"
    assert th.vs_blank_words(cat, same) == "not clearly better than the same probe on the untrained network"
    assert th.vs_look3_words(cat, worse) == "and better than a table of the last three symbols"
    assert th.vs_look3_words(cat, row("b", GOOD)) == "but not better than a table of the last three symbols"
    best = dict(row("lookup", BAD), k=4)
    assert th.vs_bestk_words(cat, best) == "it also beats the best lookup table (the last 4 symbols)"
    best = dict(row("lookup", GOOD), k=5)
    assert th.vs_bestk_words(cat, best).startswith("yet a table of the last 5 symbols does better still")
    best = dict(row("lookup", MID), k=3)
    assert th.vs_bestk_words(cat, best) == "and it is within error of the best lookup table (the last 3 symbols)"


def test_summary_probe_each_branch():
    cat, blank, look3 = row("cat", MID), row("blank", BAD), row("look3", BAD)
    first = th.summary_probe_words(cat, blank, look3, dict(row("lookup", GOOD), k=6))
    assert first.endswith("a table of the last 6 symbols carries it better still")
    second = th.summary_probe_words(cat, blank, look3, dict(row("lookup", BAD), k=6))
    assert second.endswith("than every lookup table tried")
    third = th.summary_probe_words(cat, row("blank", MID), look3, dict(row("lookup", BAD), k=6))
    assert third == "the probe on the trained model does not clearly beat its baselines"


def test_shuffle_is_worst():
    rows = [row("a", 0.01), row("b", 0.02), row("lookup", 5.0, kind="baseline")]
    cat = rows[0]
    assert th.shuffle_is_worst(row("s", 1.0, kind="control"), rows, cat)
    assert not th.shuffle_is_worst(row("s", 0.05, kind="control"), rows, cat)  # only 5 × the probe
    assert not th.shuffle_is_worst(row("s", 0.015, kind="control"), rows, cat)  # below probe b


def test_floor_text():
    assert th.floor_text(0.25, None, "exact") == "0.2500 (exact)"
    assert th.floor_text(0.25, 0.0, "monte carlo") == "0.2500 (exact)"
    assert th.floor_text(0.25, 0.0012, "monte carlo") == "0.2500 ± 0.0012 (monte carlo)"


def test_best_lookup_and_the_figure_rows():
    rows = [row("trained, embedding", 0.3), row("untrained, all layers", 0.4, kind="baseline"),
            row("shuffled beliefs, all layers", 2.0, kind="control"),
            row("lookup of the last 1 symbols", 0.6, kind="baseline", k=1),
            row("lookup of the last 2 symbols", 0.2, kind="baseline", k=2)]
    assert th.best_lookup(rows)["k"] == 2
    assert [r["what"] for r in th.layer_rows(rows)] == [
        "trained, embedding", "untrained, all layers", "lookup of the last 1 symbols", "lookup of the last 2 symbols"]


def _probe_set():
    return {"trained, all layers": row("trained, all layers", 0.1, r2=0.99),
            "untrained, all layers": row("untrained, all layers", 0.3, kind="baseline", r2=0.9),
            "lookup of the last 3 symbols": row("lookup of the last 3 symbols", 0.2, kind="baseline", k=3, r2=0.95),
            "lookup of the last 4 symbols": row("lookup of the last 4 symbols", 0.05, kind="baseline", k=4, r2=0.999)}


def test_knob_row_from_known_parts():
    mem = {k: {"excess": e, "excess_se": 0.001} for k, e in ((0, 0.5), (1, 0.2), (2, 0.001))}
    r = th.knob_row(0.1, 16, 2.5, 1.4, {"excess": 0.01, "excess_se": 0.002}, _probe_set(), mem)
    assert (r["x"], r["width"], r["belief_entropy"], r["h"]) == (0.1, 16, 2.5, 1.4)
    assert r["lo"] == pytest.approx(0.006) and r["hi"] == pytest.approx(0.014)
    assert r["beats_memory"] == 1
    assert r["probe_wins"] and not r["probe_loses"]
    assert r["probe"] == pytest.approx(0.01) and r["untrained"] == pytest.approx(0.1)
    assert r["lookup3"] == pytest.approx(0.05) and r["best_lookup"] == pytest.approx(0.001)
    assert r["best_k"] == 4


def test_belief_entropy_words_each_branch():
    assert th.belief_entropy_words([3.0, 2.0, 1.0]) == "falls steadily from the structured end to the noisy end"
    assert th.belief_entropy_words([2.0, 2.0, 1.0]) == "is lowest at the noisy end but does not fall steadily"
    assert th.belief_entropy_words([3.0, 1.0, 2.0, 0.5]) == "is lowest at the noisy end but does not fall steadily"
    assert th.belief_entropy_words([1.0, 2.0, 3.0]) == "does not fall towards the noisy end"


def test_knob_sentences():
    rows = [{"x": 0.05, "width": 16, "beats_memory": 2, "probe_wins": True, "probe_loses": False,
             "probe": 0.01, "best_lookup": 0.02},
            {"x": 0.05, "width": 4, "beats_memory": -1, "probe_wins": False, "probe_loses": True,
             "probe": 0.3, "best_lookup": 0.02},
            {"x": 0.3, "width": 16, "beats_memory": 0, "probe_wins": False, "probe_loses": False,
             "probe": 0.5, "best_lookup": 0.1}]
    assert th.memory_words([0.05, 0.3], rows) == (
        "x = 0.05: width 4 beats no memory, width 16 beats memories up to 2; x = 0.3: width 16 beats memories up to 0")
    top = [rows[0], rows[2]]
    assert th.knob_probe_words(top) == ("the trained probe beats the untrained one (paired, by more than three "
                                        "standard errors) at 1 of 2 settings and loses at 0")
    assert th.knob_lookup_words(top) == "the best lookup table of at most six symbols beats the trained probe at 1 of 2 settings"


# --- part 2: mechanics and the map -----------------------------------------------------------------

def test_mechanics_table_cells():
    mech = [{"name": "even", "h": 0.5, "E": 0.25, "C_mu": 0.25, "crypticity": 0.0, "markov_order": None,
             "sync_time": 7, "sync_information": 1.0, "transient_information": 2.0},
            {"name": "mess3", "h": 1.5, "E": None, "C_mu": None, "crypticity": None, "markov_order": None,
             "sync_time": None, "sync_information": None, "transient_information": None}]
    lines = th.mechanics_table(mech).split("\n")
    assert lines[0].startswith("| source | h | E | C_μ |") and lines[1].startswith("|---|")
    assert lines[2] == "| even | 0.5000 | 0.2500 | 0.2500 | 0.0000 | ∞ | 7 | 1.0000 | 2.0000 |"
    assert lines[3] == "| mess3 | 1.5000 | — | — | — | — | — | — | — |"


def test_ladder_runs_keep_what_the_points_need():
    cells = [{"family": "noise", "knob": 0.1, "model": {"n_embd": 32}, "seed": 0},
             {"family": "noise", "knob": 0.9, "model": {"n_embd": 32}, "seed": 0}]
    results = [{"h": 1.0, "E": 0.6, "final": {"excess_floor": 0.02, "other": 1}},
               {"h": 0.2, "E": 0.1, "final": {"excess_floor": 0.01}}]
    rows = th.ladder_runs(cells, results)
    assert rows[0] == {"family": "noise", "knob": 0.1, "width": 32, "h": 1.0, "E": 0.6, "region": "middle",
                       "excess_floor": 0.02}
    assert rows[1]["region"] == "ordered"  # 0.2 of log2 4 = 2 bits is a share of 0.1


def test_map_points():
    p = th.knob_point({"family": "noise knob", "knob": 0.123456, "h": 1.0, "E": 0.7, "excess": 0.0251,
                       "region": "middle"})
    assert p == {"group": "noise knob", "name": "noise knob 0.1235", "h": 0.5, "E": 0.7, "excess": 0.0251,
                 "detail": "region middle; excess 0.025 bits"}
    t = {"source": "golden mean", "kind": "exact", "h": 0.5, "E": 0.25}
    assert th.gallery_point(t, 4) == {"group": "gallery (exact)", "name": "golden mean", "h": 0.25, "E": 0.25,
                                      "excess": None, "detail": "exact"}
    assert th.gallery_point(dict(t, E=math.inf), 4) is None
    assert th.gallery_point(dict(t, h=None), 4) is None
    assert th.gallery_point(t, 1) is None
    e = th.eca_point({"wolfram_class": 3, "rule": 30, "h": 0.9, "E": 0.1, "h_se": 0.01, "E_se": 0.02,
                      "class_name": "chaotic", "members": {135, 30, 86, 149}})
    assert e["group"] == "ECA class 3" and e["name"] == "rule 30"
    assert (e["h_lo"], e["h_hi"]) == pytest.approx((0.88, 0.92)) and (e["E_lo"], e["E_hi"]) == pytest.approx((0.06, 0.14))
    assert e["detail"] == "chaotic; class [30, 86, 135, 149]; SE h 0.010, E 0.020"


def test_text_point_short_word_excess_entropy():
    H = np.array([0.0, 2.0, 3.5, 4.5])  # h(3) = 1.0, so E(3) = 4.5 − 3 · 1.0 = 1.5
    p = th.text_point("original", H, math.log2(65) / 2, 2**9)
    assert p["E"] == 1.5 and p["h"] == pytest.approx(0.5)
    assert p["saturation"] == pytest.approx(0.5)  # 4.5 / log2(512) = 4.5 / 9
    assert p["detail"] == "h ≤ 3.01 bits (best held-out compressor); E(3) = 1.50 estimated"


def _eca(rule, cls, h, E):
    return {"rule": rule, "wolfram_class": cls, "h": h, "E": E}


def test_eca_noise_corner_and_class_words_each_branch():
    split = [_eca(30, 3, 0.999, 0.001), _eca(18, 3, 0.5, 0.3), _eca(110, 4, 0.8, 1.0)]
    assert th.noise_corner(split) == [30]
    assert th.eca_class_words(split) == ("Wolfram's classes do not map onto regions: class III sits both at the "
                                         "noise corner and well inside the plane")
    with_c4 = split + [_eca(54, 4, 0.995, 0.01)]
    assert th.eca_class_words(with_c4).endswith(
        ", and class IV includes a rule at the noise corner (rule 54, whose class is disputed) as well as the highest E")
    assert th.eca_class_words([_eca(30, 3, 0.999, 0.0), _eca(45, 3, 0.95, 0.1)]) == "Wolfram's classes overlap on the plane"


def test_degradation_words_each_branch():
    orig = {"h": 0.5, "E": 1.0}
    degr = {"word shuffle": {"h": 0.55, "E": 0.5}, "char shuffle": {"h": 0.9, "E": 0.1},
            "ngram 3": {"h": 0.5, "E": 0.8}, "noise 0.25": {"h": 0.7, "E": 1.2}}
    assert th.degradation_words(orig, degr).startswith("both shuffles and the order-3 surrogate lower")
    degr["noise 0.25"] = {"h": 0.4, "E": 1.2}
    assert th.degradation_words(orig, degr) == "the degradations move the text in no single direction"


# --- part 3: learning curves and mutual information ------------------------------------------------

def test_data_exponents_on_exact_power_laws():
    N, h = 32, 0.7
    d = np.arange(1, N)
    cov = d ** -1.5  # β = 1.5
    ng = np.concatenate([[0.0], h + np.arange(1, N + 1) ** -0.6])  # h(n) − h = n^−0.6: γ = 0.6; len N + 1 > N
    fit_b, fit_g, alpha, alpha_se = th.data_exponents(cov, ng, h, N)
    assert fit_b.alpha == pytest.approx(1.5) and fit_g.alpha == pytest.approx(0.6)
    assert alpha == pytest.approx(0.2)  # γ / (2β)
    assert alpha_se == pytest.approx(0.0, abs=1e-9)  # exact laws: no scatter
    # Without the rate beyond N, the gap is taken to the last entropy (here h itself, excluded as zero).
    short = np.concatenate([[0.0], h + np.arange(1, N - 1) ** -0.6, [h]])
    assert len(short) == N
    assert th.data_exponents(cov, short, 99.0, N)[1].alpha == pytest.approx(0.6)


def _curve(excess, limited=None):
    limited = limited or [True] * len(excess)
    return [{"P": 32 * 4**i, "excess": e, "excess_se": 0.1 * e, "data_limited": lim}
            for i, (e, lim) in enumerate(zip(excess, limited))]


def test_measured_alpha_on_an_exact_power_law():
    rows = _curve([2 * (32 * 4**i) ** -0.5 for i in range(4)])
    f, keep = th.measured_alpha(list(reversed(rows)))  # sorted by P inside
    assert f.alpha == pytest.approx(0.5) and len(keep) == 4
    assert all(r["fitted"] for r in rows)


def test_measured_alpha_stops_at_the_first_failing_size():
    rows = _curve([0.4, 0.2, 0.1, 0.05], limited=[True, True, False, True])  # third not data-limited
    f, keep = th.measured_alpha(rows)
    assert f is None and [r["P"] for r in keep] == [32, 128]
    assert [r["fitted"] for r in rows] == [True, True, False, False]
    rows = _curve([0.4, 0.2, 0.3, 0.05])  # rises at the third
    assert [r["P"] for r in th.measured_alpha(rows)[1]] == [32, 128]
    rows = _curve([-0.1, 0.2, 0.1, 0.05])  # below the optimum at once: nothing fitted
    f, keep = th.measured_alpha(rows)
    assert f is None and [r["P"] for r in keep] == [32] and not any(r["fitted"] for r in rows)


def test_alpha_row_verdicts():
    keep = [{"P": 32}, {"P": 512}]
    fit = SimpleNamespace(alpha=0.5, alpha_se=0.1, chi2=4.0, dof=1)  # misfit √4 = 2 widens the interval
    r = th.alpha_row("chain", 1.0, 0.0, "parametric", fit, keep)
    assert (r["lo"], r["hi"]) == pytest.approx((0.5 - 0.392, 0.5 + 0.392))
    assert r["verdict"] == "fails" and r["diff"] == "-0.50 ± 0.39" and r["sizes"] == "32–512"
    r = th.alpha_row("grammar", 0.6, 0.05, "γ/(2β)", fit, keep)  # half-width hypot(0.392, 0.098) > 0.1
    assert r["verdict"] == "holds" and (r["pred_lo"], r["pred_hi"]) == pytest.approx((0.502, 0.698))
    calm = SimpleNamespace(alpha=0.5, alpha_se=0.1, chi2=0.5, dof=1)  # no widening below χ²/dof = 1
    assert th.alpha_row("x", 0.8, 0.0, "", calm, keep)["verdict"] == "fails"  # 0.3 > 0.196
    assert th.alpha_row("x", 0.6, 0.0, "", SimpleNamespace(alpha=0.5, alpha_se=0.1, chi2=9.0, dof=0),
                        keep)["hi"] == pytest.approx(0.696)  # dof 0: no widening
    none = th.alpha_row("x", 1.0, 0.0, "why", None, keep[:1])
    assert none["verdict"] == "too few falling sizes to fit" and none["measured"] is None
    assert none["diff"] is None and none["sizes"] == "32–32"


def test_alpha_table_rows():
    rows = [{"source": "g", "predicted": 0.25, "pred_lo": 0.2, "pred_hi": 0.3, "why": "w", "measured": None,
             "lo": None, "hi": None, "sizes": "32–32", "verdict": "too few falling sizes to fit"},
            {"source": "c", "predicted": 1.0, "pred_lo": 1.0, "pred_hi": 1.0, "why": "p", "measured": 0.9,
             "lo": 0.7, "hi": 1.1, "sizes": "32–512", "verdict": "holds"}]
    lines = th.alpha_table(rows).split("\n")
    assert lines[2] == "| g | 0.25 (0.20 to 0.30) | w | — | 32–32 | too few falling sizes to fit |"
    assert lines[3] == "| c | 1.00 (1.00 to 1.00) | p | 0.90 (0.70 to 1.10) | 32–512 | holds |"


def test_paper_vs_measured_each_branch():
    assert th.paper_vs_measured_words(0.3, {"measured": None}).startswith("no measured slope")
    assert th.paper_vs_measured_words(0.3, {"measured": 0.5, "lo": 0.4, "hi": 0.6}).startswith(
        "the papers' asymptotic value lies outside")
    assert th.paper_vs_measured_words(0.45, {"measured": 0.5, "lo": 0.4, "hi": 0.6}) == (
        "the papers' asymptotic value lies inside the measured interval")


def test_resolved_prefix_stops_at_the_first_unresolved_distance():
    noise = np.array([0.1, 0.1, 0.1, 0.1])
    shuffle = np.array([np.nan, 0.2, np.nan, np.nan])
    resolved = np.array([True, True, True, True])
    low = np.array([0.5, 0.15, 0.5, 0.5])  # the second's lower end is below the shuffled floor 0.2
    floor, ok = th.resolved_prefix(noise, shuffle, resolved, low)
    np.testing.assert_array_equal(floor, [0.1, 0.2, 0.1, 0.1])
    np.testing.assert_array_equal(ok, [True, False, False, False])


def test_decay_row_on_an_exact_power_law_and_too_few_distances():
    d = np.array([1, 2, 5, 10, 20, 50, 100, 200])
    mi = 0.5 * d.astype(float) ** -0.8
    ok = np.ones(len(d), bool)
    floor = np.full(len(d), mi[-1] / 4)
    r = th.decay_row("original", d, mi, ok, floor)
    assert r["preferred"] == "power law" and r["alpha"] == pytest.approx(0.8) and r["delta_aic"] > 2
    assert r["resolved to"] == 200 and r["capped"] and r["tail_over_floor"] == pytest.approx(4.0)
    ok[5:] = False  # resolved to 20 only: tail d ≥ 10 has two distances
    r = th.decay_row("ngram 3", d, mi, ok, floor)
    assert r["preferred"] == "too few resolved distances" and r["resolved to"] == 20 and not r["capped"]
    assert r["alpha"] is None and r["tail_over_floor"] is None
    assert th.decay_row("x", d, mi, np.zeros(len(d), bool), floor)["resolved to"] == 0


def test_resolved_to_text():
    assert th.resolved_to_text({"capped": True, "resolved to": 1000}) == "at least 1000 (the longest distance computed)"
    assert th.resolved_to_text({"capped": False, "resolved to": 42}) == "42"


def test_bump_words_each_branch():
    words, value = th.bump_words({20: 0.03, 40: 0.05, 60: 0.02, 80: 0.01}, 41.2)
    assert words.startswith("the estimate rises again near d = 40, about the mean length of a non-empty line (41 characters)")
    assert value == (40, 0.05, [0.03, 0.02])
    words, value = th.bump_words({20: 0.06, 40: 0.05, 60: 0.02}, 41.2)
    assert words == "the tail has no bump at the length of a line" and value == (40, 0.05, [0.06, 0.02])
    assert th.bump_words({}, 41.2) == ("the tail has no bump at the length of a line", (None, None, []))


def test_text_prediction_and_its_sentence_each_branch():
    g = {"gamma": 0.6, "gamma_ci": (0.2, 1.0), "h": 1.2}
    assert th.usable_gamma(dict(g, h=-0.1)) is None and th.usable_gamma(g) is g and th.usable_gamma(None) is None
    power = {"preferred": "power law", "alpha": 0.4, "resolved to": 300}
    r = th.text_prediction("original", power, g)
    assert r["beta"] == pytest.approx(0.2) and r["alpha"] == pytest.approx(1.5)  # 0.6 / (2 · 0.2)
    assert th.text_gamma_words(r) == "For the text the prediction is α ≈ 1.50, resting on a γ whose interval is wide."
    expo = {"preferred": "exponential", "alpha": 0.4, "resolved to": 300}
    r2 = th.text_prediction("original", expo, g)
    assert r2["beta"] is None and r2["alpha"] is None
    assert th.text_gamma_words(r2) == "For the text there is γ but no power-law β, so no prediction."
    r3 = th.text_prediction("original", power, None)
    assert th.text_gamma_words(r3).startswith("For the text the fit of h(n) runs away")
    lines = th.text_table([r, r3]).split("\n")
    assert lines[2] == "| original | power law | 300 | 0.20 | 0.60 (0.20 to 1.00) | 1.50 |"
    assert lines[3] == "| original | power law | 300 | 0.20 | — | — |"


# --- the recorders: values and claims in the chapter's order ---------------------------------------

def test_record_probes_values_and_claim_order():
    main = [dict(row("trained, all layers", 0.01), r2=0.999),
            row("untrained, all layers", 0.5, kind="baseline"),
            row("shuffled beliefs, all layers", 5.0, kind="control"),
            row("lookup of the last 3 symbols", 0.2, kind="baseline", k=3),
            row("lookup of the last 5 symbols", 0.005, kind="baseline", k=5)]
    ex = {"model_bits": 1.5, "optimal_bits": 1.49, "excess": 0.01, "excess_se": 0.001}
    mem = {k: {"excess": e, "excess_se": 0.001} for k, e in ((0, 0.5), (1, 0.2), (2, 0.05), (3, 0.02), (4, 0.011))}
    found = Findings()
    th.record_probes(found, main, ex, mem, SimpleNamespace(value=1.6, se=None, method="exact"))
    out = found.done()
    v = out["values"]
    assert v["th_floor"] == "1.6000 (exact)" and v["th_mem3_excess"] == 0.02 and v["th_best_k"] == 5
    assert v["th_mse_cat"] == "1.00e-02 ± 1.0e-03" and v["th_r2_cat"] == 0.999
    assert v["th_excess_words"].startswith("below every exact predictor with a memory of at most 3 symbols")
    assert v["th_vs_bestk"].startswith("yet a table of the last 5 symbols")
    assert v["th_summary_probe"].endswith("a table of the last 5 symbols carries it better still")
    texts = [c.text for c in out["claims"]]
    assert texts[:5] == [v["th_excess_words"], v["th_vs_blank"], v["th_vs_look3"], v["th_vs_bestk"],
                         v["th_summary_probe"]]
    assert texts[5] == th.SHUFFLE_CLAIM and out["claims"][5].holds


def test_record_mi_values_and_claims():
    mi_rows = ([{"source": "Tiny Shakespeare, original", "d": d, "mi": m} for d, m in ((10, 0.05), (40, 0.06), (80, 0.01))]
               + [{"source": "chain", "d": d, "mi": m} for d, m in ((1, 0.1), (50, 1e-8))])
    decay = [{"resolved to": 80, "capped": False, "alpha": 0.8, "alpha_ci": (0.6, 1.0), "preferred": "power law",
              "delta_aic": 5.0, "tail_over_floor": 3.0},
             {"resolved to": 10, "capped": False, "alpha": None, "alpha_ci": None,
              "preferred": "too few resolved distances", "delta_aic": None, "tail_over_floor": None},
             {"resolved to": 20}]
    found = Findings()
    th.record_mi(found, mi_rows, decay, "chain", 22, 38.0)
    out = found.done()
    v = out["values"]
    assert v["th_mi_text_to"] == "80" and v["th_mi_last"] == 0.01 and v["th_mi_beta"] == 0.4
    assert v["th_mi_text_alpha_ci"] == "0.60 to 1.00" and v["th_mi_ng3_to"] == 10 and v["th_mi_ws_to"] == 20
    assert v["th_mi_bump"].startswith("the estimate rises again near d = 40")
    assert [c.holds for c in out["claims"]] == [True, True, True]
