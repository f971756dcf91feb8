"""Chapter middle's numbers from fabricated inputs with known answers (no training, no sampling)."""

import math

import numpy as np
import pytest

from middleground.experiments import middle
from middleground.experiments.report import Findings
from middleground.measures import regions


def _done(found):
    out = found.done()
    return out["values"], out["claims"]


def _holds(claims):
    return {c.text: c.holds for c in claims}


# --- the gallery ---------------------------------------------------------------------------------

def test_sources_are_sorted_most_random_first_by_their_share_of_the_alphabet():
    truths = [{"source": "ordered", "h": 0.0, "alphabet": 2}, {"source": "half", "h": 1.0, "alphabet": 4},
              {"source": "noise", "h": 1.0, "alphabet": 2}]
    assert middle.by_randomness(truths) == ["noise", "half", "ordered"]  # shares 1, 0.5, 0


def test_the_truth_table_shows_exact_values_bounds_and_unknown_E():
    truths = [{"source": "iid", "alphabet": 4, "h": 2.0, "h_low": 2.0, "h_high": 2.0, "E": 0.0, "kind": "exact"},
              {"source": "noisy", "alphabet": 2, "h": 0.5, "h_low": 0.25, "h_high": 0.75, "E": None,
               "kind": "bounded"}]
    assert middle.truth_table(truths) == (
        "| source | alphabet | h (bits/symbol) | E (bits) | how known |\n|---|---|---|---|---|\n"
        "| iid | 4 | 2.0000 | 0.0000 | exact |\n"
        "| noisy | 2 | 0.2500 – 0.7500 | – | bounded |")


# --- the knobs -----------------------------------------------------------------------------------

def _temp(values, h, E):
    return [{"knob": "Markov temperature τ", "value": v, "h": a, "h_low": a, "h_high": a, "E": e,
             "kind": "exact"} for v, a, e in zip(values, h, E)]


def _noise(p8_E=(3.0, 3.0, 0.0), p8_h=(0.0, 1.0, 2.0)):
    rows = []
    for rate, E, h in zip((0.0, 0.5, 1.0), p8_E, p8_h):
        rows.append({"knob": "noise on a period-8 word", "value": rate, "h": h, "h_low": h, "h_high": h,
                     "E": E, "kind": "exact"})
        rows.append({"knob": "noise on the Markov chain (τ = 1)", "value": rate, "h": 1.5,
                     "h_low": 1.5 - 0.0625 * rate, "h_high": 1.5, "E": None, "kind": "bounded"})
    return rows


def test_the_knobs_peak_ends_bound_gap_and_cold_cycle():
    found = Findings()
    middle.knob_findings(found, _temp([0.1, 1.0, 10.0], [0.01, 1.5, 1.99], [0.0, 0.8, 0.05]), _noise(), 1)
    v, claims = _done(found)
    assert (v["mid_E_peak"], v["mid_E_peak_tau"], v["mid_h_at_peak"]) == (0.8, 1.0, 1.5)
    assert (v["mid_E_cold"], v["mid_tau_cold"], v["mid_E_hot"], v["mid_tau_hot"]) == (0.0, 0.1, 0.05, 10.0)
    assert v["mid_bound_gap"] == 0.0625  # the Markov rows' widest bracket, at rate 1
    assert (v["mid_cold_cycle"], v["mid_cold_E_limit"]) == (1, 0.0)
    assert v["mid_cold_cycle_words"] == "a fixed point, one symbol repeated for ever"
    assert len(claims) == 4 and all(c.holds for c in claims)


def test_a_peak_at_the_end_of_the_knob_and_a_long_cycle_fail_their_claims():
    found = Findings()
    middle.knob_findings(found, _temp([0.1, 1.0, 10.0], [0.01, 1.5, 1.99], [0.0, 0.05, 0.8]),
                         _noise(p8_E=(3.0, 2.5, 0.0)), 4)
    v, claims = _done(found)
    held = _holds(claims)
    assert not held["E peaks inside the temperature knob, well above both ends"]
    assert not held["at the coldest temperature E is close to log2 of the attracting cycle's length"]
    assert not held["along the noise knob the period-8 word keeps E = 3 bits (every rate below 1) while h "
                    "climbs to 2"]
    assert held["along the temperature knob h rises from near 0 to log2 4 = 2 bits"]
    assert v["mid_cold_E_limit"] == 2.0 and v["mid_cold_cycle_words"] == "a cycle of 4 contexts"


# --- the estimator study -------------------------------------------------------------------------

BLOCK = ("plugin h(4)", "miller-madow h(4)", "grassberger h(4)", "grassberger h(8)")
STUDY = ["M", "Ev", "G", "S"]
# Mean errors at the largest sample (dyadic, so means over seeds are exact).
ERRORS = {"M": (0.0, 0.0078125, -0.0078125, 0.015625), "Ev": (0.25, 0.125, 0.125, 0.0625),
          "G": (0.0, 0.0, 0.0, 0.0), "S": (-0.5, -0.25, -0.125, -1.0)}


def _conv(top_lzma_S=0.5625, n_seeds=2):
    rows = []
    for s in STUDY:
        for n in (100, 1000):
            for seed in range(n_seeds):
                spread = 0.125 * (1 if seed else -1) if n_seeds == 2 else 0.0
                errs = dict(zip(BLOCK, ERRORS[s]))
                errs["plugin h(2)"] = 9.0  # computed by the study, used by no lesson
                for comp in ("zlib", "bz2", "lzma"):
                    errs[comp] = 1.0 if n == 100 else (top_lzma_S if (s, comp) == ("S", "lzma") else 0.75)
                for est, e in errs.items():
                    rows.append({"source": s, "n": n, "seed": seed, "estimator": est, "error": e + spread})
    return rows


def test_mean_error_averages_one_estimator_over_seeds():
    rows = [{"source": "a", "estimator": "zlib", "n": 10, "error": 1.0},
            {"source": "a", "estimator": "zlib", "n": 10, "error": 2.0},
            {"source": "a", "estimator": "zlib", "n": 20, "error": 7.0},
            {"source": "b", "estimator": "zlib", "n": 10, "error": 7.0}]
    assert middle.mean_error(rows, "a", "zlib", 10) == 1.5


def test_the_estimator_study_values_and_its_three_lessons():
    found = Findings()
    middle.estimator_findings(found, _conv(), STUDY, [100, 1000], 2)
    v, claims = _done(found)
    assert v["mid_n_top"] == "1,000" and v["mid_n_prev"] == "100"
    assert v["mid_n_seeds"] == 2 and v["mid_n_seeds_text"] == "2 samples"
    assert v["mid_err_markov_plugin_h4"] == 0.0 and v["mid_err_markov_grassberger_h8"] == 0.015625
    assert v["mid_err_even_plugin_h4"] == 0.25 and v["mid_err_santa_grassberger_h8"] == -1.0
    assert v["mid_err_santa_lzma"] == 0.5625 and v["mid_err_santa_zlib"] == 0.75
    assert v["mid_comp_min"] == 0.5625 and v["mid_comp_min_floor"] == "0.56"
    assert v["mid_comp_cut_pct"] == 44  # the Santa Fe lzma error keeps 0.5625 / 1 of itself
    assert len(claims) == 8 and all(c.holds for c in claims), [c.text for c in claims if not c.holds]
    assert claims[-1].text == ("going from 100 to 1,000 symbols removes less than half of any "
                               "compressor's error")


def test_a_compressor_that_halves_its_error_fails_the_slow_convergence_claim():
    found = Findings()
    middle.estimator_findings(found, _conv(top_lzma_S=0.4375, n_seeds=1), STUDY, [100, 1000], 1)
    v, claims = _done(found)
    assert v["mid_n_seeds_text"] == "1 sample" and v["mid_comp_cut_pct"] == 56
    assert [c.holds for c in claims] == [True] * 7 + [False]


def test_the_model_bound_holds_above_h_and_within_the_sampling_noise():
    for gpt, holds in ((1.75, True), (1.49, True), (1.47, False)):
        found = Findings()
        middle.model_bound_findings(found, gpt, 1.5, 20)
        v, claims = _done(found)
        assert v["mid_gpt_markov_gap"] == pytest.approx(gpt - 1.5) and v["mid_gpt_iters"] == 20
        assert claims[0].holds is holds


# --- the complexity-entropy diagram and its regions -------------------------------------------------

def test_each_point_gets_its_share_and_region():
    rows = [{"h": 0.1, "E": 1.0, "alphabet": 4, "kind": "exact"},
            {"h": 1.0, "E": 1.0, "alphabet": 4, "kind": "exact"},
            {"h": 1.0, "E": 0.25, "alphabet": 4, "kind": "exact"},
            {"h": 1.9, "E": 0.0, "alphabet": 4, "kind": "exact"},
            {"h": 0.9, "E": 1.2, "alphabet": 2, "kind": "estimated"},
            {"h": 1.0, "E": math.inf, "alphabet": 4, "kind": "exact"},
            {"h": 1.0, "E": None, "alphabet": 4, "kind": "exact"}]
    out = middle.with_regions(rows)
    assert [r["region"] for r in out] == ["ordered", "middle", "shallow", "noisy"] + [middle.NO_REGION] * 3
    assert [r["share"] for r in out[:4]] == [0.05, 0.5, 0.5, 0.95]
    assert "region" not in rows[0]  # the input is left as it was


def test_the_shallow_sentence_names_none_one_or_several():
    gm = {"name": "golden mean", "alphabet": 2, "share": 2 / 3, "E": 0.25}
    zz = {"name": "z", "alphabet": 4, "share": 0.5, "E": 0.125}
    assert middle.shallow_sentence([]) == "no source of the diagram is shallow"
    assert middle.shallow_sentence([gm]) == ("the only shallow one is the golden mean "
                                            "(h / log2 2 = 0.67, E = 0.25 bit)")
    assert middle.shallow_sentence([zz, gm]) == ("the shallow ones are: z (h / log2 4 = 0.50, E = 0.12 bit); "
                                                "golden mean (h / log2 2 = 0.67, E = 0.25 bit)")


def test_alphabets_are_listed_in_order():
    assert middle.alphabets_text({16, 2, 8, 4}) == "2, 4, 8 or 16"
    assert middle.alphabets_text([4, 2]) == "2 or 4"


def _diagram(order1_E=(0.1, 1.0, 0.2)):
    rows = []
    for p in (2, 4, 8):
        for knob, h in ((0.0, 0.0), (0.5, 1.0)):
            rows.append({"family": f"noisy period {p}", "name": f"p{p}", "h": h, "E": math.log2(p),
                         "kind": "exact", "knob": knob, "alphabet": 4})
    for order in (1, 2, 3):
        Es = order1_E if order == 1 else (0.1, float(order), 0.2)
        for knob, h, E in zip((0.1, 1.0, 10.0), (0.2, 1.0, 1.9), Es):
            rows.append({"family": f"Markov, order {order}", "name": f"m{order}", "h": h, "E": E,
                         "kind": "exact", "knob": knob, "alphabet": 4})
    for name, h, E, k in (("uniform noise (k=4)", 2.0, 0.0, 4), ("Zipf (k=4, s=1)", 1.9, 0.0, 4),
                          ("golden mean", 2 / 3, 0.25, 2), ("Santa Fe (β=0.5, k_max=8)", 2.0, 8.0, 16)):
        rows.append({"family": "other exact", "name": name, "h": h, "E": E, "kind": "exact", "knob": None,
                     "alphabet": k})
    rows.append({"family": "cellular automaton (estimated)", "name": "ECA rule 30", "h": 0.9, "E": 1.2,
                 "kind": "estimated", "knob": None, "alphabet": 2})
    return middle.with_regions(rows)


def test_the_diagram_counts_regions_and_checks_its_shape():
    found = Findings()
    middle.diagram_findings(found, _diagram())
    v, claims = _done(found)
    # noisy words: 3 ordered (no noise) and 3 middle; Markov: 3 ordered, 3 middle, 3 noisy;
    # iid: 2 noisy; golden mean shallow; Santa Fe middle (share 0.5, E 8); the automaton none.
    assert v["mid_ce_n"] == 20
    assert [v[f"mid_ce_n_{k}"] for k in ("ordered", "middle", "shallow", "noisy", "none")] == [6, 7, 1, 5, 1]
    assert (v["mid_ce_Emax"], v["mid_ce_Emax_h"]) == (8.0, 2.0)
    assert v["mid_ce_alphabets"] == "2, 4 or 16"
    assert (v["mid_H_low"], v["mid_H_high"], v["mid_E_min"]) == (0.25, 0.75, 0.5)
    assert v["mid_definition"] == regions.DEFINITION
    assert v["mid_ce_shallow_text"] == ("the only shallow one is the golden mean "
                                        "(h / log2 2 = 0.67, E = 0.25 bit)")
    assert len(claims) == 17 and all(c.holds for c in claims), [c.text for c in claims if not c.holds]


def test_an_arch_that_peaks_at_its_end_fails_its_claim():
    found = Findings()
    middle.diagram_findings(found, _diagram(order1_E=(0.1, 0.2, 1.0)))
    _, claims = _done(found)
    failed = [c.text for c in claims if not c.holds]
    assert failed == ["the order-1 Markov family traces an arch: E largest inside the knob range, "
                      "less than half of that at both ends"]


def test_the_knobs_of_the_later_chapters_by_region():
    rows = middle.knob_points(9)
    assert [r["family"] for r in rows] == ["temperature"] * 9 + ["noise"] * 9
    # knob_settings places the settings at these shares of log2 4: two below a quarter, two above
    # three quarters.
    assert [round(r["share"], 2) for r in rows[:9]] == [0.08, 0.16, 0.3, 0.4, 0.5, 0.6, 0.7, 0.84, 0.92]
    assert [r["region"] for r in rows[9:]] == ["ordered"] * 2 + ["middle"] * 5 + ["noisy"] * 2
    assert all(abs(r["E"] - 3) < 1e-9 for r in rows[9:])


def _knob_rows(temperature_regions, temperature_E, noise_regions):
    return ([{"family": "temperature", "region": r, "E": e} for r, e in zip(temperature_regions, temperature_E)]
            + [{"family": "noise", "region": r, "E": 3.0} for r in noise_regions])


def test_the_knob_regions_counted_and_in_order():
    found = Findings()
    rows = _knob_rows(["ordered", "middle", "middle", "noisy"], [0.1, 0.9, 0.8, 0.2],
                      ["ordered", "middle", "middle", "middle", "noisy"])
    middle.knob_region_findings(found, rows, 4)
    v, claims = _done(found)
    assert v["mid_knob_points"] == 4
    assert [v[f"mid_knob_temperature_{r}"] for r in ("ordered", "middle", "noisy", "shallow")] == [1, 2, 1, 0]
    assert [v[f"mid_knob_noise_{r}"] for r in ("ordered", "middle", "noisy", "shallow")] == [1, 3, 1, 0]
    assert v["mid_knob_temperature_Emid"] == 0.8 and v["mid_knob_noise_Emid"] == 3.0
    assert len(claims) == 5 and all(c.holds for c in claims)


def test_a_knob_out_of_order_or_with_a_small_middle_fails():
    found = Findings()
    rows = _knob_rows(["middle", "ordered", "ordered", "noisy"], [0.9, 0.1, 0.1, 0.2],
                      ["ordered", "middle", "shallow", "noisy"])
    middle.knob_region_findings(found, rows, 4)
    v, claims = _done(found)
    assert v["mid_knob_noise_shallow"] == 1
    assert [c.holds for c in claims] == [False, False, False, False, True]


def test_the_knob_table():
    rows = [{"family": "temperature", "knob": 0.05, "h": 0.0123, "share": 0.00615, "E": 0.5, "region": "ordered"},
            {"family": "noise", "knob": 0.123456, "h": 1.0, "share": 0.5, "E": 3.0, "region": "middle"}]
    assert middle.knob_table(rows) == (
        "| knob | setting | h (bits) | h / log2 4 | E (bits) | region |\n|---|---|---|---|---|---|\n"
        "| temperature τ | 0.05 | 0.012 | 0.01 | 0.500 | ordered |\n"
        "| noise rate | 0.1235 | 1.000 | 0.50 | 3.000 | middle |")


# --- Tiny Shakespeare --------------------------------------------------------------------------------

def test_the_text_rows_hold_both_versions_and_shannons_figures():
    full = {"h": np.array([3.0, 2.0]), "h_part_sd": np.array([0.1, 0.2])}
    letters = {"h": np.array([4.0, 3.25]), "h_part_sd": np.array([0.5, 0.25])}
    rows = middle.text_rows(full, letters, 2)
    assert rows[:4] == [
        {"text": "65 characters", "L": 1, "h": 3.0, "sd": 0.1, "what": "Miller–Madow h(L)"},
        {"text": "65 characters", "L": 2, "h": 2.0, "sd": 0.2, "what": "Miller–Madow h(L)"},
        {"text": "27 letters", "L": 1, "h": 4.0, "sd": 0.5, "what": "Miller–Madow h(L)"},
        {"text": "27 letters", "L": 2, "h": 3.25, "sd": 0.25, "what": "Miller–Madow h(L)"}]
    assert [(r["L"], r["h"]) for r in rows[4:]] == [(1, 4.03), (2, 3.32), (3, 3.1)]  # F_0 is not drawn


@pytest.mark.parametrize("d, index", [({1: 0.05, 2: -0.05, 3: -0.5}, 0), ({1: 0.05, 2: 0.05, 3: 0.05}, 1),
                                      ({1: 0.05, 2: 0.05, 3: -0.15}, 2), ({1: 0.2, 2: 0.0, 3: -0.5}, 2)])
def test_the_shannon_verdict(d, index):
    sentences = ["agree closely with Shannon's at N = 1 and 2 and fall well below his at N = 3",
                 "agree closely with Shannon's at N = 1, 2 and 3",
                 "differ from Shannon's by more than a tenth of a bit at some N"]
    assert middle.shannon_verdict(d) == sentences[index]


@pytest.mark.parametrize("gpt, sentence", [
    (4.0, "and at this training budget a looser one than every compressor"),
    (2.0, "and a tighter one than every compressor"),
    (2.75, "and one between the compressors")])
def test_where_the_gpt_lies_relative_to_the_compressors(gpt, sentence):
    assert middle.gpt_vs_compressors(gpt, {"zlib": 3.0, "bz2": 2.5}) == sentence


def test_the_fitted_entropy_rate_sentence():
    assert middle.fit_h_sentence(1e-4).startswith("its fitted entropy rate is pinned at the lower bound")
    assert middle.fit_h_sentence(0.5) == "its fitted entropy rate is 0.50 bits per character"


@pytest.mark.parametrize("lo, hi, start", [
    (0.3, 0.6, "lies inside the middle band"), (0.1, 0.4, "straddles the border of the ordered region at 0.25"),
    (0.05, 0.2, "lies below the middle band"), (0.5, 0.9, "reaches beyond"), (0.1, 0.9, "reaches beyond")])
def test_the_texts_bracket_against_the_borders(lo, hi, start):
    assert middle.share_verdict(lo, hi).startswith(start)


def test_half_h3_of_a_constant_text_is_zero():
    assert middle.half_h3(np.zeros(1000, dtype=np.int64)) == 0.0


def _text_inputs():
    full = {"h": np.array([4.0, 3.0, 2.0]), "h_part_sd": np.array([0.1, 0.2, 0.25]),
            "H": np.array([0.0, 4.0, 7.0, 9.0]), "E": 3.0,
            "compress": {"zlib": 3.5, "bz2": 2.5, "lzma": 3.0},
            "hilberg": {"beta": 0.5, "beta_se": 0.125, "h": 1e-5}}
    letters = {"h": np.array([4.0, 3.25, 2.5, 2.0]), "h_part_sd": np.array([0.5, 0.25, 0.125, 0.0625])}
    return full, letters


def test_the_texts_values_and_claims():
    full, letters = _text_inputs()
    found = Findings()
    middle.text_findings(found, full, letters, 4.0, 1000, 19683, 3, 64, 2.4375)
    v, claims = _done(found)
    assert v["mid_text_n"] == "1,000" and v["mid_27_n"] == "19,683" and v["mid_27_per_cell"] == 1.0
    assert v["mid_27_h4"] == 2.0 and v["mid_27_sd3"] == 0.125 and v["mid_27_F0"] == math.log2(27)
    assert v["mid_27_d1"] == pytest.approx(-0.03) and v["mid_27_d3"] == pytest.approx(-0.6)
    assert v["mid_shannon_F0"] == 4.76 and v["mid_L_text"] == 3
    assert v["mid_text_hL"] == 2.0 and v["mid_text_hL_sd"] == 0.25
    assert v["mid_27_rise"] == 0.0625  # 2.5 on the whole text against 2.4375 on its halves
    assert v["mid_text_best_name"] == "bz2" and v["mid_text_best"] == 2.5
    assert v["mid_text_gpt_vs"] == "and at this training budget a looser one than every compressor"
    assert v["mid_text_share_lo"] == 2.0 / 6 and v["mid_text_share_hi"] == 2.5 / 6
    assert v["mid_text_share_verdict"] == "lies inside the middle band of h"
    assert v["mid_27_verdict"] == "agree closely with Shannon's at N = 1 and 2 and fall well below his at N = 3"
    assert v["mid_text_fit_h"].startswith("its fitted entropy rate is pinned")
    assert len(claims) == 10 and all(c.holds for c in claims), [c.text for c in claims if not c.holds]
    growing = next(c for c in claims if "still growing" in c.text)
    assert growing.value == [1.0, 3.0]  # E(2) = 7 − 2·3, E(3) = 9 − 3·2


def test_a_text_whose_estimate_does_not_rise_fails_the_bias_claim():
    full, letters = _text_inputs()
    found = Findings()
    middle.text_findings(found, full, letters, 4.0, 1000, 19683, 3, 64, 2.75)
    _, claims = _done(found)
    assert not _holds(claims)["the 27-letter h(3) still rises when the whole text is used instead of half "
                              "of it (the estimate is biased low)"]
