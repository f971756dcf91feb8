"""Mutual information against distance, decay fits and Hilberg exponents, against exact values."""

import itertools
import math

import numpy as np
import pytest

from middleground.measures import correlations as C
from middleground.measures import entropy
from middleground.sources import hmm
from middleground.sources.processes import IID, SantaFe


def brute_force_mi(source, d):
    """I(X_0; X_d) from the probabilities of every word of length d + 1, summed into a table."""
    k = source.alphabet_size
    joint = np.zeros((k, k))
    for word in itertools.product(range(k), repeat=d + 1):
        v = source.start
        for s in word:
            v = v @ source.T[s]
        joint[word[0], word[-1]] += v.sum()
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    live = joint > 0
    return float((joint[live] * np.log2(joint[live] / np.outer(px, py)[live])).sum())


# --- exact mutual information ---------------------------------------------------------------------

def test_exact_mi_of_a_markov_chain_matches_brute_force_and_the_transition_matrix():
    source = hmm.MarkovChain.random(3, 1, 0.7, seed=4)
    d = np.arange(1, 6)
    exact = C.exact_mutual_information(source.T, source.start, d)
    # Order 1: the state is the last symbol, so P(x, y at distance d) = π_x (P^d)_xy as well.
    P = source.T.sum(axis=0)
    for i, dist in enumerate(d):
        assert exact[i] == pytest.approx(brute_force_mi(source, int(dist)), rel=1e-9, abs=1e-15)
        joint = source.start[:, None] * np.linalg.matrix_power(P, int(dist))
        table = float((joint * np.log2(joint / np.outer(source.start, source.start))).sum())
        assert exact[i] == pytest.approx(table, rel=1e-9)
    assert np.all(np.diff(exact) < 0)


def test_golden_mean_mi_is_E_at_distance_one_and_decays_as_lambda2_squared():
    g = hmm.golden_mean()
    d = np.array([1, 2, 3, 4, 5, 6, 7, 8, 30, 40])
    exact = C.exact_mutual_information(g.T, g.start, d)
    # Order-1 Markov: I(X_0; X_1) = H(1) − h = E = log2 3 − 4/3.
    assert exact[0] == pytest.approx(math.log2(3) - 4 / 3, rel=1e-12)
    for i in range(8):
        assert exact[i] == pytest.approx(brute_force_mi(g, int(d[i])), rel=1e-9)
    # The symbol chain has λ2 = −1/2, so Δ ∝ (−1/2)^d and I ≈ Σ Δ²/(2 P P ln 2) = 4^(−d)/(2 ln 2):
    # the exponential decay of Lin and Tegmark's theorem, computed without cancellation at 1e-25.
    for i in (8, 9):
        assert exact[i] == pytest.approx(4.0 ** -d[i] / (2 * math.log(2)), rel=1e-6)


def test_exact_mi_of_a_hidden_markov_source_matches_brute_force():
    source = hmm.with_noise(hmm.even_process(), 0.1)  # not Markov of any order, not unifilar
    d = np.array([6, 1, 3])  # unsorted on purpose
    exact = C.exact_mutual_information(source.T, source.start, d)
    for i, dist in enumerate(d):
        assert exact[i] == pytest.approx(brute_force_mi(source, int(dist)), rel=1e-9)


# --- estimated mutual information ------------------------------------------------------------------

def test_entropy_of_counts_agrees_with_the_block_estimators():
    x = np.random.default_rng(3).integers(0, 5, size=4000)
    counts = np.bincount(x, minlength=8)  # three empty cells
    for correction in entropy.CORRECTIONS:
        single = entropy.entropy_of_counts(counts, correction)
        assert single == pytest.approx(entropy.block_entropies(x, 1, correction)[1], abs=1e-12)
        rows = entropy.entropy_of_counts(np.vstack([counts, counts[::-1]]), correction)
        assert rows == pytest.approx([single, single], abs=1e-12)


def test_estimate_on_2e5_symbols_lies_within_its_interval_of_the_exact_value():
    source = hmm.MarkovChain.random(3, 1, 0.5, seed=1)
    d = np.array([1, 2, 3])
    exact = C.exact_mutual_information(source.T, source.start, d)
    x = source.sample(200_000, np.random.default_rng(7))
    for correction in ("miller_madow", "grassberger"):
        curve = C.mutual_information(x, d, correction=correction, n_boot=200, seed=2)
        assert np.all((curve.low <= exact) & (exact <= curve.high)), (correction, curve.rows(), exact)
        assert curve.resolved[:2].all()  # 0.036 and 0.002 bits stand far above a ~2e-5 floor


def test_interval_covers_the_exact_value_in_repeated_samples():
    source = hmm.MarkovChain.random(3, 1, 0.5, seed=1)
    d = np.array([1, 2])
    exact = C.exact_mutual_information(source.T, source.start, d)
    hits = []
    for rep in range(50):
        x = source.sample(20_000, np.random.default_rng(100 + rep))
        c = C.mutual_information(x, d, n_boot=100, seed=rep)
        hits.append((c.low <= exact) & (exact <= c.high))
    coverage = np.mean(hits, axis=0)
    # Nominal 95 %; with 50 draws the binomial sd is 3 %, so 0.84 is more than 3.5 sd below.
    assert np.all(coverage >= 0.84), coverage


def test_iid_mutual_information_sinks_into_the_noise_floor():
    x = IID.zipf(5, 1.0).sample(200_000, np.random.default_rng(11))
    d = np.arange(1, 41)
    curve = C.mutual_information(x, d, n_boot=50, n_shuffle=20, seed=0)
    # At most a handful of 40 distances may poke above a 95 % floor (expected 2, sd 1.4).
    assert curve.resolved.sum() <= 6
    assert abs(curve.mi.mean()) < 0.25 * curve.noise_floor.mean()
    # The two floors agree: the χ² quantile and the shuffled copies' quantile.
    assert curve.shuffle_floor.mean() == pytest.approx(curve.noise_floor.mean(), rel=0.3)
    # The plug-in estimator's mean is its predicted bias (4·4)/(2 N ln 2).
    plug = C.mutual_information(x, d, correction="plugin", n_boot=20, seed=0)
    assert plug.bias[0] == pytest.approx(16 / (2 * (200_000 - 1) * math.log(2)), rel=1e-12)
    assert plug.mi.mean() == pytest.approx(plug.bias.mean(), rel=0.25)


def test_an_undersampled_table_is_flagged_and_never_called_resolved_without_shuffles():
    x = np.random.default_rng(2).integers(0, 64, size=20_000)  # 4096 cells, under 5 pairs each
    curve = C.mutual_information(x, [1, 2], n_boot=20)
    assert curve.undersampled.all() and not curve.resolved.any()
    # Shuffled copies give the floor that applies, well above the χ² one (0.014 vs 0.005 bit).
    shuffled = C.mutual_information(x, [1, 2], n_boot=20, n_shuffle=20)
    assert np.all(shuffled.shuffle_floor > 2 * shuffled.noise_floor)


# --- exponent fits ---------------------------------------------------------------------------------

def test_power_law_and_exponential_fits_recover_exact_parameters():
    n = np.geomspace(1, 1000, 20)
    fit = C.fit_power_law(n, 2.0 * n**-0.7)
    assert fit.alpha == pytest.approx(0.7, abs=1e-12) and fit.A == pytest.approx(2.0, rel=1e-12)
    assert fit(10.0) == pytest.approx(2.0 * 10**-0.7)
    m = np.arange(1.0, 60.0)
    e = C.fit_exponential(m, 3.0 * np.exp(-m / 12.5))
    assert e.xi == pytest.approx(12.5, rel=1e-12) and e.A == pytest.approx(3.0, rel=1e-12)
    # The golden mean's MI tail, ∝ λ2^(2d) with |λ2| = 1/2, has decay length 1/(2 ln 2).
    g = hmm.golden_mean()
    d = np.arange(10, 41)
    tail = C.fit_exponential(d, C.exact_mutual_information(g.T, g.start, d))
    assert tail.xi == pytest.approx(1 / (2 * math.log(2)), rel=1e-6)


@pytest.mark.parametrize("known_se", [True, False])
def test_power_law_interval_covers_the_true_exponent_95_percent_of_the_time(known_se):
    rng = np.random.default_rng(21 if known_se else 22)
    n = np.geomspace(1, 1e4, 15)
    sigma = 0.15  # lognormal noise: sd of ln y
    hits, alphas = 0, []
    draws = 400
    for _ in range(draws):
        y = 0.5 * n**-0.45 * np.exp(sigma * rng.normal(size=n.size))
        fit = C.fit_power_law(n, y, se=sigma * y if known_se else None)
        hits += fit.alpha_ci[0] <= 0.45 <= fit.alpha_ci[1]
        alphas.append(fit.alpha)
    assert np.mean(alphas) == pytest.approx(0.45, abs=0.005)
    assert 0.92 <= hits / draws <= 0.98  # binomial sd 1.1 %


def test_compare_decays_tells_power_laws_from_exponentials():
    rng = np.random.default_rng(5)
    n = np.geomspace(1, 2000, 25)
    noisy_power = 2.0 * n**-0.6 * np.exp(0.1 * rng.normal(size=n.size))
    assert C.compare_decays(n, noisy_power)["preferred"] == "power law"
    m = np.arange(1.0, 50.0)
    noisy_exp = 3.0 * np.exp(-m / 8) * np.exp(0.1 * rng.normal(size=m.size))
    verdict = C.compare_decays(m, noisy_exp)
    assert verdict["preferred"] == "exponential" and verdict["weight_power"] < 1e-6
    # The exact MI tail of a hidden Markov source is exponential (Lin and Tegmark) ...
    source = hmm.with_noise(hmm.even_process(), 0.1)
    d = np.arange(5, 40)
    assert C.compare_decays(d, C.exact_mutual_information(source.T, source.start, d))[
        "preferred"] == "exponential"
    # ... and the Santa Fe process's h(n) − h is a power law.
    sf = SantaFe(0.5, 10_000)
    hn = np.diff(sf.block_entropies(512))[31:] - sf.entropy_rate
    assert C.compare_decays(np.arange(32, 513), hn)["preferred"] == "power law"


def test_conditional_entropy_decay_with_h_known_and_fitted():
    h = 1.2 + 0.8 * np.arange(1, 400.0) ** -0.6
    H = np.concatenate([[0.0], np.cumsum(h)])
    known = C.conditional_entropy_decay(H, h=1.2, n_min=2)
    free = C.conditional_entropy_decay(H, n_min=2)
    assert known["gamma"] == pytest.approx(0.6, abs=1e-9)
    assert free["gamma"] == pytest.approx(0.6, abs=1e-8) and free["h"] == pytest.approx(1.2, abs=1e-8)
    # Santa Fe: h(n) − h ∝ n^(β − 1), so γ = 1 − β; fitting h absorbs the truncation's offset.
    sf = SantaFe(0.5, 10_000)
    H_sf = sf.block_entropies(2048)
    assert C.conditional_entropy_decay(H_sf, n_min=64)["gamma"] == pytest.approx(0.5, abs=0.01)
    assert C.conditional_entropy_decay(H_sf, h=sf.entropy_rate, n_min=64)["gamma"] == \
        pytest.approx(0.5, abs=0.02)


def test_conditional_entropy_decay_interval_covers_gamma_under_noise():
    rng = np.random.default_rng(8)
    n = np.arange(1, 201.0)
    sigma = 0.002
    hits = 0
    for _ in range(100):
        hn = 1.0 + 0.5 * n**-0.7 + sigma * rng.normal(size=n.size)
        H = np.concatenate([[0.0], np.cumsum(hn)])
        fit = C.conditional_entropy_decay(H, n_min=1, se=np.full(n.size, sigma))
        hits += fit["gamma_ci"][0] <= 0.7 <= fit["gamma_ci"][1]
    assert hits >= 88  # nominal 95 of 100; a Wald interval of a nonlinear fit, sd ~2


# --- Hilberg exponents of the Santa Fe process ------------------------------------------------

def test_santa_fe_asymptote_matches_the_exact_occupancy_sum():
    big = SantaFe(0.5, 1_000_000)
    L = np.array([1_000, 10_000])
    assert big.expected_distinct(L) == pytest.approx(C.santa_fe_asymptote(0.5, L), rel=2e-4)


def test_why_hilberg_fit_reads_0_73_on_short_blocks():
    # The book's fit over L = 1..8 on SantaFe(0.5, 32): 0.73, whatever k_max (L* = 1653 ≫ 8) ...
    rows = C.hilberg_convergence(0.5, [32, 10_000], [(1, 8)])
    for r in rows:
        assert 0.70 < r["book"] < 0.78
        # ... because the fitted h is far below the true one (the power term takes the slack) ...
        assert r["book_h"] < r["h"] - 0.3
        # ... and because E[D(L)] is steeper than L^β at short L even with h known (its −1/2).
        assert 0.55 < r["h_known"] < 0.61 and 0.54 < r["local"] < 0.58
    # Truncation bites from L ~ L*/30 on: over 64..4096 it drags the exponent down, not up.
    low = C.hilberg_convergence(0.5, [32], [(64, 4096)])[0]
    assert low["book"] < 0.42 and low["L_star"] == pytest.approx(1652.9, abs=0.1)


@pytest.mark.parametrize("beta", [0.3, 0.5, 0.7])
def test_hilberg_fit_converges_on_a_suitable_range(beta):
    r = C.hilberg_convergence(beta, [10_000], [(64, 4096)], n_points=30)[0]
    assert r["L_max"] < r["L_star"] / 300  # far below saturation
    assert r["book"] == pytest.approx(beta, abs=0.03)         # the book's form: 0.324, 0.511, 0.706
    assert r["free_offset"] == pytest.approx(beta, abs=0.005)  # with a constant term


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: C.exact_mutual_information(np.ones((2, 2, 2)), [0.5, 0.5], [1]), "sum to 1"),
    (lambda: C.exact_mutual_information(hmm.golden_mean().T, [0.5, 0.5], [1]), "stationary"),
    (lambda: C.exact_mutual_information(hmm.golden_mean().T, hmm.golden_mean().start, [0]),
     "distances must be integers >= 1"),
    (lambda: C.mutual_information(np.zeros(100, int), [1], correction="magic"), "unknown correction"),
    (lambda: C.mutual_information(np.array([0.5, 1.0]), [1]), "integer array"),
    (lambda: C.mutual_information(np.zeros(100, int), [100]), "below the sample length"),
    (lambda: C.mutual_information(np.zeros(100, int), [5]), "at least 10"),
    (lambda: C.mutual_information(np.array([0, 3]), [1], alphabet_size=2), "alphabet_size"),
    (lambda: C.mutual_information(np.zeros(1000, int), [1], level=1.5), "level must be"),
    (lambda: C.fit_power_law([1, 2, 3], [1.0, 0.0, 0.5]), "must be positive"),
    (lambda: C.fit_power_law([1, 2], [1.0, 0.5]), "at least 3"),
    (lambda: C.fit_exponential([1, 2, 3], [1.0, 0.5, 0.2], se=[0.1, -1, 0.1]), "se must be"),
    (lambda: C.conditional_entropy_decay(np.arange(10.0), h=2.0), "h must lie below"),
    (lambda: C.conditional_entropy_decay(np.arange(10.0), n_min=5, n_max=3), "n_min < n_max"),
    (lambda: C.hilberg_exponent([1, 2, 3], [1.0, 2.0, 3.0]), "at least"),
    (lambda: C.hilberg_convergence(1.5, [10], [(1, 8)]), "beta must be in"),
    (lambda: C.hilberg_convergence(0.5, [10], [(8, 4)]), "L_ranges"),
    (lambda: C.santa_fe_asymptote(0.0, 10), "beta must be in"),
    (lambda: entropy.entropy_of_counts([1, -1], "plugin"), "non-negative"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
