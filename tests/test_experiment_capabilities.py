"""Chapter capabilities' numbers from fabricated runs with known answers (no training)."""

import math

import numpy as np
import pytest

from middleground.experiments import capabilities as cap
from middleground.experiments.report import Findings


def chosen(options):
    """The sentence Findings.choose picks from ``options``."""
    return Findings().choose(options, None)


# --- The metric mirage ---------------------------------------------------------------------

def _sweep():
    cells = [{"family": "temperature", "knob": 0.5, "seed": 0}, {"family": "santa-fe", "knob": 0.5, "seed": 0},
             {"family": "noise", "knob": 0.1, "seed": 1}]
    final = {"exact_match": 0.25, "token_accuracy": 0.5, "target_bits": 1.0, "n_prompts": 64}
    results = [{"steps": [0, 10], "exact_match": [0.0, 0.5], "token_accuracy": [0.5, 0.8], "target_bits": [2.0, 1.0],
                "final": final},
               {"steps": [0], "exact_match": [0.0], "token_accuracy": [0.0], "target_bits": [0.0], "final": final},
               {"steps": [0, 10], "exact_match": [0.1, 0.9], "token_accuracy": [0.3, 1.0], "target_bits": [3.0, 0.0],
                "final": {**final, "exact_match": 0.9, "token_accuracy": 0.9}}]
    return cells, results


def test_mirage_records_keep_the_knob_runs_and_raise_accuracy_to_k():
    metric_rows, pair_rows = cap.mirage_records(*_sweep(), K=2)
    assert len(metric_rows) == 8 and len(pair_rows) == 4  # two runs × two evaluations (Santa Fe left out)
    assert metric_rows[0] == {"family": "temperature", "knob": 0.5, "seed": 0, "step": 0,
                              "metric": "exact match (all 8)", "value": 0.0}
    assert [p["token_k"] for p in pair_rows] == pytest.approx([0.25, 0.64, 0.09, 1.0])
    assert [p["exact"] for p in pair_rows] == [0.0, 0.5, 0.1, 0.9]
    final_rows = cap.final_records(*_sweep(), K=2)
    assert [(r["step"], r["exact"], r["token_k"], r["n_prompts"]) for r in final_rows] == [
        (10, 0.25, 0.25, 64), (10, 0.9, pytest.approx(0.81), 64)]


def test_agreement_correlation_and_mean_absolute_difference():
    pairs, corr, mad = cap.agreement([{"exact": x, "token_k": x} for x in (0.0, 0.5, 1.0)])
    assert corr == pytest.approx(1.0) and mad == 0.0 and pairs.shape == (3, 2)
    _, corr, mad = cap.agreement([{"exact": 0.2, "token_k": 0.1}, {"exact": 0.4, "token_k": 0.5}])
    assert corr == pytest.approx(1.0) and mad == pytest.approx(0.1)


def test_bootstrap_resamples_whole_runs():
    # Two runs, each with exact = token_k + 0.1 at its end: every resample's final mean |difference| is 0.1.
    final_rows = [{"family": "t", "knob": 0.5, "seed": s, "exact": 0.1 + 0.5 * s, "token_k": 0.5 * s} for s in (0, 1)]
    pair_rows = [{"family": "t", "knob": 0.5, "seed": s, "exact": e, "token_k": e} for s in (0, 1) for e in (0.0, 0.5)]
    boot_corr, boot_final_corr, boot_final_mad, run_ids = cap.bootstrap_runs(
        pair_rows, final_rows, np.random.default_rng(0), draws=50)
    assert run_ids == [("t", 0.5, 0), ("t", 0.5, 1)]
    assert boot_final_mad == pytest.approx([0.1] * 50)
    assert boot_corr == pytest.approx([1.0] * 50)  # every training point lies on the diagonal
    # A final correlation exists only where both runs were drawn (a single run has no spread).
    assert 0 < len(boot_final_corr) < 50 and boot_final_corr == pytest.approx([1.0] * len(boot_final_corr))


def test_interval_needs_a_hundred_draws():
    assert cap.interval([0.5] * 99, 3) == "no interval: too few resamples vary"
    assert cap.interval([0.0] * 50 + [1.0] * 50, 3) == "95 % interval over runs 0.000 to 1.000"


def test_diagonal_shares():
    share = cap.diagonal_shares(np.array([0.0, 0.1, -0.1, 0.04]), np.array([0.2, 0.0]))
    assert share == {"close": (0.5, 0.5), "above": (0.25, 0.5), "below": (0.25, 0.0)}


def _share(close, above=(0.0, 0.0), below=(0.0, 0.0)):
    return {"close": close, "above": above, "below": below}


@pytest.mark.parametrize("share, tier", [(_share((0.95, 0.9)), "all"), (_share((0.95, 0.8)), "most"),
                                         (_share((0.7, 1.0)), "part")])
def test_agreement_tier_by_the_lower_share(share, tier):
    assert cap.agreement_tier(share) == tier


def test_mirage_words_for_each_tier():
    assert (chosen(cap.mirage_options(_share((1.0, 1.0))))
            == "They agree closely: 100 % of the evaluations during training and 100 % of the final ones lie "
               "within 0.05 of the diagonal")
    assert (chosen(cap.mirage_options(_share((0.95, 0.9), above=(0.05, 0.1))))
            == "They agree closely: 95 % of the evaluations during training and 90 % of the final ones lie "
               "within 0.05 of the diagonal, and only 5 % of those during training and 10 % of the final ones "
               "lie more than 0.05 above it")
    assert (chosen(cap.mirage_options(_share((0.8, 0.8), above=(0.1, 0.2), below=(0.1, 0.0))))
            == "They agree closely for most evaluations (80 % of the evaluations during training and 80 % of the "
               "final ones lie within 0.05 of the diagonal), but 10 % of those during training and 20 % of the "
               "final ones lie more than 0.05 above it (10 % and 0 % lie more than 0.05 below it)")
    assert (chosen(cap.mirage_options(_share((0.5, 0.6), below=(0.5, 0.4))))
            == "They agree closely for only part of the evaluations: 50 % of the evaluations during training "
               "and 60 % of the final ones lie within 0.05 of the diagonal, while 50 % of those during training "
               "and 40 % of the final ones lie more than 0.05 below it")


def test_mirage_takeaway_for_each_tier():
    assert chosen(cap.mirage_takeaway_options(_share((1.0, 0.95)))) == "closely"
    assert chosen(cap.mirage_takeaway_options(_share((0.8, 0.8), above=(0.2, 0.2)))).startswith(
        "closely for most runs and evaluations, but not all (20 % of the final evaluations")
    assert chosen(cap.mirage_takeaway_options(_share((0.5, 0.6), above=(0.5, 0.4)))).startswith(
        "closely for only part of the runs (60 % of the final evaluations lie within 0.05 of the "
        "independent-error line, 40 % more")


# --- Quanta --------------------------------------------------------------------------------

def test_quanta_records_weight_tasks_by_frequency_and_find_when_each_is_learned():
    qc = [{"seed": 7}]
    q_results = [{"frequencies": [0.75, 0.25], "steps": [0, 10, 20],
                  "task_bits": [[1.0, 1.0], [0.05, 0.8], [0.01, 0.05]]}]
    freqs, q_rows, agg_rows, learned_at = cap.quanta_records(qc, q_results)
    assert freqs.tolist() == [0.75, 0.25]
    assert [r["bits"] for r in agg_rows] == pytest.approx([1.0, 0.2375, 0.02])
    assert len(q_rows) == 6 and q_rows[1] == {"seed": 7, "step": 0, "task": 1, "rank": 2, "frequency": 0.25,
                                              "bits": 1.0}
    assert learned_at == {0: [10], 1: [20]}  # first evaluation under 0.1 bit


def test_learned_steps_need_every_seed():
    steps = cap.learned_steps({0: [10, 30], 1: [20, None], 2: [None, None]}, 3)
    assert steps == [20.0, None, None]


def test_order_correlation():
    n, corr = cap.order_correlation([10.0, 20.0, None])
    assert n == 2 and math.isnan(corr)
    n, corr = cap.order_correlation([10.0, 20.0, 40.0, None])
    assert n == 3 and corr == pytest.approx(np.corrcoef([1, 2, 3], [10, 20, 40])[0, 1])
    assert cap.order_correlation([10.0, 20.0, 30.0])[1] == pytest.approx(1.0)


@pytest.mark.parametrize("n, corr, start", [
    (2, float("nan"), "too few skills were learned (2)"),
    (5, 0.9, "the rarer a skill, the later it is learned, almost without exception (correlation +0.90)"),
    (5, 0.5, "rarer skills tend to come later, with many exceptions (correlation +0.50)"),
    (5, -0.1, "frequency says little about when a skill is learned (correlation -0.10)")])
def test_order_words(n, corr, start):
    assert chosen(cap.order_options(n, corr)).startswith(start)


def test_shares_of_the_average_drop():
    agg = cap.aggregate_by_seed([{"seed": 0, "bits": b} for b in (1.0, 0.5, 0.1, 0.0)]
                                + [{"seed": 1, "bits": b} for b in (2.0, 0.8, 0.4, 0.0)], [{"seed": 0}, {"seed": 1}])
    assert [a.tolist() for a in agg] == [[1.0, 0.5, 0.1, 0.0], [2.0, 0.8, 0.4, 0.0]]
    assert cap.first_drop_share(agg) == pytest.approx(0.55)  # mean of 0.5 and 0.6
    # Median learning step 20 is the third evaluation: left 0.1 / 1 and 0.4 / 2, mean 0.15.
    half, left = cap.left_at_half([10.0, 30.0], [0, 10, 20, 30], agg)
    assert half == 20.0 and left == pytest.approx(0.15)
    # Past the last evaluation, the last one is used.
    assert cap.left_at_half([100.0], [0, 10, 20, 30], agg)[1] == 0.0
    half, left = cap.left_at_half([], [0, 10, 20, 30], agg)
    assert math.isnan(half) and math.isnan(left)


@pytest.mark.parametrize("share, text", [(0.6, "most of its whole drop"), (0.5, "less than half of its whole drop")])
def test_first_words(share, text):
    assert chosen(cap.first_options(share)) == text


@pytest.mark.parametrize("known, left, text", [
    ([], float("nan"), "no skill was learned in every seed, so there is nothing to place"),
    ([10.0], 0.01, "the average hardly shows them"), ([10.0], 0.2, "the average still shows them")])
def test_left_words(known, left, text):
    assert chosen(cap.left_options(known, left)) == text


@pytest.mark.parametrize("corr, left, start", [(0.5, 0.01, "what they do show is Michaud"),
                                               (0.2, 0.01, "at this budget they do not"),
                                               (0.9, 0.1, "at this budget they do not"),
                                               (float("nan"), float("nan"), "at this budget they do not")])
def test_michaud_words(corr, left, start):
    assert chosen(cap.michaud_options(corr, left)).startswith(start)
