"""Exact information quantities of the Part III sources, against the literature and brute force."""

import itertools
import math

import numpy as np
import pytest

from middleground.sources import hmm
from middleground.sources.noisy import Noisy
from middleground.measures.entropy import estimated_truth, truth_of
from middleground.sources.processes import IID, ElementaryCA, NoExactValue, Periodic, SantaFe

LOG3 = math.log2(3)


def brute_force_block_entropy(source: hmm.HMM, L: int) -> float:
    """H(L) by enumerating all k^L words, P(w) = π T[w1] ... T[wL] 1: independent of mixed states."""
    total = 0.0
    for word in itertools.product(range(source.alphabet_size), repeat=L):
        v = source.start
        for x in word:
            v = v @ source.T[x]
        p = v.sum()
        if p > 0:
            total -= p * math.log2(p)
    return total


def test_golden_mean_matches_the_literature():
    g = hmm.golden_mean()
    assert g.unifilar
    assert g.entropy_rate == pytest.approx(2 / 3, abs=1e-12)
    assert g.excess_entropy == pytest.approx(LOG3 - 4 / 3, abs=1e-9)


def test_even_process_matches_the_literature():
    e = hmm.even_process()
    assert e.entropy_rate == pytest.approx(2 / 3, abs=1e-12)
    E, L = e.excess_entropy_sum()
    assert E == pytest.approx(LOG3 - 2 / 3, abs=1e-9)
    assert L > 20  # it is not finite-order Markov: the sum needs many terms


@pytest.mark.parametrize("source", [hmm.golden_mean(), hmm.even_process(),
                                    hmm.MarkovChain.random(3, 2, 0.7, seed=1),
                                    hmm.noisy_periodic((0, 0, 1), 2, 0.2),
                                    hmm.with_noise(hmm.golden_mean(), 0.1)],
                         ids=lambda s: s.name)
def test_mixed_state_block_entropies_equal_brute_force_enumeration(source):
    H = source.block_entropies(7)
    for L in range(1, 8):
        assert H[L] == pytest.approx(brute_force_block_entropy(source, L), abs=1e-10)


@pytest.mark.parametrize("k, order, tau", [(2, 1, 1.0), (3, 2, 0.5), (4, 1, 3.0), (2, 3, 0.3)])
def test_markov_closed_forms_match_brute_force(k, order, tau):
    m = hmm.MarkovChain.random(k, order, tau, seed=7)
    # For an order-k chain H(L) = H(order) + (L - order) h exactly once L >= order.
    for L in range(order, order + 3):
        H_L = brute_force_block_entropy(m, L)
        assert H_L - L * m.entropy_rate == pytest.approx(m.excess_entropy, abs=1e-9)
    assert m.excess_entropy_sum()[0] == pytest.approx(m.excess_entropy, abs=1e-9)


def test_markov_temperature_knob_runs_from_order_to_noise():
    cold = hmm.MarkovChain.random(4, 1, 0.01, seed=0)
    hot = hmm.MarkovChain.random(4, 1, 1000.0, seed=0)
    assert cold.entropy_rate < 1e-6  # deterministic in the limit
    assert hot.entropy_rate == pytest.approx(2.0, abs=1e-4)  # log2 4: uniform noise
    assert hot.excess_entropy == pytest.approx(0.0, abs=1e-4)
    hs = [hmm.MarkovChain.random(4, 1, t, seed=0).entropy_rate for t in (0.1, 0.3, 1, 3, 10)]
    assert all(a < b for a, b in zip(hs, hs[1:]))


def test_noisy_periodic_entropy_rate_and_excess_entropy():
    p = hmm.noisy_periodic((0, 0, 1), 2, 0.2)
    assert p.unifilar
    per_symbol = -(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1))  # emission 1 - 0.2 + 0.2/2
    assert p.entropy_rate == pytest.approx(per_symbol, abs=1e-12)
    # The phase is a function of the infinite past and of the infinite future: E = log2(p).
    assert p.excess_entropy_sum(tol=1e-11)[0] == pytest.approx(LOG3, abs=1e-8)


def test_noise_on_a_non_unifilar_source_gives_converging_rigorous_bounds():
    noisy = hmm.with_noise(hmm.golden_mean(), 0.1)
    assert not noisy.unifilar
    with pytest.raises(ValueError, match="not unifilar"):
        noisy.entropy_rate
    lo4, hi4 = noisy.entropy_rate_bounds(4)
    lo10, hi10 = noisy.entropy_rate_bounds(10)
    assert lo4 <= lo10 <= hi10 <= hi4
    assert hi10 - lo10 < 1e-6 < hi4 - lo4
    # The noise-free rate is below, the channel bound is above.
    assert 2 / 3 < lo10


def test_noise_wrapper_is_exact_where_a_closed_form_exists():
    iid = Noisy(IID((0.7, 0.2, 0.1)), 0.3)
    q = np.array([0.7, 0.2, 0.1]) * 0.7 + 0.1
    assert iid.truth().kind == "exact"
    assert iid.entropy_rate == pytest.approx(float(-(q * np.log2(q)).sum()), abs=1e-12)
    per = Noisy(Periodic((0, 1, 2), 3), 0.5)
    assert per.truth().kind == "exact" and per.excess_entropy == pytest.approx(LOG3, abs=1e-8)
    assert Noisy(IID.uniform(4), 1.0).entropy_rate == pytest.approx(2.0)
    assert Noisy(hmm.golden_mean(), 0.2).truth().kind == "bounded"


def test_channel_bounds_for_a_source_without_hidden_states():
    sf = SantaFe(0.5, 8)
    t = Noisy(sf, 0.1).truth()
    assert t.kind == "bounded" and t.h_low < t.h_high <= math.log2(16)
    assert t.h_low == pytest.approx(Noisy(sf, 0.1).channel_entropy())


def test_santa_fe_block_entropy_formula_against_simulation():
    sf = SantaFe(0.5, 16)
    H = sf.block_entropies(64)
    assert H[1] == pytest.approx(sf.entropy_rate + 1.0)  # one draw reveals one fact bit
    assert sf.excess_entropy == 16.0
    # E[D(L)]: distinct K among L draws, by simulation with a standard error.
    rng = np.random.default_rng(0)
    draws = np.array([len(np.unique(rng.choice(16, 32, p=sf.k_probs))) for _ in range(4000)])
    assert sf.expected_distinct(32)[0] == pytest.approx(draws.mean(), abs=5 * draws.std() / 60)
    # Hilberg's law below saturation: E[D(L)] grows roughly like L^beta.
    big = SantaFe(0.5, 100_000)
    d = big.expected_distinct([100, 10_000])
    assert math.log(d[1] / d[0]) / math.log(100) == pytest.approx(0.5, abs=0.05)


def test_santa_fe_sample_restates_the_same_facts():
    x = SantaFe(0.6, 50).sample(5000, np.random.default_rng(1))
    k, z = x // 2, x % 2
    for value in np.unique(k):
        assert len(np.unique(z[k == value])) == 1


def test_eca_rule_90_is_xor_of_neighbours():
    ca = ElementaryCA(90, width=16, burn_in=0)
    x = ca.sample(16 * 5, np.random.default_rng(0)).reshape(5, 16)
    for t in range(4):
        assert np.array_equal(x[t + 1], np.roll(x[t], 1) ^ np.roll(x[t], -1))
    with pytest.raises(NoExactValue, match="estimated_truth"):
        ca.truth()
    t = estimated_truth(ca, n=20_000, L=6)
    # on a ring of 2^k cells rule 90 is (L + R)^(2^k) = L^16 + R^16 = 2 I = 0 (mod 2) after 16 rows:
    # every row after the first 16 is zero, so the estimate must be near 0 bits per symbol
    assert t.kind == "estimated" and t.h < 0.02 and "L = 6" in t.note
    assert truth_of(ca) is estimated_truth(ca)


@pytest.mark.parametrize("make, match", [
    (lambda: hmm.MarkovChain.random(3, 1, -1.0, 0), "temperature must be a finite number > 0"),
    (lambda: hmm.MarkovChain.random(1, 1, 1.0, 0), "alphabet size k"),
    (lambda: hmm.MarkovChain.random(3, 0, 1.0, 0), "order must be"),
    (lambda: hmm.noisy_periodic((0, 1), 2, 1.5), r"noise must be in \[0, 1\]"),
    (lambda: hmm.noisy_periodic((), 2, 0.1), "pattern must be non-empty"),
    (lambda: Noisy(IID.uniform(3), -0.1), r"noise rate must be in \[0, 1\]"),
    (lambda: IID.uniform(0), "alphabet size k"),
    (lambda: IID.zipf(5, -1.0), "Zipf exponent"),
    (lambda: SantaFe(1.5, 10), r"beta must be in \(0, 1\)"),
    (lambda: ElementaryCA(300), r"rule must be an integer in \[0, 255\]"),
    (lambda: hmm.HMM(np.ones((2, 2, 2))), "must be non-negative and sum to 1"),
])
def test_generators_reject_invalid_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("source", [hmm.MarkovChain.random(3, 2, 1.0, seed=0), hmm.even_process(),
                                    SantaFe(0.5, 32), ElementaryCA(110), IID.zipf(10, 1.0),
                                    Noisy(Periodic((0, 1, 2), 3), 0.2)], ids=lambda s: s.name)
def test_generators_are_deterministic_per_seed(source):
    a = source.sample(3000, np.random.default_rng(42))
    b = source.sample(3000, np.random.default_rng(42))
    c = source.sample(3000, np.random.default_rng(43))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.int64 and a.min() >= 0 and a.max() < source.alphabet_size


def test_hmm_samples_have_the_stationary_symbol_frequencies():
    m = hmm.MarkovChain.random(3, 1, 1.0, seed=3)
    x = m.sample(200_000, np.random.default_rng(0))
    expected = np.einsum("s,xst->x", m.start, m.T)
    freq = np.bincount(x, minlength=3) / len(x)
    # Markov samples are correlated: allow 8 iid standard errors (the chain mixes in a few steps).
    assert np.allclose(freq, expected, atol=8 * math.sqrt(0.25 / len(x)))
