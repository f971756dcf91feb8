"""Chapter knob's numbers from fabricated runs with known answers (no training)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from middleground.experiments import knob
from middleground.experiments.report import Findings


def chosen(options):
    """The sentence Findings.choose picks from ``options``."""
    return Findings().choose(options, None)


def index_of(options):
    return next(i for i, (_, holds) in enumerate(options) if holds)


# --- Small helpers -------------------------------------------------------------------------

def test_pooled_se_is_the_root_sum_of_squares_over_the_count():
    assert knob.pooled_se([0.3, 0.4]) == pytest.approx(0.25)  # sqrt(0.09 + 0.16) / 2
    assert knob.pooled_se([0.02]) == pytest.approx(0.02)


def test_with_se_shows_the_error_to_its_first_digits():
    assert knob.with_se(0.01234, 0.001) == "+0.0123 ± 0.0010 bits"
    assert knob.with_se(-0.5, 0.0) == "-0.5000 ± 0.0000 bits"
    # se 2e-5: 1 - floor(log10 2e-5) = 1 - (-5) = 6 decimals
    assert knob.with_se(0.001234, 0.00002) == "+0.001234 ± 0.000020 bits"


def test_names_and_texts():
    assert knob.run_name("temperature", 0.5) == "the temperature knob at τ = 0.5"
    assert knob.run_name("hmm", "even process") == "the even process"
    assert knob.run_name("santa-fe", 0.3) == "the Santa Fe process at β = 0.3"
    assert knob.run_name("other", 2.0) == "other at 2"
    assert knob.setting_name({"family": "noise", "knob_value": 0.123456, "h": 1.234}) == "noise = 0.1235 (h = 1.23)"
    assert knob.windows_text([13901]) == "13,901"
    assert knob.windows_text([1000, 13901]) == "1,000 to 13,901"
    assert knob.shares_text([0.1, 0.5, 0.9]) == "0.1, 0.5 and 0.9"
    assert knob.acc_se_bound(100) == pytest.approx(0.05)  # sqrt(0.25 / 100)


@pytest.mark.parametrize("max_se, index", [(0.005, 0), (0.05, 1), (0.5, 2)])
def test_max_se_words(max_se, index):
    assert index_of(knob.max_se_options(max_se)) == index


# --- Region counts -------------------------------------------------------------------------

def _region_cells():
    # alphabet 4, so h shares are h / 2: 0.1 ordered, 0.5 middle (E >= 0.5) or shallow, 0.9 noisy
    spec = [("temperature", 0.1, 0.2, 0.3), ("temperature", 0.5, 1.0, 1.0), ("temperature", 0.9, 1.8, 0.1),
            ("noise", 0.0, 0.2, 0.3), ("noise", 0.2, 1.0, 0.1), ("noise", 0.4, 1.9, 0.01),
            ("order", 1, 1.0, 1.0)]
    cells, results = [], []
    for family, kv, h, E in spec:
        for seed in (0, 1):  # two seeds: a setting counts once
            cells.append({"family": family, "knob": kv, "seed": seed})
            results.append({"h": h, "E": E})
    return cells, results


def test_region_counts_count_settings_not_runs():
    count_of = knob.knob_region_counts(*_region_cells())
    assert count_of["temperature"] == {"ordered": 1, "middle": 1, "noisy": 1, "shallow": 0}
    assert count_of["noise"] == {"ordered": 1, "middle": 0, "noisy": 1, "shallow": 1}
    assert set(count_of) == {"temperature", "noise"}
    assert knob.middle_count_text(count_of) == "1 (temperature) and 0 (noise)"
    assert index_of(knob.regions_options(count_of)) == 1  # the noise knob misses the middle
    full = {fam: {"ordered": 1, "middle": 2, "noisy": 1, "shallow": 0} for fam in ("temperature", "noise")}
    assert chosen(knob.regions_options(full)).startswith("every knob has settings")


# --- Runs and settings ---------------------------------------------------------------------

def _final(**over):
    f = {"val_bits": 1.2, "val_se": 0.01, "bayes_bits": 1.3, "model_minus_bayes": -0.1,
         "model_minus_bayes_se": 0.02, "bayes_order": 2, "excess_floor": 0.05, "excess_floor_se": 0.01,
         "optimal_bits": 1.15, "token_accuracy": 0.6, "n_windows": 10, "n_prompts": 16}
    f.update(over)
    return f


def test_run_rows_read_each_run_and_its_plateau():
    cells = [{"family": "temperature", "knob": 0.5, "seed": 3, "model": {"vocab_size": 4}},
             {"family": "santa-fe", "knob": 0.5, "seed": 3, "model": {"vocab_size": 32}}]
    results = [{"h": 1.0, "E": 0.7, "steps": [0, 10, 20], "val_bits": [2.0, 1.5, 1.1], "final": _final()},
               {"h": 0.5, "E": 4.0, "steps": [0, 10, 20], "val_bits": [2.0, 1.0, 0.9],
                "final": _final(excess_floor=None, excess_floor_se=None, optimal_bits=None)}]
    rows = knob.run_rows(cells, results)
    r = rows[0]
    assert r["knob"] == "0.5" and r["knob_value"] == 0.5 and r["alphabet"] == 4
    assert r["above_h"] == pytest.approx(0.2) and r["hidden_markov"] and r["excess"] == 0.05
    # excess over h: 1.0, 0.5, 0.1; 90 % of the drop leaves 1.0 - 0.9 * 0.9 = 0.19, first reached at step 20
    assert r["plateau"] == 20
    assert not rows[1]["hidden_markov"] and rows[1]["excess"] is None
    # 1.5, 0.5, 0.4 over h: target 1.5 - 0.99 = 0.51, reached at step 10
    assert rows[1]["plateau"] == 10


def test_hidden_markov_rows_get_region_share_bars_and_z():
    rows = [{"hidden_markov": True, "h": 1.0, "E": 1.0, "alphabet": 4, "excess": 0.03, "excess_se": 0.01},
            {"hidden_markov": False}]
    hmm = knob.hidden_markov_rows(rows)
    assert len(hmm) == 1 and hmm[0] is rows[0]
    assert hmm[0]["region"] == "middle" and hmm[0]["h_share"] == pytest.approx(0.5)
    assert hmm[0]["excess_lo"] == pytest.approx(0.01) and hmm[0]["excess_hi"] == pytest.approx(0.05)
    assert hmm[0]["z"] == pytest.approx(3.0)


def _row(family, kv, seed, **over):
    r = {"family": family, "knob": kv, "knob_raw": float(kv) if family != "hmm" else kv, "seed": seed,
         "h": 1.0, "E": 1.0, "hidden_markov": family != "santa-fe", "region": "middle",
         "above_h": 0.2, "final_se": 0.03, "bayes_bits": 1.1, "model_minus_bayes": -0.1,
         "model_minus_bayes_se": 0.06, "bayes_order": 2, "excess": 0.05, "excess_se": 0.006}
    r.update(over)
    return r


def test_pooling_over_seeds_gives_means_and_pooled_standard_errors():
    rows = [_row("temperature", "0.5", 0),
            _row("temperature", "0.5", 1, above_h=0.4, final_se=0.04, bayes_bits=1.3, model_minus_bayes=0.3,
                 model_minus_bayes_se=0.08, bayes_order=4, excess=0.07, excess_se=0.008),
            _row("santa-fe", "0.5", 0, excess=None, excess_se=None)]
    calls = []

    def floor(family, knob_raw):
        calls.append((family, knob_raw))
        return SimpleNamespace(value=1.25, se=0.0, method="exact")

    settings = knob.pool_settings(rows, floor)
    assert calls == [("temperature", 0.5)]  # no floor for Santa Fe, one per setting
    s, sf = settings
    assert s["seeds"] == 2 and s["name"] == "the temperature knob at τ = 0.5"
    assert s["above_h"] == pytest.approx(0.3)
    assert s["above_h_se"] == pytest.approx(0.025)            # sqrt(0.03² + 0.04²) / 2
    assert s["bayes_above_h"] == pytest.approx(0.2)           # mean 1.2 − h 1.0
    assert s["model_minus_bayes"] == pytest.approx(0.1)
    assert s["model_minus_bayes_se"] == pytest.approx(0.05)   # sqrt(0.06² + 0.08²) / 2
    assert s["bayes_order"] == 3                              # median of 2 and 4
    assert s["excess"] == pytest.approx(0.06) and s["excess_se"] == pytest.approx(0.005)
    assert s["floor_gap"] == pytest.approx(0.25) and s["floor_method"] == "exact" and s["region"] == "middle"
    assert sf["seeds"] == 1 and "floor_gap" not in sf and sf["above_h_se"] == pytest.approx(0.03)


def _settings_for_floor():
    a = {"family": "temperature", "knob": "0.1", "seeds": 2, "floor_gap": 0.1, "floor_se": 0.0,
         "floor_method": "exact", "excess": 0.05}
    b = {"family": "noise", "knob": "0.2", "seeds": 1, "floor_gap": 0.3, "floor_se": 0.01,
         "floor_method": "Monte Carlo (20000 windows)", "excess": 0.4}
    rows = [{"family": "temperature", "knob": "0.1", "above_h": 0.2, "final_se": 0.03},
            {"family": "temperature", "knob": "0.1", "above_h": 0.4, "final_se": 0.04},
            {"family": "noise", "knob": "0.2", "above_h": 0.5, "final_se": 0.0}]
    return rows, [a, b]


def test_the_floor_table():
    rows, settings = _settings_for_floor()
    t = knob.floor_table(rows, settings)
    assert t["kn_floor_gap_lo"] == 0.1 and t["kn_floor_gap_hi"] == 0.3
    assert t["kn_floor_exact"] == 1 and t["kn_floor_mc_se"] == 0.01
    # mean loss − h (0.2 + 0.4 + 0.5) / 3, se sqrt(0.03² + 0.04²) / 3 = 0.05 / 3
    assert t["kn_mean_above_h"] == "0.3667 ± 0.0167"
    # floor gap per run 0.1, 0.1, 0.3; its se weights each setting by its runs: sqrt((2·0)² + (1·0.01)²) / 3
    assert t["kn_mean_floor_gap"] == "0.1667 ± 0.0033"
    assert knob.floor_bigger_count(settings) == 1  # 0.1 > 0.05; 0.3 < 0.4


def test_the_floor_table_without_monte_carlo_reports_a_zero_se():
    rows, settings = _settings_for_floor()
    settings[1].update(floor_se=0.0, floor_method="exact")
    assert knob.floor_table(rows, settings)["kn_floor_mc_se"] == 0.0


@pytest.mark.parametrize("bigger, n, start", [
    (3, 3, "on every one of the 3 settings"), (2, 3, "on 2 of the 3 settings"),
    (0, 3, "on none of the 3 settings"), (1, 3, "only on 1 of the 3 settings")])
def test_floor_words(bigger, n, start):
    assert chosen(knob.floor_options(bigger, n)).startswith(start)


# --- Excess above the floor ----------------------------------------------------------------

def test_run_label():
    row = {"excess": 0.01234, "excess_se": 0.001, "family": "noise", "knob_raw": 0.2, "seed": 1}
    assert knob.run_label(row) == "+0.0123 ± 0.0010 bits (the noise knob at rate 0.2, seed 1)"


@pytest.mark.parametrize("n_at, n, index", [(0, 5, 0), (5, 5, 1), (2, 5, 2)])
def test_at_floor_words(n_at, n, index):
    options = knob.at_floor_options(n_at, n, 13901)
    assert index_of(options) == index
    assert "13,901 windows" in options[2][0] and options[2][0].startswith(f"{n_at} of the {n} runs")


@pytest.mark.parametrize("min_z, start", [
    (1.5, "Every run lies above the floor, the nearest by 1.5"),
    (-2.0, "No run lies more than 2.0 standard errors below"),
    (-3.5, "The lowest run lies 3.5 standard errors below")])
def test_min_z_words(min_z, start):
    assert chosen(knob.min_z_options(min_z)).startswith(start)


@pytest.mark.parametrize("h_clear, e_clear, start", [
    (False, False, "neither interval"), (True, False, "only the correlation with the h share"),
    (False, True, "only the correlation with E"), (True, True, "both are distinguishable")])
def test_correlation_words(h_clear, e_clear, start):
    assert chosen(knob.corr_options({"h_share": h_clear, "E": e_clear})).startswith(start)


def test_correlations_of_an_exact_line_are_one_in_every_resample():
    rows = []
    for i, (share, E) in enumerate([(0.2, 0.5), (0.5, 1.0), (0.8, 1.5)]):
        for seed in (0, 1):
            rows.append({"family": "f", "knob": str(i), "h_share": share, "E": E, "excess": 2 * share})
    settings = [{"family": "f", "knob": str(i)} for i in range(3)]
    out = knob.bootstrap_correlations(rows, settings, np.random.default_rng(0), draws=200)
    for key in ("h_share", "E"):
        assert out[key] == pytest.approx((1.0, 1.0, 1.0))


# --- The count-based baseline and Santa Fe -------------------------------------------------

def test_bayes_beats_and_loses_by_more_than_two_standard_errors():
    settings = [{"family": "order", "model_minus_bayes": -0.3, "model_minus_bayes_se": 0.1},   # beats
                {"family": "order", "model_minus_bayes": 0.3, "model_minus_bayes_se": 0.1},    # loses
                {"family": "hmm", "model_minus_bayes": 0.1, "model_minus_bayes_se": 0.1},      # neither
                {"family": "hmm", "model_minus_bayes": -0.2, "model_minus_bayes_se": 0.1001},  # within 2 se
                {"family": "hmm", "model_minus_bayes": -0.5, "model_minus_bayes_se": 0.1}]     # beats
    beats, loses = knob.bayes_verdicts(settings)
    assert [s["model_minus_bayes"] for s in beats] == [-0.3, -0.5]
    assert [s["model_minus_bayes"] for s in loses] == [0.3]
    assert (knob.bayes_by_family_text(["order", "hmm"], settings, beats, loses)
            == "order: better on 1, worse on 1 of 2; hmm: better on 1, worse on 0 of 3")
    assert knob.bayes_by_family(["order", "hmm"], settings, beats) == {"order": (1, 2), "hmm": (1, 3)}


@pytest.mark.parametrize("by_family, loses, n, text", [
    ({"order": (1, 2), "hmm": (0, 3)}, 3, 5, "The count-based predictor is not beaten on most settings of any family"),
    ({"order": (2, 2), "hmm": (0, 3)}, 3, 5,
     "The exception is the order family, where the transformer beats the counts on most settings"),
    ({"order": (2, 2), "hmm": (2, 3)}, 1, 5, "The transformer beats the counts on most settings of the order and "
                                             "the hmm families")])
def test_bayes_exception(by_family, loses, n, text):
    assert chosen(knob.bayes_exception_options(by_family, loses, n)) == text


@pytest.mark.parametrize("loses, beats, n, start", [
    (3, 1, 5, "So on most settings the transformer leaves unlearned"),
    (1, 3, 5, "So on most settings the transformer does better"),
    (2, 2, 5, "Neither predictor is better")])
def test_bayes_words(loses, beats, n, start):
    assert chosen(knob.bayes_words_options(loses, beats, n)).startswith(start)


def test_santa_fe_rows_and_their_predictors():
    cells = [{"family": "hmm"}, {"family": "santa-fe"}, {"family": "santa-fe"}]
    rows = [_row("hmm", "golden mean", 0),
            _row("santa-fe", "0.5", 0, final_bits=1.0, model_minus_bayes_se=0.01, h=0.6),
            _row("santa-fe", "0.5", 1, final_bits=1.1, model_minus_bayes_se=0.02, h=0.6)]
    evaluations = [{"oracle_bits": 0.9, "oracle_se": 0.03, "bayes_minus_oracle_se": 0.005, "stationary_floor": 1.2},
                   {"oracle_bits": 0.95, "oracle_se": 0.04, "bayes_minus_oracle_se": 0.006, "stationary_floor": 1.2}]
    sf = knob.santa_fe_rows(cells, rows, evaluations)
    assert sf == rows[1:]
    assert sf[0]["model_minus_oracle"] == pytest.approx(0.1) and sf[0]["model_minus_oracle_se"] == pytest.approx(0.015)
    assert sf[1]["model_minus_oracle"] == pytest.approx(0.15) and sf[1]["model_minus_oracle_se"] == pytest.approx(0.026)
    settings = [{"family": "hmm", "knob": "golden mean", "h": 1.0, "hidden_markov": True, "above_h": 0.2,
                 "above_h_se": 0.03, "bayes_above_h": 0.1, "floor_gap": 0.15, "floor_se": 0.0,
                 "model_minus_bayes": -0.1, "model_minus_bayes_se": 0.06, "bayes_order": 2},
                {"family": "santa-fe", "knob": "0.5", "h": 0.6, "hidden_markov": False, "above_h": 0.45,
                 "above_h_se": 0.02, "bayes_above_h": 0.5, "model_minus_bayes": -0.05,
                 "model_minus_bayes_se": 0.01, "bayes_order": 3}]
    long_rows = knob.predictor_rows(settings, rows)
    assert [r["predictor"] for r in long_rows] == [
        "transformer", "count-based Bayes", "finite-context floor",
        "transformer", "count-based Bayes", "oracle that knows the facts", "stationary floor (no bound here)"]
    assert settings[1]["oracle_gap"] == pytest.approx(0.325)     # mean(0.9, 0.95) − 0.6
    assert settings[1]["oracle_gap_se"] == pytest.approx(0.025)  # sqrt(0.03² + 0.04²) / 2
    assert settings[1]["stationary_gap"] == pytest.approx(0.6)
    assert long_rows[1]["se"] is None and long_rows[1]["lo"] == long_rows[1]["hi"] == 0.1
    assert long_rows[0]["lo"] == pytest.approx(0.14) and long_rows[0]["hi"] == pytest.approx(0.26)


@pytest.mark.parametrize("unseen, index", [(0, 0), (5, 1)])
def test_santa_fe_facts(unseen, index):
    options = knob.sf_facts_options(unseen)
    assert index_of(options) == index and options[1][0].startswith("5 held-out symbols" if unseen else "0 held")


@pytest.mark.parametrize("below, n, index", [(2, 2, 0), (0, 2, 1), (1, 2, 2)])
def test_santa_fe_below_the_stationary_floor(below, n, index):
    assert index_of(knob.sf_below_floor_options(below, n)) == index


def test_santa_fe_floor_gap_text():
    assert knob.sf_floor_gap_text([{"stationary_floor": 1.2, "h": 0.6}] * 2) == "0.600"
    assert knob.sf_floor_gap_text([{"stationary_floor": 1.2, "h": 0.6},
                                   {"stationary_floor": 1.3, "h": 0.6}]) == "0.600 to 0.700"


@pytest.mark.parametrize("gaps, ses, start", [
    ([0.001, -0.002], [0.001, 0.001], "every model is within two standard errors"),
    ([0.005, 0.008], [0.001, 0.001], "every model stays measurably above the oracle, but by less"),
    ([0.005, 0.05], [0.001, 0.001], "every model stays above the oracle by more than two"),
    ([0.001, 0.05], [0.001, 0.001], "1 of the 2 models are within two standard errors")])
def test_santa_fe_against_the_oracle(gaps, ses, start):
    sf = [{"model_minus_oracle": g, "model_minus_oracle_se": s} for g, s in zip(gaps, ses)]
    assert chosen(knob.sf_gap_options(sf)).startswith(start)


# --- Disagreement along the knob -----------------------------------------------------------

def test_knob_spread_per_setting():
    rows = [{"family": "temperature", "knob_value": 0.5, "h": 1.0, "region": "middle", "final_bits": 1.0,
             "final_se": 0.01, "token_accuracy": 0.5, "plateau": 100},
            {"family": "temperature", "knob_value": 0.5, "h": 1.0, "region": "middle", "final_bits": 1.2,
             "final_se": 0.02, "token_accuracy": 0.7, "plateau": 200},
            {"family": "noise", "knob_value": 0.1, "h": 0.4, "region": "ordered", "final_bits": 0.5,
             "final_se": 0.03, "token_accuracy": 0.9, "plateau": 50},
            {"family": "order", "knob_value": 1, "h": 1.0, "region": "middle", "final_bits": 0.0,
             "final_se": 0.0, "token_accuracy": 0.0, "plateau": 0}]
    spread = knob.knob_spread(rows)
    assert [(s["family"], s["knob_value"]) for s in spread] == [("temperature", 0.5), ("noise", 0.1)]
    t, n = spread
    assert t["loss_sd"] == pytest.approx(math.sqrt(0.02)) and t["acc_sd"] == pytest.approx(math.sqrt(0.02))
    assert t["loss_se"] == 0.02 and t["plateau"] == 150.0
    assert n["loss_sd"] == 0.0 and n["acc_sd"] == 0.0  # one seed


def test_curve_records_subtract_h_and_the_floor_gap():
    cells = [{"family": "temperature", "knob": 0.5, "seed": 0}, {"family": "order", "knob": 1, "seed": 0}]
    results = [{"h": 1.0, "steps": [0, 10], "val_bits": [2.0, 1.3]}, {"h": 1.0, "steps": [0], "val_bits": [2.0]}]
    rows = [{"family": "temperature", "knob": "0.5", "region": "middle"}, {"family": "order", "knob": "1"}]
    out = knob.curve_records(cells, results, rows, {("temperature", "0.5"): {"floor_gap": 0.1}})
    assert [r["step"] for r in out] == [0, 10]
    assert out[0]["excess"] == pytest.approx(0.9) and out[1]["excess"] == pytest.approx(0.2)


@pytest.mark.parametrize("region, start", [("ordered", "at the ordered end"), ("noisy", "at the noisy end"),
                                           ("middle", "in the middle"), ("shallow", "between the ends")])
def test_where_a_setting_lies(region, start):
    assert chosen(knob.where_options({"region": region})).startswith(start)


@pytest.mark.parametrize("sd, se, index", [(0.04, 0.01, 0), (0.03, 0.01, 1)])
def test_loss_noise(sd, se, index):
    assert index_of(knob.loss_noise_options({"loss_sd": sd, "loss_se": se})) == index


@pytest.mark.parametrize("regions, start", [(("middle", "middle"), "Both peaks"),
                                            (("noisy", "ordered"), "Neither peak"),
                                            (("middle", "noisy"), "One peak")])
def test_peak_verdict(regions, start):
    top_loss, top_acc = ({"region": r} for r in regions)
    assert chosen(knob.verdict_options(top_loss, top_acc)).startswith(start)


@pytest.mark.parametrize("region, sd, index", [("noisy", 0.005, 0), ("noisy", 0.02, 1), ("middle", 0.005, 1)])
def test_accuracy_reading(region, sd, index):
    options = knob.acc_reading_options({"region": region, "loss_sd": sd})
    assert index_of(options) == index
    assert f"only {sd:.4f} bits" in options[0][0]


# --- In-context learning -------------------------------------------------------------------

def test_unigram_position_bits_by_hand():
    # k = 2, α = 1. Position 0 has seen one 0 and predicts 0: (1 + 1) / (1 + 2) = 2/3.
    # Position 1 has seen two 0s and predicts 1: (0 + 1) / (2 + 2) = 1/4, so 2 bits.
    out = knob.unigram_position_bits(np.array([[0, 0, 1]]), 2, 1.0)
    assert out == pytest.approx([-math.log2(2 / 3), 2.0])


def test_steps_and_unigram_levels_average_over_seeds():
    rows = [{"alpha": 0.3, "step": 0, "seed": 0, "unigram_excess": 0.2, "late_excess": 1.0},
            {"alpha": 0.3, "step": 0, "seed": 1, "unigram_excess": 0.4, "late_excess": 2.0},
            {"alpha": 0.3, "step": 10, "seed": 0, "unigram_excess": 9.0, "late_excess": 0.5},
            {"alpha": 3.0, "step": 0, "seed": 0, "unigram_excess": 0.1, "late_excess": 0.0}]
    levels = knob.unigram_levels(rows, [0.3, 3.0])
    assert levels[0] == {"alpha": 0.3, "unigram_excess": pytest.approx(0.3)} and levels[1]["unigram_excess"] == 0.1
    assert knob.at_step(rows, "late_excess", 0.3, 0) == pytest.approx(1.5)
    assert knob.at_step(rows, "late_excess", 0.3, 10) == 0.5


@pytest.mark.parametrize("gap, fate", [(-0.1, "past the unigram level"),
                                       (0.02, "still at the unigram level, on the plateau"),
                                       (0.1, "above the unigram level")])
def test_fates(gap, fate):
    assert chosen(knob.fate_options(gap)) == fate


def test_fate_text():
    assert (knob.fate_text(0.3, -0.1234, "past the unigram level")
            == "at α = 0.3 it is 0.123 bits below the unigram predictor, past the unigram level")
    assert knob.fate_text(3.0, 0.01, "x") == "at α = 3 it is 0.010 bits above the unigram predictor, x"


@pytest.mark.parametrize("m, b, u, text", [
    (0.9, 1.0, 0.2, "close to the Bayes-optimal predictor's"),
    (0.5, 1.0, 0.2, "between the unigram and the Bayes-optimal predictor's"),
    (0.21, 1.0, 0.2, "no more than the unigram predictor's")])
def test_score_words(m, b, u, text):
    assert chosen(knob.score_options(m, b, u)) == text
