"""Scaling-law fits against known laws, and the middle chapter's measurement helpers against exact values."""

import math

import numpy as np
import pytest

from middleground.measures import entropy
from middleground.sources import hmm
from middleground.experiments import middle as measure
from middleground.measures import scaling
from middleground.sources.processes import ElementaryCA, IID, Periodic


def test_power_law_fit_recovers_the_law_that_generated_the_data():
    n = np.geomspace(1e3, 1e6, 6)
    fit = scaling.fit_power_law(n, scaling.power_law(n, 1.5, 20.0, 0.3))
    assert (fit.E, fit.A, fit.alpha) == pytest.approx((1.5, 20.0, 0.3), rel=1e-6)
    assert fit.predict(1e7) == pytest.approx(scaling.power_law(1e7, 1.5, 20.0, 0.3), rel=1e-6)


def test_power_law_fit_uncertainty_covers_the_truth_under_known_noise():
    rng = np.random.default_rng(0)
    n = np.geomspace(1e3, 1e6, 8)
    sigma = 0.01
    covered = 0
    for _ in range(200):
        y = scaling.power_law(n, 1.5, 20.0, 0.3) + rng.normal(0, sigma, size=len(n))
        fit = scaling.fit_power_law(n, y, sigma=np.full(len(n), sigma))
        covered += abs(fit.alpha - 0.3) < 2 * fit.stderr["alpha"]
    # two standard errors should cover about 95 % of the time; allow for the fit's nonlinearity
    assert covered / 200 > 0.85


def test_bootstrap_over_seeds_brackets_the_prediction():
    rng = np.random.default_rng(1)
    n = np.geomspace(1e3, 1e5, 5)
    runs = {float(s): list(scaling.power_law(s, 1.5, 20.0, 0.3) + rng.normal(0, 0.005, 3)) for s in n}
    boot = scaling.bootstrap(runs, 1e6, draws=200, seed=0)
    lo, hi = np.percentile(boot["prediction"], [1, 99])
    assert lo < scaling.power_law(1e6, 1.5, 20.0, 0.3) < hi
    assert boot["failed"] < 20 and len(boot["prediction"]) + boot["failed"] == 200


def test_power_law_fit_rejects_too_few_sizes():
    with pytest.raises(ValueError, match="at least 4 distinct sizes"):
        scaling.fit_power_law([1, 2, 3], [3.0, 2.0, 1.5])


def test_letters_27_is_shannons_alphabet():
    x = measure.letters_27("To be, or NOT to be:\n that is.")
    text = "".join("abcdefghijklmnopqrstuvwxyz "[i] for i in x)
    assert text == "to be or not to be that is"
    assert x.min() >= 0 and x.max() <= 26


@pytest.mark.parametrize("source", [IID.zipf(4, 1.0), Periodic((0, 1, 2, 3), 4), hmm.golden_mean(),
                                    measure.markov_knob(1.0, 0)], ids=lambda s: s.name)
def test_exact_block_entropy_curves_match_long_sample_estimates(source):
    exact = measure.exact_block_entropies(source, 5)
    n = 300_000
    est = entropy.block_entropies(source.sample(n, np.random.default_rng(3)), 5, "miller-madow")
    # 4^5 = 1024 possible words at most: Miller-Madow bias is second order; the spread of a
    # plug-in entropy is about sqrt(Var/N) <= log2(1024) / sqrt(N), times sqrt(2L) for overlap.
    tol = 10 / math.sqrt(n) * math.sqrt(2 * 5) + 1024 / n
    assert np.allclose(est, exact, atol=tol)


def test_block_entropy_curves_mark_estimated_values():
    rows = measure.block_entropy_curves([ElementaryCA(90), IID.uniform(4)], 4, 20_000, 0)
    kinds = {(r["source"], r["kind"]) for r in rows}
    assert kinds == {("ECA rule 90", "estimated"), ("uniform noise (k=4)", "exact")}


def test_temperature_sweep_runs_from_order_to_noise():
    rows = measure.temperature_sweep([0.05, 1.0, 50.0], seed=0)
    assert rows[0]["h"] < 0.01 and rows[-1]["h"] == pytest.approx(2.0, abs=1e-3)
    assert rows[0]["h"] < rows[1]["h"] < rows[2]["h"]
