"""Estimators against exact values, with tolerances derived from the sample size."""

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from middleground.measures import entropy
from middleground.sources import hmm
from middleground.sources.processes import IID, Periodic, SantaFe


def counter_block_entropy(x, L):
    counts = Counter(tuple(x[i:i + L]) for i in range(len(x) - L + 1))
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


@pytest.mark.parametrize("k, L_max", [(2, 10), (65, 12), (300, 4)])
def test_rolling_codes_count_exactly_what_a_counter_counts(k, L_max):
    # k = 65 at L = 12 passes 2^62 and forces the re-ranking path; k = 300 uses sorting early.
    x = np.random.default_rng(0).integers(0, k, size=3000)
    H = entropy.block_entropies(x, L_max)
    for L in range(1, L_max + 1):
        assert H[L] == pytest.approx(counter_block_entropy(x, L), abs=1e-10)


def exact_word_distribution(source, L):
    probs = []
    for word in itertools.product(range(source.alphabet_size), repeat=L):
        v = source.start
        for s in word:
            v = v @ source.T[s]
        probs.append(v.sum())
    p = np.array(probs)
    return p[p > 0]


@pytest.mark.parametrize("correction", entropy.CORRECTIONS)
def test_every_block_estimator_converges_to_the_exact_markov_values(correction):
    source = hmm.MarkovChain.random(3, 1, 0.8, seed=2)
    n = 200_000
    x = source.sample(n, np.random.default_rng(5))
    H = entropy.block_entropies(x, 5, correction)
    exact = source.block_entropies(5)
    for L in range(1, 6):
        p = exact_word_distribution(source, L)
        N = n - L + 1
        # Plug-in bias is at most (m - 1) / (2 N ln 2) bits to first order (m = words possible);
        # its spread is sqrt(Var[log2 P(W)] / N), inflated by sqrt(2L) for overlapping, correlated
        # words. Allow the bias plus six such deviations.
        var = float((p * np.log2(p) ** 2).sum() - exact[L] ** 2)
        tol = (len(p) - 1) / (2 * N * math.log(2)) + 6 * math.sqrt(2 * L * var / N)
        assert abs(H[L] - exact[L]) < tol, (L, H[L], exact[L], tol)
    h_est = entropy.conditional_entropies(H)[-1]
    assert h_est == pytest.approx(source.entropy_rate, abs=2 * tol)


def test_bias_corrections_reduce_the_bias_on_short_samples():
    k, n, reps = 16, 60, 400
    rng = np.random.default_rng(0)
    exact = math.log2(k)
    err = {c: [] for c in entropy.CORRECTIONS}
    for _ in range(reps):
        x = rng.integers(0, k, size=n)
        for c in entropy.CORRECTIONS:
            err[c].append(entropy.block_entropies(x, 1, c)[1] - exact)
    bias = {c: abs(np.mean(v)) for c, v in err.items()}
    # 60 draws from 16 symbols: plug-in is biased low by about (k-1)/(2n ln 2) = 0.18 bit.
    assert np.mean(err["plugin"]) < -0.1
    assert bias["miller-madow"] < bias["plugin"] / 3
    assert bias["grassberger"] < bias["plugin"] / 3


def test_excess_entropy_estimate_on_the_golden_mean():
    g = hmm.golden_mean()
    x = g.sample(400_000, np.random.default_rng(1))
    H = entropy.block_entropies(x, 6, "miller-madow")
    # Order-1 Markov: E(L) = E exactly for every L >= 1 of the exact H(L); the estimate's error
    # is that of H(6) and h(6), each a few 1e-3 at this length.
    assert entropy.excess_entropy(H) == pytest.approx(g.excess_entropy, abs=0.02)


def test_compression_rates_bound_noise_from_above_and_find_periodic_structure():
    n = 200_000
    noise = IID.uniform(4).sample(n, np.random.default_rng(0))
    rates = entropy.compression_rates(noise)
    assert all(r > 2.0 for r in rates.values())  # exact h = 2 bits; no compressor beats it
    periodic = Periodic.random(7, 20, np.random.default_rng(0)).sample(n, np.random.default_rng(1))
    assert all(r < 0.05 for r in entropy.compression_rates(periodic).values())


def test_hilberg_fit_recovers_an_exact_power_law_and_santa_fes_beta():
    L = np.arange(0, 200)
    fit = entropy.hilberg_fit(1.3 * L + 2.0 * L**0.4)
    assert fit["h"] == pytest.approx(1.3, abs=1e-6) and fit["beta"] == pytest.approx(0.4, abs=1e-6)
    sf = SantaFe(0.5, 200_000)
    H = sf.block_entropies(2000)
    assert entropy.hilberg_fit(H, L_min=100)["beta"] == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("call, match", [
    (lambda: entropy.block_entropies([0, 1, 0], 2, "magic"), "unknown correction"),
    (lambda: entropy.block_entropies([0, 1, 0], 5), "L_max must be below the sample length"),
    (lambda: entropy.block_entropies(np.array([0.5, 1.0]), 1), "symbols must be integers"),
    (lambda: entropy.block_entropies([], 1), "non-empty"),
    (lambda: entropy.block_entropies([0, -1], 1), "non-negative"),
    (lambda: entropy.compression_rates(np.array([300, 1])), "at most 256"),
    (lambda: entropy.hilberg_fit([0.0, 1.0, 2.0]), "at least 4"),
])
def test_estimators_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_heldout_compression_rate_is_the_cost_of_val_given_train():
    import zlib

    from middleground.measures.entropy import heldout_compression_rates

    rng = np.random.default_rng(0)
    train = rng.integers(0, 4, size=20_000)
    val = rng.integers(0, 4, size=5_000)
    r = heldout_compression_rates(train, val)
    a, b = train.astype(np.uint8).tobytes(), val.astype(np.uint8).tobytes()
    assert r["zlib"] == pytest.approx(8 * (len(zlib.compress(a + b, 9)) - len(zlib.compress(a, 9))) / 5000, abs=0.05)
    # iid uniform over 4 symbols: no compressor can go below 2 bits per symbol on new text,
    # and a repeat of train costs next to nothing.
    assert min(r.values()) > 1.9
    again = heldout_compression_rates(train, train[:5000])
    assert again["lzma"] < 0.2 and again["bz2"] < r["bz2"]
