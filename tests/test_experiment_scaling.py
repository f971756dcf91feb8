"""Chapter scaling's numbers from fabricated ladders with known answers (no training)."""

import math

import numpy as np
import pytest

from middleground.experiments import scaling as sc

E, A, ALPHA = 1.5, 10.0, 0.5
SIZES = [100, 400, 1600, 6400, 25600]  # each rung × 4: 2.408 decades


def law(n):
    return E + A * n ** -ALPHA


def first(options):
    return next(text for text, ok in options if ok)


def ladder(noise=0.01, gaps=None, seeds=2):
    """Records of an exact power law, seeds at ± ``noise`` around it (so their mean is exact), and
    per size and seed a gap (held-out minus training loss on the fixed windows)."""
    records = []
    for i, n in enumerate(SIZES):
        for s in range(seeds):
            sign = 1 if s % 2 else -1
            gap = gaps[i][s] if gaps else 0.1
            records.append({"size": f"{i + 1}L×{16 * (i + 1)}", "seed": s, "N": n, "D": 32_000,
                            "val_loss": law(n) + sign * noise, "train_loss_batches": 2.0,
                            "val_loss_batches": 2.0 + gap, "wall_s": 1.5,
                            "flops_6ND": 6 * n * 32_000,
                            "flops_counted": 6 * n * 32_000 * (1 + 10 / (i + 1)),
                            "train_s": 1.0 + s})
    return records


def test_the_extrapolation_of_an_exact_power_law_has_no_error():
    by_size = sc.losses_by_size(ladder())
    assert sorted(by_size) == SIZES and by_size[100] == pytest.approx([law(100) - 0.01, law(100) + 0.01])
    ex = sc.extrapolate(by_size, draws=20, seed=0)
    assert ex.held_out == 25600 and ex.fit_sizes == SIZES[:-1]
    assert (ex.fit.E, ex.fit.A, ex.fit.alpha) == pytest.approx((E, A, ALPHA), rel=1e-6)
    assert ex.actual == pytest.approx(1.5625) and ex.predicted == pytest.approx(1.5625, abs=1e-8)
    assert abs(ex.error) < 1e-8 and ex.inside and ex.lo < 1.5625 < ex.hi
    assert (ex.actual_lo, ex.actual_hi) == pytest.approx((1.5525, 1.5725))
    assert ex.alpha_lo < ALPHA < ex.alpha_hi and ex.boot["failed"] == 0


def test_a_held_out_size_below_the_interval_is_outside_and_better():
    by_size = sc.losses_by_size(ladder())
    by_size[25600] = [1.40, 1.42]
    ex = sc.extrapolate(by_size, draws=20, seed=0)
    assert ex.error == pytest.approx(1.41 - 1.5625, abs=1e-8) and not ex.inside
    assert " better than the curve predicts" in first(sc.conclusion_options(ex.inside, ex.actual,
                                                                           ex.predicted))


@pytest.mark.parametrize("inside, actual, words", [
    (True, 1.0, "Here the law passed the test"), (False, 1.0, "the held-out model is better than"),
    (False, 3.0, "the held-out model is worse than")])
def test_each_conclusion(inside, actual, words):
    assert words in first(sc.conclusion_options(inside, actual, 2.0))


def test_the_seed_spread_is_the_mean_range():
    assert sc.seed_spread({2: [2.0, 2.1], 1: [1.0, 1.2, 1.1]}) == pytest.approx(0.15)


@pytest.mark.parametrize("spread, words", [(0.005, "less than a hundredth of a nat"),
                                           (0.05, "a few hundredths of a nat"),
                                           (0.1, "more than a tenth of a nat")])
def test_each_spread_sentence(spread, words):
    assert first(sc.spread_options(spread)) == "seeds of one size differ by " + words


@pytest.mark.parametrize("passes, words", [
    (0.3, "less than half a pass"), (0.5, "between half a pass and one pass"),
    (1.0, "between one and two passes"), (2.0, "several passes")])
def test_each_pass_count_in_words(passes, words):
    assert first(sc.pass_words(passes)) == words


def test_the_gap_test_on_fabricated_seeds():
    # smallest size's gaps 0.1, 0.2, 0.3; largest's 0.2, 0.4, 0.3: paired differences 0.1, 0.2, 0.0,
    # mean 0.1, standard deviation 0.1, standard error 0.1 / sqrt(3); t quantile for 2 degrees
    gaps = [[0.1, 0.2, 0.3]] + [[0.0] * 3] * 3 + [[0.2, 0.4, 0.3]]
    g = sc.gap_test(ladder(gaps=gaps, seeds=3))
    assert g["small"] == pytest.approx(0.2) and g["large"] == pytest.approx(0.3)
    assert g["excess"] == pytest.approx(0.1) and g["se"] == pytest.approx(0.1 / math.sqrt(3))
    assert g["t"] == pytest.approx(4.302652729696142) and g["seeds"] == 3 and g["size"] == "5L×80"


def test_the_gap_test_pairs_by_seed_not_by_order():
    records = ladder(gaps=[[0.1, 0.3]] + [[0.0] * 2] * 3 + [[0.2, 0.5]])
    records = records[:-2] + records[-2:][::-1]  # the largest size's seeds recorded in reverse
    g = sc.gap_test(records)
    assert g["excess"] == pytest.approx(0.15) and g["se"] == pytest.approx(0.05)


@pytest.mark.parametrize("excess, se, passes, words", [
    (0.01, 0.01, 0.5, "within the seeds' spread, the largest size shows no more gap than the smallest"),
    (0.1, 0.01, 0.5, "beyond the seeds' spread (less than one pass, so rather what differs"),
    (0.1, 0.01, 1.0, "beyond the seeds' spread (more than one pass: memorisation"),
    (-0.1, 0.01, 0.5, "the largest size's gap is smaller than the smallest's, beyond the seeds' spread")])
def test_each_gap_sentence(excess, se, passes, words):
    assert words in first(sc.gap_options(excess, se, 4.3, passes))


def test_the_flops_table_from_known_counts():
    rows = sc.flops_table(ladder(), SIZES, peak=1e9)
    smallest = rows[0]
    assert smallest["size"] == "1L×16" and smallest["6ND"] == 6 * 100 * 32_000
    assert smallest["ratio"] == pytest.approx(11.0) and rows[-1]["ratio"] == pytest.approx(3.0)
    assert smallest["train_s"] == 1.5  # seeds took 1 s and 2 s
    # counted flops 2.112e8 per run: 2.112e8 and 1.056e8 per second, mean 1.584e8, over 1e9
    assert smallest["mfu"] == pytest.approx(0.1584)


def test_the_whole_chapter_from_an_exact_power_law():
    r = sc.summarise(ladder(), peak=1e9, n_seeds=2, draws=20, seed=0, train_chars=64_000,
                     gpu_tokens=3_932_160, gpu_largest_n=1_966_080)
    v = r.values
    assert v["sc_n_sizes"] == 5 and v["sc_n_fit"] == 4 and v["sc_seeds"] == 2
    assert (v["sc_N_min"], v["sc_N_max_fit"], v["sc_N_held"]) == ("100", "6,400", "25,600")
    assert v["sc_ratio"] == 4.0 and v["sc_rung_min"] == v["sc_rung_max"] == 4.0
    assert v["sc_decades"] == pytest.approx(math.log10(256))
    assert v["sc_alpha"] == pytest.approx(ALPHA, rel=1e-6) and v["sc_E"] == pytest.approx(E, rel=1e-6)
    assert abs(v["sc_error"]) < 1e-8 and v["sc_verdict"] == "inside"
    assert v["sc_seed_spread"] == pytest.approx(0.02) and v["sc_spread_words"] == "a few hundredths of a nat"
    assert v["sc_tokens"] == "32,000" and v["sc_train_chars"] == "64,000"
    assert v["sc_passes"] == 0.5 and v["sc_pass_words"] == "between half a pass and one pass"
    assert v["sc_gap_excess"] == pytest.approx(0.0) and v["sc_gap_seeds"] == 2
    assert v["sc_gpu_passes"] == pytest.approx(61.44) and v["sc_gpu_tokens_per_param"] == 2.0
    assert v["sc_pub_1_alpha"] == 0.34 and v["sc_pub_2_E"] == 1.82
    assert v["sc_ratio_small"] == pytest.approx(11.0) and v["sc_ratio_large"] == pytest.approx(3.0)
    assert v["sc_total_s"] == 15.0 and v["sc_peak"] == 1.0
    assert [c.holds for c in r.claims] == [True] * 8
    assert r.claims[4].text.startswith("Here the law passed the test")
    assert len(r.points) == 10 and [p["role"] for p in r.points].count("held out") == 2
    assert len(r.curve) == 60 and r.curve[0]["N"] == pytest.approx(100 / 1.3)
    assert r.band[0]["N"] == 25600.0 and r.exponents[0]["fit"] == "this chapter"
    assert np.isclose(r.exponents[0]["alpha"], ALPHA)


def test_the_peak_share_comparison_is_worded_from_the_data():
    """A comparison of two timings is chosen from the run's figures, never asserted: on a loaded
    machine the smallest model can come out ahead, and a full build must not stop on that."""
    from middleground.experiments import scaling as sc

    lower = sc.mfu_options(0.05, 0.30)
    assert next(t for t, ok in lower if ok).startswith("a small model's step is dominated")
    higher = sc.mfu_options(0.30, 0.05)
    assert next(t for t, ok in higher if ok).startswith("here the smallest model did not use less")
